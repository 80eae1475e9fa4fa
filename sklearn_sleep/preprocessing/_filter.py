"""Zero-phase band-pass and notch filters for epoch arrays.

Filtering each 30-s epoch separately has edge effects: the forward-backward filter
pads every epoch at both ends (odd reflection), so the first and last fraction of a
second of each epoch (longer for low high-pass cut-offs) are less accurate than when the
continuous recording is filtered once. Filter continuous recordings before epoching
when you can (``EpochSegmenter(filters=...)`` or the loaders); these transformers are
still convenient inside Pipelines, e.g. to grid-search a cut-off.
"""

import numbers

import numpy as np
from scipy.signal import butter, filtfilt, firwin, iirnotch, sosfiltfilt, tf2sos

from ..utils._validation import check_sfreq
from ._channels import _check_info_sfreq, _EpochTransformer

__all__ = ["BandPassFilter", "NotchFilter"]


def _check_cutoff(value, name, nyquist):
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not np.isfinite(value):
        raise ValueError(f"{name} must be a positive number (Hz) or None, got {value!r}.")
    value = float(value)
    if value <= 0:
        raise ValueError(f"{name} must be > 0 Hz, got {value:g}.")
    if value >= nyquist:
        raise ValueError(
            f"{name}={value:g} Hz must be below the Nyquist frequency (sfreq / 2 = "
            f"{nyquist:g} Hz)."
        )
    return value


class BandPassFilter(_EpochTransformer):
    """Zero-phase band-pass (or low-/high-pass) filter applied to every epoch.

    The IIR design is a Butterworth filter in second-order sections run forward and
    backward (:func:`scipy.signal.sosfiltfilt`), so the phase is zero and the effective
    order is ``2 * order``. The FIR design is a Hamming-window filter
    (:func:`scipy.signal.firwin`) run forward-backward with :func:`scipy.signal.filtfilt`.

    Filtering each 30-s epoch separately has edge effects (each epoch is padded by
    reflection at both ends). Filtering continuous recordings before epoching, which
    :class:`EpochSegmenter` (``filters=``) and the loaders offer, is preferable; the
    transformer is still useful inside Pipelines.

    Parameters
    ----------
    sfreq : float
        Sampling rate (Hz).
    l_freq : float or None, default=0.3
        High-pass cut-off (Hz); None for a low-pass filter.
    h_freq : float or None, default=35.0
        Low-pass cut-off (Hz); None for a high-pass filter. Must be below ``sfreq / 2``.
    method : {"iir", "fir"}, default="iir"
        Filter design.
    order : int, default=4
        Butterworth order (IIR only).
    numtaps : int or None, default=None
        FIR length (odd). None picks ``3.3 / transition * sfreq`` taps with the
        transition band width ``min(max(0.25 * cutoff, 2 Hz), cutoff)`` of the lowest
        cut-off (the Hamming-window rule used by MNE-Python).

    Attributes
    ----------
    sos_ : ndarray of shape (n_sections, 6)
        IIR second-order sections (``method="iir"``).
    coef_ : ndarray of shape (numtaps,)
        FIR coefficients (``method="fir"``).
    n_channels_in_, n_times_in_, n_features_in_ : int
        Input shape seen in ``fit``.

    References
    ----------
    .. [1] Gustafsson, F., "Determining the initial states in forward-backward
       filtering", IEEE Trans. Signal Process. 44(4), 988-992, 1996,
       doi:10.1109/78.492552.
    .. [2] Widmann, A., Schröger, E. & Maess, B., "Digital filter design for
       electrophysiological data - a practical approach", J. Neurosci. Methods 250,
       34-46, 2015, doi:10.1016/j.jneumeth.2014.08.002.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.random.default_rng(0).normal(size=(2, 1, 3000)).astype(np.float32)
    >>> BandPassFilter(sfreq=100, l_freq=0.3, h_freq=35).fit_transform(X).shape
    (2, 1, 3000)
    """

    def __init__(self, sfreq, l_freq=0.3, h_freq=35.0, *, method="iir", order=4,
                 numtaps=None):
        self.sfreq = sfreq
        self.l_freq = l_freq
        self.h_freq = h_freq
        self.method = method
        self.order = order
        self.numtaps = numtaps

    def _validate_parameters(self):
        sfreq = check_sfreq(self.sfreq)
        nyquist = sfreq / 2
        l_freq = _check_cutoff(self.l_freq, "l_freq", nyquist)
        h_freq = _check_cutoff(self.h_freq, "h_freq", nyquist)
        if l_freq is None and h_freq is None:
            raise ValueError("l_freq and h_freq are both None; set at least one cut-off.")
        if l_freq is not None and h_freq is not None and l_freq >= h_freq:
            raise ValueError(f"l_freq ({l_freq:g} Hz) must be below h_freq ({h_freq:g} Hz).")
        if self.method not in ("iir", "fir"):
            raise ValueError(f"method must be 'iir' or 'fir', got {self.method!r}.")
        if self.method == "iir" and (
            isinstance(self.order, bool) or not isinstance(self.order, numbers.Integral)
            or self.order < 1
        ):
            raise ValueError(f"order must be a positive integer, got {self.order!r}.")
        if self.numtaps is not None and (
            isinstance(self.numtaps, bool) or not isinstance(self.numtaps, numbers.Integral)
            or self.numtaps < 3 or self.numtaps % 2 == 0
        ):
            raise ValueError(f"numtaps must be an odd integer >= 3 or None, got {self.numtaps!r}.")
        return sfreq, l_freq, h_freq

    def fit(self, X, y=None):
        """Design the filter.

        Parameters
        ----------
        X : array-like of shape (n_epochs, n_channels, n_times) or mne.Epochs
            Epochs sampled at ``sfreq``.
        y : None
            Ignored.

        Returns
        -------
        self : BandPassFilter
        """
        sfreq, l_freq, h_freq = self._validate_parameters()
        _check_info_sfreq(X, sfreq)
        X = self._check_input(X, reset=True)
        if l_freq is not None and h_freq is not None:
            cutoff, btype = [l_freq, h_freq], "bandpass"
        elif l_freq is not None:
            cutoff, btype = l_freq, "highpass"
        else:
            cutoff, btype = h_freq, "lowpass"
        if self.method == "iir":
            self.sos_ = butter(self.order, cutoff, btype=btype, fs=sfreq, output="sos")
        else:
            numtaps = self.numtaps
            if numtaps is None:
                lowest = min(c for c in (l_freq, h_freq) if c is not None)
                trans = min(max(0.25 * lowest, 2.0), lowest)
                numtaps = int(np.ceil(3.3 / trans * sfreq)) | 1  # odd
            if numtaps > X.shape[2]:
                raise ValueError(
                    f"The FIR filter needs {numtaps} taps but epochs have only "
                    f"{X.shape[2]} samples; use method='iir', a higher l_freq, or filter "
                    "the continuous recording before epoching."
                )
            pass_zero = {"bandpass": False, "highpass": False, "lowpass": True}[btype]
            self.coef_ = firwin(numtaps, cutoff, pass_zero=pass_zero, fs=sfreq,
                                window="hamming")
        return self

    def transform(self, X):
        """Filter every channel of every epoch (zero phase).

        Parameters
        ----------
        X : array-like of shape (n_epochs, n_channels, n_times) or mne.Epochs
            Epochs sampled at ``sfreq``.

        Returns
        -------
        X_new : ndarray of shape (n_epochs, n_channels, n_times)
        """
        X = self._check_input(X, reset=False)
        if self.method == "iir":
            # copy: a fitted filter loaded read-only (joblib mmap_mode="r") has a read-only
            # sos_, which scipy's Cython sosfilt refuses
            out = sosfiltfilt(np.array(self.sos_, dtype=np.float64), X.astype(np.float64),
                              axis=-1)
        else:
            padlen = min(3 * len(self.coef_), X.shape[2] - 1)
            out = filtfilt(self.coef_, [1.0], X.astype(np.float64), axis=-1, padlen=padlen)
        return out.astype(X.dtype, copy=False)


class NotchFilter(_EpochTransformer):
    """Zero-phase IIR notch filter (power-line interference) applied to every epoch.

    A second-order notch (:func:`scipy.signal.iirnotch`) at each frequency in ``freq``
    with quality factor ``quality`` (bandwidth ``freq / quality``), run forward and
    backward with :func:`scipy.signal.sosfiltfilt`. The same edge-effect caveat as for
    :class:`BandPassFilter` applies: prefer notch filtering continuous recordings.

    Parameters
    ----------
    sfreq : float
        Sampling rate (Hz).
    freq : float or sequence of float, default=50.0
        Frequency (or frequencies, e.g. harmonics) to remove, below ``sfreq / 2``.
    quality : float, default=30.0
        Quality factor of each notch.

    Attributes
    ----------
    sos_ : ndarray of shape (n_sections, 6)
        Cascaded second-order sections of all notches.
    n_channels_in_, n_times_in_, n_features_in_ : int
        Input shape seen in ``fit``.

    References
    ----------
    .. [1] Gustafsson, F., IEEE Trans. Signal Process. 44(4), 1996,
       doi:10.1109/78.492552.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.zeros((2, 1, 1000), dtype=np.float32)
    >>> NotchFilter(sfreq=250, freq=50).fit_transform(X).shape
    (2, 1, 1000)
    """

    def __init__(self, sfreq, freq=50.0, quality=30.0):
        self.sfreq = sfreq
        self.freq = freq
        self.quality = quality

    def fit(self, X, y=None):
        """Design the notch filter(s).

        Parameters
        ----------
        X : array-like of shape (n_epochs, n_channels, n_times) or mne.Epochs
            Epochs sampled at ``sfreq``.
        y : None
            Ignored.

        Returns
        -------
        self : NotchFilter
        """
        sfreq = check_sfreq(self.sfreq)
        freqs = np.atleast_1d(self.freq)
        if freqs.size == 0:
            raise ValueError("freq is empty; give at least one frequency to remove.")
        freqs = [_check_cutoff(f, "freq", sfreq / 2) for f in freqs.tolist()]
        if (isinstance(self.quality, bool) or not isinstance(self.quality, numbers.Real)
                or not self.quality > 0):
            raise ValueError(f"quality must be a positive number, got {self.quality!r}.")
        _check_info_sfreq(X, sfreq)
        self._check_input(X, reset=True)
        sections = [tf2sos(*iirnotch(f, float(self.quality), fs=sfreq)) for f in freqs]
        self.sos_ = np.concatenate(sections, axis=0)
        return self

    def transform(self, X):
        """Remove the notch frequencies (zero phase).

        Parameters
        ----------
        X : array-like of shape (n_epochs, n_channels, n_times) or mne.Epochs
            Epochs sampled at ``sfreq``.

        Returns
        -------
        X_new : ndarray of shape (n_epochs, n_channels, n_times)
        """
        X = self._check_input(X, reset=False)
        # copy: read-only sos_ after joblib mmap loading (see BandPassFilter.transform)
        out = sosfiltfilt(np.array(self.sos_, dtype=np.float64), X.astype(np.float64), axis=-1)
        return out.astype(X.dtype, copy=False)
