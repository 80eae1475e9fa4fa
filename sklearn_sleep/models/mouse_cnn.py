"""Placeholder: being implemented."""


class MouseCNN:
    pass


class MouseCNNClassifier:
    pass
