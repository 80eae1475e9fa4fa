"""Bounded-memory, parallel preprocessing of many recordings into one epoch array.

The naive way of building a training set (read every recording, keep the per-recording
arrays in a list, ``np.concatenate`` them) needs two copies of the whole data set at
the concatenation; with joblib it additionally ships every recording's array back to
the parent process through a pipe. For Sleep-EDF-78 (about 195k epochs x 4 channels x
3000 samples, 9.4 GB in float32) that is the difference between fitting in memory or
not.

:func:`preprocess_recordings` uses a two-pass design instead:

1. count the epochs of every recording (cheap when the reader exposes
   ``count_epochs``: for Sleep-EDF it reads only the EDF header and the hypnogram);
2. preallocate ONE output array of the final shape - a ``.npy`` file opened with
   :func:`numpy.lib.format.open_memmap` when ``out`` is a path, else an in-memory
   array - and let every worker write its recording straight into its slice (workers
   re-open the ``.npy`` file in ``r+`` mode by path; in memory, threads share the
   array). Only labels and small metadata travel back to the parent.

Peak memory is therefore one copy of the epochs (on disk for a memmap) plus one
recording per worker.
"""

import contextlib
import numbers
import os
import warnings
from pathlib import Path

import numpy as np
from joblib import Parallel, delayed
from sklearn.utils import Bunch

from .._atomic import _temporary_beside, check_outputs
from ..utils._stages import check_label_array
from ..utils._validation import check_epochs

__all__ = ["preprocess_recordings"]

_META_SKIP = {"X", "y", "groups", "recordings", "ch_names", "sfreq", "epoch_seconds",
              "onsets", "artifact", "signals"}


def _recording_name(rec, index):
    if isinstance(rec, (str, Path)):
        return Path(rec).name
    if isinstance(rec, (tuple, list)) and rec and isinstance(rec[0], (str, Path)):
        return Path(rec[0]).name
    return f"recording {index}"


def _apply_transform(transform, X):
    if transform is None:
        return X
    if hasattr(transform, "fit_transform"):
        return transform.fit_transform(X)
    if hasattr(transform, "transform"):
        return transform.transform(X)
    if callable(transform):
        return transform(X)
    raise ValueError(
        "transform must be None, a callable X -> X or an object with fit_transform/"
        f"transform, got {type(transform).__name__}."
    )


def _read_one(reader, transform, rec, index, expected):
    """Read + transform one recording; check its epoch count."""
    name = _recording_name(rec, index)
    data = reader(rec)
    if not isinstance(data, dict) or "X" not in data or "y" not in data:
        raise ValueError(f"{name}: the reader must return a Bunch/dict with 'X' and 'y'.")
    X = np.asarray(data["X"])
    if X.ndim != 3:
        raise ValueError(f"{name}: the reader returned X of shape {X.shape}; expected "
                         "(n_epochs, n_channels, n_times).")
    if len(X):  # empty recordings are skipped (with a warning) by the caller
        # complex epochs are refused (never cast to real), NaN/inf reported with counts
        X = check_epochs(X, name=f"{name}: the reader's X", dtype=None)
    X = _apply_transform(transform, X)
    X = np.asarray(X)
    if X.ndim != 3:
        raise ValueError(f"{name}: the transform returned shape {X.shape}; expected a 3-D "
                         "array (n_epochs, n_channels, n_times).")
    if len(X) and transform is not None:
        X = check_epochs(X, name=f"{name}: the transform's output", dtype=None)
    y = check_label_array(np.asarray(data["y"], dtype=object), name=f"{name}: the reader's y")
    if len(X) != len(y):
        raise ValueError(f"{name}: {len(X)} epochs but {len(y)} labels after the transform; "
                         "the transform must not add or remove epochs.")
    if expected is not None and len(X) != expected:
        raise ValueError(
            f"{name}: the first pass counted {expected} epochs but the reader produced "
            f"{len(X)}. The reader's count_epochs and __call__ disagree."
        )
    n = len(X)
    groups = data.get("groups")
    groups = np.asarray(groups) if groups is not None else np.full(n, index)
    recs = data.get("recordings")
    recs = np.asarray(recs) if recs is not None else np.full(n, name, dtype=object)
    meta = Bunch(
        y=y, groups=groups, recordings=recs,
        ch_names=list(data.get("ch_names", [])) or None,
        sfreq=getattr(transform, "sfreq_out", None) or data.get("sfreq"),
        epoch_seconds=data.get("epoch_seconds"),
        info={k: v for k, v in data.items() if k not in _META_SKIP},
        name=name,
        shape=X.shape[1:],
    )
    return X, meta


def _work_memmap(reader, transform, rec, index, expected, filename, start):
    X, meta = _read_one(reader, transform, rec, index, expected)
    out = np.load(filename, mmap_mode="r+")
    if X.shape[1:] != out.shape[1:]:
        raise ValueError(f"{meta.name}: epochs of shape {X.shape[1:]} do not match the other "
                         f"recordings' {out.shape[1:]} (channels, times).")
    out[start:start + len(X)] = X
    out.flush()
    del out
    return meta


def _work_shared(reader, transform, rec, index, expected, out, start):
    X, meta = _read_one(reader, transform, rec, index, expected)
    if X.shape[1:] != out.shape[1:]:
        raise ValueError(f"{meta.name}: epochs of shape {X.shape[1:]} do not match the other "
                         f"recordings' {out.shape[1:]} (channels, times).")
    out[start:start + len(X)] = X
    return meta


def _count(reader, transform, rec, index):
    if hasattr(reader, "count_epochs"):
        n = reader.count_epochs(rec)
    else:
        X, _ = _read_one(reader, transform, rec, index, None)
        n = len(X)
    if not isinstance(n, numbers.Integral) or n < 0:
        raise ValueError(f"{_recording_name(rec, index)}: epoch count must be a non-negative "
                         f"integer, got {n!r}.")
    return int(n)


def _check_out(out, recordings, overwrite):
    """Validate ``out`` before any reading: suffix, folder, inputs, existing file."""
    filename = Path(out)
    if filename.suffix != ".npy":
        raise ValueError(f"out must be a path ending in '.npy', got {str(out)!r}.")
    filename.parent.mkdir(parents=True, exist_ok=True)
    inputs = []
    for rec in recordings:
        items = rec if isinstance(rec, (tuple, list)) else [rec]
        inputs += [("recording", p) for p in items if isinstance(p, (str, Path))]
    check_outputs([("out", filename)], inputs, overwrite=overwrite,
                  overwrite_hint="overwrite=True (or delete the file)")
    return filename


def preprocess_recordings(recordings, reader, *, n_jobs=1, out=None, transform=None,
                          counts=None, dtype=np.float32, prefer=None, verbose=False,
                          overwrite=False):
    """Read (and transform) many recordings in parallel into ONE preallocated array.

    Parameters
    ----------
    recordings : sequence
        One item per recording, passed as is to ``reader`` (e.g. file paths or
        ``(psg_file, hypnogram_file)`` pairs). Must be picklable when ``n_jobs != 1``
        and ``out`` is a path.
    reader : callable
        ``reader(recording)`` returns a Bunch/dict with at least ``X`` (n_epochs,
        n_channels, n_times) and ``y``; optional ``groups``, ``recordings``,
        ``ch_names``, ``sfreq``, ``epoch_seconds``. If it has a method
        ``count_epochs(recording)`` returning the number of epochs, the first pass uses
        it (cheap); otherwise the first pass calls the reader itself (the data are then
        read twice - still bounded memory, but slower).
    n_jobs : int, default=1
        Number of joblib workers. With ``out`` a path the workers are processes
        (loky) that open the ``.npy`` file in ``r+`` mode; with ``out=None`` they are
        threads writing into the shared in-memory array. Inside
        ``joblib.parallel_config(backend="dask")`` (with a ``distributed.Client``) both
        passes run on the Dask workers when ``out`` is a path they can all reach (a
        shared filesystem) and ``n_jobs=-1``; see ``docs/scaling.md``.
    out : str, Path or None, default=None
        Path of a ``.npy`` file to create and fill; ``X`` is then a read/write
        :class:`numpy.memmap` on it. ``None`` keeps ``X`` in memory. The file is
        written under a temporary name beside ``out`` and renamed onto it only when
        every recording has been written: a failure leaves no partial (all-zero)
        ``.npy`` and keeps a previous ``out`` as it was. ``out`` must not be one of
        the recordings' files.
    transform : callable, transformer or None, default=None
        Applied to each recording's ``X`` (after reading, before writing): an object
        with ``fit_transform`` (fitted per recording, e.g. per-recording scaling), one
        with ``transform``, or a function ``X -> X``. It may change the channel and
        time axes, but not the number of epochs. If it has an attribute ``sfreq_out``,
        that becomes the reported ``sfreq``.
    counts : sequence of int or None, default=None
        Epoch counts per recording, if already known (skips the first pass).
    dtype : numpy dtype, default=np.float32
        Output dtype.
    prefer : {"processes", "threads"} or None, default=None
        Worker type of the second pass. ``None``: processes (loky) when ``out`` is a
        path, threads when ``out`` is None (an in-memory array can only be shared with
        threads, so ``"processes"`` is refused then). Threads avoid process start-up
        and suit I/O-bound readers; processes avoid the GIL for Python-heavy readers.
        The first (counting) pass always uses threads.
    verbose : bool or int, default=False
        joblib verbosity.
    overwrite : bool, default=False
        Replace an existing ``out`` (MNE's convention: refused unless asked for).

    Returns
    -------
    data : Bunch
        ``X`` (n_epochs, n_channels, n_times) ndarray or memmap, ``y`` (object array),
        ``groups``, ``recordings``, ``ch_names``, ``sfreq``, ``epoch_seconds``,
        ``offsets`` (start index of each recording in ``X``, plus the total),
        ``recording_info`` (one dict of scalar metadata per recording, e.g. the number
        of excluded epochs) and ``filename`` (the ``.npy`` path or ``None``).

    Raises
    ------
    FileExistsError
        If ``out`` exists and ``overwrite`` is False (checked before any reading).
    ValueError
        If ``out`` is one of the recordings' files, no recording is given, all
        recordings are empty, a reader's epoch count
        disagrees with the first pass, recordings differ in epoch shape, channel
        names or sampling rate, or the reader (or the transform) returns complex,
        non-numeric or NaN/infinite epochs (the message gives the recording, the
        number of bad values and the epochs holding them).
    """
    recordings = list(recordings)
    if not recordings:
        raise ValueError("recordings is empty: nothing to preprocess.")
    if not callable(reader):
        raise ValueError(f"reader must be callable, got {type(reader).__name__}.")
    if prefer not in (None, "processes", "threads"):
        raise ValueError(f"prefer must be None, 'processes' or 'threads', got {prefer!r}.")
    if prefer == "processes" and out is None:
        raise ValueError("prefer='processes' needs out=<path.npy>: worker processes cannot "
                         "write into an in-memory array.")
    if out is not None:
        out = _check_out(out, recordings, overwrite)
    parallel = Parallel(n_jobs=n_jobs, verbose=int(verbose))

    # ---- pass 1: epoch counts -------------------------------------------------------
    if counts is None:
        # header/hypnogram reads are I/O bound: threads avoid starting processes for them
        count_parallel = Parallel(n_jobs=n_jobs, verbose=int(verbose), prefer="threads")
        counts = count_parallel(delayed(_count)(reader, transform, rec, i)
                                for i, rec in enumerate(recordings))
    counts = [int(c) for c in counts]
    if len(counts) != len(recordings):
        raise ValueError(f"counts has {len(counts)} entries for {len(recordings)} recordings.")
    empty = [_recording_name(r, i) for i, (r, c) in enumerate(zip(recordings, counts)) if c == 0]
    if len(empty) == len(recordings):
        raise ValueError(f"All {len(recordings)} recordings have 0 epochs; nothing to return.")
    if empty:
        warnings.warn(f"Skipping {len(empty)} recording(s) with 0 epochs: {empty}.",
                      UserWarning, stacklevel=2)
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(int)
    total = int(offsets[-1])
    todo = [i for i, c in enumerate(counts) if c > 0]

    # ---- pass 2: the first recording in this process gives the epoch shape -------------
    first = todo[0]
    X0, meta0 = _read_one(reader, transform, recordings[first], first, counts[first])
    shape = (total,) + X0.shape[1:]
    if out is not None:
        # written beside ``out`` under a temporary name, renamed only when complete
        filename = _temporary_beside(out, suffix=".npy")
        X = np.lib.format.open_memmap(filename, mode="w+", dtype=dtype, shape=shape)
    else:
        filename = None
        X = np.empty(shape, dtype=dtype)
    try:
        X[offsets[first]:offsets[first + 1]] = X0
        del X0
        metas = {first: meta0}

        rest = todo[1:]
        if rest:
            if filename is not None and prefer != "threads":
                X.flush()
                results = parallel(
                    delayed(_work_memmap)(reader, transform, recordings[i], i, counts[i],
                                          str(filename), int(offsets[i]))
                    for i in rest)
            else:
                results = Parallel(n_jobs=n_jobs, verbose=int(verbose), require="sharedmem")(
                    delayed(_work_shared)(reader, transform, recordings[i], i, counts[i], X,
                                          int(offsets[i]))
                    for i in rest)
            metas.update(zip(rest, results))

        # ---- consistency of channels / rates --------------------------------------------
        ref = metas[first]
        for i in rest:
            m = metas[i]
            if (m.ch_names is not None and ref.ch_names is not None
                    and m.ch_names != ref.ch_names):
                raise ValueError(f"{m.name}: channels {m.ch_names} differ from {ref.name}'s "
                                 f"{ref.ch_names}.")
            if (m.sfreq is not None and ref.sfreq is not None
                    and float(m.sfreq) != float(ref.sfreq)):
                raise ValueError(f"{m.name}: sampling rate {m.sfreq} Hz differs from "
                                 f"{ref.name}'s {ref.sfreq} Hz; resample to a common rate "
                                 "first.")
        if filename is not None:
            X.flush()
            del X
            os.replace(filename, out)  # complete: only now does ``out`` change
            filename = Path(out)
            X = np.load(filename, mmap_mode="r+")
    except BaseException:
        if filename is not None and filename != Path(out):
            X = None  # close the memmap before removing its file
            with contextlib.suppress(OSError):
                os.unlink(filename)
        raise

    y = np.empty(total, dtype=object)
    groups = None
    recs = np.empty(total, dtype=object)
    info = []
    for i in range(len(recordings)):
        if i not in metas:
            info.append({"name": _recording_name(recordings[i], i), "n_epochs": 0})
            continue
        m = metas[i]
        sl = slice(offsets[i], offsets[i + 1])
        y[sl] = m.y
        if groups is None:
            gdtype = m.groups.dtype if m.groups.dtype.kind in "iu" else object
            groups = np.empty(total, dtype=gdtype)
        try:
            groups[sl] = m.groups
        except (ValueError, TypeError):
            groups = groups.astype(object)
            groups[sl] = m.groups
        recs[sl] = m.recordings
        info.append(dict(name=m.name, n_epochs=counts[i], **m.info))
    return Bunch(
        X=X, y=y, groups=groups, recordings=recs, ch_names=ref.ch_names, sfreq=ref.sfreq,
        epoch_seconds=ref.epoch_seconds, offsets=offsets, recording_info=info,
        filename=filename,
    )
