"""Run scikit-learn's estimator checks on estimators that take 3-D epoch arrays.

scikit-learn's common checks (:func:`sklearn.utils.estimator_checks.check_estimator`)
feed 2-D matrices ``(n_samples, n_features)``. An estimator that declares
``input_tags.two_d_array=False, three_d_array=True`` (every transformer of
:mod:`sklearn_sleep.preprocessing`, :class:`~sklearn_sleep.features.BandPowerFeatures`,
the networks of :mod:`sklearn_sleep.models`) therefore gets only one check run; all
others are skipped, so a bare ``check_estimator`` passes vacuously.

:func:`adapt_to_2d` closes that gap in the spirit of pyRiemann's and tslearn's own
check suites, but reusing scikit-learn's checks instead of rewriting them. It returns
an instance of a **subclass** of the estimator's class (not a wrapping meta-estimator)
whose only change is to turn 2-D input into epochs before calling the original method,
and to flatten 3-D output back to 2-D. Because it is the same class underneath:

* ``get_params``/``set_params``/``clone``, ``__init__`` and ``__dict__`` are the
  estimator's own, so the parameter, clone, pickling and "fit does not alter the
  parameters" checks test the real estimator, not an adapter;
* fitted attributes (``n_features_in_``, ``classes_``, ...) are the estimator's own; no
  attribute is added or translated, so a check that expects 2-D conventions (e.g.
  ``n_features_in_ == X.shape[1]``, while 3-D estimators count channels) fails and must
  be listed as an expected failure with its reason;
* validation and error messages are the estimator's own: input that is not a 2-D
  array (1-D arrays, sparse matrices) is passed through **untouched**, so the
  estimator itself must refuse it.

The conversion (:func:`to_epochs`) maps row ``x`` (``n_features`` values) to an epoch
of ``n_channels`` channels and ``n_times = n_features * repeats`` samples: channel
``c`` is ``x`` tiled ``repeats`` times along time and circularly shifted by ``c``
samples. It is deterministic, row-wise (so sample-order and subset invariance are
preserved), keeps the dtype, propagates NaN/inf and complex values, and maps different
``n_features`` to different ``n_times``, so a feature-count mismatch between ``fit`` and
``transform`` reaches the estimator as an epoch-length mismatch. Choose ``repeats`` so
that one feature still gives epochs long enough for the estimator (filters, spectral
windows and network kernels need a minimum ``n_times``) and ``n_channels`` to what the
estimator needs (e.g. a channel picker selecting channel 2). Output of a method that
is 3-D ``(n, c, t)`` is reshaped to ``(n, c * t)``; 2-D outputs, 1-D outputs
(``predict``), DataFrames and tuples other than their first element are returned as
they are.

Methods that the original makes conditional with scikit-learn's ``available_if`` (e.g.
``predict_proba``) stay conditional on the adapted class.

Calls made from *inside* the estimator (e.g. ``fit_transform`` calling ``self.fit``)
already receive 3-D arrays and are passed through untouched in both directions, so the
adapter never converts twice.

:func:`run_estimator_checks` runs all of scikit-learn's checks on such an instance and
returns one record per check (passed, failed, xfail, xpass or skipped, with the
reason) plus counts; :func:`format_check_table` prints them.

Examples
--------
>>> from sklearn_sleep.preprocessing import EpochScaler
>>> from sklearn_sleep.utils.estimator_checks import adapt_to_2d, run_estimator_checks
>>> est = adapt_to_2d(EpochScaler(), n_channels=2, repeats=8)
>>> est.fit_transform([[1.0, 2.0], [3.0, 5.0]]).shape   # 2 channels x (2 * 8) samples
(2, 32)
>>> isinstance(est, EpochScaler)
True
"""

import functools
import inspect
import re
import warnings
from collections import Counter

import numpy as np
from scipy.sparse import issparse
from sklearn.utils._available_if import _AvailableIfDescriptor, available_if
from sklearn.utils.estimator_checks import check_estimator
from sklearn.utils.validation import _num_samples

__all__ = [
    "EPOCH_INPUT_EXPECTED_FAILURES",
    "adapt_to_2d",
    "adapt_one_recording",
    "to_epochs",
    "run_estimator_checks",
    "check_counts",
    "format_check_table",
]

#: Methods whose ``X`` argument is converted to epochs (when given as a 2-D array).
_METHODS = (
    "fit",
    "partial_fit",
    "transform",
    "fit_transform",
    "predict",
    "predict_proba",
    "predict_log_proba",
    "decision_function",
    "score",
    "score_samples",
    "fit_predict",
    "fit_resample",
)

_ADAPTED_CLASSES = {}

#: Checks that fail, by design, for every estimator validating its input with
#: :func:`sklearn_sleep.utils.check_epochs` (3-D epochs), with the reason. Pass the
#: entries that apply to :func:`run_estimator_checks`; an entry that passes is reported
#: as ``"xpass"`` so that stale entries are noticed.
EPOCH_INPUT_EXPECTED_FAILURES = {
    "check_n_features_in": (
        "n_features_in_ counts channels (axis 1 of the epochs, as in mne.decoding), not "
        "the columns of scikit-learn's 2-D check data."
    ),
    "check_n_features_in_after_fitting": (
        "n_features_in_ counts channels, and a feature-count change reaches the estimator "
        "as an epoch-length change, refused with a message naming samples, not features."
    ),
    "check_fit2d_predict1d": (
        "1-D input is refused with check_epochs' message ('X must be 3-D ... use "
        "X[:, None, :]'), not scikit-learn's 'Reshape your data' wording."
    ),
    "check_complex_data": (
        "complex input is refused with check_epochs' message ('must be real-valued'), "
        "not scikit-learn's 'Complex data not supported' wording."
    ),
    "check_estimators_empty_data_messages": (
        "empty input is refused with check_epochs' message ('X is empty (shape ...)'), "
        "not scikit-learn's '0 feature(s) ... minimum of 1 is required' wording."
    ),
    "check_dtype_object": (
        "object arrays are refused on purpose: epochs must be a numeric array "
        "(check_epochs), so object arrays holding numbers are not converted."
    ),
}


def to_epochs(X, *, n_channels=1, repeats=64, n_context=0, n_times=None):
    """Map a 2-D matrix ``(n, n_features)`` to epochs ``(n, n_channels, n_features * repeats)``.

    Channel ``c`` of epoch ``i`` is row ``i`` tiled ``repeats`` times along time, then
    circularly shifted by ``c`` samples (``np.roll``). The map is row-wise,
    deterministic and injective, keeps the dtype, and carries NaN, inf and complex values
    into every channel.

    With ``n_context=k >= 1`` each row becomes a context sequence of ``2k + 1`` such
    epochs, shape ``(n, 2k + 1, n_channels, n_features * repeats)`` (what
    ``EpochSegmenter(n_context=k)`` feeds the sequence networks): position ``j`` is
    the row's epoch circularly shifted by ``j * n_channels`` further samples, so the
    positions differ while every one is built from the same row only (row-wise, so
    sample-order and subset invariance are preserved).

    With ``n_times`` given, every epoch has exactly ``n_times`` samples whatever
    ``n_features`` (the row is tiled as often as needed, then truncated; ``repeats``
    is ignored), for estimators that need a fixed epoch length (e.g. YASA's 30-s
    epochs). A feature-count change then no longer changes the epoch length.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        2-D input as generated by scikit-learn's checks.
    n_channels : int, default=1
        Number of channels of the epochs.
    repeats : int, default=64
        Number of times each row is tiled along the time axis.
    n_context : int, default=0
        If >= 1, return context sequences of ``2 * n_context + 1`` epochs (4-D).
    n_times : int or None, default=None
        Fixed number of samples per epoch (overrides ``repeats``).

    Returns
    -------
    X_epochs : ndarray of shape (n_samples, n_channels, n_features * repeats)
        The epochs; shape ``(n_samples, 2 * n_context + 1, n_channels,
        n_features * repeats)`` when ``n_context >= 1``.

    Examples
    --------
    >>> import numpy as np
    >>> to_epochs(np.array([[1, 2, 3]]), n_channels=2, repeats=2).tolist()
    [[[1, 2, 3, 1, 2, 3], [3, 1, 2, 3, 1, 2]]]
    """
    X = np.asarray(X)
    if X.ndim != 2:
        raise ValueError(f"to_epochs expects a 2-D array, got shape {X.shape}.")
    if n_times is None:
        tiled = np.tile(X, (1, repeats))
    else:
        reps = -(-int(n_times) // max(X.shape[1], 1))
        tiled = np.tile(X, (1, reps))[:, : int(n_times)]
    epochs = np.stack([np.roll(tiled, c, axis=1) for c in range(n_channels)], axis=1)
    if not n_context:
        return epochs
    return np.stack([np.roll(epochs, j * n_channels, axis=-1)
                     for j in range(2 * n_context + 1)], axis=1)


def _as_2d_array(X):
    """``np.asarray(X)`` if that is a 2-D array, else None (input left to the estimator)."""
    if X is None or issparse(X) or isinstance(X, (str, bytes)):
        return None
    if hasattr(X, "get_data") and hasattr(X, "info"):  # mne.Epochs: leave to the estimator
        return None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            arr = np.asarray(X)
    except Exception:  # noqa: BLE001 - ragged input: let the estimator refuse it
        return None
    return arr if arr.ndim == 2 else None


def _flatten_output(out):
    if isinstance(out, tuple) and out:
        return (_flatten_output(out[0]),) + out[1:]
    if isinstance(out, np.ndarray) and out.ndim == 3:
        return out.reshape(out.shape[0], -1)
    return out


def _make_method(base, name):
    parent = getattr(base, name)  # the original method (unbound)

    def method(self, X=None, *args, **kwargs):
        X2 = _as_2d_array(X)
        if X2 is None:
            return parent(self, X, *args, **kwargs)
        X3 = to_epochs(X2, n_channels=self._adapter_n_channels, repeats=self._adapter_repeats,
                       n_context=self._adapter_n_context, n_times=self._adapter_n_times)
        return _flatten_output(parent(self, X3, *args, **kwargs))

    # same name, docstring and signature as the original (checks inspect ``fit(X, y)``)
    functools.update_wrapper(method, parent)
    return method


def _make_tags(base):
    def __sklearn_tags__(self):
        tags = base.__sklearn_tags__(self)
        tags.input_tags.two_d_array = True
        tags.input_tags.three_d_array = False
        return tags

    return __sklearn_tags__


def _adapted_class(cls, n_channels, repeats, n_context=0, n_times=None):
    key = (cls, n_channels, repeats, n_context, n_times)
    if key in _ADAPTED_CLASSES:
        return _ADAPTED_CLASSES[key]
    name = f"{cls.__name__}On2D_c{n_channels}_r{repeats}"
    if n_context:
        name += f"_k{n_context}"
    if n_times is not None:
        name += f"_t{n_times}"
    base_name, i = name, 1
    while name in globals():
        i += 1
        name = f"{base_name}_{i}"
    namespace = {
        "__module__": __name__,
        "__qualname__": name,
        "__doc__": (
            f":class:`{cls.__module__}.{cls.__name__}` taking 2-D input through "
            f"``to_epochs(X, n_channels={n_channels}, repeats={repeats}, "
            f"n_context={n_context}, n_times={n_times})`` (estimator checks only)."
        ),
        "_adapter_n_times": n_times,
        "_adapter_n_channels": n_channels,
        "_adapter_repeats": repeats,
        "_adapter_n_context": n_context,
        "__sklearn_tags__": _make_tags(cls),
    }
    new = _adapter_subclass(cls, name, namespace, _make_method)
    _ADAPTED_CLASSES[key] = new
    return new


def _adapter_subclass(cls, name, namespace, make_method, wants=lambda func: True):
    """Subclass of ``cls`` named ``name`` whose methods of ``_METHODS`` (those ``cls`` has
    and ``wants``) are ``make_method(cls, meth)``; registered in this module by name, so
    that its instances pickle."""
    for meth in _METHODS:
        func = getattr(cls, meth, None)
        if not callable(func) or not wants(func):
            continue
        method = make_method(cls, meth)
        raw = inspect.getattr_static(cls, meth)
        if isinstance(raw, _AvailableIfDescriptor):
            # keep ``hasattr(est, meth)`` as the original's (e.g. predict_proba only
            # with probability=True)
            method = available_if(raw.check)(method)
        namespace[meth] = method
    kwargs = {}
    keys = getattr(cls, "_sklearn_auto_wrap_output_keys", None)
    if keys is not None:
        # do not wrap the adapter's methods in a second set_output layer: the parent's
        # (already wrapped) methods produce the containers; keep set_output available.
        kwargs["auto_wrap_output_keys"] = None
    new = type(name, (cls,), namespace, **kwargs)
    if keys is not None:
        new._sklearn_auto_wrap_output_keys = set(keys)
    globals()[name] = new
    return new


def adapt_to_2d(estimator, *, n_channels=1, repeats=64, n_context=0, n_times=None):
    """Return a copy of ``estimator`` that takes 2-D input, for scikit-learn's checks.

    The copy is an instance of a dynamically created subclass of
    ``type(estimator)`` with the same parameters (``estimator.get_params(deep=False)``);
    see the module docstring for what is and is not changed. Use it only to run
    scikit-learn's estimator checks, never in an analysis.

    Parameters
    ----------
    estimator : estimator instance
        Unfitted estimator taking epochs ``(n_epochs, n_channels, n_times)``.
    n_channels : int, default=1
        Channels of the epochs built from each 2-D row.
    repeats : int, default=64
        Each row of ``n_features`` values becomes ``n_features * repeats`` samples; pick
        it so that a single feature still gives epochs long enough for the estimator.
    n_context : int, default=0
        If >= 1, each row becomes a context sequence of ``2 * n_context + 1`` epochs
        (4-D input, for the sequence networks); see :func:`to_epochs`.
    n_times : int or None, default=None
        Fixed epoch length in samples, whatever the number of features (overrides
        ``repeats``); see :func:`to_epochs`.

    Returns
    -------
    adapted : estimator instance
        Instance of the adapted subclass (``isinstance(adapted, type(estimator))``).

    Examples
    --------
    >>> from sklearn_sleep.preprocessing import ChannelPicker
    >>> picker = adapt_to_2d(ChannelPicker([1]), n_channels=2, repeats=2)
    >>> picker.fit_transform([[1.0, 2.0]]).tolist()   # channel 1 = row shifted by 1
    [[2.0, 1.0, 2.0, 1.0]]
    """
    for value, label, low in ((n_channels, "n_channels", 1), (repeats, "repeats", 1),
                              (n_context, "n_context", 0)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
            raise ValueError(f"{label} must be an integer >= {low}, got {value!r}.")
    if n_times is not None and (isinstance(n_times, bool)
                                or not isinstance(n_times, (int, np.integer)) or n_times < 1):
        raise ValueError(f"n_times must be None or an integer >= 1, got {n_times!r}.")
    cls = _adapted_class(type(estimator), int(n_channels), int(repeats), int(n_context),
                         None if n_times is None else int(n_times))
    return cls(**estimator.get_params(deep=False))


_RECORDING_CLASSES = {}


def _default_recordings(X):
    """One recording id (0) per row of ``X``, or None where ``X`` has no row count."""
    try:
        n = _num_samples(X)
    except (TypeError, ValueError):  # let the estimator refuse the input itself
        return None
    return np.zeros(n, dtype=np.int64)


def _make_recording_method(base, name):
    parent = getattr(base, name)
    sig = inspect.signature(parent)

    def method(self, *args, **kwargs):
        bound = sig.bind(self, *args, **kwargs)
        if bound.arguments.get("recordings") is None:
            X = bound.arguments.get("X")
            bound.arguments["recordings"] = None if X is None else _default_recordings(X)
        return parent(*bound.args, **bound.kwargs)

    functools.update_wrapper(method, parent)
    return method


def adapt_one_recording(estimator):
    """Return a copy of ``estimator`` whose ``recordings`` default to one recording.

    For scikit-learn's checks of estimators that require ``recordings=`` metadata
    (:class:`~sklearn_sleep.features.ContextFeatures`,
    :class:`~sklearn_sleep.smoothing.HMMSmoother`): the copy is an instance of a
    dynamically created subclass of ``type(estimator)`` with the same parameters whose
    methods taking ``recordings`` (``fit``, ``transform``, ``fit_transform``,
    ``predict``, ``predict_proba``, ...) use ``recordings=np.zeros(n)`` when none is
    given, ``n`` being :func:`sklearn.utils.validation._num_samples` of ``X`` (so the
    checks' list and ``_NotAnArray`` inputs are counted as scikit-learn counts them;
    input without a row count is passed on with ``recordings=None`` for the estimator
    to refuse). Everything else (parameters, validation, fitted attributes, messages)
    is the estimator's own. Use it only to run scikit-learn's estimator checks: every
    check's data then form one recording, in row order.

    Parameters
    ----------
    estimator : estimator instance
        Unfitted estimator whose methods take ``recordings``.

    Returns
    -------
    adapted : estimator instance
        Instance of the adapted subclass (``isinstance(adapted, type(estimator))``).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_sleep.features import ContextFeatures
    >>> ctx = adapt_one_recording(ContextFeatures(centered_window=3, past_window=2))
    >>> ctx.fit_transform(np.arange(8.0).reshape(4, 2)).shape[0]
    4
    """
    cls = type(estimator)
    new = _RECORDING_CLASSES.get(cls)
    if new is None:
        name = f"{cls.__name__}OneRecording"
        namespace = {
            "__module__": __name__,
            "__qualname__": name,
            "__doc__": (
                f":class:`{cls.__module__}.{cls.__name__}` with ``recordings`` defaulting to "
                "one recording of all rows (estimator checks only)."
            ),
        }
        new = _adapter_subclass(
            cls, name, namespace, _make_recording_method,
            wants=lambda func: "recordings" in inspect.signature(func).parameters)
        _RECORDING_CLASSES[cls] = new
    return new(**estimator.get_params(deep=False))


def _one_line(exc, limit=300):
    if exc is None:
        return ""
    text = re.sub(r"\s+", " ", f"{type(exc).__name__}: {exc}").strip()
    return text if len(text) <= limit else text[: limit - 3] + "..."


def run_estimator_checks(estimator, *, expected_failed_checks=None, legacy=True):
    """Run every scikit-learn estimator check on ``estimator`` and report each outcome.

    Thin layer over :func:`sklearn.utils.estimator_checks.check_estimator` with
    ``on_fail=None, on_skip=None`` (nothing raised, every check run).

    Parameters
    ----------
    estimator : estimator instance
        Typically the output of :func:`adapt_to_2d`.
    expected_failed_checks : dict of str -> str or None, default=None
        ``{check_name: reason}`` of the checks known to fail, each with the reason.
    legacy : bool, default=True
        Include scikit-learn's legacy checks (passed to ``check_estimator``).

    Returns
    -------
    results : list of dict
        One dict per check with keys ``check`` (name), ``status`` (``"passed"``,
        ``"failed"``, ``"xfail"`` = expected failure that failed, ``"xpass"`` = expected
        failure that passed, i.e. a stale entry, ``"skipped"``), ``reason`` (the
        expected-failure reason for xfail/xpass) and ``message`` (the exception, one
        line, for failed/xfail/skipped).

    Examples
    --------
    >>> from sklearn_sleep.preprocessing import EpochScaler
    >>> res = run_estimator_checks(adapt_to_2d(EpochScaler()),
    ...                            expected_failed_checks={"check_n_features_in": "3-D"})
    >>> check_counts(res)["run"] > 30
    True
    """
    expected = dict(expected_failed_checks or {})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        raw = check_estimator(
            estimator,
            legacy=legacy,
            expected_failed_checks=expected,
            on_skip=None,
            on_fail=None,
        )
    results = []
    for r in raw:
        status = r["status"]
        if status == "passed" and r["expected_to_fail"]:
            status = "xpass"
        results.append(
            {
                "check": r["check_name"],
                "status": status,
                "reason": r["expected_to_fail_reason"] if r["expected_to_fail"] else "",
                "message": _one_line(r["exception"]),
            }
        )
    return results


def check_counts(results):
    """Count check outcomes of :func:`run_estimator_checks`.

    Parameters
    ----------
    results : list of dict
        Output of :func:`run_estimator_checks`.

    Returns
    -------
    counts : dict of str -> int
        ``passed``, ``failed``, ``xfail``, ``xpass``, ``skipped``, ``run`` (everything
        but skipped) and ``total``.
    """
    c = Counter(r["status"] for r in results)
    counts = {k: int(c.get(k, 0)) for k in ("passed", "failed", "xfail", "xpass", "skipped")}
    counts["run"] = len(results) - counts["skipped"]
    counts["total"] = len(results)
    return counts


def format_check_table(rows):
    """Format ``{label: counts}`` (from :func:`check_counts`) as a Markdown table.

    Parameters
    ----------
    rows : dict of str -> dict
        Estimator label -> counts.

    Returns
    -------
    table : str
        Markdown table with one line per estimator.
    """
    cols = ("run", "passed", "xfail", "failed", "xpass", "skipped")
    lines = ["| estimator | " + " | ".join(cols) + " |",
             "|---|" + "---:|" * len(cols)]
    for label, counts in rows.items():
        lines.append(f"| `{label}` | " + " | ".join(str(counts[k]) for k in cols) + " |")
    return "\n".join(lines)
