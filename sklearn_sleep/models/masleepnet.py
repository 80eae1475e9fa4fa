"""Placeholder: being implemented."""


class MASleepNet:
    pass


class MASleepNetClassifier:
    pass
