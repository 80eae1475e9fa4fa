"""DREAMS sleep-spindle database excerpts as 30-s AASM epochs.

The DREAMS Sleep Spindles database [1]_ holds 30-min excerpts of central EEG, each
from a different subject: ``excerptN.txt`` is a header line naming the channel
(``[C3-A1]`` or ``[CZ-A1]``) followed by one sample (microvolts) per line, and
``Hypnogram_excerptN.txt`` is ``[Hypnogram]`` followed by one R&K code per 5 s.

Facts checked on the files of ``shared/data/dreams`` (see ``tests/test_loaders.py``):

* sampling rates, derived as ``n_samples // (5 s * n_hypnogram_codes)`` (1800 s):
  excerpt1 100 Hz, excerpt2 200 Hz, excerpt3 50 Hz, excerpts 4-6 200 Hz;
* ``excerpt6.txt`` has 360 140 samples, i.e. 140 samples (0.7 s) more than 1800 s at
  200 Hz. There is no time stamp to tell where they come from; the loader assumes the
  signal and the hypnogram start together (as for every other excerpt) and drops the
  140 trailing samples **with a warning giving the count**;
* codes (``DREAMS_RK_MAP``: 5=W, 4=REM, 3=S1, 2=S2, 1=S3, 0=S4): no excerpt contains
  code 4 (REM). The coding was confirmed on the data: in every excerpt the relative
  0.5-2 Hz (delta) power of the C3/Cz EEG is highest for codes 0/1 (S4/S3) and lowest
  for codes 5/3 (W/S1); and the ``hypnogram`` channel of ``excerpt3.edf`` equals the
  text hypnogram;
* ``excerpt3.edf`` is the full PSG of excerpt 3: 15 channels at 50 Hz and 5 at 1 Hz
  (``hypnogram``, event channels). Its ``C3-A1`` equals ``excerpt3.txt`` to within
  the 16-bit quantisation (5e-5 uV). Its header writes microvolts as ``"UV"``.

Aggregation of the 5-s codes into ``epoch_seconds`` epochs (30 s = 6 codes): codes
are first mapped to AASM (S3+S4 -> N3); an epoch containing an unknown/movement code
(-1, -2, -3) is excluded and counted (``n_excluded``); otherwise it takes the majority
stage, ties going to the tied stage that occurs first in the epoch (``n_ties``
counts how often that rule was needed). Codes outside ``DREAMS_RK_MAP`` raise.

References
----------
.. [1] Devuyst S, Dutoit T, Stenuit P, Kerkhofs M. Automatic sleep spindles detection -
       overview and development of a standard proposal assessment method. Conf Proc
       IEEE Eng Med Biol Soc. 2011:1713-1716. doi:10.1109/IEMBS.2011.6090491
"""

import os
import re
import warnings
from pathlib import Path

import numpy as np
from sklearn.utils import Bunch

from ..utils._stages import DREAMS_RK_MAP, EXCLUDED
from ._edf_io import read_edf_signals, resample_signal
from ._validation import check_finite_samples

__all__ = ["load_dreams", "read_dreams_hypnogram", "aggregate_labels"]

#: Duration of one DREAMS hypnogram code, seconds.
DREAMS_CODE_SECONDS = 5.0


def _default_path():
    env = os.environ.get("SKLEARN_SLEEP_SHARED_DATA")
    candidates = []
    if env:
        candidates.append(Path(env) / "dreams")
    candidates.append(Path(__file__).resolve().parents[3] / "shared" / "data" / "dreams")
    for c in candidates:
        if c.is_dir():
            return c
    raise FileNotFoundError(
        f"DREAMS folder not found (looked in {[str(c) for c in candidates]}); pass path= or set "
        "SKLEARN_SLEEP_SHARED_DATA."
    )


def _read_text_column(path):
    with open(path, encoding="latin-1") as fid:
        text = fid.read()
    header, _, body = text.partition("\n")
    header = header.strip()
    m = re.fullmatch(r"\[(.*)\]", header)
    if m is None:
        raise ValueError(f"{path}: expected a '[name]' header line, found {header[:40]!r}.")
    try:
        values = np.asarray(body.split(), dtype=float)
    except ValueError as exc:
        raise ValueError(f"{path}: non-numeric value in the data: {exc}") from exc
    if values.size == 0:
        raise ValueError(f"{path}: no data after the header (empty recording).")
    if not np.isfinite(values).all():
        # same rule as every loader: refused with the count and the first line
        lines = body.splitlines()
        counts = [len(line.split()) for line in lines]
        rows = np.repeat(np.arange(len(lines)) + 2, counts)  # line 1 is the header
        check_finite_samples(values, path, positions=rows)
    return m.group(1).strip(), values


def read_dreams_hypnogram(path):
    """Integer R&K codes (one per 5 s) of a ``Hypnogram_excerptN.txt`` file.

    The file is read as Latin-1 text: a first line ``[name]`` (any name, normally
    ``[Hypnogram]``), then whitespace-separated numbers. The codes are returned as
    stored; they are not checked against :data:`DREAMS_RK_MAP` here
    (:func:`aggregate_labels` does that).

    Parameters
    ----------
    path : str or Path
        ``Hypnogram_excerptN.txt`` file of the DREAMS database.

    Returns
    -------
    codes : ndarray of int of shape (n_codes,)
        One R&K code per 5 s, in file order (5=W, 4=REM, 3=S1, 2=S2, 1=S3, 0=S4,
        negative = unknown/movement).

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        If the first line is not a ``[name]`` header, if a value is not numeric or
        not a whole number, or if there is no value after the header.
    """
    name, values = _read_text_column(path)
    if not np.all(values == np.round(values)):
        raise ValueError(f"{path}: hypnogram codes must be integers.")
    return values.astype(int)


def aggregate_labels(codes, codes_per_epoch, *, code_map=DREAMS_RK_MAP, where="hypnogram"):
    """Aggregate sub-epoch codes into epoch stage names.

    Returns ``(labels, keep, n_ties, n_dropped_codes)``: ``labels`` has one stage per
    whole epoch (``EXCLUDED`` for epochs containing an excluded code), ``keep`` marks
    usable epochs. Majority vote; ties go to the tied stage occurring first.

    The codes are cut into consecutive groups of ``codes_per_epoch`` and each code is
    mapped through ``code_map``. An epoch containing at least one code mapped to
    ``EXCLUDED`` is labelled ``EXCLUDED``, whatever its other codes; otherwise it takes
    the most frequent stage, and when several stages tie, the one whose first
    occurrence comes earliest in the epoch.

    Parameters
    ----------
    codes : array-like of shape (n_codes,)
        Sub-epoch codes, e.g. the 5-s DREAMS codes of :func:`read_dreams_hypnogram`.
    codes_per_epoch : int
        Number of codes per epoch (6 for 30-s epochs of 5-s codes); must be at least 1.
        Trailing codes that do not fill a whole epoch are dropped and counted.
    code_map : dict, default=DREAMS_RK_MAP
        Code -> stage name, or ``EXCLUDED`` for codes whose epochs must be removed.
        The default maps the DREAMS R&K codes to AASM stages (S3 and S4 -> N3;
        -1/-2/-3 -> ``EXCLUDED``).
    where : str, default="hypnogram"
        Prefix of the error message (e.g. the hypnogram's file name).

    Returns
    -------
    labels : ndarray of object of shape (n_codes // codes_per_epoch,)
        Stage name of each whole epoch, or ``EXCLUDED``.
    keep : ndarray of bool of shape (n_codes // codes_per_epoch,)
        ``labels != EXCLUDED``.
    n_ties : int
        Number of epochs whose majority vote was tied.
    n_dropped_codes : int
        Number of trailing codes left out (``n_codes % codes_per_epoch``).

    Raises
    ------
    ValueError
        If a code is not a key of ``code_map``; the message lists the unknown codes and
        the known ones.
    """
    codes = np.asarray(codes)
    unknown = sorted(set(codes.tolist()) - set(code_map))
    if unknown:
        raise ValueError(f"{where}: unknown hypnogram code(s) {unknown}; known codes are "
                         f"{sorted(code_map)}.")
    n_epochs = len(codes) // codes_per_epoch
    n_dropped = len(codes) - n_epochs * codes_per_epoch
    names = np.asarray([code_map[c] for c in codes[:n_epochs * codes_per_epoch]], dtype=object)
    names = names.reshape(n_epochs, codes_per_epoch)
    labels = np.empty(n_epochs, dtype=object)
    n_ties = 0
    for k, row in enumerate(names):
        if np.any(row == EXCLUDED):
            labels[k] = EXCLUDED
            continue
        stages, first_idx, counts = np.unique(row, return_index=True, return_counts=True)
        best = counts.max()
        tied = first_idx[counts == best]
        if len(tied) > 1:
            n_ties += 1
        labels[k] = row[tied.min()]
    return labels, labels != EXCLUDED, n_ties, n_dropped


def _excerpt_ids(path):
    ids = []
    for f in path.glob("excerpt*.txt"):
        m = re.fullmatch(r"excerpt(\d+)\.txt", f.name)
        if m:
            ids.append(int(m.group(1)))
    return sorted(ids)


def _read_excerpt(path, k, *, source, channels, sfreq, resample_mismatched):
    hyp_file = path / f"Hypnogram_excerpt{k}.txt"
    if not hyp_file.is_file():
        raise FileNotFoundError(f"Hypnogram file not found: {hyp_file}")
    codes = read_dreams_hypnogram(hyp_file)
    duration = DREAMS_CODE_SECONDS * len(codes)
    info = {}
    if source == "txt":
        txt = path / f"excerpt{k}.txt"
        if not txt.is_file():
            raise FileNotFoundError(f"DREAMS excerpt not found: {txt}")
        ch, x = _read_text_column(txt)
        if channels is not None and [c.lower() for c in channels] != [ch.lower()]:
            raise ValueError(f"{txt}: channel(s) {list(channels)} not found. Available "
                             f"channels: [{ch!r}] (use source='edf' for other channels).")
        native = int(round(len(x) / duration))
        extra = len(x) - int(native * duration)
        if native <= 0 or abs(extra) > 0.01 * len(x):
            raise ValueError(f"{txt}: {len(x)} samples do not match the hypnogram's "
                             f"{duration:g} s at any integer rate.")
        if extra < 0:
            raise ValueError(
                f"{txt}: {len(x)} samples is {-extra} sample(s) short of the hypnogram's "
                f"{duration:g} s at {native} Hz."
            )
        if extra > 0:
            warnings.warn(
                f"{txt}: {len(x)} samples = {duration:g} s at {native} Hz + {extra} extra "
                f"sample(s) ({extra / native:g} s). Assuming signal and hypnogram start "
                f"together, the {extra} trailing sample(s) are dropped.", UserWarning,
                stacklevel=3)
            x = x[: len(x) - extra]
        info["n_extra_samples"] = int(extra)
        signals = x[None, :]
        ch_names = [ch]
        if sfreq is not None and float(sfreq) != native:
            if resample_mismatched == "raise":
                raise ValueError(f"{txt}: sampled at {native} Hz, not at the requested "
                                 f"{sfreq:g} Hz, and resample_mismatched='raise'.")
            signals = resample_signal(signals, native, float(sfreq))
            info["resampled_channels"] = {ch: (float(native), float(sfreq))}
        fs = float(native) if sfreq is None else float(sfreq)
        info["native_sfreqs"] = {ch: float(native)}
    elif source == "edf":
        edf = path / f"excerpt{k}.edf"
        if not edf.is_file():
            raise FileNotFoundError(f"{edf} not found: source='edf' needs the EDF version of "
                                    f"excerpt {k} (only some excerpts have one).")
        # without an explicit sfreq, mixed rates always raise (never a silent choice)
        sig = read_edf_signals(edf, channels, sfreq=sfreq,
                               resample_mismatched="raise" if sfreq is None
                               else resample_mismatched)
        n_expected = int(round(duration * sig.sfreq))
        if sig.signals.shape[1] < n_expected:
            raise ValueError(f"{edf}: {sig.duration:g} s of signal for a hypnogram of "
                             f"{duration:g} s.")
        signals = sig.signals[:, :n_expected]
        ch_names = list(sig.ch_names)
        fs = sig.sfreq
        info["resampled_channels"] = dict(sig.resampled_channels)
        info["native_sfreqs"] = dict(sig.native_sfreqs)
    else:
        raise ValueError(f"source must be 'txt' or 'edf', got {source!r}.")
    info.setdefault("resampled_channels", {})
    return codes, signals, ch_names, fs, info


def load_dreams(path=None, excerpts=None, *, epoch_seconds=30, sfreq=None, source="txt",
                channels=None, resample_mismatched="resample", return_X_y=False):
    """Load DREAMS excerpts as AASM-labelled epochs.

    Parameters
    ----------
    path : str, Path or None
        Folder with ``excerptN.txt`` and ``Hypnogram_excerptN.txt``. ``None`` uses
        ``$SKLEARN_SLEEP_SHARED_DATA/dreams`` or ``<repo>/../shared/data/dreams``.
    excerpts : sequence of int or None
        Excerpt numbers; ``None`` = all found.
    epoch_seconds : float, default=30
        Epoch length, a multiple of 5 s (the hypnogram resolution).
    sfreq : float or None, default=None
        Common output rate. ``None`` keeps native rates, which is only possible when
        all requested excerpts share one rate (else a ``ValueError`` lists them);
        e.g. ``sfreq=100`` pools the 50/100/200 Hz excerpts.
    source : {"txt", "edf"}, default="txt"
        Read the one-channel text files, or the multichannel ``excerptN.edf`` PSG
        (only excerpt 3 has one) with channel picking by name.
    channels : sequence of str or None
        Channels to pick (``source="edf"``); a missing name raises, listing the
        available channels.
    resample_mismatched : {"resample", "raise"}, default="resample"
        Only used with ``sfreq`` given (with ``sfreq=None``, channels of an EDF at
        different rates always raise): resample (:func:`scipy.signal.resample_poly`, recorded
        in ``resampled_channels``) or raise for channels at another rate.
    return_X_y : bool, default=False

    Returns
    -------
    data : Bunch or tuple
        ``X`` float32 (n_epochs, n_channels, n_times) in microvolts, ``y`` (AASM
        names), ``groups`` (excerpt number: one subject per excerpt), ``recordings``
        ('excerptN'), ``ch_names`` (the common channel name, or ``['EEG']`` when
        pooling C3-A1 and CZ-A1 excerpts; see ``source_channels``), ``sfreq``,
        ``epoch_seconds``, ``n_excluded``, ``n_ties``, ``recording_info``.
    """
    path = _default_path() if path is None else Path(path)
    if not path.is_dir():
        raise FileNotFoundError(f"DREAMS folder not found: {path}")
    per = epoch_seconds / DREAMS_CODE_SECONDS
    if per < 1 or abs(per - round(per)) > 1e-9:
        raise ValueError(f"epoch_seconds must be a multiple of {DREAMS_CODE_SECONDS:g} s (the "
                         f"DREAMS hypnogram resolution), got {epoch_seconds!r}.")
    per = int(round(per))
    available = _excerpt_ids(path) if source == "txt" else sorted(
        int(m.group(1)) for f in path.glob("excerpt*.edf")
        if (m := re.fullmatch(r"excerpt(\d+)\.edf", f.name)))
    if excerpts is None:
        excerpts = available
        if not excerpts:
            raise ValueError(f"No DREAMS excerpt ({source}) found in {path}.")
    excerpts = [int(e) for e in np.atleast_1d(excerpts)]
    if channels is not None and isinstance(channels, str):
        channels = [channels]

    parts = []
    for k in excerpts:
        codes, signals, ch_names, fs, info = _read_excerpt(
            path, k, source=source, channels=channels, sfreq=sfreq,
            resample_mismatched=resample_mismatched)
        labels, keep, n_ties, n_dropped = aggregate_labels(
            codes, per, where=str(path / f"Hypnogram_excerpt{k}.txt"))
        if n_dropped:
            warnings.warn(f"excerpt{k}: {n_dropped} trailing 5-s code(s) do not fill a "
                          f"{epoch_seconds:g}-s epoch and are dropped.", UserWarning,
                          stacklevel=2)
        n_times = int(round(epoch_seconds * fs))
        if abs(epoch_seconds * fs - n_times) > 1e-6:
            raise ValueError(f"epoch_seconds={epoch_seconds} is not a whole number of samples "
                             f"at {fs:g} Hz.")
        n_ep = len(labels)
        X = signals[:, :n_ep * n_times].reshape(len(ch_names), n_ep, n_times)
        X = X.transpose(1, 0, 2)[keep].astype(np.float32)
        info.update(name=f"excerpt{k}", n_epochs=int(keep.sum()),
                    n_excluded=int((~keep).sum()), n_ties=n_ties, channels=ch_names,
                    sfreq=fs, n_dropped_codes=n_dropped)
        parts.append((k, X, labels[keep], ch_names, fs, info))

    rates = {p[0]: p[4] for p in parts}
    if len(set(rates.values())) > 1:
        detail = ", ".join(f"excerpt{k}: {r:g} Hz" for k, r in rates.items())
        raise ValueError(f"Cannot pool excerpts with different sampling rates ({detail}). "
                         "Pass sfreq=<Hz> (e.g. sfreq=100) to resample them to a common rate.")
    n_ch = {len(p[3]) for p in parts}
    if len(n_ch) > 1:
        raise ValueError("Excerpts have different numbers of channels; pick channels=.")
    names = [p[3] for p in parts]
    if all(n == names[0] for n in names):
        ch_names = list(names[0])
    elif n_ch == {1}:
        ch_names = ["EEG"]
    else:
        raise ValueError(f"Excerpts have different channels {names}; pick common channels=.")
    X = np.concatenate([p[1] for p in parts])
    y = np.concatenate([p[2] for p in parts]).astype(object)
    groups = np.concatenate([np.full(len(p[1]), p[0], dtype=int) for p in parts])
    recordings = np.concatenate([np.full(len(p[1]), f"excerpt{p[0]}", dtype=object)
                                 for p in parts])
    data = Bunch(
        X=X, y=y, groups=groups, recordings=recordings, ch_names=ch_names,
        sfreq=parts[0][4], epoch_seconds=float(epoch_seconds),
        source_channels={f"excerpt{p[0]}": p[3] for p in parts},
        n_excluded=int(sum(p[5]["n_excluded"] for p in parts)),
        n_ties=int(sum(p[5]["n_ties"] for p in parts)),
        recording_info=[p[5] for p in parts],
    )
    if return_X_y:
        return data.X, data.y, data.groups
    return data
