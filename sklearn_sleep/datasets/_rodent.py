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
from pathlib import Path

import numpy as np
from sklearn.utils import Bunch

from ._edf_io import to_microvolts_factor
from ._validation import check_finite_samples, check_time_stamps

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


def _stamp_seconds(stamps, linenos, path):
    """Seconds of ``[dd/mm/yyyy] hh:mm:ss[.fff]`` stamps, each one parsed.

    Stamps without a date are unwrapped across midnight (a backwards step of more
    than 12 h is taken as a new day).
    """
    out = np.empty(len(stamps))
    days = {}
    has_date = False
    for i, (text, lineno) in enumerate(zip(stamps, linenos)):
        parts = text.split()
        try:
            if len(parts) == 2:
                has_date = True
                day = days.get(parts[0])
                if day is None:
                    day = days[parts[0]] = datetime.datetime.strptime(
                        parts[0], "%d/%m/%Y").toordinal()
                    days.setdefault("first", day)
                day = day - days["first"]  # small numbers keep sub-ms precision
                clock = parts[1]
            elif len(parts) == 1:
                day, clock = 0, parts[0]
            else:
                raise ValueError(text)
            hh, mm, ss = clock.split(":")
            hh, mm, ss = int(hh), int(mm), float(ss)
            # some exporters write seconds >= 60 without carrying into the minutes
            # ('09:41:61.002' in aipost/demo_eeg.txt): the arithmetic value is used
            if not (0 <= hh < 24 and mm >= 0 and ss >= 0):
                raise ValueError(text)
        except ValueError:
            raise ValueError(
                f"{path}: cannot parse time stamp {text!r} on line {lineno}; expected "
                "[dd/mm/yyyy] hh:mm:ss[.fff], or pass sfreq=<Hz>."
            ) from None
        out[i] = day * 86400.0 + hh * 3600 + mm * 60 + ss
    if not has_date and len(out) > 1:
        steps = np.diff(out)
        wraps = steps < -43200.0
        out[1:] += 86400.0 * np.cumsum(wraps)
    return out


def read_sleepsign_signals(path, *, sfreq=None, ch_names=None):
    """Read a SleepSign raw-signal text export.

    Parameters
    ----------
    path : str or Path
        Export with a ``Time,<unit>,<unit>,...`` header row.
    sfreq : float or None
        Sampling rate. ``None`` estimates it from the (millisecond-rounded) time stamps
        as ``(n_samples - 1) / (t_last - t_first)``, rounded to the nearest integer
        when the integer rate also fits every stamp. Given or estimated, **every** time
        stamp is checked against the rate
        (:func:`sklearn_sleep.datasets._validation.check_time_stamps`): a duplicated
        row, time going backwards, a gap or a stamp further than the stamp resolution
        (1 ms) from its sample time raises, naming the line.
    ch_names : sequence of str or None
        Names for the channels (the export has none; default ``'ch1'``, ``'ch2'``...).

    Returns
    -------
    data : Bunch
        ``signals`` float64 (n_channels, n_samples), in microvolts for voltage channels
        (``V`` and ``mV`` are converted), ``ch_names``, ``units`` (output units),
        ``orig_units``, ``sfreq``, ``start`` (:class:`datetime.datetime` of the first
        sample), ``metadata`` (dict of the header lines).

    Raises
    ------
    FileNotFoundError
        If ``path`` is not a file.
    ValueError
        Naming the file (and the line where it applies): no ``Time`` header row, no
        sample, a row without a time stamp, a row with more or fewer values than the
        header has unit columns (the trailing ``,`` of every row is ignored), a
        non-numeric, NaN or infinite sample value (count and first line), an unparsable
        time stamp, time stamps that are not evenly spaced at the rate (duplicated
        rows, time going backwards, gaps; the first offending line is named), or, with
        ``sfreq=None``, a single sample or time stamps that do not increase. Blank
        lines are skipped.
    """
    path, rows = _read_rows(path)
    head = [i for i, r in enumerate(rows) if r and r[0].strip() == "Time"]
    if not head:
        raise ValueError(f"{path}: no 'Time,...' header row; not a SleepSign signal export.")
    h = head[0]
    units = [u.strip() for u in rows[h][1:] if u.strip()]
    if not units:
        raise ValueError(f"{path}: the 'Time' header row lists no channel.")
    n_ch = len(units)
    stamps, rows_values, linenos = [], [], []
    for lineno, r in enumerate(rows[h + 1:], start=h + 2):
        if not any(f.strip() for f in r):
            continue  # blank line
        stamp = r[0].strip()
        fields = r[1:]
        while fields and not fields[-1].strip():  # each row ends with a ','
            fields = fields[:-1]
        if not stamp:
            raise ValueError(f"{path}: line {lineno} has sample values but no time stamp; "
                             "the file is corrupt or was edited.")
        if len(fields) != n_ch:
            raise ValueError(
                f"{path}: line {lineno} has {len(fields)} value(s) but the 'Time' header "
                f"row lists {n_ch} channels ({','.join(units)})."
            )
        try:
            rows_values.append([float(v) for v in fields])
        except ValueError as exc:
            raise ValueError(
                f"{path}: non-numeric sample value on line {lineno}: {exc}"
            ) from exc
        stamps.append(stamp)
        linenos.append(lineno)
    if not rows_values:
        raise ValueError(f"{path}: no sample after the header (empty recording).")
    values = np.asarray(rows_values, dtype=float)
    check_finite_samples(values, path, positions=linenos)
    start = _parse_time(stamps[0], path)
    # every step is checked (gaps, duplicated rows, time going backwards, drift)
    seconds = _stamp_seconds([" ".join(t.split()) for t in stamps], linenos, path)
    sfreq = check_time_stamps(seconds, stamps, linenos, path, sfreq=sfreq)
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

    Raises
    ------
    FileNotFoundError
        If ``path`` is not a file.
    ValueError
        Naming the file (and the line where it applies): no ``Time,Epoch No.,Stage``
        header row, no epoch, a row with fewer than 3 fields or without a time stamp,
        an unknown stage code, a non-integer epoch number, a gap (or a step other
        than +1) in the epoch numbers, a non-numeric feature value (empty cells are
        NaN), an unparsable time stamp, or epoch time stamps that are not evenly
        spaced (duplicated, backwards, gap or irregular step; every step is checked
        and the first offending line is named). Blank lines and the units row right after
        the header are skipped.
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
    body, linenos = [], []
    for k, r in enumerate(rows[h + 1:]):
        lineno = h + 2 + k
        if not any(f.strip() for f in r):
            continue  # blank line
        if k == 0 and not any(f.strip() for f in r[:3]):
            continue  # units row (',,,%,%,uV^2,...') right after the header
        if len(r) < 3:
            raise ValueError(
                f"{path}: line {lineno} has {len(r)} field(s) {','.join(r)!r}; every epoch "
                "row needs at least the Time, Epoch No. and Stage columns."
            )
        if not r[0].strip():
            raise ValueError(f"{path}: line {lineno} has no time stamp (Time column empty).")
        body.append(r)
        linenos.append(lineno)
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
    epoch_numbers = np.empty(len(body), dtype=int)
    for i, (r, lineno) in enumerate(zip(body, linenos)):
        try:
            epoch_numbers[i] = int(r[1])
        except ValueError as exc:
            raise ValueError(
                f"{path}: non-integer epoch number on line {lineno}: {exc}") from exc
    jumps = np.flatnonzero(np.diff(epoch_numbers) != 1)
    if jumps.size:
        i = jumps[0]
        a, b = int(epoch_numbers[i]), int(epoch_numbers[i + 1])
        detail = (f"epoch {a + 1} missing" if b == a + 2 else
                  f"epochs {a + 1} to {b - 1} missing" if b > a + 2 else
                  "epoch numbers must increase by 1")
        raise ValueError(
            f"{path}: gap in the epoch numbers on line {linenos[i + 1]}: epoch {a} is "
            f"followed by epoch {b} ({detail}; {jumps.size} such place(s) in the file). "
            "The labels would be misaligned with the signal."
        )
    times = [_parse_time(r[0], path) for r in body]
    if len(times) > 1:
        # every step is checked: duplicated rows, time going backwards, gaps or
        # irregular epoch lengths raise, naming the line (never a silent median)
        stamps = [" ".join(r[0].split()) for r in body]
        seconds = _stamp_seconds(stamps, linenos, path)
        rate = check_time_stamps(seconds, stamps, linenos, path)
        epoch_seconds = 1.0 / rate
        if abs(epoch_seconds - round(epoch_seconds, 3)) < 1e-9:
            epoch_seconds = round(epoch_seconds, 3)
    else:
        epoch_seconds = float("nan")
    feature_names = [n for n in names[3:] if n]
    feats = np.full((len(body), len(feature_names)), np.nan)
    for i, (r, lineno) in enumerate(zip(body, linenos)):
        for j in range(len(feature_names)):
            v = r[3 + j].strip() if 3 + j < len(r) else ""
            if v:
                try:
                    feats[i, j] = float(v)
                except ValueError:
                    raise ValueError(
                        f"{path}: non-numeric value {v!r} in column {feature_names[j]!r} on "
                        f"line {lineno}; feature cells must be numbers or empty (NaN)."
                    ) from None
    return Bunch(labels=labels, raw_labels=raw, artifact=artifact, epoch_numbers=epoch_numbers,
                 epoch_seconds=epoch_seconds, times=times, features=feats,
                 feature_names=feature_names, metadata=_metadata(rows, h))


def read_timestamped_text(path, *, ch_names=None, sfreq=None, delimiter="\t"):
    """Read a headerless ``time<TAB>value<TAB>value...`` export (e.g. ``aipost/demo_eeg.txt``).

    The first column is a clock time ``hh:mm:ss.ffff``; the rate is estimated from it
    like :func:`read_sleepsign_signals`. Values are returned as stored (the file gives
    no unit). Returns ``Bunch(signals, ch_names, sfreq, start)``.

    The file is read as Latin-1 text. Each line is stripped and split on ``delimiter``;
    blank lines are skipped, every other line is one sample: a time stamp followed by
    one value per channel (a line with a time stamp but no value raises).

    Parameters
    ----------
    path : str or Path
        Text export without a header line.
    ch_names : sequence of str or None, default=None
        Channel names, one per value column (a different count raises); default
        ``'ch1'``, ``'ch2'``...
    sfreq : float or None, default=None
        Sampling rate in Hz. ``None`` estimates it from the ``hh:mm:ss[.fff]`` stamps
        (unwrapped across midnight) as ``(n_samples - 1) / (t_last - t_first)``,
        rounded to the nearest integer when the integer rate also fits every stamp;
        this needs at least two samples and a last stamp later than the first.
        Given or estimated, every stamp is checked against the rate (duplicated rows,
        time going backwards, gaps and drift beyond the stamp resolution raise,
        naming the line); with ``sfreq`` given, stamps that cannot be parsed are
        not checked.
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
        Naming the file (and the line where it applies): a value is not numeric, a
        line has a time stamp but no value, there is no sample, rows have different
        numbers of values, NaN or infinite values (count and first line), time stamps
        not evenly spaced at the rate (the first offending line is named), or
        ``ch_names`` does not have one name per value column; with ``sfreq=None``
        also a time stamp that is not ``hh:mm:ss[.fff]``, a single sample, or a last
        time stamp that is not later than the first (the rate cannot be estimated:
        pass ``sfreq=``).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"File not found: {path}")
    stamps, values, linenos = [], [], []
    with open(path, encoding="latin-1") as fid:
        for lineno, line in enumerate(fid, start=1):
            if not line.strip():
                continue  # blank line
            fields = line.strip().split(delimiter)
            if len(fields) < 2:
                raise ValueError(
                    f"{path}: line {lineno} has a time stamp but no value ({line.strip()!r}); "
                    f"expected a time stamp followed by values, separated by {delimiter!r}."
                )
            stamps.append(fields[0])
            linenos.append(lineno)
            try:
                values.append([float(v) for v in fields[1:]])
            except ValueError as exc:
                raise ValueError(f"{path}: non-numeric value on line {line!r}: {exc}") from exc
    if not values:
        raise ValueError(f"{path}: no data (empty recording).")
    lengths = {len(v) for v in values}
    if len(lengths) != 1:
        raise ValueError(f"{path}: rows have different numbers of values {sorted(lengths)}.")
    values = np.asarray(values, dtype=float)
    check_finite_samples(values, path, positions=linenos)
    signals = values.T
    if sfreq is None:
        seconds = _stamp_seconds(stamps, linenos, path)
    else:
        try:  # with sfreq given, parsable stamps are still checked against it
            seconds = _stamp_seconds(stamps, linenos, path)
        except ValueError:
            seconds = None
    if seconds is not None:
        sfreq = check_time_stamps(seconds, stamps, linenos, path, sfreq=sfreq)
    if ch_names is None:
        ch_names = [f"ch{i + 1}" for i in range(signals.shape[0])]
    if len(ch_names) != signals.shape[0]:
        raise ValueError(f"{path}: {len(ch_names)} ch_names for {signals.shape[0]} value "
                         "column(s).")
    return Bunch(signals=signals, ch_names=list(ch_names), sfreq=float(sfreq), start=stamps[0])
