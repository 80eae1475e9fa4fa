"""Multi-modal 1-D CNN for mouse EEG/EMG sleep staging (Mashrur, Luo, Berggren, Zhao).

Four branches - raw EEG, raw EMG, spectrum of the EEG, spectrum of the EMG - of
Conv1d -> PReLU -> BatchNorm1d -> (Dropout) blocks, globally average-pooled,
concatenated and classified by a linear layer (or a small MLP). Neither the paper nor
the code could be found; every layer hyper-parameter is an [ASSUMPTION] documented in
``NETWORKS.md`` section 5.2.
"""

import torch
from torch import nn

from ._base import SleepNetClassifier
from ._mouse_blocks import (
    CNNBranch,
    check_block_lists,
    check_channel_index,
    insert_callback,
    log_spectrum,
    schedule_callback,
)
from .losses import WeightedCrossEntropyLoss

__all__ = ["MouseCNN", "MouseCNNClassifier"]

class _MouseCNNBase(nn.Module):
    """Shared implementation of :class:`MouseCNN` and ``MouseCNNAttention``."""

    def __init__(self, *, n_chans, n_times, n_classes, eeg_index, emg_index, fft_channels,
                 n_fft_bins, widths, kernel_sizes, dropouts, pool, hidden, head_dropout,
                 n_heads=None, attn_dropout=0.0):
        super().__init__()
        check_block_lists(widths, kernel_sizes, dropouts, n_heads)
        self.n_chans, self.n_times, self.n_classes = int(n_chans), int(n_times), int(n_classes)
        self.eeg_index = check_channel_index("eeg_index", eeg_index, self.n_chans)
        self.emg_index = check_channel_index("emg_index", emg_index, self.n_chans)
        if fft_channels is None:
            self.fft_index = None
            n_bins = self.n_times // 2 + 1
        else:
            if len(fft_channels) != 2:
                raise ValueError(
                    "fft_channels must be None or a pair (EEG-spectrum channel, "
                    f"EMG-spectrum channel), got {fft_channels!r}."
                )
            self.fft_index = (
                check_channel_index("fft_channels[0]", fft_channels[0], self.n_chans),
                check_channel_index("fft_channels[1]", fft_channels[1], self.n_chans),
            )
            n_bins = self.n_times // 2 + 1 if n_fft_bins is None else int(n_fft_bins)
            if not 1 <= n_bins <= self.n_times:
                raise ValueError(
                    f"n_fft_bins={n_bins} must be between 1 and n_times={self.n_times}."
                )
        self.n_fft_bins = n_bins
        min_len = int(pool) ** len(widths) if pool and pool > 1 else 1
        if min(self.n_times, n_bins) < min_len:
            raise ValueError(
                f"n_times={self.n_times} (spectrum: {n_bins} bins) is too short for "
                f"{len(widths)} pooling stages of {pool}; need at least {min_len} samples."
            )

        def branch():
            return CNNBranch(widths, kernel_sizes, dropouts, pool, n_heads, attn_dropout)

        self.eeg_branch, self.emg_branch = branch(), branch()
        self.eeg_fft_branch, self.emg_fft_branch = branch(), branch()
        n_features = 4 * self.eeg_branch.out_features
        if hidden:
            self.head = nn.Sequential(
                nn.Linear(n_features, int(hidden)),
                nn.PReLU(),
                nn.Dropout(head_dropout),
                nn.Linear(int(hidden), self.n_classes),
            )
        else:
            self.head = nn.Linear(n_features, self.n_classes)

    def forward(self, x):
        """Logits ``(batch, n_classes)`` of epochs ``x`` of shape (batch, n_chans, n_times)."""
        eeg = x[:, self.eeg_index: self.eeg_index + 1]
        emg = x[:, self.emg_index: self.emg_index + 1]
        if self.fft_index is None:
            eeg_fft = log_spectrum(eeg).to(eeg.dtype)
            emg_fft = log_spectrum(emg).to(emg.dtype)
        else:
            i, j = self.fft_index
            eeg_fft = x[:, i: i + 1, : self.n_fft_bins]
            emg_fft = x[:, j: j + 1, : self.n_fft_bins]
        features = torch.cat(
            [
                self.eeg_branch(eeg),
                self.emg_branch(emg),
                self.eeg_fft_branch(eeg_fft),
                self.emg_fft_branch(emg_fft),
            ],
            dim=1,
        )
        return self.head(features)


class MouseCNN(_MouseCNNBase):
    """Four-branch 1-D CNN for mouse sleep staging from EEG + EMG (Mashrur et al.).

    Input ``(batch, n_chans, n_times)``; by default 2 channels (EEG, EMG) of 1-s epochs
    at 512 Hz (512 samples); output logits for 3 stages (W, NREM, REM). The two
    spectrum branches see ``log1p(|rfft(x)|)`` of the EEG and EMG epoch (257 bins for
    512 samples), computed inside the module, unless ``fft_channels`` says where
    precomputed spectra are.

    Each branch: ``len(widths)`` blocks of Conv1d(k, padding k//2) -> PReLU ->
    BatchNorm1d -> Dropout -> AvgPool1d(pool), then global average pooling. The four
    64-d branch outputs are concatenated (256) and classified by Linear(256, 3), or
    by Linear(256, hidden) -> PReLU -> Dropout -> Linear(hidden, 3) when ``hidden`` is
    set. 37,391 parameters with the defaults.

    Parameters
    ----------
    n_chans : int, default=2
        Input channels (filled in from the data by the classifier).
    n_times : int, default=512
        Samples per epoch (1 s at 512 Hz in the paper).
    n_classes : int, default=3
        Output classes (W, NREM, REM).
    eeg_index, emg_index : int, default=0, 1
        Channels holding the EEG and the EMG.
    fft_channels : None or (int, int), default=None
        ``None`` computes the spectra inside the module. A pair gives the channels that
        hold precomputed EEG and EMG spectra; the first ``n_fft_bins`` samples of those
        channels are used. With
        ``FFTFeatures(append=True)`` in front (output channels EEG, EMG, spectrum of
        EEG, spectrum of EMG, zero-padded to ``n_times``) use ``fft_channels=(2, 3)``;
        with its defaults (``log=True``, ``normalize="backward"``) the network sees
        the same spectra as when computing them inside.
    n_fft_bins : int or None, default=None
        Spectrum length read from ``fft_channels``; ``None`` means ``n_times // 2 + 1``.
        Ignored when the spectra are computed inside.
    widths : sequence of int, default=(16, 32, 64)
        Conv block widths [ASSUMPTION].
    kernel_sizes : sequence of int, default=(7, 5, 3)
        Conv kernel lengths [ASSUMPTION].
    dropouts : sequence of float, default=(0.0, 0.0, 0.2)
        Dropout after each block's BatchNorm [ASSUMPTION].
    pool : int, default=2
        Average-pooling size after each block [ASSUMPTION].
    hidden : int or None, default=None
        Hidden width of an optional MLP head (64 in the spec sheet's option).
    head_dropout : float, default=0.5
        Dropout of the MLP head (only with ``hidden``).

    Notes
    -----
    The source describes the block as Conv1d -> PReLU -> BatchNorm1d -> optional
    Dropout, four branches and a linear head; all sizes are [ASSUMPTION] (NETWORKS.md
    section 5.2). PReLU has one shared slope per block (PyTorch default). The spectrum is
    not z-scored inside the module; scale the input per mouse beforehand (the spec
    sheet's proposed preprocessing).

    References
    ----------
    .. [1] Mashrur, Luo, Berggren, Zhao (University of Rochester). Deep-learning sleep
           staging of mouse EEG/EMG (multi-modal CNN, CNN with self-attention and
           Transformer variants). Paper and code not found; architecture and recipe
           follow the project's spec sheet ``NETWORKS.md`` section 5, where every layer
           hyper-parameter is marked [ASSUMPTION].
    """

    def __init__(self, n_chans=2, n_times=512, n_classes=3, eeg_index=0, emg_index=1,
                 fft_channels=None, n_fft_bins=None, widths=(16, 32, 64),
                 kernel_sizes=(7, 5, 3), dropouts=(0.0, 0.0, 0.2), pool=2, hidden=None,
                 head_dropout=0.5):
        super().__init__(
            n_chans=n_chans, n_times=n_times, n_classes=n_classes, eeg_index=eeg_index,
            emg_index=emg_index, fft_channels=fft_channels, n_fft_bins=n_fft_bins,
            widths=widths, kernel_sizes=kernel_sizes, dropouts=dropouts, pool=pool,
            hidden=hidden, head_dropout=head_dropout,
        )


class _CosineScheduleMixin:
    """Adds the warm-up + cosine learning-rate schedule as a default callback.

    Built in ``get_default_callbacks`` (not ``__init__``) so that it follows
    ``max_epochs``/``warmup_epochs`` set later and survives ``clone``. Replace it with
    ``callbacks__lr_scheduler=None`` (off) or your own ``callbacks=[...]``.
    """

    def get_default_callbacks(self):
        return insert_callback(
            super().get_default_callbacks(),
            "lr_scheduler",
            schedule_callback(self.max_epochs, self.warmup_epochs),
        )


class MouseCNNClassifier(_CosineScheduleMixin, SleepNetClassifier):
    """Mouse four-branch CNN (:class:`MouseCNN`) as a scikit-learn classifier.

    Training recipe (all [ASSUMPTION], NETWORKS.md section 5.4): AdamW, lr 1e-3, weight
    decay 1e-2, batch 256, 50 epochs, cosine decay of the learning rate per epoch,
    class-weighted cross-entropy with weights proportional to 1/frequency.

    Parameters
    ----------
    module : type, default=MouseCNN
        Network class; hyper-parameters take the ``module__`` prefix.
    criterion : type, default=WeightedCrossEntropyLoss
    optimizer : type, default=torch.optim.AdamW
    lr : float, default=1e-3
    max_epochs : int, default=50
    batch_size : int, default=256
    warmup_epochs : int, default=0
        Linear warm-up epochs before the cosine decay.
    optimizer__weight_decay : float, default=1e-2
    class_weight : default="balanced"
        ``n / (n_classes * count)``: proportional to 1/frequency. The loss averages
        with the weights of the batch's targets, so any normalisation of the weights
        gives the same loss.
    sfreq : float, default=512.0
        Sampling rate the kernels are designed for.
    **kwargs
        Any :class:`~sklearn_sleep.models.SleepNetClassifier` / skorch argument.

    Notes
    -----
    The schedule is a skorch ``LRScheduler`` named ``"lr_scheduler"`` built from
    ``max_epochs`` and ``warmup_epochs`` at every fit; pass
    ``callbacks__lr_scheduler=None`` to train at a constant learning rate. The spec
    sheet also proposes per-mouse z-scoring and early stopping on one held-out training
    mouse (``validation_fraction`` with ``groups``, ``early_stopping``); they are off by
    default.

    References
    ----------
    .. [1] Mashrur, Luo, Berggren, Zhao (University of Rochester). Deep-learning sleep
           staging of mouse EEG/EMG (multi-modal CNN, CNN with self-attention and
           Transformer variants). Paper and code not found; architecture and recipe
           follow the project's spec sheet ``NETWORKS.md`` section 5, where every layer
           hyper-parameter is marked [ASSUMPTION].
    """

    def __init__(
        self,
        module=MouseCNN,
        *,
        criterion=WeightedCrossEntropyLoss,
        optimizer=torch.optim.AdamW,
        lr=1e-3,
        max_epochs=50,
        batch_size=256,
        warmup_epochs=0,
        optimizer__weight_decay=1e-2,
        class_weight="balanced",
        sfreq=512.0,
        **kwargs,
    ):
        super().__init__(
            module,
            criterion=criterion,
            optimizer=optimizer,
            lr=lr,
            max_epochs=max_epochs,
            batch_size=batch_size,
            optimizer__weight_decay=optimizer__weight_decay,
            class_weight=class_weight,
            sfreq=sfreq,
            **kwargs,
        )
        self.warmup_epochs = warmup_epochs
