"""Classical per-epoch features (3-D epochs in, 2-D feature matrix out)."""

from ._context import ContextFeatures
from ._spectral import BandPowerFeatures
from ._yasa import YasaFeatures, YasaHypnodensity

__all__ = ["BandPowerFeatures", "ContextFeatures", "YasaFeatures", "YasaHypnodensity"]
