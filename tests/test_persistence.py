"""Tests of atomic writes, the SleepStager meta-estimator and model files."""

import os
import pickle
import warnings

import joblib
import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

from sklearn_sleep import persistence
from sklearn_sleep._atomic import atomic_write
from sklearn_sleep.models import SleepNetClassifier
from sklearn_sleep.persistence import (
    FORMAT_NAME,
    IncompatibleModelError,
    ModelFileError,
    SleepStager,
    load_model,
    read_model_metadata,
)

CH = ["EEG Fpz-Cz", "EOG horizontal", "EMG submental"]
SFREQ, EPOCH_S = 50.0, 2.0  # 100 samples per epoch
STAGES = np.array(["W", "N2", "REM"])


def log_power(X):
    return np.log(np.mean(np.asarray(X, dtype=np.float64) ** 2, axis=2))


def make_data(n=90, seed=0):
    """Epochs whose per-channel power encodes the stage: the answer is known."""
    rng = np.random.default_rng(seed)
    y = STAGES[np.arange(n) % 3]
    scale = {"W": [1, 1, 4], "N2": [4, 1, 1], "REM": [1, 4, 0.5]}
    X = np.stack([rng.normal(size=(3, 100)) * np.asarray(scale[s])[:, None] for s in y])
    return X.astype(np.float32), y


def make_stager():
    pipe = make_pipeline(FunctionTransformer(log_power), StandardScaler(), LogisticRegression())
    return SleepStager(pipe, ch_names=CH, sfreq=SFREQ, epoch_seconds=EPOCH_S)


# ----------------------------------------------------------------------- atomic write
def test_atomic_write_replaces_only_on_success(tmp_path):
    target = tmp_path / "out.txt"
    with atomic_write(target) as f:
        f.write("first")
    assert target.read_text() == "first"
    with pytest.raises(RuntimeError, match="boom"), atomic_write(target) as f:
        f.write("half-written")
        raise RuntimeError("boom")
    assert target.read_text() == "first"  # old content intact
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.txt"]  # no temp file


def test_atomic_write_exception_leaves_no_file(tmp_path):
    target = tmp_path / "model.bin"
    with pytest.raises(KeyboardInterrupt), atomic_write(target, "wb") as f:
        f.write(b"\x00" * 1000)
        raise KeyboardInterrupt
    assert not target.exists()
    assert list(tmp_path.iterdir()) == []


def test_atomic_write_modes_and_errors(tmp_path):
    with atomic_write(tmp_path / "b.bin", "wb") as f:
        f.write(b"abc")
    assert (tmp_path / "b.bin").read_bytes() == b"abc"
    with pytest.raises(FileExistsError), atomic_write(tmp_path / "b.bin", "xb") as f:
        f.write(b"x")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        with atomic_write(tmp_path / "nope" / "x.txt") as f:
            f.write("x")
    with pytest.raises(ValueError, match="mode"), atomic_write(tmp_path / "x.txt", "a"):
        pass
    # a new file gets normal permissions (not mkstemp's 0600)
    mode = (tmp_path / "b.bin").stat().st_mode & 0o777
    umask = os.umask(0)
    os.umask(umask)
    assert mode == 0o666 & ~umask


# ------------------------------------------------------------------------ SleepStager
def test_stager_fit_predict_learns_known_answer():
    X, y = make_data()
    stager = make_stager()
    assert stager.fit(X, y) is stager
    Xt, yt = make_data(seed=1)
    assert stager.score(Xt, yt) > 0.9
    proba = stager.predict_proba(Xt)
    assert proba.shape == (len(Xt), 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert set(stager.classes_) == set(STAGES)
    assert stager.n_times_ == 100 and stager.ch_names_ == CH
    # delegates: same answer as the wrapped pipeline fitted alone
    alone = clone(stager.estimator).fit(X, y)
    np.testing.assert_array_equal(stager.predict(Xt), alone.predict(Xt))
    assert stager.metadata_["ch_names"] == CH
    assert stager.metadata_["versions"]["sklearn_sleep"]


def test_stager_estimator_contract():
    stager = make_stager()
    params = stager.get_params()
    assert params["ch_names"] == CH and params["sfreq"] == SFREQ
    assert "estimator__logisticregression__C" in params
    stager.set_params(estimator__logisticregression__C=0.5)
    assert stager.estimator.named_steps["logisticregression"].C == 0.5
    cloned = clone(stager)
    assert cloned.get_params()["estimator__logisticregression__C"] == 0.5
    with pytest.raises(NotFittedError):
        stager.predict(make_data()[0])
    X, y = make_data()
    stager.fit(X, y)
    assert not hasattr(stager.estimator, "classes_")  # the given estimator is not fitted
    restored = pickle.loads(pickle.dumps(stager))
    np.testing.assert_array_equal(restored.predict(X), stager.predict(X))


def test_stager_refuses_incompatible_input():
    X, y = make_data()
    stager = make_stager().fit(X, y)
    with pytest.raises(ValueError, match=r"missing from the input: \['EMG submental'\]; "
                                         r"not used by the model: \['EMG chin'\]"):
        stager.predict(X, ch_names=["EEG Fpz-Cz", "EOG horizontal", "EMG chin"])
    with pytest.raises(ValueError, match=r"100 Hz.*Resample it first"):
        stager.predict(X, sfreq=100)
    with pytest.raises(ValueError, match=r"epochs of 100 samples \(2 s at 50 Hz\), got 150"):
        stager.predict(np.zeros((4, 3, 150), np.float32))
    with pytest.raises(ValueError, match="expects 3 channels"):
        stager.predict(X[:, :2])
    with pytest.raises(ValueError, match="NaN"):
        bad = X.copy()
        bad[0, 0, 0] = np.nan
        stager.predict(bad)
    # same channels in another order: reordered by name, same predictions
    perm = [2, 0, 1]
    np.testing.assert_array_equal(
        stager.predict(X[:, perm], ch_names=[CH[i] for i in perm], sfreq=SFREQ),
        stager.predict(X),
    )


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"ch_names": "EEG"}, "sequence of channel names"),
        ({"ch_names": ["a", "a", "b"]}, "duplicate"),
        ({"sfreq": -1}, "sfreq must be a positive"),
        ({"epoch_seconds": 0}, "epoch_seconds must be a positive"),
        ({"sfreq": 33.3}, "whole number of samples"),
    ],
)
def test_stager_bad_settings_raise_at_fit(kwargs, match):
    X, y = make_data()
    stager = make_stager().set_params(**kwargs)  # __init__/set_params do not validate
    with pytest.raises(ValueError, match=match):
        stager.fit(X, y)


def test_stager_fit_checks_shape():
    X, y = make_data()
    with pytest.raises(ValueError, match="expects 3 channels"):
        make_stager().fit(X[:, :2], y)
    with pytest.raises(ValueError, match="different lengths"):
        make_stager().fit(X, y[:-1])


# ---------------------------------------------------------------------- save / load
def make_safe_stager():
    """A stager of library transformers and scikit-learn parts only (safe format)."""
    from sklearn_sleep.features import BandPowerFeatures

    bands = {"delta": (0.5, 4), "theta": (4, 8), "alpha": (8, 12), "sigma": (12, 16),
             "beta": (16, 24)}
    features = BandPowerFeatures(sfreq=SFREQ, bands=bands, window_seconds=1.0, ch_names=CH)
    pipe = make_pipeline(features, StandardScaler(), LogisticRegression())
    return SleepStager(pipe, ch_names=CH, sfreq=SFREQ, epoch_seconds=EPOCH_S)


def test_safe_save_load_round_trip(tmp_path):
    import json
    import zipfile

    X, y = make_data()
    stager = make_safe_stager().fit(X, y)
    path = stager.save(tmp_path / "model.zip")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.zip"]
    with zipfile.ZipFile(path) as archive:
        assert sorted(archive.namelist()) == ["estimator.skops", "sklearn_sleep_model.json"]
        doc = json.loads(archive.read("sklearn_sleep_model.json"))
    assert doc["format"] == FORMAT_NAME and doc["format_version"] == persistence.FORMAT_VERSION
    assert doc["estimator"]["kind"] == "skops"
    loaded = load_model(path)
    assert isinstance(loaded, SleepStager)
    np.testing.assert_array_equal(loaded.predict_proba(X), stager.predict_proba(X))
    assert loaded.ch_names_ == CH and loaded.sfreq_ == SFREQ and loaded.n_times_ == 100
    meta = read_model_metadata(path)
    assert meta["ch_names"] == CH and meta["sfreq"] == SFREQ and meta["n_times"] == 100
    assert meta["epoch_seconds"] == EPOCH_S and meta["classes"] == ["N2", "REM", "W"]
    assert {"sklearn_sleep", "scikit-learn", "torch", "numpy"} <= set(meta["versions"])
    # an existing file is kept unless overwrite=True
    with pytest.raises(FileExistsError, match="overwrite=True"):
        stager.save(path)
    stager.save(path, overwrite=True)


def test_safe_save_refuses_custom_code(tmp_path):
    X, y = make_data()
    stager = make_stager().fit(X, y)  # FunctionTransformer(log_power): a test function
    with pytest.raises(ValueError, match="format='pickle'"):
        stager.save(tmp_path / "model.zip")
    assert list(tmp_path.iterdir()) == []


def test_pickle_format_round_trip_needs_trusted(tmp_path):
    X, y = make_data()
    stager = make_stager().fit(X, y)
    path = stager.save(tmp_path / "model.joblib", format="pickle")
    with pytest.raises(ModelFileError, match="trusted=True"):
        load_model(path)
    with pytest.raises(ModelFileError, match="trusted=True"):
        read_model_metadata(path)
    loaded = load_model(path, trusted=True)
    np.testing.assert_array_equal(loaded.predict(X), stager.predict(X))
    assert read_model_metadata(path, trusted=True)["ch_names"] == CH
    payload = joblib.load(path)  # plain joblib can read it too
    assert payload["format"] == FORMAT_NAME and payload["format_version"] == 1


def test_load_corrupt_truncated_and_missing(tmp_path):
    X, y = make_data()
    path = make_safe_stager().fit(X, y).save(tmp_path / "model.zip")
    data = path.read_bytes()
    truncated = tmp_path / "truncated.zip"
    truncated.write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelFileError, match=r"truncated\.zip.*truncated"):
        load_model(truncated)
    pickled = make_stager().fit(X, y).save(tmp_path / "model.joblib", format="pickle")
    half = tmp_path / "half.joblib"
    half.write_bytes(pickled.read_bytes()[: pickled.stat().st_size // 2])
    with pytest.raises(ModelFileError, match=r"half\.joblib.*truncated, corrupt"):
        load_model(half, trusted=True)
    garbage = tmp_path / "garbage.joblib"
    garbage.write_bytes(b"this is not a model" * 10)
    with pytest.raises(ModelFileError, match="garbage.joblib"):
        load_model(garbage, trusted=True)
    with pytest.raises(FileNotFoundError, match="missing.joblib"):
        load_model(tmp_path / "missing.joblib")
    joblib.dump({"weights": [1, 2]}, tmp_path / "dict.joblib")
    with pytest.raises(ModelFileError, match="does not contain a model"):
        load_model(tmp_path / "dict.joblib", trusted=True)


def _payload_with_version(stager, version, path):
    meta = dict(stager.metadata_)
    meta["versions"] = dict(meta["versions"], sklearn_sleep=version)
    joblib.dump({"format": FORMAT_NAME, "format_version": 1, "metadata": meta,
                 "model": stager}, path)
    return path


def test_version_checks(tmp_path, monkeypatch):
    X, y = make_data()
    stager = make_stager().fit(X, y)
    monkeypatch.setattr(persistence, "__version__", "1.4.2")
    with pytest.raises(IncompatibleModelError, match=r"sklearn_sleep 2\.0\.0.*major"):
        load_model(_payload_with_version(stager, "2.0.0", tmp_path / "major.joblib"),
                   trusted=True)
    with pytest.warns(UserWarning, match=r"saved with sklearn_sleep 1\.3\.0"):
        load_model(_payload_with_version(stager, "1.3.0", tmp_path / "minor.joblib"),
                   trusted=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        load_model(_payload_with_version(stager, "1.4.0", tmp_path / "patch.joblib"),
                   trusted=True)
    future = tmp_path / "future.joblib"
    joblib.dump({"format": FORMAT_NAME, "format_version": 99, "metadata": {}, "model": stager},
                future)
    with pytest.raises(ModelFileError, match="format version 99"):
        load_model(future, trusted=True)


def test_plain_joblib_pipeline_loads_with_warning_when_trusted(tmp_path):
    X, y = make_data()
    pipe = make_stager().estimator.fit(X, y)
    joblib.dump(pipe, tmp_path / "pipe.joblib")
    with pytest.raises(ModelFileError, match="arbitrary code"):
        load_model(tmp_path / "pipe.joblib")
    with pytest.warns(UserWarning, match="without metadata"):
        loaded = load_model(tmp_path / "pipe.joblib", trusted=True)
    np.testing.assert_array_equal(loaded.predict(X), pipe.predict(X))


class TinyNet(torch.nn.Module):
    """Log channel power -> linear layer: enough to learn make_data's stages."""

    def __init__(self, n_chans, n_classes):
        super().__init__()
        self.fc = torch.nn.Linear(n_chans, n_classes)

    def forward(self, x):
        return self.fc(torch.log(x.pow(2).mean(-1) + 1e-6))


def _tiny_net(device="cpu"):
    return SleepNetClassifier(TinyNet, max_epochs=40, lr=0.05, batch_size=32, random_state=0,
                              device=device)


def test_network_stager_save_load_on_cpu(tmp_path):
    X, y = make_data()
    stager = SleepStager(_tiny_net(), ch_names=CH, sfreq=SFREQ, epoch_seconds=EPOCH_S)
    stager.fit(X, y)
    assert stager.score(X, y) > 0.9
    with pytest.raises(ValueError, match=r"TinyNet.*format=.pickle"):
        stager.save(tmp_path / "net.zip")  # TinyNet is a test class: pickle only
    path = stager.save(tmp_path / "net.joblib", format="pickle")
    loaded = load_model(path, trusted=True)
    np.testing.assert_allclose(loaded.predict_proba(X), stager.predict_proba(X), atol=1e-6)
    assert loaded.estimator_.device == "cpu"
    assert "SleepNetClassifier" in read_model_metadata(path, trusted=True)["estimator_class"]


def test_library_network_safe_round_trip_identical(tmp_path):
    from sklearn_sleep.models import ULWSleepNetClassifier

    rng = np.random.default_rng(0)
    X = rng.normal(size=(24, 2, 300)).astype(np.float32)
    y = np.array(["W", "N2", "REM"] * 8)
    net = ULWSleepNetClassifier(max_epochs=1, batch_size=8, random_state=0, device="cpu")
    stager = SleepStager(net, ch_names=["EEG", "EOG"], sfreq=100, epoch_seconds=3).fit(X, y)
    path = stager.save(tmp_path / "net.zip")
    torch.manual_seed(123)
    before = torch.rand(3)
    torch.manual_seed(123)
    loaded = load_model(path)
    assert torch.equal(torch.rand(3), before)  # loading leaves the global RNG alone
    np.testing.assert_array_equal(loaded.predict_proba(X), stager.predict_proba(X))
    np.testing.assert_array_equal(loaded.classes_, stager.classes_)
    assert loaded.estimator_.get_params()["lr"] == net.lr
    # a network saved with device="cuda" loads on a machine without CUDA, on the CPU
    if not torch.cuda.is_available():
        stager.estimator_.__dict__["_device_request"] = "cuda"
        cuda_path = stager.save(tmp_path / "cuda.zip")
        on_cpu = load_model(cuda_path)
        assert on_cpu.estimator_.device == "cpu"
        np.testing.assert_array_equal(on_cpu.predict_proba(X), loaded.predict_proba(X))


@pytest.mark.gpu
def test_network_trained_on_cuda_safe_format_loads_on_cpu(tmp_path):
    import subprocess
    import sys

    from sklearn_sleep.models import ULWSleepNetClassifier

    rng = np.random.default_rng(0)
    X = rng.normal(size=(24, 2, 300)).astype(np.float32)
    y = np.array(["W", "N2", "REM"] * 8)
    net = ULWSleepNetClassifier(max_epochs=1, batch_size=8, random_state=0, device="cuda")
    stager = SleepStager(net, ch_names=["EEG", "EOG"], sfreq=100, epoch_seconds=3).fit(X, y)
    path = stager.save(tmp_path / "cuda.zip")
    np.save(tmp_path / "X.npy", X)
    expected = stager.predict_proba(X)
    np.save(tmp_path / "expected.npy", expected)
    code = (
        "import sys, numpy as np; sys.path.insert(0, sys.argv[3]);"
        "from sklearn_sleep.persistence import load_model;"
        "m = load_model(sys.argv[1]); X = np.load(sys.argv[2]);"
        "print(m.estimator_.device);"
        "print(float(np.abs(m.predict_proba(X) - np.load(sys.argv[4])).max()))"
    )
    env = dict(os.environ, CUDA_VISIBLE_DEVICES="")
    out = subprocess.run([sys.executable, "-c", code, str(path), str(tmp_path / "X.npy"),
                          os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                          str(tmp_path / "expected.npy")], env=env, capture_output=True,
                         text=True, check=True, timeout=300).stdout.splitlines()
    assert out[0] == "cpu"
    assert float(out[1]) < 1e-4  # CPU vs CUDA kernels: close, not bit-identical


@pytest.mark.gpu
def test_network_trained_on_cuda_loads_on_cpu(tmp_path):
    import subprocess
    import sys

    X, y = make_data()
    stager = SleepStager(_tiny_net("cuda"), ch_names=CH, sfreq=SFREQ, epoch_seconds=EPOCH_S)
    stager.fit(X, y)
    path = stager.save(tmp_path / "cuda.joblib", format="pickle")
    np.save(tmp_path / "X.npy", X)
    expected = stager.predict(X)
    code = (
        "import sys, numpy as np; sys.path.insert(0, sys.argv[3]);"
        "from sklearn_sleep.persistence import load_model;"
        "m = load_model(sys.argv[1], trusted=True); X = np.load(sys.argv[2]);"
        "print(m.estimator_.device); print(','.join(m.predict(X)))"
    )
    env = dict(os.environ, CUDA_VISIBLE_DEVICES="")
    out = subprocess.run([sys.executable, "-c", code, str(path), str(tmp_path / "X.npy"),
                          os.path.dirname(__file__)], env=env, capture_output=True, text=True,
                         check=True, timeout=300).stdout.splitlines()
    assert out[0] == "cpu"
    assert out[1].split(",") == expected.tolist()


def test_bench_model_files_smoke(tmp_path):
    import importlib
    import json
    import sys
    from pathlib import Path

    bench_dir = Path(__file__).resolve().parents[1] / "benchmarks"
    if str(bench_dir) not in sys.path:
        sys.path.insert(0, str(bench_dir))
    bench = importlib.import_module("bench_model_files")
    payload = bench.main(["--smoke", "--out-dir", str(tmp_path)])
    rows = payload["rows"]
    assert [r["format"] for r in rows] == ["safe", "pickle"]
    assert all(r["identical_predict_proba"] for r in rows)
    assert json.loads((tmp_path / "model_files.json").read_text())["rows"] == rows


# ------------------------------------------------- review findings (stage names, metadata)
def test_ssc_network_safe_round_trip_keeps_stage_names(tmp_path):
    """SSC-SleepNet's loss finds N1 by stage name: the fitted stage names must be stored."""
    from sklearn_sleep.models import SSCSleepNetClassifier

    rng = np.random.default_rng(0)
    X = rng.normal(size=(20, 1, 3000)).astype(np.float32)
    y = np.array(["W", "N1", "N2", "N3", "REM"] * 4)
    net = SSCSleepNetClassifier(max_epochs=1, batch_size=10, random_state=0, device="cpu")
    stager = SleepStager(net, ch_names=["EEG"], sfreq=100, epoch_seconds=30).fit(X, y)
    loaded = load_model(stager.save(tmp_path / "ssc.zip"))
    assert loaded.estimator_.stage_names_ == ("N1", "N2", "N3", "REM", "W")
    assert loaded.estimator_.n_features_in_ == 1
    np.testing.assert_array_equal(loaded.predict_proba(X), stager.predict_proba(X))


def test_integer_keyed_stage_map_and_class_weight_round_trip(tmp_path):
    """Integer labels with an explicit stage_map / class_weight dict (as fit advises)."""
    from sklearn_sleep.models import ULWSleepNetClassifier

    rng = np.random.default_rng(1)
    X = rng.normal(size=(24, 2, 300)).astype(np.float32)
    y = np.array([0, 1, 4] * 8)
    stage_map = {0: "N1", 1: "N2", 4: "W"}
    weights = {0: 2.0, 1: 1.0, 4: 0.5}
    net = ULWSleepNetClassifier(max_epochs=1, batch_size=8, random_state=0, device="cpu",
                                stage_map=stage_map, class_weight=weights)
    stager = SleepStager(net, ch_names=["EEG", "EOG"], sfreq=100, epoch_seconds=3).fit(X, y)
    loaded = load_model(stager.save(tmp_path / "int.zip"))
    params = loaded.estimator_.get_params()
    assert params["stage_map"] == stage_map and params["class_weight"] == weights
    assert all(type(k) is int for k in params["stage_map"])
    np.testing.assert_array_equal(loaded.estimator_.class_weight_, [2.0, 1.0, 0.5])
    np.testing.assert_array_equal(loaded.predict_proba(X), stager.predict_proba(X))


def test_stager_passes_one_recording_to_recording_aware_estimators(tmp_path):
    """SleepStager(HMMSmoother(...)): X is one recording unless recordings= says otherwise."""
    pytest.importorskip("hmmlearn")
    from sklearn_sleep.smoothing import HMMSmoother

    X, y = make_data(n=90, seed=2)
    rec = np.repeat([0, 1, 2], 30)
    smoother = HMMSmoother(make_pipeline(FunctionTransformer(log_power), LogisticRegression()))
    stager = SleepStager(smoother, ch_names=CH, sfreq=SFREQ,
                         epoch_seconds=EPOCH_S).fit(X, y, recordings=rec)
    night = X[:30]
    expected = clone(smoother).fit(X, y, recordings=rec).predict(night, recordings=np.zeros(30))
    np.testing.assert_array_equal(stager.predict(night), expected)
    three = stager.predict(X, recordings=rec)
    np.testing.assert_array_equal(three[:30], stager.predict(X[:30]))
    np.testing.assert_allclose(stager.predict_proba(night).sum(axis=1), 1.0)
    with pytest.raises(ValueError, match="one id per epoch"):
        stager.predict(night, recordings=[0, 1])
    # a plain estimator ignores the ids
    plain = make_stager().fit(X, y)
    np.testing.assert_array_equal(plain.predict(X, recordings=rec), plain.predict(X))
