"""Placeholder: being implemented."""


def load_dreams(*args, **kwargs):
    raise NotImplementedError
