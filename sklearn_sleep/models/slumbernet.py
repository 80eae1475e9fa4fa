"""SlumberNet: a 2-D residual network for mouse sleep staging from EEG + EMG.

Port of the network, preprocessing and training recipe of Jha, Valekunja & Reddy
(Sci Rep 2024), as coded in the authors' deposited scripts (read from the fork
``laulaurose/SlumberNet`` at commit a658f1f; NETWORKS.md section 6): 4-s epochs at
256 Hz are decimated to 256 samples per channel (EEG and EMG), turned into a
(256, 2) "image" and classified by 7 residual blocks of "same"-padded 2-D convolutions.
"""

from fractions import Fraction

import numpy as np
import torch
from scipy import signal
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted
from skorch.callbacks import LRScheduler
from torch import nn

from ..utils._validation import check_epochs, check_sfreq
from ._base import SleepNetClassifier
from ._mouse_blocks import check_channel_index, insert_callback
from .losses import WeightedCrossEntropyLoss

__all__ = [
    "SlumberNet",
    "SlumberNetClassifier",
    "SlumberNetPreprocessor",
    "slumbernet_preprocess",
]



# ---------------------------------------------------------------------------------
# preprocessing
# ---------------------------------------------------------------------------------
def _polynomial_detrend(x, order):
    """Subtract the least-squares polynomial of degree ``order`` in the sample index.

    Same fit as ``np.polyfit(arange(n), x, order)`` for every epoch (the authors'
    baseline correction), computed on a Legendre basis over [-1, 1] for numerical
    stability: the fitted polynomial is the same, only the basis differs.
    """
    n = x.shape[-1]
    if order >= n:
        raise ValueError(
            f"detrend_order={order} needs more than {order} samples per epoch, got {n}."
        )
    t = np.linspace(-1.0, 1.0, n)
    basis = np.polynomial.legendre.legvander(t, order)  # (n, order + 1)
    flat = x.reshape(-1, n).T.astype(np.float64)  # (n, m)
    coef, *_ = np.linalg.lstsq(basis, flat, rcond=None)
    return (flat - basis @ coef).T.reshape(x.shape)


def slumbernet_preprocess(X, sfreq=256.0, *, sfreq_out=64.0, eeg_index=0, emg_index=1,
                          emg_lowpass=16.0, emg_filter_order=4, detrend_order=12):
    """Per-epoch preprocessing of SlumberNet (Jha et al., Sci Rep 2024).

    For each epoch (4 s at 256 Hz = 1024 samples in the paper):

    * EEG: ``scipy.signal.resample_poly`` from ``sfreq`` to ``sfreq_out`` (1024 -> 256
      samples), then subtraction of a 12th-order polynomial fitted on the sample index;
    * EMG: 4th-order Butterworth low-pass at 16 Hz applied causally
      (``scipy.signal.lfilter``) at ``sfreq``, then the same resampling and detrending.

    No scaling is applied (the authors' "no_scaling").

    Parameters
    ----------
    X : array-like of shape (n_epochs, n_chans, n_times)
        Raw epochs at ``sfreq``.
    sfreq : float, default=256.0
        Sampling rate of ``X``.
    sfreq_out : float, default=64.0
        Output rate (256 samples for a 4-s epoch).
    eeg_index, emg_index : int, default=0, 1
        Channels of the EEG and EMG in ``X``.
    emg_lowpass : float, default=16.0
        Low-pass cut-off (Hz) of the EMG filter.
    emg_filter_order : int, default=4
        Butterworth order of the EMG filter.
    detrend_order : int, default=12
        Degree of the baseline polynomial; ``None`` skips detrending.

    Returns
    -------
    Xt : ndarray of shape (n_epochs, 2, n_times_out), float32
        ``[EEG, EMG]`` per epoch.

    References
    ----------
    .. [1] Jha PK, Valekunja UK, Reddy AB. SlumberNet: deep learning classification of
           sleep stages using residual neural networks. Sci Rep 14, 4797 (2024).
           doi:10.1038/s41598-024-54727-0. Script ``1_slumbernet_preprocessing.py``.
    """
    X = check_epochs(X, name="X", ndim=3)
    sfreq = check_sfreq(sfreq)
    sfreq_out = check_sfreq(sfreq_out)
    n_chans = X.shape[1]
    eeg_index = check_channel_index("eeg_index", eeg_index, n_chans)
    emg_index = check_channel_index("emg_index", emg_index, n_chans)
    if not 0 < emg_lowpass < sfreq / 2:
        raise ValueError(
            f"emg_lowpass={emg_lowpass} Hz must be between 0 and the Nyquist frequency "
            f"{sfreq / 2:g} Hz of sfreq={sfreq:g}."
        )
    ratio = Fraction(sfreq_out / sfreq).limit_denominator(1000)
    eeg = X[:, eeg_index].astype(np.float64)
    b, a = signal.butter(int(emg_filter_order), float(emg_lowpass), btype="low", fs=sfreq)
    emg = signal.lfilter(b, a, X[:, emg_index].astype(np.float64), axis=-1)
    out = np.stack([eeg, emg], axis=1)
    if ratio != 1:
        out = signal.resample_poly(out, ratio.numerator, ratio.denominator, axis=-1)
    if detrend_order is not None:
        out = _polynomial_detrend(out, int(detrend_order))
    return out.astype(np.float32)


class SlumberNetPreprocessor(TransformerMixin, BaseEstimator):
    """Pipeline step applying :func:`slumbernet_preprocess` to raw epochs.

    Stateless: ``fit`` only records the input shape; ``transform`` resamples and
    detrends the EEG and low-passes, resamples and detrends the EMG of each epoch.

    Parameters
    ----------
    sfreq : float, default=256.0
        Sampling rate of the input epochs.
    sfreq_out : float, default=64.0
        Output sampling rate.
    eeg_index, emg_index : int, default=0, 1
        Input channels of the EEG and EMG.
    emg_lowpass : float, default=16.0
        EMG low-pass cut-off (Hz).
    emg_filter_order : int, default=4
        Butterworth order of the EMG filter.
    detrend_order : int or None, default=12
        Degree of the subtracted baseline polynomial.

    Attributes
    ----------
    n_features_in_ : int
        Number of input channels seen at ``fit``.
    n_times_in_ : int
        Samples per input epoch seen at ``fit``.

    References
    ----------
    .. [1] Jha PK, Valekunja UK, Reddy AB. SlumberNet: deep learning classification of
           sleep stages using residual neural networks. Sci Rep 14, 4797 (2024).
           doi:10.1038/s41598-024-54727-0.
    """

    def __init__(self, sfreq=256.0, sfreq_out=64.0, eeg_index=0, emg_index=1,
                 emg_lowpass=16.0, emg_filter_order=4, detrend_order=12):
        self.sfreq = sfreq
        self.sfreq_out = sfreq_out
        self.eeg_index = eeg_index
        self.emg_index = emg_index
        self.emg_lowpass = emg_lowpass
        self.emg_filter_order = emg_filter_order
        self.detrend_order = detrend_order

    def fit(self, X, y=None):
        """Check ``X`` and record its shape; returns ``self``."""
        X = check_epochs(X, name="X", ndim=3)
        self.n_features_in_ = int(X.shape[1])
        self.n_times_in_ = int(X.shape[2])
        return self

    def transform(self, X):
        """Preprocessed epochs of shape (n_epochs, 2, n_times_out), float32."""
        check_is_fitted(self)
        X = check_epochs(X, name="X", ndim=3)
        if X.shape[1] != self.n_features_in_:
            raise ValueError(
                f"X has {X.shape[1]} channels, but SlumberNetPreprocessor was fitted with "
                f"{self.n_features_in_}."
            )
        return slumbernet_preprocess(
            X, self.sfreq, sfreq_out=self.sfreq_out, eeg_index=self.eeg_index,
            emg_index=self.emg_index, emg_lowpass=self.emg_lowpass,
            emg_filter_order=self.emg_filter_order, detrend_order=self.detrend_order,
        )

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        tags.input_tags.two_d_array = False
        return tags


# ---------------------------------------------------------------------------------
# network
# ---------------------------------------------------------------------------------
class _SameConv2d(nn.Conv2d):
    """Stride-1 Conv2d with TensorFlow "same" padding (the extra zero at the end).

    Identical to ``nn.Conv2d(..., padding="same")`` but pads explicitly, which avoids
    PyTorch's warning (and internal copy) for even kernel sizes.
    """

    def __init__(self, in_ch, out_ch, kernel):
        super().__init__(in_ch, out_ch, kernel, padding=0, bias=True)
        kh, kw = self.kernel_size
        # F.pad order: (left, right, top, bottom)
        self._pad = ((kw - 1) // 2, kw // 2, (kh - 1) // 2, kh // 2)

    def forward(self, x):
        if any(self._pad):
            x = nn.functional.pad(x, self._pad)
        return super().forward(x)


def _conv(in_ch, out_ch, kernel):
    return _SameConv2d(in_ch, out_ch, kernel)


class _ResBlock(nn.Module):
    """Three "same" convs with BN (ReLU between) plus a shortcut, add, ReLU."""

    def __init__(self, in_ch, out_ch, kernels, kernel_y, dropout, conv_shortcut, bn):
        super().__init__()
        layers = []
        ch = in_ch
        for i, k in enumerate(kernels):
            layers += [_conv(ch, out_ch, (kernel_y, k)), nn.BatchNorm2d(out_ch, **bn)]
            if i < len(kernels) - 1:
                layers += [nn.ReLU(), nn.Dropout(dropout)]
            ch = out_ch
        self.main = nn.Sequential(*layers)
        if conv_shortcut:
            self.shortcut = nn.Sequential(
                _conv(in_ch, out_ch, (kernel_y, 1)), nn.BatchNorm2d(out_ch, **bn)
            )
        else:
            if in_ch != out_ch:
                raise ValueError(
                    f"identity shortcut needs equal widths, got {in_ch} -> {out_ch}."
                )
            self.shortcut = nn.BatchNorm2d(out_ch, **bn)
        self.act = nn.ReLU()

    def forward(self, x):
        return self.act(self.main(x) + self.shortcut(x))


class SlumberNet(nn.Module):
    """SlumberNet 2-D ResNet for mouse EEG/EMG sleep staging (Jha et al., Sci Rep 2024).

    Input ``(batch, n_chans, n_times)``, by default ``(batch, 2, 256)`` = EEG and EMG
    after :func:`slumbernet_preprocess` (4-s epochs at an effective 64 Hz). The EEG and
    EMG rows are turned into a one-channel (n_times, 2) image, then:

    * blocks 1 to ``n_blocks - 1`` (filters 8, 16, 32, 64, 128, 256): Conv(2x8) -> BN ->
      ReLU -> Conv(2x5) -> BN -> ReLU -> Conv(2x3) -> BN, shortcut Conv(2x1) -> BN,
      add, ReLU;
    * final block (256 filters): three Conv(2x8) with BN (ReLU between), shortcut
      BN(identity), add, ReLU;
    * global average pooling and Linear(256, n_classes).

    Every convolution is stride 1 with "same" padding and a bias; BatchNorm uses the
    Keras defaults (momentum 0.99, i.e. PyTorch ``momentum=0.01``, eps 1e-3). There is
    no pooling, so the feature map stays (n_times, 2). 5,338,931 trainable parameters.

    Parameters
    ----------
    n_chans : int, default=2
        Input channels (filled in from the data by the classifier).
    n_times : int, default=256
        Samples per epoch and channel (4 s at 64 Hz).
    n_classes : int, default=3
        Output classes (W, NREM, REM).
    eeg_index, emg_index : int, default=0, 1
        Channels holding the EEG and the EMG.
    input_layout : {"reshape", "transpose"}, default="reshape"
        ``"reshape"`` is the authors' code: the (2, n_times) epoch is *reshaped* to
        (n_times, 2), so rows 0..n_times/2-1 hold consecutive EEG sample pairs and the
        other rows EMG pairs (the width-2 axis is even/odd samples). ``"transpose"``
        gives the image that was probably intended (column 0 EEG, column 1 EMG).
    n_feature_maps : int, default=8
        Filters of the first block; doubled at each following block.
    n_blocks : int, default=7
        Residual blocks, the last one being the identity-shortcut block.
    kernel_sizes : sequence of int, default=(8, 5, 3)
        Kernel widths of the three convolutions of blocks 1..n_blocks-1 (the final
        block uses ``kernel_sizes[0]`` three times).
    kernel_y : int, default=2
        Kernel height (along the n_times axis).
    dropout : float, default=0.0
        Dropout after the two inner ReLUs (0 in the authors' code).
    augment : bool, default=True
        Fresh training-time augmentation inside ``forward`` (only when
        ``self.training``): a multiplier per image row, U(0.7, 1.3) on column 0 and
        U(0.95, 1.05) on column 1, then a circular shift of the rows by one random
        integer in [-n_times, n_times) per epoch. :class:`SlumberNetClassifier` sets it
        from its ``augmentation`` argument (off for the authors' cached augmentation,
        which it applies to the data once).
    amplitude_ranges : pair of (float, float), default=((0.7, 1.3), (0.95, 1.05))
        Ranges of the per-row multipliers of columns 0 and 1.
    bn_momentum : float or None, default=0.01
        PyTorch BatchNorm momentum; 0.01 is Keras' default ``momentum=0.99``. With so
        slow running statistics, short runs predict poorly in eval mode (the running
        statistics are still near their initial values); 0.1 (PyTorch's default) or
        ``None`` (cumulative average) adapts faster.
    bn_eps : float, default=1e-3
        BatchNorm epsilon (Keras default).

    Notes
    -----
    * The authors' kernels have height 2 along the time axis and width k along the
      width-2 axis; with "same" padding only 2 of the k taps ever see data, but all
      ``2 * k`` weights exist (and are counted). PyTorch's ``padding="same"`` pads
      like TensorFlow (the extra sample at the end).
    * Augmentation follows the code: because of the reshape, the roll also moves EEG
      rows into the EMG half. It is done on the device inside ``forward``, seeded by
      torch's generator (``random_state`` of the classifier). It is never applied in
      ``eval`` mode (prediction).
    * ``n_times`` may differ from 256 (no pooling), which the tests use for speed.
    * Weights are initialised as in Keras (Glorot-uniform kernels, zero biases; see
      :meth:`reset_parameters`).

    References
    ----------
    .. [1] Jha PK, Valekunja UK, Reddy AB. SlumberNet: deep learning classification of
           sleep stages using residual neural networks. Sci Rep 14, 4797 (2024).
           doi:10.1038/s41598-024-54727-0. Code: the authors' scripts
           ``2_slumbernet_k-fold.py`` / ``3_slumbernet_full_training.py`` (Zenodo
           7899655), read from github.com/laulaurose/SlumberNet commit a658f1f.
    """

    def __init__(self, n_chans=2, n_times=256, n_classes=3, eeg_index=0, emg_index=1,
                 input_layout="reshape", n_feature_maps=8, n_blocks=7,
                 kernel_sizes=(8, 5, 3), kernel_y=2, dropout=0.0, augment=True,
                 amplitude_ranges=((0.7, 1.3), (0.95, 1.05)), bn_momentum=0.01,
                 bn_eps=1e-3):
        super().__init__()
        self.n_chans, self.n_times, self.n_classes = int(n_chans), int(n_times), int(n_classes)
        self.eeg_index = check_channel_index("eeg_index", eeg_index, self.n_chans)
        self.emg_index = check_channel_index("emg_index", emg_index, self.n_chans)
        if input_layout not in ("reshape", "transpose"):
            raise ValueError(
                f"input_layout must be 'reshape' or 'transpose', got {input_layout!r}."
            )
        if input_layout == "reshape" and self.n_times % 2:
            raise ValueError(
                f"input_layout='reshape' needs an even n_times, got n_times={self.n_times}."
            )
        if int(n_blocks) < 2:
            raise ValueError(f"n_blocks must be at least 2, got {n_blocks}.")
        if len(amplitude_ranges) != 2 or any(len(r) != 2 for r in amplitude_ranges):
            raise ValueError(
                f"amplitude_ranges must be two (low, high) pairs, got {amplitude_ranges!r}."
            )
        self.input_layout = input_layout
        self.augment = bool(augment)
        self.amplitude_ranges = tuple(tuple(float(v) for v in r) for r in amplitude_ranges)
        kernels = tuple(int(k) for k in kernel_sizes)
        bn = {"momentum": None if bn_momentum is None else float(bn_momentum), "eps": float(bn_eps)}
        blocks = []
        in_ch = 1
        out_ch = n_feature_maps
        for i in range(int(n_blocks) - 1):
            out_ch = int(n_feature_maps) * 2**i
            blocks.append(_ResBlock(in_ch, out_ch, kernels, kernel_y, dropout, True, bn))
            in_ch = out_ch
        blocks.append(
            _ResBlock(in_ch, in_ch, (kernels[0],) * len(kernels), kernel_y, dropout, False,
                      bn)
        )
        self.blocks = nn.Sequential(*blocks)
        self.fc = nn.Linear(in_ch, self.n_classes)
        self.reset_parameters()

    def reset_parameters(self):
        """Keras defaults: Glorot-uniform kernels, zero biases, BN weight 1 / bias 0.

        Keras initialises ``Conv2D`` and ``Dense`` kernels with Glorot-uniform
        (U(-a, a), ``a = sqrt(6 / (fan_in + fan_out))``, fans counted over the
        receptive field as in :func:`torch.nn.init.xavier_uniform_`) and biases with
        zeros; PyTorch's own defaults differ.
        """
        for m in self.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                nn.init.xavier_uniform_(m.weight)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
            elif isinstance(m, nn.BatchNorm2d):
                m.reset_parameters()

    def to_image(self, x):
        """(B, n_chans, n_times) epochs -> (B, 1, n_times, 2) image, per ``input_layout``."""
        pair = x[:, [self.eeg_index, self.emg_index]]
        if self.input_layout == "reshape":
            return pair.reshape(x.shape[0], 1, self.n_times, 2)
        return pair.transpose(1, 2).unsqueeze(1)

    def from_image(self, img, x):
        """Inverse of :meth:`to_image`: ``x`` with its EEG/EMG rows replaced by ``img``."""
        if self.input_layout == "reshape":
            pair = img.reshape(x.shape[0], 2, self.n_times)
        else:
            pair = img.squeeze(1).transpose(1, 2)
        out = x.clone()
        out[:, self.eeg_index] = pair[:, 0]
        out[:, self.emg_index] = pair[:, 1]
        return out

    def _augment(self, img):
        batch, _, height, _ = img.shape
        (lo0, hi0), (lo1, hi1) = self.amplitude_ranges
        u = torch.rand(batch, 1, height, 2, device=img.device, dtype=img.dtype)
        low = torch.tensor([lo0, lo1], device=img.device, dtype=img.dtype)
        span = torch.tensor([hi0 - lo0, hi1 - lo1], device=img.device, dtype=img.dtype)
        img = img * (low + span * u)
        shift = torch.randint(-height, height, (batch, 1), device=img.device)
        rows = (torch.arange(height, device=img.device).unsqueeze(0) - shift) % height
        index = rows.view(batch, 1, height, 1).expand(-1, 1, -1, 2)
        return torch.gather(img, 2, index)

    def forward(self, x):
        """Logits ``(batch, n_classes)`` of epochs ``x`` of shape (batch, n_chans, n_times)."""
        img = self.to_image(x)
        if self.training and self.augment:
            img = self._augment(img)
        features = self.blocks(img).mean(dim=(2, 3))
        return self.fc(features)


_AUGMENTATIONS = ("cached", "fresh", None)


class SlumberNetClassifier(SleepNetClassifier):
    """SlumberNet (:class:`SlumberNet`) as a scikit-learn classifier (Jha et al., 2024).

    Training recipe as coded by the authors: Adam with lr 1e-6, ReduceLROnPlateau on
    the *training* loss (factor 0.5, patience 3, min_lr 1e-7), 50 epochs, batch 128,
    unweighted cross-entropy, augmentation applied once and cached, in a fixed batch
    order (``augmentation="cached"``). Input: the (n_epochs, 2, 256) output of
    :class:`SlumberNetPreprocessor` (64 Hz).

    Parameters
    ----------
    module : type, default=SlumberNet
        Network class; hyper-parameters take the ``module__`` prefix
        (``module__input_layout``, ``module__augment``, ...).
    criterion : type, default=WeightedCrossEntropyLoss
        Unweighted by default (``class_weight=None``).
    optimizer : type, default=torch.optim.Adam
    lr : float, default=1e-6
        The authors' value. It is extremely low: it suits their long training on a
        large data set; when training from scratch on little data, ``lr=1e-3`` is a
        more usual choice.
    max_epochs : int, default=50
    batch_size : int, default=128
        Per GPU in the authors' code (MirroredStrategy).
    class_weight : None, default=None
        Unweighted cross-entropy.
    sfreq : float, default=64.0
        Rate of the preprocessed input.
    augmentation : {"cached", "fresh", None}, default="cached"
        ``"cached"`` is the authors' pipeline (``map(augment) -> batch -> cache()``
        without shuffling in ``2_slumbernet_k-fold.py``): at the start of every
        ``fit`` the training epochs are put in one random order and augmented once
        (per-row amplitude scaling and a circular roll, see :class:`SlumberNet`); every
        training epoch then sees the same augmented samples in the same batches
        (no reshuffling, whatever ``iterator_train__shuffle`` says). ``"fresh"`` draws
        a new augmentation for every sample at every pass inside ``forward`` and
        reshuffles (usually the better regulariser, but not what the authors ran).
        ``None`` trains on the unaugmented epochs (reshuffled).
    **kwargs
        Any :class:`~sklearn_sleep.models.SleepNetClassifier` / skorch argument.

    Notes
    -----
    * The learning-rate schedule is the default callback ``"lr_scheduler"`` (skorch
      ``LRScheduler`` with ``ReduceLROnPlateau`` monitoring ``train_loss``), built in
      ``get_default_callbacks``; ``callbacks__lr_scheduler=None`` removes it.
    * ``augmentation`` sets the module's ``augment`` (True only for ``"fresh"``);
      a conflicting ``module__augment`` raises a ValueError.
    * The cached copy of the augmented training set costs as much memory as the
      training set; it is built on the CPU with torch's generator (seeded by
      ``random_state``) and dropped after ``fit``.
    * Deviations: the authors trained in float16 mixed precision with loss scaling
      (here ``mixed_precision=False`` by default; set ``mixed_precision="fp16"`` on
      CUDA), one-hot categorical cross-entropy (equal to cross-entropy on integer
      labels), kept the checkpoint with the best validation accuracy of an
      epoch-wise (not mouse-wise) split (use ``validation_fraction`` with ``groups``
      and ``early_stopping`` for a subject-wise equivalent).

    References
    ----------
    .. [1] Jha PK, Valekunja UK, Reddy AB. SlumberNet: deep learning classification of
           sleep stages using residual neural networks. Sci Rep 14, 4797 (2024).
           doi:10.1038/s41598-024-54727-0. Code: github.com/laulaurose/SlumberNet
           commit a658f1f (the authors' scripts, Zenodo 7899655).
    """

    def __init__(
        self,
        module=SlumberNet,
        *,
        criterion=WeightedCrossEntropyLoss,
        optimizer=torch.optim.Adam,
        lr=1e-6,
        max_epochs=50,
        batch_size=128,
        class_weight=None,
        sfreq=64.0,
        augmentation="cached",
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
        self.augmentation = augmentation

    def _check_augmentation(self):
        if self.augmentation not in _AUGMENTATIONS:
            raise ValueError(
                f"augmentation must be one of {_AUGMENTATIONS}, got {self.augmentation!r}."
            )
        fresh = self.augmentation == "fresh"
        requested = self.get_params_for("module").get("augment")
        if requested is not None and bool(requested) != fresh:
            raise ValueError(
                f"module__augment={requested!r} conflicts with augmentation="
                f"{self.augmentation!r}: the module augments inside forward only for "
                "augmentation='fresh'. Set augmentation instead of module__augment."
            )
        return fresh

    def initialize_module(self):
        fresh = self._check_augmentation()
        kwargs = self._signal_kwargs(self.module, dict(self.get_params_for("module")))
        kwargs["augment"] = fresh
        self.module_ = self.initialized_instance(self.module, kwargs)
        return self

    def get_split_datasets(self, X, y=None, **fit_params):
        dataset_train, dataset_valid = super().get_split_datasets(X, y, **fit_params)
        if self._check_augmentation() or self.augmentation is None:
            return dataset_train, dataset_valid
        return self._cached_augmented(dataset_train), dataset_valid

    def _cached_augmented(self, dataset):
        """The training set in one random order, augmented once (authors' cache)."""
        from skorch.dataset import Dataset

        loader = torch.utils.data.DataLoader(dataset, batch_size=max(1, len(dataset)),
                                             shuffle=False)
        xs, ys = [], []
        for xb, yb in loader:
            xs.append(torch.as_tensor(xb))
            ys.append(torch.as_tensor(yb))
        x, y = torch.cat(xs), torch.cat(ys)
        order = torch.randperm(len(x))
        x, y = x[order], y[order]
        with torch.no_grad():
            x = self.module_.from_image(self.module_._augment(self.module_.to_image(x)), x)
        return Dataset(x.numpy(), y.numpy())

    def get_iterator(self, dataset, training=False):
        if training and self.augmentation == "cached":
            kwargs = self.get_params_for("iterator_train")
            kwargs["shuffle"] = False  # the authors' cached dataset keeps its batch order
            kwargs.setdefault("batch_size", self.batch_size)
            if kwargs["batch_size"] == -1:
                kwargs["batch_size"] = len(dataset)
            return self.iterator_train(dataset, **kwargs)
        return super().get_iterator(dataset, training=training)

    def get_default_callbacks(self):
        scheduler = LRScheduler(
            policy=torch.optim.lr_scheduler.ReduceLROnPlateau,
            monitor="train_loss",
            factor=0.5,
            patience=3,
            min_lr=1e-7,
        )
        return insert_callback(super().get_default_callbacks(), "lr_scheduler", scheduler)
