"""Placeholder: being implemented."""


class FFTFeatures:
    pass
