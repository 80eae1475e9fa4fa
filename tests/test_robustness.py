"""Robustness: bad input to every public entry point of sklearn_sleep.

Each case feeds one kind of bad input (wrong number of dimensions, NaN/inf, complex or
non-numeric values, empty recordings, missing/unknown/mixed labels, labels shorter or
longer than the signal, mismatched sampling rates or channels, truncated or corrupt
files, a single class, ...) to one public entry point and asserts either

* a clear error: ``ValueError``/``TypeError``/``FileNotFoundError``/``NotFittedError``
  whose message names the problem (checked with ``match=``), or
* a documented, tested recovery (a warning that gives the counts, a finite output for
  flat or clipped channels, ``classes=`` for folds that miss a class).

Nothing may be silently dropped. Cases that reveal a bug are marked
``xfail(strict=True, reason="BUG: ...")``: they document the expected behaviour and
start passing (and then fail as XPASS, so the mark gets removed) once the bug is fixed.
``docs/robustness.md`` summarises the cases per entry point.
"""

import contextlib
import io
import re
import shutil
import warnings
from pathlib import Path

import joblib
import mne
import numpy as np
import pytest
import torch
from scipy import sparse
from sklearn.exceptions import NotFittedError, UndefinedMetricWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold, cross_validate
from sklearn.pipeline import make_pipeline

from sklearn_sleep import hypnogram as hyp_mod
from sklearn_sleep import models
from sklearn_sleep.cli import main as cli_main
from sklearn_sleep.datasets import (
    epochs_from_array,
    load_dreams,
    load_edf_with_labels,
    load_sleep_edf,
    make_synthetic_psg,
    preprocess_recordings,
    read_label_file,
    read_sleep_edf_recording,
    read_sleepsign_hypnogram,
    read_sleepsign_signals,
    read_timestamped_text,
)
from sklearn_sleep.datasets._edf_io import _write_sleep_edf_like, read_edf_header
from sklearn_sleep.features import BandPowerFeatures, FFTFeatures
from sklearn_sleep.metrics import (
    kappa_score,
    macro_f1_score,
    macro_gmean_score,
    per_class_f1,
    sleep_confusion_matrix,
    sleep_scores,
    sleep_scoring,
)
from sklearn_sleep.models import SleepNetClassifier
from sklearn_sleep.persistence import (
    IncompatibleModelError,
    ModelFileError,
    SleepStager,
    load_model,
)
from sklearn_sleep.preprocessing import (
    BandPassFilter,
    ChannelPicker,
    EpochSampler,
    EpochScaler,
    EpochSegmenter,
    NotchFilter,
    Resampler,
    scale_recordings,
)


def bug(reason):
    """``xfail(strict=True)`` mark of a case that reveals a library bug."""
    return pytest.mark.xfail(strict=True, reason=f"BUG: {reason}")


def _rng(seed=0):
    return np.random.default_rng(seed)


def _epochs(n=6, c=2, t=200, seed=0):
    return _rng(seed).normal(0.0, 10.0, (n, c, t)).astype(np.float32)


def _with_nan(X):
    X = X.copy()
    X[1, 0, 5] = np.nan
    return X


def _with_inf(X):
    X = X.copy()
    X[2, -1, 7] = np.inf
    return X


def _mne_epochs(X, sfreq):
    info = mne.create_info([f"EEG{i}" for i in range(X.shape[1])], sfreq, "eeg")
    return mne.EpochsArray(X.astype(np.float64) * 1e-6, info, verbose="error")


# ============================================================================
# Transformers of sklearn_sleep.preprocessing and sklearn_sleep.features
# ============================================================================
SFREQ = 100.0

TRANSFORMERS = {
    "ChannelPicker": lambda: ChannelPicker([1, 0]),
    "Resampler": lambda: Resampler(SFREQ, 50.0),
    "BandPassFilter": lambda: BandPassFilter(SFREQ, 0.5, 30.0),
    "NotchFilter": lambda: NotchFilter(SFREQ, freq=25.0),
    "EpochScaler-epoch": lambda: EpochScaler(),
    "EpochScaler-dataset": lambda: EpochScaler("standard", scope="dataset"),
    "FFTFeatures": lambda: FFTFeatures(sfreq=SFREQ),
    "BandPowerFeatures": lambda: BandPowerFeatures(SFREQ),
}
#: transformers that know their sampling rate (checked against mne.Epochs input)
WITH_SFREQ = ["Resampler", "BandPassFilter", "NotchFilter", "FFTFeatures", "BandPowerFeatures"]

X_BAD = {
    "1-D": (lambda X: X[0, 0], "must be 3-D, got a 1-D"),
    "2-D": (lambda X: X[:, 0], r"must be 3-D, got a 2-D array.*X\[:, None, :\]"),
    "4-D": (lambda X: X[None], "must be 3-D, got a 4-D"),
    "NaN": (_with_nan, r"1 NaN or infinite value\(s\) in 1 epoch\(s\) \(indices 1\)"),
    "inf": (_with_inf, r"1 NaN or infinite value\(s\) in 1 epoch\(s\) \(indices 2\)"),
    "complex": (lambda X: X.astype(np.complex64), "must be real-valued"),
    "strings": (lambda X: X.astype(str), "must be numeric"),
    "object-ragged": (lambda X: np.array([X[0], X[1, :1]], dtype=object), "numeric"),
    "empty": (lambda X: X[:0], r"is empty \(shape \(0, 2, 200\)\)"),
}


@pytest.mark.parametrize("case", list(X_BAD))
@pytest.mark.parametrize("name", list(TRANSFORMERS))
def test_transformer_fit_rejects_bad_X(name, case):
    make, match = X_BAD[case]
    with pytest.raises(ValueError, match=match):
        TRANSFORMERS[name]().fit(make(_epochs()))


@pytest.mark.parametrize("case", ["2-D", "NaN", "complex", "empty"])
@pytest.mark.parametrize("name", list(TRANSFORMERS))
def test_transformer_transform_rejects_bad_X(name, case):
    make, match = X_BAD[case]
    tr = TRANSFORMERS[name]().fit(_epochs())
    with pytest.raises(ValueError, match=match):
        tr.transform(make(_epochs()))


@pytest.mark.parametrize("name", list(TRANSFORMERS))
def test_transformer_not_fitted(name):
    with pytest.raises(NotFittedError, match="not fitted"):
        TRANSFORMERS[name]().transform(_epochs())


@pytest.mark.parametrize("name", list(TRANSFORMERS))
def test_transformer_channel_count_differs_from_fit(name):
    tr = TRANSFORMERS[name]().fit(_epochs(c=2))
    with pytest.raises(ValueError, match="X has 3 channels, but .* fitted with 2 channels"):
        tr.transform(_epochs(c=3))


@pytest.mark.parametrize("name", list(TRANSFORMERS))
def test_transformer_epoch_length_differs_from_fit(name):
    tr = TRANSFORMERS[name]().fit(_epochs(t=200))
    with pytest.raises(ValueError, match="epochs of 300 samples, but .* 200 samples"):
        tr.transform(_epochs(t=300))


@pytest.mark.parametrize("name", WITH_SFREQ)
def test_transformer_mne_epochs_sampling_rate_mismatch(name):
    epochs = _mne_epochs(_epochs(), sfreq=2 * SFREQ)
    with pytest.raises(ValueError, match=r"100 Hz does not match the sampling rate of the "
                                         r"mne.Epochs \(200 Hz\)"):
        TRANSFORMERS[name]().fit(epochs)


def _flat(X):
    X = X.copy()
    X[:, 1] = 7.0  # a disconnected / constant channel
    return X


def _clipped(X):
    return np.clip(X * 20.0, -50.0, 50.0)  # amplifier saturation at +-50 uV


@pytest.mark.parametrize("signal", ["flat", "zero", "clipped", "extreme-amplitude"])
@pytest.mark.parametrize("name", list(TRANSFORMERS))
def test_transformer_flat_or_clipped_channel_gives_finite_output(name, signal):
    # Documented behaviour: a constant channel never produces NaN (zero spread -> 1 in
    # EpochScaler, zero power -> 0 relative power / log10(float32 tiny) in
    # BandPowerFeatures); clipped signals are processed like any other signal; computing
    # in float64 keeps finite-but-huge float32 input (a unit error) finite.
    X = {"flat": _flat, "zero": lambda X: 0.0 * X, "clipped": _clipped,
         "extreme-amplitude": lambda X: (X * 1e30).astype(np.float32)}[signal](_epochs())
    out = TRANSFORMERS[name]().fit_transform(X)
    assert len(out) == len(X)
    assert np.isfinite(out).all()


def test_band_power_flat_channel_documented_values():
    X = _epochs(c=2, t=3000)
    X[:, 1] = 0.0
    bp = BandPowerFeatures(SFREQ, include_stats=False).fit(X)
    out = bp.transform(X).reshape(len(X), 2, -1)
    names = bp.feature_names_
    flat = dict(zip(names, out[0, 1]))
    for band in ("delta", "theta", "alpha", "sigma", "beta", "gamma"):
        assert flat[f"{band}_rel"] == 0.0
    tiny_log = np.log10(np.finfo(np.float32).tiny)
    assert flat["total_abs"] == pytest.approx(tiny_log)
    assert flat["delta_beta_ratio"] == pytest.approx(tiny_log)
    # the other channel is unaffected: its relative powers sum to one
    live = dict(zip(names, out[0, 0]))
    assert sum(live[f"{b}_rel"] for b in ("delta", "theta", "alpha", "sigma", "beta",
                                         "gamma")) == pytest.approx(1.0)


def test_epoch_scaler_flat_channel_is_only_centred():
    X = _flat(_epochs())
    out = EpochScaler().fit_transform(X)
    np.testing.assert_array_equal(out[:, 1], 0.0)
    out = scale_recordings(X, recordings=[0, 0, 0, 1, 1, 1])
    np.testing.assert_array_equal(out[:, 1], 0.0)


CHANNEL_PICKER_BAD = [
    pytest.param({"picks": ["EEG Cz"], "ch_names": ["EEG Fpz-Cz", "EMG"]},
                 r"Channel\(s\) \['EEG Cz'\] not found. Available channels", id="unknown-name"),
    pytest.param({"picks": ["EEG"], "ch_names": None}, "given by name but ch_names is None",
                 id="name-without-ch_names"),
    pytest.param({"picks": [5]}, "Channel index 5 is out of range", id="index-out-of-range"),
    pytest.param({"picks": []}, "picks is empty", id="empty-picks"),
    pytest.param({"picks": [0, 0]}, "same channel more than once", id="duplicate-picks"),
    pytest.param({"picks": [0.5]}, "picks must contain str or int", id="float-pick"),
    pytest.param({"picks": [0], "ch_names": ["a", "b", "c"]},
                 "ch_names has 3 names but X has 2 channels", id="ch_names-length"),
]


@pytest.mark.parametrize("kwargs, match", CHANNEL_PICKER_BAD)
def test_channel_picker_wrong_channels(kwargs, match):
    with pytest.raises(ValueError, match=match):
        ChannelPicker(**kwargs).fit(_epochs())


PARAM_BAD = [
    pytest.param(lambda: Resampler(0, 100), "sfreq_in must be a positive", id="Resampler-sfreq0"),
    pytest.param(lambda: Resampler(100, float("nan")), "sfreq_out must be a positive, finite",
                 id="Resampler-nan"),
    pytest.param(lambda: Resampler(100, 100 * np.pi), "not a rational number",
                 id="Resampler-irrational"),
    pytest.param(lambda: BandPassFilter(100, 0.3, 60), "below the Nyquist", id="BandPass-nyquist"),
    pytest.param(lambda: BandPassFilter(100, 30, 10), "must be below h_freq", id="BandPass-order"),
    pytest.param(lambda: BandPassFilter(100, None, None), "both None", id="BandPass-none"),
    pytest.param(lambda: BandPassFilter("100"), "sfreq must be a positive number",
                 id="BandPass-str-sfreq"),
    pytest.param(lambda: NotchFilter(100, freq=50), "below the Nyquist", id="Notch-at-nyquist"),
    pytest.param(lambda: NotchFilter(100, freq=[]), "freq is empty", id="Notch-empty"),
    pytest.param(lambda: EpochScaler(method="minmax"), "method must be one of",
                 id="Scaler-method"),
    pytest.param(lambda: FFTFeatures(fmax=10), "fmax needs sfreq", id="FFT-fmax"),
    pytest.param(lambda: BandPowerFeatures(100, bands={"x": (10, 80)}),
                 "exceeds the Nyquist", id="BandPower-nyquist"),
    pytest.param(lambda: BandPowerFeatures(100, bands={"x": (0.1, 0.2)},
                                           include_ratios=False),
                 "contains no frequency bin", id="BandPower-empty-band"),
    pytest.param(lambda: BandPowerFeatures(100, ch_names=["a"]),
                 "ch_names has 1 names but X has 2 channels", id="BandPower-ch_names"),
]


@pytest.mark.parametrize("make, match", PARAM_BAD)
def test_transformer_bad_parameters(make, match):
    with pytest.raises(ValueError, match=match):
        make().fit(_epochs())


def test_scale_recordings_bad_input():
    with pytest.raises(ValueError, match="one entry per epoch"):
        scale_recordings(_epochs(), recordings=[0, 1])
    with pytest.raises(ValueError, match="NaN or infinite"):
        scale_recordings(_with_nan(_epochs()), recordings=np.zeros(6))


# ============================================================================
# EpochSegmenter.segment
# ============================================================================
def _segment(signal, labels, **kwargs):
    return EpochSegmenter(sfreq=100, epoch_seconds=1, **kwargs).segment(signal, labels)


SIG = _rng(1).normal(size=(2, 300))
SEGMENT_BAD = [
    pytest.param(lambda: _segment(SIG[None], ["W"] * 3), ValueError,
                 r"must be 2-D \(n_channels, n_samples\)", id="3-D-signal"),
    pytest.param(lambda: _segment(SIG[0], ["W"] * 3), ValueError, "signal\\[None, :\\]",
                 id="1-D-signal"),
    pytest.param(lambda: _segment(np.where(SIG > 2, np.nan, SIG), ["W"] * 3), ValueError,
                 r"contains \d+ NaN or infinite", id="NaN-signal"),
    pytest.param(lambda: _segment(np.where(SIG > 2, np.inf, SIG), ["W"] * 3), ValueError,
                 r"contains \d+ NaN or infinite", id="inf-signal"),
    pytest.param(lambda: _segment(SIG.astype(str), ["W"] * 3), ValueError, "must be numeric",
                 id="string-signal"),
    pytest.param(lambda: _segment(SIG > 0, ["W"] * 3), ValueError, "must be numeric",
                 id="bool-signal"),
    pytest.param(lambda: _segment(SIG + 1j, ["W"] * 3), ValueError, "real",
                 id="complex-signal"),
    pytest.param(lambda: _segment(SIG[:, :0], []), ValueError, "fewer than one epoch",
                 id="empty-recording"),
    pytest.param(lambda: _segment([], []), ValueError, "signals is an empty list",
                 id="no-recording"),
    pytest.param(lambda: _segment(SIG, ["W"] * 2), ValueError,
                 r"2 labels but 300 samples = 3 complete epochs", id="labels-shorter"),
    pytest.param(lambda: _segment(SIG, ["W"] * 4), ValueError,
                 r"4 labels but 300 samples = 3 complete epochs", id="labels-longer"),
    pytest.param(lambda: _segment(SIG, [["W"]] * 3), ValueError, "must be 1-D",
                 id="labels-2-D"),
    pytest.param(lambda: _segment(SIG, ["W", None, "N2"]), ValueError, "missing",
                 id="labels-None"),
    pytest.param(lambda: _segment(SIG, [0.0, np.nan, 2.0]), ValueError, "missing|NaN",
                 id="labels-NaN"),
    pytest.param(lambda: _segment([SIG, SIG[:1]], [["W"] * 3] * 2), ValueError,
                 "Recording 1 has 1 channels but recording 0 has 2", id="channel-count-differs"),
    pytest.param(lambda: _segment([SIG, SIG], [["W"] * 3]), ValueError,
                 "labels must be a list of 2 label arrays", id="labels-per-recording"),
    pytest.param(lambda: EpochSegmenter(sfreq=100, epoch_seconds=0.333).segment(SIG, None),
                 ValueError, "whole number of samples", id="epoch-not-whole-samples"),
    pytest.param(lambda: EpochSegmenter(sfreq=-1).segment(SIG, None), ValueError,
                 "sfreq must be a positive", id="negative-sfreq"),
    pytest.param(lambda: _segment(SIG, ["W"] * 3, on_mismatch="ignore"), ValueError,
                 "on_mismatch must be 'raise' or 'truncate'", id="bad-on_mismatch"),
]


@pytest.mark.parametrize("call, exc, match", SEGMENT_BAD)
def test_segmenter_bad_input(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


def test_segmenter_raw_sampling_rate_mismatch():
    raw = mne.io.RawArray(SIG * 1e-6, mne.create_info(["a", "b"], 200.0, "eeg"),
                          verbose="error")
    with pytest.raises(ValueError, match="sampled at 200 Hz but sfreq=100"):
        _segment(raw, ["W"] * 3)


@pytest.mark.parametrize("n_labels", [2, 4])
def test_segmenter_truncate_warns_with_counts(n_labels):
    n_keep = min(n_labels, 3)
    with pytest.warns(UserWarning, match=rf"{n_labels} labels but 300 samples.*Keeping the "
                                         rf"first {n_keep} epochs: dropped {n_labels - n_keep} "
                                         rf"label\(s\) and {300 - 100 * n_keep} sample\(s\)"):
        out = _segment(SIG, ["W"] * n_labels, on_mismatch="truncate")
    assert out.X.shape == (n_keep, 2, 100)
    assert out.n_labels_dropped.tolist() == [n_labels - n_keep]
    assert out.n_samples_dropped.tolist() == [300 - 100 * n_keep]


# ============================================================================
# EpochSampler
# ============================================================================
Y6 = np.array(["W", "W", "W", "N2", "N2", "REM"])
SAMPLER_BAD = [
    pytest.param(lambda: (_epochs()[:, 0, 0], Y6), ValueError, "at least 2 dimensions",
                 id="1-D-X"),
    pytest.param(lambda: (_with_nan(_epochs()), Y6), ValueError, "NaN or infinite",
                 id="NaN-X"),
    pytest.param(lambda: (_with_inf(_epochs()), Y6), ValueError, "NaN or infinite",
                 id="inf-X"),
    pytest.param(lambda: (_epochs().astype(complex), Y6), ValueError, "real-valued",
                 id="complex-X"),
    pytest.param(lambda: (_epochs().astype(str), Y6), ValueError, "numeric", id="string-X"),
    pytest.param(lambda: (_epochs()[:0], Y6[:0]), ValueError, "empty", id="empty-X"),
    pytest.param(lambda: (_epochs(), Y6[:4]), ValueError, "6 epochs but 4 labels",
                 id="y-shorter"),
    pytest.param(lambda: (_epochs(), np.append(Y6, "W")), ValueError, "6 epochs but 7 labels",
                 id="y-longer"),
    pytest.param(lambda: (_epochs(), None), ValueError, "requires y", id="y-None"),
    pytest.param(lambda: (_epochs(), ["W"] * 6), ValueError, "more than 1 class",
                 id="single-class"),
    pytest.param(lambda: (_epochs(), np.linspace(0, 1, 6)), ValueError, "continuous",
                 id="continuous-y"),
    pytest.param(lambda: (sparse.csr_matrix(np.ones((6, 4))), Y6), TypeError,
                 "does not support sparse", id="sparse-X"),
    pytest.param(lambda: (_epochs(), np.array(["W", None, "W", "N2", "N2", "REM"], object)),
                 ValueError, "missing|None", id="y-with-None"),
    pytest.param(lambda: (_epochs(), np.array(["W", 1, "W", "N2", 1, "REM"], object)),
                 ValueError, "[Mm]ix", id="y-mixed-str-int"),
]


@pytest.mark.parametrize("data, exc, match", SAMPLER_BAD)
def test_sampler_bad_input(data, exc, match):
    X, y = data()
    with pytest.raises(exc, match=match):
        EpochSampler().fit_resample(X, y)


def test_sampler_bad_wrapped_sampler():
    with pytest.raises((ValueError, TypeError), match="sampler"):
        EpochSampler(sampler=LogisticRegression()).fit_resample(_epochs(), Y6)


# ============================================================================
# Loaders of sklearn_sleep.datasets
# ============================================================================
@pytest.fixture(scope="module")
def edf_dir(tmp_path_factory):
    """A valid Sleep-EDF-like PSG + hypnogram (6 min) written with edfio."""
    pytest.importorskip("edfio")
    folder = tmp_path_factory.mktemp("sleep_edf")
    psg, hyp, stages = _write_sleep_edf_like(folder, hours=0.1, seed=0)
    return folder, psg, hyp, stages


def _edit(src, dst, fn):
    shutil.copy(src, dst)
    raw = bytearray(Path(dst).read_bytes())
    Path(dst).write_bytes(bytes(fn(raw)))
    return Path(dst)


def _field(offset, width, text):
    def fn(raw):
        raw[offset:offset + width] = text.ljust(width).encode("latin-1")
        return raw
    return fn


def _signal_field_offset(n_signals, what):
    """Offset of the first channel's entry of a per-signal EDF header field."""
    widths = [("label", 16), ("transducer", 80), ("dimension", 8), ("pmin", 8),
              ("pmax", 8), ("dmin", 8), ("dmax", 8), ("prefilter", 80), ("nsamp", 8)]
    off = 256
    for name, width in widths:
        if name == what:
            return off, width
        off += n_signals * width
    raise KeyError(what)


def _corrupt_psg(kind, psg):
    ns = len(read_edf_header(psg).labels)
    size = psg.stat().st_size
    if kind == "truncated-data":
        return lambda raw: raw[: size - 5000]
    if kind == "truncated-header":
        return lambda raw: raw[:300]
    if kind == "shorter-than-fixed-header":
        return lambda raw: raw[:100]
    if kind == "empty-file":
        return lambda raw: raw[:0]
    if kind == "n_records-not-a-number":
        return _field(236, 8, "abc")
    if kind == "n_records-too-large":
        return _field(236, 8, "999")
    if kind == "n_records-zero":
        return _field(236, 8, "0")
    if kind == "n_signals-wrong":
        return _field(252, 4, "9")
    if kind == "bdf-version-byte":
        return lambda raw: raw.__setitem__(0, 0xFF) or raw
    if kind == "samples-per-record-garbage":
        return _field(*_signal_field_offset(ns, "nsamp"), "zz")
    if kind == "record-duration-zero":
        return _field(244, 8, "0")
    if kind == "record-duration-negative":
        return _field(244, 8, "-30")
    if kind == "digital-min-equals-max":
        off, width = _signal_field_offset(ns, "dmax")
        return _field(off, width, "-32768")
    if kind == "physical-min-equals-max":
        off, width = _signal_field_offset(ns, "pmax")
        return _field(off, width, "-500")
    raise KeyError(kind)


CORRUPT_EDF = [
    pytest.param("truncated-data", r"EDF file is truncated: the header announces 12 data "
                 r"records .* \(11 complete records\)", id="truncated-data"),
    pytest.param("truncated-header", "EDF header truncated", id="truncated-header"),
    pytest.param("shorter-than-fixed-header", "only 100 bytes", id="shorter-than-fixed-header"),
    pytest.param("empty-file", "only 0 bytes.*empty or truncated", id="empty-file"),
    pytest.param("n_records-not-a-number", "'number of data records' should be a number but "
                 "is 'abc'", id="n_records-not-a-number"),
    pytest.param("n_records-too-large", "announces 999 data records", id="n_records-too-large"),
    # a header announcing fewer records than the file holds is refused (issue 9)
    pytest.param("n_records-zero", r"announces 0 data records but the file holds 12",
                 id="n_records-zero"),
    pytest.param("n_signals-wrong", r"invalid EDF header \(9 signals", id="n_signals-wrong"),
    pytest.param("bdf-version-byte", "BDF", id="bdf-version-byte"),
    pytest.param("samples-per-record-garbage", "'samples per record' should be a number",
                 id="samples-per-record-garbage"),
    pytest.param("record-duration-zero", "record duration", id="record-duration-zero"),
    pytest.param("record-duration-negative", "record duration",
                 id="record-duration-negative"),
    pytest.param("digital-min-equals-max", "digital", id="digital-min-equals-max"),
    pytest.param("physical-min-equals-max", "physical", id="physical-min-equals-max"),
]


@pytest.mark.parametrize("kind, match", CORRUPT_EDF)
def test_read_sleep_edf_recording_corrupt_psg(edf_dir, tmp_path, kind, match):
    _, psg, hyp, _ = edf_dir
    bad = _edit(psg, tmp_path / "SC4001E0-PSG.edf", _corrupt_psg(kind, psg))
    with pytest.raises(ValueError, match=match):
        read_sleep_edf_recording(bad, hyp)


@pytest.mark.parametrize("kind", ["truncated-data", "n_records-not-a-number"])
def test_load_edf_with_labels_corrupt_edf(edf_dir, tmp_path, kind):
    _, psg, _, stages = edf_dir
    bad = _edit(psg, tmp_path / "bad.edf", _corrupt_psg(kind, psg))
    with pytest.raises(ValueError, match="truncated|should be a number"):
        load_edf_with_labels(bad, ["W"] * len(stages), epoch_seconds=30,
                             channels=["EEG Fpz-Cz"])


HYPNOGRAM_BAD = [
    pytest.param(lambda raw: raw[:-50], "EDF file is truncated", id="truncated-hypnogram"),
    pytest.param(lambda raw: raw[:0], "only 0 bytes", id="empty-hypnogram"),
    pytest.param(_field(236, 8, "x"), "should be a number", id="corrupt-hypnogram-header"),
]


@pytest.mark.parametrize("fn, match", HYPNOGRAM_BAD)
def test_read_sleep_edf_recording_corrupt_hypnogram(edf_dir, tmp_path, fn, match):
    _, psg, hyp, _ = edf_dir
    bad = _edit(hyp, tmp_path / "SC4001EC-Hypnogram.edf", fn)
    with pytest.raises(ValueError, match=match):
        read_sleep_edf_recording(psg, bad)


SLEEP_EDF_BAD = [
    pytest.param({"channels": ["EEG Cz"]}, ValueError,
                 r"channel\(s\) \['EEG Cz'\] not found. Available channels: \['EEG Fpz-Cz'",
                 id="wrong-channel-name"),
    pytest.param({"resample_mismatched": "raise"}, ValueError,
                 r"not sampled at the requested 100 Hz \(EMG submental: 1 Hz\)",
                 id="mismatched-rates-raise"),
    pytest.param({"epoch_seconds": 7}, ValueError, "not a multiple of epoch_seconds=7",
                 id="epoch-not-multiple"),
    pytest.param({"annotation_map": {"Sleep stage W": "W"}}, ValueError,
                 "unknown annotation description", id="incomplete-annotation-map"),
]


@pytest.mark.parametrize("kwargs, exc, match", SLEEP_EDF_BAD)
def test_read_sleep_edf_recording_bad_arguments(edf_dir, kwargs, exc, match):
    _, psg, hyp, _ = edf_dir
    with pytest.raises(exc, match=match):
        read_sleep_edf_recording(psg, hyp, **kwargs)


def test_read_sleep_edf_recording_missing_files(edf_dir, tmp_path):
    _, psg, hyp, _ = edf_dir
    with pytest.raises(FileNotFoundError, match="Hypnogram file not found"):
        read_sleep_edf_recording(psg, tmp_path / "none-Hypnogram.edf")
    with pytest.raises(FileNotFoundError, match="EDF file not found"):
        read_sleep_edf_recording(tmp_path / "none-PSG.edf", hyp)


def test_read_sleep_edf_recording_unknown_annotation(tmp_path):
    psg, hyp, _ = _write_sleep_edf_like(tmp_path, hours=0.1,
                                        extra_annotations=[(0.0, 30.0, "Lights off")])
    with pytest.raises(ValueError, match=r"unknown annotation description\(s\) \['Lights off'\]"):
        read_sleep_edf_recording(psg, hyp)


def test_read_sleep_edf_recording_counts_what_it_removes(edf_dir):
    # Documented recovery: movement/unscored epochs and epochs beyond the signal are
    # removed and counted, never silently.
    _, psg, hyp, stages = edf_dir
    data = read_sleep_edf_recording(psg, hyp, wake_edge_minutes=None)
    n_movement = stages.count("M")
    assert data.n_excluded == n_movement
    assert len(data.X) == len(stages) - n_movement
    assert data.n_outside_signal == 120  # the trailing 1-h 'Sleep stage ?'
    assert data.resampled_channels == {"EMG submental": (1.0, 100.0)}


def test_read_sleep_edf_recording_sfreq_none_uses_highest_native_rate(edf_dir):
    # documented: sfreq=None resamples the 1 Hz EMG up to the 100 Hz of the other
    # channels (and says so in resampled_channels), or refuses with "raise"
    _, psg, hyp, _ = edf_dir
    data = read_sleep_edf_recording(psg, hyp, sfreq=None)
    assert data.sfreq == 100.0
    assert data.resampled_channels == {"EMG submental": (1.0, 100.0)}
    with pytest.raises(ValueError, match=r"different sampling rates \(.*EMG submental: 1 Hz\)"):
        read_sleep_edf_recording(psg, hyp, sfreq=None, resample_mismatched="raise")


def test_load_sleep_edf_bad_input(edf_dir, tmp_path):
    folder, psg, hyp, _ = edf_dir
    with pytest.raises(FileNotFoundError, match="Sleep-EDF folder not found"):
        load_sleep_edf(tmp_path / "nowhere")
    with pytest.raises(ValueError, match=r"No Sleep-EDF 'SC4ssN\*-PSG.edf' file"):
        load_sleep_edf(tmp_path)
    with pytest.raises(ValueError, match=r"SC4051 \(PSG and hypnogram missing\)"):
        load_sleep_edf(folder, subjects=[5], nights=[1])
    with pytest.raises(ValueError, match="on_missing must be"):
        load_sleep_edf(folder, on_missing="skip")
    with pytest.warns(UserWarning, match="SC4051.*skipped"):
        data = load_sleep_edf(folder, subjects=[0, 5], nights=[1], on_missing="warn")
    assert set(data.recordings) == {"SC4001"}
    # a truncated PSG inside the folder
    bad = tmp_path / "bad"
    bad.mkdir()
    _edit(psg, bad / psg.name, _corrupt_psg("truncated-data", psg))
    shutil.copy(hyp, bad / hyp.name)
    with pytest.raises(ValueError, match="EDF file is truncated"):
        load_sleep_edf(bad)


LABELS_BAD = [
    pytest.param(lambda n: ["W"] * (n - 1), r"but 11 label\(s\) were given", id="labels-shorter"),
    pytest.param(lambda n: ["W"] * (n + 1), r"but 13 label\(s\) were given", id="labels-longer"),
    pytest.param(lambda n: [], "labels is empty", id="labels-empty"),
    pytest.param(lambda n: ["W"] * (n - 1) + [None], "missing|None", id="label-None"),
    pytest.param(lambda n: [0.0] * (n - 1) + [np.nan], "missing|NaN", id="label-NaN"),
]


@pytest.mark.parametrize("labels, match", LABELS_BAD)
def test_load_edf_with_labels_bad_labels(edf_dir, labels, match):
    _, psg, _, stages = edf_dir
    with pytest.raises(ValueError, match=match):
        load_edf_with_labels(psg, labels(len(stages)), epoch_seconds=30,
                             channels=["EEG Fpz-Cz"])


LOAD_EDF_BAD = [
    pytest.param({"channels": ["Fz"]}, ValueError, r"channel\(s\) \['Fz'\] not found",
                 id="wrong-channel-name"),
    pytest.param({"channels": None}, ValueError,
                 r"different sampling rates \(.*EMG submental: 1 Hz\)", id="mixed-rates"),
    pytest.param({"channels": None, "sfreq": 100.0}, ValueError,
                 r"not sampled at the requested 100 Hz", id="mismatched-rate-raise"),
    pytest.param({"channels": ["EEG Fpz-Cz"], "label_map": {"W": "W"}}, ValueError,
                 r"Label\(s\) \[.*'1'.*\] are not in label_map \(keys \['W'\]\)",
                 id="unknown-labels"),
    pytest.param({"channels": ["EEG Fpz-Cz"], "epoch_seconds": 0}, ValueError,
                 "epoch_seconds must be a positive", id="epoch-seconds-zero"),
]


@pytest.mark.parametrize("kwargs, exc, match", LOAD_EDF_BAD)
def test_load_edf_with_labels_bad_arguments(edf_dir, kwargs, exc, match):
    _, psg, _, stages = edf_dir
    kwargs = {"epoch_seconds": 30, **kwargs}
    labels = [s for s in stages if s != "M"] + ["W"] * stages.count("M")
    with pytest.raises(exc, match=match):
        load_edf_with_labels(psg, labels, **kwargs)


def test_load_edf_with_labels_label_files(edf_dir, tmp_path):
    _, psg, _, _ = edf_dir
    with pytest.raises(FileNotFoundError, match="Label file not found"):
        load_edf_with_labels(psg, tmp_path / "none.txt", epoch_seconds=30,
                             channels=["EEG Fpz-Cz"])
    empty = tmp_path / "empty.txt"
    empty.write_text("\n\n")
    with pytest.raises(ValueError, match=r"no label found \(empty file\)"):
        load_edf_with_labels(psg, empty, epoch_seconds=30, channels=["EEG Fpz-Cz"])


def test_read_label_file_blank_line_in_the_middle(tmp_path):
    path = tmp_path / "labels.txt"
    path.write_text("W\nN1\n\nN2\nN3\n")
    with pytest.raises(ValueError, match="line 3|empty line|missing"):
        read_label_file(path)
    # documented: blank lines after the last label are harmless
    path.write_text("W\nN1\n\n \n")
    assert read_label_file(path).tolist() == ["W", "N1"]


SIGNAL = _rng(2).normal(size=(2, 300))
EFA_BAD = [
    pytest.param(lambda: (SIGNAL[None], ["W"] * 3), "must be \\(n_channels, n_samples\\)",
                 id="3-D-signal"),
    pytest.param(lambda: (SIGNAL > 0, ["W"] * 3), "must be numeric", id="bool-signal"),
    pytest.param(lambda: (SIGNAL.astype(str), ["W"] * 3), "must be numeric",
                 id="string-signal"),
    pytest.param(lambda: (SIGNAL[:, :0], ["W"]), "signal is empty", id="empty-signal"),
    pytest.param(lambda: (SIGNAL, ["W"] * 2), r"300 samples = 3 whole epoch\(s\).*but 2 "
                 r"label\(s\)", id="labels-shorter"),
    pytest.param(lambda: (SIGNAL, ["W"] * 4), r"but 4 label\(s\)", id="labels-longer"),
    pytest.param(lambda: (SIGNAL[:, :250], ["W"] * 2), r"\+ 50 leftover sample\(s\)",
                 id="leftover-samples"),
    pytest.param(lambda: (np.where(SIGNAL > 2, np.nan, SIGNAL), ["W"] * 3), "NaN",
                 id="NaN-signal"),
    pytest.param(lambda: (np.where(SIGNAL > 2, np.inf, SIGNAL), ["W"] * 3), "NaN|inf",
                 id="inf-signal"),
    pytest.param(lambda: (SIGNAL + 1j, ["W"] * 3), "real", id="complex-signal"),
    pytest.param(lambda: (np.c_[SIGNAL, SIGNAL], [["W"] * 3, ["N2"] * 3]), "1-D",
                 id="labels-2-D"),
    pytest.param(lambda: (SIGNAL, ["W", None, "N2"]), "missing|None", id="label-None"),
]


@pytest.mark.parametrize("data, match", EFA_BAD)
def test_epochs_from_array_bad_input(data, match):
    signal, labels = data()
    with pytest.raises(ValueError, match=match):
        epochs_from_array(signal, labels, sfreq=100, epoch_seconds=1)


def test_epochs_from_array_documented_recoveries():
    with pytest.warns(UserWarning, match=r"Truncating to 2 epochs: dropped 0 label\(s\) and "
                                         r"50 sample\(s\)"):
        data = epochs_from_array(SIGNAL[:, :250], ["W", "N2"], sfreq=100, epoch_seconds=1,
                                 on_mismatch="truncate")
    assert (data.n_dropped_labels, data.n_dropped_samples) == (0, 50)
    data = epochs_from_array(SIGNAL, ["W", "?", "N2"], sfreq=100, epoch_seconds=1,
                             exclude=["?"])
    assert data.n_excluded == 1 and data.y.tolist() == ["W", "N2"]
    with pytest.raises(ValueError, match="All 3 epochs carry an excluded label"):
        epochs_from_array(SIGNAL, ["?"] * 3, sfreq=100, epoch_seconds=1, exclude=["?"])
    with pytest.raises(ValueError, match="1 ch_names for a signal with 2 channels"):
        epochs_from_array(SIGNAL, ["W"] * 3, sfreq=100, epoch_seconds=1, ch_names=["EEG"])


# ---------------------------------------------------------------- SleepSign exports
_SS_HEAD = "File name,x.kcd\r\nSubject,s1\r\n\r\n"


def _ss_signal_row(i, values):
    return (f"04/12/2018  11:00:{10 + i // 128:02d}.{int((i % 128) * 1000 / 128):03d},"
            + ",".join(values) + ",\r\n")


def _ss_signals(tmp_path, edit=None, units="uV,uV,V"):
    rows = [_ss_signal_row(i, ["1.0", "2.0", "0.001"]) for i in range(256)]
    if edit is not None:
        edit(rows)
    path = tmp_path / "raw.txt"
    path.write_text(_SS_HEAD + f"Time,{units},\r\n" + "".join(rows))
    return path


def _set(i, row):
    def fn(rows):
        rows[i] = row
    return fn


SS_SIGNAL_BAD = [
    pytest.param(_set(5, _ss_signal_row(5, ["1.0", "abc", "0.001"])),
                 "non-numeric sample value.*'abc'", id="non-numeric-value"),
    pytest.param(_set(5, _ss_signal_row(5, ["1.0", "", "0.001"])), "non-numeric sample value",
                 id="empty-value"),
    pytest.param(_set(0, "04/12/2018  99:99:99.000,1.0,2.0,0.001,\r\n"),
                 "cannot parse time stamp '04/12/2018 99:99:99.000'", id="bad-time-stamp"),
    pytest.param(lambda rows: rows.clear(), r"no sample after the header \(empty recording\)",
                 id="no-sample"),
    pytest.param(_set(5, ",1.0,2.0,0.001,\r\n"), "time stamp|row 5|missing",
                 id="row-without-time-stamp"),
    pytest.param(_set(5, _ss_signal_row(5, ["1.0", "2.0", "0.001", "7.0"])),
                 "4 values|3 channels|extra", id="row-with-extra-value"),
    pytest.param(_set(5, _ss_signal_row(5, ["1.0", "nan", "0.001"])), "NaN",
                 id="NaN-value"),
]


@pytest.mark.parametrize("edit, match", SS_SIGNAL_BAD)
def test_read_sleepsign_signals_bad_rows(tmp_path, edit, match):
    path = _ss_signals(tmp_path, edit)
    with pytest.raises(ValueError, match=match):
        read_sleepsign_signals(path)


def test_read_sleepsign_signals_bad_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="SleepSign export not found"):
        read_sleepsign_signals(tmp_path / "none.txt")
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    with pytest.raises(ValueError, match="empty file"):
        read_sleepsign_signals(empty)
    nohead = tmp_path / "nohead.txt"
    nohead.write_text(_SS_HEAD + "1,2,3\r\n")
    with pytest.raises(ValueError, match="no 'Time,...' header row"):
        read_sleepsign_signals(nohead)
    with pytest.raises(ValueError, match="1 ch_names for 3 channels"):
        read_sleepsign_signals(_ss_signals(tmp_path), ch_names=["EEG"])


_SS_JUDGE_HEAD = (_SS_HEAD + "Time,Epoch No.,Stage,Free CV%,FFT Theta_Ratio,\r\n"
                  ",,,%,%,\r\n")


def _ss_judge_row(i, stage, feature="1.0"):
    minute, sec = divmod(10 * i, 60)
    return f"18/10/2018 11:{5 + minute:02d}:{sec:02d},{i},{stage},{feature},2.0,\r\n"


def _ss_judge(tmp_path, edit=None):
    rows = [_ss_judge_row(i, s) for i, s in enumerate(["W", "NR", "R", "W*", "NR", "R"])]
    if edit is not None:
        edit(rows)
    path = tmp_path / "judge.txt"
    path.write_text(_SS_JUDGE_HEAD + "".join(rows))
    return path


def _delete(i):
    def fn(rows):
        del rows[i]
    return fn


SS_JUDGE_BAD = [
    pytest.param(_set(2, _ss_judge_row(2, "XX")), ValueError,
                 r"unknown SleepSign stage code\(s\) \['XX'\]", id="unknown-stage"),
    pytest.param(_set(2, _ss_judge_row(2, "")), ValueError,
                 r"unknown SleepSign stage code\(s\) \[''\]", id="missing-stage"),
    pytest.param(_set(2, _ss_judge_row(2, "W").replace(",2,W", ",x,W")), ValueError,
                 "non-integer epoch number", id="bad-epoch-number"),
    pytest.param(lambda rows: rows.clear(), ValueError,
                 r"no epoch after the header \(empty hypnogram\)", id="no-epoch"),
    pytest.param(_set(2, "18/10/2018 11:05:30,2\r\n"), ValueError, "row|column|Stage",
                 id="row-without-stage-column"),
    pytest.param(_delete(2), ValueError, "missing|gap|epoch 2", id="missing-epoch-number"),
    pytest.param(_set(2, _ss_judge_row(2, "W", feature="abc")), ValueError, "non-numeric",
                 id="non-numeric-feature"),
]


@pytest.mark.parametrize("edit, exc, match", SS_JUDGE_BAD)
def test_read_sleepsign_hypnogram_bad_rows(tmp_path, edit, exc, match):
    path = _ss_judge(tmp_path, edit)
    with pytest.raises(exc, match=match):
        read_sleepsign_hypnogram(path)


def test_read_sleepsign_hypnogram_wrong_file_kind(tmp_path):
    with pytest.raises(ValueError, match="no 'Time,Epoch No.,Stage' header row"):
        read_sleepsign_hypnogram(_ss_signals(tmp_path))
    with pytest.raises(FileNotFoundError, match="SleepSign export not found"):
        read_sleepsign_hypnogram(tmp_path / "none.txt")


TIMESTAMPED_BAD = [
    pytest.param("00:00:00.00\t1.0\t2.0\n00:00:00.01\t1.0\n", "different numbers of values",
                 id="ragged-rows"),
    pytest.param("00:00:00.00\t1.0\n00:00:00.01\tabc\n", "non-numeric value", id="non-numeric"),
    pytest.param("", r"no data \(empty recording\)", id="empty"),
    pytest.param("00:00:00.00\t1.0\n00:00:00.01\n00:00:00.02\t3.0\n", "missing|line 2",
                 id="row-without-value"),
    pytest.param("garbage\t1.0\nxx\t2.0\n", "time stamp", id="bad-time-stamp"),
    pytest.param("00:00:00.00\t1.0\n00:00:00.00\t2.0\n", "time stamps|sfreq",
                 id="constant-time-stamps"),
]


@pytest.mark.parametrize("text, match", TIMESTAMPED_BAD)
def test_read_timestamped_text_bad_rows(tmp_path, text, match):
    path = tmp_path / "demo_eeg.txt"
    path.write_text(text)
    with pytest.raises(ValueError, match=match):
        read_timestamped_text(path)


def test_read_timestamped_text_single_sample_and_ch_names(tmp_path):
    path = tmp_path / "demo_eeg.txt"
    path.write_text("00:00:00.00\t1.0\t2.0\n")
    with pytest.raises(ValueError, match=r"a single sample; .*pass sfreq="):
        read_timestamped_text(path)
    assert read_timestamped_text(path, sfreq=100).signals.shape == (2, 1)
    path.write_text("00:00:00.000\t1.0\t2.0\n00:00:00.010\t3.0\t4.0\n")
    with pytest.raises(ValueError, match=r"1 ch_names for 2 value column\(s\)"):
        read_timestamped_text(path, ch_names=["EEG"])


# ---------------------------------------------------------------- preprocess_recordings
def _reader(n):
    return {"X": np.zeros((n, 2, 10), np.float32), "y": ["W"] * n, "sfreq": 100.0}


PREPROCESS_BAD = [
    pytest.param(lambda: preprocess_recordings([], _reader), "recordings is empty",
                 id="no-recording"),
    pytest.param(lambda: preprocess_recordings([0, 0], _reader),
                 "All 2 recordings have 0 epochs", id="all-empty"),
    pytest.param(lambda: preprocess_recordings([1], 5), "reader must be callable",
                 id="reader-not-callable"),
    pytest.param(lambda: preprocess_recordings([1], lambda r: np.zeros((1, 2, 10))),
                 "must return a Bunch/dict with 'X' and 'y'", id="reader-returns-array"),
    pytest.param(lambda: preprocess_recordings([1], lambda r: {"X": np.zeros((1, 10)),
                                                                "y": ["W"]}),
                 r"reader returned X of shape \(1, 10\)", id="reader-2-D"),
    pytest.param(lambda: preprocess_recordings([2], lambda r: {"X": np.zeros((2, 2, 10)),
                                                                "y": ["W"]}),
                 "2 epochs but 1 labels", id="labels-shorter"),
    pytest.param(lambda: preprocess_recordings(
        [1, 2], lambda r: {"X": np.zeros((r, 2, 10 * r)), "y": ["W"] * r}),
        r"epochs of shape \(2, 20\) do not match", id="epoch-shape-differs"),
    pytest.param(lambda: preprocess_recordings(
        [1, 2], lambda r: {"X": np.zeros((r, 2, 10)), "y": ["W"] * r, "sfreq": 100 * r}),
        "sampling rate 200 Hz differs from recording 0's 100 Hz", id="sfreq-differs"),
    pytest.param(lambda: preprocess_recordings(
        [1, 2], lambda r: {"X": np.zeros((r, 2, 10)), "y": ["W"] * r,
                           "ch_names": ["EEG", f"EMG{r}"]}),
        r"channels \['EEG', 'EMG2'\] differ", id="channels-differ"),
    pytest.param(lambda: preprocess_recordings([1, 2], _reader, counts=[1, 3]),
                 "counted 3 epochs but the reader produced 2", id="wrong-counts"),
    pytest.param(lambda: preprocess_recordings([1], _reader, out="x.txt"),
                 "out must be a path ending in '.npy'", id="bad-out"),
    pytest.param(lambda: preprocess_recordings([2], _reader, transform=lambda X: X[:1]),
                 "must not add or remove epochs", id="transform-drops-epochs"),
    pytest.param(lambda: preprocess_recordings(
        [1], lambda r: {"X": np.full((1, 2, 10), np.nan), "y": ["W"]}), "NaN",
        id="reader-returns-NaN"),
    pytest.param(lambda: preprocess_recordings(
        [1], lambda r: {"X": np.ones((1, 2, 10)) * 1j, "y": ["W"]}), "real|complex",
        id="reader-returns-complex"),
]


@pytest.mark.parametrize("call, match", PREPROCESS_BAD)
def test_preprocess_recordings_bad_input(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_preprocess_recordings_empty_recording_is_skipped_with_warning():
    with pytest.warns(UserWarning, match=r"Skipping 1 recording\(s\) with 0 epochs"):
        data = preprocess_recordings([0, 2], _reader)
    assert data.X.shape == (2, 2, 10)
    assert data.recording_info[0]["n_epochs"] == 0


# ---------------------------------------------------------------- make_synthetic_psg
SYNTHETIC_BAD = [
    pytest.param({"preset": "rat"}, "Unknown preset 'rat'", id="preset"),
    pytest.param({"n_subjects": 0}, "n_subjects must be >= 1", id="n_subjects-0"),
    pytest.param({"n_subjects": "2"}, "n_subjects must be an integer", id="n_subjects-str"),
    pytest.param({"n_epochs": 3}, "n_epochs=3 is too small", id="n_epochs-small"),
    pytest.param({"n_epochs": 12.5}, "n_epochs must be an integer", id="n_epochs-float"),
    pytest.param({"n_nights": 0}, "n_nights must be >= 1", id="n_nights-0"),
    pytest.param({"sfreq": -1}, "sfreq must be a positive", id="sfreq-negative"),
    pytest.param({"sfreq": float("nan")}, "sfreq must be a positive, finite", id="sfreq-nan"),
    pytest.param({"sfreq": 10}, "too low", id="sfreq-low"),
    pytest.param({"epoch_seconds": 0.333}, "not a whole number of samples",
                 id="epoch-not-whole-samples"),
    pytest.param({"channels": ["EEG C3"]}, r"Unknown channel\(s\) \['EEG C3'\]",
                 id="wrong-channel-name"),
    pytest.param({"channels": []}, "channels is empty", id="channels-empty"),
    pytest.param({"channels": ["EMG submental"] * 2}, "duplicates", id="channels-duplicate"),
    pytest.param({"stage_proportions": {"W": 1, "XX": 1}}, r"unknown stage\(s\) \['XX'\]",
                 id="proportions-unknown-stage"),
    pytest.param({"stage_proportions": [1, 1, 1, 1, np.nan]}, "finite and > 0",
                 id="proportions-nan"),
    pytest.param({"stage_proportions": [1, 1]}, "must have 5 values", id="proportions-len"),
    pytest.param({"noise_level": np.inf}, "noise_level must be a finite", id="noise-inf"),
    pytest.param({"random_state": "abc"}, "random_state must be", id="random_state-str"),
    pytest.param({"return_X_y": True, "return_continuous": True}, "cannot be combined",
                 id="return-both"),
]


@pytest.mark.parametrize("kwargs, match", SYNTHETIC_BAD)
def test_make_synthetic_psg_bad_arguments(kwargs, match):
    kwargs = {"n_subjects": 1, "n_epochs": 12, **kwargs}
    with pytest.raises(ValueError, match=match):
        make_synthetic_psg(**kwargs)


# ---------------------------------------------------------------- DREAMS
def test_load_dreams_missing_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match="DREAMS folder not found"):
        load_dreams(tmp_path / "nowhere")
    with pytest.raises(ValueError, match=r"No DREAMS excerpt \(txt\) found"):
        load_dreams(tmp_path)


DREAMS_BAD = [
    pytest.param({"excerpts": [1], "epoch_seconds": 7}, ValueError, "multiple of 5 s",
                 id="epoch-not-multiple-of-5s"),
    pytest.param({"excerpts": [1, 2]}, ValueError,
                 r"different sampling rates \(excerpt1: 100 Hz, excerpt2: 200 Hz\)",
                 id="mismatched-rates"),
    pytest.param({"excerpts": [99]}, FileNotFoundError, "Hypnogram_excerpt99.txt",
                 id="missing-excerpt"),
    pytest.param({"excerpts": [1], "channels": ["Fz"]}, ValueError,
                 r"channel\(s\) \['Fz'\] not found", id="wrong-channel-name"),
    pytest.param({"excerpts": [1], "source": "csv"}, ValueError, "source must be 'txt' or 'edf'",
                 id="bad-source"),
    pytest.param({"excerpts": [1], "sfreq": 200, "resample_mismatched": "raise"}, ValueError,
                 "sampled at 100 Hz, not at the requested 200 Hz", id="rate-raise"),
    pytest.param({"excerpts": [3], "source": "edf"}, ValueError, "different sampling rates",
                 id="edf-mixed-rates"),
]


@pytest.mark.shared_data
@pytest.mark.parametrize("kwargs, exc, match", DREAMS_BAD)
def test_load_dreams_bad_arguments(shared_data, kwargs, exc, match):
    with pytest.raises(exc, match=match):
        load_dreams(shared_data / "dreams", **kwargs)


@pytest.mark.shared_data
def test_load_dreams_corrupt_text_files(shared_data, tmp_path):
    src = shared_data / "dreams"
    shutil.copy(src / "Hypnogram_excerpt1.txt", tmp_path)
    (tmp_path / "excerpt1.txt").write_text("[C3-A1]\n1.0\nabc\n")
    with pytest.raises(ValueError, match="non-numeric value"):
        load_dreams(tmp_path, excerpts=[1])
    (tmp_path / "excerpt1.txt").write_text("no header\n1.0\n")
    with pytest.raises(ValueError, match=r"expected a '\[name\]' header line"):
        load_dreams(tmp_path, excerpts=[1])
    (tmp_path / "excerpt1.txt").write_text("[C3-A1]\n")
    with pytest.raises(ValueError, match=r"no data after the header \(empty recording\)"):
        load_dreams(tmp_path, excerpts=[1])
    (tmp_path / "excerpt1.txt").write_text("[C3-A1]\n" + "1.0\n" * 1000)
    with pytest.raises(ValueError, match="do not match the hypnogram"):
        load_dreams(tmp_path, excerpts=[1])
    lines = (src / "Hypnogram_excerpt1.txt").read_text().splitlines()
    lines[1] = "7"  # a code outside DREAMS_RK_MAP
    (tmp_path / "Hypnogram_excerpt1.txt").write_text("\n".join(lines) + "\n")
    shutil.copy(src / "excerpt1.txt", tmp_path)
    with pytest.raises(ValueError, match=r"unknown hypnogram code\(s\) \[7\]"):
        load_dreams(tmp_path, excerpts=[1])


# ============================================================================
# Classifiers of sklearn_sleep.models
# ============================================================================
_SSC_TINY = {"module__stem_channels": 8, "module__se_widths": (8, 16),
                 "module__blocks_per_stage": 1, "module__se_reduction": 4,
                 "module__cnn_channels": (8, 16, 16), "module__cnn_kernels": (25, 8, 8),
                 "module__embed_dim": 16, "module__fc_hidden": 16}
_MOUSE_T_TINY = {"module__n_layers": 1, "module__d_model": 32, "module__n_heads": 4,
                     "module__d_ff": 64, "module__head_hidden": 32}
#: name -> (n_chans, n_times, human stages?, tiny settings)
NETS = {
    "ULWSleepNetClassifier": (4, 3000, True, {}),
    "MMASleepNetClassifier": (4, 1000, True, {}),
    "MASleepNetClassifier": (4, 1000, True, {}),
    "SSCSleepNetClassifier": (1, 300, True, _SSC_TINY),
    "MouseCNNClassifier": (2, 512, False, {}),
    "MouseCNNAttentionClassifier": (2, 512, False, {}),
    "MouseTransformerClassifier": (2, 512, False, _MOUSE_T_TINY),
    "SlumberNetClassifier": (2, 32, False, {"module__n_blocks": 2, "module__bn_momentum": None}),
}


def _net(name, **kwargs):
    params = dict(max_epochs=1, batch_size=16, device="cpu", random_state=0,
                  **NETS[name][3])
    params.update(kwargs)
    return getattr(models, name)(**params)


def _net_data(name, n_rep=2, seed=0):
    n_chans, n_times, human, _ = NETS[name]
    stages = ["W", "N1", "N2", "N3", "REM"] if human else ["W", "NREM", "REM"]
    y = np.array(stages * n_rep)
    X = _rng(seed).normal(size=(len(y), n_chans, n_times)).astype(np.float32)
    return X, y


@pytest.fixture(scope="module")
def fitted_nets():
    torch.manual_seed(0)
    out = {}
    for name in NETS:
        X, y = _net_data(name)
        out[name] = _net(name).fit(X, y)
    return out


NET_X_BAD = {
    "2-D": (lambda X: X[:, 0], "must be 3-D, got a 2-D"),
    "NaN": (_with_nan, r"1 NaN or infinite value\(s\) in 1 epoch"),
    "inf": (_with_inf, r"1 NaN or infinite value\(s\) in 1 epoch"),
    "complex": (lambda X: X.astype(np.complex64), "must be real-valued"),
    "strings": (lambda X: X.astype(str), "must be numeric"),
    "empty": (lambda X: X[:0], "is empty"),
}


@pytest.mark.parametrize("case", list(NET_X_BAD))
@pytest.mark.parametrize("name", list(NETS))
def test_classifier_fit_rejects_bad_X(name, case):
    X, y = _net_data(name)
    make, match = NET_X_BAD[case]
    Xb = make(X)
    with pytest.raises(ValueError, match=match):
        _net(name).fit(Xb, y[: len(Xb)] if len(Xb) < len(y) else y)


@pytest.mark.parametrize("name", list(NETS))
def test_classifier_not_fitted(name):
    X, _ = _net_data(name)
    with pytest.raises(NotFittedError, match="is not fitted yet"):
        _net(name).predict(X)


@pytest.mark.parametrize("n_labels", [4, 20])
@pytest.mark.parametrize("name", list(NETS))
def test_classifier_labels_length_differs(name, n_labels):
    X, y = _net_data(name)
    y = np.resize(y, n_labels)
    with pytest.raises(ValueError, match=rf"{len(X)} epochs but {n_labels} labels"):
        _net(name).fit(X, y)


@pytest.mark.parametrize("name", list(NETS))
def test_classifier_mne_epochs_sampling_rate_mismatch(name):
    X, y = _net_data(name)
    declared = _net(name).sfreq
    epochs = _mne_epochs(X, sfreq=2 * declared)
    with pytest.raises(ValueError, match=rf"expects input sampled at {declared:g} Hz, got "
                                         rf"{2 * declared:g} Hz"):
        _net(name).fit(epochs, y)


@pytest.mark.parametrize("change", ["more-channels", "fewer-channels", "other-n_times"])
@pytest.mark.parametrize("name", list(NETS))
def test_classifier_predict_shape_differs_from_fit(fitted_nets, name, change):
    X, _ = _net_data(name)
    Xb = {"more-channels": np.concatenate([X, X[:, :1]], axis=1),
          "fewer-channels": X[:, :-1] if X.shape[1] > 1 else X[:, :0],
          "other-n_times": X[:, :, : X.shape[2] // 2]}[change]
    with pytest.raises(ValueError, match=r"was fitted on epochs of shape \(n_chans, n_times\)"
                                         r"|is empty"):
        fitted_nets[name].predict(Xb)


@pytest.mark.parametrize("name", list(NETS))
def test_classifier_predict_nan(fitted_nets, name):
    X, _ = _net_data(name)
    with pytest.raises(ValueError, match="NaN or infinite"):
        fitted_nets[name].predict_proba(_with_nan(X))


@pytest.mark.parametrize("signal", ["flat", "clipped"])
@pytest.mark.parametrize("name", list(NETS))
def test_classifier_flat_or_clipped_input_gives_finite_probabilities(fitted_nets, name,
                                                                      signal):
    X, _ = _net_data(name)
    X = {"flat": lambda X: np.zeros_like(X), "clipped": lambda X: np.clip(X, -0.5, 0.5)}[
        signal](X)
    proba = fitted_nets[name].predict_proba(X)
    assert np.isfinite(proba).all()
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-5)


@pytest.mark.parametrize("name", list(NETS))
def test_classifier_extreme_amplitude_never_gives_nan(fitted_nets, name):
    # finite but extreme input (X * 1e30, e.g. a unit error) overflows inside the float32
    # networks MMASleepNet, MouseCNNAttention and MouseTransformer: predict_proba must
    # then raise (naming the non-finite probabilities), never return NaN
    X, _ = _net_data(name)
    X = (X * 1e30).astype(np.float32)  # finite in float32
    try:
        proba = fitted_nets[name].predict_proba(X)
    except ValueError as exc:
        assert re.search("non-finite probabilities", str(exc)), str(exc)
        return
    assert np.isfinite(proba).all(), "NaN/inf probabilities returned without an error"


@pytest.mark.parametrize("name", list(NETS))
def test_classifier_unknown_label_with_classes(name):
    X, y = _net_data(name)
    classes = sorted(set(y.tolist()))[:-1]
    with pytest.raises(ValueError, match=r"y contains label\(s\) .* that are not in classes="):
        _net(name, classes=classes).fit(X, y)


@pytest.mark.parametrize("name", list(NETS))
def test_classifier_channel_count_the_network_cannot_take(name):
    X, y = _net_data(name)
    if name == "ULWSleepNetClassifier":
        # documented: one extractor shared by all channels, so any channel count works;
        # the count seen at fit is then enforced at predict
        clf = _net(name).fit(X[:, :1], y)
        with pytest.raises(ValueError, match=r"fitted on epochs of shape .* \(1, 3000\)"):
            clf.predict(X)
        return
    Xb = np.concatenate([X, X[:, :1]], axis=1) if name == "SSCSleepNetClassifier" else X[:, :1]
    with pytest.raises(ValueError, match=r"n_chans=\d|out of range for input with n_chans"):
        _net(name).fit(Xb, y)


@pytest.mark.parametrize("name", list(NETS))
def test_classifier_single_class_without_classes(name):
    X, _ = _net_data(name)
    y = np.array(["W"] * len(X))
    with pytest.raises(ValueError, match=r"y has only one class \(\['W'\]\); a classifier "
                                         r"needs at least 2\. Pass classes="):
        _net(name).fit(X, y)


# ---------------------------------------------------------------- SleepNetClassifier
class _Tiny(torch.nn.Module):
    def __init__(self, n_chans=2, n_times=100, n_classes=3):
        super().__init__()
        self.lin = torch.nn.Linear(n_chans * n_times, n_classes)

    def forward(self, x):
        return self.lin(x.flatten(1))


def _tiny(**kwargs):
    return SleepNetClassifier(_Tiny, max_epochs=1, batch_size=8, device="cpu",
                              random_state=0, **kwargs)


XT = _epochs(n=12, c=2, t=100)
YT = np.array(["W", "N2", "REM"] * 4)
BASE_BAD = [
    pytest.param(lambda: _tiny().fit(XT, np.array([0, np.nan, 1] * 4)), ValueError,
                 "NaN", id="y-NaN"),
    pytest.param(lambda: _tiny().fit(XT, np.linspace(0, 1, 12)), ValueError,
                 "Unknown label type: continuous", id="y-continuous"),
    pytest.param(lambda: _tiny().fit(XT, YT[:, None]), ValueError, "y must be 1-D",
                 id="y-2-D"),
    pytest.param(lambda: _tiny().fit(XT, None), ValueError, "y is required", id="y-None"),
    pytest.param(lambda: _tiny(class_weight=[1, 2]).fit(XT, YT), ValueError,
                 "class_weight has 2 entries but there are 3 classes", id="class_weight-len"),
    pytest.param(lambda: _tiny(class_weight={"W": 1}).fit(XT, YT), ValueError,
                 r"no weight for class\(es\) \['N2', 'REM'\]", id="class_weight-dict"),
    pytest.param(lambda: _tiny(class_weight="attnsleep").fit(XT, np.array([7, 8, 9] * 4)),
                 ValueError, "cannot be identified as stages", id="attnsleep-weights-non-stage"),
    pytest.param(lambda: _tiny(early_stopping=3).fit(XT, YT), ValueError,
                 "early_stopping needs a validation set", id="early-stopping-no-valid"),
    pytest.param(lambda: _tiny(validation_fraction=1.5).fit(XT, YT), ValueError,
                 r"validation_fraction must be in \(0, 1\)", id="validation-fraction"),
    pytest.param(lambda: _tiny().fit(XT, YT).partial_fit(XT, np.array(["N1"] * 12)),
                 ValueError, r"unseen at fit", id="partial-fit-unknown-label"),
    pytest.param(lambda: _tiny().fit(XT, YT, groups=[0, 1]), ValueError,
                 "groups must be 1-D with one entry per epoch", id="groups-length"),
    pytest.param(lambda: _tiny().fit(XT, np.array(["W", None, "REM"] * 4, dtype=object)),
                 ValueError, r"y has 4 missing label\(s\) \(None/NaN\), first at index 1",
                 id="y-with-None"),
    pytest.param(lambda: _tiny().fit(XT, np.array(["W", 1, "REM"] * 4, dtype=object)),
                 ValueError, "mixes text and numeric labels", id="y-mixed-str-int"),
]


@pytest.mark.parametrize("call, exc, match", BASE_BAD)
def test_sleep_net_classifier_bad_input(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


def test_single_class_fold_with_classes_keeps_all_columns():
    # Documented behaviour of classes=: a training set that lacks classes still gives
    # one probability column per listed class, in sorted order (as scikit-learn).
    clf = _tiny(classes=["W", "N1", "N2", "N3", "REM"]).fit(XT, np.array(["W"] * 12))
    assert clf.classes_.tolist() == ["N1", "N2", "N3", "REM", "W"]
    proba = clf.predict_proba(XT)
    assert proba.shape == (12, 5)
    assert np.isfinite(proba).all()


def _cv_data():
    """3 subjects; only subject 2 has REM, so the fold testing on it trains without REM."""
    y = np.array(["W", "N2"] * 4 + ["W", "N2"] * 4 + ["W", "REM"] * 4)
    groups = np.repeat([0, 1, 2], 8)
    X = _epochs(n=len(y), c=2, t=100, seed=3)
    return X, y, groups


@pytest.mark.parametrize("classes", [None, ["W", "N2", "REM"]])
def test_cross_validate_fold_without_a_class(classes):
    X, y, groups = _cv_data()
    res = cross_validate(_tiny(classes=classes), X, y, groups=groups, cv=GroupKFold(3),
                         scoring=sleep_scoring(), return_estimator=True,
                         return_indices=True, error_score="raise")
    for est, test_idx in zip(res["estimator"], res["indices"]["test"]):
        train_classes = set(np.delete(y, test_idx).tolist())
        expected = ["N2", "REM", "W"] if classes else [
            c for c in ("N2", "REM", "W") if c in train_classes]
        assert est.classes_.tolist() == expected
        assert est.predict_proba(X[test_idx]).shape == (len(test_idx), len(expected))
    for key in ("test_accuracy", "test_macro_f1", "test_gmean"):
        assert np.isfinite(res[key]).all()


def test_cross_validate_fold_without_a_class_feature_pipeline():
    X, y, groups = _cv_data()
    pipe = make_pipeline(BandPowerFeatures(SFREQ, bands={"delta": (0.5, 4), "theta": (4, 8),
                                                         "alpha": (8, 12), "beta": (16, 30)}),
                         LogisticRegression(max_iter=200))
    res = cross_validate(pipe, X, y, groups=groups, cv=GroupKFold(3),
                         scoring=sleep_scoring(), error_score="raise")
    assert np.isfinite(res["test_accuracy"]).all()


# ============================================================================
# sklearn_sleep.metrics
# ============================================================================
METRIC_FUNCS = {
    "sleep_scores": sleep_scores,
    "kappa_score": kappa_score,
    "macro_f1_score": macro_f1_score,
    "macro_gmean_score": macro_gmean_score,
    "per_class_f1": per_class_f1,
    "sleep_confusion_matrix": sleep_confusion_matrix,
}
METRIC_BAD = [
    pytest.param(["W", "N1"], ["W", "N1", "N2"], ValueError, "different lengths",
                 id="length-differs"),
    pytest.param([[0, 1]], [[0, 1]], ValueError, "must be 1-D", id="2-D"),
    pytest.param([], [], ValueError, "are empty", id="empty"),
    pytest.param(["W", "N1", "N2"], [0, 1, 2], ValueError, "Mix of label input types",
                 id="str-vs-int"),
    pytest.param([0.0, np.nan, 2.0], [0, 1, 2], ValueError, "NaN", id="NaN"),
]


@pytest.mark.parametrize("y_true, y_pred, exc, match", METRIC_BAD)
@pytest.mark.parametrize("func", list(METRIC_FUNCS))
def test_metrics_bad_input(func, y_true, y_pred, exc, match):
    with pytest.raises(exc, match=match):
        METRIC_FUNCS[func](y_true, y_pred)


MIXED_OBJECT = np.array(["W", 1, "N2"], dtype=object)
WITH_NONE = np.array(["W", None, "N2"], dtype=object)


@pytest.mark.parametrize("y_true", [
    pytest.param(MIXED_OBJECT, id="object-str-int"),
    pytest.param(WITH_NONE, id="object-None"),
])
@pytest.mark.parametrize("func", list(METRIC_FUNCS))
def test_metrics_object_labels_mixing_types(func, y_true):
    with pytest.raises(ValueError, match=r"y_true mixes text and numeric labels|y_true has 1 "
                                         r"missing label\(s\) \(None/NaN\)"):
        METRIC_FUNCS[func](y_true, ["W", "N1", "N2"])


def test_macro_f1_unknown_requested_label():
    # issue 8: a requested class in neither array is undefined: NaN with a warning
    # (one rule for every metric, see sklearn_sleep.metrics), never a silent 0
    with pytest.warns(UndefinedMetricWarning, match=r"labels \['XX'\] occur in neither"):
        assert np.isnan(macro_f1_score(["W", "N1"], ["W", "N1"], labels=["XX"]))


def test_metrics_unknown_requested_label():
    with pytest.warns(UndefinedMetricWarning, match=r"labels \['XX'\] occur in neither"):
        assert np.isnan(macro_gmean_score(["W", "N1"], ["W", "N1"], labels=["XX"]))
    with pytest.raises(ValueError, match="At least one label specified must be in y_true"):
        sleep_confusion_matrix(["W", "N1"], ["W", "N1"], labels=["XX"])


def test_kappa_single_class_warns_and_is_nan():
    # Documented scikit-learn behaviour: kappa is undefined with one label; it warns.
    with pytest.warns(UserWarning, match="only one label in common|single label"):
        value = kappa_score(["W", "W", "W"], ["W", "W", "W"])
    assert np.isnan(value)


# ============================================================================
# sklearn_sleep.hypnogram
# ============================================================================
HYPNOGRAM_BAD_INPUT = [
    pytest.param(["W", "N9"], {}, r"Unknown stage label\(s\) \['N9'\]", id="unknown-label"),
    pytest.param(np.array(["W", None], dtype=object), {}, r"Unknown stage label\(s\) \['None'\]",
                 id="missing-label-None"),
    pytest.param([0.0, np.nan], {}, "non-integer or NaN float codes", id="NaN-code"),
    pytest.param([0, 1.5], {}, "non-integer or NaN float codes", id="fractional-code"),
    pytest.param([0, 7], {}, r"Unknown stage code\(s\) \[7\]", id="code-out-of-range"),
    pytest.param([0, -1], {}, r"Unknown stage code\(s\) \[-1\]", id="negative-code"),
    pytest.param([[0, 1]], {}, "must be 1-D", id="2-D"),
    pytest.param([], {}, "hypnogram is empty", id="empty"),
    pytest.param(["W", "NREM"], {}, r"Unknown stage label\(s\) \['NREM'\]",
                 id="mouse-label-with-aasm-stages"),
    pytest.param(np.array([0, 1], dtype=complex), {}, "Unknown stage label", id="complex"),
    pytest.param([0, 1], {"epoch_seconds": 0}, "epoch_seconds must be a positive",
                 id="epoch_seconds-0"),
    pytest.param([0, 1], {"stages": "rat"}, "stages must be 'aasm', 'mouse'", id="stages-str"),
    pytest.param([0, 1], {"stages": ["N1", "N2"]}, "must contain the wake stage",
                 id="stages-without-W"),
]


def _hypnogram_cases():
    for func in ("sleep_statistics", "transition_matrix"):
        for case in HYPNOGRAM_BAD_INPUT:
            hypnogram, kwargs, match = case.values
            if func == "transition_matrix" and "epoch_seconds" in kwargs:
                continue  # transition_matrix has no epoch_seconds
            yield pytest.param(func, hypnogram, kwargs, match, marks=case.marks,
                               id=f"{case.id}-{func}")


@pytest.mark.parametrize("func, hypnogram, kwargs, match", list(_hypnogram_cases()))
def test_hypnogram_bad_input(func, hypnogram, kwargs, match):
    with pytest.raises(ValueError, match=match):
        getattr(hyp_mod, func)(hypnogram, **kwargs)


def test_hypnogram_ints_in_object_arrays_are_stage_codes():
    # Documented: an int is a stage code (4 = REM), never the R&K alias '4' (= S4 -> N3)
    # that the *string* '4' stands for; mixing both in one hypnogram is consistent.
    stats = hyp_mod.sleep_statistics(np.array(["W", 4, "4"], dtype=object))
    assert (stats["REM_min"], stats["N3_min"]) == (0.5, 0.5)
    assert hyp_mod.transition_matrix(np.array(["W", 4], dtype=object))[0, 4] == 1


def test_statistics_table_names_the_bad_hypnogram():
    with pytest.raises(ValueError, match=r"Hypnogram 'night2': Unknown stage label\(s\) \['XX'\]"):
        hyp_mod.statistics_table({"night1": ["W", "N2"], "night2": ["W", "XX"]})
    with pytest.raises(ValueError, match="No hypnograms given"):
        hyp_mod.statistics_table([])


HYPNOGRAM_CSV_BAD = [
    pytest.param("epoch,onset_s,stage\n0,0,W\n1,30,\n", r"empty stage in row\(s\) \[1\]",
                 id="missing-stage"),
    pytest.param("epoch,onset_s,stage\n0,0,W\n1,abc,N2\n", "non-numeric value in column",
                 id="non-numeric-onset"),
    pytest.param("epoch,onset_s,stage\n", "contains no epochs", id="no-epoch"),
    pytest.param("a,b\n1,2\n", "stage", id="no-stage-column"),
]


@pytest.mark.parametrize("text, match", HYPNOGRAM_CSV_BAD)
def test_read_hypnogram_csv_bad_files(tmp_path, text, match):
    path = tmp_path / "hyp.csv"
    path.write_text(text)
    with pytest.raises(ValueError, match=match):
        hyp_mod.read_hypnogram_csv(path)


def test_hypnogram_csv_missing_file_and_bad_write(tmp_path):
    with pytest.raises(FileNotFoundError, match="Hypnogram file not found"):
        hyp_mod.read_hypnogram_csv(tmp_path / "none.csv")
    with pytest.raises(ValueError, match="non-empty 1-D"):
        hyp_mod.write_hypnogram_csv(tmp_path / "h.csv", [])
    with pytest.raises(ValueError, match="classes is required with proba"):
        hyp_mod.write_hypnogram_csv(tmp_path / "h.csv", ["W", "N2"], proba=np.ones((2, 2)))


# ============================================================================
# sklearn_sleep.persistence
# ============================================================================
_BANDS = {"delta": (0.5, 4), "theta": (4, 8), "alpha": (8, 12), "beta": (16, 30)}


def _stager(**kwargs):
    pipe = make_pipeline(BandPowerFeatures(SFREQ, bands=_BANDS), LogisticRegression())
    params = {"ch_names": ["EEG", "EMG"], "sfreq": SFREQ, "epoch_seconds": 2}
    params.update(kwargs)
    return SleepStager(pipe, **params)


XS = _epochs(n=12, c=2, t=200, seed=4)
YS = np.array(["W", "N2", "REM"] * 4)


@pytest.fixture(scope="module")
def fitted_stager():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # lbfgs convergence on noise
        return _stager().fit(XS, YS)


STAGER_PREDICT_BAD = [
    pytest.param(lambda: (XS, {"ch_names": ["EEG", "EOG"]}), ValueError,
                 r"Channel mismatch: .* missing from the input: \['EMG'\]; not used by the "
                 r"model: \['EOG'\]", id="wrong-channel-names"),
    pytest.param(lambda: (XS[:, :1], {}), ValueError, "expects 2 channels", id="fewer-channels"),
    pytest.param(lambda: (np.concatenate([XS, XS[:, :1]], 1), {}), ValueError,
                 "expects 2 channels", id="more-channels"),
    pytest.param(lambda: (XS, {"sfreq": 200}), ValueError,
                 "trained on data sampled at 100 Hz but the input is sampled at 200 Hz",
                 id="sfreq-mismatch"),
    pytest.param(lambda: (_mne_epochs(XS, 250.0), {}), ValueError,
                 "sampled at 250 Hz", id="mne-epochs-sfreq-mismatch"),
    pytest.param(lambda: (XS[:, :, :100], {}), ValueError,
                 "expects epochs of 200 samples", id="epoch-length"),
    pytest.param(lambda: (XS[:, 0], {}), ValueError, "must be 3-D", id="2-D"),
    pytest.param(lambda: (_with_nan(XS), {}), ValueError, "NaN or infinite", id="NaN"),
    pytest.param(lambda: (XS.astype(complex), {}), ValueError, "real-valued", id="complex"),
    pytest.param(lambda: (XS.astype(str), {}), ValueError, "numeric", id="strings"),
    pytest.param(lambda: (XS[:0], {}), ValueError, "empty", id="empty"),
    pytest.param(lambda: (XS, {"ch_names": ["EEG"]}), ValueError,
                 "ch_names has 1 names but X has 2 channels", id="ch_names-length"),
]


@pytest.mark.parametrize("method", ["predict", "predict_proba"])
@pytest.mark.parametrize("data, exc, match", STAGER_PREDICT_BAD)
def test_sleep_stager_predict_bad_input(fitted_stager, method, data, exc, match):
    X, kwargs = data()
    with pytest.raises(exc, match=match):
        getattr(fitted_stager, method)(X, **kwargs)


def test_sleep_stager_reorders_channels_by_name(fitted_stager):
    expected = fitted_stager.predict_proba(XS)
    got = fitted_stager.predict_proba(XS[:, ::-1], ch_names=["EMG", "EEG"])
    np.testing.assert_allclose(got, expected)


STAGER_FIT_BAD = [
    pytest.param({}, lambda: (XS, YS[:3]), "12 epochs but 3 labels", id="labels-shorter"),
    pytest.param({}, lambda: (XS, None), "y is required", id="labels-None"),
    pytest.param({"ch_names": "EEG"}, lambda: (XS, YS), "must be a sequence of channel names",
                 id="ch_names-str"),
    pytest.param({"ch_names": ["EEG", "EEG"]}, lambda: (XS, YS), "duplicate name",
                 id="ch_names-duplicate"),
    pytest.param({"ch_names": ["EEG"]}, lambda: (XS, YS), "expects 1 channels",
                 id="ch_names-count"),
    pytest.param({"epoch_seconds": 3}, lambda: (XS, YS), "expects epochs of 300 samples",
                 id="epoch-length"),
    pytest.param({"sfreq": 0}, lambda: (XS, YS), "sfreq must be a positive", id="sfreq-0"),
    pytest.param({"epoch_seconds": 0.333}, lambda: (XS, YS), "not a whole number of samples",
                 id="epoch-not-whole-samples"),
    pytest.param({}, lambda: (_with_nan(XS), YS), "NaN or infinite", id="NaN"),
]


@pytest.mark.parametrize("kwargs, data, match", STAGER_FIT_BAD)
def test_sleep_stager_fit_bad_input(kwargs, data, match):
    X, y = data()
    with pytest.raises(ValueError, match=match):
        _stager(**kwargs).fit(X, y)


def test_sleep_stager_not_fitted():
    with pytest.raises(NotFittedError, match="not fitted"):
        _stager().predict(XS)
    with pytest.raises(NotFittedError, match="not fitted"):
        _stager().save("never.joblib")


@pytest.fixture(scope="module")
def model_files(fitted_stager, tmp_path_factory):
    folder = tmp_path_factory.mktemp("models")
    good = fitted_stager.save(folder / "model.joblib")
    raw = good.read_bytes()
    files = {"good": good}
    files["truncated"] = folder / "truncated.joblib"
    files["truncated"].write_bytes(raw[: len(raw) // 2])
    files["garbage"] = folder / "garbage.joblib"
    files["garbage"].write_bytes(b"garbage" * 10)
    files["empty"] = folder / "empty.joblib"
    files["empty"].write_bytes(b"")
    files["dict"] = folder / "dict.joblib"
    joblib.dump({"a": 1}, files["dict"])
    files["future-format"] = folder / "future.joblib"
    joblib.dump({"format": "sklearn_sleep.SleepStager", "format_version": 99},
                files["future-format"])
    files["other-major"] = folder / "major.joblib"
    joblib.dump({"format": "sklearn_sleep.SleepStager", "format_version": 1,
                 "metadata": {"versions": {"sklearn_sleep": "99.0.0"}},
                 "model": fitted_stager}, files["other-major"])
    files["plain"] = folder / "plain.joblib"
    joblib.dump(fitted_stager.estimator_, files["plain"])
    return files


LOAD_MODEL_BAD = [
    pytest.param("missing", FileNotFoundError, "Model file not found", id="missing"),
    pytest.param("truncated", ModelFileError, "it is truncated, corrupt", id="truncated"),
    pytest.param("garbage", ModelFileError, "it is truncated, corrupt", id="garbage"),
    pytest.param("empty", ModelFileError, r"\(0 bytes\): it is truncated", id="empty"),
    pytest.param("dict", ModelFileError, r"does not contain a model \(found a dict\)",
                 id="not-a-model"),
    pytest.param("future-format", ModelFileError, "format version 99", id="future-format"),
    pytest.param("other-major", IncompatibleModelError, "different major version",
                 id="other-major-version"),
]


@pytest.mark.parametrize("kind, exc, match", LOAD_MODEL_BAD)
def test_load_model_bad_files(model_files, tmp_path, kind, exc, match):
    path = model_files.get(kind, tmp_path / "missing.joblib")
    with pytest.raises(exc, match=match):
        load_model(path, trusted=True)  # pickle files are refused without trusted=True
    assert issubclass(exc, (ValueError, FileNotFoundError))


def test_load_model_plain_estimator_warns(model_files):
    with pytest.warns(UserWarning, match="without metadata"):
        model = load_model(model_files["plain"], trusted=True)
    assert hasattr(model, "predict")


# ============================================================================
# The command line: sklearn_sleep.cli.main([...]) -> 2 and one line on stderr
# ============================================================================
def _cli(args):
    err, out = io.StringIO(), io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out), \
            warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rc = cli_main(args)
    return rc, err.getvalue().strip().splitlines(), out.getvalue()


@pytest.fixture(scope="module")
def cli_files(model_files, edf_dir, tmp_path_factory):
    folder = tmp_path_factory.mktemp("cli")
    _, psg, hyp, _ = edf_dir
    files = dict(model_files)
    files["psg"] = psg
    files["hyp"] = hyp
    files["truncated-psg"] = _edit(psg, folder / "trunc-PSG.edf",
                                   _corrupt_psg("truncated-data", psg))
    files["truncated-hyp"] = _edit(hyp, folder / "trunc-Hypnogram.edf", lambda raw: raw[:-50])
    texts = {
        "pred": "epoch,onset_s,stage\n0,0,W\n1,30,N2\n",
        "ref-unknown": "epoch,onset_s,stage\n0,0,W\n1,30,XX\n",
        "ref-missing": "epoch,onset_s,stage\n0,0,W\n1,30,\n",
        "ref-longer": "epoch,onset_s,stage\n0,0,W\n1,30,N2\n2,60,REM\n",
        "pred-no-onset": "stage\nW\nN2\n",
        "ref-no-onset-longer": "stage\nW\nN2\nREM\n",
    }
    for key, text in texts.items():
        files[key] = folder / f"{key}.csv"
        files[key].write_text(text)
    files["empty-dir"] = folder / "empty"
    files["empty-dir"].mkdir()
    files["out"] = folder / "out.csv"
    return files


CLI_BAD = [
    pytest.param(["stage", "{missing}", "--model", "{good}", "--out", "{out}"],
                 "recording not found", id="stage-missing-recording"),
    pytest.param(["stage", "{psg}", "--out", "{out}"], "a trained model is needed",
                 id="stage-no-model"),
    pytest.param(["stage", "{psg}", "--model", "{missing}", "--out", "{out}"],
                 "Model file not found", id="stage-missing-model"),
    pytest.param(["stage", "{psg}", "--model", "{truncated}", "--out", "{out}"],
                 "it is truncated, corrupt", id="stage-corrupt-model"),
    pytest.param(["stage", "{psg}", "--model", "{other-major}", "--out", "{out}",
                  "--trusted-model"],
                 "different major version", id="stage-incompatible-model"),
    pytest.param(["stage", "{psg}", "--model", "{plain}", "--out", "{out}", "--trusted-model"],
                 "not a SleepStager", id="stage-plain-model"),
    pytest.param(["stage", "{truncated-psg}", "--model", "{good}", "--out", "{out}"],
                 "EDF file is truncated", id="stage-truncated-edf"),
    pytest.param(["stage", "{psg}", "--model", "{good}", "--out", "{out}"],
                 r"channel\(s\) \['EEG', 'EMG'\] not found", id="stage-wrong-channels"),
    pytest.param(["train", "{missing}", "--out", "{out}"], "data folder not found",
                 id="train-missing-folder"),
    pytest.param(["train", "{empty-dir}", "--out", "{out}"], r"no Sleep-EDF 'SC4ssN\*-PSG.edf'",
                 id="train-empty-folder"),
    pytest.param(["train", "{empty-dir}", "--out", "{out}", "--format", "edf-labels"],
                 r"no '\*.edf' file", id="train-edf-labels-empty"),
    pytest.param(["demo", "--n-subjects", "1"], "--n-subjects must be at least 2",
                 id="demo-one-subject"),
    pytest.param(["demo", "--folds", "9"], "--folds must be between 2", id="demo-folds"),
    pytest.param(["demo", "--n-epochs", "2", "--n-subjects", "2", "--folds", "2"],
                 "n_epochs=2 is too small", id="demo-n-epochs"),
    pytest.param(["evaluate", "{pred}", "{missing}"], "reference not found",
                 id="evaluate-missing-reference"),
    pytest.param(["evaluate", "{missing}", "{pred}"], "Hypnogram file not found",
                 id="evaluate-missing-prediction"),
    pytest.param(["evaluate", "{pred}", "{ref-missing}"], r"empty stage in row\(s\) \[1\]",
                 id="evaluate-missing-label"),
    pytest.param(["evaluate", "{pred-no-onset}", "{ref-no-onset-longer}", "--epoch-seconds",
                  "30"], "prediction has 2 epochs but the reference has 3",
                 id="evaluate-length-mismatch"),
    pytest.param(["evaluate", "{pred}", "{truncated-hyp}"], "truncated",
                 id="evaluate-truncated-hypnogram-edf"),
    pytest.param(["evaluate", "{pred}", "{ref-unknown}"], "XX",
                 id="evaluate-unknown-reference-label"),
]


@pytest.mark.parametrize("argv, match", CLI_BAD)
def test_cli_bad_input_exit_2_one_line(cli_files, tmp_path, argv, match):
    paths = {k: str(v) for k, v in cli_files.items()}
    paths["missing"] = str(tmp_path / "missing.file")
    argv = [a.format(**paths) for a in argv] + ["--quiet"]
    rc, err, _ = _cli(argv)
    assert rc == 2, (rc, err)
    errors = [line for line in err if line.startswith("sklearn-sleep: error:")]
    assert len(errors) == 1, err
    assert re.search(match, errors[0]), errors[0]


def test_cli_usage_errors_exit_2():
    for argv in (["frobnicate"], ["demo", "--model", "no-such-model"], ["stage"]):
        rc, err, _ = _cli(argv)
        assert rc == 2
        assert any("error:" in line for line in err)


def test_cli_evaluate_reference_longer_than_prediction_is_reported(cli_files):
    rc, err, _ = _cli(["evaluate", str(cli_files["pred"]), str(cli_files["ref-longer"]),
                       "--quiet"])
    assert rc == 0
    assert any(line.startswith("note:") and "1" in line for line in err), err


# ============================================================================
# docs/robustness.md: the table of cases is generated from this module
# ============================================================================
ENTRY_POINTS = [
    (("test_transformer_", "test_band_power_", "test_epoch_scaler_", "test_channel_picker_",
      "test_scale_recordings_"),
     ("preprocessing/features transformers (ChannelPicker, Resampler, BandPassFilter, "
      "NotchFilter, EpochScaler, scale_recordings, FFTFeatures, BandPowerFeatures)")),
    (("test_segmenter_",), "EpochSegmenter.segment"),
    (("test_sampler_",), "EpochSampler"),
    (("test_read_sleep_edf_recording_",), "datasets.read_sleep_edf_recording"),
    (("test_load_sleep_edf_",), "datasets.load_sleep_edf"),
    (("test_load_edf_with_labels_", "test_read_label_file_"),
     "datasets.load_edf_with_labels / read_label_file"),
    (("test_epochs_from_array_",), "datasets.epochs_from_array"),
    (("test_read_sleepsign_", "test_read_timestamped_text_"),
     "datasets.read_sleepsign_signals / read_sleepsign_hypnogram / read_timestamped_text"),
    (("test_preprocess_recordings_",), "datasets.preprocess_recordings"),
    (("test_make_synthetic_psg_",), "datasets.make_synthetic_psg"),
    (("test_load_dreams_",), "datasets.load_dreams"),
    (("test_classifier_", "test_sleep_net_classifier_", "test_single_class_",
      "test_cross_validate_"),
     "models: the 8 network classifiers and SleepNetClassifier (incl. cross_validate)"),
    (("test_metrics_", "test_macro_f1_", "test_kappa_"), "metrics"),
    (("test_hypnogram_", "test_statistics_table_", "test_read_hypnogram_csv_"), "hypnogram"),
    (("test_sleep_stager_", "test_load_model_"), "persistence (SleepStager, load_model)"),
    (("test_cli_",), "cli.main"),
    (("test_docs_",), "this table is current (docs/robustness.md)"),
]
DOC_BEGIN = "<!-- generated by: python tests/test_robustness.py; begin -->"
DOC_END = "<!-- generated: end -->"


def _is_xfail(marks):
    return any(getattr(m, "name", None) == "xfail" for m in marks)


def _param_id(value):
    """The id pytest shows for one parametrize value (explicit id, or a plain str value)."""
    if hasattr(value, "values"):  # pytest.param(...)
        if value.id is not None:
            return value.id
        value = value.values[0] if len(value.values) == 1 else None
    if isinstance(value, (str, int, float)) and not isinstance(value, bool):
        return str(value)
    return None


def _case_counts(func):
    """(number of collected cases, number of strict-xfail cases, xfail reasons) of a test."""
    import itertools

    own = getattr(func, "pytestmark", [])
    func_xfail = [m for m in own if m.name == "xfail"]
    grids = []
    for mark in own:
        if mark.name != "parametrize":
            continue
        values = mark.args[1]
        grids.append([(getattr(v, "marks", ()), _param_id(v)) for v in values])
    if not grids:
        reasons = [(func.__name__, m.kwargs["reason"]) for m in func_xfail]
        return 1, len(func_xfail), reasons
    n = n_xfail = 0
    reasons = []
    for combo in itertools.product(*grids):
        n += 1
        marks = [m for marks, _ in combo for m in marks] + func_xfail
        if _is_xfail(marks):
            n_xfail += 1
            ids = "-".join(str(i) for _, i in combo if i is not None)
            reason = next(m.kwargs["reason"] for m in marks if m.name == "xfail")
            reasons.append((f"{func.__name__}[{ids}]", reason))
    return n, n_xfail, reasons


def robustness_table():
    """The generated part of docs/robustness.md (markdown)."""
    tests = {name: obj for name, obj in globals().items()
             if name.startswith("test_") and callable(obj)}
    rows, bugs, seen = [], [], set()
    total = total_xfail = 0
    for prefixes, label in ENTRY_POINTS:
        names = [n for n in tests if n.startswith(prefixes)]
        seen.update(names)
        n_cases = n_xfail = 0
        for name in names:
            n, x, reasons = _case_counts(tests[name])
            n_cases, n_xfail = n_cases + n, n_xfail + x
            bugs.extend(reasons)
        rows.append(f"| {label} | {len(names)} | {n_cases} | {n_xfail} |")
        total, total_xfail = total + n_cases, total_xfail + n_xfail
    unassigned = sorted(set(tests) - seen)
    assert not unassigned, f"tests without an entry point in ENTRY_POINTS: {unassigned}"
    lines = [DOC_BEGIN, "",
             "| entry point | test functions | cases (test ids) | open bugs (strict xfail) |",
             "|---|---:|---:|---:|", *rows,
             f"| **total** | {len(tests)} | **{total}** | **{total_xfail}** |", ""]
    if bugs:
        lines += [("Open bugs (each case is `xfail(strict=True)`; it turns into XPASS, i.e. "
                   "a failure, once fixed, so that the mark gets removed):"), ""]
        by_reason = {}
        for case, reason in bugs:
            by_reason.setdefault(reason, []).append(case)
        for reason, cases in by_reason.items():
            shown = ", ".join(f"`{c}`" for c in cases[:4]) + (
                f" and {len(cases) - 4} more" if len(cases) > 4 else "")
            lines.append(f"- {reason.removeprefix('BUG: ')} ({shown})")
        lines.append("")
    else:
        lines += ["No open bug: no case is marked xfail.", ""]
    lines.append(DOC_END)
    return "\n".join(lines)


def test_docs_table_is_current():
    doc = Path(__file__).resolve().parents[1] / "docs" / "robustness.md"
    if not doc.is_file():
        pytest.fail(f"{doc} is missing; write it with: python tests/test_robustness.py")
    text = doc.read_text(encoding="utf-8")
    assert DOC_BEGIN in text and DOC_END in text, "docs/robustness.md lost its markers"
    current = text[text.index(DOC_BEGIN):text.index(DOC_END) + len(DOC_END)]
    assert current == robustness_table(), (
        "docs/robustness.md is out of date with tests/test_robustness.py; regenerate it "
        "with: python tests/test_robustness.py")


def test_read_timestamped_text_rejects_nan_values(tmp_path):
    from sklearn_sleep.datasets import read_timestamped_text

    path = tmp_path / "demo.txt"
    path.write_text("09:41:15.000\t1.0\t2.0\n09:41:15.010\tnan\t2.0\n09:41:15.020\t1.0\t2.0\n")
    with pytest.raises(ValueError, match=r"NaN or infinite values, first on line 2"):
        read_timestamped_text(path)


def test_preprocess_recordings_rejects_missing_labels():
    from sklearn.utils import Bunch

    from sklearn_sleep.datasets import preprocess_recordings

    def reader(rec):
        return Bunch(X=np.zeros((3, 1, 10), dtype=np.float32), y=np.array(["W", None, "N2"], dtype=object))

    with pytest.raises(ValueError, match="missing label"):
        preprocess_recordings(["r0"], reader)


if __name__ == "__main__":  # regenerate the table of docs/robustness.md in place
    _doc = Path(__file__).resolve().parents[1] / "docs" / "robustness.md"
    _text = _doc.read_text(encoding="utf-8")
    _start, _stop = _text.index(DOC_BEGIN), _text.index(DOC_END) + len(DOC_END)
    _doc.write_text(_text[:_start] + robustness_table() + _text[_stop:], encoding="utf-8")
    print(f"updated {_doc}")

