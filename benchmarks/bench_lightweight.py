"""Size and speed of ULW-SleepNet and SSC-SleepNet.

For each network this prints and stores in ``benchmarks/results/lightweight.json``:

* trainable parameters;
* multiply-accumulates (MACs) of one 30-s epoch, counted with forward hooks on
  ``Conv1d``, ``Linear`` and ``LSTM`` layers, and FLOPs = 2 x MACs plus an estimate of
  the element-wise work (BatchNorm 2/elem, ReLU/Sigmoid 1/elem, max-pool k-1 per output,
  residual adds 1/elem, global pooling 1/input elem). ``torch.utils.flop_counter``'s
  total (matmul/conv only, LSTM not counted) is given for comparison;
* inference time of one night (1000 epochs) in eval mode;
* training throughput (epochs per second, forward + backward + Adam step) on CPU, and
  on CUDA with and without mixed precision (bfloat16 autocast) when available;
* peak memory (CPU: process max RSS; CUDA: ``torch.cuda.max_memory_allocated``).

Usage::

    OMP_NUM_THREADS=1 python benchmarks/bench_lightweight.py --smoke
    python benchmarks/bench_lightweight.py --device cuda
"""

import argparse
import json
import platform
import resource
import sys
import time
from pathlib import Path

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from sklearn_sleep.models import SSCSleepNet, SSCSleepNetLoss, ULWSleepNet

NETWORKS = {
    "ULWSleepNet": dict(build=lambda: ULWSleepNet(n_chans=4, n_times=3000), n_chans=4,
                        loss=nn.CrossEntropyLoss, batch_size=32),
    "SSCSleepNet": dict(build=lambda: SSCSleepNet(n_chans=1, n_times=3000), n_chans=1,
                        loss=SSCSleepNetLoss, batch_size=128),
}


def count_ops(model, x):
    """MACs of Conv1d/Linear/LSTM (hooks) and an element-wise FLOP estimate."""
    macs = {"conv": 0, "linear": 0, "lstm": 0}
    elementwise = [0]

    def hook(mod, inputs, out):
        out_t = out[0] if isinstance(out, tuple) else out
        if isinstance(mod, nn.Conv1d):
            macs["conv"] += out_t.numel() * mod.in_channels // mod.groups * mod.kernel_size[0]
            if mod.bias is not None:
                elementwise[0] += out_t.numel()
        elif isinstance(mod, nn.Linear):
            macs["linear"] += out_t.numel() * mod.in_features
        elif isinstance(mod, nn.LSTM):
            b, steps = inputs[0].shape[:2]
            h, dirs = mod.hidden_size, 2 if mod.bidirectional else 1
            macs["lstm"] += dirs * b * steps * 4 * h * (mod.input_size + h)
            elementwise[0] += dirs * b * steps * h * 12  # gates, tanh, cell update
        elif isinstance(mod, nn.BatchNorm1d):
            elementwise[0] += 2 * out_t.numel()
        elif isinstance(mod, (nn.ReLU, nn.Sigmoid)):
            elementwise[0] += out_t.numel()
        elif isinstance(mod, nn.MaxPool1d):
            k = mod.kernel_size if isinstance(mod.kernel_size, int) else mod.kernel_size[0]
            elementwise[0] += out_t.numel() * (k - 1)
        elif isinstance(mod, nn.AdaptiveAvgPool1d):
            elementwise[0] += inputs[0].numel()
        name = type(mod).__name__
        if name in ("_DSSCBlock", "_SEBasicBlock1d"):
            elementwise[0] += out_t.numel()  # residual add
        if name == "_SqueezeExcite1d":
            elementwise[0] += 2 * inputs[0].numel()  # squeeze mean + excitation scale

    handles = [m.register_forward_hook(hook) for m in model.modules()]
    model.eval()
    with torch.no_grad():
        model(x)
    for h in handles:
        h.remove()
    if isinstance(model, ULWSleepNet):  # global average pooling is a mean over time
        with torch.no_grad():
            b, c, t = x.shape
            elementwise[0] += model.extractor(x.reshape(b * c, 1, t)).numel()
    total_macs = sum(macs.values())
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        model(x)
    return {
        "macs": macs,
        "macs_total": total_macs,
        "flops_estimate": 2 * total_macs + elementwise[0],
        "flops_torch_counter": int(counter.get_total_flops()),
    }


def _sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


def time_inference(model, n_chans, device, n_epochs, batch=256):
    model = model.to(device).eval()
    x = torch.randn(n_epochs, n_chans, 3000)
    with torch.no_grad():
        model(x[:2].to(device))  # warm-up
        _sync(device)
        t0 = time.perf_counter()
        for i in range(0, n_epochs, batch):
            out = model(x[i : i + batch].to(device))
            out = out[0] if isinstance(out, tuple) else out
            out.cpu()
        _sync(device)
    return time.perf_counter() - t0


def time_training(model, n_chans, loss_cls, device, batch_size, n_batches, amp):
    model = model.to(device).train()
    loss_fn = loss_cls().to(device).train()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    x = torch.randn(batch_size, n_chans, 3000, device=device)
    y = torch.randint(0, 5, (batch_size,), device=device)
    ctx = (
        (lambda: torch.autocast("cuda", dtype=torch.bfloat16))
        if amp
        else (lambda: torch.autocast(device.type, enabled=False))
    )

    def step():
        opt.zero_grad()
        with ctx():
            out = model(x)
        out = tuple(o.float() for o in out) if isinstance(out, tuple) else out.float()
        loss_fn(out, y).backward()
        opt.step()

    step()  # warm-up
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats()
    _sync(device)
    t0 = time.perf_counter()
    for _ in range(n_batches):
        step()
    _sync(device)
    dt = time.perf_counter() - t0
    peak = torch.cuda.max_memory_allocated() / 2**20 if device.type == "cuda" else None
    return batch_size * n_batches / dt, peak


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="a few seconds: tiny counts")
    parser.add_argument("--device", default="auto", help="cpu, cuda or auto (default)")
    parser.add_argument("--out", default=str(Path(__file__).parent / "results" / "lightweight.json"))
    args = parser.parse_args(argv)
    want = args.device
    if want == "auto":
        want = "cuda" if torch.cuda.is_available() else "cpu"
    devices = [torch.device("cpu")]
    if want.startswith("cuda"):
        if not torch.cuda.is_available():
            sys.exit("--device cuda requested but CUDA is not available")
        devices.append(torch.device(want))
    night = 32 if args.smoke else 1000
    n_batches = 1 if args.smoke else 10

    results = {
        "protocol": {
            "smoke": args.smoke,
            "epoch": "30 s at 100 Hz (3000 samples)",
            "night_epochs_timed": night,
            "train_batches_timed": n_batches,
            "torch": torch.__version__,
            "threads": torch.get_num_threads(),
            "machine": platform.platform(),
            "cuda_device": torch.cuda.get_device_name() if len(devices) > 1 else None,
            "flops_method": "forward hooks on Conv1d/Linear/LSTM (MACs) + element-wise estimate",
        },
        "networks": {},
    }
    for name, spec in NETWORKS.items():
        torch.manual_seed(0)
        model = spec["build"]()
        n_chans, bs = spec["n_chans"], spec["batch_size"]
        entry = {
            "params": sum(p.numel() for p in model.parameters() if p.requires_grad),
            "input": [n_chans, 3000],
        }
        entry.update(count_ops(model, torch.randn(1, n_chans, 3000)))
        for device in devices:
            key = device.type
            t = time_inference(model, n_chans, device, night)
            entry[f"{key}_night_inference_s"] = t * 1000 / night  # scaled to 1000 epochs
            train_bs = min(bs, 8) if (args.smoke and key == "cpu") else bs
            thr, peak = time_training(model, n_chans, spec["loss"], device, train_bs, n_batches, False)
            entry[f"{key}_train_epochs_per_s"] = thr
            if key == "cuda":
                entry["cuda_peak_mem_mib"] = peak
                thr_amp, peak_amp = time_training(
                    model, n_chans, spec["loss"], device, bs, n_batches, True
                )
                entry["cuda_amp_train_epochs_per_s"] = thr_amp
                entry["cuda_amp_peak_mem_mib"] = peak_amp
            model = model.cpu()
        entry["cpu_peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        results["networks"][name] = entry
        print(f"{name}:")
        for k, v in entry.items():
            print(f"  {k}: {v:,.4g}" if isinstance(v, float) else f"  {k}: {v}")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
