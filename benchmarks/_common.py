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
    "rss_mb",
    "reset_peak_rss",
    "window_peak_rss_mb",
    "run_isolated",
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
    "trainable_params",
    "count_macs",
    "MAC_METHOD",
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


def _proc_status_mb(field):
    """``VmRSS``/``VmHWM`` of ``/proc/self/status`` in MiB, or None off Linux."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024  # kB
    except (OSError, ValueError, IndexError):
        pass
    return None


def rss_mb():
    """Current resident set size of this process in MiB (None where unknown)."""
    return _proc_status_mb("VmRSS")


def reset_peak_rss():
    """Reset the kernel's peak-RSS mark (``VmHWM``) of this process; True on success.

    Writes ``5`` to ``/proc/self/clear_refs`` (Linux >= 4.0). Afterwards
    :func:`window_peak_rss_mb` reports the peak since this call, so that consecutive
    measurements in one process are not cumulative. ``getrusage``'s ``ru_maxrss``
    (:func:`peak_rss_mb`) is never reset.
    """
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


def window_peak_rss_mb():
    """Peak RSS (MiB) since the last :func:`reset_peak_rss` (``VmHWM``), else since start."""
    peak = _proc_status_mb("VmHWM")
    return peak if peak is not None else peak_rss_mb()


def run_isolated(fn, *args, isolate=True, **kwargs):
    """``fn(*args, **kwargs)`` in a forked child process (Linux), its result sent back.

    Memory measured in the child (:func:`window_peak_rss_mb`) then belongs to that call
    alone: memory freed by earlier work of the parent but kept by the allocator does not
    inflate it. Falls back to a plain call where ``fork`` is unavailable (or
    ``isolate=False``). The parent must not have initialised CUDA. The result must be
    picklable; an exception in the child is raised as ``RuntimeError`` with its traceback.
    """
    import multiprocessing as mp

    if not isolate or not sys.platform.startswith("linux"):
        return fn(*args, **kwargs)
    ctx = mp.get_context("fork")
    recv_end, send_end = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_isolated_child, args=(send_end, fn, args, kwargs))
    sys.stdout.flush()
    sys.stderr.flush()
    proc.start()
    send_end.close()
    try:
        status, payload = recv_end.recv()
    except EOFError:
        proc.join()
        raise RuntimeError(f"child process died (exit code {proc.exitcode})") from None
    finally:
        recv_end.close()
    proc.join()
    if status != "ok":
        raise RuntimeError(f"in child process:\n{payload}")
    return payload


def _isolated_child(conn, fn, args, kwargs):
    import traceback

    try:
        conn.send(("ok", fn(*args, **kwargs)))
    except BaseException:  # noqa: BLE001 - reported to the parent
        conn.send(("error", traceback.format_exc()))
    finally:
        sys.stdout.flush()
        conn.close()


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


# ------------------------------------------------------------------ network cost

#: How :func:`count_macs` counts; quoted in the outputs of the scripts that use it.
MAC_METHOD = (
    "MACs of one forward pass (eval mode, batch 1) per epoch; FLOPs = 2 x MACs. "
    "torch.utils.flop_counter.FlopCounterMode (convolutions, linear layers, matmuls, "
    "bmm; MHA fast path off so that the attention projections run as counted ops), plus, "
    "where the counter sees nothing inside the module: nn.LSTM gates analytically "
    "(4 H (I + H) per step, direction and layer) and nn.MultiheadAttention's products "
    "Q K^T and A V analytically (2 L S E; the CPU scaled-dot-product kernel is not "
    "counted). Not counted: FFTs, normalisation, activations, pooling, element-wise ops."
)


def trainable_params(module):
    """Number of trainable parameters of a torch module."""
    return int(sum(p.numel() for p in module.parameters() if p.requires_grad))


def count_macs(module, input_shape):
    """MACs of one forward pass of ``module`` on one epoch of ``input_shape``.

    See :data:`MAC_METHOD`. The module is run in eval mode without gradients (its
    training mode is restored afterwards) on one random epoch on the CPU.

    Parameters
    ----------
    module : torch.nn.Module
        The network (on the CPU).
    input_shape : tuple of int
        ``(n_chans, n_times)`` of one epoch.

    Returns
    -------
    total : int
        MACs per epoch.
    by_op : dict
        MACs per counted aten op, plus ``"lstm gates (analytic)"`` and
        ``"attention QK^T, AV (analytic)"`` where these were added.
    """
    import torch
    from torch import nn
    from torch.utils.flop_counter import FlopCounterMode

    analytic = []  # (module, kind, macs)

    def lstm_hook(mod, args, kwargs, output):
        x = args[0] if args else kwargs["input"]
        if not isinstance(x, torch.Tensor):  # PackedSequence: not used by our networks
            return
        if x.dim() == 2:  # unbatched (L, I)
            steps, batch = x.shape[0], 1
        elif mod.batch_first:
            batch, steps = x.shape[:2]
        else:
            steps, batch = x.shape[:2]
        dirs = 2 if mod.bidirectional else 1
        h_out = mod.proj_size or mod.hidden_size
        in_size, macs = mod.input_size, 0
        for _ in range(mod.num_layers):
            macs += steps * dirs * 4 * mod.hidden_size * (in_size + h_out)
            if mod.proj_size:
                macs += steps * dirs * mod.hidden_size * mod.proj_size
            in_size = dirs * h_out
        analytic.append((mod, "lstm", macs * batch))

    def mha_hook(mod, args, kwargs, output):
        query = args[0] if len(args) > 0 else kwargs["query"]
        key = args[1] if len(args) > 1 else kwargs["key"]
        seq_axis = 1 if (mod.batch_first and query.dim() == 3) else 0
        n_q, n_k = query.shape[seq_axis], key.shape[seq_axis]
        batch = query.shape[1 - seq_axis] if query.dim() == 3 else 1
        analytic.append((mod, "attention", 2 * n_q * n_k * mod.embed_dim * batch))

    was_training = module.training
    module.eval()
    names = {mod: f"{type(module).__name__}.{name}" for name, mod in module.named_modules()}
    hooks = []
    for mod in module.modules():
        if isinstance(mod, nn.LSTM):
            hooks.append(mod.register_forward_hook(lstm_hook, with_kwargs=True))
        elif isinstance(mod, nn.MultiheadAttention):
            hooks.append(mod.register_forward_hook(mha_hook, with_kwargs=True))
    x = torch.randn(1, *input_shape)
    fastpath = torch.backends.mha.get_fastpath_enabled()
    torch.backends.mha.set_fastpath_enabled(False)
    try:
        with FlopCounterMode(display=False) as counter, torch.no_grad():
            module(x)
    finally:
        torch.backends.mha.set_fastpath_enabled(fastpath)
        for h in hooks:
            h.remove()
        module.train(was_training)
    counts = counter.get_flop_counts()
    by_op = {str(op): int(v) // 2 for op, v in counts.get("Global", {}).items()}
    for mod, kind, macs in analytic:
        inside = counts.get(names[mod], {})
        if kind == "lstm" and not any(inside.values()):
            key = "lstm gates (analytic)"
        elif kind == "attention" and not any(
            ("bmm" in str(op) or "attention" in str(op)) and v for op, v in inside.items()
        ):
            key = "attention QK^T, AV (analytic)"
        else:
            continue
        by_op[key] = by_op.get(key, 0) + int(macs)
    return int(sum(by_op.values())), by_op
