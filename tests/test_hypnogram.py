"""Tests of sleep statistics, transition matrices and hypnogram CSV files."""

import math
from collections import Counter

import numpy as np
import pytest

from sklearn_sleep.hypnogram import (
    read_hypnogram_csv,
    sleep_statistics,
    statistics_table,
    to_records,
    transition_matrix,
    write_hypnogram_csv,
)
from sklearn_sleep.utils import AASM_STAGES, MOUSE_STAGES

# index:  0    1    2    3    4     5     6     7    8     9     10    11     12     13   14   15    16     17   18
HYP = ["W", "W", "W", "W", "N1", "N2", "N2", "W", "N2", "N3", "N3", "REM", "REM", "W", "W", "N2", "REM", "W", "W"]


def test_statistics_hand_built_hypnogram():
    s = sleep_statistics(HYP, epoch_seconds=30)
    assert s["n_epochs"] == 19
    assert s["TIB"] == pytest.approx(9.5)
    assert s["SOL"] == pytest.approx(2.0)  # 4 wake epochs before the first N1
    assert s["SPT"] == pytest.approx(6.5)  # epochs 4..16
    assert s["TST"] == pytest.approx(5.0)  # 10 sleep epochs
    assert s["WASO"] == pytest.approx(1.5)  # epochs 7, 13, 14 (not the final 17, 18)
    assert s["SE"] == pytest.approx(100 * 10 / 19)
    assert s["SME"] == pytest.approx(100 * 10 / 13)
    # latencies from sleep onset (AASM) and from record start
    assert s["Lat_N1"] == pytest.approx(0.0)
    assert s["Lat_N2"] == pytest.approx(0.5)
    assert s["Lat_N3"] == pytest.approx(2.5)
    assert s["Lat_REM"] == pytest.approx(3.5)
    assert s["Lat_REM_from_start"] == pytest.approx(5.5)
    assert s["Lat_REM_from_start"] - s["Lat_REM"] == pytest.approx(s["SOL"])
    assert s["Lat_N3_from_start"] == pytest.approx(4.5)
    # minutes and % of TST
    assert [s[f"{st}_min"] for st in AASM_STAGES] == pytest.approx([4.5, 0.5, 2.0, 1.0, 1.5])
    assert [s[f"{st}_pct"] for st in AASM_STAGES[1:]] == pytest.approx([10, 40, 20, 30])
    assert "W_pct" not in s
    assert s["n_awakenings"] == 2  # [7] and [13, 14]; final awakening not counted
    assert s["n_transitions"] == 10


def test_awakening_minimum_bout_length():
    assert sleep_statistics(HYP, min_awakening_seconds=60)["n_awakenings"] == 1
    assert sleep_statistics(HYP, min_awakening_seconds=61)["n_awakenings"] == 0
    with pytest.raises(ValueError, match="min_awakening_seconds"):
        sleep_statistics(HYP, min_awakening_seconds=-1)


def test_transition_matrix_against_counter():
    expected = Counter(zip(HYP[:-1], HYP[1:]))
    counts = transition_matrix(HYP)
    for i, a in enumerate(AASM_STAGES):
        for j, b in enumerate(AASM_STAGES):
            assert counts[i, j] == expected.get((a, b), 0)
    assert counts.sum() == len(HYP) - 1
    probs = transition_matrix(HYP, normalize=True)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0)
    assert probs[0, 0] == pytest.approx(5 / 8)
    assert sleep_statistics(HYP)["transition_matrix"] == counts.tolist()
    # off-diagonal total = number of transitions
    assert counts.sum() - np.trace(counts) == sleep_statistics(HYP)["n_transitions"]


def test_integer_codes_and_aliases_give_same_statistics():
    codes = [AASM_STAGES.index(s) for s in HYP]
    aliases = [{"W": "Wake", "N2": "S2", "REM": "R"}.get(s, s) for s in HYP]
    ref = sleep_statistics(HYP)
    for other in (sleep_statistics(codes), sleep_statistics(np.array(aliases))):
        assert other.keys() == ref.keys()
        for key in ref:
            assert other[key] == ref[key] or (
                isinstance(ref[key], float) and math.isnan(ref[key]) and math.isnan(other[key])
            )


def test_mouse_hypnogram_short_epochs():
    hyp = ["W", "W", "NREM", "NREM", "REM", "W", "NREM", "W"]
    s = sleep_statistics(hyp, epoch_seconds=4, stages=MOUSE_STAGES)
    assert s["TIB"] == pytest.approx(32 / 60)
    assert s["SOL"] == pytest.approx(8 / 60)
    assert s["SPT"] == pytest.approx(20 / 60)
    assert s["TST"] == pytest.approx(16 / 60)
    assert s["WASO"] == pytest.approx(4 / 60)
    assert s["Lat_REM"] == pytest.approx(8 / 60)
    assert s["Lat_REM_from_start"] == pytest.approx(16 / 60)
    assert s["NREM_pct"] == pytest.approx(75.0)
    assert s["REM_pct"] == pytest.approx(25.0)
    assert s["n_awakenings"] == 1
    assert s["stages"] == ["W", "NREM", "REM"]
    assert np.asarray(s["transition_matrix"]).shape == (3, 3)
    assert sleep_statistics(hyp, epoch_seconds=4, stages="mouse") == s


def test_no_sleep_and_missing_stages_are_nan():
    s = sleep_statistics(["W"] * 5)
    assert s["TST"] == 0.0 and s["SE"] == 0.0 and s["n_awakenings"] == 0
    assert math.isnan(s["SOL"]) and math.isnan(s["Lat_REM"]) and math.isnan(s["N2_pct"])
    s = sleep_statistics(["N2", "N2", "W"])
    assert s["SOL"] == 0.0 and math.isnan(s["Lat_REM"]) and s["N2_pct"] == 100.0


@pytest.mark.parametrize(
    "bad, match",
    [
        (["W", "N2", "X"], r"Unknown stage label\(s\) \['X'\]"),
        ([0, 1, 7], r"Unknown stage code\(s\) \[7\]"),
        ([], "empty"),
        ([["W"]], "1-D"),
        ([0.5, 1.0], "non-integer"),
    ],
)
def test_bad_hypnograms(bad, match):
    with pytest.raises(ValueError, match=match):
        sleep_statistics(bad)


def test_mouse_labels_rejected_with_aasm_vocabulary():
    with pytest.raises(ValueError, match="NREM"):
        sleep_statistics(["W", "NREM"])


@pytest.mark.parametrize("epoch_seconds", [0, -30, "30", float("nan")])
def test_bad_epoch_seconds(epoch_seconds):
    with pytest.raises(ValueError, match="epoch_seconds"):
        sleep_statistics(HYP, epoch_seconds=epoch_seconds)


def test_statistics_table_and_records():
    rows = statistics_table({"a": HYP, "b": ["W", "N2", "N2", "W"]})
    assert [r["recording"] for r in rows] == ["a", "b"]
    assert rows[0]["TST"] == pytest.approx(5.0) and rows[1]["TST"] == pytest.approx(1.0)
    assert all(isinstance(v, (int, float, str)) for r in rows for v in r.values())
    assert statistics_table([HYP])[0]["recording"] == "0"
    assert statistics_table(HYP, names=["night1"])[0]["TIB"] == pytest.approx(9.5)

    long = statistics_table({"a": HYP}, long=True)
    by_name = {r["statistic"]: r for r in long}
    assert by_name["TST"] == {"recording": "a", "statistic": "TST", "value": 5.0, "unit": "min"}
    assert by_name["SE"]["unit"] == "%"
    assert by_name["n_awakenings"]["unit"] == "count"
    assert by_name["transition_W_W"]["value"] == 5
    assert by_name["transition_N2_REM"]["value"] == 1
    records = to_records(sleep_statistics(HYP))
    assert "recording" not in records[0]
    assert len(records) == len(long)

    with pytest.raises(ValueError, match="names has 1"):
        statistics_table([HYP, HYP], names=["x"])
    with pytest.raises(ValueError, match="Hypnogram 'bad'"):
        statistics_table({"bad": ["W", "??"]})


def test_records_load_in_pandas():
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame(statistics_table({"a": HYP, "b": HYP}, long=True))
    assert set(df.columns) == {"recording", "statistic", "value", "unit"}
    wide = df.pivot(index="recording", columns="statistic", values="value")
    assert wide.loc["a", "TST"] == pytest.approx(5.0)


def test_csv_round_trip_with_probabilities(tmp_path):
    proba = np.random.default_rng(0).dirichlet(np.ones(5), size=len(HYP))
    path = tmp_path / "night.csv"
    write_hypnogram_csv(path, HYP, epoch_seconds=30, proba=proba, classes=AASM_STAGES)
    header = path.read_text().splitlines()[0]
    assert header == "epoch,onset_s,stage,p_W,p_N1,p_N2,p_N3,p_REM"
    back = read_hypnogram_csv(path)
    assert back.stage.tolist() == HYP
    np.testing.assert_array_equal(back.epoch, np.arange(len(HYP)))
    np.testing.assert_allclose(back.onset_s, np.arange(len(HYP)) * 30.0)
    assert back.epoch_seconds == 30.0
    assert back.classes == list(AASM_STAGES)
    np.testing.assert_allclose(back.proba, proba, atol=1e-6)
    assert [p.name for p in tmp_path.iterdir()] == ["night.csv"]  # no temp file left

    write_hypnogram_csv(tmp_path / "plain.csv", HYP, epoch_seconds=4, start_s=10)
    plain = read_hypnogram_csv(tmp_path / "plain.csv")
    assert plain.proba is None and plain.classes is None and plain.epoch_seconds == 4.0
    assert plain.onset_s[0] == 10.0


def test_csv_errors(tmp_path):
    with pytest.raises(ValueError, match="classes is required"):
        write_hypnogram_csv(tmp_path / "x.csv", HYP, proba=np.ones((len(HYP), 5)) / 5)
    with pytest.raises(ValueError, match="proba must have shape"):
        write_hypnogram_csv(tmp_path / "x.csv", HYP, proba=np.ones((3, 5)) / 5, classes=AASM_STAGES)
    assert not (tmp_path / "x.csv").exists()
    bad = tmp_path / "bad.csv"
    bad.write_text("epoch,label\n0,W\n")
    with pytest.raises(ValueError, match=r"bad\.csv.*no 'stage' column"):
        read_hypnogram_csv(bad)
    bad.write_text("epoch,onset_s,stage\n0,zero,W\n")
    with pytest.raises(ValueError, match="non-numeric value in column 'onset_s'"):
        read_hypnogram_csv(bad)
    bad.write_text("epoch,onset_s,stage\n")
    with pytest.raises(ValueError, match="no epochs"):
        read_hypnogram_csv(bad)
    with pytest.raises(FileNotFoundError, match="missing.csv"):
        read_hypnogram_csv(tmp_path / "missing.csv")
