"""ContextFeatures: YASA-equivalent rolling windows, recording boundaries, metadata routing."""

import numpy as np
import pytest
import sklearn
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, GroupKFold, cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler, robust_scale

from sklearn_sleep.features import ContextFeatures
from sklearn_sleep.metrics import RecordingScorer, recording_scoring


@pytest.fixture
def routing():
    with sklearn.config_context(enable_metadata_routing=True):
        yield


def _toy(rng, n_rec=6, n=80):
    """Stages in runs; features noisy enough that context (neighbour averaging) helps."""
    ys = []
    for _ in range(n_rec):
        ys.append(np.repeat(rng.choice(["N2", "N3", "REM", "W"], n // 20), 20))
    y = np.concatenate(ys)
    centres = {"W": [0, 0, 0], "N2": [1, 0, 0], "N3": [0, 1, 0], "REM": [0, 0, 1]}
    X = rng.normal(size=(len(y), 3)) * 1.2 + np.array([centres[s] for s in y])
    rec = np.repeat(np.arange(n_rec), n)
    return X, y, rec


def test_matches_yasa_pandas_rolling(rng):
    """Independent computation: YASA's own pandas code (staging.py) on each recording."""
    pd = pytest.importorskip("pandas")
    X = rng.normal(size=(50, 3))
    rec = np.repeat(["a", "b"], [30, 20])
    Xt = ContextFeatures().fit_transform(X, recordings=rec)
    expected = []
    for r in ["a", "b"]:
        df = pd.DataFrame(X[rec == r])
        c = df.rolling(window=15, center=True, min_periods=1, win_type="triang").mean()
        p = df.rolling(window=4, min_periods=1).mean()
        expected.append(np.hstack([df.to_numpy(), robust_scale(c, quantile_range=(5, 95)),
                                   robust_scale(p, quantile_range=(5, 95))]))
    np.testing.assert_allclose(Xt, np.vstack(expected), rtol=1e-10, atol=1e-10)


def test_windows_never_cross_recordings(rng):
    X = rng.normal(size=(40, 2))
    rec = np.repeat([0, 1], 20)
    ctx = ContextFeatures(quantile_range=None)
    both = ctx.fit_transform(X, recordings=rec)
    alone = ctx.fit_transform(X[20:], recordings=rec[20:])
    np.testing.assert_allclose(both[20:], alone)
    # changing recording 0 leaves recording 1's output untouched
    X2 = X.copy()
    X2[:20] += 100.0
    np.testing.assert_allclose(ctx.fit_transform(X2, recordings=rec)[20:], alone)


def test_past_window_is_causal_and_values(rng):
    X = np.arange(6.0)[:, None]
    Xt = ContextFeatures(centered_window=3, past_window=2, quantile_range=None).fit_transform(
        X, recordings=np.zeros(6))
    # past mean of current + previous epoch (first epoch: itself only)
    np.testing.assert_allclose(Xt[:, 2], [0, 0.5, 1.5, 2.5, 3.5, 4.5])
    # triang(3) = [0.5, 1, 0.5]; edges renormalised
    np.testing.assert_allclose(Xt[:, 1], [(0 + 0.5) / 1.5, 1, 2, 3, 4, (2 + 5) / 1.5])


def test_feature_names_and_set_output(rng):
    pd = pytest.importorskip("pandas")
    X = pd.DataFrame(rng.normal(size=(20, 2)), columns=["delta", "theta"])
    ctx = ContextFeatures(centered_window=5, past_window=2).set_output(transform="pandas")
    out = ctx.fit_transform(X, recordings=np.zeros(20))
    assert list(out.columns) == ["delta", "theta", "delta_c5_norm", "theta_c5_norm",
                                 "delta_p2_norm", "theta_p2_norm"]
    assert out.shape == (20, 6)


def test_missing_recordings_and_bad_order_raise(rng):
    X = rng.normal(size=(10, 2))
    with pytest.raises(ValueError, match="needs the recording of every row"):
        ContextFeatures().fit(X)
    ctx = ContextFeatures().fit(X, recordings=np.zeros(10))
    with pytest.raises(ValueError, match="enable_metadata_routing"):
        ctx.transform(X)
    with pytest.raises(ValueError, match="not contiguous"):
        ctx.transform(X, recordings=[0, 1] * 5)
    with pytest.raises(ValueError, match="one id per row"):
        ctx.transform(X, recordings=[0] * 9)
    with pytest.raises(ValueError, match="odd"):
        ContextFeatures(centered_window=4).fit(X, recordings=np.zeros(10))


def test_pipeline_without_routing_refuses_at_predict(rng):
    X, y, rec = _toy(rng)
    pipe = make_pipeline(ContextFeatures(), LogisticRegression())
    pipe.fit(X, y, contextfeatures__recordings=rec)  # fit params work without routing
    with pytest.raises(ValueError, match="recordings=None"):
        pipe.predict(X)


def test_cross_validate_and_gridsearch_groupkfold(rng, routing):
    X, y, rec = _toy(rng)
    subjects = rec // 2  # two recordings per subject: groups != recordings
    # no per-recording scaling here: 4 stage runs per toy recording are too few for it
    pipe = make_pipeline(ContextFeatures(centered_window=9, past_window=2, quantile_range=None),
                         StandardScaler(),
                         LogisticRegression())
    cv = GroupKFold(n_splits=3)
    res = cross_validate(pipe, X, y, cv=cv, scoring=recording_scoring(), error_score="raise",
                         params={"groups": subjects, "recordings": rec},
                         return_estimator=True, return_indices=True)
    # the scorer's predictions equal the fitted pipeline's own predictions with recordings
    for est, test, kappa in zip(res["estimator"], res["indices"]["test"], res["test_kappa"]):
        from sklearn.metrics import cohen_kappa_score
        pred = est.predict(X[test], recordings=rec[test])
        assert kappa == pytest.approx(cohen_kappa_score(y[test], pred))
    plain = cross_validate(LogisticRegression(), X, y, cv=cv, scoring="accuracy",
                           params={"groups": subjects})
    # context averages the noise away: clearly better than epoch-by-epoch
    assert res["test_accuracy"].mean() > plain["test_score"].mean() + 0.1

    gs = GridSearchCV(pipe, {"contextfeatures__centered_window": [1, 9]}, cv=cv,
                      scoring=RecordingScorer("accuracy"), error_score="raise")
    gs.fit(X, y, groups=subjects, recordings=rec)
    assert np.all(np.isfinite(gs.cv_results_["mean_test_score"]))
    assert gs.best_params_ == {"contextfeatures__centered_window": 9}


def test_groups_alias_when_groups_are_recordings(rng, routing):
    X, y, rec = _toy(rng)
    ctx = (ContextFeatures(centered_window=5)
           .set_fit_request(recordings="groups").set_transform_request(recordings="groups"))
    pipe = make_pipeline(ctx, LogisticRegression())
    res = cross_validate(pipe, X, y, cv=GroupKFold(3), scoring=recording_scoring(alias="groups"),
                         params={"groups": rec}, error_score="raise")
    assert np.all(np.isfinite(res["test_kappa"]))


def test_no_leakage_from_test_recordings(rng, routing):
    """Perturbing a fold's test recordings leaves the fitted model (train features) unchanged."""
    X, y, rec = _toy(rng)
    cv = GroupKFold(n_splits=3)
    train, test = next(cv.split(X, y, rec))
    pipe = make_pipeline(ContextFeatures(centered_window=5), StandardScaler(),
                         LogisticRegression(max_iter=1000))
    X2 = X.copy()
    X2[test] = rng.normal(size=X2[test].shape) * 50
    a = clone(pipe).fit(X[train], y[train], recordings=rec[train])
    b = clone(pipe).fit(X2[train], y[train], recordings=rec[train])
    np.testing.assert_array_equal(a[-1].coef_, b[-1].coef_)
    # through cross_validate too: every fold whose training rows are unchanged is identical
    kw = dict(cv=cv, params={"groups": rec, "recordings": rec}, return_estimator=True,
              scoring=recording_scoring({"acc": "accuracy"}))
    ra = cross_validate(pipe, X, y, **kw)
    rb = cross_validate(pipe, X2, y, **kw)
    np.testing.assert_array_equal(ra["estimator"][0][-1].coef_, rb["estimator"][0][-1].coef_)
