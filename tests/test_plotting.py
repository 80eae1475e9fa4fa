"""Tests of the hypnogram, hypnodensity and confusion-matrix plots (headless)."""

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest
from matplotlib.axes import Axes

from sklearn_sleep.metrics import sleep_confusion_matrix
from sklearn_sleep.plotting import (
    hypnogram_levels,
    plot_confusion_matrix,
    plot_hypnodensity,
    plot_hypnogram,
)

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
HYP = ["W", "W", "N1", "N2", "N3", "N3", "N2", "REM", "REM", "W", "N2"]


def _check_png(path):
    data = path.read_bytes()
    assert data[:8] == PNG_MAGIC
    assert len(data) > 5000  # a real picture, not an empty canvas


def test_plot_hypnogram_data_and_png(tmp_path):
    ax = plot_hypnogram(HYP, epoch_seconds=30, title="night")
    assert isinstance(ax, Axes)
    line = ax.lines[0]
    # display levels: W=0 (top), REM=1, N1=2, N2=3, N3=4
    expected = [0, 0, 2, 3, 4, 4, 3, 1, 1, 0, 3]
    np.testing.assert_array_equal(line.get_ydata()[:-1], expected)
    np.testing.assert_allclose(line.get_xdata(), np.arange(len(HYP) + 1) * 30 / 3600)
    rem = np.asarray(ax.lines[1].get_ydata(), dtype=float)
    np.testing.assert_array_equal(np.flatnonzero(~np.isnan(rem)), [7, 8])
    assert [t.get_text() for t in ax.get_yticklabels()] == ["W", "REM", "N1", "N2", "N3"]
    assert ax.get_ylim()[0] > ax.get_ylim()[1]  # wake at the top
    assert ax.get_xlabel() == "Time (h)"
    ax.figure.savefig(tmp_path / "hyp.png")
    _check_png(tmp_path / "hyp.png")


def test_plot_hypnogram_on_given_axes_codes_and_mouse(tmp_path):
    from matplotlib.figure import Figure

    fig = Figure()
    ax0, ax1 = fig.subplots(2)
    codes = [0, 1, 2, 4]
    out = plot_hypnogram(codes, ax=ax0, highlight_rem=False)
    assert out is ax0 and len(ax0.lines) == 1
    np.testing.assert_array_equal(ax0.lines[0].get_ydata()[:-1], [0, 2, 3, 1])
    plot_hypnogram(["W", "NREM", "NREM", "REM"], epoch_seconds=4, ax=ax1)
    np.testing.assert_array_equal(ax1.lines[0].get_ydata()[:-1], [0, 2, 2, 1])
    assert ax1.get_xlim()[1] == pytest.approx(16 / 3600)
    fig.savefig(tmp_path / "two.png")
    _check_png(tmp_path / "two.png")


def test_hypnogram_levels_and_errors():
    levels, display = hypnogram_levels(["W", "NREM", "REM"])
    assert display == ("W", "REM", "NREM") and levels.tolist() == [0, 2, 1]
    with pytest.raises(ValueError, match="Unknown stage label"):
        plot_hypnogram(["W", "N5"])
    with pytest.raises(ValueError, match="epoch_seconds"):
        plot_hypnogram(HYP, epoch_seconds=0)
    with pytest.raises(ValueError, match="non-empty 1-D"):
        plot_hypnogram([])


def test_plot_hypnodensity(tmp_path):
    rng = np.random.default_rng(0)
    proba = rng.dirichlet(np.ones(5), size=40)
    classes = ["W", "N1", "N2", "N3", "REM"]
    ax = plot_hypnodensity(proba, classes, epoch_seconds=30)
    assert len(ax.collections) == 5
    # top edge of the last band = cumulative sum = 1; top of the first band = p_W
    top = ax.collections[-1].get_paths()[0].vertices
    assert np.allclose(top[:, 1].max(), 1.0)
    first = ax.collections[0].get_paths()[0].vertices
    upper = first[first[:, 1] > 0]
    assert set(np.round(upper[:, 1], 8)) <= set(np.round(proba[:, 0], 8)) | {0.0}
    assert [t.get_text() for t in ax.get_legend().get_texts()] == classes
    assert ax.get_xlim()[1] == pytest.approx(40 * 30 / 3600)
    ax.figure.savefig(tmp_path / "density.png")
    _check_png(tmp_path / "density.png")

    with pytest.raises(ValueError, match="3 columns but 5 classes"):
        plot_hypnodensity(proba[:, :3], classes)
    with pytest.raises(ValueError, match="rows summing to 1"):
        plot_hypnodensity(proba * 2, classes)


def test_plot_confusion_matrix(tmp_path):
    rng = np.random.default_rng(1)
    y_true = rng.choice(["W", "N1", "N2", "N3", "REM"], size=200)
    y_pred = np.where(rng.random(200) < 0.7, y_true, rng.choice(["W", "N2"], size=200))
    ax = plot_confusion_matrix(y_true, y_pred)
    expected, _ = sleep_confusion_matrix(y_true, y_pred, normalize="true")
    np.testing.assert_allclose(ax.images[0].get_array(), expected)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["W", "N1", "N2", "N3", "REM"]
    assert len(ax.texts) == 25
    ax.figure.savefig(tmp_path / "cm.png")
    _check_png(tmp_path / "cm.png")

    counts = plot_confusion_matrix(y_true, y_pred, normalize=None)
    raw, _ = sleep_confusion_matrix(y_true, y_pred)
    np.testing.assert_array_equal(counts.images[0].get_array(), raw)
    assert counts.texts[0].get_text() == str(raw[0, 0])
    with pytest.raises(ValueError, match="normalize"):
        plot_confusion_matrix(y_true, y_pred, normalize="rows")
