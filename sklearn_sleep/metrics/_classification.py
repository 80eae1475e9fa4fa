"""Sleep-staging agreement metrics and scikit-learn scorers.

The headline metrics of sleep-staging papers are overall accuracy, macro-F1 (MF1),
Cohen's kappa and per-class F1, computed on the epochs pooled over all folds. The macro
geometric mean (G-mean) of sensitivity and specificity is added for imbalance-focused
comparisons.

References
----------
.. [1] Cohen J. A coefficient of agreement for nominal scales. Educational and
       Psychological Measurement, 1960.
.. [2] Kubat M, Matwin S. Addressing the curse of imbalanced training sets: one-sided
       selection. ICML 1997.
"""

import numpy as np
from sklearn.metrics import (
    accuracy_score,
    cohen_kappa_score,
    confusion_matrix,
    f1_score,
    make_scorer,
)

from ..utils._stages import canonical_labels, check_label_array

__all__ = [
    "geometric_mean_score",
    "kappa_score",
    "macro_f1_score",
    "per_class_f1",
    "sleep_confusion_matrix",
    "sleep_scores",
    "sleep_scoring",
    "kappa_scorer",
    "gmean_scorer",
    "macro_f1_scorer",
    "format_scores",
]


def _labels(y_true, y_pred, labels):
    if labels is not None:
        return np.asarray(labels)
    return canonical_labels(np.concatenate([np.asarray(y_true), np.asarray(y_pred)]))


def _check_pair(y_true, y_pred):
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    if y_true.ndim == 1 and y_pred.ndim == 1:
        check_label_array(y_true, "y_true")
        check_label_array(y_pred, "y_pred")
    if y_true.ndim != 1 or y_pred.ndim != 1:
        raise ValueError(
            f"y_true and y_pred must be 1-D, got shapes {y_true.shape} and {y_pred.shape}."
        )
    if len(y_true) != len(y_pred):
        raise ValueError(
            f"y_true and y_pred have different lengths ({len(y_true)} and {len(y_pred)})."
        )
    if len(y_true) == 0:
        raise ValueError("y_true and y_pred are empty.")
    return y_true, y_pred


def sleep_confusion_matrix(y_true, y_pred, *, labels=None, normalize=None):
    """Confusion matrix with rows = reference stage and columns = predicted stage.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_epochs,)
    labels : array-like or None
        Stage order of the rows/columns; by default the canonical stage order
        (W, N1, N2, N3, REM) when the labels are stage names, else sorted.
    normalize : {None, "true", "pred", "all"}
        As in :func:`sklearn.metrics.confusion_matrix`.

    Returns
    -------
    cm : ndarray of shape (n_labels, n_labels)
    labels : ndarray of shape (n_labels,)
    """
    y_true, y_pred = _check_pair(y_true, y_pred)
    labels = _labels(y_true, y_pred, labels)
    return confusion_matrix(y_true, y_pred, labels=labels, normalize=normalize), labels


def geometric_mean_score(y_true, y_pred, *, labels=None):
    """Macro G-mean: mean over classes of ``sqrt(recall_k * specificity_k)``.

    Each class is taken one-vs-rest: recall (sensitivity) is ``TP / (TP + FN)`` and
    specificity is ``TN / (TN + FP)``. A class absent from ``y_true`` has undefined
    recall and is left out of the mean (it still counts as a negative for the others).

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_epochs,)
    labels : array-like or None
        Classes to average over; default: all labels present in ``y_true``.

    Returns
    -------
    gmean : float

    Notes
    -----
    This is the one-vs-rest macro average used in sleep-staging papers on imbalance.
    imbalanced-learn's ``geometric_mean_score(average='macro')`` computes the same
    quantity; the multi-class default of imbalanced-learn (the geometric mean of the
    per-class recalls) is a different metric.
    """
    y_true, y_pred = _check_pair(y_true, y_pred)
    all_labels = _labels(y_true, y_pred, None)
    if labels is not None:
        all_labels = np.concatenate([all_labels, np.setdiff1d(labels, all_labels)])
    cm, all_labels = sleep_confusion_matrix(y_true, y_pred, labels=all_labels)
    wanted = all_labels if labels is None else np.asarray(labels)
    support = cm.sum(axis=1).astype(float)
    keep = np.isin(all_labels, wanted) & (support > 0)
    if not keep.any():
        raise ValueError("None of the requested labels occurs in y_true.")
    tp = np.diag(cm).astype(float)[keep]
    fp = cm.sum(axis=0).astype(float)[keep] - tp
    recall = tp / support[keep]
    negatives = float(len(y_true)) - support[keep]
    with np.errstate(invalid="ignore", divide="ignore"):
        specificity = np.where(negatives > 0, (negatives - fp) / negatives, 1.0)
    return float(np.mean(np.sqrt(recall * specificity)))


def kappa_score(y_true, y_pred, *, labels=None):
    """Cohen's kappa (unweighted) between reference and predicted stages.

    Computed with :func:`sklearn.metrics.cohen_kappa_score` after the checks of the
    other metrics of this module.

    Parameters
    ----------
    y_true : array-like of shape (n_epochs,)
        Reference stages (any labels: stage names or integer codes). Missing labels
        (``None``/NaN) and object arrays mixing text and numbers are refused.
    y_pred : array-like of shape (n_epochs,)
        Predicted stages, same length and kind of labels as ``y_true``.
    labels : array-like or None, default=None
        Stages to include: only the epochs whose reference *and* predicted stage are
        both in ``labels`` are counted. ``None`` uses every label occurring in
        ``y_true`` or ``y_pred``.

    Returns
    -------
    kappa : float
        Cohen's kappa, at most 1 (perfect agreement); 0 is chance-level agreement.
        NaN (with a scikit-learn warning) when it is undefined, e.g. when both arrays
        hold one and the same stage only.

    Raises
    ------
    ValueError
        If ``y_true`` or ``y_pred`` is not 1-D, has missing (``None``/NaN) labels or is
        an object array mixing text and numbers, if their lengths differ or if they
        are empty; also (raised by scikit-learn) if no label of ``labels`` occurs in ``y_true``.
    """
    y_true, y_pred = _check_pair(y_true, y_pred)
    return float(cohen_kappa_score(y_true, y_pred, labels=labels))


def macro_f1_score(y_true, y_pred, *, labels=None):
    """Macro-averaged F1 (MF1) over the stages present in either array (or ``labels``).

    The unweighted mean of the per-stage F1 scores (:func:`sklearn.metrics.f1_score`
    with ``average="macro"``). A stage that occurs in only one of the two arrays counts
    with an F1 of 0 (``zero_division=0``).

    Parameters
    ----------
    y_true : array-like of shape (n_epochs,)
        Reference stages (any labels: stage names or integer codes). Missing labels
        (``None``/NaN) and object arrays mixing text and numbers are refused.
    y_pred : array-like of shape (n_epochs,)
        Predicted stages, same length and kind of labels as ``y_true``.
    labels : array-like or None, default=None
        Stages to average over; each must occur in ``y_true`` or ``y_pred``. ``None``
        averages over every label occurring in either array.

    Returns
    -------
    macro_f1 : float
        Mean F1 over the stages, between 0 and 1.

    Raises
    ------
    ValueError
        If ``y_true`` or ``y_pred`` is not 1-D, has missing (``None``/NaN) labels or is
        an object array mixing text and numbers, if their lengths differ or if they
        are empty, or if a label of ``labels`` occurs in neither array (its F1 would be undefined).
    """
    y_true, y_pred = _check_pair(y_true, y_pred)
    if labels is not None:
        absent = np.setdiff1d(np.asarray(labels), np.concatenate([y_true, y_pred]))
        if absent.size:
            raise ValueError(
                f"labels {absent.tolist()} occur in neither y_true nor y_pred; their F1 is "
                "undefined."
            )
    return float(f1_score(y_true, y_pred, labels=labels, average="macro", zero_division=0))


def per_class_f1(y_true, y_pred, *, labels=None):
    """F1 of each stage, as a dict ``{stage: f1}`` in stage order.

    Parameters
    ----------
    y_true : array-like of shape (n_epochs,)
        Reference stages (any labels: stage names or integer codes). Missing labels
        (``None``/NaN) and object arrays mixing text and numbers are refused.
    y_pred : array-like of shape (n_epochs,)
        Predicted stages, same length and kind of labels as ``y_true``.
    labels : array-like or None, default=None
        Stages to score, in the order of the output. ``None`` takes every label
        occurring in ``y_true`` or ``y_pred``, stage names in canonical stage order
        (W, N1, N2, N3, REM or W, NREM, REM), other labels sorted. A stage absent from
        both arrays gets an F1 of 0.

    Returns
    -------
    f1 : dict
        ``{stage: F1}`` with plain Python keys (``str`` or ``int``) and ``float``
        values; a stage that is never predicted, or never in ``y_true``, has F1 0
        (``zero_division=0``).

    Raises
    ------
    ValueError
        If ``y_true`` or ``y_pred`` is not 1-D, has missing (``None``/NaN) labels or is
        an object array mixing text and numbers, if their lengths differ or if they
        are empty.
    """
    y_true, y_pred = _check_pair(y_true, y_pred)
    labels = _labels(y_true, y_pred, labels)
    scores = f1_score(y_true, y_pred, labels=labels, average=None, zero_division=0)
    return {lab: float(s) for lab, s in zip(labels.tolist(), scores)}


def sleep_scores(y_true, y_pred, *, labels=None):
    """All headline metrics at once.

    Parameters
    ----------
    y_true : array-like of shape (n_epochs,)
        Reference stages (any labels: stage names or integer codes). Missing labels
        (``None``/NaN) and object arrays mixing text and numbers are refused.
    y_pred : array-like of shape (n_epochs,)
        Predicted stages, same length and kind of labels as ``y_true``.
    labels : array-like or None, default=None
        Stages passed to :func:`macro_f1_score`, :func:`geometric_mean_score` and
        :func:`per_class_f1` (so the ``f1_<stage>`` keys follow it). ``accuracy`` and
        ``kappa`` are always computed on all epochs and all labels. ``None`` uses the
        labels occurring in the data.

    Returns
    -------
    scores : dict
        ``accuracy``, ``macro_f1``, ``kappa``, ``gmean`` (macro G-mean), and
        ``f1_<stage>`` per stage (in the order of :func:`per_class_f1`); all floats.

    Raises
    ------
    ValueError
        If ``y_true`` or ``y_pred`` is not 1-D, has missing (``None``/NaN) labels or is
        an object array mixing text and numbers, if their lengths differ or if they
        are empty; also if a label of ``labels`` occurs in neither array, or if none
        of them occurs in ``y_true``.
    """
    y_true, y_pred = _check_pair(y_true, y_pred)
    out = {
        "accuracy": float(accuracy_score(y_true, y_pred)),
        "macro_f1": macro_f1_score(y_true, y_pred, labels=labels),
        "kappa": kappa_score(y_true, y_pred),
        "gmean": geometric_mean_score(y_true, y_pred, labels=labels),
    }
    for stage, f1 in per_class_f1(y_true, y_pred, labels=labels).items():
        out[f"f1_{stage}"] = f1
    return out


kappa_scorer = make_scorer(kappa_score)
gmean_scorer = make_scorer(geometric_mean_score)
macro_f1_scorer = make_scorer(macro_f1_score)


def _f1_for(y_true, y_pred, *, stage):
    return float(f1_score(y_true, y_pred, labels=[stage], average=None, zero_division=0)[0])


def sleep_scoring(per_class=None):
    """Scorers for ``cross_validate(..., scoring=sleep_scoring())`` and ``GridSearchCV``.

    Parameters
    ----------
    per_class : sequence of labels or None
        Also add an ``f1_<stage>`` scorer for each of these labels (e.g. ``["N1"]``).

    Returns
    -------
    scoring : dict of str -> scorer
        ``accuracy``, ``macro_f1``, ``kappa`` and ``gmean``.
    """
    scoring = {
        "accuracy": "accuracy",
        "macro_f1": macro_f1_scorer,
        "kappa": kappa_scorer,
        "gmean": gmean_scorer,
    }
    for stage in per_class or ():
        scoring[f"f1_{stage}"] = make_scorer(_f1_for, stage=stage)
    return scoring


def format_scores(scores, *, title=None, published=None):
    """Format a :func:`sleep_scores` dict as a one-line-per-metric text table.

    Parameters
    ----------
    scores : dict
        Output of :func:`sleep_scores`.
    title : str or None
        First line.
    published : dict or None
        Published values keyed like ``scores``, printed in a second column.
    """
    lines = [title] if title else []
    for key, value in scores.items():
        ref = ""
        if published and published.get(key) is not None:
            ref = f"   (published {published[key]:.3f})"
        lines.append(f"{key:>12s}  {value:.3f}{ref}")
    return "\n".join(lines)
