"""scikit-learn's estimator checks on every network classifier (tiny configurations).

The networks take epochs ``(n_epochs, n_chans, n_times)`` and declare
``two_d_array=False``, so a bare ``check_estimator`` would skip almost every check. They
are run through :func:`sklearn_sleep.utils.estimator_checks.adapt_to_2d` (same class and
parameters; each 2-D row becomes an epoch of ``n_features * repeats`` samples), with
``max_epochs=1`` and, where the published size would be slow, smaller ``module__``
hyper-parameters. Every expected failure is listed below with its reason, and the number
of checks run and passed per network may not drop below the figures recorded here and in
docs/user_guide.md (section 18).

Cost: the wrapper with a tiny module, ULW-SleepNet and the generic sequence network
(tiny ULW encoder, ``n_context=1``) run in the default suite (about 40 s on one core);
the other networks are marked ``slow``.
"""

import pytest
import torch
from torch import nn

from sklearn_sleep.models import (
    MASleepNetClassifier,
    MASleepNetSequenceClassifier,
    MMASleepNetClassifier,
    MouseCNNAttentionClassifier,
    MouseCNNClassifier,
    MouseTransformerClassifier,
    SleepNetClassifier,
    SlumberNetClassifier,
    SequenceSleepNetClassifier,
    SSCSleepNetClassifier,
    ULWSleepNet,
    ULWSleepNetClassifier,
)
from sklearn_sleep.utils.estimator_checks import (
    EPOCH_INPUT_EXPECTED_FAILURES,
    adapt_to_2d,
    check_counts,
    format_check_table,
    run_estimator_checks,
)


class TinyNet(nn.Module):
    """Per-channel log power into a small MLP (the generic wrapper's test module)."""

    def __init__(self, n_chans=1, n_times=10, n_classes=2, hidden=8):
        super().__init__()
        self.head = nn.Sequential(
            nn.Linear(n_chans, hidden), nn.ReLU(), nn.Linear(hidden, n_classes)
        )

    def forward(self, x):
        return self.head(torch.log(x.pow(2).mean(-1) + 1e-6))


#: Checks that fail by design for every network, with the reason.
NETWORK_EXPECTED_FAILURES = {
    **EPOCH_INPUT_EXPECTED_FAILURES,
    "check_no_attributes_set_in_init": (
        "skorch's NeuralNet.__init__ sets history_, initialized_ and virtual_params_ "
        "(bookkeeping of skorch, no learned state)."
    ),
    "check_set_params": (
        "skorch's get_params lists every attribute not ending in '_', including its "
        "private _params_to_validate; setting that to a float breaks skorch's set_params."
    ),
    "check_supervised_y_2d": (
        "y of shape (n, 1) is refused ('y must be 1-D') instead of raveled with a "
        "DataConversionWarning: labels are never reshaped silently."
    ),
    "check_classifiers_train": (
        "learning check: after 1 training epoch on the checks' tiled 2-D blobs a network "
        "may or may not reach the 0.83 training accuracy demanded (depends on the seed; "
        "learning is tested in tests/test_models_*.py)."
    ),
    "check_class_weight_classifiers": (
        "learning check: after 1 training epoch a network may or may not reach the "
        "balanced accuracy demanded with class_weight (class weights reaching the loss are "
        "tested in test_label_contract)."
    ),
}

#: The sequence networks (a GRU/LSTM over the epochs of each row) may also miss these
#: two checks by float32 rounding: oneDNN's batched recurrent kernels give results that
#: differ by ~1e-7 relative with the composition of a batch, and the checks compare
#: predictions of reordered/subset batches at rtol 1e-7 (seen: 3e-8 absolute on one value
#: of 60, in about one run of three under load). Row order itself is not used: each row
#: is its own sequence.
SEQUENCE_EXPECTED_FAILURES = {
    **NETWORK_EXPECTED_FAILURES,
    "check_methods_sample_order_invariance": (
        "float32 batch-composition rounding of the recurrent kernels (~1e-7 relative) "
        "against the check's rtol 1e-7; may pass."
    ),
    "check_methods_subset_invariance": (
        "float32 batch-composition rounding of the recurrent kernels (~1e-7 relative) "
        "against the check's rtol 1e-7; may pass."
    ),
}

#: Expected failures that may also pass (seed-dependent learning checks, and the
#: rounding-dependent invariance checks of the sequence networks): not stale.
LEARNING_CHECKS = {"check_classifiers_train", "check_class_weight_classifiers",
                   "check_methods_sample_order_invariance", "check_methods_subset_invariance"}


_FAST = dict(max_epochs=1, batch_size=16, random_state=0, device="cpu")

# (label, estimator, adapt_to_2d keywords, expected failures, recorded (run, passed), slow)
CONFIGS = [
    ("SleepNetClassifier(TinyNet)", SleepNetClassifier(TinyNet, lr=0.05, **_FAST),
     dict(n_channels=3, repeats=8), NETWORK_EXPECTED_FAILURES, (55, 42), False),
    ("ULWSleepNetClassifier(filters=(4, 4, 4), n_hidden=8)",
     ULWSleepNetClassifier(module__filters=(4, 4, 4), module__n_hidden=8, **_FAST),
     dict(n_channels=1, repeats=100), NETWORK_EXPECTED_FAILURES, (55, 42), False),
    # the stage-specific defaults need stage labels; the checks use integers and 'one',
    # 'two'..., so they are switched off (they are tested in test_label_contract)
    ("SSCSleepNetClassifier(criterion__n1_index=None)",
     SSCSleepNetClassifier(criterion__n1_index=None, **_FAST),
     dict(n_channels=1, repeats=100), NETWORK_EXPECTED_FAILURES, (55, 42), True),
    ("MASleepNetClassifier(class_weight=None)", MASleepNetClassifier(class_weight=None, **_FAST),
     dict(n_channels=4, repeats=100),
     NETWORK_EXPECTED_FAILURES, (55, 42), True),
    # MMASleepNet's kernels need >= 464 samples per epoch: 600 per feature
    ("MMASleepNetClassifier(class_weight=None)",
     MMASleepNetClassifier(class_weight=None, **_FAST), dict(n_channels=4, repeats=600),
     NETWORK_EXPECTED_FAILURES, (55, 42), True),
    ("MouseCNNClassifier()", MouseCNNClassifier(**_FAST), dict(n_channels=3, repeats=100),
     NETWORK_EXPECTED_FAILURES, (55, 42), True),
    ("MouseCNNAttentionClassifier()", MouseCNNAttentionClassifier(**_FAST),
     dict(n_channels=3, repeats=100), NETWORK_EXPECTED_FAILURES, (55, 42), True),
    # MouseTransformer cuts epochs into patches of 16 samples: 128 per feature
    ("MouseTransformerClassifier()", MouseTransformerClassifier(**_FAST),
     dict(n_channels=3, repeats=128),
     NETWORK_EXPECTED_FAILURES, (55, 42), True),
    ("SlumberNetClassifier(n_blocks=2, n_feature_maps=4)",
     SlumberNetClassifier(module__n_blocks=2, module__n_feature_maps=4, **_FAST),
     dict(n_channels=3, repeats=64), NETWORK_EXPECTED_FAILURES, (55, 42), True),
    # sequence networks take context sequences (n, 2k + 1, C, T): n_context=1 turns each
    # row into 3 epochs (circular shifts of the row's epoch, see to_epochs)
    ("SequenceSleepNetClassifier(ULWSleepNet, filters=(4, 4, 4), n_hidden=8, "
     "sequence_hidden=8)",
     SequenceSleepNetClassifier(ULWSleepNet, module__filters=(4, 4, 4), module__n_hidden=8,
                                sequence_hidden=8, **_FAST),
     dict(n_channels=1, repeats=100, n_context=1), SEQUENCE_EXPECTED_FAILURES, (55, 40),
     False),
    ("MASleepNetSequenceClassifier(class_weight=None, sequence_hidden=8, head_hidden=8)",
     MASleepNetSequenceClassifier(class_weight=None, sequence_hidden=8, head_hidden=8,
                                  **_FAST),
     dict(n_channels=4, repeats=100, n_context=1), SEQUENCE_EXPECTED_FAILURES, (55, 40),
     True),
]

#: Network classifiers not run through the checks, with the reason.
NOT_CHECKED = {
    "AcceleratedSleepNetClassifier": (
        "a thin mixin (skorch.hf.AccelerateMixin, overriding initialize only) over "
        "SleepNetClassifier, which is checked; the mixin itself departs from the "
        "estimator contract by design of skorch/accelerate: __init__(*args, accelerator, "
        "...) hides `module` from scikit-learn's signature checks, the stateful "
        "`accelerator` parameter keeps references to the prepared modules (fit mutates a "
        "parameter), the print-log sink parameter is replaced at initialize, and an "
        "accelerated net does not pickle. A probe run gave 55 run / 35 passed / 7 failed "
        "(docs/user_guide.md section 18); its training is tested in tests/test_distributed.py."
    ),
}


@pytest.mark.parametrize(
    "label, estimator, adapter, expected, recorded",
    [pytest.param(*c[:5], marks=[pytest.mark.slow] if c[5] else [], id=c[0]) for c in CONFIGS],
)
def test_network_estimator_checks(label, estimator, adapter, expected, recorded):
    results = run_estimator_checks(adapt_to_2d(estimator, **adapter),
                                   expected_failed_checks=expected)
    counts = check_counts(results)
    print("\n" + format_check_table({label: counts}))
    failed = [f"{r['check']}: {r['message']}" for r in results if r["status"] == "failed"]
    assert not failed, "unexpected failures:\n" + "\n".join(failed)
    stale = sorted({r["check"] for r in results
                    if r["status"] == "xpass" and r["check"] not in LEARNING_CHECKS})
    assert not stale, f"expected failures that now pass (drop them from the list): {stale}"
    skipped = [f"{r['check']}: {r['message']}" for r in results if r["status"] == "skipped"]
    # only the array-API check may skip (it needs SCIPY_ARRAY_API=1 and array-api-strict)
    assert all(s.startswith("check_array_api_input") for s in skipped), skipped
    run_min, passed_min = recorded
    assert counts["run"] >= max(run_min, 30), counts
    assert counts["passed"] >= passed_min, counts  # learning checks that pass are xpass
    assert all(r["reason"] for r in results if r["status"] == "xfail")


def test_every_network_is_checked():
    import sklearn_sleep.models as models

    classifiers = {
        n for n in models.__all__
        if isinstance(getattr(models, n), type)
        and issubclass(getattr(models, n), SleepNetClassifier)
    }
    checked = {type(c[1]).__name__ for c in CONFIGS}
    missing = classifiers - checked - set(NOT_CHECKED)
    assert not missing, missing
    assert not set(NOT_CHECKED) & checked  # no stale exemption


def test_docs_table_lists_the_recorded_figures():
    from pathlib import Path

    text = (Path(__file__).parents[1] / "docs" / "user_guide.md").read_text()
    for label, *_, (run, passed), _slow in CONFIGS:
        assert f"| `{label}` | {run} | {passed} |" in text, label
