"""Hypnogram, hypnodensity and confusion-matrix plots (matplotlib).

Every function draws on ``ax`` when given, else on a new figure, and returns the
:class:`matplotlib.axes.Axes`; save it with ``ax.figure.savefig("night.png")``. New
figures are created with :class:`matplotlib.figure.Figure` directly (not through
``pyplot``), so the functions work headless (no display, no GUI backend) and never
change the backend of the calling program; in a notebook display them by returning
``ax.figure`` from the cell.

References
----------
.. [1] Stephansen JB, Olesen AN, Olsen M, et al. Neural network analysis of sleep stages
       enables efficient diagnosis of narcolepsy. Nature Communications 9:5229, 2018.
       doi:10.1038/s41467-018-07229-3 (the "hypnodensity" representation).
"""

import numpy as np

from .utils._stages import AASM_STAGES, MOUSE_STAGES, canonical_labels, to_stage_codes

__all__ = [
    "DISPLAY_ORDER",
    "STAGE_COLORS",
    "hypnogram_levels",
    "plot_confusion_matrix",
    "plot_hypnodensity",
    "plot_hypnogram",
]

#: Vertical order of the stages on a hypnogram, top to bottom (REM just under wake,
#: deeper NREM lower), for the AASM and rodent vocabularies.
DISPLAY_ORDER = {
    AASM_STAGES: ("W", "REM", "N1", "N2", "N3"),
    MOUSE_STAGES: ("W", "REM", "NREM"),
}

#: Colours used for the stages in every plot.
STAGE_COLORS = {
    "W": "#f2b134",
    "N1": "#9ecae1",
    "N2": "#4292c6",
    "N3": "#08306b",
    "NREM": "#2171b5",
    "REM": "#d62728",
}


def _new_axes(figsize):
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize, layout="constrained")
    return fig.add_subplot()


def _infer_vocabulary(labels):
    labels = {str(s) for s in labels}
    for vocabulary in (AASM_STAGES, MOUSE_STAGES):
        if labels <= set(vocabulary):
            return vocabulary
    upper = {s.upper() for s in labels}
    if "NREM" in upper:
        return MOUSE_STAGES
    return AASM_STAGES


def _check_epoch_seconds(epoch_seconds):
    if isinstance(epoch_seconds, bool) or not np.isscalar(epoch_seconds) or not (
        np.isfinite(epoch_seconds) and epoch_seconds > 0
    ):
        raise ValueError(f"epoch_seconds must be a positive number, got {epoch_seconds!r}.")
    return float(epoch_seconds)


def hypnogram_levels(y, *, stages=None):
    """Vertical position of each epoch on a hypnogram plot (0 = top = wake).

    Parameters
    ----------
    y : array-like of shape (n_epochs,)
        Stage names (or integer codes in the order of ``stages``).
    stages : sequence of str or None, default=None
        Stage vocabulary; inferred from the labels (AASM or rodent) when None.

    Returns
    -------
    levels : ndarray of int, shape (n_epochs,)
        Index of each epoch's stage in the display order (see :data:`DISPLAY_ORDER`).
    display : tuple of str
        The stage names from top (level 0) to bottom.
    """
    y = np.asarray(y)
    if y.ndim != 1 or y.size == 0:
        raise ValueError(f"y must be a non-empty 1-D array of stages, got shape {y.shape}.")
    if stages is None:
        stages = AASM_STAGES if y.dtype.kind in "iu" else _infer_vocabulary(np.unique(y.astype(str)))
    stages = tuple(stages)
    codes = to_stage_codes(y, names=stages)
    display = DISPLAY_ORDER.get(stages, stages)
    level_of_code = np.asarray([display.index(s) for s in stages])
    return level_of_code[codes], display


def plot_hypnogram(y, epoch_seconds=30, ax=None, *, stages=None, highlight_rem=True,
                   color="k", title=None, figsize=(10, 3)):
    """Plot a hypnogram as a step line, with REM sleep highlighted.

    Parameters
    ----------
    y : array-like of shape (n_epochs,)
        Stage of each epoch (names, or integer codes in ``stages`` order).
    epoch_seconds : float, default=30
        Epoch length; the x-axis is the time from the record start in hours.
    ax : matplotlib.axes.Axes or None, default=None
        Axes to draw on; a new figure is created when None.
    stages : sequence of str or None, default=None
        Stage vocabulary (inferred: AASM or rodent).
    highlight_rem : bool, default=True
        Draw REM epochs as a thick red line on top of the hypnogram.
    color : color, default="k"
        Colour of the hypnogram line.
    title : str or None, default=None
        Axes title.
    figsize : tuple, default=(10, 3)
        Size of a newly created figure (inches).

    Returns
    -------
    ax : matplotlib.axes.Axes
        ``ax.lines[0]`` is the hypnogram: its x data are the epoch onsets in hours (plus
        the end of the last epoch) and its y data the display level of each epoch (0 =
        wake at the top; see :func:`hypnogram_levels`). With ``highlight_rem``,
        ``ax.lines[1]`` holds the REM segments (NaN elsewhere).
    """
    epoch_seconds = _check_epoch_seconds(epoch_seconds)
    levels, display = hypnogram_levels(y, stages=stages)
    if ax is None:
        ax = _new_axes(figsize)
    n = len(levels)
    hours = np.arange(n + 1) * epoch_seconds / 3600.0
    # repeat the last level so the final epoch gets its full width with where="post"
    ydata = np.append(levels, levels[-1]).astype(float)
    ax.step(hours, ydata, where="post", color=color, lw=1.2, label="hypnogram")
    if highlight_rem and "REM" in display:
        rem_level = display.index("REM")
        # with where="post" the segment [t_i, t_{i+1}] is drawn at ydata[i]
        rem = np.where(ydata == rem_level, ydata, np.nan)
        ax.step(hours, rem, where="post", color=STAGE_COLORS["REM"], lw=4, label="REM")
    ax.set_yticks(range(len(display)))
    ax.set_yticklabels(display)
    ax.set_ylim(len(display) - 0.5, -0.5)  # wake on top
    ax.set_xlim(0, hours[-1])
    ax.set_xlabel("Time (h)")
    ax.set_ylabel("Stage")
    ax.spines[["top", "right"]].set_visible(False)
    if title:
        ax.set_title(title)
    return ax


def plot_hypnodensity(proba, classes, epoch_seconds=30, ax=None, *, title=None,
                      figsize=(10, 3), legend=True):
    """Plot per-epoch stage probabilities as stacked areas (a hypnodensity [1]_).

    Parameters
    ----------
    proba : array-like of shape (n_epochs, n_classes)
        Probabilities from ``predict_proba``; each row must sum to 1 (within 1e-3).
    classes : sequence of str
        Stage of each column (``estimator.classes_``, which is sorted). Stages are
        stacked in the canonical order W, N1, N2, N3, (NREM,) REM whatever the column
        order; other labels keep their column order.
    epoch_seconds : float, default=30
        Epoch length; the x-axis is in hours.
    ax : matplotlib.axes.Axes or None, default=None
        Axes to draw on; a new figure is created when None.
    title : str or None, default=None
        Axes title.
    figsize : tuple, default=(10, 3)
        Size of a newly created figure.
    legend : bool, default=True
        Add a legend outside the axes.

    Returns
    -------
    ax : matplotlib.axes.Axes
        ``ax.collections[k]`` is the band of the k-th stage in the stacking order
        (bottom to top), which is also the legend order.

    References
    ----------
    .. [1] Stephansen JB et al. Nature Communications 9:5229, 2018.
           doi:10.1038/s41467-018-07229-3
    """
    epoch_seconds = _check_epoch_seconds(epoch_seconds)
    proba = np.asarray(proba, dtype=float)
    classes = [str(c) for c in classes]
    if proba.ndim != 2 or proba.shape[0] == 0:
        raise ValueError(f"proba must be a non-empty 2-D array (n_epochs, n_classes), got shape {proba.shape}.")
    if proba.shape[1] != len(classes):
        raise ValueError(
            f"proba has {proba.shape[1]} columns but {len(classes)} classes were given ({classes})."
        )
    if not np.all(np.isfinite(proba)) or np.any(proba < -1e-6) or not np.allclose(
        proba.sum(axis=1), 1.0, atol=1e-3
    ):
        raise ValueError(
            "proba must contain probabilities (finite, non-negative, rows summing to 1)."
        )
    order = [classes.index(c) for c in canonical_labels(np.asarray(classes, dtype=object))]
    if len(set(classes)) == len(classes) and sorted(order) == list(range(len(classes))):
        classes = [classes[i] for i in order]  # display order: W at the bottom ... REM
        proba = proba[:, order]
    if ax is None:
        ax = _new_axes(figsize)
    n = len(proba)
    # each epoch spans [t_i, t_{i+1}]: draw it as a flat segment
    hours = np.repeat(np.arange(n + 1) * epoch_seconds / 3600.0, 2)[1:-1]
    values = np.repeat(proba, 2, axis=0).T
    colors = [STAGE_COLORS.get(c, None) for c in classes]
    if any(c is None for c in colors):
        colors = None
    ax.stackplot(hours, values, labels=classes, colors=colors, lw=0)
    ax.set_xlim(0, hours[-1])
    ax.set_ylim(0, 1)
    ax.set_xlabel("Time (h)")
    ax.set_ylabel("Probability")
    if legend:
        ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
    if title:
        ax.set_title(title)
    return ax


def plot_confusion_matrix(y_true, y_pred, normalize="true", ax=None, *, labels=None,
                          cmap="Blues", title=None, figsize=(4.5, 4)):
    """Plot the stage confusion matrix (rows = reference, columns = predicted).

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_epochs,)
        Reference and predicted stages.
    normalize : {"true", "pred", "all", None}, default="true"
        As in :func:`sklearn_sleep.metrics.sleep_confusion_matrix`; ``"true"`` shows the
        recall of each stage on the diagonal, None shows counts.
    ax : matplotlib.axes.Axes or None, default=None
        Axes to draw on; a new figure is created when None.
    labels : sequence or None, default=None
        Stage order (default: canonical stage order).
    cmap : str, default="Blues"
        Colour map.
    title : str or None, default=None
        Axes title.
    figsize : tuple, default=(4.5, 4)
        Size of a newly created figure.

    Returns
    -------
    ax : matplotlib.axes.Axes
        ``ax.images[0].get_array()`` is the (normalised) matrix; each cell is annotated.
    """
    from .metrics import sleep_confusion_matrix

    if normalize not in ("true", "pred", "all", None):
        raise ValueError(f"normalize must be 'true', 'pred', 'all' or None, got {normalize!r}.")
    cm, labels = sleep_confusion_matrix(y_true, y_pred, labels=labels, normalize=normalize)
    if ax is None:
        ax = _new_axes(figsize)
    vmax = 1.0 if normalize else max(1, cm.max())
    im = ax.imshow(cm, cmap=cmap, vmin=0, vmax=vmax)
    ax.figure.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
    names = [str(lab) for lab in labels]
    ax.set_xticks(range(len(names)))
    ax.set_xticklabels(names)
    ax.set_yticks(range(len(names)))
    ax.set_yticklabels(names)
    ax.set_xlabel("Predicted stage")
    ax.set_ylabel("Reference stage")
    for i in range(cm.shape[0]):
        for j in range(cm.shape[1]):
            value = cm[i, j]
            text = f"{value:.2f}" if normalize else f"{int(value)}"
            ax.text(j, i, text, ha="center", va="center", fontsize=8,
                    color="white" if value > 0.6 * vmax else "black")
    if title:
        ax.set_title(title)
    return ax
