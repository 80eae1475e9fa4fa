"""Per-epoch features of epoch arrays ``(n_epochs, n_channels, n_times)``.

* :class:`BandPowerFeatures`: band powers and YASA-like statistics, 2-D feature matrix
  out (for classical classifiers).
* :class:`FFTFeatures`: (log-)magnitude spectrum of every channel, 3-D out (spectra as
  channels, the input of the FFT branches of the mouse CNN). Formerly in
  :mod:`sklearn_sleep.preprocessing`, where the name still works with a
  ``FutureWarning``.
* :class:`ContextFeatures`: recording-aware temporal context (rolling summaries of the
  neighbouring epochs' features, per-recording scaling), recordings passed as metadata.
* :class:`YasaFeatures`, :class:`YasaHypnodensity`: YASA's published features and its
  pretrained hypnodensity as pipeline steps, and :class:`YasaStageClassifier`, YASA's
  pretrained stager as a classifier for model selection (optional extra ``yasa``).
"""

from ._context import ContextFeatures
from ._fft import FFTFeatures
from ._spectral import BandPowerFeatures
from ._yasa import YasaFeatures, YasaHypnodensity, YasaStageClassifier

__all__ = ["BandPowerFeatures", "ContextFeatures", "FFTFeatures", "YasaFeatures",
           "YasaHypnodensity", "YasaStageClassifier"]
