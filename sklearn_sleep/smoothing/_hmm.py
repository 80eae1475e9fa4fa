"""Hypnogram smoothing: HMM decoding of a classifier's per-epoch probabilities."""

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, MetaEstimatorMixin, clone
from sklearn.utils import get_tags
from sklearn.utils.metadata_routing import (
    MetadataRouter,
    MethodMapping,
    _routing_enabled,
    process_routing,
)
from sklearn.utils.validation import check_is_fitted, column_or_1d

from ..utils._recordings import check_recordings, recording_blocks

__all__ = ["HMMSmoother"]

_ALGORITHMS = ("viterbi", "map")


def _import_hmmlearn():
    try:
        from hmmlearn.base import BaseHMM
    except ImportError as exc:  # pragma: no cover - exercised only without hmmlearn
        raise ImportError(
            "HMMSmoother decodes with hmmlearn, which is not installed: "
            "pip install sklearn_sleep[hmm]  (or pip install hmmlearn)."
        ) from exc
    return BaseHMM


def _hybrid_hmm(startprob, transmat, algorithm):
    """An hmmlearn HMM whose 'observations' are the per-state log-likelihoods themselves."""
    BaseHMM = _import_hmmlearn()

    class _HybridHMM(BaseHMM):
        def _compute_log_likelihood(self, X):
            return X

        def _compute_likelihood(self, X):  # pragma: no cover - implementation="log" only
            return np.exp(X)

    model = _HybridHMM(n_components=len(startprob), algorithm=algorithm, init_params="",
                       params="", implementation="log")
    model.startprob_ = startprob
    model.transmat_ = transmat
    return model


class HMMSmoother(MetaEstimatorMixin, ClassifierMixin, BaseEstimator):
    """Wrap a probabilistic classifier and decode each recording with a hidden Markov model.

    ``fit`` fits a clone of ``estimator`` on all rows and learns, from the training
    hypnograms only, the stage transition matrix (counts of consecutive-epoch
    transitions within each recording, plus ``transition_pseudocount``), the start
    probabilities (first epoch of each recording, plus the same pseudocount) and the
    stage priors (training frequencies). At prediction time each recording's
    ``estimator.predict_proba`` is turned into scaled likelihoods
    ``log p(stage | x) - log p(stage)`` (the hybrid classifier/HMM of Bourlard &
    Morgan, "Connectionist Speech Recognition: A Hybrid Approach", Kluwer 1994) and
    decoded with hmmlearn (Viterbi path for ``predict`` with ``algorithm="viterbi"``,
    forward-backward posteriors for ``predict_proba`` and for ``algorithm="map"``).
    HMM smoothing of epoch-wise outputs is the classical post-processing of automatic
    stagers (e.g. Phan H. et al., "Joint classification and prediction CNN framework
    for automatic sleep stage classification", IEEE TBME 66(5), 2019, and the
    hypnogram priors of Pan S.-T. et al., "A transition-constrained discrete hidden
    Markov model for automatic sleep staging", BioMed Eng OnLine 11:52, 2012).

    Nothing is learned from the classifier's outputs on the training rows (only from
    the training labels), so in-sample overconfidence of the wrapped classifier does
    not bias the HMM; the transition matrix depends on the training recordings only.

    Recording ids are metadata (``recordings=``, requested by default for ``fit``,
    ``predict`` and ``predict_proba``; enable
    ``sklearn.set_config(enable_metadata_routing=True)`` for Pipeline /
    ``cross_validate`` / ``GridSearchCV``, and score with
    :func:`sklearn_sleep.metrics.recording_scoring`). With routing enabled they are
    also routed to the wrapped estimator when it requests them (e.g. a pipeline with
    :class:`~sklearn_sleep.features.ContextFeatures`). Each recording's rows must be
    contiguous and in time order.

    Parameters
    ----------
    estimator : classifier with predict_proba
        Any probabilistic classifier or pipeline (feature pipeline or network).
    algorithm : {"viterbi", "map"}, default="viterbi"
        ``predict``: the most likely stage sequence (Viterbi) or the per-epoch argmax
        of the forward-backward posteriors.
    transition_pseudocount : float, default=1.0
        Added to every transition and start count (Laplace smoothing, an assumption:
        no transition is made impossible by its absence from the training nights).
    scaled_likelihood : bool, default=True
        Divide the classifier's posteriors by the training stage priors before
        decoding (hybrid HMM); False uses the posteriors directly as emissions.

    Attributes
    ----------
    estimator_ : estimator
        The fitted clone of ``estimator``.
    classes_ : ndarray
        Sorted stage labels (``np.unique(y)``).
    transmat_ : ndarray of shape (n_classes, n_classes)
        Transition probabilities, rows = from, columns = to (order of ``classes_``).
    startprob_ : ndarray of shape (n_classes,)
        Start probabilities.
    class_prior_ : ndarray of shape (n_classes,)
        Training stage frequencies.
    transition_counts_ : ndarray of shape (n_classes, n_classes)
        Raw training transition counts (without pseudocount).
    n_features_in_ : int
        That of the fitted ``estimator_`` (read through; absent before ``fit``).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn_sleep.smoothing import HMMSmoother
    >>> rng = np.random.default_rng(0)
    >>> y = np.repeat(["N2", "N3", "N2", "REM"], 25)
    >>> X = rng.normal(size=(100, 2)) + (y == "N3")[:, None]
    >>> hmm = HMMSmoother(LogisticRegression()).fit(X, y, recordings=np.repeat([0, 1], 50))
    >>> hmm.transmat_.shape
    (3, 3)
    """

    __metadata_request__fit = {"recordings": True}
    __metadata_request__predict = {"recordings": True}
    __metadata_request__predict_proba = {"recordings": True}
    __metadata_request__score = {"recordings": True}

    def __init__(self, estimator, *, algorithm="viterbi", transition_pseudocount=1.0,
                 scaled_likelihood=True):
        self.estimator = estimator
        self.algorithm = algorithm
        self.transition_pseudocount = transition_pseudocount
        self.scaled_likelihood = scaled_likelihood

    def _check_params(self):
        if self.algorithm not in _ALGORITHMS:
            raise ValueError(f"algorithm must be one of {_ALGORITHMS}; got {self.algorithm!r}.")
        if not np.isfinite(self.transition_pseudocount) or self.transition_pseudocount < 0:
            raise ValueError("transition_pseudocount must be a finite float >= 0; got "
                             f"{self.transition_pseudocount!r}.")

    def _route(self, method, recordings, params):
        if _routing_enabled():
            routed = process_routing(self, method, recordings=recordings, **params)
            child = {"fit": "fit"}.get(method, "predict_proba")
            return getattr(routed.estimator, child)
        if params:
            raise ValueError(
                f"HMMSmoother.{method} got metadata {sorted(params)}; enable metadata routing "
                "(sklearn.set_config(enable_metadata_routing=True)) to pass them to the "
                "wrapped estimator.")
        return {}

    def fit(self, X, y, recordings=None, **fit_params):
        """Fit the wrapped classifier and the HMM parameters from the training hypnograms.

        Parameters
        ----------
        X : array-like
            Training inputs (rows in time order within each recording).
        y : array-like of shape (n_samples,)
            Stage labels.
        recordings : array-like of shape (n_samples,)
            Recording id of every row (required).
        **fit_params : dict
            Other metadata routed to the wrapped estimator (routing enabled only).

        Returns
        -------
        self : HMMSmoother
        """
        self._check_params()
        _import_hmmlearn()
        if y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y is None: "
                "pass the stage labels of the training rows.")
        # like scikit-learn's classifiers: a column vector (n, 1) is raveled with a
        # DataConversionWarning, any other 2-D y is refused
        y = column_or_1d(y, warn=True)
        rec = check_recordings(recordings, len(y), owner=type(self).__name__)
        blocks = recording_blocks(rec, owner=type(self).__name__)
        self.classes_ = np.unique(y)
        routed = self._route("fit", rec, fit_params)
        self.estimator_ = clone(self.estimator).fit(X, y, **routed)
        est_classes = np.asarray(getattr(self.estimator_, "classes_", []))
        if not np.array_equal(est_classes, self.classes_):
            raise ValueError(
                f"The wrapped estimator's classes_ {est_classes.tolist()} differ from "
                f"np.unique(y) {self.classes_.tolist()}; HMMSmoother needs them equal.")
        k = len(self.classes_)
        codes = np.searchsorted(self.classes_, y)
        trans = np.zeros((k, k))
        start = np.zeros(k)
        for block in blocks:
            c = codes[block]
            start[c[0]] += 1
            np.add.at(trans, (c[:-1], c[1:]), 1)
        self.transition_counts_ = trans
        pc = float(self.transition_pseudocount)
        trans = trans + pc
        rows = trans.sum(axis=1, keepdims=True)
        if np.any(rows == 0):
            missing = self.classes_[rows[:, 0] == 0].tolist()
            raise ValueError(
                f"No training transition leaves stage(s) {missing} and "
                "transition_pseudocount=0: the transition matrix is undefined. Use a "
                "positive transition_pseudocount.")
        self.transmat_ = trans / rows
        start = start + pc
        self.startprob_ = start / start.sum()
        self.class_prior_ = np.bincount(codes, minlength=k) / len(codes)
        return self

    def _decode(self, X, recordings, params, method):
        check_is_fitted(self, "transmat_")
        self._check_params()
        proba = np.asarray(self.estimator_.predict_proba(
            X, **self._route(method, recordings, params)), dtype=np.float64)
        rec = check_recordings(recordings, len(proba), owner=type(self).__name__)
        blocks = recording_blocks(rec, owner=type(self).__name__)
        tiny = np.finfo(np.float64).tiny  # log(0) floor: hmmlearn needs finite input
        loglik = np.log(np.maximum(proba, tiny))
        if self.scaled_likelihood:
            loglik = loglik - np.log(np.maximum(self.class_prior_, tiny))
        model = _hybrid_hmm(self.startprob_, self.transmat_, self.algorithm)
        lengths = [b.stop - b.start for b in blocks]
        return model, loglik, lengths

    def predict_proba(self, X, recordings=None, **params):
        """Forward-backward posterior stage probabilities, per recording.

        Parameters
        ----------
        X : array-like
            Inputs (rows in time order within each recording).
        recordings : array-like of shape (n_samples,)
            Recording id of every row (required).
        **params : dict
            Other metadata routed to the wrapped estimator's ``predict_proba``.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Columns in the order of ``classes_``.
        """
        model, loglik, lengths = self._decode(X, recordings, params, "predict_proba")
        return model.predict_proba(loglik, lengths)

    def predict(self, X, recordings=None, **params):
        """Decoded stages: Viterbi path or per-epoch posterior argmax (``algorithm``).

        Parameters
        ----------
        X : array-like
            Inputs (rows in time order within each recording).
        recordings : array-like of shape (n_samples,)
            Recording id of every row (required).
        **params : dict
            Other metadata routed to the wrapped estimator's ``predict_proba``.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
        """
        model, loglik, lengths = self._decode(X, recordings, params, "predict")
        _, states = model.decode(loglik, lengths, algorithm=self.algorithm)
        return self.classes_[states]

    def score(self, X, y, recordings=None, sample_weight=None):
        """Accuracy of :meth:`predict` (decoded with the recording ids) on ``X, y``.

        Parameters
        ----------
        X : array-like
            Inputs (rows in time order within each recording).
        y : array-like of shape (n_samples,)
            True stages.
        recordings : array-like of shape (n_samples,)
            Recording id of every row (required).
        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights.

        Returns
        -------
        score : float
        """
        from sklearn.metrics import accuracy_score

        return float(accuracy_score(y, self.predict(X, recordings=recordings),
                                    sample_weight=sample_weight))

    @property
    def n_features_in_(self):
        """Number of input features, as seen by the fitted wrapped estimator."""
        # AttributeError before fit (hasattr is False), as scikit-learn's meta-estimators
        return self.estimator_.n_features_in_

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # input handling (sparse, 3-D epochs, NaN) is the wrapped estimator's
        inner = get_tags(self.estimator).input_tags
        tags.input_tags.sparse = inner.sparse
        tags.input_tags.allow_nan = inner.allow_nan
        tags.input_tags.two_d_array = inner.two_d_array
        tags.input_tags.three_d_array = inner.three_d_array
        return tags

    def get_metadata_routing(self):
        """Routing: ``recordings`` consumed here and forwarded to the wrapped estimator.

        Returns
        -------
        routing : sklearn.utils.metadata_routing.MetadataRouter
        """
        return (
            MetadataRouter(owner=type(self).__name__)
            .add_self_request(self)
            .add(estimator=self.estimator,
                 method_mapping=MethodMapping()
                 .add(caller="fit", callee="fit")
                 .add(caller="predict", callee="predict_proba")
                 .add(caller="predict_proba", callee="predict_proba"))
        )
