"""Published Sleep-EDF (and other) numbers to print beside our own results.

Values are fractions (0.869, not 86.9 %) keyed like
:func:`sklearn_sleep.metrics.sleep_scores` (``accuracy``, ``macro_f1``, ``kappa``,
``f1_<stage>``). Each entry carries the provenance tag of the project's spec sheet
(``/work/shared/docs/NETWORKS.md`` §7.6 and the per-network sections;
``ECOSYSTEM_ANCHORS.md`` §4):

* ``PAPER``: read from the paper (often its abstract only);
* ``MEMORY``: the spec author's recollection, *not verified*; check before quoting;
* ``CODE``: read from the official repository.

Missing metrics are simply absent (the papers' MF1/kappa were often not retrievable).
Published protocols differ from run to run (fold count, model selection on the test
fold, wake trimming); see NETWORKS.md §0 before comparing.
"""

__all__ = ["PUBLISHED", "published_for", "CLASSICAL_ANCHOR", "MODEL_PAPER"]


def _entry(tag, source, **metrics):
    return {"tag": tag, "source": source, **metrics}


#: model name -> dataset name -> metrics dict (with ``tag`` and ``source``).
PUBLISHED = {
    "deepsleepnet": {
        "edf20": _entry("MEMORY", "Supratak et al., IEEE TNSRE 2017", accuracy=0.820, macro_f1=0.769, kappa=0.76),
        "edf78": _entry("MEMORY", "as re-reported by AttnSleep", accuracy=0.778, macro_f1=0.718, kappa=0.70),
    },
    "seqsleepnet": {
        "edf78": _entry("MEMORY", "Phan et al., IEEE TNSRE 2019", accuracy=0.826, macro_f1=0.764, kappa=0.760),
    },
    "tinysleepnet": {
        "edf20": _entry("MEMORY", "Supratak & Guo, EMBC 2020", accuracy=0.854, macro_f1=0.805, kappa=0.80),
        "edf78": _entry("MEMORY", "Supratak & Guo, EMBC 2020", accuracy=0.831, macro_f1=0.781, kappa=0.77),
    },
    "attnsleep": {
        "edf20": _entry("MEMORY", "Eldele et al., IEEE TNSRE 2021", accuracy=0.844, macro_f1=0.781, kappa=0.79),
        "edf78": _entry("MEMORY", "Eldele et al., IEEE TNSRE 2021", accuracy=0.813, macro_f1=0.751, kappa=0.74),
    },
    "xsleepnet": {
        "edf20": _entry("MEMORY", "Phan et al., IEEE TPAMI 2021", accuracy=0.863, macro_f1=0.806, kappa=0.813),
        "edf78": _entry("MEMORY", "Phan et al., IEEE TPAMI 2021", accuracy=0.840, macro_f1=0.779, kappa=0.778),
    },
    "sleeptransformer": {
        "edf78": _entry("MEMORY", "Phan et al., IEEE TBME 2022 (from scratch)", accuracy=0.814, macro_f1=0.743, kappa=0.743),
    },
    "salientsleepnet": {
        "edf20": _entry("MEMORY", "Jia et al., IJCAI 2021 (Fpz-Cz + EOG)", accuracy=0.875, macro_f1=0.830),
        "edf78": _entry("MEMORY", "Jia et al., IJCAI 2021 (Fpz-Cz + EOG)", accuracy=0.85, macro_f1=0.79),
    },
    "lwsleepnet": {
        "edf20": _entry("PAPER", "LWSleepNet abstract", accuracy=0.866, macro_f1=0.792),
        "edf78": _entry("PAPER", "LWSleepNet abstract", accuracy=0.815, macro_f1=0.743),
    },
    "multiscalesleepnet": {
        "edf20": _entry("PAPER", "MultiScaleSleepNet abstract", accuracy=0.886, macro_f1=0.833, kappa=0.84),
        "edf78": _entry("PAPER", "MultiScaleSleepNet abstract", accuracy=0.856, macro_f1=0.811, kappa=0.80),
    },
    "sleepyco": {
        "edf20": _entry(
            "CODE", "gist-ailab/SleePyCo README", accuracy=0.868, macro_f1=0.812, kappa=0.820,
            f1_W=0.915, f1_N1=0.500, f1_N2=0.894, f1_N3=0.890, f1_REM=0.863,
        ),
        "edf78": _entry("CODE", "gist-ailab/SleePyCo README", accuracy=0.846, macro_f1=0.790, kappa=0.787, f1_N1=0.504),
    },
    "ulw-sleepnet": {
        "edf20": _entry("PAPER", "Wang et al., ICASSP 2026, arXiv 2602.23852", accuracy=0.869),
        "edf78": _entry("PAPER", "Wang et al., ICASSP 2026, arXiv 2602.23852", accuracy=0.814),
    },
    "masleepnet": {
        "edf20": _entry("PAPER", "Wang et al., Biomimetics 2025, doi 10.3390/biomimetics10100642", accuracy=0.8453),
        "edf78": _entry("PAPER", "Wang et al., Biomimetics 2025, doi 10.3390/biomimetics10100642", accuracy=0.8256),
    },
    "ssc-sleepnet": {
        # The paper's "Sleep-EDF-SC" / "Sleep-EDF-X" may not be the EDF-20/78 protocol.
        "edf20": _entry("PAPER", "Lin et al., IEEE JBHI 2025 ('Sleep-EDF-SC')", macro_f1=0.845, f1_N1=0.602),
        "edf78": _entry("PAPER", "Lin et al., IEEE JBHI 2025 ('Sleep-EDF-X', protocol unclear)", macro_f1=0.896, f1_N1=0.583),
    },
    "mmasleepnet": {
        # Table 3 of the paper, seed 001 (NETWORKS.md §1.10); G-mean = the paper's "MGm".
        # The official script keeps the best *test-fold* checkpoint (optimistic).
        "edf20": _entry(
            "PAPER", "Zheng et al., Front. Neurosci. 2022, Table 3 (seed 001)",
            accuracy=0.8730, macro_f1=0.8265, kappa=0.8263, gmean=0.8167,
            f1_W=0.9220, f1_N1=0.5475, f1_N2=0.8970, f1_N3=0.9020, f1_REM=0.8641,
        ),
        "edf78": _entry("PAPER", "Zheng et al., Front. Neurosci. 2022, Table 3 (seed 001)",
                        accuracy=0.8267, macro_f1=0.7760, kappa=0.7612),
    },
    "classical-vdd2022": {
        "edf20": _entry("PAPER", "Van Der Donckt et al. 2022, arXiv 2207.07753 (abstract)", macro_f1=0.810),
        "edf78": _entry("PAPER", "Van Der Donckt et al. 2022, arXiv 2207.07753 (abstract)", macro_f1=0.775),
    },
    "slumbernet": {
        "own-mouse": _entry("PAPER", "Jha et al., Sci Rep 2024 (epoch-wise split; weighted F1)", accuracy=0.97),
    },
}

#: The classical (feature + boosted trees / linear) anchor on Sleep-EDF.
CLASSICAL_ANCHOR = PUBLISHED["classical-vdd2022"]

#: Model name used on the command line -> key of :data:`PUBLISHED`.
MODEL_PAPER = {
    "mmasleepnet": "mmasleepnet",
    "masleepnet": "masleepnet",
    "ulw-sleepnet": "ulw-sleepnet",
    "ssc-sleepnet": "ssc-sleepnet",
    "bandpower-hgb": "classical-vdd2022",
}


def published_for(model, dataset):
    """Published metrics of ``model`` on ``dataset`` (``'edf20'``/``'edf78'``), or ``{}``."""
    key = MODEL_PAPER.get(model, model)
    return dict(PUBLISHED.get(key, {}).get(dataset, {}))
