"""The scikit-learn/skorch classifier that every sleep-staging network is wrapped in.

:class:`SleepNetClassifier` is a :class:`skorch.NeuralNetClassifier` that behaves the
way a scikit-learn user expects from a classifier:

* ``classes_`` holds the user's own labels (``'W', 'N1', ...`` strings or ints) sorted
  as ``np.unique(y)``, like every scikit-learn classifier, and ``predict`` returns them;
  ``predict_proba`` columns follow ``classes_``. Stage-specific settings (per-stage loss
  weights, AttnSleep's weights, SSC-SleepNet's N1 penalty) find their stage by *name*
  (:func:`~sklearn_sleep.utils.identify_stages`), never by position; labels that are not
  stage names (integers, e.g. the label-encoded classes that ``VotingClassifier``
  passes) need ``stage_map``, else such a setting refuses to fit.
* The input shape ``(n_chans, n_times)`` is inferred at every ``fit``, passed to the
  module (``n_chans``, ``n_times``, ``n_classes``, ``sfreq`` where its constructor takes
  them) and checked again at predict time.
* No random internal validation split by default (``train_split=None``): epochs of one
  night are correlated and a random split leaks. ``validation_fraction`` holds out whole
  subjects when ``groups`` is passed to ``fit``; ``early_stopping`` stops on it.
* ``device="auto"`` trains on CUDA when available and on CPU otherwise, with the same
  code path; ``mixed_precision`` enables autocast on CUDA; ``random_state`` seeds a
  forked torch generator so that CPU runs are reproducible and the global numpy/torch
  random state is left untouched.
* A fitted model pickles, and unpickles on a machine without CUDA.
"""

import contextlib
import inspect
import numbers
import warnings

import numpy as np
import torch
from scipy.sparse import issparse
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GroupShuffleSplit
from sklearn.utils.multiclass import check_classification_targets
from skorch import NeuralNetClassifier
from skorch.callbacks import EarlyStopping
from skorch.dataset import unpack_data
from skorch.utils import TeeGenerator
from torch.utils.data import Subset

from ..utils._stages import AASM_STAGES, STAGE_ORDER, check_label_array, identify_stages, stage_of
from ..utils._validation import check_epochs, check_labels_match, check_sfreq
from .losses import ATTNSLEEP_MU, WeightedCrossEntropyLoss, attnsleep_class_weights

__all__ = ["SleepNetClassifier", "resolve_device"]

# constructor arguments filled in from the data; braindecode's names included
# (``n_outputs``; ``in_chans``/``input_window_samples`` of braindecode < 0.8)
_SIGNAL_ARGS = (
    "n_chans", "n_times", "n_classes", "sfreq", "n_outputs", "in_chans", "input_window_samples"
)
#: Patience used by ``early_stopping=True`` (skorch's EarlyStopping default).
DEFAULT_PATIENCE = 5
#: Classifier parameters added after models were first saved, with the behaviour of the
#: models saved before they existed: filled in for old pickles (``__setstate__``) and
#: old safe model files (``sklearn_sleep._safe_model``) of the classes that take them.
PARAMS_ADDED_LATER = {"epoch_shortcut": False}


def fill_params_added_later(cls, params):
    """Add to ``params`` (a dict) the :data:`PARAMS_ADDED_LATER` of ``cls`` it lacks."""
    accepted = inspect.signature(cls.__init__).parameters
    for name, before in PARAMS_ADDED_LATER.items():
        if name in accepted:
            params.setdefault(name, before)
    return params
_ATTNSLEEP_MU = dict(zip(AASM_STAGES, ATTNSLEEP_MU))


def resolve_device(device):
    """Turn ``"auto"`` into ``"cuda"`` when a CUDA device is available, else ``"cpu"``.

    Parameters
    ----------
    device : str or torch.device
        Requested device. Only the string ``"auto"`` is resolved (with
        :func:`torch.cuda.is_available`); any other value (``"cpu"``, ``"cuda"``,
        ``"cuda:1"``, a :class:`torch.device`...) is returned unchanged, without
        checking that the device exists.

    Returns
    -------
    device : str or torch.device
        ``"cuda"`` or ``"cpu"`` for ``"auto"``, otherwise ``device`` itself.
    """
    if isinstance(device, str) and device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return device


class SleepNetClassifier(NeuralNetClassifier):
    """A PyTorch sleep-staging network as a scikit-learn classifier (built on skorch).

    Every network of :mod:`sklearn_sleep.models` is a subclass that only changes the
    defaults (module and the training recipe of its paper). Use this class directly to
    wrap your own module: its constructor may take any of ``n_chans``, ``n_times``,
    ``n_classes`` and ``sfreq``, which are filled in from the data at ``fit``.

    Parameters
    ----------
    module : type of torch.nn.Module
        The network class (not an instance). Its hyper-parameters are set with the
        ``module__`` prefix, e.g. ``module__dropout=0.3``; the prefix also works in
        ``set_params`` and ``GridSearchCV`` (``"net__module__dropout"``).
    criterion : type of torch.nn.Module, default=WeightedCrossEntropyLoss
        Loss class; its arguments take the ``criterion__`` prefix. The module returns
        logits, so the criterion must expect logits.
    optimizer : type of torch.optim.Optimizer, default=torch.optim.Adam
        Optimizer class; arguments take the ``optimizer__`` prefix.
    lr : float, default=1e-3
        Learning rate.
    max_epochs : int, default=20
        Number of training epochs (passes over the data).
    batch_size : int, default=128
        Mini-batch size.
    class_weight : None, "balanced", "attnsleep", dict or sequence, default=None
        Per-class loss weights given to the criterion's ``weight`` argument.

        * dict (or a sequence of ``(key, weight)`` pairs): keyed by the class labels,
          or by stage names (``{"W": 1.0, "N1": 1.8, ...}``) resolved through
          ``stage_map``; a stage key never depends on the label order. Extra keys
          (stages absent from this fit) are ignored; a class without a weight raises.
        * sequence of floats: one weight per class *in* ``classes_`` *order* (sorted
          labels). Refused when the labels are stage names whose sorted order differs
          from the stage order (e.g. ``N1 < N2 < N3 < REM < W``): use a dict then.
        * ``"balanced"``: ``n_samples / (n_classes * count)``.
        * ``"attnsleep"``: the data-dependent weights of AttnSleep (Eldele et al.,
          2021; :func:`~sklearn_sleep.models.losses.attnsleep_class_weights`); needs
          the labels identified as AASM stages.

        Ignored if ``criterion__weight`` is set.
    sfreq : float or None, default=None
        Sampling rate (Hz) the network is designed for. When ``X`` is an
        :class:`mne.Epochs` its rate is checked against this value. Networks whose
        kernels are defined in samples (all the published ones) need input at this rate:
        put a :class:`~sklearn_sleep.preprocessing.Resampler` in front otherwise.
    stage_map : None, "aasm", "rodent" or dict, default=None
        Which sleep stage each label is, for the stage-specific settings
        (``class_weight`` keyed by stage or ``"attnsleep"``, SSC-SleepNet's N1 penalty).
        ``None``: text labels are matched by name (``W``/``Wake``, ``N1``/``S1``,
        ``N3``/``S3``/``S4``, ``REM``/``R``, ``NREM``..., any case); integer labels
        are never guessed. ``"aasm"``: integers are AASM codes 0=W, 1=N1, 2=N2, 3=N3,
        4=REM. ``"rodent"``: 0=W, 1=NREM, 2=REM. A dict maps each label to a stage name.
        Inside ``VotingClassifier``, ``StackingClassifier`` or
        ``cross_val_predict(method="predict_proba")`` the network receives the
        label-encoded integers of the sorted labels: pass
        ``stage_map=dict(enumerate(np.unique(y)))`` (for stages W, N1, N2, N3, REM:
        ``{0: "N1", 1: "N2", 2: "N3", 3: "REM", 4: "W"}``). ``classes_`` and
        ``predict`` keep the labels as given.
    validation_fraction : float or None, default=None
        Fraction of the training *groups* (subjects) held out for validation when
        ``groups`` is passed to ``fit``. Without groups, the last contiguous fraction of
        the epochs is held out (never a random split), with a warning; ``groups`` with a
        single group raises. ``None`` trains on everything.
    early_stopping : bool, int or None, default=None
        Patience (in training epochs) of early stopping on the validation loss; the best
        weights are restored at the end. ``True`` means a patience of 5 (skorch's
        default), ``False``/``None`` no early stopping. Requires ``validation_fraction``.
    mixed_precision : bool or {"bf16", "fp16"}, default=False
        Autocast on CUDA (``True`` means bfloat16). Ignored on CPU.
    random_state : int, RandomState, Generator or None, default=None
        Seed for weight initialisation, batch shuffling and the validation split. An
        int makes ``fit`` reproducible; a ``RandomState``/``Generator`` instance gives
        one int seed per ``fit`` (drawn from it); ``None`` a fresh seed. Training runs on
        a forked torch generator: the global numpy and torch random states are never
        changed.
    device : str, default="auto"
        ``"auto"``, ``"cpu"``, ``"cuda"`` or ``"cuda:N"``.
    train_split : callable or None, default=None
        skorch's internal split. Kept ``None``; prefer ``validation_fraction``.
    verbose : int, default=0
        1 prints skorch's per-epoch table.
    iterator_train__shuffle : bool, default=True
        Shuffle the training epochs every pass (skorch's own default is False, which
        would feed a night's epochs in time order).
    **kwargs
        Any other skorch argument (``callbacks``, ``iterator_train__num_workers``,
        ``warm_start``, ``classes``...) and prefixed arguments for the module,
        criterion and optimizer. ``classes`` is sorted like ``classes_``.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The labels seen at the first ``fit`` (or the ``classes`` argument), sorted as
        ``np.unique``.
    stage_names_ : tuple of str or None
        The stage of each class in ``classes_`` order (see ``stage_map``), or ``None``
        when the labels are not identified as stages.
    input_shape_ : tuple of int
        ``(n_chans, n_times)`` of the training epochs.
    n_chans_in_, n_times_in_ : int
        Channel count and samples per epoch seen at ``fit``.
    n_features_in_ : int
        Number of channels (as for the epoch transformers), not ``n_chans * n_times``.
    sfreq_in_ : float or None
        Sampling rate of the training input when known (``mne.Epochs``) else ``sfreq``.
    class_weight_ : ndarray or None
        The loss weights actually used, in ``classes_`` order.
    device_ : str
        The device the network was trained on.
    module_, criterion_, optimizer_, history_ :
        skorch's fitted torch objects and training history.

    Notes
    -----
    Refit contract:

    * ``fit`` starts from scratch unless ``warm_start=True``; a warm refit keeps
      ``classes_``, the output layer and the criterion (with its class weights) of the
      first fit. Its ``y`` may lack classes; a label outside ``classes_`` raises (refit
      with ``warm_start=False``, or give every label in ``classes`` at the first fit).
    * ``partial_fit(X, y, classes=...)``: on the first call ``classes`` (if given) fixes
      ``classes_``; later calls accept labels of ``classes_`` only. ``groups`` is
      accepted by ``fit`` and ``partial_fit`` (for the validation split).
    * ``sample_weight`` is not supported (the losses are not weighted per epoch) and is
      refused with a ``ValueError``; use ``class_weight``.
    """

    def __init__(
        self,
        module,
        *,
        criterion=WeightedCrossEntropyLoss,
        optimizer=torch.optim.Adam,
        lr=1e-3,
        max_epochs=20,
        batch_size=128,
        class_weight=None,
        sfreq=None,
        stage_map=None,
        validation_fraction=None,
        early_stopping=None,
        mixed_precision=False,
        random_state=None,
        device="auto",
        train_split=None,
        verbose=0,
        iterator_train__shuffle=True,
        **kwargs,
    ):
        super().__init__(
            module,
            criterion=criterion,
            optimizer=optimizer,
            lr=lr,
            max_epochs=max_epochs,
            batch_size=batch_size,
            device=device,
            train_split=train_split,
            verbose=verbose,
            iterator_train__shuffle=iterator_train__shuffle,
            **kwargs,
        )
        self.class_weight = class_weight
        self.sfreq = sfreq
        self.stage_map = stage_map
        self.validation_fraction = validation_fraction
        self.early_stopping = early_stopping
        self.mixed_precision = mixed_precision
        self.random_state = random_state

    # ------------------------------------------------------------------ device
    # skorch reads ``self.device`` wherever it moves tensors; the user's request
    # (possibly "auto") is kept separately so that get_params/clone round-trip it.
    @property
    def device(self):
        return resolve_device(self.__dict__.get("_device_request", "auto"))

    @device.setter
    def device(self, value):
        self.__dict__["_device_request"] = value

    def _get_param_names(self):
        names = [n for n in super()._get_param_names() if n != "_device_request"]
        return names + ["device"]

    def get_params(self, deep=True, **kwargs):
        params = super().get_params(deep=deep, **kwargs)
        params["device"] = self.__dict__.get("_device_request", "auto")
        return params

    def __getstate__(self):
        state = super().__getstate__()
        state["device"] = self.device
        return state

    def __setstate__(self, state):
        requested = state.get("_device_request", "auto")
        fill_params_added_later(type(self), state)  # pickled before they existed
        super().__setstate__(state)
        mapped = self.__dict__.pop("device", "cpu")
        if requested != "auto" and torch.device(requested).type != torch.device(mapped).type:
            # trained on CUDA, loaded where there is none: skorch already mapped the weights
            self.__dict__["_device_request"] = mapped

    # --------------------------------------------------------------- defaults
    def get_default_callbacks(self):
        # skorch's 'valid_acc' scores encoded targets against decoded predictions;
        # the validation loss (and early stopping on it) is what is kept.
        callbacks = [(n, cb) for n, cb in super().get_default_callbacks() if n != "valid_acc"]
        patience = self._patience()
        if patience is not None:
            callbacks.append(
                (
                    "early_stopping",
                    EarlyStopping(monitor="valid_loss", patience=patience, load_best=True),
                )
            )
        return callbacks

    def _patience(self):
        es = self.early_stopping
        if es is None or es is False:
            return None
        if es is True:
            return DEFAULT_PATIENCE
        if not isinstance(es, numbers.Integral) or es < 1:
            raise ValueError(
                f"early_stopping must be None, a bool or a patience >= 1 (training epochs), "
                f"got {es!r}."
            )
        return int(es)

    def _get_predict_nonlinearity(self):
        if self.predict_nonlinearity == "auto":
            return lambda logits: torch.softmax(logits.float(), dim=-1)
        return super()._get_predict_nonlinearity()

    # ------------------------------------------------------------ validation
    def _check_X(self, X, *, reset):
        """Validate ``X`` and, at fit, record its shape; else compare with it."""
        if issparse(X):
            raise TypeError(
                f"{type(self).__name__} does not support sparse input: it takes dense epoch "
                "arrays (n_epochs, n_chans, n_times)."
            )
        sfreq = None
        if hasattr(X, "info") and hasattr(X, "get_data"):
            sfreq = float(X.info["sfreq"])
        # torch refuses negative strides; also makes transposed/sliced views contiguous
        X = np.ascontiguousarray(check_epochs(X, name="X", ndim=3))
        declared = None if self.sfreq is None else check_sfreq(self.sfreq)
        if sfreq is not None and declared is not None and not np.isclose(sfreq, declared):
            raise ValueError(
                f"{type(self).__name__} expects input sampled at {declared:g} Hz, got "
                f"{sfreq:g} Hz. Its kernels are defined in samples; resample first, e.g. "
                f"Resampler(sfreq_in={sfreq:g}, sfreq_out={declared:g})."
            )
        if reset:
            self.n_chans_in_, self.n_times_in_ = int(X.shape[1]), int(X.shape[2])
            self.n_features_in_ = self.n_chans_in_  # channels, as the epoch transformers
            self.input_shape_ = (self.n_chans_in_, self.n_times_in_)
            self.sfreq_in_ = sfreq if sfreq is not None else declared
        else:
            self._check_fitted()
            if tuple(X.shape[1:]) != self.input_shape_:
                raise ValueError(
                    f"{type(self).__name__} was fitted on epochs of shape (n_chans, n_times) "
                    f"= {self.input_shape_}, got {tuple(X.shape[1:])}. Apply the same "
                    "channel selection and resampling as at fit time."
                )
            if sfreq is not None and self.sfreq_in_ is not None and not np.isclose(
                sfreq, self.sfreq_in_
            ):
                raise ValueError(
                    f"{type(self).__name__} was fitted at {self.sfreq_in_:g} Hz, got {sfreq:g} Hz."
                )
        return X

    def _check_fitted(self):
        if not hasattr(self, "input_shape_") or not getattr(self, "initialized_", False):
            raise NotFittedError(
                f"This {type(self).__name__} instance is not fitted yet. Call 'fit' with "
                "appropriate arguments before using this estimator."
            )

    def __sklearn_is_fitted__(self):
        return hasattr(self, "input_shape_") and getattr(self, "initialized_", False)

    # ---------------------------------------------------------------- labels
    @property
    def classes_(self):
        try:
            return self.__dict__["classes_fitted_"]
        except KeyError:
            raise AttributeError(
                f"{type(self).__name__} has no attribute 'classes_' before fit."
            ) from None

    def _encode_labels(self, y, classes=None):
        """Fix ``classes_`` (sorted) from ``classes`` or ``y`` and encode ``y``."""
        y = check_label_array(y)
        check_classification_targets(y)
        if classes is None:
            classes = self.classes
        if classes is not None:
            classes = np.unique(check_label_array(np.asarray(classes), name="classes"))
            unknown = np.setdiff1d(np.unique(y), classes)
            if unknown.size:
                raise ValueError(
                    f"y contains label(s) {unknown.tolist()} that are not in classes="
                    f"{classes.tolist()}."
                )
        else:
            classes = np.unique(y)
            if len(classes) < 2:
                raise ValueError(
                    f"y has only one class ({classes.tolist()}); a classifier needs at least 2. "
                    "Pass classes=[...] listing every stage if a training fold may lack some."
                )
        self.__dict__["classes_fitted_"] = classes
        self.stage_names_ = identify_stages(classes, self.stage_map)
        return self._encode_known(y, "fit")

    def _encode_known(self, y, context):
        """Encode ``y`` against the existing ``classes_`` (labels outside it raise)."""
        y = check_label_array(y)
        lookup = {label: i for i, label in enumerate(self.classes_.tolist())}
        unknown = sorted({label for label in y.tolist() if label not in lookup}, key=str)
        if unknown:
            raise ValueError(
                f"y contains label(s) {unknown} unseen at fit: not in classes_ "
                f"{self.classes_.tolist()} of the first fit; {context} keeps the output layer "
                "of that fit. Refit from scratch (warm_start=False), or pass every label in "
                "classes=[...] at the first fit."
            )
        return np.fromiter((lookup[label] for label in y.tolist()), dtype=np.int64, count=len(y))

    def _require_stages(self, setting):
        """Stage name of each class, or a ValueError saying how to give ``stage_map``."""
        stages = getattr(self, "stage_names_", None)
        if stages is not None:
            return stages
        classes = self.classes_.tolist()
        raise ValueError(
            f"{type(self).__name__}: {setting} is specific to sleep stages, but the labels "
            f"{classes} cannot be identified as stages. Integer labels are never guessed: they "
            "may be AASM codes (0=W, 1=N1, 2=N2, 3=N3, 4=REM) or the label-encoded classes "
            "that VotingClassifier, StackingClassifier and cross_val_predict pass (sorted "
            "labels: N1=0, N2=1, N3=2, REM=3, W=4). Pass stage_map='aasm' (AASM codes), "
            "stage_map='rodent' (0=W, 1=NREM, 2=REM) or a dict label -> stage; inside a "
            "meta-estimator use stage_map=dict(enumerate(np.unique(y))), e.g. "
            "stage_map={0: 'N1', 1: 'N2', 2: 'N3', 3: 'REM', 4: 'W'}."
        )

    def _compute_class_weight(self, y_enc):
        n_classes = len(self.classes_)
        cw = self.class_weight
        if cw is None or "weight" in self.get_params_for("criterion"):
            return None
        if isinstance(cw, str) and cw == "attnsleep":
            return self._attnsleep_class_weight(y_enc)
        if isinstance(cw, str):
            if cw != "balanced":
                raise ValueError(
                    "class_weight must be None, 'balanced', 'attnsleep', a dict or a sequence; "
                    f"got {cw!r}."
                )
            counts = np.bincount(y_enc, minlength=n_classes).astype(float)
            counts[counts == 0] = 1.0
            return len(y_enc) / (n_classes * counts)
        if _is_pairs(cw):
            cw = dict(cw)
        if isinstance(cw, dict):
            return self._class_weight_from_dict(cw)
        weights = np.asarray(cw, dtype=float)
        if weights.shape != (n_classes,):
            raise ValueError(
                f"class_weight has {weights.size} entries but there are {n_classes} classes "
                f"{self.classes_.tolist()}; give one weight per class (or a dict)."
            )
        stages = getattr(self, "stage_names_", None)
        if stages is not None:
            canonical = sorted(stages, key=STAGE_ORDER.index)
            if list(stages) != canonical:
                raise ValueError(
                    "class_weight as a plain sequence is read in classes_ order "
                    f"{self.classes_.tolist()} (sorted labels, as in scikit-learn), which is "
                    f"not the stage order {canonical}; a sequence written for the stage order "
                    "would weight the wrong stages. Give a dict keyed by stage, e.g. "
                    f"{dict(zip(canonical, [1.0] * len(canonical)))}."
                )
        return weights

    def _class_weight_from_dict(self, cw):
        classes = self.classes_.tolist()
        if all(c in cw for c in classes):  # keyed by the labels themselves
            return np.asarray([cw[c] for c in classes], dtype=float)
        key_stages = {k: stage_of(k) for k in cw}
        if any(v is None for v in key_stages.values()):
            missing = [c for c in classes if c not in cw]
            raise ValueError(
                f"class_weight has no weight for class(es) {missing} (classes_ {classes}); "
                "key it by every class label, or by stage names."
            )
        by_stage = {}
        for key, stage in key_stages.items():
            if stage in by_stage:
                raise ValueError(f"class_weight gives stage {stage!r} twice ({key!r}).")
            by_stage[stage] = cw[key]
        stages = self._require_stages("class_weight keyed by stage names")
        missing = [c for c, st in zip(classes, stages) if st not in by_stage]
        if missing:
            raise ValueError(
                f"class_weight has no weight for class(es) {missing} (stages "
                f"{[st for c, st in zip(classes, stages) if c in missing]}); its stages are "
                f"{sorted(by_stage, key=STAGE_ORDER.index)}."
            )
        return np.asarray([by_stage[st] for st in stages], dtype=float)

    def _attnsleep_class_weight(self, y_enc):
        stages = self._require_stages("class_weight='attnsleep'")
        if not set(stages) <= set(AASM_STAGES):
            raise ValueError(
                "class_weight='attnsleep' has factors for the AASM stages W, N1, N2, N3, REM "
                f"only; the classes {self.classes_.tolist()} are stages {list(stages)}. Pass "
                "class_weight=None, 'balanced' or a dict."
            )
        mu = [_ATTNSLEEP_MU[st] for st in stages]
        return attnsleep_class_weights(y_enc, n_classes=len(stages), mu=mu).astype(float)

    # ------------------------------------------------------------- skorch hooks
    def _signal_kwargs(self, module_cls, kwargs):
        """Add the inferred signal arguments the module's constructor accepts."""
        try:
            accepted = inspect.signature(module_cls).parameters
        except (TypeError, ValueError):
            return kwargs
        n_classes = len(self.classes_) if "classes_fitted_" in self.__dict__ else None
        inferred = {
            "n_chans": getattr(self, "n_chans_in_", None),
            "n_times": getattr(self, "n_times_in_", None),
            "n_classes": n_classes,
            "sfreq": getattr(self, "sfreq_in_", None),
            "n_outputs": n_classes,
            "in_chans": getattr(self, "n_chans_in_", None),
            "input_window_samples": getattr(self, "n_times_in_", None),
        }
        for name in _SIGNAL_ARGS:
            if name in accepted and name not in kwargs and inferred[name] is not None:
                kwargs[name] = inferred[name]
        return kwargs

    def initialize_module(self):
        kwargs = self._signal_kwargs(self.module, dict(self.get_params_for("module")))
        self.module_ = self.initialized_instance(self.module, kwargs)
        return self

    def initialize_criterion(self):
        kwargs = dict(self.get_params_for("criterion"))
        weight = getattr(self, "class_weight_", None)
        if weight is not None and "weight" not in kwargs:
            kwargs["weight"] = torch.as_tensor(weight, dtype=torch.float32)
        self.criterion_ = self.initialized_instance(self.criterion, kwargs)
        return self

    def initialize(self):
        with self._rng_scope(reset=True):
            if self._patience() is not None and self.validation_fraction is None:
                raise ValueError("early_stopping needs a validation set: set validation_fraction.")
            self.device_ = self.device
            return super().initialize()

    def set_params(self, **kwargs):
        """Set parameters; a fitted net re-initialised by skorch draws from its own seed.

        skorch re-creates the module (or criterion, optimizer) of an initialised net when
        one of their parameters changes; that happens here on the net's forked, seeded
        generator (as at ``fit``), so the global torch random state is left unchanged
        and the new weights are reproducible.

        Parameters
        ----------
        **kwargs : dict
            Estimator parameters (``module__...``, ``optimizer__...``, ...).

        Returns
        -------
        self
        """
        if not self.__dict__.get("initialized_", False):
            return super().set_params(**kwargs)
        with self._rng_scope(reset=False):
            return super().set_params(**kwargs)

    # ------------------------------------------------------------------ RNG
    def _base_seed(self):
        rs = self.random_state
        if rs is None:
            return int(np.random.SeedSequence().generate_state(1)[0])
        if isinstance(rs, numbers.Integral) and not isinstance(rs, bool):
            return int(rs) % (2**32)
        if isinstance(rs, np.random.RandomState):
            return int(rs.randint(0, 2**31 - 1))
        if isinstance(rs, np.random.Generator):
            return int(rs.integers(0, 2**31 - 1))
        raise ValueError(
            "random_state must be None, an int, a numpy RandomState or Generator; "
            f"got {rs!r}."
        )

    @contextlib.contextmanager
    def _rng_scope(self, reset):
        """Run the body on a forked, locally seeded torch generator.

        ``reset`` draws a new base seed (from ``random_state``); later calls (warm
        start, ``partial_fit``) continue with seeds derived from it and a call counter,
        so a run is reproducible call by call. The global torch states (CPU, and the
        CUDA device in use) are restored on exit; numpy's global state is never used.
        """
        if "_rng_active_" in self.__dict__:  # nested (e.g. initialize inside fit)
            yield
            return
        if reset or "_rng_seed_" not in self.__dict__:
            self.__dict__["_rng_seed_"] = self._base_seed()
            self.__dict__["_rng_calls_"] = 0
        calls = self.__dict__["_rng_calls_"]
        self.__dict__["_rng_calls_"] = calls + 1
        seed = self.__dict__["_rng_seed_"]
        if calls:  # later calls (warm start, partial_fit): a seed derived from the call count
            seed = int(np.random.SeedSequence([seed, calls]).generate_state(1)[0])
        devices = []
        # device=None: placement is someone else's (e.g. accelerate's, one device per
        # process); only the CPU generator is forked then
        request = resolve_device(self.__dict__.get("_device_request", "auto"))
        device = torch.device(request) if request is not None else None
        if device is not None and device.type == "cuda" and torch.cuda.is_available():
            devices = [device.index if device.index is not None else torch.cuda.current_device()]
        with torch.random.fork_rng(devices=devices):
            # seed only the generators in use (forked above), not every CUDA device
            torch.default_generator.manual_seed(seed)
            for index in devices:
                with torch.cuda.device(index):
                    torch.cuda.manual_seed(seed)
            self.__dict__["_rng_active_"] = seed
            try:
                yield
            finally:
                self.__dict__.pop("_rng_active_", None)

    def get_split_datasets(self, X, y=None, **fit_params):
        dataset = self.get_dataset(X, y)
        if self.validation_fraction is None:
            if self.train_split is not None:
                return super().get_split_datasets(X, y, **fit_params)
            return dataset, None
        frac = float(self.validation_fraction)
        if not 0.0 < frac < 1.0:
            raise ValueError(f"validation_fraction must be in (0, 1), got {frac}.")
        n = len(dataset)
        groups = getattr(self, "_fit_groups", None)
        if groups is not None:
            if len(np.unique(groups)) < 2:
                raise ValueError(
                    f"validation_fraction={frac} with a single group in groups: a subject-wise "
                    "validation split needs at least 2 groups. Pass groups of several "
                    "subjects, or groups=None for a contiguous hold-out of the last epochs."
                )
            seed = self.__dict__.get("_rng_active_")
            seed = seed if seed is not None else self._base_seed()
            splitter = GroupShuffleSplit(n_splits=1, test_size=frac, random_state=seed)
            train_idx, valid_idx = next(splitter.split(np.zeros(n), groups=groups))
        else:
            warnings.warn(
                "validation_fraction without groups: holding out the last contiguous "
                f"{frac:.0%} of the epochs. Pass groups=subjects to fit for a subject-wise "
                "validation split.",
                UserWarning,
                stacklevel=3,
            )
            n_valid = max(1, int(round(frac * n)))
            train_idx, valid_idx = np.arange(n - n_valid), np.arange(n - n_valid, n)
        return Subset(dataset, train_idx), Subset(dataset, valid_idx)

    def _autocast(self):
        amp = self.mixed_precision
        if not amp or torch.device(self.device).type != "cuda":
            return torch.autocast("cpu", enabled=False)
        dtype = torch.float16 if amp == "fp16" else torch.bfloat16
        return torch.autocast("cuda", dtype=dtype)

    def infer(self, x, **fit_params):
        with self._autocast():
            return super().infer(x, **fit_params)

    def get_loss(self, y_pred, y_true, X=None, training=False):
        if isinstance(y_pred, torch.Tensor):
            y_pred = y_pred.float()
        elif isinstance(y_pred, tuple):
            y_pred = tuple(p.float() if isinstance(p, torch.Tensor) else p for p in y_pred)
        return super().get_loss(y_pred, y_true, X=X, training=training)

    def train_step(self, batch, **fit_params):
        use_scaler = (
            self.mixed_precision == "fp16" and torch.device(self.device).type == "cuda"
        )
        if not use_scaler:
            return super().train_step(batch, **fit_params)
        if not hasattr(self, "grad_scaler_"):
            self.grad_scaler_ = torch.amp.GradScaler("cuda")
        self._set_training(True)
        self._zero_grad_optimizer()
        Xi, yi = unpack_data(batch)
        y_pred = self.infer(Xi, **fit_params)
        loss = self.get_loss(y_pred, yi, X=Xi, training=True)
        self.grad_scaler_.scale(loss).backward()
        self.notify(
            "on_grad_computed",
            named_parameters=TeeGenerator(self.get_all_learnable_params()),
            batch=batch,
        )
        for optimizer in self._get_optimizers():
            self.grad_scaler_.step(optimizer)
        self.grad_scaler_.update()
        return {"loss": loss, "y_pred": y_pred}

    def _get_optimizers(self):
        return [getattr(self, name + "_") for name in self._optimizers] or [self.optimizer_]

    # ------------------------------------------------------------- public API
    def fit(self, X, y, groups=None, **fit_params):
        """Train the network on epochs ``X`` with labels ``y``.

        From scratch, unless ``warm_start=True`` and the network is already fitted: then
        training continues with the same ``classes_``, output layer and criterion (``y``
        may lack classes; a label outside ``classes_`` raises).

        Parameters
        ----------
        X : array-like of shape (n_epochs, n_chans, n_times) or mne.Epochs
            Epoched signals.
        y : array-like of shape (n_epochs,)
            Stage labels (strings or ints).
        groups : array-like of shape (n_epochs,), default=None
            Subject (or recording) of each epoch; used only for the subject-wise
            validation split when ``validation_fraction`` is set.
        **fit_params
            Passed to skorch (and the module's ``forward``). ``sample_weight`` is
            refused (not supported).

        Returns
        -------
        self : SleepNetClassifier
        """
        _refuse_sample_weight(self, fit_params)
        warm = bool(self.warm_start) and self.__sklearn_is_fitted__()
        X = self._check_X(X, reset=not warm)
        y, groups = check_labels_match(X, y, groups=groups)
        if y is None:
            raise ValueError(
                f"y is required: {type(self).__name__} requires y to be passed, but the "
                "target y is None; give one stage label per epoch."
            )
        if warm:
            y_enc = self._encode_known(y, "warm_start=True")
        else:
            y_enc = self._encode_labels(y)
            self.class_weight_ = self._compute_class_weight(y_enc)
        with self._rng_scope(reset=not warm):
            self._fit_groups = groups
            try:
                super().fit(X, y_enc, **fit_params)
            finally:
                self.__dict__.pop("_fit_groups", None)
        return self

    def partial_fit(self, X, y=None, classes=None, groups=None, **fit_params):
        """Train for ``max_epochs`` more epochs without re-initialising.

        Parameters
        ----------
        X : array-like of shape (n_epochs, n_chans, n_times) or mne.Epochs
            Epoched signals.
        y : array-like of shape (n_epochs,)
            Stage labels.
        classes : array-like or None, default=None
            Every label of the task. On the first call it fixes ``classes_`` (sorted),
            so that later batches may lack some; later calls must give the same set.
        groups : array-like of shape (n_epochs,), default=None
            Subject of each epoch, for the validation split (``validation_fraction``).
        **fit_params
            Passed to skorch (and the module's ``forward``).

        Returns
        -------
        self : SleepNetClassifier
        """
        if "_routing_method" in fit_params:  # called from skorch's fit with encoded y
            return super().partial_fit(X, y, **fit_params)
        _refuse_sample_weight(self, fit_params)
        first = not self.__sklearn_is_fitted__()
        X = self._check_X(X, reset=first)
        y, groups = check_labels_match(X, y, groups=groups)
        if y is None:
            raise ValueError(
                f"y is required: {type(self).__name__} requires y to be passed, but the "
                "target y is None; give one stage label per epoch."
            )
        if first:
            y_enc = self._encode_labels(y, classes=classes)
            self.class_weight_ = self._compute_class_weight(y_enc)
        else:
            if classes is not None and not np.array_equal(
                np.unique(np.asarray(classes)), self.classes_
            ):
                raise ValueError(
                    f"classes={np.unique(np.asarray(classes)).tolist()} differs from classes_ "
                    f"{self.classes_.tolist()} fixed by the first partial_fit."
                )
            y_enc = self._encode_known(y, "partial_fit")
        with self._rng_scope(reset=first):
            if first:
                self.initialize()
            self._fit_groups = groups
            try:
                super().partial_fit(X, y_enc, **fit_params)
            finally:
                self.__dict__.pop("_fit_groups", None)
        return self

    def predict_proba(self, X):
        """Per-epoch class probabilities (a hypnodensity), columns in ``classes_`` order."""
        if isinstance(X, torch.utils.data.Dataset):  # skorch-internal calls
            self._check_fitted()
            with torch.random.fork_rng(devices=[]):
                return super().predict_proba(X)
        X = self._check_X(X, reset=False)
        # a DataLoader draws a base seed from the global torch generator: keep it untouched
        with torch.random.fork_rng(devices=[]):
            proba = super().predict_proba(X)
        bad = ~np.isfinite(proba).all(axis=1)
        if bad.any():
            raise ValueError(
                f"{type(self).__name__} produced non-finite probabilities for {int(bad.sum())} "
                f"of {len(proba)} epochs (input values up to {float(np.abs(X).max()):.3g}). "
                "Check the input units (µV expected) and scaling."
            )
        return proba

    def predict(self, X):
        """Predicted stage of each epoch, using the labels seen at ``fit``."""
        proba = self.predict_proba(X)
        return self.classes_[np.argmax(proba, axis=1)]

    def score(self, X, y, sample_weight=None):
        """Accuracy on ``(X, y)``, as for every scikit-learn classifier."""
        from sklearn.metrics import accuracy_score

        return accuracy_score(np.asarray(y), self.predict(X), sample_weight=sample_weight)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        tags.input_tags.two_d_array = False
        tags.non_deterministic = not isinstance(self.random_state, numbers.Integral)
        return tags


def _is_pairs(value):
    """True for a non-empty sequence of ``(key, weight)`` pairs (a frozen dict)."""
    if isinstance(value, (str, dict, np.ndarray)) or not isinstance(value, (tuple, list)):
        return False
    return len(value) > 0 and all(
        isinstance(item, (tuple, list)) and len(item) == 2 for item in value
    )


def _refuse_sample_weight(est, fit_params):
    if "sample_weight" in fit_params:
        raise ValueError(
            f"{type(est).__name__} does not support sample_weight: its losses are not "
            "weighted per epoch. Use class_weight for per-stage weights, or resample the "
            "training epochs."
        )
