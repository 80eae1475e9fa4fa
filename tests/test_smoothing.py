"""HMMSmoother: transition counts, exact decoding against brute force, routing, no leakage."""

import itertools

import numpy as np
import pytest
import sklearn
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, GroupKFold, cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_sleep.features import ContextFeatures
from sklearn_sleep.metrics import recording_scoring

pytest.importorskip("hmmlearn")

from sklearn_sleep.smoothing import HMMSmoother  # noqa: E402


@pytest.fixture
def routing():
    with sklearn.config_context(enable_metadata_routing=True):
        yield


class _FixedProba(ClassifierMixin, BaseEstimator):
    """Returns the probabilities stored in column 1.. of X (column 0 is ignored)."""

    def fit(self, X, y):
        self.classes_ = np.unique(y)
        return self

    def predict_proba(self, X):
        return np.asarray(X)[:, 1:]

    def predict(self, X):
        return self.classes_[self.predict_proba(X).argmax(1)]


def _toy(rng, n_rec=6, n=80):
    ys = [np.repeat(rng.choice(["N2", "N3", "REM", "W"], n // 20), 20) for _ in range(n_rec)]
    y = np.concatenate(ys)
    centres = {"W": [0, 0, 0], "N2": [1, 0, 0], "N3": [0, 1, 0], "REM": [0, 0, 1]}
    X = rng.normal(size=(len(y), 3)) * 1.2 + np.array([centres[s] for s in y])
    return X, y, np.repeat(np.arange(n_rec), n)


def test_transition_matrix_counts_within_recordings_only():
    y = np.array(["W", "W", "N1", "N2", "N2", "W", "N2"])
    rec = np.array([0, 0, 0, 0, 0, 1, 1])  # N2 -> W at the boundary must not count
    X = np.zeros((7, 1))
    hmm = HMMSmoother(_DummyProba(), transition_pseudocount=0.5).fit(X, y, recordings=rec)
    assert hmm.classes_.tolist() == ["N1", "N2", "W"]
    counts = np.array([[0, 1, 0],   # N1 -> N2
                       [0, 1, 0],   # N2 -> N2 (N2 -> W crosses recordings: not counted)
                       [1, 1, 1]])  # W -> N1, W -> W (rec 0); W -> N2 (rec 1)
    np.testing.assert_array_equal(hmm.transition_counts_, counts)
    expected = (counts + 0.5) / (counts + 0.5).sum(1, keepdims=True)
    np.testing.assert_allclose(hmm.transmat_, expected)
    np.testing.assert_allclose(hmm.startprob_, np.array([0.5, 0.5, 2.5]) / 3.5)
    np.testing.assert_allclose(hmm.class_prior_, [1 / 7, 3 / 7, 3 / 7])


class _DummyProba(ClassifierMixin, BaseEstimator):
    def fit(self, X, y):
        self.classes_ = np.unique(y)
        return self

    def predict_proba(self, X):
        return np.full((len(X), len(self.classes_)), 1 / len(self.classes_))


def _brute_force(start, trans, lik):
    """Joint probabilities of every state path (independent of hmmlearn)."""
    n, k = lik.shape
    paths = list(itertools.product(range(k), repeat=n))
    joint = []
    for p in paths:
        v = start[p[0]] * lik[0, p[0]]
        for t in range(1, n):
            v *= trans[p[t - 1], p[t]] * lik[t, p[t]]
        joint.append(v)
    return paths, np.array(joint)


def test_decoding_matches_brute_force(rng):
    k, n = 3, 5
    y_train = np.array(["a", "a", "b", "c", "c", "b", "a", "a", "c", "b"])
    rec_train = np.repeat([0, 1], 5)
    proba = rng.dirichlet(np.ones(k), size=n)
    X_test = np.hstack([np.zeros((n, 1)), proba])
    X_train = np.hstack([np.zeros((10, 1)), rng.dirichlet(np.ones(k), size=10)])
    hmm = HMMSmoother(_FixedProba()).fit(X_train, y_train, recordings=rec_train)
    lik = proba / hmm.class_prior_
    paths, joint = _brute_force(hmm.startprob_, hmm.transmat_, lik)
    best = np.array(paths[int(np.argmax(joint))])
    np.testing.assert_array_equal(hmm.predict(X_test, recordings=np.zeros(n)),
                                  hmm.classes_[best])
    post = np.zeros((n, k))
    for p, j in zip(paths, joint):
        post[np.arange(n), list(p)] += j
    post /= joint.sum()
    np.testing.assert_allclose(hmm.predict_proba(X_test, recordings=np.zeros(n)), post,
                               rtol=1e-8)
    hmm_map = clone(hmm).set_params(algorithm="map").fit(X_train, y_train, recordings=rec_train)
    np.testing.assert_array_equal(hmm_map.predict(X_test, recordings=np.zeros(n)),
                                  hmm.classes_[post.argmax(1)])


def test_recordings_decoded_independently(rng):
    X, y, rec = _toy(rng)
    hmm = HMMSmoother(LogisticRegression()).fit(X, y, recordings=rec)
    both = hmm.predict_proba(X[:160], recordings=rec[:160])
    alone = hmm.predict_proba(X[80:160], recordings=rec[80:160])
    np.testing.assert_allclose(both[80:], alone)


def test_smoothing_beats_epochwise_and_errors(rng):
    X, y, rec = _toy(rng)
    Xt, yt, rect = _toy(np.random.default_rng(1))
    hmm = HMMSmoother(LogisticRegression()).fit(X, y, recordings=rec)
    acc_hmm = np.mean(hmm.predict(Xt, recordings=rect) == yt)
    acc_raw = np.mean(hmm.estimator_.predict(Xt) == yt)
    assert acc_hmm > acc_raw + 0.15
    with pytest.raises(ValueError, match="needs the recording of every row"):
        hmm.predict(Xt)
    with pytest.raises(ValueError, match="not contiguous"):
        hmm.predict(Xt[:4], recordings=[0, 1, 0, 1])
    with pytest.raises(ValueError, match="algorithm"):
        HMMSmoother(LogisticRegression(), algorithm="beam").fit(X, y, recordings=rec)


def test_cross_validate_gridsearch_and_context_inside(rng, routing):
    X, y, rec = _toy(rng)
    subjects = rec // 2
    inner = make_pipeline(ContextFeatures(centered_window=5, quantile_range=None),
                          StandardScaler(), LogisticRegression())
    hmm = HMMSmoother(inner)
    res = cross_validate(hmm, X, y, cv=GroupKFold(3), scoring=recording_scoring(),
                         params={"groups": subjects, "recordings": rec}, error_score="raise")
    assert np.all(res["test_accuracy"] > 0.5)
    gs = GridSearchCV(HMMSmoother(LogisticRegression()),
                      {"transition_pseudocount": [0.1, 10.0], "algorithm": ["viterbi", "map"]},
                      cv=GroupKFold(3), scoring=recording_scoring()["kappa"],
                      error_score="raise")
    gs.fit(X, y, groups=subjects, recordings=rec)
    assert np.all(np.isfinite(gs.cv_results_["mean_test_score"]))
    assert gs.best_estimator_.classes_.tolist() == ["N2", "N3", "REM", "W"]


def test_no_leakage_of_test_hypnograms(rng, routing):
    """The fitted transition matrix of a fold ignores that fold's test recordings."""
    X, y, rec = _toy(rng)
    y2, X2 = y.copy(), X.copy()
    cv = GroupKFold(n_splits=3)
    train, test = next(cv.split(X, y, rec))
    y2[test] = rng.permutation(y2[test])  # scramble the test hypnograms
    X2[test] += 10.0
    kw = dict(cv=cv, params={"groups": rec, "recordings": rec}, return_estimator=True,
              scoring=recording_scoring({"acc": "accuracy"}))
    a = cross_validate(HMMSmoother(LogisticRegression(max_iter=1000)), X, y,
                       **kw)["estimator"][0]
    b = cross_validate(HMMSmoother(LogisticRegression(max_iter=1000)), X2, y2,
                       **kw)["estimator"][0]
    np.testing.assert_array_equal(a.transmat_, b.transmat_)
    np.testing.assert_array_equal(a.startprob_, b.startprob_)
    np.testing.assert_array_equal(a.estimator_.coef_, b.estimator_.coef_)
    # ...while the full-data fit does see them (the check above can fail)
    full_a = HMMSmoother(LogisticRegression(max_iter=1000)).fit(X, y, recordings=rec)
    full_b = HMMSmoother(LogisticRegression(max_iter=1000)).fit(X2, y2, recordings=rec)
    assert not np.allclose(full_a.transmat_, full_b.transmat_)


def test_clear_error_without_hmmlearn(rng, monkeypatch):
    import sys

    X, y, rec = _toy(rng, n_rec=2)
    monkeypatch.setitem(sys.modules, "hmmlearn", None)
    monkeypatch.setitem(sys.modules, "hmmlearn.base", None)
    with pytest.raises(ImportError, match=r"pip install sklearn_sleep\[hmm\]"):
        HMMSmoother(LogisticRegression()).fit(X, y, recordings=rec)


def test_pickle_and_clone_round_trip(rng):
    import pickle

    X, y, rec = _toy(rng, n_rec=2)
    hmm = HMMSmoother(LogisticRegression(), algorithm="map", transition_pseudocount=0.5)
    assert clone(hmm).get_params()["transition_pseudocount"] == 0.5
    hmm.fit(X, y, recordings=rec)
    again = pickle.loads(pickle.dumps(hmm))
    np.testing.assert_array_equal(again.predict(X, recordings=rec), hmm.predict(X, recordings=rec))


def test_groups_alias_recipe_and_score_with_recordings(rng):
    """When every CV group is one recording, the groups can stand for the recordings:
    fit request aliased, scorer alias="groups"; the scores equal those with recordings.
    ``score`` takes the recording ids too."""
    X, y, rec = _toy(rng)
    with sklearn.config_context(enable_metadata_routing=True):
        plain = cross_validate(HMMSmoother(LogisticRegression()), X, y, cv=GroupKFold(3),
                               scoring=recording_scoring()["kappa"],
                               params={"groups": rec, "recordings": rec})
        aliased = cross_validate(
            HMMSmoother(LogisticRegression()).set_fit_request(recordings="groups"), X, y,
            cv=GroupKFold(3), scoring=recording_scoring(alias="groups")["kappa"],
            params={"groups": rec})
        np.testing.assert_allclose(aliased["test_score"], plain["test_score"])
        hmm = HMMSmoother(LogisticRegression()).fit(X, y, recordings=rec)
        assert hmm.score(X, y, recordings=rec) == pytest.approx(
            np.mean(hmm.predict(X, recordings=rec) == y))
        search = GridSearchCV(HMMSmoother(LogisticRegression()),
                              {"transition_pseudocount": [0.1, 1.0]}, cv=GroupKFold(3),
                              scoring=recording_scoring()["kappa"])
        search.fit(X, y, groups=rec, recordings=rec)
        from sklearn.metrics import cohen_kappa_score

        assert search.score(X, y, recordings=rec) == pytest.approx(cohen_kappa_score(
            y, search.best_estimator_.predict(X, recordings=rec)))
    with pytest.raises(ValueError, match="recording"):
        hmm.score(X, y)
