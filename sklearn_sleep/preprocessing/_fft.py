"""Former location of :class:`~sklearn_sleep.features.FFTFeatures`.

Kept so that objects pickled with the old module path still load; import
``FFTFeatures`` from :mod:`sklearn_sleep.features`.
"""

from ..features._fft import FFTFeatures  # noqa: F401

__all__ = []
