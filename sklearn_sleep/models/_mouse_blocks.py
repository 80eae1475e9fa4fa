"""Private building blocks shared by the rodent (mouse EEG/EMG) networks.

* :func:`log_spectrum` - the FFT branch input, ``log1p |rfft(x)|``;
* :class:`ConvBlock` - Conv1d -> PReLU -> BatchNorm1d -> (Dropout) -> AvgPool, with an
  optional multi-head self-attention over time (residual + LayerNorm);
* :class:`CNNBranch` - three conv blocks and a global average pool (the "compact"
  branch, ``branch_head="global_mean"``);
* :class:`PaperConvBlock` / :class:`PaperBranch` - the paper's branch (Mashrur et al.
  section IV.A): conv blocks, then average pooling, flatten, dropout, linear layers and
  a normalisation of the activation; self-attention right after each convolution for
  the CNN + attention variant (section IV.B);
* :class:`OneCycleSchedule` - the paper's OneCycleLR, stepped per batch, total steps
  from the data;
* :func:`check_channel_index` - clear errors for channel indices out of range;
* :func:`warmup_cosine` - the learning-rate factor of the optional warm-up + cosine
  schedule, a module-level function so that the scheduler (and a fitted classifier)
  pickles.
"""

import math

import torch
from skorch.callbacks import Callback
from torch import nn

__all__ = [
    "log_spectrum",
    "ConvBlock",
    "CNNBranch",
    "PaperConvBlock",
    "PaperBranch",
    "OneCycleSchedule",
    "check_channel_index",
    "check_block_lists",
    "warmup_cosine",
    "schedule_callback",
    "insert_callback",
]


def log_spectrum(x):
    """``log1p(|rfft(x)|)`` along the last axis, computed in float32.

    Parameters
    ----------
    x : Tensor of shape (..., n_times)

    Returns
    -------
    Tensor of shape (..., n_times // 2 + 1)
    """
    return torch.log1p(torch.fft.rfft(x.float(), dim=-1).abs())


def check_channel_index(name, index, n_chans):
    """Raise a ValueError naming the argument when ``index`` is not a valid channel."""
    if not isinstance(index, int) or isinstance(index, bool):
        raise ValueError(f"{name} must be an int channel index, got {index!r}.")
    if not -n_chans <= index < n_chans:
        raise ValueError(
            f"{name}={index} is out of range for input with n_chans={n_chans} channels."
        )
    return index % n_chans


class ConvBlock(nn.Module):
    """Conv1d -> PReLU -> BatchNorm1d -> (Dropout) -> AvgPool1d -> (self-attention).

    The convolution is stride 1 with ``kernel_size // 2`` padding (length preserved for
    odd kernels). When ``n_heads`` is given, multi-head self-attention runs over the
    pooled positions (tokens of dimension ``out_channels``) with a residual connection
    followed by LayerNorm (post-norm).
    """

    def __init__(self, in_channels, out_channels, kernel_size, *, dropout=0.0, pool=2,
                 n_heads=None, attn_dropout=0.0):
        super().__init__()
        self.conv = nn.Conv1d(in_channels, out_channels, kernel_size, padding=kernel_size // 2)
        self.act = nn.PReLU()
        self.bn = nn.BatchNorm1d(out_channels)
        self.drop = nn.Dropout(dropout) if dropout else nn.Identity()
        self.pool = nn.AvgPool1d(pool) if pool and pool > 1 else nn.Identity()
        if n_heads:
            if out_channels % n_heads:
                raise ValueError(
                    f"attention heads ({n_heads}) must divide the block width "
                    f"({out_channels})."
                )
            self.attn = nn.MultiheadAttention(
                out_channels, n_heads, dropout=attn_dropout, batch_first=True
            )
            self.norm = nn.LayerNorm(out_channels)
        else:
            self.attn = None

    def forward(self, x):
        x = self.pool(self.drop(self.bn(self.act(self.conv(x)))))
        if self.attn is not None:
            tokens = x.transpose(1, 2)  # (B, L, C)
            attended, _ = self.attn(tokens, tokens, tokens, need_weights=False)
            x = self.norm(tokens + attended).transpose(1, 2)
        return x


class CNNBranch(nn.Module):
    """One single-channel branch: a stack of :class:`ConvBlock` then global average pool."""

    def __init__(self, widths, kernel_sizes, dropouts, pool, n_heads=None, attn_dropout=0.0):
        super().__init__()
        blocks = []
        in_ch = 1
        heads = n_heads if n_heads is not None else (None,) * len(widths)
        for width, k, p, h in zip(widths, kernel_sizes, dropouts, heads):
            blocks.append(
                ConvBlock(in_ch, width, k, dropout=p, pool=pool, n_heads=h,
                          attn_dropout=attn_dropout)
            )
            in_ch = width
        self.blocks = nn.Sequential(*blocks)
        self.out_features = in_ch

    def forward(self, x):  # x: (B, 1, L)
        return self.blocks(x).mean(dim=-1)


def check_block_lists(widths, kernel_sizes, dropouts, n_heads=None, strides=None):
    """Check that the per-block hyper-parameter sequences have the same length."""
    lengths = {"widths": len(widths), "kernel_sizes": len(kernel_sizes), "dropouts": len(dropouts)}
    if n_heads is not None:
        lengths["n_heads"] = len(n_heads)
    if strides is not None:
        lengths["strides"] = len(strides)
    if len(set(lengths.values())) != 1:
        raise ValueError(f"per-block settings must have the same length, got {lengths}.")
    if not lengths["widths"]:
        raise ValueError("at least one conv block is needed (widths is empty).")


def warmup_cosine(epoch, warmup_epochs, total_epochs):
    """LR factor: linear warm-up over ``warmup_epochs``, then cosine decay to 0.

    ``epoch`` is 0-based (the number of scheduler steps taken so far). During warm-up the
    factor is ``(epoch + 1) / (warmup_epochs + 1)``; afterwards it follows
    ``0.5 * (1 + cos(pi * t / T))`` with ``t = epoch - warmup_epochs`` and
    ``T = total_epochs - warmup_epochs``.
    """
    warmup_epochs = max(0, int(warmup_epochs))
    if epoch < warmup_epochs:
        return (epoch + 1) / (warmup_epochs + 1)
    span = max(1, int(total_epochs) - warmup_epochs)
    t = min(epoch - warmup_epochs, span)
    return 0.5 * (1.0 + math.cos(math.pi * t / span))


def schedule_callback(max_epochs, warmup_epochs):
    """skorch ``LRScheduler`` stepping :func:`warmup_cosine` once per training epoch."""
    from functools import partial

    from skorch.callbacks import LRScheduler
    from torch.optim.lr_scheduler import LambdaLR

    return LRScheduler(
        policy=LambdaLR,
        lr_lambda=partial(
            warmup_cosine, warmup_epochs=int(warmup_epochs), total_epochs=int(max_epochs)
        ),
        step_every="epoch",
    )


def insert_callback(callbacks, name, callback):
    """Insert ``(name, callback)`` before skorch's ``print_log`` (or at the end)."""
    callbacks = list(callbacks)
    names = [n for n, _ in callbacks]
    pos = names.index("print_log") if "print_log" in names else len(callbacks)
    callbacks.insert(pos, (name, callback))
    return callbacks


class PaperConvBlock(nn.Module):
    """Conv1d -> (self-attention) -> PReLU -> BatchNorm1d -> (Dropout).

    The paper's conv block (Mashrur et al., section IV.A: "a 1-D convolution, a PReLU
    activation, batch normalisation and an optional dropout"). With ``n_heads`` the
    CNN + attention variant (section IV.B) inserts multi-head self-attention "after each
    1-D convolution layer": tokens are the convolution's output positions, of dimension
    ``out_channels``, used as query, key and value without masking. The attention
    output is added to its input (residual) [ASSUMPTION: the paper does not say; the
    BatchNorm that follows normalises the sum].

    The convolution has ``kernel_size // 2`` padding and stride ``stride``
    [ASSUMPTION], so the output has ``ceil(L / stride)`` positions for odd kernels.
    """

    def __init__(self, in_channels, out_channels, kernel_size, *, stride=1, dropout=0.0,
                 n_heads=None, attn_dropout=0.0):
        super().__init__()
        self.conv = nn.Conv1d(in_channels, out_channels, kernel_size, stride=stride,
                              padding=kernel_size // 2)
        if n_heads:
            if out_channels % n_heads:
                raise ValueError(
                    f"attention heads ({n_heads}) must divide the block width "
                    f"({out_channels})."
                )
            self.attn = nn.MultiheadAttention(
                out_channels, n_heads, dropout=attn_dropout, batch_first=True
            )
        else:
            self.attn = None
        self.act = nn.PReLU()
        self.bn = nn.BatchNorm1d(out_channels)
        self.drop = nn.Dropout(dropout) if dropout else nn.Identity()

    def forward(self, x):
        x = self.conv(x)
        if self.attn is not None:
            tokens = x.transpose(1, 2)  # (B, L, C)
            attended, _ = self.attn(tokens, tokens, tokens, need_weights=False)
            x = (tokens + attended).transpose(1, 2)
        return self.drop(self.bn(self.act(x)))


def conv_length(n, kernel_size, stride):
    """Output length of a Conv1d with ``kernel_size // 2`` padding."""
    return (n + 2 * (kernel_size // 2) - kernel_size) // stride + 1


class PaperBranch(nn.Module):
    """One branch as the paper describes it (Mashrur et al., section IV.A).

    ``len(widths)`` :class:`PaperConvBlock` s, then AvgPool1d(``pool``), flatten,
    Dropout(``dropout``), the linear layers ``linear`` (Linear -> PReLU -> Linear ...,
    no activation after the last) and BatchNorm1d of the last linear output (the
    "normalisation of the activation"). ``out_features = linear[-1]``.
    """

    def __init__(self, n_in, widths, kernel_sizes, strides, dropouts, pool, dropout, linear,
                 n_heads=None, attn_dropout=0.0):
        super().__init__()
        blocks = []
        in_ch, length = 1, int(n_in)
        heads = n_heads if n_heads is not None else (None,) * len(widths)
        for width, k, s, p, h in zip(widths, kernel_sizes, strides, dropouts, heads):
            blocks.append(PaperConvBlock(in_ch, width, k, stride=s, dropout=p, n_heads=h,
                                         attn_dropout=attn_dropout))
            in_ch, length = width, conv_length(length, k, s)
        if length < 1 or length // int(pool) < 1:
            raise ValueError(
                f"an input of {n_in} samples leaves {length} positions after the conv "
                f"blocks, too few for average pooling of {pool}; reduce the strides or "
                "the pool size."
            )
        self.blocks = nn.Sequential(*blocks)
        self.pool = nn.AvgPool1d(int(pool))
        self.flatten = nn.Flatten()
        self.drop = nn.Dropout(dropout)
        self.n_flat = in_ch * (length // int(pool))
        if not linear:
            raise ValueError("branch_linear needs at least one linear layer size.")
        layers, n = [], self.n_flat
        for i, width in enumerate(linear):
            if i:
                layers.append(nn.PReLU())
            layers.append(nn.Linear(n, int(width)))
            n = int(width)
        self.linear = nn.Sequential(*layers)
        self.norm = nn.BatchNorm1d(n)
        self.out_features = n

    def forward(self, x):  # x: (B, 1, L)
        x = self.drop(self.flatten(self.pool(self.blocks(x))))
        return self.norm(self.linear(x))


class OneCycleSchedule(Callback):
    """skorch callback: PyTorch ``OneCycleLR`` stepped every training batch.

    The mouse paper (Mashrur et al., section V.B) trains with "OneCycleLR". The cycle
    peaks at the classifier's ``lr`` (``max_lr = lr``) and spans the whole fit: its
    ``total_steps`` is ``max_epochs`` times the number of training batches, counted
    from the training set at the first epoch of every ``fit``/``partial_fit`` call (so
    a held-out validation part is not counted). The other arguments are PyTorch's
    defaults [ASSUMPTION: the paper gives none]: warm-up over 30 % of the steps from
    ``lr / 25``, cosine annealing down to ``lr / 25e4``, and momentum (SGD) or Adam's
    beta1 cycled between 0.95 and 0.85.

    The learning rate used by each batch is recorded as ``event_lr`` in the batch
    history.

    Parameters
    ----------
    pct_start, div_factor, final_div_factor, anneal_strategy, cycle_momentum,
    base_momentum, max_momentum :
        As in :class:`torch.optim.lr_scheduler.OneCycleLR`.
    """

    def __init__(self, pct_start=0.3, div_factor=25.0, final_div_factor=1e4,
                 anneal_strategy="cos", cycle_momentum=True, base_momentum=0.85,
                 max_momentum=0.95):
        self.pct_start = pct_start
        self.div_factor = div_factor
        self.final_div_factor = final_div_factor
        self.anneal_strategy = anneal_strategy
        self.cycle_momentum = cycle_momentum
        self.base_momentum = base_momentum
        self.max_momentum = max_momentum

    def initialize(self):
        self.lr_scheduler_ = None
        self.total_steps_ = None
        return self

    def on_train_begin(self, net, **kwargs):
        self.lr_scheduler_ = None

    def on_epoch_begin(self, net, dataset_train=None, **kwargs):
        if self.lr_scheduler_ is not None:
            return
        from torch.optim.lr_scheduler import OneCycleLR

        steps_per_epoch = len(net.get_iterator(dataset_train, training=True))
        self.total_steps_ = max(1, steps_per_epoch * int(net.max_epochs))
        self.lr_scheduler_ = OneCycleLR(
            net.optimizer_, max_lr=net.lr, total_steps=self.total_steps_,
            pct_start=self.pct_start, div_factor=self.div_factor,
            final_div_factor=self.final_div_factor, anneal_strategy=self.anneal_strategy,
            cycle_momentum=self.cycle_momentum, base_momentum=self.base_momentum,
            max_momentum=self.max_momentum,
        )

    def on_batch_end(self, net, training=False, **kwargs):
        if not training or self.lr_scheduler_ is None:
            return
        net.history.record_batch("event_lr", net.optimizer_.param_groups[0]["lr"])
        if self.lr_scheduler_.last_epoch < self.total_steps_:
            self.lr_scheduler_.step()
