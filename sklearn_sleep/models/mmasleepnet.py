"""MMASleepNet: multimodal multi-branch network with modal-wise SE and a Transformer.

Zheng Y, Luo Y, Zou B, Zhang L, Li L. MMASleepNet: a multimodal attention network based
on electrophysiological signals for automatic sleep staging. Front. Neurosci. 2022,
16:973761. doi:10.3389/fnins.2022.973761. Official code: github.com/buptantEEG/MMASleepNet
(commit 8fa5de5), ``model/MMASleepNet.py``.
"""

import torch
from torch import nn

from ._base import SleepNetClassifier
from .losses import WeightedCrossEntropyLoss

__all__ = ["MMASleepNet", "MMASleepNetClassifier"]


def _conv_len(length, kernel, stride=1, padding=0):
    """Output length of a Conv1d/MaxPool1d (dilation 1, floor mode)."""
    return (length + 2 * padding - kernel) // stride + 1


def _conv_bn_act(in_ch, out_ch, kernel, stride, padding):
    return [
        nn.Conv1d(in_ch, out_ch, kernel, stride=stride, padding=padding, bias=False),
        nn.BatchNorm1d(out_ch),
        nn.LeakyReLU(),
    ]


#: First-layer kernels (small stream, large stream) per modality. "code": the official
#: ``model/MMASleepNet.py`` (64/512 in every branch); "paper": Table 2 of the paper
#: (EEG 50/500, EOG and EMG 25/250, "the EEG kernel twice that of EOG and EMG").
FIRST_KERNELS = {
    "code": {"eeg": (64, 512), "other": (64, 512)},
    "paper": {"eeg": (50, 500), "other": (25, 250)},
}


class _MBFEBranch(nn.Module):
    """One modality's two-stream feature extractor (MBFE, paper Sec. 2.2.1).

    Small-kernel stream: conv k=k_small/s=8 -> pool 8 -> 3 x conv k=8 -> pool 4.
    Large-kernel stream: conv k=k_large/s=64 -> pool 4 -> 3 x conv k=6 -> pool 2.
    The two outputs are concatenated along time. The official code uses
    ``k_small=64, k_large=512``.
    """

    def __init__(self, in_ch, c1, c2, dropout=0.5, k_small=64, k_large=512):
        super().__init__()
        self.small = nn.Sequential(
            *_conv_bn_act(in_ch, c1, k_small, 8, 24),
            nn.MaxPool1d(8, 8, 4),
            nn.Dropout(dropout),
            *_conv_bn_act(c1, c2, 8, 1, 4),
            *_conv_bn_act(c2, c2, 8, 1, 4),
            *_conv_bn_act(c2, c2, 8, 1, 4),
            nn.MaxPool1d(4, 4, 2),
        )
        self.large = nn.Sequential(
            *_conv_bn_act(in_ch, c1, k_large, 64, 24),
            nn.MaxPool1d(4, 4, 2),
            nn.Dropout(dropout),
            *_conv_bn_act(c1, c2, 6, 1, 4),
            *_conv_bn_act(c2, c2, 6, 1, 4),
            *_conv_bn_act(c2, c2, 6, 1, 4),
            nn.MaxPool1d(2, 2, 1),
        )
        self.dropout = nn.Dropout(dropout)

    @staticmethod
    def output_length(n_times, k_small=64, k_large=512):
        """Number of time steps (small stream, large stream) before concatenation."""
        small = _conv_len(n_times, k_small, 8, 24)
        small = _conv_len(small, 8, 8, 4)
        for _ in range(3):
            small = _conv_len(small, 8, 1, 4)
        small = _conv_len(small, 4, 4, 2)
        large = _conv_len(n_times, k_large, 64, 24)
        large = _conv_len(large, 4, 4, 2)
        for _ in range(3):
            large = _conv_len(large, 6, 1, 4)
        large = _conv_len(large, 2, 2, 1)
        return small, large

    def forward(self, x):
        return self.dropout(torch.cat([self.small(x), self.large(x)], dim=2))


class _ModalSEBlock(nn.Module):
    """2-D residual squeeze-and-excitation block over the modality planes (Sec. 2.2.2).

    Two 1x1 Conv2d (with bias) + BatchNorm2d, an SE gate (reduction 1, with biases), an
    identity shortcut and a final ReLU. With 4 planes it has 96 parameters.
    """

    def __init__(self, n_planes, reduction=1):
        super().__init__()
        hidden = max(1, n_planes // reduction)
        self.conv1 = nn.Conv2d(n_planes, n_planes, 1)
        self.bn1 = nn.BatchNorm2d(n_planes)
        self.conv2 = nn.Conv2d(n_planes, n_planes, 1)
        self.bn2 = nn.BatchNorm2d(n_planes)
        self.se = nn.Sequential(
            nn.AdaptiveAvgPool2d(1),
            nn.Conv2d(n_planes, hidden, 1),
            nn.ReLU(),
            nn.Conv2d(hidden, n_planes, 1),
            nn.Sigmoid(),
        )
        self.relu = nn.ReLU()

    def forward(self, z):
        out = self.relu(self.bn1(self.conv1(z)))
        out = self.bn2(self.conv2(out))
        out = out * self.se(out)
        return self.relu(out + z)


class MMASleepNet(nn.Module):
    """MMASleepNet: multimodal attention network for 4-channel PSG sleep staging.

    Each modality (EEG, EOG, EMG) has its own two-stream multi-branch feature extractor
    (MBFE; no weight sharing). The two EEG derivations enter *one* EEG branch as two
    input channels. The feature maps are cut into ``plane_channels``-map "modality
    planes" (the 128 EEG maps give 2 planes, EOG and EMG one each), re-weighted by a
    modal-wise 2-D residual SE block ``Z``, read (memory order, no positional
    encoding) as ``plane_channels`` tokens of dimension ``n_planes * n_steps`` (64 tokens
    of 96 for the paper input) and passed through a 1-layer post-norm Transformer
    encoder. The fusion ``Z * TE(Z)`` is flattened and classified by
    Linear -> ReLU -> Linear.

    Parameters
    ----------
    n_chans : int, default=4
        Number of input channels. Must equal ``len(eeg_channels) + 2``: every channel
        is used (pick channels upstream with ``ChannelPicker``).
    n_times : int, default=3000
        Samples per epoch (30 s at 100 Hz). Time lengths inside are derived from it;
        at least 464 samples are needed by the large-kernel stream.
    n_classes : int, default=5
        Number of sleep stages.
    eeg_channels : tuple of int, default=(0, 1)
        Indices of the EEG derivations (Fpz-Cz, Pz-Oz) fed jointly to the EEG branch.
    eog_channel : int, default=2
        Index of the horizontal EOG.
    emg_channel : int, default=3
        Index of the submental EMG.
    eeg_filters : tuple of int, default=(64, 128)
        ``(c1, c2)`` of the EEG branch. ``c2`` must be a multiple of ``plane_channels``.
    other_filters : tuple of int, default=(32, 64)
        ``(c1, c2)`` of the EOG and EMG branches. ``c2`` must be a multiple of
        ``plane_channels``.
    plane_channels : int, default=64
        Feature maps per modality plane (= number of Transformer tokens).
    se_reduction : int, default=1
        Reduction of the modal-wise SE gate (1 in the official code).
    n_heads : int, default=4
        Attention heads of the Transformer encoder layer.
    n_layers : int, default=1
        Transformer encoder layers.
    dim_feedforward : int, default=2048
        Feed-forward width of the encoder layer (PyTorch default used by the code).
    dropout : float, default=0.5
        Dropout of the MBFE branches.
    transformer_dropout : float, default=0.1
        Dropout inside the Transformer encoder layer.
    n_hidden : int, default=32
        Width of the hidden fully-connected layer of the classifier.
    softmax_output : bool, default=False
        Apply a softmax inside the model as the official code does. The code then feeds
        these probabilities to ``CrossEntropyLoss`` (a double softmax). ``False``
        returns logits.
    kernels : {"code", "paper"}, default="code"
        First-layer kernels of the two streams. ``"code"``: 64 (small) / 512 (large)
        in every branch, as in the official code (whose outputs this class
        reproduces). ``"paper"``: the paper's Table 2, EEG 50 / 500 and EOG/EMG
        25 / 250; strides and paddings stay the code's (8 / 64, padding 24)
        [ASSUMPTION: the paper's are not checked], which keeps 13 + 11 = 24 steps per
        branch for 3000-sample epochs. 1,581,637 parameters.

    Notes
    -----
    Shapes for the paper input (B, 4, 3000): EEG (B, 128, 24), EOG/EMG (B, 64, 24), the
    modality stack Z0 (B, 4, 64, 24), Transformer tokens (B, 64, 96), flatten 6144.
    Parameter count 1,604,229.

    The only deviation from the official code is ``softmax_output=False`` by default
    (logits out, single softmax in the loss); set it to ``True`` to reproduce the code.
    Where the paper and the official code differ (first-layer kernels, the token layout
    of the Transformer input, the SE formula, weight decay and amsgrad), this class
    follows the code; ``docs/networks.md`` lists every difference.

    References
    ----------
    .. [1] Zheng Y, Luo Y, Zou B, Zhang L, Li L. MMASleepNet: a multimodal attention
           network based on electrophysiological signals for automatic sleep staging.
           Front. Neurosci. 2022, 16:973761. doi:10.3389/fnins.2022.973761
    .. [2] github.com/buptantEEG/MMASleepNet, commit 8fa5de5, ``model/MMASleepNet.py``.
    """

    def __init__(
        self,
        n_chans=4,
        n_times=3000,
        n_classes=5,
        eeg_channels=(0, 1),
        eog_channel=2,
        emg_channel=3,
        eeg_filters=(64, 128),
        other_filters=(32, 64),
        plane_channels=64,
        se_reduction=1,
        n_heads=4,
        n_layers=1,
        dim_feedforward=2048,
        dropout=0.5,
        transformer_dropout=0.1,
        n_hidden=32,
        softmax_output=False,
        kernels="code",
    ):
        super().__init__()
        if kernels not in FIRST_KERNELS:
            raise ValueError(
                f"kernels must be one of {sorted(FIRST_KERNELS)}, got {kernels!r}."
            )
        k_eeg, k_other = FIRST_KERNELS[kernels]["eeg"], FIRST_KERNELS[kernels]["other"]
        eeg_channels = tuple(int(c) for c in eeg_channels)
        picks = eeg_channels + (int(eog_channel), int(emg_channel))
        if len(eeg_channels) < 1:
            raise ValueError("eeg_channels must name at least one EEG channel.")
        if n_chans != len(picks):
            raise ValueError(
                f"MMASleepNet expects {len(picks)} input channels ({len(eeg_channels)} EEG, "
                f"1 EOG, 1 EMG: input shape (batch, {len(picks)}, n_times)), got n_chans="
                f"{n_chans}. Select the channels first, e.g. ChannelPicker(['EEG Fpz-Cz', "
                "'EEG Pz-Oz', 'EOG horizontal', 'EMG submental'])."
            )
        if sorted(picks) != list(range(n_chans)):
            raise ValueError(
                f"eeg_channels={eeg_channels}, eog_channel={eog_channel} and emg_channel="
                f"{emg_channel} must be distinct indices covering 0..{n_chans - 1}."
            )
        for name, (_, c2) in (("eeg_filters", eeg_filters), ("other_filters", other_filters)):
            if c2 % plane_channels:
                raise ValueError(
                    f"{name}[1]={c2} must be a multiple of plane_channels={plane_channels}."
                )
        small, large = _MBFEBranch.output_length(n_times, *k_eeg)
        if n_times < 464 or small < 1 or large < 1:
            raise ValueError(
                f"MMASleepNet needs at least 464 samples per epoch (30 s at 100 Hz = 3000), "
                f"got n_times={n_times}."
            )
        if _MBFEBranch.output_length(n_times, *k_other) != (small, large):
            raise ValueError(
                f"With kernels={kernels!r} and n_times={n_times} the EEG branch gives "
                f"{small}+{large} time steps but the EOG/EMG branches "
                f"{'+'.join(map(str, _MBFEBranch.output_length(n_times, *k_other)))}; the "
                "modality planes must have equal lengths. Use n_times=3000 (30 s at 100 Hz) "
                "or kernels='code'."
            )
        self.kernels = kernels
        self.n_chans = n_chans
        self.n_times = n_times
        self.n_classes = n_classes
        self.eeg_channels = eeg_channels
        self.eog_channel = int(eog_channel)
        self.emg_channel = int(emg_channel)
        self.plane_channels = plane_channels
        self.softmax_output = softmax_output
        self.n_steps = small + large
        self.n_planes = (eeg_filters[1] + 2 * other_filters[1]) // plane_channels
        self.d_model = self.n_planes * self.n_steps
        if self.d_model % n_heads:
            raise ValueError(
                f"Transformer width {self.d_model} (= {self.n_planes} planes x {self.n_steps} "
                f"steps) is not divisible by n_heads={n_heads}."
            )

        self.eeg_branch = _MBFEBranch(len(eeg_channels), *eeg_filters, dropout=dropout,
                                      k_small=k_eeg[0], k_large=k_eeg[1])
        self.eog_branch = _MBFEBranch(1, *other_filters, dropout=dropout,
                                      k_small=k_other[0], k_large=k_other[1])
        self.emg_branch = _MBFEBranch(1, *other_filters, dropout=dropout,
                                      k_small=k_other[0], k_large=k_other[1])
        self.modal_se = _ModalSEBlock(self.n_planes, reduction=se_reduction)
        layer = nn.TransformerEncoderLayer(
            d_model=self.d_model,
            nhead=n_heads,
            dim_feedforward=dim_feedforward,
            dropout=transformer_dropout,
            activation="relu",
            batch_first=True,
            norm_first=False,
        )
        self.transformer = nn.TransformerEncoder(
            layer, num_layers=n_layers, enable_nested_tensor=False
        )
        self.classifier = nn.Sequential(
            nn.Linear(plane_channels * self.d_model, n_hidden),
            nn.ReLU(),
            nn.Linear(n_hidden, n_classes),
        )

    def _planes(self, features):
        b, c, t = features.shape
        return features.reshape(b, c // self.plane_channels, self.plane_channels, t)

    def forward(self, x):
        """Map epochs ``(batch, n_chans, n_times)`` to logits ``(batch, n_classes)``.

        With ``softmax_output=True`` the output is a probability vector instead.
        """
        eeg = self.eeg_branch(x[:, list(self.eeg_channels)])
        eog = self.eog_branch(x[:, self.eog_channel : self.eog_channel + 1])
        emg = self.emg_branch(x[:, self.emg_channel : self.emg_channel + 1])
        z0 = torch.cat([self._planes(eeg), self._planes(eog), self._planes(emg)], dim=1)
        z = self.modal_se(z0)
        tokens = z.reshape(z.shape[0], self.plane_channels, self.d_model)
        fused = tokens * self.transformer(tokens)
        out = self.classifier(fused.flatten(1))
        if self.softmax_output:
            out = torch.softmax(out, dim=1)
        return out


#: MMASleepNet's loss weights per stage, from the official code's
#: ``[1, 1.80, 1, 1.25, 1.20]`` for (W, N1, N2, N3, REM); a tuple of (stage, weight)
#: pairs (a valid, immutable ``__init__`` default that reads as a dict).
_STAGE_CLASS_WEIGHT = (("W", 1.0), ("N1", 1.80), ("N2", 1.0), ("N3", 1.25), ("REM", 1.20))


class MMASleepNetClassifier(SleepNetClassifier):
    """MMASleepNet as a scikit-learn classifier, with the official training recipe.

    Input: epochs ``(n_epochs, 4, 3000)`` of EEG Fpz-Cz, EEG Pz-Oz, EOG horizontal and
    EMG submental at 100 Hz (channel order set by ``module__eeg_channels``,
    ``module__eog_channel`` and ``module__emg_channel``).

    Parameters
    ----------
    module : type of torch.nn.Module, default=MMASleepNet
        The network; its hyper-parameters take the ``module__`` prefix.
    criterion : type, default=WeightedCrossEntropyLoss
        Weighted cross-entropy.
    optimizer : type, default=torch.optim.Adam
        Adam with ``amsgrad=True`` (``optimizer__amsgrad``).
    lr : float, default=1e-4
        Learning rate (no schedule in the official code).
    max_epochs : int, default=150
        Training epochs.
    batch_size : int, default=256
        Mini-batch size.
    class_weight : dict, pairs, sequence, "balanced" or None, default=stage-keyed pairs
        Default ``(("W", 1.0), ("N1", 1.80), ("N2", 1.0), ("N3", 1.25), ("REM", 1.20))``.
        Loss weights keyed by stage: W 1.0, N1 1.80, N2 1.0, N3 1.25, REM 1.20 (the
        official code's ``[1, 1.80, 1, 1.25, 1.20]`` for W, N1, N2, N3, REM), given as
        ``(stage, weight)`` pairs so that each weight lands on its stage whatever the
        label order. The labels must be identified as AASM stages (stage names, or
        ``stage_map`` for integer labels); otherwise give your own weights (or ``None``).
    sfreq : float, default=100.0
        The sampling rate the kernels are designed for.
    optimizer__weight_decay : float, default=1e-2
        L2 weight decay as in the official code (the paper states 1e-3).
    optimizer__amsgrad : bool, default=True
        AMSGrad variant of Adam, as in the official code.
    **kwargs
        Any other :class:`~sklearn_sleep.models.SleepNetClassifier` or skorch
        argument (``device``, ``mixed_precision``, ``random_state``,
        ``validation_fraction``, ``module__softmax_output``, ...).

    Notes
    -----
    * Default output is logits; ``module__softmax_output=True`` reproduces the official
      code's softmax-inside-the-model followed by ``CrossEntropyLoss`` (double softmax).
      ``predict_proba`` then returns the model's softmax output as is.
    * Weight decay: the code uses 1e-2 (default here); the paper states 1e-3. The code
      value is the one that produced the published results.
    * The official script checkpoints on test-fold accuracy; here no model selection is
      done unless ``validation_fraction``/``early_stopping`` are set.

    References
    ----------
    .. [1] Zheng Y, Luo Y, Zou B, Zhang L, Li L. MMASleepNet: a multimodal attention
           network based on electrophysiological signals for automatic sleep staging.
           Front. Neurosci. 2022, 16:973761. doi:10.3389/fnins.2022.973761
    .. [2] github.com/buptantEEG/MMASleepNet, commit 8fa5de5,
           ``main/train_Kfold_mmasleep.py``.
    """

    def __init__(
        self,
        module=MMASleepNet,
        *,
        criterion=WeightedCrossEntropyLoss,
        optimizer=torch.optim.Adam,
        lr=1e-4,
        max_epochs=150,
        batch_size=256,
        class_weight=_STAGE_CLASS_WEIGHT,
        sfreq=100.0,
        optimizer__weight_decay=1e-2,
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
            optimizer__weight_decay=optimizer__weight_decay,
            optimizer__amsgrad=optimizer__amsgrad,
            **kwargs,
        )

    def _get_predict_nonlinearity(self):
        if self.predict_nonlinearity == "auto" and getattr(
            getattr(self, "module_", None), "softmax_output", False
        ):
            return lambda probs: probs.float()
        return super()._get_predict_nonlinearity()
