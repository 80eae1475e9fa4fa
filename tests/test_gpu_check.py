"""The one-command GPU check (benchmarks/gpu_check.py): output format, checked on the CPU.

The figures of a CPU smoke run mean nothing; what is checked is that every section runs,
that its results land in the JSON and the markdown report with the keys the CUDA run
fills, and that the pytest summary parser reads pytest's closing lines.
"""

import importlib
import json
import sys
from pathlib import Path

import pytest

BENCH_DIR = Path(__file__).resolve().parents[1] / "benchmarks"


def _gpu_check():
    if str(BENCH_DIR) not in sys.path:
        sys.path.insert(0, str(BENCH_DIR))
    return importlib.import_module("gpu_check")


@pytest.mark.parametrize(
    "text, expected",
    [
        ("....\n3 passed, 1 skipped in 2.01s\n", {"passed": 3, "skipped": 1}),
        ("F.\n=== 1 failed, 1 passed, 2 deselected in 0.5s ===", {"failed": 1, "passed": 1,
                                                                  "deselected": 2}),
        ("E\n1 error in 0.1s", {"errors": 1}),
        ("x\n10/1228 tests collected (1218 deselected) in 4.2s",
         {"collected": 10, "deselected": 1218}),
        ("nothing useful here", {}),
    ],
)
def test_parse_pytest_summary(text, expected):
    assert _gpu_check().parse_pytest_summary(text) == expected


def test_cpu_smoke_run_writes_every_section(tmp_path):
    gpu_check = _gpu_check()
    results = gpu_check.main(["--device", "cpu", "--smoke", "--networks", "ULW-SleepNet",
                              "MouseCNN", "--out-dir", str(tmp_path)])
    saved = json.loads((tmp_path / "gpu_check_smoke.json").read_text())
    assert set(saved["sections"]) == set(gpu_check.SECTIONS)
    for name, section in saved["sections"].items():
        assert "error" not in section, (name, section)
        assert "skipped" not in section, name
    assert saved["sections"]["gpu_tests"]["returncode"] == 0
    assert saved["sections"]["gpu_tests"]["counts"]["collected"] >= 8  # one per network+
    tp = saved["sections"]["throughput"]
    for net in ("ULW-SleepNet", "MouseCNN"):
        for precision in ("fp32", "bf16"):
            entry = tp[net][precision]
            assert entry["epochs_per_s"] > 0
            assert entry["epochs_per_s"] == pytest.approx(entry["epochs"] / entry["seconds"])
            assert {"max_memory_allocated_mb", "gpu_util_mean_pct"} <= set(entry)
    sweep = saved["sections"]["mmasleepnet_batch_sweep"]
    assert [r["batch_size"] for r in sweep["rows"]] == [4, 8]
    assert sweep["best_epochs_per_s"] == max(r["epochs_per_s"] for r in sweep["rows"])
    assert sweep["goal_met"] is None  # no verdict on the CPU
    reload = saved["sections"]["cuda_to_cpu_reload"]
    assert reload["ok"] and reload["max_abs_diff_proba"] <= reload["tolerance"]
    md = (tmp_path / "gpu_check_smoke.md").read_text()
    assert "smoke run on CPU" in md
    assert "| ULW-SleepNet | 4x3000 |" in md and "MMASleepNet bf16 batch-size sweep" in md
    assert results["sections"].keys() == saved["sections"].keys()


def test_budget_skips_remaining_sections(tmp_path):
    gpu_check = _gpu_check()
    saved = gpu_check.main(["--device", "cpu", "--smoke", "--budget-s", "0", "--networks",
                            "MouseCNN", "--out-dir", str(tmp_path)])
    assert all(s.get("skipped") == "budget" for s in saved["sections"].values())
    assert "Total wall time" in (tmp_path / "gpu_check_smoke.md").read_text()


def test_cuda_device_refused_without_cuda():
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("a CUDA device is present")
    with pytest.raises(SystemExit):
        _gpu_check().main(["--device", "cuda"])
