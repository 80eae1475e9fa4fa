"""The recipe tables of docs/networks.md against the classifiers' actual defaults.

Every classifier of ``sklearn_sleep.models`` has a table under "## Training recipes" in
``docs/networks.md``: one row per default (setting, default value, the ``get_params()``
key it is read from, source). This test parses those tables and compares each
documented default with the classifier's ``get_params()`` (or, for a prefixed
argument that is not set, the default of the module / optimizer / criterion class;
for a schedule, the policy of the default callback).
"""

import ast
import importlib
import inspect
import re
from pathlib import Path

import numpy as np
import pytest
import torch

import sklearn_sleep.models as models
from sklearn_sleep.models._mouse_blocks import OneCycleSchedule
from sklearn_sleep.utils import AASM_STAGES

DOC = Path(__file__).resolve().parents[1] / "docs" / "networks.md"
CLASSIFIERS = [
    "MMASleepNetClassifier",
    "MASleepNetClassifier",
    "ULWSleepNetClassifier",
    "SSCSleepNetClassifier",
    "MouseCNNClassifier",
    "MouseCNNAttentionClassifier",
    "MouseTransformerClassifier",
    "SlumberNetClassifier",
]
#: settings every table must document (the first column, case-insensitive)
REQUIRED = ["optimizer", "learning rate", "weight decay", "scheduler", "batch size",
            "epochs", "loss", "class weights", "augmentation"]
SOURCE_TAGS = ("PAPER", "CODE", "ASSUMPTION")


def _tables():
    text = DOC.read_text(encoding="utf-8")
    match = re.search(r"^## Training recipes\n(.*?)(?=^## |\Z)", text, flags=re.S | re.M)
    assert match, "docs/networks.md has no '## Training recipes' section"
    tables = {}
    for block in re.split(r"^### ", match.group(1), flags=re.M)[1:]:
        heading, _, body = block.partition("\n")
        name = heading.strip().strip("`")
        rows = []
        for line in body.splitlines():
            if not line.startswith("|") or set(line) <= set("|-: "):
                continue
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if cells[0].lower() == "setting":
                continue
            assert len(cells) == 4, f"{name}: row {line!r} does not have 4 cells"
            rows.append(dict(zip(("setting", "default", "parameter", "source"), cells)))
        tables[name] = rows
    return tables


TABLES = _tables()


def _code(cell):
    """The text inside the first pair of backticks, or None."""
    found = re.search(r"`([^`]*)`", cell)
    return found.group(1) if found else None


def _value(text):
    """A documented default: a Python literal, or a dotted / bare class name."""
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        pass
    if "." in text:
        module, _, attr = text.rpartition(".")
        return getattr(importlib.import_module(module), attr)
    for namespace in (models, models.losses, torch.optim, torch.optim.lr_scheduler):
        if hasattr(namespace, text):
            return getattr(namespace, text)
    raise AssertionError(f"cannot read the documented default {text!r}")


def _actual(clf, key):
    params = clf.get_params()
    if key in params:
        return params[key]
    prefix, _, name = key.partition("__")
    assert name, f"{type(clf).__name__} has no parameter {key!r}"
    owner = params[prefix]  # the module / optimizer / criterion class
    signature = inspect.signature(owner)
    assert name in signature.parameters, f"{owner.__name__} takes no argument {name!r}"
    return signature.parameters[name].default


def _scheduler(clf, name):
    callbacks = dict(clf.get_default_callbacks())
    cb = callbacks.get(name)
    if cb is None:
        return None
    if isinstance(cb, OneCycleSchedule):
        return "OneCycleLR"
    policy = cb.policy
    return policy if isinstance(policy, str) else policy.__name__


def _is_pairs(value):
    return (isinstance(value, (tuple, list)) and len(value) > 0
            and all(isinstance(v, (tuple, list)) and len(v) == 2 and isinstance(v[0], str)
                    for v in value))


def _same(documented, actual):
    if isinstance(documented, dict) and _is_pairs(actual):  # stage-keyed pairs
        actual = dict(actual)
    if isinstance(actual, dict) and isinstance(documented, dict):
        return {str(k): float(v) for k, v in actual.items()} == {
            str(k): float(v) for k, v in documented.items()}
    if isinstance(documented, dict) and isinstance(actual, (tuple, list)):
        # stage-keyed documentation of a weight sequence in canonical stage order
        return _same(documented, dict(zip(AASM_STAGES, actual)))
    if isinstance(documented, (tuple, list)) and isinstance(actual, (tuple, list)):
        return len(documented) == len(actual) and all(
            _same(d, a) for d, a in zip(documented, actual))
    if isinstance(documented, float) or isinstance(actual, float):
        return (isinstance(actual, (int, float)) and not isinstance(actual, bool)
                and np.isclose(documented, actual, rtol=1e-12, atol=0))
    return documented is actual or documented == actual


def test_every_classifier_has_a_recipe_table():
    assert sorted(TABLES) == sorted(CLASSIFIERS)
    for name, rows in TABLES.items():
        settings = {r["setting"].lower() for r in rows}
        missing = [s for s in REQUIRED if s not in settings]
        assert not missing, f"{name}: recipe table lacks {missing}"
        for row in rows:
            assert any(tag in row["source"] for tag in SOURCE_TAGS), (
                f"{name} / {row['setting']}: source {row['source']!r} names no "
                f"PAPER / CODE / ASSUMPTION")


@pytest.mark.parametrize("name", CLASSIFIERS)
def test_documented_defaults_match_get_params(name):
    clf = getattr(models, name)()
    checked = 0
    for row in TABLES[name]:
        param, default = _code(row["parameter"]), _code(row["default"])
        if param is None:  # a documented setting that is not a parameter (e.g. "none")
            continue
        assert default is not None, f"{name} / {row['setting']}: default not in backticks"
        if param.startswith("callback "):
            actual = _scheduler(clf, param.split()[1])
            expected = None if default == "None" else default
        else:
            actual, expected = _actual(clf, param), _value(default)
        assert _same(expected, actual), (
            f"{name}: docs/networks.md says {param} = {default}, the classifier has "
            f"{actual!r}")
        checked += 1
    assert checked >= 8


def test_parser_catches_a_wrong_default():
    """The comparison is not vacuous: a wrong documented value is detected."""
    clf = models.MouseCNNClassifier()
    assert _same(_value("0.01"), _actual(clf, "lr"))
    assert not _same(_value("1e-3"), _actual(clf, "lr"))
    assert _same(_value("0"), _actual(clf, "optimizer__weight_decay"))
    assert not _same(_value("torch.optim.AdamW"), _actual(clf, "optimizer"))
    assert _scheduler(clf, "lr_scheduler") == "OneCycleLR"
    assert not _same({"W": 1.0, "N1": 1.8, "N2": 1.0, "N3": 1.25, "REM": 1.0},
                     (1.0, 1.80, 1.0, 1.25, 1.20))
    weights = {"W": 1.0, "N1": 1.8, "N2": 1.0, "N3": 1.25, "REM": 1.2}
    assert _same(weights, (1.0, 1.80, 1.0, 1.25, 1.20))
    assert _same(weights, tuple(weights.items()))
    assert _same(weights, dict(weights))
