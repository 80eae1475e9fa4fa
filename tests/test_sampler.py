"""EpochSampler: imbalanced-learn samplers on 3-D epoch arrays."""

from collections import Counter

import numpy as np
import pytest
from imblearn.over_sampling import SMOTE, RandomOverSampler
from imblearn.pipeline import Pipeline
from imblearn.under_sampling import RandomUnderSampler
from sklearn.base import clone
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

from sklearn_sleep.features import BandPowerFeatures
from sklearn_sleep.preprocessing import EpochSampler

SFREQ = 100.0


def _imbalanced(n=(30, 6, 12), n_times=600, seed=0):
    """Three classes, each a sine at its own frequency plus noise (known answer)."""
    rng = np.random.default_rng(seed)
    t = np.arange(n_times) / SFREQ
    X, y = [], []
    for label, (count, f) in zip(["N2", "N1", "W"], zip(n, (2.0, 6.0, 10.0))):
        for _ in range(count):
            x = 10 * np.sin(2 * np.pi * f * t + rng.uniform(0, 6.28))
            X.append(x + rng.normal(0, 3, size=(2, n_times)))
            y.append(label)
    return np.asarray(X, dtype=np.float32), np.asarray(y)


def test_undersampling_counts_and_shape():
    X, y = _imbalanced()
    Xr, yr = EpochSampler(RandomUnderSampler(random_state=0)).fit_resample(X, y)
    assert Counter(yr.tolist()) == {"N2": 6, "N1": 6, "W": 6}
    assert Xr.shape == (18, 2, 600) and Xr.dtype == np.float32


def test_oversampling_rows_are_existing_epochs():
    X, y = _imbalanced()
    sampler = EpochSampler(RandomOverSampler(random_state=0))
    Xr, yr = sampler.fit_resample(X, y)
    assert Counter(yr.tolist()) == {"N2": 30, "N1": 30, "W": 30}
    assert Xr.shape == (90, 2, 600)
    np.testing.assert_array_equal(Xr, X[sampler.sample_indices_])
    np.testing.assert_array_equal(yr, y[sampler.sample_indices_])
    assert sampler.epoch_shape_ == (2, 600) and sampler.n_features_in_ == 1200


def test_smote_allowed_on_raw_signals_and_4d():
    X, y = _imbalanced()
    Xr, yr = EpochSampler(SMOTE(k_neighbors=3, random_state=0)).fit_resample(X, y)
    assert Xr.shape == (90, 2, 600) and Counter(yr.tolist())["N1"] == 30
    X4 = X.reshape(len(X), 2, 2, 300)  # e.g. sub-windows / context sequences
    Xr4, _ = EpochSampler(RandomUnderSampler(random_state=0)).fit_resample(X4, y)
    assert Xr4.shape == (18, 2, 2, 300)


def test_default_sampler_clone_and_errors():
    X, y = _imbalanced()
    s = EpochSampler()
    Xr, yr = s.fit_resample(X, y)
    assert len(yr) == 18 and isinstance(s.sampler_, RandomUnderSampler)
    c = clone(EpochSampler(RandomUnderSampler(random_state=3)))
    assert c.get_params()["sampler__random_state"] == 3
    with pytest.raises(ValueError, match="different lengths"):
        EpochSampler().fit_resample(X, y[:-1])
    with pytest.raises(ValueError, match="NaN"):
        Xn = X.copy()
        Xn[0, 0, 0] = np.nan
        EpochSampler().fit_resample(Xn, y)
    with pytest.raises(ValueError):  # not a sampler
        EpochSampler(sampler=LogisticRegression()).fit_resample(X, y)


def test_pipeline_3d_sampler_then_features():
    X, y = _imbalanced()
    pipe = Pipeline([
        ("balance", EpochSampler(RandomUnderSampler(random_state=0))),
        ("features", BandPowerFeatures(SFREQ, window_seconds=2.0)),
        ("scale", StandardScaler()),
        ("clf", LogisticRegression()),
    ])
    pipe.fit(X, y)
    # the sampler acted during fit only: the classifier saw 6 epochs per class
    assert pipe.named_steps["clf"].n_features_in_ == 2 * 15
    assert len(pipe.named_steps["balance"].sample_indices_) == 18
    pred = pipe.predict(X)  # predict passes all 48 epochs through
    assert pred.shape == (48,) and np.mean(pred == y) > 0.9


@pytest.mark.parametrize("sampler", [RandomOverSampler(random_state=0),
                                     SMOTE(k_neighbors=3, random_state=0)],
                         ids=["ros", "smote"])
def test_pipeline_2d_path_features_then_sampler(sampler):
    X, y = _imbalanced()
    pipe = Pipeline([
        ("features", BandPowerFeatures(SFREQ, window_seconds=2.0)),
        ("balance", sampler),
        ("clf", HistGradientBoostingClassifier(max_iter=30, random_state=0)),
    ])
    pipe.fit(X, y)
    assert pipe.predict(X).shape == (48,)
    assert np.mean(pipe.predict(X) == y) > 0.9
