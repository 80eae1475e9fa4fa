"""Saving and loading trained sleep stagers together with what they expect as input.

A model file is useless, or worse silently wrong, when it is applied to a recording with
other channels, another sampling rate or another epoch length than it was trained on
(yasa#36/#37 are examples of feature mismatches after version changes). This module
wraps any scikit-learn estimator (typically a :class:`~sklearn.pipeline.Pipeline` of
preprocessing transformers and a classifier, or a network classifier) in a
:class:`SleepStager` that records the input contract, checks it at prediction time and
saves itself with the library versions it was trained with.

Two ways to persist a model
---------------------------

1. ``stager.save("model.joblib")`` and ``load_model("model.joblib")``: the file is a
   :mod:`joblib` dump of a dict ``{"format": "sklearn_sleep.SleepStager",
   "format_version": 1, "metadata": {...}, "model": stager}``. The metadata (JSON-able:
   channel names, sampling rate, epoch length, samples per epoch, stage labels, the
   estimator's parameters as text and the versions of sklearn_sleep, scikit-learn,
   torch, skorch, numpy and Python) is checked on load: a different *major*
   version of sklearn_sleep is refused, a different minor version gives a warning.
   The file is written atomically. ``joblib.load`` on it also works and returns the dict.
2. Plain ``joblib.dump(pipeline, "pipe.joblib")`` of any fitted estimator: this is
   standard scikit-learn persistence and works for every estimator of the library
   (network classifiers trained on CUDA unpickle on CPU-only machines). Nothing about
   the input is recorded, so the caller has to feed the same channels, sampling rate
   and epoch length. :func:`load_model` also reads such files (with a warning that no
   metadata is available).

As with any pickle, only load files from sources you trust.
"""

import json
import pickle
import platform
import sys
import warnings
import zlib
from pathlib import Path

import joblib
import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.utils.validation import check_is_fitted

from ._atomic import atomic_write
from ._version import __version__
from .utils._validation import check_epochs, check_labels_match, check_sfreq

__all__ = [
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "IncompatibleModelError",
    "ModelFileError",
    "SleepStager",
    "load_model",
    "read_model_metadata",
]

#: Value of the ``"format"`` key of a saved model payload.
FORMAT_NAME = "sklearn_sleep.SleepStager"
#: Version of the payload layout; bumped when the layout changes.
FORMAT_VERSION = 1


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

    def predict_proba(self, X, *, ch_names=None, sfreq=None):
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

        Returns
        -------
        proba : ndarray of shape (n_epochs, n_classes)
        """
        check_is_fitted(self)
        X = self._check_input(X, ch_names, sfreq, fitted=True)
        if not hasattr(self.estimator_, "predict_proba"):
            raise AttributeError(f"{type(self.estimator_).__name__} has no predict_proba.")
        return self.estimator_.predict_proba(X)

    def predict(self, X, *, ch_names=None, sfreq=None):
        """Stage of each epoch (see :meth:`predict_proba` for the input checks).

        Returns
        -------
        y_pred : ndarray of shape (n_epochs,)
        """
        check_is_fitted(self)
        X = self._check_input(X, ch_names, sfreq, fitted=True)
        return self.estimator_.predict(X)

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
    def save(self, path, *, compress=3):
        """Write the fitted model and its metadata to ``path`` (joblib, atomic).

        Parameters
        ----------
        path : str or path-like
            Destination, conventionally ``*.joblib``. Written through a temporary file
            in the same folder, so an interrupted save never leaves a partial file.
        compress : int, default=3
            joblib (zlib) compression level, 0-9.

        Returns
        -------
        path : pathlib.Path
        """
        check_is_fitted(self)
        self.metadata_ = self._metadata()
        payload = {
            "format": FORMAT_NAME,
            "format_version": FORMAT_VERSION,
            "metadata": self.metadata_,
            "model": self,
        }
        json.dumps(self.metadata_)  # the metadata must stay JSON-able
        path = Path(path)
        with atomic_write(path, "wb") as f:
            joblib.dump(payload, f, compress=compress)
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


def read_model_metadata(path):
    """Return the metadata dict of a model saved with :meth:`SleepStager.save`.

    The whole file is unpickled with :func:`joblib.load`, model included, so the classes
    it refers to must be importable (and, as with any pickle, only read files from
    sources you trust). Unlike :func:`load_model`, neither the format version nor the
    sklearn_sleep version recorded in the file is checked.

    Parameters
    ----------
    path : str or path-like
        Model file written by :meth:`SleepStager.save`.

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
        not a joblib file, or referring to code that is not importable here), or when
        it is not a SleepStager model file (e.g. a plain ``joblib.dump`` of an
        estimator, which has no metadata).
    """
    payload = _read_payload(path)
    if not isinstance(payload, dict) or payload.get("format") != FORMAT_NAME:
        raise ModelFileError(f"{str(path)!r} is not a SleepStager model file (no metadata).")
    return payload["metadata"]


def _read_payload(path):
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"Model file not found: {str(path)!r}.")
    try:
        return joblib.load(path)
    except (EOFError, pickle.UnpicklingError, zlib.error, ValueError, KeyError, IndexError,
            TypeError, OSError) as exc:
        size = path.stat().st_size
        raise ModelFileError(
            f"Cannot read model file {str(path)!r} ({size} bytes): it is truncated, corrupt "
            f"or not a joblib model file ({type(exc).__name__}: {exc})."
        ) from exc
    except (ModuleNotFoundError, AttributeError) as exc:
        raise ModelFileError(
            f"Cannot load model file {str(path)!r}: it refers to code that is not available "
            f"here ({type(exc).__name__}: {exc}). Was it saved with other library versions "
            "or with a custom class that is not importable?"
        ) from exc


def load_model(path):
    """Load a model written by :meth:`SleepStager.save` (or a plain joblib dump).

    Parameters
    ----------
    path : str or path-like
        Model file.

    Returns
    -------
    model : SleepStager or estimator
        The :class:`SleepStager`; for a plain ``joblib.dump`` of an estimator, that
        estimator (with a warning: there is no metadata to check input against).

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ModelFileError
        (a ``ValueError``) naming the file when it is truncated, corrupt, not a model
        file, or of an unknown newer format version.
    IncompatibleModelError
        (a ``ValueError``) when the file was saved by another major version of
        sklearn_sleep. A different minor version only warns.

    Notes
    -----
    Network classifiers trained on a GPU load on machines without CUDA: their weights
    are mapped to the CPU on unpickling.
    """
    payload = _read_payload(path)
    if isinstance(payload, dict) and payload.get("format") == FORMAT_NAME:
        version = payload.get("format_version")
        if not isinstance(version, int) or version > FORMAT_VERSION:
            raise ModelFileError(
                f"{str(path)!r} uses model format version {version!r}; this sklearn_sleep "
                f"({__version__}) reads up to version {FORMAT_VERSION}. Upgrade sklearn_sleep."
            )
        _check_versions(payload.get("metadata") or {}, path)
        model = payload.get("model")
        if not isinstance(model, SleepStager):
            raise ModelFileError(f"{str(path)!r} has no SleepStager under 'model'.")
        return model
    if hasattr(payload, "predict"):
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
