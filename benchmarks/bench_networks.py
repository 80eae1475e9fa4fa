"""Cost of the eight networks: size, MACs, one-night CPU inference, training speed, memory.

Networks and their input epochs:

* human PSG, 30 s at 100 Hz, 5 stages: MMASleepNet, MASleepNet and ULW-SleepNet on
  (4, 3000) (EEG Fpz-Cz, EEG Pz-Oz, EOG, EMG), SSC-SleepNet on (1, 3000) (Fpz-Cz);
* rodent, 3 stages: MouseCNN, MouseCNNAttention and MouseTransformer on (2, 512)
  (EEG, EMG; 1 s at 512 Hz), SlumberNet on (2, 256) (EEG, EMG after its preprocessing;
  4 s at 64 Hz).

For each network, through its scikit-learn classifier (the paper's optimizer, loss and
default batch size; class weights off; random normal epochs with random labels, since
cost does not depend on the values):

* trainable parameters of the fitted module;
* MACs per epoch (FLOPs = 2 x MACs), one method for all networks, see
  ``_common.MAC_METHOD``: ``torch.utils.flop_counter.FlopCounterMode`` with the fused
  MHA fast path off, plus analytic LSTM gates and attention products where the counter
  sees nothing;
* CPU inference time of one night: ``predict_proba`` on ``--night-epochs`` epochs
  (default 1000), batch 128, after a one-batch warm-up; median of ``--repeats`` runs,
  a single run when one night takes over 60 s. Measured on the whole night; only when a
  night would take more than ``--max-night-s`` (default 300 s, measured on the warm-up
  batch) is the timed night shortened and scaled to ``--night-epochs``, which the
  output flags. ``--smoke`` uses tiny nights and always scales (flagged);
* training throughput in signal epochs per second: a one-batch warm-up ``fit``, then one
  timed ``partial_fit`` epoch over ``--train-epochs`` epochs (skorch's epoch ``dur``),
  on CPU and, when CUDA is available, on CUDA in fp32 and with bfloat16 autocast
  (``mixed_precision="bf16"``) over ``--cuda-train-epochs`` epochs;
* peak memory: the peak RSS (``VmHWM``) of a fresh process forked for the network's CPU
  runs (Linux; so not cumulative over networks; it includes the ~0.3 GiB of the
  Python/torch process itself, given as ``rss_before_mb``) and
  ``torch.cuda.max_memory_allocated`` during each timed CUDA epoch (CUDA runs in the
  parent process, after all CPU runs).

Results: ``benchmarks/results/networks.json`` and ``networks.md``
(``networks_smoke.*`` with ``--smoke``), with the hardware.

Usage::

    OMP_NUM_THREADS=1 python benchmarks/bench_networks.py --device cpu      # CPU figures
    python benchmarks/bench_networks.py --device cuda                       # + CUDA training
    OMP_NUM_THREADS=1 python benchmarks/bench_networks.py --smoke           # seconds
"""

import argparse
import gc
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import torch
from _common import (
    MAC_METHOD,
    Timer,
    count_macs,
    format_hardware,
    hardware_info,
    markdown_table,
    reset_peak_rss,
    rss_mb,
    run_isolated,
    text_table,
    trainable_params,
    window_peak_rss_mb,
    write_json,
    write_markdown,
)

from sklearn_sleep import models

HUMAN = ("W", "N1", "N2", "N3", "REM")
RODENT = ("W", "NREM", "REM")

#: name: (classifier class name, input (n_chans, n_times), stage labels)
NETWORKS = {
    "MMASleepNet": ("MMASleepNetClassifier", (4, 3000), HUMAN),
    "MASleepNet": ("MASleepNetClassifier", (4, 3000), HUMAN),
    "ULW-SleepNet": ("ULWSleepNetClassifier", (4, 3000), HUMAN),
    "SSC-SleepNet": ("SSCSleepNetClassifier", (1, 3000), HUMAN),
    "MouseCNN": ("MouseCNNClassifier", (2, 512), RODENT),
    "MouseCNNAttention": ("MouseCNNAttentionClassifier", (2, 512), RODENT),
    "MouseTransformer": ("MouseTransformerClassifier", (2, 512), RODENT),
    "SlumberNet": ("SlumberNetClassifier", (2, 256), RODENT),
}

#: Per-network caps of the CPU training set (signal epochs), to keep a full CPU run
#: within ~20 minutes: one SlumberNet training epoch costs ~0.6 s of one CPU core.
CPU_TRAIN_EPOCHS_CAP = {"SlumberNet": 256}
#: ``--smoke`` divides the training set and night of these networks (SlumberNet costs
#: ~100 times the others per epoch).
SMOKE_DIVISOR = {"SlumberNet": 4}

INFERENCE_BATCH = 128
SINGLE_RUN_ABOVE_S = 60.0  # one timed night, no repeats, when a night takes longer


def make_data(n, shape, labels, seed=0):
    """``n`` random normal epochs of ``shape`` and random labels, every label present."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, *shape)).astype(np.float32)
    labels = np.asarray(labels)
    y = labels[rng.integers(0, len(labels), n)]
    k = min(n, len(labels))
    y[:k] = labels[:k]
    return X, y


def _classifier(name, *, device, mixed_precision=False, batch_size=None):
    cls = getattr(models, NETWORKS[name][0])
    kwargs = {"max_epochs": 1, "device": device, "mixed_precision": mixed_precision,
              "random_state": 0, "class_weight": None, "verbose": 0}
    if batch_size is not None:
        kwargs["batch_size"] = batch_size
    return cls(**kwargs)


def train_throughput(name, X, y, *, device, mixed_precision=False, batch_size=None):
    """Signal epochs/s of one timed training epoch (after a warm-up ``fit`` on one batch).

    Returns the fitted classifier, the throughput, the epoch's seconds, the batch size
    and, on CUDA, ``torch.cuda.max_memory_allocated`` (MiB) during the timed epoch.
    """
    clf = _classifier(name, device=device, mixed_precision=mixed_precision,
                      batch_size=batch_size)
    bs = clf.batch_size
    cuda = str(device).startswith("cuda")
    # one batch (on CPU at most 32 epochs: enough to warm the kernels, cheap for SlumberNet)
    n_warm = max(min(bs, len(X) // 2, 2**20 if cuda else 32), len(NETWORKS[name][2]))
    clf.fit(X[:n_warm], y[:n_warm])  # initialises module/optimizer, warms the kernels
    if cuda:
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    clf.partial_fit(X, y)  # skorch synchronises every batch (loss.item())
    dur = float(clf.history[-1, "dur"])
    peak = None
    if cuda:
        torch.cuda.synchronize()
        peak = torch.cuda.max_memory_allocated() / 2**20
    return clf, len(X) / dur, dur, bs, peak


def night_inference(clf, shape, labels, *, night_epochs, repeats, max_night_s, smoke,
                    smoke_night):
    """Time ``predict_proba`` on one night; returns a dict of the figures."""
    clf.set_params(batch_size=INFERENCE_BATCH)
    n_make = smoke_night if smoke else night_epochs
    X_night, _ = make_data(n_make, shape, labels, seed=1)
    warm = X_night[: min(INFERENCE_BATCH, n_make)]
    with Timer() as t:
        clf.predict_proba(warm)  # warm-up, and an estimate of the night's time
    projected = t.seconds / len(warm) * night_epochs
    n_timed, capped = n_make, False
    if not smoke and projected > max_night_s:
        per_epoch = t.seconds / len(warm)
        n_timed = int(max_night_s / per_epoch) // INFERENCE_BATCH * INFERENCE_BATCH
        n_timed = min(max(n_timed, INFERENCE_BATCH), night_epochs)
        capped = n_timed < night_epochs
        X_night = X_night[:n_timed]
    times = []
    for _ in range(max(repeats, 1)):
        with Timer() as t:
            clf.predict_proba(X_night)
        times.append(t.seconds)
        if t.seconds > SINGLE_RUN_ABOVE_S:
            break
    timed_s = float(np.median(times))
    return {
        "night_epochs": night_epochs,
        "epochs_timed": n_timed,
        "runs": times,
        "seconds_timed": timed_s,
        "seconds_per_night": timed_s * night_epochs / n_timed,
        "scaled": n_timed != night_epochs,
        "capped": capped,
        "projected_from_warmup_s": projected,
    }


def bench_network_cpu(name, args):
    """CPU figures of one network (run in a fresh forked process, see ``run_isolated``)."""
    cls_name, shape, labels = NETWORKS[name]
    gc.collect()
    reset_ok = reset_peak_rss()
    entry = {"classifier": cls_name, "input": list(shape), "n_classes": len(labels),
             "rss_before_mb": rss_mb()}

    n_train = args.train_epochs
    if args.smoke:
        cap = max(n_train // SMOKE_DIVISOR.get(name, 1), len(labels))
    else:
        cap = CPU_TRAIN_EPOCHS_CAP.get(name)
    if cap is not None and cap < n_train:
        entry["cpu_train_epochs_capped_to"] = cap
        n_train = cap
    X, y = make_data(n_train, shape, labels)
    batch = min(_classifier(name, device="cpu").batch_size, n_train) if args.smoke else None
    clf, eps, dur, bs, _ = train_throughput(name, X, y, device="cpu", batch_size=batch)
    del X, y
    entry["params"] = trainable_params(clf.module_)
    fast = getattr(clf.module_, "fast", None)  # ULW-SleepNet: count the paper's separable
    if fast:                                   # convolutions, not the fast path's kernels
        clf.module_.fast = False
    macs, by_op = count_macs(clf.module_, shape)
    if fast:
        clf.module_.fast = fast
    entry.update(macs_per_epoch=macs, flops_per_epoch=2 * macs, macs_by_op=by_op)
    entry["cpu_train"] = {"epochs": n_train, "batch_size": bs, "seconds": dur,
                          "epochs_per_s": eps}
    print(f"  params {entry['params']:,}, {macs / 1e6:.1f} MMACs/epoch; "
          f"CPU training {eps:.1f} epochs/s ({n_train} epochs, batch {bs})", flush=True)

    entry["cpu_inference"] = night_inference(
        clf, shape, labels, night_epochs=args.night_epochs, repeats=args.repeats,
        max_night_s=args.max_night_s, smoke=args.smoke,
        smoke_night=max(args.smoke_night // SMOKE_DIVISOR.get(name, 1), 1),
    )
    inf = entry["cpu_inference"]
    print(f"  CPU night of {inf['night_epochs']} epochs: {inf['seconds_per_night']:.1f} s"
          + (f" (scaled from {inf['epochs_timed']} epochs)" if inf["scaled"] else ""),
          flush=True)
    entry["cpu_peak_rss_mb"] = window_peak_rss_mb()
    entry["cpu_peak_rss_reset"] = reset_ok
    return entry


def bench_network_cuda(name, args, cuda_device):
    """CUDA training figures of one network: fp32 and bfloat16 autocast."""
    _, shape, labels = NETWORKS[name]
    entry = {}
    Xc, yc = make_data(args.cuda_train_epochs, shape, labels)
    for key, amp in (("fp32", False), ("bf16", "bf16")):
        clf_c, eps_c, dur_c, bs_c, peak = train_throughput(
            name, Xc, yc, device=cuda_device, mixed_precision=amp,
            batch_size=min(16, len(Xc)) if args.smoke else None,
        )
        entry[f"cuda_train_{key}"] = {"epochs": len(Xc), "batch_size": bs_c,
                                      "seconds": dur_c, "epochs_per_s": eps_c,
                                      "max_memory_allocated_mb": peak}
        print(f"  CUDA training {key}: {eps_c:.1f} epochs/s, peak {peak:.0f} MiB",
              flush=True)
        del clf_c
        gc.collect()
        torch.cuda.empty_cache()
    return entry


def _rows(results):
    rows = []
    for name, e in results["networks"].items():
        inf = e["cpu_inference"]
        night = f"{inf['seconds_per_night']:.1f}" + ("*" if inf["scaled"] else "")
        cu32, cu16 = e.get("cuda_train_fp32"), e.get("cuda_train_bf16")
        rows.append([
            name, "x".join(map(str, e["input"])), f"{e['params']:,}",
            f"{e['macs_per_epoch'] / 1e6:.1f}", night,
            f"{e['cpu_train']['epochs_per_s']:.1f}"
            + ("†" if "cpu_train_epochs_capped_to" in e else ""),
            f"{e['cpu_peak_rss_mb']:.0f}",
            f"{cu32['epochs_per_s']:.0f}" if cu32 else "-",
            f"{cu16['epochs_per_s']:.0f}" if cu16 else "-",
            f"{cu32['max_memory_allocated_mb']:.0f} / {cu16['max_memory_allocated_mb']:.0f}"
            if cu32 else "-",
        ])
    return rows


def _header(night_epochs):
    return ["network", "input", "params", "MMACs/epoch", f"CPU s/night ({night_epochs})",
            "CPU train ep/s", "CPU peak RSS MiB", "CUDA train ep/s fp32",
            "CUDA train ep/s bf16", "CUDA peak MiB fp32 / bf16"]


def _notes(results):
    p = results["protocol"]
    notes = [
        f"MACs: {MAC_METHOD}",
        (
            f"CPU s/night: predict_proba on {p['night_epochs']} epochs, batch "
            f"{INFERENCE_BATCH}, median of up to {p['repeats']} runs (one run when a night "
            f"takes over {SINGLE_RUN_ABOVE_S:.0f} s)."
        ),
        (
            "Training: one timed epoch (skorch dur) after a one-batch warm-up fit, each "
            "classifier's default batch size and optimizer; "
            f"{p['train_epochs']} epochs on CPU"
            + (f", {p['cuda_train_epochs']} on CUDA (fp32, and bf16 autocast)."
               if p["cuda_train_epochs"] else "; no CUDA device.")
        ),
        (
            "Peak RSS: VmHWM of a fresh process forked for each network's CPU runs "
            "(includes the Python/torch process, see rss_before_mb in the JSON)."
        ),
    ]
    scaled = [n for n, e in results["networks"].items() if e["cpu_inference"]["scaled"]]
    if scaled:
        parts = [f"{n} timed on {results['networks'][n]['cpu_inference']['epochs_timed']} "
                 "epochs" for n in scaled]
        why = ("--smoke" if results["smoke"]
               else f"a night projected over {p['max_night_s']:.0f} s")
        notes.append(f"* scaled linearly to {p['night_epochs']} epochs ({why}): "
                     + ", ".join(parts) + ".")
    capped = {n: e["cpu_train_epochs_capped_to"] for n, e in results["networks"].items()
              if "cpu_train_epochs_capped_to" in e}
    if capped:
        notes.append("† CPU training set capped"
                     + (" (--smoke)" if results["smoke"] else "") + ": " + ", ".join(
            f"{n} {c} epochs" for n, c in capped.items()) + ".")
    return notes


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--networks", nargs="+", default=list(NETWORKS),
                        choices=list(NETWORKS), metavar="NAME",
                        help=f"networks to benchmark (default: all): {', '.join(NETWORKS)}")
    parser.add_argument("--smoke", action="store_true",
                        help="seconds-long run: tiny training sets and nights (scaled)")
    parser.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"],
                        help="cpu: CPU only; cuda: CPU + CUDA training; auto: CUDA if "
                        "available (default)")
    parser.add_argument("--night-epochs", type=int, default=1000,
                        help="epochs of one night for CPU inference (default 1000)")
    parser.add_argument("--train-epochs", type=int, default=None,
                        help="signal epochs of the timed CPU training epoch (default 512; "
                        "8 with --smoke)")
    parser.add_argument("--cuda-train-epochs", type=int, default=None,
                        help="signal epochs of the timed CUDA training epoch (default 4096)")
    parser.add_argument("--repeats", type=int, default=3, help="timed nights (median)")
    parser.add_argument("--max-night-s", type=float, default=300.0,
                        help="shorten (and scale) a night projected to take longer (s)")
    parser.add_argument("--out-dir", default=None, help="default benchmarks/results")
    args = parser.parse_args(argv)
    if args.train_epochs is None:
        args.train_epochs = 8 if args.smoke else 512
    if args.cuda_train_epochs is None:
        args.cuda_train_epochs = 32 if args.smoke else 4096
    args.smoke_night = 8
    if args.smoke:
        args.repeats = 1

    if args.device == "cuda" and not torch.cuda.is_available():
        parser.error("--device cuda: CUDA is not available")
    cuda_device = None
    if args.device == "cuda" or (args.device == "auto" and torch.cuda.is_available()):
        cuda_device = "cuda"

    # CUDA is initialised only after the forked CPU children (see run_isolated)
    hw = hardware_info(device="cpu")
    print(format_hardware(hw))
    results = {
        "hardware": hw,
        "smoke": args.smoke,
        "command": "python benchmarks/bench_networks.py " + " ".join(
            sys.argv[1:] if argv is None else argv),
        "protocol": {
            "night_epochs": args.night_epochs,
            "repeats": args.repeats,
            "max_night_s": args.max_night_s,
            "inference_batch": INFERENCE_BATCH,
            "train_epochs": args.train_epochs,
            "cpu_train_epochs_cap": {} if args.smoke else CPU_TRAIN_EPOCHS_CAP,
            "cuda_train_epochs": args.cuda_train_epochs if cuda_device else None,
            "cuda_autocast": "bfloat16" if cuda_device else None,
            "mac_method": MAC_METHOD,
            "data": "random normal epochs, random labels (every class present)",
        },
        "networks": {},
    }
    with Timer() as total:
        for name in args.networks:  # CPU: each network in a fresh process (peak RSS)
            print(f"\n== {name} {NETWORKS[name][1]}", flush=True)
            with Timer() as t:
                results["networks"][name] = run_isolated(bench_network_cpu, name, args)
            results["networks"][name]["wall_s"] = t.seconds
        if cuda_device is not None:
            hw = results["hardware"] = hardware_info(device=cuda_device)
            print(f"\nCUDA: {hw.get('cuda_device')}", flush=True)
            for name in args.networks:
                print(f"== {name}", flush=True)
                with Timer() as t:
                    results["networks"][name].update(bench_network_cuda(name, args, cuda_device))
                results["networks"][name]["wall_s_cuda"] = t.seconds
    results["wall_s"] = total.seconds

    header, rows = _header(args.night_epochs), _rows(results)
    notes = _notes(results)
    print()
    print(text_table(header, rows))
    for note in notes:
        print(note)
    print(f"total wall {total.seconds:.0f} s")

    stem = "networks_smoke" if args.smoke else "networks"
    write_json(results, stem, out_dir=args.out_dir)
    md = [
        "# Network cost" + (" (smoke run: figures meaningless)" if args.smoke else ""),
        "",
        f"Command: `{results['command']}`",
        "",
        "Hardware:",
        "",
        "```",
        format_hardware(hw),
        "```",
        "",
        markdown_table(header, rows),
        "",
        *["- " + ("\\" + n if n.startswith("*") else n) for n in notes],
        f"- Total wall time {total.seconds:.0f} s.",
    ]
    write_markdown("\n".join(md), stem, out_dir=args.out_dir)
    return results


if __name__ == "__main__":
    main()
