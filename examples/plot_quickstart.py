"""Quickstart: band-power features + gradient boosting, subject-wise CV, hypnogram plot.

The whole sleep-staging workflow on synthetic polysomnography, no download needed:

1. ``make_synthetic_psg`` draws whole nights for several subjects (EEG Fpz-Cz, EEG Pz-Oz,
   EOG, EMG at 100 Hz, 30-s epochs, in microvolts) and returns ``X`` (epochs), ``y``
   (stage names) and ``groups`` (the subject of every epoch).
2. A scikit-learn ``Pipeline``: ``BandPowerFeatures`` (3-D epochs in, 2-D features out)
   then ``HistGradientBoostingClassifier``.
3. ``cross_validate(..., groups=groups, cv=GroupKFold(k), scoring=sleep_scoring())``:
   every fold tests on subjects the model never saw (a random epoch split would put
   neighbouring, almost identical epochs of one night in both train and test).
4. The pooled out-of-fold predictions are scored with ``sleep_scores`` and the night of
   one held-out subject is drawn as a hypnogram (reference vs predicted) and a
   hypnodensity (per-epoch probabilities), saved as PNG.

Run::

    python examples/plot_quickstart.py --quick          # seconds
    python examples/plot_quickstart.py --out-dir out/   # a few 8-h nights, ~1 minute
"""

import argparse
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.model_selection import GroupKFold, cross_validate
from sklearn.pipeline import Pipeline

from sklearn_sleep.datasets import make_synthetic_psg
from sklearn_sleep.features import BandPowerFeatures
from sklearn_sleep.hypnogram import sleep_statistics
from sklearn_sleep.metrics import format_scores, sleep_confusion_matrix, sleep_scores
from sklearn_sleep.metrics import sleep_scoring
from sklearn_sleep.plotting import plot_hypnodensity, plot_hypnogram


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny data set, runs in seconds")
    parser.add_argument("--out-dir", type=Path, default=Path("example_output"),
                        help="folder for the PNG (created if needed)")
    parser.add_argument("--seed", type=int, default=0, help="random seed")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    args.out_dir.mkdir(parents=True, exist_ok=True)
    n_subjects, n_epochs, n_folds = (4, 60, 4) if args.quick else (8, 960, 4)

    # 1. data: X (n_epochs, n_channels, n_times) float32 in uV, y stage names, groups
    data = make_synthetic_psg(n_subjects=n_subjects, n_epochs=n_epochs,
                              random_state=args.seed)
    X, y, groups = data.X, data.y, data.groups
    print(f"X {X.shape} ({X.dtype}), channels {data.ch_names}, {data.sfreq:g} Hz, "
          f"{data.epoch_seconds:g}-s epochs, {n_subjects} subjects")
    print("stage counts:", {s: int(np.sum(y == s)) for s in data.stage_names})

    # 2. pipeline: band powers (relative, log total power, ratios, Hjorth...) -> HGB
    pipe = Pipeline([
        ("features", BandPowerFeatures(sfreq=data.sfreq, ch_names=data.ch_names)),
        ("clf", HistGradientBoostingClassifier(max_iter=50 if args.quick else 200,
                                               random_state=args.seed)),
    ])

    # 3. subject-wise cross-validation with the sleep scorers
    cv = GroupKFold(n_splits=n_folds)
    res = cross_validate(pipe, X, y, groups=groups, cv=cv, scoring=sleep_scoring(),
                         return_estimator=True, return_indices=True)
    print(f"\nGroupKFold({n_folds}) over subjects, per-fold mean +- sd:")
    cv_scores = {}
    for name in ("accuracy", "macro_f1", "kappa", "gmean"):
        values = res[f"test_{name}"]
        cv_scores[name] = float(values.mean())
        print(f"  {name:>9s}  {values.mean():.3f} +- {values.std(ddof=1):.3f}")

    # 4. pooled out-of-fold predictions (the convention of sleep-staging papers)
    y_pred = np.empty_like(y)
    proba = np.zeros((len(y), len(data.stage_names)))
    for est, test_idx in zip(res["estimator"], res["indices"]["test"]):
        y_pred[test_idx] = est.predict(X[test_idx])
        # columns of predict_proba follow est.classes_ (alphabetical for HGB): reorder
        cols = [list(est.classes_).index(s) for s in data.stage_names]
        proba[test_idx] = est.predict_proba(X[test_idx])[:, cols]
    pooled = sleep_scores(y, y_pred)
    print("\n" + format_scores(pooled, title="pooled out-of-fold scores:"))
    cm, labels = sleep_confusion_matrix(y, y_pred)
    print("confusion matrix (rows = reference, columns = predicted):", list(labels))
    print(cm)

    # hypnogram + hypnodensity of the first subject's night (predicted out of fold)
    night = groups == groups[0]
    stats = sleep_statistics(y_pred[night], epoch_seconds=data.epoch_seconds)
    print(f"\nsubject {groups[0]} (predicted): TST {stats['TST']:.1f} min, "
          f"SE {stats['SE']:.1f} %, REM latency {stats['Lat_REM']:.1f} min")
    fig = Figure(figsize=(10, 7), layout="constrained")
    ax_true, ax_pred, ax_dens = fig.subplots(3, 1, sharex=True)
    plot_hypnogram(y[night], epoch_seconds=data.epoch_seconds, ax=ax_true,
                   title="reference")
    plot_hypnogram(y_pred[night], epoch_seconds=data.epoch_seconds, ax=ax_pred,
                   title="predicted (subject held out)")
    plot_hypnodensity(proba[night], data.stage_names, epoch_seconds=data.epoch_seconds,
                      ax=ax_dens, title="hypnodensity")
    png = args.out_dir / "quickstart_hypnogram.png"
    fig.savefig(png, dpi=80)
    print(f"plot written to {png}")
    return {"cv": cv_scores, "pooled": pooled, "png": png, "n_epochs": len(y)}


if __name__ == "__main__":
    main()
