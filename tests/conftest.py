"""Shared pytest fixtures."""

import os
from pathlib import Path

import numpy as np
import pytest
import torch

torch.set_num_threads(1)


def _shared_data_dir():
    env = os.environ.get("SKLEARN_SLEEP_SHARED_DATA")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[2] / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data():
    """Path to ``../shared/data``; skips the test when it is absent."""
    path = _shared_data_dir()
    if not path.is_dir():
        pytest.skip(f"shared data folder not found at {path}")
    return path


@pytest.fixture
def rng():
    return np.random.default_rng(0)


def pytest_collection_modifyitems(config, items):
    if torch.cuda.is_available():
        return
    skip_gpu = pytest.mark.skip(reason="needs a CUDA device")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip_gpu)
