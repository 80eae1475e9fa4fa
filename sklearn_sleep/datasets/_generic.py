"""Placeholder: being implemented."""


def epochs_from_array(*args, **kwargs):
    raise NotImplementedError


def load_edf_with_labels(*args, **kwargs):
    raise NotImplementedError
