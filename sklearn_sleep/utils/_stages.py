"""Sleep-stage vocabularies and label maps (R&K, AASM, rodent).

One obvious place for every stage name and label convention used in the library.

References
----------
.. [1] Rechtschaffen A, Kales A. A Manual of Standardized Terminology, Techniques and
       Scoring System for Sleep Stages of Human Subjects. 1968.
.. [2] Berry RB et al. The AASM Manual for the Scoring of Sleep and Associated Events.
       American Academy of Sleep Medicine, 2012.
"""

import numpy as np

__all__ = [
    "AASM_STAGES",
    "MOUSE_STAGES",
    "SLEEP_EDF_ANNOTATION_MAP",
    "DREAMS_RK_MAP",
    "EXCLUDED",
    "stage_names",
    "to_stage_names",
    "to_stage_codes",
    "check_label_array",
    "canonical_labels",
    "STAGE_ORDER",
    "stage_of",
    "identify_stages",
]

#: AASM stages in the conventional integer order 0..4 (W, N1, N2, N3, REM).
AASM_STAGES = ("W", "N1", "N2", "N3", "REM")

#: Rodent stages in integer order 0..2.
MOUSE_STAGES = ("W", "NREM", "REM")

#: Marker for epochs that must be removed (movement time, unscored '?').
EXCLUDED = "EXCLUDED"

#: Sleep-EDF (R&K) annotation description -> AASM stage name.
#: Stages 3 and 4 merge into N3; movement time and '?' are excluded.
SLEEP_EDF_ANNOTATION_MAP = {
    "Sleep stage W": "W",
    "Sleep stage 1": "N1",
    "Sleep stage 2": "N2",
    "Sleep stage 3": "N3",
    "Sleep stage 4": "N3",
    "Sleep stage R": "REM",
    "Sleep stage ?": EXCLUDED,
    "Movement time": EXCLUDED,
}

#: DREAMS hypnogram integer code (R&K, one value per 5 s) -> AASM stage name.
#: Per the DREAMS documentation: 5=W, 4=REM, 3=S1, 2=S2, 1=S3, 0=S4, -1/-2/-3 = unknown
#: or movement. S3 and S4 merge into N3.
DREAMS_RK_MAP = {
    5: "W",
    4: "REM",
    3: "N1",
    2: "N2",
    1: "N3",
    0: "N3",
    -1: EXCLUDED,
    -2: EXCLUDED,
    -3: EXCLUDED,
}

_ALIASES = {
    "w": "W", "wake": "W", "awake": "W", "0": "W",
    "n1": "N1", "s1": "N1", "1": "N1", "stage 1": "N1",
    "n2": "N2", "s2": "N2", "2": "N2", "stage 2": "N2",
    "n3": "N3", "s3": "N3", "s4": "N3", "3": "N3", "4": "N3", "n4": "N3",
    "rem": "REM", "r": "REM", "5": "REM",
}


#: Display (and canonical) order of every stage name the library knows.
STAGE_ORDER = ("W", "N1", "N2", "N3", "NREM", "REM")

#: Text spellings of each stage accepted when a *classifier* identifies its labels as
#: stages (lower case). Digit strings are deliberately absent: ``"4"`` is S4 (N3) in R&K
#: files but REM as an AASM code, so a digit never names a stage by itself.
_TEXT_STAGE_ALIASES = {
    "w": "W", "wake": "W", "awake": "W", "wakefulness": "W", "stage w": "W",
    "sleep stage w": "W",
    "n1": "N1", "s1": "N1", "stage 1": "N1", "stage n1": "N1", "sleep stage 1": "N1",
    "n2": "N2", "s2": "N2", "stage 2": "N2", "stage n2": "N2", "sleep stage 2": "N2",
    "n3": "N3", "s3": "N3", "s4": "N3", "n4": "N3", "stage 3": "N3", "stage 4": "N3",
    "stage n3": "N3", "sleep stage 3": "N3", "sleep stage 4": "N3",
    "rem": "REM", "r": "REM", "stage r": "REM", "stage rem": "REM", "sleep stage r": "REM",
    "ps": "REM",
    "nrem": "NREM", "nr": "NREM", "non-rem": "NREM",
}


def stage_of(label):
    """Canonical stage name of one text label, or ``None`` when it names no stage.

    Parameters
    ----------
    label : object
        A class label. Text is stripped and matched case-insensitively against the stage
        names of :data:`STAGE_ORDER` and their spellings: ``Wake``/``awake`` (W),
        ``S1`` (N1), ``S2`` (N2), ``S3``/``S4``/``N4`` (N3), ``R``/``PS`` (REM),
        ``NR``/``non-REM`` (NREM), ``stage 1`` ... and the Sleep-EDF annotation texts.
        ``SWS`` is not accepted (N3 in humans, NREM in rodents): pass an explicit map.

    Returns
    -------
    stage : str or None
        The stage name, or ``None`` for numbers (ambiguous: AASM code or label-encoded
        class index), digit strings and unknown text.
    """
    if not isinstance(label, (str, np.str_)):
        return None
    return _TEXT_STAGE_ALIASES.get(str(label).strip().lower())


_STAGE_MAP_VOCABULARIES = {"aasm": AASM_STAGES, "rodent": MOUSE_STAGES}


def identify_stages(labels, stage_map=None):
    """The sleep stage of each class label, resolved by name, never by position.

    Parameters
    ----------
    labels : array-like of shape (n_classes,)
        Distinct class labels (e.g. a classifier's ``classes_``).
    stage_map : None, "aasm", "rodent" or dict, default=None
        How labels name stages.

        * ``None``: text labels are matched with :func:`stage_of`; numbers are never
          guessed (an integer may be an AASM code or a label-encoded class index, as
          inside ``VotingClassifier``), so integer labels give ``None``.
        * ``"aasm"``: integers are AASM codes 0=W, 1=N1, 2=N2, 3=N3, 4=REM; text as
          for ``None`` but restricted to these stages.
        * ``"rodent"``: integers are 0=W, 1=NREM, 2=REM; text restricted to them.
        * dict ``label -> stage``: explicit; every label must be a key and every value a
          stage name (or spelling accepted by :func:`stage_of`).

    Returns
    -------
    stages : tuple of str or None
        The canonical stage name of each label, in the order of ``labels``; ``None``
        when ``stage_map`` is None and the labels cannot all be identified.

    Raises
    ------
    ValueError
        If ``stage_map`` is given but does not name a stage for every label, if two
        labels name the same stage, or if ``stage_map`` is not a valid value.
    """
    labels = list(np.asarray(labels, dtype=object).ravel().tolist())
    if stage_map is None:
        stages = [stage_of(label) for label in labels]
        if any(s is None for s in stages):
            return None
        explicit = False
    elif isinstance(stage_map, str) and stage_map in _STAGE_MAP_VOCABULARIES:
        vocabulary = _STAGE_MAP_VOCABULARIES[stage_map]
        stages = []
        for label in labels:
            if isinstance(label, (int, np.integer)) and not isinstance(label, bool):
                stage = vocabulary[int(label)] if 0 <= int(label) < len(vocabulary) else None
            else:
                stage = stage_of(label)
                stage = stage if stage in vocabulary else None
            if stage is None:
                codes = ", ".join(f"{i}={s}" for i, s in enumerate(vocabulary))
                raise ValueError(
                    f"stage_map={stage_map!r} does not identify label {label!r}: expected the "
                    f"integer codes {codes} or the stage names {list(vocabulary)}."
                )
            stages.append(stage)
        explicit = True
    elif isinstance(stage_map, dict):
        missing = [label for label in labels if label not in stage_map]
        if missing:
            raise ValueError(
                f"stage_map has no entry for label(s) {missing}; it must map every class "
                f"label to a stage name, e.g. {{label: 'W', ...}}."
            )
        stages = []
        for label in labels:
            stage = stage_of(stage_map[label])
            if stage is None:
                raise ValueError(
                    f"stage_map maps {label!r} to {stage_map[label]!r}, which is not a stage "
                    f"name; use one of {list(STAGE_ORDER)}."
                )
            stages.append(stage)
        explicit = True
    else:
        raise ValueError(
            "stage_map must be None, 'aasm' (integer codes 0=W..4=REM), 'rodent' (0=W, "
            f"1=NREM, 2=REM) or a dict label -> stage name; got {stage_map!r}."
        )
    seen = {}
    for label, stage in zip(labels, stages):
        if stage in seen:
            if not explicit:
                return None
            raise ValueError(
                f"Labels {seen[stage]!r} and {label!r} both name stage {stage!r}; merge them "
                "first or map them to different stages."
            )
        seen[stage] = label
    return tuple(stages)


def stage_names(n_classes):
    """Return the canonical stage names for a 5-class (human) or 3-class (rodent) task.

    Parameters
    ----------
    n_classes : int
        Number of classes of the task: 5 for human AASM staging, 3 for rodent staging.
        Compared with ``==``, so ``5.0`` or ``numpy.int64(5)`` work too.

    Returns
    -------
    names : tuple of str
        :data:`AASM_STAGES` (``("W", "N1", "N2", "N3", "REM")``) for 5 classes,
        :data:`MOUSE_STAGES` (``("W", "NREM", "REM")``) for 3 classes; position ``k``
        is the name of stage code ``k``.

    Raises
    ------
    ValueError
        If ``n_classes`` is neither 3 nor 5.
    """
    if n_classes == 5:
        return AASM_STAGES
    if n_classes == 3:
        return MOUSE_STAGES
    raise ValueError(f"No canonical stage vocabulary with {n_classes} classes (expected 3 or 5).")


def to_stage_names(y, names=AASM_STAGES):
    """Map integer stage codes ``0..len(names)-1`` to stage names.

    Parameters
    ----------
    y : array-like
        Stage codes, e.g. the output of :func:`to_stage_codes`. Numeric input is cast
        with ``astype(int)`` (floats are truncated toward zero). Input with a string or
        object dtype (text labels, or integers stored in an object array) is returned
        as an object array unchanged, without any check.
    names : sequence of str, default=AASM_STAGES
        Stage vocabulary in code order: code ``k`` becomes ``names[k]``. Pass
        :data:`MOUSE_STAGES` (or ``stage_names(3)``) for rodent codes.

    Returns
    -------
    stages : ndarray of object, same shape as ``y``
        The stage name of each code.

    Raises
    ------
    ValueError
        If a code lies outside ``0..len(names)-1``; the message lists the unknown codes
        and the vocabulary.
    """
    y = np.asarray(y)
    if y.dtype.kind in "OUS":
        return y.astype(object)
    if y.dtype.kind == "f" and not np.all(np.isfinite(y) & (y == np.round(y))):
        bad = y[~(np.isfinite(y) & (y == np.round(y)))]
        raise ValueError(
            f"Stage codes must be whole numbers, got {bad[:5].tolist()}; expected integers "
            f"0..{len(names) - 1} for stages {list(names)}."
        )
    codes = y.astype(int)
    bad = np.setdiff1d(np.unique(codes), np.arange(len(names)))
    if bad.size:
        raise ValueError(
            f"Unknown stage code(s) {bad.tolist()}; expected integers 0..{len(names) - 1} "
            f"for stages {list(names)}."
        )
    return np.asarray(names, dtype=object)[codes]


def to_stage_codes(y, names=AASM_STAGES):
    """Map stage names (case-insensitive, common aliases such as 'S1', 'Wake', 'R') to codes.

    Parameters
    ----------
    y : array-like of shape (n_epochs,)
        Stage labels. Text labels are stripped of surrounding spaces and matched
        case-insensitively, first against ``names``, then against the aliases
        ``"wake"``/``"awake"`` (W), ``"S1"``/``"stage 1"`` (N1), ``"S2"``/``"stage 2"``
        (N2), ``"S3"``/``"S4"``/``"N4"`` (N3), ``"R"`` (REM) and the R&K digits *as
        strings* ``"0"`` (W), ``"1"`` (N1), ``"2"`` (N2), ``"3"``/``"4"`` (N3), ``"5"``
        (REM); an alias is accepted only if its stage is in ``names``. Integers (an
        integer array, or Python/NumPy ints in an object array) are stage codes, never
        aliases, and must lie in ``0..len(names)-1``. Floats (even ``1.0``) are not
        accepted.
    names : sequence of str, default=AASM_STAGES
        Stage vocabulary; the code of a stage is its position in ``names``. Pass
        :data:`MOUSE_STAGES` (or ``stage_names(3)``) for rodent labels.

    Returns
    -------
    codes : ndarray of int of shape (n_epochs,)
        The code of each label.

    Raises
    ------
    ValueError
        If a label is neither a name of ``names`` nor an accepted alias, or is an
        integer outside ``0..len(names)-1``; the message lists all the unknown labels
        and the vocabulary.
    """
    y = np.asarray(y)
    if y.dtype.kind in "iu":
        return to_stage_codes(to_stage_names(y, names), names)
    index = {n: i for i, n in enumerate(names)}
    lower = {n.lower(): n for n in names}
    out = np.empty(len(y), dtype=int)
    unknown = set()
    for i, label in enumerate(y):
        key = str(label).strip()
        if isinstance(label, (int, np.integer)) and not isinstance(label, bool):
            # an integer is a stage code, never an R&K alias ('4' = S4 would clash with REM)
            if 0 <= int(label) < len(names):
                out[i] = int(label)
            else:
                unknown.add(label)
            continue
        name = lower.get(key.lower()) or _ALIASES.get(key.lower())
        if name is None or name not in index:
            unknown.add(label)
            continue
        out[i] = index[name]
    if unknown:
        raise ValueError(
            f"Unknown stage label(s) {sorted(map(str, unknown))}; expected one of {list(names)}."
        )
    return out


def check_label_array(y, name="y"):
    """Return ``y`` as a 1-D label array, rejecting missing and mixed-type labels.

    Raises ``ValueError`` for ``None``/NaN labels (with their positions) and for arrays
    that mix strings and numbers, where ``4`` and ``'4'`` or ``'REM'`` would otherwise be
    ordered or matched inconsistently.
    """
    y = np.asarray(y)
    if y.ndim != 1:
        raise ValueError(f"{name} must be 1-D (one label per epoch), got shape {y.shape}.")
    if y.dtype.kind == "f" and np.isnan(y).any():
        idx = np.flatnonzero(np.isnan(y))
        raise ValueError(f"{name} has {idx.size} missing (NaN) label(s), first at index {idx[0]}.")
    if y.dtype == object:
        missing = [i for i, v in enumerate(y.tolist()) if v is None or (isinstance(v, float) and v != v)]
        if missing:
            raise ValueError(
                f"{name} has {len(missing)} missing label(s) (None/NaN), first at index "
                f"{missing[0]}; remove or label those epochs."
            )
        kinds = {"text" if isinstance(v, (str, np.str_)) else "number" for v in y.tolist()}
        if len(kinds) > 1:
            raise ValueError(
                f"{name} mixes text and numeric labels (e.g. 'REM' and 4); use one kind."
            )
    return y


def canonical_labels(y):
    """Unique labels in *display* order: sleep stages as W, N1, N2, N3, (NREM,) REM.

    For reports and plots only; classifiers order ``classes_`` as ``np.unique(y)``
    (scikit-learn's convention). ``['REM', 'W', 'N1']`` gives ``['W', 'N1', 'REM']``,
    and spellings such as ``['R', 'Wake', 'S1']`` give ``['Wake', 'S1', 'R']`` (see
    :func:`stage_of`); integers and other labels are sorted.

    Parameters
    ----------
    y : array-like of shape (n_samples,)
        Labels.

    Returns
    -------
    labels : ndarray
        The distinct labels of ``y`` in display order.
    """
    uniques = np.unique(check_label_array(y))
    if uniques.dtype.kind in "OUS":
        stages = identify_stages(uniques)
        if stages is not None:
            order = np.argsort([STAGE_ORDER.index(s) for s in stages], kind="stable")
            return uniques[order]
    return uniques
