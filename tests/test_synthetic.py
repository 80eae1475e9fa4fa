"""Tests of :func:`sklearn_sleep.datasets.make_synthetic_psg`.

Physiology is checked independently of the library's feature code, with
:func:`scipy.signal.welch` band powers computed here.
"""

import time

import numpy as np
import pytest
from scipy.signal import welch
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils import Bunch

from sklearn_sleep.datasets import make_synthetic_psg
from sklearn_sleep.datasets._synthetic import _HUMAN, _MOUSE, _hypnogram

HUMAN_CH = ["EEG Fpz-Cz", "EEG Pz-Oz", "EOG horizontal", "EMG submental"]


# --------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def human():
    return make_synthetic_psg(6, 150, random_state=11)


@pytest.fixture(scope="module")
def mouse():
    return make_synthetic_psg(6, 300, preset="mouse", random_state=11)


@pytest.fixture(scope="module")
def human_psd(human):
    """Welch PSD of every human epoch and channel (4-s segments)."""
    return welch(human.X, fs=human.sfreq, nperseg=400, axis=-1)


def psd_band_powers(f, P, bands):
    """Absolute band powers from a PSD, shape (..., n_bands)."""
    df = f[1] - f[0]
    return np.stack([P[..., (f >= lo) & (f < hi)].sum(-1) * df for lo, hi in bands], -1)


def band_powers(X, sfreq, bands, nperseg):
    """Absolute Welch band powers, shape (n_epochs, n_channels, n_bands)."""
    return psd_band_powers(*welch(X, fs=sfreq, nperseg=nperseg, axis=-1), bands)


def stage_mean(values, y, stage):
    return float(np.mean(values[y == stage]))


# --------------------------------------------------------------------------- contract
def test_human_shapes_dtypes_metadata(human):
    d = human
    assert isinstance(d, Bunch)
    assert d.X.shape == (900, 4, 3000)
    assert d.X.dtype == np.float32
    assert d.X.flags["C_CONTIGUOUS"]
    assert np.isfinite(d.X).all()
    assert d.y.shape == (900,) and d.y.dtype == object
    assert set(d.y) == {"W", "N1", "N2", "N3", "REM"}
    assert d.groups.shape == (900,) and np.issubdtype(d.groups.dtype, np.integer)
    np.testing.assert_array_equal(np.unique(d.groups), np.arange(6))
    np.testing.assert_array_equal(np.bincount(d.groups), [150] * 6)
    assert d.recordings[0] == "subj00_night1" and d.recordings[-1] == "subj05_night1"
    assert d.ch_names == HUMAN_CH
    assert d.sfreq == 100.0 and isinstance(d.sfreq, float)
    assert d.epoch_seconds == 30.0
    assert d.stage_names == ("W", "N1", "N2", "N3", "REM")
    assert isinstance(d.description, str) and "human" in d.description


def test_mouse_shapes_metadata(mouse):
    d = mouse
    assert d.X.shape == (1800, 2, 512) and d.X.dtype == np.float32
    assert d.ch_names == ["EEG", "EMG"]
    assert d.sfreq == 512.0 and d.epoch_seconds == 1.0
    assert d.stage_names == ("W", "NREM", "REM")
    assert set(d.y) == {"W", "NREM", "REM"}


@pytest.mark.parametrize("epoch_seconds, sfreq, n_times", [(4, 256, 1024), (2.5, None, 1280),
                                                            (1, 256, 256)])
def test_mouse_epoch_and_sfreq_overrides(epoch_seconds, sfreq, n_times):
    d = make_synthetic_psg(2, 20, preset="mouse", epoch_seconds=epoch_seconds, sfreq=sfreq,
                           random_state=0)
    assert d.X.shape == (40, 2, n_times)
    assert d.epoch_seconds == float(epoch_seconds)
    assert d.sfreq == (512.0 if sfreq is None else float(sfreq))


def test_human_sfreq_override():
    d = make_synthetic_psg(1, 10, sfreq=256, random_state=0)
    assert d.X.shape == (10, 4, 7680)


def test_return_X_y():
    X, y, groups = make_synthetic_psg(2, 12, random_state=3, return_X_y=True)
    d = make_synthetic_psg(2, 12, random_state=3)
    np.testing.assert_array_equal(X, d.X)
    np.testing.assert_array_equal(y, d.y)
    np.testing.assert_array_equal(groups, d.groups)


def test_return_continuous_matches_epochs():
    d = make_synthetic_psg(2, 12, n_nights=2, random_state=4, return_continuous=True)
    assert len(d.signals) == len(d.labels) == len(d.recording_names) == 4
    assert d.recording_names == ["subj00_night1", "subj00_night2", "subj01_night1",
                                 "subj01_night2"]
    assert d.subjects == [0, 0, 1, 1]
    start = 0
    for sig, lab, name in zip(d.signals, d.labels, d.recording_names):
        assert sig.shape == (4, 12 * 3000) and sig.dtype == np.float32
        epochs = sig.reshape(4, 12, 3000).transpose(1, 0, 2)
        np.testing.assert_array_equal(d.X[start:start + 12], epochs)
        np.testing.assert_array_equal(d.y[start:start + 12], lab)
        assert set(d.recordings[start:start + 12]) == {name}
        start += 12


def test_continuous_signal_has_no_jumps_at_epoch_boundaries():
    d = make_synthetic_psg(1, 40, random_state=5, noise_level=0.0, return_continuous=True)
    sig = d.signals[0][:2]  # EEG channels
    diffs = np.abs(np.diff(sig, axis=-1))
    boundary = np.arange(1, 40) * 3000 - 1  # diff between last and first sample
    ratio = diffs[:, boundary].mean() / diffs.mean()
    assert ratio < 2.0


def test_channel_selection_and_order():
    full = make_synthetic_psg(1, 10, random_state=1)
    sub = make_synthetic_psg(1, 10, random_state=1, channels=["EMG submental", "EEG Pz-Oz"])
    assert sub.ch_names == ["EMG submental", "EEG Pz-Oz"]
    np.testing.assert_array_equal(sub.X, full.X[:, [3, 1]])


def test_n_nights_and_recordings():
    d = make_synthetic_psg(2, 10, n_nights=3, random_state=2)
    assert d.X.shape[0] == 60
    assert list(np.unique(d.recordings)) == [f"subj{s:02d}_night{n}" for s in range(2)
                                              for n in (1, 2, 3)]
    # nights of one subject are different recordings
    assert not np.array_equal(d.X[:10], d.X[10:20])


# --------------------------------------------------------------------------- seeds
def test_same_seed_bit_identical():
    a = make_synthetic_psg(2, 20, random_state=123)
    b = make_synthetic_psg(2, 20, random_state=123)
    assert a.X.tobytes() == b.X.tobytes()
    np.testing.assert_array_equal(a.y, b.y)
    m1 = make_synthetic_psg(2, 20, preset="mouse", random_state=np.random.default_rng(9))
    m2 = make_synthetic_psg(2, 20, preset="mouse", random_state=np.random.default_rng(9))
    assert m1.X.tobytes() == m2.X.tobytes()


def test_different_seeds_differ():
    a = make_synthetic_psg(1, 20, random_state=0)
    b = make_synthetic_psg(1, 20, random_state=1)
    assert not np.array_equal(a.X, b.X)


def test_subject_independent_of_n_subjects():
    a = make_synthetic_psg(3, 12, random_state=7)
    b = make_synthetic_psg(1, 12, random_state=7)
    np.testing.assert_array_equal(a.X[:12], b.X)


def test_subjects_differ(human, human_psd):
    # per-subject alpha peak frequency (Pz-Oz, wake) and amplitude scale differ
    X, y, g = human.X, human.y, human.groups
    f, P = human_psd[0], human_psd[1][:, 1]
    band = (f >= 7) & (f <= 13)
    peaks, rms = [], []
    for s in range(6):
        w = (g == s) & (y == "W")
        peaks.append(f[band][np.argmax(P[w][:, band].mean(0))])
        rms.append(X[(g == s) & (y == "N2"), 0].std())
    assert np.ptp(peaks) >= 0.5
    assert max(rms) / min(rms) > 1.1


# --------------------------------------------------------------------------- hypnogram
@pytest.mark.parametrize("preset, n_epochs", [("human", 10), ("human", 20), ("human", 60),
                                              ("mouse", 6), ("mouse", 15), ("mouse", 60)])
def test_every_stage_in_every_night(preset, n_epochs):
    spec = _HUMAN if preset == "human" else _MOUSE
    for seed in range(40):
        rng = np.random.default_rng(seed)
        hyp = _hypnogram(rng, preset, spec, n_epochs, spec["epoch_seconds"],
                         spec["proportions"])
        assert hyp.shape == (n_epochs,)
        assert set(hyp) == set(spec["stages"]), (seed, "".join(s[0] for s in hyp))


def test_every_stage_via_public_api():
    d = make_synthetic_psg(3, 10, n_nights=2, random_state=0)
    for r in np.unique(d.recordings):
        assert set(d.y[d.recordings == r]) == set(d.stage_names)


def test_stage_proportions_in_range(human, mouse):
    frac = {s: np.mean(human.y == s) for s in human.stage_names}
    assert 0.12 <= frac["W"] <= 0.23
    assert 0.03 <= frac["N1"] <= 0.12
    assert 0.35 <= frac["N2"] <= 0.55
    assert 0.07 <= frac["N3"] <= 0.19
    assert 0.12 <= frac["REM"] <= 0.24
    frac = {s: np.mean(mouse.y == s) for s in mouse.stage_names}
    assert 0.38 <= frac["W"] <= 0.55
    assert 0.38 <= frac["NREM"] <= 0.55
    assert 0.04 <= frac["REM"] <= 0.12


def test_custom_stage_proportions():
    d = make_synthetic_psg(4, 100, preset="mouse", random_state=0,
                           stage_proportions={"W": 0.2, "NREM": 0.4, "REM": 0.4})
    assert abs(np.mean(d.y == "REM") - 0.4) < 0.06
    d = make_synthetic_psg(2, 50, random_state=0, stage_proportions=[1, 1, 1, 1, 1])
    assert abs(np.mean(d.y == "N1") - 0.2) < 0.07


def test_human_night_architecture():
    early_n3 = late_n3 = early_rem = late_rem = 0
    n_awakenings = 0
    for seed in range(30):
        rng = np.random.default_rng(seed)
        hyp = _hypnogram(rng, "human", _HUMAN, 960, 30.0, _HUMAN["proportions"])
        assert hyp[0] == "W" and hyp[-1] == "W"
        first, second = hyp[:480], hyp[480:]
        early_n3 += np.sum(first == "N3")
        late_n3 += np.sum(second == "N3")
        early_rem += np.sum(first == "REM")
        late_rem += np.sum(second == "REM")
        # brief awakenings during the sleep period
        asleep = np.flatnonzero(hyp != "W")
        inner = hyp[asleep[0]:asleep[-1] + 1]
        n_awakenings += np.sum((inner[1:] == "W") & (inner[:-1] != "W"))
        # a full night has several NREM-REM cycles (REM periods)
        rem_periods = np.sum((hyp[1:] == "REM") & (hyp[:-1] != "REM"))
        assert 3 <= rem_periods <= 6
    assert early_n3 > 2 * late_n3
    assert late_rem > 1.3 * early_rem
    assert n_awakenings >= 30  # about one or more per night


def test_mouse_bouts():
    lengths = []
    for seed in range(20):
        rng = np.random.default_rng(seed)
        hyp = _hypnogram(rng, "mouse", _MOUSE, 1800, 1.0, _MOUSE["proportions"])
        change = np.flatnonzero(hyp[1:] != hyp[:-1]) + 1
        bounds = np.r_[0, change, hyp.size]
        lengths += list(np.diff(bounds))
        starts = hyp[change]
        before = hyp[change - 1]
        # REM always follows NREM
        assert np.all(before[starts == "REM"] == "NREM")
    lengths = np.asarray(lengths)
    assert 20 <= np.median(lengths) <= 180  # tens of seconds to minutes
    assert lengths.max() >= 120


# --------------------------------------------------------------------------- validation
@pytest.mark.parametrize("kwargs, match", [
    (dict(n_subjects=0), "n_subjects"),
    (dict(n_nights=0), "n_nights"),
    (dict(n_epochs=5), "too small to hold every stage"),
    (dict(n_epochs=4, preset="mouse"), "too small to hold every stage"),
    (dict(n_epochs=12.5), "n_epochs must be an integer"),
    (dict(preset="rat"), "Unknown preset"),
    (dict(channels=["C3-A2"]), "Unknown channel"),
    (dict(channels=["EEG"]), "Unknown channel"),
    (dict(sfreq=0), "sfreq"),
    (dict(sfreq=-100.0), "sfreq"),
    (dict(sfreq=10), "too low"),
    (dict(epoch_seconds=0), "epoch_seconds"),
    (dict(epoch_seconds=0.333), "whole number of samples"),
    (dict(stage_proportions={"W": 1.0}), "missing stage"),
    (dict(stage_proportions={"W": 1, "N1": 1, "N2": 1, "N3": 1, "REM": 1, "S4": 1}),
     "unknown stage"),
    (dict(stage_proportions=[1, 1, 1, 1, 0]), "> 0"),
    (dict(stage_proportions=[1, 1, 1]), "5 values"),
    (dict(noise_level=-1.0), "noise_level"),
    (dict(stage_overlap=-0.5), "stage_overlap"),
    (dict(return_X_y=True, return_continuous=True), "cannot be combined"),
    (dict(random_state="seed"), "random_state"),
])
def test_invalid_arguments(kwargs, match):
    kwargs = {"n_subjects": 1, "n_epochs": 10, **kwargs}
    with pytest.raises(ValueError, match=match):
        make_synthetic_psg(**kwargs)


# --------------------------------------------------------------------------- physiology
HUMAN_BANDS = [(0.5, 2), (2, 4), (4, 8), (8, 12), (12, 15), (15, 30), (30, 49)]


def test_human_amplitudes_realistic(human, human_psd):
    X, y = human.X, human.y
    rms_w = X[y == "W", 0].std(-1)
    assert 3 < np.median(rms_w) < 60  # tens of uV
    ptp_n3 = np.ptp(X[y == "N3", 0], axis=-1)
    assert 75 < np.median(ptp_n3) < 400
    # N3: delta waves > 75 uV peak-to-peak over well over 20 % of the epoch
    f, P = human_psd[0], human_psd[1][y == "N3", 0]
    delta_share = P[:, (f >= 0.5) & (f < 2)].sum(-1) / P[:, (f >= 0.5) & (f < 30)].sum(-1)
    assert np.median(delta_share) > 0.5


def test_human_stage_physiology(human, human_psd):
    X, y = human.X, human.y
    bp = psd_band_powers(*human_psd, HUMAN_BANDS)
    rel = bp / bp.sum(-1, keepdims=True)
    # relative delta (Fpz-Cz) highest in N3
    delta = {s: stage_mean(rel[:, 0, 0], y, s) for s in human.stage_names}
    assert max(delta, key=delta.get) == "N3"
    # alpha on Pz-Oz higher in W than in N2/N3, and posterior > frontal in W
    alpha = {s: stage_mean(bp[:, 1, 3], y, s) for s in human.stage_names}
    assert alpha["W"] > 3 * alpha["N2"] and alpha["W"] > 3 * alpha["N3"]
    assert stage_mean(bp[:, 1, 3], y, "W") > 1.5 * stage_mean(bp[:, 0, 3], y, "W")
    # sigma (12-15 Hz) in N2 above N1 and REM (spindles)
    sigma = {s: stage_mean(bp[:, 0, 4], y, s) for s in human.stage_names}
    assert sigma["N2"] > 2 * sigma["N1"] and sigma["N2"] > 2 * sigma["REM"]
    # theta relative power higher in N1/REM than in W
    theta = {s: stage_mean(rel[:, 0, 2], y, s) for s in human.stage_names}
    assert theta["N1"] > theta["W"] and theta["REM"] > theta["W"]
    # chin EMG: highest in W, lowest in REM
    emg = {s: stage_mean(X[:, 3].std(-1), y, s) for s in human.stage_names}
    assert min(emg, key=emg.get) == "REM"
    assert max(emg, key=emg.get) == "W"
    # EOG (0.3-5 Hz) power higher in REM and W than in N2 and N3
    eog = psd_band_powers(*human_psd, [(0.3, 5)])[:, 2, 0]
    eog = {s: stage_mean(eog, y, s) for s in human.stage_names}
    assert min(eog["REM"], eog["W"]) > 2 * max(eog["N2"], eog["N3"])


MOUSE_BANDS = [(0.5, 4), (4, 6), (6, 9), (9, 15), (15, 30), (30, 80), (80, 200)]


def test_mouse_stage_physiology(mouse):
    X, y = mouse.X, mouse.y
    bp = band_powers(X, 512.0, MOUSE_BANDS, nperseg=256)
    rel = bp[:, 0] / bp[:, 0].sum(-1, keepdims=True)
    delta = {s: stage_mean(rel[:, 0], y, s) for s in mouse.stage_names}
    assert max(delta, key=delta.get) == "NREM"
    ratio = {s: stage_mean(np.log(bp[:, 0, 2] / bp[:, 0, 0]), y, s) for s in mouse.stage_names}
    assert max(ratio, key=ratio.get) == "REM"
    assert ratio["REM"] - ratio["NREM"] > 1.0
    emg = {s: stage_mean(X[:, 1].std(-1), y, s) for s in mouse.stage_names}
    assert min(emg, key=emg.get) == "REM"
    assert emg["W"] > 2 * emg["NREM"]
    # NREM EEG has larger amplitude than W
    assert stage_mean(X[:, 0].std(-1), y, "NREM") > 1.5 * stage_mean(X[:, 0].std(-1), y, "W")


def test_noise_level_and_stage_overlap():
    quiet = make_synthetic_psg(2, 30, random_state=0, noise_level=0.0)
    noisy = make_synthetic_psg(2, 30, random_state=0, noise_level=3.0)
    np.testing.assert_array_equal(quiet.y, noisy.y)
    n2 = quiet.y == "N2"
    f, Pq = welch(quiet.X[n2, 0], fs=100.0, nperseg=400, axis=-1)
    _, Pn = welch(noisy.X[n2, 0], fs=100.0, nperseg=400, axis=-1)
    beta = (f >= 20) & (f < 40)  # only background + sensor noise live there in N2
    assert Pn[:, beta].mean() > 3 * Pq[:, beta].mean()
    # without stage overlap, REM chin EMG is below every NREM epoch's median tone
    pure = make_synthetic_psg(3, 60, random_state=1, stage_overlap=0.0)
    emg = pure.X[:, 3].std(-1)
    assert np.median(emg[pure.y == "REM"]) < 0.6 * np.median(emg[pure.y == "N3"])


# --------------------------------------------------------------------------- learnability
def _subject_cv_accuracy(d, bp):
    feats = np.log(bp.reshape(len(bp), -1))
    clf = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    return cross_val_score(clf, feats, d.y, groups=d.groups, cv=GroupKFold(n_splits=3)).mean()


def test_band_power_logistic_regression_learns_human(human, human_psd):
    # log Welch band powers + logistic regression, cross-validated by subject
    acc = _subject_cv_accuracy(human, psd_band_powers(*human_psd, HUMAN_BANDS))
    assert acc > 0.7


def test_band_power_logistic_regression_learns_mouse(mouse):
    acc = _subject_cv_accuracy(mouse, band_powers(mouse.X, 512.0, MOUSE_BANDS, nperseg=256))
    assert acc > 0.85


# --------------------------------------------------------------------------- speed
def test_generation_is_fast():
    make_synthetic_psg(1, 10, random_state=0)  # warm-up (imports)
    t0 = time.perf_counter()
    d = make_synthetic_psg(4, 120, random_state=0)
    elapsed = time.perf_counter() - t0
    assert d.X.shape == (480, 4, 3000)
    # well under 2 s on an idle core; the bound is loose for shared CI machines
    assert elapsed < 6.0


def test_continuous_output_round_trips_through_epoch_segmenter():
    from sklearn_sleep.preprocessing import EpochSegmenter

    d = make_synthetic_psg(2, 12, n_nights=2, random_state=0, return_continuous=True)
    seg = EpochSegmenter(sfreq=d.sfreq, epoch_seconds=d.epoch_seconds)
    try:
        out = seg.segment(d.signals, d.labels, groups=d.subjects,
                          recordings=d.recording_names)
    except NotImplementedError:  # pragma: no cover - colleague's placeholder
        pytest.skip("EpochSegmenter not implemented yet")
    np.testing.assert_array_equal(out.X, d.X)
    np.testing.assert_array_equal(np.asarray(out.y), d.y)
    np.testing.assert_array_equal(np.asarray(out.groups), d.groups)
    assert list(np.asarray(out.recordings)) == list(d.recordings)
