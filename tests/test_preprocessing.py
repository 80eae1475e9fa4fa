"""Behaviour of the 3-D epoch transformers, checked against independent computations."""

import numpy as np
import pytest
from scipy.signal import butter, resample_poly, sosfiltfilt, welch
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from sklearn_sleep.features import FFTFeatures
from sklearn_sleep.preprocessing import (
    BandPassFilter,
    ChannelPicker,
    EpochScaler,
    NotchFilter,
    Resampler,
    scale_recordings,
)

CH = ["EEG Fpz-Cz", "EEG Pz-Oz", "EOG horizontal", "EMG submental"]


def _sines(freqs, sfreq, n_times, n_epochs=3, amp=1.0, dtype=np.float32):
    t = np.arange(n_times) / sfreq
    X = np.stack([amp * np.sin(2 * np.pi * f * t) for f in freqs])
    return np.repeat(X[None], n_epochs, axis=0).astype(dtype)


def _peak_freq(x, sfreq):
    spec = np.abs(np.fft.rfft(x))
    return np.fft.rfftfreq(len(x), 1 / sfreq)[np.argmax(spec)]


# --------------------------------------------------------------------------- ChannelPicker
def test_channel_picker_by_name_and_index(rng):
    X = rng.normal(size=(5, 4, 20)).astype(np.float32)
    cp = ChannelPicker(["EOG horizontal", "EEG Fpz-Cz"], ch_names=CH).fit(X)
    np.testing.assert_array_equal(cp.transform(X), X[:, [2, 0]])
    assert cp.ch_names_out_ == ["EOG horizontal", "EEG Fpz-Cz"]
    cp = ChannelPicker([3, -3]).fit(X)
    np.testing.assert_array_equal(cp.transform(X), X[:, [3, 1]])
    assert cp.ch_names_out_ == ["ch3", "ch1"]
    assert ChannelPicker("EEG Pz-Oz", ch_names=CH).fit_transform(X).shape == (5, 1, 20)


def test_channel_picker_errors(rng):
    X = rng.normal(size=(2, 4, 10))
    with pytest.raises(ValueError, match=r"'C3'.*not found.*Available channels.*EEG Fpz-Cz"):
        ChannelPicker(["EEG Fpz-Cz", "C3"], ch_names=CH).fit(X)
    with pytest.raises(ValueError, match="ch_names is None"):
        ChannelPicker(["EEG Fpz-Cz"]).fit(X)
    with pytest.raises(ValueError, match="out of range"):
        ChannelPicker([4]).fit(X)
    with pytest.raises(ValueError, match="3 names but X has 4 channels"):
        ChannelPicker([0], ch_names=CH[:3]).fit(X)
    with pytest.raises(ValueError, match="more than once"):
        ChannelPicker([0, 0]).fit(X)


def test_channel_picker_mne_epochs():
    mne = pytest.importorskip("mne")
    info = mne.create_info(["EEG", "EMG", "EOG"], sfreq=100.0, ch_types=["eeg", "emg", "eog"])
    data = np.random.default_rng(0).normal(size=(4, 3, 200)) * 1e-6  # volts
    epochs = mne.EpochsArray(data, info, verbose=False)
    out = ChannelPicker(["EMG"]).fit_transform(epochs)  # names taken from the Epochs
    np.testing.assert_allclose(out[:, 0], data[:, 1] * 1e6, rtol=1e-5)  # in µV


# --------------------------------------------------------------------------- Resampler
@pytest.mark.parametrize(
    "sfreq_in, sfreq_out, up, down",
    [(512, 100, 25, 128), (200, 100, 1, 2), (256, 64, 1, 4), (50, 100, 2, 1), (128, 100, 25, 32)],
)
def test_resampler_matches_resample_poly(sfreq_in, sfreq_out, up, down):
    n_times = int(4 * sfreq_in)
    X = _sines([5.0, 11.0], sfreq_in, n_times, dtype=np.float64)
    rs = Resampler(sfreq_in, sfreq_out).fit(X)
    assert (rs.up_, rs.down_) == (up, down)
    out = rs.transform(X)
    assert out.shape == (3, 2, round(n_times * sfreq_out / sfreq_in))
    ref = resample_poly(X, up, down, axis=-1)[..., : out.shape[-1]]
    np.testing.assert_allclose(out, ref)
    # frequency and amplitude are kept (away from the edges)
    for c, f in enumerate([5.0, 11.0]):
        assert _peak_freq(out[0, c], sfreq_out) == pytest.approx(f, abs=0.26)
        mid = out[0, c, out.shape[-1] // 4: 3 * out.shape[-1] // 4]
        assert np.max(np.abs(mid)) == pytest.approx(1.0, abs=0.02)


def test_resampler_output_length_odd_sizes():
    X = np.zeros((1, 1, 1001), dtype=np.float32)
    out = Resampler(512, 100).fit_transform(X)
    assert out.shape[-1] == round(1001 * 100 / 512) and out.dtype == np.float32


def test_resampler_rejects_absurd_ratio():
    X = np.zeros((1, 1, 100))
    with pytest.raises(ValueError, match="not a rational number"):
        Resampler(100 * np.pi, 100).fit(X)
    with pytest.raises(ValueError, match="sfreq_out"):
        Resampler(100, -1).fit(X)


# --------------------------------------------------------------------------- filters
def test_bandpass_removes_out_of_band_and_matches_scipy():
    sfreq = 100.0
    X = _sines([1.0, 10.0, 40.0], sfreq, 3000, dtype=np.float64).sum(axis=1, keepdims=True)
    bp = BandPassFilter(sfreq, l_freq=5.0, h_freq=20.0, order=4)
    out = bp.fit_transform(X)
    ref = sosfiltfilt(butter(4, [5.0, 20.0], btype="bandpass", fs=sfreq, output="sos"), X, axis=-1)
    np.testing.assert_allclose(out, ref)
    mid = out[0, 0, 500:2500]
    t = np.arange(3000)[500:2500] / sfreq
    # only the 10 Hz component survives, with zero phase
    np.testing.assert_allclose(mid, np.sin(2 * np.pi * 10 * t), atol=0.02)


def test_bandpass_fir_and_lowpass():
    sfreq = 100.0
    X = _sines([2.0, 40.0], sfreq, 3000, dtype=np.float64).sum(axis=1, keepdims=True)
    for bp in (BandPassFilter(sfreq, l_freq=None, h_freq=15.0),
               BandPassFilter(sfreq, l_freq=None, h_freq=15.0, method="fir")):
        out = bp.fit_transform(X)[0, 0, 500:2500]
        t = np.arange(500, 2500) / sfreq
        np.testing.assert_allclose(out, np.sin(2 * np.pi * 2 * t), atol=0.03)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(l_freq=0.3, h_freq=60), r"h_freq=60 Hz must be below the Nyquist.*50"),
        (dict(l_freq=30, h_freq=20), "must be below h_freq"),
        (dict(l_freq=None, h_freq=None), "both None"),
        (dict(l_freq=-1, h_freq=20), "l_freq must be > 0"),
        (dict(method="butter"), "method must be"),
    ],
)
def test_bandpass_parameter_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        BandPassFilter(100, **kwargs).fit(np.zeros((1, 1, 3000)))


def test_bandpass_fir_too_long_for_epoch():
    with pytest.raises(ValueError, match="taps"):
        BandPassFilter(100, l_freq=0.1, h_freq=30, method="fir").fit(np.zeros((1, 1, 300)))


def test_notch_removes_line_noise():
    sfreq = 250.0
    X = _sines([7.0, 50.0], sfreq, 2500, dtype=np.float64).sum(axis=1, keepdims=True)
    out = NotchFilter(sfreq, freq=50.0).fit_transform(X)[0, 0, 250:-250]
    t = np.arange(250, 2250) / sfreq
    np.testing.assert_allclose(out, np.sin(2 * np.pi * 7 * t), atol=0.02)
    with pytest.raises(ValueError, match="Nyquist"):
        NotchFilter(80, freq=50).fit(X)


# --------------------------------------------------------------------------- scaling
def test_epoch_scaler_robust_and_standard(rng):
    X = rng.normal(3.0, 5.0, size=(6, 2, 400)).astype(np.float32)
    Xr = EpochScaler("robust").fit_transform(X)
    med = np.median(X, axis=-1, keepdims=True)
    iqr = np.subtract(*np.percentile(X, [75, 25], axis=-1, keepdims=True))
    np.testing.assert_allclose(Xr, (X - med) / iqr, rtol=1e-4, atol=1e-5)
    Xs = EpochScaler("standard").fit_transform(X)
    np.testing.assert_allclose(Xs.mean(-1), 0, atol=1e-5)
    np.testing.assert_allclose(Xs.std(-1), 1, atol=1e-4)
    # per-epoch scaling does not depend on other rows
    np.testing.assert_allclose(EpochScaler().fit(X).transform(X[:2]), Xr[:2])


def test_epoch_scaler_dataset_scope_and_flat_channel(rng):
    X = rng.normal(size=(4, 2, 100))
    X[:, 1] = 7.0  # flat channel: centred, no division by zero
    sc = EpochScaler("standard", scope="dataset").fit(X)
    np.testing.assert_allclose(sc.center_, X.mean(axis=(0, 2)))
    out = sc.transform(X)
    assert np.isfinite(out).all() and np.allclose(out[:, 1], 0)
    with pytest.raises(ValueError, match="scope"):
        EpochScaler(scope="night").fit(X)
    with pytest.raises(ValueError, match="method"):
        EpochScaler(method="minmax").fit(X)


def test_scale_recordings_uses_whole_recording(rng):
    X = np.concatenate([rng.normal(0, 1, (5, 2, 50)), rng.normal(100, 20, (3, 2, 50))])
    rec = np.array(["a"] * 5 + ["b"] * 3)
    out = scale_recordings(X, rec)
    for r in "ab":
        Xr = X[rec == r]
        med = np.median(Xr, axis=(0, 2), keepdims=True)
        q75, q25 = np.percentile(Xr, [75, 25], axis=(0, 2), keepdims=True)
        np.testing.assert_allclose(out[rec == r], (Xr - med) / (q75 - q25), rtol=1e-5)
    assert out.dtype == np.float64
    with pytest.raises(ValueError, match="one entry per epoch"):
        scale_recordings(X, rec[:-1])


# --------------------------------------------------------------------------- FFT
def test_fft_features_against_numpy(rng):
    X = rng.normal(size=(3, 2, 512)).astype(np.float32)
    out = FFTFeatures(sfreq=512).fit_transform(X)
    np.testing.assert_allclose(out, np.log1p(np.abs(np.fft.rfft(X.astype(np.float64)))),
                               rtol=1e-5)
    assert out.shape == (3, 2, 257) and out.dtype == np.float32
    raw = FFTFeatures(log=False, normalize="forward").fit_transform(X.astype(np.float64))
    np.testing.assert_allclose(raw, np.abs(np.fft.rfft(X.astype(np.float64), norm="forward")))


def test_fft_features_fmax_append_and_peak():
    X = _sines([10.0], 512, 512, amp=2.0)
    ff = FFTFeatures(sfreq=512, fmax=64, log=False, normalize="forward").fit(X)
    out = ff.transform(X)
    assert out.shape == (3, 1, 65) and ff.freqs_[-1] == 64
    assert ff.freqs_[np.argmax(out[0, 0])] == 10.0
    assert out[0, 0, 10] == pytest.approx(1.0, rel=1e-4)  # amplitude 2 -> |X|/n = 1
    app = FFTFeatures(sfreq=512, fmax=64, append=True).fit_transform(X)
    assert app.shape == (3, 2, 512)
    np.testing.assert_array_equal(app[:, :1], X)
    assert np.all(app[:, 1, 65:] == 0)
    with pytest.raises(ValueError, match="fmax needs sfreq"):
        FFTFeatures(fmax=30).fit(X)


# --------------------------------------------------------------------------- shared contract
def test_shape_mismatch_after_fit(rng):
    X = rng.normal(size=(2, 3, 100))
    for est in (FFTFeatures(), EpochScaler(), BandPassFilter(100, 1, 20)):
        est.fit(X)
        with pytest.raises(ValueError, match="channels"):
            est.transform(X[:, :2])
        with pytest.raises(ValueError, match="samples"):
            est.transform(X[:, :, :50])
    with pytest.raises(NotFittedError):
        Resampler(100, 50).transform(X)


def test_mne_epochs_sfreq_checked():
    mne = pytest.importorskip("mne")
    info = mne.create_info(["EEG"], sfreq=200.0, ch_types="eeg")
    epochs = mne.EpochsArray(np.zeros((2, 1, 400)), info, verbose=False)
    assert Resampler(200, 100).fit_transform(epochs).shape == (2, 1, 200)
    with pytest.raises(ValueError, match="does not match"):
        BandPassFilter(100, 1, 20).fit(epochs)


def test_transformers_keep_welch_band_content():
    """Pipeline of picker -> resampler -> filter keeps a 10 Hz peak (independent PSD)."""
    from sklearn.pipeline import make_pipeline

    X = _sines([10.0, 3.0], 512, 512 * 30, n_epochs=2)
    pipe = make_pipeline(ChannelPicker([0]), Resampler(512, 100), BandPassFilter(100, 0.3, 35))
    out = pipe.fit_transform(X)
    assert out.shape == (2, 1, 3000)
    f, p = welch(out[0, 0], fs=100, nperseg=400)
    assert f[np.argmax(p)] == 10.0


# --- set_output and get_feature_names_out through Pipelines (issue 8, item 4) ---------


def _named_pipeline(picks, ch_names):
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline

    from sklearn_sleep.features import BandPowerFeatures

    return Pipeline([
        ("pick", ChannelPicker(picks, ch_names=ch_names)),
        ("filter", BandPassFilter(100, 0.5, 30)),
        ("resample", Resampler(100, 200)),
        ("scale", EpochScaler()),
        ("notch", NotchFilter(200)),
        ("features", BandPowerFeatures(200)),
        ("clf", LogisticRegression(max_iter=2000)),
    ])


@pytest.mark.parametrize(
    "picks, ch_names, first",
    [(["EOG", "EEG Fpz-Cz"], ["EEG Fpz-Cz", "EMG", "EOG"], "EOG"), ([2, 0], None, "ch2")],
)
def test_pipeline_set_output_pandas_and_feature_names(picks, ch_names, first):
    pd = pytest.importorskip("pandas")
    from sklearn_sleep.features import BandPowerFeatures

    rng = np.random.default_rng(0)
    X = rng.normal(size=(30, 3, 600)).astype(np.float32)
    y = np.array(["W", "N2", "REM"] * 10)
    pipe = _named_pipeline(picks, ch_names).set_output(transform="pandas").fit(X, y)
    assert pipe.predict(X[:4]).shape == (4,)
    names = pipe[:-1].get_feature_names_out()
    n_feat = len(BandPowerFeatures(200).fit(X[:, :1]).feature_names_)
    assert len(names) == 2 * n_feat
    assert names[0] == f"{first}_delta_rel"
    second = ch_names[0] if ch_names else "ch0"
    assert names[n_feat] == f"{second}_delta_rel"
    # the columns the classifier saw are the pipeline's feature names
    assert list(pipe.named_steps["clf"].feature_names_in_) == list(names)
    df = pipe[:-1].transform(X)
    assert isinstance(df, pd.DataFrame) and list(df.columns) == list(names)
    # same values as the default (ndarray) output
    plain = clone(pipe).set_output(transform="default").fit(X, y)
    np.testing.assert_allclose(df.to_numpy(), plain[:-1].transform(X))
    # 3-D steps: channel names, and 3-D output unchanged in values
    assert pipe[:2].get_feature_names_out().tolist() == (
        [ch_names[ch_names.index(p)] for p in picks] if ch_names else ["ch2", "ch0"])
    out3 = pipe[:2].transform(X)
    assert out3.ndim == 3 and out3.ch_names == pipe[:2].get_feature_names_out().tolist()
    np.testing.assert_array_equal(np.asarray(out3), plain[:2].transform(X))
    assert out3[:, :1].ch_names is None  # slices carry no (possibly wrong) names


@pytest.mark.parametrize("est", [ChannelPicker([0]), Resampler(100, 50),
                                 BandPassFilter(100), NotchFilter(100, freq=25.0), EpochScaler(),
                                 FFTFeatures()], ids=lambda e: type(e).__name__)
def test_set_output_on_3d_transformers(est):
    pytest.importorskip("pandas")
    X = np.random.default_rng(1).normal(size=(3, 2, 400))
    for how in ("pandas", "default"):
        out = clone(est).set_output(transform=how).fit_transform(X)
        ref = clone(est).fit_transform(X)
        assert isinstance(out, np.ndarray) and out.ndim == 3
        np.testing.assert_array_equal(np.asarray(out), ref)
    assert type(clone(est).set_output(transform="default").fit_transform(X)) is np.ndarray


def test_feature_names_from_mne_epochs_and_disagreement():
    mne = pytest.importorskip("mne")
    from sklearn_sleep.features import BandPowerFeatures

    info = mne.create_info(["Fpz-Cz", "Pz-Oz"], 100.0, "eeg")
    data = np.random.default_rng(2).normal(size=(4, 2, 300)) * 1e-5
    epochs = mne.EpochsArray(data, info, verbose=False)
    filt = BandPassFilter(100).fit(epochs)
    assert filt.get_feature_names_out().tolist() == ["Fpz-Cz", "Pz-Oz"]
    # placeholders from an unnamed upstream step are replaced by the known names
    assert filt.get_feature_names_out(["ch0", "ch1"]).tolist() == ["Fpz-Cz", "Pz-Oz"]
    with pytest.raises(ValueError, match="differ from the channel names"):
        filt.get_feature_names_out(["A", "B"])
    with pytest.raises(ValueError, match="1 names"):
        filt.get_feature_names_out(["A"])
    bp = BandPowerFeatures(100).fit(epochs)
    assert bp.get_feature_names_out()[0] == "Fpz-Cz_delta_rel"
    picker = ChannelPicker(["Pz-Oz"]).fit(epochs)
    assert picker.get_feature_names_out().tolist() == ["Pz-Oz"]


def test_epoch_sampler_accepts_random_state_instance():
    # issue 8: a RandomState instance is accepted wherever random_state is (EpochSampler
    # forwards it to the wrapped imblearn sampler) and gives the wrapped sampler's rows
    from imblearn.under_sampling import RandomUnderSampler

    from sklearn_sleep.preprocessing import EpochSampler

    rng = np.random.default_rng(0)
    X = rng.normal(size=(30, 2, 8))
    y = np.array(["W"] * 20 + ["REM"] * 10)
    Xr, yr = EpochSampler(RandomUnderSampler(random_state=np.random.RandomState(3))
                          ).fit_resample(X, y)
    ref = RandomUnderSampler(random_state=np.random.RandomState(3))
    X2, y2 = ref.fit_resample(X.reshape(30, -1), y)
    np.testing.assert_array_equal(Xr, X2.reshape(-1, 2, 8))
    np.testing.assert_array_equal(yr, y2)


def test_transform_refuses_epochs_with_other_channel_names():
    # fitted on mne.Epochs [Fpz-Cz, Pz-Oz]: the same channels in another order at
    # transform would silently swap them (ChannelPicker would pick the wrong one)
    mne = pytest.importorskip("mne")
    data = np.random.default_rng(3).normal(size=(3, 2, 300)) * 1e-5
    fit_epochs = mne.EpochsArray(data, mne.create_info(["Fpz-Cz", "Pz-Oz"], 100.0, "eeg"),
                                 verbose=False)
    swapped = mne.EpochsArray(data, mne.create_info(["Pz-Oz", "Fpz-Cz"], 100.0, "eeg"),
                              verbose=False)
    for est in (ChannelPicker(["Pz-Oz"]), BandPassFilter(100), EpochScaler()):
        est.fit(fit_epochs)
        est.transform(fit_epochs)
        with pytest.raises(ValueError, match=r"fitted on the channels \['Fpz-Cz', 'Pz-Oz'\]"):
            est.transform(swapped)
    # names given as ch_names are checked against the names carried by mne.Epochs too
    picker = ChannelPicker(["Pz-Oz"], ch_names=["Fpz-Cz", "Pz-Oz"]).fit(data)
    with pytest.raises(ValueError, match="same order"):
        picker.transform(swapped)


def test_issue8_probe_picker_filter_bandpower_logreg():
    # the probe of issue 8, verbatim: fits, predicts, and names carry the picked channels
    pytest.importorskip("pandas")
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline

    from sklearn_sleep.features import BandPowerFeatures

    rng = np.random.default_rng(5)
    X = rng.normal(size=(24, 3, 400)).astype(np.float32)
    y = np.array(["W", "N2"] * 12)
    pipe = Pipeline([
        ("pick", ChannelPicker(["EEG Pz-Oz"], ch_names=["EEG Fpz-Cz", "EEG Pz-Oz", "EOG"])),
        ("filter", BandPassFilter(100, 0.3, 35)),
        ("features", BandPowerFeatures(100)),
        ("clf", LogisticRegression(max_iter=2000)),
    ]).set_output(transform="pandas")
    assert pipe.fit(X, y).predict(X).shape == (24,)
    names = pipe[:-1].get_feature_names_out()
    assert all(n.startswith("EEG Pz-Oz_") for n in names) and "EEG Pz-Oz_delta_rel" in names


def test_set_output_polars_on_3d_transformers():
    pytest.importorskip("polars")
    X = np.random.default_rng(1).normal(size=(3, 2, 400))
    out = BandPassFilter(100).set_output(transform="polars").fit_transform(X)
    np.testing.assert_array_equal(np.asarray(out), BandPassFilter(100).fit_transform(X))
