"""Tests of the ``sklearn-sleep`` command line (in-process ``main([...])``)."""

import datetime
import json
import subprocess
import sys

import numpy as np
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin

from sklearn_sleep.cli import main
from sklearn_sleep.datasets import make_synthetic_psg
from sklearn_sleep.hypnogram import read_hypnogram_csv, write_hypnogram_csv

edfio = pytest.importorskip("edfio")

RK = {"W": "Sleep stage W", "N1": "Sleep stage 1", "N2": "Sleep stage 2",
      "N3": "Sleep stage 3", "REM": "Sleep stage R"}


def _write_edf(path, signals, sfreq, ch_names):
    edf_signals = [
        edfio.EdfSignal(np.asarray(sig, dtype=float), sfreq, label=name,
                        physical_dimension="uV")
        for sig, name in zip(signals, ch_names)
    ]
    edfio.Edf(edf_signals, starttime=datetime.time(23, 0, 0)).write(path)


def _write_sleep_edf_hypnogram(path, stages, tail_unscored=True):
    annotations, i = [], 0
    while i < len(stages):
        j = i
        while j < len(stages) and stages[j] == stages[i]:
            j += 1
        annotations.append(edfio.EdfAnnotation(30.0 * i, 30.0 * (j - i), RK[stages[i]]))
        i = j
    if tail_unscored:
        annotations.append(edfio.EdfAnnotation(30.0 * len(stages), 600.0, "Sleep stage ?"))
    edfio.Edf([], starttime=datetime.time(23, 0, 0), annotations=annotations).write(path)


@pytest.fixture(scope="module")
def synthetic_nights():
    return make_synthetic_psg(3, 60, random_state=3, return_continuous=True)


@pytest.fixture(scope="module")
def sleep_edf_folder(tmp_path_factory, synthetic_nights):
    """Three Sleep-EDF-named nights: subjects 0, 1 in train/, subject 2 in test/."""
    root = tmp_path_factory.mktemp("sleepedf")
    (root / "train").mkdir()
    (root / "test").mkdir()
    d = synthetic_nights
    for k, (sig, labels) in enumerate(zip(d.signals, d.labels)):
        folder = root / ("test" if k == 2 else "train")
        _write_edf(folder / f"SC40{k}1E0-PSG.edf", sig, d.sfreq, d.ch_names)
        _write_sleep_edf_hypnogram(folder / f"SC40{k}1EC-Hypnogram.edf", list(labels))
    return root


@pytest.fixture(scope="module")
def trained_model(sleep_edf_folder, tmp_path_factory):
    out = tmp_path_factory.mktemp("model") / "model.joblib"
    assert main(["train", str(sleep_edf_folder / "train"), "--out", str(out), "--quiet"]) == 0
    return out


def _last_error_line(capsys):
    err = capsys.readouterr().err.strip().splitlines()
    assert err, "nothing on stderr"
    assert err[-1].startswith("sklearn-sleep: error: ")
    assert "Traceback" not in "\n".join(err)
    return err[-1]


# -------------------------------------------------------------------------------- demo
def test_demo_quick_in_process(tmp_path, capsys):
    out_json = tmp_path / "demo.json"
    assert main(["demo", "--quick", "--quiet", "--json", str(out_json)]) == 0
    out = capsys.readouterr().out
    assert "GroupKFold(n_splits=3)" in out
    assert "mean ± sd" in out and "per-class F1" in out and "confusion matrix" in out
    res = json.loads(out_json.read_text())
    folds = res["folds"]
    assert len(folds) == 3
    subjects = [s for f in folds for s in f["test_subjects"]]
    assert sorted(subjects) == [0, 1, 2]  # subject-wise: every subject tested exactly once
    assert sum(f["n_test"] for f in folds) == res["n_epochs"] == 180
    for name in ("accuracy", "macro_f1", "kappa", "gmean"):
        values = [f[name] for f in folds]
        assert res["mean"][name] == pytest.approx(np.mean(values))
        assert res["sd"][name] == pytest.approx(np.std(values, ddof=1))
    cm = np.asarray(res["confusion_matrix"]["counts"])
    assert cm.sum() == 180
    assert res["pooled"]["accuracy"] == pytest.approx(np.trace(cm) / cm.sum())
    assert res["confusion_matrix"]["labels"] == ["W", "N1", "N2", "N3", "REM"]
    assert res["pooled"]["accuracy"] > 0.6  # far above the 0.2 of chance


def test_demo_subprocess_python_m():
    proc = subprocess.run([sys.executable, "-m", "sklearn_sleep", "demo", "--quick"],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "mean ± sd" in proc.stdout and "Pooled over folds" in proc.stdout


@pytest.mark.parametrize(
    "argv, message",
    [
        (["demo", "--folds", "1"], "--folds must be between 2"),
        (["demo", "--n-subjects", "1"], "at least 2"),
        (["stage", "night.edf", "--out", "h.csv"], "a trained model is needed"),
        (["evaluate", "missing.csv", "ref.csv"], "missing.csv"),
        (["train", "no_such_folder", "--out", "m.joblib"], "data folder not found"),
    ],
)
def test_bad_input_one_line_exit_2(argv, message, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    assert message in _last_error_line(capsys)


def test_usage_errors_version_and_help(capsys):
    assert main(["no-such-command"]) == 2
    assert main([]) == 2
    assert main(["--version"]) == 0
    assert "sklearn-sleep" in capsys.readouterr().out
    assert main(["demo", "--help"]) == 0


# ----------------------------------------------------------- train / stage / evaluate
def test_train_stage_evaluate_sleep_edf(sleep_edf_folder, trained_model, tmp_path, capsys):
    from sklearn_sleep.persistence import SleepStager, load_model

    stager = load_model(trained_model)
    assert isinstance(stager, SleepStager)
    assert stager.ch_names_ == ["EEG Fpz-Cz", "EEG Pz-Oz", "EOG horizontal", "EMG submental"]
    assert stager.sfreq_ == 100.0 and stager.epoch_seconds_ == 30.0

    psg = sleep_edf_folder / "test" / "SC4021E0-PSG.edf"
    hyp_csv, proba_csv, png = tmp_path / "hyp.csv", tmp_path / "proba.csv", tmp_path / "n.png"
    assert main(["stage", str(psg), "--model", str(trained_model), "--out", str(hyp_csv),
                 "--proba", str(proba_csv), "--plot", str(png), "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "sleep statistics" in out
    pred = read_hypnogram_csv(hyp_csv)
    assert len(pred.stage) == 60 and pred.epoch_seconds == 30.0 and pred.proba is None
    proba = read_hypnogram_csv(proba_csv)
    assert proba.classes == ["W", "N1", "N2", "N3", "REM"]
    np.testing.assert_allclose(proba.proba.sum(axis=1), 1.0, atol=1e-5)
    np.testing.assert_array_equal(np.asarray(proba.classes)[proba.proba.argmax(1)], pred.stage)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 5000
    assert sorted(p.name for p in tmp_path.iterdir()) == ["hyp.csv", "n.png", "proba.csv"]

    # evaluate against the EDF+ hypnogram (its trailing 'Sleep stage ?' is ignored)
    report = tmp_path / "eval.json"
    ref = sleep_edf_folder / "test" / "SC4021EC-Hypnogram.edf"
    assert main(["evaluate", str(hyp_csv), str(ref), "--json", str(report)]) == 0
    out = capsys.readouterr().out
    assert "kappa" in out and "reference" in out and "Lat_REM" in out
    res = json.loads(report.read_text())
    truth = np.asarray(make_synthetic_psg(3, 60, random_state=3).y[120:])
    assert res["n_epochs"] == 60
    assert res["scores"]["accuracy"] == pytest.approx(np.mean(truth == pred.stage))
    assert res["scores"]["accuracy"] > 0.6  # unseen subject, 5 classes
    assert res["statistics"]["reference"]["TST"] == pytest.approx(
        np.sum(truth != "W") * 0.5)


def test_stage_errors(sleep_edf_folder, trained_model, tmp_path, capsys, synthetic_nights):
    d = synthetic_nights
    night = tmp_path / "three.edf"
    _write_edf(night, d.signals[2][:3], d.sfreq, d.ch_names[:3])  # no EMG
    out = tmp_path / "h.csv"
    assert main(["stage", str(night), "--model", str(trained_model), "--out", str(out)]) == 2
    assert "EMG submental" in _last_error_line(capsys)
    assert not out.exists()
    bad_model = tmp_path / "bad.joblib"
    bad_model.write_bytes(trained_model.read_bytes()[:200])
    psg = sleep_edf_folder / "test" / "SC4021E0-PSG.edf"
    assert main(["stage", str(psg), "--model", str(bad_model), "--out", str(out)]) == 2
    assert "bad.joblib" in _last_error_line(capsys)
    assert not out.exists()


def test_stage_resamples_to_model_rate(trained_model, tmp_path, capsys):
    d = make_synthetic_psg(1, 20, sfreq=200, random_state=5, return_continuous=True)
    night = tmp_path / "night200.edf"
    _write_edf(night, d.signals[0], 200.0, d.ch_names)
    out = tmp_path / "h.csv"
    assert main(["stage", str(night), "--model", str(trained_model), "--out", str(out),
                 "--quiet"]) == 0
    assert "resampled from 200 Hz to 100 Hz" in capsys.readouterr().err
    assert len(read_hypnogram_csv(out).stage) == 20


def test_train_edf_labels_format_and_csv_evaluate(tmp_path, capsys):
    d = make_synthetic_psg(2, 40, preset="mouse", epoch_seconds=4, sfreq=128, random_state=1,
                           return_continuous=True)
    data = tmp_path / "data"
    data.mkdir()
    for k, (sig, labels) in enumerate(zip(d.signals, d.labels)):
        _write_edf(data / f"mouse{k}.edf", sig, d.sfreq, d.ch_names)
        if k == 0:
            (data / f"mouse{k}.txt").write_text("\n".join(labels) + "\n")
        else:  # a hypnogram CSV as written by `stage` also works as labels
            write_hypnogram_csv(data / f"mouse{k}.csv", labels, epoch_seconds=4)
    model = tmp_path / "mouse.joblib"
    assert main(["train", str(data), "--format", "edf-labels", "--epoch-seconds", "4",
                 "--out", str(model), "--quiet"]) == 0
    assert "2 recording(s)" in capsys.readouterr().out
    pred = tmp_path / "pred.csv"
    assert main(["stage", str(data / "mouse1.edf"), "--model", str(model), "--out", str(pred),
                 "--quiet"]) == 0
    assert read_hypnogram_csv(pred).epoch_seconds == 4.0
    # evaluate a CSV against itself: perfect agreement, identical statistics
    ref = data / "mouse1.csv"
    report = tmp_path / "self.json"
    assert main(["evaluate", str(ref), str(ref), "--json", str(report)]) == 0
    res = json.loads(report.read_text())
    assert res["scores"]["accuracy"] == 1.0 and res["scores"]["kappa"] == pytest.approx(1.0)
    assert res["statistics"]["reference"] == res["statistics"]["predicted"]
    assert res["statistics"]["reference"]["stages"] == ["W", "NREM", "REM"]

    (data / "mouse1.csv").unlink()
    assert main(["train", str(data), "--format", "edf-labels", "--epoch-seconds", "4",
                 "--out", str(model)]) == 2
    assert "no label file" in _last_error_line(capsys)


class _LeastLikely(ClassifierMixin, BaseEstimator):
    """A classifier whose ``predict`` is NOT the argmax of its ``predict_proba``."""

    def __init__(self, base):
        self.base = base

    def fit(self, X, y):
        self.base.fit(X, y)
        self.classes_ = self.base.classes_
        return self

    def predict_proba(self, X):
        return self.base.predict_proba(X)

    def predict(self, X):
        return self.classes_[np.argmin(self.predict_proba(X), axis=1)]


def test_stage_hypnogram_is_the_models_predict(tmp_path, capsys, synthetic_nights):
    """``stage --out`` holds the model's own predict (e.g. an HMM's Viterbi path), never
    the argmax of the probabilities written beside it."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from sklearn_sleep.cli import _read_recording
    from sklearn_sleep.features import BandPowerFeatures
    from sklearn_sleep.persistence import SleepStager, load_model

    d = synthetic_nights
    X, y, _ = make_synthetic_psg(3, 60, random_state=3, return_X_y=True)
    model = make_pipeline(BandPowerFeatures(sfreq=d.sfreq), StandardScaler(),
                          _LeastLikely(LogisticRegression(max_iter=2000)))
    stager = SleepStager(model, ch_names=d.ch_names, sfreq=d.sfreq, epoch_seconds=30).fit(X, y)
    model_path = stager.save(tmp_path / "m.joblib", format="pickle")
    edf = tmp_path / "night.edf"
    _write_edf(edf, d.signals[2], d.sfreq, d.ch_names)
    out, proba = tmp_path / "h.csv", tmp_path / "p.csv"
    assert main(["stage", str(edf), "--model", str(model_path), "--trusted-model", "--out",
                 str(out), "--proba", str(proba), "--quiet"]) == 0
    loaded = load_model(model_path, trusted=True)
    X_night, _ = _read_recording(edf, loaded, True)
    expected = loaded.predict(X_night)
    written = read_hypnogram_csv(out).stage
    np.testing.assert_array_equal(np.asarray(written, dtype=str), expected.astype(str))
    # the probabilities are still the model's, and their argmax differs from the hypnogram
    p = read_hypnogram_csv(proba)
    cols = [c for c in p.columns if c.startswith("p_")] if hasattr(p, "columns") else None
    assert (np.asarray(written, dtype=str) != loaded.classes_[
        np.argmax(loaded.predict_proba(X_night), axis=1)].astype(str)).any()
    assert cols is None or len(cols) == len(loaded.classes_)
