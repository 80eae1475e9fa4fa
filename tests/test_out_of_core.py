"""Out-of-core training: networks train from an on-disk epoch store larger than their memory.

The store is the memory-mapped ``.npy`` written by ``preprocess_recordings(out=...)``,
opened read-only with ``np.load(path, mmap_mode="r")``. ``SleepNetClassifier.fit``
keeps it memory-mapped (no copy: the NaN/inf scan runs block by block) and skorch's
DataLoader reads one mini-batch at a time from it.

How memory is capped: ``RLIMIT_DATA`` (Linux >= 4.7) limits the process's private
writable memory (heap, anonymous mappings) - the memory a copy of the data would need -
while a read-only file mapping is not charged to it (its pages are page cache, which
the kernel evicts under pressure). ``RLIMIT_AS`` cannot be used: mapping the file
needs address space of its full size, and torch alone reserves gigabytes of it.
"""

import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from sklearn_sleep.datasets import preprocess_recordings
from sklearn_sleep.models import SleepNetClassifier
from sklearn_sleep.utils import _validation

# batches collated from the read-only store: PyTorch warns (once) that it is not writable
pytestmark = pytest.mark.filterwarnings("ignore:The given NumPy array is not writable")

REPO = Path(__file__).resolve().parents[1]
LABELS = np.array(["W", "N2", "REM"])


class TinyNet(nn.Module):
    """A strided convolution, global average pooling and a linear layer."""

    def __init__(self, n_chans=2, n_times=3000, n_classes=3):
        super().__init__()
        self.conv = nn.Conv1d(n_chans, 8, 25, stride=25)
        self.out = nn.Linear(8, n_classes)

    def forward(self, x):
        return self.out(torch.relu(self.conv(x)).mean(dim=-1))


class _Reader:
    """Synthetic recordings: class-dependent offset, ``n`` epochs of (2, 3000)."""

    def __init__(self, n):
        self.n = n

    def count_epochs(self, rec):
        return self.n

    def __call__(self, rec):
        rng = np.random.default_rng(rec)
        y = LABELS[rng.integers(0, 3, self.n)]
        y[:3] = LABELS
        offset = np.select([y == "W", y == "N2"], [0.0, 2.0], 4.0).astype(np.float32)
        X = rng.standard_normal((self.n, 2, 3000), dtype=np.float32) + offset[:, None, None]
        return {"X": X, "y": y}


def test_nan_scan_is_blockwise_and_exact(monkeypatch):
    """The block-wise NaN/inf scan reports the same counts/epochs as a full scan."""
    monkeypatch.setattr(_validation, "_FINITE_BLOCK_ELEMENTS", 7)  # several epochs per block
    X = np.zeros((23, 2, 5), dtype=np.float32)
    X[0, 0, 0] = np.nan
    X[9, 1, 4] = np.inf
    X[9, 0, 1] = -np.inf
    X[22, 1, 2] = np.nan
    n_bad, epochs = _validation._nonfinite_epochs(X)
    assert n_bad == int((~np.isfinite(X)).sum()) == 4
    assert epochs.tolist() == [0, 9, 22]
    with pytest.raises(ValueError, match=r"4 NaN or infinite value\(s\) in 3 epoch\(s\) "
                                         r"\(indices 0, 9, 22\)"):
        _validation.check_epochs(X)


def test_fit_on_memmap_store_equals_fit_in_memory(tmp_path):
    """Training from the memory-mapped store == training on the same array in RAM."""
    data = preprocess_recordings([1, 2, 3], _Reader(40), out=tmp_path / "X.npy")
    X_store = np.load(tmp_path / "X.npy", mmap_mode="r")
    # check_epochs keeps the store mapped: no copy of the data
    checked = _validation.check_epochs(X_store)
    assert not checked.flags.owndata and np.shares_memory(checked, X_store)
    X_ram = np.array(X_store)
    params = dict(max_epochs=2, batch_size=16, device="cpu", random_state=0, lr=1e-2)
    clf_store = SleepNetClassifier(TinyNet, **params).fit(X_store, data.y)
    clf_ram = SleepNetClassifier(TinyNet, **params).fit(X_ram, data.y)
    for (name, a), (_, b) in zip(clf_store.module_.state_dict().items(),
                                 clf_ram.module_.state_dict().items()):
        torch.testing.assert_close(a, b, rtol=0, atol=0, msg=name)
    np.testing.assert_array_equal(clf_store.predict(X_store), clf_ram.predict(X_ram))


_CHILD = textwrap.dedent(
    """
    import resource, sys
    import numpy as np
    import torch
    sys.path.insert(0, {tests!r})
    from test_out_of_core import TinyNet
    from sklearn_sleep.models import SleepNetClassifier

    torch.set_num_threads(1)

    def vm_data_bytes():
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmData:"):
                    return int(line.split()[1]) * 1024

    X = np.load({x!r}, mmap_mode="r")
    y = np.load({y!r}, allow_pickle=True)
    clf = SleepNetClassifier(TinyNet, max_epochs=1, batch_size=256, device="cpu",
                             random_state=0, lr=1e-2)
    clf.fit(X[:256], y[:256])  # warm up allocators/kernels before the cap is set
    cap = vm_data_bytes() + {margin}
    resource.setrlimit(resource.RLIMIT_DATA, (cap, cap))
    try:  # the cap bites: the process cannot hold a copy of the store
        copy = np.array(X)
        print("NOT CAPPED", copy.nbytes)
    except MemoryError:
        print("CAPPED")
    clf.fit(X, y)  # one pass over every epoch of the store, a batch at a time
    n_batches = len(clf.history[-1, "batches"])
    acc = float((clf.predict(X[-2048:]) == y[-2048:]).mean())
    print("BATCHES", n_batches, "LOSS", clf.history[-1, "train_loss"], "ACC", acc)
    """
)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="RLIMIT_DATA semantics")
def test_train_from_store_larger_than_memory_cap(tmp_path):
    """A network trains on a 202 MB store with its private memory capped at +32 MB."""
    n_rec, n_per = 8, 1050  # 8 x 1050 x 2 x 3000 float32 = 202 MB
    data = preprocess_recordings(range(n_rec), _Reader(n_per), out=tmp_path / "X.npy")
    store_bytes = data.X.nbytes
    del data["X"]
    np.save(tmp_path / "y.npy", data.y.astype(str))
    margin = 32 * 2**20
    assert store_bytes > 6 * margin
    code = _CHILD.format(tests=str(REPO / "tests"), x=str(tmp_path / "X.npy"),
                         y=str(tmp_path / "y.npy"), margin=margin)
    env = {"PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
           "PATH": "/usr/bin:/bin"}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=env, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = proc.stdout.split("\n")
    assert "CAPPED" in lines, proc.stdout  # a full copy would have failed
    words = next(line for line in lines if line.startswith("BATCHES")).split()
    assert int(words[1]) == -(-n_rec * n_per // 256)  # every epoch streamed through
    assert float(words[5]) > 0.5  # and learned (chance: 1/3)
