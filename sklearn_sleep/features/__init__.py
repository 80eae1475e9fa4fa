"""Classical per-epoch features (3-D epochs in, 2-D feature matrix out)."""

from ._spectral import BandPowerFeatures

__all__ = ["BandPowerFeatures"]
