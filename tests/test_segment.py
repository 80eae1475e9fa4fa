"""EpochSegmenter: alignment rule, sub-windows, context sequences, grouped CV."""

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold, cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_sleep.features import BandPowerFeatures
from sklearn_sleep.preprocessing import BandPassFilter, EpochSegmenter

SFREQ = 100


def _ramp_recording(n_epochs, n_channels=2, extra=0, offset=0.0):
    """Sample value = offset + epoch index, so each epoch is recognisable."""
    L = 30 * SFREQ
    sig = np.repeat(np.arange(n_epochs, dtype=float), L)
    sig = np.concatenate([sig, np.full(extra, -1.0)]) + offset
    return np.stack([sig * (c + 1) for c in range(n_channels)])


def test_alignment_rule_single_recording():
    sig = _ramp_recording(5, extra=70)
    labels = ["W", "N1", "N2", "N3", "REM"]
    out = EpochSegmenter(SFREQ).segment(sig, labels)
    assert out.X.shape == (5, 2, 3000) and out.X.dtype == np.float32
    for k in range(5):  # epoch k covers samples [k*L, (k+1)*L) and gets labels[k]
        assert np.all(out.X[k, 0] == k) and np.all(out.X[k, 1] == 2 * k)
    assert out.y.tolist() == labels
    assert out.n_samples_dropped.tolist() == [70]
    assert out.epoch_index.tolist() == list(range(5))
    assert out.groups.tolist() == [0] * 5 and out.recordings.tolist() == [0] * 5


def test_multiple_recordings_groups_and_ids():
    sigs = [_ramp_recording(3), _ramp_recording(4, offset=100)]
    labs = [["W", "N2", "N2"], ["W", "W", "REM", "N3"]]
    out = EpochSegmenter(SFREQ).segment(sigs, labs, groups=["s1", "s2"],
                                        recordings=["s1n1", "s2n1"])
    assert out.X.shape == (7, 2, 3000)
    assert out.groups.tolist() == ["s1"] * 3 + ["s2"] * 4
    assert out.recordings.tolist() == ["s1n1"] * 3 + ["s2n1"] * 4
    assert out.epoch_index.tolist() == [0, 1, 2, 0, 1, 2, 3]
    assert np.all(out.X[3, 0] == 100)


def test_mismatch_raises_or_truncates_with_counts():
    sig = _ramp_recording(4, extra=10)
    seg = EpochSegmenter(SFREQ)
    with pytest.raises(ValueError, match=r"5 labels but 12010 samples = 4 complete epochs"):
        seg.segment(sig, ["W"] * 5)
    seg.set_params(on_mismatch="truncate")
    with pytest.warns(UserWarning, match=r"dropped 1 label\(s\) and 10 sample"):
        out = seg.segment(sig, ["W", "N1", "N2", "N3", "REM"])
    assert out.y.tolist() == ["W", "N1", "N2", "N3"]
    assert out.n_labels_dropped.tolist() == [1]
    with pytest.warns(UserWarning, match=r"dropped 0 label\(s\) and 3010 sample"):
        out = seg.segment(sig, ["W", "N1", "N2"])
    assert len(out.X) == 3


def test_unlabelled_and_input_errors():
    out = EpochSegmenter(SFREQ).segment(_ramp_recording(3))
    assert out.y is None and len(out.X) == 3
    with pytest.raises(ValueError, match="2-D"):
        EpochSegmenter(SFREQ).segment(np.zeros(9000), ["W"] * 3)
    with pytest.raises(ValueError, match="NaN"):
        EpochSegmenter(SFREQ).segment(np.full((1, 3000), np.nan), ["W"])
    with pytest.raises(ValueError, match="whole number of samples"):
        EpochSegmenter(SFREQ, epoch_seconds=0.015).segment(np.zeros((1, 3000)))
    with pytest.raises(ValueError, match="list of 2 label arrays"):
        EpochSegmenter(SFREQ).segment([np.zeros((1, 3000))] * 2, ["W"])
    with pytest.raises(ValueError, match="same channels"):
        EpochSegmenter(SFREQ).segment([np.zeros((1, 3000)), np.zeros((2, 3000))])


def test_sub_windows():
    sig = np.arange(2 * 3000, dtype=float)[None]
    out = EpochSegmenter(SFREQ, sub_window_seconds=5).segment(sig, ["W", "N1"])
    assert out.X.shape == (2, 6, 1, 500)
    np.testing.assert_array_equal(out.X[1, 2, 0], np.arange(3000 + 1000, 3000 + 1500))
    with pytest.raises(ValueError, match="whole sub-windows"):
        EpochSegmenter(SFREQ, sub_window_seconds=7).segment(sig, ["W", "N1"])


@pytest.mark.parametrize("padding", ["edge", "zeros"])
def test_context_sequences_stay_within_recording(padding):
    sigs = [_ramp_recording(3, n_channels=1), _ramp_recording(2, n_channels=1, offset=10)]
    out = EpochSegmenter(SFREQ, n_context=1, context_padding=padding).segment(
        sigs, [["W"] * 3, ["N2"] * 2])
    assert out.X.shape == (5, 3, 1, 3000)
    centre = out.X[:, :, 0, 0]  # value identifies the epoch
    pad_last = 2.0 if padding == "edge" else 0.0
    pad_r2_first = 10.0 if padding == "edge" else 0.0
    pad_r2_last = 11.0 if padding == "edge" else 0.0
    expected = np.array([
        [0, 0, 1], [0, 1, 2], [1, 2, pad_last],          # recording 1
        [pad_r2_first, 10, 11], [10, 11, pad_r2_last],       # recording 2: no bleed from 1
    ])
    np.testing.assert_array_equal(centre, expected)


def test_filters_applied_to_continuous_signal():
    rng = np.random.default_rng(0)
    sig = rng.normal(size=(1, 9000))
    filt = BandPassFilter(SFREQ, l_freq=1.0, h_freq=20.0)
    out = EpochSegmenter(SFREQ, filters=[filt]).segment(sig, ["W"] * 3)
    ref = filt.fit_transform(sig[None])[0]
    np.testing.assert_allclose(out.X.reshape(1, -1)[0], ref[0], rtol=1e-5, atol=1e-6)


def _synthetic_night(rng, n_epochs, subject_gain):
    """Continuous 1-channel signal: stage 'N3' epochs are 2 Hz, 'W' epochs 10 Hz."""
    t = np.arange(30 * SFREQ) / SFREQ
    labels = rng.choice(["W", "N3"], size=n_epochs)
    pieces = [
        subject_gain * 20 * np.sin(2 * np.pi * (2.0 if lab == "N3" else 10.0) * t
                                   + rng.uniform(0, 6.28))
        for lab in labels
    ]
    sig = np.concatenate(pieces) + rng.normal(0, 5, size=n_epochs * t.size)
    return sig[None], labels


def test_segmented_data_in_grouped_cross_validation():
    rng = np.random.default_rng(0)
    sigs, labs = [], []
    for s in range(4):
        sig, lab = _synthetic_night(rng, 20, subject_gain=1 + 0.3 * s)
        sigs.append(sig)
        labs.append(lab)
    data = EpochSegmenter(SFREQ).segment(sigs, labs, groups=[f"subj{s}" for s in range(4)])
    pipe = make_pipeline(BandPowerFeatures(SFREQ), StandardScaler(), LogisticRegression())
    res = cross_validate(pipe, data.X, data.y, groups=data.groups, cv=GroupKFold(n_splits=4),
                         return_indices=True)
    for train, test in zip(res["indices"]["train"], res["indices"]["test"]):
        assert not set(data.groups[train]) & set(data.groups[test])
    assert res["test_score"].min() > 0.9
