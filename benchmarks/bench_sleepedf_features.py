"""Classical pipelines on precomputed Sleep-EDF features, subject-wise cross-validated.

Data: ``<shared>/sleepedf_features/SC4ssN*.npz``, 16 real Sleep-EDF Sleep Cassette
nights (subjects 0-7, two nights each), each with ``X`` (n_epochs, 72) features of
30-s epochs and ``y`` in 0..4 = W, N1, N2, N3, REM. The 72-dimensional features are a
third party's extraction (MIT-licensed repository of M. Omizzolo), not computed by
this library, and the nights are 16 of Sleep-EDF-20's 39: the numbers are therefore
*not* the EDF-20 protocol. The published classical anchor is printed beside them for
context only: Van Der Donckt J. et al., "Do not sleep on traditional machine
learning", arXiv 2207.07753 (2022), MF1 0.810 on Sleep-EDF-20.

The epochs come untrimmed (the whole ~22-h recording, about 70 % wake). By default the
±30-min wake trimming of the common Sleep-EDF protocol (DeepSleepNet; Supratak et al.,
IEEE TNSRE 2017, doi 10.1109/TNSRE.2017.2721116) is applied per night before anything
else (``--wake-trim 30``); ``--wake-trim none`` keeps every epoch.

Pipelines: HistGradientBoosting, RandomForest and StandardScaler + LogisticRegression,
each bare and preceded by an imbalanced-learn sampler inside an
:class:`imblearn.pipeline.Pipeline` (the sampler only acts at fit time, on the
training folds). Evaluation: :class:`~sklearn.model_selection.GroupKFold` over subjects
(8 folds = leave-one-subject-out, both nights of a subject in the same fold), scored
per fold with :func:`sklearn_sleep.metrics.sleep_scoring` and on the predictions pooled
over folds with :func:`sklearn_sleep.metrics.sleep_scores` (the papers' convention).
The pooled predictions come from the very estimators fitted by ``cross_validate``
(``return_indices=True``), which is exactly what ``cross_val_predict`` with the same
``cv`` returns, without fitting every fold twice.

Temporal context (``ctx-logreg``, ``ctx-hgb``): :class:`sklearn_sleep.features.ContextFeatures`
(YASA-style 7.5-min centred and 2-min past rolling means, robust-scaled per night) in
front of the classifier, each also wrapped in :class:`sklearn_sleep.smoothing.HMMSmoother`
(transition matrix from the training hypnograms, Viterbi decoding per night): one fit per
fold gives both rows (the smoother's inner classifier is the context pipeline). Recording
ids (one per night) reach them through scikit-learn metadata routing. Samplers are not
combined with them (resampling would break the time order within a night).
The README's recommended pipeline (:data:`RECOMMENDED`) is marked ``"recommended": true``
in the JSON's ``pipelines`` list (one entry per pipeline: ``pipeline``, ``accuracy``,
``macro_f1``, ``kappa``, ``n1_f1``, pooled).

``--train-dir A --test-dir B`` trains every pipeline on all nights of folder A and scores
every night of folder B (same file format, same wake trimming) instead of cross-validating.

Usage::

    OMP_NUM_THREADS=1 python benchmarks/bench_sleepedf_features.py            # full, minutes
    OMP_NUM_THREADS=1 python benchmarks/bench_sleepedf_features.py --classifiers ctx-hgb \
        --samplers none                                                       # recommended only
    OMP_NUM_THREADS=1 python benchmarks/bench_sleepedf_features.py --train-dir A --test-dir B
    OMP_NUM_THREADS=1 python benchmarks/bench_sleepedf_features.py --smoke    # seconds
"""

import argparse
import re
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (  # noqa: E402
    HEADLINE,
    Timer,
    format_hardware,
    hardware_info,
    markdown_table,
    metric_row,
    peak_rss_mb,
    pooled_scores,
    shared_data_dir,
    text_table,
    write_json,
    write_markdown,
)
from published import CLASSICAL_ANCHOR  # noqa: E402

from sklearn_sleep.metrics import sleep_scoring  # noqa: E402
from sklearn_sleep.utils import AASM_STAGES  # noqa: E402

_FILE_RE = re.compile(r"^SC4(\d\d)(\d)[A-Z]\d\.npz$")

CLASSIFIERS = ("hgb", "rf", "logreg", "ctx-logreg", "ctx-hgb")
SAMPLERS = ("none", "rus", "smote")
_CLF_NAMES = {"hgb": "HistGradientBoosting", "rf": "RandomForest", "logreg": "LogisticRegression",
              "ctx-logreg": "ContextFeatures + LogisticRegression",
              "ctx-hgb": "ContextFeatures + HistGradientBoosting"}
_HMM_SUFFIX = " + HMMSmoother"
#: The pipeline the README recommends (marked ``"recommended": true`` in the JSON).
RECOMMENDED = "ContextFeatures + HistGradientBoosting + HMMSmoother"
_SAMPLER_NAMES = {"none": "", "rus": " + RandomUnderSampler", "smote": " + SMOTE"}


def trim_wake(y, edge_epochs):
    """Boolean mask keeping ``edge_epochs`` of wake before the first and after the last sleep epoch.

    Parameters
    ----------
    y : ndarray of shape (n_epochs,)
        Stage names in time order.
    edge_epochs : int or None
        Epochs of wake kept on each side (60 = 30 min of 30-s epochs). None keeps all.

    Returns
    -------
    mask : ndarray of bool, shape (n_epochs,)
    """
    y = np.asarray(y)
    mask = np.ones(len(y), dtype=bool)
    if edge_epochs is None:
        return mask
    sleep = np.flatnonzero(y != "W")
    if sleep.size == 0:
        raise ValueError("A night without any sleep epoch cannot be wake-trimmed.")
    start = max(0, sleep[0] - edge_epochs)
    stop = min(len(y), sleep[-1] + edge_epochs + 1)
    mask[:] = False
    mask[start:stop] = True
    return mask


def load_features(data_dir, *, wake_trim=60, subjects=None, max_per_recording=None, seed=0,
                  return_recordings=False):
    """Load the per-night feature files.

    Parameters
    ----------
    data_dir : path
        Folder of ``SC4ssN*.npz`` files.
    wake_trim : int or None
        Wake epochs kept on each side of the sleep period (None: no trimming).
    subjects : list of int or None
        Keep only these subjects.
    max_per_recording : int or None
        Keep a random subset (in time order) of at most this many epochs per night,
        after trimming (for quick runs only).
    seed : int
        Seed of that subsampling.
    return_recordings : bool
        Also return the recording (night) id of every row, e.g. ``"SC4001"``.

    Returns
    -------
    X : ndarray (n, 72), y : ndarray of str, groups : ndarray of int (subject),
    summary : list of dict, one per night (epochs and wake share before/after trimming),
    [recordings : ndarray of str].
    """
    data_dir = Path(data_dir)
    files = sorted(p for p in data_dir.glob("SC4*.npz") if _FILE_RE.match(p.name))
    if not files:
        raise ValueError(f"No SC4ssN*.npz feature files in {data_dir}.")
    rng = np.random.default_rng(seed)
    Xs, ys, gs, rs, summary = [], [], [], [], []
    for path in files:
        subject, night = (int(v) for v in _FILE_RE.match(path.name).groups())
        if subjects is not None and subject not in subjects:
            continue
        with np.load(path) as npz:
            X, codes = np.asarray(npz["X"], dtype=np.float64), np.asarray(npz["y"])
        if X.ndim != 2 or len(X) != len(codes):
            raise ValueError(f"{path.name}: X {X.shape} and y {codes.shape} do not match.")
        y = np.asarray(AASM_STAGES, dtype=object)[codes.astype(int)]
        mask = trim_wake(y, wake_trim)
        idx = np.flatnonzero(mask)
        if max_per_recording is not None and len(idx) > max_per_recording:
            idx = np.sort(rng.choice(idx, size=max_per_recording, replace=False))
        summary.append(
            {
                "file": path.name,
                "subject": subject,
                "night": night,
                "n_epochs_raw": int(len(y)),
                "wake_share_raw": float(np.mean(y == "W")),
                "leading_wake_epochs": int(np.argmax(y != "W")),
                "trailing_wake_epochs": int(len(y) - 1 - np.flatnonzero(y != "W")[-1]),
                "n_epochs_used": int(len(idx)),
                "wake_share_used": float(np.mean(y[idx] == "W")),
                "stage_counts_used": {s: int(np.sum(y[idx] == s)) for s in AASM_STAGES},
            }
        )
        Xs.append(X[idx])
        ys.append(y[idx])
        gs.append(np.full(len(idx), subject))
        rs.append(np.full(len(idx), f"SC4{subject:02d}{night}"))
    if not Xs:
        raise ValueError(f"None of subjects {subjects} found in {data_dir}.")
    out = (np.concatenate(Xs), np.concatenate(ys).astype(str), np.concatenate(gs), summary)
    return out + (np.concatenate(rs),) if return_recordings else out


def make_pipeline(classifier, sampler, *, smoke=False, random_state=0):
    """The classical pipeline ``[sampler] -> [scaler] -> classifier`` (imblearn Pipeline)."""
    from imblearn.over_sampling import SMOTE
    from imblearn.pipeline import Pipeline
    from imblearn.under_sampling import RandomUnderSampler
    from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    if classifier.startswith("ctx-"):
        from sklearn_sleep.features import ContextFeatures
        from sklearn_sleep.smoothing import HMMSmoother

        if sampler != "none":
            raise ValueError("Context pipelines are not combined with samplers (resampling "
                             "breaks the time order within a night).")
        from sklearn.pipeline import Pipeline as SkPipeline

        base = make_pipeline(classifier[len("ctx-"):], "none", smoke=smoke,
                             random_state=random_state)
        return HMMSmoother(SkPipeline([("context", ContextFeatures())] + base.steps))
    steps = []
    if sampler == "rus":
        steps.append(("sampler", RandomUnderSampler(random_state=random_state)))
    elif sampler == "smote":
        steps.append(("sampler", SMOTE(random_state=random_state)))
    elif sampler != "none":
        raise ValueError(f"Unknown sampler {sampler!r}; choose from {SAMPLERS}.")
    if classifier == "hgb":
        clf = HistGradientBoostingClassifier(
            max_iter=20 if smoke else 200, learning_rate=0.1, early_stopping=False,
            random_state=random_state,
        )
    elif classifier == "rf":
        clf = RandomForestClassifier(
            n_estimators=10 if smoke else 200, min_samples_leaf=2, n_jobs=1,
            random_state=random_state,
        )
    elif classifier == "logreg":
        steps.append(("scaler", StandardScaler()))
        clf = LogisticRegression(max_iter=2000, C=1.0)
    else:
        raise ValueError(f"Unknown classifier {classifier!r}; choose from {CLASSIFIERS}.")
    steps.append(("clf", clf))
    return Pipeline(steps)


def evaluate(pipe, X, y, groups, n_folds):
    """Per-fold scores (cross_validate) and scores of the predictions pooled over folds."""
    from sklearn.model_selection import GroupKFold, cross_validate

    cv = GroupKFold(n_splits=n_folds)
    with Timer() as timer:
        res = cross_validate(
            pipe, X, y, groups=groups, cv=cv, scoring=sleep_scoring(per_class=["N1"]),
            return_estimator=True, return_indices=True, n_jobs=1, error_score="raise",
        )
    y_pred = np.empty(len(y), dtype=y.dtype)
    test_subjects = []
    for est, test in zip(res["estimator"], res["indices"]["test"]):
        y_pred[test] = est.predict(X[test])
        test_subjects.append(sorted(np.unique(groups[test]).tolist()))
    per_fold = {k[len("test_"):]: res[k].tolist() for k in res if k.startswith("test_")}
    return {
        "per_fold": per_fold,
        "per_fold_mean": {k: float(np.mean(v)) for k, v in per_fold.items()},
        "per_fold_std": {k: float(np.std(v)) for k, v in per_fold.items()},
        "pooled": pooled_scores(y, y_pred, labels=list(AASM_STAGES)),
        "fold_test_subjects": test_subjects,
        "fit_time_s": float(np.sum(res["fit_time"])),
        "wall_time_s": timer.seconds,
    }, y_pred


_FOLD_KEYS = ("accuracy", "macro_f1", "kappa", "gmean", "f1_N1")


def evaluate_context(hmm, X, y, groups, recordings, n_folds=None, test=None):
    """Both rows of a context pipeline: the inner classifier alone and HMM-smoothed.

    Cross-validated with GroupKFold(n_folds) over ``groups``, or, with
    ``test=(X_test, y_test, recordings_test)``, trained on all of X and scored on it.
    Returns ``{"": result_without_hmm, "hmm": result_with_hmm}`` (dicts like :func:`evaluate`).
    """
    import sklearn
    from sklearn.base import clone
    from sklearn.model_selection import GroupKFold

    from sklearn_sleep.metrics import sleep_scores

    if test is None:
        splits = list(GroupKFold(n_splits=n_folds).split(X, y, groups))
        X_all, y_all, rec_all = X, y, recordings
    else:
        X_test, y_test, rec_test = test
        X_all = np.concatenate([X, X_test])
        y_all = np.concatenate([y, y_test])
        rec_all = np.concatenate([recordings, rec_test])
        splits = [(np.arange(len(y)), np.arange(len(y), len(y_all)))]
    preds = {"": np.empty(len(y_all), dtype=object), "hmm": np.empty(len(y_all), dtype=object)}
    per_fold = {k: {m: [] for m in _FOLD_KEYS} for k in preds}
    fit_time = 0.0
    with Timer() as timer, sklearn.config_context(enable_metadata_routing=True):
        for train, te in splits:
            with Timer() as t_fit:
                est = clone(hmm).fit(X_all[train], y_all[train], recordings=rec_all[train])
            fit_time += t_fit.seconds
            fold_pred = {"": est.estimator_.predict(X_all[te], recordings=rec_all[te]),
                         "hmm": est.predict(X_all[te], recordings=rec_all[te])}
            for k, p in fold_pred.items():
                preds[k][te] = p
                sc = sleep_scores(y_all[te], np.asarray(p).astype(str), labels=list(AASM_STAGES))
                for m in _FOLD_KEYS:
                    per_fold[k][m].append(float(sc[m]))
    idx = np.concatenate([te for _, te in splits])
    out = {}
    for k in preds:
        out[k] = {
            "per_fold": per_fold[k],
            "per_fold_mean": {m: float(np.mean(v)) for m, v in per_fold[k].items()},
            "per_fold_std": {m: float(np.std(v)) for m, v in per_fold[k].items()},
            "pooled": pooled_scores(y_all[idx], preds[k][idx].astype(str),
                                    labels=list(AASM_STAGES)),
            "fold_test_subjects": ([sorted(np.unique(groups[te]).tolist()) for _, te in splits]
                                   if test is None else None),
            "fit_time_s": fit_time,
            "wall_time_s": timer.seconds,
        }
    return out


def evaluate_train_test(pipe, X, y, X_test, y_test):
    """Fit on (X, y), score on (X_test, y_test) (the ``--train-dir/--test-dir`` mode)."""
    from sklearn.base import clone

    with Timer() as timer:
        est = clone(pipe).fit(X, y)
    fit_time = timer.seconds
    with Timer() as timer2:
        y_pred = est.predict(X_test)
    pooled = pooled_scores(y_test, y_pred, labels=list(AASM_STAGES))
    return {"per_fold": None, "per_fold_mean": {k: pooled[k] for k in _FOLD_KEYS},
            "per_fold_std": {k: 0.0 for k in _FOLD_KEYS}, "pooled": pooled,
            "fold_test_subjects": None, "fit_time_s": fit_time,
            "wall_time_s": fit_time + timer2.seconds}


def pipeline_entries(results):
    """One ``{pipeline, accuracy, macro_f1, kappa, n1_f1, recommended}`` entry per pipeline."""
    return [{"pipeline": label, "accuracy": out["pooled"]["accuracy"],
             "macro_f1": out["pooled"]["macro_f1"], "kappa": out["pooled"]["kappa"],
             "n1_f1": out["pooled"]["f1_N1"], "recommended": label == RECOMMENDED}
            for label, out in results.items()]


def build_parser():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data-dir", type=Path, default=None,
                   help="folder of SC4ssN*.npz (default: <shared>/sleepedf_features)")
    p.add_argument("--folds", type=int, default=8,
                   help="GroupKFold splits over subjects (8 = leave-one-subject-out)")
    p.add_argument("--classifiers", nargs="+", choices=CLASSIFIERS, default=list(CLASSIFIERS))
    p.add_argument("--samplers", nargs="+", choices=SAMPLERS, default=list(SAMPLERS))
    p.add_argument("--wake-trim", default="30",
                   help="minutes of wake kept around the sleep period, or 'none' (default 30)")
    p.add_argument("--subjects", type=int, nargs="+", default=None)
    p.add_argument("--max-epochs-per-recording", type=int, default=None,
                   help="random subsample per night (quick runs)")
    p.add_argument("--smoke", action="store_true",
                   help="seconds: 4 subjects, 200 epochs/night, 2 folds, small models")
    p.add_argument("--train-dir", type=Path, default=None,
                   help="train on every SC4ssN*.npz night of this folder (needs --test-dir)")
    p.add_argument("--test-dir", type=Path, default=None,
                   help="score every night of this folder (needs --train-dir)")
    p.add_argument("--out-dir", type=Path, default=None, help="default benchmarks/results")
    p.add_argument("--name", default=None, help="result file stem (default sleepedf_features)")
    return p


def main(argv=None):
    args = build_parser().parse_args(argv)
    if (args.train_dir is None) != (args.test_dir is None):
        raise ValueError("--train-dir and --test-dir go together.")
    train_test = args.train_dir is not None
    if train_test and args.data_dir is not None:
        raise ValueError("--data-dir is for cross-validation; with --train-dir/--test-dir "
                         "leave it out.")
    data_dir = args.train_dir or args.data_dir or shared_data_dir() / "sleepedf_features"
    if args.smoke:
        args.subjects = args.subjects or [0, 1, 2, 3]
        args.max_epochs_per_recording = args.max_epochs_per_recording or 200
        args.folds = min(args.folds, 2)
        args.samplers = [s for s in args.samplers if s != "smote"] or ["none"]
    name = args.name or ("sleepedf_features_smoke" if args.smoke else "sleepedf_features")
    if args.train_dir is not None and args.name is None:
        name += "_train_test"
    if str(args.wake_trim).lower() == "none":
        trim_minutes, edge = None, None
    else:
        trim_minutes = float(args.wake_trim)
        edge = int(round(trim_minutes * 2))  # 30-s epochs
    hw = hardware_info()
    print(format_hardware(hw))

    with Timer() as total:
        X, y, groups, summary, recordings = load_features(
            data_dir, wake_trim=edge, subjects=args.subjects,
            max_per_recording=args.max_epochs_per_recording, return_recordings=True,
        )
        n_subjects = len(np.unique(groups))
        if train_test:
            X_te, y_te, g_te, summary_te, rec_te = load_features(
                args.test_dir, wake_trim=edge, subjects=args.subjects,
                max_per_recording=args.max_epochs_per_recording, return_recordings=True,
            )
            print(f"Train/test mode: {len(summary)} training nights from {args.train_dir}, "
                  f"{len(summary_te)} test nights ({len(y_te)} epochs) from {args.test_dir}.")
        elif args.folds > n_subjects:
            raise ValueError(f"--folds {args.folds} exceeds the {n_subjects} subjects.")
        raw_total = sum(s["n_epochs_raw"] for s in summary)
        raw_wake = sum(s["wake_share_raw"] * s["n_epochs_raw"] for s in summary) / raw_total
        print(
            f"\nData: {len(summary)} nights of {n_subjects} subjects from {data_dir}\n"
            f"  as provided: {raw_total} epochs, wake share {raw_wake:.1%} (whole recordings, "
            "NOT wake-trimmed: leading/trailing wake runs of "
            f"{min(s['leading_wake_epochs'] for s in summary)}-"
            f"{max(s['leading_wake_epochs'] for s in summary)} / "
            f"{min(s['trailing_wake_epochs'] for s in summary)}-"
            f"{max(s['trailing_wake_epochs'] for s in summary)} epochs)\n"
            f"  used: {len(y)} epochs x {X.shape[1]} features, wake share {np.mean(y == 'W'):.1%} "
            f"(wake trimming: {'none' if edge is None else f'±{trim_minutes:g} min'})"
        )
        counts = {s: int(np.sum(y == s)) for s in AASM_STAGES}
        print(f"  stage counts: {counts}")
        print(
            "  Caveat: third-party 72-dim features; 16 of Sleep-EDF-20's 39 nights "
            "(subjects 0-7): not the EDF-20 protocol."
        )

        # a majority-class reference row, then every pipeline
        from sklearn.dummy import DummyClassifier

        results = {}
        configs = [("majority", None, DummyClassifier(strategy="most_frequent"))]
        for clf in args.classifiers:
            for smp in args.samplers:
                if clf.startswith("ctx-") and smp != "none":
                    continue  # samplers would break the time order within a night
                label = _CLF_NAMES[clf] + _SAMPLER_NAMES[smp]
                configs.append((label, (clf, smp), make_pipeline(clf, smp, smoke=args.smoke)))
        for label, key, pipe in configs:
            if key is not None and key[0].startswith("ctx-"):
                both = evaluate_context(pipe, X, y, groups, recordings, args.folds,
                                        test=(X_te, y_te, rec_te) if train_test else None)
                outs = [(label, both[""]), (label + _HMM_SUFFIX, both["hmm"])]
            elif train_test:
                outs = [(label, evaluate_train_test(pipe, X, y, X_te, y_te))]
            else:
                outs = [(label, evaluate(pipe, X, y, groups, args.folds)[0])]
            for lab, out in outs:
                out["classifier"], out["sampler"] = (key or ("dummy", "none"))
                out["hmm"] = lab.endswith(_HMM_SUFFIX)
                results[lab] = out
                pooled = out["pooled"]
                print(
                    f"  {lab:<52s} pooled ACC {pooled['accuracy']:.3f} MF1 "
                    f"{pooled['macro_f1']:.3f} kappa {pooled['kappa']:.3f} N1-F1 "
                    f"{pooled['f1_N1']:.3f}  ({out['wall_time_s']:.1f} s)",
                    flush=True,
                )

    cols = [t for _, t in HEADLINE]
    header = ["pipeline"] + [f"{c} pooled" for c in cols] + ["MF1 per-fold mean±sd", "time (s)"]
    rows = []
    for label, out in results.items():
        pf = ("-" if out["per_fold"] is None else
              f"{out['per_fold_mean']['macro_f1']:.3f} ± {out['per_fold_std']['macro_f1']:.3f}")
        star = " **(recommended)**" if label == RECOMMENDED else ""
        rows.append([label + star] + metric_row(out["pooled"])
                    + [pf, f"{out['wall_time_s']:.1f}"])
    anchor = CLASSICAL_ANCHOR["edf20"]
    rows.append(
        ["Van Der Donckt 2022 (EDF-20, 39 nights; context only)", None, anchor["macro_f1"], None,
         None, None, "-", "-"]
    )
    stage_header = ["pipeline"] + [f"F1 {s}" for s in AASM_STAGES]
    stage_rows = [[label] + [out["pooled"][f"f1_{s}"] for s in AASM_STAGES] for label, out in results.items()]

    print()
    print(text_table(header, rows))
    print()
    print(text_table(stage_header, stage_rows))
    print(f"\nwall time {total.seconds:.1f} s, peak RSS {peak_rss_mb():.0f} MiB")

    trim_txt = "none (all epochs)" if edge is None else f"±{trim_minutes:g} min around the sleep period"
    md = [
        f"# Classical pipelines on Sleep-EDF features ({'smoke' if args.smoke else 'full'} run)",
        "",
        f"Data: `{data_dir.name}/`: {len(summary)} Sleep-EDF SC nights of {n_subjects} subjects, "
        f"{len(y)} epochs x {X.shape[1]} features used; wake trimming {trim_txt}; "
        f"wake share {raw_wake:.1%} as provided, {np.mean(y == 'W'):.1%} used.",
        (f"Protocol: trained on every night of `{args.train_dir}`, scored on the "
         f"{len(summary_te)} nights of `{args.test_dir}` ({len(y_te)} epochs, same wake "
         "trimming)." if train_test else
         f"Protocol: GroupKFold({args.folds}) over subjects (both nights of a subject in one "
         "fold); metrics on predictions pooled over folds (per-fold MF1 mean ± sd beside)."),
        "Context rows: ContextFeatures (YASA's 7.5-min centred triangular and 2-min past "
        "rolling means, robust-scaled per night) before the classifier; `+ HMMSmoother`: "
        "the same fitted pipeline, its probabilities decoded per night by Viterbi with the "
        "training nights' transition matrix. Recommended pipeline: "
        f"`{RECOMMENDED}`.",
        "",
        "**Caveat:** third-party 72-dim feature extraction and only 16 of Sleep-EDF-20's 39 nights: "
        "not the EDF-20 protocol. The published classical anchor (Van Der Donckt et al. 2022, "
        "MF1 0.810 on EDF-20) is given for context only.",
        "",
        markdown_table(header, rows),
        "",
        "Per-class F1 (pooled):",
        "",
        markdown_table(stage_header, stage_rows),
        "",
        f"Hardware: {hw['cpu_model']}, {hw['cpu_count']} logical cores, "
        f"OMP_NUM_THREADS={hw['omp_num_threads']}, n_jobs=1; scikit-learn {hw['sklearn']}. "
        f"Total wall time {total.seconds:.0f} s ({hw['date_utc']} UTC).",
    ]
    payload = {
        "benchmark": "sleepedf_features",
        "smoke": args.smoke,
        "data_dir": str(data_dir),
        "caveat": "third-party 72-dim features; 16 of Sleep-EDF-20's 39 nights; not the EDF-20 protocol",
        "wake_trim_minutes": trim_minutes,
        "n_folds": args.folds,
        "n_epochs": int(len(y)),
        "n_features": int(X.shape[1]),
        "stage_counts": counts,
        "wake_share_raw": raw_wake,
        "wake_share_used": float(np.mean(y == "W")),
        "nights": summary,
        "train_test": ({"train_dir": str(args.train_dir), "test_dir": str(args.test_dir),
                        "test_nights": summary_te, "n_test_epochs": int(len(y_te))}
                       if train_test else None),
        "recommended": RECOMMENDED,
        "pipelines": pipeline_entries(results),
        "results": results,
        "published_anchor": {"classical-vdd2022": CLASSICAL_ANCHOR},
        "hardware": hw,
        "wall_time_s": total.seconds,
        "peak_rss_mb": peak_rss_mb(),
    }
    write_json(payload, name, out_dir=args.out_dir)
    write_markdown("\n".join(md), name, out_dir=args.out_dir)
    return payload


if __name__ == "__main__":
    main()
