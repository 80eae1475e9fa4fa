"""Cut continuous recordings into labelled epochs (before the Pipeline)."""

import numbers
import warnings

import numpy as np
from sklearn.base import BaseEstimator, clone
from sklearn.utils import Bunch

from ..utils._stages import check_label_array
from ..utils._validation import check_epochs, check_sfreq

__all__ = ["EpochSegmenter"]


def _n_samples(seconds, sfreq, name):
    n = seconds * sfreq
    n_int = int(round(n))
    if n_int < 1 or abs(n - n_int) > 1e-6:
        raise ValueError(
            f"{name}={seconds:g} s at sfreq={sfreq:g} Hz is {n:g} samples; it must be a "
            "positive whole number of samples."
        )
    return n_int


class EpochSegmenter(BaseEstimator):
    """Turn continuous recordings into epochs aligned with their stage labels.

    A scikit-learn transformer may not change the number of rows, so segmentation runs
    *before* the Pipeline and returns ``X`` together with ``y``, ``groups`` and
    ``recordings`` (one entry per epoch), ready for
    ``cross_validate(pipe, X, y, groups=groups, cv=GroupKFold(...))``.

    **Alignment rule.** Each recording is cut from its first sample into consecutive,
    non-overlapping epochs of ``L = epoch_seconds * sfreq`` samples: epoch ``k`` covers
    samples ``[k * L, (k + 1) * L)`` and gets ``labels[k]``. A recording of
    ``n_samples`` samples therefore has ``n_full = n_samples // L`` complete epochs.

    * ``len(labels) == n_full``: every label is used; the ``n_samples - n_full * L``
      trailing samples (less than one epoch, e.g. the incomplete last EDF record) carry
      no label and are not returned; their count per recording is reported in
      ``n_samples_dropped`` of the result.
    * ``len(labels) != n_full``: ``on_mismatch="raise"`` (default) raises a
      ``ValueError`` with the counts; ``on_mismatch="truncate"`` keeps the first
      ``min(len(labels), n_full)`` epochs and warns with the numbers of labels and
      samples dropped (also reported in ``n_labels_dropped``/``n_samples_dropped``).

    Labels are therefore expected to start at the first sample of the signal (crop
    the signal to the hypnogram onset first when they do not).

    Parameters
    ----------
    sfreq : float
        Sampling rate of the signals (Hz).
    epoch_seconds : float, default=30
        Epoch length (30 s for AASM scoring; 1-4 s for rodents).
    sub_window_seconds : float or None, default=None
        If set, every epoch is further cut into ``epoch_seconds / sub_window_seconds``
        sub-windows on a new axis: ``X`` has shape
        ``(n_epochs, n_sub, n_channels, sub_len)`` (still one row per label). Must
        divide the epoch into a whole number of whole-sample windows.
    n_context : int, default=0
        If > 0, return context sequences ``(n_epochs, 2 * n_context + 1, n_channels,
        n_times)`` whose middle element is the labelled epoch, flanked by the
        ``n_context`` neighbours on each side **from the same recording only**.
        Cannot be combined with ``sub_window_seconds``.
    context_padding : {"edge", "zeros"}, default="edge"
        How context positions beyond the start/end of a recording are filled: with the
        first/last epoch of that recording (``"edge"``) or with zeros.
    on_mismatch : {"raise", "truncate"}, default="raise"
        What to do when the number of labels differs from the number of complete
        epochs (see the alignment rule).
    filters : transformer, list of transformers or None, default=None
        Filters (e.g. ``BandPassFilter``, ``NotchFilter``) applied to each *continuous*
        recording before cutting, which avoids the per-epoch edge effects of filtering
        inside the Pipeline. Each is cloned and applied to the recording as an array of
        shape ``(1, n_channels, n_samples)``.

    See Also
    --------
    sklearn_sleep.preprocessing.EpochSampler : class rebalancing of the resulting epochs.

    References
    ----------
    .. [1] Berry, R. B. et al., "The AASM Manual for the Scoring of Sleep and Associated
       Events", version 2.6, American Academy of Sleep Medicine, 2020 (30-s epochs).

    Examples
    --------
    >>> import numpy as np
    >>> seg = EpochSegmenter(sfreq=100, epoch_seconds=30)
    >>> sig = np.zeros((2, 100 * 30 * 4 + 50))            # 4 epochs + 50 extra samples
    >>> out = seg.segment(sig, ["W", "N1", "N2", "N2"])
    >>> out.X.shape, out.y.tolist(), out.n_samples_dropped.tolist()
    ((4, 2, 3000), ['W', 'N1', 'N2', 'N2'], [50])
    """

    def __init__(self, sfreq, epoch_seconds=30, sub_window_seconds=None, n_context=0,
                 context_padding="edge", on_mismatch="raise", filters=None):
        self.sfreq = sfreq
        self.epoch_seconds = epoch_seconds
        self.sub_window_seconds = sub_window_seconds
        self.n_context = n_context
        self.context_padding = context_padding
        self.on_mismatch = on_mismatch
        self.filters = filters

    def _validate(self):
        sfreq = check_sfreq(self.sfreq)
        epoch_seconds = check_sfreq(self.epoch_seconds, name="epoch_seconds")
        L = _n_samples(epoch_seconds, sfreq, "epoch_seconds")
        sub_len = None
        if self.sub_window_seconds is not None:
            sub_seconds = check_sfreq(self.sub_window_seconds, name="sub_window_seconds")
            sub_len = _n_samples(sub_seconds, sfreq, "sub_window_seconds")
            if L % sub_len:
                raise ValueError(
                    f"sub_window_seconds={sub_seconds:g} s ({sub_len} samples) does not "
                    f"divide the {L}-sample epoch into whole sub-windows."
                )
        if (isinstance(self.n_context, bool) or not isinstance(self.n_context, numbers.Integral)
                or self.n_context < 0):
            raise ValueError(f"n_context must be a non-negative integer, got {self.n_context!r}.")
        if self.n_context and sub_len is not None:
            raise ValueError("Use either n_context or sub_window_seconds, not both.")
        if self.context_padding not in ("edge", "zeros"):
            raise ValueError(
                f"context_padding must be 'edge' or 'zeros', got {self.context_padding!r}."
            )
        if self.on_mismatch not in ("raise", "truncate"):
            raise ValueError(
                f"on_mismatch must be 'raise' or 'truncate', got {self.on_mismatch!r}."
            )
        return sfreq, L, sub_len

    def segment(self, signals, labels=None, groups=None, recordings=None):
        """Cut the recordings into epochs.

        Parameters
        ----------
        signals : array-like of shape (n_channels, n_samples), mne.io.Raw, or list of them
            One continuous recording, or one per recording (same channels, same
            ``sfreq``). ``mne.io.Raw`` is read in µV.
        labels : array-like of shape (n_labels,), list of them, or None
            One label per epoch (per recording when ``signals`` is a list). None
            returns every complete epoch and ``y=None`` (for prediction).
        groups : scalar, array-like of shape (n_recordings,) or None
            Group (subject) of each recording, repeated for its epochs. None uses the
            recording index, so that no recording is split across folds.
        recordings : array-like of shape (n_recordings,) or None
            Identifier of each recording; None uses ``0, 1, ...``.

        Returns
        -------
        result : Bunch
            ``X`` (float32, ``(n_epochs, n_channels, n_times)``, or with sub-windows /
            context, see the class docstring), ``y`` (``(n_epochs,)`` or None),
            ``groups``, ``recordings``, ``epoch_index`` (position of each epoch in its
            recording), ``n_samples_dropped`` and ``n_labels_dropped`` (per recording),
            ``sfreq``, ``epoch_seconds``.
        """
        sfreq, L, sub_len = self._validate()
        single = not isinstance(signals, (list, tuple))
        sig_list = [signals] if single else list(signals)
        if len(sig_list) == 0:
            raise ValueError("signals is an empty list; give at least one recording.")
        n_rec = len(sig_list)
        if labels is None:
            lab_list = [None] * n_rec
        elif single:
            lab_list = [labels]
        else:
            if not isinstance(labels, (list, tuple)) or len(labels) != n_rec:
                raise ValueError(
                    f"signals is a list of {n_rec} recordings, so labels must be a list of "
                    f"{n_rec} label arrays (one per recording)."
                )
            lab_list = list(labels)
        rec_ids = np.arange(n_rec) if recordings is None else np.asarray(
            [recordings] if single and np.ndim(recordings) == 0 else recordings)
        if rec_ids.shape != (n_rec,):
            raise ValueError(f"recordings must have one entry per recording ({n_rec}).")
        if groups is None:
            group_ids = rec_ids
        else:
            group_ids = np.asarray([groups] if np.ndim(groups) == 0 else groups)
            if group_ids.shape != (n_rec,):
                raise ValueError(
                    f"groups must have one entry per recording ({n_rec}), got shape "
                    f"{group_ids.shape}."
                )
        filters = self.filters
        if filters is not None and not isinstance(filters, (list, tuple)):
            filters = [filters]

        X_parts, y_parts, g_parts, r_parts, idx_parts = [], [], [], [], []
        dropped_samples, dropped_labels = [], []
        n_channels = None
        for i, (sig, lab) in enumerate(zip(sig_list, lab_list)):
            sig = self._check_signal(sig, sfreq, i)
            if n_channels is None:
                n_channels = sig.shape[0]
            elif sig.shape[0] != n_channels:
                raise ValueError(
                    f"Recording {i} has {sig.shape[0]} channels but recording 0 has "
                    f"{n_channels}; all recordings need the same channels."
                )
            if filters:
                cont = sig[None].astype(np.float64)
                for f in filters:
                    cont = clone(f).fit_transform(cont)
                sig = cont[0]
            n_full = sig.shape[1] // L
            n_keep = n_full
            n_lab_drop = 0
            if lab is not None:
                lab = np.asarray(lab)
                if lab.ndim != 1:
                    raise ValueError(f"labels of recording {i} must be 1-D, got {lab.shape}.")
                # None/NaN and mixed text/number labels would silently end up in y
                lab = check_label_array(lab, name=f"labels of recording {i}")
                if len(lab) != n_full:
                    msg = (
                        f"Recording {i}: {len(lab)} labels but {sig.shape[1]} samples = "
                        f"{n_full} complete epochs of {L} samples (+{sig.shape[1] - n_full * L}"
                        " samples)."
                    )
                    if self.on_mismatch == "raise":
                        raise ValueError(
                            msg + " Crop the signal/labels or use on_mismatch='truncate'."
                        )
                    n_keep = min(len(lab), n_full)
                    n_lab_drop = len(lab) - n_keep
                    warnings.warn(
                        msg + f" Keeping the first {n_keep} epochs: dropped {n_lab_drop} "
                        f"label(s) and {sig.shape[1] - n_keep * L} sample(s).",
                        UserWarning, stacklevel=2,
                    )
                lab = lab[:n_keep]
                y_parts.append(lab)
            if n_keep == 0:
                raise ValueError(
                    f"Recording {i} has {sig.shape[1]} samples, fewer than one epoch ({L})."
                )
            epochs = sig[:, : n_keep * L].reshape(n_channels, n_keep, L).transpose(1, 0, 2)
            epochs = epochs.astype(np.float32)
            if self.n_context:
                epochs = self._context(epochs)
            elif sub_len is not None:
                n_sub = L // sub_len
                epochs = epochs.reshape(n_keep, n_channels, n_sub, sub_len).transpose(0, 2, 1, 3)
            X_parts.append(np.ascontiguousarray(epochs))
            g_parts.append(np.repeat(group_ids[i], n_keep))
            r_parts.append(np.repeat(rec_ids[i], n_keep))
            idx_parts.append(np.arange(n_keep))
            dropped_samples.append(sig.shape[1] - n_keep * L)
            dropped_labels.append(n_lab_drop)
        return Bunch(
            X=np.concatenate(X_parts, axis=0),
            y=None if labels is None else np.concatenate(y_parts),
            groups=np.concatenate(g_parts),
            recordings=np.concatenate(r_parts),
            epoch_index=np.concatenate(idx_parts),
            n_samples_dropped=np.asarray(dropped_samples),
            n_labels_dropped=np.asarray(dropped_labels),
            sfreq=sfreq,
            epoch_seconds=float(self.epoch_seconds),
        )

    @staticmethod
    def _check_signal(sig, sfreq, i):
        if hasattr(sig, "get_data") and hasattr(sig, "info"):
            if not np.isclose(float(sig.info["sfreq"]), sfreq):
                raise ValueError(
                    f"Recording {i} is sampled at {sig.info['sfreq']:g} Hz but sfreq={sfreq:g}."
                )
            sig = sig.get_data(units="uV")
        sig = np.asarray(sig)
        if sig.ndim != 2:
            raise ValueError(
                f"Recording {i} must be 2-D (n_channels, n_samples), got shape {sig.shape}; "
                "for one channel use signal[None, :]."
            )
        if not np.issubdtype(sig.dtype, np.number):
            raise ValueError(f"Recording {i} must be numeric, got dtype {sig.dtype}.")
        if sig.size:
            # dtype checks (complex input is refused, never cast to real); the NaN check
            # below reports samples, not epochs, since the signal is not epoched yet
            sig = check_epochs(sig, name=f"Recording {i}", ndim=2, dtype=None, allow_nan=True)
        if not np.isfinite(sig).all():
            raise ValueError(
                f"Recording {i} contains {int((~np.isfinite(sig)).sum())} NaN or infinite "
                "value(s); interpolate or remove them before segmenting."
            )
        return sig

    def _context(self, epochs):
        """(n, c, t) epochs of one recording -> (n, 2k+1, c, t) neighbourhoods."""
        k = self.n_context
        n = len(epochs)
        offsets = np.arange(-k, k + 1)
        idx = np.arange(n)[:, None] + offsets[None, :]
        out = epochs[np.clip(idx, 0, n - 1)]
        if self.context_padding == "zeros":
            out[(idx < 0) | (idx >= n)] = 0.0
        return out
