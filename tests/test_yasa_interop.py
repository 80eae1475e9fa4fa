"""YasaFeatures / YasaHypnodensity: equal to YASA run directly, per recording, clear errors.

The equality tests are slow (YASA's first call JIT-compiles antropy's numba code, ~40 s):
run them with ``-m slow``.
"""

import sys

import numpy as np
import pytest

from sklearn_sleep.features import YasaFeatures, YasaHypnodensity

SF = 100.0


def _epochs(rng, n_epochs):
    """Pink-ish noise in µV, 30-s epochs at 100 Hz."""
    x = np.cumsum(rng.normal(size=n_epochs * 3000), axis=0)
    x = (x - np.convolve(x, np.ones(101) / 101, mode="same")) * 5.0
    return x.reshape(n_epochs, 1, 3000)


def _yasa_direct(epochs):
    import mne
    import yasa

    info = mne.create_info(["C4"], SF, ch_types=["eeg"])
    raw = mne.io.RawArray(epochs[:, 0, :].reshape(1, -1) * 1e-6, info, verbose=False)
    return yasa.SleepStaging(raw, eeg_name="C4")


@pytest.mark.slow
def test_features_equal_to_yasa_per_recording(rng):
    pytest.importorskip("yasa")
    a, b = _epochs(rng, 12), _epochs(rng, 10)
    X = np.concatenate([a, b])
    rec = np.repeat(["night1", "night2"], [12, 10])
    feats = YasaFeatures(sfreq=SF)
    Xt = feats.fit_transform(X, recordings=rec)
    for part, sl in ((a, slice(0, 12)), (b, slice(12, 22))):
        f_direct = _yasa_direct(part).get_features()
        np.testing.assert_allclose(Xt[sl], f_direct.to_numpy(), rtol=1e-6, atol=1e-9)
    assert list(feats.get_feature_names_out()) == list(f_direct.columns)


@pytest.mark.slow
def test_hypnodensity_equal_to_yasa_per_recording(rng):
    pytest.importorskip("yasa")
    a, b = _epochs(rng, 12), _epochs(rng, 10)
    X = np.concatenate([a, b])
    rec = np.repeat(["night1", "night2"], [12, 10])
    hyp = YasaHypnodensity(sfreq=SF)
    P = hyp.fit(X, recordings=rec).transform(X, recordings=rec)
    for part, sl in ((a, slice(0, 12)), (b, slice(12, 22))):
        p_direct = _yasa_direct(part).predict().proba
        np.testing.assert_allclose(P[sl], p_direct.to_numpy(), rtol=1e-6, atol=1e-9)
    assert list(hyp.get_feature_names_out()) == [f"yasa_{c}" for c in p_direct.columns]
    np.testing.assert_allclose(P.sum(1), 1.0, rtol=1e-6)
    logp = YasaHypnodensity(sfreq=SF, log=True).fit_transform(X, recordings=rec)
    np.testing.assert_allclose(logp, np.log(np.maximum(P, 1e-6)))


def test_errors(rng, monkeypatch):
    X = _epochs(rng, 4)
    with pytest.raises(ValueError, match="needs the recording"):
        YasaHypnodensity(sfreq=SF).fit(X)
    with pytest.raises(ValueError, match="above 80 Hz"):
        YasaHypnodensity(sfreq=50).fit(X.reshape(4, 1, 3000)[:, :, :1500], recordings=[0] * 4)
    with pytest.raises(ValueError, match="30-s epochs"):
        YasaHypnodensity(sfreq=SF).fit(X[:, :, :2000], recordings=[0] * 4)
    with pytest.raises(ValueError, match="eog_index=3"):
        YasaFeatures(sfreq=SF, eog_index=3).fit(X, recordings=[0] * 4)
    monkeypatch.setitem(sys.modules, "yasa", None)
    with pytest.raises(ImportError, match=r"pip install sklearn_sleep\[yasa\]"):
        YasaHypnodensity(sfreq=SF).fit(X, recordings=[0] * 4)
