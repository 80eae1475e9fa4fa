"""Generic epoching: continuous signal + one label per epoch -> epoch array.

Covers any data set that is not Sleep-EDF or DREAMS: an array already in memory
(:func:`epochs_from_array`) or any EDF file plus a per-epoch label sequence
(:func:`load_edf_with_labels`), with any epoch length (1 s and 4 s for mouse data,
30 s for human AASM scoring [1]_).

References
----------
.. [1] Berry RB et al. The AASM Manual for the Scoring of Sleep and Associated Events.
       American Academy of Sleep Medicine, 2012.
"""

import warnings
from pathlib import Path

import numpy as np
from sklearn.utils import Bunch

from ..utils._stages import check_label_array
from ..utils._validation import check_epochs, check_sfreq
from ._edf_io import read_edf_signals
from ._validation import read_text

__all__ = ["epochs_from_array", "load_edf_with_labels", "read_label_file"]


def _n_times(sfreq, epoch_seconds):
    epoch_seconds = check_sfreq(epoch_seconds, name="epoch_seconds")
    n = epoch_seconds * sfreq
    n_int = int(round(n))
    if n_int < 1 or abs(n - n_int) > 1e-6:
        raise ValueError(
            f"epoch_seconds={epoch_seconds:g} at sfreq={sfreq:g} Hz is {n:g} samples; it must "
            "be a positive whole number of samples."
        )
    return epoch_seconds, n_int


def epochs_from_array(signal, labels, *, sfreq, epoch_seconds, ch_names=None, subject=None,
                      recording=None, on_mismatch="raise", exclude=None, label_map=None,
                      return_X_y=False):
    """Cut a continuous multichannel signal into labelled, non-overlapping epochs.

    Epoch ``k`` covers samples ``[k * n_times, (k + 1) * n_times)`` with
    ``n_times = epoch_seconds * sfreq`` and gets ``labels[k]``.

    Parameters
    ----------
    signal : array-like of shape (n_channels, n_samples) or (n_samples,)
        Continuous signal (microvolts for EEG/EMG by library convention).
    labels : array-like of shape (n_labels,)
        One label per epoch.
    sfreq : float
        Sampling rate in Hz.
    epoch_seconds : float
        Epoch length in seconds (e.g. 1, 4, 10 or 30).
    ch_names : sequence of str or None
        Channel names (default ``'ch0'``, ``'ch1'``...).
    subject, recording : int, str or None
        Stored per epoch in ``groups`` / ``recordings`` (defaults 0 and ``'rec0'``).
    on_mismatch : {"raise", "truncate"}, default="raise"
        If the signal does not hold exactly ``len(labels)`` whole epochs, ``"raise"``
        raises a ``ValueError`` with the counts; ``"truncate"`` keeps the
        ``min(n_labels, n_whole_epochs)`` first epochs and warns with the number of
        labels and samples dropped.
    exclude : sequence or None, default=None
        Labels whose epochs are removed (counted in ``n_excluded``), e.g.
        ``["EXCLUDED", "?"]``.
    label_map : dict or None, default=None
        Maps raw labels to stage names before ``exclude`` is applied; a label missing
        from the map raises a ``ValueError``.
    return_X_y : bool, default=False
        Return ``(X, y, groups)``.

    Returns
    -------
    data : Bunch or tuple
        ``X`` float32 (n_epochs, n_channels, n_times), ``y`` (object), ``groups``,
        ``recordings``, ``ch_names``, ``sfreq``, ``epoch_seconds``, ``onsets`` (s),
        ``n_excluded``, ``n_dropped_labels``, ``n_dropped_samples``.
    """
    sfreq = check_sfreq(sfreq)
    epoch_seconds, n_times = _n_times(sfreq, epoch_seconds)
    if on_mismatch not in ("raise", "truncate"):
        raise ValueError(f"on_mismatch must be 'raise' or 'truncate', got {on_mismatch!r}.")
    x = np.asarray(signal)
    if x.ndim == 1:
        x = x[None, :]
    if x.ndim != 2:
        raise ValueError(f"signal must be (n_channels, n_samples), got shape {x.shape}.")
    if not np.issubdtype(x.dtype, np.number):
        raise ValueError(f"signal must be numeric, got dtype {x.dtype}.")
    if x.shape[1] == 0 or x.shape[0] == 0:
        raise ValueError(f"signal is empty (shape {x.shape}); nothing to epoch.")
    labels = np.asarray(labels, dtype=object)
    if labels.size == 0:
        raise ValueError("labels is empty: at least one epoch label is required.")
    # 2-D labels are refused (never ravel()ed), None/NaN labels are reported
    labels = check_label_array(labels, name="labels")
    if label_map is not None:
        unknown = sorted({str(v) for v in labels if v not in label_map})
        if unknown:
            raise ValueError(f"Label(s) {unknown} are not in label_map (keys "
                             f"{sorted(map(str, label_map))}).")
        labels = np.asarray([label_map[v] for v in labels], dtype=object)
    n_samples = x.shape[1]
    n_whole = n_samples // n_times
    leftover = n_samples - n_whole * n_times
    n_dropped_labels = n_dropped_samples = 0
    if n_whole != len(labels) or leftover:
        msg = (f"The signal has {n_samples} samples = {n_whole} whole epoch(s) of {n_times} "
               f"samples ({epoch_seconds:g} s at {sfreq:g} Hz) + {leftover} leftover sample(s), "
               f"but {len(labels)} label(s) were given.")
        if on_mismatch == "raise":
            raise ValueError(msg + " Fix the inputs or pass on_mismatch='truncate'.")
        n_keep = min(n_whole, len(labels))
        if n_keep == 0:
            raise ValueError(msg + " No whole labelled epoch remains after truncation.")
        n_dropped_labels = len(labels) - n_keep
        n_dropped_samples = n_samples - n_keep * n_times
        warnings.warn(f"{msg} Truncating to {n_keep} epochs: dropped {n_dropped_labels} "
                      f"label(s) and {n_dropped_samples} sample(s).", UserWarning, stacklevel=2)
        labels = labels[:n_keep]
        n_whole = n_keep
    X = x[:, :n_whole * n_times].reshape(x.shape[0], n_whole, n_times).transpose(1, 0, 2)
    # complex samples are refused (never cast to real); NaN/inf samples are reported
    # with the indices of the epochs that hold them
    X = np.ascontiguousarray(check_epochs(X, name="signal"))
    onsets = np.arange(n_whole) * epoch_seconds
    n_excluded = 0
    if exclude is not None:
        drop = np.isin(labels, np.asarray(list(exclude), dtype=object))
        n_excluded = int(drop.sum())
        X, labels, onsets = X[~drop], labels[~drop], onsets[~drop]
        if len(X) == 0:
            raise ValueError(f"All {n_excluded} epochs carry an excluded label {list(exclude)}.")
    n = len(X)
    if ch_names is None:
        ch_names = [f"ch{i}" for i in range(x.shape[0])]
    ch_names = list(ch_names)
    if len(ch_names) != x.shape[0]:
        raise ValueError(f"{len(ch_names)} ch_names for a signal with {x.shape[0]} channels.")
    subject = 0 if subject is None else subject
    recording = "rec0" if recording is None else recording
    groups = np.full(n, subject, dtype=object if isinstance(subject, str) else None)
    data = Bunch(
        X=X, y=labels.astype(object), groups=groups,
        recordings=np.full(n, recording, dtype=object), ch_names=ch_names, sfreq=sfreq,
        epoch_seconds=epoch_seconds, onsets=onsets, n_excluded=n_excluded,
        n_dropped_labels=n_dropped_labels, n_dropped_samples=n_dropped_samples,
    )
    if return_X_y:
        return data.X, data.y, data.groups
    return data


def read_label_file(path, *, column=0, skiprows=0):
    """Read one label per line from a text or CSV/TSV file.

    Blank lines at the end of the file are ignored; a blank line followed by a label
    raises (it would shift every following label by one epoch). On lines containing
    commas or tabs the field ``column`` is taken. Labels that all look like integers
    are returned as ints, else strings.

    The file is read as UTF-8 (a byte-order mark is ignored). Each line and each field
    is stripped of surrounding whitespace; commas and tabs both separate fields (other
    separators such as ``;`` are not recognised). A line without a comma or tab is
    taken whole as the label, whatever ``column`` is.

    Parameters
    ----------
    path : str or Path
        Text, CSV or TSV file.
    column : int, default=0
        Index of the field holding the label on comma/tab-separated lines.
    skiprows : int, default=0
        Number of lines skipped at the top of the file (e.g. 1 for a header row);
        skipped lines may be blank.

    Returns
    -------
    labels : ndarray of object of shape (n_labels,)
        One label per line, in file order: Python ``int`` values when every
        label parses with ``int()`` (e.g. ``"0"``, ``"-1"``), else ``str`` values.

    Raises
    ------
    FileNotFoundError
        If ``path`` is not a file.
    ValueError
        If the file is not UTF-8 text (file, byte offset and line named), if a
        separated line has no field ``column``, if a blank line comes before a
        label (the message gives its line number), or if no label is left (empty file,
        or only skipped/blank lines).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"Label file not found: {path}")
    out = []
    lines = read_text(path, what="label file").splitlines()[skiprows:]
    while lines and not lines[-1].strip():  # trailing blank lines are harmless
        lines.pop()
    for lineno, line in enumerate(lines, start=skiprows + 1):
        line = line.strip()
        if not line:
            raise ValueError(
                f"{path}: line {lineno} is empty but more labels follow; an empty line "
                "would shift every following label by one epoch. Remove it or write the "
                "missing label."
            )
        if "," in line or "\t" in line:
            fields = [f.strip() for f in line.replace("\t", ",").split(",")]
            if column >= len(fields):
                raise ValueError(f"{path}: line {line!r} has no column {column}.")
            line = fields[column]
        out.append(line)
    if not out:
        raise ValueError(f"{path}: no label found (empty file).")
    try:
        return np.asarray([int(v) for v in out], dtype=object)
    except ValueError:
        return np.asarray(out, dtype=object)


def load_edf_with_labels(edf_path, labels, *, epoch_seconds, channels=None, sfreq=None,
                         resample_mismatched="raise", label_map=None, exclude=None,
                         on_mismatch="raise", subject=None, label_column=0, skiprows=0,
                         return_X_y=False):
    """Epoch any EDF file with a per-epoch label sequence.

    Parameters
    ----------
    edf_path : str or Path
        EDF/EDF+C file. Channels are read at their native rate (see
        :func:`~sklearn_sleep.datasets._edf_io.read_edf_signals`): mixed rates raise
        unless ``sfreq`` is given with ``resample_mismatched="resample"``.
    labels : array-like or str or Path
        One label per epoch, or a text/CSV file with one label per line
        (:func:`read_label_file` with ``label_column`` and ``skiprows``).
    epoch_seconds : float
        Epoch length (1, 4, 30 s...).
    channels : sequence of str or None
        Channels to read (a missing one raises, listing the available channels).
    sfreq : float or None
        Output rate (``None`` = native).
    resample_mismatched : {"raise", "resample"}, default="raise"
    label_map, exclude, on_mismatch, return_X_y
        See :func:`epochs_from_array`.
    subject : int, str or None
        Group id (default: the file stem).

    Returns
    -------
    data : Bunch or tuple
        As :func:`epochs_from_array`, plus ``resampled_channels`` and ``native_sfreqs``.
    """
    if isinstance(labels, (str, Path)):
        labels = read_label_file(labels, column=label_column, skiprows=skiprows)
    sig = read_edf_signals(edf_path, channels, sfreq=sfreq,
                           resample_mismatched=resample_mismatched)
    stem = Path(edf_path).stem
    try:
        data = epochs_from_array(
            sig.signals, labels, sfreq=sig.sfreq, epoch_seconds=epoch_seconds,
            ch_names=sig.ch_names, subject=stem if subject is None else subject,
            recording=stem, on_mismatch=on_mismatch, exclude=exclude, label_map=label_map,
        )
    except ValueError as exc:
        raise ValueError(f"{edf_path}: {exc}") from exc
    data.resampled_channels = dict(sig.resampled_channels)
    data.native_sfreqs = dict(sig.native_sfreqs)
    if return_X_y:
        return data.X, data.y, data.groups
    return data
