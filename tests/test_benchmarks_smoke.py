"""Smoke runs of the accuracy / protocol / overhead benchmark scripts (so they do not rot).

Each script is imported and its ``main(argv)`` run in ``--smoke`` mode, writing to
``tmp_path``; the written JSON is checked against the returned payload and, where
cheap, against an independent computation.
"""

import importlib
import json
import sys
from pathlib import Path

import numpy as np
import pytest

BENCH_DIR = Path(__file__).resolve().parents[1] / "benchmarks"


def _load(name):
    if str(BENCH_DIR) not in sys.path:
        sys.path.insert(0, str(BENCH_DIR))
    return importlib.import_module(name)


def _check_scores(scores):
    for key in ("accuracy", "macro_f1", "gmean"):
        assert 0.0 <= scores[key] <= 1.0
    assert -1.0 <= scores["kappa"] <= 1.0


# ----------------------------------------------------------------- helpers / published


def test_published_numbers_have_provenance():
    published = _load("published")
    assert published.published_for("ulw-sleepnet", "edf20")["accuracy"] == pytest.approx(0.869)
    assert published.published_for("bandpower-hgb", "edf20")["macro_f1"] == pytest.approx(0.810)
    mma = published.published_for("mmasleepnet", "edf20")  # NETWORKS.md 1.10, Table 3
    assert (mma["accuracy"], mma["macro_f1"], mma["kappa"]) == (0.8730, 0.8265, 0.8263)
    assert mma["tag"] == "PAPER"
    assert published.published_for("mmasleepnet", "edf78")["accuracy"] == pytest.approx(0.8267)
    assert published.published_for("mouse-cnn", "edf20") == {}
    for model, per_dataset in published.PUBLISHED.items():
        for dataset, entry in per_dataset.items():
            assert entry["tag"] in {"PAPER", "MEMORY", "CODE"}, (model, dataset)
            assert entry["source"]
            for key, value in entry.items():
                if key not in ("tag", "source"):
                    assert 0.0 < value < 1.0, (model, dataset, key)


def test_common_tables_and_json(tmp_path):
    common = _load("_common")
    md = common.markdown_table(["a", "b"], [["x", 0.12345], ["y", None]])
    assert md.splitlines()[2] == "| x | 0.123 |"
    assert md.splitlines()[3] == "| y | - |"
    path = common.write_json({"v": np.float32(0.5), "a": np.arange(3)}, "t", out_dir=tmp_path)
    assert json.loads(path.read_text()) == {"v": 0.5, "a": [0, 1, 2]}
    assert common.hardware_info()["cpu_count"] >= 1


# ------------------------------------------------------------------- Sleep-EDF features


def test_trim_wake_keeps_edges():
    feats = _load("bench_sleepedf_features")
    y = np.array(["W"] * 10 + ["N2", "W", "N3"] + ["W"] * 10)
    mask = feats.trim_wake(y, 2)
    assert mask.sum() == 3 + 2 + 2
    np.testing.assert_array_equal(np.flatnonzero(mask), np.arange(8, 15))
    assert feats.trim_wake(y, None).all()
    with pytest.raises(ValueError, match="without any sleep"):
        feats.trim_wake(np.array(["W", "W"]), 2)


def test_bench_sleepedf_features_smoke(shared_data, tmp_path):
    feats = _load("bench_sleepedf_features")
    payload = feats.main(["--smoke", "--classifiers", "logreg", "--samplers", "none", "rus",
                          "--out-dir", str(tmp_path)])
    written = json.loads((tmp_path / "sleepedf_features_smoke.json").read_text())
    assert (tmp_path / "sleepedf_features_smoke.md").is_file()
    assert set(written["results"]) == {
        "majority", "LogisticRegression", "LogisticRegression + RandomUnderSampler"}
    assert written["n_folds"] == 2 and written["wake_trim_minutes"] == 30
    # raw files are whole recordings (mostly wake); trimming must reduce the wake share
    assert written["wake_share_raw"] > 0.5 > written["wake_share_used"]
    for res in written["results"].values():
        _check_scores(res["pooled"])
        assert len(res["per_fold"]["macro_f1"]) == 2
    # pooled metrics == cross_val_predict with the same data, pipeline and folds
    from sklearn.model_selection import GroupKFold, cross_val_predict

    from sklearn_sleep.metrics import sleep_scores

    X, y, groups, _ = feats.load_features(shared_data / "sleepedf_features", wake_trim=60,
                                          subjects=[0, 1, 2, 3], max_per_recording=200)
    assert len(y) == payload["n_epochs"]
    pred = cross_val_predict(feats.make_pipeline("logreg", "none", smoke=True), X, y,
                             groups=groups, cv=GroupKFold(2))
    expected = sleep_scores(y, pred, labels=["W", "N1", "N2", "N3", "REM"])
    got = written["results"]["LogisticRegression"]["pooled"]
    for key in ("accuracy", "macro_f1", "kappa", "gmean", "f1_N1"):
        assert got[key] == pytest.approx(expected[key])
    assert written["results"]["majority"]["pooled"]["kappa"] == pytest.approx(0.0)


def test_bench_sleepedf_features_train_test_dirs(shared_data, tmp_path):
    """--train-dir/--test-dir: fit on one folder's nights, score the other's; context rows."""
    feats = _load("bench_sleepedf_features")
    src = shared_data / "sleepedf_features"
    train_dir, test_dir = tmp_path / "train", tmp_path / "test"
    train_dir.mkdir()
    test_dir.mkdir()
    for name in ("SC4001E0.npz", "SC4011E0.npz"):
        (train_dir / name).symlink_to(src / name)
    (test_dir / "SC4021E0.npz").symlink_to(src / "SC4021E0.npz")
    payload = feats.main(["--smoke", "--classifiers", "logreg", "ctx-hgb", "--samplers",
                          "none", "--train-dir", str(train_dir), "--test-dir", str(test_dir),
                          "--out-dir", str(tmp_path)])
    written = json.loads((tmp_path / "sleepedf_features_smoke_train_test.json").read_text())
    entries = {e["pipeline"]: e for e in written["pipelines"]}
    assert set(entries) == {"majority", "LogisticRegression",
                            "ContextFeatures + HistGradientBoosting", feats.RECOMMENDED}
    assert [e["pipeline"] for e in written["pipelines"] if e["recommended"]] == [feats.RECOMMENDED]
    for e in entries.values():
        assert set(e) == {"pipeline", "accuracy", "macro_f1", "kappa", "n1_f1", "recommended"}
    assert written["train_test"]["n_test_epochs"] == 200
    # independent computation: fit on the training folder, score the test folder
    from sklearn_sleep.metrics import sleep_scores

    X, y, _, _ = feats.load_features(train_dir, wake_trim=60, max_per_recording=200)
    Xt, yt, _, _ = feats.load_features(test_dir, wake_trim=60, max_per_recording=200)
    pred = feats.make_pipeline("logreg", "none", smoke=True).fit(X, y).predict(Xt)
    expected = sleep_scores(yt, pred, labels=["W", "N1", "N2", "N3", "REM"])
    assert entries["LogisticRegression"]["kappa"] == pytest.approx(expected["kappa"])
    assert entries["LogisticRegression"]["n1_f1"] == pytest.approx(expected["f1_N1"])
    assert payload["results"][feats.RECOMMENDED]["hmm"] is True
    with pytest.raises(ValueError, match="go together"):
        feats.main(["--smoke", "--train-dir", str(train_dir)])


# --------------------------------------------------------------------- skorch overhead


def test_bench_skorch_overhead_smoke(tmp_path):
    overhead = _load("bench_skorch_overhead")
    payload = overhead.main(["--smoke", "--models", "standin", "--out-dir", str(tmp_path)])
    (res,) = payload["results"]
    assert res["standin"] and res["n_batches"] == 3 and res["batch_size"] == 8
    # 2 repeats x (2 epochs - 1 warm-up epoch) timed epochs per side
    assert len(res["plain_epoch_s"]) == len(res["skorch_epoch_s"]) == 2
    ratio = res["skorch_epoch_median_s"] / res["plain_epoch_median_s"]
    assert res["overhead_epoch_pct"] == pytest.approx(100 * (ratio - 1))
    assert json.loads((tmp_path / "skorch_overhead_smoke.json").read_text())["device"] == "cpu"


def test_overhead_signal_kwargs_follow_the_constructor():
    overhead = _load("bench_skorch_overhead")
    kwargs = overhead.signal_kwargs(overhead.StandInCNN, 4, 3000, 5, 100.0)
    assert kwargs == {"n_chans": 4, "n_times": 3000, "n_classes": 5}


# ----------------------------------------------------------------- synthetic networks


def test_bench_synthetic_networks_smoke(tmp_path):
    synth = _load("bench_synthetic_networks")
    payload = synth.main(["--smoke", "--models", "ulw-sleepnet", "mouse-cnn", "--threads", "1",
                          "--device", "cpu", "--out-dir", str(tmp_path)])
    assert set(payload["results"]) == {"ulw-sleepnet", "mouse-cnn"}
    assert payload["results"]["ulw-sleepnet"]["input_shape"] == [4, 3000]
    assert payload["results"]["mouse-cnn"]["input_shape"] == [2, 512]
    for res in payload["results"].values():
        _check_scores(res["pooled"])
        assert len(res["per_fold"]["accuracy"]) == 2
    assert (tmp_path / "synthetic_networks_smoke.md").is_file()


# ----------------------------------------------------------------------------- DREAMS


def test_bench_dreams_smoke(shared_data, tmp_path):
    dreams = _load("bench_dreams")
    payload = dreams.main(["--smoke", "--models", "bandpower-hgb", "ulw-sleepnet",
                           "--threads", "1", "--device", "cpu", "--out-dir", str(tmp_path)])
    assert payload["n_epochs"] == 3 * 20  # 3 excerpts x 20 sampled epochs
    assert "REM" not in payload["labels"]
    for res in payload["results"].values():
        _check_scores(res["pooled"])
        assert len(res["per_fold"]["accuracy"]) == 3  # leave-one-excerpt-out
        assert sum(res["predicted_counts"].values()) == payload["n_epochs"]


def test_bench_dreams_train_test_excerpts(shared_data, tmp_path):
    dreams = _load("bench_dreams")
    payload = dreams.main(["--smoke", "--models", "bandpower-hgb", "bandpower-context-hgb-hmm",
                           "--train-excerpts", "1", "2", "--test-excerpts", "3",
                           "--out-dir", str(tmp_path)])
    written = json.loads((tmp_path / "dreams_smoke_train_test.json").read_text())
    assert [e["pipeline"] for e in written["pipelines"]] == [
        dreams._NAMES["bandpower-hgb"], dreams._NAMES["bandpower-context-hgb-hmm"]]
    for res in payload["results"].values():
        _check_scores(res["pooled"])
        assert len(res["per_fold"]["accuracy"]) == 1
        assert sum(res["predicted_counts"].values()) == 20  # excerpt 3's 20 sampled epochs
    with pytest.raises(ValueError, match="overlap"):
        dreams.main(["--smoke", "--train-excerpts", "1", "--test-excerpts", "1"])


# ------------------------------------------------------------------ Sleep-EDF protocol


def test_subject_folds_and_permutations():
    proto = _load("sleep_edf_protocol")
    folds = proto.subject_folds(range(20), 20, proto.MMASLEEPNET_PERMUTATIONS["edf20"])
    assert [f[0] for f in folds] == proto.MMASLEEPNET_PERMUTATIONS["edf20"]
    folds78 = proto.subject_folds(proto.EDF78_SUBJECTS, 10, proto.MMASLEEPNET_PERMUTATIONS["edf78"])
    assert len(folds78) == 10 and {len(f) for f in folds78} == {7, 8}
    assert sorted(s for f in folds78 for s in f) == list(proto.EDF78_SUBJECTS)
    assert 39 not in proto.EDF78_SUBJECTS and len(proto.EDF78_SUBJECTS) == 78
    assert proto.subject_folds([3, 1, 2, 0], 2) == [[0, 1], [2, 3]]
    with pytest.raises(ValueError, match="n_folds"):
        proto.subject_folds([0, 1], 3)
    with pytest.raises(ValueError, match="permutation"):
        proto.subject_folds([0, 1, 2], 3, [0, 1])


@pytest.fixture(scope="module")
def fake_sleep_edf(tmp_path_factory):
    pytest.importorskip("edfio")
    from sklearn_sleep.datasets._edf_io import _write_sleep_edf_like

    folder = tmp_path_factory.mktemp("sleep_edf")
    for subject in range(4):
        _write_sleep_edf_like(folder, subject=subject, night=1, hours=0.5, seed=subject)
    return folder


@pytest.mark.filterwarnings("ignore:Sleep-EDF recordings not found")
def test_sleep_edf_protocol_smoke(fake_sleep_edf, tmp_path):
    proto = _load("sleep_edf_protocol")
    payload = proto.main(["--data-dir", str(fake_sleep_edf), "--dataset", "edf20",
                          "--subjects", "0", "1", "2", "3", "--model", "bandpower-hgb",
                          "--smoke", "--out-dir", str(tmp_path)])
    assert payload["subjects"] == [0, 1, 2, 3]
    assert payload["folds"] == [[0, 1], [2, 3]]
    assert payload["reduced"] is True
    assert sum(f["n_test"] for f in payload["per_fold"]) == payload["n_epochs"]
    assert all(f["n_train"] <= 2 * 50 for f in payload["per_fold"])  # subsampled training
    _check_scores(payload["pooled"])
    assert payload["published"]["macro_f1"] == pytest.approx(0.810)
    md = (tmp_path / "sleep_edf_protocol_edf20_bandpower-hgb_smoke.md").read_text()
    assert "published [PAPER]" in md


@pytest.mark.filterwarnings("ignore:Sleep-EDF recordings not found")
def test_sleep_edf_protocol_network_smoke(fake_sleep_edf, tmp_path):
    proto = _load("sleep_edf_protocol")
    payload = proto.main(["--data-dir", str(fake_sleep_edf), "--subjects", "0", "1", "2",
                          "--model", "ssc-sleepnet", "--smoke", "--folds", "3",
                          "--max-train-epochs-per-recording", "16", "--threads", "1",
                          "--device", "cpu", "--out-dir", str(tmp_path)])
    assert payload["folds"] == [[0], [1], [2]]
    assert payload["published"]["f1_N1"] == pytest.approx(0.602)
    _check_scores(payload["pooled"])


def test_sleep_edf_protocol_rejects_foreign_subjects(fake_sleep_edf, tmp_path):
    proto = _load("sleep_edf_protocol")
    with pytest.raises(ValueError, match="not part of edf20"):
        proto.main(["--data-dir", str(fake_sleep_edf), "--subjects", "25", "--smoke",
                    "--out-dir", str(tmp_path)])


# ------------------------------------------------------------------ network cost


def test_bench_networks_smoke(tmp_path):
    bench = _load("bench_networks")
    payload = bench.main(["--smoke", "--device", "cpu", "--out-dir", str(tmp_path)])
    written = json.loads((tmp_path / "networks_smoke.json").read_text())
    assert (tmp_path / "networks_smoke.md").is_file()
    # trainable parameters: the counts asserted by the model tests
    expected = {
        "MMASleepNet": 1_604_229, "MASleepNet": 1_551_249, "ULW-SleepNet": 13_337,
        "SSC-SleepNet": 1_335_713, "MouseCNN": 480_532, "MouseCNNAttention": 568_340,
        "MouseTransformer": 2_459_139, "SlumberNet": 5_338_931,
    }
    assert {name: e["params"] for name, e in written["networks"].items()} == expected
    assert written["networks"]["ULW-SleepNet"]["input"] == [4, 3000]
    assert written["networks"]["SSC-SleepNet"]["input"] == [1, 3000]
    assert written["smoke"] is True and written["hardware"]["cpu_count"] >= 1
    for name, e in written["networks"].items():
        assert e["macs_per_epoch"] == sum(e["macs_by_op"].values()) > 0, name
        assert e["flops_per_epoch"] == 2 * e["macs_per_epoch"]
        assert e["cpu_train"]["epochs_per_s"] > 0 and e["cpu_peak_rss_mb"] > 0
        inf = e["cpu_inference"]
        assert inf["scaled"] and inf["night_epochs"] == 1000  # --smoke extrapolates
        assert inf["seconds_per_night"] == pytest.approx(
            inf["seconds_timed"] * 1000 / inf["epochs_timed"])
        assert "cuda_train_fp32" not in e
    # analytic terms where FlopCounterMode sees nothing (LSTM gates, CPU attention kernel)
    assert "lstm gates (analytic)" in written["networks"]["MASleepNet"]["macs_by_op"]
    assert "attention QK^T, AV (analytic)" in written["networks"]["MouseTransformer"]["macs_by_op"]
    assert payload["networks"]["MouseCNN"]["params"] == expected["MouseCNN"]


def test_count_macs_lstm_and_attention():
    common = _load("_common")
    from torch import nn

    # 2-layer bidirectional LSTM, I=8, H=16, 10 steps: 10*2*4*16*(8+16) + 10*2*4*16*(32+16)
    total, by_op = common.count_macs(nn.LSTM(8, 16, num_layers=2, bidirectional=True,
                                             batch_first=True), (10, 8))
    assert total == by_op["lstm gates (analytic)"] == 92_160
    # one linear layer: in*out MACs per epoch, nothing analytic
    total, by_op = common.count_macs(nn.Sequential(nn.Flatten(), nn.Linear(6, 3)), (2, 3))
    assert total == 18 and not any("analytic" in k for k in by_op)


# ------------------------------------------------------------------ one night, one thread


def test_bench_night_smoke(tmp_path):
    bench = _load("bench_night")
    bench.main(["--smoke", "--out-dir", str(tmp_path)])
    written = json.loads((tmp_path / "night_smoke.json").read_text())
    assert (tmp_path / "night_smoke.md").is_file()
    ratio = written["ulw_vs_band_power_hgb"]
    assert ratio["max_abs_diff_fast_vs_reference"] < 1e-4
    for clock in ("wall", "cpu"):
        runs = ratio["runs"]
        expected = np.median(np.asarray(runs["ULW-SleepNet"][clock])
                             / np.asarray(runs["band power + HGB"][clock]))
        assert ratio[f"ratio_{clock} ULW-SleepNet / band power + HGB"] == pytest.approx(expected)
    assert list(written["networks"]) == ["ULW-SleepNet"]
    assert written["networks"]["ULW-SleepNet"]["peak_rss_mb"] > 0
