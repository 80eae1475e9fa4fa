"""Contract tests of SleepNetClassifier (the skorch wrapper every network uses)."""

import pickle

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GridSearchCV, GroupKFold, cross_validate
from sklearn.pipeline import Pipeline
from torch import nn

from sklearn_sleep.metrics import sleep_scoring
from sklearn_sleep.models import SleepNetClassifier, resolve_device


class TinyNet(nn.Module):
    """Linear read-out of per-channel log power: enough to learn amplitude classes."""

    def __init__(self, n_chans=1, n_times=10, n_classes=2, hidden=8, dropout=0.0):
        super().__init__()
        self.n_times = n_times
        self.head = nn.Sequential(
            nn.Linear(n_chans, hidden), nn.ReLU(), nn.Dropout(dropout), nn.Linear(hidden, n_classes)
        )

    def forward(self, x):
        return self.head(torch.log(x.pow(2).mean(-1) + 1e-6))


def _data(n_per_class=40, n_chans=2, n_times=50, seed=0):
    rng = np.random.default_rng(seed)
    labels = np.array(["W", "N2", "REM"], dtype=object)
    y = np.repeat(labels, n_per_class)
    scale = np.repeat([1.0, 4.0, 0.25], n_per_class)[:, None, None]
    X = (rng.normal(size=(len(y), n_chans, n_times)) * scale).astype(np.float32)
    perm = rng.permutation(len(y))
    groups = np.arange(len(y)) % 4
    return X[perm], y[perm], groups


def _clf(**kw):
    params = dict(max_epochs=25, lr=0.05, batch_size=32, random_state=0)
    params.update(kw)
    return SleepNetClassifier(TinyNet, **params)


def test_learns_and_string_labels_round_trip():
    X, y, _ = _data()
    clf = _clf()
    assert clf.fit(X, y) is clf
    assert clf.classes_.tolist() == ["N2", "REM", "W"]  # sorted, as in scikit-learn
    pred = clf.predict(X)
    assert pred.dtype == object and set(pred) <= {"W", "N2", "REM"}
    assert clf.score(X, y) > 0.9
    proba = clf.predict_proba(X)
    assert proba.shape == (len(X), 3)
    np.testing.assert_allclose(proba.sum(1), 1.0, rtol=1e-5)
    assert clf.input_shape_ == (2, 50) and clf.n_chans_in_ == 2 and clf.n_times_in_ == 50
    assert clf.module_.head[0].in_features == 2  # n_chans inferred and passed to the module


def test_integer_labels_round_trip():
    X, y, _ = _data()
    y_int = np.select([y == "W", y == "N2"], [0, 2], 4)
    clf = _clf().fit(X, y_int)
    assert clf.classes_.tolist() == [0, 2, 4]
    assert set(clf.predict(X).tolist()) <= {0, 2, 4}


def test_not_fitted_and_shape_mismatch():
    X, y, _ = _data()
    with pytest.raises(NotFittedError):
        _clf().predict(X)
    clf = _clf(max_epochs=1).fit(X, y)
    with pytest.raises(ValueError, match=r"\(2, 50\).*\(1, 50\)"):
        clf.predict(X[:, :1])
    with pytest.raises(ValueError, match="3-D"):
        clf.predict(X[:, 0])
    X_nan = X.copy()
    X_nan[3, 0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        clf.predict(X_nan)
    with pytest.raises(ValueError, match="different lengths"):
        _clf().fit(X, y[:-1])


def test_clone_params_and_pickle():
    X, y, _ = _data()
    clf = _clf(module__hidden=16, class_weight="balanced")
    params = clf.get_params()
    assert params["device"] == "auto" and params["module__hidden"] == 16
    cloned = clone(clf)
    assert cloned.get_params()["module__hidden"] == 16
    cloned.set_params(module__hidden=4, lr=0.1)
    assert cloned.get_params()["module__hidden"] == 4 and cloned.lr == 0.1
    clf.fit(X, y)
    assert clf.module_.head[0].out_features == 16
    restored = pickle.loads(pickle.dumps(clf))
    np.testing.assert_allclose(restored.predict_proba(X), clf.predict_proba(X), rtol=1e-6)
    assert restored.get_params()["device"] == "auto"
    assert not hasattr(clone(clf), "classes_")  # clone forgets fitted state


def test_reproducible_with_random_state():
    X, y, _ = _data()
    a = _clf(max_epochs=3, random_state=7).fit(X, y).predict_proba(X)
    b = _clf(max_epochs=3, random_state=7).fit(X, y).predict_proba(X)
    np.testing.assert_array_equal(a, b)


def test_no_internal_split_by_default_and_grouped_validation():
    X, y, groups = _data()
    clf = _clf(max_epochs=2).fit(X, y)
    assert "valid_loss" not in clf.history[-1]
    clf = _clf(max_epochs=30, validation_fraction=0.25, early_stopping=2)
    clf.fit(X, y, groups=groups)
    assert "valid_loss" in clf.history[-1]
    with pytest.raises(ValueError, match="validation_fraction"):
        _clf(early_stopping=3).fit(X, y)


def test_class_weight_options():
    X, y, _ = _data()
    clf = _clf(max_epochs=1, class_weight={"W": 1.0, "N2": 2.0, "REM": 3.0}).fit(X, y)
    assert clf.classes_.tolist() == ["N2", "REM", "W"]
    np.testing.assert_allclose(clf.criterion_.weight.cpu().numpy(), [2.0, 3.0, 1.0])
    with pytest.raises(ValueError, match="one weight per class"):
        _clf(max_epochs=1, class_weight=[1.0, 2.0]).fit(X, y)


def test_device_auto_resolves():
    assert resolve_device("auto") == ("cuda" if torch.cuda.is_available() else "cpu")
    X, y, _ = _data()
    assert _clf(max_epochs=1).fit(X, y).device_ == resolve_device("auto")


def test_pipeline_cross_validate_and_grid_search():
    X, y, groups = _data()
    pipe = Pipeline([("net", _clf(max_epochs=8))])
    res = cross_validate(pipe, X, y, groups=groups, cv=GroupKFold(2), scoring=sleep_scoring())
    assert res["test_kappa"].mean() > 0.5
    grid = GridSearchCV(
        pipe, {"net__module__dropout": [0.0, 0.2], "net__lr": [0.05, 0.01]}, cv=GroupKFold(2)
    )
    grid.fit(X, y, groups=groups)
    assert set(grid.best_params_) == {"net__module__dropout", "net__lr"}


@pytest.mark.gpu
def test_cuda_mixed_precision_fit():
    X, y, _ = _data()
    clf = _clf(max_epochs=2, device="cuda", mixed_precision=True).fit(X, y)
    assert clf.device_ == "cuda"
    assert isinstance(clf.predict_proba(X), np.ndarray)
