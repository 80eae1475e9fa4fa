"""Placeholder: being implemented."""


class ULWSleepNet:
    pass


class ULWSleepNetClassifier:
    pass
