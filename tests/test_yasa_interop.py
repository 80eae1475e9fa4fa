"""YasaFeatures / YasaHypnodensity: equal to YASA run directly, per recording, clear errors.

The equality tests are slow (YASA's first call JIT-compiles antropy's numba code, ~40 s):
run them with ``-m slow``.
"""

import sys

import numpy as np
import pytest

from sklearn_sleep.features import YasaFeatures, YasaHypnodensity

SF = 100.0


def _epochs(rng, n_epochs):
    """Pink-ish noise in µV, 30-s epochs at 100 Hz."""
    x = np.cumsum(rng.normal(size=n_epochs * 3000), axis=0)
    x = (x - np.convolve(x, np.ones(101) / 101, mode="same")) * 5.0
    return x.reshape(n_epochs, 1, 3000)


def _yasa_direct(epochs):
    import mne
    import yasa

    info = mne.create_info(["C4"], SF, ch_types=["eeg"])
    raw = mne.io.RawArray(epochs[:, 0, :].reshape(1, -1) * 1e-6, info, verbose=False)
    return yasa.SleepStaging(raw, eeg_name="C4")


@pytest.mark.slow
def test_features_equal_to_yasa_per_recording(rng):
    pytest.importorskip("yasa")
    a, b = _epochs(rng, 12), _epochs(rng, 10)
    X = np.concatenate([a, b])
    rec = np.repeat(["night1", "night2"], [12, 10])
    feats = YasaFeatures(sfreq=SF)
    Xt = feats.fit_transform(X, recordings=rec)
    for part, sl in ((a, slice(0, 12)), (b, slice(12, 22))):
        f_direct = _yasa_direct(part).get_features()
        np.testing.assert_allclose(Xt[sl], f_direct.to_numpy(), rtol=1e-6, atol=1e-9)
    assert list(feats.get_feature_names_out()) == list(f_direct.columns)


@pytest.mark.slow
def test_hypnodensity_equal_to_yasa_per_recording(rng):
    pytest.importorskip("yasa")
    a, b = _epochs(rng, 12), _epochs(rng, 10)
    X = np.concatenate([a, b])
    rec = np.repeat(["night1", "night2"], [12, 10])
    hyp = YasaHypnodensity(sfreq=SF)
    P = hyp.fit(X, recordings=rec).transform(X, recordings=rec)
    for part, sl in ((a, slice(0, 12)), (b, slice(12, 22))):
        p_direct = _yasa_direct(part).predict().proba
        np.testing.assert_allclose(P[sl], p_direct.to_numpy(), rtol=1e-6, atol=1e-9)
    assert list(hyp.get_feature_names_out()) == [f"yasa_{c}" for c in p_direct.columns]
    np.testing.assert_allclose(P.sum(1), 1.0, rtol=1e-6)
    logp = YasaHypnodensity(sfreq=SF, log=True).fit_transform(X, recordings=rec)
    np.testing.assert_allclose(logp, np.log(np.maximum(P, 1e-6)))


def test_errors(rng, monkeypatch):
    X = _epochs(rng, 4)
    with pytest.raises(ValueError, match="needs the recording"):
        YasaHypnodensity(sfreq=SF).fit(X)
    with pytest.raises(ValueError, match="above 80 Hz"):
        YasaHypnodensity(sfreq=50).fit(X.reshape(4, 1, 3000)[:, :, :1500], recordings=[0] * 4)
    with pytest.raises(ValueError, match="30-s epochs"):
        YasaHypnodensity(sfreq=SF).fit(X[:, :, :2000], recordings=[0] * 4)
    with pytest.raises(ValueError, match="eog_index=3"):
        YasaFeatures(sfreq=SF, eog_index=3).fit(X, recordings=[0] * 4)
    monkeypatch.setitem(sys.modules, "yasa", None)
    with pytest.raises(ImportError, match=r"pip install sklearn_sleep\[yasa\]"):
        YasaHypnodensity(sfreq=SF).fit(X, recordings=[0] * 4)


# ----------------------------------------------------------- cache and stage classifier
# A stand-in for YASA (no YASA needed): a deterministic hypnodensity per recording,
# computed from the signal, and a record of every call (cached calls do not run it).
_CALLS = []


def _fake_run_yasa(what, epochs, sfreq, eeg_index, eog_index, emg_index, unit, metadata,
                   versions=None):
    import pandas as pd

    _CALLS.append(float(epochs[0, 0, 0]))
    power = np.log(np.mean(np.asarray(epochs[:, eeg_index], float) ** 2, axis=1) + 1.0)
    # each stage most probable in one band of signal power (so that all five occur)
    logits = np.stack([-4.0 * (power - c) ** 2 for c in (5.3, 6.0, 6.8, 7.6, 8.5)], axis=1)
    proba = np.exp(logits - logits.max(axis=1, keepdims=True))
    proba /= proba.sum(axis=1, keepdims=True)
    if what == "features":
        return pd.DataFrame({"power": power})
    return pd.DataFrame(proba, columns=["WAKE", "N1", "N2", "N3", "REM"])


@pytest.fixture
def fake_yasa(monkeypatch):
    from sklearn_sleep.features import _yasa

    monkeypatch.setattr(_yasa, "_run_yasa", _fake_run_yasa)
    _CALLS.clear()
    return _CALLS


def _nights(rng, n_nights=4, n_epochs=20):
    """Nights whose epochs cycle through four amplitudes (every stage in every night)."""
    gain = np.tile(1.0 + np.arange(n_epochs) % 4, n_nights)
    X = _epochs(rng, n_nights * n_epochs) * gain[:, None, None]
    rec = np.repeat([f"night{i}" for i in range(n_nights)], n_epochs)
    return X, rec


def test_stage_classifier_is_yasa_argmax_in_sorted_class_order(rng, fake_yasa):
    from sklearn_sleep.features import YasaStageClassifier

    X, rec = _nights(rng)
    direct = np.concatenate([_fake_run_yasa("proba", X[rec == r], SF, 0, None, None, "uV",
                                            None).to_numpy() for r in np.unique(rec)])
    stages = np.array(["W", "N1", "N2", "N3", "REM"])
    y = stages[rng.integers(0, 4, len(X))]  # REM never labelled: YASA may still predict it
    clf = YasaStageClassifier(sfreq=SF).fit(X, y, recordings=rec)
    assert clf.classes_.tolist() == ["N1", "N2", "N3", "REM", "W"]
    proba = clf.predict_proba(X, recordings=rec)
    for j, c in enumerate(clf.classes_):
        np.testing.assert_allclose(proba[:, j], direct[:, stages.tolist().index(c)])
    np.testing.assert_array_equal(clf.predict(X, recordings=rec), stages[direct.argmax(1)])
    # integer-coded stages: 4 = REM, 0 = W
    clf_int = YasaStageClassifier(sfreq=SF, stage_names=(4, 0, 1, 2, 3)).fit(
        X, np.full(len(X), 0), recordings=rec)
    assert clf_int.classes_.tolist() == [0, 1, 2, 3, 4]
    np.testing.assert_allclose(clf_int.predict_proba(X, recordings=rec)[:, 4], direct[:, 0])


def test_stage_classifier_refuses_labels_outside_stage_names(rng, fake_yasa):
    from sklearn_sleep.features import YasaStageClassifier

    X, rec = _nights(rng, n_nights=1, n_epochs=6)
    with pytest.raises(ValueError, match=r"labels \['MT'\].*stage_names"):
        YasaStageClassifier(sfreq=SF).fit(X, ["W", "N1", "N2", "N3", "REM", "MT"],
                                          recordings=rec)
    with pytest.raises(ValueError, match="5 distinct labels"):
        YasaStageClassifier(sfreq=SF, stage_names=("W", "N1", "N2", "N3", "N3")).fit(
            X, ["W"] * 6, recordings=rec)
    with pytest.raises(ValueError, match="YasaStageClassifier needs the recording"):
        YasaStageClassifier(sfreq=SF).fit(X, ["W"] * 6)
    # labels are compared by value and kind, never by their text
    with pytest.raises(ValueError, match="stage_names of the same kind"):
        YasaStageClassifier(sfreq=SF, stage_names=(0, 1, 2, 3, 4)).fit(
            X, ["0", "1", "2", "3", "4", "0"], recordings=rec)
    with pytest.raises(ValueError, match="stage_names of the same kind"):
        YasaStageClassifier(sfreq=SF, stage_names=("0", "1", "2", "3", "4")).fit(
            X, [0, 1, 2, 3, 4, 0], recordings=rec)
    with pytest.raises(ValueError, match="all strings or all numbers"):
        YasaStageClassifier(sfreq=SF, stage_names=("W", 1, 2, 3, 4)).fit(
            X, ["W"] * 6, recordings=rec)
    with pytest.raises(ValueError, match=r"labels \[5\]"):
        YasaStageClassifier(sfreq=SF, stage_names=(0, 1, 2, 3, 4)).fit(
            X, [0, 1, 2, 3, 4, 5], recordings=rec)
    clf = YasaStageClassifier(sfreq=SF, stage_names=(0, 1, 2, 3, 4)).fit(
        X, [0.0, 1.0, 2.0, 3.0, 4.0, 0.0], recordings=rec)  # float codes of the stages
    assert clf.classes_.tolist() == [0, 1, 2, 3, 4]
    with pytest.raises(ValueError, match="YasaStageClassifier needs the recording"):
        clf.predict(X)
    ran = len(fake_yasa)
    with pytest.raises(ValueError, match=r"per epoch; fitted on \(1, 3000\)"):
        clf.predict(np.concatenate([X, X], axis=1), recordings=rec)
    assert len(fake_yasa) == ran  # refused before YASA ran


def test_memory_runs_yasa_once_per_recording(rng, fake_yasa, tmp_path):
    from joblib import Memory

    from sklearn_sleep.features import YasaStageClassifier

    X, rec = _nights(rng, n_nights=3)
    memory = Memory(tmp_path, verbose=0)
    hyp = YasaHypnodensity(sfreq=SF, log=True, memory=memory)
    first = hyp.fit_transform(X, recordings=rec)
    assert len(fake_yasa) == 3
    again = hyp.transform(X[rec != "night0"], recordings=rec[rec != "night0"])
    clf = YasaStageClassifier(sfreq=SF, memory=memory).fit(X, ["W"] * len(X), recordings=rec)
    clf.predict(X, recordings=rec)
    assert len(fake_yasa) == 3  # every later call came from the cache
    np.testing.assert_array_equal(again, first[rec != "night0"])
    uncached = YasaHypnodensity(sfreq=SF, log=True).fit_transform(X, recordings=rec)
    np.testing.assert_array_equal(uncached, first)
    assert len(fake_yasa) == 6


def test_memory_is_invalidated_by_another_yasa_version(rng, fake_yasa, tmp_path,
                                                       monkeypatch):
    from sklearn_sleep.features import _yasa

    X, rec = _nights(rng, n_nights=2)
    hyp = YasaHypnodensity(sfreq=SF, memory=str(tmp_path))
    hyp.fit_transform(X, recordings=rec)
    hyp.fit_transform(X, recordings=rec)
    assert len(fake_yasa) == 2
    versions = dict(_yasa._yasa_versions(), yasa="99.0")  # an upgrade: YASA runs again
    monkeypatch.setattr(_yasa, "_yasa_versions", lambda: versions)
    hyp.fit_transform(X, recordings=rec)
    assert len(fake_yasa) == 4


def test_positional_arguments_keep_their_meaning():
    hyp = YasaHypnodensity(100, 0, None, None, "uV", None, True)
    assert hyp.log is True and hyp.memory is None


def test_grid_search_keeps_pretrained_unless_adapting_helps(rng, fake_yasa, tmp_path):
    """GridSearchCV over recordings (LeaveOneGroupOut) chooses between YASA as is and an
    adapted pipeline, with recording ids routed to both; the choice follows the data."""
    import sklearn
    from joblib import Memory
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import cohen_kappa_score, make_scorer
    from sklearn.model_selection import GridSearchCV, LeaveOneGroupOut, cross_validate
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    from sklearn_sleep.features import YasaStageClassifier
    from sklearn_sleep.metrics import recording_scoring

    X, rec = _nights(rng, n_nights=4, n_epochs=30)
    memory = Memory(tmp_path, verbose=0)
    yasa_says = YasaStageClassifier(sfreq=SF).fit(X, ["W"] * len(X), recordings=rec).predict(
        X, recordings=rec)
    shift = {"W": "N1", "N1": "N2", "N2": "N3", "N3": "REM", "REM": "W"}
    other = np.array([shift[s] for s in yasa_says])  # the user scores differently: adapt

    def search():
        pipe = Pipeline([("features", YasaHypnodensity(sfreq=SF, log=True, memory=memory)),
                         ("scale", StandardScaler()),
                         ("clf", LogisticRegression(max_iter=1000))])
        grid = [{"clf__C": [0.1, 1.0]},
                {"features": ["passthrough"], "scale": ["passthrough"],
                 "clf": [YasaStageClassifier(sfreq=SF, memory=memory)]}]
        return GridSearchCV(pipe, grid, cv=LeaveOneGroupOut(),
                            scoring=recording_scoring(make_scorer(cohen_kappa_score)))

    with sklearn.config_context(enable_metadata_routing=True):
        keeps = search().fit(X, yasa_says, groups=rec, recordings=rec)
        adapts = search().fit(X, other, groups=rec, recordings=rec)
        assert isinstance(keeps.best_estimator_[-1], YasaStageClassifier)
        assert isinstance(adapts.best_estimator_[-1], LogisticRegression)
        assert adapts.best_score_ > 0.9
        # GridSearchCV.predict takes no metadata: its best estimator predicts
        np.testing.assert_array_equal(keeps.best_estimator_.predict(X, recordings=rec),
                                      yasa_says)
        # nested: the search is scored per held-out night by a RecordingScorer
        nested = cross_validate(search(), X, other, cv=LeaveOneGroupOut(),
                                scoring=recording_scoring(make_scorer(cohen_kappa_score)),
                                params={"groups": rec, "recordings": rec},
                                return_estimator=True, return_indices=True)
        for score, fitted, test in zip(nested["test_score"], nested["estimator"],
                                       nested["indices"]["test"]):
            y_hat = fitted.best_estimator_.predict(X[test], recordings=rec[test])
            assert score == pytest.approx(cohen_kappa_score(other[test], y_hat))
        assert nested["test_score"].mean() > 0.8
    # 4 uncached runs for yasa_says, then once per night over every search, fit,
    # candidate and fold (the cache)
    assert len(fake_yasa) == 8


def test_safe_model_file_with_yasa_cache(rng, fake_yasa, tmp_path):
    """memory as a folder is stored and the model predicts as before; a joblib.Memory
    object is refused at save time, with what to do."""
    import sklearn
    from joblib import Memory
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    from sklearn_sleep.features import YasaStageClassifier
    from sklearn_sleep.persistence import SleepStager, load_model

    X, rec = _nights(rng, n_nights=1, n_epochs=40)
    y = YasaStageClassifier(sfreq=SF).fit(X, ["W"] * len(X), recordings=rec).predict(
        X, recordings=rec)
    with sklearn.config_context(enable_metadata_routing=True):
        for memory in (str(tmp_path / "cache"), Memory(tmp_path / "cache2", verbose=0)):
            pipe = make_pipeline(YasaHypnodensity(sfreq=SF, log=True, memory=memory),
                                 LogisticRegression())
            stager = SleepStager(pipe, sfreq=SF, ch_names=["EEG"], epoch_seconds=30.0)
            stager.fit(X, y, recordings=rec)
            path = tmp_path / "model.zip"
            if isinstance(memory, str):
                stager.save(path, overwrite=True)
                np.testing.assert_array_equal(load_model(path).predict(X), stager.predict(X))
            else:
                with pytest.raises(ValueError, match="give memory= as a folder path"):
                    stager.save(path, overwrite=True)
