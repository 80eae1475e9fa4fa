"""Every network of ``sklearn_sleep.models`` with one training budget on synthetic PSG.

Which architectures pick up the stage structure when they all get the same data,
the same number of training epochs, the same batch size and learning rate, and
subject-wise cross-validation? Data come from
:func:`sklearn_sleep.datasets.make_synthetic_psg` (human preset: 4 channels at 100 Hz,
30-s epochs; mouse preset: EEG + EMG at 512 Hz, 1-s epochs; SlumberNet: 4-s epochs at
256 Hz through its own :class:`~sklearn_sleep.models.slumbernet.SlumberNetPreprocessor`).
Every recording is robust-scaled on its own (:func:`~sklearn_sleep.preprocessing.scale_recordings`,
unsupervised, no information crosses recordings) unless ``--no-scale``.

Networks and papers:

* MMASleepNet: Zheng Y. et al., Front. Neurosci. 2022, doi 10.3389/fnins.2022.973761
* MASleepNet: Wang Z. et al., Biomimetics 2025, doi 10.3390/biomimetics10100642
* ULW-SleepNet: Wang Z. et al., ICASSP 2026, arXiv 2602.23852
* SSC-SleepNet (Fpz-Cz only): Lin S. et al., IEEE JBHI 2025, doi 10.1109/JBHI.2025.3572886
* MouseCNN / MouseCNNAttention / MouseTransformer: Mashrur, Luo, Berggren, Zhao (Univ.
  Rochester), architectures as assumed in NETWORKS.md §5
* SlumberNet: Jha P.K. et al., Sci Rep 2024, doi 10.1038/s41598-024-54727-0

The recipe of each classifier (loss, optimizer class, class weights, scheduler) is
kept; ``--max-epochs``, ``--batch-size`` and ``--lr`` are set identically for all
(``--lr paper`` keeps each paper's learning rate instead, e.g. SlumberNet's 1e-6).
Metrics (ACC, MF1, kappa, G-mean, per-class F1) are computed on predictions pooled over
the folds.

Usage::

    python benchmarks/bench_synthetic_networks.py --device cuda --max-epochs 20   # full
    python benchmarks/bench_synthetic_networks.py --smoke                         # seconds
"""

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (  # noqa: E402
    SHORT_BUDGET_OVERRIDES,
    Timer,
    format_hardware,
    hardware_info,
    markdown_table,
    peak_rss_mb,
    pooled_scores,
    text_table,
    write_json,
    write_markdown,
)

from sklearn_sleep.utils import AASM_STAGES, MOUSE_STAGES  # noqa: E402

#: name -> (classifier attribute, data preset key, paper short name)
NETWORKS = {
    "mmasleepnet": ("MMASleepNetClassifier", "human", "Zheng et al. 2022"),
    "masleepnet": ("MASleepNetClassifier", "human", "Wang et al. 2025"),
    "ulw-sleepnet": ("ULWSleepNetClassifier", "human", "Wang et al. 2026"),
    "ssc-sleepnet": ("SSCSleepNetClassifier", "human-eeg", "Lin et al. 2025"),
    "mouse-cnn": ("MouseCNNClassifier", "mouse", "Rochester (assumed)"),
    "mouse-cnn-attention": ("MouseCNNAttentionClassifier", "mouse", "Rochester (assumed)"),
    "mouse-transformer": ("MouseTransformerClassifier", "mouse", "Rochester (assumed)"),
    "slumbernet": ("SlumberNetClassifier", "mouse-4s", "Jha et al. 2024"),
}


def make_data(preset, *, n_subjects, n_epochs, scale, seed):
    """Synthetic nights for a data preset key; returns the Bunch (scaled X)."""
    from sklearn_sleep.datasets import make_synthetic_psg
    from sklearn_sleep.preprocessing import scale_recordings

    if preset in ("human", "human-eeg"):
        data = make_synthetic_psg(n_subjects=n_subjects, n_epochs=n_epochs, preset="human",
                                  random_state=seed)
    elif preset == "mouse":
        data = make_synthetic_psg(n_subjects=n_subjects, n_epochs=n_epochs, preset="mouse",
                                  random_state=seed)
    elif preset == "mouse-4s":
        data = make_synthetic_psg(n_subjects=n_subjects, n_epochs=max(6, n_epochs // 4),
                                  preset="mouse", sfreq=256.0, epoch_seconds=4.0,
                                  random_state=seed)
    else:
        raise ValueError(f"Unknown data preset {preset!r}.")
    if scale:
        data.X = np.asarray(scale_recordings(data.X, data.recordings), dtype=np.float32)
    return data


def make_estimator(name, *, max_epochs, batch_size, lr, device, seed, ch_names, paper_bn=False):
    """The classifier (or Pipeline) of network ``name`` with the common budget."""
    import sklearn_sleep.models as models
    from sklearn.pipeline import make_pipeline

    attr, preset, _ = NETWORKS[name]
    cls = getattr(models, attr)
    params = dict(max_epochs=max_epochs, batch_size=batch_size, device=device,
                  random_state=seed)
    if lr != "paper":
        params["lr"] = float(lr)
    if not paper_bn:
        params.update(SHORT_BUDGET_OVERRIDES.get(name, {}))
    clf = cls(**params)
    if preset == "human-eeg":
        from sklearn_sleep.preprocessing import ChannelPicker

        return make_pipeline(ChannelPicker(["EEG Fpz-Cz"], ch_names=list(ch_names)), clf)
    if preset == "mouse-4s":
        from sklearn_sleep.models.slumbernet import SlumberNetPreprocessor

        return make_pipeline(SlumberNetPreprocessor(sfreq=256.0), clf)
    return clf


def evaluate(est, X, y, groups, n_folds, labels):
    """Subject-wise CV: per-fold accuracy/MF1 and metrics on pooled predictions."""
    from sklearn.model_selection import GroupKFold, cross_validate

    from sklearn_sleep.metrics import sleep_scoring

    with Timer() as timer:
        res = cross_validate(est, X, y, groups=groups, cv=GroupKFold(n_splits=n_folds),
                             scoring=sleep_scoring(), return_estimator=True,
                             return_indices=True, error_score="raise")
    y_pred = np.empty(len(y), dtype=object)
    for fitted, test in zip(res["estimator"], res["indices"]["test"]):
        y_pred[test] = fitted.predict(X[test])
    y_pred = y_pred.astype(str)
    return {
        "pooled": pooled_scores(y, y_pred, labels=list(labels)),
        "per_fold": {k[5:]: res[k].tolist() for k in res if k.startswith("test_")},
        "fit_time_s": float(np.sum(res["fit_time"])),
        "wall_time_s": timer.seconds,
    }


def build_parser():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--models", nargs="+", choices=list(NETWORKS), default=list(NETWORKS))
    p.add_argument("--device", default="auto")
    p.add_argument("--max-epochs", type=int, default=15, help="training epochs, same for all")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", default="1e-3", help="common learning rate, or 'paper'")
    p.add_argument("--subjects", type=int, default=6, help="synthetic subjects per preset")
    p.add_argument("--epochs-per-subject", type=int, default=240,
                   help="30-s epochs per human night; 1-s mouse epochs = 4x this")
    p.add_argument("--folds", type=int, default=3, help="GroupKFold splits over subjects")
    p.add_argument("--no-scale", action="store_true", help="skip per-recording robust scaling")
    p.add_argument("--threads", type=int, default=None, help="torch.set_num_threads")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--paper-bn", action="store_true",
                   help="keep the Keras BatchNorm momentum of ULW-SleepNet/SlumberNet "
                        "(default: 0.1 for short budgets, see _common.SHORT_BUDGET_OVERRIDES)")
    p.add_argument("--smoke", action="store_true",
                   help="seconds: 2 subjects, tiny nights, 2 folds, 1 training epoch")
    p.add_argument("--out-dir", type=Path, default=None)
    p.add_argument("--name", default=None)
    return p


def main(argv=None):
    args = build_parser().parse_args(argv)
    import torch

    from sklearn_sleep.models import resolve_device

    if args.threads is not None:
        torch.set_num_threads(args.threads)
    if args.smoke:
        args.subjects, args.epochs_per_subject = 2, min(args.epochs_per_subject, 12)
        args.folds, args.max_epochs, args.batch_size = 2, 1, min(args.batch_size, 16)
    device = resolve_device(args.device)
    name = args.name or ("synthetic_networks_smoke" if args.smoke else "synthetic_networks")
    hw = hardware_info(device=device)
    print(format_hardware(hw))
    print(f"budget: {args.max_epochs} training epochs, batch {args.batch_size}, lr {args.lr}; "
          f"{args.subjects} subjects, GroupKFold({args.folds})")

    cache, results = {}, {}
    with Timer() as total:
        for net in args.models:
            attr, preset, paper = NETWORKS[net]
            if preset not in cache:
                n_ep = args.epochs_per_subject * (4 if preset.startswith("mouse") else 1)
                cache[preset] = make_data(preset, n_subjects=args.subjects, n_epochs=n_ep,
                                          scale=not args.no_scale, seed=args.seed)
            data = cache[preset]
            labels = AASM_STAGES if preset.startswith("human") else MOUSE_STAGES
            est = make_estimator(net, max_epochs=args.max_epochs, batch_size=args.batch_size,
                                 lr=args.lr, device=device, seed=args.seed,
                                 ch_names=data.ch_names, paper_bn=args.paper_bn)
            y = np.asarray(data.y).astype(str)
            out = evaluate(est, data.X, y, np.asarray(data.groups), args.folds, labels)
            chance = max(np.mean(y == s) for s in labels)
            out.update(network=attr, paper=paper, preset=preset, n_epochs=int(len(y)),
                       input_shape=list(data.X.shape[1:]), majority_accuracy=float(chance))
            results[net] = out
            p = out["pooled"]
            print(f"  {net:<20s} ACC {p['accuracy']:.3f} MF1 {p['macro_f1']:.3f} kappa "
                  f"{p['kappa']:.3f} (majority {chance:.3f}; {out['wall_time_s']:.1f} s)",
                  flush=True)

    header = ["network", "data", "n epochs", "ACC", "MF1", "kappa", "G-mean", "majority ACC", "time (s)"]
    rows = [
        [net, f"{r['preset']} {'x'.join(map(str, r['input_shape']))}", r["n_epochs"],
         r["pooled"]["accuracy"], r["pooled"]["macro_f1"], r["pooled"]["kappa"],
         r["pooled"]["gmean"], r["majority_accuracy"], f"{r['wall_time_s']:.1f}"]
        for net, r in results.items()
    ]
    print()
    print(text_table(header, rows))
    print(f"\nwall time {total.seconds:.1f} s, peak RSS {peak_rss_mb():.0f} MiB")
    md = "\n".join([
        f"# Networks on synthetic PSG, one budget ({'smoke' if args.smoke else 'full'})",
        "",
        f"Budget: {args.max_epochs} training epochs, batch {args.batch_size}, lr {args.lr} for "
        f"every network; {args.subjects} synthetic subjects per preset, GroupKFold({args.folds}) "
        "over subjects; metrics on predictions pooled over folds.",
        "",
        markdown_table(header, rows),
        "",
        f"Hardware: {hw['cpu_model']}, {hw['cpu_count']} logical cores; torch {hw['torch']}, "
        f"device {device}" + (f" [{hw['cuda_device']}]" if hw.get("cuda_device") else "")
        + f"; wall {total.seconds:.0f} s; {hw['date_utc']} UTC.",
    ])
    payload = {"benchmark": "synthetic_networks", "smoke": args.smoke, "args": vars(args),
               "results": results, "hardware": hw, "wall_time_s": total.seconds,
               "peak_rss_mb": peak_rss_mb()}
    write_json(payload, name, out_dir=args.out_dir)
    write_markdown(md, name, out_dir=args.out_dir)
    return payload


if __name__ == "__main__":
    main()
