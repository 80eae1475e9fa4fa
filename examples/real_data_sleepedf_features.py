"""Real Sleep-EDF nights (precomputed features): subject-wise CV of classical pipelines.

Data: ``sleepedf_features/SC4ssN*.npz`` in the project's shared data folder
(``$SKLEARN_SLEEP_SHARED_DATA`` or ``../shared/data`` next to the repository; or pass
``--data-dir``). Each file is one Sleep-EDF Sleep Cassette night (Kemp et al., IEEE
TBME 2000, doi:10.1109/10.867928) with ``X`` (n_epochs, 72) features of the 30-s
epochs - a third party's extraction (MIT-licensed), not computed by this library - and
``y`` in 0..4 = W, N1, N2, N3, REM. When the folder is absent the script says so and
exits with status 0.

Protocol (the common Sleep-EDF one, DeepSleepNet: Supratak et al., IEEE TNSRE 2017,
doi:10.1109/TNSRE.2017.2721116): wake trimmed to 30 minutes before the first and after
the last sleep epoch of each night; both nights of a subject in the same fold
(``GroupKFold`` over subjects); metrics on the predictions pooled over folds. These
nights are a subset of Sleep-EDF-20, so the numbers are not the EDF-20 benchmark.

Run::

    python examples/real_data_sleepedf_features.py --quick
    python examples/real_data_sleepedf_features.py
"""

import argparse
import os
import re
import warnings
from pathlib import Path

import numpy as np
from imblearn.pipeline import Pipeline as ImbPipeline
from imblearn.under_sampling import RandomUnderSampler
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold, cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_sleep.metrics import format_scores, sleep_scores
from sklearn_sleep.metrics import sleep_scoring
from sklearn_sleep.utils import to_stage_names

FILE_RE = re.compile(r"^SC4(\d\d)(\d)[A-Z]\d\.npz$")


def default_data_dir():
    env = os.environ.get("SKLEARN_SLEEP_SHARED_DATA")
    root = Path(env) if env else Path(__file__).resolve().parents[2] / "shared" / "data"
    return root / "sleepedf_features"


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="4 nights (2 subjects) and small models")
    parser.add_argument("--data-dir", type=Path, default=None,
                        help="folder of SC4ssN*.npz files (default: shared data)")
    parser.add_argument("--out-dir", type=Path, default=Path("example_output"),
                        help="output folder (unused: results are printed)")
    parser.add_argument("--seed", type=int, default=0, help="random seed")
    return parser.parse_args(argv)


def trim_wake(y, edge_epochs=60):
    """Mask keeping ``edge_epochs`` wake epochs before the first / after the last sleep."""
    sleep = np.flatnonzero(y != "W")
    keep = np.zeros(len(y), dtype=bool)
    if len(sleep):
        keep[max(0, sleep[0] - edge_epochs): sleep[-1] + edge_epochs + 1] = True
    return keep


def load_nights(folder, max_subjects=None):
    """Features, stage names, subject and night id of every epoch of every file."""
    files = sorted(p for p in folder.glob("*.npz") if FILE_RE.match(p.name))
    subjects = sorted({int(FILE_RE.match(p.name).group(1)) for p in files})
    if max_subjects is not None:
        subjects = subjects[:max_subjects]
    X, y, groups, nights = [], [], [], []
    for path in files:
        subject = int(FILE_RE.match(path.name).group(1))
        if subject not in subjects:
            continue
        with np.load(path) as npz:
            Xn, yn = npz["X"], to_stage_names(npz["y"])
        keep = trim_wake(yn)
        X.append(Xn[keep])
        y.append(yn[keep])
        groups.append(np.full(keep.sum(), subject))
        nights.append(np.full(keep.sum(), path.stem))
    return np.concatenate(X), np.concatenate(y), np.concatenate(groups), np.concatenate(nights)


def main(argv=None):
    args = parse_args(argv)
    folder = args.data_dir or default_data_dir()
    if not folder.is_dir() or not any(FILE_RE.match(p.name) for p in folder.glob("*.npz")):
        print(f"No Sleep-EDF feature files (SC4ssN*.npz) found in {folder}; set "
              "SKLEARN_SLEEP_SHARED_DATA or pass --data-dir. Nothing to do.")
        return None

    X, y, groups, nights = load_nights(folder, max_subjects=2 if args.quick else None)
    n_subjects = len(np.unique(groups))
    print(f"{len(np.unique(nights))} nights of {n_subjects} subjects from {folder}: X {X.shape} "
          f"after wake trimming; stage counts "
          f"{ {s: int(np.sum(y == s)) for s in ('W', 'N1', 'N2', 'N3', 'REM')} }")

    hgb = HistGradientBoostingClassifier(max_iter=50 if args.quick else 300,
                                         learning_rate=0.1, random_state=args.seed)
    models = {
        "StandardScaler -> LogisticRegression": make_pipeline(
            StandardScaler(), LogisticRegression(max_iter=2000)),
        "HistGradientBoosting": hgb,
        "RandomUnderSampler -> HGB": ImbPipeline([
            ("rus", RandomUnderSampler(random_state=args.seed)), ("hgb", hgb)]),
    }
    cv = GroupKFold(n_splits=n_subjects)  # leave one subject (both nights) out
    results = {}
    print(f"\nGroupKFold({n_subjects}) over subjects; scores of the predictions pooled "
          "over folds:")
    print(f"{'model':<38}{'accuracy':>10}{'MF1':>8}{'kappa':>8}{'F1 N1':>8}")
    for name, model in models.items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # convergence / ill-defined-F1 warnings
            res = cross_validate(model, X, y, groups=groups, cv=cv, scoring=sleep_scoring(),
                                 return_estimator=True, return_indices=True)
        y_pred = np.empty_like(y)
        for est, test_idx in zip(res["estimator"], res["indices"]["test"]):
            y_pred[test_idx] = est.predict(X[test_idx])
        pooled = sleep_scores(y, y_pred)
        results[name] = pooled
        print(f"{name:<38}{pooled['accuracy']:>10.3f}{pooled['macro_f1']:>8.3f}"
              f"{pooled['kappa']:>8.3f}{pooled['f1_N1']:>8.3f}")
    best = max(results, key=lambda k: results[k]["macro_f1"])
    print("\n" + format_scores(results[best], title=f"best by macro-F1: {best}"))
    print("(published classical anchor for context only, different nights and features: "
          "Van Der Donckt et al. 2023, MF1 0.810 on Sleep-EDF-20)")
    return results


if __name__ == "__main__":
    main()
