"""The Sleep-EDF-20 / Sleep-EDF-78 evaluation protocol for any model of the library.

Protocol (NETWORKS.md §0; DeepSleepNet's preparation, Supratak A. et al., IEEE TNSRE
2017, doi 10.1109/TNSRE.2017.2721116, reused by AttnSleep, MMASleepNet, ULW-SleepNet):

* Sleep-EDF Expanded sleep cassette (Kemp B. et al., IEEE TBME 2000,
  doi 10.1109/10.867928), read with :func:`sklearn_sleep.datasets.load_sleep_edf` from
  a local folder (download it once with :func:`sklearn_sleep.datasets.fetch_sleep_edf`);
  30-s epochs at 100 Hz of Fpz-Cz, Pz-Oz, EOG horizontal and EMG submental; S3 + S4 ->
  N3; movement and unscored epochs removed; ±30 min of wake kept around the sleep period.
* ``--dataset edf20``: subjects 0-19 (39 nights), 20-fold subject-wise CV (one subject
  per fold). ``--dataset edf78``: subjects 0-82 except 39, 68, 69, 78, 79 (78 subjects,
  153 nights), 10-fold subject-wise CV. Both nights of a subject stay in one fold.
* Folds: consecutive chunks (``np.array_split``) of the sorted subject list, or of the
  fixed subject permutation of the MMASleepNet code (``--permutation mmasleepnet``,
  NETWORKS.md §1.9; its entries index the sorted subject list, which for EDF-20 is the
  subject id itself).
* Metrics on the predictions pooled over all folds: ACC, MF1, Cohen's kappa, G-mean and
  per-class F1 (W, N1, N2, N3, REM), printed in the layout of the papers' tables next to
  the published numbers of :mod:`published` (with their provenance tags).

The training set of each fold is used whole: there is no model selection on the test
fold (several papers checkpoint on test-fold accuracy, which inflates their numbers).
For quick runs: ``--subjects``, ``--folds``, ``--max-epochs`` (training epochs of the
networks) and ``--max-train-epochs-per-recording`` (random subsample of each training
night; test nights are always complete).

Usage::

    python benchmarks/sleep_edf_protocol.py --data-dir ~/mne_data/physionet-sleep-data \\
        --dataset edf20 --model ulw-sleepnet --device cuda
    python benchmarks/sleep_edf_protocol.py --data-dir DIR --model bandpower-hgb \\
        --subjects 0 1 2 3 --folds 4
"""

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (  # noqa: E402
    Timer,
    format_hardware,
    hardware_info,
    markdown_table,
    peak_rss_mb,
    pooled_scores,
    text_table,
    write_json,
    write_markdown,
)
from published import published_for  # noqa: E402

from sklearn_sleep.utils import AASM_STAGES  # noqa: E402

EDF20_SUBJECTS = tuple(range(20))
EDF78_SUBJECTS = tuple(s for s in range(83) if s not in (39, 68, 69, 78, 79))
DATASETS = {"edf20": (EDF20_SUBJECTS, 20), "edf78": (EDF78_SUBJECTS, 10)}

#: Fixed subject permutations of the MMASleepNet code (util/sleep-edf-20.npy, -78.npy).
MMASLEEPNET_PERMUTATIONS = {
    "edf20": [14, 5, 4, 17, 8, 7, 19, 12, 0, 15, 16, 9, 11, 10, 3, 1, 6, 18, 2, 13],
    "edf78": [42, 11, 19, 46, 24, 47, 61, 71, 58, 66, 6, 22, 31, 5, 12, 54, 4, 67, 37, 68, 48,
              39, 13, 15, 20, 23, 70, 18, 3, 64, 55, 62, 27, 7, 0, 36, 40, 44, 50, 2, 75, 43,
              26, 1, 29, 14, 72, 57, 73, 59, 32, 65, 34, 63, 69, 33, 35, 77, 53, 16, 74, 56,
              28, 17, 52, 30, 76, 51, 49, 25, 21, 38, 8, 41, 9, 10, 60, 45],
}

#: --model -> (classifier attribute of sklearn_sleep.models or None, channels, scaling)
MODELS = {
    "mmasleepnet": ("MMASleepNetClassifier", "all", False),
    "masleepnet": ("MASleepNetClassifier", "all", False),
    "ulw-sleepnet": ("ULWSleepNetClassifier", "all", False),
    "ssc-sleepnet": ("SSCSleepNetClassifier", ["EEG Fpz-Cz"], True),
    "bandpower-hgb": (None, "all", False),
}


def subject_folds(subjects, n_folds, permutation=None):
    """Split subjects into ``n_folds`` test folds (lists of subject ids).

    Parameters
    ----------
    subjects : sequence of int
        Subject ids present in the data.
    n_folds : int
        Number of folds (at most the number of subjects).
    permutation : sequence of int or None
        Order of the sorted subject list (indices into it) before splitting.

    Returns
    -------
    folds : list of list of int
    """
    subjects = sorted(int(s) for s in subjects)
    if not 2 <= n_folds <= len(subjects):
        raise ValueError(f"n_folds must be in [2, {len(subjects)}] for {len(subjects)} subjects, "
                         f"got {n_folds}.")
    if permutation is not None:
        permutation = [int(i) for i in permutation]
        if sorted(permutation) != list(range(len(subjects))):
            raise ValueError(f"The permutation must reorder all {len(subjects)} subjects; it has "
                             f"{len(permutation)} entries.")
        subjects = [subjects[i] for i in permutation]
    return [list(map(int, chunk)) for chunk in np.array_split(np.asarray(subjects), n_folds)]


def make_estimator(model, *, ch_names, sfreq, max_epochs, batch_size, lr, device, seed):
    """The estimator run by ``--model`` (a Pipeline when channels are picked)."""
    from sklearn.pipeline import make_pipeline

    if model not in MODELS:
        raise ValueError(f"Unknown model {model!r}; choose from {sorted(MODELS)}.")
    attr, channels, _ = MODELS[model]
    steps = []
    if channels != "all":
        from sklearn_sleep.preprocessing import ChannelPicker

        steps.append(ChannelPicker(list(channels), ch_names=list(ch_names)))
    if attr is None:
        from sklearn.ensemble import HistGradientBoostingClassifier

        from sklearn_sleep.features import BandPowerFeatures

        steps += [BandPowerFeatures(sfreq=sfreq),
                  HistGradientBoostingClassifier(max_iter=200, early_stopping=False,
                                                 random_state=seed)]
    else:
        import sklearn_sleep.models as models

        params = dict(device=device, random_state=seed)
        if max_epochs is not None:
            params["max_epochs"] = max_epochs
        if batch_size is not None:
            params["batch_size"] = batch_size
        if lr is not None:
            params["lr"] = lr
        steps.append(getattr(models, attr)(**params))
    return steps[0] if len(steps) == 1 else make_pipeline(*steps)


def subsample_train(train_idx, recordings, max_per_recording, rng):
    """At most ``max_per_recording`` random training epochs of each recording."""
    if max_per_recording is None:
        return train_idx
    keep = []
    for rec in np.unique(recordings[train_idx]):
        idx = train_idx[recordings[train_idx] == rec]
        if len(idx) > max_per_recording:
            idx = np.sort(rng.choice(idx, size=max_per_recording, replace=False))
        keep.append(idx)
    return np.sort(np.concatenate(keep))


def paper_table(ours, published, label):
    """Rows ``[name, ACC, MF1, kappa, G-mean, W, N1, N2, N3, REM]`` as in the papers."""
    keys = ["accuracy", "macro_f1", "kappa", "gmean"] + [f"f1_{s}" for s in AASM_STAGES]
    rows = [[label] + [ours.get(k) for k in keys]]
    if published:
        tag = f"published [{published.get('tag')}]"
        rows.append([tag] + [published.get(k) for k in keys])
    return ["", "ACC", "MF1", "kappa", "G-mean"] + [f"F1 {s}" for s in AASM_STAGES], rows


def build_parser():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data-dir", type=Path, required=True,
                   help="folder with the SC4ssN*-PSG.edf / *-Hypnogram.edf files")
    p.add_argument("--dataset", choices=sorted(DATASETS), default="edf20")
    p.add_argument("--model", choices=sorted(MODELS), default="bandpower-hgb")
    p.add_argument("--subjects", type=int, nargs="+", default=None,
                   help="subset of the dataset's subjects (quick runs)")
    p.add_argument("--folds", type=int, default=None,
                   help="number of folds (default 20 for edf20, 10 for edf78)")
    p.add_argument("--permutation", choices=["none", "mmasleepnet"], default="none")
    p.add_argument("--max-epochs", type=int, default=None,
                   help="training epochs of a network (default: its paper's recipe)")
    p.add_argument("--batch-size", type=int, default=None)
    p.add_argument("--lr", type=float, default=None)
    p.add_argument("--max-train-epochs-per-recording", type=int, default=None)
    p.add_argument("--device", default="auto")
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--n-jobs", type=int, default=1, help="parallel EDF reading")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--smoke", action="store_true",
                   help="seconds: 2 folds, 1 training epoch, 50 training epochs per night")
    p.add_argument("--out-dir", type=Path, default=None)
    p.add_argument("--name", default=None)
    return p


def main(argv=None):
    args = build_parser().parse_args(argv)
    import torch

    from sklearn_sleep.datasets import load_sleep_edf
    from sklearn_sleep.models import resolve_device
    from sklearn_sleep.preprocessing import scale_recordings

    if args.threads is not None:
        torch.set_num_threads(args.threads)
    all_subjects, default_folds = DATASETS[args.dataset]
    if args.subjects is not None:
        unknown = sorted(set(args.subjects) - set(all_subjects))
        if unknown:
            raise ValueError(f"Subjects {unknown} are not part of {args.dataset}.")
    if args.smoke:
        args.folds = args.folds or 2
        args.max_epochs = 1 if args.max_epochs is None else args.max_epochs
        args.max_train_epochs_per_recording = args.max_train_epochs_per_recording or 50
    device = resolve_device(args.device)
    name = args.name or f"sleep_edf_protocol_{args.dataset}_{args.model}" + ("_smoke" if args.smoke else "")
    hw = hardware_info(device=device)
    print(format_hardware(hw))

    with Timer() as total:
        wanted = args.subjects if args.subjects is not None else list(all_subjects)
        with Timer() as t_load:
            data = load_sleep_edf(args.data_dir, subjects=wanted, nights=(1, 2),
                                  on_missing="warn", n_jobs=args.n_jobs)
        X, y = data.X, np.asarray(data.y).astype(str)
        groups, recordings = np.asarray(data.groups).astype(int), np.asarray(data.recordings)
        present = sorted(np.unique(groups).tolist())
        print(f"\n{args.dataset}: {len(np.unique(recordings))} nights of {len(present)} subjects, "
              f"{len(y)} epochs {tuple(X.shape[1:])} at {data.sfreq:g} Hz "
              f"(loaded in {t_load.seconds:.1f} s); "
              f"stage counts {({s: int(np.sum(y == s)) for s in AASM_STAGES})}")
        n_folds = args.folds or min(default_folds, len(present))
        permutation = None
        if args.permutation == "mmasleepnet":
            if len(present) != len(all_subjects):
                raise ValueError("--permutation mmasleepnet needs every subject of the dataset.")
            permutation = MMASLEEPNET_PERMUTATIONS[args.dataset]
        folds = subject_folds(present, n_folds, permutation)
        if MODELS[args.model][2]:
            X = np.asarray(scale_recordings(X, recordings), dtype=np.float32)

        from sklearn.base import clone

        template = make_estimator(args.model, ch_names=data.ch_names, sfreq=float(data.sfreq),
                                  max_epochs=args.max_epochs, batch_size=args.batch_size,
                                  lr=args.lr, device=device, seed=args.seed)
        rng = np.random.default_rng(args.seed)
        y_pred = np.empty(len(y), dtype=object)
        per_fold = []
        for k, test_subjects in enumerate(folds):
            test = np.flatnonzero(np.isin(groups, test_subjects))
            train = subsample_train(np.flatnonzero(~np.isin(groups, test_subjects)), recordings,
                                    args.max_train_epochs_per_recording, rng)
            with Timer() as t_fold:
                est = clone(template).fit(X[train], y[train])
                y_pred[test] = est.predict(X[test])
            fold_scores = pooled_scores(y[test], y_pred[test].astype(str))
            per_fold.append({"test_subjects": test_subjects, "n_train": int(len(train)),
                             "n_test": int(len(test)), "seconds": t_fold.seconds,
                             "accuracy": fold_scores["accuracy"],
                             "macro_f1": fold_scores["macro_f1"]})
            print(f"  fold {k + 1}/{len(folds)} subjects {test_subjects}: ACC "
                  f"{fold_scores['accuracy']:.3f} MF1 {fold_scores['macro_f1']:.3f} "
                  f"({t_fold.seconds:.1f} s)", flush=True)
        pooled = pooled_scores(y, y_pred.astype(str))  # stages present in y or y_pred

    published = published_for(args.model, args.dataset)
    header, rows = paper_table(pooled, published, f"{args.model} (this run)")
    print()
    print(text_table(header, rows))
    if published:
        print(f"published: {published['source']} [{published['tag']}]")
    reduced = any([args.subjects is not None, args.folds not in (None, default_folds),
                   args.max_epochs is not None, args.max_train_epochs_per_recording is not None])
    if reduced:
        print("NOTE: reduced settings (subjects/folds/epochs): not comparable with the papers.")
    print(f"wall time {total.seconds:.1f} s, peak RSS {peak_rss_mb():.0f} MiB")
    md = "\n".join([
        f"# Sleep-EDF protocol: {args.model} on {args.dataset}" + (" (smoke)" if args.smoke else ""),
        "",
        f"{len(present)} subjects, {len(y)} epochs, {len(folds)} subject-wise folds "
        f"(permutation: {args.permutation}); metrics pooled over folds."
        + (" **Reduced settings: not comparable with the papers.**" if reduced else ""),
        "",
        markdown_table(header, rows),
        "",
        (f"Published: {published['source']} [{published['tag']}]." if published else
         "No published numbers for this model/dataset."),
        "",
        f"Hardware: {hw['cpu_model']}, {hw['cpu_count']} logical cores; torch {hw['torch']}, "
        f"device {device}" + (f" [{hw['cuda_device']}]" if hw.get("cuda_device") else "")
        + f"; wall {total.seconds:.0f} s; {hw['date_utc']} UTC.",
    ])
    payload = {"benchmark": "sleep_edf_protocol", "smoke": args.smoke, "reduced": reduced,
               "args": vars(args), "dataset": args.dataset, "model": args.model,
               "subjects": present, "folds": folds, "n_epochs": int(len(y)),
               "pooled": pooled, "per_fold": per_fold, "published": published,
               "hardware": hw, "wall_time_s": total.seconds, "peak_rss_mb": peak_rss_mb()}
    write_json(payload, name, out_dir=args.out_dir)
    write_markdown(md, name, out_dir=args.out_dir)
    return payload


if __name__ == "__main__":
    main()
