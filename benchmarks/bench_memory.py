"""Peak memory of staging a 24-h night with a band-power + HGB stager (synthetic data).

Protocol. A :class:`~sklearn_sleep.persistence.SleepStager` wrapping
``BandPowerFeatures(sfreq=100) -> HistGradientBoostingClassifier`` is fitted on a few
synthetic epochs. Each measurement then runs in a forked child process (so that memory
kept by the allocator after earlier work does not count): the child creates a synthetic
night of ``--hours`` hours (default 24: 2880 epochs x 4 channels x 3000 samples at
100 Hz, float32 = 138 MB) and calls ``predict_proba``; the kernel's peak-RSS mark
(``VmHWM``) is reset just before the call. Reported:

* ``base_mb``: RSS of the child before the night is created (interpreter, numpy,
  scipy, scikit-learn, the fitted model);
* ``peak_mb``: peak RSS during staging; ``peak_over_base_mb`` = ``peak_mb - base_mb``
  (the night itself plus whatever staging allocates);
* ``ratio_to_X``: ``peak_over_base_mb`` / size of the float32 epoch array. The target
  of issue 9 is <= 2 (2x the epoch array, plus the model, which is in ``base_mb``).

Modes: ``after`` = the library as it is (band power computed in chunks of about 1e6
samples, :data:`sklearn_sleep.features._spectral._CHUNK_VALUES`); ``before`` = the same
code with one chunk for the whole night (``_CHUNK_VALUES`` set above the night's size),
which is exactly the previous single-pass float64 computation. ``edf`` (with
``--edf``): the whole ``stage`` path from a 24-h EDF written with edfio, through the
CLI's own reader (``sklearn_sleep.cli._read_recording``: header,
``read_edf_signals(dtype=float32)``, the epochs as a strided view of the signals) and
``predict_proba``; ``edf-copy``: the same with the epochs copied to a contiguous array
first (what ``stage`` did before the reconciliation of issue 9), for comparison.

Data: synthetic (Gaussian noise, float32), labelled synthetic. Hardware: printed and
stored (2-core AMD EPYC dev machine, shared, CPU only, 1 thread).

Usage::

    OMP_NUM_THREADS=1 python benchmarks/bench_memory.py --edf      # 24 h, before/after/edf
    OMP_NUM_THREADS=1 python benchmarks/bench_memory.py --smoke    # 0.5 h, seconds
"""

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _common import (  # noqa: E402
    RESULTS_DIR,
    format_hardware,
    hardware_info,
    reset_peak_rss,
    rss_mb,
    run_isolated,
    window_peak_rss_mb,
    write_json,
    write_markdown,
)

SFREQ = 100.0
EPOCH_SECONDS = 30.0
CH_NAMES = ["EEG Fpz-Cz", "EEG Pz-Oz", "EOG horizontal", "EMG submental"]


def _fit_stager(seed=0):
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.pipeline import make_pipeline

    from sklearn_sleep.features import BandPowerFeatures
    from sklearn_sleep.persistence import SleepStager

    rng = np.random.default_rng(seed)
    n = 200
    y = np.asarray(["W", "N1", "N2", "N3", "REM"] * (n // 5), dtype=object)
    scale = np.asarray([{"W": 1.0, "N1": 1.5, "N2": 2.0, "N3": 4.0, "REM": 1.2}[s] for s in y])
    X = (rng.standard_normal((n, len(CH_NAMES), int(EPOCH_SECONDS * SFREQ)))
         * scale[:, None, None]).astype(np.float32)
    model = make_pipeline(BandPowerFeatures(sfreq=SFREQ),
                          HistGradientBoostingClassifier(max_iter=50, random_state=seed))
    return SleepStager(model, ch_names=CH_NAMES, sfreq=SFREQ,
                       epoch_seconds=EPOCH_SECONDS).fit(X, y)


def _night(n_epochs, seed=1):
    rng = np.random.default_rng(seed)
    X = np.empty((n_epochs, len(CH_NAMES), int(EPOCH_SECONDS * SFREQ)), dtype=np.float32)
    for k in range(0, n_epochs, 100):  # float32 straight away, no float64 temporary
        rng.standard_normal(out=X[k:k + 100], dtype=np.float32)
    X *= 20.0
    return X


def _measure_array(stager, n_epochs, mode):
    from sklearn_sleep.features import _spectral

    if mode == "before":
        _spectral._CHUNK_VALUES = 10 ** 15  # one chunk = the previous single pass
    base = rss_mb()
    X = _night(n_epochs)
    x_mb = X.nbytes / 2 ** 20
    reset_peak_rss()
    t0 = time.perf_counter()
    proba = stager.predict_proba(X, ch_names=CH_NAMES, sfreq=SFREQ)
    elapsed = time.perf_counter() - t0
    peak = window_peak_rss_mb()
    return {"mode": mode, "n_epochs": n_epochs, "X_mb": x_mb, "base_mb": base,
            "peak_mb": peak, "peak_over_base_mb": peak - base,
            "ratio_to_X": (peak - base) / x_mb, "seconds": elapsed,
            "proba_checksum": float(np.round(proba.sum(axis=0) @ np.arange(proba.shape[1]), 6))}


def _write_edf(path, n_epochs):
    import edfio

    rng = np.random.default_rng(2)
    n = int(n_epochs * EPOCH_SECONDS * SFREQ)
    signals = [edfio.EdfSignal((20 * rng.standard_normal(n)).astype(np.float64), SFREQ,
                               label=name, physical_dimension="uV",
                               physical_range=(-500, 500))
               for name in CH_NAMES]
    edfio.Edf(signals, data_record_duration=EPOCH_SECONDS).write(path)


def _measure_edf(stager, path, mode="edf"):
    """``mode="edf"``: exactly as ``sklearn-sleep stage`` reads and stages a recording;
    ``"edf-copy"``: the same with a contiguous copy of the epochs (the former path)."""
    from sklearn_sleep.cli import _read_recording

    base = rss_mb()
    reset_peak_rss()
    t0 = time.perf_counter()
    X, sig = _read_recording(path, stager, quiet=True)
    if mode == "edf-copy":
        X = np.ascontiguousarray(X)
        del sig
    stager.predict_proba(X, ch_names=CH_NAMES, sfreq=SFREQ)
    elapsed = time.perf_counter() - t0
    peak = window_peak_rss_mb()
    n_epochs = len(X)
    x_mb = X.nbytes / 2 ** 20
    return {"mode": mode, "n_epochs": n_epochs, "X_mb": x_mb, "base_mb": base,
            "peak_mb": peak, "peak_over_base_mb": peak - base,
            "ratio_to_X": (peak - base) / x_mb, "seconds": elapsed}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--hours", type=float, default=24.0)
    parser.add_argument("--modes", nargs="+", default=["before", "after"],
                        choices=["before", "after"])
    parser.add_argument("--edf", action="store_true", help="also measure the EDF -> stage path")
    parser.add_argument("--smoke", action="store_true", help="0.5 h, for the tests")
    parser.add_argument("--out-dir", default=str(RESULTS_DIR))
    args = parser.parse_args(argv)
    hours = 0.5 if args.smoke else args.hours
    n_epochs = int(round(hours * 3600 / EPOCH_SECONDS))
    stager = _fit_stager()
    rows = [run_isolated(_measure_array, stager, n_epochs, mode) for mode in args.modes]
    if args.edf:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "night.edf"
            _write_edf(path, n_epochs)
            rows.append(run_isolated(_measure_edf, stager, path, "edf"))
            rows.append(run_isolated(_measure_edf, stager, path, "edf-copy"))
    info = hardware_info()
    payload = {
        "benchmark": "memory",
        "data": f"synthetic: {hours:g} h, {n_epochs} epochs x {len(CH_NAMES)} channels x "
                f"{int(EPOCH_SECONDS * SFREQ)} samples at {SFREQ:g} Hz, float32",
        "model": "SleepStager(BandPowerFeatures(sfreq=100) -> HistGradientBoosting(max_iter=50))",
        "protocol": "forked child per row; VmHWM reset before staging; peak_over_base = "
                    "peak RSS - RSS before the night was created",
        "target": "peak_over_base_mb <= 2 x X_mb (issue 9)",
        "hardware": info,
        "smoke": bool(args.smoke),
        "rows": rows,
    }
    print(format_hardware(info))
    header = ["mode", "epochs", "X (MiB)", "base (MiB)", "peak (MiB)", "peak - base (MiB)",
              "ratio to X", "time (s)"]
    table = [[r["mode"], r["n_epochs"], f"{r['X_mb']:.0f}", f"{r['base_mb']:.0f}",
              f"{r['peak_mb']:.0f}", f"{r['peak_over_base_mb']:.0f}",
              f"{r['ratio_to_X']:.2f}", f"{r['seconds']:.1f}"] for r in rows]
    for line in [header] + table:
        print("  ".join(str(c) for c in line))
    write_json(payload, "memory", out_dir=args.out_dir)
    md = ["# Peak memory of staging a night (synthetic)", "",
          f"Data: {payload['data']}. Model: {payload['model']}.", "",
          f"Protocol: {payload['protocol']}. Target: {payload['target']}. `before` = band "
          "power in one float64 pass over the whole night (the code before issue 9), "
          "`after` = chunks of ~1e6 samples; `edf` = EDF file -> the reader of "
          "`sklearn-sleep stage` (read_edf_signals(float32), epochs as a strided view of "
          "the signals, no copy) -> predict_proba; `edf-copy` = the same with a contiguous "
          "copy of the epochs (the former `stage` path).", "",
          "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    md += ["| " + " | ".join(str(c) for c in row) + " |" for row in table]
    md += ["", f"Hardware: {format_hardware(info)}", ""]
    write_markdown("\n".join(md), "memory", out_dir=args.out_dir)
    return payload


if __name__ == "__main__":
    main()
