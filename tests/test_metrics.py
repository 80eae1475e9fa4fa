"""Metric values against independent, hand-written computations."""

import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.exceptions import UndefinedMetricWarning
from sklearn.metrics import cohen_kappa_score, f1_score
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, GroupKFold, cross_validate
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_sleep.metrics import (
    format_scores,
    geometric_mean_score,
    kappa_score,
    macro_f1_score,
    macro_gmean_score,
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
    assert macro_gmean_score(y_true, y_pred) == pytest.approx(np.mean(expected), abs=1e-12)


def test_gmean_perfect_and_predicted_only_class():
    y = np.array(["W", "N2", "N2", "REM"])
    assert macro_gmean_score(y, y) == pytest.approx(1.0)
    # a predicted-only class (N1) has no positives: its sensitivity counts as 0, as in
    # imbalanced-learn, so it adds a 0 to the mean (like its F1 of 0)
    y_pred = np.array(["W", "N2", "N1", "REM"])
    per = [1.0, np.sqrt(0.5 * 1.0), 0.0, 1.0]  # W, N2 (recall 1/2, spec 1), N1, REM
    assert macro_gmean_score(y, y_pred) == pytest.approx(np.mean(per))


def _imblearn_macro_gmean(y_true, y_pred, labels=None):
    """Mean over classes of sqrt(sensitivity * specificity), from imblearn's per-class
    sensitivity and specificity (an independent implementation)."""
    import warnings

    from imblearn.metrics import sensitivity_specificity_support

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sen, spe, _ = sensitivity_specificity_support(y_true, y_pred, labels=labels,
                                                      average=None)
    return float(np.mean(np.sqrt(sen * spe)))


@pytest.mark.parametrize("seed", range(4))
def test_gmean_equals_mean_of_imblearn_per_class_gmeans(seed):
    rng = np.random.default_rng(seed)
    y_true, y_pred = _noisy_pair(rng, n=120, p=0.5)
    # a class only in the prediction, one only in the reference
    y_pred[:3] = "N1"
    y_true[y_true == "N3"] = "N2"
    assert macro_gmean_score(y_true, y_pred) == pytest.approx(
        _imblearn_macro_gmean(y_true, y_pred), abs=1e-12)
    # a subset of classes: epochs of the other classes are still negatives
    assert macro_gmean_score(y_true, y_pred, labels=["N1", "REM"]) == pytest.approx(
        _imblearn_macro_gmean(y_true, y_pred, labels=["N1", "REM"]), abs=1e-12)


def test_gmean_differs_from_imblearn_geometric_mean_score():
    # documented: imblearn's average="macro" is sqrt(mean sensitivity * mean
    # specificity) and its default is the geometric mean of the recalls
    import warnings

    from imblearn.metrics import geometric_mean_score as imb_gmean
    from imblearn.metrics import sensitivity_specificity_support

    y_true, y_pred = _noisy_pair(np.random.default_rng(0), n=200, p=0.5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sen, spe, _ = sensitivity_specificity_support(y_true, y_pred, average=None)
        imb_macro = imb_gmean(y_true, y_pred, average="macro")
        imb_default = imb_gmean(y_true, y_pred)
    assert imb_macro == pytest.approx(np.sqrt(sen.mean() * spe.mean()))
    assert imb_default == pytest.approx(np.prod(sen) ** (1 / len(sen)))
    ours = macro_gmean_score(y_true, y_pred)
    assert abs(ours - imb_macro) > 1e-3 and abs(ours - imb_default) > 1e-3


def test_deprecated_gmean_alias():
    y_true, y_pred = ["W", "N2", "N2", "REM"], ["W", "N2", "REM", "REM"]
    with pytest.warns(FutureWarning, match="renamed macro_gmean_score"):
        value = geometric_mean_score(y_true, y_pred)
    assert value == macro_gmean_score(y_true, y_pred)


# --- one rule for classes absent from a fold ------------------------------------------
# y_true/y_pred without N3: N3 is in neither array (undefined); N1 is only predicted.
ABSENT_TRUE = np.array(["W", "W", "N2", "N2", "N2", "REM", "REM", "W"])
ABSENT_PRED = np.array(["W", "N1", "N2", "N2", "REM", "REM", "W", "W"])
ALL = ["W", "N1", "N2", "N3", "REM"]


def test_absent_class_per_class_f1_is_nan_not_zero():
    with pytest.warns(UndefinedMetricWarning, match=r"\['N3'\] occur in neither"):
        f1s = per_class_f1(ABSENT_TRUE, ABSENT_PRED, labels=ALL)
    assert np.isnan(f1s["N3"])
    assert f1s["N1"] == 0.0  # predicted only: defined, 2TP/(2TP+FP+FN) = 0
    scorer = sleep_scoring(per_class=["N3", "N1"])

    from sklearn.base import BaseEstimator, ClassifierMixin

    class Fixed(ClassifierMixin, BaseEstimator):  # predicts ABSENT_PRED
        def predict(self, X):
            return ABSENT_PRED

    est = Fixed()
    est.classes_ = np.unique(ABSENT_PRED)
    with pytest.warns(UndefinedMetricWarning):
        assert np.isnan(scorer["f1_N3"](est, None, ABSENT_TRUE))
    assert scorer["f1_N1"](est, None, ABSENT_TRUE) == 0.0


def test_absent_class_left_out_of_macro_averages():
    present = ["W", "N1", "N2", "REM"]
    with pytest.warns(UndefinedMetricWarning):
        mf1 = macro_f1_score(ABSENT_TRUE, ABSENT_PRED, labels=ALL)
    # independent: scikit-learn over the classes that occur
    assert mf1 == pytest.approx(f1_score(ABSENT_TRUE, ABSENT_PRED, labels=present,
                                         average="macro"))
    assert mf1 == macro_f1_score(ABSENT_TRUE, ABSENT_PRED)
    with pytest.warns(UndefinedMetricWarning):
        gm = macro_gmean_score(ABSENT_TRUE, ABSENT_PRED, labels=ALL)
    assert gm == pytest.approx(_imblearn_macro_gmean(ABSENT_TRUE, ABSENT_PRED, present))
    assert gm == macro_gmean_score(ABSENT_TRUE, ABSENT_PRED)
    # kappa: an absent class changes nothing
    with pytest.warns(UndefinedMetricWarning):
        kap = kappa_score(ABSENT_TRUE, ABSENT_PRED, labels=ALL)
    assert kap == pytest.approx(cohen_kappa_score(ABSENT_TRUE, ABSENT_PRED))
    # nothing requested occurs: undefined, NaN (with a warning) for every metric
    for func in (macro_f1_score, macro_gmean_score, kappa_score):
        with pytest.warns(UndefinedMetricWarning):
            assert np.isnan(func(ABSENT_TRUE, ABSENT_PRED, labels=["N3"]))
    with pytest.warns(UndefinedMetricWarning):
        scores = sleep_scores(ABSENT_TRUE, ABSENT_PRED, labels=ALL)
    assert np.isnan(scores["f1_N3"]) and scores["macro_f1"] == mf1 and scores["gmean"] == gm


def test_cross_validate_fold_without_the_class_is_nan():
    X, y = make_classification(n_samples=240, n_features=6, n_informative=4, n_classes=3,
                               n_clusters_per_class=1, random_state=0)
    y = np.asarray(["W", "N2", "REM"], dtype=object)[y]
    groups = np.repeat(np.arange(4), 60)
    y[(groups == 0) & (y == "REM")] = "N1"  # N1 occurs in subject 0 only
    pipe = Pipeline([("scale", StandardScaler()), ("clf", LogisticRegression(max_iter=500))])
    with pytest.warns(UndefinedMetricWarning):
        res = cross_validate(pipe, X, y, groups=groups, cv=GroupKFold(4),
                             scoring=sleep_scoring(per_class=["N1"]), return_indices=True)
    for f1_n1, test_idx in zip(res["test_f1_N1"], res["indices"]["test"]):
        has_n1 = "N1" in set(y[test_idx])
        # folds whose test subject has no N1: the model trained on subject 0 may still
        # predict N1 (then F1 = 0, defined); if not, NaN - never a silent 0
        if not has_n1:
            assert np.isnan(f1_n1) or f1_n1 == 0.0
    assert np.isnan(res["test_f1_N1"]).any()
    assert np.isfinite(res["test_macro_f1"]).all() and np.isfinite(res["test_gmean"]).all()


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
        macro_gmean_score([], [])


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
        assert values.shape == (3,) and np.all((values > -1) & (values <= 1)), key
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
