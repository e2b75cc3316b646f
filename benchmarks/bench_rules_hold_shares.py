"""Benchmark: how often improvements at each of the rules' stages held over the next horizon.

A run of the rules alone (no model: `takehold score --rules-only`, or no champion yet) ranks
services with these shares in place of the model's probability (`[ranking] rules_hold_shares`,
contracts/params.py). They are measured here on simulated groups: every labelled month-end
snapshot of each group, classified by the rules with the default evidence threshold, and the
share that held, per stage and seed. Results go to benchmarks/results/rules-hold-shares.md.

    .venv/bin/python benchmarks/bench_rules_hold_shares.py [--services 100] [--years 3] [--seeds 3]
"""

from __future__ import annotations

import argparse
import logging
import tempfile
from datetime import date
from pathlib import Path

import pandas as pd

RESULTS = Path(__file__).parent / "results" / "rules-hold-shares.md"


def held_by_stage(services: int, years: float, seed: int) -> pd.DataFrame:
    """Stage and outcome of every labelled snapshot of one simulated group."""
    from features.columns import HELD
    from models.rules import classify_stages
    from pipelines import stages
    from pipelines.config import load_run_config
    from pipelines.io import read_export
    from simulator import simulate_group, write_simulation

    config = load_run_config()
    simulation = simulate_group(services, years, seed, truth_draws=1)
    with tempfile.TemporaryDirectory() as folder:
        export_dir, _ = write_simulation(simulation, Path(folder))
        export = read_export(str(export_dir))
        checked = stages.validate_or_block(export, simulation.end, config, today=date(2100, 1, 1))
        snapshots = stages.training_snapshots(checked.tables, simulation.end, config)
    stage = classify_stages(snapshots, config.threshold, with_reasons=False)["stage"]
    return pd.DataFrame(
        {"seed": seed, "stage": stage.to_numpy(), "held": snapshots[HELD].astype(float).to_numpy()}
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--services", type=int, default=100)
    parser.add_argument("--years", type=float, default=3.0)
    parser.add_argument("--seeds", type=int, default=3)
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    rows = pd.concat(
        [held_by_stage(args.services, args.years, seed) for seed in range(args.seeds)],
        ignore_index=True,
    )
    by_seed = rows.groupby(["stage", "seed"])["held"].mean().unstack("seed")
    pooled = rows.groupby("stage")["held"].agg(["mean", "size"])
    lines = [
        "# Share of labelled snapshots that held, by the rules' stage",
        "",
        f"`benchmarks/bench_rules_hold_shares.py --services {args.services} --years "
        f"{args.years:g} --seeds {args.seeds}`: every labelled month-end snapshot of each "
        "simulated group, classified with the default evidence threshold.",
        "",
        "| stage | snapshots | held (pooled) | "
        + " | ".join(f"seed {s}" for s in by_seed.columns)
        + " |",
        "| --- | --- | --- | " + " | ".join("---" for _ in by_seed.columns) + " |",
    ]
    for stage, row in pooled.iterrows():
        seeds = " | ".join(f"{v:.3f}" for v in by_seed.loc[stage])
        lines.append(f"| {stage} | {int(row['size']):,} | {row['mean']:.3f} | {seeds} |")
    lines += [
        "",
        "No snapshot of a not-started improvement has a label (a label needs action and a "
        "check), so `rules_hold_shares` gives not_started the lowest measured share.",
    ]
    RESULTS.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
