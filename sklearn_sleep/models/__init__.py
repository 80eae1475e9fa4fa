"""Published sleep-staging networks as PyTorch modules and scikit-learn classifiers.

Each network lives in its own file as a :class:`torch.nn.Module`; its classifier (a
:class:`SleepNetClassifier` subclass whose defaults are the paper's training recipe)
sits beside it. See ``docs/networks.md`` for what follows the papers and what is assumed.
"""

from ._base import SleepNetClassifier, resolve_device
from .losses import FocalLoss, WeightedCrossEntropyLoss, attnsleep_class_weights
from .mmasleepnet import MMASleepNet, MMASleepNetClassifier
from .masleepnet import MASleepNet, MASleepNetClassifier
from .ulw_sleepnet import ULWSleepNet, ULWSleepNetClassifier
from .ssc_sleepnet import SSCSleepNet, SSCSleepNetClassifier, SSCSleepNetLoss
from .mouse_cnn import MouseCNN, MouseCNNClassifier
from .mouse_attention import MouseCNNAttention, MouseCNNAttentionClassifier
from .mouse_transformer import MouseTransformer, MouseTransformerClassifier
from .slumbernet import SlumberNet, SlumberNetClassifier
from .sequence import EpochSequenceNet, MASleepNetSequenceClassifier, SequenceSleepNetClassifier
from .accelerated import (
    AcceleratedSleepNetClassifier,
    SleepNetAccelerateMixin,
    make_accelerator,
)

__all__ = [
    "SleepNetClassifier",
    "resolve_device",
    "FocalLoss",
    "WeightedCrossEntropyLoss",
    "attnsleep_class_weights",
    "MMASleepNet",
    "MMASleepNetClassifier",
    "MASleepNet",
    "MASleepNetClassifier",
    "ULWSleepNet",
    "ULWSleepNetClassifier",
    "SSCSleepNet",
    "SSCSleepNetClassifier",
    "SSCSleepNetLoss",
    "MouseCNN",
    "MouseCNNClassifier",
    "MouseCNNAttention",
    "MouseCNNAttentionClassifier",
    "MouseTransformer",
    "MouseTransformerClassifier",
    "SlumberNet",
    "SlumberNetClassifier",
    "EpochSequenceNet",
    "SequenceSleepNetClassifier",
    "MASleepNetSequenceClassifier",

    "AcceleratedSleepNetClassifier",
    "SleepNetAccelerateMixin",
    "make_accelerator",
]
