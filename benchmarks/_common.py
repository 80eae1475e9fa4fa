"""Shared helpers of the benchmark scripts: hardware, timing, memory, results, tables.

Every benchmark script of this folder has ``main(argv=None)``, prints its figures and
the hardware it ran on, and writes a JSON file (plus, for the accuracy benchmarks, a
Markdown table) to ``benchmarks/results/``.
"""

import json
import os
import platform
import resource
import statistics
import sys
import time
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

__all__ = [
    "RESULTS_DIR",
    "shared_data_dir",
    "hardware_info",
    "format_hardware",
    "cpu_model",
    "peak_rss_mb",
    "Timer",
    "timed",
    "median_time",
    "write_json",
    "write_markdown",
    "markdown_table",
    "text_table",
    "metric_row",
    "pooled_scores",
    "HEADLINE",
]

RESULTS_DIR = Path(__file__).resolve().parent / "results"

#: Headline metrics in table order: (key of ``sleep_scores``, column title).
HEADLINE = (
    ("accuracy", "ACC"),
    ("macro_f1", "MF1"),
    ("kappa", "kappa"),
    ("gmean", "G-mean"),
    ("f1_N1", "N1-F1"),
)


def shared_data_dir():
    """``../shared/data`` next to the repository root, or ``$SKLEARN_SLEEP_SHARED_DATA``."""
    env = os.environ.get("SKLEARN_SLEEP_SHARED_DATA")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[2] / "shared" / "data"


def cpu_model():
    """CPU model name (``/proc/cpuinfo`` on Linux, else ``platform.processor()``)."""
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def hardware_info(device=None):
    """Hardware and software versions of this run as a JSON-serialisable dict.

    Parameters
    ----------
    device : str or None
        The torch device the benchmark used; its CUDA name is added when it is CUDA.
    """
    info = {
        "date_utc": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S"),
        "platform": platform.platform(),
        "processor": platform.processor(),
        "cpu_model": cpu_model(),
        "cpu_count": os.cpu_count(),
        "python": sys.version.split()[0],
        "numpy": np.__version__,
        "omp_num_threads": os.environ.get("OMP_NUM_THREADS"),
    }
    try:
        import sklearn

        info["sklearn"] = sklearn.__version__
    except ImportError:  # pragma: no cover
        pass
    if "torch" in sys.modules or device is not None:
        try:
            import torch

            info["torch"] = torch.__version__
            info["torch_threads"] = torch.get_num_threads()
            info["cuda_available"] = bool(torch.cuda.is_available())
            if device is not None:
                info["device"] = str(device)
                if str(device).startswith("cuda") and torch.cuda.is_available():
                    info["cuda_device"] = torch.cuda.get_device_name(torch.device(device))
        except ImportError:  # pragma: no cover
            pass
    return info


def format_hardware(info):
    """One-paragraph text of :func:`hardware_info`."""
    parts = [
        f"CPU: {info['cpu_model']} ({info['cpu_count']} logical cores"
        f", OMP_NUM_THREADS={info.get('omp_num_threads')})",
        f"Python {info['python']}, numpy {info['numpy']}, scikit-learn {info.get('sklearn')}",
    ]
    if "torch" in info:
        dev = info.get("device", "-")
        cuda = info.get("cuda_device")
        parts.append(
            f"torch {info['torch']} ({info['torch_threads']} threads), device {dev}"
            + (f" [{cuda}]" if cuda else "")
        )
    parts.append(f"platform {info['platform']}, {info['date_utc']} UTC")
    return "\n".join(parts)


def peak_rss_mb():
    """Peak resident memory of this process so far, in MiB (Linux/macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    if sys.platform == "darwin":  # bytes on macOS, KiB on Linux
        return peak / 2**20
    return peak / 1024


class Timer:
    """Wall-clock stopwatch: ``with Timer() as t: ...; t.seconds``."""

    def __enter__(self):
        self._start = time.perf_counter()
        self.seconds = None
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self._start
        return False


@contextmanager
def timed(label, *, verbose=True):
    """Context manager that prints ``label: X.XX s`` when the block ends."""
    timer = Timer()
    with timer:
        yield timer
    if verbose:
        print(f"  {label}: {timer.seconds:.2f} s", flush=True)


def median_time(fn, *, repeats=5, warmup=1):
    """Median and all wall times (s) of ``fn()`` over ``repeats`` calls after ``warmup``."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), times


def _to_jsonable(obj):
    if isinstance(obj, dict):
        return {str(k): _to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_to_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return _to_jsonable(obj.tolist())
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, Path):
        return str(obj)
    return obj


def write_json(payload, name, *, out_dir=None):
    """Write ``payload`` to ``<out_dir>/<name>.json`` (default ``benchmarks/results``)."""
    out_dir = Path(out_dir) if out_dir is not None else RESULTS_DIR
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{name}.json"
    path.write_text(json.dumps(_to_jsonable(payload), indent=2, sort_keys=False) + "\n")
    print(f"wrote {path}")
    return path


def write_markdown(text, name, *, out_dir=None):
    """Write ``text`` to ``<out_dir>/<name>.md``."""
    out_dir = Path(out_dir) if out_dir is not None else RESULTS_DIR
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{name}.md"
    path.write_text(text.rstrip() + "\n")
    print(f"wrote {path}")
    return path


def _fmt(value, digits=3):
    if value is None:
        return "-"
    if isinstance(value, str):
        return value
    if isinstance(value, (float, np.floating)):
        if not np.isfinite(value):
            return "-"
        return f"{value:.{digits}f}"
    return str(value)


def markdown_table(header, rows, *, digits=3):
    """GitHub Markdown table from a header list and rows of values."""
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    for row in rows:
        lines.append("| " + " | ".join(_fmt(v, digits) for v in row) + " |")
    return "\n".join(lines)


def text_table(header, rows, *, digits=3):
    """Fixed-width plain-text table (for the terminal)."""
    cells = [list(header)] + [[_fmt(v, digits) for v in row] for row in rows]
    widths = [max(len(str(r[i])) for r in cells) for i in range(len(header))]
    out = []
    for k, row in enumerate(cells):
        out.append(
            "  ".join(
                str(c).ljust(w) if (k == 0 or i == 0) else str(c).rjust(w)
                for i, (c, w) in enumerate(zip(row, widths))
            )
        )
        if k == 0:
            out.append("  ".join("-" * w for w in widths))
    return "\n".join(out)


def metric_row(scores, keys=None):
    """The values of ``scores`` for ``keys`` (default: :data:`HEADLINE`), None if absent."""
    keys = keys or [k for k, _ in HEADLINE]
    return [scores.get(k) for k in keys]


def pooled_scores(y_true, y_pred, labels=None):
    """:func:`sklearn_sleep.metrics.sleep_scores` on predictions pooled over folds."""
    from sklearn_sleep.metrics import sleep_scores

    return sleep_scores(np.asarray(y_true), np.asarray(y_pred), labels=labels)


#: Settings applied by the network benchmarks unless ``--paper-bn`` is given. ULW-SleepNet
#: and SlumberNet keep Keras' BatchNorm momentum (0.99, i.e. PyTorch 0.01) by default, which
#: needs thousands of optimizer steps before the running statistics used at predict time
#: are meaningful; short benchmark budgets use PyTorch's usual 0.1 instead.
SHORT_BUDGET_OVERRIDES = {
    "ulw-sleepnet": {"module__bn_momentum": 0.1},
    "slumbernet": {"module__bn_momentum": 0.1},
}
