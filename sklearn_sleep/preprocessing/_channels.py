"""Channel selection on epoch arrays, and the machinery shared by the 3-D transformers.

Every transformer of :mod:`sklearn_sleep.preprocessing` works on epoch arrays of shape
``(n_epochs, n_channels, n_times)`` (or on :class:`mne.Epochs`, converted to µV with
``get_data(units="uV")``), in the style of pyRiemann and ``mne.decoding``
(Barachant et al., pyRiemann, doi:10.5281/zenodo.593816; Gramfort et al., "MEG and EEG
data analysis with MNE-Python", Front. Neurosci. 2013, doi:10.3389/fnins.2013.00267).
"""

import functools
import numbers

import numpy as np
from scipy.sparse import issparse
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils._set_output import _get_output_config, _wrap_data_with_container
from sklearn.utils.validation import check_is_fitted

from ..utils._validation import check_epochs
from ..utils._validation import epochs_to_microvolts as _epochs_to_array

__all__ = ["ChannelPicker", "ChannelNamedArray"]


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


def _default_ch_names(n_channels):
    """Placeholder channel names ``ch0, ch1, ...`` used when no names are known."""
    return [f"ch{i}" for i in range(n_channels)]


def _wrap_2d_output(method):
    """``set_output`` for transformers whose output may be 3-D.

    2-D outputs (feature matrices) are wrapped in the container chosen with
    ``set_output`` (pandas/polars DataFrame with ``get_feature_names_out()`` as
    columns), exactly as scikit-learn's ``_SetOutputMixin`` does. 3-D outputs (epochs)
    have no DataFrame form: their values are returned unchanged, as a
    :class:`ChannelNamedArray` view carrying ``get_feature_names_out()`` when a
    DataFrame container is configured, else as the plain ndarray.
    """

    @functools.wraps(method)
    def wrapped(self, X, *args, **kwargs):
        out = method(self, X, *args, **kwargs)
        if isinstance(out, np.ndarray) and out.ndim == 2:
            return _wrap_data_with_container("transform", out, X, self)
        if (isinstance(out, np.ndarray) and out.ndim == 3
                and _get_output_config("transform", self)["dense"] != "default"):
            # same values, tagged with the output channel names for the next step
            return ChannelNamedArray(out, self.get_feature_names_out())
        return out

    return wrapped


class ChannelNamedArray(np.ndarray):
    """3-D epoch array carrying the names of its channels (``ch_names``).

    Returned (values unchanged) by the epoch transformers when ``set_output`` asks for
    a DataFrame container, so that channel names reach the next Pipeline step during
    ``fit`` (3-D data has no DataFrame form). Only the returned object carries the
    names: slices, views and results of numpy operations are plain (unnamed) arrays
    of this class with ``ch_names=None``, and ``np.asarray`` gives a plain ndarray.

    Parameters
    ----------
    data : array-like of shape (n_epochs, n_channels, n_times)
        Epochs (viewed, not copied, when already an ndarray).
    ch_names : sequence of str
        One name per channel.

    Attributes
    ----------
    ch_names : list of str or None
        Channel names (None on derived arrays).

    Examples
    --------
    >>> import numpy as np
    >>> X = ChannelNamedArray(np.zeros((2, 2, 5)), ["EEG", "EOG"])
    >>> X.ch_names, X[:, :1].ch_names
    (['EEG', 'EOG'], None)
    """

    def __new__(cls, data, ch_names):
        obj = np.asarray(data).view(cls)
        obj.ch_names = [str(c) for c in ch_names]
        if len(obj.ch_names) != obj.shape[1]:
            raise ValueError(
                f"{len(obj.ch_names)} channel names for an array of shape {obj.shape}."
            )
        return obj

    def __array_finalize__(self, obj):
        self.ch_names = None  # never inherited: a slice may have other channels

    def __reduce__(self):  # pickle as a plain ndarray
        return np.asarray(self).__reduce__()


def _ch_names_of(X):
    """Channel names carried by ``X`` (mne.Epochs or ChannelNamedArray), else None."""
    if hasattr(X, "get_data") and hasattr(X, "info") and hasattr(X, "ch_names"):
        return [str(c) for c in X.ch_names]
    names = getattr(X, "ch_names", None) if isinstance(X, ChannelNamedArray) else None
    return None if names is None else list(names)


class _EpochTransformer(TransformerMixin, BaseEstimator, auto_wrap_output_keys=None):
    """Base class: validation of 3-D epoch arrays and the fit/transform shape contract.

    ``fit`` records ``n_channels_in_``, ``n_times_in_`` and ``n_features_in_`` (= number
    of channels, as in ``mne.decoding``) and ``ch_names_in_`` (the channel names of an
    :class:`mne.Epochs` or :class:`ChannelNamedArray` input, else None); ``transform`` raises ``NotFittedError``
    before ``fit`` and a ``ValueError`` when the channel count or epoch length differs
    from the one seen in ``fit``. Floating dtypes are preserved (float32 stays float32);
    integer input becomes float64. Sparse input is refused with a ``TypeError``.

    Feature names and ``set_output``: ``get_feature_names_out`` of a transformer whose
    output is 3-D returns the names of the **output channels** (axis 1), so that a
    Pipeline carries channel names from :class:`ChannelPicker` (or from the fitted
    ``mne.Epochs``) through resamplers, filters and scalers into the feature names of
    :class:`~sklearn_sleep.features.BandPowerFeatures`. ``set_output(transform=...)``
    is available on every transformer: 2-D outputs become DataFrames; 3-D outputs keep
    their values and, when a DataFrame container is requested, come back as a
    :class:`ChannelNamedArray` whose ``ch_names`` the next step records in ``fit``.
    """

    def __init_subclass__(cls, **kwargs):
        # scikit-learn's automatic wrapping would turn 3-D outputs into (failing)
        # DataFrames; wrap transform/fit_transform with the 2-D-only wrapper instead.
        kwargs.setdefault("auto_wrap_output_keys", None)
        super().__init_subclass__(**kwargs)
        cls._sklearn_auto_wrap_output_keys = {"transform"}
        for name in ("transform", "fit_transform"):
            if name in cls.__dict__:
                setattr(cls, name, _wrap_2d_output(cls.__dict__[name]))

    def fit_transform(self, X, y=None, **fit_params):
        """Fit to ``X``, then transform it.

        Parameters
        ----------
        X : array-like of shape (n_epochs, n_channels, n_times) or mne.Epochs
            Epochs.
        y : None
            Ignored; present for Pipeline compatibility.
        **fit_params : dict
            Passed to ``fit``.

        Returns
        -------
        X_new : ndarray or DataFrame
            Output of :meth:`transform`.
        """
        return self.fit(X, y, **fit_params).transform(X)

    def _channel_names_in(self, input_features):
        """Input channel names: ``input_features``, fitted names or placeholders.

        ``input_features`` (from the previous Pipeline step) must have one name per
        input channel. If this step knows the channel names (``ch_names`` or an
        ``mne.Epochs`` at fit), they win over the placeholders ``ch<i>`` and any other
        disagreement is an error, as in scikit-learn's ``_check_feature_names_in``.
        """
        check_is_fitted(self)
        known = getattr(self, "ch_names_in_", None)
        default = _default_ch_names(self.n_channels_in_)
        if input_features is None:
            return list(known) if known is not None else default
        names = [str(c) for c in np.asarray(input_features, dtype=object).ravel()]
        if len(names) != self.n_channels_in_:
            raise ValueError(
                f"input_features has {len(names)} names but {type(self).__name__} was "
                f"fitted on {self.n_channels_in_} channels."
            )
        if known is None or names == default:
            return names if known is None else list(known)
        if names != list(known):
            raise ValueError(
                f"input_features {names} differ from the channel names seen in fit "
                f"{list(known)}."
            )
        return names

    def get_feature_names_out(self, input_features=None):
        """Names of the output channels (axis 1 of the 3-D output).

        Parameters
        ----------
        input_features : array-like of str or None, default=None
            Names of the input channels (as given by the previous Pipeline step).
            None uses the names seen in ``fit`` (``mne.Epochs``), else ``ch0, ch1, ...``.

        Returns
        -------
        feature_names_out : ndarray of str objects
            One name per output channel.
        """
        return np.asarray(self._channel_names_in(input_features), dtype=object)

    def _check_input(self, X, *, reset):
        if not reset:
            check_is_fitted(self)
        ch_names = _ch_names_of(X)
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
            self.ch_names_in_ = ch_names
        else:
            known = getattr(self, "ch_names_in_", None)
            if ch_names is not None and known is not None and ch_names != list(known):
                raise ValueError(
                    f"X has the channels {ch_names}, but {type(self).__name__} was fitted "
                    f"on the channels {list(known)}; pass the same channels in the same "
                    "order (e.g. epochs.pick([...]))."
                )
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


_EpochTransformer._sklearn_auto_wrap_output_keys = {"transform"}
_EpochTransformer.fit_transform = _wrap_2d_output(_EpochTransformer.fit_transform)


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
    ch_names_in_ : list of str or None
        Names of the input channels (``ch_names`` or the ``mne.Epochs`` names).
    ch_names_out_ : list of str
        Names of the kept channels (``"ch<i>"`` when no names are known); also returned
        by :meth:`get_feature_names_out`, which passes them on to the next Pipeline step.
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
        if ch_names is None:
            ch_names = _ch_names_of(X)
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
        self.ch_names_in_ = ch_names
        names = ch_names if ch_names is not None else _default_ch_names(n_channels)
        self.ch_names_out_ = [names[i] for i in self.picks_]
        return self

    def get_feature_names_out(self, input_features=None):
        """Names of the picked channels, in output order.

        Parameters
        ----------
        input_features : array-like of str or None, default=None
            Names of the input channels (one per channel of ``X``). None uses
            ``ch_names`` (or the ``mne.Epochs`` names seen in ``fit``), else
            ``ch0, ch1, ...``; given names must agree with known ones.

        Returns
        -------
        feature_names_out : ndarray of str objects
            Names of the output channels, e.g. ``["EOG", "EEG"]``.
        """
        names = self._channel_names_in(input_features)
        return np.asarray([names[i] for i in self.picks_], dtype=object)

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
