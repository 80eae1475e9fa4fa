"""Tests of MMASleepNet (Zheng et al., Front. Neurosci. 2022) and its classifier."""

import pickle

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GridSearchCV, GroupKFold, cross_validate
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer

from sklearn_sleep.metrics import sleep_scoring
from sklearn_sleep.models import MMASleepNet, MMASleepNetClassifier
from sklearn_sleep.models.losses import WeightedCrossEntropyLoss

# The official code's count (NETWORKS.md Sec. 1.7); the paper only says "1.5M".
CODE_PARAMS = 1_604_229
N_TIMES_FAST = 1000  # 10 s at 100 Hz: the MBFE lengths follow n_times, kept short for speed
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
    params = dict(lr=1e-3, max_epochs=3, batch_size=16, random_state=0, device="cpu",
                  class_weight=None)
    params.update(kwargs)
    return MMASleepNetClassifier(**params)


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
    net = MMASleepNet().eval()
    x = torch.randn(3, 4, 3000)
    with torch.no_grad():
        assert net.eeg_branch(x[:, :2]).shape == (3, 128, 24)
        assert net.eog_branch(x[:, 2:3]).shape == (3, 64, 24)
        assert net.emg_branch(x[:, 3:4]).shape == (3, 64, 24)
        small = net.eeg_branch.small(x[:, :2])
        large = net.eeg_branch.large(x[:, :2])
        out = net(x)
    assert small.shape[-1] == 13 and large.shape[-1] == 11
    assert (net.n_steps, net.n_planes, net.d_model) == (24, 4, 96)
    assert out.shape == (3, 5)
    assert out.dtype == torch.float32


def test_parameter_count_matches_networks_md():
    net = MMASleepNet()
    total = n_params(net)
    assert total == CODE_PARAMS
    assert n_params(net.eeg_branch) == 648_960
    assert n_params(net.eog_branch) == n_params(net.emg_branch) == 162_688
    assert n_params(net.modal_se) == 96
    assert n_params(net.transformer) == 432_992
    assert net.eog_branch is not net.emg_branch
    layer = net.transformer.layers[0]
    assert layer.linear1.out_features == 2048 and layer.norm_first is False
    assert layer.self_attn.num_heads == 4


def _mbfe_count(in_ch, c1, c2, k_small, k_large):
    """Hand count of one MBFE branch: bias-free convs, BatchNorm (2 per channel)."""
    small = in_ch * c1 * k_small + 2 * c1 + c1 * c2 * 8 + 2 * (c2 * c2 * 8) + 3 * 2 * c2
    large = in_ch * c1 * k_large + 2 * c1 + c1 * c2 * 6 + 2 * (c2 * c2 * 6) + 3 * 2 * c2
    return small + large


def test_paper_kernels_option():
    """Paper Table 2: EEG kernels 50/500, EOG/EMG 25/250; the code: 64/512 everywhere."""
    assert _mbfe_count(2, 64, 128, 64, 512) == 648_960  # cross-check with NETWORKS.md 1.7
    assert _mbfe_count(1, 32, 64, 64, 512) == 162_688
    code, paper = MMASleepNet(), MMASleepNet(kernels="paper")
    assert code.kernels == "code"
    firsts = {name: (getattr(paper, name).small[0].kernel_size[0],
                     getattr(paper, name).large[0].kernel_size[0])
              for name in ("eeg_branch", "eog_branch", "emg_branch")}
    assert firsts == {"eeg_branch": (50, 500), "eog_branch": (25, 250), "emg_branch": (25, 250)}
    assert code.eeg_branch.small[0].kernel_size[0] == 64
    assert code.eog_branch.large[0].kernel_size[0] == 512
    rest = CODE_PARAMS - _mbfe_count(2, 64, 128, 64, 512) - 2 * _mbfe_count(1, 32, 64, 64, 512)
    expected = (rest + _mbfe_count(2, 64, 128, 50, 500) + 2 * _mbfe_count(1, 32, 64, 25, 250))
    assert n_params(paper) == expected == 1_581_637
    x = torch.randn(2, 4, 3000)
    with torch.no_grad():
        paper.eval()
        for branch, xs in ((paper.eeg_branch, x[:, :2]), (paper.eog_branch, x[:, 2:3])):
            assert branch.small(xs).shape[-1] == 13 and branch.large(xs).shape[-1] == 11
        assert paper(x).shape == (2, 5)
    with pytest.raises(ValueError, match="kernels must be one of"):
        MMASleepNet(kernels="table2")
    with pytest.raises(ValueError, match="modality planes must have equal lengths"):
        MMASleepNet(kernels="paper", n_times=1000)
    clf = MMASleepNetClassifier(module__kernels="paper")
    assert clone(clf).get_params()["module__kernels"] == "paper"


def test_forward_matches_manual_computation_of_token_layout():
    """Tokens are the memory-order view of Z: token i = plane i//16, maps 4(i%16)..+3."""
    torch.manual_seed(1)
    net = MMASleepNet().eval()
    x = torch.randn(2, 4, 3000)
    with torch.no_grad():
        eeg = net.eeg_branch(x[:, :2]).numpy()
        eog = net.eog_branch(x[:, 2:3]).numpy()
        emg = net.emg_branch(x[:, 3:4]).numpy()
        planes = np.stack([eeg[:, :64], eeg[:, 64:], eog, emg], axis=1)  # (B, 4, 64, 24)
        z = net.modal_se(torch.from_numpy(planes)).numpy()
        tokens = np.empty((2, 64, 96), dtype=np.float32)
        for i in range(64):
            tokens[:, i] = z[:, i // 16, 4 * (i % 16) : 4 * (i % 16) + 4, :].reshape(2, 96)
        tok = torch.from_numpy(tokens)
        fused = tok * net.transformer(tok)
        expected = net.classifier(fused.flatten(1))
        got = net(x)
    np.testing.assert_allclose(got.numpy(), expected.numpy(), rtol=1e-4, atol=1e-5)


def test_softmax_output_replicates_official_code():
    torch.manual_seed(0)
    clean = MMASleepNet().eval()
    coded = MMASleepNet(softmax_output=True).eval()
    coded.load_state_dict(clean.state_dict())
    x = torch.randn(4, 4, 3000)
    with torch.no_grad():
        logits, probs = clean(x), coded(x)
    np.testing.assert_allclose(probs.sum(1).numpy(), 1.0, rtol=1e-5)
    np.testing.assert_allclose(probs.numpy(), torch.softmax(logits, 1).numpy(), rtol=1e-5)


def test_channel_indices_are_configurable():
    torch.manual_seed(0)
    net = MMASleepNet().eval()
    permuted = MMASleepNet(eeg_channels=(2, 3), eog_channel=0, emg_channel=1).eval()
    permuted.load_state_dict(net.state_dict())
    x = torch.randn(2, 4, 3000)
    with torch.no_grad():
        np.testing.assert_allclose(
            net(x).numpy(), permuted(x[:, [2, 3, 0, 1]]).numpy(), rtol=1e-5, atol=1e-6
        )


@pytest.mark.parametrize("n_chans", [1, 3, 5])
def test_wrong_channel_count_is_a_clear_error(n_chans):
    with pytest.raises(ValueError, match=r"expects 4 input channels.*n_chans=" + str(n_chans)):
        MMASleepNet(n_chans=n_chans)


def test_bad_indices_and_short_epochs_are_errors():
    with pytest.raises(ValueError, match="distinct indices"):
        MMASleepNet(eeg_channels=(0, 0), eog_channel=2, emg_channel=3)
    with pytest.raises(ValueError, match="at least 464 samples"):
        MMASleepNet(n_times=300)


def test_one_gradient_step_reduces_the_loss():
    torch.manual_seed(0)
    X, y, _ = make_psg(2, n_times=3000)
    x, target = torch.from_numpy(X), torch.as_tensor(
        np.searchsorted(np.array(["N2", "REM", "W"]), y)
    )
    net = MMASleepNet(n_classes=3)
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
def test_classifier_defaults_are_the_official_recipe():
    clf = MMASleepNetClassifier()
    params = clf.get_params()
    assert params["module"] is MMASleepNet
    assert params["criterion"] is WeightedCrossEntropyLoss
    assert params["optimizer"] is torch.optim.Adam
    assert params["lr"] == 1e-4
    assert params["max_epochs"] == 150
    assert params["batch_size"] == 256
    assert dict(params["class_weight"]) == {"W": 1.0, "N1": 1.80, "N2": 1.0, "N3": 1.25,
                                            "REM": 1.20}
    assert params["optimizer__weight_decay"] == 1e-2
    assert params["optimizer__amsgrad"] is True
    assert params["sfreq"] == 100.0


def test_official_class_weights_reach_the_loss():
    X, _, _ = make_psg(2, n_times=600)
    y = np.array(["W", "N1", "N2", "N3", "REM", "W"])
    clf = MMASleepNetClassifier(max_epochs=1, batch_size=6, device="cpu").fit(X, y)
    assert clf.classes_.tolist() == ["N1", "N2", "N3", "REM", "W"]  # sorted
    # each official weight lands on its stage: N1 1.8, N2 1, N3 1.25, REM 1.2, W 1
    np.testing.assert_allclose(clf.class_weight_, [1.8, 1.0, 1.25, 1.2, 1.0])
    np.testing.assert_allclose(clf.criterion_.weight.numpy(), [1.8, 1.0, 1.25, 1.2, 1.0])
    opt = clf.optimizer_.param_groups[0]
    assert opt["weight_decay"] == 1e-2 and opt["amsgrad"] is True and opt["lr"] == 1e-4


def test_classifier_learns_known_answer_and_round_trips_string_labels(data, fitted):
    (_, y, _), (X_test, y_test, _) = data
    assert fitted.classes_.tolist() == ["N2", "REM", "W"]  # sorted, as in scikit-learn
    pred = fitted.predict(X_test)
    assert pred.dtype == y.dtype and set(pred) <= set(y)
    acc = np.mean(pred == y_test)
    assert acc > 0.7, acc  # chance is 1/3
    proba = fitted.predict_proba(X_test)
    assert proba.shape == (len(y_test), 3)
    np.testing.assert_allclose(proba.sum(1), 1.0, rtol=1e-5)


def test_classifier_with_softmax_output_does_not_softmax_twice(data):
    (X, y, _), (X_test, _, _) = data
    clf = fast_clf(max_epochs=1, module__softmax_output=True).fit(X, y)
    proba = clf.predict_proba(X_test)
    clf.module_.eval()
    with torch.no_grad():
        direct = clf.module_(torch.from_numpy(X_test)).numpy()
    np.testing.assert_allclose(proba, direct, rtol=1e-5, atol=1e-6)


def test_wrong_channel_count_at_fit_fails_clearly(data):
    (X, y, _), _ = data
    clf = fast_clf(max_epochs=1)
    with pytest.raises(ValueError, match="expects 4 input channels"):
        clf.fit(X[:, :3], y)


def test_clone_get_set_params(fitted):
    clf = fast_clf(module__n_hidden=16)
    assert clf.get_params()["module__n_hidden"] == 16
    cloned = clone(clf)
    assert cloned.get_params()["module__n_hidden"] == 16
    assert not hasattr(cloned, "module_")
    cloned.set_params(module__n_hidden=8, lr=3e-4)
    assert cloned.get_params()["module__n_hidden"] == 8 and cloned.lr == 3e-4
    X, y, _ = make_psg(3, n_times=600)
    assert cloned.set_params(max_epochs=1).fit(X, y) is cloned
    assert cloned.module_.classifier[0].out_features == 8
    assert clone(fitted).get_params()["lr"] == fitted.lr


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
    with pytest.raises(ValueError, match=r"\(4, 1000\).*\(3, 1000\)"):
        fitted.predict(X_test[:, :3])


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
        {"net__module__n_hidden": [8, 16], "net__lr": [1e-3, 1e-4]},
        cv=GroupKFold(2),
    )
    grid.fit(X, y, groups=groups)
    assert set(grid.best_params_) == {"net__module__n_hidden", "net__lr"}
    best = grid.best_estimator_.named_steps["net"]
    assert best.module_.classifier[0].out_features == grid.best_params_["net__module__n_hidden"]
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
    clf = MMASleepNetClassifier(max_epochs=8, batch_size=32, lr=1e-3, random_state=0,
                                device="cpu", class_weight=None)
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
