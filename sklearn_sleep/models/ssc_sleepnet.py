"""Placeholder: being implemented."""


class SSCSleepNet:
    pass


class SSCSleepNetClassifier:
    pass


class SSCSleepNetLoss:
    pass
