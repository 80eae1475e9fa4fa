"""Amplitude scaling of epoch arrays: per epoch, per dataset, or per recording.

Why per-recording scaling is a function and not a transformer
-------------------------------------------------------------
The usual deep-learning convention (braindecode sleep examples, U-Sleep: Perslev et
al., "U-Sleep: resilient high-frequency sleep staging", npj Digit. Med. 4:72, 2021,
doi:10.1038/s41746-021-00440-5) is *robust scaling per recording*: the median and IQR of
each channel are computed over all epochs of one night and applied to that night. A
scikit-learn transformer only sees ``X`` in ``transform`` and does not know which rows
belong to which recording (and at predict time it must not depend on other test rows'
labels), so :func:`scale_recordings` is applied to the whole data set *before* the
Pipeline, with the ``recordings`` array returned by the loaders or by
:class:`EpochSegmenter`. It uses no labels, so it does not leak information across
cross-validation folds beyond what a per-night normalisation of the test night does in
deployment. :class:`EpochScaler` (per epoch) is stateless and safe inside Pipelines.
"""

import numpy as np

from ..utils._validation import check_epochs
from ._channels import _epochs_to_array, _EpochTransformer

__all__ = ["EpochScaler", "scale_recordings"]

_METHODS = ("robust", "standard")


def _center_scale(X, axes, method):
    """Per-channel centre and scale of ``X`` over ``axes`` (zero scale -> 1)."""
    if method == "robust":
        q25, center, q75 = np.percentile(X, [25, 50, 75], axis=axes, keepdims=True)
        scale = q75 - q25
    else:
        center = X.mean(axis=axes, keepdims=True)
        scale = X.std(axis=axes, keepdims=True)
    scale = np.where(scale > np.finfo(np.float32).tiny, scale, 1.0)
    return center, scale


def _check_method(method):
    if method not in _METHODS:
        raise ValueError(f"method must be one of {_METHODS}, got {method!r}.")


class EpochScaler(_EpochTransformer):
    """Scale each channel of epoch arrays: per epoch (stateless) or with training statistics.

    ``method="robust"`` subtracts the median and divides by the inter-quartile range
    (IQR); ``method="standard"`` subtracts the mean and divides by the standard
    deviation. A zero spread (flat channel) is replaced by 1 so that no NaN appears.

    Parameters
    ----------
    method : {"robust", "standard"}, default="robust"
        Statistics used.
    scope : {"epoch", "dataset"}, default="epoch"
        ``"epoch"``: statistics of each channel of each epoch, computed in
        ``transform`` (stateless; each epoch is scaled on its own, so the result does
        not depend on the other rows and is Pipeline-safe). ``"dataset"``: one
        centre/scale per channel learned in ``fit`` over all training epochs (like
        :class:`sklearn.preprocessing.RobustScaler` per channel) and reused in
        ``transform``. For per-recording statistics use :func:`scale_recordings`
        before the Pipeline.

    Attributes
    ----------
    center_, scale_ : ndarray of shape (n_channels,)
        Learned statistics (``scope="dataset"`` only).
    n_channels_in_, n_times_in_, n_features_in_ : int
        Input shape seen in ``fit``.

    See Also
    --------
    scale_recordings : per-recording robust scaling (U-Sleep / braindecode convention).

    Examples
    --------
    >>> import numpy as np
    >>> X = np.random.default_rng(0).normal(5, 3, size=(4, 2, 100)).astype(np.float32)
    >>> Xs = EpochScaler().fit_transform(X)
    >>> bool(np.allclose(np.median(Xs, axis=-1), 0, atol=1e-6))
    True
    """

    def __init__(self, method="robust", scope="epoch"):
        self.method = method
        self.scope = scope

    def _validate_parameters(self):
        _check_method(self.method)
        if self.scope not in ("epoch", "dataset"):
            raise ValueError(f"scope must be 'epoch' or 'dataset', got {self.scope!r}.")

    def _fit(self, X):
        if self.scope == "dataset":
            center, scale = _center_scale(X.astype(np.float64), (0, 2), self.method)
            self.center_ = center.ravel()
            self.scale_ = scale.ravel()

    def transform(self, X):
        """Scale the epochs.

        Parameters
        ----------
        X : array-like of shape (n_epochs, n_channels, n_times) or mne.Epochs
            Epochs.

        Returns
        -------
        X_new : ndarray of shape (n_epochs, n_channels, n_times)
        """
        X = self._check_input(X, reset=False)
        X64 = X.astype(np.float64)
        if self.scope == "epoch":
            center, scale = _center_scale(X64, (2,), self.method)
        else:
            center = self.center_[None, :, None]
            scale = self.scale_[None, :, None]
        return ((X64 - center) / scale).astype(X.dtype, copy=False)


def scale_recordings(X, recordings, method="robust"):
    """Scale each channel of each recording with statistics over that whole recording.

    For every recording ``r`` and channel ``c``, the centre (median or mean) and spread
    (IQR or standard deviation) are computed over all samples of all epochs of ``r``
    and applied to those epochs. This is the per-recording robust scaling of
    braindecode's sleep examples and U-Sleep (Perslev et al., npj Digit. Med. 4:72,
    2021, doi:10.1038/s41746-021-00440-5). It is a function, applied *before* the
    Pipeline, because a transformer does not know recording boundaries (see the module
    docstring). A flat channel (zero spread) is only centred.

    Parameters
    ----------
    X : array-like of shape (n_epochs, n_channels, n_times) or mne.Epochs
        Epochs of one or several recordings.
    recordings : array-like of shape (n_epochs,)
        Recording identifier of each epoch (e.g. the ``recordings`` field of the
        loaders or of :meth:`EpochSegmenter.segment`).
    method : {"robust", "standard"}, default="robust"
        ``"robust"``: (x - median) / IQR; ``"standard"``: (x - mean) / std.

    Returns
    -------
    X_scaled : ndarray of shape (n_epochs, n_channels, n_times)
        Scaled copy; float32 unless ``X`` is float64.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = np.concatenate([rng.normal(0, 1, (3, 1, 50)), rng.normal(0, 10, (3, 1, 50))])
    >>> Xs = scale_recordings(X, recordings=[0, 0, 0, 1, 1, 1])
    >>> Xs.shape
    (6, 1, 50)
    """
    _check_method(method)
    X = check_epochs(_epochs_to_array(X), name="X", ndim=3, dtype=None)
    recordings = np.asarray(recordings)
    if recordings.ndim != 1 or len(recordings) != len(X):
        raise ValueError(
            f"recordings must be 1-D with one entry per epoch ({len(X)}), got shape "
            f"{recordings.shape}."
        )
    out_dtype = np.float64 if X.dtype == np.float64 else np.float32
    out = np.empty(X.shape, dtype=out_dtype)
    for rec in np.unique(recordings):
        idx = np.flatnonzero(recordings == rec)
        Xr = X[idx].astype(np.float64)
        center, scale = _center_scale(Xr, (0, 2), method)
        out[idx] = (Xr - center) / scale
    return out
