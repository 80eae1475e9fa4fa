"""Metric values against independent, hand-written computations."""

import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, GroupKFold, cross_validate
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_sleep.metrics import (
    format_scores,
    geometric_mean_score,
    kappa_score,
    macro_f1_score,
    per_class_f1,
    sleep_confusion_matrix,
    sleep_scores,
    sleep_scoring,
)

STAGES = ["W", "N1", "N2", "N3", "REM"]


def _noisy_pair(rng, n=400, p=0.35):
    y_true = rng.choice(STAGES, n, p=[0.2, 0.08, 0.42, 0.12, 0.18])
    y_pred = y_true.copy()
    flip = rng.random(n) < p
    y_pred[flip] = rng.choice(STAGES, flip.sum())
    return y_true, y_pred


def _loop_confusion(y_true, y_pred, labels):
    cm = np.zeros((len(labels), len(labels)), dtype=int)
    for t, p in zip(y_true, y_pred):
        cm[labels.index(t), labels.index(p)] += 1
    return cm


def test_confusion_matrix_rows_are_reference_in_stage_order(rng):
    y_true, y_pred = _noisy_pair(rng)
    cm, labels = sleep_confusion_matrix(y_true, y_pred)
    assert labels.tolist() == STAGES  # canonical order, not alphabetical
    np.testing.assert_array_equal(cm, _loop_confusion(y_true, y_pred, STAGES))


def test_gmean_matches_definition(rng):
    y_true, y_pred = _noisy_pair(rng)
    expected = []
    for stage in STAGES:
        t, p = y_true == stage, y_pred == stage
        recall = (t & p).sum() / t.sum()
        specificity = (~t & ~p).sum() / (~t).sum()
        expected.append(np.sqrt(recall * specificity))
    assert geometric_mean_score(y_true, y_pred) == pytest.approx(np.mean(expected), abs=1e-12)


def test_gmean_perfect_and_absent_class():
    y = np.array(["W", "N2", "N2", "REM"])
    assert geometric_mean_score(y, y) == pytest.approx(1.0)
    # a predicted-only class has no recall: it is left out of the mean
    y_pred = np.array(["W", "N2", "N1", "REM"])
    per = [1.0, np.sqrt(0.5 * 1.0), 1.0]  # W, N2 (recall 1/2, spec 1), REM
    assert geometric_mean_score(y, y_pred) == pytest.approx(np.mean(per))


def test_kappa_matches_formula(rng):
    y_true, y_pred = _noisy_pair(rng)
    cm = _loop_confusion(y_true, y_pred, STAGES).astype(float)
    n = cm.sum()
    po = np.trace(cm) / n
    pe = (cm.sum(0) * cm.sum(1)).sum() / n**2
    assert kappa_score(y_true, y_pred) == pytest.approx((po - pe) / (1 - pe), abs=1e-12)


def test_f1_values(rng):
    y_true, y_pred = _noisy_pair(rng)
    f1s = per_class_f1(y_true, y_pred)
    assert list(f1s) == STAGES
    for stage in STAGES:
        tp = np.sum((y_true == stage) & (y_pred == stage))
        fp = np.sum((y_true != stage) & (y_pred == stage))
        fn = np.sum((y_true == stage) & (y_pred != stage))
        assert f1s[stage] == pytest.approx(2 * tp / (2 * tp + fp + fn))
    assert macro_f1_score(y_true, y_pred) == pytest.approx(np.mean(list(f1s.values())))


def test_sleep_scores_keys_and_format(rng):
    y_true, y_pred = _noisy_pair(rng)
    scores = sleep_scores(y_true, y_pred)
    assert list(scores)[:4] == ["accuracy", "macro_f1", "kappa", "gmean"]
    assert scores["accuracy"] == pytest.approx(np.mean(y_true == y_pred))
    assert {f"f1_{s}" for s in STAGES} <= set(scores)
    text = format_scores(scores, title="fold 1", published={"accuracy": 0.845})
    assert "fold 1" in text and "published 0.845" in text


def test_metrics_reject_bad_input():
    with pytest.raises(ValueError, match="different lengths"):
        sleep_scores(["W", "N1"], ["W"])
    with pytest.raises(ValueError, match="1-D"):
        kappa_score(np.zeros((2, 2)), np.zeros((2, 2)))
    with pytest.raises(ValueError, match="empty"):
        geometric_mean_score([], [])


def test_scorers_in_cross_validate_and_grid_search():
    X, y = make_classification(
        n_samples=300, n_features=8, n_informative=5, n_classes=5, n_clusters_per_class=1,
        random_state=0,
    )
    y = np.asarray(STAGES, dtype=object)[y]
    groups = np.repeat(np.arange(6), 50)
    pipe = Pipeline([("scale", StandardScaler()), ("clf", LogisticRegression(max_iter=500))])
    scoring = sleep_scoring(per_class=["N1"])
    res = cross_validate(pipe, X, y, groups=groups, cv=GroupKFold(3), scoring=scoring)
    for key in ("accuracy", "macro_f1", "kappa", "gmean", "f1_N1"):
        values = res[f"test_{key}"]
        assert values.shape == (3,) and np.all((values > -1) & (values <= 1))
    # the scorer reproduces the metric on a refit of each fold
    train, test = next(GroupKFold(3).split(X, y, groups))
    fitted = pipe.fit(X[train], y[train])
    assert scoring["kappa"](fitted, X[test], y[test]) == pytest.approx(
        kappa_score(y[test], fitted.predict(X[test]))
    )
    grid = GridSearchCV(pipe, {"clf__C": [0.01, 1.0]}, scoring=scoring, refit="kappa",
                        cv=GroupKFold(3))
    grid.fit(X, y, groups=groups)
    assert grid.best_params_["clf__C"] in (0.01, 1.0)
    assert "mean_test_gmean" in grid.cv_results_


def test_stage_codes_must_be_whole_numbers():
    from sklearn_sleep.utils import to_stage_names

    assert to_stage_names(np.array([0.0, 4.0])).tolist() == ["W", "REM"]
    with pytest.raises(ValueError, match="whole numbers"):
        to_stage_names(np.array([1.7]))
