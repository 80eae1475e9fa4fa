"""Polyphase resampling of epoch arrays."""

from fractions import Fraction

import numpy as np
from scipy.signal import resample_poly

from ..utils._validation import check_sfreq
from ._channels import _check_info_sfreq, _EpochTransformer

__all__ = ["Resampler"]

#: Largest up- or down-sampling factor accepted; larger ones mean the ratio of the two
#: rates is not (close to) a simple rational number and polyphase filtering would be
#: absurdly expensive.
MAX_FACTOR = 1000


def _rational_ratio(sfreq_in, sfreq_out):
    """Return ``(up, down)`` with ``up / down == sfreq_out / sfreq_in``, or raise."""
    ratio = Fraction(sfreq_out) / Fraction(sfreq_in)
    approx = ratio.limit_denominator(MAX_FACTOR)
    exact = sfreq_out / sfreq_in
    if (
        approx.numerator > MAX_FACTOR
        or abs(float(approx) - exact) > 1e-9 * exact
    ):
        raise ValueError(
            f"Cannot resample from {sfreq_in:g} Hz to {sfreq_out:g} Hz: the ratio "
            f"{exact:.10g} is not a rational number with up/down factors <= {MAX_FACTOR} "
            f"(closest is {approx.numerator}/{approx.denominator}). Choose rates with a "
            "simpler ratio."
        )
    return approx.numerator, approx.denominator


class Resampler(_EpochTransformer):
    """Resample each epoch with a polyphase filter (:func:`scipy.signal.resample_poly`).

    The ratio ``sfreq_out / sfreq_in`` is turned into integer factors ``up / down`` with
    :meth:`fractions.Fraction.limit_denominator` (512 -> 100 Hz is 25/128, 200 -> 100 Hz
    is 1/2, 50 -> 100 Hz is 2/1). The output has exactly
    ``round(n_times * sfreq_out / sfreq_in)`` samples per epoch (the polyphase output,
    ``ceil(n_times * up / down)`` samples, is trimmed by at most one sample).

    Each epoch is resampled on its own, so the anti-aliasing filter sees zero-padding at
    the epoch edges; resampling the continuous recording before epoching avoids the
    small edge effect (the loaders and :class:`EpochSegmenter` work on continuous data).

    Parameters
    ----------
    sfreq_in : float
        Sampling rate of the input epochs (Hz).
    sfreq_out : float
        Target sampling rate (Hz).
    window : str, tuple or array-like, default=("kaiser", 5.0)
        Anti-aliasing FIR window, passed to :func:`scipy.signal.resample_poly`.

    Attributes
    ----------
    up_, down_ : int
        Polyphase factors.
    n_times_out_ : int
        Samples per output epoch.
    n_channels_in_, n_times_in_, n_features_in_ : int
        Input shape seen in ``fit``.

    References
    ----------
    .. [1] Crochiere, R. E. & Rabiner, L. R., "Multirate Digital Signal Processing",
       Prentice-Hall, 1983.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.zeros((2, 1, 15360), dtype=np.float32)   # 30 s at 512 Hz
    >>> Resampler(512, 100).fit_transform(X).shape
    (2, 1, 3000)
    """

    def __init__(self, sfreq_in, sfreq_out, window=("kaiser", 5.0)):
        self.sfreq_in = sfreq_in
        self.sfreq_out = sfreq_out
        self.window = window

    def _validate_parameters(self):
        sfreq_in = check_sfreq(self.sfreq_in, name="sfreq_in")
        sfreq_out = check_sfreq(self.sfreq_out, name="sfreq_out")
        return sfreq_in, sfreq_out

    def fit(self, X, y=None):
        """Compute the polyphase factors and the output length.

        Parameters
        ----------
        X : array-like of shape (n_epochs, n_channels, n_times) or mne.Epochs
            Epochs sampled at ``sfreq_in``.
        y : None
            Ignored.

        Returns
        -------
        self : Resampler
        """
        sfreq_in, sfreq_out = self._validate_parameters()
        _check_info_sfreq(X, sfreq_in, name="sfreq_in")
        X = self._check_input(X, reset=True)
        self.up_, self.down_ = _rational_ratio(sfreq_in, sfreq_out)
        self.n_times_out_ = int(round(X.shape[2] * sfreq_out / sfreq_in))
        if self.n_times_out_ < 1:
            raise ValueError(
                f"Resampling {X.shape[2]} samples from {sfreq_in:g} to {sfreq_out:g} Hz "
                "leaves no sample."
            )
        return self

    def transform(self, X):
        """Resample the epochs.

        Parameters
        ----------
        X : array-like of shape (n_epochs, n_channels, n_times) or mne.Epochs
            Epochs sampled at ``sfreq_in``, as in ``fit``.

        Returns
        -------
        X_new : ndarray of shape (n_epochs, n_channels, n_times_out_)
        """
        X = self._check_input(X, reset=False)
        if self.up_ == self.down_:
            return X.copy()
        out = resample_poly(X, self.up_, self.down_, axis=-1, window=self.window)
        out = out[..., : self.n_times_out_]
        if out.shape[-1] < self.n_times_out_:  # pragma: no cover - ceil >= round always
            pad = self.n_times_out_ - out.shape[-1]
            out = np.pad(out, [(0, 0), (0, 0), (0, pad)], mode="edge")
        return out.astype(X.dtype, copy=False)
