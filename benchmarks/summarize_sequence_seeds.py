"""Summarise several seeds of ``bench_sequence.py`` into one table (``results/sequence_seeds.md``).

Reads ``results/sequence_seed<S>.json`` for the given seeds (each written by
``python benchmarks/bench_sequence.py --seed S --out sequence_seedS``), checks that
they share one protocol apart from the seed, and writes a Markdown table of kappa per
network and seed, the mean, and in how many seeds each sequence network beats its
epoch-level network.

Usage::

    python benchmarks/summarize_sequence_seeds.py --seeds 0 1 2 3 4
"""

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import RESULTS_DIR, markdown_table, write_markdown  # noqa: E402


#: How MASleepNet-seq's design and the benchmark budget were chosen (2026-11-30), on
#: development seeds that are not among the reported ones.
DEVELOPMENT_NOTE = """\
**How the design and the budget were chosen.** On 2026-11-30 the earlier design (head on
the middle epoch's BiLSTM state and the attention context, no shortcut) lost to MASleepNet
in 3 of 3 seeds under the earlier budget (5 subjects x 80 epochs, 10 passes). Variants
were compared on development seeds 10-17 only (mean kappa, MASleepNet / variant, wins):
earlier design 0.572 / 0.602 (6 of 8); + every position supervised 0.572 / 0.573 (4 of 8);
+ epoch shortcut 0.572 / 0.675 (6 of 8); shortcut + every position 0.572 / 0.664 (6 of 8).
The epoch networks themselves varied from 0.40 to 0.76 kappa across seeds at that budget,
so the budget was raised to 6 subjects x 120 epochs and 15 passes for both members; there
the shortcut variant won 7 of 7 development seeds (0.829 vs 0.744) and the shortcut with
every position supervised 4 of 6 (stopped). The shortcut with centre supervision became
the default; the seeds below (0-9) were run once afterwards, with no change in between.
The ULW-SleepNet pair was not tuned (same networks as before; only the common budget
changed)."""


def load(seeds, results_dir):
    """The payload of every seed, refusing files of different protocols."""
    payloads = []
    for seed in seeds:
        path = Path(results_dir) / f"sequence_seed{seed}.json"
        payload = json.loads(path.read_text())
        if payload["protocol"]["seed"] != seed:
            raise ValueError(f"{path} holds seed {payload['protocol']['seed']}, not {seed}.")
        payloads.append(payload)
    ref = {k: v for k, v in payloads[0]["protocol"].items() if k != "seed"}
    for seed, payload in zip(seeds, payloads):
        other = {k: v for k, v in payload["protocol"].items() if k != "seed"}
        if other != ref:
            raise ValueError(f"seed {seed} was run with another protocol: {other} != {ref}.")
    return payloads


def summarize(seeds, payloads):
    """Markdown table rows and per-network summary lines."""
    networks = [(r["pair"], r["network"], r["kind"]) for r in payloads[0]["results"]]
    kappa = {net: [] for net in networks}
    for payload in payloads:
        by_name = {(r["pair"], r["network"], r["kind"]): r for r in payload["results"]}
        for net in networks:
            kappa[net].append(by_name[net]["kappa"])
    rows, lines = [], []
    for pair, name, kind in networks:
        values = kappa[(pair, name, kind)]
        rows.append([pair, name, kind, *values, float(np.mean(values))])
        if kind == "sequence":
            base = next(v for (p, _, k), v in kappa.items() if p == pair and k == "epoch")
            wins = sum(s > b for s, b in zip(values, base))
            lines.append(f"- {name} beats its epoch-level network in {wins}/{len(seeds)} "
                         f"seeds (mean kappa {np.mean(values):.3f} vs {np.mean(base):.3f}).")
    header = ["pair", "network", "kind", *[f"seed {s}" for s in seeds], "mean"]
    return markdown_table(header, rows), lines


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seeds", type=int, nargs="+", required=True)
    p.add_argument("--results-dir", default=str(RESULTS_DIR))
    p.add_argument("--out", default="sequence_seeds")
    args = p.parse_args(argv)
    payloads = load(args.seeds, args.results_dir)
    table, lines = summarize(args.seeds, payloads)
    proto = payloads[0]["protocol"]
    text = (
        f"# Sequence networks vs epoch-level networks: {len(args.seeds)} seeds (synthetic PSG)\n\n"
        f"**Synthetic data** (`make_synthetic_psg`, human preset). Per seed: "
        f"{proto['n_subjects']} subjects x {proto['n_epochs_per_night']} epochs, trained on "
        f"{proto['n_train_epochs']} epochs, tested on {proto['n_test_epochs']} epochs of "
        f"the last {len(proto['test_subjects'])} subjects; L = {proto['sequence_length']}; "
        f"{proto['max_epochs']} passes, batch {proto['batch_size']}, Adam lr {proto['lr']:g}, "
        f"no lr schedule, same epochs/passes/seed in both members of a pair. Per-seed "
        f"files: `sequence_seed<S>.json/.md`, written by "
        f"`python benchmarks/bench_sequence.py --seed S --out sequence_seedS`. Kappa on the "
        f"test epochs:\n\n" + table + "\n\n" + "\n".join(lines) + "\n\n"
        + DEVELOPMENT_NOTE + "\n\n"
        f"Hardware: {payloads[0]['hardware_note']}.\n\nCommand: "
        f"`python benchmarks/summarize_sequence_seeds.py --seeds "
        f"{' '.join(map(str, args.seeds))}`\n"
    )
    print(text)
    write_markdown(text, args.out, out_dir=args.results_dir)
    return text


if __name__ == "__main__":
    main()
