"""Tests of the sequence networks (EpochSequenceNet, SequenceSleepNetClassifier, MASleepNet-seq)."""

import copy
import importlib
import pickle
import sys
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse
import sklearn
import torch
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, GroupKFold
from torch import nn
from torch.nn import functional as F

from sklearn_sleep.models import (
    EpochSequenceNet,
    MASleepNet,
    MASleepNetSequenceClassifier,
    MouseCNN,
    SequenceSleepNetClassifier,
    ULWSleepNet,
)
from sklearn_sleep.models.sequence import context_rows
from sklearn_sleep.preprocessing import EpochSegmenter

SFREQ, EPOCH_S = 10.0, 30.0  # 300-sample epochs keep ULW-SleepNet cheap
N_T = int(SFREQ * EPOCH_S)


def _recordings(n_rec=3, n_epochs=8, n_chans=2, seed=0):
    """Continuous recordings whose epochs carry their (recording, index) in the signal."""
    rng = np.random.default_rng(seed)
    sigs, labs = [], []
    for r in range(n_rec):
        y = rng.integers(0, 3, n_epochs)
        ep = rng.standard_normal((n_epochs, n_chans, N_T)).astype(np.float32)
        ep += (2.0 * y)[:, None, None]  # a learnable stage signal
        sigs.append(ep.transpose(1, 0, 2).reshape(n_chans, -1))
        labs.append(y)
    return sigs, labs


def _segment(n_context=1, **kw):
    sigs, labs = _recordings(**kw)
    return EpochSegmenter(sfreq=SFREQ, epoch_seconds=EPOCH_S, n_context=n_context).segment(
        sigs, labs, recordings=[f"r{i}" for i in range(len(sigs))])


def _clf(**kw):
    params = dict(max_epochs=1, batch_size=8, device="cpu", random_state=0,
                  sequence_hidden=8, sequence_heads=2)
    params.update(kw)
    return SequenceSleepNetClassifier(ULWSleepNet, **params)


# ------------------------------------------------------------------------ module


@pytest.mark.parametrize("shortcut", [False, True])
@pytest.mark.parametrize("model", ["bigru", "bilstm", "transformer", "bilstm_attention"])
def test_module_output_shapes(model, shortcut):
    net = EpochSequenceNet(ULWSleepNet(n_chans=2, n_times=N_T, n_classes=4), n_classes=4,
                           sequence_model=model, n_hidden=8, n_heads=2,
                           epoch_shortcut=shortcut)
    assert net(torch.randn(3, 5, 2, N_T)).shape == (3, 5, 4)


_TINY = {  # network -> (n_chans, n_times, constructor settings), as in test_robustness
    "MMASleepNet": (4, 1000, {}),
    "MASleepNet": (4, 1000, {"n_filters": 16, "lstm_hidden": 8, "attention_dim": 8}),
    "ULWSleepNet": (4, 300, {}),
    "SSCSleepNet": (1, 300, {"stem_channels": 8, "se_widths": (8, 16), "blocks_per_stage": 1,
                             "se_reduction": 4, "cnn_channels": (8, 16, 16),
                             "cnn_kernels": (25, 8, 8), "embed_dim": 16, "fc_hidden": 16}),
    "MouseCNN": (2, 512, {}),
    "MouseCNNAttention": (2, 512, {}),
    "MouseTransformer": (2, 512, {"n_layers": 1, "d_model": 32, "n_heads": 4, "d_ff": 64,
                                  "head_hidden": 32}),
    "SlumberNet": (2, 32, {"n_blocks": 2}),
}


@pytest.mark.parametrize("name", sorted(_TINY))
def test_every_library_network_becomes_a_sequence_network(name):
    from sklearn_sleep import models

    n_chans, n_times, kw = _TINY[name]
    torch.manual_seed(0)
    encoder = getattr(models, name)(n_chans=n_chans, n_times=n_times, n_classes=3, **kw)
    ref = copy.deepcopy(encoder).eval()
    net = EpochSequenceNet(encoder, n_classes=3, n_hidden=4).eval()
    assert net.feature_layer_ in ("classifier", "head", "fc")
    seen = []
    ref.get_submodule(net.feature_layer_).register_forward_pre_hook(
        lambda mod, args: seen.append(args[0]))
    x = torch.randn(2, 3, n_chans, n_times)
    with torch.no_grad():
        ref(x[:, 1])
        torch.testing.assert_close(net._encode(x[:, 1]), seen[0].flatten(1))
        out = net(x)
    assert net.n_features == seen[0].flatten(1).shape[1]
    assert out.shape == (2, 3, 3) and torch.isfinite(out).all()


@pytest.mark.parametrize("shortcut", [False, True])
def test_bilstm_attention_head_sees_state_context_and_shortcut(shortcut):
    torch.manual_seed(0)
    net = EpochSequenceNet(ULWSleepNet(n_chans=2, n_times=N_T), n_classes=3, n_hidden=4,
                           sequence_model="bilstm_attention", epoch_shortcut=shortcut).eval()
    x = torch.randn(2, 5, 2, N_T)
    with torch.no_grad():
        z = net._encode(x.reshape(10, 2, N_T)).reshape(2, 5, -1)
        h, _ = net.rnn(z)
        e = net.attention.score(torch.tanh(net.attention.proj(h))).squeeze(-1)
        context = (torch.softmax(e, dim=1)[..., None] * h).sum(dim=1)
        out = net(x)
        for t in range(5):
            parts = [h[:, t], context] + ([z[:, t]] if shortcut else [])
            torch.testing.assert_close(out[:, t], net.head(torch.cat(parts, dim=1)))


@pytest.mark.parametrize("model", ["bigru", "transformer", "bilstm_attention"])
def test_epoch_shortcut_contains_the_epoch_network(model):
    """With the head's weights on the sequence part at zero and the encoder's own
    classifier on the shortcut part, the sequence network *is* the epoch network:
    the shortcut lets it start from (and fall back to) epoch-by-epoch scoring."""
    torch.manual_seed(0)
    encoder = ULWSleepNet(n_chans=2, n_times=N_T, n_classes=3)
    reference = copy.deepcopy(encoder).eval()
    net = EpochSequenceNet(encoder, n_classes=3, n_hidden=4, n_heads=2, sequence_model=model,
                           epoch_shortcut=True).eval()
    # ULW-SleepNet's head is Dropout -> Linear -> Linear (no activation): one affine map
    assert [type(m).__name__ for m in reference.classifier] == ["Dropout", "Linear", "Linear"]
    first, second = reference.classifier[1], reference.classifier[2]
    d = net.n_features
    with torch.no_grad():
        linear = net.head[-1]
        linear.weight.zero_()
        linear.weight[:, -d:] = second.weight @ first.weight
        linear.bias.copy_(second.weight @ first.bias + second.bias)
        x = torch.randn(4, 3, 2, N_T)
        out = net(x)
        for t in range(3):
            torch.testing.assert_close(out[:, t], reference(x[:, t]), rtol=1e-5, atol=1e-5)


def test_embedding_is_the_input_of_the_head():
    torch.manual_seed(0)
    enc = ULWSleepNet(n_chans=2, n_times=N_T, n_classes=5)
    ref = ULWSleepNet(n_chans=2, n_times=N_T, n_classes=5)
    ref.load_state_dict(enc.state_dict())
    net = EpochSequenceNet(enc, n_classes=5, n_hidden=8).eval()
    ref.eval()
    assert net.feature_layer_ == "classifier"
    assert isinstance(net.encoder.classifier, nn.Module) and not list(
        net.encoder.classifier.parameters())  # the head is gone, not trained
    x = torch.randn(4, 2, N_T)
    with torch.no_grad():
        expected = ref.features(x).flatten(1)  # what ULW-SleepNet's head receives
        got = net._encode(x)
    assert net.n_features == 2 * 32
    torch.testing.assert_close(got, expected)


def test_feature_layer_auto_none_and_errors():
    mouse = EpochSequenceNet(MouseCNN(n_chans=2, n_times=512, n_classes=3), n_classes=3,
                             n_hidden=4)
    assert mouse.feature_layer_ == "head"
    logits = EpochSequenceNet(ULWSleepNet(n_chans=2, n_times=N_T, n_classes=5), n_classes=3,
                              feature_layer=None, n_hidden=4)
    assert logits.feature_layer_ is None and logits.n_features == 5
    with pytest.raises(ValueError, match="not a submodule"):
        EpochSequenceNet(ULWSleepNet(n_chans=2, n_times=N_T), feature_layer="nope")
    with pytest.raises(ValueError, match="feature_layer"):
        EpochSequenceNet(nn.Sequential(nn.Flatten(), nn.Linear(2 * N_T, 3)),
                         n_chans=2, n_times=N_T)
    with pytest.raises(ValueError, match="sequence_model"):
        EpochSequenceNet(ULWSleepNet(n_chans=2, n_times=N_T), sequence_model="lstm")
    with pytest.raises(ValueError, match="multiple of n_heads"):
        EpochSequenceNet(ULWSleepNet(n_chans=2, n_times=N_T), sequence_model="transformer",
                         n_hidden=6, n_heads=4)


def test_models_pickled_before_epoch_shortcut_still_predict():
    """Networks and classifiers pickled before ``epoch_shortcut`` existed load as without it."""
    import pickle

    out = _segment(n_context=1)
    clf = _clf(sequence_model="bilstm_attention").fit(out.X, out.y)
    expected = clf.predict_proba(out.X)
    old = copy.copy(clf)
    del old.__dict__["epoch_shortcut"]  # as pickled by the earlier version
    del old.module_.__dict__["epoch_shortcut"]
    loaded = pickle.loads(pickle.dumps(old))
    assert loaded.epoch_shortcut is False and loaded.module_.epoch_shortcut is False
    np.testing.assert_allclose(loaded.predict_proba(out.X), expected, rtol=1e-6)
    assert loaded.get_params()["epoch_shortcut"] is False


def test_safe_model_files_without_epoch_shortcut_load_as_before(tmp_path):
    from sklearn_sleep._safe_model import decode_estimator, encode_estimator

    out = _segment(n_context=1)
    clf = MASleepNetSequenceClassifier(module__n_filters=8, module__lstm_hidden=4,
                                       module__attention_dim=4, module__modalities="eeg",
                                       sequence_hidden=4, sfreq=SFREQ,
                                       epoch_shortcut=False, max_epochs=1, device="cpu",
                                       random_state=0, lr_milestones=None,
                                       class_weight=None).fit(out.X, out.y)
    description, members = encode_estimator(clf)
    assert description["params"].pop("epoch_shortcut") is False  # a file of the old format
    loaded = decode_estimator(description, members.__getitem__, path="old.model")
    assert loaded.epoch_shortcut is False
    np.testing.assert_allclose(loaded.predict_proba(out.X), clf.predict_proba(out.X),
                               rtol=1e-5, atol=1e-6)


def test_masleepnet_sequence_module():
    clf = MASleepNetSequenceClassifier(module__n_filters=8, module__lstm_hidden=4,
                                       module__attention_dim=4, sequence_hidden=4)
    clf.__dict__["classes_fitted_"] = np.array(["W", "N1", "N2", "N3", "REM"])
    clf.n_chans_in_, clf.n_times_in_, clf.sfreq_in_ = 4, 3000, 100.0
    clf._initialize_module()  # skorch's wrapper of initialize_module
    net = clf.module_
    assert isinstance(net.encoder, MASleepNet) and net.feature_layer_ == "classifier"
    assert net.n_features == 2 * 4  # the intra-epoch BiLSTM-attention context vector
    assert isinstance(net.rnn, nn.LSTM) and net.rnn.hidden_size == 4
    assert net.head[-1].out_features == 5 and net.head[1].out_features == 64
    # each epoch's BiLSTM state + attention context + the epoch's own embedding (shortcut)
    assert net.epoch_shortcut and net.head[1].in_features == 4 * 4 + 2 * 4
    assert net(torch.randn(2, 3, 4, 3000)).shape == (2, 3, 5)  # one logit vector per epoch


# ------------------------------------------------------------ context metadata


def test_context_rows_matches_brute_force_and_never_crosses_recordings():
    rng = np.random.default_rng(1)
    rec = np.repeat(["a", "b", "c"], [5, 3, 6])
    idx = np.concatenate([np.arange(5), np.arange(3), np.arange(6)])
    keep = rng.random(len(rec)) < 0.8  # some epochs missing from the rows
    rec, idx = rec[keep], idx[keep]
    perm = rng.permutation(len(rec))
    rec, idx = rec[perm], idx[perm]
    k = 2
    rows = context_rows(rec, idx, k)
    for i in range(len(rec)):
        for j, o in enumerate(range(-k, k + 1)):
            match = np.flatnonzero((rec == rec[i]) & (idx == idx[i] + o))
            assert rows[i, j] == (match[0] if len(match) else -1)
    assert np.array_equal(rows[:, k], np.arange(len(rec)))
    with pytest.raises(ValueError, match="more than once"):
        context_rows(["a", "a"], [0, 0], 1)


def test_segmenter_sequences_stay_in_their_recording():
    out = _segment(n_context=2, n_rec=2, n_epochs=4)
    sigs, _ = _recordings(n_rec=2, n_epochs=4)
    for i in range(len(out.X)):
        own = sigs[int(out.recordings[i][1])]
        epochs = own.reshape(own.shape[0], -1, N_T).transpose(1, 0, 2)
        for j in range(out.X.shape[1]):  # every position is an epoch of the row's recording
            assert any(np.array_equal(out.X[i, j], e) for e in epochs)


# ------------------------------------------------------------------ classifier


def test_fit_predict_layout_and_sorted_classes():
    out = _segment(n_context=1)
    clf = _clf().fit(out.X, out.y)
    assert clf.input_shape_ == (3, 2, N_T) and clf.n_context_in_ == 1
    np.testing.assert_array_equal(clf.classes_, np.unique(out.y))
    proba = clf.predict_proba(out.X)
    assert proba.shape == (len(out.X), len(clf.classes_))
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-5)
    np.testing.assert_array_equal(clf.predict(out.X), clf.classes_[proba.argmax(axis=1)])
    # one row at a time gives the same numbers: rows never see each other
    single = np.concatenate([clf.predict_proba(out.X[i:i + 1]) for i in range(5)])
    np.testing.assert_allclose(single, proba[:5], rtol=1e-4, atol=1e-6)
    # the output is the middle position of the module's sequence output
    clf.module_.eval()
    with torch.no_grad():
        seq = torch.softmax(clf.module_(torch.as_tensor(out.X[:4])), dim=-1)[:, 1]
    np.testing.assert_allclose(proba[:4], seq.numpy(), rtol=1e-4, atol=1e-6)


def test_input_validation_messages():
    out = _segment(n_context=1)
    clf = _clf()
    with pytest.raises(ValueError, match="n_context"):
        clf.fit(out.X[:, 1], out.y)  # 3-D single epochs
    with pytest.raises(ValueError, match="odd"):
        clf.fit(out.X[:, :2], out.y)
    with pytest.raises(ValueError, match="4-D"):
        clf.fit(out.X[None], out.y)
    with pytest.raises(TypeError, match="sparse"):
        clf.fit(scipy.sparse.csr_matrix(out.X.reshape(len(out.X), -1)), out.y)
    clf.fit(out.X, out.y)
    wide = _segment(n_context=2)
    with pytest.raises(ValueError, match="same n_context"):
        clf.predict(wide.X)
    # negative-stride views (time reversed) reach torch as contiguous copies
    flipped = out.X[..., ::-1]
    np.testing.assert_allclose(clf.predict_proba(flipped),
                               clf.predict_proba(np.ascontiguousarray(flipped)), rtol=1e-6)


def test_loss_positions_all_needs_and_checks_metadata():
    out = _segment(n_context=1)
    with pytest.raises(ValueError, match="epoch_index"):
        _clf(loss_positions="all").fit(out.X, out.y)
    shuffled = out.epoch_index.copy()
    shuffled[:3] = shuffled[[1, 2, 0]]
    with pytest.raises(ValueError, match="do not describe X"):
        _clf(loss_positions="all").fit(out.X, out.y, recordings=out.recordings,
                                       epoch_index=shuffled)
    with pytest.raises(ValueError, match="loss_positions"):
        _clf(loss_positions="every").fit(out.X, out.y)
    clf = _clf(loss_positions="all").fit(out.X, out.y, recordings=out.recordings,
                                         epoch_index=out.epoch_index)
    assert clf.predict(out.X).shape == out.y.shape
    with pytest.raises(ValueError, match="partial_fit"):
        clf.partial_fit(out.X, out.y)
    centre = _clf().fit(out.X, out.y)
    centre.partial_fit(out.X, out.y)  # continues training (middle position)
    assert len(centre.history_) == 2


def test_all_position_targets_and_masked_loss():
    out = _segment(n_context=1)
    clf = _clf(loss_positions="all")
    rows = clf._context_targets(out.X, out.recordings, out.epoch_index)
    clf.__dict__["_context_rows"] = rows
    y_enc = np.searchsorted(np.unique(out.y), out.y)
    ds = clf.get_dataset(out.X, y_enc)
    Y = np.stack([np.asarray(ds[i][1]) for i in range(len(out.X))])
    for i in range(len(out.X)):  # independent: label of epoch idx+o of the same recording
        for j, o in enumerate((-1, 0, 1)):
            m = np.flatnonzero((out.recordings == out.recordings[i])
                               & (out.epoch_index == out.epoch_index[i] + o))
            assert Y[i, j] == (y_enc[m[0]] if len(m) else -100)
    clf.__dict__["classes_fitted_"] = np.unique(out.y)
    clf.class_weight_ = None
    clf._initialize_criterion()
    logits = torch.randn(len(Y), 3, 3)
    target = torch.as_tensor(Y)
    keep = target != -100
    expected = F.cross_entropy(logits[keep], target[keep])
    torch.testing.assert_close(clf.get_loss(logits, target), expected)
    middle = F.cross_entropy(logits[:, 1], target[:, 1])
    torch.testing.assert_close(clf.get_loss(logits, target[:, 1]), middle)


def test_get_params_clone_gridsearch_and_pickle():
    out = _segment(n_context=1, n_rec=4, n_epochs=5)
    clf = _clf(sequence_model="transformer", module__dropout=0.2)
    params = clf.get_params()
    assert params["sequence_model"] == "transformer" and params["module__dropout"] == 0.2
    twin = clone(clf)
    assert twin.get_params()["sequence_hidden"] == 8 and twin.module is ULWSleepNet
    gs = GridSearchCV(_clf(), {"sequence_model": ["bigru", "transformer"]}, cv=GroupKFold(2))
    gs.fit(out.X, out.y, groups=out.recordings)
    assert gs.best_estimator_.sequence_model in ("bigru", "transformer")
    assert gs.predict(out.X).shape == out.y.shape
    fitted = gs.best_estimator_
    again = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_allclose(again.predict_proba(out.X), fitted.predict_proba(out.X),
                               rtol=1e-5, atol=1e-7)


def test_metadata_routing_in_gridsearch_with_groupkfold():
    out = _segment(n_context=1, n_rec=4, n_epochs=5)
    seen = []

    class Spy(SequenceSleepNetClassifier):
        def fit(self, X, y, groups=None, recordings=None, epoch_index=None, **fit_params):
            seen.append(set(np.asarray(recordings).tolist()))
            return super().fit(X, y, groups=groups, recordings=recordings,
                               epoch_index=epoch_index, **fit_params)

    est = Spy(ULWSleepNet, loss_positions="all", max_epochs=1, batch_size=8, device="cpu",
              random_state=0, sequence_hidden=8)
    with sklearn.config_context(enable_metadata_routing=True):
        est = est.set_fit_request(groups=False, recordings=True, epoch_index=True)
        gs = GridSearchCV(est, {"sequence_hidden": [8]}, cv=GroupKFold(2), refit=False)
        gs.fit(out.X, out.y, groups=out.recordings, recordings=out.recordings,
               epoch_index=out.epoch_index)
    # each fold's fit saw only its training recordings' metadata (2 of 4 recordings)
    assert len(seen) == 2 and all(len(s) == 2 for s in seen)
    assert seen[0].isdisjoint(seen[1])


def test_masleepnet_sequence_params_round_trip():
    clf = MASleepNetSequenceClassifier(lr_milestones=None, sequence_hidden=16,
                                       module__n_filters=32)
    params = clf.get_params()
    assert params["sequence_model"] == "bilstm_attention" and params["class_weight"] == "attnsleep"
    assert params["lr_milestones"] is None and params["module__n_filters"] == 32
    twin = clone(clf).get_params()
    assert {k: v for k, v in twin.items() if not k.startswith("callbacks")} == {
        k: v for k, v in params.items() if not k.startswith("callbacks")}
    names = [n for n, _ in MASleepNetSequenceClassifier().get_default_callbacks()]
    assert "lr_step" in names and "lr_step" not in [n for n, _ in clf.get_default_callbacks()]


def test_module_instance_refused():
    out = _segment(n_context=1)
    clf = SequenceSleepNetClassifier(ULWSleepNet(n_chans=2, n_times=N_T), max_epochs=1,
                                     device="cpu")
    with pytest.raises(TypeError, match="class"):
        clf.fit(out.X, out.y)


# ------------------------------------------------------------------------- slow


def _bench():
    bench_dir = Path(__file__).resolve().parents[1] / "benchmarks"
    if str(bench_dir) not in sys.path:
        sys.path.insert(0, str(bench_dir))
    return importlib.import_module("bench_sequence")


@pytest.mark.slow
def test_benchmark_smoke(tmp_path):
    payload = _bench().main(["--smoke", "--out-dir", str(tmp_path)])
    assert {r["kind"] for r in payload["results"]} == {"epoch", "sequence"}


@pytest.mark.slow
@pytest.mark.parametrize("pair", ["ulw", "masleepnet"])
def test_sequence_beats_epoch_network_on_synthetic_psg(pair):
    """The committed benchmark's configuration, seed 0 (benchmarks/results/sequence_seed0.md;
    every seed is summarised in sequence_seeds.md), one pair."""
    payload = _bench().main(["--no-write", "--pairs", pair])
    rows = payload["results"]
    epoch = [r for r in rows if r["kind"] == "epoch"]
    assert len(epoch) == 1 and len(rows) >= 2
    for r in rows:
        if r["kind"] == "sequence":
            assert r["kappa"] > epoch[0]["kappa"], (r["network"], r["kappa"], epoch[0]["kappa"])
