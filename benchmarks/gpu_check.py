"""One-command GPU check: CUDA tests, training throughput, memory, CUDA -> CPU reload.

Run it whenever a CUDA device is available (about 5-8 minutes on one H100/H200)::

    bash benchmarks/gpu_check.sh             # installs carried wheels if any, then this
    python benchmarks/gpu_check.py           # the same, in a ready environment

and commit ``benchmarks/results/gpu_check.json`` / ``gpu_check.md``. Sections, each
guarded so that a failure is recorded (``"error"``) instead of ending the run, and each
skipped (``"skipped": "budget"``) once ``--budget-s`` (default 480 s) is spent:

1. ``environment``: torch / CUDA versions, device name, capability, bf16 support,
   ``nvidia-smi`` driver line.
2. ``gpu_tests``: ``python -m pytest -m gpu`` (the ``gpu``-marked tests), with its
   passed / failed / skipped counts. With ``--smoke`` (CPU format check) the tests are
   only collected.
3. ``throughput``: for every network of ``bench_networks.NETWORKS``, one timed training
   epoch through its scikit-learn classifier (default batch size, random data, the
   protocol of ``bench_networks.py``) in fp32 and with bfloat16 autocast
   (``mixed_precision="bf16"``): signal epochs per second, ``max_memory_allocated`` and
   the mean GPU utilisation sampled by ``nvidia-smi`` during the epoch.
4. ``mmasleepnet_batch_sweep``: MMASleepNet in bf16 at batch sizes 64 ... 2048, the
   same figures; the issue's goal is >= 20,000 training epochs-of-signal per second on
   one H100/H200 with the data pipeline keeping up (utilisation reported beside it).
5. ``cuda_to_cpu_reload``: a network trained on CUDA, pickled, and unpickled in a fresh
   process that sees no GPU (``CUDA_VISIBLE_DEVICES=""``); its ``predict_proba`` must
   equal the CUDA model's within 1e-4.

``--device cpu --smoke`` runs every section on the CPU with tiny sizes, in seconds: the
tests use it to check the output format (no figure of a smoke run means anything).
"""

import argparse
import json
import os
import pickle
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from pathlib import Path

import numpy as np

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
sys.path.insert(0, str(BENCH_DIR))

import torch  # noqa: E402
from _common import (  # noqa: E402
    Timer,
    format_hardware,
    hardware_info,
    markdown_table,
    write_json,
    write_markdown,
)
from bench_networks import NETWORKS, make_data, train_throughput  # noqa: E402

#: Training epochs-of-signal per second asked of MMASleepNet in bf16 on one H100/H200.
MMASLEEPNET_BF16_GOAL = 20_000
SWEEP_BATCH_SIZES = (64, 128, 256, 512, 1024, 2048)
SECTIONS = ("environment", "gpu_tests", "throughput", "mmasleepnet_batch_sweep",
            "cuda_to_cpu_reload")
RELOAD_TOLERANCE = 1e-4


class UtilisationSampler:
    """Mean / max GPU utilisation (%) from ``nvidia-smi`` while the block runs.

    ``nvidia-smi --query-gpu=utilization.gpu -lms 100`` runs in the background; on a
    machine without ``nvidia-smi`` (or on the CPU) the figures are ``None``.
    """

    def __init__(self, enabled=True, interval_ms=100):
        self.enabled = enabled and shutil.which("nvidia-smi") is not None
        self.interval_ms = interval_ms
        self.samples = []

    def __enter__(self):
        self._proc = None
        if self.enabled:
            self._proc = subprocess.Popen(
                ["nvidia-smi", "--query-gpu=utilization.gpu", "--format=csv,noheader,nounits",
                 f"-lms={self.interval_ms}", "-i", "0"],
                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
            self._reader = threading.Thread(target=self._read, daemon=True)
            self._reader.start()
        return self

    def _read(self):
        for line in self._proc.stdout:
            line = line.strip()
            if line.isdigit():
                self.samples.append(int(line))

    def __exit__(self, *exc):
        if self._proc is not None:
            self._proc.terminate()
            self._proc.wait(timeout=5)
            self._reader.join(timeout=5)

    @property
    def summary(self):
        if not self.samples:
            return {"gpu_util_mean_pct": None, "gpu_util_max_pct": None, "util_samples": 0}
        return {"gpu_util_mean_pct": float(np.mean(self.samples)),
                "gpu_util_max_pct": int(max(self.samples)),
                "util_samples": len(self.samples)}


def section_environment(args):
    info = {"torch": torch.__version__, "cuda_available": bool(torch.cuda.is_available()),
            "torch_cuda": torch.version.cuda, "device": args.device}
    if args.device.startswith("cuda"):
        dev = torch.device(args.device)
        info.update(
            cuda_device=torch.cuda.get_device_name(dev),
            capability=".".join(map(str, torch.cuda.get_device_capability(dev))),
            total_memory_gib=torch.cuda.get_device_properties(dev).total_memory / 2**30,
            bf16_supported=bool(torch.cuda.is_bf16_supported()),
            cudnn=torch.backends.cudnn.version(),
        )
    if shutil.which("nvidia-smi"):
        out = subprocess.run(["nvidia-smi", "--query-gpu=name,driver_version,memory.total",
                              "--format=csv,noheader"], capture_output=True, text=True)
        info["nvidia_smi"] = out.stdout.strip() or out.stderr.strip()
    return info


_SUMMARY_RE = re.compile(r"(\d+) (passed|failed|skipped|deselected|xfailed|xpassed|error|errors)")


def parse_pytest_summary(text):
    """Counts of pytest's closing line (``3 passed, 1 skipped in 2.0s``) as a dict."""
    counts = {}
    for line in reversed(text.strip().splitlines()):
        found = _SUMMARY_RE.findall(line)
        if found and (" in " in line or "no tests ran" in line):
            for n, kind in found:
                counts["errors" if kind == "error" else kind] = int(n)
            break
    m = re.search(r"(\d+)(?:/\d+)? tests? collected", text)
    if m:
        counts["collected"] = int(m.group(1))
    return counts


def section_gpu_tests(args, remaining_s):
    cmd = [sys.executable, "-m", "pytest", "-m", "gpu", "-q", "-p", "no:cacheprovider",
           "-o", "addopts=", str(REPO / "tests")]
    if args.smoke:
        cmd.append("--collect-only")
    timeout = max(30.0, min(remaining_s, args.tests_timeout_s))
    with Timer() as t:
        try:
            out = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO,
                                 timeout=timeout)
            text, rc = out.stdout + out.stderr, out.returncode
        except subprocess.TimeoutExpired as exc:
            text, rc = (exc.stdout or "") if isinstance(exc.stdout, str) else "", "timeout"
    tail = "\n".join(text.strip().splitlines()[-15:])
    return {"command": " ".join(cmd[1:]), "returncode": rc, "seconds": t.seconds,
            "collect_only": bool(args.smoke), "counts": parse_pytest_summary(text),
            "output_tail": tail}


def _throughput_entry(name, X, y, args, *, mixed_precision, batch_size=None):
    cuda = args.device.startswith("cuda")
    with UtilisationSampler(enabled=cuda) as util:
        clf, eps, dur, bs, peak = train_throughput(
            name, X, y, device=args.device, mixed_precision=mixed_precision,
            batch_size=batch_size)
    del clf
    if cuda:
        torch.cuda.empty_cache()
    return {"epochs": len(X), "batch_size": bs, "seconds": dur, "epochs_per_s": eps,
            "max_memory_allocated_mb": peak, **util.summary}


def section_throughput(args, deadline):
    out = {}
    for name in args.networks:
        if time.monotonic() > deadline:
            out[name] = {"skipped": "budget"}
            continue
        _, shape, labels = NETWORKS[name]
        n = args.train_epochs_small if name == "SlumberNet" else args.train_epochs
        X, y = make_data(n, shape, labels)
        entry = {"input": list(shape)}
        for key, amp in (("fp32", False), ("bf16", "bf16")):
            try:
                entry[key] = _throughput_entry(
                    name, X, y, args, mixed_precision=amp,
                    batch_size=min(8, n) if args.smoke else None)
            except Exception as exc:  # recorded, the run goes on (e.g. CUDA OOM)
                entry[key] = {"error": f"{type(exc).__name__}: {exc}"}
        out[name] = entry
        print(f"  {name}: " + ", ".join(
            f"{k} {v['epochs_per_s']:.0f} ep/s" for k, v in entry.items()
            if isinstance(v, dict) and "epochs_per_s" in v), flush=True)
    return out


def section_sweep(args, deadline):
    _, shape, labels = NETWORKS["MMASleepNet"]
    sizes = (4, 8) if args.smoke else SWEEP_BATCH_SIZES
    rows = []
    for bs in sizes:
        if time.monotonic() > deadline:
            rows.append({"batch_size": bs, "skipped": "budget"})
            continue
        n = max(args.sweep_epochs, 2 * bs)
        X, y = make_data(n, shape, labels)
        try:
            rows.append(_throughput_entry("MMASleepNet", X, y, args,
                                          mixed_precision="bf16", batch_size=bs))
        except Exception as exc:
            rows.append({"batch_size": bs, "error": f"{type(exc).__name__}: {exc}"})
        print(f"  batch {bs}: {rows[-1].get('epochs_per_s', float('nan')):.0f} ep/s",
              flush=True)
    best = max((r["epochs_per_s"] for r in rows if "epochs_per_s" in r), default=None)
    return {"rows": rows, "best_epochs_per_s": best, "goal_epochs_per_s":
            MMASLEEPNET_BF16_GOAL,
            "goal_met": None if (best is None or not args.device.startswith("cuda"))
            else bool(best >= MMASLEEPNET_BF16_GOAL)}


_RELOAD_CHILD = """
import pickle, sys, numpy as np, torch
assert not torch.cuda.is_available(), "the child must see no GPU"
with open(sys.argv[1], "rb") as f:
    clf = pickle.load(f)
X = np.load(sys.argv[2])
np.save(sys.argv[3], clf.predict_proba(X))
print(clf.device_ if hasattr(clf, "device_") else "", clf.device)
"""


def section_reload(args):
    from sklearn_sleep.models import ULWSleepNetClassifier

    _, shape, labels = NETWORKS["ULW-SleepNet"]
    X, y = make_data(64, shape, labels)
    clf = ULWSleepNetClassifier(max_epochs=1, batch_size=16, device=args.device,
                                random_state=0, class_weight=None,
                                module__bn_momentum=0.1)
    clf.fit(X, y)
    proba = clf.predict_proba(X)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        (tmp / "model.pkl").write_bytes(pickle.dumps(clf))
        np.save(tmp / "X.npy", X)
        env = {**os.environ, "CUDA_VISIBLE_DEVICES": "", "PYTHONPATH": str(REPO)}
        out = subprocess.run([sys.executable, "-c", _RELOAD_CHILD, str(tmp / "model.pkl"),
                              str(tmp / "X.npy"), str(tmp / "p.npy")],
                             capture_output=True, text=True, env=env, timeout=300)
        if out.returncode != 0:
            return {"ok": False, "error": out.stderr.strip().splitlines()[-1:]}
        proba_cpu = np.load(tmp / "p.npy")
    diff = float(np.max(np.abs(proba_cpu - proba)))
    return {"trained_on": args.device, "reloaded_on": "cpu (CUDA_VISIBLE_DEVICES='')",
            "child_device": out.stdout.strip(), "max_abs_diff_proba": diff,
            "tolerance": RELOAD_TOLERANCE, "ok": diff <= RELOAD_TOLERANCE}


def _run_section(results, name, fn, deadline):
    if time.monotonic() > deadline:
        results["sections"][name] = {"skipped": "budget"}
        return
    print(f"\n== {name}", flush=True)
    with Timer() as t:
        try:
            value = fn()
        except Exception as exc:
            value = {"error": f"{type(exc).__name__}: {exc}",
                     "traceback": traceback.format_exc().splitlines()[-5:]}
    value = dict(value)
    value["section_seconds"] = t.seconds
    results["sections"][name] = value


def _fmt(x, spec=".0f"):
    return "-" if x is None else format(x, spec)


def markdown_report(results):
    s = results["sections"]
    lines = ["# GPU check" + (" (smoke run on CPU: format check, figures meaningless)"
                              if results["smoke"] else ""), "",
             f"Command: `{results['command']}`", "", "Hardware:", "", "```",
             format_hardware(results["hardware"]), "```", ""]
    env = s.get("environment", {})
    lines += [f"Device: {env.get('cuda_device', env.get('device', '-'))}, torch "
              f"{env.get('torch')}, CUDA {env.get('torch_cuda')}.", ""]
    gt = s.get("gpu_tests", {})
    lines += ["## gpu-marked tests", "",
              f"`{gt.get('command', '-')}`: return code {gt.get('returncode', '-')}, "
              f"counts {json.dumps(gt.get('counts', {}))}"
              + (" (collected only)" if gt.get("collect_only") else ""), ""]
    tp = s.get("throughput", {})
    rows = []
    for name, e in tp.items():
        if not isinstance(e, dict) or name == "section_seconds":
            continue
        f32, b16 = e.get("fp32", {}), e.get("bf16", {})
        rows.append([name, "x".join(map(str, e.get("input", []))),
                     _fmt(f32.get("epochs_per_s")), _fmt(b16.get("epochs_per_s")),
                     f"{_fmt(f32.get('max_memory_allocated_mb'))} / "
                     f"{_fmt(b16.get('max_memory_allocated_mb'))}",
                     f"{_fmt(f32.get('gpu_util_mean_pct'))} / "
                     f"{_fmt(b16.get('gpu_util_mean_pct'))}",
                     e.get("skipped") or f32.get("error") or b16.get("error") or ""])
    lines += ["## Training throughput (one epoch, default batch size)", "",
              markdown_table(["network", "input", "train ep/s fp32", "train ep/s bf16",
                              "peak MiB fp32 / bf16", "GPU util % fp32 / bf16", "note"],
                             rows), ""]
    sw = s.get("mmasleepnet_batch_sweep", {})
    srows = [[r.get("batch_size"), _fmt(r.get("epochs_per_s")),
              _fmt(r.get("max_memory_allocated_mb")), _fmt(r.get("gpu_util_mean_pct")),
              r.get("skipped") or r.get("error") or ""] for r in sw.get("rows", [])]
    lines += ["## MMASleepNet bf16 batch-size sweep", "",
              markdown_table(["batch", "train ep/s", "peak MiB", "GPU util %", "note"],
                             srows), "",
              f"Best {_fmt(sw.get('best_epochs_per_s'))} epochs/s; goal "
              f"{MMASLEEPNET_BF16_GOAL:,} on one H100/H200: "
              f"{ {True: 'met', False: 'NOT met', None: 'n/a'}[sw.get('goal_met')] }.", ""]
    rl = s.get("cuda_to_cpu_reload", {})
    lines += ["## CUDA-trained model reloaded on CPU", "",
              f"ok: {rl.get('ok')}, max |proba difference| {rl.get('max_abs_diff_proba')} "
              f"(tolerance {RELOAD_TOLERANCE}); {rl.get('error', '')}", ""]
    errors = [k for k, v in s.items() if isinstance(v, dict) and "error" in v]
    lines += [f"Total wall time {results['wall_s']:.0f} s (budget {results['budget_s']:.0f} s)."
              + (f" Sections with errors: {', '.join(errors)}." if errors else "")]
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--device", default="cuda", help="cuda (default) or cpu")
    parser.add_argument("--smoke", action="store_true",
                        help="tiny sizes, tests only collected: a format check in seconds")
    parser.add_argument("--budget-s", type=float, default=480.0,
                        help="skip the remaining sections past this many seconds")
    parser.add_argument("--tests-timeout-s", type=float, default=180.0)
    parser.add_argument("--networks", nargs="+", default=list(NETWORKS), choices=list(NETWORKS))
    parser.add_argument("--train-epochs", type=int, default=None,
                        help="signal epochs of each timed training epoch (default 8192)")
    parser.add_argument("--out-dir", default=None, help="default benchmarks/results")
    args = parser.parse_args(argv)
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        parser.error("no CUDA device is available (use --device cpu --smoke for a format check)")
    if args.train_epochs is None:
        args.train_epochs = 16 if args.smoke else 8192
    args.train_epochs_small = 8 if args.smoke else 1024  # SlumberNet: 2.7 GMACs/epoch
    args.sweep_epochs = 8 if args.smoke else 8192

    start = time.monotonic()
    deadline = start + args.budget_s
    results = {"hardware": hardware_info(device=args.device), "smoke": args.smoke,
               "command": "python benchmarks/gpu_check.py " + " ".join(
                   sys.argv[1:] if argv is None else argv),
               "budget_s": args.budget_s,
               "protocol": {"train_epochs": args.train_epochs,
                            "slumbernet_train_epochs": args.train_epochs_small,
                            "sweep_batch_sizes": list((4, 8) if args.smoke
                                                      else SWEEP_BATCH_SIZES),
                            "data": "random normal epochs, random labels (cost only)",
                            "timing": "one skorch training epoch (history dur) after a "
                                      "one-batch warm-up fit"},
               "sections": {}}
    print(format_hardware(results["hardware"]), flush=True)
    _run_section(results, "environment", lambda: section_environment(args), deadline)
    _run_section(results, "gpu_tests",
                 lambda: section_gpu_tests(args, deadline - time.monotonic()), deadline)
    _run_section(results, "throughput", lambda: section_throughput(args, deadline), deadline)
    _run_section(results, "mmasleepnet_batch_sweep", lambda: section_sweep(args, deadline),
                 deadline)
    _run_section(results, "cuda_to_cpu_reload", lambda: section_reload(args), deadline)
    results["wall_s"] = time.monotonic() - start

    stem = "gpu_check_smoke" if args.smoke else "gpu_check"
    write_json(results, stem, out_dir=args.out_dir)
    report = markdown_report(results)
    write_markdown(report, stem, out_dir=args.out_dir)
    print(report)
    return results


if __name__ == "__main__":
    main()
