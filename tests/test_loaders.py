"""Tests of the recording loaders (Sleep-EDF, DREAMS, generic EDF/array, SleepSign)."""

import csv
import warnings
from pathlib import Path
from unittest import mock

import numpy as np
import pytest
from scipy.signal import welch

pytest.importorskip("edfio")
import edfio  # noqa: E402
import mne  # noqa: E402

from sklearn_sleep.datasets import (  # noqa: E402
    epochs_from_array,
    fetch_sleep_edf,
    load_dreams,
    load_edf_with_labels,
    load_sleep_edf,
    read_sleep_edf_recording,
    read_sleepsign_hypnogram,
    read_sleepsign_signals,
)
from sklearn_sleep.datasets._dreams import aggregate_labels, read_dreams_hypnogram  # noqa: E402
from sklearn_sleep.datasets._edf_io import (  # noqa: E402
    _write_sleep_edf_like,
    read_edf_header,
    read_edf_signals,
)
from sklearn_sleep.datasets._rodent import read_timestamped_text  # noqa: E402

RK_TO_AASM = {"W": "W", "1": "N1", "2": "N2", "3": "N3", "4": "N3", "R": "REM"}

# 6 W | 1 2 3 4 R M 2 | 2 W ... : small, every stage, one movement epoch, long wake tail
STAGES = ["W"] * 6 + ["1", "2", "3", "4", "R", "M", "2", "2"] + ["W"] * 8


@pytest.fixture(scope="module")
def sedf_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("sleep_edf")
    for subject in (0, 1):
        for night in (1, 2):
            _write_sleep_edf_like(folder, subject, night, stages=STAGES,
                                  seed=10 * subject + night)
    return folder


def _pair(folder, subject=0, night=1):
    return (folder / f"SC4{subject:02d}{night}E0-PSG.edf",
            folder / f"SC4{subject:02d}{night}EC-Hypnogram.edf")


# --------------------------------------------------------------------------- Sleep-EDF
def test_sleep_edf_labels_alignment_and_units(sedf_dir):
    psg, hyp = _pair(sedf_dir)
    data = read_sleep_edf_recording(psg, hyp, wake_edge_minutes=None)
    expected = [RK_TO_AASM[s] for s in STAGES if s != "M"]
    assert data.X.dtype == np.float32
    assert data.X.shape == (len(expected), 4, 3000)
    assert list(data.y) == expected
    assert data.n_excluded == 1  # the movement epoch ('?' lies beyond the signal)
    assert data.n_outside_signal == 120  # trailing 1-h 'Sleep stage ?'
    assert data.ch_names == ["EEG Fpz-Cz", "EEG Pz-Oz", "EOG horizontal", "EMG submental"]
    assert data.sfreq == 100.0 and data.epoch_seconds == 30.0
    assert (data.groups == 0).all() and set(data.recordings) == {"SC4001"}
    # independent check of the EEG/EOG samples against MNE (same native rate there)
    raw = mne.io.read_raw_edf(psg, preload=True, verbose=False)
    ref = raw.get_data(picks=["EEG Fpz-Cz", "EEG Pz-Oz", "EOG horizontal"], units="uV")
    kept_epochs = [k for k, s in enumerate(STAGES) if s != "M"]
    for i, k in enumerate(kept_epochs):
        np.testing.assert_allclose(data.X[i, :3], ref[:, k * 3000:(k + 1) * 3000], atol=1e-3)
    np.testing.assert_array_equal(data.onsets, 30.0 * np.array(kept_epochs))


def test_sleep_edf_emg_is_resampled_explicitly(sedf_dir):
    psg, hyp = _pair(sedf_dir)
    data = read_sleep_edf_recording(psg, hyp, wake_edge_minutes=None)
    assert data.resampled_channels == {"EMG submental": (1.0, 100.0)}
    assert data.native_sfreqs["EMG submental"] == 1.0
    assert data.native_sfreqs["EEG Fpz-Cz"] == 100.0
    # the written 1 Hz envelope is 8 (W), 1 (REM), 3 (others) + U(0, 0.2)
    level = {"W": 8.1, "REM": 1.1}
    centre = data.X[:, 3, 500:2500].mean(axis=1)
    want = np.array([level.get(s, 3.1) for s in data.y])
    np.testing.assert_allclose(centre, want, atol=0.35)
    with pytest.raises(ValueError, match=r"EMG submental: 1 Hz"):
        read_sleep_edf_recording(psg, hyp, resample_mismatched="raise")
    # the same channels at their native rate need no resampling
    eeg = read_sleep_edf_recording(psg, hyp, channels=["EEG Fpz-Cz"],
                                   resample_mismatched="raise")
    assert eeg.resampled_channels == {}


def test_sleep_edf_wake_edges(sedf_dir):
    psg, hyp = _pair(sedf_dir)
    full = read_sleep_edf_recording(psg, hyp, wake_edge_minutes=None)
    one = read_sleep_edf_recording(psg, hyp, wake_edge_minutes=1)  # 2 epochs each side
    first_sleep = STAGES.index("1")
    last_sleep = len(STAGES) - 1 - STAGES[::-1].index("2")
    keep = [k for k in range(len(STAGES))
            if first_sleep - 2 <= k <= last_sleep + 2 and STAGES[k] != "M"]
    np.testing.assert_array_equal(one.onsets, 30.0 * np.array(keep))
    assert one.n_trimmed_wake == len(full.y) - len(one.y)
    default = read_sleep_edf_recording(psg, hyp)  # 30 min > recording: nothing trimmed
    assert len(default.y) == len(full.y) and default.n_trimmed_wake == 0


def test_sleep_edf_unknown_annotation(tmp_path):
    psg, hyp, _ = _write_sleep_edf_like(tmp_path, 5, 1, stages=STAGES[:8],
                                        extra_annotations=[(240.0 + 3600, 30.0, "Lights on")])
    with pytest.raises(ValueError, match=r"unknown annotation description.*Lights on"):
        read_sleep_edf_recording(psg, hyp)
    data = read_sleep_edf_recording(
        psg, hyp, wake_edge_minutes=None,
        annotation_map={**mne_map(), "Lights on": "EXCLUDED"})
    assert data.n_outside_signal == 121 and len(data.y) == 8


def mne_map():
    from sklearn_sleep.utils._stages import SLEEP_EDF_ANNOTATION_MAP
    return dict(SLEEP_EDF_ANNOTATION_MAP)


def test_sleep_edf_truncated_and_empty_files(tmp_path):
    psg, hyp, _ = _write_sleep_edf_like(tmp_path, 7, 1, stages=STAGES[:8])
    size = psg.stat().st_size
    with open(psg, "r+b") as fid:
        fid.truncate(size - 1000)
    with pytest.raises(ValueError, match=r"SC4071E0-PSG\.edf.*truncated"):
        read_sleep_edf_recording(psg, hyp)
    with open(psg, "r+b") as fid:
        fid.truncate(100)
    with pytest.raises(ValueError, match=r"SC4071E0-PSG\.edf.*(truncated|not a valid)"):
        read_sleep_edf_recording(psg, hyp)
    # an EDF with a valid header but zero data records
    psg2, hyp2, _ = _write_sleep_edf_like(tmp_path / "b", 7, 1, stages=STAGES[:8])
    hdr = read_edf_header(psg2)
    raw = bytearray(psg2.read_bytes()[:hdr.header_bytes])
    raw[236:244] = b"0       "
    psg2.write_bytes(bytes(raw))
    with pytest.raises(ValueError, match=r"SC4071E0-PSG\.edf.*no data records"):
        read_sleep_edf_recording(psg2, hyp2)


def test_sleep_edf_missing_channel_lists_available(sedf_dir):
    psg, hyp = _pair(sedf_dir)
    with pytest.raises(ValueError, match=r"\['EEG C3'\] not found\. Available channels: "
                                         r"\['EEG Fpz-Cz', 'EEG Pz-Oz'"):
        read_sleep_edf_recording(psg, hyp, channels=["EEG Fpz-Cz", "EEG C3"])


def test_load_sleep_edf_folder(sedf_dir):
    data = load_sleep_edf(sedf_dir)
    n_per = len([s for s in STAGES if s != "M"])
    assert data.X.shape == (4 * n_per, 4, 3000)
    assert list(np.unique(data.groups)) == [0, 1]
    assert sorted(set(data.recordings)) == ["SC4001", "SC4002", "SC4011", "SC4012"]
    # both nights of a subject share a group
    for rec in set(data.recordings):
        assert set(data.groups[data.recordings == rec]) == {int(rec[3:5])}
    assert data.n_excluded == 4
    one = read_sleep_edf_recording(*_pair(sedf_dir, 1, 2))
    np.testing.assert_array_equal(data.X[data.recordings == "SC4012"], one.X)
    X, y, groups = load_sleep_edf(sedf_dir, subjects=[1], nights=[2], return_X_y=True)
    np.testing.assert_array_equal(X, one.X)
    assert list(y) == list(one.y) and (groups == 1).all()
    with pytest.raises(ValueError, match=r"SC4031.*not found|not found.*SC4031"):
        load_sleep_edf(sedf_dir, subjects=[0, 3])
    with pytest.warns(UserWarning, match="SC4031"):
        part = load_sleep_edf(sedf_dir, subjects=[0, 3], on_missing="warn")
    assert set(part.groups) == {0}


def test_fetch_sleep_edf_uses_mne_fetch_data(sedf_dir):
    pairs = [[str(p) for p in _pair(sedf_dir, 0, n)] for n in (1, 2)]
    target = "mne.datasets.sleep_physionet.age.fetch_data"
    with mock.patch(target, return_value=pairs) as fetch:
        got = fetch_sleep_edf([0], nights=(1, 2), path="/nowhere", load=False)
    fetch.assert_called_once()
    kwargs = fetch.call_args.kwargs
    assert kwargs["subjects"] == [0] and kwargs["recording"] == [1, 2]
    assert kwargs["path"] == "/nowhere" and kwargs["on_missing"] == "raise"
    assert got == [tuple(Path(p) for p in pair) for pair in pairs]
    # hypnogram listed first is swapped back; load=True returns the epochs
    swapped = [pair[::-1] for pair in pairs]
    with mock.patch(target, return_value=swapped):
        data = fetch_sleep_edf([0], path="/nowhere", sfreq=100.0)
    ref = load_sleep_edf(sedf_dir, subjects=[0])
    np.testing.assert_array_equal(data.X, ref.X)
    assert list(data.y) == list(ref.y)
    with mock.patch(target, return_value=pairs), pytest.raises(TypeError, match="bogus"):
        fetch_sleep_edf([0], path="/nowhere", bogus=1)


# --------------------------------------------------------------------------- EDF reader
def test_read_edf_signals_matches_mne_for_same_rate(sedf_dir):
    psg, _ = _pair(sedf_dir)
    sig = read_edf_signals(psg, ["EEG Pz-Oz", "eeg fpz-cz"])  # order + case-insensitive
    ref = mne.io.read_raw_edf(psg, preload=True, verbose=False).get_data(
        picks=["EEG Pz-Oz", "EEG Fpz-Cz"], units="uV")
    np.testing.assert_allclose(sig.signals, ref, atol=1e-6)
    # returned under the requested names; the file's labels are kept (issue 9)
    assert sig.ch_names == ["EEG Pz-Oz", "eeg fpz-cz"]
    assert sig.file_ch_names == ["EEG Pz-Oz", "EEG Fpz-Cz"]


# --------------------------------------------------------------------------- generic
@pytest.mark.parametrize("epoch_seconds,sfreq", [(1, 128), (4, 256), (30, 100)])
def test_epochs_from_array_any_epoch_length(epoch_seconds, sfreq, rng):
    n_ep = 7
    n_t = int(epoch_seconds * sfreq)
    signal = rng.standard_normal((2, n_ep * n_t))
    labels = np.array(["W", "NREM", "REM", "NREM", "W", "W", "REM"], dtype=object)
    data = epochs_from_array(signal, labels, sfreq=sfreq, epoch_seconds=epoch_seconds,
                             ch_names=["EEG", "EMG"], subject="m1")
    assert data.X.shape == (n_ep, 2, n_t) and data.X.dtype == np.float32
    for k in range(n_ep):
        np.testing.assert_allclose(data.X[k], signal[:, k * n_t:(k + 1) * n_t], rtol=1e-6)
    assert list(data.y) == list(labels) and set(data.groups) == {"m1"}
    X, y, g = epochs_from_array(signal, labels, sfreq=sfreq, epoch_seconds=epoch_seconds,
                                return_X_y=True)
    assert X.shape == data.X.shape and len(g) == n_ep


def test_epochs_from_array_mismatch(rng):
    signal = rng.standard_normal((1, 4 * 100 + 30))
    with pytest.raises(ValueError, match=r"430 samples = 4 whole epoch.*30 leftover.*5 label"):
        epochs_from_array(signal, ["W"] * 5, sfreq=100, epoch_seconds=1)
    with pytest.warns(UserWarning, match=r"dropped 1 label\(s\) and 30 sample\(s\)"):
        data = epochs_from_array(signal, ["W"] * 5, sfreq=100, epoch_seconds=1,
                                 on_mismatch="truncate")
    assert data.n_dropped_labels == 1 and data.n_dropped_samples == 30 and len(data.X) == 4
    with pytest.warns(UserWarning, match=r"dropped 0 label\(s\) and 230 sample\(s\)"):
        data = epochs_from_array(signal, ["W"] * 2, sfreq=100, epoch_seconds=1,
                                 on_mismatch="truncate")
    assert len(data.X) == 2
    with pytest.raises(ValueError, match="empty"):
        epochs_from_array(np.zeros((1, 0)), ["W"], sfreq=100, epoch_seconds=1)
    with pytest.raises(ValueError, match="whole number of samples"):
        epochs_from_array(signal, ["W"], sfreq=100, epoch_seconds=0.015)
    data = epochs_from_array(signal[:, :400], ["W", "?", "REM", "?"], sfreq=100,
                             epoch_seconds=1, exclude=["?"])
    assert list(data.y) == ["W", "REM"] and data.n_excluded == 2
    np.testing.assert_array_equal(data.onsets, [0.0, 2.0])
    with pytest.raises(ValueError, match=r"\['X'\] are not in label_map"):
        epochs_from_array(signal[:, :200], ["W", "X"], sfreq=100, epoch_seconds=1,
                          label_map={"W": "W"})


def _write_mouse_edf(path, n_epochs=6, sfreq=256, emg_sfreq=256, seed=0):
    rng = np.random.default_rng(seed)
    n = n_epochs * 4
    eeg = rng.standard_normal(n * sfreq) * 0.05  # mV
    emg = rng.standard_normal(n * emg_sfreq) * 20
    edfio.Edf([
        edfio.EdfSignal(eeg, sfreq, label="EEG", physical_dimension="mV",
                        physical_range=(-1, 1)),
        edfio.EdfSignal(emg, emg_sfreq, label="EMG", physical_dimension="uV",
                        physical_range=(-500, 500)),
    ]).write(path)
    return eeg, emg


def test_load_edf_with_labels_text_and_csv(tmp_path):
    edf = tmp_path / "mouse.edf"
    eeg, _ = _write_mouse_edf(edf)
    labels = ["W", "NREM", "NREM", "REM", "W", "NREM"]
    (tmp_path / "labels.txt").write_text("\n".join(labels) + "\n")
    data = load_edf_with_labels(edf, tmp_path / "labels.txt", epoch_seconds=4)
    assert data.X.shape == (6, 2, 1024) and list(data.y) == labels
    # the EEG was written in mV: values come back in uV
    np.testing.assert_allclose(data.X[:, 0].ravel() / 1000, eeg[:6 * 1024], atol=1e-3)
    (tmp_path / "labels.csv").write_text("epoch,stage\n" + "\n".join(
        f"{i},{s}" for i, s in enumerate(labels)))
    csv_data = load_edf_with_labels(edf, tmp_path / "labels.csv", epoch_seconds=4,
                                    label_column=1, skiprows=1, channels=["EMG"])
    assert list(csv_data.y) == labels and csv_data.ch_names == ["EMG"]
    with pytest.raises(ValueError, match=r"mouse\.edf.*7 label"):
        load_edf_with_labels(edf, labels + ["W"], epoch_seconds=4)


def test_load_edf_with_labels_mixed_rates(tmp_path):
    edf = tmp_path / "mixed.edf"
    _write_mouse_edf(edf, emg_sfreq=128)
    labels = ["W"] * 6
    with pytest.raises(ValueError, match=r"EEG: 256 Hz, EMG: 128 Hz"):
        load_edf_with_labels(edf, labels, epoch_seconds=4)
    data = load_edf_with_labels(edf, labels, epoch_seconds=4, sfreq=256,
                                resample_mismatched="resample")
    assert data.X.shape == (6, 2, 1024)
    assert data.resampled_channels == {"EMG": (128.0, 256.0)}


# --------------------------------------------------------------------------- DREAMS
DREAMS_RATES = {1: 100, 2: 200, 3: 50, 4: 200, 5: 200, 6: 200}


def _dreams_signal(folder, k):
    text = (folder / f"excerpt{k}.txt").read_text().split()
    return np.asarray(text[1:], dtype=float)


def test_dreams_rates_and_excerpt6_extra_samples(shared_data):
    folder = shared_data / "dreams"
    with pytest.warns(UserWarning, match=r"excerpt6\.txt.*140 extra sample"):
        data = load_dreams(folder, sfreq=100)
    natives = {int(i["name"][7:]): list(i["native_sfreqs"].values())[0]
               for i in data.recording_info}
    assert natives == DREAMS_RATES
    assert data.X.shape == (360, 1, 3000) and data.sfreq == 100.0
    assert data.ch_names == ["EEG"]
    assert data.source_channels["excerpt1"] == ["C3-A1"]
    assert data.source_channels["excerpt2"] == ["CZ-A1"]
    assert list(np.unique(data.groups)) == [1, 2, 3, 4, 5, 6]
    info6 = [i for i in data.recording_info if i["name"] == "excerpt6"][0]
    assert info6["n_extra_samples"] == 140


def test_dreams_pooling_needs_common_rate(shared_data):
    folder = shared_data / "dreams"
    with pytest.raises(ValueError, match=r"excerpt1: 100 Hz, excerpt3: 50 Hz.*sfreq="):
        load_dreams(folder, excerpts=[1, 3])
    one = load_dreams(folder, excerpts=[1])  # native 100 Hz, no resampling
    assert one.sfreq == 100.0 and one.X.shape == (60, 1, 3000)
    x = _dreams_signal(folder, 1)
    np.testing.assert_allclose(one.X.reshape(-1), x, rtol=1e-6, atol=1e-4)
    pooled = load_dreams(folder, excerpts=[1, 3], sfreq=100)
    np.testing.assert_array_equal(pooled.X[:60], one.X)
    assert pooled.recording_info[1]["resampled_channels"] == {"C3-A1": (50.0, 100.0)}


def test_dreams_labels_majority_of_six_codes(shared_data):
    folder = shared_data / "dreams"
    from sklearn_sleep.utils._stages import DREAMS_RK_MAP
    data = load_dreams(folder, excerpts=[2])
    codes = read_dreams_hypnogram(folder / "Hypnogram_excerpt2.txt").reshape(-1, 6)
    expected = []
    for row in codes:
        vals, counts = np.unique([DREAMS_RK_MAP[c] for c in row], return_counts=True)
        expected.append(vals[np.argmax(counts)])
    assert list(data.y) == expected
    assert data.n_excluded == 0


def test_aggregate_labels_rule():
    codes = np.array([5, 5, 5, 2, 2, 2,   # tie W/N2 -> first (W)
                      2, 2, 3, 2, 1, 0,   # majority N2
                      1, 0, 0, -1, 0, 0,  # contains movement -> excluded
                      3, 3])              # incomplete -> dropped
    labels, keep, n_ties, n_dropped = aggregate_labels(codes, 6)
    assert list(labels) == ["W", "N2", "EXCLUDED"]
    assert list(keep) == [True, True, False] and n_ties == 1 and n_dropped == 2
    with pytest.raises(ValueError, match=r"unknown hypnogram code\(s\) \[7\]"):
        aggregate_labels(np.array([5, 7]), 1)


def _relative_delta(x, fs):
    f, p = welch(x, fs=fs, nperseg=2 * fs, axis=-1)
    band = (f >= 0.5) & (f <= 2.0)
    total = (f >= 0.5) & (f <= 25.0)
    return p[:, band].sum(1) / p[:, total].sum(1)


def test_dreams_code_meaning_confirmed_by_delta_power(shared_data):
    """S3/S4 codes (1, 0) must carry more delta than W/S1 codes (5, 3) in every excerpt."""
    folder = shared_data / "dreams"
    table = {}
    for k, fs in DREAMS_RATES.items():
        x = _dreams_signal(folder, k)[: fs * 1800].reshape(360, 5 * fs)
        codes = read_dreams_hypnogram(folder / f"Hypnogram_excerpt{k}.txt")
        rel = _relative_delta(x, fs)
        table[k] = {int(c): float(rel[codes == c].mean()) for c in np.unique(codes)}
        deep = [table[k][c] for c in (0, 1) if c in table[k]]
        light = [table[k][c] for c in (3, 4, 5) if c in table[k]]
        assert min(deep) > max(light), (k, table[k])
    print("relative 0.5-2 Hz power per DREAMS code:", table)


def test_dreams_edf_mixed_rates_and_channel_picking(shared_data):
    folder = shared_data / "dreams"
    with pytest.raises(ValueError, match=r"C3-A1: 50 Hz, hypnogram: 1 Hz"):
        load_dreams(folder, excerpts=[3], source="edf", channels=["C3-A1", "hypnogram"])
    with pytest.raises(ValueError, match=r"\['C4-A1'\] not found\. Available channels: "
                                         r"\['O1-A1', 'EMG1'"):
        load_dreams(folder, excerpts=[3], source="edf", channels=["C4-A1"])
    data = load_dreams(folder, excerpts=[3], source="edf",
                       channels=["C3-A1", "EMG1", "hypnogram"], sfreq=50)
    assert data.X.shape == (60, 3, 1500) and data.ch_names == ["C3-A1", "EMG1", "hypnogram"]
    assert data.recording_info[0]["resampled_channels"] == {"hypnogram": (1.0, 50.0)}
    # EDF C3-A1 (header unit "UV") equals the text export in microvolts
    txt = load_dreams(folder, excerpts=[3])
    np.testing.assert_allclose(data.X[:, 0], txt.X[:, 0], atol=1e-3)
    # the EDF hypnogram channel, read at its native 1 Hz, equals the text hypnogram
    hyp = read_edf_signals(folder / "excerpt3.edf", ["hypnogram"])
    assert hyp.sfreq == 1.0
    codes = read_dreams_hypnogram(folder / "Hypnogram_excerpt3.txt")
    np.testing.assert_array_equal(hyp.signals[0, ::5][: len(codes)], codes)
    with pytest.raises(FileNotFoundError, match="excerpt1.edf"):
        load_dreams(folder, excerpts=[1], source="edf")


# --------------------------------------------------------------------------- SleepSign
def _sleepsign_rows(path):
    with open(path, newline="") as fid:
        return list(csv.reader(fid))


def test_sleepsign_signals(shared_data):
    path = shared_data / "mouse_sample" / "Raw" / "sample.txt"
    data = read_sleepsign_signals(path)
    rows = _sleepsign_rows(path)
    h = [i for i, r in enumerate(rows) if r and r[0] == "Time"][0]
    body = [r for r in rows[h + 1:] if r and r[0]]
    assert data.signals.shape == (4, len(body)) == (4, 18021)
    assert data.sfreq == 128.0
    assert data.orig_units == ["uV", "uV", "uV", "V"] and data.units == ["uV"] * 4
    np.testing.assert_allclose(data.signals[:3, 0], [float(v) for v in body[0][1:4]])
    np.testing.assert_allclose(data.signals[3, -1], float(body[-1][4]) * 1e6)
    assert data.start.isoformat() == "2018-12-04T11:00:11"
    assert data.metadata["Subject"] == "20181204trainD1831D1"


def test_sleepsign_hypnogram_vocabulary(shared_data):
    seen = set()
    for name in ("sample", "D1798_short", "D1799_short"):
        path = shared_data / "mouse_sample" / "Judge" / f"{name}.txt"
        hyp = read_sleepsign_hypnogram(path)
        rows = _sleepsign_rows(path)
        h = [i for i, r in enumerate(rows) if r and r[0] == "Time"][0]
        raw = [r[2] for r in rows[h + 2:] if r and r[0]]
        seen |= set(raw)
        assert list(hyp.raw_labels) == raw
        np.testing.assert_array_equal(hyp.artifact, [s.endswith("*") for s in raw])
        np.testing.assert_array_equal(hyp.epoch_numbers, np.arange(len(raw)))
        assert hyp.epoch_seconds == 10.0
        assert set(hyp.labels) == {"W"}  # W and RW (theta-rich wake) only
        assert hyp.features.shape == (len(raw), 5)
    assert seen == {"W", "W*", "RW", "RW*"}


def test_sleepsign_hypnogram_mapping_and_unknown_codes(shared_data, tmp_path):
    src = shared_data / "mouse_sample" / "Judge" / "sample.txt"
    text = src.read_text(encoding="latin-1")
    lines = text.splitlines()
    h = [i for i, line in enumerate(lines) if line.startswith("Time,")][0]
    replaced = lines[: h + 2]
    for j, line in enumerate(lines[h + 2:]):
        parts = line.split(",")
        parts[2] = ["NR", "R*", "W", "NR*"][j % 4]
        replaced.append(",".join(parts))
    ok = tmp_path / "ok.txt"
    ok.write_text("\n".join(replaced))
    hyp = read_sleepsign_hypnogram(ok)
    assert list(hyp.labels[:4]) == ["NREM", "REM", "W", "NREM"]
    assert list(hyp.artifact[:4]) == [False, True, False, True]
    bad_lines = list(replaced)
    parts = bad_lines[h + 5].split(",")
    parts[2] = "XX*"
    bad_lines[h + 5] = ",".join(parts)
    bad = tmp_path / "bad.txt"
    bad.write_text("\n".join(bad_lines))
    with pytest.raises(ValueError, match=r"bad\.txt.*unknown SleepSign stage code\(s\) \['XX'\]"):
        read_sleepsign_hypnogram(bad)
    assert read_sleepsign_hypnogram(bad, stage_map={"xx": "W", "NR": "NREM", "R": "REM",
                                                    "W": "W"}).labels[3] == "W"


def test_timestamped_text_demo(shared_data):
    data = read_timestamped_text(shared_data / "mouse_sample" / "aipost" / "demo_eeg.txt")
    assert data.signals.shape == (2, 25000) and data.sfreq == 128.0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ep = epochs_from_array(data.signals[:, : 128 * 4 * 48], ["W"] * 48, sfreq=data.sfreq,
                               epoch_seconds=4)
    assert ep.X.shape == (48, 2, 512)


def test_sleep_edf_recording_without_epochs_warns(tmp_path):
    psg, hyp, _ = _write_sleep_edf_like(tmp_path, 8, 1, stages=["M"] * 4)
    with pytest.warns(UserWarning) as record:
        data = read_sleep_edf_recording(psg, hyp)
    messages = " ".join(str(w.message) for w in record)
    assert "no sleep epoch" in messages and "no epoch left (4 excluded" in messages
    assert data.X.shape == (0, 4, 3000) and data.n_excluded == 4
