"""Recording ids of epoch rows: validation shared by the recording-aware estimators."""

import numpy as np

__all__ = ["check_recordings", "recording_blocks", "ROUTING_HINT"]

#: How a user passes recording ids through scikit-learn (quoted in error messages).
ROUTING_HINT = (
    "Pass recordings=<one recording id per row> directly, or, inside Pipeline / "
    "cross_validate / GridSearchCV, enable metadata routing with "
    "sklearn.set_config(enable_metadata_routing=True) and pass "
    "params={'recordings': recordings} to cross_validate / fit (or alias the groups: "
    "est.set_fit_request(recordings='groups')), and score with "
    "sklearn_sleep.metrics.recording_scoring(...) so that predict also receives them."
)


def check_recordings(recordings, n_rows, *, owner):
    """Validate one recording id per row; raise a ValueError naming the fix when missing.

    Parameters
    ----------
    recordings : array-like of shape (n_rows,) or None
        Recording id of every row.
    n_rows : int
        Number of rows of X.
    owner : str
        Name of the estimator, quoted in the error messages.

    Returns
    -------
    recordings : ndarray of shape (n_rows,)
    """
    if recordings is None:
        raise ValueError(
            f"{owner} needs the recording of every row (rolling windows and decoding "
            f"must not cross recording boundaries), but recordings=None. {ROUTING_HINT}"
        )
    recordings = np.asarray(recordings)
    if recordings.ndim != 1 or len(recordings) != n_rows:
        raise ValueError(
            f"{owner}: recordings must be 1-D with one id per row of X ({n_rows} rows); "
            f"got shape {recordings.shape}."
        )
    return recordings


def recording_blocks(recordings, *, owner):
    """Contiguous blocks of rows, one per recording, in order of appearance.

    Every recording's rows must be one contiguous block (rows in time order within a
    recording); interleaved rows, e.g. shuffled data, raise a ValueError, since
    neighbours in X would then not be neighbours in time.

    Parameters
    ----------
    recordings : ndarray of shape (n_rows,)
        Recording id of every row.
    owner : str
        Name of the estimator, quoted in the error messages.

    Returns
    -------
    blocks : list of slice
    """
    n = len(recordings)
    if n == 0:
        return []
    change = np.flatnonzero(recordings[1:] != recordings[:-1]) + 1
    starts = np.concatenate([[0], change])
    stops = np.concatenate([change, [n]])
    ids = recordings[starts]
    uniq, counts = np.unique(ids, return_counts=True)
    if np.any(counts > 1):
        bad = uniq[counts > 1][:5].tolist()
        raise ValueError(
            f"{owner}: the rows of recording(s) {bad} are not contiguous in X. Keep each "
            "recording's epochs together and in time order (do not shuffle rows; use "
            "GroupKFold/LeaveOneGroupOut, which keep the row order)."
        )
    return [slice(int(a), int(b)) for a, b in zip(starts, stops)]
