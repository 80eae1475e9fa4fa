"""Sequence-to-sequence sleep staging on top of any epoch-level network of the library.

A scorer reads an epoch in the context of its neighbours. The sequence models of
SeqSleepNet (Phan et al., 2019), U-Sleep (Perslev et al., 2021) and SleepTransformer
(Phan et al., 2022) share one *epoch encoder* over ``L`` consecutive epochs and model
the sequence of epoch embeddings with a recurrent network or a Transformer, giving one
output per epoch. :class:`EpochSequenceNet` does this for any epoch network of
:mod:`sklearn_sleep.models` (its classifier head is removed and the head's input is
the epoch embedding) and :class:`SequenceSleepNetClassifier` trains it, as a
scikit-learn classifier, on the context sequences of
``EpochSegmenter(n_context=k)``: ``X`` of shape ``(n_epochs, 2k + 1, n_chans,
n_times)`` whose middle element is the labelled epoch. :class:`MASleepNetSequenceClassifier`
is the multi-epoch variant of MASleepNet (Wang et al., 2025) built on the same
machinery.
"""

import math

import numpy as np
import torch
from scipy.sparse import issparse
from torch import nn

from ..utils._validation import check_epochs, check_sfreq
from ._base import SleepNetClassifier
from .losses import WeightedCrossEntropyLoss
from .masleepnet import MASleepNet, _AdditiveAttention, _MultiStepScheduleMixin

__all__ = ["EpochSequenceNet", "SequenceSleepNetClassifier", "MASleepNetSequenceClassifier"]

#: Names tried, in this order, for the classifier head of an epoch network when
#: ``feature_layer="auto"``. Every network of the library uses one of them.
HEAD_NAMES = ("classifier", "head", "fc")
_SEQUENCE_MODELS = ("bigru", "bilstm", "transformer", "bilstm_attention")
_IGNORE = -100  # target of context positions without a label (outside the recording)


class _FeatureTap(nn.Module):
    """Identity that remembers its input: replaces an epoch network's classifier head."""

    def forward(self, x):
        self.captured = x
        return x


def _sinusoidal_positions(length, dim, device, dtype):
    """Sinusoidal position encodings (Vaswani et al., 2017), shape ``(length, dim)``."""
    pos = torch.arange(length, device=device, dtype=torch.float32)[:, None]
    div = torch.exp(
        torch.arange(0, dim, 2, device=device, dtype=torch.float32) * (-math.log(10000.0) / dim)
    )
    pe = torch.zeros(length, dim, device=device, dtype=torch.float32)
    pe[:, 0::2] = torch.sin(pos * div)
    pe[:, 1::2] = torch.cos(pos * div[: dim // 2])
    return pe.to(dtype)


class EpochSequenceNet(nn.Module):
    """An epoch network shared over a sequence of epochs, followed by a sequence model.

    The input ``(batch, L, n_chans, n_times)`` is encoded epoch by epoch by
    ``encoder`` (the same weights for all ``L`` positions), giving ``(batch, L, D)``
    epoch embeddings, which a bidirectional GRU/LSTM or a Transformer encoder turns into one
    logit vector per epoch, ``(batch, L, n_classes)`` (sequence-to-sequence, as in
    SeqSleepNet [1]_, U-Sleep [2]_ and SleepTransformer [3]_). With
    ``sequence_model="bilstm_attention"`` a BiLSTM's states are also pooled by additive
    attention into one context vector of the sequence, which every epoch's head sees next
    to that epoch's state (the multi-epoch reading of MASleepNet's attention context
    module [4]_). With ``epoch_shortcut=True`` every epoch's head also sees that epoch's
    own embedding, a shortcut around the sequence model (DeepSleepNet's residual
    connection [5]_): the sequence network can then represent its epoch network exactly
    (head weights on the sequence part at zero) and learns what the context adds.

    **Epoch embedding convention.** The embedding of an epoch is the *input of the
    encoder's classifier head*, i.e. its penultimate features: the head submodule named
    ``feature_layer`` is replaced by an identity that records its input, so whatever
    the network does after the head (a softmax, extra outputs) does not matter and the
    head's weights are not trained. ``feature_layer="auto"`` uses the first of
    ``"classifier"``, ``"head"``, ``"fc"`` that the encoder has (every network of
    :mod:`sklearn_sleep.models` has one). ``feature_layer=None`` uses the encoder's
    output itself (its logits, or the first element of a tuple), for any other module.

    Parameters
    ----------
    encoder : torch.nn.Module
        An epoch-level network (an instance), mapping ``(batch, n_chans, n_times)`` to
        logits, e.g. ``ULWSleepNet(n_chans=4, n_times=3000)``.
    n_classes : int, default=5
        Number of sleep stages.
    n_chans, n_times : int or None, default=None
        Input epoch shape, used once to measure the embedding size ``D`` with a
        forward pass of zeros. ``None`` reads ``encoder.n_chans``/``encoder.n_times``.
    sequence_model : {"bigru", "bilstm", "transformer", "bilstm_attention"}, default="bigru"
        ``"bigru"``/``"bilstm"``: bidirectional GRU/LSTM, ``n_hidden`` units per
        direction, then the head on every epoch. ``"transformer"``: linear projection
        to ``n_hidden``, sinusoidal positions, ``n_layers`` Transformer encoder layers
        (``n_heads`` heads, feed-forward ``4 * n_hidden``), then the head on every
        epoch. ``"bilstm_attention"``: BiLSTM (``n_hidden`` per direction) whose
        states are pooled by additive attention of width ``n_hidden``; the head sees
        each epoch's state concatenated with that context vector.
    n_hidden : int, default=128
        Width of the sequence model (per direction for the recurrent ones).
    n_layers : int, default=1
        Number of recurrent or Transformer layers.
    n_heads : int, default=4
        Attention heads of the Transformer (must divide ``n_hidden``).
    dropout : float, default=0.1
        Dropout on the epoch embeddings, between stacked layers and before the head.
    head_hidden : int or None, default=None
        ``None``: the head is Dropout -> Linear. An int adds a hidden
        Linear -> ReLU layer of that width (MASleepNet's classifier shape).
    feature_layer : str, None or "auto", default="auto"
        Name (dotted path) of the encoder's classifier-head submodule whose input is
        the epoch embedding; see the convention above.
    epoch_shortcut : bool, default=False
        Concatenate each epoch's embedding (after the embedding dropout) to the output
        of the sequence model before the head.

    Attributes
    ----------
    feature_layer_ : str or None
        The head that was replaced (``None``: the encoder's output is used).
    n_features : int
        Size ``D`` of the epoch embedding.

    References
    ----------
    .. [1] Phan H, Andreotti F, Cooray N, Chen OY, De Vos M. SeqSleepNet: end-to-end
           hierarchical recurrent neural network for sequence-to-sequence automatic
           sleep staging. IEEE TNSRE 2019, 27(3):400-410. doi:10.1109/TNSRE.2019.2896659
    .. [2] Perslev M, Darkner S, Kempfner L, Nikolic M, Jennum PJ, Igel C. U-Sleep:
           resilient high-frequency sleep staging. npj Digit Med 2021, 4:72.
           doi:10.1038/s41746-021-00440-5
    .. [3] Phan H, Mikkelsen K, Chen OY, Koch P, Mertins A, De Vos M. SleepTransformer:
           automatic sleep staging with interpretation and uncertainty quantification.
           IEEE TBME 2022, 69(8):2456-2467. doi:10.1109/TBME.2022.3147187
    .. [4] Wang Z, Gong Z, Wang T, Dong Q, Huang Z, Zhang S, Ma Y. MASleepNet: a sleep
           staging model integrating multi-scale convolution and attention mechanisms.
           Biomimetics 2025, 10(10):642. doi:10.3390/biomimetics10100642
    .. [5] Supratak A, Dong H, Wu C, Guo Y. DeepSleepNet: a model for automatic sleep
           stage scoring based on raw single-channel EEG. IEEE TNSRE 2017,
           25(11):1998-2008. doi:10.1109/TNSRE.2017.2721116

    Examples
    --------
    >>> import torch
    >>> from sklearn_sleep.models import EpochSequenceNet, ULWSleepNet
    >>> net = EpochSequenceNet(ULWSleepNet(n_chans=2, n_times=3000), n_classes=5)
    >>> net.feature_layer_, net.n_features
    ('classifier', 64)
    >>> net(torch.zeros(3, 5, 2, 3000)).shape   # 3 sequences of 5 epochs
    torch.Size([3, 5, 5])
    """

    def __init__(self, encoder, n_classes=5, *, n_chans=None, n_times=None,
                 sequence_model="bigru", n_hidden=128, n_layers=1, n_heads=4, dropout=0.1,
                 head_hidden=None, feature_layer="auto", epoch_shortcut=False):
        super().__init__()
        if not isinstance(encoder, nn.Module):
            raise TypeError(
                f"encoder must be a torch.nn.Module instance, got {type(encoder).__name__}."
            )
        if sequence_model not in _SEQUENCE_MODELS:
            raise ValueError(
                f"sequence_model must be one of {_SEQUENCE_MODELS}, got {sequence_model!r}."
            )
        n_hidden, n_layers, n_heads = int(n_hidden), int(n_layers), int(n_heads)
        if n_hidden < 1 or n_layers < 1 or n_heads < 1:
            raise ValueError("n_hidden, n_layers and n_heads must be >= 1.")
        if sequence_model == "transformer" and n_hidden % n_heads:
            raise ValueError(
                f"n_hidden={n_hidden} must be a multiple of n_heads={n_heads} for the Transformer."
            )
        self.sequence_model = sequence_model
        self.epoch_shortcut = bool(epoch_shortcut)
        self.n_classes = int(n_classes)
        self.feature_layer_ = self._install_tap(encoder, feature_layer)
        self.encoder = encoder
        n_chans = getattr(encoder, "n_chans", None) if n_chans is None else n_chans
        n_times = getattr(encoder, "n_times", None) if n_times is None else n_times
        if n_chans is None or n_times is None:
            raise ValueError(
                "Give n_chans and n_times (the encoder has no n_chans/n_times attributes) so "
                "that the size of the epoch embedding can be measured."
            )
        self.n_features = self._measure(int(n_chans), int(n_times))
        self.dropout = nn.Dropout(dropout)
        inter = dropout if n_layers > 1 else 0.0
        if sequence_model == "bigru":
            self.rnn = nn.GRU(self.n_features, n_hidden, num_layers=n_layers, batch_first=True,
                              bidirectional=True, dropout=inter)
            head_in = 2 * n_hidden
        elif sequence_model in ("bilstm", "bilstm_attention"):
            self.rnn = nn.LSTM(self.n_features, n_hidden, num_layers=n_layers, batch_first=True,
                               bidirectional=True, dropout=inter)
            head_in = 2 * n_hidden
            if sequence_model == "bilstm_attention":
                self.attention = _AdditiveAttention(2 * n_hidden, n_hidden)
                head_in = 4 * n_hidden
        else:
            self.project = nn.Linear(self.n_features, n_hidden)
            layer = nn.TransformerEncoderLayer(n_hidden, n_heads, dim_feedforward=4 * n_hidden,
                                               dropout=dropout, batch_first=True)
            self.transformer = nn.TransformerEncoder(layer, num_layers=n_layers,
                                                     enable_nested_tensor=False)
            head_in = n_hidden
        if self.epoch_shortcut:
            head_in += self.n_features
        if head_hidden is None:
            self.head = nn.Sequential(nn.Dropout(dropout), nn.Linear(head_in, self.n_classes))
        else:
            self.head = nn.Sequential(nn.Dropout(dropout), nn.Linear(head_in, int(head_hidden)),
                                      nn.ReLU(), nn.Linear(int(head_hidden), self.n_classes))

    def __setstate__(self, state):
        # modules pickled before epoch_shortcut existed had none
        state.setdefault("epoch_shortcut", False)
        super().__setstate__(state)

    @staticmethod
    def _install_tap(encoder, feature_layer):
        if feature_layer is None:
            return None
        names = dict(encoder.named_modules())
        if feature_layer == "auto":
            found = [n for n in HEAD_NAMES if n in names]
            if not found:
                raise ValueError(
                    f"{type(encoder).__name__} has no submodule named {' / '.join(HEAD_NAMES)}; "
                    "give feature_layer='<name of its classifier head>' or feature_layer=None "
                    "to use its output (logits) as the epoch embedding."
                )
            feature_layer = found[0]
        if not isinstance(feature_layer, str) or feature_layer not in names or not feature_layer:
            raise ValueError(
                f"feature_layer={feature_layer!r} is not a submodule of "
                f"{type(encoder).__name__}; available: {sorted(n for n in names if n)[:20]}."
            )
        parent_name, _, attr = feature_layer.rpartition(".")
        parent = encoder.get_submodule(parent_name) if parent_name else encoder
        setattr(parent, attr, _FeatureTap())
        return feature_layer

    def _measure(self, n_chans, n_times):
        was_training = self.encoder.training
        self.encoder.eval()
        try:
            with torch.no_grad():
                dim = self._encode(torch.zeros(2, n_chans, n_times)).shape[1]
        finally:
            self.encoder.train(was_training)
        return int(dim)

    def _encode(self, x):
        out = self.encoder(x)
        if self.feature_layer_ is not None:
            tap = self.encoder.get_submodule(self.feature_layer_)
            feats, tap.captured = tap.captured, None
        else:
            feats = out[0] if isinstance(out, (tuple, list)) else out
        return feats.flatten(1)

    def forward(self, x):
        """Logits ``(batch, L, n_classes)``, one vector per epoch of each sequence.

        Parameters
        ----------
        x : torch.Tensor of shape (batch, L, n_chans, n_times)
            Sequences of ``L`` consecutive epochs.

        Returns
        -------
        logits : torch.Tensor
        """
        if x.ndim != 4:
            raise ValueError(
                "EpochSequenceNet expects (batch, L, n_chans, n_times), got shape "
                f"{tuple(x.shape)}."
            )
        b, length = x.shape[:2]
        z = self._encode(x.reshape(b * length, *x.shape[2:])).reshape(b, length, -1)
        z = self.dropout(z)
        if self.sequence_model == "transformer":
            h = self.project(z)
            h = self.transformer(h + _sinusoidal_positions(length, h.shape[-1], h.device,
                                                           h.dtype))
        else:
            h, _ = self.rnn(z)
            if self.sequence_model == "bilstm_attention":
                context = self.attention(h)[:, None].expand(-1, length, -1)
                h = torch.cat([h, context], dim=2)
        if self.epoch_shortcut:
            h = torch.cat([h, z], dim=2)
        return self.head(h)


def context_rows(recordings, epoch_index, n_context):
    """Row of each context position of each row, from the segmenter's metadata.

    Parameters
    ----------
    recordings : array-like of shape (n_rows,)
        Recording of each row (``EpochSegmenter.segment(...).recordings``).
    epoch_index : array-like of int, shape (n_rows,)
        Position of each row's labelled epoch in its recording
        (``EpochSegmenter.segment(...).epoch_index``).
    n_context : int
        Neighbours on each side (sequences of ``2 * n_context + 1`` epochs).

    Returns
    -------
    rows : ndarray of int, shape (n_rows, 2 * n_context + 1)
        ``rows[i, j]`` is the row whose labelled epoch is epoch
        ``epoch_index[i] + j - n_context`` of the *same* recording, or -1 when that
        epoch is outside the recording or not among the rows. ``rows[i, n_context] == i``.
    """
    rec = np.asarray(recordings)
    idx = np.asarray(epoch_index)
    n = len(rec)
    if rec.ndim != 1 or idx.shape != (n,):
        raise ValueError(
            f"recordings and epoch_index must be 1-D with one entry per row; got shapes "
            f"{rec.shape} and {idx.shape}."
        )
    if not np.issubdtype(idx.dtype, np.integer):
        if not np.issubdtype(idx.dtype, np.floating) or not np.all(np.mod(idx, 1) == 0):
            raise ValueError("epoch_index must hold whole numbers (epoch positions).")
    idx = idx.astype(np.int64)
    if n and idx.min() < 0:
        raise ValueError("epoch_index must be >= 0.")
    _, rec_code = np.unique(rec, return_inverse=True)
    span = int(idx.max(initial=0)) + int(n_context) + 2
    keys = rec_code.astype(np.int64) * span + idx
    order = np.argsort(keys, kind="stable")
    sorted_keys = keys[order]
    dup = sorted_keys[1:] == sorted_keys[:-1]
    if dup.any():
        r = order[1:][dup][0]
        raise ValueError(
            f"(recording, epoch_index) = ({rec[r]!r}, {idx[r]}) occurs more than once; each "
            "row must be a distinct epoch of its recording."
        )
    offsets = np.arange(-int(n_context), int(n_context) + 1)
    out = np.full((n, len(offsets)), -1, dtype=np.int64)
    for j, o in enumerate(offsets):
        target = keys + o
        ok = idx + o >= 0
        pos = np.clip(np.searchsorted(sorted_keys, target), 0, max(n - 1, 0))
        found = ok & (sorted_keys[pos] == target)
        out[found, j] = order[pos[found]]
    return out


class SequenceSleepNetClassifier(SleepNetClassifier):
    """Any epoch network of the library as a sequence-to-sequence scikit-learn classifier.

    The network ``module`` (e.g. :class:`~sklearn_sleep.models.ULWSleepNet`) becomes the
    epoch encoder of an :class:`EpochSequenceNet`, shared over the ``L = 2k + 1``
    epochs of each context sequence, followed by a BiGRU or a Transformer over the
    sequence (SeqSleepNet [1]_, U-Sleep [2]_, SleepTransformer [3]_).

    **Input layout.** ``X`` is the output of
    ``EpochSegmenter(sfreq, n_context=k).segment(...)``: shape ``(n_epochs, 2k + 1,
    n_chans, n_times)``, one row per labelled epoch, the labelled epoch in the middle
    and its ``k`` neighbours on each side taken *from the same recording only* (the
    segmenter pads at recording edges), with ``y`` the label of the middle epoch.
    Every row is therefore a self-contained sequence: a mini-batch may hold rows of
    several recordings, but no sequence ever mixes two recordings, and rows are scored
    independently of each other (batch composition never changes a prediction).
    ``predict``/``predict_proba`` return one label/probability vector per row, i.e.
    per labelled epoch, in the segmenter's row order (aligned with its ``y``,
    ``groups``, ``recordings`` and ``epoch_index``).

    **Training targets.** With ``loss_positions="centre"`` (default) the loss is the
    criterion on the middle position of each sequence: ``fit(X, y)`` needs nothing
    else and works in any scikit-learn tool. With ``loss_positions="all"`` every
    position is supervised (sequence-to-sequence training as in SeqSleepNet): pass
    the segmenter's ``recordings`` and ``epoch_index`` to ``fit``; the label of
    position ``j`` of row ``i`` is the ``y`` of the row holding epoch
    ``epoch_index[i] + j - k`` of the same recording. Positions outside the recording
    (padding) or whose epoch is not among the training rows are left out of the
    loss; ``fit`` checks that the metadata describe ``X`` (each such neighbour must be
    exactly the middle epoch of its row) and refuses it otherwise.

    Parameters
    ----------
    module : type of torch.nn.Module
        The epoch-level network class (not an instance). Its hyper-parameters take the
        ``module__`` prefix; ``n_chans``, ``n_times``, ``n_classes`` and ``sfreq`` are
        filled in from the data as for :class:`SleepNetClassifier`.
    sequence_model : {"bigru", "bilstm", "transformer", "bilstm_attention"}, default="bigru"
        Model over the epoch embeddings (see :class:`EpochSequenceNet`).
    sequence_hidden : int, default=128
        Width of the sequence model (per direction for the recurrent ones).
    sequence_layers : int, default=1
        Recurrent or Transformer layers.
    sequence_heads : int, default=4
        Transformer attention heads.
    sequence_dropout : float, default=0.1
        Dropout of the sequence part (embeddings, between layers, before the head).
    head_hidden : int or None, default=None
        Optional hidden layer of the per-epoch head.
    feature_layer : str, None or "auto", default="auto"
        The encoder's classifier head, whose input is the epoch embedding (see
        :class:`EpochSequenceNet`).
    loss_positions : {"centre", "all"}, default="centre"
        Which positions of each sequence the loss sees (see above).
    epoch_shortcut : bool, default=False
        Give the per-epoch head the epoch's own embedding next to the sequence model's
        output (see :class:`EpochSequenceNet`).
    criterion, optimizer, lr, max_epochs, class_weight, sfreq, random_state, device
        As in :class:`SleepNetClassifier`. The criterion receives ``(n, n_classes)``
        logits of the supervised positions and their labels.
    batch_size : int, default=32
        Sequences per mini-batch (each holds ``L`` epochs).
    **kwargs
        Any other :class:`SleepNetClassifier`/skorch argument (``callbacks``,
        ``validation_fraction``, ``module__...``, ``optimizer__...``).

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The labels seen at ``fit``.
    input_shape_ : tuple of int
        ``(L, n_chans, n_times)`` of the training sequences.
    n_context_in_ : int
        ``k``: neighbours on each side of the training sequences (``L = 2k + 1``).
    n_chans_in_, n_times_in_ : int
        Shape of one epoch.
    module_ : EpochSequenceNet
        The fitted network (``module_.encoder`` is the epoch network).

    See Also
    --------
    sklearn_sleep.preprocessing.EpochSegmenter : makes the context sequences.
    MASleepNetSequenceClassifier : MASleepNet's multi-epoch variant.

    References
    ----------
    .. [1] Phan H, Andreotti F, Cooray N, Chen OY, De Vos M. SeqSleepNet: end-to-end
           hierarchical recurrent neural network for sequence-to-sequence automatic
           sleep staging. IEEE TNSRE 2019, 27(3):400-410. doi:10.1109/TNSRE.2019.2896659
    .. [2] Perslev M, Darkner S, Kempfner L, Nikolic M, Jennum PJ, Igel C. U-Sleep:
           resilient high-frequency sleep staging. npj Digit Med 2021, 4:72.
           doi:10.1038/s41746-021-00440-5
    .. [3] Phan H, Mikkelsen K, Chen OY, Koch P, Mertins A, De Vos M. SleepTransformer:
           automatic sleep staging with interpretation and uncertainty quantification.
           IEEE TBME 2022, 69(8):2456-2467. doi:10.1109/TBME.2022.3147187

    Examples
    --------
    >>> from sklearn_sleep.datasets import make_synthetic_psg
    >>> from sklearn_sleep.preprocessing import EpochSegmenter
    >>> from sklearn_sleep.models import SequenceSleepNetClassifier, ULWSleepNet
    >>> psg = make_synthetic_psg(n_subjects=1, n_epochs=20, random_state=0,
    ...                          return_continuous=True)
    >>> out = EpochSegmenter(sfreq=100, n_context=2).segment(psg.signals, psg.labels)
    >>> out.X.shape                                   # 5-epoch sequences
    (20, 5, 4, 3000)
    >>> clf = SequenceSleepNetClassifier(ULWSleepNet, max_epochs=1, device="cpu",
    ...                                  random_state=0).fit(out.X, out.y)
    >>> clf.predict(out.X).shape                      # one label per labelled epoch
    (20,)
    """

    def __init__(
        self,
        module,
        *,
        sequence_model="bigru",
        sequence_hidden=128,
        sequence_layers=1,
        sequence_heads=4,
        sequence_dropout=0.1,
        head_hidden=None,
        feature_layer="auto",
        loss_positions="centre",
        epoch_shortcut=False,
        criterion=WeightedCrossEntropyLoss,
        optimizer=torch.optim.Adam,
        lr=1e-3,
        max_epochs=20,
        batch_size=32,
        **kwargs,
    ):
        super().__init__(
            module,
            criterion=criterion,
            optimizer=optimizer,
            lr=lr,
            max_epochs=max_epochs,
            batch_size=batch_size,
            **kwargs,
        )
        self.sequence_model = sequence_model
        self.sequence_hidden = sequence_hidden
        self.sequence_layers = sequence_layers
        self.sequence_heads = sequence_heads
        self.sequence_dropout = sequence_dropout
        self.head_hidden = head_hidden
        self.feature_layer = feature_layer
        self.loss_positions = loss_positions
        self.epoch_shortcut = epoch_shortcut

    # ------------------------------------------------------------ validation
    def _check_X(self, X, *, reset):
        """Validate context sequences ``(n_epochs, L, n_chans, n_times)``."""
        name = type(self).__name__
        if issparse(X):
            raise TypeError(
                f"{name} does not support sparse input: it takes dense context sequences "
                "(n_epochs, 2*n_context+1, n_chans, n_times)."
            )
        if hasattr(X, "info") and hasattr(X, "get_data"):
            raise ValueError(
                f"{name} needs context sequences, not mne.Epochs: cut the recordings with "
                "EpochSegmenter(sfreq, n_context=k).segment(...) and pass its X."
            )
        ndim = np.ndim(X)
        if ndim == 3:
            raise ValueError(
                f"{name} expects context sequences of shape (n_epochs, 2*n_context+1, "
                f"n_chans, n_times), as returned by EpochSegmenter(sfreq, n_context=k)"
                f".segment(...).X; got a 3-D array of shape {np.shape(X)} (single epochs). "
                "Segment with n_context >= 1, or use the epoch-level classifier."
            )
        # torch refuses negative strides: make sliced/flipped views contiguous (as the
        # epoch-level classifier does)
        X = np.ascontiguousarray(check_epochs(X, name="X", ndim=4))
        length = int(X.shape[1])
        if length % 2 == 0:
            raise ValueError(
                f"X has sequences of {length} epochs; the length must be odd (2*n_context+1) "
                "so that the labelled epoch is the middle one, as EpochSegmenter(n_context=k) "
                "returns."
            )
        declared = None if self.sfreq is None else check_sfreq(self.sfreq)
        if reset:
            self.n_context_in_ = length // 2
            self.n_chans_in_, self.n_times_in_ = int(X.shape[2]), int(X.shape[3])
            self.input_shape_ = (length, self.n_chans_in_, self.n_times_in_)
            self.sfreq_in_ = declared
        else:
            self._check_fitted()
            if tuple(X.shape[1:]) != self.input_shape_:
                raise ValueError(
                    f"{name} was fitted on sequences of shape (L, n_chans, n_times) = "
                    f"{self.input_shape_}, got {tuple(X.shape[1:])}. Segment with the same "
                    "n_context and apply the same channel selection and resampling as at fit."
                )
        return X

    def _context_targets(self, X, recordings, epoch_index):
        """Rows of the labels of every position (``loss_positions="all"``), checked on X."""
        if self.loss_positions not in ("centre", "all"):
            raise ValueError(
                f"loss_positions must be 'centre' or 'all', got {self.loss_positions!r}."
            )
        if self.loss_positions == "centre":
            return None
        if recordings is None or epoch_index is None:
            raise ValueError(
                "loss_positions='all' needs the recording and position of every row: pass "
                "fit(X, y, recordings=out.recordings, epoch_index=out.epoch_index) with the "
                "result `out` of EpochSegmenter.segment (rows in the same order as X)."
            )
        if len(recordings) != len(X) or len(epoch_index) != len(X):
            raise ValueError(
                f"recordings ({len(recordings)}) and epoch_index ({len(epoch_index)}) need one "
                f"entry per row of X ({len(X)})."
            )
        k = X.shape[1] // 2
        rows = context_rows(recordings, epoch_index, k)
        for j in range(X.shape[1]):
            if j == k:
                continue
            have = np.flatnonzero(rows[:, j] >= 0)
            for start in range(0, len(have), 256):
                chunk = have[start:start + 256]
                if not np.array_equal(X[chunk, j], X[rows[chunk, j], k]):
                    bad = next(i for i in chunk if not np.array_equal(X[i, j], X[rows[i, j], k]))
                    raise ValueError(
                        f"recordings/epoch_index do not describe X: position {j} of row {bad} "
                        f"should be the middle epoch of row {rows[bad, j]} (epoch "
                        f"{int(np.asarray(epoch_index)[bad]) + j - k} of recording "
                        f"{np.asarray(recordings)[bad]!r}) but differs. Pass the segmenter's "
                        "recordings and epoch_index in the row order of X."
                    )
        return rows

    # ------------------------------------------------------------- skorch hooks
    def initialize_module(self):
        if not isinstance(self.module, type):
            raise TypeError(
                f"{type(self).__name__}: module must be the epoch network class (e.g. "
                f"ULWSleepNet), got an instance of {type(self.module).__name__}."
            )
        enc_kwargs = self._signal_kwargs(self.module, dict(self.get_params_for("module")))
        encoder = self.module(**enc_kwargs)
        self.module_ = EpochSequenceNet(
            encoder,
            n_classes=len(self.classes_),
            n_chans=self.n_chans_in_,
            n_times=self.n_times_in_,
            sequence_model=self.sequence_model,
            n_hidden=self.sequence_hidden,
            n_layers=self.sequence_layers,
            n_heads=self.sequence_heads,
            dropout=self.sequence_dropout,
            head_hidden=self.head_hidden,
            feature_layer=self.feature_layer,
            epoch_shortcut=self.epoch_shortcut,
        )
        return self

    def get_dataset(self, dataset, y=None):
        rows = self.__dict__.get("_context_rows")
        if rows is not None and y is not None and len(y) == len(rows):
            y = np.asarray(y)
            if y.ndim == 1:  # encoded middle labels -> labels of every position
                y = np.where(rows >= 0, y[np.clip(rows, 0, None)], _IGNORE).astype(np.int64)
        return super().get_dataset(dataset, y)

    def get_loss(self, y_pred, y_true, X=None, training=False):
        logits = y_pred[0] if isinstance(y_pred, (tuple, list)) else y_pred
        y_true = torch.as_tensor(y_true, device=logits.device)
        if logits.ndim == 3:
            if y_true.ndim == 2:
                keep = y_true != _IGNORE
                logits, y_true = logits[keep], y_true[keep]
            else:
                logits = logits[:, logits.shape[1] // 2]
        elif y_true.ndim == 2:
            y_true = y_true[:, y_true.shape[1] // 2]
        return super().get_loss(logits, y_true, X=X, training=training)

    def _get_predict_nonlinearity(self):
        inner = super()._get_predict_nonlinearity()

        def middle(out):
            logits = out[0] if isinstance(out, (tuple, list)) else out
            if logits.ndim == 3:
                logits = logits[:, logits.shape[1] // 2]
            return inner(logits)

        return middle

    # ------------------------------------------------------------- public API
    def fit(self, X, y, groups=None, recordings=None, epoch_index=None, **fit_params):
        """Train the sequence network from scratch.

        Parameters
        ----------
        X : array-like of shape (n_epochs, 2*n_context+1, n_chans, n_times)
            Context sequences from ``EpochSegmenter(n_context=k)``.
        y : array-like of shape (n_epochs,)
            Label of the middle epoch of each sequence (the segmenter's ``y``).
        groups : array-like of shape (n_epochs,), default=None
            Subject of each row, for ``validation_fraction`` (as in
            :meth:`SleepNetClassifier.fit`).
        recordings, epoch_index : array-like of shape (n_epochs,), default=None
            The segmenter's ``recordings`` and ``epoch_index``; used (and required)
            only with ``loss_positions="all"``.
        **fit_params
            Passed to skorch.

        Returns
        -------
        self : SequenceSleepNetClassifier
        """
        X = self._check_X(X, reset=True)
        rows = self._context_targets(X, recordings, epoch_index)
        self.__dict__["_context_rows"] = rows
        try:
            return super().fit(X, y, groups=groups, **fit_params)
        finally:
            self.__dict__.pop("_context_rows", None)

    def partial_fit(self, X, y=None, classes=None, **fit_params):
        """Continue training for ``max_epochs`` more passes (middle-position loss only).

        Parameters
        ----------
        X : array-like of shape (n_epochs, 2*n_context+1, n_chans, n_times)
            Context sequences of the fitted shape.
        y : array-like of shape (n_epochs,)
            Labels of the middle epochs.
        classes : None
            Unused; the classes are those seen at ``fit``.
        **fit_params
            Passed to skorch.

        Returns
        -------
        self : SequenceSleepNetClassifier
        """
        if ("_routing_method" not in fit_params and self.loss_positions == "all"
                and getattr(self, "initialized_", False)):
            raise ValueError(
                "partial_fit has no recordings/epoch_index to supervise every position, so "
                "it would silently train on the middle position only; with "
                "loss_positions='all' call fit again (or set loss_positions='centre')."
            )
        return super().partial_fit(X, y, classes=classes, **fit_params)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = False
        return tags


class MASleepNetSequenceClassifier(_MultiStepScheduleMixin, SequenceSleepNetClassifier):
    """MASleepNet's multi-epoch variant, as a scikit-learn classifier.

    MASleepNet [1]_ ends with a "BiLSTM-Attention Context Module" (ACM). The
    epoch-level :class:`~sklearn_sleep.models.MASleepNet` reads it as a BiLSTM over
    the *intra-epoch* time steps; this class is the other reading noted in
    ``docs/NETWORKS.md`` Sec. 2.2, a context module over ``L`` *consecutive epochs*:

    1. epoch encoder: the whole epoch-level MASleepNet (per-modality MFEM with SE,
       channel-wise attention fusion, intra-epoch BiLSTM-attention) without its
       classifier, giving a 256-d embedding per epoch, shared over the ``L`` epochs;
    2. context module: BiLSTM (128 units per direction) over the ``L`` embeddings and
       additive attention (width 128) pooling its states into a context vector;
    3. MASleepNet's classifier shape (Dropout 0.5 -> Linear -> 64 -> ReLU -> Linear)
       on each epoch's BiLSTM state concatenated with the context vector and with the
       epoch's own embedding (the *epoch shortcut*, DeepSleepNet's residual
       connection around its BiLSTMs [3]_).

    It predicts the middle epoch of each ``EpochSegmenter(n_context=k)`` sequence and,
    with the default ``loss_positions="centre"``, is trained on it.

    Parameters
    ----------
    module : type, default=MASleepNet
        The epoch network (its ablations and sizes take the ``module__`` prefix).
    sequence_model : str, default="bilstm_attention"
        Context module; ``"bigru"``/``"bilstm"``/``"transformer"`` are the
        alternatives without attention pooling.
    sequence_hidden : int, default=128
        BiLSTM units per direction and attention width [ASSUMPTION: as the
        intra-epoch ACM].
    sequence_layers : int, default=1
    sequence_heads : int, default=4
        Only used by ``sequence_model="transformer"``.
    sequence_dropout : float, default=0.5
        [ASSUMPTION: MASleepNet's dropout.]
    head_hidden : int, default=64
        MASleepNet's classifier shape.
    feature_layer : str, default="classifier"
    loss_positions : {"centre", "all"}, default="centre"
    epoch_shortcut : bool, default=True
        The head also sees the epoch's own embedding [ASSUMPTION, see Notes].
    criterion : type, default=WeightedCrossEntropyLoss
    optimizer : type, default=torch.optim.Adam
    lr : float, default=1e-3
    max_epochs : int, default=100
    batch_size : int, default=32
        Sequences per mini-batch [ASSUMPTION: 128 epochs per batch in the epoch model;
        32 sequences keep the memory of ``L`` epochs per sequence bounded].
    class_weight : default="attnsleep"
    sfreq : float, default=100.0
    lr_milestones : tuple of int or None, default=(10,)
    lr_gamma : float, default=0.1
    optimizer__betas : tuple, default=(0.9, 0.999)
    optimizer__weight_decay : float, default=1e-3
    optimizer__amsgrad : bool, default=True
    **kwargs
        Any other :class:`SequenceSleepNetClassifier` argument.

    Notes
    -----
    Not in the paper's retrievable text, hence [ASSUMPTION]s: the sequence length
    (NETWORKS.md suggests L = 10-20; choose ``n_context`` in the segmenter, e.g. 5 for
    L = 11), keeping the intra-epoch ACM inside the epoch encoder, attention pooling
    over the epochs, feeding the head each epoch's BiLSTM state next to the attention
    context (attention pooling alone does not say which epoch is scored), the epoch
    shortcut, the widths above and the whole training recipe, which is the one of
    :class:`~sklearn_sleep.models.MASleepNetClassifier` (AttnSleep's). The shortcut
    lets the network represent the epoch-level MASleepNet exactly, so the context
    module only has to learn what the neighbours add. Evidence (synthetic PSG,
    ``benchmarks/bench_sequence.py``, development seeds 10-17): without the shortcut
    the variant beat the epoch-level network in 6 of 8 seeds with a small mean gain
    (kappa 0.602 vs 0.572) in a short budget; with it, 6 of 8 (0.675) there and 7 of 7
    in the benchmark's budget (0.82 vs 0.75); results on the reported seeds are in
    ``benchmarks/results/sequence_seeds.md``.

    References
    ----------
    .. [1] Wang Z, Gong Z, Wang T, Dong Q, Huang Z, Zhang S, Ma Y. MASleepNet: a sleep
           staging model integrating multi-scale convolution and attention mechanisms.
           Biomimetics 2025, 10(10):642. doi:10.3390/biomimetics10100642
    .. [2] Phan H, Andreotti F, Cooray N, Chen OY, De Vos M. SeqSleepNet: end-to-end
           hierarchical recurrent neural network for sequence-to-sequence automatic
           sleep staging. IEEE TNSRE 2019, 27(3):400-410. doi:10.1109/TNSRE.2019.2896659
    .. [3] Supratak A, Dong H, Wu C, Guo Y. DeepSleepNet: a model for automatic sleep
           stage scoring based on raw single-channel EEG. IEEE TNSRE 2017,
           25(11):1998-2008. doi:10.1109/TNSRE.2017.2721116
    """

    def __init__(
        self,
        module=MASleepNet,
        *,
        sequence_model="bilstm_attention",
        sequence_hidden=128,
        sequence_layers=1,
        sequence_heads=4,
        sequence_dropout=0.5,
        head_hidden=64,
        feature_layer="classifier",
        loss_positions="centre",
        epoch_shortcut=True,
        criterion=WeightedCrossEntropyLoss,
        optimizer=torch.optim.Adam,
        lr=1e-3,
        max_epochs=100,
        batch_size=32,
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
            sequence_model=sequence_model,
            sequence_hidden=sequence_hidden,
            sequence_layers=sequence_layers,
            sequence_heads=sequence_heads,
            sequence_dropout=sequence_dropout,
            head_hidden=head_hidden,
            feature_layer=feature_layer,
            loss_positions=loss_positions,
            epoch_shortcut=epoch_shortcut,
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

