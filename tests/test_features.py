"""BandPowerFeatures: values against an independent Welch integration, names, learning."""

import numpy as np
import pytest
from scipy.signal import welch
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_sleep.features import BandPowerFeatures

SFREQ = 100.0
BANDS = ["delta", "theta", "alpha", "sigma", "beta", "gamma"]


def _signal(freq_amps, n_epochs=4, n_times=3000, noise=0.0, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(n_times) / SFREQ
    x = sum(a * np.sin(2 * np.pi * f * t + rng.uniform(0, 6.28)) for f, a in freq_amps)
    X = np.repeat(np.asarray(x)[None, None], n_epochs, axis=0)
    return (X + noise * rng.normal(size=X.shape)).astype(np.float64)


def test_band_powers_match_manual_welch_integration():
    # 2 Hz (delta, amplitude 4) + 10 Hz (alpha, amplitude 2) + a little noise
    X = _signal([(2.0, 4.0), (10.0, 2.0)], noise=0.1)
    bp = BandPowerFeatures(SFREQ, relative=False, log=False, include_ratios=False,
                           include_stats=False).fit(X)
    feats = bp.transform(X)
    f, psd = welch(X[0, 0], fs=SFREQ, nperseg=400)
    df = f[1] - f[0]
    edges = [(0.5, 4), (4, 8), (8, 12), (12, 16), (16, 30), (30, 45)]
    expected = [psd[(f >= lo) & (f < hi)].sum() * df for lo, hi in edges]
    np.testing.assert_allclose(feats[0, :6], expected, rtol=1e-10)
    # a sine of amplitude A has power A^2 / 2, all in its band
    assert feats[0, 0] == pytest.approx(4.0 ** 2 / 2, rel=0.02)
    assert feats[0, 2] == pytest.approx(2.0 ** 2 / 2, rel=0.02)
    assert feats[0, 6] == pytest.approx(sum(expected))  # total_abs


def test_relative_powers_ratios_and_log():
    X = _signal([(2.0, 4.0), (10.0, 2.0), (6.0, 1.0), (20.0, 1.0)], noise=0.05)
    bp = BandPowerFeatures(SFREQ, include_stats=False).fit(X)
    feats = bp.transform(X)
    names = bp.feature_names_
    assert names == [f"{b}_rel" for b in BANDS] + ["total_abs", "delta_beta_ratio",
                                                   "theta_alpha_ratio"]
    rel = feats[0, :6]
    assert rel.sum() == pytest.approx(1.0)
    np.testing.assert_allclose(rel[[0, 1, 2, 4]] / rel.sum(),
                               np.array([8, 0.5, 2, 0.5]) / 11.0, atol=0.01)
    absf = BandPowerFeatures(SFREQ, relative=False, log=False, include_stats=False)
    a = absf.fit_transform(X)[0]
    np.testing.assert_allclose(feats[0, 7], np.log10(a[0] / a[4]))  # delta/beta, log10
    np.testing.assert_allclose(feats[0, 8], np.log10(a[1] / a[2]))  # theta/alpha
    np.testing.assert_allclose(feats[0, 6], np.log10(a[6]))


def test_stats_against_direct_formulas():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(3, 2, 3000)).cumsum(axis=-1)  # brown-ish noise
    bp = BandPowerFeatures(SFREQ, include_ratios=False).fit(X)
    feats = bp.transform(X).reshape(3, 2, -1)
    names = bp.feature_names_
    x = X[1, 1]
    dx, ddx = np.diff(x), np.diff(x, 2)
    mob = np.sqrt(dx.var() / x.var())
    comp = np.sqrt(ddx.var() / dx.var()) / mob
    xc = x - x.mean()
    zc = np.sum(np.sign(xc[1:]) != np.sign(xc[:-1]))
    f, psd = welch(x, fs=SFREQ, nperseg=400)
    sef = f[np.searchsorted(np.cumsum(psd), 0.95 * psd.sum())]
    got = dict(zip(names, feats[1, 1]))
    assert got["std"] == pytest.approx(x.std())
    assert got["iqr"] == pytest.approx(np.subtract(*np.percentile(x, [75, 25])))
    assert got["hjorth_mobility"] == pytest.approx(mob)
    assert got["hjorth_complexity"] == pytest.approx(comp)
    assert got["zero_crossings"] == zc
    assert got["sef95"] == pytest.approx(sef)


def test_feature_names_and_pandas_output():
    X = _signal([(2.0, 1.0)], n_epochs=2)
    X = np.concatenate([X, X], axis=1)
    bp = BandPowerFeatures(SFREQ, ch_names=["EEG Fpz-Cz", "EEG Pz-Oz"]).fit(X)
    names = bp.get_feature_names_out()
    assert names[0] == "EEG Fpz-Cz_delta_rel"
    assert len(names) == bp.transform(X).shape[1] == 2 * 15
    assert names[15] == "EEG Pz-Oz_delta_rel"
    assert BandPowerFeatures(SFREQ).fit(X).get_feature_names_out()[-1] == "ch1_sef95"
    pd = pytest.importorskip("pandas")
    df = BandPowerFeatures(SFREQ).set_output(transform="pandas").fit_transform(X)
    assert isinstance(df, pd.DataFrame) and df.columns[0] == "ch0_delta_rel"


def test_parameter_errors():
    X = np.zeros((2, 1, 640))
    with pytest.raises(ValueError, match="Nyquist"):
        BandPowerFeatures(64).fit(X)
    with pytest.raises(ValueError, match="include_ratios"):
        BandPowerFeatures(100, bands={"slow": (0.5, 2), "fast": (2, 30)}).fit(X)
    with pytest.raises(ValueError, match="no frequency bin"):
        BandPowerFeatures(100, bands={"narrow": (1.1, 1.2)}, include_ratios=False).fit(X)
    with pytest.raises(ValueError, match="method"):
        BandPowerFeatures(100, method="multitaper").fit(X)
    custom = BandPowerFeatures(100, bands={"slow": (0.5, 2), "fast": (2, 30)},
                               include_ratios=False, include_stats=False).fit(X)
    assert custom.feature_names_ == ["slow_rel", "fast_rel", "total_abs"]


def test_mouse_epochs_periodogram():
    # 1-s epochs at 512 Hz: 1 Hz resolution is enough for the default bands
    t = np.arange(512) / 512
    X = np.sin(2 * np.pi * 6 * t)[None, None].repeat(3, 0)  # Hann leaks to 5 and 7 Hz
    bp = BandPowerFeatures(512, method="periodogram", include_stats=False).fit(X)
    rel = bp.transform(X)[0, :6]
    assert np.argmax(rel) == 1 and rel[1] > 0.99  # theta


def _two_class_data(n_per_class=40, seed=0):
    """Class 0: delta-dominated epochs; class 1: alpha-dominated. Known answer."""
    rng = np.random.default_rng(seed)
    t = np.arange(3000) / SFREQ
    X, y = [], []
    for label, f0 in ((0, 2.0), (1, 10.0)):
        for _ in range(n_per_class):
            f = f0 + rng.uniform(-0.5, 0.5)
            x = 3 * np.sin(2 * np.pi * f * t + rng.uniform(0, 6.28))
            X.append(x + rng.normal(0, 2, size=(2, 3000)))
            y.append(label)
    return np.asarray(X, dtype=np.float32), np.asarray(y)


@pytest.mark.parametrize(
    "clf",
    [
        RandomForestClassifier(n_estimators=20, random_state=0),
        HistGradientBoostingClassifier(max_iter=20),
        make_pipeline(StandardScaler(), LogisticRegression()),
    ],
    ids=["rf", "hgb", "logreg"],
)
def test_features_feed_classifiers(clf):
    X, y = _two_class_data()
    pipe = make_pipeline(BandPowerFeatures(SFREQ), clf)
    scores = cross_val_score(pipe, X, y, cv=3)
    assert scores.mean() > 0.95


def test_fft_features_moved_to_features_with_deprecated_alias():
    import sklearn_sleep.preprocessing as preprocessing
    from sklearn_sleep.features import FFTFeatures

    with pytest.warns(FutureWarning, match="moved to sklearn_sleep.features.FFTFeatures"):
        old = preprocessing.FFTFeatures
    assert old is FFTFeatures and "FFTFeatures" not in preprocessing.__all__
    # objects pickled under the old module path still load
    from sklearn_sleep.preprocessing._fft import FFTFeatures as pickled_path

    assert pickled_path is FFTFeatures


def test_feature_names_input_features_contract():
    X = np.random.default_rng(0).normal(size=(3, 2, 400))
    bp = BandPowerFeatures(SFREQ, ch_names=["Fpz-Cz", "Pz-Oz"]).fit(X)
    first = bp.feature_names_[0]
    # a Pipeline passes the previous step's names: placeholders give way to known names
    assert bp.get_feature_names_out(["ch0", "ch1"])[0] == f"Fpz-Cz_{first}"
    assert bp.get_feature_names_out(["Fpz-Cz", "Pz-Oz"])[0] == f"Fpz-Cz_{first}"
    with pytest.raises(ValueError, match="differ from the channel names seen in fit"):
        bp.get_feature_names_out(["Pz-Oz", "Fpz-Cz"])
    with pytest.raises(ValueError, match="3 names"):
        bp.get_feature_names_out(["a", "b", "c"])
    unnamed = BandPowerFeatures(SFREQ).fit(X)
    assert unnamed.get_feature_names_out(["C3", "C4"])[0] == f"C3_{first}"
