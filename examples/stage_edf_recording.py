"""Stage an EDF recording with a saved model: train, save, load, stage, export, plot.

The deployment path, end to end:

1. Train a ``SleepStager`` - a fitted Pipeline (band-power features + gradient boosting)
   that also records the channel names, sampling rate and epoch length it was trained
   on - on synthetic nights, and save it with ``stager.save(path)`` (a zip archive: JSON
   metadata + library versions + the pipeline stored with skops; written atomically,
   loaded without running code).
2. Write a new night as an EDF file (what a PSG system exports; needs ``edfio``).
3. ``load_model(path)``; read the EDF with MNE in microvolts, cut it into 30-s epochs
   with ``EpochSegmenter`` (``labels=None``: every complete epoch), and predict. The
   stager checks the channel names and the sampling rate and refuses a mismatch
   instead of returning silently wrong stages.
4. Write the hypnogram and the per-epoch probabilities (hypnodensity) as CSV with
   ``write_hypnogram_csv``, plot both, print the sleep statistics, and compare with the
   true stages of the synthetic night.

The command-line equivalent of steps 3-4 is::

    sklearn-sleep stage night.edf --model model.zip --out hypnogram.csv \
        --proba proba.csv --plot night.png

Run::

    python examples/stage_edf_recording.py --quick --out-dir out/
"""

import argparse
import datetime
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.pipeline import Pipeline

from sklearn_sleep.datasets import make_synthetic_psg
from sklearn_sleep.features import BandPowerFeatures
from sklearn_sleep.hypnogram import read_hypnogram_csv, sleep_statistics, write_hypnogram_csv
from sklearn_sleep.metrics import sleep_scores
from sklearn_sleep.persistence import SleepStager, load_model
from sklearn_sleep.plotting import plot_hypnodensity, plot_hypnogram
from sklearn_sleep.preprocessing import EpochSegmenter


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short nights, small model")
    parser.add_argument("--out-dir", type=Path, default=Path("example_output"),
                        help="folder for the model, EDF, CSV and PNG files")
    parser.add_argument("--seed", type=int, default=0, help="random seed")
    return parser.parse_args(argv)


def write_edf(path, signals, sfreq, ch_names):
    """Write continuous signals (n_channels, n_samples) in microvolts as an EDF file."""
    import edfio

    edf_signals = [edfio.EdfSignal(np.asarray(sig, dtype=float), sfreq, label=name,
                                   physical_dimension="uV")
                   for sig, name in zip(signals, ch_names)]
    edfio.Edf(edf_signals, starttime=datetime.time(23, 0, 0)).write(path)


def main(argv=None):
    args = parse_args(argv)
    out = args.out_dir
    out.mkdir(parents=True, exist_ok=True)
    try:
        import edfio  # noqa: F401
    except ImportError:
        print("This example writes an EDF file with edfio: pip install edfio "
              "(part of the [dev] extra). Nothing to do.")
        return None
    import mne

    n_train, n_epochs = (3, 60) if args.quick else (8, 960)

    # 1. train and save a SleepStager on synthetic nights of n_train subjects
    train = make_synthetic_psg(n_subjects=n_train, n_epochs=n_epochs, random_state=args.seed)
    pipe = Pipeline([
        ("features", BandPowerFeatures(sfreq=train.sfreq, ch_names=train.ch_names)),
        ("clf", HistGradientBoostingClassifier(max_iter=50 if args.quick else 200,
                                               random_state=args.seed)),
    ])
    stager = SleepStager(pipe, ch_names=train.ch_names, sfreq=train.sfreq,
                         epoch_seconds=train.epoch_seconds).fit(train.X, train.y)
    model_path = out / "stager.zip"
    stager.save(model_path, overwrite=True)  # the example's own output folder: rerunnable
    print(f"model saved to {model_path}: channels {stager.ch_names_}, {stager.sfreq_:g} Hz, "
          f"{stager.epoch_seconds_:g}-s epochs, stages {list(stager.classes_)}")

    # 2. a new night of another subject, as an EDF file (continuous signals)
    night = make_synthetic_psg(n_subjects=1, n_epochs=n_epochs, random_state=args.seed + 100,
                               return_continuous=True)
    edf_path = out / "night.edf"
    write_edf(edf_path, night.signals[0], night.sfreq, night.ch_names)
    print(f"EDF written to {edf_path} ({night.signals[0].shape[1] / night.sfreq / 3600:.2f} h)")

    # 3. load the model, read the EDF in uV, cut 30-s epochs, predict
    model = load_model(model_path)
    raw = mne.io.read_raw_edf(edf_path, preload=True, verbose="error")
    raw.pick(model.ch_names_)  # the model's channels, in its order
    epochs = EpochSegmenter(sfreq=raw.info["sfreq"], epoch_seconds=model.epoch_seconds_)
    seg = epochs.segment(raw)  # labels=None: every complete epoch
    X = seg.X
    proba = model.predict_proba(X, ch_names=raw.ch_names, sfreq=raw.info["sfreq"])
    stages = model.classes_[np.argmax(proba, axis=1)]
    print(f"staged {len(X)} epochs of {model.epoch_seconds_:g} s")

    # a recording at another rate is refused with a clear message
    try:
        model.predict(X, ch_names=raw.ch_names, sfreq=2 * raw.info["sfreq"])
    except ValueError as exc:
        print(f"mismatch refused: {str(exc).splitlines()[0][:110]}...")

    # 4. export, plot, statistics, agreement with the truth
    order = [s for s in ("W", "N1", "N2", "N3", "REM") if s in model.classes_]
    cols = [list(model.classes_).index(s) for s in order]
    hyp_csv = out / "night_hypnogram.csv"
    write_hypnogram_csv(hyp_csv, stages, epoch_seconds=model.epoch_seconds_,
                        proba=proba[:, cols], classes=order, overwrite=True)
    back = read_hypnogram_csv(hyp_csv)
    print(f"hypnogram written to {hyp_csv} ({len(back.stage)} rows, columns "
          f"epoch, onset_s, stage, {', '.join('p_' + c for c in back.classes)})")

    fig = Figure(figsize=(10, 5), layout="constrained")
    ax1, ax2 = fig.subplots(2, 1, sharex=True)
    plot_hypnogram(stages, epoch_seconds=model.epoch_seconds_, ax=ax1, title=edf_path.name)
    plot_hypnodensity(proba[:, cols], order, epoch_seconds=model.epoch_seconds_, ax=ax2)
    png = out / "night.png"
    fig.savefig(png, dpi=80)
    print(f"plot written to {png}")

    stats = sleep_statistics(stages, epoch_seconds=model.epoch_seconds_)
    print("sleep statistics (predicted): " + ", ".join(
        f"{k} {stats[k]:.1f}" for k in ("TIB", "TST", "SE", "SOL", "WASO", "Lat_REM")))
    truth = night.labels[0][: len(stages)]
    agreement = sleep_scores(truth, stages)
    print(f"agreement with the true stages: accuracy {agreement['accuracy']:.3f}, "
          f"kappa {agreement['kappa']:.3f}")
    return {"model": model_path, "csv": hyp_csv, "png": png, "scores": agreement,
            "statistics": stats}


if __name__ == "__main__":
    main()
