"""Model-file parts that load without running code (no pickle anywhere).

A fitted estimator is stored in one of two ways:

``"skops"``
    scikit-learn estimators (a Pipeline of the library's transformers and a
    scikit-learn classifier, ...) are written with :func:`skops.io.dumps`. On loading,
    :func:`skops.io.get_untrusted_types` lists the types the file refers to beyond
    skops' own defaults, and each must pass :func:`check_trusted_type`: a *class*
    defined in ``sklearn`` or ``sklearn_sleep``, a NumPy scalar/dtype class or a NumPy
    ufunc. Anything else (``os.system``, ``builtins.eval``, a custom function, a class of
    another package) is refused before skops builds a single object.
``"network"``
    A network classifier of :mod:`sklearn_sleep.models` is stored as its class name
    (resolved only among the library's :class:`~sklearn_sleep.models.SleepNetClassifier`
    subclasses), its ``get_params()`` as JSON (classes such as the module, criterion and
    optimizer as dotted names, each resolved only to a subclass of ``torch.nn.Module``
    in ``sklearn_sleep.models``/``torch.nn``, ``torch.optim.Optimizer``,
    ``skorch.dataset.Dataset`` or ``torch.utils.data.DataLoader``), its fitted
    attributes as JSON, and the weights of its torch modules as ``safetensors``.
    Callbacks are training-time objects and are not stored (``callbacks=None`` after
    loading); the optimizer state is not stored either (``partial_fit`` after loading
    starts a fresh optimizer).
"""

import importlib
import math
import numbers

import numpy as np

__all__ = ["check_trusted_type", "decode_estimator", "encode_estimator"]

_SKOPS_MEMBER = "estimator.skops"
_WEIGHTS_MEMBER = "weights.safetensors"
_SKOPS_ROOTS = ("sklearn", "sklearn_sleep")
_NET_STATE = ("n_chans_in_", "n_times_in_", "input_shape_", "sfreq_in_", "class_weight_",
              "n_features_in_", "stage_names_", "n_context_in_")


class UnsafeModelError(ValueError):
    """A model file refers to code that the safe format does not trust."""


def _resolve(name):
    """Import ``module.attr`` by name (module part must be importable)."""
    module_name, _, attr = str(name).rpartition(".")
    if not module_name:
        raise UnsafeModelError(f"type {name!r} has no module.")
    parts = attr.split(".")
    # the qualname may be nested (Outer.Inner); import the longest importable module
    try:
        obj = importlib.import_module(module_name)
    except ImportError as exc:
        raise UnsafeModelError(f"type {name!r}: module {module_name!r} not importable "
                               f"({exc}).") from exc
    for part in parts:
        obj = getattr(obj, part, None)
        if obj is None:
            raise UnsafeModelError(f"type {name!r} does not exist in this installation.")
    return obj


def check_trusted_type(name):
    """Raise unless ``name`` is a type the safe model format may build.

    Parameters
    ----------
    name : str
        Dotted name, as listed by :func:`skops.io.get_untrusted_types`.

    Raises
    ------
    UnsafeModelError
        (a ``ValueError``) naming the type, when it is not a class of ``sklearn`` or
        ``sklearn_sleep`` restored by a plain attribute update (no ``__setstate__`` of its
        own, no torch module or skorch network), a NumPy scalar/dtype class or a NumPy
        ufunc.
    """
    root = str(name).split(".", 1)[0]
    if root not in _SKOPS_ROOTS + ("numpy",):
        raise UnsafeModelError(
            f"the model file refers to {name!r}, which is not a scikit-learn, sklearn_sleep "
            "or NumPy type; refusing to load it (it could run code)."
        )
    obj = _resolve(name)
    if root == "numpy":
        ok = isinstance(obj, np.ufunc) or (isinstance(obj, type) and issubclass(
            obj, (np.generic, np.dtype)))
    else:
        ok = isinstance(obj, type) and _plain_state(obj)
    if not ok:
        what = ("a class whose state would be restored by its own code (__setstate__) or a "
                "torch/skorch object" if isinstance(obj, type)
                else f"a {type(obj).__name__}, not a class")
        raise UnsafeModelError(
            f"the model file refers to {name!r}, {what}; refusing to load it (it could run "
            "code)."
        )


def _plain_state(cls):
    """True for classes whose state is restored by a plain ``__dict__`` update.

    skops builds an object with ``cls.__new__`` and hands the stored state to its
    ``__setstate__``. A class with its own ``__setstate__`` (a skorch network, which
    unpickles its torch modules there) could turn stored data into code, so only the
    default one and those defined by scikit-learn itself are accepted; torch
    modules and skorch networks are refused whatever they define (networks go through
    the ``"network"`` kind instead).
    """
    from sklearn.base import BaseEstimator

    for base in ("torch.nn.Module", "skorch.net.NeuralNet"):
        module_name, _, attr = base.rpartition(".")
        module = importlib.import_module(module_name) if module_name.split(".")[0] in (
            "torch", "skorch") else None
        if module is not None and issubclass(cls, getattr(module, attr)):
            return False
    setstate = getattr(cls, "__setstate__", None)
    allowed = {None, getattr(object, "__setstate__", None), BaseEstimator.__setstate__}
    if setstate in allowed:
        return True
    # scikit-learn's own restorers (e.g. TreePredictor's dtype fix) are scikit-learn code,
    # trusted as skops trusts scikit-learn
    return (getattr(setstate, "__module__", "") or "").startswith("sklearn.")


# ------------------------------------------------------------------- network params
def _class_allowed(cls):
    import torch
    from skorch.dataset import Dataset

    module = getattr(cls, "__module__", "") or ""
    if not isinstance(cls, type) or module.split(".")[0] not in ("sklearn_sleep", "torch",
                                                                 "skorch"):
        return False
    if issubclass(cls, torch.nn.Module):
        return module.startswith(("sklearn_sleep.models", "torch.nn"))
    return issubclass(cls, (torch.optim.Optimizer, Dataset, torch.utils.data.DataLoader))


def _encode_value(value, where):
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        value = float(value)
        return value if math.isfinite(value) else {"__float__": repr(value)}
    if isinstance(value, type):
        if not _class_allowed(value):
            raise ValueError(
                f"parameter {where} is the class {value.__module__}.{value.__qualname__}, "
                "which the safe model format cannot store (only the library's networks and "
                "losses, torch.nn modules, torch optimizers, skorch datasets and torch "
                "DataLoaders). Save with format='pickle' instead."
            )
        return {"__class__": f"{value.__module__}.{value.__qualname__}"}
    if isinstance(value, np.ndarray):
        if value.dtype.kind not in "biuf":
            raise ValueError(f"parameter {where}: array of dtype {value.dtype} cannot be stored.")
        return {"__ndarray__": value.tolist(), "dtype": value.dtype.str}
    if isinstance(value, (list, tuple)):
        items = [_encode_value(v, f"{where}[{i}]") for i, v in enumerate(value)]
        return items if isinstance(value, list) else {"__tuple__": items}
    if isinstance(value, dict):
        if all(isinstance(k, str) for k in value):
            return {"__dict__": {k: _encode_value(v, f"{where}[{k!r}]")
                                 for k, v in value.items()}}
        # other keys (e.g. integer labels of stage_map / class_weight): typed pairs
        for k in value:
            if isinstance(k, bool) or not isinstance(k, (str, numbers.Integral)):
                raise ValueError(f"parameter {where}: dict key {k!r} ({type(k).__name__}) "
                                 "cannot be stored (strings or integers only).")
        return {"__dict_items__": [[_encode_value(k, f"{where} key"),
                                    _encode_value(v, f"{where}[{k!r}]")]
                                   for k, v in value.items()]}
    raise ValueError(
        f"parameter {where} = {value!r} ({type(value).__name__}) cannot be stored in the safe "
        "model format (only numbers, strings, lists, dicts, arrays and the library's classes). "
        "Save with format='pickle' instead."
    )


def _decode_value(value, where):
    if isinstance(value, list):
        return [_decode_value(v, where) for v in value]
    if not isinstance(value, dict):
        return value
    if set(value) == {"__class__"}:
        cls = _resolve_class(value["__class__"], where)
        return cls
    if set(value) == {"__float__"}:
        return float(value["__float__"])
    if set(value) == {"__tuple__"}:
        return tuple(_decode_value(v, where) for v in value["__tuple__"])
    if set(value) == {"__dict__"}:
        return {k: _decode_value(v, where) for k, v in value["__dict__"].items()}
    if set(value) == {"__dict_items__"}:
        items = value["__dict_items__"]
        if not isinstance(items, list) or not all(
                isinstance(i, list) and len(i) == 2 and isinstance(i[0], (str, int))
                and not isinstance(i[0], bool) for i in items):
            raise UnsafeModelError(f"parameter {where}: malformed dict items.")
        return {k: _decode_value(v, where) for k, v in items}
    if set(value) == {"__ndarray__", "dtype"}:
        dtype = np.dtype(value["dtype"])
        if dtype.kind not in "biuf":
            raise UnsafeModelError(f"parameter {where}: array dtype {dtype} is not allowed.")
        return np.asarray(value["__ndarray__"], dtype=dtype)
    raise UnsafeModelError(f"parameter {where}: unknown encoded value {sorted(value)}.")


def _resolve_class(name, where):
    root = str(name).split(".", 1)[0]
    if root not in ("sklearn_sleep", "torch", "skorch"):
        raise UnsafeModelError(f"parameter {where} refers to {name!r}; only classes of "
                               "sklearn_sleep, torch and skorch are allowed.")
    cls = _resolve(name)
    if not _class_allowed(cls):
        raise UnsafeModelError(f"parameter {where} refers to {name!r}, which is not an "
                               "allowed network, loss, optimizer, dataset or loader class.")
    return cls


def _network_classes():
    from . import models

    return {f"{cls.__module__}.{cls.__qualname__}": cls for cls in
            (getattr(models, n) for n in models.__all__)
            if isinstance(cls, type) and issubclass(cls, models.SleepNetClassifier)}


def _module_names(net):
    names = []
    for name in list(getattr(net, "_modules", [])) + list(getattr(net, "_criteria", [])):
        if name not in names:
            names.append(name)
    return names or ["module", "criterion"]


# ---------------------------------------------------------------------------- API
def encode_estimator(estimator):
    """Describe a fitted estimator as JSON plus binary members (no pickle).

    Parameters
    ----------
    estimator : estimator object
        A fitted network classifier of :mod:`sklearn_sleep.models`, or any estimator
        skops can store.

    Returns
    -------
    description : dict
        JSON-able; ``"kind"`` is ``"skops"`` or ``"network"``.
    members : dict of str -> bytes
        Archive members to write beside the JSON.
    """
    from .models import SleepNetClassifier

    if isinstance(estimator, SleepNetClassifier):
        return _encode_network(estimator)
    import skops.io as sio

    try:
        data = sio.dumps(estimator)
    except Exception as exc:  # skops raises several types for unsupported objects
        raise ValueError(
            f"the safe model format cannot store this {type(estimator).__name__} ({exc}). "
            "Use library transformers and scikit-learn estimators (no lambdas or custom "
            "functions), or save with format='pickle'."
        ) from exc
    for name in sio.get_untrusted_types(data=data):
        try:
            check_trusted_type(name)
        except UnsafeModelError as exc:
            hint = (" It is a joblib cache: give memory= as a folder path (a str) or None "
                    "instead of a joblib.Memory object." if name.startswith("joblib.") else "")
            raise ValueError(
                f"the safe model format cannot store this {type(estimator).__name__}: it "
                f"contains {name!r}, which could not be trusted when loading.{hint} Use "
                "library transformers and scikit-learn estimators, or save with "
                "format='pickle'."
            ) from exc
    return {"kind": "skops", "file": _SKOPS_MEMBER,
            "class": f"{type(estimator).__module__}.{type(estimator).__qualname__}"}, \
        {_SKOPS_MEMBER: data}


def _encode_network(net):
    from safetensors.torch import save as save_tensors

    cls_name = f"{type(net).__module__}.{type(net).__qualname__}"
    if cls_name not in _network_classes():
        raise ValueError(
            f"{cls_name} is not a network class of sklearn_sleep.models; the safe model "
            "format stores only those. Save with format='pickle' instead."
        )
    params, dropped = {}, []
    for key, value in net.get_params(deep=False).items():
        if key.startswith("_"):
            continue
        if key == "callbacks":
            if value:
                dropped.append(key)
            params[key] = None
            continue
        params[key] = _encode_value(value, key)
    state = {}
    for attr in _NET_STATE:
        if hasattr(net, attr):
            state[attr] = _encode_value(getattr(net, attr), attr)
    classes = np.asarray(net.classes_)
    values = classes.tolist()
    if classes.dtype.kind not in "biuUO" or not all(
            isinstance(v, (str, int)) and not isinstance(v, bool) for v in values):
        raise ValueError(f"class labels {values!r} cannot be stored safely (strings or "
                         "integers only).")
    state["classes_"] = {"values": values, "dtype": classes.dtype.str}
    tensors = {}
    modules = _module_names(net)
    for name in modules:
        obj = getattr(net, name + "_", None)
        if obj is None or not hasattr(obj, "state_dict"):
            continue
        for key, tensor in obj.state_dict().items():
            tensors[f"{name}.{key}"] = tensor.detach().cpu().contiguous().clone()
    description = {"kind": "network", "class": cls_name, "params": params,
                   "fitted": state, "modules": modules, "file": _WEIGHTS_MEMBER,
                   "not_stored": dropped}
    return description, {_WEIGHTS_MEMBER: save_tensors(tensors)}


def decode_estimator(description, read_member, *, path):
    """Rebuild the estimator written by :func:`encode_estimator` (no pickle).

    Parameters
    ----------
    description : dict
        The ``"estimator"`` entry of the model file's JSON.
    read_member : callable
        ``read_member(name) -> bytes`` for the archive's members.
    path : str
        Model file name, for messages.

    Returns
    -------
    estimator : estimator object
    """
    kind = description.get("kind") if isinstance(description, dict) else None
    if kind == "skops":
        import skops.io as sio

        data = read_member(description.get("file", _SKOPS_MEMBER))
        untrusted = sio.get_untrusted_types(data=data)
        for name in untrusted:
            check_trusted_type(name)
        return sio.loads(data, trusted=untrusted)
    if kind == "network":
        return _decode_network(description, read_member, path=path)
    raise UnsafeModelError(f"{path!r}: unknown estimator kind {kind!r}.")


def _decode_network(description, read_member, *, path):
    import torch
    from safetensors.torch import load as load_tensors

    from .models._base import fill_params_added_later

    classes = _network_classes()
    cls_name = description.get("class")
    if cls_name not in classes:
        raise UnsafeModelError(f"{path!r}: {cls_name!r} is not a network of sklearn_sleep.models.")
    cls = classes[cls_name]
    params = {k: _decode_value(v, k) for k, v in dict(description.get("params", {})).items()}
    fill_params_added_later(cls, params)  # files written before they existed
    device = params.get("device", "auto")
    if isinstance(device, str) and device.startswith("cuda") and not torch.cuda.is_available():
        params["device"] = "cpu"
    net = cls(**params)
    for attr, value in dict(description.get("fitted", {})).items():
        if attr == "classes_":
            dtype = np.dtype(value["dtype"])
            labels = value["values"]
            if dtype.kind not in "biuUO" or not isinstance(labels, list) or not all(
                    isinstance(v, (str, int)) and not isinstance(v, bool) for v in labels):
                raise UnsafeModelError(f"{path!r}: class labels must be strings or integers.")
            classes = np.empty(len(labels), dtype=dtype)
            classes[:] = labels
            net.__dict__["classes_fitted_"] = classes
        elif attr in _NET_STATE:
            setattr(net, attr, _decode_value(value, attr))
        else:
            raise UnsafeModelError(f"{path!r}: unexpected fitted attribute {attr!r}.")
    if not hasattr(net, "input_shape_") or "classes_fitted_" not in net.__dict__:
        raise UnsafeModelError(f"{path!r}: the network is not fitted (no input shape/classes).")
    if "stage_names_" not in net.__dict__:  # files written before stage_names_ was stored
        from .utils._stages import identify_stages

        try:
            net.stage_names_ = identify_stages(net.__dict__["classes_fitted_"], net.stage_map)
        except ValueError as exc:
            raise UnsafeModelError(f"{path!r}: {exc}") from exc
    if isinstance(net.stage_names_, list):
        net.stage_names_ = tuple(net.stage_names_)
    tensors = load_tensors(read_member(description.get("file", _WEIGHTS_MEMBER)))
    state = np.random.get_state()
    try:
        with torch.random.fork_rng(devices=[]):  # initialisation draws; keep the global RNGs
            net.initialize()
    finally:
        np.random.set_state(state)
    for name in description.get("modules", []):
        obj = getattr(net, name + "_", None)
        prefix = f"{name}."
        part = {k[len(prefix):]: v for k, v in tensors.items() if k.startswith(prefix)}
        if obj is None or not hasattr(obj, "load_state_dict"):
            if part:
                raise UnsafeModelError(f"{path!r}: weights for unknown part {name!r}.")
            continue
        try:
            obj.load_state_dict(part, strict=True)
        except RuntimeError as exc:
            raise UnsafeModelError(
                f"{path!r}: the stored weights do not fit {cls.__name__}'s {name} "
                f"({str(exc).splitlines()[0]})."
            ) from exc
    return net

