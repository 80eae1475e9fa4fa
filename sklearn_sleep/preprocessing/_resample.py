"""Placeholder: being implemented."""


class Resampler:
    pass
