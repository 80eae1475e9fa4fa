"""Band powers and YASA-like per-epoch features (3-D epochs in, 2-D feature matrix out)."""


import numpy as np
from scipy.signal import periodogram, welch

from ..preprocessing._channels import _ch_names_of, _check_info_sfreq, _EpochTransformer
from ..utils._validation import check_sfreq

__all__ = ["BandPowerFeatures", "DEFAULT_BANDS"]

#: Default EEG bands (Hz), half-open intervals ``[low, high)``.
DEFAULT_BANDS = {
    "delta": (0.5, 4.0),
    "theta": (4.0, 8.0),
    "alpha": (8.0, 12.0),
    "sigma": (12.0, 16.0),
    "beta": (16.0, 30.0),
    "gamma": (30.0, 45.0),
}

_RATIOS = (("delta", "beta"), ("theta", "alpha"))
_STATS = ("std", "iqr", "hjorth_mobility", "hjorth_complexity", "zero_crossings", "sef95")


#: Samples (epochs x channels x times) processed per chunk in ``transform``: 1e6
#: float64 values = 8 MB, about 80 epochs of 4 channels x 3000 samples.
_CHUNK_VALUES = 1_000_000


def _chunk_epochs(shape):
    """Number of epochs per chunk for epochs of ``shape`` (at least 1)."""
    per_epoch = max(1, int(np.prod(shape[1:])))
    return max(1, _CHUNK_VALUES // per_epoch)


def _safe_div(a, b):
    return np.divide(a, b, out=np.zeros_like(a, dtype=np.float64), where=b > 0)


class BandPowerFeatures(_EpochTransformer):
    """Spectral band powers and classical time-domain features for every channel.

    The power spectral density of each channel of each epoch is estimated with Welch's
    method (or a periodogram); the absolute power of a band ``[low, high)`` is the
    rectangle-rule integral ``sum(psd[low <= f < high]) * df``. Relative power divides
    by the total power over ``[min(low), max(high))``, so with contiguous bands the
    relative powers sum to one. Optional extras follow YASA (Vallat & Walker, "An
    open-source, high-performance tool for automated sleep staging", eLife 10:e70092,
    2021, doi:10.7554/eLife.70092) and the traditional-ML baseline of Van Der Donckt et
    al. ("Do not sleep on traditional machine learning", Biomed. Signal Process. Control
    81:104429, 2023, doi:10.1016/j.bspc.2022.104429).

    Features per channel, in output order:

    * one power per band: ``<band>_rel`` (``relative=True``) or ``<band>_abs``;
    * ``total_abs``: total absolute power over the band range;
    * ratios (``include_ratios``): ``delta_beta_ratio``, ``theta_alpha_ratio``
      (absolute powers; needs those bands);
    * statistics (``include_stats``): ``std``, ``iqr``, ``hjorth_mobility``,
      ``hjorth_complexity`` (Hjorth, Electroencephalogr. Clin. Neurophysiol. 29(3),
      1970, doi:10.1016/0013-4694(70)90143-4), ``zero_crossings`` (sign changes of the
      mean-removed epoch, a count per epoch) and ``sef95`` (spectral edge frequency: the
      frequency below which 95 % of the 0-Nyquist power lies).

    With ``log=True``, ``log10`` is applied to absolute powers, the total power and the
    ratios (relative powers stay in [0, 1]). Powers are in (input unit)² (µV² for µV
    input); a zero power gives ``log10`` of the smallest positive float32, never -inf.

    Parameters
    ----------
    sfreq : float
        Sampling rate (Hz).
    bands : dict of str -> (float, float) or None, default=None
        Bands in Hz; None uses ``DEFAULT_BANDS`` (delta 0.5-4, theta 4-8, alpha 8-12,
        sigma 12-16, beta 16-30, gamma 30-45). Upper edges must be <= ``sfreq / 2``.
    relative : bool, default=True
        Output relative (True) or absolute (False) band powers.
    log : bool, default=True
        ``log10`` of absolute powers, total power and ratios.
    include_ratios : bool, default=True
        Add delta/beta and theta/alpha power ratios.
    include_stats : bool, default=True
        Add the time-domain and spectral-edge statistics listed above.
    method : {"welch", "periodogram"}, default="welch"
        PSD estimator (:func:`scipy.signal.welch` with a Hann window, or
        :func:`scipy.signal.periodogram`).
    window_seconds : float, default=4.0
        Welch segment length in seconds (capped at the epoch length; 50 % overlap).
    ch_names : sequence of str or None, default=None
        Channel names used by :meth:`get_feature_names_out` (``"ch<i>"`` otherwise).

    Attributes
    ----------
    freqs_ : ndarray
        PSD frequencies for the fitted epoch length.
    bands_ : dict of str -> (float, float)
        Bands used.
    nperseg_ : int
        Welch segment length in samples.
    ch_names_ : list of str or None
        Channel names used for feature names (``ch_names``, or the ``mne.Epochs``
        names seen in ``fit``).
    ch_names_in_ : list of str or None
        Same as ``ch_names_`` (the name shared by every epoch transformer).
    feature_names_ : list of str
        Feature names per channel (without the channel prefix).
    n_channels_in_, n_times_in_, n_features_in_ : int
        Input shape seen in ``fit``.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.random.default_rng(0).normal(size=(5, 2, 3000)).astype(np.float32)
    >>> bp = BandPowerFeatures(sfreq=100, ch_names=["Fpz-Cz", "Pz-Oz"]).fit(X)
    >>> bp.transform(X).shape
    (5, 30)
    >>> str(bp.get_feature_names_out()[0])
    'Fpz-Cz_delta_rel'
    """

    def __init__(self, sfreq, bands=None, relative=True, log=True, include_ratios=True,
                 include_stats=True, method="welch", window_seconds=4.0, ch_names=None):
        self.sfreq = sfreq
        self.bands = bands
        self.relative = relative
        self.log = log
        self.include_ratios = include_ratios
        self.include_stats = include_stats
        self.method = method
        self.window_seconds = window_seconds
        self.ch_names = ch_names

    def _resolved_bands(self, sfreq):
        bands = DEFAULT_BANDS if self.bands is None else self.bands
        if not isinstance(bands, dict) or len(bands) == 0:
            raise ValueError("bands must be a non-empty dict {name: (low_hz, high_hz)}.")
        out = {}
        for name, edges in bands.items():
            try:
                low, high = (float(e) for e in edges)
            except (TypeError, ValueError) as exc:
                raise ValueError(
                    f"Band {name!r} must be a (low_hz, high_hz) pair, got {edges!r}."
                ) from exc
            if not 0 <= low < high:
                raise ValueError(f"Band {name!r} needs 0 <= low < high, got ({low}, {high}).")
            if high > sfreq / 2:
                raise ValueError(
                    f"Band {name!r} ({low:g}-{high:g} Hz) exceeds the Nyquist frequency "
                    f"(sfreq / 2 = {sfreq / 2:g} Hz); pass bands=... without it."
                )
            out[str(name)] = (low, high)
        return out

    def fit(self, X, y=None):
        """Validate the parameters against the epoch length and sampling rate.

        Parameters
        ----------
        X : array-like of shape (n_epochs, n_channels, n_times) or mne.Epochs
            Epochs sampled at ``sfreq``.
        y : None
            Ignored.

        Returns
        -------
        self : BandPowerFeatures
        """
        sfreq = check_sfreq(self.sfreq)
        bands = self._resolved_bands(sfreq)
        if self.method not in ("welch", "periodogram"):
            raise ValueError(f"method must be 'welch' or 'periodogram', got {self.method!r}.")
        window_seconds = check_sfreq(self.window_seconds, name="window_seconds")
        if self.include_ratios:
            needed = {b for pair in _RATIOS for b in pair}
            missing = sorted(needed - set(bands))
            if missing:
                raise ValueError(
                    f"include_ratios=True needs the bands {sorted(needed)}; missing "
                    f"{missing}. Add them to bands or set include_ratios=False."
                )
        ch_names = self.ch_names
        if ch_names is None:
            ch_names = _ch_names_of(X)  # mne.Epochs, or the output of a previous step
        _check_info_sfreq(X, sfreq)
        X = self._check_input(X, reset=True)
        if ch_names is not None and len(ch_names) != X.shape[1]:
            raise ValueError(
                f"ch_names has {len(ch_names)} names but X has {X.shape[1]} channels."
            )
        self.ch_names_ = None if ch_names is None else [str(c) for c in ch_names]
        self.ch_names_in_ = self.ch_names_
        self.nperseg_ = int(min(X.shape[2], round(window_seconds * sfreq)))
        freqs = self._psd(X[:1, :1].astype(np.float64), sfreq)[0]
        df = freqs[1] - freqs[0] if len(freqs) > 1 else np.inf
        for name, (low, high) in bands.items():
            if not np.any((freqs >= low) & (freqs < high)):
                raise ValueError(
                    f"Band {name!r} ({low:g}-{high:g} Hz) contains no frequency bin at the "
                    f"PSD resolution of {df:g} Hz; use longer epochs/window_seconds or "
                    "wider bands."
                )
        self.freqs_ = freqs
        self.bands_ = bands
        names = [f"{b}_{'rel' if self.relative else 'abs'}" for b in bands] + ["total_abs"]
        if self.include_ratios:
            names += [f"{a}_{b}_ratio" for a, b in _RATIOS]
        if self.include_stats:
            names += list(_STATS)
        self.feature_names_ = names
        return self

    def _psd(self, X, sfreq):
        if self.method == "welch":
            return welch(X, fs=sfreq, nperseg=self.nperseg_, axis=-1)
        return periodogram(X, fs=sfreq, window="hann", axis=-1)

    def transform(self, X):
        """Compute the features.

        Parameters
        ----------
        X : array-like of shape (n_epochs, n_channels, n_times) or mne.Epochs
            Epochs sampled at ``sfreq``, same shape as in ``fit``.

        Returns
        -------
        features : ndarray of shape (n_epochs, n_channels * n_features_per_channel)
            Channel-major: all features of channel 0, then channel 1, ...
            (see :meth:`get_feature_names_out`). float64.
        """
        X = self._check_input(X, reset=False)
        # Bounded memory: the float64 copy, the Welch segments and the PSD exist for one
        # chunk of epochs at a time (about _CHUNK_VALUES samples), never for the whole
        # night; each epoch's features do not depend on the other epochs, so the result
        # is identical to a single pass.
        step = _chunk_epochs(X.shape)
        if X.shape[0] <= step:
            return self._features(X)
        first = self._features(X[:step])
        out = np.empty((X.shape[0], first.shape[1]), dtype=first.dtype)
        out[:step] = first
        for start in range(step, X.shape[0], step):
            out[start:start + step] = self._features(X[start:start + step])
        return out

    def _features(self, X):
        """Features of a chunk of validated epochs (computed in float64)."""
        X = X.astype(np.float64)
        sfreq = float(self.sfreq)
        freqs, psd = self._psd(X, sfreq)
        df = freqs[1] - freqs[0]
        tiny = np.finfo(np.float32).tiny

        def _log(a):
            return np.log10(np.maximum(a, tiny)) if self.log else a

        lows = min(lo for lo, _ in self.bands_.values())
        highs = max(hi for _, hi in self.bands_.values())
        abs_pow = {
            name: psd[..., (freqs >= lo) & (freqs < hi)].sum(axis=-1) * df
            for name, (lo, hi) in self.bands_.items()
        }
        total = psd[..., (freqs >= lows) & (freqs < highs)].sum(axis=-1) * df
        feats = []
        for name in self.bands_:
            feats.append(_safe_div(abs_pow[name], total) if self.relative else _log(abs_pow[name]))
        feats.append(_log(total))
        if self.include_ratios:
            for a, b in _RATIOS:
                ratio = _safe_div(abs_pow[a], abs_pow[b])
                feats.append(_log(ratio))
        if self.include_stats:
            feats.extend(_time_stats(X))
            cum = np.cumsum(psd, axis=-1)
            full = cum[..., -1:]
            idx = np.argmax(cum >= 0.95 * full, axis=-1)
            feats.append(np.where(full[..., 0] > 0, freqs[idx], 0.0))
        out = np.stack(feats, axis=-1)  # (n_epochs, n_channels, n_features)
        return out.reshape(out.shape[0], -1)

    def get_feature_names_out(self, input_features=None):
        """Names ``"<channel>_<feature>"``, e.g. ``"EEG Fpz-Cz_delta_rel"``.

        Parameters
        ----------
        input_features : sequence of str or None, default=None
            Channel names, one per input channel, as passed by a Pipeline from the
            previous step (e.g. the names picked by
            :class:`~sklearn_sleep.preprocessing.ChannelPicker`). When ``ch_names`` (or
            the ``mne.Epochs`` names seen in ``fit``) are known, they replace the
            placeholders ``ch<i>`` and any other disagreement raises a ``ValueError``.
            None uses the known names, else ``"ch<i>"``.

        Returns
        -------
        feature_names_out : ndarray of str
        """
        channels = self._channel_names_in(input_features)
        return np.asarray([f"{c}_{f}" for c in channels for f in self.feature_names_],
                          dtype=object)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64"]
        return tags


def _time_stats(X):
    """std, IQR, Hjorth mobility and complexity, zero crossings of (n, c, t) epochs."""
    std = X.std(axis=-1)
    q25, q75 = np.percentile(X, [25, 75], axis=-1)
    dx = np.diff(X, axis=-1)
    ddx = np.diff(dx, axis=-1)
    var_x, var_dx, var_ddx = X.var(axis=-1), dx.var(axis=-1), ddx.var(axis=-1)
    mobility = np.sqrt(_safe_div(var_dx, var_x))
    complexity = _safe_div(np.sqrt(_safe_div(var_ddx, var_dx)), mobility)
    centred = X - X.mean(axis=-1, keepdims=True)
    signs = np.signbit(centred)
    zero_cross = (signs[..., 1:] != signs[..., :-1]).sum(axis=-1).astype(np.float64)
    return [std, q75 - q25, mobility, complexity, zero_cross]
