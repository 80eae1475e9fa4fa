"""Hypnogram smoothing: decode a classifier's per-epoch probabilities with an HMM."""

from ._hmm import HMMSmoother

__all__ = ["HMMSmoother"]
