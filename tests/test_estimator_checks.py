"""scikit-learn estimator checks plus a 3-D contract test for every transformer.

scikit-learn's common checks feed 2-D data; the 3-D-only transformers declare
``input_tags.two_d_array=False, three_d_array=True``, so scikit-learn runs only the
checks that apply to them. The behaviour on epoch arrays is therefore checked by the
project's own contract test below (clone, get/set_params, pickle, fit returns self,
NotFittedError, wrong ndim / NaN / shape mismatch, refit independence).
"""

import pickle
import warnings

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError, SkipTestWarning
from sklearn.utils.estimator_checks import parametrize_with_checks

from sklearn_sleep.features import BandPowerFeatures
from sklearn_sleep.preprocessing import (
    BandPassFilter,
    ChannelPicker,
    EpochSampler,
    EpochScaler,
    EpochSegmenter,
    FFTFeatures,
    NotchFilter,
    Resampler,
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


_SAMPLER_MESSAGES = (
    "EpochSampler validates X with sklearn_sleep.utils.check_epochs, whose error "
    "messages are worded for epoch arrays (e.g. 'X is empty', 'must be real-valued') "
    "rather than scikit-learn's 2-D wording."
)


def _expected_failed_checks(estimator):
    if isinstance(estimator, EpochSampler):
        return {
            "check_complex_data": _SAMPLER_MESSAGES,
            "check_estimators_empty_data_messages": _SAMPLER_MESSAGES,
            "check_dtype_object": (
                "object-dtype arrays are rejected on purpose: epochs must be numeric "
                "(check_epochs)."
            ),
        }
    return {}


# scikit-learn announces (SkipTestWarning, at collection) that its 2-D checks cannot
# feed 3-D-only estimators; the contract test below covers them instead.
with warnings.catch_warnings():
    warnings.simplefilter("ignore", SkipTestWarning)
    _sklearn_checks = parametrize_with_checks(
        _transformers() + [EpochSampler()], expected_failed_checks=_expected_failed_checks
    )


@_sklearn_checks
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)


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


def test_feature_names_only_for_2d_output(X3):
    bp = BandPowerFeatures(SFREQ).fit(X3)
    assert len(bp.get_feature_names_out()) == bp.transform(X3).shape[1]
    for est in (FFTFeatures(), EpochScaler(), ChannelPicker([0])):
        assert not hasattr(est, "get_feature_names_out")


def test_segmenter_and_sampler_params_round_trip():
    seg = EpochSegmenter(SFREQ, epoch_seconds=4, n_context=2, filters=BandPassFilter(SFREQ))
    c = clone(seg)
    assert c.get_params()["filters__l_freq"] == 0.3
    assert pickle.loads(pickle.dumps(c)).get_params()["n_context"] == 2
    s = EpochSampler().set_params(sampler=EpochSampler())
    assert isinstance(clone(s).sampler, EpochSampler)
