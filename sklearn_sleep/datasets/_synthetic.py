"""Synthetic polysomnography: seeded multi-subject nights with realistic stage content.

:func:`make_synthetic_psg` draws whole recordings ("nights") for several subjects:
first a hypnogram with a realistic sleep architecture, then continuous multi-channel
signals whose content follows the hypnogram, then the 30-s (human) or 1-s (mouse)
epochs. It is the data used by the tests, doctests and examples of the library, so
that every pipeline can be run end to end without downloading anything.

**Human preset** (AASM stages W, N1, N2, N3, REM).
Channels ``EEG Fpz-Cz``, ``EEG Pz-Oz``, ``EOG horizontal`` and ``EMG submental`` as in
Sleep-EDF [3]_, 100 Hz, 30-s epochs, microvolts. Every EEG channel is a 1/f
("pink", power ~ 1/f^beta with a subject-specific beta) background plus band-limited
rhythms whose amplitude follows the stage, plus transient graphoelements, as
described by Rechtschaffen & Kales [1]_ and the AASM manual [2]_:

* **W** (relaxed wake): alpha rhythm (8-12 Hz, subject-specific peak frequency),
  about 2.5 times stronger on the posterior ``Pz-Oz`` derivation than on ``Fpz-Cz``;
  low-amplitude beta; high chin EMG tone with movement bursts; eye blinks (also
  seen frontally on ``Fpz-Cz``) and saccades on the EOG.
* **N1**: alpha replaced by low-amplitude mixed-frequency activity with theta
  (4-7 Hz); vertex sharp waves (mostly ``Fpz-Cz``); slow rolling eye movements
  (0.1-0.6 Hz) on the EOG; EMG tone lower than in wake.
* **N2**: sleep spindles (11-16 Hz bursts of 0.5-2 s, about 6 per minute) and
  K-complexes (a sharp negative wave followed by a slower positive one, about
  1.5 per minute) on a theta/delta background; low EMG.
* **N3**: high-amplitude delta (0.5-2 Hz; peak-to-peak often above 75 uV, up to
  about 150-200 uV, over far more than 20 % of the epoch). Delta is stronger
  early in the night (slow-wave activity decays across cycles). Few spindles.
* **REM**: low-amplitude mixed-frequency EEG with theta and trains of sawtooth
  waves (2-5 Hz); rapid eye movements (sharp conjugate EOG deflections, in
  phasic bursts); chin EMG atonia (the lowest tone of the night) with brief
  phasic twitches.

The EOG channel also picks up a fraction of the frontal EEG (so frontal delta and
K-complexes are visible on it, as on real recordings).

Human hypnogram: a cyclic model of the night [4]_. After sleep-onset wake and N1,
the night runs through NREM-REM cycles (N1 -> N2 -> N3 -> N2 -> REM, with brief
awakenings after REM and occasional arousals inside N2). N3 is concentrated in the
first cycles and REM grows from cycle to cycle; the night ends in wake. For a
full-length night the cycles last about 90 min; a short night (fewer epochs than
about 4.5 h) is *time-compressed* to ``max(1, min(4, n_epochs // 30))`` cycles so
that its architecture stays recognisable. Stage proportions default to those of
Sleep-EDF-like nights trimmed to 30 min of wake around sleep (W 17 %, N1 7 %,
N2 45 %, N3 13 %, REM 18 %), jittered per night.

**Mouse preset** (stages W, NREM, REM).
Channels ``EEG`` and ``EMG``, 512 Hz, 1-s epochs by default [5]_:

* **W**: low-amplitude, mixed-frequency EEG with some theta (6-9 Hz) and fast
  (30-80 Hz) activity; high EMG with large movement bursts.
* **NREM**: high-amplitude delta (0.5-4 Hz), few spindles, low EMG.
* **REM**: regular theta (6-9 Hz) dominates the EEG (high theta/delta ratio);
  EMG atonia with occasional twitches.

Mouse hypnogram: polyphasic bouts from a semi-Markov chain (W -> NREM;
NREM -> W or REM; REM -> W mostly, so REM always follows NREM), bout lengths of
tens of seconds to minutes (about 60 s on average; shorter in recordings of a few
minutes), proportions W 46 %, NREM 46 %, REM 8 % by default.

**How every stage is guaranteed in every night.**
The number of epochs of each stage in a night is fixed first: the (jittered)
proportions are turned into integer counts by largest-remainder rounding, with at
least one epoch per stage (two for human wake, which opens and closes the night).
Those counts are then shared among the bouts of that stage in the architecture,
so every stage is present in every night whenever ``n_epochs`` is at least the
documented minimum (10 epochs for the human preset, 6 for the mouse preset).

**Signal model.** The ongoing activity of each epoch and channel is Gaussian
noise shaped in the frequency domain (one batched inverse FFT per night) by the
epoch's power spectrum: the 1/f background plus Gaussian or band-shaped spectral
peaks (delta, theta, alpha, beta, slow eye movements, EMG tone) weighted by
stage-dependent amplitudes, plus white sensor noise. Neighbouring epochs are
cross-faded over about 2 s (at most a quarter of an epoch), so the recordings are
continuous. Transient events (spindles, K-complexes, vertex waves, sawtooth
trains, blinks, saccades, rapid eye movements, EMG twitches and movement bursts)
are drawn as Poisson processes whose rates depend on the stage and are added on
top. Real epochs are rarely textbook ones: each epoch's amplitudes and event rates
mix, in a fraction below one half, those of a neighbouring stage (N2 toward N3 or
N1, REM toward N1, ...; epochs next to a stage change toward that stage), wake
epochs are eyes-open (little alpha, more eye movements) or relaxed, and mouse wake
is active or quiet (low EMG). ``stage_overlap=0`` removes the mixing.

Per-subject variability (amplitude scale, 1/f exponent, alpha / spindle / theta
peak frequencies, EMG tone) makes subjects differ, so that subject-wise
cross-validation is meaningful; nights of one subject differ only slightly.

References
----------
.. [1] Rechtschaffen A, Kales A. A Manual of Standardized Terminology, Techniques
       and Scoring System for Sleep Stages of Human Subjects. NIH Publication 204,
       US Government Printing Office, Washington DC, 1968.
.. [2] Berry RB, Brooks R, Gamaldo CE, Harding SM, Marcus CL, Vaughn BV. The AASM
       Manual for the Scoring of Sleep and Associated Events: Rules, Terminology
       and Technical Specifications, Version 2.0. American Academy of Sleep
       Medicine, Darien, IL, 2012.
.. [3] Kemp B, Zwinderman AH, Tuk B, Kamphuisen HAC, Oberye JJL. Analysis of a
       sleep-dependent neuronal feedback loop: the slow-wave microcontinuity of
       the EEG. IEEE Trans Biomed Eng 47(9):1185-1194, 2000.
       doi:10.1109/10.867928
.. [4] Carskadon MA, Dement WC. Normal human sleep: an overview. In Kryger MH,
       Roth T, Dement WC (eds), Principles and Practice of Sleep Medicine,
       Elsevier, 2011.
.. [5] Mang GM, Franken P. Sleep and EEG phenotyping in mice. Curr Protoc Mouse
       Biol 2(1):55-74, 2012. doi:10.1002/9780470942390.mo110126
"""

import numbers

import numpy as np
import scipy.fft as sp_fft
from sklearn.utils import Bunch

from ..utils._stages import AASM_STAGES, MOUSE_STAGES
from ..utils._validation import check_sfreq

__all__ = ["make_synthetic_psg"]


# ---------------------------------------------------------------------------
# Preset tables
# ---------------------------------------------------------------------------
# Components are band-limited noises (one spectral shape each) whose RMS amplitude
# (in uV, before channel gains and subject scales) depends on the stage. Shapes:
#   ("pink", f_lo)          power ~ f**-beta above f_lo (beta per subject)
#   ("gauss", f0, sd)       Gaussian spectral peak; f0 may be a subject key (str)
#   ("band", f1, f2)        flat band with raised-cosine edges (f2 capped below Nyquist)
#   ("white",)              flat spectrum
# ``kind`` selects the per-subject amplitude scale (eeg, eog or emg).

_HUMAN = dict(
    stages=AASM_STAGES,
    ch_names=["EEG Fpz-Cz", "EEG Pz-Oz", "EOG horizontal", "EMG submental"],
    sfreq=100.0,
    epoch_seconds=30.0,
    proportions=dict(W=0.17, N1=0.07, N2=0.45, N3=0.13, REM=0.18),
    min_epochs=10,
    components={
        "background": dict(
            shape=("pink", 0.3), kind="eeg", background=True,
            gains={"EEG Fpz-Cz": 1.0, "EEG Pz-Oz": 0.8},
            amp=dict(W=7.0, N1=8.0, N2=9.0, N3=9.0, REM=7.0)),
        "delta": dict(
            shape=("gauss", 1.0, 0.6), kind="eeg", decay=True,
            gains={"EEG Fpz-Cz": 1.0, "EEG Pz-Oz": 0.6},
            amp=dict(W=3.0, N1=5.0, N2=12.0, N3=38.0, REM=5.0)),
        "theta": dict(
            shape=("gauss", 5.5, 1.0), kind="eeg",
            gains={"EEG Fpz-Cz": 1.0, "EEG Pz-Oz": 0.8},
            amp=dict(W=3.0, N1=11.0, N2=7.0, N3=6.0, REM=9.0)),
        "alpha": dict(
            shape=("gauss", "alpha_f", 0.7), kind="eeg",
            gains={"EEG Fpz-Cz": 0.4, "EEG Pz-Oz": 1.0},
            amp=dict(W=16.0, N1=4.0, N2=2.0, N3=1.5, REM=4.0)),
        "beta": dict(
            shape=("band", 16.0, 30.0), kind="eeg",
            gains={"EEG Fpz-Cz": 1.0, "EEG Pz-Oz": 0.7},
            amp=dict(W=4.0, N1=2.5, N2=1.8, N3=1.2, REM=3.0)),
        "eog_background": dict(
            shape=("pink", 0.3), kind="eog", background=True,
            gains={"EOG horizontal": 1.0},
            amp=dict(W=5.0, N1=5.0, N2=5.0, N3=5.0, REM=5.0)),
        "slow_eye_movements": dict(
            shape=("gauss", 0.3, 0.15), kind="eog",
            gains={"EOG horizontal": 1.0},
            amp=dict(W=4.0, N1=30.0, N2=6.0, N3=3.0, REM=6.0)),
        "emg_tone": dict(
            shape=("band", 10.0, 45.0), kind="emg",
            gains={"EMG submental": 1.0},
            amp=dict(W=18.0, N1=10.0, N2=7.0, N3=6.0, REM=2.5)),
    },
    # fraction of the frontal EEG (first channel) seen by the EOG
    leak=("EEG Fpz-Cz", "EOG horizontal", 0.2),
    # events: rate per second per stage, channel gains, waveform generator name
    events={
        "spindle": dict(rate=dict(N1=0.005, N2=0.1, N3=0.03), kind="eeg",
                        gains={"EEG Fpz-Cz": 1.0, "EEG Pz-Oz": 0.7}),
        "k_complex": dict(rate=dict(N2=0.025, N3=0.01), kind="eeg",
                          gains={"EEG Fpz-Cz": 1.0, "EEG Pz-Oz": 0.5}),
        "vertex_wave": dict(rate=dict(N1=0.04, N2=0.005), kind="eeg",
                            gains={"EEG Fpz-Cz": 1.0, "EEG Pz-Oz": 0.3}),
        "sawtooth": dict(rate=dict(REM=0.03), kind="eeg",
                         gains={"EEG Fpz-Cz": 1.0, "EEG Pz-Oz": 0.5}),
        "blink": dict(rate=dict(W=0.12, N1=0.01), kind="eog",
                      gains={"EOG horizontal": 0.5, "EEG Fpz-Cz": 1.0}),
        "saccade": dict(rate=dict(W=0.1), kind="eog",
                        gains={"EOG horizontal": 1.0, "EEG Fpz-Cz": 0.15}),
        "rapid_eye_movement": dict(rate=dict(REM=0.2), kind="eog", phasic=True,
                                   gains={"EOG horizontal": 1.0, "EEG Fpz-Cz": 0.2}),
        "twitch": dict(rate=dict(REM=0.07), kind="emg",
                       gains={"EMG submental": 1.0}),
        "movement": dict(rate=dict(W=0.02), kind="emg",
                         gains={"EMG submental": 1.0, "EEG Fpz-Cz": 0.1}),
    },
    sensor_noise=1.0,
    # stage content drifts toward these stages (real epochs are rarely textbook)
    neighbours={"W": {"N1": 1.0}, "N1": {"W": 0.4, "N2": 0.4, "REM": 0.2},
                "N2": {"N1": 0.3, "N3": 0.5, "REM": 0.2}, "N3": {"N2": 1.0},
                "REM": {"N1": 0.6, "W": 0.2, "N2": 0.2}},
    # eyes-open wake: little alpha, more beta, more eye movements
    mixing=dict(beta=(1.2, 6.0), edge=(0.15, 0.45)),
    substates={"W": dict(p=0.4, components={"alpha": 0.3, "beta": 1.4},
                         events={"saccade": 2.0, "blink": 1.5})},
)

_MOUSE = dict(
    stages=MOUSE_STAGES,
    ch_names=["EEG", "EMG"],
    sfreq=512.0,
    epoch_seconds=1.0,
    proportions=dict(W=0.46, NREM=0.46, REM=0.08),
    min_epochs=6,
    components={
        "background": dict(
            shape=("pink", 0.3), kind="eeg", background=True, gains={"EEG": 1.0},
            amp=dict(W=25.0, NREM=30.0, REM=22.0)),
        "delta": dict(
            shape=("gauss", 2.0, 1.0), kind="eeg", gains={"EEG": 1.0},
            amp=dict(W=20.0, NREM=110.0, REM=15.0)),
        "theta": dict(
            shape=("gauss", "theta_f", 0.7), kind="eeg", gains={"EEG": 1.0},
            amp=dict(W=25.0, NREM=12.0, REM=65.0)),
        "gamma": dict(
            shape=("band", 30.0, 80.0), kind="eeg", gains={"EEG": 1.0},
            amp=dict(W=15.0, NREM=6.0, REM=10.0)),
        "emg_tone": dict(
            shape=("band", 20.0, 200.0), kind="emg", gains={"EMG": 1.0},
            amp=dict(W=50.0, NREM=12.0, REM=4.0)),
    },
    leak=None,
    events={
        "spindle": dict(rate=dict(NREM=0.1), kind="eeg", gains={"EEG": 1.5}),
        "twitch": dict(rate=dict(REM=0.4), kind="emg", gains={"EMG": 2.0}),
        "movement": dict(rate=dict(W=0.15), kind="emg", gains={"EMG": 3.0}),
    },
    sensor_noise=2.0,
    neighbours={"W": {"NREM": 0.7, "REM": 0.3}, "NREM": {"W": 0.6, "REM": 0.4},
                "REM": {"NREM": 0.5, "W": 0.5}},
    mixing=dict(beta=(1.0, 14.0), edge=(0.1, 0.4)),
    # quiet wake: low EMG tone, few movements
    substates={"W": dict(p=0.4, components={"emg_tone": 0.35, "gamma": 0.7},
                         events={"movement": 0.2})},
)

_PRESETS = {"human": _HUMAN, "mouse": _MOUSE}


# ---------------------------------------------------------------------------
# Small helpers
# ---------------------------------------------------------------------------
def _seed_sequence(random_state):
    """A :class:`numpy.random.SeedSequence` from an int, None, Generator or RandomState."""
    if random_state is None or isinstance(random_state, (numbers.Integral, np.integer)):
        if random_state is not None and random_state < 0:
            raise ValueError(f"random_state must be non-negative, got {random_state}.")
        return np.random.SeedSequence(random_state)
    if isinstance(random_state, np.random.Generator):
        return np.random.SeedSequence(int(random_state.integers(2**63)))
    if isinstance(random_state, np.random.RandomState):
        return np.random.SeedSequence(int(random_state.randint(2**31 - 1)))
    if isinstance(random_state, np.random.SeedSequence):
        return random_state
    raise ValueError(
        "random_state must be None, an int, a numpy Generator, RandomState or "
        f"SeedSequence; got {random_state!r}."
    )


def _largest_remainder(weights, total):
    """Integer counts summing to ``total``, proportional to ``weights``."""
    weights = np.asarray(weights, dtype=float)
    raw = weights / weights.sum() * total
    counts = np.floor(raw).astype(int)
    short = int(total - counts.sum())
    if short > 0:
        order = np.argsort(-(raw - counts), kind="stable")
        counts[order[:short]] += 1
    return counts


def _stage_counts(proportions, n_epochs, minimum):
    """Per-stage epoch counts with at least ``minimum[i]`` epochs for stage i."""
    counts = _largest_remainder(proportions, n_epochs)
    minimum = np.asarray(minimum)
    while np.any(counts < minimum):
        i = int(np.argmax(minimum - counts))
        j = int(np.argmax(counts - minimum))
        counts[i] += 1
        counts[j] -= 1
    return counts


def _allocate(bout_stages, bout_weights, counts, stages):
    """Share each stage's count among its bouts; returns one length per bout.

    A bout gets at least one epoch when its stage has enough epochs; otherwise only
    the heaviest bouts of that stage are kept (the others get zero length).
    """
    bout_stages = np.asarray(bout_stages)
    bout_weights = np.asarray(bout_weights, dtype=float)
    lengths = np.zeros(len(bout_stages), dtype=int)
    for s, stage in enumerate(stages):
        idx = np.flatnonzero(bout_stages == stage)
        c = int(counts[s])
        if idx.size == 0 or c == 0:
            continue
        w = bout_weights[idx]
        if c >= idx.size:
            lengths[idx] = 1 + _largest_remainder(w, c - idx.size)
        else:
            keep = idx[np.argsort(-w, kind="stable")[:c]]
            lengths[keep] = 1
    return lengths


def _human_bouts(rng, n_epochs, epoch_seconds):
    """Ordered bouts (stage, relative weight) of a cyclic human night."""
    minutes = n_epochs * epoch_seconds / 60.0
    if minutes >= 270:
        n_cycles = int(np.clip(round(minutes / 90.0), 1, 6))
    else:
        n_cycles = int(max(1, min(4, n_epochs // 30)))

    def jit():
        return rng.uniform(0.7, 1.3)

    bouts = [("W", 2.5 * jit()), ("N1", 1.0 * jit())]
    for k in range(n_cycles):
        frac = k / (n_cycles - 1) if n_cycles > 1 else 0.0
        if k > 0:
            bouts.append(("N1", 0.4 * jit()))
        bouts.append(("N2", (0.6 if k == 0 else 1.0) * jit()))
        if rng.random() < 0.5:  # arousal inside N2
            bouts += [("W", 0.15 * jit()), ("N1", 0.3 * jit()), ("N2", 0.5 * jit())]
        bouts.append(("N3", np.exp(-1.0 * k) * jit()))
        bouts.append(("N2", 0.7 * jit()))
        bouts.append(("REM", (0.4 + 0.6 * frac) * jit()))
        if k < n_cycles - 1 and rng.random() < 0.7:  # brief awakening after REM
            bouts.append(("W", 0.3 * jit()))
    bouts.append(("W", 2.0 * jit()))
    return bouts


def _mouse_bouts(rng, n_epochs, epoch_seconds):
    """Semi-Markov rodent bouts (stage, relative duration)."""
    seconds = n_epochs * epoch_seconds
    n_bouts = int(np.clip(round(seconds / 60.0), 4, max(4, n_epochs // 4)))
    stage = "W" if rng.random() < 0.5 else "NREM"
    seq = [stage]
    while len(seq) < n_bouts:
        if stage == "W":
            stage = "NREM"
        elif stage == "NREM":
            stage = "REM" if rng.random() < 0.3 else "W"
        else:
            stage = "W" if rng.random() < 0.9 else "NREM"
        seq.append(stage)
    if "REM" not in seq:  # force one REM bout, right after a NREM bout
        nrem = [i for i, s in enumerate(seq) if s == "NREM"]
        i = nrem[int(rng.integers(len(nrem)))]
        seq.insert(i + 1, "REM")
        if i + 2 < len(seq) and seq[i + 2] == "NREM":
            seq.insert(i + 2, "W")
    scale = {"W": (0.8, 90.0), "NREM": (2.0, 50.0), "REM": (4.0, 15.0)}
    return [(s, rng.gamma(*scale[s])) for s in seq]


def _hypnogram(rng, preset, spec, n_epochs, epoch_seconds, proportions):
    stages = spec["stages"]
    p = np.array([proportions[s] for s in stages], dtype=float)
    p = rng.dirichlet(p / p.sum() * 150.0)
    minimum = [2 if (preset == "human" and s == "W") else 1 for s in stages]
    counts = _stage_counts(p, n_epochs, minimum)
    make = _human_bouts if preset == "human" else _mouse_bouts
    bouts = make(rng, n_epochs, epoch_seconds)
    lengths = _allocate([b[0] for b in bouts], [b[1] for b in bouts], counts, stages)
    labels = np.repeat(np.array([b[0] for b in bouts], dtype=object), lengths)
    return labels


# ---------------------------------------------------------------------------
# Signals
# ---------------------------------------------------------------------------
def _spectral_shape(shape, freqs, sfreq, subject, n_times):
    """Amplitude response on ``freqs`` (of an ``n_times`` FFT), normalised to unit RMS."""
    kind = shape[0]
    nyq = sfreq / 2.0
    h = np.zeros(freqs.shape, dtype=np.float32)
    if kind == "pink":
        f_lo = shape[1]
        f = freqs[1:]
        h[1:] = np.exp((-subject["beta"] / 2.0) * np.log(f))
        h[1:] /= 1.0 + (f_lo / f) ** 4  # smooth high-pass
        h[1:] /= 1.0 + (f / np.float32(0.45 * sfreq)) ** 8
    elif kind == "gauss":
        f0 = subject[shape[1]] if isinstance(shape[1], str) else shape[1]
        sd = shape[2]
        sl = slice(*np.searchsorted(freqs, [max(0.0, f0 - 6 * sd), f0 + 6 * sd]))
        h[sl] = np.exp(-0.5 * ((freqs[sl] - f0) / sd) ** 2)
    elif kind == "band":
        f1, f2 = shape[1], min(shape[2], 0.45 * sfreq)
        edge = max(1.0, 0.1 * (f2 - f1))
        sl = slice(*np.searchsorted(freqs, [max(0.0, f1 - edge), min(nyq, f2 + edge)]))
        fs = freqs[sl]
        rise = np.clip((fs - (f1 - edge)) / edge, 0, 1)
        fall = np.clip(((f2 + edge) - fs) / edge, 0, 1)
        h[sl] = np.sin(0.5 * np.pi * rise) ** 2 * np.sin(0.5 * np.pi * fall) ** 2
    else:  # white
        h[:] = 1.0
    h[0] = 0.0
    power = 2.0 * float(np.dot(h, h)) / n_times
    return h / np.float32(np.sqrt(power)) if power > 0 else h


def _overlap_add(segments, n_per_epoch, half):
    """Join per-epoch segments ``(..., n_epochs, n_per_epoch + 2 * half)`` into a
    continuous signal ``(..., n_epochs * n_per_epoch)``.

    Neighbouring segments overlap by ``2 * half`` samples around each epoch
    boundary, where they are cross-faded with power-complementary (sine/cosine)
    ramps, so the variance is preserved and the signal has no jump.
    """
    L, w = n_per_epoch, 2 * half
    if half == 0:
        return segments.reshape(*segments.shape[:-2], -1)
    k = (np.arange(w) + 0.5) / w
    up = np.sin(0.5 * np.pi * k).astype(segments.dtype)
    down = np.cos(0.5 * np.pi * k).astype(segments.dtype)
    heads = segments[..., :w].copy()  # start of each segment
    heads[..., 1:, :] = up * heads[..., 1:, :] + down * segments[..., :-1, L:L + w]
    joined = np.concatenate([heads, segments[..., w:L]], axis=-1)
    joined = joined.reshape(*segments.shape[:-2], -1)
    tail = segments[..., -1, L:L + w]
    joined = np.concatenate([joined, tail], axis=-1)
    return joined[..., half:half + segments.shape[-2] * L]


def _event_waves(name, rng, n, sfreq, max_len, subject):
    """Waveforms (n, L) in uV (before gains) of ``n`` transient events."""
    def tgrid(seconds):
        L = int(min(max_len, max(2, round(seconds * sfreq))))
        return np.arange(L) / sfreq

    if name == "spindle":
        t = tgrid(2.0)
        dur = rng.uniform(0.5, 2.0, (n, 1))
        f = np.clip(subject["spindle_f"] + rng.normal(0, 0.4, (n, 1)), 11.0, 16.0)
        amp = rng.uniform(12, 30, (n, 1))
        inside = t[None] < dur
        env = np.where(inside, np.sin(np.pi * t[None] / dur) ** 2, 0.0)
        return amp * env * np.sin(2 * np.pi * f * t[None] + rng.uniform(0, 2 * np.pi, (n, 1)))
    if name == "k_complex":
        t = tgrid(1.5)
        d = rng.uniform(0.8, 1.2, (n, 1))
        amp = rng.uniform(60, 110, (n, 1))
        neg = np.exp(-0.5 * ((t[None] - 0.3 * d) / (0.08 * d)) ** 2)
        pos = np.exp(-0.5 * ((t[None] - 0.75 * d) / (0.16 * d)) ** 2)
        return amp * (-neg + 0.6 * pos)
    if name == "vertex_wave":
        t = tgrid(0.5)
        amp = rng.uniform(50, 90, (n, 1))
        return amp * (-np.exp(-0.5 * ((t[None] - 0.15) / 0.05) ** 2)
                      + 0.3 * np.exp(-0.5 * ((t[None] - 0.3) / 0.06) ** 2))
    if name == "sawtooth":
        t = tgrid(5.0)
        dur = np.minimum(rng.uniform(2.0, 5.0, (n, 1)), t[-1] + 1.0 / sfreq)
        f = rng.uniform(2.0, 5.0, (n, 1))
        amp = rng.uniform(20, 45, (n, 1))
        phase = (t[None] * f) % 1.0
        saw = np.where(phase < 0.8, phase / 0.8, (1.0 - phase) / 0.2) * 2.0 - 1.0
        env = np.where(t[None] < dur, np.sqrt(np.clip(np.sin(np.pi * t[None] / dur), 0, None)), 0.0)
        return amp * env * saw
    if name == "blink":
        t = tgrid(0.4)
        dur = rng.uniform(0.25, 0.4, (n, 1))
        amp = rng.uniform(80, 150, (n, 1))
        return amp * np.where(t[None] < dur, np.sin(np.pi * t[None] / dur), 0.0)
    if name == "saccade":
        t = tgrid(2.0)
        hold = rng.uniform(0.3, 1.5, (n, 1))
        amp = rng.uniform(40, 120, (n, 1)) * rng.choice([-1.0, 1.0], (n, 1))
        up = 0.5 * (1 + np.tanh((t[None] - 0.05) / 0.015))
        down = 0.5 * (1 + np.tanh((t[None] - 0.05 - hold) / 0.04))
        return amp * (up - down)
    if name == "rapid_eye_movement":
        t = tgrid(1.5)
        tau = rng.uniform(0.2, 0.5, (n, 1))
        amp = rng.uniform(80, 250, (n, 1)) * rng.choice([-1.0, 1.0], (n, 1))
        return amp * (1 - np.exp(-t[None] / 0.03)) * np.exp(-t[None] / tau)
    if name in ("twitch", "movement"):
        lo, hi, alo, ahi = (0.05, 0.3, 15, 40) if name == "twitch" else (0.5, 3.0, 30, 60)
        t = tgrid(hi)
        dur = rng.uniform(lo, hi, (n, 1))
        amp = rng.uniform(alo, ahi, (n, 1))
        noise = rng.standard_normal((n, t.size + 1))
        noise = np.diff(noise, axis=1) / np.sqrt(2.0)  # emphasise high frequencies
        env = np.where(t[None] < dur, np.sin(np.pi * t[None] / dur) ** 2, 0.0)
        return amp * env * noise
    raise KeyError(name)  # pragma: no cover


def _epoch_states(rng, spec, labels, overlap):
    """Per-epoch departures from the textbook stage.

    Returns ``other`` (the stage each epoch's content drifts toward), ``m`` (the
    fraction of that stage's content, < 0.5 so that the label stays the majority)
    and ``sub`` (True where the stage's sub-state applies, e.g. eyes-open wake).
    Epochs next to a stage change drift toward the neighbouring stage.
    """
    n = labels.size
    other = np.empty(n, dtype=object)
    for stage, nb in spec["neighbours"].items():
        idx = np.flatnonzero(labels == stage)
        if idx.size:
            names = list(nb)
            p = np.array([nb[k] for k in names], dtype=float)
            other[idx] = np.array(names, dtype=object)[
                rng.choice(len(names), idx.size, p=p / p.sum())]
    m = rng.beta(*spec["mixing"]["beta"], n)
    prev_diff = np.r_[False, labels[1:] != labels[:-1]]
    next_diff = np.r_[labels[:-1] != labels[1:], False]
    edge = rng.uniform(*spec["mixing"]["edge"], n)
    nxt = np.flatnonzero(next_diff)
    other[nxt], m[nxt] = labels[nxt + 1], edge[nxt]
    prv = np.flatnonzero(prev_diff)
    other[prv], m[prv] = labels[prv - 1], edge[prv]
    m = np.clip(overlap * m, 0.0, 0.49)
    sub = np.zeros(n, dtype=bool)
    for stage, st in spec.get("substates", {}).items():
        idx = np.flatnonzero(labels == stage)
        sub[idx] = rng.random(idx.size) < st["p"]
    return other, m, sub


def _substate_scale(spec, labels, sub, key, name):
    """Per-epoch multiplier of a component or event rate from the sub-states."""
    scale = np.ones(labels.size)
    for stage, st in spec.get("substates", {}).items():
        factor = st[key].get(name)
        if factor is not None:
            scale[(labels == stage) & sub] = factor
    return scale


def _add_events(rng, spec, labels, states, signals, ch_index, n_per_epoch, sfreq,
                subject, epoch_seconds):
    n_total = signals.shape[1]
    other, m, sub = states
    for name, ev in spec["events"].items():
        r_own = np.array([ev["rate"].get(s, 0.0) for s in labels])
        r_other = np.array([ev["rate"].get(s, 0.0) for s in other])
        rates = ((1 - m) * r_own + m * r_other) * epoch_seconds
        rates *= _substate_scale(spec, labels, sub, "events", name)
        if not rates.any():
            continue
        if ev.get("phasic"):  # phasic vs tonic epochs: heavy-tailed per-epoch rate
            rates = rates * rng.gamma(1.0, 1.0, rates.size)
        counts = rng.poisson(rates)
        n = int(counts.sum())
        if n == 0:
            continue
        waves = _event_waves(name, rng, n, sfreq, n_per_epoch, subject)
        L = waves.shape[1]
        epoch_of = np.repeat(np.arange(labels.size), counts)
        starts = epoch_of * n_per_epoch + rng.integers(0, n_per_epoch - L + 1, n)
        idx = (starts[:, None] + np.arange(L)[None]).ravel()
        summed = np.bincount(idx, weights=waves.ravel(), minlength=n_total)
        scale = subject[ev["kind"] + "_scale"]
        for ch, gain in ev["gains"].items():
            signals[ch_index[ch]] += np.float32(gain * scale) * summed.astype(np.float32)


def _make_recording(rng, spec, subject, labels, sfreq, n_per_epoch, epoch_seconds,
                    noise_level, overlap):
    """Continuous signals (n_channels, n_epochs * n_per_epoch) float32 for one night.

    The ongoing activity of each epoch is Gaussian noise shaped in the frequency
    domain by that epoch's spectrum (the stage-weighted sum of the component
    spectra, plus white sensor noise); consecutive epochs are cross-faded over
    about 2 s (a quarter of an epoch at most) so the recording is continuous.
    Transient events are added on top.
    """
    ch_names = spec["ch_names"]
    ch_index = {ch: i for i, ch in enumerate(ch_names)}
    n_ep, n_ch = labels.size, len(ch_names)
    half = int(min(sfreq, 0.125 * n_per_epoch))
    n_seg = n_per_epoch + 2 * half
    freqs = np.fft.rfftfreq(n_seg, 1.0 / sfreq).astype(np.float32)
    states = _epoch_states(rng, spec, labels, overlap)
    other, m, sub = states
    progress = (np.arange(n_ep) + 0.5) / n_ep
    # power spectrum of every epoch and channel: sum over components
    power = np.zeros((n_ch, n_ep, freqs.size), dtype=np.float32)
    for name, comp in spec["components"].items():
        h2 = _spectral_shape(comp["shape"], freqs, sfreq, subject, n_seg) ** 2
        a_own = np.array([comp["amp"][s] for s in labels], dtype=float)
        a_own *= _substate_scale(spec, labels, sub, "components", name)
        a_other = np.array([comp["amp"][s] for s in other], dtype=float)
        amp = a_own ** (1 - m) * a_other**m  # geometric mix of the two stages
        amp = amp * np.exp(rng.normal(0.0, 0.25, n_ep)) * subject[comp["kind"] + "_scale"]
        if comp.get("background"):
            amp = amp * noise_level
        if comp.get("decay"):  # slow-wave activity decays across the night
            amp = amp * (1.25 - 0.5 * progress)
        amp2 = (amp**2).astype(np.float32)
        for ch, gain in comp["gains"].items():
            power[ch_index[ch]] += np.float32(gain**2) * amp2[:, None] * h2[None, :]
    white = _spectral_shape(("white",), freqs, sfreq, subject, n_seg) ** 2
    power += np.float32((spec["sensor_noise"] * noise_level) ** 2) * white
    shape = (n_ch, n_ep, freqs.size)
    spectrum = np.empty(shape, dtype=np.complex64)
    spectrum.real = rng.standard_normal(shape, dtype=np.float32)
    spectrum.imag = rng.standard_normal(shape, dtype=np.float32)
    spectrum *= np.sqrt(power) * np.float32(np.sqrt(n_seg / 2.0))
    segments = sp_fft.irfft(spectrum, n=n_seg, axis=-1)
    signals = np.ascontiguousarray(_overlap_add(segments, n_per_epoch, half))
    _add_events(rng, spec, labels, states, signals, ch_index, n_per_epoch, sfreq,
                subject, epoch_seconds)
    if spec["leak"] is not None:
        src, dst, frac = spec["leak"]
        signals[ch_index[dst]] += np.float32(frac) * signals[ch_index[src]]
    return signals


def _subject_params(rng, preset):
    params = dict(
        eeg_scale=float(np.exp(rng.normal(0.0, 0.2))),
        eog_scale=float(np.exp(rng.normal(0.0, 0.2))),
        emg_scale=float(np.exp(rng.normal(0.0, 0.3))),
        beta=float(np.clip(rng.normal(1.6, 0.15), 1.0, 2.2)),
        alpha_f=float(np.clip(rng.normal(10.0, 0.6), 8.5, 11.5)),
        spindle_f=float(np.clip(rng.normal(13.0, 0.6), 11.5, 14.5)),
        theta_f=float(np.clip(rng.normal(7.5, 0.4), 6.5, 8.5)),
    )
    return params


def _night_params(rng, subject):
    """Small night-to-night jitter of a subject's parameters."""
    night = dict(subject)
    for key in ("eeg_scale", "eog_scale", "emg_scale"):
        night[key] = subject[key] * float(np.exp(rng.normal(0.0, 0.05)))
    return night


# ---------------------------------------------------------------------------
# Validation
# ---------------------------------------------------------------------------
def _check_int(value, name, minimum):
    if isinstance(value, bool) or not isinstance(value, (numbers.Integral, np.integer)):
        raise ValueError(f"{name} must be an integer, got {value!r}.")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}.")
    return int(value)


def _check_proportions(stage_proportions, stages, default):
    if stage_proportions is None:
        return dict(default)
    if isinstance(stage_proportions, dict):
        unknown = set(stage_proportions) - set(stages)
        if unknown:
            raise ValueError(
                f"stage_proportions has unknown stage(s) {sorted(unknown)}; "
                f"expected keys among {list(stages)}."
            )
        missing = [s for s in stages if s not in stage_proportions]
        if missing:
            raise ValueError(
                f"stage_proportions is missing stage(s) {missing}; every stage of "
                f"{list(stages)} needs a positive proportion."
            )
        values = [stage_proportions[s] for s in stages]
    else:
        values = list(np.ravel(np.asarray(stage_proportions, dtype=float)))
        if len(values) != len(stages):
            raise ValueError(
                f"stage_proportions must have {len(stages)} values (one per stage of "
                f"{list(stages)}), got {len(values)}."
            )
    values = np.asarray(values, dtype=float)
    if not np.all(np.isfinite(values)) or np.any(values <= 0):
        raise ValueError(
            "stage_proportions must be finite and > 0 for every stage (every stage "
            f"appears in every night), got {values.tolist()}."
        )
    values = values / values.sum()
    return dict(zip(stages, values))


# ---------------------------------------------------------------------------
# Public function
# ---------------------------------------------------------------------------
def make_synthetic_psg(
    n_subjects=4,
    n_epochs=120,
    *,
    preset="human",
    n_nights=1,
    sfreq=None,
    epoch_seconds=None,
    channels=None,
    stage_proportions=None,
    noise_level=1.0,
    stage_overlap=1.0,
    random_state=None,
    return_X_y=False,
    return_continuous=False,
):
    """Generate seeded synthetic sleep recordings with realistic stage content.

    Each subject gets ``n_nights`` recordings of ``n_epochs`` epochs. A hypnogram
    with a realistic architecture is drawn first (human: ~90-min NREM-REM cycles,
    more N3 early and more REM late, wake at both ends and brief awakenings;
    mouse: polyphasic semi-Markov bouts), then continuous EEG/EOG/EMG whose
    spectral content and transient events follow the stage rules of Rechtschaffen
    & Kales (1968) and the AASM manual (Berry et al., 2012); see the module
    documentation for the model of each stage.

    Parameters
    ----------
    n_subjects : int, default=4
        Number of subjects (>= 1). Subjects differ in amplitude scales, 1/f
        exponent and alpha/spindle/theta peak frequencies.
    n_epochs : int, default=120
        Epochs per night (>= 10 for ``"human"``, >= 6 for ``"mouse"``), so that
        every stage appears at least once in every night.
    preset : {"human", "mouse"}, default="human"
        ``"human"``: stages W, N1, N2, N3, REM; channels ``EEG Fpz-Cz``,
        ``EEG Pz-Oz``, ``EOG horizontal``, ``EMG submental``; 100 Hz; 30-s
        epochs. ``"mouse"``: stages W, NREM, REM; channels ``EEG``, ``EMG``;
        512 Hz; 1-s epochs.
    n_nights : int, default=1
        Recordings per subject.
    sfreq : float or None, default=None
        Sampling frequency in Hz (preset default when None; at least 40 Hz).
    epoch_seconds : float or None, default=None
        Epoch length in seconds (preset default when None). ``epoch_seconds *
        sfreq`` must be a whole number of samples.
    channels : list of str or None, default=None
        Subset (and order) of the preset's channels to return; None keeps all.
    stage_proportions : dict or array-like or None, default=None
        Mean fraction of each stage per night (dict keyed by stage, or values in
        canonical stage order); normalised to sum to one, every value > 0. The
        per-night proportions are jittered around it (Dirichlet). Defaults:
        human W .17, N1 .07, N2 .45, N3 .13, REM .18; mouse W .46, NREM .46,
        REM .08.
    noise_level : float, default=1.0
        Scale of the stage-independent parts of the signals (1/f background and
        sensor noise). Larger values make staging harder; 0 leaves only the
        stage-dependent content.
    stage_overlap : float, default=1.0
        How far epochs depart from textbook stages. Each epoch's content is a mix
        of its own stage and a neighbouring one (e.g. N2 toward N3 or N1; epochs
        next to a stage change toward that stage), with a mixing fraction that
        this factor scales (always below one half). 0 gives textbook-pure
        stages; 1 gives an overlap comparable to real recordings.
    random_state : int, numpy Generator, RandomState or None, default=None
        Seed. The same seed gives bit-identical output; subject ``k`` does not
        depend on ``n_subjects``.
    return_X_y : bool, default=False
        If True, return ``(X, y, groups)`` instead of a Bunch.
    return_continuous : bool, default=False
        If True, the returned Bunch also holds the continuous recordings (see
        Returns), e.g. to demonstrate epoch segmentation. Cannot be combined with
        ``return_X_y=True``.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        ``X`` float32 (n_epochs_total, n_channels, n_times) in microvolts;
        ``y`` object array of stage names; ``groups`` int subject id per epoch;
        ``recordings`` str id per epoch (``"subj00_night1"``); ``ch_names``;
        ``sfreq``; ``epoch_seconds``; ``stage_names`` (canonical order);
        ``preset``; ``description``. With ``return_continuous=True`` also
        ``signals`` (list of float32 arrays (n_channels, n_samples), one per
        recording; ``X`` holds exactly their consecutive epochs), ``labels``
        (list of per-epoch stage-name arrays), ``recording_names`` (list of str)
        and ``subjects`` (list of int).
    (X, y, groups) : tuple
        When ``return_X_y=True``.

    Raises
    ------
    ValueError
        For an unknown preset or channel, ``n_subjects < 1``, ``n_nights < 1``,
        ``n_epochs`` below the preset minimum, a non-positive (or too low)
        ``sfreq`` or ``epoch_seconds``, a non-integer number of samples per epoch,
        invalid ``stage_proportions`` or ``noise_level``, or
        ``return_X_y=True`` together with ``return_continuous=True``.

    See Also
    --------
    sklearn_sleep.preprocessing.EpochSegmenter : cuts ``signals``/``labels`` of
        ``return_continuous=True`` back into exactly ``X``, ``y``, ``groups``.

    References
    ----------
    .. [1] Rechtschaffen A, Kales A. A Manual of Standardized Terminology,
           Techniques and Scoring System for Sleep Stages of Human Subjects. NIH
           Publication 204, 1968.
    .. [2] Berry RB et al. The AASM Manual for the Scoring of Sleep and Associated
           Events, Version 2.0. American Academy of Sleep Medicine, 2012.

    Examples
    --------
    >>> from sklearn_sleep.datasets import make_synthetic_psg
    >>> data = make_synthetic_psg(n_subjects=2, n_epochs=60, random_state=0)
    >>> data.X.shape, data.X.dtype
    ((120, 4, 3000), dtype('float32'))
    >>> sorted(set(data.y)) == sorted(data.stage_names)
    True
    >>> X, y, groups = make_synthetic_psg(2, 60, preset="mouse", random_state=0,
    ...                                   return_X_y=True)
    >>> X.shape
    (120, 2, 512)
    """
    if preset not in _PRESETS:
        raise ValueError(f"Unknown preset {preset!r}; expected one of {sorted(_PRESETS)}.")
    spec = _PRESETS[preset]
    n_subjects = _check_int(n_subjects, "n_subjects", 1)
    n_nights = _check_int(n_nights, "n_nights", 1)
    min_epochs = spec["min_epochs"]
    if isinstance(n_epochs, bool) or not isinstance(n_epochs, (numbers.Integral, np.integer)):
        raise ValueError(f"n_epochs must be an integer, got {n_epochs!r}.")
    if n_epochs < min_epochs:
        raise ValueError(
            f"n_epochs={n_epochs} is too small to hold every stage of the {preset!r} "
            f"preset in each night ({len(spec['stages'])} stages); use n_epochs >= "
            f"{min_epochs}."
        )
    n_epochs = int(n_epochs)
    sfreq = spec["sfreq"] if sfreq is None else check_sfreq(sfreq)
    if sfreq < 40.0:
        raise ValueError(
            f"sfreq={sfreq} Hz is too low to represent spindles, fast EEG and EMG; "
            "use sfreq >= 40 Hz."
        )
    if epoch_seconds is None:
        epoch_seconds = spec["epoch_seconds"]
    else:
        epoch_seconds = check_sfreq(epoch_seconds, name="epoch_seconds")
    n_per_epoch = epoch_seconds * sfreq
    if abs(n_per_epoch - round(n_per_epoch)) > 1e-6 * max(1.0, n_per_epoch):
        raise ValueError(
            f"epoch_seconds * sfreq = {epoch_seconds} * {sfreq} = {n_per_epoch} is not a "
            "whole number of samples."
        )
    n_per_epoch = int(round(n_per_epoch))
    if n_per_epoch < 16:
        raise ValueError(
            f"epochs of {n_per_epoch} samples are too short; use longer epoch_seconds."
        )
    all_channels = spec["ch_names"]
    if channels is None:
        picks = list(range(len(all_channels)))
    else:
        if isinstance(channels, str):
            channels = [channels]
        unknown = [c for c in channels if c not in all_channels]
        if unknown:
            raise ValueError(
                f"Unknown channel(s) {unknown} for preset {preset!r}; available: "
                f"{all_channels}."
            )
        if len(channels) == 0:
            raise ValueError("channels is empty; pick at least one channel.")
        if len(set(channels)) != len(channels):
            raise ValueError(f"channels contains duplicates: {list(channels)}.")
        picks = [all_channels.index(c) for c in channels]
    proportions = _check_proportions(stage_proportions, spec["stages"],
                                     spec["proportions"])
    if (isinstance(noise_level, bool) or not isinstance(noise_level, numbers.Real)
            or not np.isfinite(noise_level) or noise_level < 0):
        raise ValueError(f"noise_level must be a finite number >= 0, got {noise_level!r}.")
    if (isinstance(stage_overlap, bool) or not isinstance(stage_overlap, numbers.Real)
            or not np.isfinite(stage_overlap) or stage_overlap < 0):
        raise ValueError(
            f"stage_overlap must be a finite number >= 0, got {stage_overlap!r}.")
    if return_X_y and return_continuous:
        raise ValueError(
            "return_X_y=True and return_continuous=True cannot be combined; use "
            "return_continuous=True and read X, y, groups from the Bunch."
        )

    seq = _seed_sequence(random_state)
    n_ch = len(picks)
    X = np.empty((n_subjects * n_nights * n_epochs, n_ch, n_per_epoch), dtype=np.float32)
    signals, labels, rec_names, subjects = [], [], [], []
    for s, subj_seq in enumerate(seq.spawn(n_subjects)):
        subj_rng = np.random.default_rng(subj_seq)
        subject = _subject_params(subj_rng, preset)
        for night, night_seq in enumerate(subj_seq.spawn(n_nights), start=1):
            rng = np.random.default_rng(night_seq)
            params = _night_params(rng, subject)
            hyp = _hypnogram(rng, preset, spec, n_epochs, epoch_seconds, proportions)
            sig = _make_recording(rng, spec, params, hyp, sfreq, n_per_epoch,
                                  epoch_seconds, float(noise_level),
                                  float(stage_overlap))[picks]
            r = len(labels)
            X[r * n_epochs:(r + 1) * n_epochs] = sig.reshape(
                n_ch, n_epochs, n_per_epoch).transpose(1, 0, 2)
            if return_continuous:
                signals.append(sig)
            labels.append(hyp)
            rec_names.append(f"subj{s:02d}_night{night}")
            subjects.append(s)

    y = np.concatenate(labels).astype(object)
    groups = np.repeat(np.asarray(subjects, dtype=int), n_epochs)
    recordings = np.repeat(np.asarray(rec_names, dtype=object), n_epochs)
    if return_X_y:
        return X, y, groups
    ch_names = [all_channels[i] for i in picks]
    description = (
        f"Synthetic {preset} polysomnography (sklearn_sleep.make_synthetic_psg): "
        f"{n_subjects} subject(s) x {n_nights} night(s) x {n_epochs} epochs of "
        f"{epoch_seconds:g} s at {sfreq:g} Hz, channels {ch_names}, stages "
        f"{list(spec['stages'])}, units uV."
    )
    data = Bunch(
        X=X, y=y, groups=groups, recordings=recordings, ch_names=ch_names,
        sfreq=float(sfreq), epoch_seconds=float(epoch_seconds),
        stage_names=tuple(spec["stages"]), preset=preset, description=description,
    )
    if return_continuous:
        data.update(signals=signals, labels=labels, recording_names=rec_names,
                    subjects=subjects)
    return data
