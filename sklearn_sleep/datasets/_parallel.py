"""Placeholder: being implemented."""


def preprocess_recordings(*args, **kwargs):
    raise NotImplementedError
