"""Sleep-staging metrics: accuracy, macro-F1, Cohen's kappa, macro G-mean, per-class F1.

Classes absent from both the reference and the prediction of a fold have undefined
(NaN) per-class scores and are left out of macro averages; see
:mod:`sklearn_sleep.metrics._classification` and the user guide.

``sleep_scoring()`` returns a ``scoring=`` dict for ``cross_validate`` and ``GridSearchCV``.
"""

from ._classification import (
    format_scores,
    geometric_mean_score,
    gmean_scorer,
    kappa_score,
    kappa_scorer,
    macro_f1_score,
    macro_gmean_score,
    macro_f1_scorer,
    per_class_f1,
    sleep_confusion_matrix,
    sleep_scores,
    sleep_scoring,
)
from ._recording import RecordingScorer, recording_scoring

__all__ = [
    "RecordingScorer",
    "recording_scoring",
    "format_scores",
    "geometric_mean_score",
    "gmean_scorer",
    "kappa_score",
    "kappa_scorer",
    "macro_f1_score",
    "macro_gmean_score",
    "macro_f1_scorer",
    "per_class_f1",
    "sleep_confusion_matrix",
    "sleep_scores",
    "sleep_scoring",
]
