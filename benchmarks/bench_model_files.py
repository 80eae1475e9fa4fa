"""Model files: size, save and load time of the safe format vs pickle/joblib.

For each model (a band-power + HistGradientBoosting pipeline and the 8 network
classifiers' smallest representative, ULW-SleepNet, plus MouseCNN), a
:class:`~sklearn_sleep.persistence.SleepStager` is trained on synthetic PSG
(``make_synthetic_psg``; synthetic data, the scores are not the point) and saved twice:

* ``format="safe"`` (default): zip of JSON + skops (scikit-learn parts) or
  safetensors weights + JSON parameters (networks); loads without running code;
* ``format="pickle"``: the joblib payload of sklearn_sleep 0.1 (``trusted=True`` only).

Reported: file size, median save and load time over ``--repeats`` runs, and whether
the reloaded model's ``predict_proba`` is bit-identical to the original's.

Run::

    OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 python benchmarks/bench_model_files.py
    OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 python benchmarks/bench_model_files.py --smoke
"""

import argparse
import os
import sys
import tempfile
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import format_hardware, hardware_info, markdown_table, median_time, write_json, \
    write_markdown  # noqa: E402

MODELS = ["bandpower-hgb", "ulw-sleepnet", "mouse-cnn"]


def _fit(name, n_subjects, n_epochs):
    from sklearn_sleep.cli import NETWORKS, make_model
    from sklearn_sleep.datasets import make_synthetic_psg
    from sklearn_sleep.persistence import SleepStager

    preset = NETWORKS[name][1] if name in NETWORKS else "human"
    data = make_synthetic_psg(n_subjects, n_epochs, preset=preset, random_state=0)
    model = make_model(name, sfreq=data.sfreq, ch_names=list(data.ch_names), seed=0,
                       max_epochs=1, device="cpu", quiet=True)
    stager = SleepStager(model, ch_names=list(data.ch_names), sfreq=data.sfreq,
                         epoch_seconds=data.epoch_seconds)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        stager.fit(data.X, data.y)
    return stager, data.X


def run(models, *, n_subjects, n_epochs, repeats):
    from sklearn_sleep.persistence import load_model

    rows = []
    folder = Path(tempfile.mkdtemp())
    for name in models:
        stager, X = _fit(name, n_subjects, n_epochs)
        expected = stager.predict_proba(X)
        for fmt, suffix in (("safe", ".zip"), ("pickle", ".joblib")):
            path = folder / f"{name}{suffix}"
            save_s, _ = median_time(lambda: stager.save(path, overwrite=True, format=fmt),
                                    repeats=repeats, warmup=1)
            load_s, _ = median_time(lambda: load_model(path, trusted=fmt == "pickle"),
                                    repeats=repeats, warmup=1)
            loaded = load_model(path, trusted=fmt == "pickle")
            identical = bool(np.array_equal(loaded.predict_proba(X), expected))
            rows.append({"model": name, "format": fmt, "size_kb": os.path.getsize(path) / 1024,
                         "save_s": save_s, "load_s": load_s,
                         "identical_predict_proba": identical,
                         "loading_runs_code": fmt == "pickle"})
            print(f"{name:>15} {fmt:>6}: {rows[-1]['size_kb']:8.1f} kB, save {save_s:.3f} s, "
                  f"load {load_s:.3f} s, identical={identical}", flush=True)
    return rows


def main(argv=None):
    """Run the benchmark; returns the JSON payload."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=MODELS)
    parser.add_argument("--n-subjects", type=int, default=2)
    parser.add_argument("--n-epochs", type=int, default=120)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--smoke", action="store_true", help="seconds-long version")
    parser.add_argument("--out-dir", default=None)
    args = parser.parse_args(argv)
    if args.smoke:
        args.models, args.n_epochs, args.repeats = ["bandpower-logreg"], 20, 1
    info = hardware_info("cpu")
    print(format_hardware(info))
    rows = run(args.models, n_subjects=args.n_subjects, n_epochs=args.n_epochs,
               repeats=args.repeats)
    payload = {"benchmark": "model_files", "data": "synthetic (make_synthetic_psg)",
               "protocol": f"{args.n_subjects} subjects x {args.n_epochs} epochs, networks "
                           f"1 training epoch; median of {args.repeats} save/load runs",
               "hardware": info, "rows": rows}
    write_json(payload, "model_files", out_dir=args.out_dir)
    table = markdown_table(
        ["model", "format", "size (kB)", "save (s)", "load (s)", "identical predict_proba",
         "loading runs code"],
        [[r["model"], r["format"], r["size_kb"], r["save_s"], r["load_s"],
          r["identical_predict_proba"], r["loading_runs_code"]] for r in rows])
    write_markdown(f"# Model files: safe format vs pickle\n\nSynthetic data "
                   f"({payload['protocol']}). Hardware: 2-core AMD EPYC dev machine, shared, "
                   f"CPU only, torch 2.13, 1 thread.\n\n```\n{format_hardware(info)}\n```\n\n"
                   f"{table}\n\n'safe' = zip of JSON + skops (scikit-learn parts) or "
                   "safetensors weights + JSON parameters (networks): `load_model` never "
                   "unpickles. 'pickle' = joblib payload, loaded only with `trusted=True`.\n",
                   "model_files", out_dir=args.out_dir)
    return payload


if __name__ == "__main__":
    main()
