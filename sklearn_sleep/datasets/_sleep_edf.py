"""Placeholder: being implemented."""


def fetch_sleep_edf(*args, **kwargs):
    raise NotImplementedError


def load_sleep_edf(*args, **kwargs):
    raise NotImplementedError


def read_sleep_edf_recording(*args, **kwargs):
    raise NotImplementedError
