"""Memory: smoke run of benchmarks/bench_memory.py and the chunked band-power path."""

import importlib
import json
import sys
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parents[1] / "benchmarks"


def test_bench_memory_smoke(tmp_path):
    if str(BENCH_DIR) not in sys.path:
        sys.path.insert(0, str(BENCH_DIR))
    bench = importlib.import_module("bench_memory")
    payload = bench.main(["--smoke", "--out-dir", str(tmp_path)])
    rows = {r["mode"]: r for r in payload["rows"]}
    assert set(rows) == {"before", "after"}
    # chunking changes memory, never the result
    assert rows["before"]["proba_checksum"] == rows["after"]["proba_checksum"]
    for r in rows.values():
        assert r["n_epochs"] == 60 and r["peak_mb"] >= r["base_mb"] > 0
        assert abs(r["X_mb"] - 60 * 4 * 3000 * 4 / 2 ** 20) < 1e-9
    saved = json.loads((tmp_path / "memory.json").read_text())
    assert [r["mode"] for r in saved["rows"]] == ["before", "after"]
    assert (tmp_path / "memory.md").read_text().startswith("# Peak memory")


def test_chunked_band_power_equals_single_pass(monkeypatch):
    import numpy as np

    from sklearn_sleep.features import BandPowerFeatures, _spectral

    rng = np.random.default_rng(0)
    X = (20 * rng.standard_normal((37, 2, 3000))).astype(np.float32)
    est = BandPowerFeatures(sfreq=100, include_stats=True).fit(X)
    monkeypatch.setattr(_spectral, "_CHUNK_VALUES", 10 ** 12)
    single = est.transform(X)
    for chunk_values in (6000, 6001 * 5, 1):  # 1, 5 and 1 epoch(s) per chunk
        monkeypatch.setattr(_spectral, "_CHUNK_VALUES", chunk_values)
        np.testing.assert_array_equal(est.transform(X), single)
    # and one epoch at a time, computed independently of the chunk loop
    np.testing.assert_array_equal(
        np.concatenate([est.transform(X[k:k + 1]) for k in range(len(X))]), single)
