"""Scaling out: a Dask cluster through joblib, and multi-process training with accelerate.

* ``preprocess_recordings``, ``GridSearchCV`` and ``cross_validate`` run on a Dask
  ``LocalCluster`` (2 worker processes) through joblib's Dask backend and give exactly
  the results of the serial run.
* A network trains in 2 processes (torch.distributed, gloo, CPU) through
  :class:`AcceleratedSleepNetClassifier`; both ranks end with identical weights.
"""

import json
import os
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
LABELS = np.array(["W", "N1", "N2", "N3", "REM"])


class _Reader:
    """Synthetic recordings (class-specific sinusoids + noise); records the reading pid."""

    def __init__(self, n_times=1000):
        self.n_times = n_times

    def count_epochs(self, rec):
        return 10 + 3 * int(rec)

    def __call__(self, rec):
        rng = np.random.default_rng(int(rec))
        n = self.count_epochs(rec)
        y = LABELS[np.arange(n) % 5]
        t = np.arange(self.n_times) / 100.0
        freqs = np.array([2.0, 4.0, 6.0, 8.0, 11.0])[np.arange(n) % 5]
        X = np.sin(2 * np.pi * freqs[:, None, None] * t) + 0.5 * rng.standard_normal(
            (n, 4, self.n_times))
        return {"X": X.astype(np.float32), "y": y, "groups": np.full(n, int(rec)),
                "pid": os.getpid()}


@pytest.fixture(scope="module")
def dask_client():
    distributed = pytest.importorskip("distributed")
    import cloudpickle

    # the workers cannot import this test module: ship its objects by value
    cloudpickle.register_pickle_by_value(sys.modules[__name__])
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                       dashboard_address=None, silence_logs=40)
    client = distributed.Client(cluster)
    try:
        yield client
    finally:
        client.close()
        cluster.close()
        cloudpickle.unregister_pickle_by_value(sys.modules[__name__])


def test_preprocess_recordings_on_dask_equals_serial(dask_client, tmp_path):
    import joblib
    from distributed import get_task_stream

    from sklearn_sleep.datasets import preprocess_recordings

    recordings = list(range(6))
    serial = preprocess_recordings(recordings, _Reader(), out=tmp_path / "serial.npy")
    with joblib.parallel_config(backend="dask"), get_task_stream(dask_client) as ts:
        dist = preprocess_recordings(recordings, _Reader(), n_jobs=-1,
                                     out=tmp_path / "dask.npy")
    assert len(ts.data) > 0  # tasks ran on the cluster
    # recordings 1..5 were read by the worker processes (the first one by this process)
    pids = {info["pid"] for info in dist.recording_info[1:]}
    assert os.getpid() not in pids
    assert pids <= set(dask_client.run(os.getpid).values())
    np.testing.assert_array_equal(np.load(tmp_path / "dask.npy"), np.asarray(serial.X))
    np.testing.assert_array_equal(dist.y, serial.y)
    np.testing.assert_array_equal(dist.groups, serial.groups)
    np.testing.assert_array_equal(dist.offsets, serial.offsets)


def test_grid_search_and_cross_validate_on_dask_equal_serial(dask_client):
    import joblib
    from distributed import get_task_stream
    from sklearn.model_selection import GridSearchCV, GroupKFold, cross_validate

    from sklearn_sleep.datasets import preprocess_recordings
    from sklearn_sleep.models import ULWSleepNetClassifier

    data = preprocess_recordings(range(4), _Reader(n_times=500))
    net = ULWSleepNetClassifier(max_epochs=1, batch_size=16, device="cpu", random_state=0,
                                callbacks__lr_scheduler=None)
    grid = {"lr": [1e-3, 1e-2]}
    cv = GroupKFold(n_splits=2)

    def run(n_jobs):
        search = GridSearchCV(net, grid, cv=cv, n_jobs=n_jobs)
        search.fit(data.X, data.y, groups=data.groups)
        scores = cross_validate(net, data.X, data.y, groups=data.groups, cv=cv,
                                n_jobs=n_jobs)
        return search, scores

    search_serial, cv_serial = run(1)
    with joblib.parallel_config(backend="dask"), get_task_stream(dask_client) as ts:
        search_dask, cv_dask = run(-1)
    assert len(ts.data) >= 2 * 2 + 2  # every (candidate, fold) fit and the CV folds
    assert search_dask.best_params_ == search_serial.best_params_
    np.testing.assert_allclose(search_dask.cv_results_["mean_test_score"],
                               search_serial.cv_results_["mean_test_score"], rtol=0, atol=0)
    np.testing.assert_allclose(cv_dask["test_score"], cv_serial["test_score"], rtol=0, atol=0)
    # the refitted best network predicts like the serial one
    np.testing.assert_array_equal(search_dask.predict(data.X), search_serial.predict(data.X))


_TRAIN_SCRIPT = textwrap.dedent(
    """
    import json, sys
    import numpy as np
    import torch
    from torch import nn

    from sklearn_sleep.models import AcceleratedSleepNetClassifier
    from sklearn_sleep.models.accelerated import make_accelerator

    class TinyNet(nn.Module):
        def __init__(self, n_chans=2, n_times=600, n_classes=3):
            super().__init__()
            self.conv = nn.Conv1d(n_chans, 8, 25, stride=25)
            self.out = nn.Linear(8, n_classes)

        def forward(self, x):
            return self.out(torch.relu(self.conv(x)).mean(dim=-1))

    torch.set_num_threads(1)
    rng = np.random.default_rng(0)
    y = np.array(["W", "N2", "REM"])[np.arange(96) % 3]
    X = rng.standard_normal((96, 2, 600)).astype(np.float32)
    X += 2.0 * (y == "N2")[:, None, None] - 2.0 * (y == "REM")[:, None, None]
    accelerator = make_accelerator(cpu=True)
    clf = AcceleratedSleepNetClassifier(TinyNet, accelerator=accelerator, max_epochs=2,
                                        batch_size=16, random_state=0, lr=1e-2)
    clf.initialize()  # fit initialises again, with the same seed: same weights
    init = {k: v.detach().clone()
            for k, v in accelerator.unwrap_model(clf.module_).state_dict().items()}
    clf.fit(X, y)
    state = clf.module_.state_dict()
    out = {
        "rank": accelerator.process_index,
        "world": accelerator.num_processes,
        "batches": len(clf.history[-1, "batches"]),
        "moved": max(float((state[k] - init[k]).abs().max()) for k in state),
        "weights": {k: v.detach().numpy().ravel().tolist() for k, v in state.items()},
        "n_proba": int(clf.predict_proba(X).shape[0]),
    }
    with open(sys.argv[1] + "/rank%d.json" % accelerator.process_index, "w") as fh:
        json.dump(out, fh)
    """
)


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_accelerate_two_process_training_identical_weights(tmp_path):
    """2 CPU processes (torch.distributed, gloo) train one network; same weights on both."""
    pytest.importorskip("accelerate")
    script = tmp_path / "train.py"
    script.write_text(_TRAIN_SCRIPT)
    env = dict(os.environ, PYTHONPATH=str(REPO), OMP_NUM_THREADS="1")
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2",
           "--master_addr", "127.0.0.1", "--master_port", str(_free_port()),
           str(script), str(tmp_path)]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    ranks = [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in (0, 1)]
    assert [r["rank"] for r in ranks] == [0, 1] and all(r["world"] == 2 for r in ranks)
    # each rank saw half of the 96 epochs per training epoch: 48 / 16 = 3 batches
    assert all(r["batches"] == 3 for r in ranks)
    assert all(r["moved"] > 1e-4 for r in ranks)  # it trained
    for key, w0 in ranks[0]["weights"].items():
        np.testing.assert_array_equal(w0, ranks[1]["weights"][key], err_msg=key)
    # predictions are gathered from both ranks: one row per epoch on each
    assert all(r["n_proba"] == 96 for r in ranks)


def test_accelerated_net_is_quiet_with_verbose_0(capsys):
    """skorch's accelerate mixin prints the epoch table through accelerator.print even
    with verbose=0; ours honours verbose like every other classifier."""
    pytest.importorskip("accelerate")
    from torch import nn

    from sklearn_sleep.models.accelerated import AcceleratedSleepNetClassifier, make_accelerator

    class Tiny(nn.Module):
        def __init__(self, n_chans=1, n_times=10, n_classes=2):
            super().__init__()
            self.lin = nn.Linear(n_chans * n_times, n_classes)

        def forward(self, x):
            return self.lin(x.flatten(1))

    X = np.random.default_rng(0).normal(size=(20, 1, 10)).astype("float32")
    y = np.array(["W", "N2"] * 10)
    for verbose in (0, 1):
        AcceleratedSleepNetClassifier(Tiny, accelerator=make_accelerator(cpu=True),
                                      max_epochs=2, verbose=verbose).fit(X, y)
        printed = capsys.readouterr().out
        assert ("train_loss" in printed) == bool(verbose), (verbose, printed)
