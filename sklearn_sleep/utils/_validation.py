"""Input checks shared by every public entry point.

Every estimator and loader of the library validates its arrays through the
functions of this module so that bad input (wrong number of dimensions, NaN or
infinite values, empty arrays, mismatched lengths) always produces the same
clear message naming the problem.
"""

import numbers

import numpy as np

__all__ = [
    "check_epochs",
    "check_labels_match",
    "check_sfreq",
    "check_is_3d",
    "epochs_to_microvolts",
]


def epochs_to_microvolts(X):
    """``mne.Epochs`` -> ndarray with voltage channels in µV; other inputs unchanged.

    ``Epochs.get_data(units="uV")`` refuses recordings that mix channel types (EEG, EOG
    and EMG), so voltage channels (FIFF unit V) are scaled by 1e6 here and other
    channels are left in their SI unit.
    """
    if not (hasattr(X, "get_data") and hasattr(X, "info")):
        return X
    from mne.io.constants import FIFF

    data = X.get_data()
    volts = np.array([ch["unit"] == FIFF.FIFF_UNIT_V for ch in X.info["chs"]])
    factors = np.where(volts, 1e6, 1.0)
    return data * factors[None, :, None]


#: elements per block of the NaN/inf scan: the scan's temporary memory stays bounded
#: (a few MB) whatever the size of X, e.g. a memory-mapped epoch store larger than RAM.
_FINITE_BLOCK_ELEMENTS = 2**22


def _nonfinite_epochs(arr):
    """Number of NaN/inf values in ``arr`` and the epochs (axis 0) holding them.

    Scans ``arr`` in blocks of epochs, so that the temporary boolean mask never holds
    more than ~:data:`_FINITE_BLOCK_ELEMENTS` values (``np.isfinite(arr)`` on a
    memory-mapped array would allocate a quarter of its size in RAM).
    """
    per_epoch = max(1, arr.size // max(arr.shape[0], 1)) if arr.ndim else 1
    if arr.ndim == 0:
        arr = arr.reshape(1)
    step = max(1, _FINITE_BLOCK_ELEMENTS // per_epoch)
    n_bad, bad_epochs = 0, []
    for start in range(0, arr.shape[0], step):
        finite = np.isfinite(arr[start:start + step])
        if not finite.all():
            bad = ~finite.reshape(finite.shape[0], -1)
            n_bad += int(bad.sum())
            bad_epochs.append(start + np.flatnonzero(bad.any(axis=1)))
    bad_epochs = np.concatenate(bad_epochs) if bad_epochs else np.empty(0, dtype=int)
    return n_bad, bad_epochs


def check_epochs(X, *, name="X", ndim=3, dtype=np.float32, allow_nan=False, copy=False,
                 min_ndim=None):
    """Validate an array of epochs ``(n_epochs, n_channels, n_times)``.

    Parameters
    ----------
    X : array-like
        Epochs to check.
    name : str, default="X"
        Name used in error messages.
    ndim : int or tuple of int, default=3
        Accepted number(s) of dimensions. Ignored when ``min_ndim`` is set.
    dtype : numpy dtype or None, default=np.float32
        Output dtype. ``None`` keeps the input's floating dtype (ints become float64).
    allow_nan : bool, default=False
        If False, NaN or infinite values raise a ``ValueError`` that reports how many
        values and which epochs are affected.
    copy : bool, default=False
        Force a copy.
    min_ndim : int or None, default=None
        If given, accept any array with at least this many dimensions.

    Returns
    -------
    X : ndarray
        The validated array (a view when no conversion was needed).

    Raises
    ------
    ValueError
        On a wrong number of dimensions, an empty array, NaN/inf values or a
        non-numeric array.
    """
    X = epochs_to_microvolts(X)
    try:
        arr = np.asarray(X)
    except (ValueError, TypeError) as exc:  # ragged input
        raise ValueError(f"{name} could not be converted to an array: {exc}") from exc
    if arr.dtype == object or not np.issubdtype(arr.dtype, np.number):
        raise ValueError(f"{name} must be numeric, got an array of dtype {arr.dtype}.")
    if np.iscomplexobj(arr):
        raise ValueError(f"{name} must be real-valued, got a complex array.")
    if min_ndim is not None:
        if arr.ndim < min_ndim:
            raise ValueError(
                f"{name} must have at least {min_ndim} dimensions, got an array of shape "
                f"{arr.shape}."
            )
    else:
        allowed = (ndim,) if isinstance(ndim, numbers.Integral) else tuple(ndim)
        if arr.ndim not in allowed:
            expected = " or ".join(f"{d}-D" for d in allowed)
            hint = ""
            if 3 in allowed and arr.ndim == 2:
                hint = (
                    " Epoched signals are expected as (n_epochs, n_channels, n_times);"
                    " for a single channel use X[:, None, :]."
                )
            raise ValueError(
                f"{name} must be {expected}, got a {arr.ndim}-D array of shape "
                f"{arr.shape}.{hint}"
            )
    if arr.size == 0 or arr.shape[0] == 0:
        raise ValueError(f"{name} is empty (shape {arr.shape}); at least one epoch is required.")
    if dtype is None:
        out_dtype = arr.dtype if np.issubdtype(arr.dtype, np.floating) else np.float64
    else:
        out_dtype = dtype
    arr = arr.astype(out_dtype, copy=copy)
    if not allow_nan:
        n_bad, bad_epochs = _nonfinite_epochs(arr)
        if n_bad:
            shown = ", ".join(map(str, bad_epochs[:10])) + (" ..." if bad_epochs.size > 10 else "")
            raise ValueError(
                f"{name} contains {n_bad} NaN or infinite value(s) in {bad_epochs.size} "
                f"epoch(s) (indices {shown}). Remove or interpolate them before fitting."
            )
    return arr


def check_labels_match(X, y, *, groups=None):
    """Check that ``y`` (and ``groups``) have one entry per epoch of ``X``.

    Parameters
    ----------
    X : ndarray
        Epochs; only ``len(X)`` is used.
    y : array-like or None
        Labels, one per epoch.
    groups : array-like or None
        Group (subject or recording) of each epoch.

    Returns
    -------
    y, groups : ndarray or None
    """
    n = len(X)
    if y is not None:
        y = np.asarray(y)
        if y.ndim != 1:
            raise ValueError(f"y must be 1-D (one label per epoch), got shape {y.shape}.")
        if len(y) != n:
            raise ValueError(
                f"X and y have different lengths: {n} epochs but {len(y)} labels. "
                "Each epoch needs exactly one label."
            )
    if groups is not None:
        groups = np.asarray(groups)
        if groups.ndim != 1 or len(groups) != n:
            raise ValueError(
                f"groups must be 1-D with one entry per epoch ({n}), got shape {groups.shape}."
            )
    return y, groups


def check_sfreq(sfreq, *, name="sfreq"):
    """Return ``sfreq`` as a positive finite float, or raise ``ValueError``.

    Parameters
    ----------
    sfreq : int or float
        Value to check: any real number (Python or NumPy int or float). Booleans,
        strings (even ``"100"``) and ``None`` are refused.
    name : str, default="sfreq"
        Name of the value in the error message, e.g. ``"epoch_seconds"`` when the same
        check is applied to an epoch length.

    Returns
    -------
    sfreq : float
        The value as a Python ``float``.

    Raises
    ------
    ValueError
        If ``sfreq`` is not a real number, or is zero, negative, infinite or NaN.
    """
    if isinstance(sfreq, bool) or not isinstance(sfreq, numbers.Real):
        raise ValueError(f"{name} must be a positive number (Hz), got {sfreq!r}.")
    sfreq = float(sfreq)
    if not np.isfinite(sfreq) or sfreq <= 0:
        raise ValueError(f"{name} must be a positive, finite number (Hz), got {sfreq!r}.")
    return sfreq


def check_is_3d(X, name="X"):
    """Shortcut for :func:`check_epochs` with ``ndim=3`` and float32 output."""
    return check_epochs(X, name=name, ndim=3)
