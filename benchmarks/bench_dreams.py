"""Single-channel EEG staging on the real DREAMS excerpts, leave-one-excerpt-out.

Data: the DREAMS Subjects database excerpts in ``<shared>/dreams/`` (Devuyst S. et al.,
University of Mons - TCTS lab; one central EEG derivation per excerpt, C3-A1 or CZ-A1,
at 50-200 Hz; R&K expert hypnogram every 5 s). They are read with
:func:`sklearn_sleep.datasets.load_dreams` (``sfreq=100``: every excerpt resampled to
100 Hz), stages mapped to AASM (S3 + S4 -> N3, movement/unknown removed) and
aggregated to 30-s epochs. There are only 6 excerpts of 30 min, i.e. **360 epochs in
total, and no REM epoch at all**: the figures are a sanity check of the pipelines on
real EEG, with wide uncertainty, not a benchmark against the literature. Metrics are
computed over the stages that occur (W, N1, N2, N3).

Models (``--models``):

* ``bandpower-hgb``: :class:`sklearn_sleep.features.BandPowerFeatures` (Welch band
  powers, ratios and time statistics) + HistGradientBoosting, the classical pipeline;
* ``ulw-sleepnet``: ULW-SleepNet with one input channel (Wang Z. et al., ICASSP 2026,
  arXiv 2602.23852);
* ``ssc-sleepnet``: SSC-SleepNet, a single-channel EEG network by design (Lin S. et al.,
  IEEE JBHI 2025, doi 10.1109/JBHI.2025.3572886).

* ``yasa-pretrained``: YASA 0.8.1's pretrained EEG-only stager (Vallat & Walker, eLife
  10:e70092, 2021) applied to each excerpt as is (no training on DREAMS):
  :class:`sklearn_sleep.features.YasaStageClassifier`, the stage of highest pretrained
  probability;
* ``yasa-bandpower-logreg`` (**recommended**, :data:`RECOMMENDED`): YASA's pretrained
  log-probabilities (``YasaHypnodensity(log=True)``) stacked with ``BandPowerFeatures``,
  standardised, and a LogisticRegression trained on the labelled excerpts: the pretrained
  model adapted to the user's own scoring;
* ``yasa-selected``: a ``GridSearchCV`` over the training excerpts (leave-one-excerpt-out,
  kappa) choosing between YASA as is (:class:`~sklearn_sleep.features.YasaStageClassifier`)
  and LogisticRegressions on YASA's log-probabilities, alone or with band powers
  (:func:`make_yasa_selected`): adapt only where cross-validation says it helps;
* ``bandpower-context-hgb`` and ``bandpower-context-hgb-hmm``: band powers +
  :class:`~sklearn_sleep.features.ContextFeatures` + HistGradientBoosting, the second
  decoded per excerpt by :class:`~sklearn_sleep.smoothing.HMMSmoother`.

The YASA models need ``pip install sklearn_sleep[yasa]`` and see each excerpt whole
(recording ids through metadata routing); like the context models they need each
excerpt's epochs contiguous and in time order. MMASleepNet and MASleepNet need
EEG + EOG + EMG and are not applicable here. Networks
receive per-excerpt robust-scaled signals (:func:`~sklearn_sleep.preprocessing.scale_recordings`).
Evaluation: :class:`~sklearn.model_selection.LeaveOneGroupOut` over excerpts (one
subject each), metrics on predictions pooled over the folds; or, with
``--train-excerpts 1 2 3 --test-excerpts 4 5 6``, trained on the first set and scored on
the second. The JSON's ``pipelines`` list has one entry per model (``pipeline``,
``accuracy``, ``macro_f1``, ``kappa``, ``n1_f1``, pooled), the README's recommended one
marked ``"recommended": true``.

Usage::

    OMP_NUM_THREADS=1 python benchmarks/bench_dreams.py --max-epochs 30     # full
    OMP_NUM_THREADS=1 python benchmarks/bench_dreams.py --smoke             # seconds
    OMP_NUM_THREADS=1 python benchmarks/bench_dreams.py --models yasa-pretrained \
        yasa-bandpower-logreg                                               # YASA vs ours
    OMP_NUM_THREADS=1 python benchmarks/bench_dreams.py --train-excerpts 1 2 3 \
        --test-excerpts 4 5 6
"""

import argparse
import sys
import tempfile
import warnings
from pathlib import Path

import numpy as np
from joblib import Memory

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (  # noqa: E402
    SHORT_BUDGET_OVERRIDES,
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

from sklearn_sleep.utils import AASM_STAGES  # noqa: E402

MODELS = ("bandpower-hgb", "ulw-sleepnet", "ssc-sleepnet", "yasa-pretrained",
          "yasa-bandpower-logreg", "yasa-selected", "bandpower-context-hgb",
          "bandpower-context-hgb-hmm")
_NAMES = {
    "bandpower-hgb": "BandPowerFeatures + HistGradientBoosting",
    "ulw-sleepnet": "ULW-SleepNet (C=1)",
    "ssc-sleepnet": "SSC-SleepNet",
    "yasa-pretrained": "YASA 0.8.1 pretrained (no training on DREAMS)",
    "yasa-bandpower-logreg": "YasaHypnodensity(log) + BandPowerFeatures + LogisticRegression",
    "yasa-selected": ("YASA pretrained or adapted, chosen by leave-one-night-out CV on the "
                      "training nights"),
    "bandpower-context-hgb": "BandPowerFeatures + ContextFeatures + HistGradientBoosting",
    "bandpower-context-hgb-hmm": "BandPowerFeatures + ContextFeatures + HGB + HMMSmoother",
}
#: Models that need the recording (excerpt) of every epoch.
RECORDING_AWARE = ("yasa-pretrained", "yasa-bandpower-logreg", "yasa-selected",
                   "bandpower-context-hgb", "bandpower-context-hgb-hmm")
#: The model the README recommends (marked ``"recommended": true`` in the JSON).
RECOMMENDED = "yasa-bandpower-logreg"


def make_yasa_selected(sfreq, memory=None):
    """YASA's pretrained stager, or YASA adapted to the training nights, whichever wins.

    A ``GridSearchCV`` over the training nights (``LeaveOneGroupOut``: fit it with
    ``groups=`` the night of every epoch, and ``recordings=`` through metadata routing),
    scored by Cohen's kappa, chooses among YASA as is (:class:`YasaStageClassifier`) and
    a LogisticRegression (C = 0.1 or 1) on YASA's log-probabilities, alone or stacked
    with band powers. With few or unrepresentative labelled nights, adapting can do worse
    than the pretrained model; the search keeps the pretrained one then. ``memory`` caches
    YASA's output per night (YASA then runs once per night in the whole search).
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import cohen_kappa_score, make_scorer
    from sklearn.model_selection import GridSearchCV, LeaveOneGroupOut
    from sklearn.pipeline import Pipeline, make_union
    from sklearn.preprocessing import StandardScaler

    from sklearn_sleep.features import BandPowerFeatures, YasaHypnodensity, YasaStageClassifier
    from sklearn_sleep.metrics import recording_scoring

    hypnodensity = YasaHypnodensity(sfreq=sfreq, log=True, memory=memory)
    pipe = Pipeline([("features", hypnodensity), ("scale", StandardScaler()),
                     ("clf", LogisticRegression(max_iter=2000))])
    grid = [
        {"features": [hypnodensity,
                      make_union(hypnodensity, BandPowerFeatures(sfreq=sfreq))],
         "clf__C": [0.1, 1.0]},
        {"features": ["passthrough"], "scale": ["passthrough"],
         "clf": [YasaStageClassifier(sfreq=sfreq, memory=memory)]},
    ]
    return GridSearchCV(pipe, grid, cv=LeaveOneGroupOut(),
                        scoring=recording_scoring(make_scorer(cohen_kappa_score)))


def _describe_choice(search):
    """The candidate a fitted search chose, in words."""
    best = search.best_estimator_
    if best.named_steps["features"] == "passthrough":
        return "YASA pretrained"
    feats = "hypnodensity" if not hasattr(best.named_steps["features"], "transformer_list") \
        else "hypnodensity + band power"
    return f"adapted: {feats}, LogisticRegression(C={best.named_steps['clf'].C:g})"


def make_estimator(name, *, sfreq, max_epochs, batch_size, device, seed, smoke=False,
                   paper_bn=False, memory=None):
    """The pipeline evaluated for ``name``."""
    if name == "yasa-selected":
        return make_yasa_selected(sfreq, memory=memory)
    if name in ("yasa-pretrained", "yasa-bandpower-logreg", "bandpower-context-hgb",
                "bandpower-context-hgb-hmm"):
        from sklearn.ensemble import HistGradientBoostingClassifier
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline, make_union
        from sklearn.preprocessing import StandardScaler

        from sklearn_sleep.features import (
            BandPowerFeatures,
            ContextFeatures,
            YasaHypnodensity,
            YasaStageClassifier,
        )
        from sklearn_sleep.smoothing import HMMSmoother

        if name == "yasa-pretrained":
            return YasaStageClassifier(sfreq=sfreq, memory=memory)
        if name == "yasa-bandpower-logreg":
            return make_pipeline(
                make_union(YasaHypnodensity(sfreq=sfreq, log=True, memory=memory),
                           BandPowerFeatures(sfreq=sfreq)),
                StandardScaler(), LogisticRegression(max_iter=2000),
            )
        pipe = make_pipeline(
            BandPowerFeatures(sfreq=sfreq), ContextFeatures(),
            HistGradientBoostingClassifier(max_iter=20 if smoke else 200, early_stopping=False,
                                           random_state=seed),
        )
        return HMMSmoother(pipe) if name.endswith("-hmm") else pipe
    if name == "bandpower-hgb":
        from sklearn.ensemble import HistGradientBoostingClassifier
        from sklearn.pipeline import make_pipeline

        from sklearn_sleep.features import BandPowerFeatures

        return make_pipeline(
            BandPowerFeatures(sfreq=sfreq),
            HistGradientBoostingClassifier(max_iter=20 if smoke else 200, early_stopping=False,
                                           random_state=seed),
        )
    from sklearn_sleep import models

    cls = {"ulw-sleepnet": models.ULWSleepNetClassifier,
           "ssc-sleepnet": models.SSCSleepNetClassifier}.get(name)
    if cls is None:
        raise ValueError(f"Unknown model {name!r}; choose from {MODELS}.")
    params = dict(max_epochs=max_epochs, batch_size=batch_size, device=device, random_state=seed)
    if not paper_bn:
        params.update(SHORT_BUDGET_OVERRIDES.get(name, {}))
    return cls(**params)


def build_parser():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data-dir", type=Path, default=None, help="default <shared>/dreams")
    p.add_argument("--models", nargs="+", choices=MODELS, default=list(MODELS))
    p.add_argument("--max-epochs", type=int, default=30, help="training epochs of the networks")
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--excerpts", type=int, nargs="+", default=None)
    p.add_argument("--train-excerpts", type=int, nargs="+", default=None,
                   help="train on these excerpts and score --test-excerpts (no CV)")
    p.add_argument("--test-excerpts", type=int, nargs="+", default=None)
    p.add_argument("--max-epochs-per-excerpt", type=int, default=None,
                   help="a contiguous run of at most this many epochs per excerpt, at a random "
                        "offset (quick runs; keeps the time order the context models need)")
    p.add_argument("--device", default="auto")
    p.add_argument("--threads", type=int, default=None, help="torch.set_num_threads")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--paper-bn", action="store_true",
                   help="keep the Keras BatchNorm momentum of ULW-SleepNet/SlumberNet "
                        "(default: 0.1 for short budgets, see _common.SHORT_BUDGET_OVERRIDES)")
    p.add_argument("--smoke", action="store_true",
                   help="seconds: 3 excerpts, 1 training epoch, small boosting")
    p.add_argument("--out-dir", type=Path, default=None)
    p.add_argument("--name", default=None)
    return p


def main(argv=None):
    args = build_parser().parse_args(argv)
    import torch
    import sklearn
    from sklearn.model_selection import LeaveOneGroupOut, cross_validate

    from sklearn_sleep.datasets import load_dreams
    from sklearn_sleep.metrics import recording_scoring, sleep_scoring
    from sklearn_sleep.models import resolve_device
    from sklearn_sleep.preprocessing import scale_recordings

    if args.threads is not None:
        torch.set_num_threads(args.threads)
    if (args.train_excerpts is None) != (args.test_excerpts is None):
        raise ValueError("--train-excerpts and --test-excerpts go together.")
    train_test = args.train_excerpts is not None
    if train_test:
        if args.excerpts is not None:
            raise ValueError("--excerpts is for cross-validation; leave it out with "
                             "--train-excerpts/--test-excerpts.")
        if set(args.train_excerpts) & set(args.test_excerpts):
            raise ValueError("--train-excerpts and --test-excerpts overlap: "
                             f"{sorted(set(args.train_excerpts) & set(args.test_excerpts))}.")
        args.excerpts = sorted(set(args.train_excerpts) | set(args.test_excerpts))
    if args.smoke:
        args.excerpts = args.excerpts or [1, 2, 3]
        args.max_epochs = 1
        args.max_epochs_per_excerpt = args.max_epochs_per_excerpt or 20
    device = resolve_device(args.device)
    name = args.name or ("dreams_smoke" if args.smoke else "dreams")
    if train_test and args.name is None:
        name += "_train_test"
    data_dir = args.data_dir or shared_data_dir() / "dreams"
    hw = hardware_info(device=device)
    print(format_hardware(hw))

    with Timer() as total:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            data = load_dreams(data_dir, excerpts=args.excerpts, sfreq=100)
        load_warnings = [str(w.message) for w in caught]
        X, y, groups = data.X, np.asarray(data.y).astype(str), np.asarray(data.groups)
        recordings = np.asarray(data.recordings)
        if args.max_epochs_per_excerpt is not None:
            rng = np.random.default_rng(args.seed)
            keep = []
            for g in np.unique(groups):
                idx = np.flatnonzero(groups == g)
                n_keep = min(len(idx), args.max_epochs_per_excerpt)
                start = int(rng.integers(0, len(idx) - n_keep + 1))
                keep.append(idx[start:start + n_keep])
            keep = np.concatenate(keep)
            X, y, groups, recordings = X[keep], y[keep], groups[keep], recordings[keep]
        X_scaled = np.asarray(scale_recordings(X, recordings), dtype=np.float32)
        labels = [s for s in AASM_STAGES if np.any(y == s)]
        counts = {s: int(np.sum(y == s)) for s in AASM_STAGES}
        print(f"\nDREAMS: {len(y)} epochs of 30 s ({len(np.unique(groups))} excerpts) x "
              f"{X.shape[1]} EEG channel at {data.sfreq:g} Hz; stage counts {counts}")
        print("  Only ~360 epochs in total (and no REM): wide uncertainty, a sanity check only.")
        for msg in load_warnings:
            print(f"  loader warning: {msg}")

        results = {}
        if train_test:
            is_train = np.isin(groups, args.train_excerpts)
            cv = [(np.flatnonzero(is_train), np.flatnonzero(~is_train))]
        else:
            cv = LeaveOneGroupOut()
        for model in args.models:
            # YASA's output per excerpt is cached within each model's evaluation (YASA
            # runs once per excerpt for all its folds and candidates); a fresh cache per
            # model keeps the models' times comparable
            cache = tempfile.TemporaryDirectory(prefix="bench_dreams_yasa_")
            memory = Memory(cache.name, verbose=0)
            est = make_estimator(model, sfreq=float(data.sfreq), max_epochs=args.max_epochs,
                                 batch_size=args.batch_size, device=device, seed=args.seed,
                                 smoke=args.smoke, paper_bn=args.paper_bn, memory=memory)
            # features compute on the raw µV signals; networks get per-excerpt scaled ones
            Xm = X if model == "bandpower-hgb" or model in RECORDING_AWARE else X_scaled
            aware = model in RECORDING_AWARE
            if aware:
                # recording ids reach the estimator (fit and predict) through metadata routing
                # the search's inner leave-one-night-out needs the groups in both modes
                kwargs = dict(scoring=recording_scoring(per_class=["N1"]),
                              params={"recordings": recordings}
                              | ({} if train_test and model != "yasa-selected"
                                 else {"groups": groups}))
            else:
                kwargs = dict(scoring=sleep_scoring(per_class=["N1"]),
                              groups=None if train_test else groups)
            with Timer() as timer, sklearn.config_context(enable_metadata_routing=aware):
                res = cross_validate(est, Xm, y, cv=cv, return_estimator=True,
                                     return_indices=True, error_score="raise", **kwargs)
                y_pred = np.empty(len(y), dtype=object)
                selected = []
                for fitted, test in zip(res["estimator"], res["indices"]["test"]):
                    extra = {"recordings": recordings[test]} if aware else {}
                    if hasattr(fitted, "best_estimator_"):  # a search: record its choice
                        selected.append(_describe_choice(fitted))
                        fitted = fitted.best_estimator_  # its predict takes no metadata
                    y_pred[test] = fitted.predict(Xm[test], **extra)
            scored = np.concatenate(res["indices"]["test"])
            y_pred = y_pred[scored].astype(str)
            pooled = pooled_scores(y[scored], y_pred,
                                   labels=[s for s in labels if np.any(y[scored] == s)])
            results[model] = {
                "pipeline": _NAMES[model],
                "recommended": model == RECOMMENDED,
                "pooled": pooled,
                "per_fold": {k[5:]: res[k].tolist() for k in res if k.startswith("test_")},
                "predicted_counts": {s: int(np.sum(y_pred == s)) for s in AASM_STAGES},
                "wall_time_s": timer.seconds,
            }
            cache.cleanup()
            if selected:
                results[model]["selected_per_fold"] = selected
                print(f"    chosen per fold: {selected}")
            print(f"  {_NAMES[model]:<42s} ACC {pooled['accuracy']:.3f} MF1 "
                  f"{pooled['macro_f1']:.3f} kappa {pooled['kappa']:.3f} "
                  f"({timer.seconds:.1f} s)", flush=True)

    majority = max(counts.values()) / len(y)
    header = ["model"] + [t for _, t in HEADLINE] + ["time (s)"]
    rows = [[_NAMES[m] + (" **(recommended)**" if m == RECOMMENDED else "")]
            + metric_row(r["pooled"]) + [f"{r['wall_time_s']:.1f}"] for m, r in results.items()]
    protocol = (f"trained on excerpts {args.train_excerpts}, scored on excerpts "
                f"{args.test_excerpts}" if train_test else "leave-one-excerpt-out")
    print()
    print(text_table(header, rows))
    print(f"majority-class accuracy {majority:.3f}; wall time {total.seconds:.1f} s")
    md = "\n".join([
        f"# DREAMS, {protocol} ({'smoke' if args.smoke else 'full'})",
        "",
        f"{len(y)} epochs of 30 s from {len(np.unique(groups))} excerpts (single EEG channel, "
        f"resampled to 100 Hz); stage counts {counts}. **Only ~360 epochs and no REM: a sanity "
        "check with wide uncertainty.** Metrics pooled over folds, over the stages present. "
        + (f"Networks: {args.max_epochs} training epochs, batch {args.batch_size}. "
           if any(m in ("ulw-sleepnet", "ssc-sleepnet") for m in results) else "")
        + ("YASA's pretrained stager is applied to every test excerpt whole, without training; "
           "the YASA and context models get each excerpt's recording id through metadata "
           "routing. " if any(m in RECORDING_AWARE for m in results) else "")
        + f"Recommended pipeline: {_NAMES[RECOMMENDED]}. "
        + f"Majority-class accuracy {majority:.3f}.",
        "",
        markdown_table(header, rows),
        "",
        "Per-class F1 (pooled):",
        "",
        markdown_table(["model"] + [f"F1 {s}" for s in labels],
                       [[_NAMES[m]] + [r["pooled"][f"f1_{s}"] for s in labels]
                        for m, r in results.items()]),
        "",
        *[f"{_NAMES[m]}: chosen per fold (inner leave-one-night-out CV on the training "
          f"excerpts, kappa): {'; '.join(r['selected_per_fold'])}.\n"
          for m, r in results.items() if "selected_per_fold" in r],
        f"Hardware: {hw['cpu_model']}, {hw['cpu_count']} logical cores; torch {hw['torch']}, "
        f"device {device}" + (f" [{hw['cuda_device']}]" if hw.get("cuda_device") else "")
        + f"; wall {total.seconds:.0f} s; {hw['date_utc']} UTC.",
    ])
    payload = {"benchmark": "dreams", "smoke": args.smoke, "args": vars(args),
               "n_epochs": int(len(y)), "stage_counts": counts, "labels": labels,
               "majority_accuracy": majority, "loader_warnings": load_warnings,
               "protocol": protocol, "recommended": _NAMES[RECOMMENDED],
               "pipelines": [{"pipeline": r["pipeline"], "accuracy": r["pooled"]["accuracy"],
                              "macro_f1": r["pooled"]["macro_f1"], "kappa": r["pooled"]["kappa"],
                              "n1_f1": r["pooled"].get("f1_N1"), "recommended": m == RECOMMENDED}
                             for m, r in results.items()],
               "results": results, "hardware": hw, "wall_time_s": total.seconds,
               "peak_rss_mb": peak_rss_mb()}
    write_json(payload, name, out_dir=args.out_dir)
    write_markdown(md, name, out_dir=args.out_dir)
    return payload


if __name__ == "__main__":
    main()
