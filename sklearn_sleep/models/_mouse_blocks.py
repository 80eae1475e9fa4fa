"""Private building blocks shared by the rodent (mouse EEG/EMG) networks.

* :func:`log_spectrum` - the FFT branch input, ``log1p |rfft(x)|``;
* :class:`ConvBlock` - Conv1d -> PReLU -> BatchNorm1d -> (Dropout) -> AvgPool, with an
  optional multi-head self-attention over time (residual + LayerNorm);
* :class:`CNNBranch` - three conv blocks and a global average pool;
* :func:`check_channel_index` - clear errors for channel indices out of range;
* :func:`warmup_cosine` - the learning-rate factor of the mouse classifiers' schedule,
  a module-level function so that the scheduler (and a fitted classifier) pickles.
"""

import math

import torch
from torch import nn

__all__ = [
    "log_spectrum",
    "ConvBlock",
    "CNNBranch",
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


def check_block_lists(widths, kernel_sizes, dropouts, n_heads=None):
    """Check that the per-block hyper-parameter sequences have the same length."""
    lengths = {"widths": len(widths), "kernel_sizes": len(kernel_sizes), "dropouts": len(dropouts)}
    if n_heads is not None:
        lengths["n_heads"] = len(n_heads)
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
