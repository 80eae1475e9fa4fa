"""The README's recommended real-data pipelines: each code block stands on its own and runs.

A reader copies one block at a time, so every name a block uses must be imported or
assigned in that block, except the user's data (``X``, ``y``, ``subjects``, ...). The
Sleep-EDF block is also run on the shared feature nights (slow).
"""

import ast
import re
import sys
from pathlib import Path

import numpy as np
import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
#: The user's data, which the README's blocks take as given.
USER_DATA = {"X", "y", "subjects", "nights", "X_new", "nights_new"}


def _section_blocks(heading="## Recommended real-data pipeline"):
    text = README.read_text(encoding="utf-8")
    start = text.index(heading)
    end = text.find("\n## ", start + len(heading))
    section = text[start:end if end >= 0 else None]
    return re.findall(r"```python\n(.*?)```", section, flags=re.S)


def _free_names(code):
    """Names a block reads without importing or assigning them (builtins excluded)."""
    import builtins

    tree = ast.parse(code)
    bound, used = set(dir(builtins)), set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            bound.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, ast.Name):
            (bound if isinstance(node.ctx, ast.Store) else used).add(node.id)
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
    return used - bound


def test_recommended_pipeline_blocks_are_self_contained():
    blocks = _section_blocks()
    assert len(blocks) >= 2, "the README's recommended pipelines moved: update this test"
    for code in blocks:
        missing = _free_names(code) - USER_DATA
        assert not missing, f"README block uses {sorted(missing)} without importing them:\n{code}"


@pytest.mark.slow
def test_sleep_edf_block_runs_on_real_feature_nights(shared_data):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    import sklearn

    from bench_sleepedf_features import load_features

    X, y, subjects, _, nights = load_features(
        shared_data / "sleepedf_features", wake_trim=30, max_per_recording=120,
        return_recordings=True)
    new = np.isin(subjects, [7])
    namespace = {"X": X, "y": y, "subjects": subjects, "nights": nights,
                 "X_new": X[new], "nights_new": nights[new]}
    try:
        exec(_section_blocks()[0], namespace)  # noqa: S102 - the README's own code
    finally:
        sklearn.set_config(enable_metadata_routing=False)
    scores, hypnogram = namespace["scores"], namespace["hypnogram"]
    assert len(scores["test_kappa"]) == 8 and np.all(scores["test_kappa"] > 0.3)
    assert hypnogram.shape == (int(new.sum()),)
    assert set(hypnogram) <= set(np.unique(y))
