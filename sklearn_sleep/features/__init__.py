"""Per-epoch spectral features of epoch arrays ``(n_epochs, n_channels, n_times)``.

* :class:`BandPowerFeatures`: band powers and YASA-like statistics, 2-D feature matrix
  out (for classical classifiers).
* :class:`FFTFeatures`: (log-)magnitude spectrum of every channel, 3-D out (spectra as
  channels, the input of the FFT branches of the mouse CNN). Formerly in
  :mod:`sklearn_sleep.preprocessing`, where the name still works with a
  ``FutureWarning``.
"""

from ._fft import FFTFeatures
from ._spectral import BandPowerFeatures

__all__ = ["BandPowerFeatures", "FFTFeatures"]
