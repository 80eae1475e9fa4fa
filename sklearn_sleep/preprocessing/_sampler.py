"""Imbalanced-learn samplers for 3-D epoch arrays."""

import numpy as np
from scipy.sparse import issparse
from imblearn.base import BaseSampler
from imblearn.under_sampling import RandomUnderSampler
from sklearn.base import clone
from sklearn.utils._param_validation import HasMethods

from ..utils._stages import check_label_array
from ..utils._validation import check_epochs, check_labels_match
from ._channels import _epochs_to_array

__all__ = ["EpochSampler"]


class EpochSampler(BaseSampler):
    """Make any imbalanced-learn sampler work on epoch arrays ``(n_epochs, ...)``.

    imbalanced-learn validates ``X`` as 2-D, so its samplers reject raw epochs
    (imbalanced-learn issues #164, #966, #1102). ``EpochSampler`` flattens
    ``(n_epochs, n_channels, n_times)`` (or any N-D epoch array, e.g. context sequences)
    to ``(n_epochs, n_channels * n_times)``, calls the wrapped sampler's
    ``fit_resample`` and restores the epoch shape. Like every imblearn sampler it acts
    only during ``fit`` of an :class:`imblearn.pipeline.Pipeline`; ``predict`` and
    ``score`` pass the data through untouched.

    Only samplers that pick existing rows (``RandomOverSampler``,
    ``RandomUnderSampler``, ``NearMiss``, ``TomekLinks``, ...) keep the signals
    physiologically meaningful. Samplers that synthesise rows (``SMOTE``, ``ADASYN``)
    are allowed, but they interpolate sample-by-sample between two signals, which for
    raw EEG gives a mixture of two unrelated epochs (phases do not align); prefer
    them on feature matrices (after ``BandPowerFeatures``) instead. Distance-based
    samplers (NearMiss, SMOTE's neighbours) work in the flattened signal space.

    Parameters
    ----------
    sampler : imblearn sampler or None, default=None
        Sampler to wrap; cloned at every ``fit_resample``. None uses
        ``RandomUnderSampler()``.

    Attributes
    ----------
    sampler_ : imblearn sampler
        The fitted clone.
    sample_indices_ : ndarray of int or None
        Indices of the selected epochs, when the wrapped sampler reports them.
    epoch_shape_ : tuple of int
        Shape of one epoch seen at ``fit_resample``.
    n_features_in_ : int
        Number of flattened features per epoch.
    sampling_strategy_ : str
        ``"bypass"``: the wrapped sampler applies its own ``sampling_strategy``.

    References
    ----------
    .. [1] Lemaître, G., Nogueira, F. & Aridas, C. K., "Imbalanced-learn: a Python
       toolbox to tackle the curse of imbalanced datasets in machine learning",
       J. Mach. Learn. Res. 18(17):1-5, 2017.

    Examples
    --------
    >>> import numpy as np
    >>> from collections import Counter
    >>> from imblearn.under_sampling import RandomUnderSampler
    >>> X = np.zeros((10, 2, 30), dtype=np.float32)
    >>> y = np.array(["W"] * 7 + ["REM"] * 3)
    >>> Xr, yr = EpochSampler(RandomUnderSampler(random_state=0)).fit_resample(X, y)
    >>> Xr.shape, sorted(Counter(yr.tolist()).items())
    ((6, 2, 30), [('REM', 3), ('W', 3)])
    """

    _sampling_type = "bypass"
    _parameter_constraints = {"sampler": [HasMethods(["fit_resample"]), None]}

    def __init__(self, sampler=None):
        self.sampler = sampler

    @property
    def sampling_strategy(self):
        """Always ``"auto"``: the wrapped sampler carries the real ``sampling_strategy``."""
        return "auto"

    def _check_X_y(self, X, y, accept_sparse=None):
        # Replaces imblearn's 2-D ``validate_data``: accept (n_epochs, ...) arrays (or
        # mne.Epochs), remember the epoch shape and hand a flattened view to the
        # template method ``SamplerMixin.fit_resample``.
        X = check_epochs(X, name="X", min_ndim=2, dtype=None)
        y, _ = check_labels_match(X, y)
        y = check_label_array(y)
        self.epoch_shape_ = tuple(X.shape[1:])
        self.n_features_in_ = int(np.prod(self.epoch_shape_))
        self._dtype = X.dtype
        return X.reshape(len(X), -1), y, False

    def _fit_resample(self, X, y, **params):
        sampler = RandomUnderSampler() if self.sampler is None else self.sampler
        if not hasattr(sampler, "fit_resample"):
            raise ValueError(
                f"sampler must be an imbalanced-learn sampler with fit_resample, got "
                f"{type(sampler).__name__}."
            )
        self.sampler_ = clone(sampler)
        out = self.sampler_.fit_resample(X, y, **params)
        X_res, y_res = out[0], out[1]
        self.sample_indices_ = getattr(self.sampler_, "sample_indices_", None)
        X_res = np.asarray(X_res).reshape((len(X_res),) + self.epoch_shape_)
        return X_res.astype(self._dtype, copy=False), np.asarray(y_res)

    def fit_resample(self, X, y, **params):
        """Resample the epochs with the wrapped sampler.

        Parameters
        ----------
        X : array-like of shape (n_epochs, ...) or mne.Epochs
            Epochs (at least 2-D; usually ``(n_epochs, n_channels, n_times)``).
        y : array-like of shape (n_epochs,)
            Labels.
        **params : dict
            Passed to the wrapped sampler's ``fit_resample``.

        Returns
        -------
        X_resampled : ndarray of shape (n_resampled, ...)
            Same trailing shape and dtype as ``X``.
        y_resampled : ndarray of shape (n_resampled,)
        """
        X = self._pre_check(X, y)
        return super().fit_resample(X, y, **params)

    def fit(self, X, y, **params):
        """Check the inputs (use :meth:`fit_resample`; a Pipeline does).

        Parameters
        ----------
        X : array-like of shape (n_epochs, ...) or mne.Epochs
            Epochs.
        y : array-like of shape (n_epochs,)
            Labels.
        **params : dict
            Ignored.

        Returns
        -------
        self : EpochSampler
        """
        X = self._pre_check(X, y)
        return super().fit(X, y, **params)

    @staticmethod
    def _pre_check(X, y):
        if issparse(X):
            raise TypeError(
                "EpochSampler does not support sparse input; it resamples dense epoch "
                "arrays (n_epochs, n_channels, n_times). Use the wrapped sampler directly."
            )
        if y is None:
            raise ValueError(
                "EpochSampler requires y to be passed, but the target y is None."
            )
        # before imblearn's check_classification_targets, whose np.unique crashes with a
        # TypeError on None or mixed str/int labels
        if np.ndim(y) == 1:
            check_label_array(y)
        return _epochs_to_array(X)  # mne.Epochs -> array in µV

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        tags.input_tags.two_d_array = True
        tags.input_tags.sparse = False
        tags.input_tags.dataframe = False
        return tags
