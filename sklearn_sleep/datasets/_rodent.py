"""Placeholder: being implemented."""


def read_sleepsign_hypnogram(*args, **kwargs):
    raise NotImplementedError


def read_sleepsign_signals(*args, **kwargs):
    raise NotImplementedError
