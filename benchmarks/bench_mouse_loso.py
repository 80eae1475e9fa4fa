"""Leave-one-mouse-out benchmark of the three mouse networks with their paper recipes.

SYNTHETIC DATA. The paper (Mashrur, Luo, Berggren, Zhao, "Mice Sleep Staging from EEG
and EMG signals"; ``NETWORKS.md`` section 5) trains on 8 mice, ~4 h each, EEG + EMG at
512 Hz in 1-s epochs, stages Wake / NREM / REM, with leave-one-subject-out (LOSO)
evaluation, and reports in its Table I the mean LOSO accuracy: CNN 85.5 %, CNN +
attention 84.65 %, Transformer 76.05 %. This script builds data of that shape with
:func:`sklearn_sleep.datasets.make_synthetic_psg` (``preset="mouse"``; one recording per
mouse, z-scored per mouse and channel = the paper's "normalisation"), runs LOSO for
``MouseCNNClassifier``, ``MouseCNNAttentionClassifier`` and
``MouseTransformerClassifier`` with their default (paper) recipes, and prints per-mouse
and pooled accuracy, macro-F1, kappa and per-class F1 beside the paper's Table I.

The synthetic signals are NOT the paper's recordings: the comparison only shows that
the pipeline runs end to end at the paper's shape and what the recipe achieves on
data whose stage structure is known; it says nothing about reproducing Table I.

Full-size run (the paper's shape and recipes; far too slow for a shared 2-core CPU,
meant for a GPU)::

    python benchmarks/bench_mouse_loso.py --hours 4 --device cuda

Reduced CPU run committed in ``benchmarks/results/mouse_loso.{json,md}``: see the
command recorded in that file (``argv``). ``--max-epochs`` and ``--folds`` take one
value for all networks or one per network (in the order of ``--networks``);
``--folds k`` evaluates only the first ``k`` held-out mice.
"""

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (  # noqa: E402
    Timer,
    format_hardware,
    hardware_info,
    markdown_table,
    pooled_scores,
    text_table,
    write_json,
    write_markdown,
)

from sklearn_sleep.utils import MOUSE_STAGES  # noqa: E402

#: name -> classifier attribute of sklearn_sleep.models
NETWORKS = {
    "cnn": "MouseCNNClassifier",
    "cnn-attention": "MouseCNNAttentionClassifier",
    "transformer": "MouseTransformerClassifier",
}

#: The paper's Table I (LOSO accuracy, %, [PAPER], NETWORKS.md section 5).
PAPER_TABLE_I = {
    "cnn": {"mean_accuracy": 0.855,
            "per_mouse_accuracy": [0.9092, 0.823, 0.8797, 0.8323, 0.8983, 0.912, 0.7173,
                                   0.8479]},
    "cnn-attention": {"mean_accuracy": 0.8465, "f1_W": 0.812, "f1_NREM": 0.855,
                      "f1_REM": 0.323},
    "transformer": {"mean_accuracy": 0.7605},
}
PAPER_SOURCE = ("Mashrur, Luo, Berggren, Zhao, 'Mice Sleep Staging from EEG and EMG "
                "signals', Table I (LOSO over 8 real mice) [PAPER]")

#: Tiny module sizes used only by ``--smoke`` (so the smoke test takes seconds).
SMOKE_MODULE = {
    "cnn": {},
    "cnn-attention": {"module__n_heads": (2, 2, 2)},
    "transformer": {"module__n_layers": 1, "module__d_model": 32, "module__n_heads": 4,
                    "module__d_ff": 64, "module__head_hidden": 32},
}


def make_data(n_mice, n_epochs, seed):
    """Synthetic mice (512 Hz, 1-s epochs, W/NREM/REM), z-scored per mouse and channel."""
    from sklearn_sleep.datasets import make_synthetic_psg
    from sklearn_sleep.preprocessing import scale_recordings

    data = make_synthetic_psg(n_subjects=n_mice, n_epochs=n_epochs, preset="mouse",
                              random_state=seed)
    data.X = np.asarray(scale_recordings(data.X, data.groups, method="standard"),
                        dtype=np.float32)
    return data


def per_network(values, networks, name, cast):
    """One value for every network, or one per network in order."""
    if len(values) == 1:
        return {n: cast(values[0]) for n in networks}
    if len(values) != len(networks):
        raise SystemExit(f"--{name} takes 1 value or one per network ({len(networks)}), "
                         f"got {len(values)}.")
    return {n: cast(v) for n, v in zip(networks, values)}


def loso(est, X, y, groups, n_folds):
    """Leave-one-mouse-out over the first ``n_folds`` mice; per-mouse and pooled scores."""
    from sklearn.base import clone

    mice = list(dict.fromkeys(groups.tolist()))[:n_folds]
    y_true, y_pred, per_mouse, fit_s = [], [], [], []
    cpu_start = time.process_time()
    for mouse in mice:
        test = groups == mouse
        model = clone(est)
        with Timer() as t:
            model.fit(X[~test], y[~test])
        pred = np.asarray(model.predict(X[test])).astype(str)
        fit_s.append(t.seconds)
        y_true.append(y[test])
        y_pred.append(pred)
        per_mouse.append({"mouse": str(mouse), "n_test": int(test.sum()),
                          "accuracy": float(np.mean(pred == y[test])),
                          "majority_accuracy": float(max(np.mean(y[test] == s)
                                                         for s in MOUSE_STAGES)),
                          "fit_s": t.seconds})
        print(f"    held-out mouse {mouse}: accuracy {per_mouse[-1]['accuracy']:.3f} "
              f"(fit {t.seconds:.0f} s)", flush=True)
    y_true, y_pred = np.concatenate(y_true), np.concatenate(y_pred)
    return {
        "pooled": pooled_scores(y_true, y_pred, labels=list(MOUSE_STAGES)),
        "mean_accuracy": float(np.mean([m["accuracy"] for m in per_mouse])),
        "per_mouse": per_mouse,
        "fit_time_s": float(np.sum(fit_s)),
        "cpu_time_s": time.process_time() - cpu_start,
    }

#: The paper's configuration (section V.B): what a full-size run uses.
PAPER_CONFIG = {"mice": 8, "hours": 4.0, "max_epochs": 30,
                "batch_size": {"cnn": 64, "cnn-attention": 64, "transformer": 512}}
FULL_COMMAND = "python benchmarks/bench_mouse_loso.py --hours 4 --device cuda"


def reductions(payload):
    """Plain-language list of where a run departs from the paper's configuration."""
    out, data = [], payload["data"]
    if data["mice"] != PAPER_CONFIG["mice"]:
        out.append(f"{data['mice']} mice instead of {PAPER_CONFIG['mice']}")
    hours = data["epochs_per_mouse"] / 3600
    if not np.isclose(hours, PAPER_CONFIG["hours"]):
        out.append(f"{data['epochs_per_mouse']} 1-s epochs per mouse ({hours * 60:.3g} min) "
                   f"instead of ~{PAPER_CONFIG['hours']:g} h ({PAPER_CONFIG['hours'] * 3600:.0f})")
    for net, r in payload["results"].items():
        rec = r["recipe"]
        if rec["max_epochs"] != PAPER_CONFIG["max_epochs"]:
            out.append(f"{r['network']}: {rec['max_epochs']} training epochs instead of "
                       f"{PAPER_CONFIG['max_epochs']}")
        if rec["batch_size"] != PAPER_CONFIG["batch_size"][net]:
            out.append(f"{r['network']}: batch {rec['batch_size']} instead of "
                       f"{PAPER_CONFIG['batch_size'][net]}")
        if r["folds_run"] != data["mice"]:
            out.append(f"{r['network']}: only the first {r['folds_run']} of {data['mice']} "
                       "held-out mice evaluated (not a full LOSO)")
    return out


def result_table(payload):
    """Header and rows of the results table (ours beside the paper's Table I)."""
    header = ["network", "recipe", "held-out mice", "mean acc (ours, synthetic)",
              "pooled acc", "MF1", "kappa", "F1 W", "F1 NREM", "F1 REM",
              "paper Table I mean acc (real mice)", "fit s (wall)", "CPU s"]
    rows = []
    for r in payload["results"].values():
        p, rec = r["pooled"], r["recipe"]
        rows.append([
            r["network"],
            f"{rec['optimizer']} lr {rec['lr']:g}, batch {rec['batch_size']}, "
            f"{rec['max_epochs']} ep, {rec['lr_schedule']}, CE",
            f"{r['folds_run']}/{payload['data']['mice']}", r["mean_accuracy"],
            p["accuracy"], p["macro_f1"], p["kappa"], p.get("f1_W"), p.get("f1_NREM"),
            p.get("f1_REM"), r["paper"]["mean_accuracy"], round(r["fit_time_s"]),
            None if r.get("cpu_time_s") is None else round(r["cpu_time_s"]),
        ])
    return header, rows


def render_markdown(payload):
    """The Markdown report of a run (also usable on a saved JSON payload)."""
    data, n_epochs = payload["data"], payload["data"]["epochs_per_mouse"]
    header, rows = result_table(payload)
    reduced = payload.get("reductions") or reductions(payload)
    md = [
        "# Mouse networks, leave-one-mouse-out, paper recipes: SYNTHETIC data",
        "",
        f"Data: `make_synthetic_psg(preset='mouse')`, {data['mice']} synthetic mice x "
        f"{n_epochs} 1-s epochs at 512 Hz ({n_epochs / 3600:.3g} h each; paper: 8 real "
        f"mice, ~4 h each), z-scored per mouse; stage counts {data['stage_counts']} "
        f"(majority-class accuracy {data['majority_accuracy']:.3f}). Command: "
        f"`python benchmarks/bench_mouse_loso.py {' '.join(payload['argv'])}`. "
        f"Hardware: {format_hardware(payload['hardware'])}. Total wall time "
        f"{payload['total_wall_s']:.0f} s.",
        "",
        markdown_table(header, rows),
        "",
    ]
    if reduced:
        md += ["**Reduced configuration** (everything else is the paper's recipe):", ""]
        md += [f"* {line}" for line in reduced]
        md += ["", f"Full-size command (meant for a GPU): `{FULL_COMMAND}`.", ""]
    md += [
        f"Paper column: {PAPER_SOURCE}; per-mouse CNN accuracies "
        f"{PAPER_TABLE_I['cnn']['per_mouse_accuracy']}; CNN + attention per-class F1 "
        "W 0.812, NREM 0.855, REM 0.323. Those are real recordings; ours are synthetic "
        "(and much easier), so the columns are not comparable as a reproduction.",
        "",
    ]
    return "\n".join(md)


def build_parser():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--networks", nargs="+", choices=list(NETWORKS), default=list(NETWORKS))
    p.add_argument("--mice", type=int, default=8, help="synthetic mice (paper: 8)")
    p.add_argument("--hours", type=float, default=4.0,
                   help="hours of 1-s epochs per mouse (paper: ~4)")
    p.add_argument("--epochs-per-mouse", type=int, default=None,
                   help="1-s epochs per mouse; overrides --hours")
    p.add_argument("--max-epochs", nargs="+", default=["paper"],
                   help="training epochs: 'paper' (30), one int, or one per network")
    p.add_argument("--folds", nargs="+", type=int, default=None,
                   help="held-out mice evaluated (default: all = full LOSO); one or per network")
    p.add_argument("--device", default="auto")
    p.add_argument("--threads", type=int, default=None, help="torch.set_num_threads")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--smoke", action="store_true",
                   help="seconds: 3 mice x 24 epochs, 2 folds, 1 training epoch, tiny modules")
    p.add_argument("--out-dir", type=Path, default=None)
    p.add_argument("--name", default=None)
    return p


def main(argv=None):
    args = build_parser().parse_args(argv)
    import torch

    import sklearn_sleep.models as models
    from sklearn_sleep.models import resolve_device

    if args.threads is not None:
        torch.set_num_threads(args.threads)
    n_epochs = (args.epochs_per_mouse if args.epochs_per_mouse is not None
                else int(round(args.hours * 3600)))
    if args.smoke:
        args.mice, n_epochs = 3, 24
        args.max_epochs, args.folds = ["1"], [2]
    networks = args.networks
    max_epochs = per_network(args.max_epochs, networks, "max-epochs",
                             lambda v: None if v == "paper" else int(v))
    folds = per_network(args.folds or [args.mice], networks, "folds",
                        lambda v: min(int(v), args.mice))
    device = resolve_device(args.device)
    name = args.name or ("mouse_loso_smoke" if args.smoke else "mouse_loso")
    hw = hardware_info(device=device)
    print(format_hardware(hw))
    print(f"SYNTHETIC data: {args.mice} mice x {n_epochs} 1-s epochs at 512 Hz "
          f"({n_epochs / 3600:.3g} h each)")

    data = make_data(args.mice, n_epochs, args.seed)
    X, y, groups = data.X, np.asarray(data.y).astype(str), np.asarray(data.groups)
    counts = {s: int(np.sum(y == s)) for s in MOUSE_STAGES}
    print(f"stage counts: {counts}")

    results = {}
    with Timer() as total:
        for net in networks:
            cls = getattr(models, NETWORKS[net])
            params = dict(device=device, random_state=args.seed)
            if max_epochs[net] is not None:
                params["max_epochs"] = max_epochs[net]
            if args.smoke:
                params.update(SMOKE_MODULE[net], batch_size=16)
            est = cls(**params)
            recipe = {k: v for k, v in est.get_params().items()
                      if k in ("optimizer", "lr", "batch_size", "max_epochs", "lr_schedule",
                               "class_weight", "criterion")}
            recipe = {k: getattr(v, "__name__", v) for k, v in recipe.items()}
            print(f"{NETWORKS[net]}: {recipe}; LOSO over {folds[net]} of {args.mice} mice",
                  flush=True)
            out = loso(est, X, y, groups, folds[net])
            out.update(network=NETWORKS[net], recipe=recipe, folds_run=folds[net],
                       paper=PAPER_TABLE_I[net])
            results[net] = out

    majority = max(counts.values()) / len(y)
    payload = {
        "what": "LOSO of the mouse networks with their paper recipes on SYNTHETIC mice",
        "synthetic": True,
        "argv": list(argv) if argv is not None else sys.argv[1:],
        "data": {"generator": "make_synthetic_psg(preset='mouse')", "mice": args.mice,
                 "epochs_per_mouse": n_epochs, "sfreq": 512.0, "epoch_seconds": 1.0,
                 "scaling": "z-score per mouse and channel", "stage_counts": counts,
                 "majority_accuracy": majority, "seed": args.seed},
        "paper_source": PAPER_SOURCE,
        "hardware": hw,
        "results": results,
        "total_wall_s": total.seconds,
    }
    payload["reductions"] = reductions(payload)
    header, rows = result_table(payload)
    print(text_table(header, rows))
    for line in payload["reductions"]:
        print("reduced:", line)
    write_json(payload, name, out_dir=args.out_dir)
    write_markdown(render_markdown(payload), name, out_dir=args.out_dir)
    return payload


if __name__ == "__main__":
    main()
