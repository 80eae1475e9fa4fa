"""Generate ``examples/sleep_staging_tutorial.ipynb`` from the cells below (nbformat).

The notebook is committed without outputs; regenerate it after editing this file::

    python examples/_make_notebook.py

and check that it runs (``tests/test_examples.py`` executes it with nbclient)::

    jupyter nbconvert --to notebook --execute examples/sleep_staging_tutorial.ipynb \
        --output /tmp/tutorial_run.ipynb
"""

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

NOTEBOOK = Path(__file__).resolve().parent / "sleep_staging_tutorial.ipynb"

CELLS = [
    ("md", """\
# Sleep staging with sklearn_sleep: a 30-second tour

This notebook runs the whole workflow on synthetic polysomnography (no download), in
well under a minute on a laptop CPU:

1. load multi-subject synthetic PSG as epoch arrays `X` of shape
   `(n_epochs, n_channels, n_times)`, stage labels `y` and subjects `groups`;
2. build a scikit-learn `Pipeline` (band-power features and gradient boosting);
3. evaluate it with **subject-wise** cross-validation (`GroupKFold`) and the sleep
   scorers (accuracy, macro-F1, Cohen's kappa, macro G-mean);
4. draw the hypnogram and the hypnodensity of a held-out night;
5. compute the standard sleep statistics (TST, sleep efficiency, WASO, latencies).

The same steps work with real recordings (`load_sleep_edf`, `load_dreams`,
`load_edf_with_labels`) and with the deep networks of `sklearn_sleep.models`; see
`docs/user_guide.md`."""),
    ("code", """\
%matplotlib inline
import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.model_selection import GroupKFold, cross_validate
from sklearn.pipeline import Pipeline

from sklearn_sleep.datasets import make_synthetic_psg
from sklearn_sleep.features import BandPowerFeatures
from sklearn_sleep.hypnogram import sleep_statistics
from sklearn_sleep.metrics import format_scores, sleep_scores, sleep_scoring
from sklearn_sleep.plotting import plot_hypnodensity, plot_hypnogram"""),
    ("md", """\
## 1. Data

Four subjects, one night each, shortened to 60 epochs of 30 s (the generator compresses
the NREM-REM cycles so that the architecture stays recognisable). Signals are float32
microvolts at 100 Hz: two EEG derivations, the horizontal EOG and the chin EMG, as in
Sleep-EDF."""),
    ("code", """\
data = make_synthetic_psg(n_subjects=4, n_epochs=60, random_state=0)
X, y, groups = data.X, data.y, data.groups
print(X.shape, X.dtype, data.ch_names, data.sfreq, data.epoch_seconds)
print({stage: int((y == stage).sum()) for stage in data.stage_names})"""),
    ("md", """\
## 2. Pipeline

`BandPowerFeatures` turns each epoch into relative band powers (delta ... gamma),
total power, band ratios and Hjorth/time-domain statistics per channel: 3-D in, 2-D
out, so any scikit-learn classifier can follow."""),
    ("code", """\
pipe = Pipeline([
    ("features", BandPowerFeatures(sfreq=data.sfreq, ch_names=data.ch_names)),
    ("clf", HistGradientBoostingClassifier(max_iter=50, random_state=0)),
])
pipe"""),
    ("md", """\
## 3. Subject-wise cross-validation

Epochs of one night are strongly correlated, so a random epoch split leaks: the same
subject would be in train and test. `GroupKFold` with `groups=subjects` keeps every
subject in a single fold."""),
    ("code", """\
res = cross_validate(pipe, X, y, groups=groups, cv=GroupKFold(n_splits=4),
                     scoring=sleep_scoring(), return_estimator=True, return_indices=True)
for name in ("accuracy", "macro_f1", "kappa", "gmean"):
    scores = res[f"test_{name}"]
    print(f"{name:>9s}: {scores.mean():.3f} +- {scores.std(ddof=1):.3f}  per fold {np.round(scores, 3)}")"""),
    ("md", """\
Pool the out-of-fold predictions (the convention of sleep-staging papers) and keep the
probabilities in stage order for the hypnodensity."""),
    ("code", """\
y_pred = np.empty_like(y)
proba = np.zeros((len(y), len(data.stage_names)))
for est, test_idx in zip(res["estimator"], res["indices"]["test"]):
    y_pred[test_idx] = est.predict(X[test_idx])
    cols = [list(est.classes_).index(s) for s in data.stage_names]
    proba[test_idx] = est.predict_proba(X[test_idx])[:, cols]
print(format_scores(sleep_scores(y, y_pred), title="pooled out-of-fold scores"))"""),
    ("md", """\
## 4. Hypnogram and hypnodensity of a held-out night

The plotting functions return a matplotlib `Axes`; they draw on a figure created without
`pyplot`, so they also work headless. Returning `ax.figure` from a cell displays it."""),
    ("code", """\
from matplotlib.figure import Figure

night = groups == 0
fig = Figure(figsize=(9, 6), layout="constrained")
ax_ref, ax_pred, ax_dens = fig.subplots(3, 1, sharex=True)
plot_hypnogram(y[night], epoch_seconds=data.epoch_seconds, ax=ax_ref, title="reference")
plot_hypnogram(y_pred[night], epoch_seconds=data.epoch_seconds, ax=ax_pred,
               title="predicted (subject 0 held out)")
plot_hypnodensity(proba[night], data.stage_names, epoch_seconds=data.epoch_seconds,
                  ax=ax_dens, title="hypnodensity")
fig"""),
    ("md", """\
## 5. Sleep statistics

AASM definitions (durations in minutes, efficiencies in %); REM latency is measured from
sleep onset."""),
    ("code", """\
ref = sleep_statistics(y[night], epoch_seconds=data.epoch_seconds)
pred = sleep_statistics(y_pred[night], epoch_seconds=data.epoch_seconds)
for key in ("TIB", "TST", "SE", "SOL", "WASO", "Lat_REM", "N3_min", "REM_min", "n_awakenings"):
    print(f"{key:>13s}  reference {ref[key]:7.1f}   predicted {pred[key]:7.1f}")"""),
    ("md", """\
## Next steps

* Real data: `fetch_sleep_edf`, `load_sleep_edf`, `load_dreams`, `load_edf_with_labels`.
* Deep networks in the same Pipeline/CV code: `examples/network_pipeline.py`.
* Network + band-power ensembles: `examples/combine_network_and_features.py`.
* Saving a model and staging an EDF file: `examples/stage_edf_recording.py`."""),
]


def build_notebook():
    """Return the tutorial as an :class:`nbformat.NotebookNode` (no outputs)."""
    cells = [new_markdown_cell(src) if kind == "md" else new_code_cell(src)
             for kind, src in CELLS]
    nb = new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"display_name": "Python 3", "language": "python",
                                 "name": "python3"}
    nb.metadata["language_info"] = {"name": "python"}
    # stable cell ids, so that regenerating gives a byte-identical file
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"cell-{i:02d}"
    return nb


def main():
    nb = build_notebook()
    nbformat.validate(nb)
    nbformat.write(nb, NOTEBOOK)
    print(f"wrote {NOTEBOOK}")


if __name__ == "__main__":
    main()
