"""Placeholder: being implemented."""


def make_synthetic_psg(*args, **kwargs):
    raise NotImplementedError
