"""Readers for rodent sleep recordings exported as text by Kissei Comtec SleepSign.

SleepSign exports two CSV-like text files (CRLF line ends) that share a metadata
header (``File name,...``, ``Subject,...``, ``Free comment N,...``, blank lines):

* the raw signal export: a ``Time,uV,uV,uV,V,`` row (one unit per channel; the
  export carries no channel names), then one row per sample
  ``dd/mm/yyyy  hh:mm:ss.fff,v1,v2,...`` (time stamps rounded to the millisecond;
  the rate, 128 Hz in ``mouse_sample/Raw/sample.txt``, is estimated from them);
* the stage ("Judge") export: a ``Time,Epoch No.,Stage,<features>...`` row, a units
  row, then one row per epoch (10 s in ``mouse_sample/Judge``).

Stage vocabulary. The three Judge files of ``shared/data/mouse_sample`` contain only
``W``, ``W*``, ``RW`` and ``RW*``. A trailing ``*`` is SleepSign's artifact flag on
an epoch; it is stripped into the ``artifact`` boolean array. ``RW`` epochs alternate
freely with ``W`` epochs (``W RW W W RW RW ...``), are never preceded by NREM and
make up 13-minute runs, so they cannot be REM; they have the same EMG integral as
``W`` but a higher theta ratio (e.g. 33.8 vs 27.9 % in D1798), i.e. active/theta-rich
wake. They are therefore mapped to ``'W'`` (the raw code is kept in ``raw_labels``).
The default map (:data:`SLEEPSIGN_STAGE_MAP`) is ``W, RW, AW, WA -> 'W'``,
``NR, NREM, S, SWS -> 'NREM'``, ``R, REM, P, PS -> 'REM'`` (case-insensitive after
stripping ``*``); any other code raises a ``ValueError`` naming it (pass
``stage_map=`` to extend). Stage names follow the rodent convention of
:data:`~sklearn_sleep.utils._stages.MOUSE_STAGES` [1]_.

References
----------
.. [1] Kissei Comtec Co., Ltd. SleepSign for Animal - sleep stage analysis software,
       user manual (export formats), Matsumoto, Japan.
"""

import csv
import datetime
import warnings
from pathlib import Path

import numpy as np
from sklearn.utils import Bunch

from ._edf_io import to_microvolts_factor

__all__ = ["read_sleepsign_signals", "read_sleepsign_hypnogram", "read_timestamped_text",
           "SLEEPSIGN_STAGE_MAP"]

#: SleepSign stage code (upper case, without the '*' artifact flag) -> rodent stage.
SLEEPSIGN_STAGE_MAP = {
    "W": "W", "RW": "W", "AW": "W", "WA": "W",
    "NR": "NREM", "NREM": "NREM", "S": "NREM", "SWS": "NREM",
    "R": "REM", "REM": "REM", "P": "REM", "PS": "REM",
}


def _read_rows(path):
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"SleepSign export not found: {path}")
    with open(path, newline="", encoding="latin-1") as fid:
        rows = list(csv.reader(fid))
    if not rows:
        raise ValueError(f"{path}: empty file.")
    return path, rows


def _metadata(rows, stop):
    meta = {}
    for r in rows[:stop]:
        if r and r[0].strip():
            meta[r[0].strip()] = ",".join(v.strip() for v in r[1:]).strip(",")
    return meta


def _parse_time(text, path):
    text = " ".join(text.split())
    for fmt in ("%d/%m/%Y %H:%M:%S.%f", "%d/%m/%Y %H:%M:%S", "%H:%M:%S.%f", "%H:%M:%S"):
        try:
            return datetime.datetime.strptime(text, fmt)
        except ValueError:
            continue
    raise ValueError(f"{path}: cannot parse time stamp {text!r}.")


def read_sleepsign_signals(path, *, sfreq=None, ch_names=None):
    """Read a SleepSign raw-signal text export.

    Parameters
    ----------
    path : str or Path
        Export with a ``Time,<unit>,<unit>,...`` header row.
    sfreq : float or None
        Sampling rate. ``None`` estimates it from the (millisecond-rounded) time stamps
        as ``(n_samples - 1) / (t_last - t_first)``, rounded to the nearest integer
        when within 0.5 % of it.
    ch_names : sequence of str or None
        Names for the channels (the export has none; default ``'ch1'``, ``'ch2'``...).

    Returns
    -------
    data : Bunch
        ``signals`` float64 (n_channels, n_samples), in microvolts for voltage channels
        (``V`` and ``mV`` are converted), ``ch_names``, ``units`` (output units),
        ``orig_units``, ``sfreq``, ``start`` (:class:`datetime.datetime` of the first
        sample), ``metadata`` (dict of the header lines).
    """
    path, rows = _read_rows(path)
    head = [i for i, r in enumerate(rows) if r and r[0].strip() == "Time"]
    if not head:
        raise ValueError(f"{path}: no 'Time,...' header row; not a SleepSign signal export.")
    h = head[0]
    units = [u.strip() for u in rows[h][1:] if u.strip()]
    if not units:
        raise ValueError(f"{path}: the 'Time' header row lists no channel.")
    body = [r for r in rows[h + 1:] if r and r[0].strip()]
    if not body:
        raise ValueError(f"{path}: no sample after the header (empty recording).")
    n_ch = len(units)
    try:
        values = np.asarray([[float(v) for v in r[1:1 + n_ch]] for r in body], dtype=float)
    except ValueError as exc:
        raise ValueError(f"{path}: non-numeric sample value: {exc}") from exc
    if values.ndim != 2 or values.shape[1] != n_ch:
        raise ValueError(f"{path}: rows do not all have {n_ch} values.")
    stamps = [r[0] for r in body]
    start = _parse_time(stamps[0], path)
    if sfreq is None:
        if len(body) < 2:
            raise ValueError(f"{path}: a single sample; pass sfreq=.")
        span = (_parse_time(stamps[-1], path) - start).total_seconds()
        if span <= 0:
            raise ValueError(f"{path}: time stamps do not increase; pass sfreq=.")
        est = (len(body) - 1) / span
        sfreq = float(round(est)) if abs(est - round(est)) <= 0.005 * est else float(est)
    signals = values.T.copy()
    out_units = []
    for i, u in enumerate(units):
        f = to_microvolts_factor(u)
        if f is None:
            out_units.append(u)
        else:
            signals[i] *= f
            out_units.append("uV")
    if ch_names is None:
        ch_names = [f"ch{i + 1}" for i in range(n_ch)]
    if len(ch_names) != n_ch:
        raise ValueError(f"{len(ch_names)} ch_names for {n_ch} channels in {path}.")
    return Bunch(signals=signals, ch_names=list(ch_names), units=out_units, orig_units=units,
                 sfreq=float(sfreq), start=start, metadata=_metadata(rows, h))


def read_sleepsign_hypnogram(path, *, stage_map=None):
    """Read a SleepSign stage ("Judge") text export.

    Parameters
    ----------
    path : str or Path
        Export with a ``Time,Epoch No.,Stage,...`` header row.
    stage_map : dict or None
        Code (upper case, without ``*``) -> stage; default
        :data:`SLEEPSIGN_STAGE_MAP`. Unknown codes raise a ``ValueError``.

    Returns
    -------
    data : Bunch
        ``labels`` (object array of 'W'/'NREM'/'REM'), ``raw_labels`` (codes as
        exported), ``artifact`` (bool, ``*``-flagged epochs), ``epoch_numbers``,
        ``epoch_seconds`` (from the time stamps), ``times`` (datetime per epoch),
        ``features`` (float array of the extra columns, NaN where empty),
        ``feature_names``, ``metadata``.
    """
    stage_map = SLEEPSIGN_STAGE_MAP if stage_map is None else {
        str(k).upper(): v for k, v in stage_map.items()}
    path, rows = _read_rows(path)
    head = [i for i, r in enumerate(rows) if len(r) >= 3 and r[0].strip() == "Time"
            and r[2].strip() == "Stage"]
    if not head:
        raise ValueError(f"{path}: no 'Time,Epoch No.,Stage' header row; not a SleepSign "
                         "stage export.")
    h = head[0]
    names = [c.strip() for c in rows[h]]
    body = []
    for r in rows[h + 1:]:
        if not r or not r[0].strip():
            continue  # units row starts with an empty field
        body.append(r)
    if not body:
        raise ValueError(f"{path}: no epoch after the header (empty hypnogram).")
    raw = np.asarray([r[2].strip() for r in body], dtype=object)
    artifact = np.asarray([c.endswith("*") for c in raw])
    codes = [c.rstrip("*").strip().upper() for c in raw]
    unknown = sorted({c for c in codes if c not in stage_map})
    if unknown:
        raise ValueError(f"{path}: unknown SleepSign stage code(s) {unknown}; known codes are "
                         f"{sorted(stage_map)} (a trailing '*' marks artifacts). Pass "
                         "stage_map= to map them.")
    labels = np.asarray([stage_map[c] for c in codes], dtype=object)
    try:
        epoch_numbers = np.asarray([int(r[1]) for r in body])
    except ValueError as exc:
        raise ValueError(f"{path}: non-integer epoch number: {exc}") from exc
    times = [_parse_time(r[0], path) for r in body]
    if len(times) > 1:
        steps = np.diff([t.timestamp() for t in times]) / np.maximum(np.diff(epoch_numbers), 1)
        epoch_seconds = float(np.median(steps))
        if np.any(np.abs(steps - epoch_seconds) > 1e-6):
            warnings.warn(f"{path}: irregular epoch time stamps (steps {np.unique(steps)} s); "
                          f"epoch_seconds set to the median {epoch_seconds:g} s.", UserWarning,
                          stacklevel=2)
    else:
        epoch_seconds = float("nan")
    feature_names = [n for n in names[3:] if n]
    feats = np.full((len(body), len(feature_names)), np.nan)
    for i, r in enumerate(body):
        for j in range(len(feature_names)):
            v = r[3 + j].strip() if 3 + j < len(r) else ""
            if v:
                try:
                    feats[i, j] = float(v)
                except ValueError:
                    pass
    return Bunch(labels=labels, raw_labels=raw, artifact=artifact, epoch_numbers=epoch_numbers,
                 epoch_seconds=epoch_seconds, times=times, features=feats,
                 feature_names=feature_names, metadata=_metadata(rows, h))


def read_timestamped_text(path, *, ch_names=None, sfreq=None, delimiter="\t"):
    """Read a headerless ``time<TAB>value<TAB>value...`` export (e.g. ``aipost/demo_eeg.txt``).

    The first column is a clock time ``hh:mm:ss.ffff``; the rate is estimated from it
    like :func:`read_sleepsign_signals`. Values are returned as stored (the file gives
    no unit). Returns ``Bunch(signals, ch_names, sfreq, start)``.

    The file is read as Latin-1 text. Each line is stripped and split on ``delimiter``;
    lines with fewer than two fields (e.g. blank lines) are skipped, every other line
    is one sample: a time stamp followed by one value per channel.

    Parameters
    ----------
    path : str or Path
        Text export without a header line.
    ch_names : sequence of str or None, default=None
        Channel names, one per value column (the count is not checked); default
        ``'ch1'``, ``'ch2'``...
    sfreq : float or None, default=None
        Sampling rate in Hz; when given, the time stamps are not parsed. ``None``
        estimates it from the ``hh:mm:ss[.fff]`` stamps (unwrapped across midnight)
        as ``(n_samples - 1) / (t_last - t_first)``, rounded to the nearest integer
        when within 0.5 % of it; this needs at least two samples with increasing
        stamps.
    delimiter : str, default="\\t"
        Field separator.

    Returns
    -------
    data : Bunch
        ``signals`` float64 (n_channels, n_samples) as stored, ``ch_names`` (list),
        ``sfreq`` (float) and ``start`` (the first time stamp, as written in the
        file).

    Raises
    ------
    FileNotFoundError
        If ``path`` is not a file.
    ValueError
        If a value is not numeric, if there is no sample, or if rows have different
        numbers of values; with ``sfreq=None`` also for a time stamp that is not
        ``hh:mm:ss[.fff]`` or a single sample (the rate cannot be estimated).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"File not found: {path}")
    stamps, values = [], []
    with open(path, encoding="latin-1") as fid:
        for line in fid:
            fields = line.strip().split(delimiter)
            if len(fields) < 2:
                continue
            stamps.append(fields[0])
            try:
                values.append([float(v) for v in fields[1:]])
            except ValueError as exc:
                raise ValueError(f"{path}: non-numeric value on line {line!r}: {exc}") from exc
    if not values:
        raise ValueError(f"{path}: no data (empty recording).")
    lengths = {len(v) for v in values}
    if len(lengths) != 1:
        raise ValueError(f"{path}: rows have different numbers of values {sorted(lengths)}.")
    signals = np.asarray(values, dtype=float).T
    if sfreq is None:
        sec = []
        for s in stamps:
            hh, mm, ss = s.split(":")
            sec.append(int(hh) * 3600 + int(mm) * 60 + float(ss))
        sec = np.unwrap(np.asarray(sec), period=86400.0)
        est = (len(sec) - 1) / (sec[-1] - sec[0])
        sfreq = float(round(est)) if abs(est - round(est)) <= 0.005 * est else float(est)
    if ch_names is None:
        ch_names = [f"ch{i + 1}" for i in range(signals.shape[0])]
    return Bunch(signals=signals, ch_names=list(ch_names), sfreq=float(sfreq), start=stamps[0])
