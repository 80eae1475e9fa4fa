"""Class imbalance: imblearn samplers on features, EpochSampler and class weights on 3-D.

Sleep stages are imbalanced: N2 is about half of a night and N1 only 5-10 %, so
unweighted models under-predict N1. Three remedies, all evaluated subject-wise
(``GroupKFold``) with the macro-F1, macro G-mean and N1 F1 scorers of
``sleep_scoring(["N1"])``:

1. **2-D feature path** - ``BandPowerFeatures`` -> imblearn sampler -> classifier, in an
   :class:`imblearn.pipeline.Pipeline`. The sampler acts only in ``fit`` (on the
   training folds); prediction and scoring see the untouched test subjects. Samplers
   that synthesise rows (SMOTE) are meaningful here, on features.
2. **3-D epoch path** - ``EpochSampler(RandomOverSampler())`` -> network: the wrapper
   lets any imblearn sampler resample epoch arrays ``(n_epochs, n_channels, n_times)``
   (imblearn itself only accepts 2-D). Prefer samplers that pick existing epochs.
3. **Class weights** in the loss of a network: ``class_weight="balanced"`` (weights
   ``n / (n_classes * count)``), no resampling at all.

Run::

    python examples/imbalance.py --quick
    python examples/imbalance.py
"""

import argparse
import warnings
from pathlib import Path

import numpy as np
from imblearn.over_sampling import SMOTE, RandomOverSampler
from imblearn.pipeline import Pipeline as ImbPipeline
from imblearn.under_sampling import RandomUnderSampler
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.model_selection import GroupKFold, cross_validate
from sklearn.pipeline import Pipeline

from sklearn_sleep.datasets import make_synthetic_psg
from sklearn_sleep.features import BandPowerFeatures
from sklearn_sleep.metrics import sleep_scoring
from sklearn_sleep.models import ULWSleepNetClassifier
from sklearn_sleep.preprocessing import EpochSampler, EpochScaler


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny data, 1 training epoch")
    parser.add_argument("--out-dir", type=Path, default=Path("example_output"),
                        help="output folder (unused: results are printed)")
    parser.add_argument("--device", default="auto", help='"auto", "cpu" or "cuda"')
    parser.add_argument("--seed", type=int, default=0, help="random seed")
    return parser.parse_args(argv)


def _evaluate(name, model, X, y, groups, cv, results):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # ill-defined F1 on tiny folds
        res = cross_validate(model, X, y, groups=groups, cv=cv,
                             scoring=sleep_scoring(per_class=["N1"]))
    # nanmean: a per-class score is NaN in a fold where that stage is in neither the test
    # labels nor the predictions (undefined, see sklearn_sleep.metrics)
    results[name] = {k[5:]: float(np.nanmean(v)) for k, v in res.items()
                     if k.startswith("test_")}
    r = results[name]
    print(f"{name:<40}{r['macro_f1']:>9.3f}{r['gmean']:>9.3f}{r['f1_N1']:>9.3f}"
          f"{r['kappa']:>9.3f}")


def main(argv=None):
    args = parse_args(argv)
    seed = args.seed
    n_subjects, n_epochs, max_epochs = (2, 60, 1) if args.quick else (6, 480, 15)
    data = make_synthetic_psg(n_subjects=n_subjects, n_epochs=n_epochs, random_state=seed)
    X, y, groups = data.X, data.y, data.groups
    counts = {s: int(np.sum(y == s)) for s in data.stage_names}
    print(f"X {X.shape}; stage counts {counts}")
    cv = GroupKFold(n_splits=n_subjects)
    results = {}
    print(f"\n{'model':<40}{'MF1':>9}{'G-mean':>9}{'F1 N1':>9}{'kappa':>9}")

    # 1. features + imblearn samplers (imblearn Pipeline: sampling at fit time only)
    hgb = HistGradientBoostingClassifier(max_iter=40 if args.quick else 200,
                                         min_samples_leaf=5 if args.quick else 20,
                                         random_state=seed)
    features = BandPowerFeatures(sfreq=data.sfreq)
    _evaluate("features -> HGB", Pipeline([("bp", features), ("hgb", hgb)]),
              X, y, groups, cv, results)
    _evaluate("features -> RandomUnderSampler -> HGB",
              ImbPipeline([("bp", features), ("rus", RandomUnderSampler(random_state=seed)),
                           ("hgb", hgb)]), X, y, groups, cv, results)
    _evaluate("features -> SMOTE -> HGB",
              ImbPipeline([("bp", features), ("smote", SMOTE(k_neighbors=2 if args.quick else 5,
                                                    random_state=seed)),
                           ("hgb", hgb)]), X, y, groups, cv, results)

    # 2. and 3. networks on 3-D epochs
    def net(**kwargs):
        return ULWSleepNetClassifier(max_epochs=max_epochs, device=args.device,
                                     random_state=seed, **kwargs)

    _evaluate("net (unweighted)", Pipeline([("scale", EpochScaler()), ("net", net())]),
              X, y, groups, cv, results)
    _evaluate("EpochSampler(ROS) -> net",
              ImbPipeline([("scale", EpochScaler()),
                           ("ros", EpochSampler(RandomOverSampler(random_state=seed))),
                           ("net", net())]), X, y, groups, cv, results)
    _evaluate('net(class_weight="balanced")',
              Pipeline([("scale", EpochScaler()), ("net", net(class_weight="balanced"))]),
              X, y, groups, cv, results)

    # What EpochSampler does to the training epochs:
    Xr, yr = EpochSampler(RandomOverSampler(random_state=seed)).fit_resample(X, y)
    resampled = {s: int(np.sum(yr == s)) for s in data.stage_names}
    print(f"\nEpochSampler(RandomOverSampler): {X.shape} -> {Xr.shape}, counts {resampled}")
    return {"models": results, "resampled_counts": resampled, "counts": counts}


if __name__ == "__main__":
    main()
