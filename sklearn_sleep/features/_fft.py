"""Magnitude spectra of epochs, as input channels for spectral branches of CNNs.

Moved here from :mod:`sklearn_sleep.preprocessing` (issue 8): like
:class:`BandPowerFeatures` it computes a spectral representation of each epoch. It keeps
a 3-D output (spectra as channels) because the multi-modal mouse CNN takes it as
network input. ``sklearn_sleep.preprocessing.FFTFeatures`` still works and warns
(``FutureWarning``).
"""

import numpy as np

from ..preprocessing._channels import _check_info_sfreq, _EpochTransformer
from ..utils._validation import check_sfreq

__all__ = ["FFTFeatures"]

_NORMS = ("backward", "ortho", "forward")


class FFTFeatures(_EpochTransformer):
    """Magnitude spectrum ``|rfft(x)|`` of every channel of every epoch.

    This is the input of the FFT branches of the multi-modal mouse CNN (1-s epochs at
    512 Hz give 257 bins at 1 Hz resolution), compressed with ``log1p``. The output is
    still 3-D, so it can feed a network directly or be appended to the raw signal as
    extra channels.

    Parameters
    ----------
    sfreq : float or None, default=None
        Sampling rate (Hz). Needed only for ``fmax`` and for ``freqs_``.
    log : bool, default=True
        Apply ``np.log1p`` to the magnitudes.
    fmax : float or None, default=None
        Keep only the bins with frequency ``<= fmax`` (needs ``sfreq``).
    append : bool, default=False
        If True, return the raw channels followed by the spectra as extra channels:
        shape ``(n_epochs, 2 * n_channels, n_times)``. The spectra (``n_freqs <=
        n_times // 2 + 1`` bins) are **zero-padded at the high-frequency end** to
        ``n_times`` samples, so the padded positions carry no information.
    normalize : {"backward", "ortho", "forward"}, default="backward"
        Scaling of the transform, as numpy's ``norm``: ``"backward"`` is the plain
        DFT sum, ``"ortho"`` divides by ``sqrt(n_times)``, ``"forward"`` by ``n_times``
        (amplitude per sample, independent of the epoch length).

    Attributes
    ----------
    n_freqs_ : int
        Number of frequency bins kept.
    freqs_ : ndarray of shape (n_freqs_,) or None
        Bin frequencies in Hz (None when ``sfreq`` is None).
    n_channels_in_, n_times_in_, n_features_in_ : int
        Input shape seen in ``fit``.

    Notes
    -----
    Output shape: ``(n_epochs, n_channels, n_freqs_)``, or
    ``(n_epochs, 2 * n_channels, n_times)`` with ``append=True``.

    References
    ----------
    .. [1] Cooley, J. W. & Tukey, J. W., "An algorithm for the machine calculation of
       complex Fourier series", Math. Comput. 19, 297-301, 1965,
       doi:10.1090/S0025-5718-1965-0178586-1.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.zeros((3, 2, 512), dtype=np.float32)
    >>> FFTFeatures(sfreq=512).fit_transform(X).shape
    (3, 2, 257)
    >>> FFTFeatures(sfreq=512, fmax=64).fit_transform(X).shape
    (3, 2, 65)
    """

    def __init__(self, sfreq=None, log=True, fmax=None, append=False, normalize="backward"):
        self.sfreq = sfreq
        self.log = log
        self.fmax = fmax
        self.append = append
        self.normalize = normalize

    def fit(self, X, y=None):
        """Work out the frequency bins kept.

        Parameters
        ----------
        X : array-like of shape (n_epochs, n_channels, n_times) or mne.Epochs
            Epochs.
        y : None
            Ignored.

        Returns
        -------
        self : FFTFeatures
        """
        if self.normalize not in _NORMS:
            raise ValueError(f"normalize must be one of {_NORMS}, got {self.normalize!r}.")
        sfreq = None if self.sfreq is None else check_sfreq(self.sfreq)
        if self.fmax is not None and sfreq is None:
            raise ValueError("fmax needs sfreq: pass FFTFeatures(sfreq=..., fmax=...).")
        if sfreq is not None:
            _check_info_sfreq(X, sfreq)
        X = self._check_input(X, reset=True)
        n_times = X.shape[2]
        n_freqs = n_times // 2 + 1
        freqs = None
        if sfreq is not None:
            freqs = np.fft.rfftfreq(n_times, d=1.0 / sfreq)
            if self.fmax is not None:
                fmax = check_sfreq(self.fmax, name="fmax")
                n_freqs = int(np.sum(freqs <= fmax + 1e-9 * fmax))
                if n_freqs < 1:
                    raise ValueError(f"fmax={fmax:g} Hz keeps no frequency bin.")
                freqs = freqs[:n_freqs]
        self.n_freqs_ = int(n_freqs)
        self.freqs_ = freqs
        return self

    def get_feature_names_out(self, input_features=None):
        """Names of the output channels (axis 1): the input channels, then ``<ch>_fft``.

        Parameters
        ----------
        input_features : array-like of str or None, default=None
            Names of the input channels. None uses the names seen in ``fit``
            (``mne.Epochs``), else ``ch0, ch1, ...``.

        Returns
        -------
        feature_names_out : ndarray of str objects
            With ``append=False`` the input channel names (each channel now holds a
            spectrum); with ``append=True`` the input names followed by
            ``"<name>_fft"`` for the appended spectra.
        """
        names = self._channel_names_in(input_features)
        if self.append:
            names = names + [f"{c}_fft" for c in names]
        return np.asarray(names, dtype=object)

    def transform(self, X):
        """Compute the (log-)magnitude spectra.

        Parameters
        ----------
        X : array-like of shape (n_epochs, n_channels, n_times) or mne.Epochs
            Epochs, same shape as in ``fit``.

        Returns
        -------
        X_new : ndarray of shape (n_epochs, n_channels, n_freqs_) or \
(n_epochs, 2 * n_channels, n_times)
        """
        X = self._check_input(X, reset=False)
        spec = np.abs(np.fft.rfft(X.astype(np.float64), axis=-1, norm=self.normalize))
        spec = spec[..., : self.n_freqs_]
        if self.log:
            spec = np.log1p(spec)
        spec = spec.astype(X.dtype, copy=False)
        if not self.append:
            return spec
        padded = np.zeros(X.shape, dtype=X.dtype)
        padded[..., : self.n_freqs_] = spec
        return np.concatenate([X, padded], axis=1)
