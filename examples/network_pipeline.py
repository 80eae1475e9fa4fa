"""A published network inside a scikit-learn Pipeline: grouped CV and a grid search.

The recording here is sampled at 200 Hz (as many clinical PSG systems are) while
ULW-SleepNet (Wang et al., ICASSP 2026, arXiv:2602.23852) was designed for 100 Hz input
of four channels. The Pipeline does the adaptation, step by step, on epoch arrays
``(n_epochs, n_channels, n_times)``:

``ChannelPicker`` (the network's four channels, in its order; the recording also has
extra channels) -> ``Resampler(200, 100)`` -> ``BandPassFilter(0.3-35 Hz)`` ->
``EpochScaler`` (per-epoch robust scaling) -> ``ULWSleepNetClassifier``.

Because every step is a scikit-learn estimator, the whole chain is cross-validated
subject-wise with ``cross_validate(..., groups=subjects, cv=GroupKFold(k))`` and tuned
with ``GridSearchCV`` over ``net__module__dropout`` (a hyper-parameter of the PyTorch
module) and ``net__lr`` (of the training loop), again with subject-wise folds.

Run::

    python examples/network_pipeline.py --quick     # seconds, 1 training epoch
    python examples/network_pipeline.py             # minutes on a CPU
"""

import argparse
import warnings
from pathlib import Path

import numpy as np
from sklearn.model_selection import GridSearchCV, GroupKFold, cross_validate
from sklearn.pipeline import Pipeline

from sklearn_sleep.datasets import make_synthetic_psg
from sklearn_sleep.metrics import sleep_scores, sleep_scoring
from sklearn_sleep.models import ULWSleepNetClassifier
from sklearn_sleep.preprocessing import BandPassFilter, ChannelPicker, EpochScaler, Resampler

NET_CHANNELS = ["EEG Fpz-Cz", "EEG Pz-Oz", "EOG horizontal", "EMG submental"]


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny data, 1 training epoch")
    parser.add_argument("--out-dir", type=Path, default=Path("example_output"),
                        help="output folder (unused: results are printed)")
    parser.add_argument("--device", default="auto", help='"auto", "cpu" or "cuda"')
    parser.add_argument("--seed", type=int, default=0, help="random seed")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    if args.quick:
        n_subjects, n_epochs, max_epochs, n_folds = 3, 24, 1, 3
        grid = {"net__module__dropout": [0.3, 0.5], "net__lr": [1e-3, 3e-3]}
    else:
        n_subjects, n_epochs, max_epochs, n_folds = 6, 240, 15, 3
        grid = {"net__module__dropout": [0.1, 0.3, 0.5], "net__lr": [1e-3, 3e-3]}

    # A 200-Hz recording whose channel order differs from the network's: EMG first.
    data = make_synthetic_psg(n_subjects=n_subjects, n_epochs=n_epochs, sfreq=200,
                              channels=["EMG submental", "EOG horizontal", "EEG Pz-Oz",
                                        "EEG Fpz-Cz"],
                              random_state=args.seed)
    X, y, groups = data.X, data.y, data.groups
    print(f"input X {X.shape}: channels {data.ch_names} at {data.sfreq:g} Hz")

    pipe = Pipeline([
        ("pick", ChannelPicker(NET_CHANNELS, ch_names=data.ch_names)),
        ("resample", Resampler(sfreq_in=data.sfreq, sfreq_out=100)),
        ("filter", BandPassFilter(sfreq=100, l_freq=0.3, h_freq=35)),
        ("scale", EpochScaler(method="robust")),
        ("net", ULWSleepNetClassifier(max_epochs=max_epochs, batch_size=32, device=args.device,
                                      random_state=args.seed)),
    ])
    # What the network sees: (n_epochs, 4, 3000) at 100 Hz.
    print("network input:", pipe[:-1].fit_transform(X[:2]).shape)

    cv = GroupKFold(n_splits=n_folds)
    res = cross_validate(pipe, X, y, groups=groups, cv=cv, scoring=sleep_scoring())
    cv_scores = {k[5:]: float(v.mean()) for k, v in res.items() if k.startswith("test_")}
    print(f"\ncross_validate, GroupKFold({n_folds}) over subjects (mean of folds):")
    for name, value in cv_scores.items():
        print(f"  {name:>9s}  {value:.3f}")
    print(f"  fit time per fold: {res['fit_time'].mean():.1f} s")

    # Grid search: inner folds are subject-wise too (groups are passed to fit and reach
    # the GroupKFold splitter). Hold out one subject as a final test set first.
    test = groups == groups.max()
    search = GridSearchCV(pipe, grid, cv=GroupKFold(n_splits=2),
                          scoring=sleep_scoring(), refit="macro_f1")
    with warnings.catch_warnings():
        # tiny quick-mode folds may miss a stage: sklearn warns about ill-defined F1
        warnings.simplefilter("ignore", UserWarning)
        search.fit(X[~test], y[~test], groups=groups[~test])
    print("\nGridSearchCV (GroupKFold(2) on the training subjects), mean test macro-F1:")
    for params, score in zip(search.cv_results_["params"],
                             search.cv_results_["mean_test_macro_f1"]):
        print(f"  {params}  {score:.3f}")
    print("best:", search.best_params_)
    held_out = sleep_scores(y[test], search.predict(X[test]))
    print(f"held-out subject {groups.max()}: accuracy {held_out['accuracy']:.3f}, "
          f"macro-F1 {held_out['macro_f1']:.3f}, kappa {held_out['kappa']:.3f}")
    net = search.best_estimator_.named_steps["net"]
    print(f"trained on {net.device_}, {sum(p.numel() for p in net.module_.parameters()):,} "
          f"parameters, classes {list(net.classes_)}")
    return {"cv": cv_scores, "best_params": search.best_params_, "held_out": held_out,
            "n_candidates": len(search.cv_results_["params"])}


if __name__ == "__main__":
    main()
