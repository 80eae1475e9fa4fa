"""Tests of the bounded-memory parallel preprocessing (`preprocess_recordings`)."""

import numpy as np
import pytest

from sklearn_sleep.datasets import preprocess_recordings, read_sleep_edf_recording


class ArrayReader:
    """Deterministic synthetic recordings: recording i has 3 + i epochs."""

    def __init__(self, n_channels=2, n_times=50, counted=True, lie=0):
        self.n_channels = n_channels
        self.n_times = n_times
        self.counted = counted
        self.lie = lie

    def _n(self, rec):
        return 3 + rec

    def __call__(self, rec):
        n = self._n(rec)
        rng = np.random.default_rng(rec)
        X = rng.standard_normal((n, self.n_channels, self.n_times)).astype(np.float32)
        y = np.array(["W", "N2", "REM"] * n, dtype=object)[:n]
        return dict(X=X, y=y, groups=np.full(n, rec // 2), recordings=np.full(n, f"r{rec}"),
                    ch_names=["a", "b"][: self.n_channels], sfreq=100.0, epoch_seconds=0.5,
                    n_excluded=rec)


class CountingReader(ArrayReader):
    def count_epochs(self, rec):
        return self._n(rec) + self.lie


def _expected(recs, reader):
    parts = [reader(r) for r in recs]
    return (np.concatenate([p["X"] for p in parts]), np.concatenate([p["y"] for p in parts]),
            np.concatenate([p["groups"] for p in parts]))


@pytest.mark.parametrize("reader_cls", [ArrayReader, CountingReader])
@pytest.mark.parametrize("n_jobs", [1, 2])
def test_in_memory_matches_concatenation(reader_cls, n_jobs):
    recs = list(range(5))
    reader = reader_cls()
    X, y, groups = _expected(recs, reader)
    out = preprocess_recordings(recs, reader, n_jobs=n_jobs)
    assert isinstance(out.X, np.ndarray) and not isinstance(out.X, np.memmap)
    assert out.X.dtype == np.float32
    np.testing.assert_array_equal(out.X, X)
    assert list(out.y) == list(y)
    np.testing.assert_array_equal(out.groups, groups)
    np.testing.assert_array_equal(out.offsets, np.cumsum([0, 3, 4, 5, 6, 7]))
    assert [i["n_excluded"] for i in out.recording_info] == recs
    assert out.ch_names == ["a", "b"] and out.sfreq == 100.0 and out.epoch_seconds == 0.5
    assert out.filename is None


@pytest.mark.parametrize("n_jobs,prefer", [(1, None), (2, None), (2, "threads")])
def test_memmap_output(tmp_path, n_jobs, prefer):
    recs = list(range(4))
    reader = CountingReader()
    X, y, _ = _expected(recs, reader)
    path = tmp_path / "sub" / "epochs.npy"
    out = preprocess_recordings(recs, reader, n_jobs=n_jobs, out=path, prefer=prefer)
    assert isinstance(out.X, np.memmap) and out.filename == path
    np.testing.assert_array_equal(out.X, X)
    np.testing.assert_array_equal(np.load(path), X)  # a plain .npy file
    assert list(out.recordings) == [f"r{r}" for r in recs for _ in range(3 + r)]


def test_transform_applied_per_recording():
    class Decimate:
        sfreq_out = 50.0

        def transform(self, X):
            return X[:, :, ::2]

    reader = CountingReader()
    recs = [0, 1, 2]
    X, _, _ = _expected(recs, reader)
    out = preprocess_recordings(recs, reader, transform=Decimate())
    np.testing.assert_array_equal(out.X, X[:, :, ::2])
    assert out.sfreq == 50.0
    out2 = preprocess_recordings(recs, reader, transform=lambda Z: Z * 2)
    np.testing.assert_allclose(out2.X, 2 * X)


def test_errors():
    with pytest.raises(ValueError, match="recordings is empty"):
        preprocess_recordings([], CountingReader())
    with pytest.raises(ValueError, match=r"counted 4 epochs but the reader produced 3"):
        preprocess_recordings([0, 1], CountingReader(lie=1))
    with pytest.raises(ValueError, match="must not add or remove epochs"):
        preprocess_recordings([0], CountingReader(), transform=lambda Z: Z[1:])
    with pytest.raises(ValueError, match=r"\.npy"):
        preprocess_recordings([0], CountingReader(), out="epochs.dat")
    with pytest.raises(ValueError, match="cannot write into an in-memory array"):
        preprocess_recordings([0], CountingReader(), prefer="processes")

    class ShapeReader(CountingReader):
        def __call__(self, rec):
            d = super().__call__(rec)
            if rec == 1:
                d["X"] = d["X"][:, :, :10]
            return d

    with pytest.raises(ValueError, match="do not match"):
        preprocess_recordings([0, 1], ShapeReader())

    class RateReader(CountingReader):
        def __call__(self, rec):
            d = super().__call__(rec)
            d["sfreq"] = 100.0 + rec
            return d

    with pytest.raises(ValueError, match="differs"):
        preprocess_recordings([0, 1], RateReader())


def test_empty_recordings_are_reported():
    class SomeEmpty(CountingReader):
        def _n(self, rec):
            return 0 if rec == 1 else 3

    with pytest.warns(UserWarning, match=r"Skipping 1 recording\(s\) with 0 epochs"):
        out = preprocess_recordings([0, 1, 2], SomeEmpty())
    assert len(out.X) == 6 and out.recording_info[1]["n_epochs"] == 0

    class AllEmpty(CountingReader):
        def _n(self, rec):
            return 0

    with pytest.raises(ValueError, match="0 epochs"):
        preprocess_recordings([0, 1], AllEmpty())


def test_sleep_edf_recordings_parallel_memmap(tmp_path):
    pytest.importorskip("edfio")
    from sklearn_sleep.datasets._edf_io import _write_sleep_edf_like
    from sklearn_sleep.datasets._sleep_edf import SleepEDFReader

    stages = ["W"] * 3 + ["1", "2", "2", "3", "4", "R", "M", "R"] + ["W"] * 4
    pairs = [_write_sleep_edf_like(tmp_path / "edf", s, 1, stages=stages, seed=s)[:2]
             for s in range(3)]
    ref = [read_sleep_edf_recording(p, h) for p, h in pairs]
    out = preprocess_recordings(pairs, SleepEDFReader(), n_jobs=2, out=tmp_path / "X.npy")
    np.testing.assert_array_equal(out.X, np.concatenate([r.X for r in ref]))
    assert list(out.y) == [s for r in ref for s in r.y]
    np.testing.assert_array_equal(out.groups, np.repeat([0, 1, 2], len(ref[0].y)))
    assert [i["n_excluded"] for i in out.recording_info] == [1, 1, 1]
    assert out.recording_info[0]["resampled_channels"] == {"EMG submental": (1.0, 100.0)}
