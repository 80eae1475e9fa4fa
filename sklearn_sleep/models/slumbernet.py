"""Placeholder: being implemented."""


class SlumberNet:
    pass


class SlumberNetClassifier:
    pass
