"""The label, stage and refit contract of the network classifiers (issue 8).

* ``classes_`` is sorted (``np.unique``), so scikit-learn's probability scorers read
  the right columns;
* stage-specific settings find their stage by name (aliases, ``stage_map``), never by
  position, also inside meta-estimators that label-encode ``y``;
* warm start / partial_fit / sample_weight / random state behave as documented.
"""

import warnings

import numpy as np
import pytest
import torch
from sklearn.ensemble import StackingClassifier, VotingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import get_scorer, roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer
from torch import nn

from sklearn_sleep.models import (
    MASleepNetClassifier,
    MMASleepNetClassifier,
    SleepNetClassifier,
    SSCSleepNetClassifier,
)
from sklearn_sleep.models.losses import attnsleep_class_weights
from sklearn_sleep.utils import identify_stages
from sklearn_sleep.utils._stages import canonical_labels

STAGES = ["W", "N1", "N2", "N3", "REM"]
MMA_WEIGHT = {"W": 1.0, "N1": 1.8, "N2": 1.0, "N3": 1.25, "REM": 1.2}


class TinyNet(nn.Module):
    """Linear read-out of per-channel log power (learns amplitude-coded stages)."""

    def __init__(self, n_chans=1, n_times=10, n_classes=2, hidden=8):
        super().__init__()
        self.head = nn.Sequential(
            nn.Linear(n_chans, hidden), nn.ReLU(), nn.Linear(hidden, n_classes)
        )

    def forward(self, x):
        return self.head(torch.log(x.pow(2).mean(-1) + 1e-6))


def _data(labels=STAGES, n_per_class=24, n_times=40, seed=0, noise=0.6):
    """Stages coded by amplitude, with overlap (so the scores are not all perfect)."""
    rng = np.random.default_rng(seed)
    y = np.repeat(np.asarray(labels, dtype=object), n_per_class)
    scale = np.repeat(np.geomspace(0.3, 3.0, len(labels)), n_per_class)
    scale = scale * np.exp(noise * rng.normal(size=len(y)))
    X = (rng.normal(size=(len(y), 2, n_times)) * scale[:, None, None]).astype(np.float32)
    perm = rng.permutation(len(y))
    return X[perm], y[perm]


def _net(cls=SleepNetClassifier, **kw):
    params = dict(max_epochs=15, lr=0.05, batch_size=32, random_state=0, device="cpu")
    params.update(kw)
    if cls is SleepNetClassifier:
        return cls(TinyNet, **params)
    return cls(module=TinyNet, **params)


# ----------------------------------------------------------------- scorers
@pytest.fixture(scope="module")
def scored():
    X, y = _data()
    clf = _net().fit(X, y)
    return clf, X, y, clf.predict_proba(X)


def test_classes_are_sorted(scored):
    clf, _, y, _ = scored
    assert clf.classes_.tolist() == sorted(STAGES) == np.unique(y).tolist()


def test_roc_auc_ovr_scorer_matches_hand_computation(scored):
    clf, X, y, proba = scored
    cols = {c: i for i, c in enumerate(clf.classes_)}  # column of each stage, by name
    hand = np.mean([roc_auc_score(y == c, proba[:, cols[c]]) for c in STAGES])
    assert hand > 0.75  # the network learned something: the probe is meaningful
    assert get_scorer("roc_auc_ovr")(clf, X, y) == pytest.approx(hand, abs=1e-12)


def test_roc_auc_ovo_scorer_matches_hand_computation(scored):
    clf, X, y, proba = scored
    cols = {c: i for i, c in enumerate(clf.classes_)}
    pair_aucs = []
    for i, a in enumerate(STAGES):
        for b in STAGES[i + 1:]:
            m = (y == a) | (y == b)
            auc_a = roc_auc_score(y[m] == a, proba[m, cols[a]])
            auc_b = roc_auc_score(y[m] == b, proba[m, cols[b]])
            pair_aucs.append((auc_a + auc_b) / 2)
    assert get_scorer("roc_auc_ovo")(clf, X, y) == pytest.approx(np.mean(pair_aucs), abs=1e-12)


def test_top_k_and_log_loss_scorers_match_hand_computation(scored):
    clf, X, y, proba = scored
    names = clf.classes_
    top2 = np.argsort(-proba, axis=1)[:, :2]
    hand_top2 = np.mean([y[i] in names[top2[i]] for i in range(len(y))])
    assert get_scorer("top_k_accuracy")(clf, X, y) == pytest.approx(hand_top2)
    p_true = proba[np.arange(len(y)), [names.tolist().index(label) for label in y]]
    p_true = p_true / proba.sum(axis=1)  # scikit-learn renormalises rows
    hand_ll = np.mean(np.log(np.clip(p_true, np.finfo(proba.dtype).eps, 1)))
    assert get_scorer("neg_log_loss")(clf, X, y) == pytest.approx(hand_ll, rel=1e-5)


# ------------------------------------------------------------ stage identity
@pytest.mark.parametrize(
    "labels",
    [STAGES, ["Wake", "S1", "S2", "S3", "R"], ["w", "n1", "n2", "n3", "rem"],
     ["Sleep stage W", "Sleep stage 1", "Sleep stage 2", "Sleep stage 4", "Sleep stage R"]],
)
def test_stage_weights_land_on_their_stage_for_every_spelling(labels):
    X, y = _data(labels, n_per_class=4)
    clf = _net(MMASleepNetClassifier, max_epochs=1).fit(X, y)
    stage = dict(zip(labels, STAGES))
    assert clf.stage_names_ == tuple(stage[c] for c in clf.classes_)
    np.testing.assert_allclose(clf.class_weight_, [MMA_WEIGHT[stage[c]] for c in clf.classes_])
    np.testing.assert_allclose(clf.criterion_.weight.numpy(), clf.class_weight_)
    # AttnSleep factors by stage, too
    att = _net(MASleepNetClassifier, max_epochs=1).fit(X, y)
    codes = np.array([STAGES.index(stage[label]) for label in y])
    expected = attnsleep_class_weights(codes)[[STAGES.index(stage[c]) for c in att.classes_]]
    np.testing.assert_allclose(att.class_weight_, expected)


def test_integer_labels_need_stage_map():
    X, y = _data(n_per_class=4)
    codes = np.array([STAGES.index(s) for s in y])  # AASM codes 0=W .. 4=REM
    for cls in (MMASleepNetClassifier, MASleepNetClassifier, SSCSleepNetClassifier):
        with pytest.raises(ValueError, match=r"stage_map='aasm'.*dict\(enumerate"):
            _net(cls, max_epochs=1).fit(X, codes)
    clf = _net(MMASleepNetClassifier, max_epochs=1, stage_map="aasm").fit(X, codes)
    assert clf.classes_.tolist() == [0, 1, 2, 3, 4]
    np.testing.assert_allclose(clf.class_weight_, [1.0, 1.8, 1.0, 1.25, 1.2])
    ssc = _net(SSCSleepNetClassifier, max_epochs=1, stage_map="aasm").fit(X, codes)
    assert ssc.criterion_.n1_index == 1
    # label-agnostic settings never need it
    _net(max_epochs=1, class_weight="balanced").fit(X, codes)


def _Flat():
    """LogisticRegression on the log-power of 3-D epochs (a second voter)."""
    return make_pipeline(
        FunctionTransformer(lambda X: np.log(np.asarray(X).var(axis=-1) + 1e-6)),
        LogisticRegression(),
    )


@pytest.mark.parametrize(
    "cls", [MMASleepNetClassifier, MASleepNetClassifier, SSCSleepNetClassifier]
)
def test_stage_settings_inside_voting_classifier(cls):
    X, y = _data(n_per_class=6)
    vote = VotingClassifier([("net", _net(cls, max_epochs=1)), ("lr", _Flat())], voting="soft")
    with pytest.raises(ValueError, match=r"VotingClassifier.*stage_map"):
        vote.fit(X, y)  # the member sees label-encoded ints: refuse, never guess
    net = _net(cls, max_epochs=1, stage_map=dict(enumerate(np.unique(y))))
    vote = VotingClassifier([("net", net), ("lr", _Flat())], voting="soft").fit(X, y)
    member = vote.named_estimators_["net"]
    assert member.classes_.tolist() == [0, 1, 2, 3, 4]
    assert member.stage_names_ == ("N1", "N2", "N3", "REM", "W")
    if cls is MMASleepNetClassifier:  # N1's 1.8 on N1 (encoded 0), not on N2
        np.testing.assert_allclose(member.class_weight_, [1.8, 1.0, 1.25, 1.2, 1.0])
    elif cls is SSCSleepNetClassifier:
        assert member.criterion_.n1_index == 0
    else:
        codes = np.array([STAGES.index(s) for s in y])
        order = [STAGES.index(s) for s in member.stage_names_]
        np.testing.assert_allclose(member.class_weight_, attnsleep_class_weights(codes)[order])
    assert set(vote.predict(X)) <= set(STAGES)


def test_stacking_classifier_refuses_without_stage_map():
    X, y = _data(n_per_class=6)
    stack = StackingClassifier([("net", _net(MMASleepNetClassifier, max_epochs=1))],
                               final_estimator=LogisticRegression(), cv=2)
    with pytest.raises(ValueError, match="stage_map"):
        stack.fit(X, y)


def test_cross_val_predict_proba_refuses_or_uses_stage_map():
    from sklearn.model_selection import KFold, cross_val_predict

    X, y = _data(n_per_class=6)
    cv = KFold(2, shuffle=True, random_state=0)
    with pytest.raises(ValueError, match="stage_map"):  # members see label-encoded ints
        cross_val_predict(_net(MMASleepNetClassifier, max_epochs=1), X, y, cv=cv,
                          method="predict_proba")
    net = _net(MMASleepNetClassifier, max_epochs=1, stage_map=dict(enumerate(np.unique(y))))
    proba = cross_val_predict(net, X, y, cv=cv, method="predict_proba")
    assert proba.shape == (len(y), 5) and np.allclose(proba.sum(axis=1), 1, atol=1e-5)


def test_positional_class_weight_rules():
    X, y = _data(n_per_class=4)
    # a plain sequence is read in classes_ order; with stage names that order is not the
    # stage order, so a sequence written for W, N1, ... is refused
    with pytest.raises(ValueError, match="plain sequence.*dict keyed by stage"):
        _net(max_epochs=1, class_weight=(1.0, 1.8, 1.0, 1.25, 1.2)).fit(X, y)
    codes = np.array([STAGES.index(s) for s in y])
    clf = _net(max_epochs=1, class_weight=[5.0, 4.0, 3.0, 2.0, 1.0]).fit(X, codes)
    np.testing.assert_allclose(clf.class_weight_, [5.0, 4.0, 3.0, 2.0, 1.0])
    # a dict keyed by labels, and stage keys resolved through aliases
    clf = _net(max_epochs=1, class_weight={0: 1.0, 1: 2.0, 2: 3.0, 3: 4.0, 4: 5.0}).fit(X, codes)
    np.testing.assert_allclose(clf.class_weight_, [1, 2, 3, 4, 5])
    by_alias = {"Wake": 2.0, "S1": 3.0, "N2": 1, "S4": 1, "R": 1}
    clf = _net(max_epochs=1, class_weight=by_alias).fit(X, y)
    assert clf.class_weight_[clf.classes_.tolist().index("N1")] == 3.0
    assert clf.class_weight_[clf.classes_.tolist().index("W")] == 2.0
    with pytest.raises(ValueError, match="no weight for class"):
        _net(max_epochs=1, class_weight={"W": 1.0, "N1": 2.0}).fit(X, y)


def test_identify_stages_and_display_order():
    assert identify_stages(["N1", "REM", "W"]) == ("N1", "REM", "W")
    assert identify_stages([0, 1, 2]) is None  # never guessed
    assert identify_stages(["1", "2"]) is None  # digit strings are ambiguous too
    assert identify_stages([0, 1, 2], "rodent") == ("W", "NREM", "REM")
    assert identify_stages(["NR", "R", "w"]) == ("NREM", "REM", "W")
    with pytest.raises(ValueError, match="no entry"):
        identify_stages([0, 1], {0: "W"})
    with pytest.raises(ValueError, match="both name stage"):
        identify_stages([0, 1], {0: "W", 1: "Wake"})
    with pytest.raises(ValueError, match="does not identify"):
        identify_stages([0, 5], "aasm")
    with pytest.raises(ValueError, match="stage_map must be"):
        identify_stages([0, 1], "human")
    assert canonical_labels(["REM", "N1", "W", "N3"]).tolist() == ["W", "N1", "N3", "REM"]
    assert canonical_labels(["R", "Wake", "S1"]).tolist() == ["Wake", "S1", "R"]


def test_hypnodensity_stacks_in_stage_order(scored):
    from sklearn_sleep.plotting import plot_hypnodensity

    clf, X, _, proba = scored
    ax = plot_hypnodensity(proba[:10], clf.classes_)
    assert [t.get_text() for t in ax.get_legend().get_texts()] == STAGES
    bottom = ax.collections[0].get_paths()[0].vertices[:, 1]
    w_col = proba[:10, clf.classes_.tolist().index("W")].astype(float)
    top = bottom[bottom > 0]
    assert top.size and np.abs(top[:, None] - w_col[None, :]).min(axis=1).max() < 1e-6


# ---------------------------------------------------------------- refits
def test_warm_start_keeps_classes_and_output_layer():
    X, y = _data(["W", "N2", "REM"], n_per_class=10)
    clf = _net(max_epochs=3).fit(X, y)
    head = clf.module_.head[-1]
    clf.set_params(warm_start=True, lr=0.0)
    before = head.weight.detach().clone()
    keep = y != "REM"
    clf.fit(X[keep], y[keep])
    assert clf.classes_.tolist() == ["N2", "REM", "W"]  # not shrunk to the new y
    assert clf.module_.head[-1] is head and torch.equal(head.weight, before)  # lr=0: unchanged
    assert clf.predict_proba(X).shape == (len(X), 3)
    with pytest.raises(ValueError, match=r"not in classes_.*warm_start=False"):
        clf.fit(X, np.where(y == "REM", "N1", y))
    # without warm start a refit starts over with the new class set
    clf.set_params(warm_start=False, lr=0.05)
    clf.fit(X[keep], y[keep])
    assert clf.classes_.tolist() == ["N2", "W"] and clf.module_.head[-1].out_features == 2


def test_partial_fit_classes_and_groups():
    X, y = _data(["W", "N2", "REM"], n_per_class=10)
    first = y != "REM"
    clf = _net(max_epochs=1)
    clf.partial_fit(X[first], y[first], classes=["W", "N2", "REM"])
    assert clf.classes_.tolist() == ["N2", "REM", "W"]
    assert clf.predict_proba(X).shape == (len(X), 3)
    clf.partial_fit(X, y)  # REM now appears: accepted, it is in classes_
    with pytest.raises(ValueError, match="differs from classes_"):
        clf.partial_fit(X, y, classes=["W", "N2"])
    with pytest.raises(ValueError, match="not in classes_"):
        clf.partial_fit(X, np.where(y == "REM", "N1", y))
    groups = np.arange(len(y)) % 4
    net = _net(max_epochs=2, validation_fraction=0.25)
    net.partial_fit(X, y, groups=groups)
    net.partial_fit(X, y, groups=groups)
    assert len(net.history) == 4 and "valid_loss" in net.history[-1]


def test_sample_weight_is_refused_clearly():
    X, y = _data(["W", "N2"], n_per_class=6)
    with pytest.raises(ValueError, match="does not support sample_weight"):
        _net(max_epochs=1).fit(X, y, sample_weight=np.ones(len(y)))
    with pytest.raises(ValueError, match="does not support sample_weight"):
        _net(max_epochs=1).partial_fit(X, y, sample_weight=np.ones(len(y)))


@pytest.mark.parametrize(
    "random_state", [0, None, np.random.RandomState(3), np.random.default_rng(3)]
)
def test_fit_leaves_global_rng_untouched(random_state):
    X, y = _data(["W", "N2"], n_per_class=6)
    np.random.seed(123)
    torch.manual_seed(123)
    np_state, torch_state = np.random.get_state(), torch.get_rng_state()
    clf = _net(max_epochs=2, random_state=random_state).fit(X, y)
    clf.partial_fit(X, y)
    clf.predict_proba(X)
    after = np.random.get_state()
    assert np_state[0] == after[0] and np.array_equal(np_state[1], after[1])
    assert np_state[2:] == after[2:]
    assert torch.equal(torch_state, torch.get_rng_state())


def test_set_params_on_fitted_net_leaves_global_rng_untouched_and_is_reproducible():
    """skorch re-initialises the module when a module parameter changes on a fitted net;
    that draw comes from the net's own seeded generator, not the global one."""
    X, y = _data(["W", "N2"], n_per_class=6)
    a = _net(max_epochs=1).fit(X, y)
    b = _net(max_epochs=1).fit(X, y)
    torch.manual_seed(123)
    torch_state = torch.get_rng_state()
    a.set_params(module__hidden=5)
    assert torch.equal(torch_state, torch.get_rng_state())
    torch.manual_seed(999)  # another global state: same result
    b.set_params(module__hidden=5)
    for (name, pa), (_, pb) in zip(a.module_.named_parameters(), b.module_.named_parameters()):
        assert torch.equal(pa, pb), name
    assert a.module_.head[0].out_features == 5


def test_random_state_reproducible_and_validated():
    X, y = _data(["W", "N2", "REM"], n_per_class=6)
    a = _net(max_epochs=2, random_state=7).fit(X, y).predict_proba(X)
    b = _net(max_epochs=2, random_state=7).fit(X, y).predict_proba(X)
    np.testing.assert_array_equal(a, b)
    c = _net(max_epochs=2, random_state=np.random.RandomState(7)).fit(X, y).predict_proba(X)
    d = _net(max_epochs=2, random_state=np.random.RandomState(7)).fit(X, y).predict_proba(X)
    np.testing.assert_array_equal(c, d)
    with pytest.raises(ValueError, match="random_state must be"):
        _net(max_epochs=1, random_state="seven").fit(X, y)


# ----------------------------------------------------------- smaller items
def test_negative_stride_and_non_contiguous_views():
    X, y = _data(["W", "N2"], n_per_class=6)
    clf = _net(max_epochs=2).fit(X[:, :, ::-1], y)
    flipped = X[::-1, ::-1, ::-1]
    np.testing.assert_allclose(
        clf.predict_proba(flipped), clf.predict_proba(np.ascontiguousarray(flipped)), rtol=1e-6
    )
    Xt = np.ascontiguousarray(X.transpose(0, 2, 1)).transpose(0, 2, 1)  # F-ordered view
    assert clf.predict(Xt).shape == (len(X),)


def test_early_stopping_bool_and_patience():
    X, y = _data(["W", "N2"], n_per_class=8)
    groups = np.arange(len(y)) % 4

    def patience(es):
        net = _net(max_epochs=1, validation_fraction=0.25, early_stopping=es)
        net.fit(X, y, groups=groups)
        cb = dict(net.callbacks_).get("early_stopping")
        return None if cb is None else cb.patience

    assert patience(True) == 5
    assert patience(False) is None
    assert patience(3) == 3
    with pytest.raises(ValueError, match="early_stopping must be"):
        patience(0)


def test_single_group_validation_raises_and_no_groups_warns():
    X, y = _data(["W", "N2"], n_per_class=8)
    with pytest.raises(ValueError, match="single group"):
        _net(max_epochs=1, validation_fraction=0.25).fit(X, y, groups=np.zeros(len(y)))
    with pytest.warns(UserWarning, match="contiguous"):
        _net(max_epochs=1, validation_fraction=0.25).fit(X, y)


class BraindecodeStyle(nn.Module):
    """A module with braindecode's constructor names."""

    def __init__(self, n_outputs=None, n_chans=None, n_times=None, sfreq=None, chs_info=None):
        super().__init__()
        self.seen = dict(n_outputs=n_outputs, n_chans=n_chans, n_times=n_times, sfreq=sfreq)
        self.lin = nn.Linear(n_chans * n_times, n_outputs)

    def forward(self, x):
        return self.lin(x.flatten(1))


def test_braindecode_style_arguments_are_filled_in():
    X, y = _data(["W", "N2", "REM"], n_per_class=4, n_times=30)
    clf = SleepNetClassifier(BraindecodeStyle, max_epochs=1, sfreq=100.0, device="cpu").fit(X, y)
    assert clf.module_.seen == dict(n_outputs=3, n_chans=2, n_times=30, sfreq=100.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        clf.predict(X)


@pytest.mark.gpu
def test_cuda_fit_is_reproducible_and_leaves_cuda_rng_untouched():
    if not torch.cuda.is_available():
        pytest.skip("needs CUDA")
    X, y = _data(["W", "N2", "REM"], n_per_class=6)
    cpu_state, cuda_state = torch.get_rng_state(), torch.cuda.get_rng_state()
    a = _net(max_epochs=2, device="cuda").fit(X, y).predict_proba(X)
    b = _net(max_epochs=2, device="cuda").fit(X, y).predict_proba(X)
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    assert torch.equal(cpu_state, torch.get_rng_state())
    assert torch.equal(cuda_state, torch.cuda.get_rng_state())
