"""Time to stage one night on one CPU thread: every network vs band power + HGB.

Protocol (synthetic data: cost does not depend on the values):

* one night = ``--night-epochs`` (default 1000) random-normal epochs of each network's
  input shape (4 x 3000 for the 100-Hz human PSG networks and the classical pipeline);
* the classical pipeline is ``BandPowerFeatures(sfreq=100) -> HistGradientBoosting
  Classifier(max_iter=200, early_stopping=False)`` (the Sleep-EDF feature baseline of
  ``sleep_edf_protocol.py``), fitted on 1000 epochs of 5 labels before timing;
  networks are fitted for one training epoch on 64 epochs (weights do not change
  their cost);
* the timed call is ``predict_proba`` on the whole night (networks: batch 128);
* **the ULW-SleepNet ratio**: ULW-SleepNet (fast path, the default), ULW-SleepNet
  ``module__fast=False`` (the previous, reference formulation) and the classical
  pipeline are timed in ONE process, interleaved, ``--repeats`` rounds; wall-clock
  (``perf_counter``) and CPU (``process_time``) seconds are both reported with their
  medians, and the ratio is the median of the per-round ratios (the shared machine is
  noisy: interleaving exposes both to the same load);
* every other network: median of ``--network-repeats`` nights in a fresh forked process
  (a night over 60 s is timed once; one over ``--max-night-s``, judged from a one-batch
  warm-up, is timed on fewer epochs and scaled, flagged), and the peak RSS (``VmHWM``)
  of that process (it includes the ~0.3 GiB of the Python/torch process itself).

Usage::

    OMP_NUM_THREADS=1 python benchmarks/bench_night.py              # all networks
    OMP_NUM_THREADS=1 python benchmarks/bench_night.py --networks ULW-SleepNet
    OMP_NUM_THREADS=1 python benchmarks/bench_night.py --smoke      # seconds

Results: ``benchmarks/results/night.json`` and ``night.md`` (``night_smoke.*``).
"""

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import torch
from _common import (
    format_hardware,
    hardware_info,
    markdown_table,
    reset_peak_rss,
    rss_mb,
    run_isolated,
    write_json,
    write_markdown,
)

from sklearn_sleep import models

# one table of the networks, their inputs and the synthetic data, shared with bench_networks
from bench_networks import (  # noqa: E402
    HUMAN,
    INFERENCE_BATCH,
    NETWORKS,
    SINGLE_RUN_ABOVE_S,
    make_data,
)


def fitted_network(name, n_fit=64, **params):
    """The network's classifier fitted one training epoch on ``n_fit`` random epochs."""
    cls_name, shape, labels = NETWORKS[name]
    X, y = make_data(n_fit, shape, labels)
    clf = getattr(models, cls_name)(max_epochs=1, device="cpu", random_state=0,
                                    class_weight=None, **params)
    clf.fit(X, y)
    return clf.set_params(batch_size=INFERENCE_BATCH)


def band_power_hgb(n_fit=1000, seed=0):
    """Band power + HGB (the Sleep-EDF feature baseline), fitted on random epochs."""
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.pipeline import make_pipeline

    from sklearn_sleep.features import BandPowerFeatures

    X, y = make_data(n_fit, (4, 3000), HUMAN, seed=seed)
    pipe = make_pipeline(
        BandPowerFeatures(sfreq=100.0),
        HistGradientBoostingClassifier(max_iter=200, early_stopping=False, random_state=seed),
    )
    return pipe.fit(X, y)


def _clock(fn):
    w0, c0 = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - w0, time.process_time() - c0


def ulw_ratio(night_epochs, repeats, n_fit=1000):
    """ULW-SleepNet (fast, reference) vs band power + HGB, interleaved in one process."""
    X, _ = make_data(night_epochs, (4, 3000), HUMAN, seed=1)
    contenders = {
        "band power + HGB": band_power_hgb(n_fit),
        "ULW-SleepNet": fitted_network("ULW-SleepNet"),
        "ULW-SleepNet (reference, fast=False)": fitted_network("ULW-SleepNet",
                                                               module__fast=False),
    }
    # the two formulations must agree before their speed means anything
    a = contenders["ULW-SleepNet"].predict_proba(X[:256])
    contenders["ULW-SleepNet (reference, fast=False)"].module_.load_state_dict(
        contenders["ULW-SleepNet"].module_.state_dict())
    b = contenders["ULW-SleepNet (reference, fast=False)"].predict_proba(X[:256])
    max_abs_diff = float(np.abs(a - b).max())
    if max_abs_diff > 1e-4:
        raise RuntimeError(f"fast and reference ULW-SleepNet disagree by {max_abs_diff:g}")
    runs = {k: {"wall": [], "cpu": []} for k in contenders}
    for _ in range(repeats):
        for key, est in contenders.items():
            wall, cpu = _clock(lambda est=est: est.predict_proba(X))
            runs[key]["wall"].append(wall)
            runs[key]["cpu"].append(cpu)
    out = {"night_epochs": night_epochs, "rounds": repeats, "runs": runs,
           "max_abs_diff_fast_vs_reference": max_abs_diff}
    base = runs["band power + HGB"]
    for clock in ("wall", "cpu"):
        for key in contenders:
            out[f"median_{clock}_s {key}"] = float(np.median(runs[key][clock]))
        for key in ("ULW-SleepNet", "ULW-SleepNet (reference, fast=False)"):
            ratios = np.asarray(runs[key][clock]) / np.asarray(base[clock])
            out[f"ratio_{clock} {key} / band power + HGB"] = float(np.median(ratios))
    return out


def network_night(name, night_epochs, repeats, max_night_s):
    """One network's night time and the peak RSS of this (forked) process."""
    reset_ok = reset_peak_rss()
    entry = {"rss_before_mb": rss_mb(), "peak_rss_reset": reset_ok}
    _, shape, labels = NETWORKS[name]
    clf = fitted_network(name)
    X, _ = make_data(night_epochs, shape, labels, seed=1)
    wall, _ = _clock(lambda: clf.predict_proba(X[:INFERENCE_BATCH]))  # warm-up
    projected = wall / min(INFERENCE_BATCH, night_epochs) * night_epochs
    n_timed = night_epochs
    if projected > max_night_s:
        per_epoch = projected / night_epochs
        n_timed = max(INFERENCE_BATCH, int(max_night_s / per_epoch) // INFERENCE_BATCH
                      * INFERENCE_BATCH)
        n_timed = min(n_timed, night_epochs)
    walls, cpus = [], []
    for _ in range(max(repeats, 1)):
        wall, cpu = _clock(lambda: clf.predict_proba(X[:n_timed]))
        walls.append(wall)
        cpus.append(cpu)
        if wall > SINGLE_RUN_ABOVE_S:
            break
    scale = night_epochs / n_timed
    entry.update(
        input=list(shape), epochs_timed=n_timed, scaled=n_timed != night_epochs,
        wall_runs=walls, cpu_runs=cpus,
        wall_s_per_night=float(np.median(walls)) * scale,
        cpu_s_per_night=float(np.median(cpus)) * scale,
    )
    from _common import window_peak_rss_mb

    entry["peak_rss_mb"] = window_peak_rss_mb()
    return entry


def build_parser():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--night-epochs", type=int, default=1000)
    p.add_argument("--repeats", type=int, default=7,
                   help="interleaved rounds of the ULW-SleepNet / band-power+HGB ratio")
    p.add_argument("--network-repeats", type=int, default=3)
    p.add_argument("--max-night-s", type=float, default=120.0)
    p.add_argument("--networks", nargs="*", default=list(NETWORKS),
                   help="networks timed in their own process (default: all)")
    p.add_argument("--smoke", action="store_true",
                   help="tiny nights, 2 rounds, HGB fitted on 100 epochs")
    p.add_argument("--out-dir", default=None, help="results folder (default: results/)")
    return p


def main(argv=None):
    args = build_parser().parse_args(argv)
    torch.set_num_threads(1)
    if args.smoke:
        args.night_epochs, args.repeats, args.network_repeats = 32, 2, 1
        args.networks = [n for n in args.networks if n == "ULW-SleepNet"]
    unknown = sorted(set(args.networks) - set(NETWORKS))
    if unknown:
        raise SystemExit(f"unknown network(s) {unknown}; choose from {list(NETWORKS)}")
    t0 = time.perf_counter()
    print(f"ULW-SleepNet vs band power + HGB, {args.repeats} interleaved rounds", flush=True)
    ratio = run_isolated(ulw_ratio, args.night_epochs, args.repeats,
                         100 if args.smoke else 1000)
    for k, v in ratio.items():
        if k.startswith(("median", "ratio")):
            print(f"  {k}: {v:.3f}", flush=True)
    nets = {}
    for name in args.networks:
        print(f"{name}:", flush=True)
        nets[name] = run_isolated(network_night, name, args.night_epochs,
                                  args.network_repeats, args.max_night_s)
        e = nets[name]
        print(f"  {e['wall_s_per_night']:.2f} s wall, {e['cpu_s_per_night']:.2f} s CPU per "
              f"night; peak RSS {e['peak_rss_mb']:.0f} MiB", flush=True)
    hw = hardware_info("cpu")
    payload = {"hardware": hw, "args": vars(args), "ulw_vs_band_power_hgb": ratio,
               "networks": nets, "data": "synthetic (random normal epochs)",
               "total_wall_s": time.perf_counter() - t0}
    stem = "night_smoke" if args.smoke else "night"
    write_json(payload, stem, out_dir=args.out_dir)

    n = args.night_epochs
    key = "ULW-SleepNet"
    ref = "ULW-SleepNet (reference, fast=False)"
    rows = [[k, ratio[f"median_wall_s {k}"], ratio[f"median_cpu_s {k}"],
             ratio.get(f"ratio_wall {k} / band power + HGB", 1.0),
             ratio.get(f"ratio_cpu {k} / band power + HGB", 1.0)]
            for k in ("band power + HGB", key, ref)]
    net_rows = [[name, "x".join(map(str, e["input"])), e["wall_s_per_night"],
                 e["cpu_s_per_night"], round(e["peak_rss_mb"]),
                 "scaled from %d epochs" % e["epochs_timed"] if e["scaled"] else ""]
                for name, e in nets.items()]
    text = "\n".join([
        "# One night on one CPU thread",
        "",
        f"Command: `python benchmarks/bench_night.py{' --smoke' if args.smoke else ''}`"
        " (OMP_NUM_THREADS=1). Data: synthetic (random normal epochs).",
        "",
        "Hardware:",
        "",
        "```",
        format_hardware(hw),
        "```",
        "",
        f"## ULW-SleepNet vs band power + HGB ({n} epochs of 4 x 3000, same process, "
        f"{args.repeats} interleaved rounds)",
        "",
        markdown_table(["pipeline", "median wall s", "median CPU s",
                        "ratio wall (median of rounds)", "ratio CPU (median of rounds)"],
                       rows),
        "",
        f"Fast vs reference ULW-SleepNet outputs: max |diff| of probabilities "
        f"{ratio['max_abs_diff_fast_vs_reference']:.1e}.",
        "",
        f"## Every network: one night of {n} epochs (own process, predict_proba batch "
        f"{INFERENCE_BATCH})",
        "",
        markdown_table(["network", "input", "wall s/night", "CPU s/night", "peak RSS MiB",
                        "note"], net_rows),
        "",
        "- Peak RSS: VmHWM of a fresh forked process (includes the Python/torch process, "
        "see rss_before_mb in the JSON).",
        "- Wall vs CPU: wall-clock times include any other load on the machine; CPU "
        "seconds (``process_time`` of this single-threaded process) do not. Both ratios "
        "are medians of per-round ratios of runs interleaved in one process.",
        f"- Total wall time {payload['total_wall_s']:.0f} s.",
        "",
    ])
    write_markdown(text, stem, out_dir=args.out_dir)
    print(text)
    return payload


if __name__ == "__main__":
    main()
