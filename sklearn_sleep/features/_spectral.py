"""Placeholder: being implemented."""


class BandPowerFeatures:
    pass
