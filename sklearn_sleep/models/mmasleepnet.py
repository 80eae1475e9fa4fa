"""Placeholder: being implemented."""


class MMASleepNet:
    pass


class MMASleepNetClassifier:
    pass
