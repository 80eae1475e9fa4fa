"""Tests of the mouse EEG/EMG networks: MouseCNN, MouseCNNAttention, MouseTransformer."""

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

from sklearn_sleep.metrics import sleep_scoring
from sklearn_sleep.models import (
    MouseCNN,
    MouseCNNAttention,
    MouseCNNAttentionClassifier,
    MouseCNNClassifier,
    MouseTransformer,
    MouseTransformerClassifier,
)
from sklearn_sleep.models._mouse_blocks import OneCycleSchedule, log_spectrum, warmup_cosine
from sklearn_sleep.models.mouse_cnn import _COMPACT_MODULE_PARAMS


# ---- parameter counts from layer formulas (independent of the modules' code) ----------
def _conv(c_in, c_out, k):
    return c_in * c_out * k + c_out


def _linear(n_in, n_out):
    return n_in * n_out + n_out


def _mha(d):  # in-projection (3 d x d + 3 d) and out-projection (d x d + d)
    return 4 * d * d + 4 * d


def _paper_cnn_count(attention, n_times=512, widths=(16, 32, 64), kernels=(7, 5, 3),
                     strides=(2, 2, 2), pool=4, linear=(128, 64), hidden=64, n_classes=3):
    total = 0
    for n_in in (n_times, n_times, n_times // 2 + 1, n_times // 2 + 1):  # EEG, EMG, 2 FFTs
        c_in, length = 1, n_in
        for w, k, s in zip(widths, kernels, strides):
            total += _conv(c_in, w, k) + 1 + 2 * w  # conv, PReLU (1 slope), BatchNorm
            total += _mha(w) if attention else 0
            c_in, length = w, (length + 2 * (k // 2) - k) // s + 1
        flat = c_in * (length // pool)
        total += _linear(flat, linear[0]) + 1 + _linear(linear[0], linear[1]) + 2 * linear[1]
    return total + _linear(4 * linear[-1], hidden) + 1 + _linear(hidden, n_classes)


def _compact_cnn_count(attention, widths=(16, 32, 64), kernels=(7, 5, 3), n_classes=3):
    branch, c_in = 0, 1
    for w, k in zip(widths, kernels):
        branch += _conv(c_in, w, k) + 1 + 2 * w + ((_mha(w) + 2 * w) if attention else 0)
        c_in = w
    return 4 * branch + _linear(4 * c_in, n_classes)


def _transformer_count(n_times=512, patch=16, d=128, layers=6, d_ff=512, head=128,
                       n_classes=3):
    layer = _mha(d) + _linear(d, d_ff) + _linear(d_ff, d) + 2 * 2 * d  # + 2 LayerNorms
    encoder = _linear(patch, d) + _linear(d, d) + d + (n_times // patch + 1) * d + layers * layer
    return 2 * encoder + 2 * 2 * d + _linear(2 * d, head) + _linear(head, n_classes)


# (module, classifier, exact parameter count, a module hyper-parameter to grid-search)
NETS = {
    "cnn": (MouseCNN, MouseCNNClassifier, _paper_cnn_count(False), ("hidden", [None, 8])),
    "attention": (MouseCNNAttention, MouseCNNAttentionClassifier, _paper_cnn_count(True),
                  ("attn_dropout", [0.0, 0.1])),
    "transformer": (MouseTransformer, MouseTransformerClassifier, _transformer_count(),
                    ("n_layers", [1, 2])),
}
# small but faithful-in-structure settings for the fast tests
FAST_MODULE = {
    "cnn": {},
    "attention": {"n_heads": (2, 2, 2)},
    "transformer": {"n_layers": 1, "d_model": 32, "n_heads": 4, "d_ff": 64,
                    "head_hidden": 32},
}


def _mouse_data(n_per_class=12, n_subjects=4, n_times=512, seed=0):
    """Mouse-like epochs: NREM = strong delta EEG + low EMG, REM = theta EEG + flat EMG,
    W = fast low-amplitude EEG + high EMG. 1-s epochs at 512 Hz by default."""
    rng = np.random.default_rng(seed)
    t = np.arange(n_times) / 512.0
    X, y = [], []
    for stage in ("W", "NREM", "REM"):
        for _ in range(n_per_class):
            ph = rng.uniform(0, 2 * np.pi)
            noise = rng.standard_normal((2, n_times))
            if stage == "NREM":
                eeg, emg = 3.0 * np.sin(2 * np.pi * rng.uniform(1.5, 3.0) * t + ph), 0.3 * noise[1]
            elif stage == "REM":
                eeg, emg = 1.5 * np.sin(2 * np.pi * rng.uniform(6.0, 8.0) * t + ph), 0.05 * noise[1]
            else:
                eeg, emg = 0.8 * np.sin(2 * np.pi * rng.uniform(15, 25) * t + ph), 2.0 * noise[1]
            X.append(np.stack([eeg + 0.3 * noise[0], emg]))
            y.append(stage)
    order = rng.permutation(len(y))
    X = np.asarray(X, dtype=np.float32)[order]
    y = np.asarray(y)[order]
    groups = np.arange(len(y)) % n_subjects
    return X, y, groups


def _classifier(name, **kwargs):
    _, clf_cls, _, _ = NETS[name]
    params = dict(max_epochs=2, batch_size=16, lr=1e-2, device="cpu", random_state=0)
    if name == "transformer":
        params["optimizer"] = torch.optim.Adam  # tiny data: SGD lr 0.1 needs many steps
    params.update({f"module__{k}": v for k, v in FAST_MODULE[name].items()})
    params.update(kwargs)
    return clf_cls(**params)


def _module_hyperparameter(name, module):
    """Read back, from the built network, the hyper-parameter that is grid-searched."""
    if name == "cnn":
        return module.head[0].out_features if isinstance(module.head, torch.nn.Sequential) else None
    if name == "attention":
        return module.eeg_branch.blocks[0].attn.dropout
    return len(module.eeg_encoder.encoder.layers)


def _n_params(module):
    return sum(p.numel() for p in module.parameters() if p.requires_grad)


# ----------------------------------------------------------------------------- modules
def test_param_counts_by_hand():
    assert _paper_cnn_count(False) == 480_532
    assert _paper_cnn_count(True) == 568_340
    assert _compact_cnn_count(False) == 37_391
    assert _compact_cnn_count(True) == 126_095
    assert _transformer_count() == 2_459_139


@pytest.mark.parametrize("name", list(NETS))
def test_output_shape_and_param_count(name):
    module_cls, _, n_params, _ = NETS[name]
    net = module_cls().eval()
    assert _n_params(net) == n_params
    out = net(torch.randn(3, 2, 512))
    assert out.shape == (3, 3)
    assert torch.isfinite(out).all()


@pytest.mark.parametrize("name", list(NETS))
def test_channel_indices_pick_modalities(name):
    module_cls = NETS[name][0]
    torch.manual_seed(0)
    net = module_cls(n_chans=3, eeg_index=2, emg_index=0, **FAST_MODULE[name]).eval()
    x = torch.randn(2, 3, 512)
    ref = net(x)
    x_other = x.clone()
    x_other[:, 1] = 100.0  # unused channel
    torch.testing.assert_close(net(x_other), ref)
    with pytest.raises(ValueError, match="emg_index=5 is out of range"):
        module_cls(n_chans=3, emg_index=5)


@pytest.mark.parametrize("name", list(NETS))
def test_one_gradient_step_reduces_loss(name):
    module_cls = NETS[name][0]
    torch.manual_seed(0)
    X, y, _ = _mouse_data(n_per_class=4)
    x, target = torch.as_tensor(X), torch.as_tensor(np.unique(y, return_inverse=True)[1])
    net = module_cls(**FAST_MODULE[name])
    net.train()
    for m in net.modules():  # deterministic loss: no dropout
        if isinstance(m, torch.nn.Dropout):
            m.p = 0.0
    opt = torch.optim.SGD(net.parameters(), lr=1e-2)
    loss_fn = torch.nn.CrossEntropyLoss()
    before = loss_fn(net(x), target)
    before.backward()
    opt.step()
    with torch.no_grad():
        after = loss_fn(net(x), target)
    assert after.item() < before.item()


def test_fft_branch_matches_numpy_and_precomputed_channels():
    x = torch.randn(2, 1, 512)
    expected = np.log1p(np.abs(np.fft.rfft(x.numpy().astype(np.float64), axis=-1)))
    np.testing.assert_allclose(log_spectrum(x).numpy(), expected, rtol=1e-4, atol=1e-4)

    # spectra appended as extra channels (zero-padded) give the same logits
    X = torch.randn(3, 2, 512)
    spec = torch.log1p(torch.fft.rfft(X, dim=-1).abs())
    padded = torch.zeros_like(X)
    padded[..., :257] = spec
    X4 = torch.cat([X, padded], dim=1)
    torch.manual_seed(0)
    inside = MouseCNN().eval()
    torch.manual_seed(0)
    outside = MouseCNN(n_chans=4, fft_channels=(2, 3)).eval()
    torch.testing.assert_close(outside(X4), inside(X), rtol=1e-4, atol=1e-4)


def test_fft_features_append_pipeline_input():
    FFTFeatures = pytest.importorskip("sklearn_sleep.preprocessing").FFTFeatures
    try:
        X4 = FFTFeatures(sfreq=512, append=True).fit_transform(
            np.random.default_rng(0).standard_normal((3, 2, 512)).astype(np.float32)
        )
    except (NotImplementedError, TypeError, AttributeError):
        pytest.skip("FFTFeatures(append=True) not available yet")
    X = torch.as_tensor(X4[:, :2])
    torch.manual_seed(0)
    inside = MouseCNN().eval()
    torch.manual_seed(0)
    outside = MouseCNN(n_chans=4, fft_channels=(2, 3)).eval()
    torch.testing.assert_close(outside(torch.as_tensor(X4)), inside(X), rtol=1e-4, atol=1e-4)


def test_attention_heads_must_divide_width():
    with pytest.raises(ValueError, match="heads \\(3\\) must divide the block width \\(16\\)"):
        MouseCNNAttention(n_heads=(3, 4, 4))
    with pytest.raises(ValueError, match="heads \\(3\\) must divide the block width \\(16\\)"):
        MouseCNNAttention(design="compact", n_heads=(3, 4, 4))


def _call_order(module, names):
    order = []
    hooks = [getattr(module, n).register_forward_hook(lambda *a, n=n: order.append(n))
             for n in names if getattr(module, n) is not None]
    return order, hooks


def test_paper_branch_ending_and_two_block_head():
    """Paper IV.A: conv blocks, then average pooling, flatten, dropout, linear layers and a
    normalisation of the activation; classifier = a pair of linear + activation blocks."""
    net = MouseCNN().eval()
    for branch in (net.eeg_branch, net.emg_branch, net.eeg_fft_branch, net.emg_fft_branch):
        order, hooks = _call_order(branch, ["blocks", "pool", "flatten", "drop", "linear", "norm"])
        branch(torch.randn(2, 1, 512 if branch in (net.eeg_branch, net.emg_branch) else 257))
        for h in hooks:
            h.remove()
        assert order == ["blocks", "pool", "flatten", "drop", "linear", "norm"]
        assert isinstance(branch.pool, torch.nn.AvgPool1d)
        assert isinstance(branch.drop, torch.nn.Dropout) and branch.drop.p == 0.5
        assert [type(m) for m in branch.linear] == [torch.nn.Linear, torch.nn.PReLU,
                                                    torch.nn.Linear]
        assert isinstance(branch.norm, torch.nn.BatchNorm1d)
        for block in branch.blocks:  # Conv1d -> PReLU -> BatchNorm1d -> Dropout, no pooling
            order, hooks = _call_order(block, ["conv", "attn", "act", "bn", "drop"])
            block(torch.randn(2, block.conv.in_channels, 64))
            for h in hooks:
                h.remove()
            assert order == ["conv", "act", "bn", "drop"] and block.attn is None
    assert [type(m) for m in net.head] == [torch.nn.Linear, torch.nn.PReLU, torch.nn.Linear]
    assert net.head[0].in_features == 4 * 64


def test_attention_sits_right_after_each_convolution():
    net = MouseCNNAttention().eval()
    n_blocks = 0
    for branch in (net.eeg_branch, net.emg_branch, net.eeg_fft_branch, net.emg_fft_branch):
        for block in branch.blocks:
            order, hooks = _call_order(block, ["conv", "attn", "act", "bn", "drop"])
            block(torch.randn(2, block.conv.in_channels, 64))
            for h in hooks:
                h.remove()
            assert order == ["conv", "attn", "act", "bn", "drop"]
            n_blocks += 1
    assert n_blocks == 12  # 3 conv layers x 4 signals
    # with the attention output projection zeroed, the network IS the CNN: attention is a
    # residual insertion and every other layer is the CNN's
    torch.manual_seed(0)
    cnn = MouseCNN().eval()
    state = net.state_dict()
    for key, value in cnn.state_dict().items():
        state[key] = value
    for name, value in state.items():
        if ".attn.out_proj." in name:
            state[name] = torch.zeros_like(value)
    net.load_state_dict(state)
    x = torch.randn(3, 2, 512)
    torch.testing.assert_close(net(x), cnn(x))


def test_compact_design_reachable():
    cnn = MouseCNN(**_COMPACT_MODULE_PARAMS)
    att = MouseCNNAttention(**_COMPACT_MODULE_PARAMS)
    assert _n_params(cnn) == _compact_cnn_count(False)
    assert _n_params(att) == _compact_cnn_count(True)
    assert isinstance(cnn.head, torch.nn.Linear)
    assert cnn(torch.randn(2, 2, 512)).shape == att(torch.randn(2, 2, 512)).shape == (2, 3)
    with pytest.raises(ValueError, match="design must be one of"):
        MouseCNN(design="global")
    with pytest.raises(ValueError, match="too few for average pooling"):
        MouseCNN(n_times=32, pool=8)


def test_transformer_patch_count_from_n_times():
    net = MouseTransformer(n_times=256, n_layers=1)
    assert net.n_patches == 16
    assert net.eeg_encoder.pos_embed.shape == (1, 17, 128)
    assert net(torch.randn(2, 2, 256)).shape == (2, 3)
    with pytest.raises(ValueError, match="n_times=500 is not divisible by patch_len=16"):
        MouseTransformer(n_times=500)


def test_warmup_cosine_schedule():
    factors = [warmup_cosine(e, 5, 50) for e in range(50)]
    np.testing.assert_allclose(factors[:5], [(e + 1) / 6 for e in range(5)])
    assert factors[5] == 1.0
    np.testing.assert_allclose(factors[5 + 45 // 2], 0.5 * (1 + math.cos(math.pi * 22 / 45)))
    assert all(a >= b for a, b in zip(factors[5:], factors[6:]))
    assert [warmup_cosine(e, 0, 4) for e in range(4)] == pytest.approx(
        [1.0, 0.5 * (1 + math.cos(math.pi / 4)), 0.5, 0.5 * (1 + math.cos(3 * math.pi / 4))]
    )


# ------------------------------------------------------------------------- classifiers
@pytest.mark.parametrize("name", list(NETS))
def test_paper_defaults(name):
    """Mashrur et al. section V.B: CNN and CNN + attention Adam, lr 0.01, OneCycleLR,
    batch 64, 30 epochs, plain cross-entropy; Transformer SGD, lr 0.1, OneCycleLR,
    batch 512, 30 epochs, plain cross-entropy."""
    clf = NETS[name][1]()
    params = clf.get_params()
    if name == "transformer":
        assert params["optimizer"] is torch.optim.SGD
        assert params["lr"] == 0.1 and params["batch_size"] == 512
    else:
        assert params["optimizer"] is torch.optim.Adam
        assert params["lr"] == 0.01 and params["batch_size"] == 64
    assert params["max_epochs"] == 30
    assert params["lr_schedule"] == "onecycle"
    assert params["class_weight"] is None and params["sfreq"] == 512.0
    assert not any(k.startswith("optimizer__") for k in params)  # PyTorch defaults: no wd
    assert not any(k.startswith("criterion__") for k in params)
    # the default schedule is the one-cycle callback, per batch
    callbacks = dict(clf.get_default_callbacks())
    assert isinstance(callbacks["lr_scheduler"], OneCycleSchedule)
    # the module defaults are the paper design
    if name != "transformer":
        assert NETS[name][0]().design == "paper"


def test_one_cycle_schedule_per_batch_from_data():
    X, y, _ = _mouse_data(n_per_class=10)  # 30 epochs of data
    n_epochs, batch, lr = 3, 8, 0.01
    clf = MouseCNNClassifier(max_epochs=n_epochs, batch_size=batch, lr=lr, device="cpu",
                             random_state=0).fit(X, y)
    lrs = [b["event_lr"] for h in clf.history for b in h["batches"]]
    total = n_epochs * math.ceil(30 / batch)  # 4 batches per epoch
    assert len(lrs) == total == 12
    # PyTorch OneCycleLR defaults: start at lr / 25, anneal to lr / 25 / 1e4 at the end
    assert lrs[0] == pytest.approx(lr / 25)
    assert lrs[-1] == pytest.approx(lr / 25 / 1e4)
    assert max(lrs) <= lr * (1 + 1e-9)
    opt = torch.optim.Adam([torch.zeros(1, requires_grad=True)], lr=lr)
    ref = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=total)
    expected = []
    for _ in range(total):
        expected.append(opt.param_groups[0]["lr"])
        opt.step()
        ref.step()
    np.testing.assert_allclose(lrs, expected, rtol=1e-12)
    # a second fit starts a fresh cycle
    clf.fit(X, y)
    lrs2 = [b["event_lr"] for h in clf.history for b in h["batches"]]
    np.testing.assert_allclose(lrs2, expected, rtol=1e-12)
    with pytest.raises(ValueError, match="lr_schedule must be one of"):
        MouseCNNClassifier(lr_schedule="step", max_epochs=1, device="cpu").fit(X, y)


@pytest.mark.parametrize("name", list(NETS))
def test_classifier_learns_known_stages(name):
    X, y, _ = _mouse_data(n_per_class=16, seed=0)
    X_test, y_test, _ = _mouse_data(n_per_class=10, seed=1)
    # Adam + OneCycleLR (which starts at lr / 25): 1e-2 learns these tiny data for every
    # network and seeds 0-2; 1e-3 left the Transformer at 2/3 for some seeds
    lr = 1e-2
    n_epochs = 6
    clf = _classifier(name, max_epochs=n_epochs, lr=lr)
    assert clf.fit(X, y) is clf
    assert clf.score(X_test, y_test) > 0.7  # chance is 1/3
    # string labels round-trip, in canonical stage order
    assert list(clf.classes_) == ["NREM", "REM", "W"]
    pred = clf.predict(X_test)
    assert pred.dtype.kind == "U" and set(pred) <= {"W", "NREM", "REM"}
    assert clf.class_weight_ is None  # plain cross-entropy


def test_cosine_schedule_option():
    X, y, _ = _mouse_data(n_per_class=4)
    n_epochs, lr = 4, 1e-2
    clf = _classifier("cnn", max_epochs=n_epochs, lr_schedule="cosine", warmup_epochs=1)
    clf.fit(X, y)
    lrs = [clf.history[i, "event_lr"] for i in range(n_epochs)]
    np.testing.assert_allclose(lrs, [lr * warmup_cosine(e, 1, n_epochs) for e in range(n_epochs)])


@pytest.mark.parametrize("name", list(NETS))
def test_estimator_contract(name):
    X, y, _ = _mouse_data(n_per_class=4)
    clf = _classifier(name, max_epochs=1)
    with pytest.raises(NotFittedError):
        clf.predict(X)
    grid_param, values = NETS[name][3]
    clf.set_params(**{f"module__{grid_param}": values[1]})
    cloned = clone(clf)
    assert cloned.get_params()[f"module__{grid_param}"] == values[1]
    assert cloned.get_params()["lr_schedule"] == "onecycle"
    clf.fit(X, y)
    assert _module_hyperparameter(name, clf.module_) == values[1]
    proba = clf.predict_proba(X)
    assert proba.shape == (len(X), 3) and isinstance(proba, np.ndarray)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-5)
    restored = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(restored.predict_proba(X), proba)
    with pytest.raises(ValueError, match=r"\(2, 512\), got \(2, 256\)"):
        clf.predict(X[:, :, :256])


def test_module_hyperparameter_reaches_network():
    X, y, _ = _mouse_data(n_per_class=4)
    clf = _classifier("cnn", max_epochs=1, module__hidden=8).fit(X, y)
    assert isinstance(clf.module_.head, torch.nn.Sequential)
    assert clf.module_.head[0].out_features == 8
    clf = _classifier("transformer", max_epochs=1, module__n_layers=2).fit(X, y)
    assert len(clf.module_.eeg_encoder.encoder.layers) == 2
    # the scheduler can be switched off: constant learning rate
    clf = _classifier("cnn", max_epochs=2, callbacks__lr_scheduler=None).fit(X, y)
    assert "lr_scheduler" not in dict(clf.callbacks_) or dict(clf.callbacks_)["lr_scheduler"] is None
    assert "event_lr" not in clf.history[-1]
    assert clf.optimizer_.param_groups[0]["lr"] == clf.lr


def _scale(X):
    return X / (X.std(axis=-1, keepdims=True) + 1e-6)


@pytest.mark.parametrize("name", list(NETS))
def test_pipeline_cross_validate_and_grid_search(name):
    X, y, groups = _mouse_data(n_per_class=6, n_subjects=4)
    pipe = Pipeline(
        [("scale", FunctionTransformer(_scale)), ("net", _classifier(name, max_epochs=1))]
    )
    cv = cross_validate(pipe, X, y, groups=groups, cv=GroupKFold(2), scoring=sleep_scoring())
    for key in ("test_accuracy", "test_macro_f1", "test_kappa", "test_gmean"):
        assert cv[key].shape == (2,) and np.all(np.isfinite(cv[key]))
    grid_param, values = NETS[name][3]
    search = GridSearchCV(
        pipe, {f"net__module__{grid_param}": values, "net__lr": [1e-3, 1e-2]}, cv=GroupKFold(2)
    )
    search.fit(X, y, groups=groups)
    assert set(search.best_params_) == {f"net__module__{grid_param}", "net__lr"}
    assert search.predict(X).shape == (len(X),)


@pytest.mark.slow
@pytest.mark.parametrize("name", list(NETS))
def test_full_size_network_learns(name):
    X, y, _ = _mouse_data(n_per_class=30, seed=0)
    X_test, y_test, _ = _mouse_data(n_per_class=20, seed=1)
    clf = NETS[name][1](max_epochs=6, batch_size=32, device="cpu", random_state=0)
    clf.fit(X, y)
    assert clf.score(X_test, y_test) > 0.8


@pytest.mark.gpu
@pytest.mark.parametrize("name", list(NETS))
def test_gpu_mixed_precision_fit(name):
    if not torch.cuda.is_available():
        pytest.skip("needs CUDA")
    X, y, _ = _mouse_data(n_per_class=8)
    clf = NETS[name][1](max_epochs=1, batch_size=16, device="cuda", mixed_precision=True,
                        random_state=0)
    clf.fit(X, y)
    assert next(clf.module_.parameters()).is_cuda
    proba = clf.predict_proba(X)
    assert isinstance(proba, np.ndarray) and proba.shape == (len(X), 3)
    assert np.all(np.isfinite(proba))
    assert set(clf.predict(X)) <= {"W", "NREM", "REM"}


def test_cnn_learns_synthetic_mouse_psg():
    datasets = pytest.importorskip("sklearn_sleep.datasets")
    try:
        bunch = datasets.make_synthetic_psg(
            n_subjects=3, n_epochs=40, preset="mouse", random_state=0
        )
    except NotImplementedError:
        pytest.skip("make_synthetic_psg not available yet")
    assert bunch.X.shape[1:] == (2, 512) and bunch.sfreq == 512.0
    X = bunch.X / bunch.X.std(axis=(0, 2), keepdims=True)  # per-channel scaling
    test = bunch.groups == bunch.groups[-1]  # leave one mouse out
    clf = _classifier("cnn", max_epochs=6, lr=1e-2).fit(X[~test], bunch.y[~test])
    assert clf.score(X[test], bunch.y[test]) > 0.7  # majority class is ~50 %


def _run_loso_benchmark_smoke(tmp_path, networks):
    """benchmarks/bench_mouse_loso.py --smoke runs, labels its data synthetic and its
    pooled accuracy agrees with the per-mouse accuracies."""
    import importlib
    import json
    import sys
    from pathlib import Path

    bench_dir = Path(__file__).resolve().parents[1] / "benchmarks"
    if str(bench_dir) not in sys.path:
        sys.path.insert(0, str(bench_dir))
    bench = importlib.import_module("bench_mouse_loso")
    payload = bench.main(["--smoke", "--device", "cpu", "--out-dir", str(tmp_path),
                          "--networks", *networks])
    written = json.loads((tmp_path / "mouse_loso_smoke.json").read_text())
    assert written["synthetic"] is True and written["results"].keys() == payload["results"].keys()
    assert "SYNTHETIC" in (tmp_path / "mouse_loso_smoke.md").read_text()
    for name, res in payload["results"].items():
        per_mouse = res["per_mouse"]
        assert len(per_mouse) == 2 and res["folds_run"] == 2
        n = np.array([m["n_test"] for m in per_mouse])
        acc = np.array([m["accuracy"] for m in per_mouse])
        assert res["pooled"]["accuracy"] == pytest.approx(np.sum(n * acc) / n.sum())
        assert res["mean_accuracy"] == pytest.approx(acc.mean())
        assert res["recipe"]["lr"] == (0.1 if name == "transformer" else 0.01)
    assert list(payload["results"]) == networks
    assert payload["results"]["cnn"]["paper"]["mean_accuracy"] == 0.855


def test_mouse_loso_benchmark_smoke(tmp_path):
    _run_loso_benchmark_smoke(tmp_path, ["cnn"])


@pytest.mark.slow
def test_mouse_loso_benchmark_smoke_all_networks(tmp_path):
    _run_loso_benchmark_smoke(tmp_path, ["cnn", "cnn-attention", "transformer"])
