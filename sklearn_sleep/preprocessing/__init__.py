"""Transformers on epoch arrays ``(n_epochs, n_channels, n_times)`` that compose in Pipelines.

None of them changes the number of epochs, so ``X``, ``y`` and ``groups`` stay aligned.
Segmentation of continuous recordings into epochs (which does change the number of rows)
happens before the Pipeline, in :class:`EpochSegmenter`.
"""

from ._channels import ChannelNamedArray, ChannelPicker
from ._resample import Resampler
from ._filter import BandPassFilter, NotchFilter
from ._scaling import EpochScaler, scale_recordings
from ._segment import EpochSegmenter
from ._sampler import EpochSampler

__all__ = [
    "ChannelPicker",
    "ChannelNamedArray",
    "Resampler",
    "BandPassFilter",
    "NotchFilter",
    "EpochScaler",
    "scale_recordings",
    "EpochSegmenter",
    "EpochSampler",
]


def __getattr__(name):
    # FFTFeatures moved to sklearn_sleep.features (issue 8); the old import still works.
    if name == "FFTFeatures":
        import warnings

        from ..features import FFTFeatures

        warnings.warn(
            "sklearn_sleep.preprocessing.FFTFeatures moved to "
            "sklearn_sleep.features.FFTFeatures; import it from there (the old path will "
            "be removed in a future release).",
            FutureWarning,
            stacklevel=2,
        )
        return FFTFeatures
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
