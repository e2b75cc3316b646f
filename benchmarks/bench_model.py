"""Benchmark: the hold model's honest backtest on the demo simulator (the headline result).

For each seed: simulate a provider group (default 300 services, 3 years), build the training
snapshots, and run the rolling-origin backtest of every contender (GA2M, rules' stage,
declared status, unconstrained HistGradientBoosting, InterpretML's EBM, ground truth). Then
fit the GA2M on all labelled rows and count wrong-direction steps of every monotone feature
(shape-function grid, pair terms included, and ICE curves of real rows), and measure how far a
refit with another seed moves the probabilities. Results: benchmarks/results/model.md and one
CSV per seed in benchmarks/results/model/.

    .venv/bin/python benchmarks/bench_model.py [--seeds 0 1 2] [--services 300] [--years 3]
        [--truth-draws 100] [--models ga2m rules_stage ...] [--aggregate]
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from pathlib import Path

import numpy as np
import pandas as pd

RESULTS = Path(__file__).parent / "results"
log = logging.getLogger("bench_model")


def as_of_dates(end: pd.Timestamp, years: float, horizon: int = 6) -> pd.Series:
    """Month-ends of the simulation whose label windows close by its end."""
    first = end - pd.offsets.MonthEnd(round(12 * years) - 1)
    return pd.Series(pd.date_range(first, end - pd.offsets.MonthEnd(horizon), freq="ME"))


def simulated_snapshots(seed: int, services: int, years: float, truth_draws: int):
    """(snapshots, truth, cutoffs, seconds) of one simulated group."""
    from features.snapshots import build_training_snapshots
    from models.backtest import default_cutoffs
    from simulator import simulate_group
    from simulator.core import DEFAULT_END

    end = pd.Timestamp(DEFAULT_END)
    dates = as_of_dates(end, years)
    cutoffs = default_cutoffs(dates)
    test_dates = dates[dates >= cutoffs[0]]
    started = time.perf_counter()
    sim = simulate_group(
        services, years, seed, truth_as_of=[d.date() for d in test_dates], truth_draws=truth_draws
    )
    simulated = time.perf_counter()
    snapshots = build_training_snapshots(sim.frames, dates.min(), end, observable_by=end)
    built = time.perf_counter()
    truth = sim.truth[["improvement_id", "as_of", "p_hold_true"]].astype(
        {"improvement_id": "str", "as_of": "datetime64[ns]"}
    )
    snapshots = snapshots.astype({"improvement_id": "str", "as_of": "datetime64[ns]"})
    seconds = {"simulate": simulated - started, "snapshots": built - simulated}
    return snapshots, truth, cutoffs, seconds


def monotone_violations(model, X: pd.DataFrame, n_rows: int = 200) -> dict[str, int]:
    """Wrong-direction steps per monotone feature: shape grid (pairs too) plus ICE curves."""
    shapes = model.shape_functions()
    found = {}
    rows = X.sample(min(n_rows, len(X)), random_state=0)
    for feature, direction in model.enforced_monotone().items():
        steps = 0
        for axis, other in (("x", "x2"), ("x2", "x")):
            name = "feature" if axis == "x" else "feature2"
            cells = shapes[(shapes[name] == feature) & (shapes[axis + "_label"] != "missing")]
            # Within one term, along each cell of the other axis (its plot position; missing
            # cells together), not by its printed label: two bins can print alike.
            keys = [cells["term"], cells[other].fillna(np.inf)]
            for _, group in cells.groupby(keys, sort=False):
                diffs = np.diff(group.sort_values(axis)["contribution"].to_numpy()) * direction
                steps += int((diffs < -1e-12).sum())
        grid = np.unique(np.nanquantile(rows[feature].to_numpy(dtype=float), np.linspace(0, 1, 21)))
        swept = pd.concat([rows.assign(**{feature: v}) for v in grid], ignore_index=True)
        curves = model.decision_function(swept).reshape(len(grid), len(rows))
        steps += int((np.diff(curves, axis=0) * direction < -1e-12).sum())
        found[feature] = steps
    return found


def refit_stability(X, y, groups, seed: int) -> dict[str, float]:
    """How far a refit with another seed moves P(held): 50th/99th percentile and max."""
    from models.ga2m import HoldModel

    first = HoldModel(random_state=seed).fit(X, y, groups=groups).predict_proba(X)[:, 1]
    second = HoldModel(random_state=seed + 1000).fit(X, y, groups=groups).predict_proba(X)[:, 1]
    moved = np.abs(first - second)
    return {
        "p50": float(np.quantile(moved, 0.5)),
        "p99": float(np.quantile(moved, 0.99)),
        "max": float(moved.max()),
    }


def run_seed(seed: int, args) -> dict:
    from models.backtest import labelled_rows, rolling_origin_backtest
    from models.ga2m import MODEL_FEATURES, HoldModel

    snapshots, truth, cutoffs, seconds = simulated_snapshots(
        seed, args.services, args.years, args.truth_draws
    )
    log.info("seed %d: %d snapshots, cutoffs %s", seed, len(snapshots), cutoffs)
    folder = RESULTS / "model"
    folder.mkdir(parents=True, exist_ok=True)
    result = None
    if not args.checks_only:
        result = rolling_origin_backtest(
            snapshots, cutoffs=cutoffs, truth=truth, models=tuple(args.models), seed=seed
        )
        result.metrics.to_csv(folder / f"metrics_seed{seed}.csv", index=False)
        result.pooled.to_csv(folder / f"pooled_seed{seed}.csv", index=False)
        result.differences.to_csv(folder / f"differences_seed{seed}.csv", index=False)
        result.reliability.to_csv(folder / f"reliability_seed{seed}.csv", index=False)
    rows = labelled_rows(snapshots)
    X, y = rows[list(MODEL_FEATURES)], rows["held"]
    model = HoldModel(random_state=seed).fit(X, y, groups=rows["improvement_id"])
    facts = {
        "seed": seed,
        "rows": len(snapshots),
        "labelled": len(rows),
        "seconds": seconds,
        "violations": monotone_violations(model, X),
        "stability": refit_stability(X, y, rows["improvement_id"], seed),
    }
    (folder / f"facts_seed{seed}.json").write_text(json.dumps(facts, indent=2))
    if result is None:
        return facts
    return {**facts, "pooled": result.pooled, "differences": result.differences}


def saved_seed(seed: int) -> dict:
    """A seed's results as an earlier run of this script saved them."""
    folder = RESULTS / "model"
    facts = json.loads((folder / f"facts_seed{seed}.json").read_text())
    return {
        **facts,
        "pooled": pd.read_csv(folder / f"pooled_seed{seed}.csv"),
        "differences": pd.read_csv(folder / f"differences_seed{seed}.csv"),
    }


def across_seeds(runs: list[dict]) -> pd.DataFrame:
    """Per model: seeds, then each score's mean with a 95% interval as text.

    With two or more seeds the interval is the t-interval of the seeds' pooled scores; with
    one seed (a model run on one seed only) it is that seed's cluster-bootstrap interval,
    marked with a dagger.
    """
    from scipy import stats

    pooled = pd.concat([r["pooled"].assign(seed=r["seed"]) for r in runs], ignore_index=True)
    rows = []
    for model, group in pooled.groupby("model", sort=False):
        row = {
            "model": model,
            "seeds": len(group),
            "fit_seconds": group["fit_seconds"].mean(),
            "score_seconds": group["score_seconds"].mean(),
        }
        for c in ("auroc", "brier", "log_loss", "ece"):
            mean = group[c].mean()
            if len(group) > 1:
                half = group[c].sem() * stats.t.ppf(0.975, len(group) - 1)
                row[c] = f"{mean:.4f} ({mean - half:.4f}-{mean + half:.4f})"
            else:
                low, high = group[c + "_low"].iloc[0], group[c + "_high"].iloc[0]
                row[c] = f"{mean:.4f} ({low:.4f}-{high:.4f})†"
        rows.append(row)
    return pd.DataFrame(rows).set_index("model")


def markdown(runs: list[dict], args) -> str:
    table = across_seeds(runs)
    lines = [
        "# Hold model benchmark: rolling-origin backtest on the demo simulator",
        "",
        f"{args.services} services, {args.years} years, seeds {[r['seed'] for r in runs]}; "
        "ground truth re-simulated at each test as-of date. Pooled over cutoffs; then the mean "
        "over seeds with a 95% t-interval over seeds († one seed only: that seed's 95% cluster-"
        "bootstrap interval). Every model single-threaded (OpenMP 1 thread; EBM with its "
        "default n_jobs, one core here). Measured on the shared 2-core machine: times are upper "
        "bounds.",
        "",
        "| model | seeds | AUROC | Brier | log loss | ECE | fit s (all cutoffs) | score s |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for model, row in table.iterrows():
        cells = " | ".join(row[c] for c in ("auroc", "brier", "log_loss", "ece"))
        lines.append(
            f"| {model} | {row['seeds']} | {cells} | {row['fit_seconds']:.1f} | "
            f"{row['score_seconds']:.2f} |"
        )
    lines += [
        "",
        "Paired differences against the GA2M (pooled, 95% cluster bootstrap), per seed:",
        "",
    ]
    for run in runs:
        auroc = run["differences"].query("metric == 'auroc' and model != 'ga2m'")
        cells = ", ".join(
            f"{m} {d:+.4f} [{lo:+.4f}, {hi:+.4f}]"
            for m, d, lo, hi in auroc[["model", "difference", "low", "high"]].itertuples(
                index=False
            )
        )
        lines.append(f"- seed {run['seed']} AUROC: {cells}")
    lines += [
        "",
        "Monotone features, wrong-direction steps (grid incl. pairs + ICE of 200 rows):",
        "",
    ]
    for run in runs:
        total = sum(run["violations"].values())
        lines.append(f"- seed {run['seed']}: {total} over {len(run['violations'])} features")
    lines += ["", "Refit with another seed (5-10 seeded fits averaged), |change in P(held)|:", ""]
    for run in runs:
        s = run["stability"]
        lines.append(
            f"- seed {run['seed']}: median {s['p50']:.4f}, 99th pct {s['p99']:.4f}, "
            f"max {s['max']:.4f}"
        )
    lines += ["", "Data per seed:", ""]
    for run in runs:
        sec = run["seconds"]
        lines.append(
            f"- seed {run['seed']}: {run['rows']} snapshots, {run['labelled']} labelled; "
            f"simulate {sec['simulate']:.0f} s, snapshots {sec['snapshots']:.0f} s"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    from models.backtest import ALL_MODELS

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--services", type=int, default=300)
    parser.add_argument("--years", type=float, default=3)
    parser.add_argument("--truth-draws", type=int, default=100)
    parser.add_argument("--models", nargs="+", default=list(ALL_MODELS))
    parser.add_argument("--out", type=Path, default=RESULTS / "model.md")
    parser.add_argument(
        "--checks-only",
        action="store_true",
        help="Skip the backtest: only the monotone and refit checks "
        "(facts_seed<N>.json); then --aggregate.",
    )
    parser.add_argument(
        "--aggregate",
        action="store_true",
        help="Only write the table from the seeds' saved results (seeds run "
        "separately, e.g. in parallel).",
    )
    args = parser.parse_args()
    if args.aggregate:
        args.out.write_text(markdown([saved_seed(s) for s in args.seeds], args), encoding="utf-8")
        return
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("interpret").setLevel(logging.WARNING)
    runs = []
    for seed in args.seeds:
        runs.append(run_seed(seed, args))
        if args.checks_only:
            log.info("seed %d checks: %s", seed, runs[-1]["violations"])
            continue
        args.out.write_text(markdown(runs, args), encoding="utf-8")  # keep what has finished
        log.info("seed %d done: %s", seed, args.out)


if __name__ == "__main__":
    main()
