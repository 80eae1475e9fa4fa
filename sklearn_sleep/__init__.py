"""sklearn_sleep: automatic sleep staging in the scikit-learn ecosystem.

Subpackages
-----------
datasets
    EDF + hypnogram loaders (Sleep-EDF, DREAMS, generic EDF/arrays, rodent text
    exports), the Sleep-EDF fetcher and the synthetic PSG generator.
preprocessing
    Pipeline transformers on epoch arrays ``(n_epochs, n_channels, n_times)``.
features
    Classical spectral features (3-D in, 2-D out) for any scikit-learn classifier.
metrics
    Cohen's kappa, macro G-mean, macro-F1, per-class F1 and ready scorers.
models
    Published networks wrapped as skorch/scikit-learn classifiers.
smoothing
    ``HMMSmoother``: hidden-Markov decoding of any classifier's probabilities per
    recording (transition matrix from the training hypnograms; needs hmmlearn).
hypnogram, plotting
    Sleep statistics (AASM definitions) and hypnogram / hypnodensity / confusion plots.
persistence
    ``SleepStager``: a fitted model that carries its channels, sampling rate, epoch
    length, labels and versions, and refuses incompatible input.
cli
    The ``sklearn-sleep`` command line (``demo``, ``train``, ``stage``, ``evaluate``).
"""

from ._version import __version__

__all__ = ["__version__"]
