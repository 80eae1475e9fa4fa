"""Cost of the rodent networks: MouseCNN, MouseCNNAttention, MouseTransformer, SlumberNet.

Inputs: the mouse networks take (2, 512) epochs (EEG, EMG; 1 s at 512 Hz), SlumberNet
(2, 256) epochs (EEG, EMG after its preprocessing; 4 s at 64 Hz). For each network:

* parameter count (trainable);
* MACs (multiply-accumulates; FLOPs = 2 x MACs) of one forward pass on one epoch,
  counted with ``torch.utils.flop_counter.FlopCounterMode`` (convolutions, linear
  layers / matmuls, attention products), with PyTorch's fused MHA fast path disabled
  so that the attention projections are counted; the attention products
  ``2 L^2 d`` per attention layer (L tokens of dimension d), which the CPU attention
  kernel hides from the counter, are added analytically. Not counted: the FFT of the mouse
  CNNs' spectrum branches (about ``5 n log2 n`` real FLOPs per channel, negligible),
  normalisation, activations, pooling and other element-wise ops;
* CPU inference time for one night of 1000 epochs (``predict_proba`` of the fitted
  classifier, batch 128, median of repeats; with ``--smoke`` a shorter "night" and a
  linear extrapolation to 1000 epochs, flagged in the output);
* training throughput in signal epochs per second through the scikit-learn classifier
  (``fit``; skorch's ``dur`` of the last training epoch, the first being warm-up) on
  CPU and, when available, on CUDA without and with mixed precision (bfloat16
  autocast);
* peak memory: the process's peak resident set size after the network's CPU runs
  (cumulative over the networks benchmarked before it) and
  ``torch.cuda.max_memory_allocated`` during CUDA training.

Data are random normal epochs with random labels (cost does not depend on them). The
learning-rate schedules are left on; class weights off. Results go to
``benchmarks/results/mouse.json`` (``mouse_smoke.json`` with ``--smoke``).

Usage::

    OMP_NUM_THREADS=1 python benchmarks/bench_mouse.py --smoke
    python benchmarks/bench_mouse.py --device cuda
"""

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (  # noqa: E402
    format_hardware,
    hardware_info,
    median_time,
    peak_rss_mb,
    text_table,
    write_json,
)

import torch  # noqa: E402
from torch import nn  # noqa: E402
from torch.utils.flop_counter import FlopCounterMode  # noqa: E402

from sklearn_sleep.models import (  # noqa: E402
    MouseCNN,
    MouseCNNAttention,
    MouseCNNAttentionClassifier,
    MouseCNNClassifier,
    MouseTransformer,
    MouseTransformerClassifier,
    SlumberNet,
    SlumberNetClassifier,
)

STAGES = np.array(["W", "NREM", "REM"])
# name: (module, classifier, (n_chans, n_times), smoke size factor for heavy nets)
NETWORKS = {
    "MouseCNN": (MouseCNN, MouseCNNClassifier, (2, 512), 1),
    "MouseCNNAttention": (MouseCNNAttention, MouseCNNAttentionClassifier, (2, 512), 1),
    "MouseTransformer": (MouseTransformer, MouseTransformerClassifier, (2, 512), 1),
    "SlumberNet": (SlumberNet, SlumberNetClassifier, (2, 256), 4),
}


def count_macs(module, shape):
    """MACs of one forward pass (eval mode) on one epoch, by aten op."""
    module = module.eval()
    x = torch.randn(1, *shape)
    fastpath = torch.backends.mha.get_fastpath_enabled()
    torch.backends.mha.set_fastpath_enabled(False)
    try:
        with FlopCounterMode(display=False) as counter, torch.no_grad():
            module(x)
    finally:
        torch.backends.mha.set_fastpath_enabled(fastpath)
    by_op = {str(k): v / 2 for k, v in counter.get_flop_counts()["Global"].items()}
    if not any("attention" in op for op in by_op):
        # the CPU fused attention kernel is not counted: add Q K^T and A V analytically
        lengths = {}

        def remember_length(mod, inputs, output):
            lengths[mod] = inputs[0].shape[1]  # batch_first

        hooks = [m.register_forward_hook(remember_length)
                 for m in module.modules() if isinstance(m, nn.MultiheadAttention)]
        torch.backends.mha.set_fastpath_enabled(False)
        try:
            with torch.no_grad():
                module(x)
        finally:
            torch.backends.mha.set_fastpath_enabled(fastpath)
            for h in hooks:
                h.remove()
        attn = sum(2 * n * n * mod.embed_dim for mod, n in lengths.items())
        if attn:
            by_op["attention QK^T, AV (analytic)"] = attn
    return sum(by_op.values()), by_op


def make_data(n, shape, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, *shape)).astype(np.float32)
    y = STAGES[rng.integers(0, len(STAGES), n)]
    y[: len(STAGES)] = STAGES  # every class present
    return X, y


def train_throughput(clf_cls, X, y, *, device, mixed_precision, batch_size, epochs):
    """Signal epochs per second of the last training epoch, and peak CUDA memory (MiB)."""
    clf = clf_cls(
        max_epochs=epochs,
        batch_size=batch_size,
        device=device,
        mixed_precision=mixed_precision,
        random_state=0,
        class_weight=None,
    )
    if device.startswith("cuda"):
        torch.cuda.reset_peak_memory_stats()
    clf.fit(X, y)
    dur = clf.history[-1, "dur"]
    peak = None
    if device.startswith("cuda"):
        torch.cuda.synchronize()
        peak = torch.cuda.max_memory_allocated() / 2**20
    return clf, len(X) / dur, peak


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--smoke", action="store_true", help="seconds-long run, tiny sizes")
    parser.add_argument(
        "--device", default="auto", help="'cpu', 'cuda' or 'auto' (CUDA timings when available)"
    )
    parser.add_argument("--networks", nargs="+", default=list(NETWORKS), choices=list(NETWORKS))
    args = parser.parse_args(argv)

    want_cuda = args.device.startswith("cuda") or (
        args.device == "auto" and torch.cuda.is_available()
    )
    if want_cuda and not torch.cuda.is_available():
        print("CUDA requested but not available: CPU only.")
        want_cuda = False
    cuda_device = args.device if args.device.startswith("cuda") else "cuda"

    if args.smoke:
        n_train, n_night, batch, epochs, repeats = 32, 64, 16, 2, 1
        n_train_cuda = 64
    else:
        n_train, n_night, batch, epochs, repeats = 512, 1000, 128, 2, 3
        n_train_cuda = 4096

    hw = hardware_info(device=cuda_device if want_cuda else "cpu")
    print(format_hardware(hw))
    results = {"hardware": hw, "smoke": args.smoke, "protocol": {
        "n_train_cpu": n_train, "n_train_cuda": n_train_cuda, "night_epochs_timed": n_night,
        "batch_size": batch, "fit_epochs": epochs, "inference_batch": 128,
        "smoke_reduction": "SlumberNet uses 1/4 of the CPU train and night sizes with --smoke",
        "mac_counter": "torch.utils.flop_counter.FlopCounterMode (MHA fast path off) + "
        "analytic attention products 2 L^2 d; FFT, norms, activations, pooling not counted",
    }, "networks": {}}

    rows = []
    for name in args.networks:
        module_cls, clf_cls, shape, smoke_div = NETWORKS[name]
        div = smoke_div if args.smoke else 1
        print(f"\n== {name} input {shape}", flush=True)
        net = module_cls()
        n_params = sum(p.numel() for p in net.parameters() if p.requires_grad)
        macs, by_op = count_macs(net, shape)
        entry = {"input": list(shape), "params": n_params, "macs_per_epoch": macs,
                 "flops_per_epoch": 2 * macs, "macs_by_op": by_op}

        X, y = make_data(max(n_train // div, 8), shape)
        clf, eps_cpu, _ = train_throughput(
            clf_cls, X, y, device="cpu", mixed_precision=False,
            batch_size=min(batch, len(X)), epochs=epochs,
        )
        entry["train_epochs_per_s_cpu"] = eps_cpu

        night = max(n_night // div, 8)
        X_night, _ = make_data(night, shape, seed=1)
        clf.set_params(batch_size=128)
        t_night, _ = median_time(lambda: clf.predict_proba(X_night), repeats=repeats)
        entry["cpu_inference_s_per_1000_epochs"] = t_night * 1000 / night
        entry["cpu_inference_extrapolated"] = night != 1000
        entry["cpu_peak_rss_mb"] = peak_rss_mb()

        if want_cuda:
            Xc, yc = make_data(n_train_cuda, shape)
            for amp in (False, True):
                _, eps, peak = train_throughput(
                    clf_cls, Xc, yc, device=cuda_device, mixed_precision=amp,
                    batch_size=batch if args.smoke else clf_cls().batch_size, epochs=epochs,
                )
                key = "amp" if amp else "fp32"
                entry[f"train_epochs_per_s_cuda_{key}"] = eps
                entry[f"cuda_peak_mb_{key}"] = peak
        results["networks"][name] = entry
        rows.append([
            name, f"{n_params:,}", f"{macs / 1e6:.1f}", f"{eps_cpu:.1f}",
            f"{entry['cpu_inference_s_per_1000_epochs']:.1f}"
            + ("*" if entry["cpu_inference_extrapolated"] else ""),
            entry.get("train_epochs_per_s_cuda_fp32"), entry.get("train_epochs_per_s_cuda_amp"),
            f"{entry['cpu_peak_rss_mb']:.0f}",
        ])

    print()
    print(text_table(
        ["network", "params", "MMACs/epoch", "train ep/s CPU", "CPU s/night",
         "train ep/s CUDA", "CUDA+AMP", "peak RSS MiB"],
        rows, digits=1,
    ))
    if any(e["cpu_inference_extrapolated"] for e in results["networks"].values()):
        print("* extrapolated linearly from a shorter night (--smoke)")
    write_json(results, "mouse_smoke" if args.smoke else "mouse")
    return results


if __name__ == "__main__":
    main()
