"""Benchmark: how close the default (cheap) ground truth is to an expensive one.

The same small group is simulated twice with the same seed (the export is identical: the truth
has its own random stream): once with the default truth (every third month-end on the replay's
grid, `DEFAULT_TRUTH_DRAWS` draws), once with `--expensive-draws` draws at the same dates. The
expensive estimate's own Monte Carlo error is small (sd <= 0.5 / sqrt(draws)), so the
difference is the cheap truth's error. Also reports how well each predicts the realised label
(Brier, eligible rows with a complete window): a cheap truth that is right scores the same.
Results go to benchmarks/results/truth.md.

    .venv/bin/python benchmarks/bench_truth.py [--services 30] [--years 2.5]
        [--expensive-draws 1000] [--seed 3]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

RESULTS = Path(__file__).parent / "results" / "truth.md"


def simulate(services: int, years: float, seed: int, draws: int):
    from simulator import simulate_group

    started, cpu = time.perf_counter(), time.process_time()
    sim = simulate_group(services, years, seed, truth_draws=draws)
    return sim, time.perf_counter() - started, time.process_time() - cpu


def main() -> None:
    from simulator.core import DEFAULT_TRUTH_DRAWS

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--services", type=int, default=30)
    parser.add_argument("--years", type=float, default=2.5)
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--expensive-draws", type=int, default=1000)
    args = parser.parse_args()

    cheap, cheap_wall, cheap_cpu = simulate(
        args.services, args.years, args.seed, DEFAULT_TRUTH_DRAWS
    )
    dear, dear_wall, dear_cpu = simulate(args.services, args.years, args.seed, args.expensive_draws)
    keys = ["improvement_id", "as_of"]
    both = cheap.truth.merge(dear.truth, on=keys, suffixes=("_cheap", "_dear"), validate="1:1")
    both = both[both["p_hold_true_cheap"].notna() & both["p_hold_true_dear"].notna()]
    diff = (both["p_hold_true_cheap"] - both["p_hold_true_dear"]).abs()
    labelled = both[both["eligible_cheap"] & both["held_realised_cheap"].notna()]
    held = labelled["held_realised_cheap"].astype(float).to_numpy()

    def brier(column: str) -> float:
        return float(np.mean((labelled[column].to_numpy() - held) ** 2))

    lines = [
        "# The default ground truth against an expensive one",
        "",
        f"`simulate_group({args.services}, {args.years}, seed={args.seed})`: the default truth "
        f"(every third month-end on the replay's grid, {DEFAULT_TRUTH_DRAWS} draws) against "
        f"{args.expensive_draws:,} draws at the same dates (same export). `python "
        "benchmarks/bench_truth.py`; shared 2-core machine.",
        "",
        "| measure | value |",
        "| --- | --- |",
        f"| truth rows compared (improvement x date, p defined in both) | {len(both):,} |",
        f"| truth dates | {both['as_of'].nunique()} |",
        f"| mean abs difference of p_hold_true | {diff.mean():.4f} |",
        f"| 95th percentile abs difference | {diff.quantile(0.95):.4f} |",
        f"| max abs difference | {diff.max():.4f} |",
        f"| correlation | {both['p_hold_true_cheap'].corr(both['p_hold_true_dear']):.4f} |",
        f"| labelled rows (eligible, window complete) | {len(labelled):,} |",
        f"| Brier against the realised label, default truth | {brier('p_hold_true_cheap'):.4f} |",
        f"| Brier against the realised label, {args.expensive_draws:,} draws | "
        f"{brier('p_hold_true_dear'):.4f} |",
        f"| simulate wall / CPU s, default truth | {cheap_wall:.1f} / {cheap_cpu:.1f} |",
        f"| simulate wall / CPU s, {args.expensive_draws:,} draws | "
        f"{dear_wall:.1f} / {dear_cpu:.1f} |",
        "",
    ]
    RESULTS.write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
