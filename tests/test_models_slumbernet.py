"""Tests of SlumberNet (Jha et al., Sci Rep 2024): network, preprocessing, classifier."""

import pickle
import warnings

import numpy as np
import pytest
import torch
from scipy import signal
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GridSearchCV, GroupKFold, cross_validate
from sklearn.pipeline import Pipeline
from skorch.callbacks import Callback

from sklearn_sleep.metrics import sleep_scoring
from sklearn_sleep.models import SlumberNet, SlumberNetClassifier
from sklearn_sleep.models.slumbernet import (
    SlumberNetPreprocessor,
    _SameConv2d,
    slumbernet_preprocess,
)

N_PARAMS = 5_338_931  # NETWORKS.md section 6.2 [COMPUTED]
# tiny settings for the fast tests: short epochs, few blocks, fast BatchNorm statistics
FAST = dict(module__n_blocks=3, module__bn_momentum=None, lr=1e-3, batch_size=16,
            max_epochs=2, device="cpu", random_state=0)


def _stage_data(n_per_class=12, n_times=32, n_subjects=4, seed=0):
    """Preprocessed-like (EEG, EMG) epochs: NREM = slow large EEG + low EMG,
    REM = faster EEG + flat EMG, W = small fast EEG + high EMG."""
    rng = np.random.default_rng(seed)
    t = np.arange(n_times) / n_times  # frequencies in cycles per epoch
    X, y = [], []
    for stage in ("W", "NREM", "REM"):
        for _ in range(n_per_class):
            ph = rng.uniform(0, 2 * np.pi)
            noise = rng.standard_normal((2, n_times))
            if stage == "NREM":
                eeg, emg = 3.0 * np.sin(2 * np.pi * rng.uniform(1.5, 2.5) * t + ph), 0.3 * noise[1]
            elif stage == "REM":
                eeg, emg = 1.5 * np.sin(2 * np.pi * rng.uniform(5, 7) * t + ph), 0.05 * noise[1]
            else:
                eeg, emg = 0.8 * np.sin(2 * np.pi * rng.uniform(10, 14) * t + ph), 2.0 * noise[1]
            X.append(np.stack([eeg + 0.3 * noise[0], emg]))
            y.append(stage)
    order = rng.permutation(len(y))
    return (np.asarray(X, dtype=np.float32)[order], np.asarray(y)[order],
            np.arange(len(y)) % n_subjects)


def _n_params(module):
    return sum(p.numel() for p in module.parameters() if p.requires_grad)


# ------------------------------------------------------------------------------ network
def test_param_count_and_paper_output_shape():
    net = SlumberNet().eval()
    assert _n_params(net) == N_PARAMS
    with torch.no_grad():
        out = net(torch.randn(2, 2, 256))
    assert out.shape == (2, 3) and torch.isfinite(out).all()
    widths = [b.main[0].out_channels for b in net.blocks]
    assert widths == [8, 16, 32, 64, 128, 256, 256]
    kernels = [
        [m.kernel_size for m in b.main if isinstance(m, torch.nn.Conv2d)] for b in net.blocks
    ]
    assert kernels[0] == [(2, 8), (2, 5), (2, 3)] and kernels[-1] == [(2, 8)] * 3
    assert isinstance(net.blocks[-1].shortcut, torch.nn.BatchNorm2d)
    assert net.blocks[0].shortcut[0].kernel_size == (2, 1)
    bns = [m for m in net.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    assert all(m.momentum == 0.01 and m.eps == 1e-3 for m in bns)
    convs = [m for m in net.modules() if isinstance(m, torch.nn.Conv2d)]
    assert all(c.bias is not None for c in convs)


@pytest.mark.parametrize("kernel", [(2, 8), (2, 5), (2, 3), (2, 1)])
def test_same_padding_matches_torch_same(kernel):
    torch.manual_seed(0)
    ours = _SameConv2d(3, 4, kernel)
    ref = torch.nn.Conv2d(3, 4, kernel, padding="same")
    ref.load_state_dict(ours.state_dict())
    x = torch.randn(2, 3, 16, 2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        expected = ref(x)
    torch.testing.assert_close(ours(x), expected)
    assert ours(x).shape == x.shape[:1] + (4,) + x.shape[2:]


def test_input_layouts():
    x = torch.arange(2 * 3 * 8, dtype=torch.float32).reshape(2, 3, 8)
    net = SlumberNet(n_chans=3, n_times=8, eeg_index=2, emg_index=0, n_blocks=2)
    img = net.to_image(x)
    expected = x.numpy()[:, [2, 0]].reshape(2, 1, 8, 2)  # the authors' reshape
    np.testing.assert_array_equal(img.numpy(), expected)
    assert img[0, 0, 0].tolist() == [16.0, 17.0]  # consecutive EEG samples share a row
    net = SlumberNet(n_chans=3, n_times=8, eeg_index=2, emg_index=0, n_blocks=2,
                     input_layout="transpose")
    img = net.to_image(x)
    np.testing.assert_array_equal(img[:, 0, :, 0].numpy(), x[:, 2].numpy())
    np.testing.assert_array_equal(img[:, 0, :, 1].numpy(), x[:, 0].numpy())
    with pytest.raises(ValueError, match="input_layout must be 'reshape' or 'transpose'"):
        SlumberNet(input_layout="stack")
    with pytest.raises(ValueError, match="even n_times, got n_times=255"):
        SlumberNet(n_times=255)


def test_augmentation_is_row_scaling_and_circular_roll():
    torch.manual_seed(0)
    height = 16
    img = torch.rand(64, 1, height, 2) + 1.0
    net = SlumberNet(n_times=height, n_blocks=2)
    out = net._augment(img)
    for b in range(img.shape[0]):
        # recover the shift: the roll that best explains the (scaled) rows
        ratios = [out[b, 0] / torch.roll(img[b, 0], s, dims=0) for s in range(height)]
        ok = [s for s, r in enumerate(ratios)
              if (0.7 <= r[:, 0]).all() and (r[:, 0] <= 1.3).all()
              and (0.95 <= r[:, 1]).all() and (r[:, 1] <= 1.05).all()]
        assert ok, f"sample {b} is not a scaled circular roll"
    # identity multipliers: exactly a per-sample circular roll
    net = SlumberNet(n_times=height, n_blocks=2, amplitude_ranges=((1, 1), (1, 1)))
    out = net._augment(img)
    for b in range(4):
        assert any(torch.equal(out[b, 0], torch.roll(img[b, 0], s, dims=0)) for s in range(height))


def test_augmentation_only_when_training():
    torch.manual_seed(0)
    net = SlumberNet(n_times=32, n_blocks=2, bn_momentum=None)
    x = torch.randn(4, 2, 32)
    net.eval()
    torch.testing.assert_close(net(x), net(x))  # deterministic at prediction time
    net.train()
    assert not torch.allclose(net(x), net(x))  # random scaling/roll
    net = SlumberNet(n_times=32, n_blocks=2, augment=False).train()
    torch.testing.assert_close(net(x), net(x))


def test_one_gradient_step_reduces_loss():
    torch.manual_seed(0)
    X, y, _ = _stage_data(n_per_class=3, n_times=32)
    x, target = torch.as_tensor(X), torch.as_tensor(np.unique(y, return_inverse=True)[1])
    net = SlumberNet(n_times=32, augment=False).train()  # full depth, short epochs
    opt = torch.optim.SGD(net.parameters(), lr=1e-2)
    loss_fn = torch.nn.CrossEntropyLoss()
    before = loss_fn(net(x), target)
    before.backward()
    opt.step()
    with torch.no_grad():
        after = loss_fn(net(x), target)
    assert after.item() < before.item()


def test_keras_initialisation():
    """Glorot-uniform kernels (a = sqrt(6 / (fan_in + fan_out))) and zero biases."""
    torch.manual_seed(0)
    net = SlumberNet(n_times=32, n_blocks=3)
    n_checked = 0
    for m in net.modules():
        if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear)):
            w = m.weight.detach()
            receptive = int(np.prod(w.shape[2:])) if w.dim() > 2 else 1
            fan_in, fan_out = w.shape[1] * receptive, w.shape[0] * receptive
            bound = np.sqrt(6.0 / (fan_in + fan_out))
            assert w.abs().max().item() <= bound + 1e-7
            if w.numel() >= 1000:  # uniform on [-a, a]: std a / sqrt(3)
                assert w.std().item() == pytest.approx(bound / np.sqrt(3), rel=0.1)
            assert torch.count_nonzero(m.bias) == 0
            n_checked += 1
        elif isinstance(m, torch.nn.BatchNorm2d):
            assert torch.all(m.weight == 1) and torch.all(m.bias == 0)
    assert n_checked == 3 * 4 - 1 + 1  # 2 blocks x (3 convs + shortcut), final 3 convs, fc


def test_from_image_inverts_to_image():
    x = torch.randn(3, 3, 16)
    for layout in ("reshape", "transpose"):
        net = SlumberNet(n_chans=3, n_times=16, n_blocks=2, eeg_index=2, emg_index=0,
                         input_layout=layout)
        torch.testing.assert_close(net.from_image(net.to_image(x), x), x)


class _BatchRecorder(Callback):
    """skorch callback keeping every training batch's inputs, per training epoch."""

    def __init__(self):
        self.epochs = []

    def on_epoch_begin(self, net, **kwargs):
        self.epochs.append([])

    def on_batch_begin(self, net, batch=None, training=False, **kwargs):
        if training:
            self.epochs[-1].append(torch.as_tensor(batch[0]).clone())


def _recorded_epochs(augmentation, X, y, **kwargs):
    rec = _BatchRecorder()
    clf = SlumberNetClassifier(**{**FAST, "max_epochs": 3, "batch_size": 8,
                                  "augmentation": augmentation, **kwargs},
                               callbacks=[("rec", rec)])
    clf.fit(X, y)
    return clf, [torch.cat(batches) for batches in rec.epochs]


def test_cached_augmentation_is_fixed_across_epochs():
    X, y, _ = _stage_data(n_per_class=4, n_times=16)
    clf, epochs = _recorded_epochs("cached", X, y)
    assert not clf.module_.augment  # nothing more inside forward
    assert len(epochs) == 3 and epochs[0].shape == X.shape
    for later in epochs[1:]:
        torch.testing.assert_close(later, epochs[0], rtol=0, atol=0)  # same samples, order
    assert not np.allclose(epochs[0].numpy(), X)  # augmented (and permuted)
    # with identity multipliers each cached sample is a circular roll of the image of
    # exactly one original epoch (authors' roll along the reshaped 256-row axis)
    _, epochs = _recorded_epochs("cached", X, y,
                                 module__amplitude_ranges=((1.0, 1.0), (1.0, 1.0)))
    images = X.reshape(len(X), 16, 2)
    matched = []
    for sample in epochs[0].numpy().reshape(len(X), 16, 2):
        hits = [i for i in range(len(X))
                if any(np.array_equal(sample, np.roll(images[i], s, axis=0)) for s in range(16))]
        assert len(hits) == 1
        matched.append(hits[0])
    assert sorted(matched) == list(range(len(X)))  # a permutation of the training set


def test_fresh_and_no_augmentation():
    X, y, _ = _stage_data(n_per_class=4, n_times=16)
    clf, epochs = _recorded_epochs("fresh", X, y)
    assert clf.module_.augment
    assert not torch.equal(epochs[0], epochs[1])  # reshuffled
    # the batches carry the raw epochs (augmentation happens inside forward)
    assert sorted(map(tuple, epochs[0].numpy().reshape(len(X), -1).round(5))) == sorted(
        map(tuple, X.reshape(len(X), -1).round(5)))
    clf, epochs = _recorded_epochs(None, X, y)
    assert not clf.module_.augment
    with pytest.raises(ValueError, match="augmentation must be one of"):
        SlumberNetClassifier(**{**FAST, "augmentation": "once"}).fit(X, y)
    with pytest.raises(ValueError, match="module__augment=True conflicts with augmentation='cached'"):
        SlumberNetClassifier(**{**FAST, "module__augment": True}).fit(X, y)


# ------------------------------------------------------------------------ preprocessing
def test_preprocess_matches_authors_steps():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((3, 2, 1024)).astype(np.float32)
    X[:, 0] += np.linspace(0, 5, 1024) ** 2  # a baseline drift to remove
    out = slumbernet_preprocess(X, 256.0)
    assert out.shape == (3, 2, 256) and out.dtype == np.float32
    # independent computation, epoch by epoch as in the authors' script
    idx = np.arange(256)
    b, a = signal.butter(4, 16, btype="low", fs=256)
    for i in range(3):
        eeg = signal.resample_poly(X[i, 0].astype(np.float64), 1, 4)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            eeg = eeg - np.polyval(np.polyfit(idx, eeg, 12), idx)
        emg = signal.resample_poly(signal.lfilter(b, a, X[i, 1].astype(np.float64)), 1, 4)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            emg = emg - np.polyval(np.polyfit(idx, emg, 12), idx)
        np.testing.assert_allclose(out[i, 0], eeg, atol=1e-4)
        np.testing.assert_allclose(out[i, 1], emg, atol=1e-4)


def test_preprocess_emg_lowpass_and_errors():
    t = np.arange(1024) / 256.0
    X = np.zeros((1, 2, 1024), dtype=np.float32)
    X[0, 1] = np.sin(2 * np.pi * 60 * t)  # far above the 16 Hz cut-off
    out = slumbernet_preprocess(X, 256.0, detrend_order=None)
    assert np.abs(out[0, 1, 64:]).max() < 0.01
    with pytest.raises(ValueError, match="emg_lowpass=200"):
        slumbernet_preprocess(X, 256.0, emg_lowpass=200)
    with pytest.raises(ValueError, match="emg_index=4 is out of range"):
        slumbernet_preprocess(X, 256.0, emg_index=4)
    with pytest.raises(ValueError):
        slumbernet_preprocess(X[0], 256.0)  # 2-D input


def test_preprocessor_transformer():
    X = np.random.default_rng(1).standard_normal((4, 3, 1024)).astype(np.float32)
    pre = SlumberNetPreprocessor(eeg_index=2, emg_index=0)
    assert pre.fit(X) is pre and pre.n_features_in_ == 3
    np.testing.assert_array_equal(
        pre.transform(X), slumbernet_preprocess(X, 256.0, eeg_index=2, emg_index=0)
    )
    assert clone(pre).get_params() == pre.get_params()
    with pytest.raises(ValueError, match="X has 2 channels"):
        pre.transform(X[:, :2])
    with pytest.raises(NotFittedError):
        SlumberNetPreprocessor().transform(X)


# --------------------------------------------------------------------------- classifier
def test_authors_training_defaults():
    clf = SlumberNetClassifier()
    params = clf.get_params()
    assert params["lr"] == 1e-6 and params["optimizer"] is torch.optim.Adam
    assert params["max_epochs"] == 50 and params["batch_size"] == 128
    assert params["class_weight"] is None and params["sfreq"] == 64.0
    assert params["augmentation"] == "cached"  # the authors' map -> batch -> cache()
    sched = dict(clf.get_default_callbacks())["lr_scheduler"]
    assert sched.policy is torch.optim.lr_scheduler.ReduceLROnPlateau
    assert sched.monitor == "train_loss"
    assert sched.kwargs == {"factor": 0.5, "patience": 3, "min_lr": 1e-7}


def test_classifier_learns_known_stages():
    X, y, _ = _stage_data(n_per_class=16, seed=0)
    X_test, y_test, _ = _stage_data(n_per_class=10, seed=1)
    clf = SlumberNetClassifier(**{**FAST, "max_epochs": 8})
    assert clf.fit(X, y) is clf
    assert clf.score(X_test, y_test) > 0.7  # chance is 1/3
    assert list(clf.classes_) == ["NREM", "REM", "W"]
    assert set(clf.predict(X_test)) <= {"W", "NREM", "REM"}
    assert clf.class_weight_ is None


def test_reduce_lr_on_plateau_of_train_loss():
    X, y, _ = _stage_data(n_per_class=2)
    # SGD at lr 1e-6 leaves a full-batch, non-augmented loss practically constant: after
    # the first epoch sets the best loss, 4 epochs without a relative improvement of 1e-4
    # (patience 3) halve the learning rate once within 6 epochs
    clf = SlumberNetClassifier(**{**FAST, "lr": 1e-6, "max_epochs": 6, "batch_size": 64,
                                  "augmentation": None, "optimizer": torch.optim.SGD})
    clf.fit(X, y)
    assert clf.optimizer_.param_groups[0]["lr"] == pytest.approx(5e-7)
    clf.set_params(callbacks__lr_scheduler=None).fit(X, y)
    assert clf.optimizer_.param_groups[0]["lr"] == 1e-6


def test_estimator_contract():
    X, y, _ = _stage_data(n_per_class=4)
    clf = SlumberNetClassifier(**FAST)
    with pytest.raises(NotFittedError):
        clf.predict(X)
    clf.set_params(module__input_layout="transpose")
    cloned = clone(clf)
    assert cloned.get_params()["module__input_layout"] == "transpose"
    clf.fit(X, y)
    assert clf.module_.input_layout == "transpose"
    proba = clf.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-5)
    np.testing.assert_array_equal(clf.predict_proba(X), proba)  # no augmentation at predict
    restored = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(restored.predict_proba(X), proba)
    with pytest.raises(ValueError, match=r"\(2, 32\), got \(2, 16\)"):
        clf.predict(X[:, :, :16])


def test_pipeline_cross_validate_and_grid_search():
    # raw 4-s epochs at 256 Hz -> authors' preprocessing -> (2, 256) at 64 Hz
    rng = np.random.default_rng(0)
    X_small, y, groups = _stage_data(n_per_class=6, n_times=256, seed=2)
    X = signal.resample_poly(X_small, 4, 1, axis=-1).astype(np.float32)
    X += 0.01 * rng.standard_normal(X.shape).astype(np.float32)
    net = SlumberNetClassifier(**{**FAST, "module__n_blocks": 2, "max_epochs": 1})
    pipe = Pipeline([("pre", SlumberNetPreprocessor(sfreq=256.0)), ("net", net)])
    cv = cross_validate(pipe, X, y, groups=groups, cv=GroupKFold(2), scoring=sleep_scoring())
    for key in ("test_accuracy", "test_macro_f1", "test_kappa", "test_gmean"):
        assert cv[key].shape == (2,) and np.all(np.isfinite(cv[key]))
    search = GridSearchCV(
        pipe,
        {"net__module__input_layout": ["reshape", "transpose"], "net__lr": [1e-3, 1e-2]},
        cv=GroupKFold(2),
    )
    search.fit(X, y, groups=groups)
    assert set(search.best_params_) == {"net__module__input_layout", "net__lr"}
    assert search.best_estimator_.named_steps["net"].input_shape_ == (2, 256)
    assert search.predict(X).shape == (len(X),)


@pytest.mark.slow
def test_full_size_network_learns_on_paper_input():
    X, y, _ = _stage_data(n_per_class=16, n_times=256, seed=0)
    X_test, y_test, _ = _stage_data(n_per_class=8, n_times=256, seed=1)
    clf = SlumberNetClassifier(lr=1e-3, max_epochs=8, batch_size=16, device="cpu",
                               random_state=0, module__bn_momentum=None)
    clf.fit(X, y)
    assert clf.score(X_test, y_test) > 0.6  # chance is 1/3


@pytest.mark.gpu
def test_gpu_mixed_precision_fit():
    if not torch.cuda.is_available():
        pytest.skip("needs CUDA")
    X, y, _ = _stage_data(n_per_class=8, n_times=256)
    clf = SlumberNetClassifier(lr=1e-3, max_epochs=1, batch_size=16, device="cuda",
                               mixed_precision=True, random_state=0)
    clf.fit(X, y)
    assert next(clf.module_.parameters()).is_cuda
    proba = clf.predict_proba(X)
    assert isinstance(proba, np.ndarray) and proba.shape == (len(X), 3)
    assert np.all(np.isfinite(proba))
    assert set(clf.predict(X)) <= {"W", "NREM", "REM"}
