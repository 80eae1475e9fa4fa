"""Placeholder: being implemented."""


class EpochSampler:
    pass
