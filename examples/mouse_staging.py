"""Mouse sleep staging: 1-s EEG/EMG epochs, 3 stages, MouseCNN, sleep statistics.

Rodent recordings are scored in short epochs (1-10 s) into three stages: wake (W),
NREM and REM. ``make_synthetic_psg(preset="mouse")`` draws polyphasic recordings of
several mice (EEG and EMG at 512 Hz, 1-s epochs: ``X`` has shape
``(n_epochs, 2, 512)``). The four-branch ``MouseCNNClassifier`` (raw EEG, raw EMG and
their spectra; Mashrur et al., University of Rochester - paper not available, every
layer size is an assumption, see ``docs/networks.md``) is evaluated mouse-wise with
``GroupKFold`` (leave-one-mouse-out), after per-recording robust scaling
(``scale_recordings``: per-mouse normalisation, applied before the Pipeline because a
transformer cannot see recording boundaries).

The predicted hypnograms are summarised with ``sleep_statistics(..., stages="mouse",
epoch_seconds=1)``: minutes per stage, sleep efficiency, REM latency and the number of
bouts (transitions), which is how rodent phenotypes are compared.

For 4-s epochs (e.g. SlumberNet, Jha et al., Sci Rep 2024) use
``make_synthetic_psg(preset="mouse", epoch_seconds=4, sfreq=256)``.

Run::

    python examples/mouse_staging.py --quick
    python examples/mouse_staging.py
"""

import argparse
import warnings
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure
from sklearn.model_selection import GroupKFold, cross_validate

from sklearn_sleep.datasets import make_synthetic_psg
from sklearn_sleep.hypnogram import sleep_statistics, statistics_table
from sklearn_sleep.metrics import format_scores, sleep_scores, sleep_scoring
from sklearn_sleep.models import MouseCNNClassifier
from sklearn_sleep.plotting import plot_hypnogram
from sklearn_sleep.preprocessing import scale_recordings


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny data, 2 training epochs")
    parser.add_argument("--out-dir", type=Path, default=Path("example_output"),
                        help="folder for the hypnogram PNG")
    parser.add_argument("--device", default="auto", help='"auto", "cpu" or "cuda"')
    parser.add_argument("--seed", type=int, default=0, help="random seed")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    args.out_dir.mkdir(parents=True, exist_ok=True)
    # 1-s epochs: 100 epochs = 100 s per mouse (quick), 3600 = 1 hour
    n_mice, n_epochs, max_epochs = (3, 100, 2) if args.quick else (6, 3600, 15)

    data = make_synthetic_psg(n_subjects=n_mice, n_epochs=n_epochs, preset="mouse",
                              random_state=args.seed)
    X, y, mice = data.X, data.y, data.groups
    print(f"X {X.shape}: {data.ch_names} at {data.sfreq:g} Hz, {data.epoch_seconds:g}-s "
          f"epochs, {n_mice} mice")
    print("stage fractions:", {s: round(float(np.mean(y == s)), 3) for s in data.stage_names})

    # per-mouse (per-recording) robust scaling, before the Pipeline
    X = scale_recordings(X, data.recordings)

    clf = MouseCNNClassifier(max_epochs=max_epochs, device=args.device,
                             random_state=args.seed)
    cv = GroupKFold(n_splits=n_mice)  # leave one mouse out
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        res = cross_validate(clf, X, y, groups=mice, cv=cv, scoring=sleep_scoring(["REM"]),
                             return_estimator=True, return_indices=True)
    print(f"\nleave-one-mouse-out ({n_mice} folds), mean over folds:")
    for key in ("accuracy", "macro_f1", "kappa", "f1_REM"):
        print(f"  {key:>9s}  {res[f'test_{key}'].mean():.3f}")

    y_pred = np.empty_like(y)
    for est, test_idx in zip(res["estimator"], res["indices"]["test"]):
        y_pred[test_idx] = est.predict(X[test_idx])
    pooled = sleep_scores(y, y_pred)
    print("\n" + format_scores(pooled, title="pooled over mice:"))

    # sleep statistics of every mouse, reference vs predicted
    names = [f"mouse{m}" for m in np.unique(mice)]
    ref = statistics_table([y[mice == m] for m in np.unique(mice)], epoch_seconds=1,
                           stages="mouse", names=names)
    pred = statistics_table([y_pred[mice == m] for m in np.unique(mice)], epoch_seconds=1,
                            stages="mouse", names=names)
    print("\nminutes per stage and number of stage transitions, reference / predicted:")
    print(f"{'':8}" + "".join(f"{k:>16}" for k in ("W", "NREM", "REM", "transitions")))
    for r, p in zip(ref, pred):
        cells = [f"{r[k]:.1f} / {p[k]:.1f}" for k in ("W_min", "NREM_min", "REM_min")]
        cells.append(f"{r['n_transitions']} / {p['n_transitions']}")
        print(f"{r['recording']:<8}" + "".join(f"{c:>16}" for c in cells))
    stats = sleep_statistics(y_pred[mice == mice[0]], epoch_seconds=1, stages="mouse")
    print(f"\n{names[0]} predicted: sleep efficiency {stats['SE']:.1f} %, REM latency "
          f"{stats['Lat_REM']:.2f} min from sleep onset, NREM {stats['NREM_pct']:.1f} % and "
          f"REM {stats['REM_pct']:.1f} % of sleep")

    first = mice == mice[0]
    fig = Figure(figsize=(10, 4), layout="constrained")
    ax1, ax2 = fig.subplots(2, 1, sharex=True)
    plot_hypnogram(y[first], epoch_seconds=1, ax=ax1, title=f"{names[0]}: reference")
    plot_hypnogram(y_pred[first], epoch_seconds=1, ax=ax2, title="MouseCNN (mouse held out)")
    png = args.out_dir / "mouse_hypnogram.png"
    fig.savefig(png, dpi=80)
    print(f"plot written to {png}")
    return {"pooled": pooled, "statistics": pred, "png": png}


if __name__ == "__main__":
    main()
