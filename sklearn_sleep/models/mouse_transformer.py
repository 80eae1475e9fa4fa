"""Placeholder: being implemented."""


class MouseTransformer:
    pass


class MouseTransformerClassifier:
    pass
