"""Smoke test of ``benchmarks/bench_loading.py`` (tiny, in-process)."""

import importlib.util
import json
from pathlib import Path

import pytest

pytest.importorskip("edfio")

BENCH = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_loading.py"


def _load_module():
    spec = importlib.util.spec_from_file_location("bench_loading", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_bench_loading_smoke(tmp_path):
    bench = _load_module()
    payload = bench.main(["--smoke", "--out-dir", str(tmp_path)])
    written = json.loads((tmp_path / "loading_smoke.json").read_text())
    assert written["smoke"] is True and written["benchmark"] == "loading"
    by_method = {r["method"]: r for r in payload["results"]}
    assert set(by_method) == {"ours_n1", "mne"}
    ours, mne_ = by_method["ours_n1"], by_method["mne"]
    # same epochs as the MNE recipe: same count and the same EEG samples
    assert ours["n_epochs"] == mne_["n_epochs"] > 0
    assert ours["shape"] == [ours["n_epochs"], 4, 3000]
    assert ours["eeg_checksum"] == pytest.approx(mne_["eeg_checksum"], rel=1e-6, abs=1e-3)
    for r in payload["results"]:
        assert r["seconds"] > 0 and r["array_mb"] > 0 and r["seconds_per_recording_hour"] > 0
