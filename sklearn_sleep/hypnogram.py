"""Sleep statistics of a hypnogram, transition matrices and hypnogram CSV files.

A hypnogram is one stage label per epoch (``'W', 'N1', 'N2', 'N3', 'REM'`` for human
AASM scoring, ``'W', 'NREM', 'REM'`` for rodents; integer codes in that order and the
usual aliases such as ``'S2'`` or ``'Wake'`` are accepted). Everything here is plain
Python/NumPy: the statistics are dicts and the tables are lists of dicts, which load
into pandas with ``pd.DataFrame(records)`` without this module importing pandas.

Definitions
-----------
All durations are in minutes; ``e`` is the epoch length in minutes.

=====================  ================================================================
``TIB``                Time in bed: ``n_epochs * e`` (the whole record, lights-off to
                       lights-on as far as the record goes).
``SOL``                Sleep onset latency: record start to the first epoch of *any*
                       sleep stage (AASM [1]_). ``nan`` if there is no sleep.
``SPT``                Sleep period time: first to last sleep epoch, inclusive.
``TST``                Total sleep time: number of sleep epochs times ``e``.
``WASO``               Wake after sleep onset, up to the final awakening
                       (``SPT - TST``; wake after the last sleep epoch is not WASO).
``SE``                 Sleep efficiency, ``100 * TST / TIB`` (%).
``SME``                Sleep maintenance efficiency, ``100 * TST / SPT`` (%).
``Lat_<stage>``        Latency of the first epoch of a sleep stage measured **from sleep
                       onset** (AASM: REM latency is from sleep onset [1]_; YASA issue
                       #149 shows how often it is mistaken for the latency from the
                       record start). ``nan`` if the stage never occurs.
``Lat_<stage>_from_start``  The same latency measured from the record start.
``<stage>_min``        Minutes in each stage (``W_min`` is all wake, in and out of SPT).
``<stage>_pct``        Percent of TST in each *sleep* stage.
``n_awakenings``       Wake bouts inside the sleep period (after sleep onset and before
                       the final awakening) lasting at least ``min_awakening_seconds``.
``n_transitions``      Number of consecutive epoch pairs whose stages differ.
=====================  ================================================================

References
----------
.. [1] Berry RB, Brooks R, Gamaldo CE, et al. The AASM Manual for the Scoring of Sleep
       and Associated Events: Rules, Terminology and Technical Specifications, v2.
       American Academy of Sleep Medicine, 2012.
.. [2] Vallat R, Walker MP. An open-source, high-performance tool for automated sleep
       staging. eLife 10:e70092, 2021. doi:10.7554/eLife.70092
"""

import csv
import io
import numbers
from pathlib import Path

import numpy as np
from sklearn.utils import Bunch

from ._atomic import atomic_write, check_outputs
from .utils._stages import AASM_STAGES, MOUSE_STAGES, to_stage_codes

__all__ = [
    "STATISTIC_UNITS",
    "read_hypnogram_csv",
    "sleep_statistics",
    "statistics_table",
    "to_records",
    "transition_matrix",
    "write_hypnogram_csv",
]

#: Unit of every scalar statistic returned by :func:`sleep_statistics` (by key pattern).
STATISTIC_UNITS = {
    "n_epochs": "epochs",
    "epoch_seconds": "s",
    "TIB": "min",
    "SPT": "min",
    "TST": "min",
    "WASO": "min",
    "SOL": "min",
    "SE": "%",
    "SME": "%",
    "n_awakenings": "count",
    "n_transitions": "count",
}


def _check_epoch_seconds(epoch_seconds):
    if (
        isinstance(epoch_seconds, bool)
        or not isinstance(epoch_seconds, numbers.Real)
        or not np.isfinite(epoch_seconds)
        or epoch_seconds <= 0
    ):
        raise ValueError(f"epoch_seconds must be a positive number, got {epoch_seconds!r}.")
    return float(epoch_seconds)


def _resolve_stages(stages):
    if isinstance(stages, str):
        key = stages.lower()
        if key in ("aasm", "human"):
            return AASM_STAGES
        if key in ("mouse", "rodent"):
            return MOUSE_STAGES
        raise ValueError(f"stages must be 'aasm', 'mouse' or a sequence of names, got {stages!r}.")
    stages = tuple(str(s) for s in stages)
    if "W" not in stages:
        raise ValueError(f"stages must contain the wake stage 'W', got {list(stages)}.")
    if len(set(stages)) != len(stages):
        raise ValueError(f"stages contains duplicates: {list(stages)}.")
    return stages


def _codes(hypnogram, stages):
    hyp = np.asarray(hypnogram)
    if hyp.ndim != 1:
        raise ValueError(f"hypnogram must be 1-D (one stage per epoch), got shape {hyp.shape}.")
    if hyp.size == 0:
        raise ValueError("hypnogram is empty; at least one epoch is required.")
    if hyp.dtype.kind == "f":
        if not np.all(np.isfinite(hyp)) or not np.all(hyp == np.round(hyp)):
            raise ValueError(
                "hypnogram has non-integer or NaN float codes; give stage names or integer "
                f"codes 0..{len(stages) - 1} for {list(stages)}."
            )
        hyp = hyp.astype(int)
    return to_stage_codes(hyp, names=stages)


def _bouts(mask):
    """Return (start, stop) index pairs of the runs of True in a boolean array."""
    padded = np.concatenate([[False], mask, [False]]).astype(np.int8)
    edges = np.flatnonzero(np.diff(padded))
    return list(zip(edges[0::2], edges[1::2]))


def transition_matrix(hypnogram, *, stages=AASM_STAGES, normalize=False):
    """Counts (or probabilities) of stage transitions between consecutive epochs.

    Parameters
    ----------
    hypnogram : array-like of shape (n_epochs,)
        Stage names or integer codes (in the order of ``stages``).
    stages : sequence of str or {"aasm", "mouse"}, default=AASM_STAGES
        Stage vocabulary; defines the row/column order.
    normalize : bool, default=False
        If True, divide each row by its sum, giving the probability of the next stage
        given the current one (rows of stages never left stay all zero).

    Returns
    -------
    matrix : ndarray of shape (n_stages, n_stages)
        ``matrix[i, j]`` is the number of epochs in stage ``stages[i]`` followed by an
        epoch in ``stages[j]`` (the diagonal counts staying in the same stage).
    """
    stages = _resolve_stages(stages)
    codes = _codes(hypnogram, stages)
    k = len(stages)
    counts = np.zeros((k, k), dtype=np.int64)
    np.add.at(counts, (codes[:-1], codes[1:]), 1)
    if not normalize:
        return counts
    rows = counts.sum(axis=1, keepdims=True).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(rows > 0, counts / np.where(rows > 0, rows, 1.0), 0.0)


def sleep_statistics(hypnogram, *, epoch_seconds=30, stages=AASM_STAGES,
                     min_awakening_seconds=0.0):
    """Standard sleep statistics of one hypnogram (AASM definitions).

    Parameters
    ----------
    hypnogram : array-like of shape (n_epochs,)
        One stage per epoch: names (``'W', 'N1', 'N2', 'N3', 'REM'``; or ``'W', 'NREM',
        'REM'`` with ``stages="mouse"``; aliases such as ``'Wake'``, ``'S2'``, ``'R'``
        are accepted) or integer codes in the order of ``stages``. The record is assumed
        to start at lights-off. Unknown labels raise a ``ValueError`` listing them.
    epoch_seconds : float, default=30
        Epoch length in seconds (30 s for human AASM scoring; rodent scoring typically
        uses 1-10 s epochs).
    stages : sequence of str or {"aasm", "mouse"}, default=AASM_STAGES
        Stage vocabulary. Every stage except ``'W'`` counts as sleep.
    min_awakening_seconds : float, default=0.0
        Minimum duration of a wake bout inside the sleep period to count as an
        awakening. With the default every bout of one or more wake epochs counts; use
        e.g. ``60`` to count only awakenings of at least one minute.

    Returns
    -------
    stats : dict
        Plain Python values: ``n_epochs``, ``epoch_seconds``, ``TIB``, ``SPT``, ``TST``,
        ``WASO``, ``SOL``, ``SE``, ``SME``, ``Lat_<stage>`` and
        ``Lat_<stage>_from_start`` for every sleep stage, ``<stage>_min`` for every
        stage, ``<stage>_pct`` for every sleep stage, ``n_awakenings``,
        ``n_transitions``, ``stages`` (the vocabulary, a list) and
        ``transition_matrix`` (counts as a list of lists, rows = from, columns = to).
        Durations are in minutes, efficiencies and stage fractions in percent.
        Quantities that are undefined (e.g. latencies of absent stages, ``SOL``
        without sleep, percentages when ``TST == 0``) are ``nan``.
        The definitions are in the module docstring.

    See Also
    --------
    statistics_table : the statistics of several hypnograms as table rows.
    transition_matrix : counts or probabilities of stage transitions.

    References
    ----------
    .. [1] Berry RB et al. The AASM Manual for the Scoring of Sleep and Associated
           Events, v2. American Academy of Sleep Medicine, 2012.

    Examples
    --------
    >>> stats = sleep_statistics(["W", "W", "N1", "N2", "W", "N2", "REM", "W"])
    >>> stats["SOL"], stats["TST"], stats["WASO"], stats["Lat_REM"]
    (1.0, 2.0, 0.5, 2.0)
    """
    epoch_seconds = _check_epoch_seconds(epoch_seconds)
    if isinstance(min_awakening_seconds, bool) or not isinstance(
        min_awakening_seconds, numbers.Real
    ) or min_awakening_seconds < 0:
        raise ValueError(
            f"min_awakening_seconds must be a non-negative number, got {min_awakening_seconds!r}."
        )
    stages = _resolve_stages(stages)
    codes = _codes(hypnogram, stages)
    e = epoch_seconds / 60.0
    wake = stages.index("W")
    sleep_mask = codes != wake
    n = len(codes)
    nan = float("nan")

    stats = {"n_epochs": int(n), "epoch_seconds": epoch_seconds, "TIB": n * e}
    sleep_idx = np.flatnonzero(sleep_mask)
    if sleep_idx.size:
        onset, last = int(sleep_idx[0]), int(sleep_idx[-1])
        spt_epochs = last - onset + 1
        tst_epochs = int(sleep_mask.sum())
        stats["SPT"] = spt_epochs * e
        stats["TST"] = tst_epochs * e
        stats["WASO"] = (spt_epochs - tst_epochs) * e
        stats["SOL"] = onset * e
        stats["SE"] = 100.0 * tst_epochs / n
        stats["SME"] = 100.0 * tst_epochs / spt_epochs
    else:
        onset = last = None
        tst_epochs = 0
        stats.update(SPT=0.0, TST=0.0, WASO=0.0, SOL=nan, SE=0.0, SME=nan)

    for code, stage in enumerate(stages):
        if code == wake:
            continue
        where = np.flatnonzero(codes == code)
        if where.size:
            stats[f"Lat_{stage}"] = (int(where[0]) - onset) * e
            stats[f"Lat_{stage}_from_start"] = int(where[0]) * e
        else:
            stats[f"Lat_{stage}"] = nan
            stats[f"Lat_{stage}_from_start"] = nan

    for code, stage in enumerate(stages):
        count = int(np.sum(codes == code))
        stats[f"{stage}_min"] = count * e
    for code, stage in enumerate(stages):
        if code == wake:
            continue
        count = int(np.sum(codes == code))
        stats[f"{stage}_pct"] = 100.0 * count / tst_epochs if tst_epochs else nan

    n_awakenings = 0
    if onset is not None:
        inside = ~sleep_mask[onset:last + 1]
        for start, stop in _bouts(inside):
            if (stop - start) * epoch_seconds >= min_awakening_seconds:
                n_awakenings += 1
    stats["n_awakenings"] = n_awakenings
    stats["n_transitions"] = int(np.sum(codes[1:] != codes[:-1]))
    stats["stages"] = list(stages)
    stats["transition_matrix"] = transition_matrix(codes, stages=stages).tolist()
    return stats


def _unit(key):
    if key in STATISTIC_UNITS:
        return STATISTIC_UNITS[key]
    if key.startswith("Lat_") or key.endswith("_min"):
        return "min"
    if key.endswith("_pct"):
        return "%"
    return ""


def _is_scalar(value):
    return isinstance(value, (numbers.Number, str)) or value is None


def to_records(stats, *, recording=None):
    """Turn one statistics dict into tidy (long-format) rows.

    Parameters
    ----------
    stats : dict
        Output of :func:`sleep_statistics`. Non-scalar entries (``stages``,
        ``transition_matrix``) become one row per matrix cell, named
        ``transition_<from>_<to>``.
    recording : str or None, default=None
        Value of the ``recording`` column (omitted when None).

    Returns
    -------
    records : list of dict
        One dict per statistic with keys ``statistic``, ``value`` and ``unit`` (plus
        ``recording``). ``pd.DataFrame(records)`` gives a tidy table.
    """
    if not isinstance(stats, dict):
        raise ValueError(f"stats must be a dict from sleep_statistics, got {type(stats).__name__}.")
    rows = []

    def add(name, value, unit):
        row = {} if recording is None else {"recording": recording}
        row.update(statistic=name, value=value, unit=unit)
        rows.append(row)

    for key, value in stats.items():
        if key == "stages":
            continue
        if key == "transition_matrix":
            names = stats.get("stages")
            if names is None:
                raise ValueError("stats has a transition_matrix but no 'stages' entry.")
            for i, src in enumerate(names):
                for j, dst in enumerate(names):
                    add(f"transition_{src}_{dst}", int(value[i][j]), "count")
            continue
        if not _is_scalar(value):
            raise ValueError(f"Statistic {key!r} is not a scalar ({type(value).__name__}).")
        add(key, value, _unit(key))
    return rows


def statistics_table(hypnograms, *, epoch_seconds=30, stages=AASM_STAGES, names=None,
                     min_awakening_seconds=0.0, long=False):
    """Sleep statistics of several hypnograms as a list of row dicts.

    Parameters
    ----------
    hypnograms : sequence of array-like, or dict of name -> array-like
        One hypnogram per recording (a single 1-D hypnogram is also accepted).
    epoch_seconds : float, default=30
        Epoch length in seconds (the same for every hypnogram).
    stages : sequence of str or {"aasm", "mouse"}, default=AASM_STAGES
        Stage vocabulary.
    names : sequence of str or None, default=None
        Recording names; default: the dict keys, else ``"0", "1", ...``.
    min_awakening_seconds : float, default=0.0
        See :func:`sleep_statistics`.
    long : bool, default=False
        False: one row per recording (``recording`` column plus one column per scalar
        statistic; the transition matrix is left out, use :func:`transition_matrix`).
        True: the tidy long format of :func:`to_records` (one row per recording and
        statistic, with the transition counts).

    Returns
    -------
    records : list of dict
        Rows for ``pd.DataFrame(records)``.
    """
    if isinstance(hypnograms, dict):
        items = list(hypnograms.items())
        if names is not None:
            raise ValueError("Give names either as dict keys or with names=, not both.")
    else:
        if (isinstance(hypnograms, np.ndarray) and hypnograms.ndim == 1) or (
            len(hypnograms) and np.ndim(hypnograms[0]) == 0
        ):
            hypnograms = [hypnograms]
        if names is None:
            names = [str(i) for i in range(len(hypnograms))]
        names = list(names)
        if len(names) != len(hypnograms):
            raise ValueError(
                f"names has {len(names)} entries but there are {len(hypnograms)} hypnograms."
            )
        items = list(zip(names, hypnograms))
    if not items:
        raise ValueError("No hypnograms given.")
    rows = []
    for name, hyp in items:
        try:
            stats = sleep_statistics(
                hyp, epoch_seconds=epoch_seconds, stages=stages,
                min_awakening_seconds=min_awakening_seconds,
            )
        except ValueError as exc:
            raise ValueError(f"Hypnogram {name!r}: {exc}") from exc
        if long:
            rows.extend(to_records(stats, recording=name))
        else:
            row = {"recording": name}
            row.update({k: v for k, v in stats.items() if _is_scalar(v)})
            rows.append(row)
    return rows


# ----------------------------------------------------------------------------- CSV
_PROBA_PREFIX = "p_"


def write_hypnogram_csv(path, hypnogram, *, epoch_seconds=30, proba=None, classes=None,
                        start_s=0.0, overwrite=False):
    """Write a hypnogram (and optionally per-epoch probabilities) to a CSV file, atomically.

    Parameters
    ----------
    path : str or path-like
        Output file; written through a temporary file so that an interrupted run never
        leaves a partial CSV.
    hypnogram : array-like of shape (n_epochs,)
        Stage label of each epoch (written as given, e.g. ``'N2'``).
    epoch_seconds : float, default=30
        Epoch length; ``onset_s = start_s + epoch * epoch_seconds``.
    proba : array-like of shape (n_epochs, n_classes) or None, default=None
        Per-epoch probabilities (a hypnodensity), written as ``p_<class>`` columns.
    classes : sequence of str or None, default=None
        Class of each ``proba`` column (required with ``proba``).
    start_s : float, default=0.0
        Onset of the first epoch, in seconds from the record start.
    overwrite : bool, default=False
        Replace an existing file (MNE's convention: refused unless asked for).

    Raises
    ------
    FileExistsError
        If ``path`` exists and ``overwrite`` is False.

    Notes
    -----
    Columns: ``epoch`` (0-based index), ``onset_s``, ``stage`` and then ``p_<class>``
    for each class when ``proba`` is given. Probabilities use 6 decimals.
    """
    epoch_seconds = _check_epoch_seconds(epoch_seconds)
    check_outputs([("hypnogram CSV", path)], overwrite=overwrite)
    hyp = np.asarray(hypnogram)
    if hyp.ndim != 1 or hyp.size == 0:
        raise ValueError(f"hypnogram must be a non-empty 1-D array, got shape {hyp.shape}.")
    header = ["epoch", "onset_s", "stage"]
    if proba is not None:
        proba = np.asarray(proba, dtype=float)
        if classes is None:
            raise ValueError("classes is required with proba (the stage of each column).")
        classes = [str(c) for c in classes]
        if proba.shape != (len(hyp), len(classes)):
            raise ValueError(
                f"proba must have shape (n_epochs, n_classes) = ({len(hyp)}, {len(classes)}), "
                f"got {proba.shape}."
            )
        header += [f"{_PROBA_PREFIX}{c}" for c in classes]
    with atomic_write(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        for i, stage in enumerate(hyp.tolist()):
            onset = start_s + i * epoch_seconds
            row = [i, f"{onset:g}", stage]
            if proba is not None:
                row += [f"{p:.6f}" for p in proba[i]]
            writer.writerow(row)


def read_hypnogram_csv(path):
    """Read a hypnogram CSV written by :func:`write_hypnogram_csv` (or by hand).

    Parameters
    ----------
    path : str or path-like
        CSV file with a header row, UTF-8 (a byte-order mark is ignored) or, failing
        that, Latin-1. Required column: ``stage``. Optional: ``epoch``,
        ``onset_s`` (default ``epoch * epoch_seconds`` is not assumed: without
        ``onset_s`` the epoch length is unknown) and ``p_<class>`` probability columns.

    Returns
    -------
    hypnogram : Bunch
        ``stage`` (ndarray of str), ``onset_s`` (float ndarray or None), ``epoch``
        (int ndarray), ``epoch_seconds`` (float, inferred from regularly spaced
        ``onset_s``; None if it cannot be inferred), ``proba`` (ndarray or None) and
        ``classes`` (list of str or None).

    Raises
    ------
    ValueError
        Naming the file, for a missing ``stage`` column, an empty table, non-numeric
        onsets/probabilities, NaN/infinite onsets or duplicated onsets (with the count).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"Hypnogram file not found: {str(path)!r}.")
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")  # a byte-order mark (Excel's "CSV UTF-8") is dropped
    except UnicodeDecodeError:
        text = raw.decode("latin-1")  # every byte is a Latin-1 character; stages are ASCII
    if "\x00" in text:
        raise ValueError(f"{str(path)!r} is not a text CSV file (it contains NUL bytes).")
    reader = csv.DictReader(io.StringIO(text, newline=""))
    fields = [c.strip() for c in (reader.fieldnames or [])]
    rows = list(reader)
    if "stage" not in fields:
        raise ValueError(
            f"{str(path)!r} has no 'stage' column (columns: {fields}); expected "
            "epoch,onset_s,stage[,p_<stage>...]."
        )
    if not rows:
        raise ValueError(f"{str(path)!r} contains no epochs.")
    rows = [{(k or "").strip(): (v or "").strip() for k, v in r.items()} for r in rows]
    stage = np.asarray([r["stage"] for r in rows], dtype=object)
    missing = [i for i, s in enumerate(stage) if s == ""]
    if missing:
        raise ValueError(f"{str(path)!r}: empty stage in row(s) {missing[:10]}.")

    def numeric(column, cast):
        try:
            return np.asarray([cast(r[column]) for r in rows])
        except ValueError as exc:
            raise ValueError(f"{str(path)!r}: non-numeric value in column {column!r} ({exc}).") from exc

    epoch = numeric("epoch", int) if "epoch" in fields else np.arange(len(rows))
    onset = numeric("onset_s", float) if "onset_s" in fields else None
    if onset is not None:
        # every epoch is scored once: NaN/inf and duplicated onsets are refused
        bad = np.flatnonzero(~np.isfinite(onset))
        if bad.size:
            raise ValueError(f"{str(path)!r}: {bad.size} NaN or infinite onset_s value(s), "
                             f"first in data row {int(bad[0]) + 1}.")
        _, first, counts = np.unique(onset, return_index=True, return_counts=True)
        if (counts > 1).any():
            dup = int(np.argmax(counts > 1))
            raise ValueError(
                f"{str(path)!r}: duplicated onset_s {onset[first[dup]]:g} s "
                f"({int((counts - 1).sum())} duplicated row(s)); each epoch must be scored "
                "once.")
    epoch_seconds = None
    if onset is not None and len(onset) >= 2:
        steps = np.diff(onset)
        if np.all(steps > 0) and np.allclose(steps, steps[0], rtol=0, atol=1e-6):
            epoch_seconds = float(steps[0])
    classes = [c[len(_PROBA_PREFIX):] for c in fields if c.startswith(_PROBA_PREFIX)]
    proba = None
    if classes:
        proba = np.column_stack([numeric(_PROBA_PREFIX + c, float) for c in classes])
    return Bunch(
        stage=stage.astype(str), onset_s=onset, epoch=epoch, epoch_seconds=epoch_seconds,
        proba=proba, classes=classes or None,
    )
