"""Robustness of everything that WRITES, of model files and of the command line.

Generated inputs, parametrized over every writer/command x every collision kind; each
case asserts one of: a clear error (CLI: exit 2, one ``sklearn-sleep: error:`` line, no
traceback), or a defined, counted result. After every failed run the inputs are
byte-identical, earlier outputs are unchanged and no temporary file is left behind.
See docs/robustness.md, "Outputs, model files and the command line".
"""

import contextlib
import datetime
import errno
import io
import json
import os
import pickle
import warnings
import zipfile
from pathlib import Path

import joblib
import numpy as np
import pytest

from sklearn_sleep import _atomic
from sklearn_sleep._atomic import AtomicGroup, check_outputs
from sklearn_sleep.cli import main
from sklearn_sleep.datasets import make_synthetic_psg, preprocess_recordings
from sklearn_sleep.hypnogram import read_hypnogram_csv, write_hypnogram_csv
from sklearn_sleep.persistence import ModelFileError, SleepStager, load_model

edfio = pytest.importorskip("edfio")

RK = {"W": "Sleep stage W", "N1": "Sleep stage 1", "N2": "Sleep stage 2",
      "N3": "Sleep stage 3", "REM": "Sleep stage R"}
START = datetime.time(23, 0, 0)


# ----------------------------------------------------------------------------- helpers
def _write_edf(path, signals, sfreq, ch_names):
    sigs = [edfio.EdfSignal(np.asarray(s, dtype=float), sfreq, label=n, physical_dimension="uV")
            for s, n in zip(signals, ch_names)]
    edfio.Edf(sigs, starttime=START).write(path)


def _write_hypnogram(path, annotations):
    """annotations: (onset_s, duration_s, stage or raw description)."""
    ann = [edfio.EdfAnnotation(float(o), float(d), RK.get(s, s)) for o, d, s in annotations]
    edfio.Edf([], starttime=START, annotations=ann).write(path)


def _runs(stages):
    out, i = [], 0
    while i < len(stages):
        j = i
        while j < len(stages) and stages[j] == stages[i]:
            j += 1
        out.append((30.0 * i, 30.0 * (j - i), stages[i]))
        i = j
    return out


def cli(argv):
    """Run the CLI in-process: (status, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main([str(a) for a in argv])
    return status, out.getvalue(), err.getvalue()


def assert_clean_error(status, err, *patterns):
    assert status == 2, err
    assert "Traceback" not in err
    errors = [line for line in err.strip().splitlines() if "error:" in line]
    assert len(errors) == 1, err
    assert errors[0].startswith("sklearn-sleep: error: "), err
    for pattern in patterns:
        assert pattern in errors[0], (pattern, errors[0])
    return errors[0]


def snapshot(*folders):
    """{path: bytes} of every file under the folders (inputs and earlier outputs)."""
    files = {}
    for folder in folders:
        for p in sorted(Path(folder).rglob("*")):
            if p.is_file() and not p.is_symlink():
                files[str(p)] = p.read_bytes()
    return files


# ---------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """Two Sleep-EDF nights, a trained safe model, a prediction and a reference CSV."""
    root = tmp_path_factory.mktemp("world")
    data = root / "train"
    data.mkdir()
    d = make_synthetic_psg(2, 40, random_state=7, return_continuous=True)
    for k, (sig, labels) in enumerate(zip(d.signals, d.labels)):
        _write_edf(data / f"SC40{k}1E0-PSG.edf", sig, d.sfreq, d.ch_names)
        _write_hypnogram(data / f"SC40{k}1EC-Hypnogram.edf", _runs(list(labels)))
    model = root / "model.zip"
    status, _, err = cli(["train", data, "--out", model, "--model", "bandpower-logreg",
                          "--quiet"])
    assert status == 0, err
    psg = data / "SC4001E0-PSG.edf"
    hyp = data / "SC4001EC-Hypnogram.edf"
    pred = root / "pred.csv"
    status, _, err = cli(["stage", psg, "--model", model, "--out", pred, "--quiet"])
    assert status == 0, err
    ref = root / "ref.csv"
    write_hypnogram_csv(ref, list(d.labels[0]), epoch_seconds=30)
    return {"root": root, "data": data, "model": model, "psg": psg, "hyp": hyp,
            "pred": pred, "ref": ref, "labels": list(d.labels[0])}


def _stage_argv(w, out, **extra):
    argv = ["stage", w["psg"], "--model", w["model"], "--out", out, "--quiet"]
    for key, value in extra.items():
        argv += [f"--{key}", value]
    return argv


# ============================================================================
# 1. Outputs never clobber inputs, each other, or existing files
# ============================================================================
# Each writer: (name, inputs(world) -> {label: path}, run(world, output_path, tmp) -> argv
# or callable). ``slot`` is where the output under test goes.
def _cli_stage_out(w, path, tmp):
    return _stage_argv(w, path)


def _cli_stage_proba(w, path, tmp):
    return _stage_argv(w, tmp / "h.csv", proba=path)


def _cli_stage_plot(w, path, tmp):
    return _stage_argv(w, tmp / "h.csv", plot=path)


def _cli_evaluate_json(w, path, tmp):
    return ["evaluate", w["pred"], w["hyp"], "--json", path]


def _cli_train_out(w, path, tmp):
    return ["train", w["data"], "--out", path, "--model", "bandpower-logreg", "--quiet"]


CLI_WRITERS = {
    "stage--out": (_cli_stage_out, ["psg", "model"]),
    "stage--proba": (_cli_stage_proba, ["psg", "model"]),
    "stage--plot": (_cli_stage_plot, ["psg", "model"]),
    "evaluate--json": (_cli_evaluate_json, ["pred", "hyp"]),
    "train--out": (_cli_train_out, ["psg", "hyp"]),
}
COLLISIONS = ["same-path", "symlink", "hardlink"]


def _collide(kind, target, tmp):
    if kind == "same-path":
        return target
    link = tmp / f"link-{kind}-{target.name}"
    if kind == "symlink":
        link.symlink_to(target)
    else:
        os.link(target, link)
    return link


@pytest.mark.parametrize("kind", COLLISIONS)
@pytest.mark.parametrize("writer", list(CLI_WRITERS))
def test_cli_output_is_an_input(world, tmp_path, writer, kind):
    build, inputs = CLI_WRITERS[writer]
    before = snapshot(world["data"], world["root"])
    for name in inputs:
        target = _collide(kind, world[name], tmp_path)
        status, _, err = cli(build(world, target, tmp_path))
        assert_clean_error(status, err, "same file as input")
    assert snapshot(world["data"], world["root"]) == before  # nothing replaced
    assert [p.name for p in tmp_path.iterdir() if not p.name.startswith("link-")] == []


STAGE_PAIRS = [("out", "proba"), ("out", "plot"), ("proba", "plot")]


@pytest.mark.parametrize("kind", COLLISIONS[:2])
@pytest.mark.parametrize("first, second", STAGE_PAIRS)
def test_cli_stage_outputs_are_the_same_file(world, tmp_path, first, second, kind):
    a = tmp_path / "a.csv"
    a.write_text("keep me\n")
    b = _collide(kind, a, tmp_path)
    paths = {"out": tmp_path / "h.csv", "proba": None, "plot": None, first: a, second: b}
    argv = _stage_argv(world, paths["out"])
    for name in ("proba", "plot"):
        if paths[name] is not None:
            argv += [f"--{name}", paths[name]]
    status, _, err = cli(argv + ["--overwrite"])
    assert_clean_error(status, err, "are the same file")
    assert a.read_text() == "keep me\n"


@pytest.mark.parametrize("writer", list(CLI_WRITERS) + ["demo--json"])
def test_cli_existing_output_needs_overwrite(world, tmp_path, writer):
    target = tmp_path / ("out.png" if "plot" in writer else "out.json" if "json" in writer
                         else "out.zip" if "train" in writer else "out.csv")
    target.write_bytes(b"previous result")
    if writer == "demo--json":
        argv = ["demo", "--quick", "--quiet", "--json", target]
    else:
        argv = CLI_WRITERS[writer][0](world, target, tmp_path)
    status, _, err = cli(argv)
    assert_clean_error(status, err, "already exists", "--overwrite")
    assert target.read_bytes() == b"previous result"
    if writer in ("stage--out", "evaluate--json"):  # the cheap ones: --overwrite replaces
        status, _, err = cli(argv + ["--overwrite"])
        assert status == 0, err
        assert target.read_bytes() != b"previous result"


# failures while writing: each kind is injected into the atomic-write layer
def _fail_fsync(monkeypatch):
    def fsync(fd):
        raise OSError(errno.ENOSPC, "No space left on device")
    monkeypatch.setattr(_atomic.os, "fsync", fsync)


def _fail_readonly(monkeypatch):
    def mkstemp(*args, **kwargs):
        raise OSError(errno.EROFS, "Read-only file system", kwargs.get("dir"))
    monkeypatch.setattr(_atomic.tempfile, "mkstemp", mkstemp)


def _fail_mid_write(monkeypatch, names=("p.csv", "e.json", "m.zip", "b.csv", "out.zip",
                                         "out.csv")):
    """The final rename onto one of ``names`` fails (for stage: after --out was renamed)."""
    real = _atomic.os.replace

    def replace(src, dst):
        if Path(dst).name in names and ".tmp" not in Path(dst).name:
            raise OSError(errno.EIO, "Input/output error")
        return real(src, dst)
    monkeypatch.setattr(_atomic.os, "replace", replace)


FAILURES = {"disk-full": (_fail_fsync, "disk full"),
            "read-only": (_fail_readonly, "read-only file system"),
            "fails-mid-write": (_fail_mid_write, "cannot write")}


@pytest.mark.parametrize("failure", list(FAILURES))
@pytest.mark.parametrize("writer", ["stage-all", "evaluate--json", "train--out"])
def test_cli_write_failure_changes_nothing(world, tmp_path, monkeypatch, writer, failure):
    inject, message = FAILURES[failure]
    outputs = {"out": tmp_path / "h.csv", "proba": tmp_path / "p.csv",
               "plot": tmp_path / "n.png", "json": tmp_path / "e.json",
               "model": tmp_path / "m.zip"}
    for path in outputs.values():
        path.write_bytes(b"previous " + path.name.encode())
    if writer == "stage-all":
        argv = _stage_argv(world, outputs["out"], proba=outputs["proba"], plot=outputs["plot"])
    elif writer == "evaluate--json":
        argv = _cli_evaluate_json(world, outputs["json"], tmp_path)
    else:
        argv = _cli_train_out(world, outputs["model"], tmp_path)
    before = snapshot(world["data"], world["root"], tmp_path)
    inject(monkeypatch)
    status, _, err = cli(argv + ["--overwrite"])
    line = assert_clean_error(status, err)
    if writer != "evaluate--json" or failure != "fails-mid-write":  # one file: 1 rename
        assert message in line
    assert snapshot(world["data"], world["root"], tmp_path) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p in
                                                                 outputs.values())


# --------------------------------------------------------------- library writers
def _lib_save(w, path, overwrite):
    stager = load_model(w["model"])
    return stager.save(path, overwrite=overwrite)


def _lib_csv(w, path, overwrite):
    return write_hypnogram_csv(path, ["W", "N2"], overwrite=overwrite)


class _Reader:
    def __init__(self, fail_at=None):
        self.fail_at = fail_at

    def __call__(self, rec):
        if self.fail_at is not None and rec == self.fail_at:
            raise RuntimeError(f"reader failed on {rec}")
        n = 3
        return {"X": np.full((n, 2, 10), float(rec) + 1, np.float32), "y": ["W"] * n}


def _lib_npy(w, path, overwrite):
    return preprocess_recordings([0, 1, 2], _Reader(), out=path, overwrite=overwrite)


LIB_WRITERS = {"SleepStager.save": (_lib_save, ".zip"),
               "write_hypnogram_csv": (_lib_csv, ".csv"),
               "preprocess_recordings": (_lib_npy, ".npy")}


@pytest.mark.parametrize("writer", list(LIB_WRITERS))
def test_library_writer_refuses_existing_file(world, tmp_path, writer):
    run, suffix = LIB_WRITERS[writer]
    target = tmp_path / f"out{suffix}"
    target.write_bytes(b"previous")
    with pytest.raises(FileExistsError, match="overwrite=True"):
        run(world, target, False)
    assert target.read_bytes() == b"previous"
    run(world, target, True)
    assert target.read_bytes() != b"previous"
    assert sorted(p.name for p in tmp_path.iterdir()) == [target.name]


@pytest.mark.parametrize("writer", list(LIB_WRITERS))
def test_library_writer_refuses_folder_and_missing_folder(world, tmp_path, writer):
    run, suffix = LIB_WRITERS[writer]
    folder = tmp_path / f"dir{suffix}"
    folder.mkdir()
    with pytest.raises(IsADirectoryError):
        run(world, folder, True)
    if writer != "preprocess_recordings":  # creates its folder (documented)
        with pytest.raises(FileNotFoundError, match="does not exist"):
            run(world, tmp_path / "nope" / f"x{suffix}", True)


@pytest.mark.parametrize("failure", list(FAILURES))
@pytest.mark.parametrize("writer", list(LIB_WRITERS))
def test_library_writer_failure_keeps_previous_file(world, tmp_path, monkeypatch, writer,
                                                    failure):
    run, suffix = LIB_WRITERS[writer]
    target = tmp_path / f"out{suffix}"
    run(world, target, False)
    previous = target.read_bytes()
    FAILURES[failure][0](monkeypatch)
    if writer == "preprocess_recordings":  # its own rename: fail it the same way
        monkeypatch.setattr("sklearn_sleep.datasets._parallel.os.replace", _raise_enospc)
    with pytest.raises(OSError):
        run(world, target, True)
    assert target.read_bytes() == previous
    assert sorted(p.name for p in tmp_path.iterdir()) == [target.name]


def _raise_enospc(*args):
    raise OSError(errno.ENOSPC, "No space left on device")


@pytest.mark.parametrize("previous", [False, True])
def test_memmap_cache_reader_failure_leaves_no_zero_file(tmp_path, previous):
    target = tmp_path / "X.npy"
    if previous:
        preprocess_recordings([0, 1], _Reader(), out=target)
    before = target.read_bytes() if previous else None
    with pytest.raises(RuntimeError, match="reader failed on 2"):
        preprocess_recordings([0, 1, 2], _Reader(fail_at=2), out=target, overwrite=True)
    if previous:
        assert target.read_bytes() == before  # the previous cache is intact
        np.testing.assert_array_equal(np.load(target)[:, 0, 0], [1, 1, 1, 2, 2, 2])
    else:
        assert not target.exists()  # no complete-looking all-zero .npy
    assert sorted(p.name for p in tmp_path.iterdir()) == (["X.npy"] if previous else [])


@pytest.mark.parametrize("kind", COLLISIONS)
def test_memmap_cache_is_a_recording(tmp_path, kind):
    rec = tmp_path / "night.npy"
    np.save(rec, np.zeros(3))
    before = rec.read_bytes()
    out = _collide(kind, rec, tmp_path)

    def reader(path):
        return {"X": np.ones((2, 1, 4), np.float32), "y": ["W", "W"]}
    with pytest.raises(ValueError, match="same file as input"):
        preprocess_recordings([rec], reader, out=out, overwrite=True)
    assert rec.read_bytes() == before


def test_memmap_cache_complete_result(tmp_path):
    data = preprocess_recordings([0, 1, 2], _Reader(), out=tmp_path / "X.npy")
    assert data.filename == tmp_path / "X.npy"
    np.testing.assert_array_equal(np.load(tmp_path / "X.npy")[:, 1, 3],
                                  np.repeat([1.0, 2.0, 3.0], 3))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["X.npy"]


def test_atomic_group_restores_first_target_when_second_rename_fails(tmp_path, monkeypatch):
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    a.write_text("old a")
    _fail_mid_write(monkeypatch)
    with pytest.raises(OSError, match="Input/output"), AtomicGroup() as group:
        with group.open(a) as f:
            f.write("new a")
        with group.open(b) as f:
            f.write("new b")
    assert a.read_text() == "old a" and not b.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.csv"]


def test_check_outputs_accepts_distinct_new_files(tmp_path):
    inp = tmp_path / "in.edf"
    inp.write_bytes(b"x")
    paths = check_outputs([("--out", tmp_path / "a.csv"), ("--plot", None),
                           ("--proba", tmp_path / "b.csv")], [("REC", inp)])
    assert paths == [tmp_path / "a.csv", tmp_path / "b.csv"]


# ============================================================================
# 2. Model files that cannot run code
# ============================================================================
class _Payload:
    """Unpickling this object runs code: it creates the file ``marker``."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (Path.touch, (Path(self.marker),))


def _malicious_files(folder, marker):
    files = {}
    files["pickle"] = folder / "evil.pkl"
    files["pickle"].write_bytes(pickle.dumps(_Payload(marker)))
    files["joblib"] = folder / "evil.joblib"
    joblib.dump(_Payload(marker), files["joblib"])
    files["joblib-stager-payload"] = folder / "evil-payload.joblib"
    joblib.dump({"format": "sklearn_sleep.SleepStager", "format_version": 1,
                 "metadata": {}, "model": _Payload(marker)}, files["joblib-stager-payload"])
    return files


@pytest.mark.parametrize("kind", ["pickle", "joblib", "joblib-stager-payload"])
def test_malicious_pickle_is_not_executed(world, tmp_path, kind):
    marker = tmp_path / "pwned"
    path = _malicious_files(tmp_path, marker)[kind]
    with pytest.raises(ModelFileError, match="arbitrary code"):
        load_model(path)
    assert not marker.exists()
    status, _, err = cli(_stage_argv(world, tmp_path / "h.csv") [:3] + [path, "--out",
                                                                       tmp_path / "h.csv"])
    assert_clean_error(status, err, "trusted")
    assert not marker.exists() and not (tmp_path / "h.csv").exists()
    # the payload is real: unpickling it (trusted=True) does run it
    with pytest.raises(ModelFileError), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "does not record the sklearn_sleep version"
        load_model(path, trusted=True)
    assert marker.exists()


def _safe_document(world):
    with zipfile.ZipFile(world["model"]) as archive:
        return {n: archive.read(n) for n in archive.namelist()}


def _rewrite(original, path, *, estimator=None, members=None):
    doc = json.loads(original["sklearn_sleep_model.json"])
    if estimator is not None:
        doc["estimator"] = estimator
    members = {**original, **(members or {})}
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("sklearn_sleep_model.json", json.dumps(doc))
        for name, data in members.items():
            if name != "sklearn_sleep_model.json":
                archive.writestr(name, data)
    return path


def _skops_bytes(obj):
    import skops.io as sio

    return sio.dumps(obj)


def _evil_skops_function():
    from sklearn.preprocessing import FunctionTransformer

    return _skops_bytes(FunctionTransformer(func=os.system, kw_args={"command": "true"}))


ZIP_ATTACKS = {
    "skops-os-system": lambda w: {"members": {"estimator.skops": _evil_skops_function()}},
    "network-class-subprocess": lambda w: {"estimator": {
        "kind": "network", "class": "subprocess.Popen", "params": {}, "fitted": {}}},
    "network-param-eval": lambda w: {"estimator": {
        "kind": "network", "class": "sklearn_sleep.models.ulw_sleepnet.ULWSleepNetClassifier",
        "params": {"module": {"__class__": "builtins.eval"}}, "fitted": {}}},
    "network-param-summarywriter": lambda w: {"estimator": {
        "kind": "network", "class": "sklearn_sleep.models.ulw_sleepnet.ULWSleepNetClassifier",
        "params": {"module": {"__class__": "torch.utils.tensorboard.SummaryWriter"}},
        "fitted": {}}},
    "unknown-kind": lambda w: {"estimator": {"kind": "pickle", "file": "x"}},
}


@pytest.mark.parametrize("attack", list(ZIP_ATTACKS))
def test_crafted_safe_file_is_refused(world, tmp_path, attack):
    path = _rewrite(_safe_document(world), tmp_path / "evil.zip", **ZIP_ATTACKS[attack](world))
    with pytest.raises(ModelFileError):
        load_model(path)
    status, _, err = cli(["stage", world["psg"], "--model", path, "--out", tmp_path / "h.csv"])
    assert_clean_error(status, err, "evil.zip")
    assert not (tmp_path / "h.csv").exists()


@pytest.mark.parametrize("name", [
    "os.system", "builtins.eval", "subprocess.Popen", "numpy.load",
    "sklearn_sleep.cli.main", "sklearn_sleep.models._base.SleepNetClassifier",
    "sklearn_sleep.models.ulw_sleepnet.ULWSleepNet", "sklearn.no_such.Thing",
])
def test_skops_type_allow_list_refuses(name):
    from sklearn_sleep._safe_model import check_trusted_type

    with pytest.raises(ValueError, match="refusing|not importable|does not exist"):
        check_trusted_type(name)


def test_unfitted_estimator_inside_valid_files(world, tmp_path):
    from sklearn.linear_model import LogisticRegression

    zipped = _rewrite(_safe_document(world), tmp_path / "unfitted.zip",
                      members={"estimator.skops": _skops_bytes(LogisticRegression())})
    with pytest.raises(ModelFileError, match="unfitted"):
        load_model(zipped)
    legacy = tmp_path / "unfitted.joblib"
    stager = SleepStager(LogisticRegression(), ch_names=["EEG"], sfreq=100, epoch_seconds=30)
    joblib.dump({"format": "sklearn_sleep.SleepStager", "format_version": 1,
                 "metadata": {"versions": {}}, "model": stager}, legacy)
    with pytest.warns(UserWarning, match="does not record"):
        with pytest.raises(ModelFileError, match="unfitted"):
            load_model(legacy, trusted=True)
    for path, extra in ((zipped, []), (legacy, ["--trusted-model"])):
        status, _, err = cli(["stage", world["psg"], "--model", path, "--out",
                              tmp_path / "h.csv", *extra])
        assert_clean_error(status, err, "unfitted")


class _RaisesOnLoad:
    def __reduce__(self):
        return (int, ("not a number",))  # ValueError inside unpickling


class _RaisesRuntime:
    def __reduce__(self):
        return (_explode, ())


def _explode():
    raise RuntimeError("boom inside the pickle")


@pytest.mark.parametrize("obj", [_RaisesOnLoad(), _RaisesRuntime()], ids=["value", "runtime"])
def test_trusted_pickle_raising_any_exception(world, tmp_path, obj):
    path = tmp_path / "bad.joblib"
    joblib.dump(obj, path)
    with pytest.raises(ModelFileError, match="bad.joblib"):
        load_model(path, trusted=True)
    status, _, err = cli(["stage", world["psg"], "--model", path, "--out", tmp_path / "h.csv",
                          "--trusted-model"])
    assert_clean_error(status, err, "bad.joblib")


@pytest.mark.parametrize("cut", [0, 10, 100, 0.5, -1])
def test_truncated_safe_model(world, tmp_path, cut):
    data = world["model"].read_bytes()
    n = int(len(data) * cut) if isinstance(cut, float) else (cut if cut >= 0 else len(data) - 1)
    path = tmp_path / "cut.zip"
    path.write_bytes(data[:n])
    with pytest.raises(ModelFileError, match="cut.zip"):
        load_model(path)


def test_network_stager_safe_round_trip_identical(tmp_path):
    from sklearn_sleep.models import MouseCNNClassifier

    d = make_synthetic_psg(2, 12, preset="mouse", random_state=0)
    net = MouseCNNClassifier(max_epochs=1, batch_size=8, random_state=0, device="cpu")
    stager = SleepStager(net, ch_names=list(d.ch_names), sfreq=d.sfreq,
                         epoch_seconds=d.epoch_seconds).fit(d.X, d.y)
    path = stager.save(tmp_path / "net.zip")
    with zipfile.ZipFile(path) as archive:
        assert sorted(archive.namelist()) == ["sklearn_sleep_model.json", "weights.safetensors"]
    loaded = load_model(path)
    np.testing.assert_array_equal(loaded.predict_proba(d.X), stager.predict_proba(d.X))
    np.testing.assert_array_equal(loaded.predict(d.X), stager.predict(d.X))


def test_feature_pipeline_safe_round_trip_identical(world, tmp_path):
    stager = load_model(world["model"])
    again = load_model(stager.save(tmp_path / "again.zip"))
    X = np.random.default_rng(0).normal(size=(5, 4, 3000)).astype(np.float32) * 20
    np.testing.assert_array_equal(again.predict_proba(X), stager.predict_proba(X))


# ============================================================================
# 3. CSV encodings and every option validated
# ============================================================================
@pytest.mark.parametrize("encoding", ["utf-8-sig", "latin-1", "utf-8"])
@pytest.mark.parametrize("role", ["prediction", "reference"])
def test_csv_bom_and_latin1(world, tmp_path, encoding, role):
    rows = ["stage,onset_s,epoch,note"] + [f"{s},{30 * i},{i},r\u00e9f" for i, s in
                                          enumerate(world["labels"])]
    path = tmp_path / f"{role}.csv"
    path.write_bytes("\n".join(rows).encode(encoding) + b"\n")
    assert list(read_hypnogram_csv(path).stage) == world["labels"]
    pred, ref = (path, world["ref"]) if role == "prediction" else (world["ref"], path)
    status, out, err = cli(["evaluate", pred, ref])
    assert status == 0, err
    assert "accuracy  1.000" in out


@pytest.mark.parametrize("content", [b"\x00\x01\x02binary", b"", b"epoch,onset_s\n0,0\n",
                                     b"\xff\xfe s\x00t\x00"], ids=["binary", "empty",
                                                                     "no-stage", "utf16"])
def test_unreadable_csv_one_line(world, tmp_path, content):
    path = tmp_path / "pred.csv"
    path.write_bytes(content)
    status, _, err = cli(["evaluate", path, world["ref"]])
    assert_clean_error(status, err, "pred.csv")


def test_label_file_latin1_one_line(world, tmp_path):
    folder = tmp_path / "mice"
    folder.mkdir()
    d = make_synthetic_psg(1, 10, preset="mouse", random_state=1, return_continuous=True)
    _write_edf(folder / "m.edf", d.signals[0], d.sfreq, d.ch_names)
    (folder / "m.txt").write_bytes("\n".join(["\u00e9veil"] * 10).encode("latin-1"))
    status, _, err = cli(["train", folder, "--format", "edf-labels", "--epoch-seconds",
                          str(d.epoch_seconds), "--out", tmp_path / "m.zip"])
    assert_clean_error(status, err, "m.txt")
    assert not (tmp_path / "m.zip").exists()


BAD_OPTIONS = [
    ("train", "--sfreq", "0"), ("train", "--sfreq", "-100"), ("train", "--sfreq", "nan"),
    ("train", "--sfreq", "inf"), ("train", "--sfreq", "abc"),
    ("train", "--epoch-seconds", "0"), ("train", "--epoch-seconds", "-30"),
    ("train", "--epoch-seconds", "nan"), ("train", "--max-epochs", "0"),
    ("train", "--seed", "-1"), ("train", "--device", "gpu"), ("train", "--channels", ""),
    ("evaluate", "--epoch-seconds", "0"), ("evaluate", "--epoch-seconds", "inf"),
    ("demo", "--folds", "0"), ("demo", "--n-subjects", "-3"), ("demo", "--n-epochs", "0"),
    ("demo", "--seed", "99999999999"), ("demo", "--max-epochs", "x"),
]


@pytest.mark.parametrize("command, option, value", BAD_OPTIONS)
def test_bad_option_one_line(world, tmp_path, command, option, value):
    base = {"train": ["train", world["data"], "--out", tmp_path / "m.zip"],
            "evaluate": ["evaluate", world["pred"], world["ref"]],
            "demo": ["demo", "--quick"]}[command]
    status, out, err = cli(base + [option, value])
    assert_clean_error(status, err, option)
    assert list(tmp_path.iterdir()) == []


def test_duplicate_channels_option(world, tmp_path):
    status, _, err = cli(["train", world["data"], "--out", tmp_path / "m.zip", "--channels",
                          "EEG Fpz-Cz", "EEG Fpz-Cz"])
    assert_clean_error(status, err, "more than once")


@pytest.mark.parametrize("exc", [MemoryError(), OverflowError("cannot convert float "
                                                                "infinity to integer"),
                                 ZeroDivisionError("division by zero"),
                                 OSError(errno.EIO, "Input/output error", "night.edf"),
                                 RuntimeError("anything")],
                         ids=["memory", "overflow", "zerodivision", "oserror", "runtime"])
def test_resource_and_arithmetic_errors_one_line(world, tmp_path, monkeypatch, exc):
    def read(*args, **kwargs):
        raise exc
    monkeypatch.setattr("sklearn_sleep.datasets._edf_io.read_edf_signals", read)
    status, _, err = cli(_stage_argv(world, tmp_path / "h.csv"))
    assert_clean_error(status, err, "SC4001E0-PSG.edf")
    assert not (tmp_path / "h.csv").exists()


# ============================================================================
# 4. Counted, never silent: train's dropped epochs, evaluate's reference epochs
# ============================================================================
@pytest.mark.parametrize("n_unscored", [0, 3])
def test_train_counts_scored_epochs_beyond_the_psg(tmp_path, n_unscored):
    data = tmp_path / "data"
    data.mkdir()
    d = make_synthetic_psg(2, 30, random_state=3, return_continuous=True)
    for k, (sig, labels) in enumerate(zip(d.signals, d.labels)):
        _write_edf(data / f"SC40{k}1E0-PSG.edf", sig, d.sfreq, d.ch_names)
        end = 30.0 * len(labels)
        runs = _runs(list(labels)) + [(end, 120.0, "N2")]  # 4 scored epochs beyond the end
        if n_unscored:
            runs.append((end + 120.0, 30.0 * n_unscored, "Sleep stage ?"))
        _write_hypnogram(data / f"SC40{k}1EC-Hypnogram.edf", runs)
    status, out, err = cli(["train", data, "--out", tmp_path / "m.zip", "--model",
                            "bandpower-logreg", "--quiet"])
    assert status == 0, err
    assert "60 epochs from 2 recording(s)" in out
    assert "8 scored epochs beyond the PSG signal" in out  # scored ones, counted apart
    if n_unscored:
        assert f"{2 * n_unscored} unscored ('?'/movement) epochs beyond the PSG signal" in out
    else:
        assert "unscored ('?'/movement) epochs beyond" not in out


def test_train_finds_upper_case_file_names(world, tmp_path):
    # the same nights as world["data"], named SC4001E0-PSG.EDF / SC4001EC-HYPNOGRAM.EDF
    data = tmp_path / "upper"
    data.mkdir()
    for f in sorted(world["data"].iterdir()):
        stem = f.name[:-len(".edf")]
        (data / (stem.upper() + ".EDF")).write_bytes(f.read_bytes())
    status, out, err = cli(["train", data, "--out", tmp_path / "m.zip", "--model",
                            "bandpower-logreg", "--quiet"])
    assert status == 0, err
    n = len(world["labels"])
    assert f"{2 * n} epochs from 2 recording(s)" in out


def _eval_edf(world, tmp_path, annotations, *extra):
    hyp = tmp_path / "ref-Hypnogram.edf"
    _write_hypnogram(hyp, annotations)
    return cli(["evaluate", world["pred"], hyp, "--json", tmp_path / "e.json", *extra])


def test_evaluate_refuses_45s_annotation_on_30s_epochs(world, tmp_path):
    status, _, err = _eval_edf(world, tmp_path, [(0, 45, "W"), (45, 1155, "N2")])
    assert_clean_error(status, err, "lasts 45 s", "not a multiple of epoch_seconds=30",
                       "not rounded")
    assert not (tmp_path / "e.json").exists()


def test_evaluate_45s_annotation_with_15s_epochs_is_explicit(world, tmp_path):
    pred = tmp_path / "pred15.csv"
    write_hypnogram_csv(pred, ["W"] * 3 + ["N2"] * 77, epoch_seconds=15)
    hyp = tmp_path / "ref-Hypnogram.edf"
    _write_hypnogram(hyp, [(0, 45, "W"), (45, 1155, "N2")])
    status, out, err = cli(["evaluate", pred, hyp])
    assert status == 0, err
    assert "80 epochs of 15 s compared" in out and "accuracy  1.000" in out


def test_evaluate_refuses_conflicting_overlap(world, tmp_path):
    runs = _runs(world["labels"]) + [(0, 60, "REM" if world["labels"][0] != "REM" else "W")]
    status, _, err = _eval_edf(world, tmp_path, runs)
    assert_clean_error(status, err, "ref-Hypnogram.edf", "each epoch must be scored once")
    assert not (tmp_path / "e.json").exists()


@pytest.mark.parametrize("where", ["same-onset", "inside-a-run"])
def test_evaluate_refuses_repeated_reference_epochs(world, tmp_path, where):
    # the readers' rule (read_stage_annotations): each epoch is scored once, even when a
    # repeated annotation has the same stage (two exports concatenated, a copy-paste)
    runs = _runs(world["labels"])
    if where == "same-onset":
        runs += [(0.0, 30.0, world["labels"][0])]
    else:
        start, length, stage = max(runs, key=lambda r: r[1])
        runs += [(start + 30.0, 30.0, stage)]
    status, out, err = _eval_edf(world, tmp_path, runs)
    assert_clean_error(status, err, "ref-Hypnogram.edf", "each epoch must be scored once")
    assert not (tmp_path / "e.json").exists()


def test_evaluate_huge_duration_is_counted_not_expanded(world, tmp_path):
    runs = _runs(world["labels"]) + [(30.0 * len(world["labels"]), 3.0e9, "N2")]
    status, out, err = _eval_edf(world, tmp_path, runs)
    assert status == 0, err
    res = json.loads((tmp_path / "e.json").read_text())
    assert res["left_out"]["reference_epochs_outside_prediction"] == 10**8


def test_evaluate_refuses_off_grid_onset(world, tmp_path):
    status, _, err = _eval_edf(world, tmp_path, [(10, 30, "W")] + _runs(world["labels"])[1:])
    assert_clean_error(status, err, "epoch grid")


def test_evaluate_refuses_duplicated_prediction_onsets(world, tmp_path):
    pred = tmp_path / "dup.csv"
    pred.write_text("epoch,onset_s,stage\n0,0,W\n1,30,W\n1,30,N2\n2,60,N2\n")
    status, _, err = cli(["evaluate", pred, world["ref"], "--epoch-seconds", "30"])
    assert_clean_error(status, err, "dup.csv", "duplicated onset_s 30 s",
                       "each epoch must be scored once")


def test_evaluate_refuses_duplicated_prediction_epochs_without_onsets(world, tmp_path):
    pred = tmp_path / "dup.csv"
    pred.write_text("epoch,stage\n0,W\n1,W\n1,N2\n2,N2\n")
    status, _, err = cli(["evaluate", pred, world["ref"], "--epoch-seconds", "30"])
    assert_clean_error(status, err, "more than once")


@pytest.mark.parametrize("same", [True, False], ids=["same-stage", "other-stage"])
def test_evaluate_csv_reference_duplicated_onsets(world, tmp_path, same):
    labels = world["labels"]
    rows = ["epoch,onset_s,stage"] + [f"{i},{30 * i},{s}" for i, s in enumerate(labels)]
    other = labels[1] if same else ("REM" if labels[1] != "REM" else "W")
    rows.append(f"1,30,{other}")
    ref = tmp_path / "ref.csv"
    ref.write_text("\n".join(rows) + "\n")
    status, out, err = cli(["evaluate", world["pred"], ref, "--json", tmp_path / "e.json"])
    # the same rule as for EDF+ references: each epoch is scored once
    assert_clean_error(status, err, "ref.csv", "duplicated onset_s 30 s",
                       "each epoch must be scored once")
    assert not (tmp_path / "e.json").exists()


def test_evaluate_csv_reference_onsets_closer_than_the_grid_tolerance(world, tmp_path):
    labels = world["labels"]
    rows = ["epoch,onset_s,stage"] + [f"{i},{30 * i},{s}" for i, s in enumerate(labels)]
    rows.append(f"1,30.0000001,{'REM' if labels[1] != 'REM' else 'W'}")  # same epoch
    ref = tmp_path / "ref.csv"
    ref.write_text("\n".join(rows) + "\n")
    status, _, err = cli(["evaluate", world["pred"], ref, "--json", tmp_path / "e.json"])
    assert_clean_error(status, err, "ref.csv", "1 onset(s) fall on an epoch already scored",
                       "each epoch must be scored once")
    assert not (tmp_path / "e.json").exists()


def test_evaluate_reference_longer_than_prediction_counted(world, tmp_path):
    ref = tmp_path / "long.csv"
    write_hypnogram_csv(ref, world["labels"] + ["N2"] * 5, epoch_seconds=30)
    status, out, err = cli(["evaluate", world["pred"], ref, "--json", tmp_path / "e.json"])
    assert status == 0, err
    res = json.loads((tmp_path / "e.json").read_text())
    assert res["left_out"] == {"reference_epochs_outside_prediction": 5}
    assert "reference epochs outside prediction 5" in out


def test_stage_reads_float32_epochs_as_a_view(world):
    # bounded memory: one float32 copy of the night, the epochs a view of it; the
    # probabilities are those of a contiguous float64-read copy
    from sklearn_sleep.cli import _read_recording
    from sklearn_sleep.datasets._edf_io import read_edf_signals

    stager = load_model(world["model"])
    X, sig = _read_recording(world["psg"], stager, quiet=True)
    assert X.dtype == np.float32 and np.shares_memory(X, sig.signals)
    full = read_edf_signals(world["psg"], list(stager.ch_names_), sfreq=stager.sfreq_,
                            resample_mismatched="resample").signals
    n_times = stager.n_times_
    expected = np.stack([full[:, k * n_times:(k + 1) * n_times] for k in range(len(X))])
    np.testing.assert_array_equal(X, expected.astype(np.float32))
    np.testing.assert_array_equal(
        stager.predict_proba(X, ch_names=sig.ch_names, sfreq=sig.sfreq),
        stager.predict_proba(np.ascontiguousarray(expected, dtype=np.float32),
                             ch_names=sig.ch_names, sfreq=sig.sfreq))
