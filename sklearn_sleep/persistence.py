"""Saving and loading trained sleep stagers together with what they expect as input.

A model file is useless, or worse silently wrong, when it is applied to a recording with
other channels, another sampling rate or another epoch length than it was trained on
(yasa#36/#37 are examples of feature mismatches after version changes). This module
wraps any scikit-learn estimator (typically a :class:`~sklearn.pipeline.Pipeline` of
preprocessing transformers and a classifier, or a network classifier) in a
:class:`SleepStager` that records the input contract, checks it at prediction time and
saves itself with the library versions it was trained with.

Model files that cannot run code
--------------------------------

``stager.save("model.zip")`` writes, atomically, a zip archive holding

* ``sklearn_sleep_model.json``: format name and version, the metadata (channel names,
  sampling rate, epoch length, samples per epoch, stage labels, estimator type and
  parameters as text, versions of sklearn_sleep, scikit-learn, torch, skorch, numpy and
  Python) and the estimator's description;
* ``estimator.skops`` for scikit-learn estimators (Pipelines of the library's
  transformers and scikit-learn classifiers), written with :mod:`skops` (scikit-learn's
  recommended secure format); or ``weights.safetensors`` for a network of
  :mod:`sklearn_sleep.models`, whose class and ``get_params()`` are in the JSON.

``load_model("model.zip")`` never unpickles: skops builds only types on a fixed list
(classes of scikit-learn and sklearn_sleep restored by a plain attribute update - no
torch module, no skorch network -, NumPy scalar types and ufuncs), networks
are rebuilt only from the library's own classes, and weights are plain tensors. A
different *major* version of sklearn_sleep is refused, a different minor version warns.

Pickle/joblib files (``save(path, format="pickle")``, files of sklearn_sleep 0.1 and
plain ``joblib.dump`` of an estimator) can run arbitrary code when loaded and are
refused unless ``load_model(path, trusted=True)``: only for files from sources you
trust.
"""

import json
import numbers
import platform
import sys
import warnings
import zipfile
import zlib
from pathlib import Path

import joblib
import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.exceptions import NotFittedError
from sklearn.utils.validation import check_is_fitted

from ._atomic import atomic_write, check_outputs
from ._version import __version__
from .utils._validation import check_epochs, check_labels_match, check_sfreq

__all__ = [
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "IncompatibleModelError",
    "PICKLE_FORMAT_VERSION",
    "ModelFileError",
    "SleepStager",
    "load_model",
    "read_model_metadata",
]

#: Value of the ``"format"`` key of a saved model payload.
FORMAT_NAME = "sklearn_sleep.SleepStager"
#: Version of the safe (zip + JSON + skops/safetensors) layout; bumped when it changes.
FORMAT_VERSION = 2
#: Version of the legacy pickle/joblib payload (``save(..., format="pickle")``).
PICKLE_FORMAT_VERSION = 1
_JSON_MEMBER = "sklearn_sleep_model.json"


class ModelFileError(ValueError):
    """A model file cannot be read (truncated, corrupt, or not a model file)."""


class IncompatibleModelError(ValueError):
    """A model file was written by an incompatible version of sklearn_sleep."""


def _versions():
    versions = {
        "sklearn_sleep": __version__,
        "python": platform.python_version(),
        "numpy": np.__version__,
    }
    import sklearn

    versions["scikit-learn"] = sklearn.__version__
    for name in ("torch", "skorch", "mne"):
        module = sys.modules.get(name)
        if module is None:
            try:
                module = __import__(name)
            except ImportError:  # pragma: no cover - optional at load time
                continue
        versions[name] = getattr(module, "__version__", "unknown")
    return versions


def _major_minor(version):
    parts = str(version).split(".")
    try:
        return int(parts[0]), int(parts[1]) if len(parts) > 1 else 0
    except ValueError:
        return None


class SleepStager(ClassifierMixin, BaseEstimator):
    """A sleep-staging estimator that knows and checks the input it was trained on.

    ``SleepStager`` wraps a classifier (usually a :class:`~sklearn.pipeline.Pipeline`
    of preprocessing steps and a classifier, or a
    :class:`~sklearn_sleep.models.SleepNetClassifier`) and records the channel names,
    sampling rate and epoch length of the training epochs. ``predict`` and
    ``predict_proba`` refuse input that does not match, with a message saying what
    differs and what to do, instead of returning silently wrong stages.

    Parameters
    ----------
    estimator : estimator object
        The classifier to fit on epochs ``(n_epochs, n_channels, n_times)``; it is
        cloned at ``fit``.
    ch_names : sequence of str
        Channel names of the epochs, in the order of the second axis of ``X``.
    sfreq : float
        Sampling rate (Hz) of the epochs.
    epoch_seconds : float
        Epoch length in seconds; ``n_times`` must equal ``round(sfreq * epoch_seconds)``.

    Attributes
    ----------
    estimator_ : estimator object
        The fitted clone of ``estimator``.
    classes_ : ndarray of shape (n_classes,)
        Stage labels, from ``estimator_.classes_``.
    ch_names_ : list of str
        Validated channel names.
    sfreq_ : float
        Validated sampling rate.
    epoch_seconds_ : float
        Validated epoch length.
    n_times_ : int
        Samples per epoch.
    metadata_ : dict
        JSON-able description of the model and its training environment (also written
        by :meth:`save`).

    See Also
    --------
    load_model : load a model saved with :meth:`save`.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import FunctionTransformer
    >>> from sklearn.linear_model import LogisticRegression
    >>> X = np.random.default_rng(0).normal(size=(20, 2, 100)).astype("float32")
    >>> y = np.array(["W", "N2"] * 10)
    >>> pipe = make_pipeline(FunctionTransformer(lambda X: X.var(axis=2)), LogisticRegression())
    >>> stager = SleepStager(pipe, ch_names=["EEG", "EMG"], sfreq=100, epoch_seconds=1)
    >>> stager.fit(X, y).predict(X).shape
    (20,)
    """

    def __init__(self, estimator, *, ch_names, sfreq, epoch_seconds):
        self.estimator = estimator
        self.ch_names = ch_names
        self.sfreq = sfreq
        self.epoch_seconds = epoch_seconds

    # ---------------------------------------------------------------- checks
    def _validate_settings(self):
        if isinstance(self.ch_names, str) or self.ch_names is None:
            raise ValueError(
                f"ch_names must be a sequence of channel names, got {self.ch_names!r}."
            )
        ch_names = [str(c) for c in self.ch_names]
        if not ch_names:
            raise ValueError("ch_names is empty; give the name of every channel of X.")
        dupes = sorted({c for c in ch_names if ch_names.count(c) > 1})
        if dupes:
            raise ValueError(f"ch_names contains duplicate name(s) {dupes}.")
        sfreq = check_sfreq(self.sfreq)
        epoch_seconds = check_sfreq(self.epoch_seconds, name="epoch_seconds")
        n_times = sfreq * epoch_seconds
        if not np.isclose(n_times, round(n_times)):
            raise ValueError(
                f"sfreq * epoch_seconds = {sfreq:g} * {epoch_seconds:g} = {n_times:g} is not a "
                "whole number of samples."
            )
        return ch_names, sfreq, epoch_seconds, int(round(n_times))

    def _check_input(self, X, ch_names, sfreq, *, fitted):
        if fitted:
            expected_names, expected_sfreq = self.ch_names_, self.sfreq_
            expected_n_times = self.n_times_
        else:
            expected_names, expected_sfreq, _, expected_n_times = self._validate_settings()
        if hasattr(X, "info") and hasattr(X, "get_data"):  # mne.Epochs
            ch_names = X.info["ch_names"] if ch_names is None else ch_names
            sfreq = X.info["sfreq"] if sfreq is None else sfreq
        X = check_epochs(X, name="X", ndim=3)
        if sfreq is not None:
            sfreq = check_sfreq(sfreq)
            if not np.isclose(sfreq, expected_sfreq):
                raise ValueError(
                    f"The model was trained on data sampled at {expected_sfreq:g} Hz but the "
                    f"input is sampled at {sfreq:g} Hz. Resample it first, e.g. with "
                    f"mne's raw.resample({expected_sfreq:g}) or "
                    f"Resampler(sfreq_in={sfreq:g}, sfreq_out={expected_sfreq:g})."
                )
        if ch_names is not None:
            ch_names = [str(c) for c in ch_names]
            if len(ch_names) != X.shape[1]:
                raise ValueError(
                    f"ch_names has {len(ch_names)} names but X has {X.shape[1]} channels."
                )
            if ch_names != expected_names:
                missing = [c for c in expected_names if c not in ch_names]
                extra = [c for c in ch_names if c not in expected_names]
                if not missing and not extra:
                    # same channels in another order: reorder explicitly
                    X = X[:, [ch_names.index(c) for c in expected_names], :]
                else:
                    raise ValueError(
                        f"Channel mismatch: the model needs {expected_names}; missing from "
                        f"the input: {missing}; not used by the model: {extra}. Pick "
                        "exactly the model's channels (by name) before predicting."
                    )
        elif X.shape[1] != len(expected_names):
            raise ValueError(
                f"The model expects {len(expected_names)} channels {expected_names}, got "
                f"{X.shape[1]}."
            )
        if X.shape[2] != expected_n_times:
            raise ValueError(
                f"The model expects epochs of {expected_n_times} samples ("
                f"{expected_n_times / expected_sfreq:g} s at {expected_sfreq:g} Hz), got "
                f"{X.shape[2]} samples per epoch. Use the same epoch length and sampling "
                "rate as at training time."
            )
        return X

    # ----------------------------------------------------------------- API
    def fit(self, X, y, **fit_params):
        """Validate the settings and the epochs, then fit a clone of ``estimator``.

        Parameters
        ----------
        X : array-like of shape (n_epochs, n_channels, n_times) or mne.Epochs
            Training epochs; channels in the order of ``ch_names``.
        y : array-like of shape (n_epochs,)
            Stage labels.
        **fit_params
            Passed to ``estimator.fit`` (e.g. ``groups=`` for a
            :class:`~sklearn_sleep.models.SleepNetClassifier`, or
            ``<step>__<param>=`` for a Pipeline).

        Returns
        -------
        self : SleepStager
        """
        ch_names, sfreq, epoch_seconds, n_times = self._validate_settings()
        X = self._check_input(X, None, None, fitted=False)
        y, _ = check_labels_match(X, y)
        if y is None:
            raise ValueError("y is required: one stage label per epoch.")
        self.ch_names_ = ch_names
        self.sfreq_ = sfreq
        self.epoch_seconds_ = epoch_seconds
        self.n_times_ = n_times
        self.estimator_ = clone(self.estimator).fit(X, y, **fit_params)
        if not hasattr(self.estimator_, "classes_"):
            raise ValueError(
                f"{type(self.estimator_).__name__} has no classes_ after fit; SleepStager "
                "needs a classifier."
            )
        self.classes_ = np.asarray(self.estimator_.classes_)
        self.n_features_in_ = len(ch_names)
        self.metadata_ = self._metadata()
        return self

    def _metadata(self):
        return {
            "ch_names": list(self.ch_names_),
            "sfreq": self.sfreq_,
            "epoch_seconds": self.epoch_seconds_,
            "n_times": self.n_times_,
            "classes": [c.item() if hasattr(c, "item") else c for c in self.classes_],
            "estimator": repr(self.estimator_),
            "estimator_class": f"{type(self.estimator_).__module__}.{type(self.estimator_).__qualname__}",
            "versions": _versions(),
        }

    def predict_proba(self, X, *, ch_names=None, sfreq=None, recordings=None):
        """Per-epoch stage probabilities (columns in ``classes_`` order).

        Parameters
        ----------
        X : array-like of shape (n_epochs, n_channels, n_times) or mne.Epochs
            Epochs to stage.
        ch_names : sequence of str or None, default=None
            Channel names of ``X`` (taken from ``X.info`` for mne.Epochs). When given,
            they must be the model's channels (any order; reordered by name). When
            None, only the channel count is checked.
        sfreq : float or None, default=None
            Sampling rate of ``X`` (taken from ``X.info`` for mne.Epochs); must equal
            the model's. When None, only the number of samples per epoch is checked.
        recordings : array-like of shape (n_epochs,) or None, default=None
            Recording id of each epoch, for recording-aware estimators
            (:class:`~sklearn_sleep.features.ContextFeatures`,
            :class:`~sklearn_sleep.smoothing.HMMSmoother`, which read a night in time
            order). None: ``X`` is ONE recording, its epochs in time order (what
            ``sklearn-sleep stage`` passes). Ignored by estimators that do not use it.

        Returns
        -------
        proba : ndarray of shape (n_epochs, n_classes)
        """
        check_is_fitted(self)
        X = self._check_input(X, ch_names, sfreq, fitted=True)
        if not hasattr(self.estimator_, "predict_proba"):
            raise AttributeError(f"{type(self.estimator_).__name__} has no predict_proba.")
        return self._call_estimator("predict_proba", X, recordings)

    def predict(self, X, *, ch_names=None, sfreq=None, recordings=None):
        """Stage of each epoch (see :meth:`predict_proba` for the input checks).

        Returns
        -------
        y_pred : ndarray of shape (n_epochs,)
        """
        check_is_fitted(self)
        X = self._check_input(X, ch_names, sfreq, fitted=True)
        return self._call_estimator("predict", X, recordings)

    def _call_estimator(self, method, X, recordings):
        """``estimator_.<method>(X)``, with the recording ids where the estimator uses them.

        A recording-aware estimator (one that consumes ``recordings`` in ``method``,
        directly or through scikit-learn's metadata routing in a Pipeline) gets
        ``recordings`` (one recording for all of ``X`` when None); any other estimator
        is called with ``X`` alone, and ``recordings``, if given, must still match ``X``.
        """
        from sklearn import config_context
        from sklearn.utils.metadata_routing import get_routing_for_object

        n = len(X)
        if recordings is not None:
            recordings = np.asarray(recordings)
            if recordings.shape != (n,):
                raise ValueError(
                    f"recordings must hold one id per epoch: got shape {recordings.shape} "
                    f"for {n} epochs."
                )
        with config_context(enable_metadata_routing=True):
            try:
                uses = "recordings" in get_routing_for_object(self.estimator_).consumes(
                    method, ["recordings"])
            except Exception:  # an estimator without metadata-routing support
                uses = False
            if not uses:
                return getattr(self.estimator_, method)(X)
            if recordings is None:
                recordings = np.zeros(n, dtype=int)
            return getattr(self.estimator_, method)(X, recordings=recordings)

    def score(self, X, y, sample_weight=None):
        """Accuracy of :meth:`predict` on ``(X, y)``."""
        from sklearn.metrics import accuracy_score

        return accuracy_score(np.asarray(y), self.predict(X), sample_weight=sample_weight)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        tags.input_tags.two_d_array = False
        return tags

    # ----------------------------------------------------------- persistence
    def save(self, path, *, overwrite=False, format="safe", compress=3):
        """Write the fitted model and its metadata to ``path`` (atomic).

        Parameters
        ----------
        path : str or path-like
            Destination (conventionally ``*.zip`` for the safe format, ``*.joblib`` for
            ``format="pickle"``). Written through a temporary file in the same folder,
            so an interrupted save never leaves a partial file.
        overwrite : bool, default=False
            Replace an existing file (MNE's convention: refused unless asked for).
        format : {"safe", "pickle"}, default="safe"
            ``"safe"``: a zip archive holding a JSON description (channels, sampling
            rate, epoch length, labels, versions, estimator type) and the estimator,
            stored with :mod:`skops` (scikit-learn parts) or as ``safetensors``
            weights plus JSON parameters (a network of :mod:`sklearn_sleep.models`).
            Loading it never unpickles, so it cannot run code. Estimators that this
            format cannot describe (custom functions or network modules defined
            outside the library) raise a ``ValueError`` saying so. ``"pickle"``: the
            joblib file of sklearn_sleep <= 0.1 (anything picklable; loading it
            needs ``load_model(path, trusted=True)``).
        compress : int, default=3
            Compression level, 0-9 (zip deflate or joblib zlib).

        Returns
        -------
        path : pathlib.Path

        Raises
        ------
        FileExistsError
            If ``path`` exists and ``overwrite`` is False.
        ValueError
            If ``format="safe"`` cannot store the estimator (see above).
        """
        check_is_fitted(self)
        if format not in ("safe", "pickle"):
            raise ValueError(f"format must be 'safe' or 'pickle', got {format!r}.")
        if not (isinstance(compress, numbers.Integral) and 0 <= compress <= 9):
            raise ValueError(f"compress must be an integer 0-9, got {compress!r}.")
        path = Path(path)
        check_outputs([("model file", path)], overwrite=overwrite)
        self.metadata_ = self._metadata()
        json.dumps(self.metadata_)  # the metadata must stay JSON-able
        if format == "pickle":
            payload = {
                "format": FORMAT_NAME,
                "format_version": PICKLE_FORMAT_VERSION,
                "metadata": self.metadata_,
                "model": self,
            }
            with atomic_write(path, "wb") as f:
                joblib.dump(payload, f, compress=compress)
            return path
        from ._safe_model import encode_estimator

        description, members = encode_estimator(self.estimator_)
        document = {
            "format": FORMAT_NAME,
            "format_version": FORMAT_VERSION,
            "metadata": self.metadata_,
            "stager": {"ch_names": list(self.ch_names_), "sfreq": self.sfreq_,
                       "epoch_seconds": self.epoch_seconds_},
            "estimator": description,
        }
        with atomic_write(path, "wb") as f:
            with zipfile.ZipFile(f, "w", compression=zipfile.ZIP_DEFLATED,
                                 compresslevel=compress) as archive:
                archive.writestr(_JSON_MEMBER, json.dumps(document, indent=1))
                for name, data in members.items():
                    archive.writestr(name, data)
        return path


def _check_versions(metadata, path):
    saved = (metadata.get("versions") or {}).get("sklearn_sleep")
    if saved is None:
        warnings.warn(f"{str(path)!r} does not record the sklearn_sleep version it was saved with.",
                      UserWarning, stacklevel=3)
        return
    ours, theirs = _major_minor(__version__), _major_minor(saved)
    if ours is None or theirs is None:
        return
    if ours[0] != theirs[0]:
        raise IncompatibleModelError(
            f"{str(path)!r} was saved with sklearn_sleep {saved}, which is not compatible with "
            f"the installed {__version__} (different major version). Retrain the model or "
            f"install sklearn_sleep {theirs[0]}.x."
        )
    if ours[1] != theirs[1]:
        warnings.warn(
            f"{str(path)!r} was saved with sklearn_sleep {saved}; installed is {__version__}. "
            "Predictions may differ slightly; retrain if in doubt.",
            UserWarning,
            stacklevel=3,
        )


def _is_zip(path):
    with open(path, "rb") as f:
        return f.read(4) == b"PK\x03\x04"


_MAX_JSON_BYTES = 16 * 2**20


def _read_safe(path):
    """Open a safe-format model file: returns (document, read_member) without running code."""
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise ModelFileError(
            f"Cannot read model file {str(path)!r}: it is truncated, corrupt or not a model "
            f"file ({type(exc).__name__}: {exc})."
        ) from exc
    with archive:
        names = archive.namelist()
        if _JSON_MEMBER not in names:
            raise ModelFileError(
                f"{str(path)!r} is a zip archive but not a sklearn_sleep model file (no "
                f"{_JSON_MEMBER!r} in it)."
            )
        members = {}
        try:
            info = archive.getinfo(_JSON_MEMBER)
            if info.file_size > _MAX_JSON_BYTES:
                raise ModelFileError(f"{str(path)!r}: model description is implausibly large.")
            document = json.loads(archive.read(_JSON_MEMBER).decode("utf-8"))
            for name in names:
                if name != _JSON_MEMBER:
                    members[name] = archive.read(name)
        except ModelFileError:
            raise
        except (zipfile.BadZipFile, zlib.error, OSError, EOFError, ValueError, KeyError,
                UnicodeDecodeError) as exc:
            raise ModelFileError(
                f"Cannot read model file {str(path)!r}: it is truncated or corrupt "
                f"({type(exc).__name__}: {exc})."
            ) from exc
    if not isinstance(document, dict) or document.get("format") != FORMAT_NAME:
        raise ModelFileError(f"{str(path)!r} is not a sklearn_sleep model file.")

    def read_member(name):
        if name not in members:
            raise ModelFileError(f"{str(path)!r} lacks its part {name!r} (corrupt file).")
        return members[name]

    return document, read_member


def _looks_like_pickle(path):
    """Pickle (protocol 2+ or 0/1 opcodes) or a joblib file (zlib/gzip/bz2/xz/lzma)."""
    with open(path, "rb") as f:
        head = f.read(6)
    return (head[:1] in (b"\x80", b"(", b"]", b"}", b"c", b"x")
            or head[:2] == b"\x1f\x8b" or head[:3] == b"BZh"
            or head[:6] == b"\xfd7zXZ\x00")  # "]" (0x5d) also starts lzma-alone


def _refuse_pickle(path):
    size = path.stat().st_size
    if size == 0:
        raise ModelFileError(f"Model file {str(path)!r} is empty (0 bytes).")
    if not _looks_like_pickle(path):
        raise ModelFileError(
            f"{str(path)!r} ({size} bytes) is not a model file: neither the sklearn_sleep "
            "zip format nor a pickle/joblib file (truncated, corrupt or another kind of file)."
        )
    raise ModelFileError(
        f"{str(path)!r} is a pickle/joblib model file (the format of sklearn_sleep 0.1 and of "
        "plain joblib.dump). Loading a pickle can run arbitrary code, so it is refused by "
        "default. If you trust where this file comes from, load it with "
        "load_model(path, trusted=True) (command line: --trusted-model) and save it again "
        "with stager.save(new_path) in the safe format."
    )


def read_model_metadata(path, *, trusted=False):
    """Return the metadata dict of a model saved with :meth:`SleepStager.save`.

    For the safe format only the JSON description is read (no code can run). A
    pickle/joblib file is unpickled whole, which needs ``trusted=True``. Unlike
    :func:`load_model`, neither the format version nor the sklearn_sleep version
    recorded in the file is checked.

    Parameters
    ----------
    path : str or path-like
        Model file written by :meth:`SleepStager.save`.
    trusted : bool, default=False
        Allow unpickling a pickle/joblib model file. Only for files from sources you
        trust.

    Returns
    -------
    metadata : dict
        The JSON-able metadata stored at save time: ``ch_names``, ``sfreq``,
        ``epoch_seconds``, ``n_times`` (samples per epoch), ``classes``, ``estimator``
        (its repr), ``estimator_class`` (module-qualified class name) and ``versions``
        (sklearn_sleep, Python, NumPy, scikit-learn and, when installed, torch, skorch
        and mne).

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ModelFileError
        (a ``ValueError``) naming the file when it cannot be read (truncated, corrupt,
        not a model file), when it is a pickle and ``trusted`` is False, or when it is
        not a SleepStager model file (e.g. a plain ``joblib.dump`` of an estimator,
        which has no metadata).
    """
    path = _check_model_path(path)
    if _is_zip(path):
        document, _ = _read_safe(path)
        return document.get("metadata") or {}
    if not trusted:
        _refuse_pickle(path)
    payload = _read_payload(path)
    if not isinstance(payload, dict) or payload.get("format") != FORMAT_NAME:
        raise ModelFileError(f"{str(path)!r} is not a SleepStager model file (no metadata).")
    return payload["metadata"]


def _check_model_path(path):
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"Model file not found: {str(path)!r}.")
    if path.is_dir():
        raise IsADirectoryError(f"Model file {str(path)!r} is a folder.")
    return path


def _read_payload(path):
    path = Path(path)
    try:
        return joblib.load(path)
    except (ModuleNotFoundError, AttributeError) as exc:
        raise ModelFileError(
            f"Cannot load model file {str(path)!r}: it refers to code that is not available "
            f"here ({type(exc).__name__}: {exc}). Was it saved with other library versions "
            "or with a custom class that is not importable?"
        ) from exc
    except MemoryError as exc:
        raise ModelFileError(f"Cannot load model file {str(path)!r}: out of memory.") from exc
    except Exception as exc:  # noqa: BLE001 - a (trusted) pickle can raise anything
        size = path.stat().st_size
        raise ModelFileError(
            f"Cannot read model file {str(path)!r} ({size} bytes): it is truncated, corrupt "
            f"or not a joblib model file ({type(exc).__name__}: {exc})."
        ) from exc


def _check_fitted_stager(model, path):
    try:
        check_is_fitted(model)
        check_is_fitted(model.estimator_)
    except (NotFittedError, AttributeError) as exc:
        raise ModelFileError(
            f"{str(path)!r} holds an unfitted model ({exc}); train it before saving."
        ) from exc
    return model


def load_model(path, *, trusted=False):
    """Load a model written by :meth:`SleepStager.save`.

    The default (safe) format is a zip archive with a JSON description and the
    estimator stored with :mod:`skops` (scikit-learn parts, checked against a fixed
    list of trusted scikit-learn, sklearn_sleep and NumPy types) or as ``safetensors``
    weights (a network of :mod:`sklearn_sleep.models`, rebuilt from its JSON
    parameters). **Loading it never unpickles, so a model file from an untrusted source
    cannot run code**: a file referring to anything else is refused with a
    :class:`ModelFileError`.

    Pickle/joblib files (``save(..., format="pickle")``, sklearn_sleep 0.1 files and
    plain ``joblib.dump`` of an estimator) can run arbitrary code when loaded; they are
    refused unless ``trusted=True``.

    Parameters
    ----------
    path : str or path-like
        Model file.
    trusted : bool, default=False
        Allow unpickling a pickle/joblib file. Only for files from sources you trust.

    Returns
    -------
    model : SleepStager or estimator
        The :class:`SleepStager`; for a trusted plain ``joblib.dump`` of an estimator,
        that estimator (with a warning: there is no metadata to check input against).

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ModelFileError
        (a ``ValueError``) naming the file when it is truncated, corrupt, not a model
        file, of an unknown newer format version, refers to untrusted code, holds an
        unfitted model, or is a pickle and ``trusted`` is False.
    IncompatibleModelError
        (a ``ValueError``) when the file was saved by another major version of
        sklearn_sleep. A different minor version only warns.

    Notes
    -----
    Network classifiers trained on a GPU load on machines without CUDA (the weights
    are read onto the CPU).
    """
    path = _check_model_path(path)
    if _is_zip(path):
        return _load_safe(path)
    if not trusted:
        _refuse_pickle(path)
    payload = _read_payload(path)
    if isinstance(payload, dict) and payload.get("format") == FORMAT_NAME:
        version = payload.get("format_version")
        if not isinstance(version, int) or version > PICKLE_FORMAT_VERSION:
            raise ModelFileError(
                f"{str(path)!r} uses model format version {version!r}; this sklearn_sleep "
                f"({__version__}) reads up to version {PICKLE_FORMAT_VERSION} for pickle "
                "files. Upgrade sklearn_sleep."
            )
        _check_versions(payload.get("metadata") or {}, path)
        model = payload.get("model")
        if not isinstance(model, SleepStager):
            raise ModelFileError(f"{str(path)!r} has no SleepStager under 'model'.")
        return _check_fitted_stager(model, path)
    if hasattr(payload, "predict"):
        try:
            check_is_fitted(payload)
        except (NotFittedError, TypeError) as exc:
            raise ModelFileError(f"{str(path)!r} holds an unfitted "
                                 f"{type(payload).__name__}.") from exc
        warnings.warn(
            f"{str(path)!r} holds a plain {type(payload).__name__} without metadata; the "
            "channels, sampling rate and epoch length of the input cannot be checked.",
            UserWarning,
            stacklevel=2,
        )
        return payload
    raise ModelFileError(
        f"{str(path)!r} does not contain a model (found a {type(payload).__name__})."
    )


def _load_safe(path):
    from ._safe_model import decode_estimator

    document, read_member = _read_safe(path)
    version = document.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION or version < 2:
        raise ModelFileError(
            f"{str(path)!r} uses model format version {version!r}; this sklearn_sleep "
            f"({__version__}) reads safe model files of version 2 to {FORMAT_VERSION}. "
            "Upgrade sklearn_sleep."
        )
    metadata = document.get("metadata")
    settings = document.get("stager")
    if not isinstance(metadata, dict) or not isinstance(settings, dict):
        raise ModelFileError(f"{str(path)!r}: model description lacks metadata/settings.")
    _check_versions(metadata, path)
    try:
        estimator = decode_estimator(document.get("estimator"), read_member, path=str(path))
        stager = SleepStager(clone(estimator), ch_names=settings.get("ch_names"),
                             sfreq=settings.get("sfreq"),
                             epoch_seconds=settings.get("epoch_seconds"))
        ch_names, sfreq, epoch_seconds, n_times = stager._validate_settings()
    except ModelFileError:
        raise
    except MemoryError as exc:
        raise ModelFileError(f"Cannot load model file {str(path)!r}: out of memory.") from exc
    except Exception as exc:  # noqa: BLE001 - skops/torch raise many types on bad files
        raise ModelFileError(
            f"Cannot load model file {str(path)!r}: {type(exc).__name__}: "
            f"{str(exc).strip().splitlines()[0] if str(exc).strip() else ''}"
        ) from exc
    try:
        check_is_fitted(estimator)
    except (NotFittedError, TypeError) as exc:
        raise ModelFileError(f"{str(path)!r} holds an unfitted "
                             f"{type(estimator).__name__}.") from exc
    if not hasattr(estimator, "classes_"):
        raise ModelFileError(f"{str(path)!r}: the stored estimator is not a classifier.")
    stager.ch_names_, stager.sfreq_ = ch_names, sfreq
    stager.epoch_seconds_, stager.n_times_ = epoch_seconds, n_times
    stager.estimator_ = estimator
    stager.classes_ = np.asarray(estimator.classes_)
    stager.n_features_in_ = len(ch_names)
    stager.metadata_ = metadata
    return stager
