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


def _bn_scale_shift(bn):
    """Eval-mode BatchNorm as ``scale * x + shift`` (running statistics)."""
    scale = bn.weight / torch.sqrt(bn.running_var + bn.eps)
    return scale, bn.bias - bn.running_mean * scale


def _batch_norm_train(bn, x):
    """Training-mode :class:`~torch.nn.BatchNorm1d` ``bn`` applied to a 4-D ``x``.

    Same arithmetic and running-statistics update as ``bn(x)`` on the 3-D tensor
    (``BatchNorm1d`` refuses 4-D input, so its forward is replicated here).
    """
    momentum = bn.momentum
    if bn.training and bn.track_running_stats:
        bn.num_batches_tracked.add_(1)
        if momentum is None:
            momentum = 1.0 / float(bn.num_batches_tracked)
    use_batch_stats = bn.training or bn.running_mean is None
    return F.batch_norm(
        x,
        bn.running_mean if not bn.training or bn.track_running_stats else None,
        bn.running_var if not bn.training or bn.track_running_stats else None,
        bn.weight,
        bn.bias,
        use_batch_stats,
        0.0 if momentum is None else momentum,
        bn.eps,
    )


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

    def dense_kernel(self):
        """The equivalent dense kernel ``(out, in, k)`` and bias of depthwise o pointwise.

        ``pointwise(depthwise(x))[o] = sum_c P[o, c] sum_j D[c, j] x[c, t + j]``, i.e. a
        plain convolution with kernel ``W[o, c, j] = P[o, c] D[c, j]``.
        """
        w = self.pointwise.weight[:, :, 0, None] * self.depthwise.weight[:, 0, :][None]
        return w, self.pointwise.bias

    def forward_cl(self, x, scale=None, shift=None):
        """:meth:`forward` on a 4-D channels-last ``(N, C, 1, L)`` tensor.

        The same two convolutions as 2-D ``(1, k)`` convolutions on channels-last
        tensors, where oneDNN has fast depthwise kernels (the 3-D grouped convolution
        of :meth:`forward` is ~10x slower per MAC). ``scale``/``shift`` (per output
        channel) fold an eval-mode BatchNorm into the pointwise kernel and bias.
        """
        left, right = _tf_same_pad(x.shape[-1], self.kernel_size, self.stride)
        if left != right:
            x = F.pad(x, (left, right))
            left = 0
        h = F.conv2d(x, self.depthwise.weight.unsqueeze(2), None, stride=(1, self.stride),
                     padding=(0, left), groups=self.depthwise.groups)
        w, b = self.pointwise.weight.unsqueeze(-1), self.pointwise.bias
        if scale is not None:
            w = w * scale[:, None, None, None]
            b = b * scale + shift
        return F.conv2d(h, w, b)


def _single_channel_sep_bn_pool_relu(sep, bn, x):
    """Eval-mode Sep -> BN -> ReLU -> MaxPool(2) of one input channel (same function).

    With one input channel every output channel is an affine function of ONE filtered
    signal ``z = depthwise(x)``: ``y_o = a_o z + c_o`` (pointwise weight and BatchNorm
    folded). The max over a pair is then ``a_o max(z) + c_o`` where ``a_o >= 0`` and
    ``a_o min(z) + c_o`` otherwise, so only ``z`` is computed at full length and the
    ``out`` channels directly at half length: one small matrix product of
    ``[max, min]`` with ``[[a_o^+], [a_o^-]]``.
    """
    n, length = x.shape[0], x.shape[-1]
    sig = x.reshape(n, length)
    left, right = _tf_same_pad(length, sep.kernel_size, sep.stride)
    if left or right:
        sig = F.pad(sig, (left, right))
    d = sep.depthwise.weight[0, 0]
    n_out = (sig.shape[1] - sep.kernel_size) // sep.stride + 1
    end = (n_out - 1) * sep.stride + 1
    z = sig[:, 0:end:sep.stride] * d[0]
    for j in range(1, sep.kernel_size):
        z = z + sig[:, j:j + end:sep.stride] * d[j]
    half = n_out // 2
    if n_out % 2:  # ceil mode: the last window holds one sample
        z = torch.cat([z, z[:, -1:]], dim=1)
    pairs = z.reshape(n, half + n_out % 2, 2)
    hi, lo = pairs.amax(dim=2), pairs.amin(dim=2)
    scale, shift = _bn_scale_shift(bn)
    a = sep.pointwise.weight[:, 0, 0] * scale
    c = sep.pointwise.bias * scale + shift
    coef = torch.stack([a.clamp(min=0), a.clamp(max=0)])  # (2, out)
    out = torch.addmm(c, torch.stack([hi, lo], dim=-1).reshape(-1, 2), coef)
    out = out.relu_().reshape(n, 1, -1, a.shape[0])  # eval only: no autograd here
    return out.permute(0, 3, 1, 2)  # channels-last (N, out, 1, L_out)


def _single_channel_pool_relu(sep, coef, c, x):
    """``_single_channel_sep_bn_pool_relu`` with precomputed coefficients.

    ``coef`` is ``(out, 2, 1, 1)``: the positive and negative parts of the folded scale,
    applied to the ``[max, min]`` pairs as a 1 x 1 convolution (oneDNN runs it several
    times faster than a matrix product with 2 or 3 inner elements), ``c`` its bias.
    """
    n, length = x.shape[0], x.shape[-1]
    sig = x.reshape(n, length)
    left, right = _tf_same_pad(length, sep.kernel_size, sep.stride)
    if left or right:
        sig = F.pad(sig, (left, right))
    d = sep.depthwise.weight[0, 0]
    n_out = (sig.shape[1] - sep.kernel_size) // sep.stride + 1
    end = (n_out - 1) * sep.stride + 1
    z = sig[:, 0:end:sep.stride] * d[0]
    for j in range(1, sep.kernel_size):
        z.addcmul_(sig[:, j:j + end:sep.stride], d[j])
    half = n_out // 2
    if n_out % 2:  # ceil mode: the last window holds one sample
        z = torch.cat([z, z[:, -1:]], dim=1)
    pairs = z.reshape(n, half + n_out % 2, 2)
    both = torch.empty((n, 1, half + n_out % 2, 2), dtype=z.dtype, device=z.device)
    # element-wise max/min of the even and odd samples (faster than amax/amin over dim 2)
    torch.maximum(pairs[:, :, 0], pairs[:, :, 1], out=both[:, 0, :, 0])
    torch.minimum(pairs[:, :, 0], pairs[:, :, 1], out=both[:, 0, :, 1])
    # channels-last (N, 2, 1, L_out) in, channels-last (N, out, 1, L_out) out
    return F.conv2d(both.permute(0, 3, 1, 2), coef, c).relu_()


def _max_pool2_cl(x):
    """``MaxPool1d(2, 2, ceil_mode=True)`` on a channels-last ``(N, C, 1, L)`` tensor.

    The element-wise maximum of the even and odd samples (a view each); PyTorch's
    max-pooling computes indices even in inference and is several times slower here.
    """
    n, c, _, length = x.shape
    h = x.permute(0, 2, 3, 1)  # (N, 1, L, C); contiguous for a channels-last x
    half = length // 2
    out = torch.empty((n, 1, half + length % 2, c), dtype=x.dtype, device=x.device)
    if length % 2 and not torch.is_grad_enabled():
        torch.maximum(h[:, :, 0:2 * half:2], h[:, :, 1:2 * half:2], out=out[:, :, :half])
        out[:, :, half] = h[:, :, -1]
    elif length % 2:
        out = torch.cat([torch.maximum(h[:, :, 0:2 * half:2], h[:, :, 1:2 * half:2]),
                         h[:, :, -1:]], dim=2)
    else:
        out = torch.maximum(h[:, :, 0::2], h[:, :, 1::2])
    return out.permute(0, 3, 1, 2)


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
        if x.dim() == 4:  # (N, C, 1, L) channels-last: the fast path
            return self.forward_cl(x)
        return self.main(x) + self.shortcut(x)

    def forward_cl(self, x):
        """:meth:`forward` on a 4-D ``(N, C, 1, L)`` channels-last tensor.

        Same arithmetic as :meth:`forward` up to float rounding: 2-D channels-last
        convolutions, the eval-mode BatchNorm folded into the pointwise kernel,
        max-pooling before the ReLU (they commute), the single-input-channel first
        layer computed at half length (see ``_single_channel_sep_bn_pool_relu``) and
        the two linear stride-2 shortcut convolutions merged into one stride-4 one.
        """
        sep1, bn1, _, _, sep2, bn2, _, _ = self.main
        h = x
        for sep, bn in ((sep1, bn1), (sep2, bn2)):
            if h.shape[1] == 1 and not bn.training:
                h = _single_channel_sep_bn_pool_relu(sep, bn, h)
                continue
            if bn.training:
                h = _batch_norm_train(bn, sep.forward_cl(h))
            else:
                h = sep.forward_cl(h, *_bn_scale_shift(bn))
            h = _max_pool2_cl(h)
            h = F.relu(h) if torch.is_grad_enabled() else h.relu_()
        w, b = self._shortcut_kernel()
        # "same" padding of a 1-sample kernel is 0, and x[::2][::2] == x[::4]
        if x.shape[1] == 1:  # oneDNN is slow on one input channel: an outer product
            sub = x.reshape(x.shape[0], x.shape[-1])[:, ::4]
            short = torch.addmm(b, sub.reshape(-1, 1), w[:, 0][None])
            short = short.reshape(x.shape[0], 1, -1, w.shape[0]).permute(0, 3, 1, 2)
        else:
            short = F.conv2d(x, w[:, :, None, None], b, stride=(1, 4))
        return h + short if torch.is_grad_enabled() else h.add_(short)

    def _shortcut_kernel(self):
        """The two linear 1 x 1 stride-2 shortcut convolutions as one stride-4 ``(w, b)``."""
        short1, short2 = self.shortcut
        (w1, b1), (w2, b2) = short1.dense_kernel(), short2.dense_kernel()
        w = w2[:, :, 0] @ w1[:, :, 0]  # both are 1 x 1 kernels of stride 2
        return w, w2[:, :, 0] @ b1 + b2

    def eval_params(self):
        """Eval-mode kernels of :meth:`forward_eval`, computed once per forward pass.

        For each main-stream layer: the depthwise kernel and the pointwise kernel/bias
        with the BatchNorm folded in (or, for a single input channel, the ``(2, out)``
        coefficients of ``_single_channel_sep_bn_pool_relu``); then the merged shortcut.
        """
        sep1, bn1, _, _, sep2, bn2, _, _ = self.main
        layers = []
        for sep, bn in ((sep1, bn1), (sep2, bn2)):
            scale, shift = _bn_scale_shift(bn)
            if sep.depthwise.in_channels == 1:
                a = sep.pointwise.weight[:, 0, 0] * scale
                c = sep.pointwise.bias * scale + shift
                coef = torch.stack([a.clamp(min=0), a.clamp(max=0)], dim=1)[:, :, None, None]
                layers.append((sep, None, coef.contiguous(), c))
            else:
                w = sep.pointwise.weight.unsqueeze(-1) * scale[:, None, None, None]
                layers.append((sep, sep.depthwise.weight.unsqueeze(2),
                               w, sep.pointwise.bias * scale + shift))
        w, b = self._shortcut_kernel()
        if w.shape[1] == 1:
            short = (torch.stack([w[:, 0], b]), None)  # (2, out): [x, 1] @ short
        else:
            short = (w[:, :, None, None], b)
        return layers, short

    def forward_eval(self, x, params):
        """:meth:`forward_cl` in eval mode without autograd, with :meth:`eval_params`."""
        layers, (ws, bs) = params
        h = x
        for sep, dw, w, b in layers:
            if dw is None:  # single input channel: the first layer, at half length
                h = _single_channel_pool_relu(sep, w, b, h)
                continue
            left, right = _tf_same_pad(h.shape[-1], sep.kernel_size, sep.stride)
            if left != right:
                h = F.pad(h, (left, right))
                left = 0
            h = F.conv2d(h, dw, None, stride=(1, sep.stride), padding=(0, left),
                         groups=sep.depthwise.groups)
            h = _max_pool2_cl(F.conv2d(h, w, b)).relu_()
        if x.shape[1] == 1:  # oneDNN is slow on one input channel: an outer product,
            # accumulated into h in place: h += [x[::4], 1] @ [[w], [b]]
            sub = x.reshape(x.shape[0], x.shape[-1])[:, ::4]
            aug = torch.empty((*sub.shape, 2), dtype=x.dtype, device=x.device)
            aug[:, :, 0] = sub
            aug[:, :, 1] = 1.0
            # h is channels-last (pooled in that layout): its (N * L, C) rows are a view
            h.permute(0, 2, 3, 1).view(-1, ws.shape[1]).addmm_(aug.view(-1, 2), ws)
            return h
        return h.add_(F.conv2d(x, ws, bs, stride=(1, 4)))


#: samples (signals x n_times) per inference chunk of the fast path: 64 signals of 3000
#: samples keep the largest map (64 x 8 x 1500 floats, 3 MB) near the cache and, measured
#: on one thread, the process free of page faults; with 128 signals a night took ~100 K
#: minor page faults per pass (freed buffers handed back to the OS) and ran ~2x slower.
_INFERENCE_CHUNK_SAMPLES = 64 * 3000


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
    fast : bool, default=True
        Run the feature extractor as 2-D channels-last convolutions (see Notes), ~10x
        faster on CPU than the 1-D grouped convolutions of the reference formulation
        (``fast=False``). Both compute the same function with the same parameters and
        state_dict (outputs equal up to float rounding, same dropout masks for the same
        seed), so weights trained with either load into the other.

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

    CPU inference (``fast=True``): on one thread the grouped 1-D convolutions of the
    straightforward formulation ran at ~20x below the arithmetic they need (86 % of the
    time in oneDNN's grouped convolution). The fast path (a) runs every depthwise and
    pointwise convolution as a 2-D ``(1, k)`` convolution on channels-last tensors,
    where oneDNN has efficient depthwise kernels; (b) in eval mode folds each
    BatchNorm into the preceding pointwise kernel and max-pools before the ReLU (they
    commute); (c) computes the first, single-input-channel layer at half length: its
    8 maps are affine functions of one filtered signal, so the max over a pooling
    pair is ``a max(z) + c`` or ``a min(z) + c`` by the sign of ``a`` (applied to the
    ``[max, min]`` pairs as a 1x1 convolution); (d) merges the two linear 1x1 stride-2
    shortcut convolutions into one of stride 4 (in the first block, one matrix product
    accumulated into the main stream in place); (e) in
    inference (no autograd) processes the signals in chunks of
    ``_INFERENCE_CHUNK_SAMPLES`` samples so that the feature maps stay in the cache,
    with the folded kernels computed once per forward pass rather than per chunk
    (``_DSSCBlock.eval_params`` / ``forward_eval``).
    ``torch.compile`` was measured and not used: it took minutes to compile on a
    2-core machine and was no faster. See ``benchmarks/results/night.md``.

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
        fast=True,
    ):
        super().__init__()
        self.fast = bool(fast)
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
        if not getattr(self, "fast", True):  # modules pickled before ``fast`` existed
            h = self.extractor(x.reshape(b * c, 1, t))  # same weights for every channel
            return h.mean(dim=-1).reshape(b, c, -1)
        signals = x.reshape(b * c, 1, 1, t)  # channels-last == contiguous for 1 channel
        if self.training or torch.is_grad_enabled():
            return self._extract_cl(signals).reshape(b, c, -1)
        # inference: small chunks keep the intermediate maps in the CPU cache
        chunk = max(1, _INFERENCE_CHUNK_SAMPLES // t)
        blocks = [layer for layer in self.extractor if isinstance(layer, _DSSCBlock)]
        params = [block.eval_params() for block in blocks]  # once, not per chunk
        out = torch.empty((b * c, self.n_features), dtype=x.dtype, device=x.device)
        for i in range(0, b * c, chunk):
            h = signals[i:i + chunk]
            for block, p in zip(blocks, params):  # eval: dropout is the identity
                h = block.forward_eval(h, p)
            torch.mean(h, dim=(-2, -1), out=out[i:i + chunk])
        return out.reshape(b, c, -1)

    def _extract_cl(self, h):
        """Extractor on ``(N, 1, 1, n_times)`` signals; ``(N, filters[-1])`` embeddings."""
        for layer in self.extractor:
            if self.training and isinstance(layer, nn.Dropout) and layer.p > 0:
                # same dropout mask as the reference (which draws it in NCL memory order)
                h = layer(h.contiguous()).contiguous(memory_format=torch.channels_last)
            else:
                h = layer(h)
        return h.mean(dim=(-2, -1))

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
