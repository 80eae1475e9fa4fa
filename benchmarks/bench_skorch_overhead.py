"""Per-epoch cost of the ``SleepNetClassifier`` (skorch) wrapper vs a plain PyTorch loop.

Both sides train the same network class on the same data, with the same batch size,
number of batches, optimizer (Adam), loss (cross-entropy on logits), shuffling, and
device. The plain loop is the textbook one::

    for xb, yb in DataLoader(TensorDataset(X, y), batch_size, shuffle=True):
        opt.zero_grad(); loss = crit(net(xb), yb); loss.backward(); opt.step()
        running += loss.item()          # skorch records the batch loss too

The wrapper side is ``SleepNetClassifier(module=<same class>).fit(X, y)`` with
``train_split=None`` (no validation pass, as in the plain loop).

Measurement: the two sides alternate within each repeat (the order flips every repeat
to cancel drift). Per training epoch the plain loop is timed directly and the wrapper
is read from skorch's history (``dur``); the first epoch of every fit is warm-up and is
excluded. Medians over all remaining epochs give the overhead
``(t_skorch / t_plain - 1) * 100 %`` (target < 10 %). The whole ``fit`` (input
validation, label encoding and module initialisation included) is reported too.

Networks: ULW-SleepNet (Wang et al., ICASSP 2026, arXiv 2602.23852) on (4, 3000) human
epochs and the Rochester mouse CNN (NETWORKS.md §5.2) on (2, 512) mouse epochs; when a
network has not landed in :mod:`sklearn_sleep.models` yet, a small stand-in CNN of
the same input shape is used and reported as such.
"""

import argparse
import inspect
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (  # noqa: E402
    format_hardware,
    hardware_info,
    markdown_table,
    peak_rss_mb,
    text_table,
    write_json,
    write_markdown,
)

import torch  # noqa: E402
from torch import nn  # noqa: E402

#: name -> (attribute of sklearn_sleep.models, (n_chans, n_times), n_classes, sfreq)
MODELS = {
    "ulw-sleepnet": ("ULWSleepNet", (4, 3000), 5, 100.0),
    "mouse-cnn": ("MouseCNN", (2, 512), 3, 512.0),
    "ssc-sleepnet": ("SSCSleepNet", (1, 3000), 5, 100.0),
    "mmasleepnet": ("MMASleepNet", (4, 3000), 5, 100.0),
    "masleepnet": ("MASleepNet", (4, 3000), 5, 100.0),
    "mouse-cnn-attention": ("MouseCNNAttention", (2, 512), 3, 512.0),
    "mouse-transformer": ("MouseTransformer", (2, 512), 3, 512.0),
    "slumbernet": ("SlumberNet", (2, 256), 3, 64.0),
    "standin": (None, (4, 3000), 5, 100.0),
}


class StandInCNN(nn.Module):
    """Small 1-D CNN used while a published network is not available (benchmark only)."""

    def __init__(self, n_chans=4, n_times=3000, n_classes=5):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv1d(n_chans, 16, 7, stride=2, padding=3), nn.BatchNorm1d(16), nn.ReLU(),
            nn.MaxPool1d(4),
            nn.Conv1d(16, 32, 5, padding=2), nn.BatchNorm1d(32), nn.ReLU(),
            nn.AdaptiveAvgPool1d(1),
        )
        self.head = nn.Linear(32, n_classes)

    def forward(self, x):
        return self.head(self.features(x).flatten(1))


def resolve_module(name):
    """The module class for ``name`` and whether it is the stand-in."""
    attr, shape, n_classes, sfreq = MODELS[name]
    if attr is not None:
        import sklearn_sleep.models as models

        cls = getattr(models, attr, None)
        if isinstance(cls, type) and issubclass(cls, nn.Module):
            return cls, False, shape, n_classes, sfreq
    return StandInCNN, True, shape, n_classes, sfreq


def signal_kwargs(cls, n_chans, n_times, n_classes, sfreq):
    """The shape arguments ``SleepNetClassifier`` passes to ``cls`` (same rule)."""
    accepted = inspect.signature(cls).parameters
    given = {"n_chans": n_chans, "n_times": n_times, "n_classes": n_classes, "sfreq": sfreq}
    return {k: v for k, v in given.items() if k in accepted}


def _sync(device):
    if str(device).startswith("cuda"):
        torch.cuda.synchronize()


def plain_fit(cls, kwargs, X, y, *, epochs, batch_size, lr, device, seed):
    """Textbook PyTorch training loop; returns per-epoch seconds and total seconds."""
    t_start = time.perf_counter()
    torch.manual_seed(seed)
    net = cls(**kwargs).to(device)
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    crit = nn.CrossEntropyLoss().to(device)
    loader = torch.utils.data.DataLoader(
        torch.utils.data.TensorDataset(torch.from_numpy(X), torch.from_numpy(y)),
        batch_size=batch_size, shuffle=True,
    )
    durations = []
    for _ in range(epochs):
        t0 = time.perf_counter()
        net.train()
        running = 0.0
        for xb, yb in loader:
            xb, yb = xb.to(device), yb.to(device)
            opt.zero_grad()
            out = net(xb)
            logits = out[0] if isinstance(out, (tuple, list)) else out
            loss = crit(logits, yb)
            loss.backward()
            opt.step()
            running += loss.item()
        _sync(device)
        durations.append(time.perf_counter() - t0)
    return durations, time.perf_counter() - t_start


def skorch_fit(cls, X, y, *, epochs, batch_size, lr, device, seed):
    """``SleepNetClassifier(module=cls).fit``; returns per-epoch seconds (history) and total."""
    from sklearn_sleep.models import SleepNetClassifier

    net = SleepNetClassifier(
        cls, max_epochs=epochs, batch_size=batch_size, lr=lr, device=device,
        random_state=seed, train_split=None, iterator_train__shuffle=True,
        criterion=nn.CrossEntropyLoss,
    )
    t0 = time.perf_counter()
    net.fit(X, y)
    _sync(device)
    total = time.perf_counter() - t0
    return [float(d) for d in net.history[:, "dur"]], total


def bench_model(name, *, n_batches, batch_size, epochs, repeats, lr, device, seed=0):
    cls, standin, (n_chans, n_times), n_classes, sfreq = resolve_module(name)
    rng = np.random.default_rng(seed)
    n = n_batches * batch_size
    X = rng.standard_normal((n, n_chans, n_times)).astype(np.float32)
    y = rng.integers(0, n_classes, n).astype(np.int64)
    y[:n_classes] = np.arange(n_classes)  # every class present
    kwargs = signal_kwargs(cls, n_chans, n_times, n_classes, sfreq)
    n_params = sum(p.numel() for p in cls(**kwargs).parameters())
    common = dict(epochs=epochs, batch_size=batch_size, lr=lr, device=device)
    # global warm-up of both paths (allocator, kernels, imports)
    plain_fit(cls, kwargs, X, y, **{**common, "epochs": 1}, seed=seed)
    skorch_fit(cls, X, y, **{**common, "epochs": 1}, seed=seed)
    plain_epochs, skorch_epochs, plain_totals, skorch_totals = [], [], [], []
    for r in range(repeats):
        order = ("plain", "skorch") if r % 2 == 0 else ("skorch", "plain")
        for side in order:
            if side == "plain":
                durs, total = plain_fit(cls, kwargs, X, y, **common, seed=seed + r)
                plain_epochs += durs[1:]
                plain_totals.append(total)
            else:
                durs, total = skorch_fit(cls, X, y, **common, seed=seed + r)
                skorch_epochs += durs[1:]
                skorch_totals.append(total)
    med_p, med_s = statistics.median(plain_epochs), statistics.median(skorch_epochs)
    tot_p, tot_s = statistics.median(plain_totals), statistics.median(skorch_totals)
    return {
        "model": name,
        "module": f"{cls.__module__}.{cls.__name__}",
        "standin": standin,
        "n_params": int(n_params),
        "input_shape": [n_chans, n_times],
        "n_samples": n,
        "n_batches": n_batches,
        "batch_size": batch_size,
        "epochs_per_fit": epochs,
        "repeats": repeats,
        "plain_epoch_s": plain_epochs,
        "skorch_epoch_s": skorch_epochs,
        "plain_epoch_median_s": med_p,
        "skorch_epoch_median_s": med_s,
        "overhead_epoch_pct": 100.0 * (med_s / med_p - 1.0),
        "plain_fit_median_s": tot_p,
        "skorch_fit_median_s": tot_s,
        "overhead_fit_pct": 100.0 * (tot_s / tot_p - 1.0),
    }


def build_parser():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--models", nargs="+", choices=sorted(MODELS), default=["ulw-sleepnet", "mouse-cnn"])
    p.add_argument("--device", default="cpu", help="cpu, cuda or auto")
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--n-batches", type=int, default=30, help="batches per training epoch")
    p.add_argument("--epochs", type=int, default=4, help="epochs per fit (the first is warm-up)")
    p.add_argument("--repeats", type=int, default=5, help="fits per side")
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--threads", type=int, default=1, help="torch.set_num_threads")
    p.add_argument("--smoke", action="store_true", help="seconds: stand-in sizes, 2 repeats")
    p.add_argument("--out-dir", type=Path, default=None)
    p.add_argument("--name", default=None)
    return p


def main(argv=None):
    args = build_parser().parse_args(argv)
    torch.set_num_threads(args.threads)
    from sklearn_sleep.models import resolve_device

    device = resolve_device(args.device)
    if args.smoke:
        args.n_batches, args.batch_size = min(args.n_batches, 3), min(args.batch_size, 8)
        args.epochs, args.repeats = min(args.epochs, 2), min(args.repeats, 2)
    name = args.name or ("skorch_overhead_smoke" if args.smoke else "skorch_overhead")
    hw = hardware_info(device=device)
    print(format_hardware(hw))
    results = []
    for model in args.models:
        res = bench_model(
            model, n_batches=args.n_batches, batch_size=args.batch_size, epochs=args.epochs,
            repeats=args.repeats, lr=args.lr, device=device,
        )
        results.append(res)
        print(
            f"  {model}: plain {res['plain_epoch_median_s'] * 1e3:.1f} ms/epoch, skorch "
            f"{res['skorch_epoch_median_s'] * 1e3:.1f} ms/epoch -> overhead "
            f"{res['overhead_epoch_pct']:+.1f} %"
            + ("  [stand-in module]" if res["standin"] else ""),
            flush=True,
        )
    header = [
        "network", "params", "input", "batches x bs", "plain ms/epoch", "skorch ms/epoch",
        "overhead/epoch %", "plain fit s", "skorch fit s", "overhead/fit %",
    ]
    rows = [
        [
            r["model"] + (" (stand-in)" if r["standin"] else ""), r["n_params"],
            "x".join(map(str, r["input_shape"])), f"{r['n_batches']} x {r['batch_size']}",
            f"{r['plain_epoch_median_s'] * 1e3:.1f}", f"{r['skorch_epoch_median_s'] * 1e3:.1f}",
            f"{r['overhead_epoch_pct']:+.1f}", f"{r['plain_fit_median_s']:.2f}",
            f"{r['skorch_fit_median_s']:.2f}", f"{r['overhead_fit_pct']:+.1f}",
        ]
        for r in results
    ]
    print()
    print(text_table(header, rows))
    md = "\n".join([
        f"# SleepNetClassifier (skorch) overhead vs a plain PyTorch loop ({'smoke' if args.smoke else 'full'})",
        "",
        f"Per training epoch, median over {args.repeats} fits x {args.epochs - 1} timed epochs per side "
        "(first epoch of each fit excluded), sides interleaved; random data; Adam; cross-entropy.",
        "",
        markdown_table(header, rows),
        "",
        f"Hardware: {hw['cpu_model']}, {hw['cpu_count']} logical cores, torch {hw['torch']} "
        f"({hw['torch_threads']} thread(s)), device {device}"
        + (f" [{hw['cuda_device']}]" if hw.get("cuda_device") else "")
        + f"; {hw['date_utc']} UTC.",
    ])
    payload = {"benchmark": "skorch_overhead", "smoke": args.smoke, "device": device,
               "results": results, "hardware": hw, "peak_rss_mb": peak_rss_mb()}
    write_json(payload, name, out_dir=args.out_dir)
    write_markdown(md, name, out_dir=args.out_dir)
    return payload


if __name__ == "__main__":
    main()
