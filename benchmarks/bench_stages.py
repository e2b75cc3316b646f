"""Benchmark: how the rules' stages read the demo group, against what happened and what was true.

Simulates the demo provider group (`takehold demo`'s defaults: 120 services, 3 years, seed 7),
then measures
- the stage distribution and the hold rate by stage over every labelled month-end snapshot
  (the rules as the backtest's `rules_stage` baseline reads them), with 95% intervals
  clustered by service;
- the stages of the nightly run as of the simulation's last day (the nightly reading: team
  names, closed improvements read as of the day monitoring ended), against the simulator's
  hidden state that day: how many truly embedded improvements are called embedded, and how
  many called embedded are not (with their true chance of holding).

"Truly embedded" (hidden state): action started, every team holding the change, for at least
`--embedded-months` months on average. Results: benchmarks/results/stages.md.

    .venv/bin/python benchmarks/bench_stages.py [--services 120] [--years 3] [--seed 7]
"""

from __future__ import annotations

import argparse
import time
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

RESULTS = Path(__file__).parent / "results"
STAGES = ("not_started", "emerging", "consolidating", "embedded", "slipping")


def clustered_interval(held: pd.Series, cluster: pd.Series, draws: int = 400, seed: int = 0):
    """95% bootstrap interval of the mean of `held`, resampling whole clusters (services)."""
    rng = np.random.default_rng(seed)
    groups = held.groupby(cluster.to_numpy())
    sums, counts = groups.sum().to_numpy(float), groups.size().to_numpy(float)
    picks = rng.integers(0, len(sums), (draws, len(sums)))
    means = sums[picks].sum(1) / counts[picks].sum(1)
    return np.quantile(means, [0.025, 0.975])


def snapshot_stages(sim, end: pd.Timestamp) -> pd.DataFrame:
    """Every eligible month-end snapshot with its label and the rules' stage."""
    from features.snapshots import build_training_snapshots
    from models.rules import classify_stages

    start = sim.frames["improvements"]["identified_on"].min()
    snapshots = build_training_snapshots(sim.frames, start, end, observable_by=end)
    stages = classify_stages(snapshots, with_reasons=False)["stage"]
    return snapshots[["improvement_id", "as_of", "location_id", "held"]].assign(stage=stages)


def hold_rate_table(snapshots: pd.DataFrame) -> pd.DataFrame:
    labelled = snapshots[snapshots["held"].notna()]
    rows = []
    for stage in STAGES:
        part = labelled[labelled["stage"] == stage]
        if part.empty:
            continue
        low, high = clustered_interval(part["held"].astype(float), part["location_id"])
        rows.append(
            {
                "stage": stage,
                "snapshots": int((snapshots["stage"] == stage).sum()),
                "share": (snapshots["stage"] == stage).mean(),
                "labelled": len(part),
                "hold_rate": part["held"].astype(float).mean(),
                "ci_low": low,
                "ci_high": high,
            }
        )
    return pd.DataFrame(rows)


def nightly_stages(sim, as_of: date) -> pd.DataFrame:
    """The stages the nightly run gives as of `as_of` (a toy model: stages do not read it)."""
    from contracts.files import HandedTables
    from contracts.params import RunConfig
    from models.ga2m import MODEL_FEATURES, HoldModel
    from models.uncertainty import BandedHoldModel
    from pipelines import stages
    from simulator.synthetic import synthetic_snapshots

    toy, _ = synthetic_snapshots(60, 6, seed=1)
    toy = toy[toy["held"].notna()]
    model = BandedHoldModel(HoldModel(n_seeds=1, n_threads=1), n_refits=0).fit(
        toy[list(MODEL_FEATURES)], toy["held"].astype(int)
    )
    scored = stages.score_partition(
        HandedTables(dict(sim.frames)), as_of, model, "bench", RunConfig()
    )
    return scored.scores


def truth_at(sim, as_of: pd.Timestamp) -> pd.DataFrame:
    truth = sim.truth.astype({"improvement_id": "str", "as_of": "datetime64[ns]"})
    return truth[truth["as_of"] == as_of]


def compare_with_truth(scores: pd.DataFrame, truth: pd.DataFrame, months: float) -> dict:
    joined = scores.merge(truth, on="improvement_id", how="inner")
    truly = (
        joined["action_started"].astype(bool)
        & (joined["teams_holding_share"] >= 1)
        & (joined["months_embedded_mean"] >= months)
    )
    called = joined["stage"] == "embedded"
    return {
        "improvements": len(joined),
        "truly_embedded": int(truly.sum()),
        "called_embedded": int(called.sum()),
        "truly_and_called": int((truly & called).sum()),
        "called_not_truly": int((called & ~truly).sum()),
        "p_hold_true_called": float(joined.loc[called, "p_hold_true"].mean()),
        "p_hold_true_called_not_truly": float(joined.loc[called & ~truly, "p_hold_true"].mean()),
        "p_hold_true_truly_not_called": float(joined.loc[truly & ~called, "p_hold_true"].mean()),
        "stage_of_truly": joined.loc[truly, "stage"].value_counts().to_dict(),
        "p_hold_true_by_stage": joined.groupby("stage")["p_hold_true"].mean().round(3).to_dict(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--services", type=int, default=120)
    parser.add_argument("--years", type=float, default=3.0)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--truth-draws", type=int, default=20)
    parser.add_argument("--embedded-months", type=float, default=6.0)
    parser.add_argument("--out", type=Path, default=RESULTS / "stages.md")
    args = parser.parse_args()

    from simulator import simulate_group
    from simulator.core import DEFAULT_END

    end = pd.Timestamp(DEFAULT_END)
    started = time.perf_counter()
    sim = simulate_group(
        args.services, args.years, args.seed, truth_as_of=[end.date()], truth_draws=args.truth_draws
    )
    simulated = time.perf_counter()
    snapshots = snapshot_stages(sim, end)
    rates = hold_rate_table(snapshots)
    built = time.perf_counter()
    scores = nightly_stages(sim, end.date())
    night = scores["stage"].value_counts().reindex(list(STAGES), fill_value=0)
    claims = scores["claim_check"].value_counts()
    comparison = compare_with_truth(scores, truth_at(sim, end), args.embedded_months)
    scored = time.perf_counter()
    monotone = bool(
        rates.set_index("stage")
        .reindex(["slipping", "emerging", "consolidating", "embedded"])["hold_rate"]
        .dropna()
        .is_monotonic_increasing
    )
    lines = [
        "# Stages on the demo group",
        "",
        f"`benchmarks/bench_stages.py --services {args.services} --years {args.years:g} "
        f"--seed {args.seed}` (the demo's group), measured {date.today()}: simulate "
        f"{simulated - started:.0f} s, snapshots and rules {built - simulated:.0f} s, nightly "
        f"stages {scored - built:.0f} s.",
        "",
        "## Every labelled month-end snapshot (the rules as the backtest reads them)",
        "",
        f"{len(snapshots):,} eligible snapshots, {int(snapshots['held'].notna().sum()):,} "
        "labelled. Hold rate = share of labelled snapshots that held over the next 6 months; "
        "95% intervals bootstrap whole services.",
        "",
        "| stage | snapshots | share | labelled | hold rate | 95% interval |",
        "| --- | --- | --- | --- | --- | --- |",
        *[
            f"| {r.stage} | {r.snapshots:,} | {r.share:.1%} | {r.labelled:,} | "
            f"{r.hold_rate:.1%} | {r.ci_low:.1%}-{r.ci_high:.1%} |"
            for r in rates.itertuples()
        ],
        "",
        f"Hold rate rises from slipping through emerging and consolidating to embedded: "
        f"{'yes' if monotone else 'NO'}.",
        "",
        f"## The nightly run as of {end.date()} against the hidden state",
        "",
        "| stage | improvements |",
        "| --- | --- |",
        *[f"| {stage} | {count} |" for stage, count in night.items()],
        "",
        "Claim checks: " + ", ".join(f"{k} {v}" for k, v in claims.items()) + ".",
        "",
        f"Truly embedded (hidden state: action started, every team holding, on average "
        f"{args.embedded_months:g}+ months): {comparison['truly_embedded']} of "
        f"{comparison['improvements']}; called embedded: {comparison['called_embedded']}; "
        f"both: {comparison['truly_and_called']}; called embedded but not truly embedded: "
        f"{comparison['called_not_truly']}.",
        "",
        f"True chance of holding (simulator): called embedded "
        f"{comparison['p_hold_true_called']:.2f}, of which not truly embedded "
        f"{comparison['p_hold_true_called_not_truly']:.2f}; truly embedded but not called "
        f"embedded {comparison['p_hold_true_truly_not_called']:.2f}.",
        "",
        "Stages of the truly embedded: "
        + ", ".join(f"{k} {v}" for k, v in comparison["stage_of_truly"].items())
        + ". Mean true chance of holding by stage: "
        + ", ".join(f"{k} {v}" for k, v in comparison["p_hold_true_by_stage"].items())
        + ".",
        "",
    ]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
