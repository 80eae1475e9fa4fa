"""Tests of ULW-SleepNet (Wang et al., ICASSP 2026) and its classifier."""

import math
import pickle

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GridSearchCV, GroupKFold, cross_validate
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer
from torch import nn

from sklearn_sleep.metrics import sleep_scoring
from sklearn_sleep.models import ULWSleepNet, ULWSleepNetClassifier
from sklearn_sleep.models.ulw_sleepnet import _tf_same_pad

STAGES = np.array(["W", "N1", "N2", "N3", "REM"])


def _make_bursts(n, n_chans=4, n_times=3000, sfreq=100.0, seed=0, noise=0.5):
    """Class-specific sinusoids (2, 4, 6, 8, 11 Hz) with random phase, plus noise."""
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 5
    rng.shuffle(y)
    freqs = np.array([2.0, 4.0, 6.0, 8.0, 11.0])[y]
    t = np.arange(n_times) / sfreq
    phase = rng.uniform(0, 2 * np.pi, (n, n_chans, 1))
    X = np.sin(2 * np.pi * freqs[:, None, None] * t + phase)
    X = X + noise * rng.standard_normal((n, n_chans, n_times))
    return X.astype(np.float32), STAGES[y]


def _count_macs(module, x):
    """Multiply-accumulates of the Conv1d and Linear layers, counted with forward hooks."""
    total = []

    def hook(mod, inputs, out):
        if isinstance(mod, nn.Conv1d):
            total.append(out.numel() * mod.in_channels // mod.groups * mod.kernel_size[0])
        elif isinstance(mod, nn.Linear):
            total.append(out.numel() * mod.in_features)

    handles = [m.register_forward_hook(hook) for m in module.modules()]
    with torch.no_grad():
        module.eval()(x)
    for h in handles:
        h.remove()
    return sum(total)


def _zscore(X):
    mean = X.mean(axis=-1, keepdims=True)
    std = X.std(axis=-1, keepdims=True) + 1e-6
    return ((X - mean) / std).astype(np.float32)


# ------------------------------------------------------------------------ module
def test_output_shape_paper_input():
    net = ULWSleepNet(n_chans=4, n_times=3000, n_classes=5).eval()
    out = net(torch.randn(3, 4, 3000))
    assert out.shape == (3, 5)
    assert torch.isfinite(out).all()


@pytest.mark.parametrize("n_chans, expected", [(4, 13_337), (2, 9_241), (3, 11_289)])
def test_parameter_count(n_chans, expected):
    net = ULWSleepNet(n_chans=n_chans)
    n = sum(p.numel() for p in net.parameters() if p.requires_grad)
    assert n == expected
    paper = {4: 13_300, 2: 9_200, 3: 11_300}[n_chans]  # NETWORKS.md section 3
    assert abs(n - paper) / paper < 0.01


@pytest.mark.parametrize("fast", [False, True])
def test_block_output_lengths(fast):
    net = ULWSleepNet(n_chans=4, n_times=3000, fast=fast).eval()
    assert net.out_lengths == (750, 188, 47)
    shapes = []
    blocks = [m for m in net.extractor if type(m).__name__ == "_DSSCBlock"]
    # the fast path runs the blocks on (N, C, 1, L) tensors: drop the unit axis
    handles = [b.register_forward_hook(
        lambda m, i, o: shapes.append(tuple(s for k, s in enumerate(o.shape) if k != 2 or s != 1)))
        for b in blocks]
    # (with autograd on: the chunked inference path calls forward_eval, not the hooks)
    net(torch.randn(2, 4, 3000))
    for h in handles:
        h.remove()
    # per channel: batch * n_chans rows
    assert shapes == [(8, 8, 750), (8, 16, 188), (8, 32, 47)]


def test_other_lengths_follow_n_times():
    net = ULWSleepNet(n_chans=2, n_times=1001).eval()
    assert net.out_lengths == (251, 63, 16)
    assert net(torch.randn(2, 2, 1001)).shape == (2, 5)


def test_tf_same_padding():
    # total = max((ceil(L/s) - 1) * s + k - L, 0), extra element on the right
    assert _tf_same_pad(3000, 3, 1) == (1, 1)
    assert _tf_same_pad(3000, 1, 2) == (0, 0)
    assert _tf_same_pad(375, 1, 2) == (0, 0)
    assert _tf_same_pad(10, 4, 1) == (1, 2)
    assert _tf_same_pad(7, 3, 2) == (1, 1)


def test_separable_conv_structure_and_init():
    net = ULWSleepNet()
    convs = [m for m in net.modules() if isinstance(m, nn.Conv1d)]
    depthwise = [c for c in convs if c.groups > 1 or (c.in_channels == 1 and c.out_channels == 1)]
    pointwise = [c for c in convs if c.kernel_size == (1,) and c.groups == 1 and c not in depthwise]
    assert all(c.bias is None for c in depthwise)
    assert all(c.bias is not None and torch.all(c.bias == 0) for c in pointwise)
    bns = [m for m in net.modules() if isinstance(m, nn.BatchNorm1d)]
    assert len(bns) == 6 and all(b.momentum == 0.01 and b.eps == 1e-3 for b in bns)
    # glorot-uniform bound on the dense layer
    lin = net.classifier[1]
    bound = math.sqrt(6 / (lin.in_features + lin.out_features))
    assert lin.weight.abs().max() <= bound and torch.all(lin.bias == 0)


def test_macs_match_paper():
    # the reference formulation: its nn.Conv1d modules are the ones the hooks see
    macs = _count_macs(ULWSleepNet(fast=False), torch.randn(1, 4, 3000))
    # NETWORKS.md: conv + dense MACs 3.50 M (x2 = 7.0 MFLOPs; 7.89 M with BN/ReLU/pool/add)
    assert abs(macs / 1e6 - 3.50) < 0.01


def test_channels_share_weights():
    """Each channel goes through the same extractor: swapping channels swaps features."""
    torch.manual_seed(0)
    net = ULWSleepNet(n_chans=3).eval()
    x = torch.randn(2, 3, 3000)
    f = net.features(x)
    f_perm = net.features(x[:, [2, 0, 1]])
    torch.testing.assert_close(f_perm, f[:, [2, 0, 1]])
    # and a single-channel evaluation gives the same row
    torch.testing.assert_close(net.features(x[:, 1:2])[:, 0], f[:, 1])


def _randomise_batchnorm(net, seed=0):
    """Non-trivial BN statistics/affine so that folding them is actually exercised."""
    g = torch.Generator().manual_seed(seed)
    for m in net.modules():
        if isinstance(m, nn.BatchNorm1d):
            n = m.num_features
            m.running_mean.copy_(torch.rand(n, generator=g) * 2 - 1)
            m.running_var.copy_(torch.rand(n, generator=g) * 2 + 0.2)
            m.weight.data.copy_(torch.rand(n, generator=g) * 2 - 1)  # some negative scales
            m.bias.data.copy_(torch.rand(n, generator=g) - 0.5)
    return net


@pytest.mark.parametrize(
    "n_chans, n_times, kernel_size",
    [(4, 3000, 3), (2, 1001, 3), (3, 777, 4), (1, 250, 5)],
)
def test_fast_path_equals_reference_eval(n_chans, n_times, kernel_size, monkeypatch):
    """Fast (channels-last, folded BN, chunked) == reference (grouped Conv1d) in eval."""
    import sklearn_sleep.models.ulw_sleepnet as ulw

    torch.manual_seed(0)
    ref = ULWSleepNet(n_chans=n_chans, n_times=n_times, kernel_size=kernel_size, fast=False)
    _randomise_batchnorm(ref)
    fast = ULWSleepNet(n_chans=n_chans, n_times=n_times, kernel_size=kernel_size)
    fast.load_state_dict(ref.state_dict())  # weights are interchangeable
    assert list(fast.state_dict()) == list(ref.state_dict())
    ref.eval()
    fast.eval()
    x = 20 * torch.randn(7, n_chans, n_times)
    with torch.no_grad():
        expected = ref(x)
        assert expected.abs().max() > 1e-3  # not a degenerate all-zero comparison
        # several inference chunks (including a ragged last one)
        monkeypatch.setattr(ulw, "_INFERENCE_CHUNK_SAMPLES", 3 * n_times)
        torch.testing.assert_close(fast(x), expected, rtol=1e-4, atol=1e-5)
    with torch.inference_mode():  # the same chunked path
        torch.testing.assert_close(fast(x), expected, rtol=1e-4, atol=1e-5)
    # with autograd on (no chunking), the same
    torch.testing.assert_close(fast(x).detach(), expected, rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(fast.features(x).detach(), ref.features(x).detach(),
                               rtol=1e-4, atol=1e-5)


def test_fast_path_equals_reference_train():
    """Train mode: same outputs (same dropout masks), BN running stats and gradients."""
    torch.manual_seed(0)
    ref = ULWSleepNet(n_chans=3, n_times=1000, fast=False).train()
    fast = ULWSleepNet(n_chans=3, n_times=1000).train()
    fast.load_state_dict(ref.state_dict())
    x = torch.randn(6, 3, 1000)
    torch.manual_seed(1)
    out_ref = ref(x)
    torch.manual_seed(1)
    out_fast = fast(x)
    torch.testing.assert_close(out_fast, out_ref, rtol=1e-4, atol=1e-5)
    out_ref.square().sum().backward()
    out_fast.square().sum().backward()
    # float32 rounding relative to the largest gradient (the pointwise biases before a
    # BatchNorm have a zero gradient in exact arithmetic: rounding noise only)
    scale = max(float(p.grad.abs().max()) for p in ref.parameters())
    for (name, p_ref), (_, p_fast) in zip(ref.named_parameters(), fast.named_parameters()):
        torch.testing.assert_close(p_fast.grad, p_ref.grad, rtol=1e-3, atol=1e-4 * scale,
                                   msg=name)
    for (name, b_ref), (_, b_fast) in zip(ref.named_buffers(), fast.named_buffers()):
        torch.testing.assert_close(b_fast, b_ref, rtol=1e-4, atol=1e-6, msg=name)
    assert int(fast.extractor[0].main[1].num_batches_tracked) == 1


def test_fast_flag_pickled_without_it():
    """A module pickled before ``fast`` existed still runs (the reference path)."""
    net = ULWSleepNet(n_chans=2, n_times=500).eval()
    del net.fast
    clone_net = pickle.loads(pickle.dumps(net))
    with torch.no_grad():
        assert clone_net(torch.randn(2, 2, 500)).shape == (2, 5)


def test_gradient_step_reduces_loss():
    torch.manual_seed(0)
    X, y = _make_bursts(32, n_times=1000)
    X, y = torch.from_numpy(X), torch.as_tensor(np.searchsorted(["N1", "N2", "N3", "REM", "W"], y))
    net = ULWSleepNet(n_chans=4, n_times=1000, block_dropout=0.0, dropout=0.0)
    opt = torch.optim.SGD(net.parameters(), lr=1e-2)
    loss_fn = nn.CrossEntropyLoss()
    net.train()
    before = loss_fn(net(X), y)
    opt.zero_grad()
    before.backward()
    opt.step()
    with torch.no_grad():
        after = loss_fn(net(X), y)  # same batch, still batch statistics
    assert after.item() < before.item()


# -------------------------------------------------------------------- classifier
def _small_clf(**kwargs):
    params = dict(max_epochs=2, batch_size=16, device="cpu", random_state=0)
    params.update(kwargs)
    return ULWSleepNetClassifier(**params)


@pytest.fixture(scope="module")
def bursts():
    return _make_bursts(100, n_chans=4, n_times=1000, seed=1)


@pytest.fixture(scope="module")
def fitted(bursts):
    X, y = bursts
    # Keras' BN momentum (0.01 here) needs thousands of batches for the running
    # statistics to settle; a short run uses 0.1 so that eval-mode predictions are valid.
    return _small_clf(max_epochs=8, lr=1e-2, module__bn_momentum=0.1).fit(X, y)


def test_defaults_are_the_paper_recipe():
    clf = ULWSleepNetClassifier()
    params = clf.get_params()
    assert params["module"] is ULWSleepNet
    assert params["lr"] == 1e-3 and params["batch_size"] == 32 and params["max_epochs"] == 50
    assert params["optimizer"] is torch.optim.Adam and params["optimizer__amsgrad"] is True
    assert params["class_weight"] is None and params["sfreq"] == 100.0
    cbs = dict(clf.get_default_callbacks())
    sched = cbs["lr_scheduler"]
    assert sched.policy is torch.optim.lr_scheduler.CosineAnnealingWarmRestarts
    assert sched.step_every == "batch" and (sched.T_0, sched.T_mult, sched.eta_min) == (10, 2, 0)


def test_fit_learns_known_answer(fitted):
    X, y = _make_bursts(50, n_chans=4, n_times=1000, seed=7)
    acc = (fitted.predict(X) == y).mean()
    assert acc > 0.8  # chance is 0.2
    assert fitted.module_.n_chans == 4 and fitted.module_.n_times == 1000


def test_lr_scheduler_steps_every_batch(bursts):
    X, y = bursts
    clf = _small_clf(max_epochs=1, batch_size=25).fit(X[:50], y[:50])  # 2 batches
    lr = clf.optimizer_.param_groups[0]["lr"]
    expected = 0.5 * 1e-3 * (1 + math.cos(math.pi * 2 / 10))
    assert lr == pytest.approx(expected)
    assert clf.optimizer_.defaults["amsgrad"] is True
    clf2 = _small_clf(max_epochs=1, batch_size=25, callbacks__lr_scheduler=None).fit(X[:50], y[:50])
    assert clf2.optimizer_.param_groups[0]["lr"] == pytest.approx(1e-3)


def test_string_labels_round_trip(fitted, bursts):
    X, _ = bursts
    pred = fitted.predict(X[:10])
    assert set(pred) <= set(STAGES)
    assert list(fitted.classes_) == ["N1", "N2", "N3", "REM", "W"]
    proba = fitted.predict_proba(X[:10])
    assert proba.shape == (10, 5) and np.allclose(proba.sum(1), 1, atol=1e-5)


def test_integer_labels(bursts):
    X, y = bursts
    y_int = np.searchsorted(["W", "N1", "N2", "N3", "REM"], y)  # not the real codes; just ints
    clf = _small_clf(max_epochs=1).fit(X[:40], y_int[:40])
    assert set(clf.predict(X[:5])) <= set(y_int.tolist())


def test_clone_get_set_params(bursts):
    clf = _small_clf(module__dropout=0.5)
    assert clf.get_params()["module__dropout"] == 0.5
    c2 = clone(clf)
    assert c2.get_params()["module__dropout"] == 0.5
    c2.set_params(module__n_hidden=32, lr=5e-3)
    X, y = bursts
    c2.fit(X[:32], y[:32])
    assert c2.module_.classifier[1].out_features == 32
    assert c2.module_.classifier[0].p == 0.5
    assert "lr_scheduler" in dict(c2.callbacks_)


def test_fit_returns_self_and_pickle(fitted, bursts):
    X, _ = bursts
    clf = _small_clf(max_epochs=1)
    assert clf.fit(X[:32], _make_bursts(32, n_times=1000)[1]) is clf
    restored = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(restored.predict(X), fitted.predict(X))
    np.testing.assert_allclose(restored.predict_proba(X), fitted.predict_proba(X), rtol=1e-6)


def test_not_fitted_and_wrong_shape(fitted, bursts):
    X, _ = bursts
    with pytest.raises(NotFittedError):
        _small_clf().predict(X)
    with pytest.raises(ValueError, match=r"\(4, 1000\).*\(3, 1000\)"):
        fitted.predict(X[:, :3])
    with pytest.raises(ValueError, match=r"\(4, 1000\).*\(4, 900\)"):
        fitted.predict(X[:, :, :900])


def test_sklearn_tags():
    tags = ULWSleepNetClassifier().__sklearn_tags__()
    assert tags.input_tags.three_d_array and tags.estimator_type == "classifier"


@pytest.fixture(scope="module")
def synthetic_psg():
    from sklearn_sleep.datasets import make_synthetic_psg

    try:
        return make_synthetic_psg(n_subjects=4, n_epochs=10, random_state=0)
    except NotImplementedError:  # placeholder not replaced yet
        X, y = _make_bursts(40, n_times=3000)
        from sklearn.utils import Bunch

        return Bunch(X=X, y=y, groups=np.repeat(np.arange(4), 10))


def test_pipeline_cross_validate_and_grid_search(synthetic_psg):
    X, y, groups = synthetic_psg.X, synthetic_psg.y, synthetic_psg.groups
    pipe = Pipeline(
        [("scale", FunctionTransformer(_zscore)), ("net", _small_clf(max_epochs=1, batch_size=8))]
    )
    cv = cross_validate(pipe, X, y, groups=groups, cv=GroupKFold(2), scoring=sleep_scoring())
    for key in ("test_accuracy", "test_macro_f1", "test_kappa", "test_gmean"):
        assert cv[key].shape == (2,) and np.all(np.isfinite(cv[key]))
    grid = GridSearchCV(
        pipe,
        {"net__module__n_hidden": [16, 64], "net__lr": [1e-3, 1e-2]},
        cv=GroupKFold(2),
    )
    grid.fit(X, y, groups=groups)
    assert set(grid.best_params_) == {"net__module__n_hidden", "net__lr"}
    assert grid.predict(X[:4]).shape == (4,)
    assert grid.best_estimator_.named_steps["net"].module_.classifier[1].out_features in (16, 64)


@pytest.mark.gpu
def test_fit_on_cuda_mixed_precision(bursts):
    if not torch.cuda.is_available():
        pytest.skip("needs CUDA")
    X, y = bursts
    clf = ULWSleepNetClassifier(max_epochs=1, device="cuda", mixed_precision=True, random_state=0)
    clf.fit(X, y)
    proba = clf.predict_proba(X)
    assert isinstance(proba, np.ndarray) and proba.shape == (len(X), 5)
    assert isinstance(clf.predict(X), np.ndarray)
    assert next(clf.module_.parameters()).is_cuda
