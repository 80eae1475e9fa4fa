"""Transformers on epoch arrays ``(n_epochs, n_channels, n_times)`` that compose in Pipelines.

None of them changes the number of epochs, so ``X``, ``y`` and ``groups`` stay aligned.
Segmentation of continuous recordings into epochs (which does change the number of rows)
happens before the Pipeline, in :class:`EpochSegmenter`.
"""

from ._channels import ChannelNamedArray, ChannelPicker
from ._resample import Resampler
from ._filter import BandPassFilter, NotchFilter
from ._scaling import EpochScaler, scale_recordings
from ._fft import FFTFeatures
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
    "FFTFeatures",
    "EpochSegmenter",
    "EpochSampler",
]
