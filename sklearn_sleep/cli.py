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
    without a reference stage (unscored, movement, beyond the reference), scored
    reference epochs without a predicted epoch (e.g. a reference longer than the
    prediction) and reference epochs scored twice with the same stage are left out or
    counted once, each counted on a ``note:`` line on stderr, on the ``left out:`` line
    and in the JSON (``left_out``). Refused: onsets off the epoch grid, annotations that
    are not a whole number of epochs (a 45-s annotation on 30-s epochs is never
    rounded), overlapping annotations with different stages, duplicated predicted
    epochs, and a label that is not a stage of the vocabulary (AASM or rodent) of the
    other file, e.g. ``'XX'``.

Any failure (bad input, unreadable files, a full or read-only disk, out of memory,
invalid numbers in a header, an untrusted model file, ...) prints one line
``sklearn-sleep: error: ...`` naming the file and the problem on stderr and exits with
status 2 (``--debug`` shows the traceback). Every option is validated (rates and epoch
lengths must be positive finite numbers).

Outputs never clobber inputs: before any work, each command refuses an output that is
the same file as an input or as another output (same resolved path or same inode), and
an existing output unless ``--overwrite`` is given. The outputs of a run are written to
temporary files beside their targets and renamed only when all are complete.

Model files are zip archives (JSON + skops/safetensors, see
:mod:`sklearn_sleep.persistence`) that load without running code; pickle/joblib model
files are refused unless ``stage --trusted-model`` is given.

Progress bars (tqdm, on stderr) are shown for loading recordings,
cross-validation folds and network training epochs; ``--quiet`` turns them off, and
they are off automatically when stderr is not a terminal.
"""

import argparse
import contextlib
import errno
import json
import math
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


# ------------------------------------------------------------------ option validation
def _positive_float(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive finite number, got {text!r}")
    return value


def _positive_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive whole number, got {text!r}")
    return value


def _seed(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if not 0 <= value < 2**32:
        raise argparse.ArgumentTypeError(f"must be between 0 and 2**32 - 1, got {text!r}")
    return value


def _device(text):
    if not re.fullmatch(r"auto|cpu|mps|cuda(:\d+)?", text):
        raise argparse.ArgumentTypeError(f"must be auto, cpu, cuda, cuda:N or mps, got {text!r}")
    return text


def _nonempty(text):
    if not text.strip():
        raise argparse.ArgumentTypeError("must not be empty")
    return text


class _Parser(argparse.ArgumentParser):
    """argparse parser whose usage errors are one ``sklearn-sleep: error: ...`` line."""

    def error(self, message):
        self.exit(2, f"{PROG}: error: {message} (see '{self.prog} --help')\n")


# ------------------------------------------------------------------ outputs and errors
def _check_outputs(args, outputs, inputs):
    """Refuse outputs equal to an input or to each other, or existing without --overwrite."""
    from ._atomic import check_outputs

    return check_outputs(outputs, inputs, overwrite=args.overwrite,
                         overwrite_hint="--overwrite")


def _first_line(exc):
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


@contextlib.contextmanager
def _reading(path, what):
    """Name the file in any error raised while reading it."""
    try:
        yield
    except (CLIError, KeyboardInterrupt):
        raise
    except Exception as exc:  # noqa: BLE001 - re-raised with the file named
        message = _first_line(exc)
        name = Path(path).name
        if isinstance(exc, (ValueError, FileNotFoundError)) and name in message:
            raise
        if isinstance(exc, UnicodeDecodeError):
            message = f"not UTF-8 text ({message})"
        elif isinstance(exc, MemoryError):
            message = "not enough memory to read it (MemoryError)"
        elif isinstance(exc, OSError):
            message = _os_message(exc)
        elif not isinstance(exc, ValueError):
            message = f"{type(exc).__name__}: {message}"
        raise CLIError(f"cannot read {what} {str(path)!r}: {message}") from exc


def _os_message(exc):
    reason = exc.strerror or _first_line(exc)
    if exc.errno == errno.ENOSPC:
        reason = "no space left on device (disk full)"
    elif exc.errno == errno.EROFS:
        reason = "read-only file system"
    elif exc.errno in (errno.EACCES, errno.EPERM):
        reason = "permission denied"
    return reason


@contextlib.contextmanager
def _writing(what):
    """Turn a failed write (full disk, read-only folder, ...) into one clear line."""
    try:
        yield
    except OSError as exc:
        raise CLIError(f"cannot write {what}: {_os_message(exc)}; no output file was "
                       "changed.") from exc


def _error_message(exc):
    """The one line printed for an exception that ends a command."""
    if isinstance(exc, (CLIError, ValueError)) and not isinstance(exc, UnicodeDecodeError):
        return _first_line(exc)
    if isinstance(exc, UnicodeDecodeError):
        return f"a text file is not UTF-8 ({_first_line(exc)})"
    if isinstance(exc, OSError):
        if exc.filename is not None and exc.strerror:
            return f"{str(exc.filename)!r}: {_os_message(exc)}"
        return _first_line(exc)
    if isinstance(exc, MemoryError):
        return ("out of memory (MemoryError); use fewer or shorter recordings, or a machine "
                "with more memory.")
    if isinstance(exc, ArithmeticError):
        return (f"invalid numbers in the input ({type(exc).__name__}: {_first_line(exc)}); "
                "check the file headers.")
    return (f"unexpected {type(exc).__name__}: {_first_line(exc)} (rerun with --debug for "
            "the traceback and please report it).")


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

    _check_outputs(args, [("--json", args.json)], [])
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
        with _writing(f"--json {args.json!r}"):
            _write_json(args.json, results)
    return results


# ----------------------------------------------------------------------------- train
_SLEEP_EDF_RE = re.compile(r"^(SC4\d{3})")


def _sleep_edf_pairs(folder):
    from .datasets._validation import glob_ci

    psgs, hyps = {}, {}
    # names and extensions in any case (.EDF, -Hypnogram.EDF), found by the readers' rule
    for files, found in ((glob_ci(folder, "SC4*-PSG.edf", recursive=True), psgs),
                         (glob_ci(folder, "SC4*-Hypnogram.edf", recursive=True), hyps)):
        for f in files:
            m = _SLEEP_EDF_RE.match(f.name.upper())
            if m:
                found.setdefault(m.group(1), f)
    if not psgs:
        raise CLIError(f"no Sleep-EDF 'SC4ssN*-PSG.edf' file in {str(folder)!r}.")
    missing = sorted(set(psgs) - set(hyps))
    if missing:
        raise CLIError(f"no '*-Hypnogram.edf' for {missing} in {str(folder)!r}.")
    return [(psgs[k], hyps[k]) for k in sorted(psgs)]


def _label_file_for(edf):
    from .datasets._validation import glob_ci

    for suffix in (".csv", ".txt", ".tsv"):
        candidates = glob_ci(edf.parent, edf.stem + suffix)
        if candidates:
            return candidates[0]
    return None


def _read_labels(path):
    """Labels from a hypnogram CSV (with a 'stage' column) or a one-label-per-line file."""
    from .datasets._generic import read_label_file
    from .hypnogram import read_hypnogram_csv

    with open(path, "rb") as f:
        first = f.readline().decode("utf-8-sig", errors="replace")
    if "stage" in [c.strip() for c in first.replace("\t", ",").split(",")]:
        return read_hypnogram_csv(path).stage.astype(object)
    return read_label_file(path)


#: Per-recording counts returned by the readers: what was left out of training.
_DROP_COUNTS = {
    "n_scored_outside_signal": "scored epochs beyond the PSG signal",
    "n_unscored_outside_signal": "unscored ('?'/movement) epochs beyond the PSG signal",
    "n_outside_signal": "annotated epochs (scored or not) outside the PSG signal",
    "n_excluded": "movement/unscored epochs",
    "n_trimmed_wake": "wake epochs trimmed at the ends of the night",
    "n_dropped_labels": "labels beyond the end of the signal",
    "n_dropped_samples": "samples after the last whole epoch",
}


def _training_files(args):
    """The (recording, labels) file pairs that ``train`` will read."""
    folder = Path(args.data_dir)
    if not folder.is_dir():
        raise CLIError(f"data folder not found: {str(folder)!r}.")
    if args.format == "sleep-edf":
        return _sleep_edf_pairs(folder)
    from .datasets._validation import glob_ci

    edfs = [p for p in glob_ci(folder, "*.edf")
            if not p.name.lower().endswith("-hypnogram.edf")]
    if not edfs:
        raise CLIError(f"no '*.edf' file in {str(folder)!r}.")
    if args.epoch_seconds is None:
        raise CLIError("--epoch-seconds is required with --format edf-labels.")
    unlabeled = [p.name for p in edfs if _label_file_for(p) is None]
    if unlabeled:
        raise CLIError(
            f"no label file (<name>.csv, .txt or .tsv) next to {unlabeled} in {str(folder)!r}."
        )
    return [(edf, _label_file_for(edf)) for edf in edfs]


def _load_training_data(args, files):
    parts = []
    if args.format == "sleep-edf":
        from .datasets import read_sleep_edf_recording

        kwargs = {"sfreq": args.sfreq if args.sfreq is not None else 100.0,
                  "epoch_seconds": args.epoch_seconds if args.epoch_seconds is not None
                  else 30.0}
        if args.channels:
            kwargs["channels"] = args.channels
        for psg, hyp in _progress(files, quiet=args.quiet, desc="loading", unit="night"):
            with _reading(psg, "recording"):
                parts.append(read_sleep_edf_recording(psg, hyp, **kwargs))
    else:
        from .datasets import load_edf_with_labels

        for edf, label_file in _progress(files, quiet=args.quiet, desc="loading", unit="file"):
            with _reading(label_file, "label file"):
                labels = _read_labels(label_file)
            with _reading(edf, "recording"):
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
    dropped = dict.fromkeys(_DROP_COUNTS, 0)
    for p in parts:
        counts = {key: int(p.get(key, 0) or 0) for key in _DROP_COUNTS}
        if "n_scored_outside_signal" in p:  # the reader tells scored from unscored epochs
            counts["n_unscored_outside_signal"] = (counts.pop("n_outside_signal")
                                                   - counts["n_scored_outside_signal"])
        for key, value in counts.items():
            dropped[key] += value
    X = np.concatenate([p.X for p in parts]).astype(np.float32, copy=False)
    y = np.concatenate([np.asarray(p.y, dtype=object) for p in parts])
    groups = np.concatenate([np.asarray(p.groups).astype(str) for p in parts])
    return (X, y, groups, ch_names[0], sfreqs.pop(), float(parts[0].epoch_seconds),
            {k: v for k, v in dropped.items() if v})


def cmd_train(args):
    """Train a model on a folder of recordings and save it (safe model format)."""
    from .persistence import SleepStager

    if args.channels is not None:
        dupes = sorted({c for c in args.channels if args.channels.count(c) > 1})
        if dupes:
            raise CLIError(f"--channels lists {dupes} more than once.")
    files = _training_files(args)
    inputs = [("training file", f) for pair in files for f in pair]
    _check_outputs(args, [("--out", args.out)], inputs)
    X, y, groups, ch_names, sfreq, epoch_seconds, dropped = _load_training_data(args, files)
    print(f"{PROG} train: {len(X)} epochs from {len(np.unique(groups))} recording(s)/subject(s), "
          f"channels {ch_names} at {sfreq:g} Hz, {epoch_seconds:g}-s epochs")
    print("stage counts: " + _stage_counts(y))
    if dropped:
        print("left out of training: " + "; ".join(
            f"{v} {_DROP_COUNTS[k]}" for k, v in dropped.items()))
    else:
        print("left out of training: nothing")
    model = make_model(args.model, sfreq=sfreq, ch_names=ch_names, seed=args.seed,
                       max_epochs=args.max_epochs, device=args.device, quiet=args.quiet)
    stager = SleepStager(model, ch_names=ch_names, sfreq=sfreq, epoch_seconds=epoch_seconds)
    t0 = time.perf_counter()
    fit_params = {"groups": groups} if args.model in NETWORKS else {}
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*validation_fraction.*")
        stager.fit(X, y, **fit_params)
    with _writing(f"--out {args.out!r}"):
        path = stager.save(args.out, overwrite=args.overwrite)
    print(f"trained {args.model} in {time.perf_counter() - t0:.1f} s; saved to {path}")
    return stager


# ----------------------------------------------------------------------------- stage
def _read_recording(path, stager, quiet):
    from .datasets._edf_io import read_edf_signals

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"recording not found: {str(path)!r}.")
    with _reading(path, "recording"):
        # float32 from the start: one copy of the night, the size of the epoch array
        sig = read_edf_signals(path, list(stager.ch_names_), sfreq=stager.sfreq_,
                               resample_mismatched="resample", dtype=np.float32)
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
    # (n_epochs, n_channels, n_times) as a strided view of the signals, not a second copy
    # of the night: the feature extractors and networks read it in chunks of epochs
    X = sig.signals[:, :n_epochs * n_times].reshape(len(sig.ch_names), n_epochs, n_times)
    return X.transpose(1, 0, 2), sig


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
    """Stage one recording with a saved model; write the hypnogram (and extras) atomically."""
    from ._atomic import AtomicGroup
    from .hypnogram import write_hypnogram_csv
    from .persistence import SleepStager, load_model

    if args.model is None:
        raise CLIError(
            "a trained model is needed: pass --model MODEL.zip (train one with "
            f"'{PROG} train DATA_DIR --out model.zip'). There is no built-in default model."
        )
    outputs = [("--out", args.out), ("--proba", args.proba), ("--plot", args.plot)]
    _check_outputs(args, outputs, [("RECORDING", args.recording), ("--model", args.model)])
    with _reading(args.model, "model file"):
        stager = load_model(args.model, trusted=args.trusted_model)
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
    if args.proba and not hasattr(stager.estimator_, "predict_proba"):
        raise CLIError("this model has no predict_proba; drop --proba.")
    # the hypnogram is the model's own predict (e.g. an HMM's Viterbi path, or an SVC's
    # decision), never re-derived from the probabilities
    stages = stager.predict(X, ch_names=sig.ch_names, sfreq=sig.sfreq)
    proba = None
    if hasattr(stager.estimator_, "predict_proba") and (args.proba or args.plot):
        proba = stager.predict_proba(X, ch_names=sig.ch_names, sfreq=sig.sfreq)
        own = [str(c) for c in stager.classes_]
        proba = proba[:, [own.index(c) for c in classes]]
    # all outputs or none: each goes to a temporary file beside it, renamed at the end
    written = ", ".join(repr(str(p)) for _, p in outputs if p)
    with _writing(written), AtomicGroup() as group:
        write_hypnogram_csv(group.path(args.out), stages, epoch_seconds=stager.epoch_seconds_,
                            overwrite=True)
        if args.proba:
            write_hypnogram_csv(group.path(args.proba), stages,
                                epoch_seconds=stager.epoch_seconds_, proba=proba,
                                classes=classes, overwrite=True)
        if args.plot:
            _plot_night(group.path(args.plot), stages, proba, classes, stager.epoch_seconds_,
                        Path(args.recording).name)
    print(f"hypnogram written to {args.out}")
    if args.proba:
        print(f"probabilities written to {args.proba}")
    if args.plot:
        print(f"plot written to {args.plot}")
    _print_statistics(stages, stager.epoch_seconds_)
    return stages


# -------------------------------------------------------------------------- evaluate
def _grid_tolerance(epoch_seconds):
    return max(1e-6, 1e-4 * epoch_seconds)


def _grid_index(onsets, epoch_seconds, origin, *, what):
    """Epoch index of each onset on the grid ``origin + k * epoch_seconds``; refuse others."""
    onsets = np.asarray(onsets, dtype=float)
    if not np.all(np.isfinite(onsets)):
        raise CLIError(f"{what}: onsets must be finite numbers.")
    k = (onsets - origin) / epoch_seconds
    idx = np.round(k)
    off = np.abs(k - idx) * epoch_seconds > _grid_tolerance(epoch_seconds)
    if off.any():
        first = float(onsets[np.argmax(off)])
        raise CLIError(
            f"{what}: {int(off.sum())} onset(s) are not on the {epoch_seconds:g}-s epoch grid "
            f"of the prediction (first: {first:g} s); epochs are matched by onset, so they "
            "would be shifted. Give --epoch-seconds matching both files or fix the onsets."
        )
    return idx.astype(np.int64)


def _reference_from_edf(path, epoch_seconds, origin, n_epochs, counts):
    """Per-epoch stages from an EDF+ hypnogram (Sleep-EDF annotations).

    Read with :func:`~sklearn_sleep.datasets.read_stage_annotations` on the
    prediction's epoch grid, so that its rules apply: annotations off the grid or not a
    whole number of epochs (a 45-s annotation on 30-s epochs) and overlapping or
    duplicated annotations are refused, never rounded or overwritten; scored epochs
    beyond the prediction are counted without being expanded (a huge duration costs
    nothing). This function only reports the counts.
    """
    from .datasets import read_stage_annotations
    from .utils._stages import EXCLUDED

    with _reading(path, "reference hypnogram"):
        plan = read_stage_annotations(
            path, epoch_seconds=epoch_seconds, on_unknown="ignore", on_grid=True,
            grid_origin=origin, recording_duration=origin + n_epochs * epoch_seconds)
    if plan.ignored:
        _note(f"ignored annotations that are not sleep stages: {plan.ignored}.")
    if plan.n_outside_scored:
        counts["reference_epochs_outside_prediction"] = (
            counts.get("reference_epochs_outside_prediction", 0) + plan.n_outside_scored)
    if not len(plan.labels) and not plan.n_outside_scored:
        raise CLIError(f"{str(path)!r} contains no sleep-stage annotation.")
    index = np.round((plan.onsets - origin) / epoch_seconds).astype(np.int64)
    return {int(k): (None if v == EXCLUDED else v) for k, v in zip(index, plan.labels)}


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


def _reference_from_csv(path, epoch_seconds, origin, n_epochs, counts):
    """Per-epoch stages of a reference CSV: by onset, or positional when it has none."""
    from .hypnogram import read_hypnogram_csv

    with _reading(path, "reference"):
        ref = read_hypnogram_csv(path)
    if ref.onset_s is None:
        return None, np.asarray(ref.stage, dtype=object)
    if ref.epoch_seconds is not None and not np.isclose(ref.epoch_seconds, epoch_seconds):
        raise CLIError(
            f"{str(path)!r} has {ref.epoch_seconds:g}-s epochs but the prediction has "
            f"{epoch_seconds:g}-s epochs; compare hypnograms with the same epoch length."
        )
    idx = _grid_index(ref.onset_s, epoch_seconds, origin, what=f"reference {str(path)!r}")
    # read_hypnogram_csv has refused duplicated onsets; onsets that differ by less than
    # the grid tolerance would still land on one epoch: refused, never overwritten
    uniq, n_seen = np.unique(idx, return_counts=True)
    if (n_seen > 1).any():
        first = int(uniq[np.argmax(n_seen > 1)])
        raise CLIError(
            f"{str(path)!r}: {int((n_seen - 1).sum())} onset(s) fall on an epoch already "
            f"scored (first at {origin + first * epoch_seconds:g} s); each epoch must be "
            "scored once."
        )
    labels = dict(zip(idx.tolist(), ref.stage.tolist()))
    outside = [k for k in labels if k < 0 or k >= n_epochs]
    if outside:
        counts["reference_epochs_outside_prediction"] = (
            counts.get("reference_epochs_outside_prediction", 0) + len(outside))
        for k in outside:
            del labels[k]
    return labels, None


def cmd_evaluate(args):
    """Compare a predicted hypnogram with a reference; every left-out epoch is counted."""
    from .hypnogram import read_hypnogram_csv, sleep_statistics
    from .metrics import per_class_f1, sleep_confusion_matrix, sleep_scores

    _check_outputs(args, [("--json", args.json)],
                   [("PRED.csv", args.prediction), ("REFERENCE", args.reference)])
    with _reading(args.prediction, "prediction"):
        pred = read_hypnogram_csv(args.prediction)
    epoch_seconds = args.epoch_seconds if args.epoch_seconds is not None else pred.epoch_seconds
    if epoch_seconds is None:
        raise CLIError(f"cannot infer the epoch length of {args.prediction!r} (no regularly "
                       "spaced onset_s column); give --epoch-seconds.")
    if pred.epoch_seconds is not None and not np.isclose(pred.epoch_seconds, epoch_seconds):
        raise CLIError(
            f"{args.prediction!r} has {pred.epoch_seconds:g}-s epochs but --epoch-seconds is "
            f"{epoch_seconds:g}."
        )
    reference = Path(args.reference)
    if not reference.is_file():
        raise FileNotFoundError(f"reference not found: {str(reference)!r}.")
    counts = {}
    if pred.onset_s is not None:
        origin = float(pred.onset_s[0]) % epoch_seconds
        pred_idx = _grid_index(pred.onset_s, epoch_seconds, origin,
                               what=f"prediction {args.prediction!r}")
    else:  # no onsets: the epoch column (or the row number) gives the position
        origin = 0.0
        pred_idx = np.asarray(pred.epoch, dtype=np.int64)
    uniq, n_seen = np.unique(pred_idx, return_counts=True)
    if (n_seen > 1).any():
        first = int(uniq[np.argmax(n_seen > 1)])
        raise CLIError(
            f"{args.prediction!r}: {int((n_seen - 1).sum())} epoch(s) appear more than once "
            f"(first at {origin + first * epoch_seconds:g} s); each epoch must be scored once."
        )
    if pred_idx.min() < 0:
        raise CLIError(f"{args.prediction!r}: negative onsets/epoch numbers.")
    n_epochs = int(pred_idx.max()) + 1
    if reference.suffix.lower() == ".edf":
        by_index = _reference_from_edf(reference, epoch_seconds, origin, n_epochs, counts)
        positional = None
    else:
        by_index, positional = _reference_from_csv(reference, epoch_seconds, origin, n_epochs,
                                                   counts)
    y_pred = pred.stage
    if by_index is not None:
        y_ref = np.asarray([by_index.get(int(k)) for k in pred_idx], dtype=object)
        pred_keys = set(pred_idx.tolist())
        n_unmatched = sum(1 for k, v in by_index.items() if v is not None and k not in pred_keys)
        if n_unmatched:
            counts["reference_epochs_between_predicted_onsets"] = n_unmatched
    else:
        if len(positional) != len(y_pred):
            raise CLIError(
                f"prediction has {len(y_pred)} epochs but the reference has {len(positional)} "
                "and there are no onsets to align them."
            )
        y_ref = positional
    keep = np.asarray([r is not None for r in y_ref])
    n_left_out = int((~keep).sum())
    if n_left_out:
        counts["predicted_epochs_without_reference"] = n_left_out
    for key, text in (
        ("predicted_epochs_without_reference",
         "predicted epoch(s) have no reference stage (unscored, movement, or outside the "
         "reference) and are left out"),
        ("reference_epochs_outside_prediction",
         "scored reference epoch(s) lie beyond the prediction (or before its start) and are "
         "left out"),
        ("reference_epochs_between_predicted_onsets",
         "scored reference epoch(s) fall between the prediction's onsets and are left out"),
    ):
        if counts.get(key):
            _note(f"{counts[key]} {text}.")
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
    print("left out: " + (", ".join(f"{k.replace('_', ' ')} {v}" for k, v in counts.items())
                          if counts else "nothing"))
    for name in ("accuracy", "macro_f1", "kappa", "gmean"):
        print(f"{name:>10s}  {scores[name]:.3f}")
    print("per-class F1: " + ", ".join(f"{k} {v:.3f}" for k, v in f1.items()))
    print("confusion matrix (rows = reference, columns = predicted):")
    print(_matrix_text(cm, labels))
    results = {"n_epochs": len(y_ref), "n_left_out": n_left_out, "left_out": counts,
               "scores": scores, "per_class_f1": f1,
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
        with _writing(f"--json {args.json!r}"):
            _write_json(args.json, results)
    return results


# ------------------------------------------------------------------------------ main
def build_parser():
    """The argparse parser of ``sklearn-sleep``."""
    model_names = sorted(MODELS) + sorted(NETWORKS)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--quiet", "-q", action="store_true", help="no progress bars")
    common.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    writes = argparse.ArgumentParser(add_help=False)
    writes.add_argument("--overwrite", action="store_true",
                        help="replace output files that already exist (refused otherwise; an "
                             "input file is never replaced)")

    parser = _Parser(
        prog=PROG,
        description="Automatic sleep staging with scikit-learn pipelines and deep networks.",
    )
    from ._version import __version__

    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True

    p = sub.add_parser("demo", parents=[common, writes],
                       help="cross-validated staging on synthetic PSG (the main example)",
                       description=cmd_demo.__doc__)
    p.add_argument("--n-subjects", type=_positive_int, default=6,
                   help="synthetic subjects (default 6)")
    p.add_argument("--n-epochs", type=_positive_int, default=120,
                   help="epochs per subject (default 120)")
    p.add_argument("--folds", type=_positive_int, default=3, help="GroupKFold splits (default 3)")
    p.add_argument("--model", default="bandpower-hgb", choices=model_names,
                   help="model to evaluate (default bandpower-hgb)")
    p.add_argument("--preset", choices=["human", "mouse"], default=None,
                   help="synthetic data preset (default: the model's)")
    p.add_argument("--max-epochs", type=_positive_int, default=None,
                   help="training epochs of a network (default 3; 1 with --quick)")
    p.add_argument("--device", type=_device, default="auto",
                   help="network device: auto, cpu, cuda")
    p.add_argument("--seed", type=_seed, default=0, help="random seed (default 0)")
    p.add_argument("--quick", action="store_true",
                   help="tiny run: at most 3 subjects, 60 epochs each, 3 folds, 50 boosting "
                        "iterations (1 training epoch for networks)")
    p.add_argument("--json", metavar="PATH", type=_nonempty,
                   help="also write the results as JSON")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("train", parents=[common, writes],
                       help="train and save a model from EDF files",
                       description=cmd_train.__doc__ + " The model file is a zip archive "
                       "(JSON + skops/safetensors) that loads without running code.")
    p.add_argument("data_dir", metavar="DATA_DIR", help="folder of EDF recordings + hypnograms")
    p.add_argument("--out", required=True, metavar="MODEL", type=_nonempty,
                   help="output model file (safe format: a zip archive, e.g. model.zip)")
    p.add_argument("--format", choices=["sleep-edf", "edf-labels"], default="sleep-edf",
                   help="sleep-edf: SC4ssN*-PSG.edf + *-Hypnogram.edf pairs; edf-labels: "
                        "<name>.edf + <name>.csv/.txt with one label per epoch")
    p.add_argument("--channels", nargs="+", default=None, metavar="NAME", type=_nonempty,
                   help="channels to use, in order (default: Sleep-EDF's 4 / all)")
    p.add_argument("--sfreq", type=_positive_float, default=None,
                   help="resample to this rate (default: 100 Hz for sleep-edf, native otherwise)")
    p.add_argument("--epoch-seconds", type=_positive_float, default=None,
                   help="epoch length (default 30 for sleep-edf; required for edf-labels)")
    p.add_argument("--model", default="bandpower-hgb", choices=model_names)
    p.add_argument("--max-epochs", type=_positive_int, default=None,
                   help="network training epochs")
    p.add_argument("--device", type=_device, default="auto")
    p.add_argument("--seed", type=_seed, default=0)
    p.set_defaults(func=cmd_train)

    p = sub.add_parser(
        "stage", parents=[common, writes], help="stage one EDF recording",
        description=cmd_stage.__doc__ + " Model files in the safe format (written by "
        "'sklearn-sleep train' and SleepStager.save) load without running code. Older "
        "pickle/joblib model files can run arbitrary code when loaded and are refused "
        "unless --trusted-model is given; use it only for files from sources you trust.")
    p.add_argument("recording", metavar="RECORDING.edf")
    p.add_argument("--model", default=None, metavar="MODEL",
                   help="model saved by 'sklearn-sleep train' (required); safe format, "
                        "loaded without running code")
    p.add_argument("--trusted-model", action="store_true",
                   help="allow a pickle/joblib model file (it can run arbitrary code: only "
                        "for files you trust)")
    p.add_argument("--out", required=True, metavar="HYPNOGRAM.csv", type=_nonempty,
                   help="hypnogram CSV (epoch, onset_s, stage)")
    p.add_argument("--proba", metavar="PROBA.csv", type=_nonempty,
                   help="also write per-epoch probabilities")
    p.add_argument("--plot", metavar="PNG", type=_nonempty,
                   help="also plot the hypnogram and hypnodensity")
    p.set_defaults(func=cmd_stage)

    p = sub.add_parser("evaluate", parents=[common, writes],
                       help="compare a predicted hypnogram with a reference",
                       description=cmd_evaluate.__doc__)
    p.add_argument("prediction", metavar="PRED.csv")
    p.add_argument("reference", metavar="REFERENCE", help="hypnogram CSV or *-Hypnogram.edf")
    p.add_argument("--epoch-seconds", type=_positive_float, default=None,
                   help="epoch length (default: from the prediction's onsets)")
    p.add_argument("--json", metavar="PATH", type=_nonempty,
                   help="also write the results as JSON")
    p.set_defaults(func=cmd_evaluate)
    return parser


def main(argv=None):
    """Run ``sklearn-sleep`` with ``argv`` (default ``sys.argv[1:]``); return the exit status.

    Parses the arguments with :func:`build_parser` and runs the chosen sub-command
    (``demo``, ``train``, ``stage`` or ``evaluate``). Errors are reported, not raised:
    any exception (bad input, unreadable or unwritable files, a full or read-only disk,
    out of memory, invalid numbers in a header, ...) prints one line
    ``sklearn-sleep: error: ...`` naming the file and the problem on stderr, unless
    ``--debug`` was given, in which case the exception propagates with its traceback.
    Warnings are printed as ``note:`` lines. Outputs are checked before any work:
    an output that is an input or another output is refused, an existing one unless
    ``--overwrite`` is given; the outputs of one run are written all-or-nothing.

    Parameters
    ----------
    argv : sequence of str or None, default=None
        Command-line arguments without the program name, e.g.
        ``["demo", "--quick"]``; ``None`` uses ``sys.argv[1:]``.

    Returns
    -------
    status : int
        ``0`` on success (and for ``--help`` / ``--version``); ``2`` for a usage error
        or any failure; ``130`` when interrupted with Ctrl-C
        (:class:`KeyboardInterrupt`).
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version or a usage error (status 2)
        return int(exc.code or 0) if not isinstance(exc.code, str) else 2

    def show_warning(message, category, filename, lineno, file=None, line=None):
        _note(str(message).strip().splitlines()[0] if str(message).strip() else category.__name__)

    try:
        with warnings.catch_warnings():
            if not args.debug:
                warnings.showwarning = show_warning
            args.func(args)
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - one line, never a traceback (see --debug)
        if args.debug:
            raise
        print(f"{PROG}: error: {_error_message(exc)}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
