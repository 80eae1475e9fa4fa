"""Cost of the multimodal human-PSG networks: MMASleepNet and MASleepNet.

For each network, on (4, 3000) epochs (EEG Fpz-Cz, EEG Pz-Oz, EOG, EMG; 30 s at 100 Hz):

* parameter count;
* MACs (multiply-accumulates; FLOPs = 2 x MACs) per epoch of one forward pass, counted
  with ``torch.utils.flop_counter.FlopCounterMode`` (convolutions, matmuls, attention)
  with PyTorch's fused MHA fast path disabled so that the Transformer is counted; the
  LSTM, which FlopCounterMode does not count, is added analytically as
  ``4 H (I + H)`` MACs per step and direction (gates only, no element-wise ops), and so
  are the attention products ``2 L^2 d`` when the CPU attention kernel is not counted;
* CPU inference time for one night of 1000 epochs (``predict_proba`` of the fitted
  classifier, batch 128, median of repeats; with ``--smoke`` a shorter "night" and a
  linear extrapolation to 1000 epochs, flagged in the output);
* training throughput in signal epochs per second through the scikit-learn classifier
  (``fit``; skorch's per-epoch ``dur`` of the last training epoch, the first being
  warm-up) on CPU and, when available and asked for, on CUDA with and without mixed
  precision (bfloat16 autocast);
* peak memory: peak resident set size of the process (CPU) and
  ``torch.cuda.max_memory_allocated`` during training (CUDA).

The data are random normal epochs with random labels (cost does not depend on them).
Results go to ``benchmarks/results/multimodal.json`` (``multimodal_smoke.json`` with
``--smoke``).

Usage::

    OMP_NUM_THREADS=1 python benchmarks/bench_multimodal.py --smoke
    python benchmarks/bench_multimodal.py --device cuda
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
    MASleepNet,
    MASleepNetClassifier,
    MMASleepNet,
    MMASleepNetClassifier,
)

NETWORKS = {
    "MMASleepNet": (MMASleepNet, MMASleepNetClassifier),
    "MASleepNet": (MASleepNet, MASleepNetClassifier),
}
N_CHANS, N_TIMES, N_CLASSES = 4, 3000, 5
STAGES = np.array(["W", "N1", "N2", "N3", "REM"])


def count_macs(module, n_chans=N_CHANS, n_times=N_TIMES):
    """MACs of one forward pass on one epoch, and how they were counted."""
    module = module.eval()
    x = torch.randn(1, n_chans, n_times)
    fastpath = torch.backends.mha.get_fastpath_enabled()
    torch.backends.mha.set_fastpath_enabled(False)
    try:
        with FlopCounterMode(display=False) as counter, torch.no_grad():
            module(x)
    finally:
        torch.backends.mha.set_fastpath_enabled(fastpath)
    by_op = {str(k): v / 2 for k, v in counter.get_flop_counts()["Global"].items()}
    lstm_macs = attn_macs = 0
    steps = {}

    def remember_length(mod, inputs, output):
        steps[mod] = inputs[0].shape[1]  # batch_first

    hooks = [m.register_forward_hook(remember_length)
             for m in module.modules() if isinstance(m, (nn.LSTM, nn.MultiheadAttention))]
    with torch.no_grad():
        module(x)
    for h in hooks:
        h.remove()
    for mod, n_steps in steps.items():
        if isinstance(mod, nn.MultiheadAttention):
            attn_macs += 2 * n_steps * n_steps * mod.embed_dim  # Q K^T and A V
            continue
        lstm = mod
        directions = 2 if lstm.bidirectional else 1
        in_size = lstm.input_size
        for _ in range(lstm.num_layers):
            lstm_macs += n_steps * directions * 4 * lstm.hidden_size * (in_size + lstm.hidden_size)
            in_size = directions * lstm.hidden_size
    if lstm_macs:
        by_op["lstm (analytic)"] = lstm_macs
    if attn_macs and not any("attention" in op for op in by_op):
        by_op["attention QK^T, AV (analytic)"] = attn_macs
    return sum(by_op.values()), by_op


def make_data(n, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, N_CHANS, N_TIMES)).astype(np.float32)
    y = STAGES[rng.integers(0, N_CLASSES, n)]
    y[:N_CLASSES] = STAGES  # every class present
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
        "input": [N_CHANS, N_TIMES], "n_train_cpu": n_train, "n_train_cuda": n_train_cuda,
        "night_epochs_timed": n_night, "batch_size": batch, "fit_epochs": epochs,
        "inference_batch": 128, "mac_counter": "torch.utils.flop_counter.FlopCounterMode "
        "(MHA fast path off) + analytic LSTM gates and attention products",
    }, "networks": {}}

    rows = []
    for name in args.networks:
        module_cls, clf_cls = NETWORKS[name]
        print(f"\n== {name}", flush=True)
        net = module_cls()
        n_params = sum(p.numel() for p in net.parameters())
        macs, by_op = count_macs(net)
        entry = {"params": n_params, "macs_per_epoch": macs, "flops_per_epoch": 2 * macs,
                 "macs_by_op": by_op}

        X, y = make_data(n_train)
        clf, eps_cpu, _ = train_throughput(
            clf_cls, X, y, device="cpu", mixed_precision=False, batch_size=batch, epochs=epochs
        )
        entry["train_epochs_per_s_cpu"] = eps_cpu

        X_night, _ = make_data(n_night, seed=1)
        clf.set_params(batch_size=128)
        t_night, _ = median_time(lambda: clf.predict_proba(X_night), repeats=repeats)
        entry["cpu_inference_s_per_1000_epochs"] = t_night * 1000 / n_night
        entry["cpu_inference_extrapolated"] = n_night != 1000
        entry["cpu_peak_rss_mb"] = peak_rss_mb()

        if want_cuda:
            Xc, yc = make_data(n_train_cuda)
            for amp in (False, True):
                _, eps, peak = train_throughput(
                    clf_cls, Xc, yc, device=cuda_device, mixed_precision=amp,
                    batch_size=batch if args.smoke else 256, epochs=epochs,
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
    write_json(results, "multimodal_smoke" if args.smoke else "multimodal")
    return results


if __name__ == "__main__":
    main()
