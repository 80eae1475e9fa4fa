"""Placeholder: being implemented."""


class EpochSegmenter:
    pass
