"""Multi-modal 1-D CNN for mouse EEG/EMG sleep staging (Mashrur, Luo, Berggren, Zhao).

Four branches - raw EEG, raw EMG, spectrum of the EEG, spectrum of the EMG - of
Conv1d -> PReLU -> BatchNorm1d -> (Dropout) blocks, each ending with average pooling,
flatten, dropout, linear layers and a normalisation (the paper's section IV.A), then
concatenated and classified by a pair of linear + activation blocks. The paper fixes
this structure and the training recipe (section V.B); layer sizes are not given and
are [ASSUMPTION]s (``NETWORKS.md`` section 5, ``docs/networks.md``).
"""

import torch
from torch import nn

from ._base import SleepNetClassifier
from ._mouse_blocks import (
    CNNBranch,
    OneCycleSchedule,
    PaperBranch,
    check_block_lists,
    check_channel_index,
    insert_callback,
    log_spectrum,
    schedule_callback,
)
from .losses import WeightedCrossEntropyLoss

__all__ = ["MouseCNN", "MouseCNNClassifier"]

_DESIGNS = ("paper", "compact")


class _MouseCNNBase(nn.Module):
    """Shared implementation of :class:`MouseCNN` and ``MouseCNNAttention``."""

    def __init__(self, *, n_chans, n_times, n_classes, eeg_index, emg_index, fft_channels,
                 n_fft_bins, design, widths, kernel_sizes, strides, dropouts, pool,
                 branch_dropout, branch_linear, hidden, head_dropout, n_heads=None,
                 attn_dropout=0.0):
        super().__init__()
        if design not in _DESIGNS:
            raise ValueError(f"design must be one of {_DESIGNS}, got {design!r}.")
        self.design = design
        check_block_lists(widths, kernel_sizes, dropouts, n_heads,
                          strides if design == "paper" else None)
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

        if design == "paper":
            def branch(n_in):
                return PaperBranch(n_in, widths, kernel_sizes, strides, dropouts, pool,
                                   branch_dropout, branch_linear, n_heads, attn_dropout)

            self.eeg_branch, self.emg_branch = branch(self.n_times), branch(self.n_times)
            self.eeg_fft_branch, self.emg_fft_branch = branch(n_bins), branch(n_bins)
        else:
            min_len = int(pool) ** len(widths) if pool and pool > 1 else 1
            if min(self.n_times, n_bins) < min_len:
                raise ValueError(
                    f"n_times={self.n_times} (spectrum: {n_bins} bins) is too short for "
                    f"{len(widths)} pooling stages of {pool}; need at least {min_len} "
                    "samples."
                )

            def branch():
                return CNNBranch(widths, kernel_sizes, dropouts, pool, n_heads, attn_dropout)

            self.eeg_branch, self.emg_branch = branch(), branch()
            self.eeg_fft_branch, self.emg_fft_branch = branch(), branch()
        n_features = 4 * self.eeg_branch.out_features
        if hidden:
            layers = [nn.Linear(n_features, int(hidden)), nn.PReLU()]
            if head_dropout:
                layers.append(nn.Dropout(head_dropout))
            layers.append(nn.Linear(int(hidden), self.n_classes))
            self.head = nn.Sequential(*layers)
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


# Module arguments that rebuild the pre-paper ("compact") variant of the mouse CNNs:
# per-block average pooling, a global mean per branch and one linear layer.
_COMPACT_MODULE_PARAMS = {"design": "compact", "pool": 2, "hidden": None, "head_dropout": 0.5}


class MouseCNN(_MouseCNNBase):
    """Four-branch 1-D CNN for mouse sleep staging from EEG + EMG (Mashrur et al.).

    Input ``(batch, n_chans, n_times)``; by default 2 channels (EEG, EMG) of 1-s epochs
    at 512 Hz (512 samples); output logits for 3 stages (W, NREM, REM). The two
    spectrum branches see ``log1p(|rfft(x)|)`` of the EEG and EMG epoch (257 bins for
    512 samples), computed inside the module, unless ``fft_channels`` says where
    precomputed spectra are.

    ``design="paper"`` (default) follows the paper's words (section IV.A): each branch
    is ``len(widths)`` conv blocks Conv1d -> PReLU -> BatchNorm1d -> Dropout, "then
    average pooling, flatten, dropout, linear layers and a normalisation of the
    activation" (here AvgPool1d(``pool``) -> Flatten -> Dropout(``branch_dropout``) ->
    Linear -> PReLU -> Linear (sizes ``branch_linear``) -> BatchNorm1d); the four
    branch outputs are concatenated and classified by "a pair of linear + activation
    blocks": Linear(4 * 64, ``hidden``) -> PReLU -> Linear(``hidden``, n_classes),
    whose activation is the softmax applied by the loss and by ``predict_proba``
    (the module returns logits). 480,532 parameters with the defaults.

    ``design="compact"`` is the earlier, smaller reading (every block average-pools by
    ``pool``, each branch ends with a global mean over time, single linear head when
    ``hidden=None``): ``MouseCNN(design="compact", pool=2, hidden=None,
    head_dropout=0.5)`` rebuilds it exactly (37,391 parameters).

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
    design : {"paper", "compact"}, default="paper"
        Branch ending and head: the paper's (pool, flatten, dropout, linear layers,
        normalisation; two-layer head) or the compact global-mean reading.
    widths : sequence of int, default=(16, 32, 64)
        Conv block widths [ASSUMPTION].
    kernel_sizes : sequence of int, default=(7, 5, 3)
        Conv kernel lengths [ASSUMPTION].
    strides : sequence of int, default=(2, 2, 2)
        Conv strides (``design="paper"`` only; compact blocks use stride 1)
        [ASSUMPTION].
    dropouts : sequence of float, default=(0.0, 0.0, 0.2)
        Optional dropout of each conv block [ASSUMPTION].
    pool : int, default=4
        ``design="paper"``: the branch's average-pooling size after the conv blocks;
        ``"compact"``: the pooling after every block [ASSUMPTION].
    branch_dropout : float, default=0.5
        Dropout after the flatten (``design="paper"``) [ASSUMPTION].
    branch_linear : sequence of int, default=(128, 64)
        Sizes of the branch's linear layers, PReLU between them, BatchNorm1d after the
        last (``design="paper"``) [ASSUMPTION].
    hidden : int or None, default=64
        Width of the first linear + activation block of the classifier [ASSUMPTION];
        ``None`` gives a single linear layer.
    head_dropout : float, default=0.0
        Dropout between the two head blocks (only with ``hidden``) [ASSUMPTION].

    Notes
    -----
    The paper (Mashrur, Luo, Berggren, Zhao, sections IV.A and V) fixes the block
    order, the branch ending and the two-block classifier; widths, kernels, strides,
    pooling and linear sizes are not given and are [ASSUMPTION]. PReLU has one shared
    slope per layer (PyTorch default). The spectrum is not z-scored inside the module;
    scale the input per mouse beforehand.

    References
    ----------
    .. [1] Mashrur, Luo, Berggren, Zhao (University of Rochester). "Mice Sleep Staging
           from EEG and EMG signals": multi-modal CNN (section IV.A), CNN with
           self-attention (IV.B) and Transformer (IV.C); training in section V.B. No
           code is public; see ``NETWORKS.md`` section 5.
    """

    def __init__(self, n_chans=2, n_times=512, n_classes=3, eeg_index=0, emg_index=1,
                 fft_channels=None, n_fft_bins=None, design="paper", widths=(16, 32, 64),
                 kernel_sizes=(7, 5, 3), strides=(2, 2, 2), dropouts=(0.0, 0.0, 0.2), pool=4,
                 branch_dropout=0.5, branch_linear=(128, 64), hidden=64, head_dropout=0.0):
        super().__init__(
            n_chans=n_chans, n_times=n_times, n_classes=n_classes, eeg_index=eeg_index,
            emg_index=emg_index, fft_channels=fft_channels, n_fft_bins=n_fft_bins,
            design=design, widths=widths, kernel_sizes=kernel_sizes, strides=strides,
            dropouts=dropouts, pool=pool, branch_dropout=branch_dropout,
            branch_linear=branch_linear, hidden=hidden, head_dropout=head_dropout,
        )


_LR_SCHEDULES = ("onecycle", "cosine", None)


class _MouseScheduleMixin:
    """Adds the learning-rate schedule chosen by ``lr_schedule`` as a default callback.

    ``"onecycle"`` (the paper's OneCycleLR, per batch, max_lr = ``lr``), ``"cosine"``
    (linear warm-up over ``warmup_epochs`` then cosine decay, per epoch) or ``None``.
    Built in ``get_default_callbacks`` (not ``__init__``) so that it follows
    ``max_epochs``/``lr_schedule`` set later and survives ``clone``. The callback is
    named ``"lr_scheduler"``; ``callbacks__lr_scheduler=None`` also switches it off.
    """

    def get_default_callbacks(self):
        callbacks = super().get_default_callbacks()
        schedule = self.lr_schedule
        if schedule not in _LR_SCHEDULES:
            raise ValueError(
                f"lr_schedule must be one of {_LR_SCHEDULES}, got {schedule!r}."
            )
        if schedule is None:
            return callbacks
        if schedule == "onecycle":
            callback = OneCycleSchedule()
        else:
            callback = schedule_callback(self.max_epochs, self.warmup_epochs)
        return insert_callback(callbacks, "lr_scheduler", callback)


class MouseCNNClassifier(_MouseScheduleMixin, SleepNetClassifier):
    """Mouse four-branch CNN (:class:`MouseCNN`) as a scikit-learn classifier.

    Defaults are the paper's training recipe (Mashrur et al., section V.B): Adam,
    lr 0.01, OneCycleLR (stepped per batch, peak = ``lr``), batch 64, 30 epochs, plain
    (unweighted) cross-entropy.

    Parameters
    ----------
    module : type, default=MouseCNN
        Network class; hyper-parameters take the ``module__`` prefix.
    criterion : type, default=WeightedCrossEntropyLoss
        Cross-entropy; without class weights it is PyTorch's plain
        ``CrossEntropyLoss``.
    optimizer : type, default=torch.optim.Adam
        Adam with PyTorch's defaults (no weight decay) [PAPER: "Adam"].
    lr : float, default=0.01
        Peak learning rate of the one-cycle schedule [PAPER].
    max_epochs : int, default=30
        [PAPER]
    batch_size : int, default=64
        [PAPER]
    lr_schedule : {"onecycle", "cosine", None}, default="onecycle"
        ``"onecycle"``: :class:`torch.optim.lr_scheduler.OneCycleLR` with PyTorch's
        default shape, ``max_lr=lr`` and ``total_steps = max_epochs x batches per
        epoch`` [PAPER: OneCycleLR; shape ASSUMPTION]. ``"cosine"``: linear warm-up
        over ``warmup_epochs`` then cosine decay, per epoch. ``None``: constant lr.
    warmup_epochs : int, default=0
        Warm-up of the ``"cosine"`` schedule (ignored otherwise).
    class_weight : default=None
        Unweighted cross-entropy [PAPER: "CrossEntropyLoss"].
    sfreq : float, default=512.0
        Sampling rate the kernels are designed for.
    **kwargs
        Any :class:`~sklearn_sleep.models.SleepNetClassifier` / skorch argument.

    Notes
    -----
    The paper keeps the model with the best F1 (on the held-out mouse, as far as the
    text says); no model selection is done here unless ``validation_fraction`` /
    ``early_stopping`` are set. The earlier recipe of this library (AdamW, weight decay
    1e-2, lr 1e-3, batch 256, 50 epochs, per-epoch cosine decay, class weights
    1/frequency) is one call away: ``MouseCNNClassifier(optimizer=torch.optim.AdamW,
    optimizer__weight_decay=1e-2, lr=1e-3, batch_size=256, max_epochs=50,
    lr_schedule="cosine", class_weight="balanced")``; see ``docs/networks.md``.

    References
    ----------
    .. [1] Mashrur, Luo, Berggren, Zhao (University of Rochester). "Mice Sleep Staging
           from EEG and EMG signals", sections IV.A and V.B; see ``NETWORKS.md``
           section 5.
    """

    def __init__(
        self,
        module=MouseCNN,
        *,
        criterion=WeightedCrossEntropyLoss,
        optimizer=torch.optim.Adam,
        lr=0.01,
        max_epochs=30,
        batch_size=64,
        lr_schedule="onecycle",
        warmup_epochs=0,
        class_weight=None,
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
            class_weight=class_weight,
            sfreq=sfreq,
            **kwargs,
        )
        self.lr_schedule = lr_schedule
        self.warmup_epochs = warmup_epochs
