"""SSC-SleepNet: a pseudo-Siamese single-channel network with an adaptive N1 loss.

Lin S, Wang Z, van Gorp H, ..., Fonseca P, Long X. "SSC-SleepNet: a Siamese-based
automatic sleep staging model with improved N1 sleep detection". IEEE Journal of
Biomedical and Health Informatics, 2025. doi:10.1109/JBHI.2025.3572886.

No code is published and only the abstract was available: the two branches (an
SE-ResNet and a CNN-LSTM), the contrastive term and the adaptive combination of
weighted cross-entropy and focal loss that penalises misclassified N1 epochs are from
the paper; every size and formula below is an [ASSUMPTION] consistent with it.
"""

import inspect
import warnings

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from ._base import SleepNetClassifier

__all__ = ["SSCSleepNet", "SSCSleepNetClassifier", "SSCSleepNetLoss", "hadsell_contrastive_loss"]


# --------------------------------------------------------------------------- network
class _SqueezeExcite1d(nn.Module):
    def __init__(self, channels, reduction=16):
        super().__init__()
        hidden = max(1, channels // reduction)
        self.fc = nn.Sequential(
            nn.Linear(channels, hidden), nn.ReLU(), nn.Linear(hidden, channels), nn.Sigmoid()
        )

    def forward(self, x):
        return x * self.fc(x.mean(dim=-1)).unsqueeze(-1)


class _SEBasicBlock1d(nn.Module):
    """conv3-BN-ReLU-conv3-BN -> squeeze-and-excitation -> + shortcut -> ReLU."""

    def __init__(self, in_channels, out_channels, stride=1, reduction=16):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv1d(in_channels, out_channels, 3, stride=stride, padding=1, bias=False),
            nn.BatchNorm1d(out_channels),
            nn.ReLU(),
            nn.Conv1d(out_channels, out_channels, 3, padding=1, bias=False),
            nn.BatchNorm1d(out_channels),
            _SqueezeExcite1d(out_channels, reduction),
        )
        self.shortcut = nn.Identity()
        if stride != 1 or in_channels != out_channels:
            self.shortcut = nn.Sequential(
                nn.Conv1d(in_channels, out_channels, 1, stride=stride, bias=False),
                nn.BatchNorm1d(out_channels),
            )

    def forward(self, x):
        return F.relu(self.body(x) + self.shortcut(x))


class SSCSleepNet(nn.Module):
    """SSC-SleepNet (Lin et al., IEEE JBHI 2025): SE-ResNet and CNN-LSTM branches on one EEG.

    Branch A (SE-ResNet-1D) and branch B (CNN-LSTM) share no weights; each maps the
    30-s EEG epoch to an ``embed_dim`` vector (``z_a``, ``z_b``). The classifier sees
    their concatenation. :meth:`forward` returns ``(logits, z_a, z_b)`` so that
    :class:`SSCSleepNetLoss` can add its contrastive term.

    Parameters
    ----------
    n_chans : int, default=1
        Channels of the input. The network is single-channel: with more than one
        channel, ``eeg_channel`` must say which one to use.
    n_times : int, default=3000
        Samples per epoch (30 s at 100 Hz). At least ``cnn_pool ** len(cnn_channels)``.
    n_classes : int, default=5
    eeg_channel : int or None, default=None
        Index of the EEG channel when ``n_chans > 1`` (e.g. 0 for Fpz-Cz in the Sleep-EDF
        channel order). ``None`` requires single-channel input.
    stem_channels : int, default=32
        Filters of branch A's stem (Conv k=7, s=2 -> BN -> ReLU -> MaxPool 3/2).
    se_widths : tuple of int, default=(32, 64, 128, 256)
        Widths of branch A's stages; every stage but the first starts with stride 2.
    blocks_per_stage : int, default=2
        SE basic blocks per stage.
    se_reduction : int, default=16
        Squeeze-and-excitation reduction ratio.
    cnn_channels : tuple of int, default=(64, 128, 128)
        Filters of branch B's convolution layers (Conv "same" -> BN -> ReLU -> MaxPool).
    cnn_kernels : tuple of int, default=(50, 8, 8)
        Their kernel sizes (the first one half a second at 100 Hz).
    cnn_pool : int, default=4
        Max-pooling factor after each convolution of branch B.
    embed_dim : int, default=128
        Size of ``z_a`` and ``z_b``; branch B's BiLSTM has ``embed_dim // 2`` units per
        direction (so ``embed_dim`` must be even).
    fc_hidden : int, default=64
        Hidden width of the classifier on ``[z_a, z_b]``.
    dropout : float, default=0.5
        Dropout of branch B (before the LSTM) and of the classifier.

    Notes
    -----
    Everything below the level of "SE-ResNet branch, CNN-LSTM branch, contrastive loss"
    is an [ASSUMPTION] (the paper's architecture details were not available): stem and
    stages follow ResNet-18 at a quarter of its width, branch B follows DeepSleepNet-like
    kernels, and ``z_b`` is the BiLSTM's last hidden state in both directions.

    References
    ----------
    .. [1] Lin S, Wang Z, van Gorp H, et al., Fonseca P, Long X. SSC-SleepNet: a
           Siamese-based automatic sleep staging model with improved N1 sleep detection.
           IEEE J Biomed Health Inform, 2025. doi:10.1109/JBHI.2025.3572886.
    """

    def __init__(
        self,
        n_chans=1,
        n_times=3000,
        n_classes=5,
        eeg_channel=None,
        stem_channels=32,
        se_widths=(32, 64, 128, 256),
        blocks_per_stage=2,
        se_reduction=16,
        cnn_channels=(64, 128, 128),
        cnn_kernels=(50, 8, 8),
        cnn_pool=4,
        embed_dim=128,
        fc_hidden=64,
        dropout=0.5,
    ):
        super().__init__()
        if eeg_channel is None and n_chans != 1:
            raise ValueError(
                f"SSCSleepNet is a single-channel EEG network but the input has n_chans="
                f"{n_chans} channels; set module__eeg_channel to the EEG channel's index or "
                "select one channel first (ChannelPicker)."
            )
        if eeg_channel is not None and not 0 <= int(eeg_channel) < n_chans:
            raise ValueError(f"eeg_channel={eeg_channel} is out of range for n_chans={n_chans}.")
        if len(cnn_kernels) != len(cnn_channels):
            raise ValueError(
                f"cnn_kernels ({len(cnn_kernels)}) and cnn_channels ({len(cnn_channels)}) "
                "need the same length."
            )
        min_times = cnn_pool ** len(cnn_channels)
        if n_times < min_times:
            raise ValueError(
                f"SSCSleepNet needs n_times >= {min_times} samples (cnn_pool={cnn_pool} applied "
                f"{len(cnn_channels)} times), got {n_times}."
            )
        if embed_dim % 2:
            raise ValueError(f"embed_dim must be even (BiLSTM halves), got {embed_dim}.")
        self.n_chans, self.n_times, self.n_classes = int(n_chans), int(n_times), int(n_classes)
        self.eeg_channel = 0 if eeg_channel is None else int(eeg_channel)

        # branch A: SE-ResNet-1D
        blocks, in_ch = [], stem_channels
        for i, width in enumerate(se_widths):
            for j in range(blocks_per_stage):
                stride = 2 if (i > 0 and j == 0) else 1
                blocks.append(_SEBasicBlock1d(in_ch, width, stride, se_reduction))
                in_ch = width
        self.branch_a = nn.Sequential(
            nn.Conv1d(1, stem_channels, 7, stride=2, padding=3, bias=False),
            nn.BatchNorm1d(stem_channels),
            nn.ReLU(),
            nn.MaxPool1d(3, 2, padding=1),
            *blocks,
            nn.AdaptiveAvgPool1d(1),
            nn.Flatten(),
            nn.Linear(in_ch, embed_dim),
        )

        # branch B: CNN -> BiLSTM
        layers, in_ch = [], 1
        for ch, k in zip(cnn_channels, cnn_kernels):
            layers += [
                nn.ConstantPad1d(((k - 1) // 2, k - 1 - (k - 1) // 2), 0.0),  # "same"
                nn.Conv1d(in_ch, ch, k, bias=False),
                nn.BatchNorm1d(ch),
                nn.ReLU(),
                nn.MaxPool1d(cnn_pool),
            ]
            in_ch = ch
        layers.append(nn.Dropout(dropout))
        self.branch_b_cnn = nn.Sequential(*layers)
        self.branch_b_lstm = nn.LSTM(in_ch, embed_dim // 2, batch_first=True, bidirectional=True)

        self.classifier = nn.Sequential(
            nn.Linear(2 * embed_dim, fc_hidden),
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Linear(fc_hidden, self.n_classes),
        )

    def embed(self, x):
        """Return ``(z_a, z_b)``, each of shape ``(batch, embed_dim)``."""
        x = x[:, self.eeg_channel : self.eeg_channel + 1]
        z_a = self.branch_a(x)
        h = self.branch_b_cnn(x).transpose(1, 2)  # (batch, steps, features)
        _, (h_n, _) = self.branch_b_lstm(h)
        z_b = torch.cat([h_n[-2], h_n[-1]], dim=1)  # last forward and backward states
        return z_a, z_b

    def forward(self, x):
        """``(logits, z_a, z_b)`` for ``x`` of shape (batch, n_chans, n_times)."""
        z_a, z_b = self.embed(x)
        return self.classifier(torch.cat([z_a, z_b], dim=1)), z_a, z_b


# ------------------------------------------------------------------------------ losses
def hadsell_contrastive_loss(z_a, z_b, target, margin=1.0, normalize=True):
    """Contrastive loss (Hadsell et al., CVPR 2006) between two branches, all in-batch pairs.

    For every pair ``(i, j)`` of the batch, ``d_ij = ||z_a[i] - z_b[j]||``; pairs of the
    same class (including ``i == j``, the two views of one epoch) are pulled together,
    pairs of different classes pushed beyond ``margin``::

        L = mean_ij [ y_ij d_ij^2 + (1 - y_ij) max(0, margin - d_ij)^2 ]

    Parameters
    ----------
    z_a, z_b : Tensor of shape (batch, dim)
        Embeddings of the two branches.
    target : Tensor of shape (batch,)
        Integer classes.
    margin : float, default=1.0
    normalize : bool, default=True
        L2-normalise the embeddings first (distances then lie in [0, 2]).

    Returns
    -------
    loss : scalar Tensor
    """
    z_a, z_b = z_a.float(), z_b.float()
    if normalize:
        z_a, z_b = F.normalize(z_a, dim=1), F.normalize(z_b, dim=1)
    d2 = (z_a.unsqueeze(1) - z_b.unsqueeze(0)).pow(2).sum(-1)
    same = (target.view(-1, 1) == target.view(1, -1)).float()
    d = torch.sqrt(d2 + 1e-12)
    return (same * d2 + (1.0 - same) * F.relu(margin - d).pow(2)).mean()


class SSCSleepNetLoss(nn.Module):
    """Adaptive N1-aware classification loss plus a contrastive term (SSC-SleepNet).

    ``L = lam * WCE + (1 - lam) * Focal + mu * Contrastive`` with

    * ``WCE = sum_i s_i w_{y_i} (-log p_i) / sum_i w_{y_i}`` (class-weighted cross-entropy),
    * ``Focal = mean_i s_i w_{y_i} (1 - p_i)^gamma (-log p_i)`` (alpha = class weights),
    * ``s_i = 1 + beta`` for an N1 epoch that the current batch misclassifies, else 1,
    * ``lam`` = running N1 recall: an exponential moving average of the recall of N1 in
      each training batch that contains N1 (``lam <- (1 - momentum) lam + momentum r``).
      While N1 is missed, ``lam`` is small and the focal term dominates; as N1 is
      recognised, the loss returns to weighted cross-entropy. ``lam`` carries no gradient
      and is only updated in training mode.
    * Contrastive: :func:`hadsell_contrastive_loss` between ``z_a`` and ``z_b`` over all
      in-batch pairs.

    Parameters
    ----------
    weight : sequence of float or None, default=None
        Class weights in class order (the classifier passes its ``class_weight_``). They
        are rescaled to mean 1.
    gamma : float, default=2.0
        Focusing parameter of the focal term.
    beta : float, default=1.0
        Extra weight of misclassified N1 epochs (``0`` turns it off).
    mu : float, default=0.5
        Weight of the contrastive term.
    margin : float, default=1.0
        Margin of the contrastive term.
    n1_index : int or None, default=1
        Index of N1 among the classes (the classifier fills it in from ``classes_``).
        ``None`` disables everything N1-specific (``lam`` then stays at ``lam``).
    adaptive : bool, default=True
        Adapt ``lam`` to the running N1 recall. ``False`` keeps it fixed at ``lam``.
    lam : float, default=0.5
        Starting value of the N1-recall average (or the fixed weight when not adaptive).
        ``adaptive=False, lam=1, beta=0, weight=None, mu=0`` is plain cross-entropy.
    momentum : float, default=0.1
        Momentum of the recall moving average.
    normalize : bool, default=True
        L2-normalise the embeddings in the contrastive term.

    Notes
    -----
    The paper describes an adaptive weighting factor between weighted cross-entropy and
    focal loss that dynamically raises the penalty on misclassified N1 epochs, and a
    contrastive loss between the branches; the formulas above are an [ASSUMPTION] that
    implements that description. The contrastive form (Hadsell-style pairs between the
    two branches, not a supervised-contrastive InfoNCE) is our choice.

    References
    ----------
    .. [1] Lin S, Wang Z, van Gorp H, et al., Fonseca P, Long X. SSC-SleepNet. IEEE J
           Biomed Health Inform, 2025. doi:10.1109/JBHI.2025.3572886.
    .. [2] Hadsell R, Chopra S, LeCun Y. Dimensionality reduction by learning an
           invariant mapping. CVPR 2006.
    .. [3] Lin T-Y, Goyal P, Girshick R, He K, Dollar P. Focal loss for dense object
           detection. ICCV 2017.
    """

    def __init__(
        self,
        weight=None,
        gamma=2.0,
        beta=1.0,
        mu=0.5,
        margin=1.0,
        n1_index=1,
        adaptive=True,
        lam=0.5,
        momentum=0.1,
        normalize=True,
    ):
        super().__init__()
        self.gamma, self.beta, self.mu, self.margin = gamma, beta, mu, margin
        self.n1_index, self.adaptive, self.momentum = n1_index, adaptive, momentum
        self.normalize = normalize
        w = None
        if weight is not None:
            w = torch.as_tensor(np.asarray(weight, dtype=np.float32))
            w = w / w.mean()
        self.register_buffer("weight", w)
        self.register_buffer("lam", torch.tensor(float(lam)))

    def classification_loss(self, logits, target):
        """``(lam * WCE + (1 - lam) * Focal, WCE, Focal)`` for one batch; updates ``lam``."""
        log_p = F.log_softmax(logits.float(), dim=-1)
        log_pt = log_p.gather(1, target.view(-1, 1)).squeeze(1)
        pt = log_pt.exp()
        w = self.weight[target] if self.weight is not None else torch.ones_like(pt)
        s = torch.ones_like(pt)
        n1 = self.n1_index
        if n1 is not None:
            is_n1 = target == n1
            missed = is_n1 & (log_p.argmax(dim=1) != n1)
            if self.beta:
                s = s + self.beta * missed.float()
            if self.adaptive and self.training and bool(is_n1.any()):
                with torch.no_grad():
                    recall = 1.0 - missed.sum().float() / is_n1.sum().float()
                    self.lam.mul_(1.0 - self.momentum).add_(self.momentum * recall)
        wce = (s * w * -log_pt).sum() / w.sum()
        focal = (s * w * (1.0 - pt).pow(self.gamma) * -log_pt).mean()
        lam = self.lam.clamp(0.0, 1.0)
        return lam * wce + (1.0 - lam) * focal, wce, focal

    def forward(self, y_pred, target):
        if isinstance(y_pred, (tuple, list)):
            logits, extras = y_pred[0], y_pred[1:]
        else:
            logits, extras = y_pred, ()
        loss, _, _ = self.classification_loss(logits, target)
        if self.mu and len(extras) >= 2:
            loss = loss + self.mu * hadsell_contrastive_loss(
                extras[0], extras[1], target, margin=self.margin, normalize=self.normalize
            )
        return loss


# -------------------------------------------------------------------------- classifier
class SSCSleepNetClassifier(SleepNetClassifier):
    """SSC-SleepNet as a scikit-learn classifier, trained with :class:`SSCSleepNetLoss`.

    Parameters are those of :class:`~sklearn_sleep.models.SleepNetClassifier`; only the
    defaults differ. Network hyper-parameters take the ``module__`` prefix (see
    :class:`SSCSleepNet`), loss ones the ``criterion__`` prefix (see
    :class:`SSCSleepNetLoss`).

    Parameters
    ----------
    module : type, default=SSCSleepNet
    criterion : type, default=SSCSleepNetLoss
    optimizer : type, default=torch.optim.Adam
    lr : float, default=1e-3
    max_epochs : int, default=100
    batch_size : int, default=128
    class_weight : default="balanced"
        Class weights proportional to 1 / frequency (rescaled to mean 1 by the loss).
    criterion__gamma : float, default=2.0
    criterion__beta : float, default=1.0
    criterion__mu : float, default=0.5
    iterator_train__shuffle : bool, default=True
    sfreq : float, default=100.0
    **kwargs
        Any other :class:`SleepNetClassifier`/skorch argument.

    Notes
    -----
    * The N1 class is found in ``classes_`` at fit time *by stage name* (``'N1'``,
      ``'S1'``..., or through ``stage_map``, e.g. ``stage_map="aasm"`` for integer AASM
      codes) and passed to the loss as ``n1_index``. Labels not identified as stages
      (integers without ``stage_map``, e.g. inside ``VotingClassifier``) raise a
      ``ValueError`` saying how to pass ``stage_map``. Set ``criterion__n1_index`` (an
      index into ``classes_``) to override it; without an N1 stage (e.g. mouse stages)
      the N1 terms are switched off with a warning.
    * Single-channel input; for multi-channel epochs set ``module__eeg_channel``.
    * [ASSUMPTION] defaults not given in the abstract: lr, batch size, epochs, ``mu``,
      ``beta``, ``gamma``, the margin, no learning-rate decay, no early stopping (the
      proposed recipe suggests early stopping on held-out training subjects: set
      ``validation_fraction=0.1, early_stopping=10`` and pass ``groups`` to ``fit``).
      Inputs are expected z-scored per recording.

    References
    ----------
    .. [1] Lin S, Wang Z, van Gorp H, et al., Fonseca P, Long X. SSC-SleepNet: a
           Siamese-based automatic sleep staging model with improved N1 sleep detection.
           IEEE J Biomed Health Inform, 2025. doi:10.1109/JBHI.2025.3572886.
    """

    def __init__(
        self,
        module=SSCSleepNet,
        *,
        criterion=SSCSleepNetLoss,
        optimizer=torch.optim.Adam,
        lr=1e-3,
        max_epochs=100,
        batch_size=128,
        class_weight="balanced",
        criterion__gamma=2.0,
        criterion__beta=1.0,
        criterion__mu=0.5,
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
            class_weight=class_weight,
            criterion__gamma=criterion__gamma,
            criterion__beta=criterion__beta,
            criterion__mu=criterion__mu,
            iterator_train__shuffle=iterator_train__shuffle,
            sfreq=sfreq,
            **kwargs,
        )

    def _n1_index(self):
        """Index of N1 in ``classes_`` (``None`` when the classes have no N1 stage).

        N1 is found by stage name (``stage_names_``, see ``stage_map``), never by
        position; labels that are not identified as stages raise.
        """
        classes = self.__dict__.get("classes_fitted_")
        if classes is None:
            return 1
        stages = self._require_stages("the adaptive N1 penalty of SSCSleepNetLoss")
        if "N1" in stages:
            return stages.index("N1")
        warnings.warn(
            f"{type(self).__name__}: no N1 stage among the classes {classes.tolist()} "
            f"(stages {list(stages)}); the adaptive N1 penalty is switched off. Set "
            "criterion__n1_index to choose a class.",
            UserWarning,
            stacklevel=4,
        )
        return None

    def initialize_criterion(self):
        kwargs = dict(self.get_params_for("criterion"))
        try:
            accepted = inspect.signature(self.criterion).parameters
        except (TypeError, ValueError):
            accepted = {}
        if "n1_index" in accepted and "n1_index" not in kwargs:
            kwargs["n1_index"] = self._n1_index()
        weight = getattr(self, "class_weight_", None)
        if weight is not None and "weight" not in kwargs:
            kwargs["weight"] = torch.as_tensor(weight, dtype=torch.float32)
        self.criterion_ = self.initialized_instance(self.criterion, kwargs)
        return self
