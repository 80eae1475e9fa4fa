"""Scorers that forward recording ids to ``predict`` (recording-aware estimators)."""

import inspect

from sklearn.metrics import check_scoring
from sklearn.model_selection._search import BaseSearchCV
from sklearn.utils.metadata_routing import MetadataRequest

from ._classification import sleep_scoring

__all__ = ["RecordingScorer", "recording_scoring"]


class _PredictWithRecordings:
    """Estimator proxy whose prediction methods receive the recording ids as ``name=``."""

    def __init__(self, estimator, recordings, name):
        if isinstance(estimator, BaseSearchCV):
            # a search's predict takes no metadata; it is its refitted best estimator's
            if not hasattr(estimator, "best_estimator_"):
                raise ValueError(
                    f"{type(estimator).__name__} has no best_estimator_ (refit=False): it "
                    "cannot predict, so it cannot be scored.")
            estimator = estimator.best_estimator_
        self._estimator = estimator
        self._recordings = recordings
        self._name = name

    def _metadata(self, method):
        """The ids as ``recordings=`` for an estimator that takes them itself (e.g.
        HMMSmoother), else under the routed name (a Pipeline maps an alias such as
        ``groups`` to its steps' ``recordings``)."""
        try:
            own = "recordings" in inspect.signature(getattr(self._estimator, method)).parameters
        except (TypeError, ValueError):
            own = False
        return {"recordings" if own else self._name: self._recordings}

    def __sklearn_tags__(self):
        return self._estimator.__sklearn_tags__()

    def __getattr__(self, name):
        return getattr(self._estimator, name)

    def predict(self, X):
        return self._estimator.predict(X, **self._metadata("predict"))

    def predict_proba(self, X):
        return self._estimator.predict_proba(X, **self._metadata("predict_proba"))

    def predict_log_proba(self, X):
        return self._estimator.predict_log_proba(X, **self._metadata("predict_log_proba"))

    def decision_function(self, X):
        return self._estimator.decision_function(X, **self._metadata("decision_function"))


class RecordingScorer:
    """Wrap a scorer so that the estimator's ``predict`` receives the recording ids.

    scikit-learn's scorers call ``estimator.predict(X)`` without metadata, so a
    recording-aware estimator (:class:`~sklearn_sleep.features.ContextFeatures` in a
    pipeline, :class:`~sklearn_sleep.smoothing.HMMSmoother`) could not be scored by
    ``cross_validate`` or ``GridSearchCV``. This scorer requests ``recordings`` for
    ``score`` through metadata routing (``sklearn.set_config(enable_metadata_routing=True)``)
    and passes the test rows' ids to ``predict``/``predict_proba``; the wrapped scorer
    is otherwise unchanged. A fitted ``GridSearchCV``/``RandomizedSearchCV`` (whose
    ``predict`` takes no metadata) is scored through its ``best_estimator_``, which is
    what its ``predict`` would use; call ``search.best_estimator_.predict(X,
    recordings=...)`` yourself in the same way.

    Parameters
    ----------
    scorer : str or callable
        Any scikit-learn scorer (name or ``scorer(estimator, X, y)`` callable).
    alias : str, default="recordings"
        Name of the metadata holding the recording ids (e.g. ``"groups"`` when each
        cross-validation group is one recording).

    Examples
    --------
    >>> from sklearn_sleep.metrics import RecordingScorer
    >>> scorer = RecordingScorer("accuracy")
    """

    def __init__(self, scorer, alias="recordings"):
        self.scorer = scorer
        self.alias = alias

    def __call__(self, estimator, X, y, recordings=None, **kwargs):
        """Score ``estimator`` on ``X, y``, predicting with ``recordings``.

        Parameters
        ----------
        estimator : fitted estimator
            Its prediction methods accept ``recordings=``.
        X : array-like
            Test inputs.
        y : array-like
            True labels.
        recordings : array-like of shape (n_samples,)
            Recording id of every test row (routed).
        **kwargs : dict
            Ignored metadata.

        Returns
        -------
        score : float
        """
        if recordings is None:
            raise ValueError(
                "RecordingScorer received no recording ids. Enable metadata routing "
                "(sklearn.set_config(enable_metadata_routing=True)) and pass "
                f"params={{{self.alias!r}: ...}} to cross_validate / GridSearchCV.fit; when "
                "calling a fitted search's or estimator's score(X, y) yourself, pass "
                "score(X, y, recordings=...)."
            )
        scorer = check_scoring(estimator, scoring=self.scorer)
        return scorer(_PredictWithRecordings(estimator, recordings, self.alias), X, y)

    def get_metadata_routing(self):
        """Request ``recordings`` (or its alias) for ``score``.

        Returns
        -------
        request : sklearn.utils.metadata_routing.MetadataRequest
        """
        request = MetadataRequest(owner=type(self).__name__)
        request.score.add_request(param="recordings", alias=self.alias)
        return request


def recording_scoring(scoring=None, *, per_class=None, alias="recordings"):
    """A ``scoring=`` dict whose scorers pass recording ids to ``predict``.

    Parameters
    ----------
    scoring : dict of str -> scorer, str, callable or None
        Scorers to wrap; None: :func:`sleep_scoring` (``per_class`` forwarded).
    per_class : sequence of labels or None
        Per-class F1 scorers added when ``scoring`` is None.
    alias : str, default="recordings"
        Name of the routed metadata holding the recording ids.

    Returns
    -------
    scoring : dict of str -> RecordingScorer or RecordingScorer
        A dict when ``scoring`` is a dict or None, else one scorer.
    """
    if scoring is None:
        scoring = sleep_scoring(per_class=per_class)
    if isinstance(scoring, dict):
        return {k: RecordingScorer(v, alias=alias) for k, v in scoring.items()}
    return RecordingScorer(scoring, alias=alias)
