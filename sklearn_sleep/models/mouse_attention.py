"""Placeholder: being implemented."""


class MouseCNNAttention:
    pass


class MouseCNNAttentionClassifier:
    pass
