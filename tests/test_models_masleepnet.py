"""Tests of MASleepNet (Wang et al., Biomimetics 2025) and its classifier."""

import pickle

import numpy as np
import pytest
import torch
from skorch.callbacks import LRScheduler
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GridSearchCV, GroupKFold, cross_validate
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer

from sklearn_sleep.metrics import sleep_scoring
from sklearn_sleep.models import MASleepNet, MASleepNetClassifier
from sklearn_sleep.models.losses import WeightedCrossEntropyLoss, attnsleep_class_weights

ESTIMATED_PARAMS = 1_600_000  # NETWORKS.md Sec. 2.2: "approximately 1.6 M"
N_TIMES_FAST = 1000
FREQS = {"W": 10.0, "N2": 3.0, "REM": 6.0}
EMG_GAIN = {"W": 3.0, "N2": 1.0, "REM": 0.2}


def make_psg(n_per_class, n_times=N_TIMES_FAST, seed=0, n_subjects=2):
    """4-channel PSG-like epochs whose stage sets the EEG rhythm and the EMG level."""
    rng = np.random.default_rng(seed)
    y = np.repeat(np.array(list(FREQS)), n_per_class)
    rng.shuffle(y)
    t = np.arange(n_times) / 100.0
    X = rng.normal(0.0, 1.0, (len(y), 4, n_times))
    for i, stage in enumerate(y):
        phase = rng.uniform(0, 2 * np.pi, 2)
        X[i, 0] += 3 * np.sin(2 * np.pi * FREQS[stage] * t + phase[0])
        X[i, 1] += 3 * np.sin(2 * np.pi * FREQS[stage] * t + phase[1])
        X[i, 3] *= EMG_GAIN[stage]
    groups = np.arange(len(y)) % n_subjects
    return X.astype(np.float32), y, groups


def fast_clf(**kwargs):
    params = dict(max_epochs=3, batch_size=16, random_state=0, device="cpu")
    params.update(kwargs)
    return MASleepNetClassifier(**params)


@pytest.fixture(scope="module")
def data():
    return make_psg(12, seed=0), make_psg(10, seed=1)


@pytest.fixture(scope="module")
def fitted(data):
    (X, y, _), _ = data
    return fast_clf().fit(X, y)


def n_params(module):
    return sum(p.numel() for p in module.parameters())


# ----------------------------------------------------------------- the module
def test_output_shape_and_inner_shapes_paper_input():
    torch.manual_seed(0)
    net = MASleepNet().eval()
    x = torch.randn(3, 4, 3000)
    with torch.no_grad():
        eeg = x[:, :2]
        assert net.mfem[0].local(eeg).shape == (3, 128, 64)
        assert net.mfem[0].global_(eeg).shape == (3, 128, 16)
        assert net.mfem[0](eeg).shape == (3, 128, 80)
        out = net(x)
    assert net.modality_channels == [[0, 1], [2], [3]]
    assert net.n_steps == 80
    assert out.shape == (3, 5) and out.dtype == torch.float32
    weights = net.fusion.last_weights_
    assert weights.shape == (3, 3)
    np.testing.assert_allclose(weights.sum(1).numpy(), 1.0, rtol=1e-5)
    alpha = net.attention.last_weights_
    assert alpha.shape == (3, 80)
    np.testing.assert_allclose(alpha.sum(1).numpy(), 1.0, rtol=1e-5)


def test_parameter_count_against_networks_md_estimate():
    net = MASleepNet()
    total = n_params(net)
    print(f"MASleepNet parameters: {total:,} (NETWORKS.md estimate ~{ESTIMATED_PARAMS:,})")
    assert total == 1_551_249
    assert abs(total - ESTIMATED_PARAMS) <= 0.05 * ESTIMATED_PARAMS
    # independent count of the pieces: per-modality MFEM, BiLSTM, attention, head
    def branch(in_ch, k1, k2, se=True):
        convs = in_ch * 64 * k1 + 64 * 128 * k2 + 128 * 128 * k2
        bns = 2 * (64 + 128 + 128)
        return convs + bns + (2 * 128 * 8 if se else 0)

    mfem = branch(2, 50, 8) + branch(2, 400, 7) + 2 * (branch(1, 50, 8) + branch(1, 400, 7))
    lstm = 2 * (4 * 128 * (128 + 128) + 8 * 128)
    attention = 256 * 128 + 128 + 128
    head = 256 * 64 + 64 + 64 * 5 + 5
    fusion = 3 * 3 + 3
    assert n_params(net.mfem) == mfem
    assert n_params(net.lstm) == lstm
    assert total == mfem + lstm + attention + head + fusion


def _branch_count(in_ch, k1, k2, se=True):
    """One MFEM branch: bias-free convs in_ch->64->128->128, 3 BatchNorms, SE (no bias)."""
    convs = in_ch * 64 * k1 + 64 * 128 * k2 + 128 * 128 * k2
    return convs + 2 * (64 + 128 + 128) + (2 * 128 * 8 if se else 0)


def test_ablation_parameter_counts():
    """Every ablation of the paper (No-MSConv, No-SE, EEG-Only) and the two alternative
    readings (concat-SE fusion, separate EEG branches), counted layer by layer."""
    lstm = 2 * (4 * 128 * (128 + 128) + 8 * 128)  # BiLSTM 128 -> 128 per direction
    attention = 256 * 128 + 128 + 128
    head = 256 * 64 + 64 + 64 * 5 + 5

    def fusion(m):  # weighted-sum fusion: Linear(M, M)
        return m * m + m

    def local(in_ch, se=True):
        return _branch_count(in_ch, 50, 8, se)

    def glob(in_ch, se=True):
        return _branch_count(in_ch, 400, 7, se)

    full = local(2) + glob(2) + 2 * (local(1) + glob(1)) + fusion(3) + lstm + attention + head
    no_msconv = local(2) + 2 * local(1) + fusion(3) + lstm + attention + head
    no_se = (local(2, False) + glob(2, False) + 2 * (local(1, False) + glob(1, False))
             + fusion(3) + lstm + attention + head)
    eeg_only = local(2) + glob(2) + fusion(1) + lstm + attention + head
    # concat-SE fusion: SE over 3 x 128 channels (r = 16, no bias); the BiLSTM reads 384
    concat_lstm = 2 * (4 * 128 * (3 * 128 + 128) + 8 * 128)
    concat = (local(2) + glob(2) + 2 * (local(1) + glob(1)) + 2 * 384 * 24 + concat_lstm
              + attention + head)
    # separate Fpz-Cz / Pz-Oz branches: 4 single-channel modalities
    separate = 4 * (local(1) + glob(1)) + fusion(4) + lstm + attention + head
    assert (full, no_msconv, no_se, eeg_only) == (1_551_249, 924_689, 1_538_961, 745_607)
    assert n_params(MASleepNet()) == full
    assert n_params(MASleepNet(use_global_branch=False)) == no_msconv
    assert n_params(MASleepNet(use_se=False)) == no_se
    assert n_params(MASleepNet(modalities="eeg")) == eeg_only
    assert n_params(MASleepNet(modalities="eeg", n_chans=2)) == eeg_only
    assert n_params(MASleepNet(fusion="concat_se")) == concat == 1_831_813
    assert n_params(MASleepNet(eeg_branches="separate")) == separate == 1_925_273


def test_ablation_switches():
    x = torch.randn(2, 4, 3000)
    full = n_params(MASleepNet())
    no_ms = MASleepNet(use_global_branch=False).eval()
    assert no_ms.mfem[0].global_ is None and no_ms.n_steps == 64
    no_se = MASleepNet(use_se=False).eval()
    assert full - n_params(no_se) == 6 * 2 * 128 * 8  # 6 SE modules (3 modalities x 2)
    eeg_only = MASleepNet(modalities="eeg").eval()
    assert len(eeg_only.mfem) == 1 and eeg_only.modality_channels == [[0, 1]]
    eeg_input = MASleepNet(modalities="eeg", n_chans=2).eval()
    concat = MASleepNet(fusion="concat_se").eval()
    assert concat.lstm.input_size == 3 * 128
    separate = MASleepNet(eeg_branches="separate").eval()
    assert separate.modality_channels == [[0], [1], [2], [3]]
    with torch.no_grad():
        for net in (no_ms, no_se, eeg_only, concat, separate):
            assert net(x).shape == (2, 5)
        assert eeg_input(x[:, :2]).shape == (2, 5)
        # EEG-only ignores EOG and EMG by design
        eeg_input.load_state_dict(eeg_only.state_dict())
        np.testing.assert_allclose(eeg_only(x).numpy(), eeg_input(x[:, :2]).numpy(), rtol=1e-5)


def test_weighted_sum_fusion_matches_manual_computation():
    torch.manual_seed(0)
    net = MASleepNet().eval()
    x = torch.randn(2, 4, 3000)
    with torch.no_grad():
        feats = [net.mfem[0](x[:, :2]), net.mfem[1](x[:, 2:3]), net.mfem[2](x[:, 3:4])]
        gap = torch.stack([f.mean(dim=(1, 2)) for f in feats], dim=1)  # (B, 3)
        w = torch.softmax(gap @ net.fusion.fc.weight.T + net.fusion.fc.bias, dim=1)
        fused = sum(w[:, m, None, None] * feats[m] for m in range(3))
        h, _ = net.lstm(fused.transpose(1, 2))
        e = net.attention.score(torch.tanh(net.attention.proj(h))).squeeze(-1)
        context = (torch.softmax(e, 1).unsqueeze(-1) * h).sum(1)
        expected = net.classifier(context)
        got = net(x)
    np.testing.assert_allclose(got.numpy(), expected.numpy(), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize(
    "kwargs", [dict(n_chans=3), dict(n_chans=5), dict(n_chans=1, modalities="eeg")]
)
def test_wrong_channel_count_is_a_clear_error(kwargs):
    with pytest.raises(ValueError, match=r"input channels.*n_chans=" + str(kwargs["n_chans"])):
        MASleepNet(**kwargs)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(modalities="eog"), "modalities"),
        (dict(fusion="mean"), "fusion"),
        (dict(activation="tanh"), "activation"),
        (dict(eeg_branches="both"), "eeg_branches"),
        (dict(eeg_channels=(0, 2)), "distinct indices"),
    ],
)
def test_bad_options_are_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        MASleepNet(**kwargs)


def test_one_gradient_step_reduces_the_loss():
    torch.manual_seed(0)
    X, y, _ = make_psg(2, n_times=3000)
    x = torch.from_numpy(X)
    target = torch.as_tensor(np.searchsorted(np.array(["N2", "REM", "W"]), y))
    net = MASleepNet(n_classes=3)
    opt = torch.optim.SGD(net.parameters(), lr=1e-2)
    criterion = torch.nn.CrossEntropyLoss()

    def loss_at_fixed_dropout():
        torch.manual_seed(123)
        return criterion(net(x), target)

    before = loss_at_fixed_dropout()
    opt.zero_grad()
    before.backward()
    opt.step()
    with torch.no_grad():
        after = loss_at_fixed_dropout()
    assert after.item() < before.item()


# ------------------------------------------------------------- the classifier
def test_classifier_defaults():
    clf = MASleepNetClassifier()
    params = clf.get_params()
    assert params["module"] is MASleepNet
    assert params["criterion"] is WeightedCrossEntropyLoss
    assert params["optimizer"] is torch.optim.Adam
    assert (params["lr"], params["max_epochs"], params["batch_size"]) == (1e-3, 100, 128)
    assert params["optimizer__betas"] == (0.9, 0.999)
    assert params["optimizer__weight_decay"] == 1e-3
    assert params["optimizer__amsgrad"] is True
    assert params["class_weight"] == "attnsleep"
    assert params["lr_milestones"] == (10,) and params["lr_gamma"] == 0.1
    assert params["sfreq"] == 100.0
    names = [name for name, _ in clf.get_default_callbacks()]
    assert "lr_step" in names
    assert "lr_step" not in [n for n, _ in clf.set_params(lr_milestones=None).get_default_callbacks()]


def test_lr_schedule_drops_the_learning_rate():
    X, y, _ = make_psg(2, n_times=400)
    clf = fast_clf(max_epochs=3, lr_milestones=(2,), lr_gamma=0.1, batch_size=6)
    clf.fit(X, y)
    callbacks = dict(clf.callbacks_)
    assert isinstance(callbacks["lr_step"], LRScheduler)
    assert clf.optimizer_.param_groups[0]["lr"] == pytest.approx(1e-4)


def test_attnsleep_class_weights_reach_the_loss():
    rng = np.random.default_rng(0)
    counts = {"W": 10, "N1": 3, "N2": 20, "N3": 6, "REM": 8}
    y = np.array([s for s, c in counts.items() for _ in range(c)])
    X = rng.normal(size=(len(y), 4, 400)).astype(np.float32)
    clf = fast_clf(max_epochs=1, batch_size=47).fit(X, y)
    stages = ["W", "N1", "N2", "N3", "REM"]
    codes = np.array([stages.index(s) for s in y])
    # the weights are computed in stage order, then laid out in (sorted) classes_ order
    assert clf.classes_.tolist() == ["N1", "N2", "N3", "REM", "W"]
    expected = attnsleep_class_weights(codes)[[stages.index(c) for c in clf.classes_]]
    np.testing.assert_allclose(clf.class_weight_, expected)
    np.testing.assert_allclose(clf.criterion_.weight.numpy(), expected, rtol=1e-6)
    # hand computation for N1 (column 0): max(1, ln(0.4 * 47 / 3)) * 0.4
    assert clf.class_weight_[0] == pytest.approx(round(max(1, np.log(0.4 * 47 / 3)) * 0.4, 2))
    # a subset of stages uses the matching mu entries
    sub = fast_clf(max_epochs=1).fit(X[y != "N1"], y[y != "N1"])
    assert sub.classes_.tolist() == ["N2", "N3", "REM", "W"]
    assert sub.class_weight_.shape == (4,)


def test_attnsleep_weights_need_stage_labels():
    X, _, _ = make_psg(2, n_times=400)
    y = np.array(["a", "b", "c", "a", "b", "c"])
    with pytest.raises(ValueError, match="class_weight='attnsleep'"):
        fast_clf(max_epochs=1).fit(X, y)
    fast_clf(max_epochs=1, class_weight=None).fit(X, y)


def test_classifier_learns_known_answer_and_round_trips_string_labels(data, fitted):
    (_, y, _), (X_test, y_test, _) = data
    assert fitted.classes_.tolist() == ["N2", "REM", "W"]
    pred = fitted.predict(X_test)
    assert pred.dtype == y.dtype and set(pred) <= set(y)
    acc = np.mean(pred == y_test)
    assert acc > 0.7, acc  # chance is 1/3
    proba = fitted.predict_proba(X_test)
    np.testing.assert_allclose(proba.sum(1), 1.0, rtol=1e-5)


def test_eeg_only_ablation_through_the_classifier(data):
    (X, y, _), (X_test, _, _) = data
    clf = fast_clf(max_epochs=1, module__modalities="eeg").fit(X, y)
    assert len(clf.module_.mfem) == 1
    assert clf.predict(X_test).shape == (len(X_test),)


def test_clone_get_set_params(fitted):
    clf = fast_clf(module__lstm_hidden=32)
    cloned = clone(clf)
    assert cloned.get_params()["module__lstm_hidden"] == 32
    assert cloned.get_params()["lr_milestones"] == (10,)
    assert not hasattr(cloned, "module_")
    cloned.set_params(module__lstm_hidden=16, module__use_se=False, lr=5e-4)
    X, y, _ = make_psg(3, n_times=400)
    assert cloned.set_params(max_epochs=1).fit(X, y) is cloned
    assert cloned.module_.lstm.hidden_size == 16
    assert cloned.module_.classifier[1].in_features == 32
    assert clone(fitted).get_params()["class_weight"] == "attnsleep"


def test_pickle_gives_identical_predictions(data, fitted):
    _, (X_test, _, _) = data
    restored = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(restored.predict(X_test), fitted.predict(X_test))
    np.testing.assert_allclose(restored.predict_proba(X_test), fitted.predict_proba(X_test))


def test_not_fitted_and_wrong_shape_errors(data, fitted):
    _, (X_test, _, _) = data
    with pytest.raises(NotFittedError):
        fast_clf().predict(X_test)
    with pytest.raises(ValueError, match=r"\(4, 1000\).*\(4, 900\)"):
        fitted.predict(X_test[:, :, :900])
    with pytest.raises(ValueError, match=r"\(4, 1000\).*\(2, 1000\)"):
        fitted.predict(X_test[:, :2])


def test_pipeline_cross_validate_and_grid_search():
    X, y, groups = make_psg(6, n_times=600, n_subjects=4)
    pipe = Pipeline([
        ("scale", FunctionTransformer(lambda a: a / 3.0)),
        ("net", fast_clf(max_epochs=1, batch_size=8)),
    ])
    scores = cross_validate(pipe, X, y, groups=groups, cv=GroupKFold(2), scoring=sleep_scoring())
    for key in ("test_accuracy", "test_macro_f1", "test_kappa", "test_gmean"):
        assert scores[key].shape == (2,) and np.all(np.isfinite(scores[key]))
    grid = GridSearchCV(
        pipe,
        {"net__module__use_global_branch": [True, False], "net__lr": [1e-3, 1e-4]},
        cv=GroupKFold(2),
    )
    grid.fit(X, y, groups=groups)
    assert set(grid.best_params_) == {"net__module__use_global_branch", "net__lr"}
    best = grid.best_estimator_.named_steps["net"]
    has_global = best.module_.mfem[0].global_ is not None
    assert has_global == grid.best_params_["net__module__use_global_branch"]
    assert grid.predict(X).shape == y.shape


@pytest.mark.slow
def test_full_length_epochs_with_synthetic_psg():
    """Paper input (4 x 3000 at 100 Hz) from make_synthetic_psg, if it has landed."""
    from sklearn_sleep.datasets import make_synthetic_psg

    try:
        data = make_synthetic_psg(n_subjects=3, n_epochs=60, preset="human", random_state=0)
    except NotImplementedError:
        pytest.skip("make_synthetic_psg is not implemented yet")
    train = data.groups != data.groups[-1]
    clf = MASleepNetClassifier(max_epochs=8, batch_size=32, random_state=0, device="cpu",
                               class_weight=None)
    clf.fit(data.X[train], data.y[train])
    acc = np.mean(clf.predict(data.X[~train]) == data.y[~train])
    chance = np.max(np.unique(data.y[~train], return_counts=True)[1]) / (~train).sum()
    print(f"held-out subject accuracy {acc:.3f} (majority-class rate {chance:.3f})")
    assert acc > chance, (acc, chance)


@pytest.mark.gpu
def test_gpu_fit_with_mixed_precision(data):
    if not torch.cuda.is_available():
        pytest.skip("needs a CUDA device")
    (X, y, _), (X_test, _, _) = data
    clf = fast_clf(max_epochs=1, device="cuda", mixed_precision=True).fit(X, y)
    assert next(clf.module_.parameters()).is_cuda
    pred = clf.predict(X_test)
    proba = clf.predict_proba(X_test)
    assert isinstance(pred, np.ndarray) and isinstance(proba, np.ndarray)
    assert proba.shape == (len(X_test), 3) and np.all(np.isfinite(proba))
