"""Sleep-staging agreement metrics and scikit-learn scorers.

The headline metrics of sleep-staging papers are overall accuracy, macro-F1 (MF1),
Cohen's kappa and per-class F1, computed on the epochs pooled over all folds. The macro
geometric mean (G-mean) of sensitivity and specificity is added for imbalance-focused
comparisons.

Classes absent from a fold (one rule for every metric)
-------------------------------------------------------
A class that occurs in **neither** ``y_true`` **nor** ``y_pred`` (e.g. ``labels=["N1"]``
on a fold of a subject without N1, where N1 was also never predicted) has an undefined
per-class score (0/0). Following scikit-learn's ``zero_division=np.nan`` convention:

* its per-class F1 (:func:`per_class_f1`, the ``f1_<stage>`` scorers of
  :func:`sleep_scoring`) is **NaN**, never 0;
* macro averages (:func:`macro_f1_score`, :func:`macro_gmean_score`) leave it **out**
  of the average (they average over the requested classes that occur in either array),
  and are NaN when no requested class occurs;
* Cohen's kappa (:func:`kappa_score`) is unaffected: such a class contributes nothing
  to the observed or the chance agreement; kappa is NaN only when it is undefined
  (chance agreement 1, e.g. one single stage in both arrays).

Each function warns (``sklearn.exceptions.UndefinedMetricWarning``) naming the absent
classes when they were requested explicitly. A class present in only one of the two
arrays is *defined* and counts: its F1 is 0 and, as in imbalanced-learn, an undefined
sensitivity or specificity (no positives or no negatives) counts as 0 in the G-mean.

Averaging over folds: ``cross_validate`` returns NaN for a fold where a per-class
score is undefined, so ``np.mean`` of the fold scores is NaN. This is deliberate (0
would silently drag the mean down); average with ``np.nanmean`` and report over how
many folds, or score the epochs pooled over folds (``cross_val_predict``), as the
sleep-staging literature does.

References
----------
.. [1] Cohen J. A coefficient of agreement for nominal scales. Educational and
       Psychological Measurement, 1960.
.. [2] Kubat M, Matwin S. Addressing the curse of imbalanced training sets: one-sided
       selection. ICML 1997.
.. [3] Lemaître G, Nogueira F, Aridas CK. Imbalanced-learn: a Python toolbox to tackle
       the curse of imbalanced datasets in machine learning. JMLR 18(17), 2017.
"""

import warnings

import numpy as np
from sklearn.metrics import (
    accuracy_score,
    cohen_kappa_score,
    confusion_matrix,
    f1_score,
    make_scorer,
)
from sklearn.exceptions import UndefinedMetricWarning
from sklearn.utils.multiclass import unique_labels

from ..utils._stages import canonical_labels, check_label_array

__all__ = [
    "geometric_mean_score",
    "macro_gmean_score",
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


def _split_absent(y_true, y_pred, labels, metric):
    """Requested labels occurring in either array, and warn about those in neither."""
    labels = np.asarray(labels)
    present = np.isin(labels, np.concatenate([y_true, y_pred]))
    if not present.all():
        warnings.warn(
            f"{metric}: labels {labels[~present].tolist()} occur in neither y_true nor "
            "y_pred; their per-class score is undefined (NaN) and left out of averages.",
            UndefinedMetricWarning,
            stacklevel=3,
        )
    return labels[present]


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


def macro_gmean_score(y_true, y_pred, *, labels=None):
    """Macro G-mean: mean over classes of ``sqrt(sensitivity_k * specificity_k)``.

    Each class ``k`` is taken one-vs-rest over all epochs: sensitivity (recall) is
    ``TP / (TP + FN)`` and specificity ``TN / (TN + FP)``, where epochs of every other
    class (requested or not) are negatives; the per-class G-mean
    ``sqrt(sensitivity * specificity)`` (Kubat & Matwin) is averaged without weights
    over the requested classes that occur in ``y_true`` or ``y_pred``. A requested
    class absent from both arrays is left out (module docstring: the rule shared by all
    metrics). As in imbalanced-learn's ``sensitivity_specificity_support``, an
    undefined sensitivity or specificity (a predicted-only class, or no negatives)
    counts as 0. Tested against the per-class values of imbalanced-learn's
    ``sensitivity_specificity_support(average=None)``.

    Parameters
    ----------
    y_true : array-like of shape (n_epochs,)
        Reference stages.
    y_pred : array-like of shape (n_epochs,)
        Predicted stages.
    labels : array-like or None, default=None
        Classes to average over. None: every class occurring in either array.

    Returns
    -------
    gmean : float
        Between 0 and 1; NaN when no requested class occurs in either array.

    Notes
    -----
    This is **not** imbalanced-learn's ``geometric_mean_score``, whence the name:
    imbalanced-learn's default (``average="multiclass"``) is the geometric mean of the
    per-class recalls (0 as soon as one class is never recognised), and its
    ``average="macro"`` is ``sqrt(mean_k sensitivity_k * mean_k specificity_k)``, the
    square root of the product of the macro-averaged sensitivity and specificity. Until
    this release the function was called ``geometric_mean_score`` and documented as
    equal to imbalanced-learn's ``average="macro"``, which was wrong; that name remains
    as a deprecated alias.

    Examples
    --------
    >>> round(macro_gmean_score(["W", "W", "N2", "N2"], ["W", "N2", "N2", "N2"]), 4)
    0.7071
    """
    y_true, y_pred = _check_pair(y_true, y_pred)
    unique_labels(y_true, y_pred)  # refuses a mix of label types, as scikit-learn does
    labels = _labels(y_true, y_pred, labels)
    keep = _split_absent(y_true, y_pred, labels, "macro_gmean_score")
    if keep.size == 0:
        return float("nan")
    n = float(len(y_true))
    values = []
    for k in keep.tolist():
        t, p = y_true == k, y_pred == k
        pos, tp = float(t.sum()), float((t & p).sum())
        fp = float((~t & p).sum())
        neg = n - pos
        sens = tp / pos if pos > 0 else 0.0
        spec = (neg - fp) / neg if neg > 0 else 0.0
        values.append(np.sqrt(sens * spec))
    return float(np.mean(values))


def geometric_mean_score(y_true, y_pred, *, labels=None):
    """Deprecated alias of :func:`macro_gmean_score` (removed in a future release).

    The name suggested imbalanced-learn's ``geometric_mean_score``, which is a different
    metric for both its default ``average="multiclass"`` and ``average="macro"`` (see
    the Notes of :func:`macro_gmean_score`).

    Parameters
    ----------
    y_true : array-like of shape (n_epochs,)
        Reference stages.
    y_pred : array-like of shape (n_epochs,)
        Predicted stages.
    labels : array-like or None, default=None
        Classes to average over.

    Returns
    -------
    gmean : float
        ``macro_gmean_score(y_true, y_pred, labels=labels)``.
    """
    warnings.warn(
        "sklearn_sleep.metrics.geometric_mean_score is renamed macro_gmean_score: it is the "
        "mean of the per-class sqrt(sensitivity * specificity), not imbalanced-learn's "
        "geometric_mean_score (neither its default nor average='macro'). The old name "
        "will be removed in a future release.",
        FutureWarning,
        stacklevel=2,
    )
    return macro_gmean_score(y_true, y_pred, labels=labels)


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
        ``y_true`` or ``y_pred``. A stage occurring in neither array changes nothing
        (it is dropped with an ``UndefinedMetricWarning``).

    Returns
    -------
    kappa : float
        Cohen's kappa, at most 1 (perfect agreement); 0 is chance-level agreement.
        NaN (with a warning) when it is undefined: when both arrays hold one and the
        same stage only, or when no stage of ``labels`` occurs.

    Raises
    ------
    ValueError
        If ``y_true`` or ``y_pred`` is not 1-D, has missing (``None``/NaN) labels or is
        an object array mixing text and numbers, if their lengths differ or if they
        are empty.
    """
    y_true, y_pred = _check_pair(y_true, y_pred)
    if labels is not None:
        labels = _split_absent(y_true, y_pred, labels, "kappa_score")
        if labels.size == 0:
            return float("nan")
    return float(cohen_kappa_score(y_true, y_pred, labels=labels))


def macro_f1_score(y_true, y_pred, *, labels=None):
    """Macro-averaged F1 (MF1) over the stages present in either array (or ``labels``).

    The unweighted mean of the per-stage F1 scores ``2 TP / (2 TP + FP + FN)``
    (:func:`sklearn.metrics.f1_score` with ``average="macro"``,
    ``zero_division=np.nan``). A stage that occurs in only one of the two arrays counts
    with an F1 of 0; a requested stage that occurs in neither is undefined and left out
    of the mean (module docstring: classes absent from a fold).

    Parameters
    ----------
    y_true : array-like of shape (n_epochs,)
        Reference stages (any labels: stage names or integer codes). Missing labels
        (``None``/NaN) and object arrays mixing text and numbers are refused.
    y_pred : array-like of shape (n_epochs,)
        Predicted stages, same length and kind of labels as ``y_true``.
    labels : array-like or None, default=None
        Stages to average over. ``None`` averages over every label occurring in either
        array. Stages occurring in neither array are left out, with an
        ``UndefinedMetricWarning``.

    Returns
    -------
    macro_f1 : float
        Mean F1 over the stages, between 0 and 1; NaN when no stage of ``labels``
        occurs in either array.

    Raises
    ------
    ValueError
        If ``y_true`` or ``y_pred`` is not 1-D, has missing (``None``/NaN) labels or is
        an object array mixing text and numbers, if their lengths differ or if they
        are empty.
    """
    y_true, y_pred = _check_pair(y_true, y_pred)
    if labels is not None:
        labels = _split_absent(y_true, y_pred, labels, "macro_f1_score")
        if labels.size == 0:
            return float("nan")
    return float(
        f1_score(y_true, y_pred, labels=labels, average="macro", zero_division=np.nan)
    )


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
        (W, N1, N2, N3, REM or W, NREM, REM), other labels sorted.

    Returns
    -------
    f1 : dict
        ``{stage: F1}`` with plain Python keys (``str`` or ``int``) and ``float``
        values; a stage that is never predicted, or never in ``y_true``, has F1 0; a
        requested stage in neither array has F1 NaN (undefined; with an
        ``UndefinedMetricWarning``).

    Raises
    ------
    ValueError
        If ``y_true`` or ``y_pred`` is not 1-D, has missing (``None``/NaN) labels or is
        an object array mixing text and numbers, if their lengths differ or if they
        are empty.
    """
    y_true, y_pred = _check_pair(y_true, y_pred)
    labels = _labels(y_true, y_pred, labels)
    _split_absent(y_true, y_pred, labels, "per_class_f1")  # warns about undefined ones
    scores = f1_score(y_true, y_pred, labels=labels, average=None, zero_division=np.nan)
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
        Stages passed to :func:`macro_f1_score`, :func:`macro_gmean_score` and
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
        are empty. Requested stages absent from both arrays give NaN per-class scores
        and are left out of the averages (module docstring).
    """
    y_true, y_pred = _check_pair(y_true, y_pred)
    out = {
        "accuracy": float(accuracy_score(y_true, y_pred)),
        "macro_f1": macro_f1_score(y_true, y_pred, labels=labels),
        "kappa": kappa_score(y_true, y_pred),
        "gmean": macro_gmean_score(y_true, y_pred, labels=labels),
    }
    for stage, f1 in per_class_f1(y_true, y_pred, labels=labels).items():
        out[f"f1_{stage}"] = f1
    return out


kappa_scorer = make_scorer(kappa_score)
gmean_scorer = make_scorer(macro_gmean_score)
macro_f1_scorer = make_scorer(macro_f1_score)


def _f1_for(y_true, y_pred, *, stage):
    # NaN (not 0) in a fold where the stage is in neither y_true nor y_pred
    return per_class_f1(y_true, y_pred, labels=[stage])[stage]


def sleep_scoring(per_class=None):
    """Scorers for ``cross_validate(..., scoring=sleep_scoring())`` and ``GridSearchCV``.

    Parameters
    ----------
    per_class : sequence of labels or None
        Also add an ``f1_<stage>`` scorer for each of these labels (e.g. ``["N1"]``).
        Its value is NaN in a fold where the stage occurs neither in the test labels nor
        in the predictions (undefined; see the module docstring), so average fold
        scores with ``np.nanmean``.

    Returns
    -------
    scoring : dict of str -> scorer
        ``accuracy``, ``macro_f1``, ``kappa``, ``gmean`` (:func:`macro_gmean_score`)
        and the ``f1_<stage>`` scorers.
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
