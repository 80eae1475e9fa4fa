"""Two-encoder Transformer for mouse EEG/EMG sleep staging (Mashrur et al.).

One 6-layer pre-norm Transformer encoder per modality (EEG, EMG) over 16-sample
patches with a CLS token; the two CLS outputs are concatenated and classified by an
MLP. The paper (section IV.C) gives "two 6-layer encoders, features concatenated, MLP
decoder" and the training recipe (section V.B); everything else is [ASSUMPTION]
(NETWORKS.md section 5.4, borrowing the same lab's sDREAMER conventions: patch 16,
d_model 128, CLS token per modality). No code is public.
"""

import torch
from torch import nn

from ._base import SleepNetClassifier
from ._mouse_blocks import check_channel_index
from .losses import WeightedCrossEntropyLoss
from .mouse_cnn import _MouseScheduleMixin

__all__ = ["MouseTransformer", "MouseTransformerClassifier"]


class _PatchEncoder(nn.Module):
    """Patchify one channel, embed, prepend CLS, add positions, run the encoder."""

    def __init__(self, n_patches, patch_len, d_model, n_layers, n_heads, d_ff, dropout,
                 activation):
        super().__init__()
        self.patch_len = patch_len
        self.embed = nn.Sequential(
            nn.Linear(patch_len, d_model), nn.ReLU(), nn.Linear(d_model, d_model)
        )
        self.cls_token = nn.Parameter(torch.zeros(1, 1, d_model))
        self.pos_embed = nn.Parameter(torch.zeros(1, n_patches + 1, d_model))
        nn.init.trunc_normal_(self.cls_token, std=0.02)
        nn.init.trunc_normal_(self.pos_embed, std=0.02)
        self.drop = nn.Dropout(dropout)
        layer = nn.TransformerEncoderLayer(
            d_model, n_heads, dim_feedforward=d_ff, dropout=dropout,
            activation=activation, batch_first=True, norm_first=True,
        )
        self.encoder = nn.TransformerEncoder(layer, n_layers, enable_nested_tensor=False)

    def forward(self, x):  # x: (B, n_times)
        patches = x.reshape(x.shape[0], -1, self.patch_len)
        tokens = self.embed(patches)
        cls = self.cls_token.expand(x.shape[0], -1, -1).to(tokens.dtype)
        tokens = self.drop(torch.cat([cls, tokens], dim=1) + self.pos_embed)
        return self.encoder(tokens)[:, 0]


class MouseTransformer(nn.Module):
    """Dual-encoder (EEG, EMG) patch Transformer for mouse sleep staging (Mashrur et al.).

    Each modality's epoch (512 samples: 1 s at 512 Hz) is cut into ``n_times //
    patch_len`` patches of ``patch_len`` samples (32 x 16), embedded by
    Linear(16, 128) -> ReLU -> Linear(128, 128), prefixed with a learned CLS token,
    given learned positional embeddings (33 x 128) and passed through 6 pre-norm
    Transformer encoder layers (d=128, 8 heads, feed-forward 512, dropout 0.1, GELU).
    The CLS outputs of the two encoders are concatenated (256) and classified by
    LayerNorm -> Linear(256, 128) -> GELU -> Dropout -> Linear(128, n_classes).
    2,459,139 parameters with the defaults.

    Parameters
    ----------
    n_chans : int, default=2
        Input channels (filled in from the data by the classifier).
    n_times : int, default=512
        Samples per epoch; must be a multiple of ``patch_len``.
    n_classes : int, default=3
        Output classes (W, NREM, REM).
    eeg_index, emg_index : int, default=0, 1
        Channels holding the EEG and the EMG.
    patch_len : int, default=16
        Samples per patch [ASSUMPTION, sDREAMER convention].
    d_model : int, default=128
        Token dimension [ASSUMPTION].
    n_layers : int, default=6
        Encoder layers per modality (given: 6).
    n_heads : int, default=8
        Attention heads [ASSUMPTION].
    d_ff : int, default=512
        Feed-forward width [ASSUMPTION].
    dropout : float, default=0.1
        Dropout in the encoders, after the embeddings and in the head [ASSUMPTION].
    activation : str, default="gelu"
        Feed-forward activation [ASSUMPTION].
    head_hidden : int, default=128
        Hidden width of the MLP head [ASSUMPTION].

    Notes
    -----
    The patch count is derived from ``n_times`` (32 for 512 samples); other epoch
    lengths work if divisible by ``patch_len``. Pre-norm layers are used without a
    final per-encoder LayerNorm: the head's LayerNorm over the concatenated CLS
    outputs plays that role [ASSUMPTION]. CLS token and positions are initialised from
    a truncated normal (std 0.02) [ASSUMPTION].

    References
    ----------
    .. [1] Mashrur, Luo, Berggren, Zhao (University of Rochester). "Mice Sleep Staging
           from EEG and EMG signals", section IV.C ("two 6-layer Transformer encoders,
           features concatenated, MLP decoder"); every other size is [ASSUMPTION]
           (``NETWORKS.md`` section 5.4).
    """

    def __init__(self, n_chans=2, n_times=512, n_classes=3, eeg_index=0, emg_index=1,
                 patch_len=16, d_model=128, n_layers=6, n_heads=8, d_ff=512, dropout=0.1,
                 activation="gelu", head_hidden=128):
        super().__init__()
        self.n_chans, self.n_times, self.n_classes = int(n_chans), int(n_times), int(n_classes)
        self.eeg_index = check_channel_index("eeg_index", eeg_index, self.n_chans)
        self.emg_index = check_channel_index("emg_index", emg_index, self.n_chans)
        patch_len = int(patch_len)
        if patch_len < 1 or self.n_times % patch_len:
            raise ValueError(
                f"n_times={self.n_times} is not divisible by patch_len={patch_len}: "
                f"MouseTransformer cuts each epoch into patches of {patch_len} samples "
                f"({self.n_times} % {patch_len} = {self.n_times % max(patch_len, 1)})."
            )
        if d_model % n_heads:
            raise ValueError(f"n_heads={n_heads} must divide d_model={d_model}.")
        self.n_patches = self.n_times // patch_len

        def encoder():
            return _PatchEncoder(self.n_patches, patch_len, d_model, n_layers, n_heads,
                                 d_ff, dropout, activation)

        self.eeg_encoder, self.emg_encoder = encoder(), encoder()
        self.head = nn.Sequential(
            nn.LayerNorm(2 * d_model),
            nn.Linear(2 * d_model, head_hidden),
            nn.GELU(),
            nn.Dropout(dropout),
            nn.Linear(head_hidden, self.n_classes),
        )

    def forward(self, x):
        """Logits ``(batch, n_classes)`` of epochs ``x`` of shape (batch, n_chans, n_times)."""
        features = torch.cat(
            [self.eeg_encoder(x[:, self.eeg_index]), self.emg_encoder(x[:, self.emg_index])],
            dim=1,
        )
        return self.head(features)


class MouseTransformerClassifier(_MouseScheduleMixin, SleepNetClassifier):
    """Mouse dual-encoder Transformer (:class:`MouseTransformer`) as a classifier.

    Defaults are the paper's recipe (Mashrur et al., section V.B): SGD, lr 0.1,
    OneCycleLR per batch, batch 512, 30 epochs, plain (unweighted) cross-entropy.

    Parameters
    ----------
    module : type, default=MouseTransformer
        Network class; hyper-parameters take the ``module__`` prefix.
    criterion : type, default=WeightedCrossEntropyLoss
        Cross-entropy; without class weights it is plain ``CrossEntropyLoss``.
    optimizer : type, default=torch.optim.SGD
        [PAPER: SGD] PyTorch defaults (no weight decay, momentum argument 0). The
        one-cycle schedule cycles the momentum between 0.95 and 0.85 (PyTorch's
        ``OneCycleLR`` default), so SGD effectively runs with momentum [ASSUMPTION].
    lr : float, default=0.1
        Peak of the one-cycle schedule [PAPER].
    max_epochs : int, default=30
        [PAPER]
    batch_size : int, default=512
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
    optimizer__weight_decay=1e-2, lr=3e-4, batch_size=256, max_epochs=50,
    lr_schedule="cosine", warmup_epochs=5, class_weight="balanced"``.

    References
    ----------
    .. [1] Mashrur, Luo, Berggren, Zhao (University of Rochester). "Mice Sleep Staging
           from EEG and EMG signals", sections IV.C and V.B; see ``NETWORKS.md``
           section 5.
    """

    def __init__(
        self,
        module=MouseTransformer,
        *,
        criterion=WeightedCrossEntropyLoss,
        optimizer=torch.optim.SGD,
        lr=0.1,
        max_epochs=30,
        batch_size=512,
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
