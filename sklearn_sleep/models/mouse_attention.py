"""Mouse EEG/EMG CNN with self-attention after each conv block (Mashrur et al.).

The four-branch CNN of :mod:`sklearn_sleep.models.mouse_cnn` with multi-head
self-attention over time (residual + LayerNorm) inserted after every conv block.
Paper and code not found: all hyper-parameters are [ASSUMPTION] (NETWORKS.md
section 5.3).
"""

import torch

from ._base import SleepNetClassifier
from .losses import WeightedCrossEntropyLoss
from .mouse_cnn import _CosineScheduleMixin, _MouseCNNBase

__all__ = ["MouseCNNAttention", "MouseCNNAttentionClassifier"]


class MouseCNNAttention(_MouseCNNBase):
    """Four-branch mouse CNN with multi-head self-attention over time (Mashrur et al.).

    As :class:`~sklearn_sleep.models.MouseCNN` (branches EEG, EMG, spectrum of the EEG,
    spectrum of the EMG; Conv1d -> PReLU -> BatchNorm1d -> Dropout -> AvgPool blocks),
    with, after each block, self-attention whose tokens are the pooled time positions
    (dimension = block width): ``x = LayerNorm(x + MHSA(x))``. 126,095 parameters
    with the defaults.

    Parameters
    ----------
    n_chans : int, default=2
        Input channels (filled in from the data by the classifier).
    n_times : int, default=512
        Samples per epoch (1 s at 512 Hz).
    n_classes : int, default=3
        Output classes (W, NREM, REM).
    eeg_index, emg_index : int, default=0, 1
        Channels holding the EEG and the EMG.
    fft_channels : None or (int, int), default=None
        ``None`` computes ``log1p(|rfft|)`` inside; a pair names the channels holding
        precomputed (zero-padded) EEG and EMG spectra, as for ``MouseCNN``.
    n_fft_bins : int or None, default=None
        Spectrum length read from ``fft_channels`` (``n_times // 2 + 1`` if None).
    widths : sequence of int, default=(16, 32, 64)
        Conv block widths [ASSUMPTION].
    kernel_sizes : sequence of int, default=(7, 5, 3)
        Conv kernel lengths [ASSUMPTION].
    dropouts : sequence of float, default=(0.0, 0.0, 0.2)
        Dropout after each block's BatchNorm [ASSUMPTION].
    pool : int, default=2
        Average-pooling size after each block [ASSUMPTION].
    n_heads : sequence of int, default=(2, 4, 4)
        Attention heads per block; each must divide the block width [ASSUMPTION].
    attn_dropout : float, default=0.0
        Dropout on the attention weights [ASSUMPTION].
    hidden : int or None, default=None
        Hidden width of an optional MLP head.
    head_dropout : float, default=0.5
        Dropout of the MLP head (only with ``hidden``).

    Notes
    -----
    "After each conv block" is read as after the block's pooling, so attention runs
    over 256/128/64 positions for a 512-sample epoch (128/64/32 for the 257-bin
    spectrum) - half the cost of attending before pooling [ASSUMPTION]. No positional
    encoding is added: the convolutions already carry local position information
    [ASSUMPTION].

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
                 kernel_sizes=(7, 5, 3), dropouts=(0.0, 0.0, 0.2), pool=2,
                 n_heads=(2, 4, 4), attn_dropout=0.0, hidden=None, head_dropout=0.5):
        super().__init__(
            n_chans=n_chans, n_times=n_times, n_classes=n_classes, eeg_index=eeg_index,
            emg_index=emg_index, fft_channels=fft_channels, n_fft_bins=n_fft_bins,
            widths=widths, kernel_sizes=kernel_sizes, dropouts=dropouts, pool=pool,
            hidden=hidden, head_dropout=head_dropout, n_heads=n_heads,
            attn_dropout=attn_dropout,
        )


class MouseCNNAttentionClassifier(_CosineScheduleMixin, SleepNetClassifier):
    """Mouse CNN + self-attention (:class:`MouseCNNAttention`) as a scikit-learn classifier.

    Training recipe (all [ASSUMPTION], NETWORKS.md section 5.4): AdamW, lr 1e-3, weight
    decay 1e-2, batch 256, 50 epochs, per-epoch cosine decay of the learning rate,
    class-weighted cross-entropy (weights proportional to 1/frequency).

    Parameters
    ----------
    module : type, default=MouseCNNAttention
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
        ``n / (n_classes * count)`` (1/frequency; the weighted-mean loss does not
        depend on how the weights are normalised).
    sfreq : float, default=512.0
    **kwargs
        Any :class:`~sklearn_sleep.models.SleepNetClassifier` / skorch argument.

    Notes
    -----
    The learning-rate schedule is the default callback ``"lr_scheduler"``, rebuilt from
    ``max_epochs``/``warmup_epochs`` at every fit; ``callbacks__lr_scheduler=None``
    switches it off.

    References
    ----------
    .. [1] Mashrur, Luo, Berggren, Zhao (University of Rochester). Deep-learning sleep
           staging of mouse EEG/EMG. Paper and code not found; see ``NETWORKS.md``
           section 5 (all hyper-parameters [ASSUMPTION]).
    """

    def __init__(
        self,
        module=MouseCNNAttention,
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
