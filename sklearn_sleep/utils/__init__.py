"""Shared utilities: input validation and sleep-stage vocabularies."""

from ._stages import (
    AASM_STAGES,
    DREAMS_RK_MAP,
    EXCLUDED,
    MOUSE_STAGES,
    SLEEP_EDF_ANNOTATION_MAP,
    identify_stages,
    stage_names,
    stage_of,
    to_stage_codes,
    to_stage_names,
)
from ._validation import check_epochs, check_labels_match, check_sfreq

__all__ = [
    "AASM_STAGES",
    "DREAMS_RK_MAP",
    "EXCLUDED",
    "MOUSE_STAGES",
    "SLEEP_EDF_ANNOTATION_MAP",
    "check_epochs",
    "check_labels_match",
    "check_sfreq",
    "identify_stages",
    "stage_names",
    "stage_of",
    "to_stage_codes",
    "to_stage_names",
]
