"""Generated fault cases for the readers of :mod:`sklearn_sleep.datasets` (issue 9).

Every case is generated (readers x fault kinds x values/positions from a seeded RNG),
not hand-picked: each either raises a ``ValueError`` whose message names the file and
the field/line, or returns a result checked against an independent computation made
here from the raw bytes/text. No other exception type may leak (``OverflowError``,
``ZeroDivisionError``, ``IndexError``, ``MemoryError``...).
"""

import datetime
import re
import shutil
import warnings
from pathlib import Path

import numpy as np
import pytest

from sklearn_sleep.datasets import (
    load_dreams,
    load_sleep_edf,
    read_label_file,
    read_sleep_edf_recording,
    read_sleepsign_hypnogram,
    read_sleepsign_signals,
    read_stage_annotations,
    read_timestamped_text,
)
from sklearn_sleep.datasets._edf_io import (
    _write_sleep_edf_like,
    read_edf_header,
    read_edf_signals,
)
from sklearn_sleep.datasets._validation import annotations_to_epochs, glob_ci
from sklearn_sleep.hypnogram import read_hypnogram_csv

edfio = pytest.importorskip("edfio")

N_RECORDS = 12  # 6 minutes of 30-s records
RNG_SEED = 20261130


# ----------------------------------------------------------------------------- helpers
@pytest.fixture(scope="module")
def psg_pair(tmp_path_factory):
    folder = tmp_path_factory.mktemp("readers")
    psg, hyp, stages = _write_sleep_edf_like(folder, hours=0.1, seed=3)
    return psg, hyp, stages


def _copy(src, dst, fn=None):
    shutil.copy(src, dst)
    if fn is not None:
        raw = bytearray(Path(dst).read_bytes())
        Path(dst).write_bytes(bytes(fn(raw)))
    return Path(dst)


def _layout(raw):
    """Independent parse of the numbers of an EDF header (not the library's code)."""
    ns = int(raw[252:256].decode())
    off = 256
    fields = {}
    for name, width in [("label", 16), ("transducer", 80), ("dimension", 8), ("pmin", 8),
                        ("pmax", 8), ("dmin", 8), ("dmax", 8), ("prefilter", 80),
                        ("nsamp", 8)]:
        fields[name] = (off, width)
        off += ns * width
    return ns, fields


def _set_channel_field(raw, name, channel, text):
    ns, fields = _layout(raw)
    off, width = fields[name]
    raw[off + channel * width: off + (channel + 1) * width] = text.ljust(width).encode()
    return raw


def _channel_numbers(raw, channel):
    ns, fields = _layout(raw)
    out = {}
    for name in ("pmin", "pmax", "dmin", "dmax", "nsamp"):
        off, width = fields[name]
        out[name] = float(raw[off + channel * width: off + (channel + 1) * width].decode())
    return out


def _independent_channel(raw, channel):
    """Physical values of ``channel`` computed from the raw bytes with the EDF formula."""
    hb = int(raw[184:192].decode())
    ns, fields = _layout(raw)
    off, width = fields["nsamp"]
    nsamp = [int(raw[off + i * width: off + (i + 1) * width].decode()) for i in range(ns)]
    data = np.frombuffer(bytes(raw[hb:]), dtype="<i2").reshape(-1, sum(nsamp))
    start = sum(nsamp[:channel])
    d = data[:, start:start + nsamp[channel]].astype(float).ravel()
    c = _channel_numbers(raw, channel)
    return (d - c["dmin"]) * (c["pmax"] - c["pmin"]) / (c["dmax"] - c["dmin"]) + c["pmin"]


# ============================================================ 1. numeric header fields
FIXED_FIELDS = {  # name in messages -> (offset, width)
    "header bytes": (184, 8),
    "number of data records": (236, 8),
    "record duration": (244, 8),
    "number of signals": (252, 4),
}
CHANNEL_FIELDS = {"physical minimum": "pmin", "physical maximum": "pmax",
                  "digital minimum": "dmin", "digital maximum": "dmax",
                  "samples per record": "nsamp"}
FAULT_VALUES = ["inf", "nan", "-inf", "-5", "0", "1e30", "2.5"]
INTEGER_FIELDS = {"header bytes", "number of data records", "number of signals",
                  "samples per record"}


def _expected(field, value):
    """('error', regex) or ('ok', None) from the EDF rules, independently of the code."""
    v = float(value)
    name = re.escape(field)
    if not np.isfinite(v):
        return "error", rf"field '{name}'.*not a finite number"
    if field in INTEGER_FIELDS and v != int(v):
        return "error", rf"field '{name}'.*not a whole number"
    if field == "header bytes":
        return "error", r"'header bytes'"  # below 512, or disagrees with the signals
    if field == "number of signals":
        return "error", r"'number of signals'"
    if field == "number of data records":
        if v < 0:
            return "error", r"'number of data records'.*below"
        if v == 0:
            return "error", r"announces 0 data records but the file holds 12"
        return "error", r"'number of data records'.*above the largest legal value"
    if field == "record duration":
        if v < 0:
            return "error", r"'record duration'.*below"
        if v == 0:
            return "error", r"'record duration' is 0 s"
        if v > 86400:
            return "error", r"'record duration'.*above"
        return "ok", None
    if field == "samples per record":
        if v < 1:
            return "error", r"'samples per record'.*below"
        return "error", r"'samples per record'.*above the largest legal value"
    # physical/digital min/max: legal numbers; only an empty range is refused
    if field == "digital minimum" and v >= 32767:
        return "error", r"invalid digital range"
    if field == "digital maximum" and v <= -32768:
        return "error", r"invalid digital range"
    if field == "physical maximum" and v == -500:
        return "error", "invalid physical range"
    return "ok", None


HEADER_CASES = [pytest.param(f, v, id=f"{f.replace(' ', '_')}={v}")
                for f in list(FIXED_FIELDS) + list(CHANNEL_FIELDS) for v in FAULT_VALUES]


@pytest.mark.parametrize("field, value", HEADER_CASES)
def test_edf_header_field_faults(psg_pair, tmp_path, field, value):
    psg = psg_pair[0]

    def edit(raw):
        if field in FIXED_FIELDS:
            off, width = FIXED_FIELDS[field]
            raw[off:off + width] = value.ljust(width).encode()
            return raw
        return _set_channel_field(raw, CHANNEL_FIELDS[field], 0, value)

    bad = _copy(psg, tmp_path / "bad.edf", edit)
    kind, match = _expected(field, value)
    if kind == "error":
        with pytest.raises(ValueError, match=match) as info:
            read_edf_signals(bad, ["EEG Fpz-Cz"])
        assert str(bad) in str(info.value)
        return
    raw = bytearray(bad.read_bytes())
    if field == "record duration":
        hdr = read_edf_header(bad)
        assert hdr.sfreqs[0] == pytest.approx(3000 / float(value))
        assert hdr.duration == pytest.approx(N_RECORDS * float(value))
        return
    sig = read_edf_signals(bad, ["EEG Fpz-Cz"])
    np.testing.assert_allclose(sig.signals[0], _independent_channel(raw, 0), rtol=1e-12,
                               atol=1e-9 * max(1.0, abs(float(value))))


# ======================================================== 2. file size vs record count
def _record_bytes(psg):
    hdr = read_edf_header(psg)
    return 2 * int(hdr.n_samples_per_record.sum())


@pytest.mark.parametrize("records, extra", [(0, -1), (0, -7), (-1, 0), (-2, -3), (0, 5),
                                            (0, 1001), (1, 0), (3, 0), (1, 17)])
def test_edf_truncated_or_extended(psg_pair, tmp_path, records, extra):
    psg = psg_pair[0]
    rb = _record_bytes(psg)
    delta = records * rb + extra
    original = read_edf_signals(psg, ["EEG Fpz-Cz"]).signals[0]

    def edit(raw):
        return raw[:len(raw) + delta] if delta < 0 else raw + bytes(delta)

    bad = _copy(psg, tmp_path / "bad.edf", edit)
    if delta < 0:
        with pytest.raises(ValueError, match=r"bad\.edf: EDF file is truncated"):
            read_edf_signals(bad)
    elif records >= 1:
        with pytest.raises(ValueError, match=rf"announces 12 data records but the file holds "
                                             rf"{12 + records} complete records"):
            read_edf_signals(bad)
    else:  # less than one record of trailing bytes: ignored, counted in a warning
        with pytest.warns(UserWarning, match=rf"{extra} trailing byte\(s\)"):
            sig = read_edf_signals(bad, ["EEG Fpz-Cz"])
        np.testing.assert_array_equal(sig.signals[0], original)


@pytest.mark.parametrize("extra_records", [0, 2])
def test_edf_unknown_record_count_is_computed(psg_pair, tmp_path, extra_records):
    psg = psg_pair[0]
    rb = _record_bytes(psg)

    def edit(raw):
        raw[236:244] = b"-1".ljust(8)
        return raw + bytes(extra_records * rb)

    bad = _copy(psg, tmp_path / "bad.edf", edit)
    hdr = read_edf_header(bad)
    assert hdr.n_records == N_RECORDS + extra_records
    sig = read_edf_signals(bad, ["EEG Fpz-Cz"])
    np.testing.assert_allclose(sig.signals[0], _independent_channel(
        bytearray(bad.read_bytes()), 0), rtol=1e-12, atol=1e-12)


# ================================================================ 3. channel labels
@pytest.mark.parametrize("src, dst", [(0, 1), (1, 0), (0, 3), (3, 0), (2, 3)])
def test_duplicate_labels_are_renamed_not_merged(psg_pair, tmp_path, src, dst):
    psg = psg_pair[0]
    raw0 = bytearray(psg.read_bytes())
    labels = read_edf_header(psg).labels

    def edit(raw):
        return _set_channel_field_label(raw, dst, labels[src])

    bad = _copy(psg, tmp_path / "dup.edf", edit)
    with pytest.warns(UserWarning, match=r"not unique.*running numbers"):
        hdr = read_edf_header(bad)
    first, second = sorted((src, dst))
    assert hdr.labels[first] == f"{labels[src]}-0"
    assert hdr.labels[second] == f"{labels[src]}-1"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(ValueError, match=re.escape(f"{labels[src]}-0")):
            read_edf_signals(bad, [labels[src]])  # the bare label is gone: no silent pick
        both = read_edf_signals(bad, [f"{labels[src]}-0", f"{labels[src]}-1"], sfreq=100,
                                resample_mismatched="resample")
    rates = read_edf_header(psg).sfreqs
    for row, ch in enumerate((first, second)):
        expected = _independent_channel(raw0, ch)
        if rates[ch] == 100:
            np.testing.assert_allclose(both.signals[row], expected, atol=1e-9)
        else:  # the 1 Hz channel is resampled, never stretched: same mean level
            assert both.resampled_channels[hdr.labels[ch]] == (rates[ch], 100.0)
            assert both.signals[row].size == expected.size * 100
            assert abs(both.signals[row].mean() - expected.mean()) < 0.05 * np.ptp(expected) + 1e-6


def _set_channel_field_label(raw, channel, label):
    return _set_channel_field(raw, "label", channel, label)


@pytest.mark.parametrize("request_name, outcome", [
    ("EEG Fpz-Cz", 0), ("eeg fpz-cz", 1), ("Eeg Fpz-Cz", "ambiguous"), ("EEG FPZ-CZ", "ambiguous"),
])
def test_labels_differing_only_in_case(psg_pair, tmp_path, request_name, outcome):
    psg = psg_pair[0]
    bad = _copy(psg, tmp_path / "case.edf", lambda raw: _set_channel_field_label(
        raw, 1, "eeg fpz-cz"))
    raw = bytearray(bad.read_bytes())
    if outcome == "ambiguous":
        with pytest.raises(ValueError, match=r"case\.edf: channel .* is ambiguous.*"
                                             r"'EEG Fpz-Cz', 'eeg fpz-cz'"):
            read_edf_signals(bad, [request_name])
    else:
        sig = read_edf_signals(bad, [request_name])
        np.testing.assert_allclose(sig.signals[0], _independent_channel(raw, outcome))


# ============================================================ 4. time-stamped text
def _stamps(n, sfreq, decimals, start=36000.0):
    """Stamps truncated to ``decimals`` (as SleepSign does), independently computed."""
    t = start + np.arange(n) / sfreq
    out = []
    for x in t:
        whole = int(x)
        frac = int((x - whole) * 10 ** decimals + 1e-9)
        hh, mm, ss = whole // 3600, whole % 3600 // 60, whole % 60
        out.append(f"{hh:02d}:{mm:02d}:{ss:02d}.{frac:0{decimals}d}")
    return out


def _make_rows(kind, pos, n=640, sfreq=128, decimals=3):
    """Rows (stamp, values) with one fault at row ``pos``; returns rows and the fault row."""
    rng = np.random.default_rng(pos)
    stamps = _stamps(n, sfreq, decimals)
    values = rng.standard_normal((n, 2)).round(4).tolist()
    if kind == "gap":
        del stamps[pos:pos + 5], values[pos:pos + 5]
    elif kind == "duplicate":
        stamps.insert(pos, stamps[pos - 1])
        values.insert(pos, values[pos - 1])
    elif kind == "backwards":
        stamps[pos], stamps[pos - 1] = stamps[pos - 1], stamps[pos]
    elif kind in ("nan", "inf", "-inf"):
        values[pos][pos % 2] = float(kind)
    return stamps, values


TEXT_FAULTS = ["gap", "duplicate", "backwards", "nan", "inf", "-inf"]
FAULT_MATCH = {"gap": "gap in the time stamps on line {line}",
               "duplicate": "duplicated row on line {line}",
               "backwards": "time goes backwards on line {line}",
               "nan": "NaN or infinite values, first on line {line}",
               "inf": "NaN or infinite values, first on line {line}",
               "-inf": "NaN or infinite values, first on line {line}"}
POSITIONS = [int(p) for p in np.random.default_rng(RNG_SEED).integers(10, 600, size=2)]


def _write_sleepsign(path, stamps, values):
    head = ["File name,x.kcd", "Subject,mouse", "", "Time,uV,uV,"]
    rows = [f"04/12/2018  {s},{a},{b}," for s, (a, b) in zip(stamps, values)]
    path.write_text("\r\n".join(head + rows) + "\r\n", encoding="latin-1")
    return len(head)  # lines before the first sample


def _write_timestamped(path, stamps, values):
    path.write_text("".join(f"{s}\t{a}\t{b}\n" for s, (a, b) in zip(stamps, values)))
    return 0


TEXT_READERS = {"sleepsign": (_write_sleepsign, read_sleepsign_signals, 3),
                "timestamped": (_write_timestamped, read_timestamped_text, 4)}


@pytest.mark.parametrize("reader", list(TEXT_READERS))
@pytest.mark.parametrize("kind", TEXT_FAULTS)
@pytest.mark.parametrize("pos", POSITIONS)
def test_text_reader_faults_name_the_line(tmp_path, reader, kind, pos):
    write, read, decimals = TEXT_READERS[reader]
    stamps, values = _make_rows(kind, pos, decimals=decimals)
    path = tmp_path / "export.txt"
    n_head = write(path, stamps, values)
    line = n_head + pos + 1  # 1-based line of the faulty row
    with pytest.raises(ValueError, match=re.escape(str(path)) + ".*" +
                       re.escape(FAULT_MATCH[kind].format(line=line))):
        read(path)


@pytest.mark.parametrize("reader", list(TEXT_READERS))
@pytest.mark.parametrize("sfreq", [100, 128, 250])
def test_text_reader_clean_rate(tmp_path, reader, sfreq):
    write, read, decimals = TEXT_READERS[reader]
    stamps, values = _make_rows("none", 1, n=3 * sfreq, sfreq=sfreq, decimals=decimals)
    path = tmp_path / "export.txt"
    write(path, stamps, values)
    data = read(path)
    assert data.sfreq == sfreq
    np.testing.assert_allclose(data.signals.T, np.asarray(values))
    with pytest.raises(ValueError, match=r"time stamps give .* but sfreq=[\d.]+ was given"):
        read(path, sfreq=sfreq * 1.25)


@pytest.mark.parametrize("kind", ["gap", "duplicate", "backwards"])
def test_sleepsign_hypnogram_epoch_stamps(tmp_path, kind):
    n = 30
    t0 = datetime.datetime(2018, 12, 4, 11, 0, 11)
    times = [t0 + datetime.timedelta(seconds=10 * k) for k in range(n)]
    pos = 7 + POSITIONS[0] % 20
    if kind == "gap":
        times[pos:] = [t + datetime.timedelta(seconds=10) for t in times[pos:]]
    elif kind == "duplicate":
        times[pos] = times[pos - 1]
    else:
        times[pos] = times[pos - 1] - datetime.timedelta(seconds=10)
    head = ["File name,x", "", "Time,Epoch No.,Stage,Free CV%", ",,,%"]
    rows = [f"{t:%d/%m/%Y %H:%M:%S},{k},W,1.0" for k, t in enumerate(times)]
    path = tmp_path / "judge.txt"
    path.write_text("\r\n".join(head + rows) + "\r\n")
    line = len(head) + pos + 1
    word = {"gap": "gap", "duplicate": "duplicated row", "backwards": "backwards"}[kind]
    with pytest.raises(ValueError, match=rf"judge\.txt: .*{word}.* on line {line}|"
                                         rf"judge\.txt: {word} on line {line}"):
        read_sleepsign_hypnogram(path)


@pytest.mark.parametrize("kind", ["nan", "inf", "-inf"])
def test_dreams_text_non_finite_samples(tmp_path, kind):
    rng = np.random.default_rng(RNG_SEED)
    n = 100 * 60
    x = rng.standard_normal(n).round(3)
    pos = int(rng.integers(0, n))
    text = "[C3-A1]\n" + "\n".join(str(v) for v in x) + "\n"
    lines = text.split("\n")
    lines[pos + 1] = kind
    (tmp_path / "excerpt1.txt").write_text("\n".join(lines))
    (tmp_path / "Hypnogram_excerpt1.txt").write_text("[Hypnogram]\n" + "\n".join(["2"] * 12))
    with pytest.raises(ValueError, match=rf"excerpt1\.txt: 1 line\(s\) with NaN or infinite "
                                         rf"values, first on line {pos + 2}"):
        load_dreams(tmp_path, excerpts=[1])


# ================================================================== 5. annotations
def _hypnogram(path, annotations, start):
    edf = edfio.Edf([], starttime=start.time(),
                    recording=edfio.Recording(startdate=start.date()),
                    annotations=[edfio.EdfAnnotation(o, d, t) for o, d, t in annotations])
    edf.write(path)
    return path


def _psg(folder, start, n_epochs=12):
    rng = np.random.default_rng(0)
    x = 20 * rng.standard_normal(n_epochs * 3000)
    sig = edfio.EdfSignal(x, 100, label="EEG Fpz-Cz", physical_dimension="uV",
                          physical_range=(-500, 500))
    path = folder / "SC4001E0-PSG.edf"
    edfio.Edf([sig], starttime=start.time(), recording=edfio.Recording(startdate=start.date()),
              data_record_duration=30.0).write(path)
    return path


STAGES = ["W", "1", "2", "3", "4", "R"]
NAMES = {"W": "Sleep stage W", "1": "Sleep stage 1", "2": "Sleep stage 2",
         "3": "Sleep stage 3", "4": "Sleep stage 4", "R": "Sleep stage R"}
AASM = {"W": "W", "1": "N1", "2": "N2", "3": "N3", "4": "N3", "R": "REM"}
START = datetime.datetime(2020, 1, 1, 22, 0, 0)


@pytest.mark.parametrize("offset_s", [-120, -30, 0, 30, 90, 240, 3600])
def test_hypnogram_start_offset_is_honoured(tmp_path, offset_s):
    psg = _psg(tmp_path, START)
    rng = np.random.default_rng(offset_s + 1000)
    codes = [STAGES[i] for i in rng.integers(0, len(STAGES), size=12)]
    hyp = _hypnogram(tmp_path / "SC4001EC-Hypnogram.edf",
                     [(30.0 * k, 30.0, NAMES[c]) for k, c in enumerate(codes)],
                     START + datetime.timedelta(seconds=offset_s))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        data = read_sleep_edf_recording(psg, hyp, channels=["EEG Fpz-Cz"],
                                        wake_edge_minutes=None)
    # independent: hypnogram epoch k covers PSG time offset + 30 k
    expected = {offset_s + 30.0 * k: AASM[c] for k, c in enumerate(codes)
                if 0 <= offset_s + 30.0 * k and offset_s + 30.0 * (k + 1) <= 360}
    assert dict(zip(data.onsets.tolist(), data.y.tolist())) == expected
    assert data.n_outside_signal == 12 - len(expected)
    x = read_edf_signals(psg).signals[0]
    for k, onset in enumerate(data.onsets):
        s = int(round(onset * 100))
        np.testing.assert_allclose(data.X[k, 0], x[s:s + 3000].astype(np.float32))


@pytest.mark.parametrize("duration", [3.0e4 * 30, 1.0e9 * 30, 1.0e15 * 30])
def test_huge_annotation_duration_is_bounded(tmp_path, duration):
    psg = _psg(tmp_path, START)
    hyp = _hypnogram(tmp_path / "SC4001EC-Hypnogram.edf",
                     [(0.0, 60.0, "Sleep stage W"), (60.0, duration, "Sleep stage 2")], START)
    data = read_sleep_edf_recording(psg, hyp, channels=["EEG Fpz-Cz"], wake_edge_minutes=None)
    assert data.y.tolist() == ["W", "W"] + ["N2"] * 10
    assert data.n_outside_signal == round(duration / 30) - 10


@pytest.mark.parametrize("seed", range(3))
def test_overlapping_annotations_refused(tmp_path, seed):
    rng = np.random.default_rng(seed)
    k = int(rng.integers(1, 8))
    back = int(rng.integers(1, k + 1))
    ann = [(0.0, 30.0 * k, "Sleep stage W"), (30.0 * (k - back), 90.0, "Sleep stage 2")]
    hyp = _hypnogram(tmp_path / "h.edf", ann, START)
    with pytest.raises(ValueError, match=r"h\.edf: overlapping stage annotations"):
        read_stage_annotations(hyp)


@pytest.mark.parametrize("seed", range(3))
def test_duplicated_onsets_refused(tmp_path, seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(3, 10))
    dup = int(rng.integers(0, n))
    ann = [(30.0 * k, 30.0, "Sleep stage 2") for k in range(n)]
    ann.insert(dup, (30.0 * dup, 30.0, "Sleep stage W"))
    hyp = _hypnogram(tmp_path / "h.edf", ann, START)
    with pytest.raises(ValueError, match=rf"h\.edf: duplicated onset {30 * dup:g} s"):
        read_stage_annotations(hyp)


@pytest.mark.parametrize("duration, epoch_seconds, n_epochs", [
    (45.0, 30, None), (75.0, 30, None), (20.0, 30, None), (45.0, 15, 3), (90.0, 30, 3),
])
def test_annotation_not_multiple_of_epoch(tmp_path, duration, epoch_seconds, n_epochs):
    hyp = _hypnogram(tmp_path / "h.edf", [(0.0, duration, "Sleep stage 2")], START)
    if n_epochs is None:
        with pytest.raises(ValueError, match=rf"h\.edf: .*lasts {duration:g} s, not a multiple "
                                             rf"of epoch_seconds={epoch_seconds}"):
            read_stage_annotations(hyp, epoch_seconds=epoch_seconds)
    else:
        ann = read_stage_annotations(hyp, epoch_seconds=epoch_seconds)
        assert ann.onsets.tolist() == [epoch_seconds * k for k in range(n_epochs)]
        assert ann.labels.tolist() == ["N2"] * n_epochs


@pytest.mark.parametrize("offset_s, ok", [(0, True), (60, True), (15, False), (1, False)])
def test_stage_annotations_aligned_to_a_recording(tmp_path, offset_s, ok):
    hyp = _hypnogram(tmp_path / "h.edf", [(0.0, 60.0, "Sleep stage W")],
                     START + datetime.timedelta(seconds=offset_s))
    if ok:
        ann = read_stage_annotations(hyp, recording_start=START.replace(
            tzinfo=datetime.timezone.utc), on_grid=True)
        assert ann.onsets.tolist() == [offset_s, offset_s + 30.0]
    else:
        with pytest.raises(ValueError, match=r"h\.edf: .*not on the 30-s epoch grid"):
            read_stage_annotations(hyp, recording_start=START.replace(
                tzinfo=datetime.timezone.utc), on_grid=True)


@pytest.mark.parametrize("n_scored, n_unscored", [(4, 3), (0, 5), (2, 0)])
def test_scored_epochs_beyond_the_signal_counted_apart(tmp_path, n_scored, n_unscored):
    # 12 epochs of signal; the hypnogram goes on with scored N2 and unscored '?' epochs
    psg = _psg(tmp_path, START)
    ann = [(0.0, 360.0, "Sleep stage 2")]
    if n_scored:
        ann.append((360.0, 30.0 * n_scored, "Sleep stage 2"))
    if n_unscored:
        ann.append((360.0 + 30.0 * n_scored, 30.0 * n_unscored, "Sleep stage ?"))
    hyp = _hypnogram(tmp_path / "SC4001EC-Hypnogram.edf", ann, START)
    data = read_sleep_edf_recording(psg, hyp, channels=["EEG Fpz-Cz"], wake_edge_minutes=None)
    assert len(data.y) == 12
    assert data.n_outside_signal == n_scored + n_unscored
    assert data.n_scored_outside_signal == n_scored
    ann = read_stage_annotations(hyp, recording_duration=360.0)
    assert (ann.n_outside, ann.n_outside_scored) == (n_scored + n_unscored, n_scored)


@pytest.mark.parametrize("origin, ok", [(15.0, True), (0.0, False)])
def test_stage_annotations_on_a_shifted_grid(tmp_path, origin, ok):
    hyp = _hypnogram(tmp_path / "h.edf", [(15.0, 60.0, "Sleep stage W"),
                                          (75.0, 30.0, "Sleep stage R")], START)
    if ok:
        ann = read_stage_annotations(hyp, on_grid=True, grid_origin=origin)
        assert ann.onsets.tolist() == [15.0, 45.0, 75.0]
        assert ann.labels.tolist() == ["W", "W", "REM"]
    else:
        with pytest.raises(ValueError, match=r"h\.edf: .*not on the 30-s epoch grid"):
            read_stage_annotations(hyp, on_grid=True, grid_origin=origin)


@pytest.mark.parametrize("fault", ["nan-onset", "inf-duration", "zero-duration",
                                   "negative-duration"])
def test_annotations_to_epochs_bad_numbers(fault):
    onsets, durations = [0.0, 30.0], [30.0, 30.0]
    if fault == "nan-onset":
        onsets[1] = np.nan
    elif fault == "inf-duration":
        durations[0] = np.inf
    elif fault == "zero-duration":
        durations[1] = 0.0
    else:
        durations[1] = -30.0
    with pytest.raises(ValueError, match=r"hyp\.edf: .*(NaN or infinite|duration)"):
        annotations_to_epochs(onsets, durations, ["W", "N2"], epoch_seconds=30,
                              path="hyp.edf", recording_duration=3600)


def test_annotations_unbounded_expansion_refused():
    with pytest.raises(ValueError, match=r"hyp\.edf: the annotations span .* refusing"):
        annotations_to_epochs([0.0], [30.0 * 1e12], ["W"], epoch_seconds=30, path="hyp.edf")


@pytest.mark.parametrize("fault, match", [("duplicate", "duplicated onset_s 30 s"),
                                          ("nan", "NaN or infinite onset_s")])
def test_hypnogram_csv_onsets(tmp_path, fault, match):
    path = tmp_path / "ref.csv"
    onsets = ["0", "30", "30" if fault == "duplicate" else "nan", "60"]
    path.write_text("epoch,onset_s,stage\n" + "".join(
        f"{k},{o},W\n" for k, o in enumerate(onsets)))
    with pytest.raises(ValueError, match=match):
        read_hypnogram_csv(path)


@pytest.mark.parametrize("overwrite", [False, True])
def test_load_sleep_edf_out_overwrite(psg_pair, tmp_path, overwrite):
    psg, _, _ = psg_pair
    out = tmp_path / "X.npy"
    before = np.arange(6, dtype=np.float32)
    np.save(out, before)
    if not overwrite:  # MNE's convention: an existing cache is refused, and kept
        with pytest.raises(FileExistsError, match="X.npy"):
            load_sleep_edf(psg.parent, channels=["EEG Fpz-Cz"], out=out)
        np.testing.assert_array_equal(np.load(out), before)
    else:
        data = load_sleep_edf(psg.parent, channels=["EEG Fpz-Cz"], out=out, overwrite=True)
        in_memory = load_sleep_edf(psg.parent, channels=["EEG Fpz-Cz"])
        np.testing.assert_array_equal(np.load(out), in_memory.X)
        np.testing.assert_array_equal(data.X, in_memory.X)


# ================================================================ 6. file extensions
@pytest.mark.parametrize("suffix", [".EDF", ".Edf", ".eDf"])
def test_upper_case_extensions(psg_pair, tmp_path, suffix):
    psg, hyp, _ = psg_pair
    folder = tmp_path / "upper"
    folder.mkdir()
    shutil.copy(psg, folder / psg.name.replace(".edf", suffix))
    shutil.copy(hyp, folder / hyp.name.replace(".edf", suffix))
    assert [p.name for p in glob_ci(folder, "*.edf")] == sorted(
        p.name for p in folder.iterdir())
    upper = load_sleep_edf(folder, channels=["EEG Fpz-Cz"])
    lower = load_sleep_edf(psg.parent, channels=["EEG Fpz-Cz"])
    np.testing.assert_array_equal(upper.X, lower.X)
    np.testing.assert_array_equal(upper.y, lower.y)


# ================================================================== 7. text encodings
@pytest.mark.parametrize("reader", ["hypnogram-csv", "label-file"])
@pytest.mark.parametrize("encoding", ["utf-8-bom", "latin-1"])
def test_text_encodings(tmp_path, reader, encoding):
    stages = ["W", "N2", "N3", "REM"]
    if reader == "hypnogram-csv":
        text = "stage,onset_s\n" + "".join(f"{s},{30 * k}\n" for k, s in enumerate(stages))
    else:
        text = "".join(f"{s}\n" for s in stages)
    path = tmp_path / "labels.csv"
    if encoding == "utf-8-bom":
        path.write_bytes(text.encode("utf-8-sig"))
        labels = (read_hypnogram_csv(path).stage if reader == "hypnogram-csv"
                  else read_label_file(path))
        assert list(labels) == stages
    elif reader == "hypnogram-csv":
        # a hypnogram CSV falls back to Latin-1 (an Excel export with accented notes):
        # every byte is a Latin-1 character and stage names are ASCII, read the same
        rows = ["stage,onset_s,note"] + [f"{s},{30 * k},sc\xe9n" for k, s in enumerate(stages)]
        path.write_bytes("\n".join(rows).encode("latin-1") + b"\n")
        hyp = read_hypnogram_csv(path)
        assert list(hyp.stage) == stages
        np.testing.assert_array_equal(hyp.onset_s, 30.0 * np.arange(len(stages)))
    else:
        # a label file holds the labels themselves: non-UTF-8 bytes are refused
        path.write_bytes((text + "N1 sc\xe9n\n").encode("latin-1"))
        with pytest.raises(ValueError, match=r"labels\.csv: .*not UTF-8 text .*line 5"):
            read_label_file(path)
