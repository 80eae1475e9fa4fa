"""Sleep-EDF Expanded (sleep cassette) loader and fetcher.

The Sleep-EDF Expanded database [1]_ [2]_ stores each night as a ``SC4ssN E0-PSG.edf``
polysomnogram and a ``SC4ssN?C-Hypnogram.edf`` EDF+ file whose annotations are R&K
stages (``"Sleep stage W/1/2/3/4/R/?"``, ``"Movement time"``) spanning multiples of
30 s. This module turns such pairs into AASM epoch arrays following the convention of
the Sleep-EDF-20/78 literature: stages 3 and 4 merge into N3, movement and unscored
epochs are removed (and counted), and only ``wake_edge_minutes`` (30) minutes of wake
are kept before the first and after the last sleep epoch.

Sampling rates are handled explicitly: in the cassette files ``EMG submental`` is a
1 Hz envelope while the EEG/EOG are at 100 Hz. ``mne.io.read_raw_edf`` would silently
upsample it; here every channel is read at its native rate (the rate comes from the
EDF header) and either resampled to ``sfreq`` with :func:`scipy.signal.resample_poly`
(listed in ``resampled_channels``) or, with ``resample_mismatched="raise"``, refused
with an error naming the channels and their rates.

References
----------
.. [1] Kemp B, Zwinderman AH, Tuk B, Kamphuisen HAC, Oberye JJL. Analysis of a
       sleep-dependent neuronal feedback loop: the slow-wave microcontinuity of the
       EEG. IEEE Trans Biomed Eng. 2000;47(9):1185-1194. doi:10.1109/10.867928
.. [2] Goldberger AL et al. PhysioBank, PhysioToolkit, and PhysioNet. Circulation.
       2000;101(23):e215-e220. doi:10.1161/01.CIR.101.23.e215
"""

import re
import warnings
from pathlib import Path

import numpy as np
from sklearn.utils import Bunch

from ..utils._stages import EXCLUDED, SLEEP_EDF_ANNOTATION_MAP
from ._edf_io import read_edf_header, read_edf_signals
from ._parallel import preprocess_recordings
from ._validation import annotations_to_epochs, glob_ci, has_extension

__all__ = ["fetch_sleep_edf", "load_sleep_edf", "read_sleep_edf_recording", "SleepEDFReader",
           "read_stage_annotations"]

DEFAULT_CHANNELS = ("EEG Fpz-Cz", "EEG Pz-Oz", "EOG horizontal", "EMG submental")
_SLEEP_STAGES = ("N1", "N2", "N3", "REM")
_NAME_RE = re.compile(r"^SC4(\d{2})(\d)")


def _parse_name(path):
    """Subject id and recording id from a Sleep-EDF file name (``SC4ssN...``)."""
    stem = Path(path).name
    m = _NAME_RE.match(stem)
    if m is None:
        return stem.split("-")[0], stem.split("-")[0]
    return int(m.group(1)), stem[:6]


def _read_annotations(hypnogram_file):
    import mne

    hypnogram_file = Path(hypnogram_file)
    if not hypnogram_file.is_file():
        raise FileNotFoundError(f"Hypnogram file not found: {hypnogram_file}")
    try:
        read_edf_header(hypnogram_file)  # clear error for truncated/corrupt files
        if hypnogram_file.suffix != ".edf" and has_extension(hypnogram_file, ".edf"):
            # mne picks its reader by the exact suffix; '.EDF'/'.Edf' are read through a
            # lower-case copy (hypnogram files are a few kB)
            import tempfile

            with tempfile.TemporaryDirectory() as tmp:
                copy = Path(tmp) / "hypnogram.edf"
                copy.write_bytes(hypnogram_file.read_bytes())
                return mne.read_annotations(copy)
        return mne.read_annotations(hypnogram_file)
    except ValueError as exc:
        if str(hypnogram_file) in str(exc):
            raise
        raise ValueError(f"{hypnogram_file}: cannot read the hypnogram annotations: {exc}") from exc


def read_stage_annotations(hypnogram_file, *, epoch_seconds=30, annotation_map=None,
                           recording_start=None, recording_duration=None,
                           on_unknown="raise", on_grid=False, grid_origin=0.0):
    """Stage of each epoch from an EDF+ hypnogram, validated and bounded.

    The annotations are read with :func:`mne.read_annotations` after the EDF header
    checks of :func:`~sklearn_sleep.datasets._edf_io.read_edf_header`, mapped to stages
    through ``annotation_map`` and expanded into epochs by
    :func:`sklearn_sleep.datasets._validation.annotations_to_epochs`: durations that
    are not a multiple of ``epoch_seconds`` are refused (never rounded), overlapping
    annotations and duplicated onsets are refused, and epochs outside
    ``[0, recording_duration]`` are counted without being allocated (an annotation
    claiming years does not allocate memory).

    Parameters
    ----------
    hypnogram_file : str or Path
        EDF+ file with stage annotations (e.g. ``SC4001EC-Hypnogram.edf``).
    epoch_seconds : float, default=30
    annotation_map : dict or None, default=None
        Description -> stage (or ``EXCLUDED``); default
        :data:`~sklearn_sleep.utils._stages.SLEEP_EDF_ANNOTATION_MAP`.
    recording_start : datetime.datetime or None, default=None
        Start of the recording the epochs belong to. When given, onsets are returned
        relative to it (a hypnogram starting 1 h later has its epochs at +3600 s); the
        hypnogram must then have a valid start date/time. ``None``: onsets relative to
        the hypnogram's own start (``start`` in the result).
    recording_duration : float or None, default=None
        Length of the recording (s); epochs beyond it are counted in ``n_outside``.
    on_unknown : {"raise", "ignore"}, default="raise"
        Descriptions not in ``annotation_map``: raise, or skip them (counted per
        description in ``ignored``).
    on_grid : bool, default=False
        Require epoch onsets on the grid ``grid_origin + k * epoch_seconds`` (to match
        epochs of a fixed grid such as a prediction CSV); an annotation off that grid
        raises instead of being shifted.
    grid_origin : float, default=0.0
        Origin of that grid, in s (relative to ``recording_start`` when given).

    Returns
    -------
    annotations : Bunch
        ``onsets`` (s, sorted), ``labels`` (object array; ``EXCLUDED`` kept as such),
        ``n_outside`` (annotated epochs outside ``[0, recording_duration]``, scored or
        not), ``n_outside_scored`` (those of them with a sleep stage, not ``EXCLUDED``),
        ``n_annotated``, ``ignored`` (description -> count),
        ``start`` (hypnogram start, datetime or None), ``offset`` (s added to the
        onsets).

    Raises
    ------
    ValueError
        Naming the file: corrupt EDF header, unknown description
        (``on_unknown="raise"``), a fault listed above, or an unknown start with
        ``recording_start`` given.
    """
    if on_unknown not in ("raise", "ignore"):
        raise ValueError(f"on_unknown must be 'raise' or 'ignore', got {on_unknown!r}.")
    hypnogram_file = Path(hypnogram_file)
    ann = _read_annotations(hypnogram_file)
    annotation_map = (SLEEP_EDF_ANNOTATION_MAP if annotation_map is None
                      else annotation_map)
    descriptions = [str(d) for d in ann.description]
    ignored = {}
    for d in descriptions:
        if d not in annotation_map:
            ignored[d] = ignored.get(d, 0) + 1
    if ignored and on_unknown == "raise":
        raise ValueError(
            f"{hypnogram_file}: unknown annotation description(s) {sorted(ignored)}; known "
            f"ones are {sorted(annotation_map)}. Pass annotation_map= to map them explicitly."
        )
    keep = np.asarray([d in annotation_map for d in descriptions], dtype=bool)
    start = read_edf_header(hypnogram_file).start
    if start is None:
        start = getattr(ann, "orig_time", None)
    offset = 0.0
    if recording_start is not None:
        if start is None:
            raise ValueError(f"{hypnogram_file}: the hypnogram has no valid start date/time, "
                             "so it cannot be aligned with the recording.")
        offset = float((start - recording_start).total_seconds())
    plan = annotations_to_epochs(
        np.asarray(ann.onset)[keep], np.asarray(ann.duration)[keep],
        [annotation_map[d] for d, k in zip(descriptions, keep) if k],
        epoch_seconds=epoch_seconds, path=hypnogram_file,
        recording_duration=recording_duration, offset=offset, on_grid=on_grid,
        grid_origin=grid_origin, unscored=(EXCLUDED,))
    plan.ignored = ignored
    plan.start = start
    plan.offset = offset
    return plan


def _epoch_plan(psg_file, hypnogram_file, *, epoch_seconds, wake_edge_minutes, sfreq,
                annotation_map):
    """Onsets (s, relative to the PSG start) and labels of the epochs to keep.

    Reads only the PSG header and the hypnogram annotations.
    """
    header = read_edf_header(psg_file)
    if header.n_records == 0:
        raise ValueError(f"{psg_file}: the EDF file contains no data records (empty recording).")
    if header.start is None:
        raise ValueError(f"{psg_file}: the recording has no valid start date/time, so the "
                         f"annotations of {hypnogram_file} cannot be aligned with it.")
    # the readers' one rule for stage annotations: unknown descriptions refused, onsets
    # aligned by the start times of both files, bounded by the recording before anything
    # is expanded; overlaps, duplicated onsets and durations that are not a multiple of
    # the epoch are refused (never rounded)
    plan = read_stage_annotations(
        hypnogram_file, epoch_seconds=epoch_seconds, annotation_map=annotation_map,
        recording_start=header.start, recording_duration=header.duration)
    offset = plan.offset
    onsets, labels = plan.onsets, plan.labels
    # Epochs outside the signal (Sleep-EDF's trailing 'Sleep stage ?' often is) are
    # counted, never allocated.
    n_outside = plan.n_outside
    # Wake trimming around the sleep period.
    keep = np.ones(len(onsets), dtype=bool)
    n_trimmed = 0
    if wake_edge_minutes is not None:
        is_sleep = np.isin(labels, _SLEEP_STAGES)
        if is_sleep.any():
            first = onsets[is_sleep].min() - 60.0 * wake_edge_minutes
            last = onsets[is_sleep].max() + 60.0 * wake_edge_minutes
            in_window = (onsets >= first - 1e-9) & (onsets <= last + 1e-9)
            n_trimmed = int((keep & ~in_window).sum())
            keep &= in_window
        else:
            warnings.warn(f"{hypnogram_file}: no sleep epoch (N1/N2/N3/REM); wake trimming "
                          "skipped, all epochs kept.", UserWarning, stacklevel=3)
    excluded = keep & (labels == EXCLUDED)
    n_excluded = int(excluded.sum())
    keep &= ~excluded
    if sfreq is not None:
        samples = onsets[keep] * sfreq
        if np.any(np.abs(samples - np.round(samples)) > 1e-3):
            raise ValueError(f"{hypnogram_file}: epoch onsets do not fall on sample boundaries at "
                             f"{sfreq:g} Hz.")
    return Bunch(header=header, onsets=onsets[keep], labels=labels[keep],
                 n_excluded=n_excluded, n_trimmed_wake=n_trimmed, n_outside_signal=n_outside,
                 n_scored_outside_signal=plan.n_outside_scored, n_annotated=plan.n_annotated, offset=offset)


def read_sleep_edf_recording(psg_file, hypnogram_file, *, channels=DEFAULT_CHANNELS,
                             sfreq=100.0, wake_edge_minutes=30, epoch_seconds=30,
                             resample_mismatched="resample", annotation_map=None,
                             subject=None):
    """Read one Sleep-EDF night as AASM-labelled epochs.

    Parameters
    ----------
    psg_file : str or Path
        ``*-PSG.edf`` file.
    hypnogram_file : str or Path
        Matching ``*-Hypnogram.edf`` (EDF+ annotations). Its onsets are aligned on the
        PSG by the start date/time of both headers (a hypnogram starting 1 h after the
        PSG labels the epochs from +3600 s; an unknown start raises). Overlapping
        annotations, duplicated onsets and durations that are not a multiple of
        ``epoch_seconds`` raise (see
        :func:`~sklearn_sleep.datasets._validation.annotations_to_epochs`); annotated
        epochs beyond the signal are counted (``n_outside_signal``) without being
        allocated.
    channels : sequence of str, default=("EEG Fpz-Cz", "EEG Pz-Oz", "EOG horizontal",
        "EMG submental")
        Channels in output order; a missing one raises a ``ValueError`` listing the
        available channels.
    sfreq : float or None, default=100.0
        Output rate. ``None`` uses the highest native rate of the picked channels;
        channels recorded at a lower rate (the 1 Hz ``EMG submental``) are then
        resampled up to it with the default ``resample_mismatched="resample"``, or
        refused with ``"raise"``. With channels that share one rate, ``None`` keeps it.
    wake_edge_minutes : float or None, default=30
        Wake kept before the first and after the last sleep (N1/N2/N3/REM) epoch;
        ``None`` keeps everything.
    epoch_seconds : float, default=30
        Epoch length; every annotation must last a multiple of it (never rounded).
    resample_mismatched : {"resample", "raise"}, default="resample"
        Channels whose native rate differs from ``sfreq`` (from the highest native rate
        when ``sfreq=None``), e.g. the 1 Hz ``EMG submental``, are resampled with
        :func:`scipy.signal.resample_poly` and listed in ``resampled_channels``;
        ``"raise"`` refuses them with an error naming each channel and its rate.
    annotation_map : dict or None, default=None
        Annotation description -> stage name (or ``EXCLUDED``); default
        :data:`~sklearn_sleep.utils._stages.SLEEP_EDF_ANNOTATION_MAP`. Descriptions not
        in the map raise a ``ValueError``.
    subject : int, str or None
        Subject id for ``groups``; parsed from the ``SC4ss`` file name when ``None``.

    Returns
    -------
    data : Bunch
        ``X`` float32 (n_epochs, n_channels, n_times) in microvolts, ``y`` (object array
        of 'W','N1','N2','N3','REM'), ``groups``, ``recordings``, ``ch_names``,
        ``sfreq``, ``epoch_seconds``, ``onsets`` (epoch start in s from the PSG start),
        ``n_excluded`` (movement/unscored epochs removed), ``n_trimmed_wake``,
        ``n_outside_signal`` (annotated epochs beyond the end of the signal, scored or
        not: Sleep-EDF's trailing ``'Sleep stage ?'`` is counted there),
        ``n_scored_outside_signal`` (the scored ones among them: sleep stages lost
        because the signal ends first), ``resampled_channels`` (name -> (native Hz, output Hz)), ``native_sfreqs``.
    """
    plan = _epoch_plan(psg_file, hypnogram_file, epoch_seconds=epoch_seconds,
                       wake_edge_minutes=wake_edge_minutes, sfreq=sfreq,
                       annotation_map=annotation_map)
    sig = read_edf_signals(psg_file, channels, sfreq=sfreq,
                           resample_mismatched=resample_mismatched, header=plan.header)
    fs = sig.sfreq
    n_times = int(round(epoch_seconds * fs))
    if abs(epoch_seconds * fs - n_times) > 1e-6:
        raise ValueError(f"epoch_seconds={epoch_seconds} is not a whole number of samples at "
                         f"{fs:g} Hz.")
    starts = np.round(plan.onsets * fs).astype(np.int64)
    X = np.empty((len(starts), len(sig.ch_names), n_times), dtype=np.float32)
    for k, s in enumerate(starts):
        X[k] = sig.signals[:, s:s + n_times]
    if len(X) == 0:
        warnings.warn(f"{psg_file}: no epoch left ({plan.n_excluded} excluded, "
                      f"{plan.n_trimmed_wake} trimmed wake, {plan.n_outside_signal} outside the "
                      "signal).", UserWarning, stacklevel=2)
    parsed_subject, rec_id = _parse_name(psg_file)
    subject = parsed_subject if subject is None else subject
    n = len(X)
    return Bunch(
        X=X, y=plan.labels.astype(object),
        groups=np.full(n, subject, dtype=int if isinstance(subject, (int, np.integer))
                       else object),
        recordings=np.full(n, rec_id, dtype=object),
        ch_names=list(sig.ch_names), sfreq=fs, epoch_seconds=float(epoch_seconds),
        onsets=plan.onsets, n_excluded=plan.n_excluded, n_trimmed_wake=plan.n_trimmed_wake,
        n_outside_signal=plan.n_outside_signal,
        n_scored_outside_signal=plan.n_scored_outside_signal,
        resampled_channels=dict(sig.resampled_channels), native_sfreqs=dict(sig.native_sfreqs),
    )


class SleepEDFReader:
    """Picklable per-recording reader for :func:`preprocess_recordings`.

    Calling it on a ``(psg_file, hypnogram_file)`` pair runs
    :func:`read_sleep_edf_recording` with the stored keyword arguments;
    :meth:`count_epochs` gives the epoch count from the header and hypnogram only.

    Parameters
    ----------
    **kwargs
        Keyword arguments of :func:`read_sleep_edf_recording` (``channels``,
        ``sfreq``, ``wake_edge_minutes``, ``epoch_seconds``, ``resample_mismatched``,
        ``annotation_map``, ``subject``), stored as given; omitted ones take that
        function's defaults. Nothing is checked at construction: an unknown name or a
        bad value only raises (``TypeError`` or ``ValueError``) when the reader is
        called. :meth:`count_epochs` uses only ``epoch_seconds``,
        ``wake_edge_minutes``, ``sfreq`` and ``annotation_map``.

    Attributes
    ----------
    kwargs : dict
        The keyword arguments passed to :func:`read_sleep_edf_recording` on each call.
    """

    def __init__(self, **kwargs):
        self.kwargs = kwargs

    def __call__(self, pair):
        psg, hyp = pair
        return read_sleep_edf_recording(psg, hyp, **self.kwargs)

    def count_epochs(self, pair):
        psg, hyp = pair
        kw = self.kwargs
        plan = _epoch_plan(psg, hyp, epoch_seconds=kw.get("epoch_seconds", 30),
                           wake_edge_minutes=kw.get("wake_edge_minutes", 30),
                           sfreq=kw.get("sfreq", 100.0),
                           annotation_map=kw.get("annotation_map"))
        return int(len(plan.onsets))


def _find_pairs(path, subjects, nights, on_missing):
    path = Path(path)
    if not path.is_dir():
        raise FileNotFoundError(f"Sleep-EDF folder not found: {path}")
    psgs = {}
    for f in glob_ci(path, "SC4*-PSG.edf", recursive=True):
        m = _NAME_RE.match(f.name)
        if m:
            psgs.setdefault((int(m.group(1)), int(m.group(2))), f)
    hyps = {}
    for f in glob_ci(path, "SC4*-Hypnogram.edf", recursive=True):
        m = _NAME_RE.match(f.name)
        if m:
            hyps.setdefault((int(m.group(1)), int(m.group(2))), f)
    nights = [int(n) for n in np.atleast_1d(nights)]
    if subjects is None:
        wanted = sorted(k for k in psgs if k[1] in nights)
        if not wanted:
            raise ValueError(f"No Sleep-EDF 'SC4ssN*-PSG.edf' file for nights {nights} in {path}.")
    else:
        wanted = [(int(s), n) for s in np.atleast_1d(subjects) for n in nights]
    pairs, missing = [], []
    for key in wanted:
        if key in psgs and key in hyps:
            pairs.append((psgs[key], hyps[key]))
        else:
            what = [w for w, d in (("PSG", psgs), ("hypnogram", hyps)) if key not in d]
            missing.append(f"SC4{key[0]:02d}{key[1]} ({' and '.join(what)} missing)")
    if missing:
        msg = f"Sleep-EDF recordings not found in {path}: {missing}."
        if on_missing == "raise" or not pairs:
            raise ValueError(msg + " Use on_missing='warn' to skip them." if pairs else msg)
        if on_missing == "warn":
            warnings.warn(msg + " They are skipped.", UserWarning, stacklevel=3)
    return pairs


def _load_pairs(pairs, *, channels, sfreq, wake_edge_minutes, epoch_seconds,
                resample_mismatched, annotation_map, n_jobs, out, transform, return_X_y,
                verbose, prefer=None, overwrite=False):
    reader = SleepEDFReader(channels=tuple(channels), sfreq=sfreq,
                            wake_edge_minutes=wake_edge_minutes, epoch_seconds=epoch_seconds,
                            resample_mismatched=resample_mismatched,
                            annotation_map=annotation_map)
    data = preprocess_recordings(pairs, reader, n_jobs=n_jobs, out=out, transform=transform,
                                 prefer=prefer, verbose=verbose, overwrite=overwrite)
    data.pairs = [(Path(p), Path(h)) for p, h in pairs]
    data.n_excluded = int(sum(i.get("n_excluded", 0) for i in data.recording_info))
    if return_X_y:
        return data.X, data.y, data.groups
    return data


def load_sleep_edf(path, subjects=None, nights=(1, 2), *, channels=DEFAULT_CHANNELS,
                   sfreq=100.0, wake_edge_minutes=30, epoch_seconds=30,
                   resample_mismatched="resample", annotation_map=None, n_jobs=1, out=None,
                   transform=None, on_missing="raise", prefer=None, return_X_y=False,
                   verbose=False, overwrite=False):
    """Load Sleep-EDF cassette nights from a local folder as one epoch array.

    Files are found recursively by their Sleep-EDF names (case-insensitively, so
    ``.EDF`` works too): ``SC4{ss}{N}E0-PSG.edf``
    with the hypnogram ``SC4{ss}{N}{letter}C-Hypnogram.edf`` (``ss`` = subject
    00-82, ``N`` = night 1 or 2). Reading uses :func:`preprocess_recordings`, so memory
    stays bounded by one copy of the epochs (``out`` = a ``.npy`` path keeps even that
    on disk).

    Parameters
    ----------
    path : str or Path
        Folder holding the EDF files (searched recursively).
    subjects : sequence of int or None, default=None
        Subject ids; ``None`` = every subject found.
    nights : sequence of int, default=(1, 2)
        Nights to load.
    channels, sfreq, wake_edge_minutes, epoch_seconds, resample_mismatched, annotation_map
        See :func:`read_sleep_edf_recording`.
    n_jobs : int, default=1
        Parallel workers (joblib).
    out : str, Path or None
        ``.npy`` file for a memory-mapped ``X``. It is written beside the target and
        renamed only when complete (a failure leaves any previous file untouched); it
        must not be one of the input files.
    transform : callable or None
        Per-recording transform (see :func:`preprocess_recordings`).
    overwrite : bool, default=False
        Replace an existing ``out`` file; ``False`` refuses it with a
        ``FileExistsError``
        (MNE's convention). Passed to :func:`preprocess_recordings`.
    on_missing : {"raise", "warn", "ignore"}, default="raise"
        What to do when a requested subject/night has no PSG or hypnogram file.
    prefer : {"processes", "threads"} or None
        Worker type (see :func:`preprocess_recordings`).
    return_X_y : bool, default=False
        Return ``(X, y, groups)`` instead of the Bunch.

    Returns
    -------
    data : Bunch or tuple
        ``X``, ``y``, ``groups`` (subject id: both nights of a subject share a group),
        ``recordings`` ('SC4ssN'), ``ch_names``, ``sfreq``, ``epoch_seconds``,
        ``recording_info`` (per night: ``n_excluded``, ``n_trimmed_wake``,
        ``resampled_channels``...), ``n_excluded`` (total), ``pairs``.
    """
    if on_missing not in ("raise", "warn", "ignore"):
        raise ValueError(f"on_missing must be 'raise', 'warn' or 'ignore', got {on_missing!r}.")
    pairs = _find_pairs(path, subjects, nights, on_missing)
    return _load_pairs(pairs, channels=channels, sfreq=sfreq,
                       wake_edge_minutes=wake_edge_minutes, epoch_seconds=epoch_seconds,
                       resample_mismatched=resample_mismatched, annotation_map=annotation_map,
                       n_jobs=n_jobs, out=out, transform=transform, return_X_y=return_X_y,
                       verbose=verbose, prefer=prefer, overwrite=overwrite)


def fetch_sleep_edf(subjects, nights=(1, 2), path=None, *, load=True, on_missing="raise",
                    force_update=False, **load_kwargs):
    """Download Sleep-EDF cassette nights with MNE and (optionally) load them.

    Uses :func:`mne.datasets.sleep_physionet.age.fetch_data` (files are cached under
    ``path``, default ``~/mne_data``).

    Parameters
    ----------
    subjects : sequence of int
        Subject ids (0-82; 39, 68, 69, 78 and 79 do not exist).
    nights : sequence of int, default=(1, 2)
        Nights (MNE's ``recording``).
    path : str or None
        Download folder.
    load : bool, default=True
        If True, return the loaded epochs (as :func:`load_sleep_edf`); if False,
        return the list of ``(psg_file, hypnogram_file)`` pairs.
    on_missing : {"raise", "warn", "ignore"}, default="raise"
        Passed to MNE for nights that do not exist (e.g. subject 13 night 2).
    force_update : bool, default=False
        Re-download.
    **load_kwargs
        Keyword arguments of :func:`load_sleep_edf` (``channels``, ``sfreq``,
        ``n_jobs``, ``out``, ``return_X_y``...).

    Returns
    -------
    data : Bunch, tuple or list of (Path, Path)
    """
    from mne.datasets.sleep_physionet import age

    files = age.fetch_data(subjects=list(np.atleast_1d(subjects).tolist()),
                           recording=list(np.atleast_1d(nights).tolist()), path=path,
                           force_update=force_update, on_missing=on_missing)
    pairs = []
    for item in files:
        if len(item) != 2:
            raise ValueError(f"Unexpected entry from mne fetch_data: {item!r}.")
        a, b = (Path(p) for p in item)
        pairs.append((a, b) if "PSG" in a.name else (b, a))
    if not pairs:
        raise ValueError(f"No Sleep-EDF recording fetched for subjects {subjects}, nights "
                         f"{nights}.")
    if not load:
        return pairs
    defaults = dict(channels=DEFAULT_CHANNELS, sfreq=100.0, wake_edge_minutes=30,
                    epoch_seconds=30, resample_mismatched="resample", annotation_map=None,
                    n_jobs=1, out=None, transform=None, return_X_y=False, verbose=False,
                    prefer=None)
    unknown = set(load_kwargs) - set(defaults)
    if unknown:
        raise TypeError(f"fetch_sleep_edf got unexpected keyword argument(s) {sorted(unknown)}.")
    defaults.update(load_kwargs)
    return _load_pairs(pairs, **defaults)
