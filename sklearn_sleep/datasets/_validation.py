"""One validation layer shared by every reader of :mod:`sklearn_sleep.datasets`.

Every loader (EDF/EDF+ signals, Sleep-EDF, DREAMS, SleepSign and time-stamped text,
label files, EDF+ hypnogram annotations) checks its input through the functions of
this module, so that one kind of fault always gets one kind of answer:

* **EDF header numbers** (:func:`header_number`): finite, whole where the format
  wants an integer, within their legal range; the message names the file, the field
  and (for per-channel fields) the channel.
* **Duplicate channel labels** (:func:`unique_channel_names`): renamed with MNE's
  running-number convention (``EEG``, ``EEG`` -> ``EEG-0``, ``EEG-1``) and a warning,
  so that two channels never collapse into one. Channel picking
  (:func:`match_channels`) is exact first, then case-insensitive only when exactly one
  channel matches; names that differ only in case and match the request equally are
  refused as ambiguous.
* **Samples** (:func:`check_finite_samples`): NaN or infinite samples are refused with
  their count and the first position, in every loader.
* **Time stamps** (:func:`check_time_stamps`): every step is checked, not only the
  first and last rows: a duplicated stamp, time going backwards, a gap or a stamp that
  drifts from the estimated (or given) rate raises, naming the line.
* **Annotations** (:func:`annotations_to_epochs`): start offsets honoured, durations
  bounded by the recording before anything is allocated, overlapping annotations and
  duplicated onsets refused, durations that are not a multiple of the epoch length
  refused (never rounded); everything dropped is counted.
* **File names** (:func:`has_extension`, :func:`glob_ci`): extensions are compared
  case-insensitively (``.EDF``, ``.Edf``).
"""

import math
import re
import warnings
from pathlib import Path

import numpy as np
from sklearn.utils import Bunch

__all__ = [
    "header_number",
    "unique_channel_names",
    "match_channels",
    "check_finite_samples",
    "check_time_stamps",
    "annotations_to_epochs",
    "has_extension",
    "glob_ci",
    "read_text",
]

#: Largest number of epochs an annotation set may expand to when the recording length
#: is unknown (about 9.5 years of 30-s epochs): a guard against absurd durations.
MAX_EPOCHS_UNBOUNDED = 10_000_000


# --------------------------------------------------------------------------- header
def header_number(text, path, field, *, integer=False, min_value=None, max_value=None,
                  channel=None, allowed=()):
    """Parse one numeric EDF header field and check it.

    Parameters
    ----------
    text : str
        The field as written in the header (already stripped).
    path : str or Path
        File, for the message.
    field : str
        Field name, for the message (e.g. ``"number of data records"``).
    integer : bool, default=False
        The value must be a whole number (returned as ``int``).
    min_value, max_value : float or None
        Inclusive bounds.
    channel : str or None
        Channel label, for per-channel fields.
    allowed : tuple
        Values accepted even outside the bounds (e.g. ``-1`` records = unknown).

    Returns
    -------
    value : float or int

    Raises
    ------
    ValueError
        Naming the file, the field (and channel): not a number, NaN or infinite, not a
        whole number, or out of bounds.
    """
    where = f"{path}: invalid EDF header, field {field!r}"
    chan = "" if channel is None else f" (channel {channel!r})"
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{where} should be a number but is {text!r}{chan}. The file is "
                         "corrupt or not an EDF file.") from None
    if not math.isfinite(value):
        raise ValueError(f"{where} is {text!r}{chan}, not a finite number. The header is "
                         "corrupt.")
    if integer:
        if value != int(value):
            raise ValueError(f"{where} is {text!r}{chan}, not a whole number. The header is "
                             "corrupt.")
        value = int(value)
    if value in allowed:
        return value
    if min_value is not None and value < min_value:
        raise ValueError(f"{where} is {text!r}{chan}, below the smallest legal value "
                         f"{min_value:g}. The header is corrupt.")
    if max_value is not None and value > max_value:
        raise ValueError(f"{where} is {text!r}{chan}, above the largest legal value "
                         f"{max_value:g}. The header is corrupt.")
    return value


# ------------------------------------------------------------------------- channels
def unique_channel_names(labels, path=None):
    """Rename duplicate labels with MNE's running numbers, warning once.

    ``["EEG", "EEG", "EOG"]`` becomes ``["EEG-0", "EEG-1", "EOG"]`` (when such a name
    is already taken, ``-a``, ``-b``... are tried, as in
    ``mne._fiff.meas_info._unique_channel_names``).

    Parameters
    ----------
    labels : sequence of str
    path : str, Path or None
        File, for the warning.

    Returns
    -------
    names : list of str
        Unique labels, in the input order.
    renamed : dict
        New name -> original label, for every renamed channel.
    """
    names = [str(n) for n in labels]
    counts = {}
    for n in names:
        counts[n] = counts.get(n, 0) + 1
    dups = [n for n, c in counts.items() if c > 1]
    if not dups:
        return names, {}
    taken = set(names)
    renamed = {}
    for stem in dups:
        positions = [i for i, n in enumerate(names) if n == stem]
        for k, i in enumerate(positions):
            for suffix in (k,) + tuple("abcdefghijklmnopqrstuvwxyz"):
                candidate = f"{stem}-{suffix}"
                if candidate not in taken:
                    break
            else:  # pragma: no cover - 27 candidates all taken
                raise ValueError(f"{path}: cannot make channel label {stem!r} unique.")
            names[i] = candidate
            taken.add(candidate)
            renamed[candidate] = stem
    where = f"{path}: " if path is not None else ""
    warnings.warn(
        f"{where}channel labels are not unique, found duplicates for {sorted(dups)}; "
        f"applying running numbers (MNE's convention): "
        + ", ".join(f"{new!r}" for new in renamed) + ".",
        UserWarning, stacklevel=3)
    return names, renamed


def match_channels(requested, available, path):
    """Indices of ``requested`` names in ``available``.

    An exact match wins; otherwise a case-insensitive match is used only when it is
    unique. A name matching several channels that differ only in case is refused as
    ambiguous; a name matching nothing is refused with the list of channels.
    """
    available = [str(a) for a in available]
    idx, missing = [], []
    for name in requested:
        name = str(name)
        if name in available:
            idx.append(available.index(name))
            continue
        folded = [i for i, a in enumerate(available) if a.casefold() == name.casefold()]
        if len(folded) == 1:
            idx.append(folded[0])
        elif len(folded) > 1:
            raise ValueError(
                f"{path}: channel {name!r} is ambiguous: it matches "
                f"{[available[i] for i in folded]}, which differ only in case, and none "
                "exactly. Pick one of them by its exact name."
            )
        else:
            missing.append(name)
    if missing:
        raise ValueError(
            f"{path}: channel(s) {missing} not found. Available channels: {available}."
        )
    if len(set(idx)) != len(idx):
        dup = sorted({available[i] for i in idx if idx.count(i) > 1})
        raise ValueError(f"{path}: channel(s) {dup} requested more than once.")
    return idx


# -------------------------------------------------------------------------- samples
def check_finite_samples(values, path, *, positions=None, what="sample"):
    """Refuse NaN or infinite values with their count and first position.

    Parameters
    ----------
    values : ndarray
        Samples, rows = positions (lines) of the file, any trailing shape.
    path : str or Path
    positions : sequence of int or None
        Line number of each row (``None``: the 0-based row index is reported).
    what : str
        Noun for the message.
    """
    values = np.asarray(values)
    finite = np.isfinite(values)
    if finite.all():
        return values
    bad_rows = np.flatnonzero(~finite.reshape(len(values), -1).all(axis=1))
    first = int(bad_rows[0])
    where = (f"line {positions[first]}" if positions is not None
             else f"{what} index {first}")
    raise ValueError(
        f"{path}: {bad_rows.size} line(s) with NaN or infinite values, first on {where} "
        f"({int((~finite).sum())} NaN or infinite {what} value(s) in all). Interpolate or "
        "remove them in the source before loading."
    )


# ----------------------------------------------------------------------- time stamps
def stamp_resolution(stamps):
    """Coarsest resolution (s) of written ``...ss[.fff]`` time stamps."""
    decimals = 0
    first = True
    for s in stamps:
        m = re.search(r"\.(\d+)\s*$", s)
        d = len(m.group(1)) if m else 0
        decimals = d if first else min(decimals, d)
        first = False
    return 10.0 ** (-decimals)


#: Largest relative difference between the rate given by the time stamps and the
#: nominal (integer or given) rate: 0.1 %, ten times the drift of ordinary crystal
#: clocks, far below the error a missing or duplicated stretch of rows would cause.
RATE_TOLERANCE = 1e-3


def check_time_stamps(seconds, stamps, linenos, path, *, sfreq=None, resolution=None):
    """Check every step of per-sample time stamps and return the sampling rate.

    Each step between consecutive stamps is checked, not only the first and last row:

    * a step < 0 (beyond the stamp resolution) is **time going backwards**;
    * a step shorter than half a sample period is a **duplicated row**;
    * a step longer than 1.5 sample periods (plus the resolution) is a **gap**.

    The rate is then ``(n - 1) / (t_last - t_first)``; it is rounded to the nearest
    integer when within :data:`RATE_TOLERANCE` (0.1 %) of it (recorders' time-stamp
    clocks drift by some ppm from the sampling clock: ``aipost/demo_eeg.txt`` reads
    128.007 Hz for a 128 Hz file). A given ``sfreq`` must agree with the stamps to
    within the same tolerance.

    Parameters
    ----------
    seconds : array-like of float
        Time of each sample in seconds (already unwrapped across midnight).
    stamps : sequence of str
        The stamps as written (for messages and the resolution).
    linenos : sequence of int
        Line number of each sample.
    path : str or Path
    sfreq : float or None
        Given rate, checked against the stamps. ``None`` estimates it.
    resolution : float or None
        Precision of the stamps (s); default from the number of decimals written
        (``.fff`` = 1 ms). Exporters round or truncate, so a step may differ from one
        sample period by up to one resolution step.

    Returns
    -------
    sfreq : float

    Raises
    ------
    ValueError
        Naming the file and the line: a duplicated row, time going backwards, a gap,
        a given ``sfreq`` the stamps contradict; with ``sfreq=None`` also a single
        sample, a zero span, or stamps too coarse to check sample by sample.
    """
    t = np.asarray(seconds, dtype=float)
    res = stamp_resolution(stamps) if resolution is None else float(resolution)
    tol = res + 1e-9
    n = len(t)
    if n < 2:
        if sfreq is None:
            raise ValueError(f"{path}: a single sample; the sampling rate cannot be estimated "
                             "from the time stamps, pass sfreq=<Hz>.")
        return float(sfreq)
    steps = np.diff(t)
    back = np.flatnonzero(steps < -tol)
    if back.size:
        i = int(back[0])
        raise ValueError(
            f"{path}: time goes backwards on line {linenos[i + 1]} ({stamps[i + 1]!r} after "
            f"{stamps[i]!r} on line {linenos[i]}; {back.size} such place(s)). Rows are out of "
            "order or two exports were concatenated."
        )
    span = t[-1] - t[0]
    if sfreq is None:
        if not span > 0:
            raise ValueError(
                f"{path}: the last time stamp ({stamps[-1]!r}) is not later than the first "
                f"({stamps[0]!r}), so the sampling rate cannot be estimated from the time "
                "stamps; pass sfreq=<Hz>.")
        rate = (n - 1) / span
    else:
        rate = float(sfreq)
    period = 1.0 / rate
    if period < 2 * res:
        if sfreq is None:
            raise ValueError(
                f"{path}: the time stamps have a resolution of {res:g} s, too coarse to check "
                f"a rate of about {rate:.6g} Hz sample by sample; pass sfreq=<Hz>.")
    else:
        short = np.flatnonzero(steps < 0.5 * period - tol)
        if short.size:
            i = int(short[0])
            raise ValueError(
                f"{path}: duplicated row on line {linenos[i + 1]}: time stamp "
                f"{stamps[i + 1]!r} only {steps[i]:g} s after line {linenos[i]} "
                f"({stamps[i]!r}), for a sample period of {period:g} s ({short.size} such "
                "row(s) in the file).")
        gaps = np.flatnonzero(steps > 1.5 * period + tol)
        if gaps.size:
            i = int(gaps[0])
            raise ValueError(
                f"{path}: gap in the time stamps on line {linenos[i + 1]}: {steps[i]:g} s "
                f"after line {linenos[i]}, but one sample lasts {period:g} s at {rate:.6g} Hz "
                f"({gaps.size} gap(s) in the file). Samples are missing; the rate cannot be "
                "trusted.")
    if span > 0:
        est = (n - 1) / span
        # the stamps' rate, allowing one resolution step of error at each end
        rel = abs(est - rate) / rate
        allowed = RATE_TOLERANCE + 2 * res / span
        if sfreq is not None and rel > allowed:
            raise ValueError(
                f"{path}: the time stamps give {est:.6g} Hz ({n} samples from {stamps[0]!r} "
                f"to {stamps[-1]!r}) but sfreq={sfreq:g} was given.")
        if sfreq is None:
            nominal = float(round(est))
            if nominal > 0 and abs(est - nominal) / nominal <= allowed:
                return nominal
            return float(est)
    return float(rate)


# ----------------------------------------------------------------------- annotations
def annotations_to_epochs(onsets, durations, labels, *, epoch_seconds, path,
                          recording_duration=None, offset=0.0, on_grid=False,
                          grid_origin=0.0, unscored=()):
    """Expand stage annotations into one label per epoch, bounded by the recording.

    Parameters
    ----------
    onsets, durations : array-like of float
        Annotation onsets (s, relative to the annotation file's start) and durations.
    labels : array-like
        Stage of each annotation.
    epoch_seconds : float
    path : str or Path
        Annotation file, for the messages.
    recording_duration : float or None
        Length of the recording (s). Epochs outside ``[0, recording_duration]`` are
        counted (``n_outside``) without being allocated. ``None``: no bound, but the
        expansion is refused above :data:`MAX_EPOCHS_UNBOUNDED` epochs.
    offset : float, default=0.0
        Annotation file start minus recording start (s), added to every onset.
    on_grid : bool, default=False
        Require every epoch onset (after ``offset``) to lie on the grid
        ``grid_origin + k * epoch_seconds`` (when epochs are matched to a fixed grid,
        e.g. predictions).
    grid_origin : float, default=0.0
        Origin of that grid (s from the recording start).
    unscored : sequence, default=()
        Labels that are not scored stages (e.g. ``EXCLUDED``); their epochs outside the
        recording are left out of ``n_outside_scored``.

    Returns
    -------
    epochs : Bunch
        ``onsets`` (s from the recording start, sorted), ``labels``, ``n_outside``
        (annotated epochs outside the recording, counted arithmetically),
        ``n_outside_scored`` (the part of ``n_outside`` whose label is not in
        ``unscored``), ``n_annotated`` (epochs annotated in total).

    Raises
    ------
    ValueError
        Naming the file and the annotation: a NaN/infinite onset or duration, a duration
        that is not positive or not a multiple of ``epoch_seconds`` (never rounded), an
        onset off the epoch grid (``on_grid=True``), overlapping annotations, duplicated
        onsets (with their count), or an unbounded expansion that is too large.
    """
    onsets = np.asarray(onsets, dtype=float).reshape(-1)
    durations = np.asarray(durations, dtype=float).reshape(-1)
    labels = np.asarray(labels, dtype=object).reshape(-1)
    ep = float(epoch_seconds)
    if not (math.isfinite(ep) and ep > 0):
        raise ValueError(f"epoch_seconds must be a positive finite number, got {epoch_seconds!r}.")
    if not (len(onsets) == len(durations) == len(labels)):
        raise ValueError(f"{path}: {len(onsets)} onsets, {len(durations)} durations and "
                         f"{len(labels)} labels.")
    for arr, what in ((onsets, "onset"), (durations, "duration")):
        bad = np.flatnonzero(~np.isfinite(arr))
        if bad.size:
            raise ValueError(f"{path}: {bad.size} annotation(s) with a NaN or infinite {what}, "
                             f"first {labels[bad[0]]!r} (annotation {int(bad[0])}).")
    bad = np.flatnonzero(durations <= 0)
    if bad.size:
        i = int(bad[0])
        raise ValueError(f"{path}: stage annotation {labels[i]!r} at {onsets[i]:g} s has "
                         f"duration {durations[i]:g} s; stage annotations must last a positive "
                         f"multiple of {ep:g} s ({bad.size} such annotation(s)).")
    n_per = durations / ep
    n_int = np.round(n_per)
    bad = np.flatnonzero(np.abs(n_per - n_int) > 1e-6)
    if bad.size:
        i = int(bad[0])
        raise ValueError(
            f"{path}: stage annotation {labels[i]!r} at {onsets[i]:g} s lasts {durations[i]:g} s, "
            f"not a multiple of epoch_seconds={ep:g} ({bad.size} such annotation(s)); it is not "
            "rounded. Re-score with that epoch length or pass the matching epoch_seconds.")
    starts = onsets + float(offset)
    if on_grid:
        k = (starts - float(grid_origin)) / ep
        bad = np.flatnonzero(np.abs(k - np.round(k)) > 1e-6)
        if bad.size:
            i = int(bad[0])
            raise ValueError(
                f"{path}: stage annotation {labels[i]!r} starts at {starts[i]:g} s from the "
                f"recording start, not on the {ep:g}-s epoch grid ({bad.size} such "
                "annotation(s)); epochs cannot be matched without shifting them. Give the "
                "epoch length that divides every onset and duration.")
    # duplicated onsets and overlaps, on the annotations themselves (no expansion yet)
    order = np.argsort(starts, kind="stable")
    s_sorted, e_sorted = starts[order], starts[order] + durations[order]
    same = np.flatnonzero(np.abs(np.diff(s_sorted)) <= 1e-6)
    if same.size:
        i, j = order[same[0]], order[same[0] + 1]
        raise ValueError(
            f"{path}: duplicated onset {onsets[j]:g} s: annotations {labels[i]!r} and "
            f"{labels[j]!r} both start there ({same.size} duplicated onset(s)); each epoch must "
            "be scored once.")
    over = np.flatnonzero(s_sorted[1:] < e_sorted[:-1] - 1e-6)
    if over.size:
        i, j = order[over[0]], order[over[0] + 1]
        raise ValueError(
            f"{path}: overlapping stage annotations: {labels[i]!r} at {onsets[i]:g} s lasting "
            f"{durations[i]:g} s overlaps {labels[j]!r} at {onsets[j]:g} s ({over.size} "
            "overlap(s)); each epoch must be scored once.")
    n_int = n_int.astype(float)
    if recording_duration is None:
        lo = np.zeros_like(n_int)
        hi = n_int
        total = float(n_int.sum())
        if total > MAX_EPOCHS_UNBOUNDED:
            i = int(np.argmax(n_int))
            raise ValueError(
                f"{path}: the annotations span {total:.0f} epochs (annotation {labels[i]!r} at "
                f"{onsets[i]:g} s lasts {durations[i]:g} s); refusing to expand more than "
                f"{MAX_EPOCHS_UNBOUNDED} epochs without a recording length.")
    else:
        rec = float(recording_duration)
        # epochs k of an annotation are inside when 0 <= start + k*ep and
        # start + (k+1)*ep <= rec, computed without expanding
        lo = np.clip(np.ceil((-starts) / ep - 1e-9), 0, n_int)
        hi = np.clip(np.floor((rec - starts) / ep + 1e-9), 0, n_int)
        hi = np.maximum(hi, lo)
    n_inside = (hi - lo).astype(np.int64)
    n_annotated = float(n_int.sum())
    out_onsets = np.empty(int(n_inside.sum()), dtype=float)
    out_labels = np.empty(int(n_inside.sum()), dtype=object)
    pos = 0
    for a in order:
        m = int(n_inside[a])
        if m:
            out_onsets[pos:pos + m] = starts[a] + ep * np.arange(int(lo[a]), int(lo[a]) + m)
            out_labels[pos:pos + m] = labels[a]
            pos += m
    unscored = set(unscored)
    scored = np.asarray([lab not in unscored for lab in labels], dtype=bool)
    n_outside_scored = int(round(float((n_int - n_inside)[scored].sum()))) if scored.size else 0
    return Bunch(onsets=out_onsets, labels=out_labels,
                 n_outside=int(round(n_annotated - pos)), n_outside_scored=n_outside_scored,
                 n_annotated=int(round(n_annotated)))


# ------------------------------------------------------------------------ file names
def has_extension(path, *extensions):
    """True when ``path`` ends with one of ``extensions``, compared case-insensitively."""
    name = Path(path).name.lower()
    return any(name.endswith(e.lower()) for e in extensions)


def glob_ci(folder, pattern, *, recursive=False):
    """Files of ``folder`` matching a glob ``pattern`` case-insensitively, sorted."""
    folder = Path(folder)
    regex = re.compile(
        "".join("[^/]*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern),
        re.IGNORECASE)
    it = folder.rglob("*") if recursive else folder.glob("*")
    return sorted(p for p in it if p.is_file() and regex.fullmatch(p.name))


# ------------------------------------------------------------------------ text files
def read_text(path, *, what="file"):
    """Text of a UTF-8 file (a byte-order mark is dropped), or a clear ``ValueError``.

    Bytes that are not UTF-8 (a Latin-1 export, a binary file) are refused with the
    file name, the byte offset and the line, instead of a bare ``UnicodeDecodeError``.
    """
    data = Path(path).read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise ValueError(
            f"{path}: the {what} is not UTF-8 text (byte 0x{data[exc.start]:02x} at offset "
            f"{exc.start}, line {line}). Re-save it as UTF-8."
        ) from None

