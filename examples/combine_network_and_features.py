"""Combine a network and classical band-power features: soft voting and stacking.

Two very different models see the same epochs ``(n_epochs, n_channels, n_times)``:

* a network pipeline: ``EpochScaler`` -> ``ULWSleepNetClassifier`` (Wang et al., ICASSP
  2026), learning its own filters from the raw signals;
* a classical pipeline: ``BandPowerFeatures`` -> ``HistGradientBoostingClassifier``
  (the "traditional machine learning" baseline of Van Der Donckt et al., Biomed. Signal
  Process. Control 2023, doi:10.1016/j.bspc.2022.104429).

Both are ordinary scikit-learn classifiers with ``predict_proba``, so scikit-learn's own
ensembles combine them:

* ``VotingClassifier(voting="soft")`` averages the two probability outputs. It is
  cross-validated subject-wise like any estimator:
  ``cross_validate(vote, X, y, groups=subjects, cv=GroupKFold(k))``.
* ``StackingClassifier`` learns a logistic regression on the out-of-fold probabilities
  of both. Its *internal* ``cv`` cannot receive ``groups`` (each branch gets its own
  ``cross_val_predict``), so it is given ``KFold(shuffle=False)``: contiguous blocks of
  the subject-ordered training epochs, i.e. (close to) whole subjects per block. The
  outer evaluation stays strictly subject-wise either way: test subjects are never
  seen by any part of the stack.

Run::

    python examples/combine_network_and_features.py --quick
    python examples/combine_network_and_features.py
"""

import argparse
import warnings
from pathlib import Path

import numpy as np
from sklearn.base import clone
from sklearn.ensemble import HistGradientBoostingClassifier, StackingClassifier
from sklearn.ensemble import VotingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold, KFold, cross_validate
from sklearn.pipeline import Pipeline

from sklearn_sleep.datasets import make_synthetic_psg
from sklearn_sleep.features import BandPowerFeatures
from sklearn_sleep.metrics import sleep_scores, sleep_scoring
from sklearn_sleep.models import ULWSleepNetClassifier
from sklearn_sleep.preprocessing import EpochScaler


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
    n_subjects, n_epochs, max_epochs, hgb_iter = (
        (3, 40, 1, 30) if args.quick else (6, 240, 20, 200))
    data = make_synthetic_psg(n_subjects=n_subjects, n_epochs=n_epochs,
                              random_state=args.seed)
    X, y, groups = data.X, data.y, data.groups
    print(f"X {X.shape}, {n_subjects} subjects, stages {data.stage_names}")

    network = Pipeline([
        ("scale", EpochScaler()),
        ("net", ULWSleepNetClassifier(max_epochs=max_epochs, device=args.device,
                                      random_state=args.seed)),
    ])
    classical = Pipeline([
        ("features", BandPowerFeatures(sfreq=data.sfreq)),
        # min_samples_leaf=5: the quick run's inner stacking folds have only ~40 epochs
        ("hgb", HistGradientBoostingClassifier(max_iter=hgb_iter, random_state=args.seed,
                                               min_samples_leaf=5 if args.quick else 20)),
    ])
    models = {
        "network": network,
        "band-power + HGB": classical,
        "soft voting": VotingClassifier([("net", network), ("bp", classical)],
                                        voting="soft"),
        "stacking": StackingClassifier(
            [("net", network), ("bp", classical)],
            final_estimator=LogisticRegression(max_iter=1000),
            # n_subjects - 1 training subjects per outer fold -> one block per subject
            cv=KFold(n_splits=max(2, n_subjects - 1), shuffle=False),
        ),
    }
    models_all = dict(models)
    if args.quick:  # keep the quick run short: cross-validate the voting ensemble only
        models = {k: models[k] for k in ("soft voting",)}

    cv = GroupKFold(n_splits=n_subjects)  # leave one subject out
    results = {}
    print(f"\nGroupKFold({n_subjects}) = leave-one-subject-out, mean over folds:")
    print(f"{'model':<18}{'accuracy':>10}{'macro_f1':>10}{'kappa':>10}{'fit s':>8}")
    for name, model in models.items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # ill-defined F1 on tiny folds
            res = cross_validate(model, X, y, groups=groups, cv=cv, scoring=sleep_scoring())
        results[name] = {k[5:]: float(v.mean()) for k, v in res.items()
                         if k.startswith("test_")}
        r = results[name]
        print(f"{name:<18}{r['accuracy']:>10.3f}{r['macro_f1']:>10.3f}{r['kappa']:>10.3f}"
              f"{res['fit_time'].mean():>8.1f}")

    # Stacking fitted on all subjects but one, tested on the held-out subject; then
    # inspect how much the meta-classifier relies on each member.
    test = groups == groups.max()
    stack = clone(models_all["stacking"]).fit(X[~test], y[~test])
    held_out = sleep_scores(y[test], stack.predict(X[test]))
    results["stacking (held-out subject)"] = held_out
    print(f"\nstacking, trained on subjects {sorted(set(groups[~test].tolist()))}, tested on "
          f"subject {groups.max()}: accuracy {held_out['accuracy']:.3f}, "
          f"macro-F1 {held_out['macro_f1']:.3f}, kappa {held_out['kappa']:.3f}")
    coef = np.abs(stack.final_estimator_.coef_)
    n_cls = len(stack.classes_)  # first n_cls meta-features: the network's probabilities
    share = float(coef[:, :n_cls].sum() / coef.sum())
    results["stacking_network_weight_share"] = share
    print(f"meta-classifier |weights|: {share:.0%} on the network's probabilities, "
          f"{1 - share:.0%} on the band-power model's")
    return results


if __name__ == "__main__":
    main()
