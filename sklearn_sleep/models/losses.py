"""Loss functions used by the sleep-staging networks.

All losses take the network's *logits* ``(batch, n_classes)`` (or a tuple whose first
element is the logits) and integer targets.
"""

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

__all__ = [
    "WeightedCrossEntropyLoss",
    "FocalLoss",
    "attnsleep_class_weights",
    "ATTNSLEEP_MU",
]

#: AttnSleep's class factors for (W, N1, N2, N3, REM), before the division by 5.
ATTNSLEEP_MU = (1.5, 2.0, 1.5, 1.0, 1.5)


def _logits(y_pred):
    return y_pred[0] if isinstance(y_pred, (tuple, list)) else y_pred


class WeightedCrossEntropyLoss(nn.CrossEntropyLoss):
    """Cross-entropy whose class weights may be given as a plain list or array.

    ``weight`` is stored as a buffer so that it moves with the criterion to the
    training device, and a list/tuple default is valid in a constructor signature
    (and therefore in ``get_params``/``clone``).

    Parameters
    ----------
    weight : sequence of float, ndarray, Tensor or None, default=None
        One weight per class, in class order.
    label_smoothing : float, default=0.0
        As in :class:`torch.nn.CrossEntropyLoss`.
    """

    def __init__(self, weight=None, label_smoothing=0.0):
        if weight is not None:
            weight = torch.as_tensor(np.asarray(weight, dtype=np.float32))
        super().__init__(weight=weight, label_smoothing=label_smoothing)

    def forward(self, input, target):  # noqa: A002 - torch naming
        return super().forward(_logits(input), target)


class FocalLoss(nn.Module):
    """Multi-class focal loss (Lin et al., ICCV 2017).

    ``FL = -alpha_t (1 - p_t)^gamma log(p_t)``, averaged over the batch.

    Parameters
    ----------
    gamma : float, default=2.0
        Focusing parameter; 0 gives (weighted) cross-entropy.
    weight : sequence of float or None, default=None
        Per-class ``alpha`` weights in class order.

    References
    ----------
    .. [1] Lin T-Y, Goyal P, Girshick R, He K, Dollar P. Focal loss for dense object
           detection. ICCV 2017.
    """

    def __init__(self, gamma=2.0, weight=None):
        super().__init__()
        self.gamma = gamma
        w = None if weight is None else torch.as_tensor(np.asarray(weight, dtype=np.float32))
        self.register_buffer("weight", w)

    def forward(self, input, target):  # noqa: A002
        logits = _logits(input)
        log_p = F.log_softmax(logits.float(), dim=-1)
        log_pt = log_p.gather(1, target.view(-1, 1)).squeeze(1)
        pt = log_pt.exp()
        loss = -((1.0 - pt) ** self.gamma) * log_pt
        if self.weight is not None:
            loss = loss * self.weight[target]
        return loss.mean()


def attnsleep_class_weights(y, n_classes=5, mu=ATTNSLEEP_MU):
    """Data-dependent class weights of AttnSleep (Eldele et al., IEEE TNSRE 2021).

    ``w_k = round(max(1, ln(mu_k * N / N_k)) * mu_k, 2)`` with ``mu = [1.5, 2, 1.5, 1, 1.5]/5``
    for (W, N1, N2, N3, REM).

    Parameters
    ----------
    y : array-like of int
        Encoded labels ``0..n_classes-1``.
    n_classes : int, default=5
    mu : sequence of float, default=(1.5, 2.0, 1.5, 1.0, 1.5)
        Un-normalised class factors (divided by 5 as in the AttnSleep code).

    Returns
    -------
    weights : ndarray of shape (n_classes,)
    """
    y = np.asarray(y, dtype=int)
    mu = np.asarray(mu, dtype=float) / 5.0
    if mu.shape != (n_classes,):
        raise ValueError(f"mu needs {n_classes} entries, got {mu.size}.")
    counts = np.bincount(y, minlength=n_classes).astype(float)
    counts[counts == 0] = 1.0
    w = np.maximum(1.0, np.log(mu * len(y) / counts)) * mu
    return np.round(w, 2)
