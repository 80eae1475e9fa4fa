"""Run every example's ``--quick`` mode and execute the tutorial notebook.

The examples run in this process (``runpy``), so torch, MNE and scikit-learn are
imported once for the whole file; each one writes into ``tmp_path`` (``--out-dir``) and
returns its results, which are checked here. The notebook is executed with nbclient on
the ``python3`` kernel (skipped, with the reason, when no Jupyter kernel is available).
"""

import runpy
from pathlib import Path

import numpy as np
import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
NOTEBOOK = EXAMPLES / "sleep_staging_tutorial.ipynb"
SCRIPTS = sorted(p.name for p in EXAMPLES.glob("*.py") if not p.name.startswith("_"))


def run_example(name, tmp_path, *extra):
    """Run ``examples/<name>`` in quick mode; return its ``main`` result."""
    namespace = runpy.run_path(str(EXAMPLES / name), run_name="example_under_test")
    return namespace["main"](["--quick", "--out-dir", str(tmp_path), *extra])


def _is_png(path):
    return Path(path).is_file() and Path(path).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def _in_unit_interval(scores, keys=("accuracy", "macro_f1")):
    return all(0.0 <= scores[k] <= 1.0 for k in keys)


def test_every_example_is_tested():
    tested = {"plot_quickstart.py", "network_pipeline.py", "combine_network_and_features.py",
              "mouse_staging.py", "imbalance.py", "real_data_sleepedf_features.py",
              "stage_edf_recording.py"}
    assert set(SCRIPTS) == tested


@pytest.mark.parametrize("name", SCRIPTS)
def test_example_has_quick_and_out_dir_flags(name):
    namespace = runpy.run_path(str(EXAMPLES / name), run_name="example_under_test")
    args = namespace["parse_args"](["--quick", "--out-dir", "somewhere"])
    assert args.quick is True and args.out_dir == Path("somewhere")
    assert namespace["__doc__"] and "Run::" in namespace["__doc__"]


def test_plot_quickstart(tmp_path, capsys):
    res = run_example("plot_quickstart.py", tmp_path)
    assert _is_png(res["png"]) and Path(res["png"]).parent == tmp_path
    # band powers separate the synthetic stages far above chance (0.2 for 5 classes)
    assert res["pooled"]["accuracy"] > 0.6
    assert res["cv"]["kappa"] > 0.4
    out = capsys.readouterr().out
    assert "GroupKFold(4) over subjects" in out and "confusion matrix" in out


def test_network_pipeline(tmp_path, capsys):
    res = run_example("network_pipeline.py", tmp_path, "--device", "cpu")
    assert res["n_candidates"] == 4
    assert set(res["best_params"]) == {"net__module__dropout", "net__lr"}
    assert set(res["cv"]) == {"accuracy", "macro_f1", "kappa", "gmean"}
    assert _in_unit_interval(res["cv"]) and _in_unit_interval(res["held_out"])
    out = capsys.readouterr().out
    assert "network input: (2, 4, 3000)" in out  # picked, reordered, resampled to 100 Hz


def test_combine_network_and_features(tmp_path, capsys):
    res = run_example("combine_network_and_features.py", tmp_path, "--device", "cpu")
    assert _in_unit_interval(res["soft voting"])
    assert _in_unit_interval(res["stacking (held-out subject)"])
    assert 0.0 <= res["stacking_network_weight_share"] <= 1.0
    # the band-power member alone is far above chance even in quick mode
    assert res["soft voting"]["accuracy"] > 0.5
    assert "soft voting" in capsys.readouterr().out


def test_mouse_staging(tmp_path):
    res = run_example("mouse_staging.py", tmp_path, "--device", "cpu")
    assert _is_png(res["png"])
    assert {"f1_W", "f1_NREM", "f1_REM"} <= set(res["pooled"])
    assert len(res["statistics"]) == 3
    for row in res["statistics"]:  # 100 one-second epochs per mouse
        total = row["W_min"] + row["NREM_min"] + row["REM_min"]
        assert total == pytest.approx(100 / 60)


def test_imbalance(tmp_path):
    res = run_example("imbalance.py", tmp_path, "--device", "cpu")
    assert len(res["models"]) == 6
    for scores in res["models"].values():
        assert 0.0 <= scores["f1_N1"] <= 1.0 and 0.0 <= scores["gmean"] <= 1.0
    # RandomOverSampler raises every stage to the majority (N2) count
    majority = max(res["counts"].values())
    assert res["resampled_counts"] == {s: majority for s in res["counts"]}


def test_real_data_example_without_data(tmp_path, capsys):
    res = run_example("real_data_sleepedf_features.py", tmp_path,
                      "--data-dir", str(tmp_path / "missing"))
    assert res is None
    assert "Nothing to do" in capsys.readouterr().out


@pytest.mark.shared_data
def test_real_data_example(tmp_path, shared_data):
    if not (shared_data / "sleepedf_features").is_dir():
        pytest.skip("sleepedf_features not in the shared data folder")
    res = run_example("real_data_sleepedf_features.py", tmp_path,
                      "--data-dir", str(shared_data / "sleepedf_features"))
    assert set(res) == {"StandardScaler -> LogisticRegression", "HistGradientBoosting",
                        "RandomUnderSampler -> HGB"}
    # real nights, two subjects: well above the 5-class chance level
    assert res["HistGradientBoosting"]["kappa"] > 0.4


def test_stage_edf_recording(tmp_path):
    pytest.importorskip("edfio")
    from sklearn_sleep.hypnogram import read_hypnogram_csv
    from sklearn_sleep.persistence import read_model_metadata

    res = run_example("stage_edf_recording.py", tmp_path)
    hyp = read_hypnogram_csv(res["csv"])
    assert len(hyp.stage) == 60 and hyp.epoch_seconds == 30
    assert hyp.classes == ["W", "N1", "N2", "N3", "REM"]
    np.testing.assert_allclose(hyp.proba.sum(axis=1), 1.0, atol=1e-5)
    assert _is_png(res["png"])
    meta = read_model_metadata(res["model"])
    assert meta["sfreq"] == 100 and meta["epoch_seconds"] == 30
    assert res["scores"]["accuracy"] > 0.6
    assert res["statistics"]["TIB"] == pytest.approx(30.0)


def test_notebook_is_generated_from_script(tmp_path):
    """The committed notebook is exactly what ``_make_notebook.py`` writes."""
    nbformat = pytest.importorskip("nbformat")
    namespace = runpy.run_path(str(EXAMPLES / "_make_notebook.py"), run_name="nb_builder")
    fresh = tmp_path / "fresh.ipynb"
    nbformat.write(namespace["build_notebook"](), fresh)
    assert fresh.read_text() == NOTEBOOK.read_text(), (
        "examples/sleep_staging_tutorial.ipynb is stale: run python examples/_make_notebook.py"
    )


def test_notebook_executes():
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    try:
        from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

        KernelSpecManager().get_kernel_spec("python3")
    except (ImportError, NoSuchKernel) as exc:
        pytest.skip(f"no Jupyter 'python3' kernel available ({exc!r}); pip install ipykernel")
    nb = nbformat.read(NOTEBOOK, as_version=4)
    client = nbclient.NotebookClient(nb, timeout=120, kernel_name="python3",
                                     resources={"metadata": {"path": str(EXAMPLES)}})
    client.execute()  # raises CellExecutionError on the first failing cell
    errors = [out for cell in nb.cells if cell.cell_type == "code"
              for out in cell.outputs if out.output_type == "error"]
    assert errors == []
    images = [out for cell in nb.cells if cell.cell_type == "code" for out in cell.outputs
              if "image/png" in out.get("data", {})]
    assert len(images) == 1  # the hypnogram / hypnodensity figure
