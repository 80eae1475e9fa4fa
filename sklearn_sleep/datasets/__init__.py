"""Sleep recordings as epoch arrays: loaders, the Sleep-EDF fetcher and a synthetic PSG generator.

Every loader returns a :class:`sklearn.utils.Bunch` with at least ``X`` (n_epochs,
n_channels, n_times) float32, ``y`` (stage names), ``groups`` (subject of each epoch),
``recordings`` (recording of each epoch), ``ch_names``, ``sfreq`` and ``epoch_seconds``.
"""

from ._synthetic import make_synthetic_psg
from ._sleep_edf import (
    SleepEDFReader,
    fetch_sleep_edf,
    load_sleep_edf,
    read_sleep_edf_recording,
    read_stage_annotations,
)
from ._dreams import aggregate_labels, load_dreams, read_dreams_hypnogram
from ._generic import epochs_from_array, load_edf_with_labels, read_label_file
from ._rodent import (
    SLEEPSIGN_STAGE_MAP,
    read_sleepsign_hypnogram,
    read_sleepsign_signals,
    read_timestamped_text,
)
from ._parallel import preprocess_recordings

__all__ = [
    "make_synthetic_psg",
    "fetch_sleep_edf",
    "load_sleep_edf",
    "read_sleep_edf_recording",
    "SleepEDFReader",
    "read_stage_annotations",
    "load_dreams",
    "read_dreams_hypnogram",
    "aggregate_labels",
    "epochs_from_array",
    "load_edf_with_labels",
    "read_label_file",
    "read_sleepsign_hypnogram",
    "read_sleepsign_signals",
    "read_timestamped_text",
    "SLEEPSIGN_STAGE_MAP",
    "preprocess_recordings",
]
