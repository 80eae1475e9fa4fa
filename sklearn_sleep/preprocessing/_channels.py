"""Channel selection on epoch arrays, and the machinery shared by the 3-D transformers.

Every transformer of :mod:`sklearn_sleep.preprocessing` works on epoch arrays of shape
``(n_epochs, n_channels, n_times)`` (or on :class:`mne.Epochs`, converted to µV with
``get_data(units="uV")``), in the style of pyRiemann and ``mne.decoding``
(Barachant et al., pyRiemann, doi:10.5281/zenodo.593816; Gramfort et al., "MEG and EEG
data analysis with MNE-Python", Front. Neurosci. 2013, doi:10.3389/fnins.2013.00267).
"""

import numbers

import numpy as np
from scipy.sparse import issparse
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from ..utils._validation import check_epochs
from ..utils._validation import epochs_to_microvolts as _epochs_to_array

__all__ = ["ChannelPicker"]


def _check_info_sfreq(X, sfreq, name="sfreq"):
    """If ``X`` is an :class:`mne.Epochs`, check that its sampling rate equals ``sfreq``."""
    info = getattr(X, "info", None)
    if info is not None and hasattr(X, "get_data"):
        data_sfreq = float(info["sfreq"])
        if not np.isclose(data_sfreq, sfreq):
            raise ValueError(
                f"{name}={sfreq:g} Hz does not match the sampling rate of the mne.Epochs "
                f"({data_sfreq:g} Hz)."
            )


class _EpochTransformer(TransformerMixin, BaseEstimator):
    """Base class: validation of 3-D epoch arrays and the fit/transform shape contract.

    ``fit`` records ``n_channels_in_``, ``n_times_in_`` and ``n_features_in_`` (= number
    of channels, as in ``mne.decoding``); ``transform`` raises ``NotFittedError`` before
    ``fit`` and a ``ValueError`` when the channel count or epoch length differs from the
    one seen in ``fit``. Floating dtypes are preserved (float32 stays float32); integer
    input becomes float64.
    """

    def _check_input(self, X, *, reset):
        if not reset:
            check_is_fitted(self)
        if issparse(X):
            raise TypeError(
                f"{type(self).__name__} does not support sparse input: it takes dense epoch "
                "arrays (n_epochs, n_channels, n_times) or mne.Epochs."
            )
        X = check_epochs(_epochs_to_array(X), name="X", ndim=3, dtype=None)
        if reset:
            self.n_channels_in_ = int(X.shape[1])
            self.n_times_in_ = int(X.shape[2])
            self.n_features_in_ = self.n_channels_in_
        else:
            if X.shape[1] != self.n_channels_in_:
                raise ValueError(
                    f"X has {X.shape[1]} channels, but {type(self).__name__} was fitted "
                    f"with {self.n_channels_in_} channels (shape (n_epochs, n_channels, "
                    f"n_times) = {X.shape})."
                )
            if X.shape[2] != self.n_times_in_:
                raise ValueError(
                    f"X has epochs of {X.shape[2]} samples, but {type(self).__name__} was "
                    f"fitted on epochs of {self.n_times_in_} samples (shape {X.shape})."
                )
        return X

    def fit(self, X, y=None):
        """Validate the parameters and record the input shape.

        Parameters
        ----------
        X : array-like of shape (n_epochs, n_channels, n_times) or mne.Epochs
            Epochs.
        y : None
            Ignored; present for Pipeline compatibility.

        Returns
        -------
        self : object
            The fitted transformer.
        """
        self._validate_parameters()
        X = self._check_input(X, reset=True)
        self._fit(X)
        return self

    def _validate_parameters(self):  # pragma: no cover - overridden
        pass

    def _fit(self, X):
        pass

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        tags.input_tags.two_d_array = False
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags


def _as_list(picks):
    if isinstance(picks, (str, numbers.Integral)):
        return [picks]
    if isinstance(picks, np.ndarray):
        return picks.ravel().tolist()
    return list(picks)


class ChannelPicker(_EpochTransformer):
    """Keep a subset of channels of epoch arrays, by name or by index.

    Parameters
    ----------
    picks : str, int or sequence of str/int
        Channels to keep, in the order given (so the picker can also reorder channels).
        Names need ``ch_names`` (or an :class:`mne.Epochs` input, whose ``ch_names`` are
        used when ``ch_names`` is None); integers index the channel axis (negative
        indices count from the end).
    ch_names : sequence of str or None, default=None
        Names of the channels along axis 1 of ``X``, in order.

    Attributes
    ----------
    picks_ : ndarray of int
        Resolved channel indices.
    ch_names_out_ : list of str
        Names of the kept channels (``"ch<i>"`` when no names are known).
    n_channels_in_, n_times_in_, n_features_in_ : int
        Input shape seen in ``fit`` (``n_features_in_`` = number of channels).

    Notes
    -----
    Output shape: ``(n_epochs, len(picks), n_times)``. A missing channel name raises a
    ``ValueError`` naming it and listing the available channels; duplicated picks are an
    error.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.zeros((2, 3, 10), dtype=np.float32)
    >>> ChannelPicker(["EOG", "EEG"], ch_names=["EEG", "EMG", "EOG"]).fit_transform(X).shape
    (2, 2, 10)
    """

    def __init__(self, picks, ch_names=None):
        self.picks = picks
        self.ch_names = ch_names

    def fit(self, X, y=None):
        """Resolve ``picks`` against the channels of ``X``.

        Parameters
        ----------
        X : array-like of shape (n_epochs, n_channels, n_times) or mne.Epochs
            Epochs.
        y : None
            Ignored.

        Returns
        -------
        self : ChannelPicker
        """
        ch_names = self.ch_names
        if ch_names is None and hasattr(X, "ch_names") and hasattr(X, "get_data"):
            ch_names = list(X.ch_names)
        X = self._check_input(X, reset=True)
        n_channels = X.shape[1]
        if ch_names is not None:
            ch_names = [str(c) for c in ch_names]
            if len(ch_names) != n_channels:
                raise ValueError(
                    f"ch_names has {len(ch_names)} names but X has {n_channels} channels."
                )
        picks = _as_list(self.picks)
        if len(picks) == 0:
            raise ValueError("picks is empty; select at least one channel.")
        indices = []
        missing = []
        for p in picks:
            if isinstance(p, (str, np.str_)):
                if ch_names is None:
                    raise ValueError(
                        f"Channel {p!r} was given by name but ch_names is None; pass "
                        "ch_names=[...] (the names of X's channel axis) or integer picks."
                    )
                if p not in ch_names:
                    missing.append(p)
                else:
                    indices.append(ch_names.index(p))
            elif isinstance(p, numbers.Integral) and not isinstance(p, bool):
                if not -n_channels <= p < n_channels:
                    raise ValueError(
                        f"Channel index {p} is out of range for X with {n_channels} channels."
                    )
                indices.append(int(p) % n_channels)
            else:
                raise ValueError(f"picks must contain str or int, got {p!r}.")
        if missing:
            raise ValueError(
                f"Channel(s) {missing} not found. Available channels: {ch_names}."
            )
        if len(set(indices)) != len(indices):
            raise ValueError(f"picks selects the same channel more than once: {picks}.")
        self.picks_ = np.asarray(indices, dtype=int)
        names = ch_names if ch_names is not None else [f"ch{i}" for i in range(n_channels)]
        self.ch_names_out_ = [names[i] for i in self.picks_]
        return self

    def transform(self, X):
        """Return the picked channels.

        Parameters
        ----------
        X : array-like of shape (n_epochs, n_channels, n_times) or mne.Epochs
            Epochs with the same channels as in ``fit``.

        Returns
        -------
        X_new : ndarray of shape (n_epochs, n_picks, n_times)
        """
        X = self._check_input(X, reset=False)
        return X[:, self.picks_, :]
