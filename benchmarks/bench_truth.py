"""Benchmark: how close the default (cheap) ground truth is to an expensive one.

The same small group is simulated with the same seed and different truth draws (the export is
identical: the truth has its own random stream), at the default truth dates (the replay's
cutoffs). `--expensive-draws` (1,000) is the reference: its own Monte Carlo error is small
(sd <= 0.5 / sqrt(draws) = 0.016), so each row's difference is the cheaper truth's error. Also
how well each predicts the realised label (Brier and AUROC over eligible rows with a complete
window): a cheaper truth that is right scores the same as the reference. Results go to
benchmarks/results/truth.md.

    .venv/bin/python benchmarks/bench_truth.py [--services 30] [--years 2.5] [--seed 3]
        [--draws 20 40 100 200] [--expensive-draws 1000]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd

RESULTS = Path(__file__).parent / "results" / "truth.md"
KEYS = ["improvement_id", "as_of"]


def simulate(services: int, years: float, seed: int, draws: int):
    from simulator import simulate_group

    started, cpu = time.perf_counter(), time.process_time()
    sim = simulate_group(services, years, seed, truth_draws=draws)
    return sim.truth, time.perf_counter() - started, time.process_time() - cpu


def auroc(p: np.ndarray, y: np.ndarray) -> float:
    ranks = pd.Series(p).rank().to_numpy()
    positives = y.sum()
    return float(
        (ranks[y == 1].sum() - positives * (positives + 1) / 2) / (positives * (len(y) - positives))
    )


def main() -> None:
    from simulator.core import DEFAULT_TRUTH_DRAWS

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--services", type=int, default=30)
    parser.add_argument("--years", type=float, default=2.5)
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--draws", type=int, nargs="+", default=[20, 40, 100, 200])
    parser.add_argument("--expensive-draws", type=int, default=1000)
    args = parser.parse_args()

    reference, ref_wall, ref_cpu = simulate(
        args.services, args.years, args.seed, args.expensive_draws
    )
    reference = reference.set_index(KEYS)
    labelled = reference["eligible"] & reference["held_realised"].notna()
    held = reference.loc[labelled, "held_realised"].astype(float).to_numpy()
    lines = [
        "# The default ground truth against an expensive one",
        "",
        f"`simulate_group({args.services}, {args.years}, seed={args.seed}, truth_draws=D)` at "
        f"the default truth dates (the replay's {reference.index.get_level_values('as_of').nunique()} "
        f"cutoffs), against {args.expensive_draws:,} draws at the same dates (same export). "
        f"Rows: improvement x date with p_hold_true defined in both; labelled: eligible rows "
        f"with a complete window ({int(labelled.sum()):,}). `python benchmarks/bench_truth.py`, "
        f"shared 2-core machine. The default is {DEFAULT_TRUTH_DRAWS} draws.",
        "",
        "| draws | rows | mean abs difference | 95th pct | max | correlation | mean abs difference, labelled rows | Brier vs realised | AUROC vs realised | simulate wall / CPU s |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for draws in args.draws:
        truth, wall, cpu = simulate(args.services, args.years, args.seed, draws)
        p = truth.set_index(KEYS)["p_hold_true"].reindex(reference.index)
        both = p.notna() & reference["p_hold_true"].notna()
        diff = (p[both] - reference.loc[both, "p_hold_true"]).abs()
        on_labelled = (p[labelled] - reference.loc[labelled, "p_hold_true"]).abs()
        scored = p[labelled].fillna(0.5).to_numpy()
        lines.append(
            f"| {draws} | {int(both.sum()):,} | {diff.mean():.4f} | {diff.quantile(0.95):.3f} | "
            f"{diff.max():.3f} | {p[both].corr(reference.loc[both, 'p_hold_true']):.4f} | "
            f"{on_labelled.mean():.4f} | {np.mean((scored - held) ** 2):.4f} | "
            f"{auroc(scored, held):.4f} | {wall:.1f} / {cpu:.1f} |"
        )
    ref = reference.loc[labelled, "p_hold_true"].fillna(0.5).to_numpy()
    lines.append(
        f"| {args.expensive_draws:,} (reference) | | | | | | | {np.mean((ref - held) ** 2):.4f} | "
        f"{auroc(ref, held):.4f} | {ref_wall:.1f} / {ref_cpu:.1f} |"
    )
    lines.append("")
    RESULTS.write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
