"""MASleepNet: multimodal multiscale CNN, channel-wise fusion and BiLSTM-attention.

Wang Z, Gong Z, Wang T, Dong Q, Huang Z, Zhang S, Ma Y. MASleepNet: a sleep staging
model integrating multi-scale convolution and attention mechanisms. Biomimetics 2025,
10(10):642. doi:10.3390/biomimetics10100642. No official code was published; this is the
architecture proposed in ``docs/NETWORKS.md`` Sec. 2.2, built from the paper's
description (details marked as assumptions below).
"""

import torch
from skorch.callbacks import LRScheduler
from torch import nn
from torch.optim.lr_scheduler import MultiStepLR

from ._base import SleepNetClassifier
from .losses import WeightedCrossEntropyLoss

__all__ = ["MASleepNet", "MASleepNetClassifier"]

_ACTIVATIONS = {"gelu": nn.GELU, "relu": nn.ReLU}
_FUSIONS = ("weighted_sum", "concat_se")
def _conv_len(length, kernel, stride=1, padding=0):
    return (length + 2 * padding - kernel) // stride + 1


class _SE1d(nn.Module):
    """Squeeze-and-excitation over the channels of a (B, C, T) map (no-bias FCs)."""

    def __init__(self, channels, reduction=16):
        super().__init__()
        hidden = max(1, channels // reduction)
        self.gate = nn.Sequential(
            nn.Linear(channels, hidden, bias=False),
            nn.ReLU(),
            nn.Linear(hidden, channels, bias=False),
            nn.Sigmoid(),
        )

    def forward(self, x):
        return x * self.gate(x.mean(dim=2)).unsqueeze(2)


def _block(in_ch, out_ch, kernel, stride, padding, act):
    return [
        nn.Conv1d(in_ch, out_ch, kernel, stride=stride, padding=padding, bias=False),
        nn.BatchNorm1d(out_ch),
        act(),
    ]


class _MFEM(nn.Module):
    """Multiscale feature extraction of one modality: local (k=50) + global (k=400).

    Each branch ends with an SE channel-attention module; the branch outputs are
    concatenated along time, (B, n_filters, 64 + 16) for 3000 samples.
    """

    def __init__(self, in_ch, n_filters, dropout, act, use_global, use_se, se_reduction):
        super().__init__()
        half = n_filters // 2
        self.local = nn.Sequential(
            *_block(in_ch, half, 50, 6, 24, act),
            nn.MaxPool1d(8, 2, 4),
            nn.Dropout(dropout),
            *_block(half, n_filters, 8, 1, 4, act),
            *_block(n_filters, n_filters, 8, 1, 4, act),
            nn.MaxPool1d(4, 4, 2),
            _SE1d(n_filters, se_reduction) if use_se else nn.Identity(),
        )
        self.global_ = None
        if use_global:
            self.global_ = nn.Sequential(
                *_block(in_ch, half, 400, 50, 200, act),
                nn.MaxPool1d(4, 2, 2),
                nn.Dropout(dropout),
                *_block(half, n_filters, 7, 1, 3, act),
                *_block(n_filters, n_filters, 7, 1, 3, act),
                nn.MaxPool1d(2, 2, 1),
                _SE1d(n_filters, se_reduction) if use_se else nn.Identity(),
            )
        self.dropout = nn.Dropout(dropout)

    @staticmethod
    def output_lengths(n_times):
        local = _conv_len(n_times, 50, 6, 24)
        local = _conv_len(local, 8, 2, 4)
        local = _conv_len(_conv_len(local, 8, 1, 4), 8, 1, 4)
        local = _conv_len(local, 4, 4, 2)
        glob = _conv_len(n_times, 400, 50, 200)
        glob = _conv_len(glob, 4, 2, 2)
        glob = _conv_len(_conv_len(glob, 7, 1, 3), 7, 1, 3)
        glob = _conv_len(glob, 2, 2, 1)
        return local, glob

    def forward(self, x):
        out = self.local(x)
        if self.global_ is not None:
            out = torch.cat([out, self.global_(x)], dim=2)
        return self.dropout(out)


class _WeightedSumFusion(nn.Module):
    """Modality weights from GAP -> FC -> softmax, then the weighted sum of the maps."""

    def __init__(self, n_modalities):
        super().__init__()
        self.fc = nn.Linear(n_modalities, n_modalities)

    def forward(self, feats):  # feats: (B, M, C, T)
        weights = torch.softmax(self.fc(feats.mean(dim=(2, 3))), dim=1)
        self.last_weights_ = weights.detach()
        return (weights[:, :, None, None] * feats).sum(dim=1)


class _ConcatSEFusion(nn.Module):
    """Concatenate the modalities along channels and re-weight them with an SE."""

    def __init__(self, n_channels, reduction):
        super().__init__()
        self.se = _SE1d(n_channels, reduction)

    def forward(self, feats):  # feats: (B, M, C, T)
        return self.se(feats.flatten(1, 2))


class _AdditiveAttention(nn.Module):
    """``e_t = v^T tanh(W h_t + b)``, ``alpha = softmax(e)``, context ``sum alpha_t h_t``."""

    def __init__(self, in_dim, attn_dim):
        super().__init__()
        self.proj = nn.Linear(in_dim, attn_dim)
        self.score = nn.Linear(attn_dim, 1, bias=False)

    def forward(self, h):  # h: (B, T, D)
        alpha = torch.softmax(self.score(torch.tanh(self.proj(h))).squeeze(-1), dim=1)
        self.last_weights_ = alpha.detach()
        return torch.bmm(alpha.unsqueeze(1), h).squeeze(1)


class MASleepNet(nn.Module):
    """MASleepNet: multimodal multiscale attention network for 4-channel PSG.

    Per modality (EEG as one 2-channel branch, EOG, EMG) a multiscale feature extraction
    module (MFEM) with a local (kernel 50, ~0.5 s) and a global (kernel 400, ~4 s) conv
    branch, each ending with squeeze-and-excitation; channel-wise attention fusion of the
    modalities; a BiLSTM over the intra-epoch time steps with additive temporal
    attention (the attention context module, ACM); and a
    Dropout -> Linear -> ReLU -> Linear classifier.

    Parameters
    ----------
    n_chans : int, default=4
        Number of input channels. With ``modalities="all"`` it must equal
        ``len(eeg_channels) + 2``. With ``modalities="eeg"`` the input is either the EEG
        channels only (``len(eeg_channels)``) or the full 4-channel PSG, whose EOG/EMG
        are then left out by design of the EEG-Only ablation.
    n_times : int, default=3000
        Samples per epoch (30 s at 100 Hz); inner lengths are derived from it.
    n_classes : int, default=5
        Number of sleep stages.
    eeg_channels : tuple of int, default=(0, 1)
        Indices of the EEG derivations (Fpz-Cz, Pz-Oz).
    eog_channel, emg_channel : int, default=2, 3
        Indices of the horizontal EOG and the submental EMG.
    modalities : {"all", "eeg"}, default="all"
        ``"eeg"`` is the paper's EEG-Only ablation (no EOG/EMG paths).
    eeg_branches : {"joint", "separate"}, default="joint"
        ``"joint"``: the EEG derivations enter one branch as input channels (as in
        MMASleepNet); ``"separate"``: one branch per derivation (4 modalities).
    n_filters : int, default=128
        Output channels of each MFEM branch (the first conv has half).
    activation : {"gelu", "relu"}, default="gelu"
        Activation after each BatchNorm of the MFEM.
    use_global_branch : bool, default=True
        ``False`` is the No-MSConv ablation (local kernel-50 branch only).
    use_se : bool, default=True
        ``False`` is the No-SE ablation (no SE in the branches).
    se_reduction : int, default=16
        Reduction ratio of the SE modules.
    fusion : {"weighted_sum", "concat_se"}, default="weighted_sum"
        ``"weighted_sum"``: modality weights from GAP -> FC (M -> M) -> softmax, fused
        map ``sum_m w_m F_m`` of ``n_filters`` channels. ``"concat_se"``: modality maps
        concatenated along channels (``M * n_filters``) and re-weighted by an SE.
    lstm_hidden : int, default=128
        BiLSTM hidden size per direction.
    lstm_layers : int, default=1
        BiLSTM layers (dropout ``lstm_dropout`` between layers).
    lstm_dropout : float, default=0.5
        Dropout between stacked LSTM layers (unused with one layer).
    attention_dim : int, default=128
        Width of the additive attention.
    n_hidden : int, default=64
        Hidden width of the classifier.
    dropout : float, default=0.5
        Dropout in the MFEM and before the classifier.

    Notes
    -----
    The paper gives the modality inputs, the kernel sizes 50 and 400, SE in each branch,
    channel-wise attention fusion, a BiLSTM-attention context module and an FC
    classifier. Everything else is an [ASSUMPTION] from ``docs/NETWORKS.md`` Sec. 2.2:

    * strides, paddings, pools and widths borrowed from AttnSleep's MRCNN; the branch
      lengths are 64 + 16 = 80 for 3000 samples (NETWORKS.md says 63 + 17; the total
      is the same);
    * GELU activations, SE with r=16 and no-bias FCs;
    * the weighted-sum fusion (modality weights GAP -> FC -> softmax);
    * a 1-layer BiLSTM (128 per direction) over the 80 *intra-epoch* steps with
      additive attention of width 128. The other reading, a context module over
      several consecutive epochs, is
      :class:`~sklearn_sleep.models.MASleepNetSequenceClassifier` (context sequences
      of ``EpochSegmenter(n_context=k)`` as input);
    * the Dropout -> 256 -> 64 -> ``n_classes`` classifier.

    Parameter count with the defaults: 1,551,249 (NETWORKS.md estimated about 1.6 M).
    Ablations: No-MSConv 924,689, No-SE 1,538,961, EEG-Only 745,607. The weights of the
    last forward pass are kept for inspection in ``fusion.last_weights_`` (weighted-sum
    fusion, (B, M)) and ``attention.last_weights_`` ((B, T)).

    References
    ----------
    .. [1] Wang Z, Gong Z, Wang T, Dong Q, Huang Z, Zhang S, Ma Y. MASleepNet: a sleep
           staging model integrating multi-scale convolution and attention mechanisms.
           Biomimetics 2025, 10(10):642. doi:10.3390/biomimetics10100642
    .. [2] Eldele E, et al. An attention-based deep learning approach for sleep stage
           classification with single-channel EEG. IEEE TNSRE 2021, 29:809-818.
           doi:10.1109/TNSRE.2021.3076234 (source of the assumed MRCNN strides).
    """

    def __init__(
        self,
        n_chans=4,
        n_times=3000,
        n_classes=5,
        eeg_channels=(0, 1),
        eog_channel=2,
        emg_channel=3,
        modalities="all",
        eeg_branches="joint",
        n_filters=128,
        activation="gelu",
        use_global_branch=True,
        use_se=True,
        se_reduction=16,
        fusion="weighted_sum",
        lstm_hidden=128,
        lstm_layers=1,
        lstm_dropout=0.5,
        attention_dim=128,
        n_hidden=64,
        dropout=0.5,
    ):
        super().__init__()
        eeg_channels = tuple(int(c) for c in eeg_channels)
        if not eeg_channels:
            raise ValueError("eeg_channels must name at least one EEG channel.")
        if modalities not in ("all", "eeg"):
            raise ValueError(f"modalities must be 'all' or 'eeg', got {modalities!r}.")
        if eeg_branches not in ("joint", "separate"):
            raise ValueError(f"eeg_branches must be 'joint' or 'separate', got {eeg_branches!r}.")
        if fusion not in _FUSIONS:
            raise ValueError(f"fusion must be one of {_FUSIONS}, got {fusion!r}.")
        if activation not in _ACTIVATIONS:
            raise ValueError(f"activation must be one of {tuple(_ACTIVATIONS)}, got {activation!r}.")
        full = eeg_channels + (int(eog_channel), int(emg_channel))
        if modalities == "all":
            allowed = {len(full): eeg_channels}
        else:
            allowed = {len(full): eeg_channels, len(eeg_channels): tuple(range(len(eeg_channels)))}
        if n_chans not in allowed:
            expected = " or ".join(str(n) for n in sorted(allowed))
            raise ValueError(
                f"MASleepNet with modalities={modalities!r} expects {expected} input channels "
                f"(EEG x{len(eeg_channels)}, EOG, EMG), got n_chans={n_chans}. Select the "
                "channels first, e.g. ChannelPicker(['EEG Fpz-Cz', 'EEG Pz-Oz', "
                "'EOG horizontal', 'EMG submental'])."
            )
        if n_chans == len(full) and sorted(full) != list(range(n_chans)):
            raise ValueError(
                f"eeg_channels={eeg_channels}, eog_channel={eog_channel} and emg_channel="
                f"{emg_channel} must be distinct indices covering 0..{n_chans - 1}."
            )
        local, glob = _MFEM.output_lengths(n_times)
        if local < 1 or glob < 1:
            raise ValueError(
                f"MASleepNet: n_times={n_times} is too short for its convolutions and pools "
                "(the paper input is 30 s at 100 Hz = 3000 samples)."
            )
        self.n_chans = n_chans
        self.n_times = n_times
        self.n_classes = n_classes
        self.n_steps = local + (glob if use_global_branch else 0)

        eeg_idx = allowed[n_chans]
        if eeg_branches == "joint":
            groups = [eeg_idx]
        else:
            groups = [(c,) for c in eeg_idx]
        if modalities == "all":
            groups += [(int(eog_channel),), (int(emg_channel),)]
        self.modality_channels = [list(g) for g in groups]
        act = _ACTIVATIONS[activation]
        self.mfem = nn.ModuleList(
            _MFEM(len(g), n_filters, dropout, act, use_global_branch, use_se, se_reduction)
            for g in groups
        )
        n_mod = len(groups)
        if fusion == "weighted_sum":
            self.fusion = _WeightedSumFusion(n_mod)
            lstm_in = n_filters
        else:
            self.fusion = _ConcatSEFusion(n_mod * n_filters, se_reduction)
            lstm_in = n_mod * n_filters
        self.lstm = nn.LSTM(
            lstm_in,
            lstm_hidden,
            num_layers=lstm_layers,
            batch_first=True,
            bidirectional=True,
            dropout=lstm_dropout if lstm_layers > 1 else 0.0,
        )
        self.attention = _AdditiveAttention(2 * lstm_hidden, attention_dim)
        self.classifier = nn.Sequential(
            nn.Dropout(dropout),
            nn.Linear(2 * lstm_hidden, n_hidden),
            nn.ReLU(),
            nn.Linear(n_hidden, n_classes),
        )

    def forward(self, x):
        """Map epochs ``(batch, n_chans, n_times)`` to logits ``(batch, n_classes)``."""
        feats = torch.stack(
            [branch(x[:, chans]) for branch, chans in zip(self.mfem, self.modality_channels)],
            dim=1,
        )  # (B, M, C, T)
        fused = self.fusion(feats)  # (B, C', T)
        h, _ = self.lstm(fused.transpose(1, 2))  # (B, T, 2H)
        return self.classifier(self.attention(h))


class _MultiStepScheduleMixin:
    """``lr_milestones`` / ``lr_gamma``: skorch's MultiStepLR callback (AttnSleep's recipe),
    shared by MASleepNet's epoch-level and sequence classifiers."""

    def get_default_callbacks(self):
        callbacks = super().get_default_callbacks()
        milestones = getattr(self, "lr_milestones", None)
        if milestones:
            callbacks.append(
                (
                    "lr_step",
                    LRScheduler(
                        policy=MultiStepLR,
                        milestones=[int(m) for m in milestones],
                        gamma=float(self.lr_gamma),
                    ),
                )
            )
        return callbacks


class MASleepNetClassifier(_MultiStepScheduleMixin, SleepNetClassifier):
    """MASleepNet as a scikit-learn classifier, with an assumed AttnSleep-like recipe.

    Input: epochs ``(n_epochs, 4, 3000)`` of EEG Fpz-Cz, EEG Pz-Oz, EOG horizontal and
    EMG submental at 100 Hz.

    Parameters
    ----------
    module : type of torch.nn.Module, default=MASleepNet
        The network; hyper-parameters and ablations take the ``module__`` prefix
        (``module__use_global_branch=False``, ``module__use_se=False``,
        ``module__modalities="eeg"``, ``module__fusion="concat_se"``).
    criterion : type, default=WeightedCrossEntropyLoss
        Weighted cross-entropy.
    optimizer : type, default=torch.optim.Adam
        Adam, ``betas=(0.9, 0.999)``, ``amsgrad=True``.
    lr : float, default=1e-3
        Initial learning rate [ASSUMPTION].
    max_epochs : int, default=100
        Training epochs [ASSUMPTION].
    batch_size : int, default=128
        Mini-batch size [ASSUMPTION].
    class_weight : "attnsleep", "balanced", sequence, dict or None, default="attnsleep"
        ``"attnsleep"``: AttnSleep's data-dependent weights
        ``round(max(1, ln(mu_k N / N_k)) mu_k, 2)`` with ``mu = (1.5, 2, 1.5, 1, 1.5)/5``
        for (W, N1, N2, N3, REM), computed from the training labels [ASSUMPTION]. Each
        factor goes to its stage by name: the labels must be identified as AASM stages
        (stage names such as ``'W'``/``'Wake'``, ``'N1'``/``'S1'``, ...; integer labels
        need ``stage_map``, e.g. ``stage_map="aasm"`` for codes 0=W..4=REM).
    sfreq : float, default=100.0
        The sampling rate the kernels are designed for.
    lr_milestones : tuple of int or None, default=(10,)
        Training epochs at which the learning rate is multiplied by ``lr_gamma``
        (a skorch ``LRScheduler(MultiStepLR)`` callback named ``"lr_step"``); ``None``
        disables the schedule.
    lr_gamma : float, default=0.1
        Learning-rate factor at each milestone (1e-3 -> 1e-4 at epoch 10).
    optimizer__betas : tuple, default=(0.9, 0.999)
    optimizer__weight_decay : float, default=1e-3
    optimizer__amsgrad : bool, default=True
    **kwargs
        Any other :class:`~sklearn_sleep.models.SleepNetClassifier` or skorch argument.

    Notes
    -----
    The paper's training details were not retrievable; the whole recipe is an
    [ASSUMPTION] copied from AttnSleep (Adam 1e-3, wd 1e-3, amsgrad, lr 1e-4 from epoch
    10, 100 epochs, batch 128, AttnSleep class weights), see ``docs/NETWORKS.md`` Sec. 2.

    References
    ----------
    .. [1] Wang Z, Gong Z, Wang T, Dong Q, Huang Z, Zhang S, Ma Y. MASleepNet: a sleep
           staging model integrating multi-scale convolution and attention mechanisms.
           Biomimetics 2025, 10(10):642. doi:10.3390/biomimetics10100642
    .. [2] Eldele E, et al. An attention-based deep learning approach for sleep stage
           classification with single-channel EEG. IEEE TNSRE 2021, 29:809-818.
           doi:10.1109/TNSRE.2021.3076234
    """

    def __init__(
        self,
        module=MASleepNet,
        *,
        criterion=WeightedCrossEntropyLoss,
        optimizer=torch.optim.Adam,
        lr=1e-3,
        max_epochs=100,
        batch_size=128,
        class_weight="attnsleep",
        sfreq=100.0,
        lr_milestones=(10,),
        lr_gamma=0.1,
        optimizer__betas=(0.9, 0.999),
        optimizer__weight_decay=1e-3,
        optimizer__amsgrad=True,
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
            optimizer__betas=optimizer__betas,
            optimizer__weight_decay=optimizer__weight_decay,
            optimizer__amsgrad=optimizer__amsgrad,
            **kwargs,
        )
        self.lr_milestones = lr_milestones
        self.lr_gamma = lr_gamma

