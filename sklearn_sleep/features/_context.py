"""Temporal context of epoch features: rolling windows within each recording (YASA-style)."""

import numpy as np
from scipy.signal.windows import triang
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from ..utils._recordings import check_recordings, recording_blocks

__all__ = ["ContextFeatures"]


def _window_mean(x, weights, offsets):
    """Weighted mean of ``x[t + offset]`` over the offsets that fall inside ``x``.

    Edges use the available neighbours only, weights renormalised (pandas'
    ``rolling(..., min_periods=1)`` behaviour).
    """
    n = len(x)
    num = np.zeros_like(x, dtype=np.float64)
    den = np.zeros((n, 1), dtype=np.float64)
    for w, off in zip(weights, offsets):
        lo, hi = max(0, -off), min(n, n - off)
        if lo >= hi:
            continue
        num[lo:hi] += w * x[lo + off:hi + off]
        den[lo:hi] += w
    return num / den


def _robust_scale(x, quantile_range):
    """Per-column ``(x - median) / (q_high - q_low)``; a zero range leaves the scale at 1."""
    med = np.median(x, axis=0)
    q = np.percentile(x, quantile_range, axis=0)
    scale = q[1] - q[0]
    scale = np.where(scale > 10 * np.finfo(np.float64).eps, scale, 1.0)
    return (x - med) / scale


class ContextFeatures(TransformerMixin, BaseEstimator):
    """Add each epoch's temporal context: rolling means of its neighbours' features.

    For every recording separately (windows never cross a recording boundary), the
    output holds, per input feature: the feature itself (``keep_original``), a centred
    rolling mean over ``centered_window`` epochs with triangular weights and a past
    rolling mean over the current and ``past_window - 1`` previous epochs. The rolling
    features are then robust-scaled per recording (median removed, divided by the
    ``quantile_range`` inter-percentile range). The defaults are YASA's
    ``SleepStaging`` (Vallat & Walker, "An open-source, high-performance tool for
    automated sleep staging", eLife 10:e70092, 2021, doi:10.7554/eLife.70092):
    7.5-min centred triangular window (15 epochs of 30 s), 2-min past window
    (4 epochs), ``robust_scale(quantile_range=(5, 95))`` per night. At the edges of a
    recording the windows use the epochs available, weights renormalised (pandas
    ``min_periods=1``, as in YASA).

    The transformer learns nothing from the training rows (every statistic is computed
    within the recording being transformed), so there is no leakage across
    cross-validation folds: a test recording is summarised with its own epochs only.
    This is the per-night normalisation YASA applies at inference.

    Recording ids are metadata: ``fit``/``transform`` take ``recordings=`` (one id per
    row), and the transformer requests it by default through scikit-learn's metadata
    routing, so inside a :class:`~sklearn.pipeline.Pipeline`, ``cross_validate`` or
    ``GridSearchCV`` it suffices to enable routing
    (``sklearn.set_config(enable_metadata_routing=True)``) and pass
    ``params={"recordings": ...}`` (or consume the CV groups instead with
    ``set_fit_request(recordings="groups").set_transform_request(recordings="groups")``
    only when each group is ONE recording: with subjects as groups and several nights
    per subject, the nights of a subject are adjacent rows that no check can tell apart,
    and the rolling windows and per-recording scaling would silently run across the
    night boundary, so pass night ids as ``recordings`` then); scorers must then forward
    them to ``predict``:
    use :func:`sklearn_sleep.metrics.recording_scoring`. Without recording ids a
    ``ValueError`` is raised: nothing is silently treated as one long recording.

    Rows must be in time order within each recording and each recording's rows
    contiguous (interleaved recordings raise a ``ValueError``; time order itself cannot
    be checked and is the caller's responsibility).

    Parameters
    ----------
    centered_window : int or None, default=15
        Length (epochs, odd) of the centred triangular-weighted window
        (``scipy.signal.windows.triang``, pandas' ``win_type="triang"``); None omits it.
    past_window : int or None, default=4
        Length (epochs, including the current one) of the past uniform window; None
        omits it.
    quantile_range : tuple of float or None, default=(5, 95)
        Percentiles of the per-recording robust scaling of the rolling features; None
        leaves them unscaled.
    keep_original : bool, default=True
        Keep the input features (unscaled) in front of the context features.
    scale_original : bool, default=False
        Also robust-scale the kept input features per recording (an assumption beyond
        YASA, which keeps them raw; useful when recordings differ in amplitude).

    Attributes
    ----------
    n_features_in_ : int
        Number of input features.
    feature_names_in_ : ndarray of str
        Input feature names (only when X had string column names).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_sleep.features import ContextFeatures
    >>> X = np.arange(12.0).reshape(6, 2)
    >>> Xt = ContextFeatures(centered_window=3, past_window=2, quantile_range=None).fit_transform(
    ...     X, recordings=[0, 0, 0, 1, 1, 1])
    >>> Xt.shape
    (6, 6)
    """

    __metadata_request__fit = {"recordings": True}
    __metadata_request__transform = {"recordings": True}

    def __init__(self, centered_window=15, past_window=4, quantile_range=(5, 95),
                 keep_original=True, scale_original=False):
        self.centered_window = centered_window
        self.past_window = past_window
        self.quantile_range = quantile_range
        self.keep_original = keep_original
        self.scale_original = scale_original

    def _check_params(self):
        cw, pw = self.centered_window, self.past_window
        if cw is not None and (not isinstance(cw, (int, np.integer)) or cw < 1 or cw % 2 == 0):
            raise ValueError(f"centered_window must be a positive odd int or None; got {cw!r}.")
        if pw is not None and (not isinstance(pw, (int, np.integer)) or pw < 1):
            raise ValueError(f"past_window must be a positive int or None; got {pw!r}.")
        if cw is None and pw is None and not self.keep_original:
            raise ValueError("Nothing to output: centered_window=past_window=None and "
                             "keep_original=False.")
        if self.quantile_range is not None:
            lo, hi = self.quantile_range
            if not 0 <= lo < hi <= 100:
                raise ValueError(f"quantile_range must be (low, high) with 0 <= low < high "
                                 f"<= 100; got {self.quantile_range!r}.")
        if self.scale_original and self.quantile_range is None:
            raise ValueError("scale_original=True needs a quantile_range.")

    def fit(self, X, y=None, recordings=None):
        """Validate the parameters, X and the recording ids.

        Parameters
        ----------
        X : array-like of shape (n_epochs, n_features)
            Epoch features, rows in time order within each recording.
        y : None
            Ignored.
        recordings : array-like of shape (n_epochs,)
            Recording id of every row (required).

        Returns
        -------
        self : ContextFeatures
        """
        self._check_params()
        X = validate_data(self, X, reset=True, dtype=np.float64)
        rec = check_recordings(recordings, len(X), owner=type(self).__name__)
        recording_blocks(rec, owner=type(self).__name__)
        return self

    def transform(self, X, recordings=None):
        """Features plus their within-recording rolling context.

        Parameters
        ----------
        X : array-like of shape (n_epochs, n_features)
            Epoch features, rows in time order within each recording.
        recordings : array-like of shape (n_epochs,)
            Recording id of every row (required).

        Returns
        -------
        Xt : ndarray of shape (n_epochs, n_features_out)
            Columns as in :meth:`get_feature_names_out`.
        """
        check_is_fitted(self)
        self._check_params()
        X = validate_data(self, X, reset=False, dtype=np.float64)
        rec = check_recordings(recordings, len(X), owner=type(self).__name__)
        out = np.empty((len(X), self._n_out()), dtype=np.float64)
        for block in recording_blocks(rec, owner=type(self).__name__):
            out[block] = self._one_recording(X[block])
        return out

    def fit_transform(self, X, y=None, recordings=None):
        """Fit, then transform the same rows (recording ids passed to both).

        Parameters
        ----------
        X : array-like of shape (n_epochs, n_features)
            Epoch features.
        y : None
            Ignored.
        recordings : array-like of shape (n_epochs,)
            Recording id of every row (required).

        Returns
        -------
        Xt : ndarray of shape (n_epochs, n_features_out)
        """
        return self.fit(X, y, recordings=recordings).transform(X, recordings=recordings)

    def _n_out(self):
        n_blocks = int(self.keep_original) + int(self.centered_window is not None) + int(
            self.past_window is not None)
        return n_blocks * self.n_features_in_

    def _one_recording(self, x):
        def scaled(a):
            return a if self.quantile_range is None else _robust_scale(a, self.quantile_range)

        parts = []
        if self.keep_original:
            parts.append(scaled(x) if self.scale_original else x)
        if self.centered_window is not None:
            half = self.centered_window // 2
            parts.append(scaled(_window_mean(x, triang(self.centered_window),
                                             range(-half, half + 1))))
        if self.past_window is not None:
            parts.append(scaled(_window_mean(x, np.ones(self.past_window),
                                             range(-self.past_window + 1, 1))))
        return np.hstack(parts)

    def get_feature_names_out(self, input_features=None):
        """Output feature names.

        Parameters
        ----------
        input_features : array-like of str or None
            Input names; default ``feature_names_in_`` or ``x0, x1, ...``.

        Returns
        -------
        names : ndarray of str
            The input names, then ``<name>_c<centered_window>`` and
            ``<name>_p<past_window>``, with ``_norm`` appended to robust-scaled ones.
        """
        check_is_fitted(self)
        if input_features is None:
            input_features = getattr(self, "feature_names_in_", None)
        if input_features is None:
            input_features = [f"x{i}" for i in range(self.n_features_in_)]
        input_features = [str(f) for f in input_features]
        if len(input_features) != self.n_features_in_:
            raise ValueError(f"input_features has {len(input_features)} names, expected "
                             f"{self.n_features_in_}.")
        norm = "" if self.quantile_range is None else "_norm"
        names = []
        if self.keep_original:
            names += [f + (norm if self.scale_original else "") for f in input_features]
        if self.centered_window is not None:
            names += [f"{f}_c{self.centered_window}{norm}" for f in input_features]
        if self.past_window is not None:
            names += [f"{f}_p{self.past_window}{norm}" for f in input_features]
        return np.asarray(names, dtype=object)
