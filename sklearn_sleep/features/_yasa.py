"""YASA interoperability: YASA's published features and pretrained hypnodensity as features."""

import numbers

import numpy as np
from scipy.sparse import issparse
from sklearn.base import BaseEstimator, ClassifierMixin, TransformerMixin
from sklearn.utils.validation import check_is_fitted, check_memory

from ..utils._recordings import check_recordings, recording_blocks
from ..utils._validation import check_epochs, check_sfreq

__all__ = ["YasaFeatures", "YasaHypnodensity", "YasaStageClassifier"]

_UNITS = {"uV": 1e-6, "mV": 1e-3, "V": 1.0}


def _import_yasa():
    try:
        import yasa
    except ImportError as exc:
        raise ImportError(
            "This transformer needs YASA, an optional dependency: "
            "pip install sklearn_sleep[yasa]  (or pip install yasa)."
        ) from exc
    return yasa


def _yasa_versions():
    """Versions of the libraries behind YASA's output (part of the cache key)."""
    from importlib.metadata import PackageNotFoundError, version

    found = {}
    for name in ("yasa", "lightgbm", "mne", "antropy", "scipy", "numpy"):
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = None
    return found


def _run_yasa(what, epochs, sfreq, eeg_index, eog_index, emg_index, unit, metadata,
              versions=None):
    """YASA on one recording's contiguous epochs: its features or its pretrained probabilities.

    A module-level function of plain arguments, so that ``joblib.Memory`` can cache it by
    the content of ``epochs`` (the ``memory`` parameter of the YASA estimators);
    ``versions`` (of YASA and the libraries it runs on) is unused here but part of the
    cache key, so that an upgrade never returns the older version's output.
    """
    import mne

    yasa = _import_yasa()
    names, types, signals = [], [], []
    for role, idx in (("eeg", eeg_index), ("eog", eog_index), ("emg", emg_index)):
        if idx is not None:
            names.append(role.upper())
            types.append(role)
            # epochs in time order -> one continuous signal, in volts for MNE
            signals.append(np.asarray(epochs[:, int(idx), :], np.float64).reshape(-1)
                           * _UNITS[unit])
    info = mne.create_info(names, sfreq, ch_types=types)
    raw = mne.io.RawArray(np.vstack(signals), info, verbose=False)
    staging = yasa.SleepStaging(
        raw, eeg_name="EEG", eog_name="EOG" if eog_index is not None else None,
        emg_name="EMG" if emg_index is not None else None, metadata=metadata)
    if what == "features":
        return staging.get_features()
    return staging.predict().proba.copy()


class _YasaBase(TransformerMixin, BaseEstimator):
    """Run ``yasa.SleepStaging`` on every recording of a 3-D epoch array."""

    __metadata_request__fit = {"recordings": True}
    __metadata_request__transform = {"recordings": True}

    def __init__(self, sfreq, eeg_index=0, eog_index=None, emg_index=None, unit="uV",
                 metadata=None, memory=None):
        self.sfreq = sfreq
        self.eeg_index = eeg_index
        self.eog_index = eog_index
        self.emg_index = emg_index
        self.unit = unit
        self.metadata = metadata
        self.memory = memory

    def _check(self, X, recordings, owner=None):
        owner = owner or type(self).__name__
        if self.unit not in _UNITS:
            raise ValueError(f"unit must be one of {sorted(_UNITS)}; got {self.unit!r}.")
        sfreq = check_sfreq(self.sfreq)
        if issparse(X):
            raise TypeError(f"{owner} does not support sparse input: it takes "
                            "dense epoch arrays (n_epochs, n_channels, n_times).")
        X = check_epochs(X, name="X", ndim=3, dtype=None)
        n_times = X.shape[2]
        if abs(n_times / sfreq - 30.0) > 1e-9:
            raise ValueError(
                f"YASA stages 30-s epochs; X has epochs of {n_times} samples at {sfreq:g} Hz "
                f"= {n_times / sfreq:g} s.")
        if sfreq <= 80:
            raise ValueError(
                f"YASA needs a sampling rate above 80 Hz (it resamples to 100 Hz); got "
                f"{sfreq:g} Hz. Resample the signals first (e.g. load_dreams(..., sfreq=100)).")
        roles = {"eeg": self.eeg_index, "eog": self.eog_index, "emg": self.emg_index}
        if self.eeg_index is None:
            raise ValueError("eeg_index is required: YASA always needs one EEG channel.")
        for role, idx in roles.items():
            if idx is not None and not 0 <= int(idx) < X.shape[1]:
                raise ValueError(f"{role}_index={idx} but X has {X.shape[1]} channel(s).")
        rec = check_recordings(recordings, len(X), owner=owner)
        blocks = recording_blocks(rec, owner=owner)
        return X, sfreq, blocks

    def _yasa(self, what, epochs, sfreq):
        """YASA's output for one recording (through ``memory`` when it is set)."""
        memory = check_memory(self.memory)
        run = memory.cache(_run_yasa)
        eog = None if self.eog_index is None else int(self.eog_index)
        emg = None if self.emg_index is None else int(self.emg_index)
        versions = _yasa_versions() if memory.location is not None else None
        return run(what, np.ascontiguousarray(epochs), float(sfreq), int(self.eeg_index), eog,
                   emg, self.unit, self.metadata, versions=versions)

    def fit(self, X, y=None, recordings=None):
        """Validate the input and record the output feature names.

        Parameters
        ----------
        X : array-like of shape (n_epochs, n_channels, n_times)
            30-s epochs, contiguous and in time order within each recording.
        y : None
            Ignored.
        recordings : array-like of shape (n_epochs,)
            Recording id of every epoch (required).

        Returns
        -------
        self
        """
        self._fit_transform(X, recordings)
        return self

    def _fit_transform(self, X, recordings):
        X, sfreq, blocks = self._check(X, recordings)
        return self._fit_checked(X, sfreq, blocks)

    def _fit_checked(self, X, sfreq, blocks):
        """Fit-transform epochs already validated by :meth:`_check`."""
        self.n_channels_in_ = int(X.shape[1])
        self.n_times_in_ = int(X.shape[2])
        frames = [self._one_recording(X[block], sfreq) for block in blocks]
        self.feature_names_out_ = np.asarray(list(frames[0].columns), dtype=object)
        return self._assemble(frames, blocks, len(X))

    def _assemble(self, frames, blocks, n_rows):
        out = np.empty((n_rows, len(self.feature_names_out_)))
        for block, df in zip(blocks, frames):
            if list(df.columns) != list(self.feature_names_out_):
                raise ValueError("YASA returned different features than at fit time.")
            if len(df) != block.stop - block.start:
                raise ValueError(f"YASA returned {len(df)} epochs for a recording of "
                                 f"{block.stop - block.start} epochs.")
            out[block] = df.to_numpy(dtype=np.float64)
        return out

    def transform(self, X, recordings=None):
        """YASA's output for every recording, rows aligned with X.

        Parameters
        ----------
        X : array-like of shape (n_epochs, n_channels, n_times)
            30-s epochs, contiguous and in time order within each recording.
        recordings : array-like of shape (n_epochs,)
            Recording id of every epoch (required).

        Returns
        -------
        Xt : ndarray of shape (n_epochs, n_features_out)
        """
        check_is_fitted(self, "feature_names_out_")
        X, sfreq, blocks = self._check(X, recordings)
        if X.shape[1:] != (self.n_channels_in_, self.n_times_in_):
            raise ValueError(f"X has shape {X.shape[1:]} per epoch; fitted on "
                             f"{(self.n_channels_in_, self.n_times_in_)}.")
        return self._assemble([self._one_recording(X[b], sfreq) for b in blocks], blocks,
                              len(X))

    def fit_transform(self, X, y=None, recordings=None):
        """Fit, then transform the same epochs.

        Parameters
        ----------
        X : array-like of shape (n_epochs, n_channels, n_times)
            30-s epochs.
        y : None
            Ignored.
        recordings : array-like of shape (n_epochs,)
            Recording id of every epoch (required).

        Returns
        -------
        Xt : ndarray of shape (n_epochs, n_features_out)
        """
        return self._fit_transform(X, recordings)

    def get_feature_names_out(self, input_features=None):
        """Names of the output columns.

        Parameters
        ----------
        input_features : None
            Ignored (the input is 3-D).

        Returns
        -------
        names : ndarray of str
        """
        check_is_fitted(self, "feature_names_out_")
        return self.feature_names_out_.copy()


class YasaFeatures(_YasaBase):
    """YASA's published sleep-staging features, computed per recording, as a transformer.

    Wraps ``yasa.SleepStaging(...).get_features()`` (Vallat R. & Walker M. P., "An
    open-source, high-performance tool for automated sleep staging", eLife 10:e70092,
    2021, doi:10.7554/eLife.70092): per 30-s epoch, spectral, Hjorth, permutation-entropy
    and fractal features of the EEG (and EOG/EMG when given), their 7.5-min centred and
    2-min past rolling means robust-scaled per night, and the time since the start of
    the recording. YASA's features are per night, so every recording's epochs must be
    contiguous and in time order; recording ids come through metadata routing
    (``recordings=``, requested by default; see
    :class:`~sklearn_sleep.features.ContextFeatures`). The epochs of a recording are
    concatenated into a continuous signal, converted to volts and given to YASA as an
    MNE Raw (YASA resamples to 100 Hz and works in µV internally).

    Optional dependency: ``pip install sklearn_sleep[yasa]``.

    Parameters
    ----------
    sfreq : float
        Sampling rate (Hz) of X; must be above 80 Hz (YASA's requirement).
    eeg_index : int, default=0
        Channel of X given to YASA as its EEG (a central derivation, e.g. C4-M1, as in
        YASA's training data).
    eog_index, emg_index : int or None, default=None
        Channels used as YASA's EOG / EMG (None: EEG-only model and features).
    unit : {"uV", "mV", "V"}, default="uV"
        Unit of X.
    metadata : dict or None, default=None
        YASA's ``metadata`` (``{"age": ..., "male": ...}``), the same for every recording.
    memory : str, joblib.Memory or None, default=None
        Cache of YASA's output per recording (as ``Pipeline(memory=...)``): a folder or
        a ``joblib.Memory``. YASA is then run once per distinct recording (keyed by its
        samples, these parameters and the versions of YASA and the libraries it uses),
        which makes model selection over recordings (``GridSearchCV`` with
        ``LeaveOneGroupOut``) affordable. None: no cache.

    Attributes
    ----------
    feature_names_out_ : ndarray of str
        YASA's feature names.
    n_channels_in_, n_times_in_ : int
        Shape of the fitted epochs.

    Examples
    --------
    >>> from sklearn_sleep.features import YasaFeatures
    >>> feats = YasaFeatures(sfreq=100)
    """


#: Floor of the probabilities before ``YasaHypnodensity(log=True)`` takes the log.
PROBA_FLOOR = 1e-6


class YasaHypnodensity(_YasaBase):
    """YASA's pretrained 5-stage probabilities (hypnodensity) as features, per recording.

    Runs YASA's pretrained LightGBM stager (``yasa.SleepStaging(...).predict()``,
    Vallat & Walker, eLife 10:e70092, 2021, doi:10.7554/eLife.70092) on every
    recording and returns its per-epoch probabilities of W, N1, N2, N3 and REM (columns
    ``yasa_WAKE``, ``yasa_N1``, ``yasa_N2``, ``yasa_N3``, ``yasa_REM``). Stacked with
    other features and followed by a classifier, it starts from the pretrained model
    and adapts it to the user's own labelled nights. Nothing is learned at ``fit``;
    the pretrained model sees each recording whole (its features use rolling windows
    over the night), so recording ids are required and each recording's epochs must
    be contiguous and in time order (metadata ``recordings=``, requested by default).

    Optional dependency: ``pip install sklearn_sleep[yasa]``.

    Parameters
    ----------
    sfreq : float
        Sampling rate (Hz) of X; must be above 80 Hz (YASA's requirement).
    eeg_index : int, default=0
        Channel of X given to YASA as its EEG (central derivation).
    eog_index, emg_index : int or None, default=None
        Channels used as YASA's EOG / EMG (None: YASA's EEG-only model).
    unit : {"uV", "mV", "V"}, default="uV"
        Unit of X.
    metadata : dict or None, default=None
        YASA's ``metadata`` (``{"age": ..., "male": ...}``), the same for every recording.
    log : bool, default=False
        Return ``log(max(p, 1e-6))`` instead of ``p`` (log-probabilities suit linear
        models; the floor, an assumption, keeps the log finite; YASA's LightGBM
        probabilities are rarely below it). Columns are then ``yasa_log_<stage>``.
    memory : str, joblib.Memory or None, default=None
        Cache of YASA's output per recording (as ``Pipeline(memory=...)``): a folder or
        a ``joblib.Memory``. YASA is then run once per distinct recording (keyed by its
        samples, these parameters and the versions of YASA and the libraries it uses),
        which makes model selection over recordings (``GridSearchCV`` with
        ``LeaveOneGroupOut``) affordable. None: no cache.

    Attributes
    ----------
    feature_names_out_ : ndarray of str
        ``yasa_<stage>`` (or ``yasa_log_<stage>``) for YASA's five stages.
    n_channels_in_, n_times_in_ : int
        Shape of the fitted epochs.

    Examples
    --------
    >>> from sklearn_sleep.features import YasaHypnodensity
    >>> hypnodensity = YasaHypnodensity(sfreq=100)
    """

    def __init__(self, sfreq, eeg_index=0, eog_index=None, emg_index=None, unit="uV",
                 metadata=None, log=False, memory=None):
        super().__init__(sfreq, eeg_index=eeg_index, eog_index=eog_index,
                         emg_index=emg_index, unit=unit, metadata=metadata, memory=memory)
        self.log = log


def _features(self, epochs, sfreq):
    return self._yasa("features", epochs, sfreq)


def _proba(self, epochs, sfreq):
    proba = self._yasa("proba", epochs, sfreq)
    if self.log:
        proba = np.log(np.maximum(proba, PROBA_FLOOR))
        proba.columns = [f"yasa_log_{c}" for c in proba.columns]
    else:
        proba.columns = [f"yasa_{c}" for c in proba.columns]
    return proba


YasaFeatures._one_recording = _features
YasaHypnodensity._one_recording = _proba


#: YASA's hypnodensity columns, in the order of ``stage_names``.
_YASA_STAGE_COLUMNS = ("WAKE", "N1", "N2", "N3", "REM")


class YasaStageClassifier(ClassifierMixin, BaseEstimator):
    """YASA's pretrained stager as a scikit-learn classifier (nothing is trained).

    ``predict_proba`` is YASA's pretrained hypnodensity (Vallat & Walker, eLife
    10:e70092, 2021, doi:10.7554/eLife.70092; see :class:`YasaHypnodensity`) and
    ``predict`` its most probable stage, named with ``stage_names``. ``fit`` learns
    nothing: it checks the input and that every label of ``y`` is one of the stage
    names. Its use is model selection: as one candidate of a ``GridSearchCV`` beside
    pipelines that adapt YASA's output to the user's own labelled nights, it lets
    cross-validation over those nights keep the pretrained model when adapting it does
    not help (see ``benchmarks/bench_dreams.py``). Recording ids are required, through
    metadata routing (``recordings=``, requested by ``fit``, ``predict`` and
    ``predict_proba``); each recording's epochs must be contiguous and in time order.

    Optional dependency: ``pip install sklearn_sleep[yasa]``.

    Parameters
    ----------
    sfreq : float
        Sampling rate (Hz) of X; must be above 80 Hz (YASA's requirement).
    eeg_index : int, default=0
        Channel of X given to YASA as its EEG (central derivation).
    eog_index, emg_index : int or None, default=None
        Channels used as YASA's EOG / EMG (None: YASA's EEG-only model).
    unit : {"uV", "mV", "V"}, default="uV"
        Unit of X.
    metadata : dict or None, default=None
        YASA's ``metadata`` (``{"age": ..., "male": ...}``), the same for every recording.
    memory : str, joblib.Memory or None, default=None
        Cache of YASA's output per recording, shared with :class:`YasaHypnodensity`
        given the same cache (see there).
    stage_names : sequence of 5 labels, default=("W", "N1", "N2", "N3", "REM")
        The labels of your ``y`` for YASA's wake, N1, N2, N3 and REM, in this order
        (e.g. ``(0, 1, 2, 3, 4)`` for integer-coded AASM stages).

    Attributes
    ----------
    classes_ : ndarray of shape (5,)
        ``stage_names``, sorted (scikit-learn's convention); the columns of
        ``predict_proba`` follow it.
    n_channels_in_, n_times_in_ : int
        Shape of the fitted epochs.

    Examples
    --------
    >>> from sklearn_sleep.features import YasaStageClassifier
    >>> pretrained = YasaStageClassifier(sfreq=100)
    """

    __metadata_request__fit = {"recordings": True}
    __metadata_request__predict = {"recordings": True}
    __metadata_request__predict_proba = {"recordings": True}

    def __init__(self, sfreq, eeg_index=0, eog_index=None, emg_index=None, unit="uV",
                 metadata=None, memory=None, stage_names=("W", "N1", "N2", "N3", "REM")):
        self.sfreq = sfreq
        self.eeg_index = eeg_index
        self.eog_index = eog_index
        self.emg_index = emg_index
        self.unit = unit
        self.metadata = metadata
        self.memory = memory
        self.stage_names = stage_names

    def _hypnodensity(self):
        return YasaHypnodensity(self.sfreq, eeg_index=self.eeg_index, eog_index=self.eog_index,
                                emg_index=self.emg_index, unit=self.unit,
                                metadata=self.metadata, memory=self.memory)

    def fit(self, X, y, recordings=None):
        """Check the input and the labels; nothing is learned.

        Parameters
        ----------
        X : array-like of shape (n_epochs, n_channels, n_times)
            30-s epochs, contiguous and in time order within each recording.
        y : array-like of shape (n_epochs,)
            Stages; every label must be one of ``stage_names``.
        recordings : array-like of shape (n_epochs,)
            Recording id of every epoch (required).

        Returns
        -------
        self
        """
        names = np.asarray(list(self.stage_names), dtype=object)
        if len(names) != 5 or len(set(names.tolist())) != 5:
            raise ValueError(
                f"stage_names must be 5 distinct labels for YASA's W, N1, N2, N3 and REM; "
                f"got {tuple(self.stage_names)!r}.")
        X, _, _ = self._hypnodensity()._check(X, recordings, owner=type(self).__name__)
        y = np.asarray(y)
        if y.ndim != 1 or len(y) != len(X):
            raise ValueError(f"y must be 1-D with one label per epoch ({len(X)}); got shape "
                             f"{y.shape}.")
        numeric = [isinstance(v, (numbers.Number, np.number)) and not isinstance(v, bool)
                   for v in names.tolist()]
        textual = [isinstance(v, (str, np.str_)) for v in names.tolist()]
        if not (all(numeric) or all(textual)):
            raise ValueError(f"stage_names must be all strings or all numbers; got "
                             f"{tuple(self.stage_names)!r}.")
        if all(numeric) != (y.dtype.kind in "iuf"):
            raise ValueError(
                f"y holds {'numbers' if y.dtype.kind in 'iuf' else 'non-numeric labels'} but "
                f"stage_names {tuple(self.stage_names)!r} are "
                f"{'numbers' if all(numeric) else 'strings'}: give stage_names of the same "
                "kind as your labels.")
        labels = np.unique(y)
        unknown = [v for v in labels.tolist() if not any(v == n for n in names.tolist())]
        if unknown:
            raise ValueError(
                f"y has labels {unknown} that are none of stage_names {tuple(names)}; YASA "
                "predicts W, N1, N2, N3 and REM only. Give your labels for these five stages "
                "as stage_names=(...), in that order.")
        try:
            self.classes_ = np.asarray(sorted(names.tolist()))
        except TypeError as exc:
            raise ValueError("stage_names must be mutually comparable labels (all str or "
                             "all int).") from exc
        # column of YASA's output for each class, in sorted-class order
        position = {v: i for i, v in enumerate(names.tolist())}
        self._yasa_order = np.array([position[c] for c in self.classes_.tolist()])
        self.n_channels_in_, self.n_times_in_ = int(X.shape[1]), int(X.shape[2])
        return self

    def predict_proba(self, X, recordings=None):
        """YASA's pretrained stage probabilities, columns in ``classes_`` order.

        Parameters
        ----------
        X : array-like of shape (n_epochs, n_channels, n_times)
            30-s epochs, contiguous and in time order within each recording.
        recordings : array-like of shape (n_epochs,)
            Recording id of every epoch (required).

        Returns
        -------
        proba : ndarray of shape (n_epochs, 5)
        """
        check_is_fitted(self, "classes_")
        hyp = self._hypnodensity()
        # validated once, errors naming this class; the shape is checked before YASA runs
        X, sfreq, blocks = hyp._check(X, recordings, owner=type(self).__name__)
        if X.shape[1:] != (self.n_channels_in_, self.n_times_in_):
            raise ValueError(f"X has shape {X.shape[1:]} per epoch; fitted on "
                             f"{(self.n_channels_in_, self.n_times_in_)}.")
        proba = hyp._fit_checked(X, sfreq, blocks)
        expected = [f"yasa_{c}" for c in _YASA_STAGE_COLUMNS]
        got = list(hyp.get_feature_names_out())
        if sorted(got) != sorted(expected):
            raise ValueError(f"YASA returned the columns {got}, not {expected}.")
        proba = proba[:, [got.index(c) for c in expected]]  # W, N1, N2, N3, REM
        return proba[:, self._yasa_order]

    def predict(self, X, recordings=None):
        """YASA's most probable stage for every epoch.

        Parameters
        ----------
        X : array-like of shape (n_epochs, n_channels, n_times)
            30-s epochs, contiguous and in time order within each recording.
        recordings : array-like of shape (n_epochs,)
            Recording id of every epoch (required).

        Returns
        -------
        y_pred : ndarray of shape (n_epochs,)
        """
        proba = self.predict_proba(X, recordings=recordings)
        return self.classes_[np.argmax(proba, axis=1)]
