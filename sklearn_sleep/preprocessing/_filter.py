"""Placeholder: being implemented."""


class BandPassFilter:
    pass


class NotchFilter:
    pass
