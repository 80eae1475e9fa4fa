"""Loading + preprocessing cost of Sleep-EDF-like recordings, ours vs the MNE recipe.

Protocol
--------
1. Write ``n_recordings`` Sleep-EDF-cassette-like nights into a temporary folder
   (``SC4ssNE0-PSG.edf`` + ``SC4ssNEC-Hypnogram.edf``): ``EEG Fpz-Cz``, ``EEG Pz-Oz``,
   ``EOG horizontal`` at 100 Hz and ``EMG submental`` at 1 Hz, ``hours`` each, with an
   R&K hypnogram (wake edges, NREM/REM cycles, ~1 % movement epochs, a trailing
   ``Sleep stage ?``) written as EDF+ annotations.
2. Each method runs in a fresh Python process (so that its peak RSS,
   ``resource.getrusage(...).ru_maxrss``, is its own) and produces the final
   (n_epochs, 4, 3000) float32 array of all recordings with 30 min of wake kept around
   the sleep period, movement/unscored epochs removed, EMG brought to 100 Hz:

   * ``ours n_jobs=1`` / ``ours n_jobs=2``: :func:`sklearn_sleep.datasets.load_sleep_edf`
     (two-pass, one preallocated in-memory array; threads for ``n_jobs=2``);
   * ``ours memmap n_jobs=2``: same with ``out=<file>.npy`` (loky processes write into a
     ``.npy`` memmap), and the same with ``prefer="threads"``;
   * ``mne``: the obvious alternative, per recording ``mne.io.read_raw_edf(preload=True)``
     (which silently upsamples the 1 Hz EMG), ``mne.read_annotations`` + ``crop`` of the
     annotations to the same wake window, ``mne.events_from_annotations(chunk_duration=30)``,
     ``mne.Epochs(...).get_data(units="uV")``, then ``np.concatenate``.

3. Reported per method: wall time, seconds per recording-hour, epochs produced,
   peak RSS of the process above its RSS after imports ("extra peak"), the largest
   peak RSS of its worker processes, and the size of the final epoch array.

Run ``python benchmarks/bench_loading.py`` (a few minutes) or ``--smoke`` (< 10 s,
used by ``tests/test_bench_loading_smoke.py``: 2 x 30 min, ours n_jobs=1 and MNE only,
run inside the calling process, so its memory figures are not meaningful). Results go to
``benchmarks/results/loading.json`` (``--out-dir`` to change).
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import format_hardware, hardware_info, peak_rss_mb, write_json  # noqa: E402

METHODS = ("ours_n1", "ours_n2", "ours_memmap_n2", "ours_memmap_n2t", "mne")
LABELS = {"ours_n1": "ours n_jobs=1", "ours_n2": "ours n_jobs=2 (threads)",
          "ours_memmap_n2": "ours memmap n_jobs=2 (processes)",
          "ours_memmap_n2t": "ours memmap n_jobs=2 (threads)", "mne": "MNE Epochs recipe"}


def _current_rss_mb():
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return float(line.split()[1]) / 1024
    except OSError:  # pragma: no cover
        pass
    return peak_rss_mb()


def _mne_recipe(pairs, wake_minutes=30.0):
    import mne
    import numpy as np

    from sklearn_sleep.utils._stages import EXCLUDED, SLEEP_EDF_ANNOTATION_MAP

    channels = ["EEG Fpz-Cz", "EEG Pz-Oz", "EOG horizontal", "EMG submental"]
    event_id = {"Sleep stage W": 1, "Sleep stage 1": 2, "Sleep stage 2": 3,
                "Sleep stage 3": 4, "Sleep stage 4": 4, "Sleep stage R": 5}
    arrays, labels = [], []
    for psg, hyp in pairs:
        raw = mne.io.read_raw_edf(psg, include=channels, preload=True, verbose=False)
        ann = mne.read_annotations(hyp)
        sleep = [i for i, d in enumerate(ann.description)
                 if SLEEP_EDF_ANNOTATION_MAP[d] not in ("W", EXCLUDED)]
        tmin = ann.onset[sleep[0]] - wake_minutes * 60
        tmax = ann.onset[sleep[-1]] + ann.duration[sleep[-1]] + wake_minutes * 60
        ann.crop(max(tmin, 0), min(tmax, raw.n_times / raw.info["sfreq"]), verbose=False)
        raw.set_annotations(ann, emit_warning=False)
        events, _ = mne.events_from_annotations(raw, event_id=event_id, chunk_duration=30.0,
                                                verbose=False)
        epochs = mne.Epochs(raw, events, event_id={"W": 1, "N1": 2, "N2": 3, "N3": 4,
                                                   "REM": 5},
                            tmin=0.0, tmax=30.0 - 1.0 / raw.info["sfreq"], baseline=None,
                            preload=True, on_missing="ignore", verbose=False)
        arrays.append(epochs.get_data(units="uV").astype(np.float32))
        labels.append(epochs.events[:, 2])
        del raw, epochs
    X = np.concatenate(arrays)
    del arrays
    return X, np.concatenate(labels)


def _worker(method, folder, out_file):
    """Run one method in this process and return its figures (dict)."""
    import resource

    import numpy as np

    import sklearn_sleep.datasets as ds  # noqa: F401 - imports counted in the baseline

    base = _current_rss_mb()
    t0 = time.perf_counter()
    if method == "mne":
        from sklearn_sleep.datasets._sleep_edf import _find_pairs

        pairs = _find_pairs(folder, None, (1, 2), "raise")
        X, y = _mne_recipe(pairs)
    else:
        n_jobs = 1 if method == "ours_n1" else 2
        out = out_file if method.startswith("ours_memmap") else None
        prefer = "threads" if method == "ours_memmap_n2t" else None
        data = ds.load_sleep_edf(folder, n_jobs=n_jobs, out=out, prefer=prefer)
        X, y = data.X, data.y
        if out is not None:
            X.flush()
    seconds = time.perf_counter() - t0
    checksum = float(np.asarray(X[:, 0], dtype=np.float64).sum())
    try:  # reap loky workers so that RUSAGE_CHILDREN covers them
        from joblib.externals.loky import get_reusable_executor

        get_reusable_executor().shutdown(wait=True)
    except Exception:  # pragma: no cover
        pass
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    result = dict(method=method, seconds=seconds, n_epochs=int(len(y)),
                  shape=list(X.shape), array_mb=X.nbytes / 2**20,
                  peak_rss_mb=peak_rss_mb(), baseline_rss_mb=base,
                  extra_peak_mb=peak_rss_mb() - base, children_peak_rss_mb=children,
                  eeg_checksum=checksum)
    return result


def _write_data(folder, n_recordings, hours):
    from sklearn_sleep.datasets._edf_io import _write_sleep_edf_like

    for i in range(n_recordings):
        _write_sleep_edf_like(folder, subject=i // 2, night=1 + i % 2, hours=hours, seed=i)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--smoke", action="store_true", help="tiny run (< 10 s)")
    parser.add_argument("--n-recordings", type=int, default=6)
    parser.add_argument("--hours", type=float, default=4.0)
    parser.add_argument("--out-dir", default=None)
    parser.add_argument("--methods", default=",".join(METHODS))
    parser.add_argument("--worker", nargs=3, metavar=("METHOD", "FOLDER", "OUT"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        res = _worker(args.worker[0], Path(args.worker[1]), Path(args.worker[2]))
        print("RESULT " + json.dumps(res), flush=True)
        return None
    if args.smoke:
        args.n_recordings, args.hours = 2, 0.5
        methods = ["ours_n1", "mne"]
    else:
        methods = [m for m in args.methods.split(",") if m]
    info = hardware_info()
    print(format_hardware(info))
    rec_hours = args.n_recordings * args.hours
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "sleep-edf"
        t0 = time.perf_counter()
        _write_data(folder, args.n_recordings, args.hours)
        print(f"wrote {args.n_recordings} recordings x {args.hours:g} h in "
              f"{time.perf_counter() - t0:.1f} s")
        for method in methods:
            if args.smoke:  # in this process: fast, but peak RSS figures are shared
                res = _worker(method, folder, Path(tmp) / "X.npy")
                res["in_process"] = True
            else:
                cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", method,
                       str(folder), str(Path(tmp) / "X.npy")]
                proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
                line = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
                if proc.returncode != 0 or not line:
                    raise RuntimeError(f"{method} failed:\n{proc.stdout}\n{proc.stderr}")
                res = json.loads(line[0][7:])
            res["label"] = LABELS[method]
            res["seconds_per_recording_hour"] = res["seconds"] / rec_hours
            results.append(res)
            (Path(tmp) / "X.npy").unlink(missing_ok=True)
    print(f"\nload average (1/5/15 min): {os.getloadavg()}")
    print(f"\n{'method':36s} {'s':>7s} {'s/rec-h':>8s} {'epochs':>7s} {'array MB':>9s} "
          f"{'extra peak MB':>14s} {'worker peak MB':>15s}")
    for r in results:
        print(f"{r['label']:36s} {r['seconds']:7.2f} {r['seconds_per_recording_hour']:8.3f} "
              f"{r['n_epochs']:7d} {r['array_mb']:9.1f} {r['extra_peak_mb']:14.1f} "
              f"{r['children_peak_rss_mb']:15.1f}")
    payload = dict(
        benchmark="loading", smoke=bool(args.smoke), hardware=info,
        load_average_1_5_15min=list(os.getloadavg()),
        protocol=dict(n_recordings=args.n_recordings, hours_per_recording=args.hours,
                      channels=["EEG Fpz-Cz @100 Hz", "EEG Pz-Oz @100 Hz",
                                "EOG horizontal @100 Hz", "EMG submental @1 Hz"],
                      epoch_seconds=30, wake_edge_minutes=30,
                      note="each method in a fresh process; extra_peak_mb = peak RSS - RSS "
                           "after imports; array_mb = size of the final float32 epoch "
                           "array (on disk for the memmap method)"),
        results=results,
    )
    name = "loading_smoke" if args.smoke else "loading"
    write_json(payload, name, out_dir=args.out_dir)
    return payload


if __name__ == "__main__":
    main()
