"""scikit-learn's estimator checks on every 3-D transformer, plus a 3-D contract test.

scikit-learn's common checks feed 2-D data; our transformers take epochs
``(n_epochs, n_channels, n_times)`` and declare ``two_d_array=False``, so a bare
``check_estimator`` runs one check and skips the rest. The checks are therefore run
through :func:`sklearn_sleep.utils.estimator_checks.adapt_to_2d` (same class and
parameters, 2-D rows turned into epochs, 3-D outputs flattened), every expected failure
is listed with its reason, and the number of checks run and passed per estimator may not
drop below the figures recorded here (and in docs/estimator_checks.md).
"""

import pickle

import numpy as np
import pytest
from imblearn.over_sampling import RandomOverSampler
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression

from sklearn_sleep.features import (
    BandPowerFeatures,
    ContextFeatures,
    FFTFeatures,
    YasaFeatures,
    YasaHypnodensity,
)
from sklearn_sleep.preprocessing import (
    BandPassFilter,
    ChannelPicker,
    EpochSampler,
    EpochScaler,
    EpochSegmenter,
    NotchFilter,
    Resampler,
)
from sklearn_sleep.smoothing import HMMSmoother
from sklearn_sleep.utils.estimator_checks import (
    EPOCH_INPUT_EXPECTED_FAILURES,
    adapt_one_recording,
    adapt_to_2d,
    check_counts,
    format_check_table,
    run_estimator_checks,
)

SFREQ = 100


def _transformers():
    return [
        ChannelPicker([1, 0]),
        ChannelPicker(["EMG"], ch_names=["EEG", "EOG", "EMG"]),
        Resampler(SFREQ, 50),
        BandPassFilter(SFREQ, 0.5, 30),
        BandPassFilter(SFREQ, 2.0, 30, method="fir"),
        NotchFilter(SFREQ, freq=[25.0, 40.0]),
        EpochScaler(),
        EpochScaler("standard", scope="dataset"),
        FFTFeatures(sfreq=SFREQ, fmax=30),
        FFTFeatures(append=True),
        BandPowerFeatures(SFREQ),
    ]


_SAMPLER_EXPECTED = {
    k: v for k, v in EPOCH_INPUT_EXPECTED_FAILURES.items()
    # a sampler has no predict/transform to feed 1-D data to
    if k != "check_fit2d_predict1d"
}
_SAMPLER_EXPECTED["check_n_features_in"] = (
    "EpochSampler's n_features_in_ is the flattened epoch size (n_channels * n_times), "
    "the width it hands to the wrapped imblearn sampler."
)

# (label, estimator, adapt_to_2d keywords, expected failures {check: reason},
#  recorded minimum (checks run, checks passed)). n_channels=3 everywhere, so that
# n_features_in_ (= channels) never equals the 2-D width of the check data by chance;
# the FIR filter uses 31 taps so that the 1-feature checks (64-sample epochs) fit.
CONFIGS = [
    ("ChannelPicker([1, 0])", ChannelPicker([1, 0]), {}, EPOCH_INPUT_EXPECTED_FAILURES,
     (46, 40)),
    ("ChannelPicker(['EMG'], ch_names=...)",
     ChannelPicker(["EMG"], ch_names=["EEG", "EOG", "EMG"]), {},
     EPOCH_INPUT_EXPECTED_FAILURES, (46, 40)),
    ("Resampler(100, 50)", Resampler(SFREQ, 50), {}, EPOCH_INPUT_EXPECTED_FAILURES,
     (46, 40)),
    ("BandPassFilter(100, 0.5, 30)", BandPassFilter(SFREQ, 0.5, 30), {},
     EPOCH_INPUT_EXPECTED_FAILURES, (46, 40)),
    ("BandPassFilter(100, 2, 30, method='fir', numtaps=31)",
     BandPassFilter(SFREQ, 2.0, 30, method="fir", numtaps=31), {},
     EPOCH_INPUT_EXPECTED_FAILURES, (46, 40)),
    ("NotchFilter(100, freq=[25, 40])", NotchFilter(SFREQ, freq=[25.0, 40.0]), {},
     EPOCH_INPUT_EXPECTED_FAILURES, (46, 40)),
    ("EpochScaler()", EpochScaler(), {}, EPOCH_INPUT_EXPECTED_FAILURES, (46, 40)),
    ("EpochScaler('standard', scope='dataset')", EpochScaler("standard", scope="dataset"),
     {}, EPOCH_INPUT_EXPECTED_FAILURES, (46, 40)),
    ("FFTFeatures(sfreq=100, fmax=30)", FFTFeatures(sfreq=SFREQ, fmax=30), {},
     EPOCH_INPUT_EXPECTED_FAILURES, (46, 40)),
    ("FFTFeatures(append=True)", FFTFeatures(append=True), {},
     EPOCH_INPUT_EXPECTED_FAILURES, (46, 40)),
    ("BandPowerFeatures(100)", BandPowerFeatures(SFREQ), {},
     EPOCH_INPUT_EXPECTED_FAILURES, (46, 40)),
    ("EpochSampler()", EpochSampler(), {}, _SAMPLER_EXPECTED, (41, 36)),
    ("EpochSampler(RandomOverSampler())", EpochSampler(RandomOverSampler(random_state=0)),
     {}, _SAMPLER_EXPECTED, (41, 36)),
]
_ADAPTER = {"n_channels": 3, "repeats": 64}

#: Checks that fail by design for estimators whose output depends on the neighbouring
#: rows of the same recording (temporal context), with the reason.
_CONTEXT_EXPECTED = {
    "check_methods_sample_order_invariance": (
        "by design: the output of a row depends on its neighbours within the recording "
        "(rolling context windows / HMM decoding over time); permuting the rows of a "
        "recording changes every row's neighbours."
    ),
    "check_methods_subset_invariance": (
        "by design: a subset of a recording has other neighbours (and other edges) than "
        "the full recording, so the context features / decoded stages of a row differ."
    ),
}
_HMM_VITERBI_EXPECTED = {
    **_CONTEXT_EXPECTED,
    "check_classifiers_train": (
        "by design with algorithm='viterbi': predict is the most likely stage *sequence* "
        "(Viterbi path), which need not equal the per-epoch argmax of the forward-backward "
        "posteriors returned by predict_proba (the check demands equality); with "
        "algorithm='map' it does and the check passes."
    ),
}

# 2-D estimators that require ``recordings=`` metadata, run through
# adapt_one_recording (all rows of each check form one recording). Same tuple layout
# as CONFIGS, the adapter keywords being unused.
RECORDING_CONFIGS = [
    ("ContextFeatures()", ContextFeatures(), {}, _CONTEXT_EXPECTED, (46, 44)),
    ("HMMSmoother(LogisticRegression())", HMMSmoother(LogisticRegression()), {},
     _HMM_VITERBI_EXPECTED, (54, 49)),
    ("HMMSmoother(LogisticRegression(), algorithm='map')",
     HMMSmoother(LogisticRegression(), algorithm="map"), {}, _CONTEXT_EXPECTED, (54, 52)),
]

#: YASA wrappers: 3-D 30-s epochs at > 80 Hz *and* recordings. Each row becomes one
#: EEG channel of exactly 3000 samples at 100 Hz (the row tiled and truncated:
#: ``adapt_to_2d(n_times=3000)``), all rows one recording (``adapt_one_recording``).
_YASA_EXPECTED = {
    **EPOCH_INPUT_EXPECTED_FAILURES,
    **_CONTEXT_EXPECTED,
    "check_transformer_general": (
        "adapter artefact: YASA needs exactly 30-s epochs, so rows of any width become "
        "3000 samples (adapt_to_2d(n_times=3000)) and a feature-count change between fit "
        "and transform no longer reaches the estimator as a shape change (the part of the "
        "check that demands an error); the epoch-shape check itself is tested in "
        "tests/test_yasa_interop.py."
    ),
}
_YASA_ADAPTER = dict(n_channels=1, n_times=3000)
YASA_CONFIGS = [
    ("YasaFeatures(sfreq=100)", YasaFeatures(sfreq=100), _YASA_ADAPTER, _YASA_EXPECTED,
     (46, 36)),
    ("YasaHypnodensity(sfreq=100)", YasaHypnodensity(sfreq=100), _YASA_ADAPTER,
     _YASA_EXPECTED, (46, 36)),
]

#: Public estimators not run through the checks, with the reason.
NOT_CHECKED = {
    # not estimators with fit: EpochSegmenter runs before the Pipeline (segment());
    # scale_recordings is a function; ChannelNamedArray is an array type
    "EpochSegmenter": "not an estimator with fit (segment() runs before the Pipeline)",
    "scale_recordings": "a function",
    "ChannelNamedArray": "an array type",
    "YasaStageClassifier": (
        "learns nothing and accepts only the labels of YASA's five stages (stage_names), "
        "while scikit-learn's classifier checks train on arbitrary labels and demand "
        "learning; its contract (sorted classes_, probability columns in that order, "
        "refused labels, metadata routing in GridSearchCV and nested scoring) is tested in "
        "tests/test_yasa_interop.py"
    ),
}


def test_every_public_estimator_is_checked():
    import sklearn_sleep.features as features
    import sklearn_sleep.preprocessing as preprocessing
    import sklearn_sleep.smoothing as smoothing

    checked = {type(est).__name__ for _, est, *_ in CONFIGS + RECORDING_CONFIGS + YASA_CONFIGS}
    public = set(preprocessing.__all__) | set(smoothing.__all__) | {
        n for n in features.__all__ if isinstance(getattr(features, n), type)
    }
    missing = public - set(NOT_CHECKED) - checked
    assert not missing, missing
    assert not set(NOT_CHECKED) & checked  # no stale exemption


def _assert_check_results(label, results, recorded):
    counts = check_counts(results)
    print("\n" + format_check_table({label: counts}))
    failed = [f"{r['check']}: {r['message']}" for r in results if r["status"] == "failed"]
    assert not failed, "unexpected failures:\n" + "\n".join(failed)
    stale = [r["check"] for r in results if r["status"] == "xpass"]
    assert not stale, f"expected failures that now pass (drop them from the list): {stale}"
    skipped = [f"{r['check']}: {r['message']}" for r in results if r["status"] == "skipped"]
    # only the array-API check may skip (it needs SCIPY_ARRAY_API=1 and array-api-strict)
    assert all(s.startswith("check_array_api_input") for s in skipped), skipped
    run_min, passed_min = recorded
    assert counts["run"] >= max(run_min, 30), counts
    assert counts["passed"] >= passed_min, counts
    for r in results:
        if r["status"] == "xfail":
            assert r["reason"], r["check"]


@pytest.mark.parametrize(
    "label, estimator, adapter, expected, recorded", RECORDING_CONFIGS,
    ids=[c[0] for c in RECORDING_CONFIGS],
)
def test_sklearn_estimator_checks_one_recording(label, estimator, adapter, expected,
                                                recorded):
    results = run_estimator_checks(adapt_one_recording(estimator),
                                   expected_failed_checks=expected)
    _assert_check_results(label, results, recorded)


def test_to_epochs_context_sequences():
    from sklearn_sleep.utils.estimator_checks import to_epochs

    X = np.arange(6.0).reshape(2, 3)
    seq = to_epochs(X, n_channels=2, repeats=2, n_context=1)
    assert seq.shape == (2, 3, 2, 6)
    ep = to_epochs(X, n_channels=2, repeats=2)
    for j in range(3):  # position j: the row's epoch shifted by j * n_channels samples
        np.testing.assert_array_equal(seq[:, j], np.roll(ep, 2 * j, axis=-1))
    # fixed epoch length: tiled then truncated, whatever the width
    np.testing.assert_array_equal(to_epochs(X, n_times=7)[:, 0],
                                  np.tile(X, 3)[:, :7])
    assert to_epochs(X[:, :2], n_times=7).shape == (2, 1, 7)
    # row-wise: a row's sequence does not depend on the other rows
    np.testing.assert_array_equal(to_epochs(X[1:], n_channels=2, repeats=2, n_context=1),
                                  seq[1:])
    with pytest.raises(ValueError, match="n_context"):
        adapt_to_2d(EpochScaler(), n_context=-1)


@pytest.mark.slow
@pytest.mark.parametrize(
    "label, estimator, adapter, expected, recorded", YASA_CONFIGS,
    ids=[c[0] for c in YASA_CONFIGS],
)
def test_sklearn_estimator_checks_yasa(label, estimator, adapter, expected, recorded):
    pytest.importorskip("yasa")  # optional extra; first call compiles with numba
    results = run_estimator_checks(adapt_one_recording(adapt_to_2d(estimator, **adapter)),
                                   expected_failed_checks=expected)
    _assert_check_results(label, results, recorded)


def test_one_recording_adapter_is_transparent():
    X = np.random.default_rng(0).normal(size=(12, 3))
    est = adapt_one_recording(ContextFeatures(centered_window=3, past_window=2))
    assert isinstance(est, ContextFeatures) and type(clone(est)) is type(est)
    ref = ContextFeatures(centered_window=3, past_window=2).fit(X, recordings=np.zeros(12))
    np.testing.assert_array_equal(est.fit(X).transform(X),
                                  ref.transform(X, recordings=np.zeros(12)))
    # given recordings are used, not replaced
    rec = np.repeat([0, 1], 6)
    np.testing.assert_array_equal(est.transform(X, recordings=rec),
                                  ref.transform(X, recordings=rec))
    restored = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(restored.transform(X), est.transform(X))


@pytest.mark.parametrize(
    "label, estimator, adapter, expected, recorded", CONFIGS, ids=[c[0] for c in CONFIGS]
)
def test_sklearn_estimator_checks(label, estimator, adapter, expected, recorded):
    results = run_estimator_checks(
        adapt_to_2d(estimator, **{**_ADAPTER, **adapter}), expected_failed_checks=expected
    )
    _assert_check_results(label, results, recorded)


def test_docs_table_lists_the_recorded_figures():
    from pathlib import Path

    text = (Path(__file__).parents[1] / "docs" / "estimator_checks.md").read_text()
    for label, *_, (run, passed) in CONFIGS + RECORDING_CONFIGS + YASA_CONFIGS:
        assert f"| `{label}` | {run} | {passed} |" in text, label


def test_adapter_is_transparent():
    # the adapted estimator is the estimator: same class, params, clone, pickling
    est = adapt_to_2d(BandPassFilter(SFREQ, 1.0, 20), n_channels=2, repeats=8)
    assert isinstance(est, BandPassFilter)
    assert est.get_params() == BandPassFilter(SFREQ, 1.0, 20).get_params()
    assert type(clone(est)) is type(est)
    X = np.random.default_rng(0).normal(size=(5, 4))
    X3 = np.stack([np.tile(X, 8), np.roll(np.tile(X, 8), 1, axis=1)], axis=1)
    ref = BandPassFilter(SFREQ, 1.0, 20).fit(X3).transform(X3)
    np.testing.assert_array_equal(est.fit(X).transform(X), ref.reshape(5, -1))
    restored = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(restored.transform(X), ref.reshape(5, -1))
    # non-2-D input reaches the estimator untouched, which must refuse it
    with pytest.raises(ValueError, match="3-D"):
        est.transform(X[0])
    assert est.__sklearn_tags__().input_tags.two_d_array


def test_adapter_does_not_hide_failures():
    # a transformer that ignores its input fails scikit-learn's checks through the adapter
    from sklearn.base import BaseEstimator, TransformerMixin

    class Broken(TransformerMixin, BaseEstimator):
        def fit(self, X, y=None):
            self.n_features_in_ = np.asarray(X).shape[1]
            return self

        def transform(self, X):
            return np.zeros((7, 2))  # wrong number of rows

        def __sklearn_tags__(self):
            tags = super().__sklearn_tags__()
            tags.input_tags.three_d_array = True
            tags.input_tags.two_d_array = False
            return tags

    counts = check_counts(run_estimator_checks(adapt_to_2d(Broken())))
    assert counts["failed"] >= 3


def _ids(est):
    return type(est).__name__


@pytest.fixture
def X3():
    return np.random.default_rng(0).normal(size=(4, 3, 400)).astype(np.float32)


@pytest.mark.parametrize("est", _transformers(), ids=_ids)
def test_epoch_transformer_contract(est, X3):
    # clone and get_params / set_params round trip
    params = est.get_params()
    c = clone(est)
    assert c.get_params() == params and c is not est
    assert clone(est).set_params(**params).get_params() == params
    # transform before fit
    with pytest.raises(NotFittedError):
        clone(est).transform(X3)
    # fit returns self; n_epochs is unchanged; float dtypes preserved for 3-D output
    fitted = clone(est)
    assert fitted.fit(X3) is fitted
    out = fitted.transform(X3)
    assert out.shape[0] == len(X3)
    if out.ndim == 3:
        assert out.dtype == np.float32
        assert fitted.transform(X3.astype(np.float64)).dtype == np.float64
    assert fitted.n_channels_in_ == 3 and fitted.n_times_in_ == 400
    # pickle round trip gives identical output
    restored = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(restored.transform(X3), out)
    # wrong number of dimensions
    with pytest.raises(ValueError, match=r"3-D.*shape"):
        clone(est).fit(X3[:, 0])
    with pytest.raises(ValueError, match=r"3-D.*shape"):
        fitted.transform(X3[0:1, :, :, None])
    # NaN
    Xn = X3.copy()
    Xn[1, 0, 5] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        clone(est).fit(Xn)
    with pytest.raises(ValueError, match="NaN"):
        fitted.transform(Xn)
    # channel / length mismatch after fit
    with pytest.raises(ValueError, match="channels"):
        fitted.transform(np.concatenate([X3, X3[:, :1]], axis=1))
    with pytest.raises(ValueError, match="samples"):
        fitted.transform(X3[:, :, :200])
    # refitting on another length forgets the first fit
    refit = clone(est).fit(X3).fit(X3[:, :, :300])
    assert refit.n_times_in_ == 300 and refit.transform(X3[:, :, :300]).shape[0] == 4
    # 3-D tag
    tags = est.__sklearn_tags__()
    assert tags.input_tags.three_d_array and not tags.input_tags.two_d_array


def test_missing_channel_contract(X3):
    with pytest.raises(ValueError, match=r"'Cz'.*Available channels: \['EEG', 'EOG', 'EMG'\]"):
        ChannelPicker(["EEG", "Cz"], ch_names=["EEG", "EOG", "EMG"]).fit(X3)


def test_feature_names_for_3d_and_2d_output(X3):
    bp = BandPowerFeatures(SFREQ).fit(X3)
    assert len(bp.get_feature_names_out()) == bp.transform(X3).shape[1]
    # 3-D output: one name per output channel (axis 1)
    for est in (FFTFeatures(), EpochScaler(), BandPassFilter(SFREQ)):
        assert clone(est).fit(X3).get_feature_names_out().tolist() == ["ch0", "ch1", "ch2"]
    assert ChannelPicker([2, 0]).fit(X3).get_feature_names_out().tolist() == ["ch2", "ch0"]
    assert FFTFeatures(append=True).fit(X3[:, :2]).get_feature_names_out().tolist() == [
        "ch0", "ch1", "ch0_fft", "ch1_fft"]


def test_segmenter_and_sampler_params_round_trip():
    seg = EpochSegmenter(SFREQ, epoch_seconds=4, n_context=2, filters=BandPassFilter(SFREQ))
    c = clone(seg)
    assert c.get_params()["filters__l_freq"] == 0.3
    assert pickle.loads(pickle.dumps(c)).get_params()["n_context"] == 2
    s = EpochSampler().set_params(sampler=EpochSampler())
    assert isinstance(clone(s).sampler, EpochSampler)


def test_adapter_keeps_conditional_methods_conditional():
    from sklearn.svm import SVC

    assert not hasattr(adapt_to_2d(SVC(probability=False)), "predict_proba")
    assert hasattr(adapt_to_2d(SVC(probability=True)), "predict_proba")
