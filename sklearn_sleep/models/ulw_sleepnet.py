"""ULW-SleepNet: an ultra-lightweight multi-channel sleep-staging network.

Wang Z, Zhou D, Xu Q, Cong F, Al-Sa'd M, Raitoharju J. "ULW-SleepNet: an ultra-lightweight
network for multimodal sleep stage scoring". ICASSP 2026, arXiv:2602.23852. Official
TensorFlow code: https://github.com/wzw999/ULW-SLEEPNET (commit ff5839b).
"""

import math

import torch
from skorch.callbacks import LRScheduler
from torch import nn
from torch.nn import functional as F

from ._base import SleepNetClassifier
from .losses import WeightedCrossEntropyLoss

__all__ = ["ULWSleepNet", "ULWSleepNetClassifier"]


def _tf_same_pad(length, kernel_size, stride):
    """Left/right padding of TensorFlow's ``padding="same"`` (extra element on the right)."""
    out = math.ceil(length / stride)
    total = max((out - 1) * stride + kernel_size - length, 0)
    return total // 2, total - total // 2


class _SeparableConv1d(nn.Module):
    """Depthwise (no bias, multiplier 1) then pointwise (with bias) 1-D convolution.

    Padding follows TensorFlow's "same" rule, computed from the input length at run time.
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride
        self.depthwise = nn.Conv1d(
            in_channels, in_channels, kernel_size, stride=stride, groups=in_channels, bias=False
        )
        self.pointwise = nn.Conv1d(in_channels, out_channels, 1, bias=True)

    def forward(self, x):
        left, right = _tf_same_pad(x.shape[-1], self.kernel_size, self.stride)
        if left or right:
            x = F.pad(x, (left, right))
        return self.pointwise(self.depthwise(x))


class _DSSCBlock(nn.Module):
    """Dual-stream separable-convolution block of ULW-SleepNet (length / 4, rounded up).

    Main stream: 2 x [Sep(k, s=1) -> BN -> ReLU -> MaxPool(2, 2, "same")]. Shortcut
    stream: 2 x Sep(k=1, s=2) with neither BN nor activation. The two are added, with no
    activation after the sum.
    """

    def __init__(self, in_channels, out_channels, kernel_size=3, bn_momentum=0.01, bn_eps=1e-3):
        super().__init__()
        self.main = nn.Sequential(
            _SeparableConv1d(in_channels, out_channels, kernel_size),
            nn.BatchNorm1d(out_channels, momentum=bn_momentum, eps=bn_eps),
            nn.ReLU(),
            nn.MaxPool1d(2, 2, ceil_mode=True),
            _SeparableConv1d(out_channels, out_channels, kernel_size),
            nn.BatchNorm1d(out_channels, momentum=bn_momentum, eps=bn_eps),
            nn.ReLU(),
            nn.MaxPool1d(2, 2, ceil_mode=True),
        )
        self.shortcut = nn.Sequential(
            _SeparableConv1d(in_channels, out_channels, 1, stride=2),
            _SeparableConv1d(out_channels, out_channels, 1, stride=2),
        )

    def forward(self, x):
        return self.main(x) + self.shortcut(x)


class ULWSleepNet(nn.Module):
    """ULW-SleepNet (Wang et al., ICASSP 2026): ~13 K parameters, per-channel shared weights.

    Every input channel goes through the *same* feature extractor (three DSSC blocks
    1 -> 8 -> 16 -> 32 filters, each dividing the length by 4, then global average
    pooling); the ``n_chans`` 32-d vectors are concatenated channel by channel and
    classified by Dropout -> Dense(64, linear) -> Dense(n_classes).

    Parameters
    ----------
    n_chans : int, default=4
        Number of input channels (the paper uses EEG Fpz-Cz, EEG Pz-Oz, EOG horizontal and
        EMG submental). Filled in from the data by the classifier.
    n_times : int, default=3000
        Samples per epoch (30 s at 100 Hz in the paper). Any length works; the shapes
        follow from it.
    n_classes : int, default=5
        Number of sleep stages.
    filters : tuple of int, default=(8, 16, 32)
        Output filters of the three DSSC blocks.
    kernel_size : int, default=3
        Kernel of the main-stream separable convolutions.
    block_dropout : float, default=0.1
        Dropout after each DSSC block.
    dropout : float, default=0.3
        Dropout before the dense layers.
    n_hidden : int, default=64
        Width of the (linear, no activation) hidden dense layer.
    bn_momentum : float, default=0.01
        PyTorch BatchNorm momentum (Keras ``momentum=0.99``).
    bn_eps : float, default=1e-3
        BatchNorm epsilon (Keras default).

    Attributes
    ----------
    out_lengths : tuple of int
        Length of each channel's feature map after each block, e.g. ``(750, 188, 47)``
        for 3000 samples.

    Notes
    -----
    Follows the official TensorFlow code: TensorFlow "same" padding (extra pad on the
    right) for the convolutions, ceil-mode "same" max-pooling, depthwise convolutions
    without bias and pointwise ones with bias, Glorot-uniform kernels and zero biases.
    The ``l2(1e-3)`` regulariser of the code is passed as ``kernel_regularizer`` to
    Keras ``SeparableConv1D``, which ignores it, so no weight decay is used here.
    With ``n_chans=4`` the network has 13,337 trainable parameters (9,241 for 2 channels,
    11,289 for 3) and 3.50 M multiply-accumulates in its convolutions and dense layers.

    References
    ----------
    .. [1] Wang Z, Zhou D, Xu Q, Cong F, Al-Sa'd M, Raitoharju J. ULW-SleepNet: an
           ultra-lightweight network for multimodal sleep stage scoring. ICASSP 2026.
           arXiv:2602.23852. Code: https://github.com/wzw999/ULW-SLEEPNET (ff5839b).
    """

    def __init__(
        self,
        n_chans=4,
        n_times=3000,
        n_classes=5,
        filters=(8, 16, 32),
        kernel_size=3,
        block_dropout=0.1,
        dropout=0.3,
        n_hidden=64,
        bn_momentum=0.01,
        bn_eps=1e-3,
    ):
        super().__init__()
        if int(n_chans) < 1 or int(n_times) < 1:
            raise ValueError(f"n_chans and n_times must be >= 1, got {n_chans} and {n_times}.")
        self.n_chans = int(n_chans)
        self.n_times = int(n_times)
        self.n_classes = int(n_classes)
        layers = []
        in_ch, length, lengths = 1, self.n_times, []
        for f in filters:
            layers += [_DSSCBlock(in_ch, f, kernel_size, bn_momentum, bn_eps), nn.Dropout(block_dropout)]
            in_ch = f
            length = math.ceil(math.ceil(length / 2) / 2)
            lengths.append(length)
        self.out_lengths = tuple(lengths)
        self.extractor = nn.Sequential(*layers)
        self.n_features = in_ch
        self.classifier = nn.Sequential(
            nn.Dropout(dropout),
            nn.Linear(self.n_chans * in_ch, n_hidden),
            nn.Linear(n_hidden, self.n_classes),
        )
        self.reset_parameters()

    def reset_parameters(self):
        """Keras defaults: Glorot-uniform kernels, zero biases, BN weight 1 / bias 0."""
        for m in self.modules():
            if isinstance(m, (nn.Conv1d, nn.Linear)):
                nn.init.xavier_uniform_(m.weight)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
            elif isinstance(m, nn.BatchNorm1d):
                m.reset_parameters()

    def features(self, x):
        """Per-channel 32-d embeddings, shape ``(batch, n_chans, filters[-1])``."""
        b, c, t = x.shape
        h = self.extractor(x.reshape(b * c, 1, t))  # same weights for every channel
        return h.mean(dim=-1).reshape(b, c, -1)

    def forward(self, x):
        """Logits of shape ``(batch, n_classes)`` for ``x`` of shape (batch, n_chans, n_times)."""
        z = self.features(x)
        return self.classifier(z.flatten(1))  # channel-major, as Keras Flatten of (C, 32)


class ULWSleepNetClassifier(SleepNetClassifier):
    """ULW-SleepNet as a scikit-learn classifier, with the training recipe of the official code.

    Parameters are those of :class:`~sklearn_sleep.models.SleepNetClassifier`; only the
    defaults differ. Network hyper-parameters take the ``module__`` prefix (see
    :class:`ULWSleepNet`), e.g. ``module__dropout=0.5``.

    Parameters
    ----------
    module : type, default=ULWSleepNet
    criterion : type, default=WeightedCrossEntropyLoss
        Plain cross-entropy (no class weights, as in the code).
    optimizer : type, default=torch.optim.Adam
    lr : float, default=1e-3
        Initial learning rate of the cosine schedule with warm restarts.
    max_epochs : int, default=50
    batch_size : int, default=32
    optimizer__amsgrad : bool, default=True
    iterator_train__shuffle : bool, default=True
        Shuffle the training epochs at each pass (Keras ``fit`` does).
    sfreq : float, default=100.0
    **kwargs
        Any other :class:`SleepNetClassifier`/skorch argument. The learning-rate
        schedule is the default callback ``"lr_scheduler"``: change it with e.g.
        ``callbacks__lr_scheduler__T_0=20`` or switch it off with
        ``callbacks__lr_scheduler=None``.

    Notes
    -----
    * Learning-rate schedule: Keras ``CosineDecayRestarts(1e-3, first_decay_steps=10)``
      counts optimizer *iterations*, so cycles last 10, 20, 40, ... batches. Its PyTorch
      equivalent ``CosineAnnealingWarmRestarts(T_0=10, T_mult=2, eta_min=0)`` is stepped
      after every training batch.
    * The code checkpoints the epoch with the best *test-fold* accuracy; here the last
      epoch is kept (use ``validation_fraction`` and ``early_stopping`` for a proper
      held-out selection).
    * Training-epoch shuffling is an [ASSUMPTION] (the Keras default).

    References
    ----------
    .. [1] Wang Z, Zhou D, Xu Q, Cong F, Al-Sa'd M, Raitoharju J. ULW-SleepNet: an
           ultra-lightweight network for multimodal sleep stage scoring. ICASSP 2026.
           arXiv:2602.23852. Code: https://github.com/wzw999/ULW-SLEEPNET (ff5839b).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_sleep.models import ULWSleepNetClassifier
    >>> X = np.random.default_rng(0).standard_normal((8, 4, 3000)).astype("float32")
    >>> y = np.array(["W", "N1", "N2", "N3", "REM", "W", "N2", "REM"])
    >>> clf = ULWSleepNetClassifier(max_epochs=1, device="cpu", random_state=0).fit(X, y)
    >>> clf.predict(X).shape
    (8,)
    """

    def __init__(
        self,
        module=ULWSleepNet,
        *,
        criterion=WeightedCrossEntropyLoss,
        optimizer=torch.optim.Adam,
        lr=1e-3,
        max_epochs=50,
        batch_size=32,
        optimizer__amsgrad=True,
        iterator_train__shuffle=True,
        sfreq=100.0,
        **kwargs,
    ):
        super().__init__(
            module,
            criterion=criterion,
            optimizer=optimizer,
            lr=lr,
            max_epochs=max_epochs,
            batch_size=batch_size,
            optimizer__amsgrad=optimizer__amsgrad,
            iterator_train__shuffle=iterator_train__shuffle,
            sfreq=sfreq,
            **kwargs,
        )

    def get_default_callbacks(self):
        return super().get_default_callbacks() + [
            (
                "lr_scheduler",
                LRScheduler(
                    policy=torch.optim.lr_scheduler.CosineAnnealingWarmRestarts,
                    T_0=10,
                    T_mult=2,
                    eta_min=0.0,
                    step_every="batch",
                ),
            )
        ]
