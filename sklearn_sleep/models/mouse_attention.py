"""Mouse EEG/EMG CNN with self-attention after each convolution (Mashrur et al.).

The four-branch CNN of :mod:`sklearn_sleep.models.mouse_cnn` with multi-head
self-attention over time inserted after every 1-D convolution layer, per signal (the
paper's section IV.B). The paper fixes the placement and the training recipe (section
V.B); head counts and sizes are [ASSUMPTION]s (``NETWORKS.md`` section 5,
``docs/networks.md``).
"""

import torch

from ._base import SleepNetClassifier
from .losses import WeightedCrossEntropyLoss
from .mouse_cnn import _MouseCNNBase, _MouseScheduleMixin

__all__ = ["MouseCNNAttention", "MouseCNNAttentionClassifier"]


class MouseCNNAttention(_MouseCNNBase):
    """Four-branch mouse CNN with multi-head self-attention over time (Mashrur et al.).

    As :class:`~sklearn_sleep.models.MouseCNN` (branches EEG, EMG, spectrum of the EEG,
    spectrum of the EMG), with multi-head self-attention "after each 1-D convolution
    layer" (section IV.B): in every conv block ``x = conv(x); x = x + MHSA(x)`` and then
    PReLU -> BatchNorm1d -> Dropout. Tokens are the convolution's output positions,
    of dimension = block width; the signal is query, key and value, without masking.
    568,340 parameters with the defaults (the CNN's 480,532 plus 4 x 21,952 for the
    attention layers).

    ``design="compact"`` is the earlier reading (attention after each block's average
    pooling, ``x = LayerNorm(x + MHSA(x))``, global mean per branch):
    ``MouseCNNAttention(design="compact", pool=2, hidden=None, head_dropout=0.5)``
    rebuilds it exactly (126,095 parameters).

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
    design : {"paper", "compact"}, default="paper"
        See above and :class:`~sklearn_sleep.models.MouseCNN`.
    widths : sequence of int, default=(16, 32, 64)
        Conv block widths [ASSUMPTION].
    kernel_sizes : sequence of int, default=(7, 5, 3)
        Conv kernel lengths [ASSUMPTION].
    strides : sequence of int, default=(2, 2, 2)
        Conv strides (``design="paper"`` only) [ASSUMPTION]; they also keep the
        attention affordable (256/128/64 tokens for a 512-sample epoch).
    dropouts : sequence of float, default=(0.0, 0.0, 0.2)
        Optional dropout of each conv block [ASSUMPTION].
    pool : int, default=4
        Average pooling after the conv blocks (``"compact"``: after every block)
        [ASSUMPTION].
    branch_dropout : float, default=0.5
        Dropout after the flatten (``design="paper"``) [ASSUMPTION].
    branch_linear : sequence of int, default=(128, 64)
        Branch linear layer sizes, BatchNorm1d after the last [ASSUMPTION].
    n_heads : sequence of int, default=(2, 4, 4)
        Attention heads per block, the same for every signal; each must divide the
        block width [ASSUMPTION: the paper tunes heads per signal without giving them].
    attn_dropout : float, default=0.0
        Dropout on the attention weights [ASSUMPTION].
    hidden : int or None, default=64
        Width of the first linear + activation block of the classifier [ASSUMPTION].
    head_dropout : float, default=0.0
        Dropout between the two head blocks [ASSUMPTION].

    Notes
    -----
    The residual connection around the attention is an [ASSUMPTION] (the paper does
    not say); the BatchNorm that follows normalises the sum. No positional encoding is
    added: the convolutions already carry local position information [ASSUMPTION].

    References
    ----------
    .. [1] Mashrur, Luo, Berggren, Zhao (University of Rochester). "Mice Sleep Staging
           from EEG and EMG signals", sections IV.B and V.B; see ``NETWORKS.md``
           section 5.
    """

    def __init__(self, n_chans=2, n_times=512, n_classes=3, eeg_index=0, emg_index=1,
                 fft_channels=None, n_fft_bins=None, design="paper", widths=(16, 32, 64),
                 kernel_sizes=(7, 5, 3), strides=(2, 2, 2), dropouts=(0.0, 0.0, 0.2), pool=4,
                 branch_dropout=0.5, branch_linear=(128, 64), n_heads=(2, 4, 4),
                 attn_dropout=0.0, hidden=64, head_dropout=0.0):
        super().__init__(
            n_chans=n_chans, n_times=n_times, n_classes=n_classes, eeg_index=eeg_index,
            emg_index=emg_index, fft_channels=fft_channels, n_fft_bins=n_fft_bins,
            design=design, widths=widths, kernel_sizes=kernel_sizes, strides=strides,
            dropouts=dropouts, pool=pool, branch_dropout=branch_dropout,
            branch_linear=branch_linear, hidden=hidden, head_dropout=head_dropout,
            n_heads=n_heads, attn_dropout=attn_dropout,
        )


class MouseCNNAttentionClassifier(_MouseScheduleMixin, SleepNetClassifier):
    """Mouse CNN + self-attention (:class:`MouseCNNAttention`) as a scikit-learn classifier.

    Defaults are the paper's recipe (Mashrur et al., section V.B: "same batch size and
    learning rate" as the CNN): Adam, lr 0.01, OneCycleLR per batch, batch 64,
    30 epochs, plain (unweighted) cross-entropy.

    Parameters
    ----------
    module : type, default=MouseCNNAttention
        Network class; hyper-parameters take the ``module__`` prefix.
    criterion : type, default=WeightedCrossEntropyLoss
        Cross-entropy; without class weights it is plain ``CrossEntropyLoss``.
    optimizer : type, default=torch.optim.Adam
        PyTorch defaults, no weight decay [PAPER: as the CNN].
    lr : float, default=0.01
        Peak of the one-cycle schedule [PAPER].
    max_epochs : int, default=30
        [PAPER: as the CNN]
    batch_size : int, default=64
        [PAPER]
    lr_schedule : {"onecycle", "cosine", None}, default="onecycle"
        As for :class:`~sklearn_sleep.models.MouseCNNClassifier`.
    warmup_epochs : int, default=0
        Warm-up of the ``"cosine"`` schedule (ignored otherwise).
    class_weight : default=None
        Unweighted cross-entropy [PAPER].
    sfreq : float, default=512.0
    **kwargs
        Any :class:`~sklearn_sleep.models.SleepNetClassifier` / skorch argument.

    Notes
    -----
    The earlier recipe of this library is reachable with ``optimizer=torch.optim.AdamW,
    optimizer__weight_decay=1e-2, lr=1e-3, batch_size=256, max_epochs=50,
    lr_schedule="cosine", class_weight="balanced"``.

    References
    ----------
    .. [1] Mashrur, Luo, Berggren, Zhao (University of Rochester). "Mice Sleep Staging
           from EEG and EMG signals", section V.B; see ``NETWORKS.md`` section 5.
    """

    def __init__(
        self,
        module=MouseCNNAttention,
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
