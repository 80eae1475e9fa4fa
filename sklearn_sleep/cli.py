"""The ``sklearn-sleep`` command line (also ``python -m sklearn_sleep``).

Sub-commands
------------
``demo``
    End-to-end sleep staging on the embedded synthetic PSG
    (:func:`~sklearn_sleep.datasets.make_synthetic_psg`): a Pipeline evaluated with
    subject-wise ``cross_validate(..., groups=subjects, cv=GroupKFold)`` and
    :func:`~sklearn_sleep.metrics.sleep_scoring`. Prints accuracy, macro-F1, Cohen's
    kappa and macro G-mean per fold and as mean ± sd, then the per-class F1 and the
    confusion matrix of the predictions pooled over the folds.
``train``
    Train a model on a folder of EDF recordings with hypnograms (Sleep-EDF naming, or
    generic ``<name>.edf`` + ``<name>.csv|.txt`` label files) and save a
    :class:`~sklearn_sleep.persistence.SleepStager` (channels, sampling rate, epoch
    length and versions are stored with it).
``stage``
    Stage one EDF recording with a saved model: picks the model's channels by name,
    resamples to its rate, cuts epochs, predicts, and writes the hypnogram (and the
    per-epoch probabilities) as CSV, atomically; optionally a PNG plot. A trained model
    is required: there is deliberately no built-in default model, because a model
    trained on synthetic data would produce plausible-looking but meaningless
    hypnograms for real recordings.
``evaluate``
    Agreement between a predicted hypnogram CSV and a reference (CSV or a Sleep-EDF
    ``*-Hypnogram.edf``): accuracy, macro-F1, kappa, G-mean, per-class F1, confusion
    matrix, and the sleep statistics of both. Epochs are matched by onset (by position
    when a file has no onsets; the lengths must then be equal). Predicted epochs
    without a reference stage (unscored, movement, beyond the reference) and scored
    reference epochs without a predicted epoch (e.g. a reference longer than the
    prediction) are left out, each counted on a ``note:`` line on stderr; there is no
    length tolerance beyond which this becomes an error, the notes give the counts. A
    label that is not a stage of the vocabulary (AASM or rodent) of the other file,
    e.g. ``'XX'``, is an error.

Bad input (missing files, unknown channels, incompatible models, ...) prints one line
``sklearn-sleep: error: ...`` on stderr and exits with status 2 (``--debug`` shows the
traceback). Progress bars (tqdm, on stderr) are shown for loading recordings,
cross-validation folds and network training epochs; ``--quiet`` turns them off, and
they are off automatically when stderr is not a terminal.
"""

import argparse
import json
import re
import sys
import time
import warnings
from pathlib import Path

import numpy as np

__all__ = ["MODELS", "NETWORKS", "build_parser", "main"]

PROG = "sklearn-sleep"

#: Classical models: name -> description.
MODELS = {
    "bandpower-hgb": "BandPowerFeatures -> HistGradientBoostingClassifier (default, fast)",
    "bandpower-logreg": "BandPowerFeatures -> StandardScaler -> LogisticRegression",
}

#: Network models: name -> (classifier class in sklearn_sleep.models, demo preset,
#: make_synthetic_psg overrides, channels to pick).
NETWORKS = {
    "ulw-sleepnet": ("ULWSleepNetClassifier", "human", {}, None),
    "mmasleepnet": ("MMASleepNetClassifier", "human", {}, None),
    "masleepnet": ("MASleepNetClassifier", "human", {}, None),
    "ssc-sleepnet": ("SSCSleepNetClassifier", "human", {}, ["EEG Fpz-Cz"]),
    "mouse-cnn": ("MouseCNNClassifier", "mouse", {}, None),
    "mouse-attention": ("MouseCNNAttentionClassifier", "mouse", {}, None),
    "mouse-transformer": ("MouseTransformerClassifier", "mouse", {}, None),
    "slumbernet": ("SlumberNetClassifier", "mouse", {"sfreq": 64.0, "epoch_seconds": 4.0}, None),
}


class CLIError(Exception):
    """Bad input: reported as one line and exit status 2."""


# --------------------------------------------------------------------------- helpers
def _progress(iterable=None, *, quiet=False, **kwargs):
    from tqdm.auto import tqdm

    # disable=None: tqdm switches itself off when stderr is not a terminal
    return tqdm(iterable, disable=True if quiet else None, file=sys.stderr, **kwargs)


def _note(message):
    print(f"note: {message}", file=sys.stderr)


def _network_class(name):
    from sklearn_sleep import models

    from .models import SleepNetClassifier

    cls_name = NETWORKS[name][0]
    cls = getattr(models, cls_name, None)
    if not (isinstance(cls, type) and issubclass(cls, SleepNetClassifier)):
        raise CLIError(f"model {name!r} ({cls_name}) is not available in this installation.")
    return cls


def _make_epoch_progress_class():
    from skorch.callbacks import Callback

    class EpochProgress(Callback):
        """skorch callback: one tqdm bar over the training epochs of a network."""

        def __init__(self, quiet=False):
            self.quiet = quiet

        def on_train_begin(self, net, X=None, y=None, **kwargs):
            self.bar_ = _progress(total=net.max_epochs, quiet=self.quiet, desc="training",
                                  unit="epoch", leave=False)

        def on_epoch_end(self, net, **kwargs):
            bar = getattr(self, "bar_", None)
            if bar is not None:
                loss = net.history[-1].get("train_loss")
                if loss is not None:
                    bar.set_postfix(loss=f"{loss:.3f}")
                bar.update(1)

        def on_train_end(self, net, **kwargs):
            bar = getattr(self, "bar_", None)
            if bar is not None:
                bar.close()
            self.bar_ = None  # keep the callback picklable

    EpochProgress.__module__ = __name__
    EpochProgress.__qualname__ = "_EpochProgress"
    EpochProgress.__name__ = "_EpochProgress"
    return EpochProgress


def __getattr__(name):
    # The skorch callback class is created on first use, so that importing the CLI does
    # not import torch; pickle finds it here when a saved network is loaded.
    if name == "_EpochProgress":
        cls = _make_epoch_progress_class()
        globals()[name] = cls
        return cls
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def make_model(name, *, sfreq, ch_names=None, seed=0, max_epochs=None, device="auto",
               quiet=False, quick=False):
    """Build an unfitted estimator for ``--model name`` (epochs in, stages out).

    Parameters
    ----------
    name : str
        A key of :data:`MODELS` or :data:`NETWORKS`.
    sfreq : float
        Sampling rate of the epochs.
    ch_names : list of str or None
        Channel names (used for the feature names of the classical models).
    seed : int
        Random seed.
    max_epochs : int or None
        Training epochs of a network (its paper's recipe when None).
    device : str
        Device of a network ("auto", "cpu", "cuda").
    quiet : bool
        No progress bar for network training.
    quick : bool
        Smaller classical models (50 boosting iterations instead of 100).
    """
    from sklearn.pipeline import make_pipeline

    if name in MODELS:
        from .features import BandPowerFeatures

        features = BandPowerFeatures(sfreq=sfreq, ch_names=ch_names)
        if name == "bandpower-hgb":
            from sklearn.ensemble import HistGradientBoostingClassifier

            clf = HistGradientBoostingClassifier(max_iter=50 if quick else 100,
                                                 random_state=seed)
            return make_pipeline(features, clf)
        from sklearn.linear_model import LogisticRegression
        from sklearn.preprocessing import StandardScaler

        return make_pipeline(features, StandardScaler(), LogisticRegression(max_iter=1000))
    if name in NETWORKS:
        cls = _network_class(name)
        kwargs = {"random_state": seed, "device": device,
                  "callbacks": [("progress", __getattr__("_EpochProgress")(quiet=quiet))]}
        if max_epochs is not None:
            kwargs["max_epochs"] = max_epochs
        net = cls(**kwargs)
        declared = getattr(net, "sfreq", None)
        if declared is not None and not np.isclose(float(declared), float(sfreq)):
            raise CLIError(
                f"model {name!r} expects input at {float(declared):g} Hz but the data are at "
                f"{float(sfreq):g} Hz; use --sfreq {float(declared):g}."
            )
        return net
    raise CLIError(f"unknown model {name!r}; choose from {sorted(MODELS) + sorted(NETWORKS)}.")


def _fmt(value, digits=3):
    if value is None or (isinstance(value, float) and not np.isfinite(value)):
        return "n/a"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def _matrix_text(cm, labels, *, normalize=False):
    labels = [str(lab) for lab in labels]
    width = max(6, max(len(lab) for lab in labels) + 1)
    lines = ["ref \\ pred".ljust(width + 4) + "".join(lab.rjust(width) for lab in labels)]
    for lab, row in zip(labels, cm):
        cells = "".join((f"{v:.2f}" if normalize else str(int(v))).rjust(width) for v in row)
        lines.append(lab.ljust(width + 4) + cells)
    return "\n".join(lines)


def _write_json(path, payload):
    from ._atomic import atomic_write

    with atomic_write(path, "w") as f:
        json.dump(payload, f, indent=2, default=_json_default)
        f.write("\n")


def _json_default(obj):
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


def _vocabulary(labels):
    from .utils._stages import AASM_STAGES, MOUSE_STAGES

    labels = {str(s) for s in labels}
    for vocabulary in (AASM_STAGES, MOUSE_STAGES):
        if labels <= set(vocabulary):
            return vocabulary
    return None


def _stage_counts(y):
    from .utils._stages import canonical_labels as _canonical_classes

    y = np.asarray(y).astype(str)
    return ", ".join(f"{s} {int(np.sum(y == s))}" for s in _canonical_classes(y))


# ------------------------------------------------------------------------------ demo
def cmd_demo(args):
    """Subject-wise cross-validation on synthetic PSG; returns the results dict."""
    from sklearn.metrics import check_scoring
    from sklearn.model_selection import GroupKFold, cross_validate

    from .datasets import make_synthetic_psg
    from .metrics import (
        format_scores,
        per_class_f1,
        sleep_confusion_matrix,
        sleep_scores,
        sleep_scoring,
    )

    if args.quick:
        args.n_subjects = min(args.n_subjects, 3)
        args.n_epochs = min(args.n_epochs, 60)
        args.folds = min(args.folds, 3)
        if args.max_epochs is None:
            args.max_epochs = 1
    if args.n_subjects < 2:
        raise CLIError(f"--n-subjects must be at least 2 for subject-wise CV, got {args.n_subjects}.")
    if not 2 <= args.folds <= args.n_subjects:
        raise CLIError(
            f"--folds must be between 2 and --n-subjects ({args.n_subjects}), got {args.folds}."
        )
    network = args.model in NETWORKS
    if args.model not in MODELS and not network:
        raise CLIError(f"unknown model {args.model!r}; choose from {sorted(MODELS) + sorted(NETWORKS)}.")
    preset = args.preset or (NETWORKS[args.model][1] if network else "human")
    overrides = dict(NETWORKS[args.model][2]) if network else {}
    picks = NETWORKS[args.model][3] if network else None
    if network and args.max_epochs is None:
        args.max_epochs = 3

    t0 = time.perf_counter()
    data = make_synthetic_psg(args.n_subjects, args.n_epochs, preset=preset,
                              random_state=args.seed, channels=picks, **overrides)
    X, y, groups = data.X, np.asarray(data.y), np.asarray(data.groups)
    print(f"{PROG} demo: synthetic {preset} PSG, {args.n_subjects} subjects x {args.n_epochs} "
          f"epochs = {len(X)} epochs of {data.epoch_seconds:g} s, channels {list(data.ch_names)} "
          f"at {data.sfreq:g} Hz")
    print("stage counts: " + _stage_counts(y))
    model = make_model(args.model, sfreq=data.sfreq, ch_names=list(data.ch_names),
                       seed=args.seed, max_epochs=args.max_epochs, device=args.device,
                       quiet=args.quiet, quick=args.quick)
    print(f"model: {args.model} -> " + re.sub(r"\s+", " ", repr(model)))
    print(f"protocol: cross_validate with GroupKFold(n_splits={args.folds}) over subjects "
          "(no subject in both train and test), scoring=sleep_scoring()")

    multi = check_scoring(model, scoring=sleep_scoring())
    bar = _progress(total=args.folds, quiet=args.quiet, desc="CV folds", unit="fold", leave=False)

    def scoring(estimator, X_test, y_test):
        scores = multi(estimator, X_test, y_test)
        bar.update(1)
        return scores

    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*validation_fraction.*")
            res = cross_validate(model, X, y, groups=groups, cv=GroupKFold(n_splits=args.folds),
                                 scoring=scoring, return_estimator=True, return_indices=True,
                                 error_score="raise")
    finally:
        bar.close()

    names = ("accuracy", "macro_f1", "kappa", "gmean")
    header = f"{'fold':>4}  {'test subjects':<16}{'n_test':>7}" + "".join(f"{n:>14}" for n in names)
    print("\nPer-fold scores (test subjects held out):")
    print(header)
    folds = []
    y_pooled_true, y_pooled_pred = [], []
    for k, (est, test_idx) in enumerate(zip(res["estimator"], res["indices"]["test"])):
        subjects = sorted(np.unique(groups[test_idx]).tolist())
        row = {n: float(res[f"test_{n}"][k]) for n in names}
        folds.append({"fold": k + 1, "test_subjects": subjects, "n_test": len(test_idx),
                      **row, "fit_time_s": float(res["fit_time"][k])})
        print(f"{k + 1:>4}  {subjects!s:<16}{len(test_idx):>7}"
              + "".join(f"{row[n]:>14.3f}" for n in names))
        y_pooled_true.append(y[test_idx])
        y_pooled_pred.append(est.predict(X[test_idx]))
    means = {n: float(np.mean(res[f"test_{n}"])) for n in names}
    sds = {n: float(np.std(res[f"test_{n}"], ddof=1)) if args.folds > 1 else 0.0 for n in names}
    print(f"{'mean ± sd':<29}" + "".join(f"{means[n]:.3f} ± {sds[n]:.3f}".rjust(14)
                                          for n in names))

    y_true = np.concatenate(y_pooled_true)
    y_pred = np.concatenate(y_pooled_pred)
    pooled = sleep_scores(y_true, y_pred)
    f1 = per_class_f1(y_true, y_pred)
    cm, labels = sleep_confusion_matrix(y_true, y_pred)
    print("\nPooled over folds (all test epochs):")
    print(format_scores({n: pooled[n] for n in names}))
    print("per-class F1: " + ", ".join(f"{k} {v:.3f}" for k, v in f1.items()))
    print("confusion matrix (rows = reference, columns = predicted):")
    print(_matrix_text(cm, labels))
    elapsed = time.perf_counter() - t0
    print(f"\ndone in {elapsed:.1f} s")
    results = {
        "model": args.model, "preset": preset, "n_subjects": args.n_subjects,
        "n_epochs_per_subject": args.n_epochs, "n_epochs": len(X), "folds": folds,
        "mean": means, "sd": sds, "pooled": pooled, "per_class_f1": f1,
        "confusion_matrix": {"labels": [str(v) for v in labels], "counts": cm.tolist()},
        "seed": args.seed, "elapsed_s": elapsed,
    }
    if args.json:
        _write_json(args.json, results)
    return results


# ----------------------------------------------------------------------------- train
_SLEEP_EDF_RE = re.compile(r"^(SC4\d{3})")


def _sleep_edf_pairs(folder):
    psgs = {}
    for f in sorted(folder.rglob("*-PSG.edf")):
        m = _SLEEP_EDF_RE.match(f.name)
        if m:
            psgs.setdefault(m.group(1), f)
    hyps = {}
    for f in sorted(folder.rglob("*-Hypnogram.edf")):
        m = _SLEEP_EDF_RE.match(f.name)
        if m:
            hyps.setdefault(m.group(1), f)
    if not psgs:
        raise CLIError(f"no Sleep-EDF 'SC4ssN*-PSG.edf' file in {str(folder)!r}.")
    missing = sorted(set(psgs) - set(hyps))
    if missing:
        raise CLIError(f"no '*-Hypnogram.edf' for {missing} in {str(folder)!r}.")
    return [(psgs[k], hyps[k]) for k in sorted(psgs)]


def _label_file_for(edf):
    for suffix in (".csv", ".txt", ".tsv"):
        candidate = edf.with_suffix(suffix)
        if candidate.is_file():
            return candidate
    return None


def _read_labels(path):
    """Labels from a hypnogram CSV (with a 'stage' column) or a one-label-per-line file."""
    from .datasets._generic import read_label_file
    from .hypnogram import read_hypnogram_csv

    with open(path, encoding="utf-8-sig") as f:
        first = f.readline()
    if "stage" in [c.strip() for c in first.replace("\t", ",").split(",")]:
        return read_hypnogram_csv(path).stage.astype(object)
    return read_label_file(path)


def _load_training_data(args):
    folder = Path(args.data_dir)
    if not folder.is_dir():
        raise CLIError(f"data folder not found: {str(folder)!r}.")
    parts = []
    if args.format == "sleep-edf":
        from .datasets import read_sleep_edf_recording

        pairs = _sleep_edf_pairs(folder)
        kwargs = {"sfreq": args.sfreq if args.sfreq is not None else 100.0,
                  "epoch_seconds": args.epoch_seconds or 30.0}
        if args.channels:
            kwargs["channels"] = args.channels
        for psg, hyp in _progress(pairs, quiet=args.quiet, desc="loading", unit="night"):
            parts.append(read_sleep_edf_recording(psg, hyp, **kwargs))
    else:
        from .datasets import load_edf_with_labels

        edfs = sorted(p for p in folder.glob("*.edf") if not p.name.endswith("-Hypnogram.edf"))
        if not edfs:
            raise CLIError(f"no '*.edf' file in {str(folder)!r}.")
        if args.epoch_seconds is None:
            raise CLIError("--epoch-seconds is required with --format edf-labels.")
        unlabeled = [p.name for p in edfs if _label_file_for(p) is None]
        if unlabeled:
            raise CLIError(
                f"no label file (<name>.csv, .txt or .tsv) next to {unlabeled} in {str(folder)!r}."
            )
        for edf in _progress(edfs, quiet=args.quiet, desc="loading", unit="file"):
            labels = _read_labels(_label_file_for(edf))
            parts.append(load_edf_with_labels(
                edf, labels, epoch_seconds=args.epoch_seconds, channels=args.channels,
                sfreq=args.sfreq, resample_mismatched="resample" if args.sfreq else "raise",
            ))
    ch_names = [list(p.ch_names) for p in parts]
    sfreqs = {float(p.sfreq) for p in parts}
    if any(c != ch_names[0] for c in ch_names) or len(sfreqs) != 1:
        raise CLIError(
            "recordings differ in channels or sampling rate; give --channels and --sfreq."
        )
    X = np.concatenate([p.X for p in parts]).astype(np.float32, copy=False)
    y = np.concatenate([np.asarray(p.y, dtype=object) for p in parts])
    groups = np.concatenate([np.asarray(p.groups).astype(str) for p in parts])
    return X, y, groups, ch_names[0], sfreqs.pop(), float(parts[0].epoch_seconds)


def cmd_train(args):
    from .persistence import SleepStager

    X, y, groups, ch_names, sfreq, epoch_seconds = _load_training_data(args)
    print(f"{PROG} train: {len(X)} epochs from {len(np.unique(groups))} recording(s)/subject(s), "
          f"channels {ch_names} at {sfreq:g} Hz, {epoch_seconds:g}-s epochs")
    print("stage counts: " + _stage_counts(y))
    model = make_model(args.model, sfreq=sfreq, ch_names=ch_names, seed=args.seed,
                       max_epochs=args.max_epochs, device=args.device, quiet=args.quiet)
    stager = SleepStager(model, ch_names=ch_names, sfreq=sfreq, epoch_seconds=epoch_seconds)
    t0 = time.perf_counter()
    fit_params = {"groups": groups} if args.model in NETWORKS else {}
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*validation_fraction.*")
        stager.fit(X, y, **fit_params)
    path = stager.save(args.out)
    print(f"trained {args.model} in {time.perf_counter() - t0:.1f} s; saved to {path}")
    return stager


# ----------------------------------------------------------------------------- stage
def _read_recording(path, stager, quiet):
    from .datasets._edf_io import read_edf_signals

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"recording not found: {str(path)!r}.")
    sig = read_edf_signals(path, list(stager.ch_names_), sfreq=stager.sfreq_,
                           resample_mismatched="resample")
    for name, (native, out) in sig.resampled_channels.items():
        _note(f"channel {name!r} resampled from {native:g} Hz to {out:g} Hz.")
    n_times = stager.n_times_
    n_samples = sig.signals.shape[1]
    n_epochs = n_samples // n_times
    if n_epochs == 0:
        raise CLIError(
            f"{str(path)!r} is shorter ({n_samples / sig.sfreq:g} s) than one "
            f"{stager.epoch_seconds_:g}-s epoch."
        )
    rest = n_samples - n_epochs * n_times
    if rest:
        _note(f"the last {rest / sig.sfreq:g} s of {path.name} do not fill an epoch and are "
              "not staged.")
    X = sig.signals[:, :n_epochs * n_times].reshape(len(sig.ch_names), n_epochs, n_times)
    return np.ascontiguousarray(X.transpose(1, 0, 2), dtype=np.float32), sig


def _plot_night(path, stages, proba, classes, epoch_seconds, title):
    from matplotlib.figure import Figure

    from ._atomic import atomic_write
    from .plotting import plot_hypnodensity, plot_hypnogram

    fig = Figure(figsize=(11, 5 if proba is not None else 3), layout="constrained")
    axes = fig.subplots(2 if proba is not None else 1, 1, sharex=True, squeeze=False)[:, 0]
    plot_hypnogram(stages, epoch_seconds=epoch_seconds, ax=axes[0], title=title)
    if proba is not None:
        plot_hypnodensity(proba, classes, epoch_seconds=epoch_seconds, ax=axes[1])
    with atomic_write(path, "wb") as f:
        fig.savefig(f, format="png", dpi=100)


def _print_statistics(stages, epoch_seconds):
    from .hypnogram import sleep_statistics

    vocabulary = _vocabulary(stages)
    if vocabulary is None:
        _note("labels are not AASM or rodent stage names; sleep statistics skipped.")
        return None
    stats = sleep_statistics(stages, epoch_seconds=epoch_seconds, stages=vocabulary)
    keys = ["TIB", "TST", "SE", "SOL", "WASO", "Lat_REM", "n_awakenings"]
    print("sleep statistics: " + ", ".join(f"{k} {_fmt(stats[k], 1)}" for k in keys)
          + "  (minutes; SE in %; Lat_REM from sleep onset)")
    print("minutes per stage: " + ", ".join(f"{s} {stats[f'{s}_min']:.1f}" for s in vocabulary))
    return stats


def cmd_stage(args):
    from .hypnogram import write_hypnogram_csv
    from .persistence import SleepStager, load_model

    if args.model is None:
        raise CLIError(
            "a trained model is needed: pass --model MODEL.joblib (train one with "
            f"'{PROG} train DATA_DIR --out model.joblib'). There is no built-in default model."
        )
    stager = load_model(args.model)
    if not isinstance(stager, SleepStager):
        raise CLIError(
            f"{args.model!r} is a plain {type(stager).__name__}, not a SleepStager: it does not "
            "record the channels and sampling rate it needs. Save models with "
            f"'{PROG} train' or SleepStager(...).save()."
        )
    X, sig = _read_recording(args.recording, stager, args.quiet)
    print(f"{PROG} stage: {Path(args.recording).name}: {len(X)} epochs of "
          f"{stager.epoch_seconds_:g} s, channels {list(sig.ch_names)} at {sig.sfreq:g} Hz")
    from .utils._stages import canonical_labels as _canonical_classes

    # probability columns in stage order (W, N1, N2, N3, REM), whatever the classifier's
    classes = [str(c) for c in _canonical_classes(np.asarray(stager.classes_))]
    proba = None
    if hasattr(stager.estimator_, "predict_proba"):
        proba = stager.predict_proba(X, ch_names=sig.ch_names, sfreq=sig.sfreq)
        own = [str(c) for c in stager.classes_]
        proba = proba[:, [own.index(c) for c in classes]]
        stages = np.asarray(classes, dtype=object)[np.argmax(proba, axis=1)]
    else:
        stages = stager.predict(X, ch_names=sig.ch_names, sfreq=sig.sfreq)
        if args.proba:
            raise CLIError("this model has no predict_proba; drop --proba.")
    write_hypnogram_csv(args.out, stages, epoch_seconds=stager.epoch_seconds_)
    print(f"hypnogram written to {args.out}")
    if args.proba:
        write_hypnogram_csv(args.proba, stages, epoch_seconds=stager.epoch_seconds_,
                            proba=proba, classes=classes)
        print(f"probabilities written to {args.proba}")
    if args.plot:
        _plot_night(args.plot, stages, proba, classes, stager.epoch_seconds_,
                    Path(args.recording).name)
        print(f"plot written to {args.plot}")
    _print_statistics(stages, stager.epoch_seconds_)
    return stages


# -------------------------------------------------------------------------- evaluate
def _reference_from_edf(path, epoch_seconds):
    """Per-epoch stages from an EDF+ hypnogram (Sleep-EDF annotations)."""
    from .datasets._sleep_edf import _read_annotations
    from .utils._stages import EXCLUDED, SLEEP_EDF_ANNOTATION_MAP

    try:
        # the loaders' reader: header and file-size check (truncated/corrupt files raise a
        # ValueError naming the file) before mne.read_annotations
        annotations = _read_annotations(path)
    except ValueError:
        raise
    except Exception as exc:  # mne raises several types for unreadable files
        raise CLIError(f"cannot read hypnogram annotations from {str(path)!r}: {exc}") from exc
    ignored = {}
    labels = {}
    for onset, duration, desc in zip(annotations.onset, annotations.duration,
                                     annotations.description):
        stage = SLEEP_EDF_ANNOTATION_MAP.get(desc)
        if stage is None:
            ignored[desc] = ignored.get(desc, 0) + 1
            continue
        start = int(round(onset / epoch_seconds))
        n = int(round(duration / epoch_seconds))
        for k in range(start, start + n):
            labels[k] = stage
    if ignored:
        _note(f"ignored annotations that are not sleep stages: {ignored}.")
    if not labels:
        raise CLIError(f"{str(path)!r} contains no sleep-stage annotation.")
    return {k * epoch_seconds: (None if v == EXCLUDED else v) for k, v in labels.items()}


def _check_stage_labels(y_ref, y_pred):
    """Refuse labels that are not stages of the vocabulary (AASM or rodent) of the other file.

    Called when the two label sets together fit no vocabulary: a label such as ``'XX'``
    would otherwise be scored as an extra class.
    """
    from .utils._stages import AASM_STAGES, MOUSE_STAGES

    ref, pred = set(y_ref.tolist()), set(y_pred.tolist())
    for name, labels, other in (("reference", ref, pred), ("prediction", pred, ref)):
        # the vocabularies that hold every label of the other file (fewest unknowns first)
        candidates = [v for v in (AASM_STAGES, MOUSE_STAGES) if other <= set(v)]
        if not candidates:
            continue
        vocabulary = min(candidates, key=lambda v: len(labels - set(v)))
        unknown = sorted(labels - set(vocabulary))
        if unknown:
            raise CLIError(
                f"{name} label(s) {unknown} are not sleep stages; expected the stages "
                f"{list(vocabulary)} used by the other file."
            )


def _reference_from_csv(path):
    from .hypnogram import read_hypnogram_csv

    ref = read_hypnogram_csv(path)
    if ref.onset_s is None:
        return None, ref.stage
    return {float(o): s for o, s in zip(ref.onset_s, ref.stage)}, ref.stage


def cmd_evaluate(args):
    from .hypnogram import read_hypnogram_csv, sleep_statistics
    from .metrics import per_class_f1, sleep_confusion_matrix, sleep_scores

    pred = read_hypnogram_csv(args.prediction)
    epoch_seconds = args.epoch_seconds or pred.epoch_seconds
    if epoch_seconds is None:
        raise CLIError(f"cannot infer the epoch length of {args.prediction!r}; give --epoch-seconds.")
    reference = Path(args.reference)
    if not reference.is_file():
        raise FileNotFoundError(f"reference not found: {str(reference)!r}.")
    if reference.suffix.lower() == ".edf":
        by_onset, positional = _reference_from_edf(reference, epoch_seconds), None
    else:
        by_onset, positional = _reference_from_csv(reference)
    y_pred = pred.stage
    if by_onset is not None and pred.onset_s is not None:
        keyed = {round(k / epoch_seconds): v for k, v in by_onset.items()}
        pred_keys = {round(o / epoch_seconds) for o in pred.onset_s}
        y_ref = np.asarray([keyed.get(round(o / epoch_seconds)) for o in pred.onset_s],
                           dtype=object)
        n_unmatched = sum(1 for k, v in keyed.items() if v is not None and k not in pred_keys)
        if n_unmatched:
            _note(f"{n_unmatched} scored reference epoch(s) have no predicted epoch (beyond "
                  "the end of the prediction or between its onsets) and are left out.")
    else:
        if len(positional) != len(y_pred):
            raise CLIError(
                f"prediction has {len(y_pred)} epochs but the reference has {len(positional)} "
                "and there are no onsets to align them."
            )
        y_ref = np.asarray(positional, dtype=object)
    keep = np.asarray([r is not None for r in y_ref])
    n_left_out = int((~keep).sum())
    if n_left_out:
        _note(f"{n_left_out} of {len(y_pred)} predicted epochs have no reference stage "
              "(unscored, movement, or outside the reference) and are left out.")
    if not keep.any():
        raise CLIError("no epoch of the prediction has a reference stage; check the files.")
    y_ref = y_ref[keep].astype(str)
    y_pred = np.asarray(y_pred)[keep].astype(str)
    vocabulary = _vocabulary(np.concatenate([y_ref, y_pred]))
    if vocabulary is None:
        _check_stage_labels(y_ref, y_pred)
    if vocabulary is not None:
        from .utils._stages import to_stage_codes, to_stage_names

        y_ref = to_stage_names(to_stage_codes(y_ref, vocabulary), vocabulary).astype(str)
        y_pred = to_stage_names(to_stage_codes(y_pred, vocabulary), vocabulary).astype(str)
    scores = sleep_scores(y_ref, y_pred)
    cm, labels = sleep_confusion_matrix(y_ref, y_pred)
    f1 = per_class_f1(y_ref, y_pred)
    print(f"{PROG} evaluate: {len(y_ref)} epochs of {epoch_seconds:g} s compared")
    for name in ("accuracy", "macro_f1", "kappa", "gmean"):
        print(f"{name:>10s}  {scores[name]:.3f}")
    print("per-class F1: " + ", ".join(f"{k} {v:.3f}" for k, v in f1.items()))
    print("confusion matrix (rows = reference, columns = predicted):")
    print(_matrix_text(cm, labels))
    results = {"n_epochs": len(y_ref), "n_left_out": n_left_out, "scores": scores,
               "per_class_f1": f1,
               "confusion_matrix": {"labels": [str(v) for v in labels], "counts": cm.tolist()}}
    if vocabulary is not None:
        stats_ref = sleep_statistics(y_ref, epoch_seconds=epoch_seconds, stages=vocabulary)
        stats_pred = sleep_statistics(y_pred, epoch_seconds=epoch_seconds, stages=vocabulary)
        keys = [k for k, v in stats_ref.items()
                if isinstance(v, (int, float)) and k not in ("n_epochs", "epoch_seconds")]
        print("\nsleep statistics (minutes; SE/SME/_pct in %; Lat_* from sleep onset):")
        print(f"{'':<22}{'reference':>12}{'predicted':>12}")
        for k in keys:
            print(f"{k:<22}{_fmt(stats_ref[k], 2):>12}{_fmt(stats_pred[k], 2):>12}")
        results["statistics"] = {"reference": stats_ref, "predicted": stats_pred}
    if args.json:
        _write_json(args.json, results)
    return results


# ------------------------------------------------------------------------------ main
def build_parser():
    """The argparse parser of ``sklearn-sleep``."""
    model_names = sorted(MODELS) + sorted(NETWORKS)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--quiet", "-q", action="store_true", help="no progress bars")
    common.add_argument("--debug", action="store_true", help="show tracebacks on errors")

    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Automatic sleep staging with scikit-learn pipelines and deep networks.",
    )
    from ._version import __version__

    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    p = sub.add_parser("demo", parents=[common],
                       help="cross-validated staging on synthetic PSG (the main example)",
                       description=cmd_demo.__doc__)
    p.add_argument("--n-subjects", type=int, default=6, help="synthetic subjects (default 6)")
    p.add_argument("--n-epochs", type=int, default=120, help="epochs per subject (default 120)")
    p.add_argument("--folds", type=int, default=3, help="GroupKFold splits (default 3)")
    p.add_argument("--model", default="bandpower-hgb", choices=model_names,
                   help="model to evaluate (default bandpower-hgb)")
    p.add_argument("--preset", choices=["human", "mouse"], default=None,
                   help="synthetic data preset (default: the model's)")
    p.add_argument("--max-epochs", type=int, default=None,
                   help="training epochs of a network (default 3; 1 with --quick)")
    p.add_argument("--device", default="auto", help="network device: auto, cpu, cuda")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--quick", action="store_true",
                   help="tiny run: at most 3 subjects, 60 epochs each, 3 folds, 50 boosting "
                        "iterations (1 training epoch for networks)")
    p.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("train", parents=[common], help="train and save a model from EDF files")
    p.add_argument("data_dir", metavar="DATA_DIR", help="folder of EDF recordings + hypnograms")
    p.add_argument("--out", required=True, metavar="MODEL", help="output model file (.joblib)")
    p.add_argument("--format", choices=["sleep-edf", "edf-labels"], default="sleep-edf",
                   help="sleep-edf: SC4ssN*-PSG.edf + *-Hypnogram.edf pairs; edf-labels: "
                        "<name>.edf + <name>.csv/.txt with one label per epoch")
    p.add_argument("--channels", nargs="+", default=None, metavar="NAME",
                   help="channels to use, in order (default: Sleep-EDF's 4 / all)")
    p.add_argument("--sfreq", type=float, default=None,
                   help="resample to this rate (default: 100 Hz for sleep-edf, native otherwise)")
    p.add_argument("--epoch-seconds", type=float, default=None,
                   help="epoch length (default 30 for sleep-edf; required for edf-labels)")
    p.add_argument("--model", default="bandpower-hgb", choices=model_names)
    p.add_argument("--max-epochs", type=int, default=None, help="network training epochs")
    p.add_argument("--device", default="auto")
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("stage", parents=[common], help="stage one EDF recording")
    p.add_argument("recording", metavar="RECORDING.edf")
    p.add_argument("--model", default=None, metavar="MODEL",
                   help="model saved by 'sklearn-sleep train' (required)")
    p.add_argument("--out", required=True, metavar="HYPNOGRAM.csv",
                   help="hypnogram CSV (epoch, onset_s, stage)")
    p.add_argument("--proba", metavar="PROBA.csv", help="also write per-epoch probabilities")
    p.add_argument("--plot", metavar="PNG", help="also plot the hypnogram and hypnodensity")
    p.set_defaults(func=cmd_stage)

    p = sub.add_parser("evaluate", parents=[common],
                       help="compare a predicted hypnogram with a reference")
    p.add_argument("prediction", metavar="PRED.csv")
    p.add_argument("reference", metavar="REFERENCE", help="hypnogram CSV or *-Hypnogram.edf")
    p.add_argument("--epoch-seconds", type=float, default=None,
                   help="epoch length (default: from the prediction's onsets)")
    p.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    p.set_defaults(func=cmd_evaluate)
    return parser


def main(argv=None):
    """Run ``sklearn-sleep`` with ``argv`` (default ``sys.argv[1:]``); return the exit status.

    Parses the arguments with :func:`build_parser` and runs the chosen sub-command
    (``demo``, ``train``, ``stage`` or ``evaluate``). Errors are reported rather than
    raised: bad input (a ``CLIError``, ``ValueError`` — which includes
    ``ModelFileError`` and ``IncompatibleModelError`` — ``FileNotFoundError``,
    ``FileExistsError``, ``IsADirectoryError`` or ``PermissionError``) prints the first
    line of its message as ``sklearn-sleep: error: ...`` on stderr, unless ``--debug``
    was given, in which case the exception propagates with its traceback. Other
    exceptions always propagate.

    Parameters
    ----------
    argv : sequence of str or None, default=None
        Command-line arguments without the program name, e.g.
        ``["demo", "--quick"]``; ``None`` uses ``sys.argv[1:]``.

    Returns
    -------
    status : int
        ``0`` on success (and for ``--help`` / ``--version``); ``2`` for a usage error
        (reported by argparse) or bad input; ``130`` when interrupted with Ctrl-C
        (:class:`KeyboardInterrupt`).
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version or a usage error (status 2)
        return int(exc.code or 0)
    from .persistence import IncompatibleModelError, ModelFileError

    try:
        args.func(args)
    except (CLIError, ValueError, FileNotFoundError, FileExistsError, IsADirectoryError,
            PermissionError, ModelFileError, IncompatibleModelError) as exc:
        if args.debug:
            raise
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        print(f"{PROG}: error: {message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
