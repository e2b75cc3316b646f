"""Benchmark: what a small provider group gets — its own model, a starter model, or the rules.

For each length of history (default 3, 2 and 1.5 years to the simulator's end), group size
(default 6, 12 and 30 services) and seed: simulate the group with
its ground truth at the replay's cutoffs, then replay the nightly run's use at each cutoff
(`models.replay`, time split only: a handful of services cannot spare a quarter of themselves
for the unseen-services split) for three ways of getting a probability:

- **own**: the GA2M with its band (`banded_model`), trained at each cutoff on the group's own
  labelled snapshots as the export stood then — what `takehold train` would build. It is
  replayed with the training floor lowered (`--own-needs`), to show what the group's own model
  would be worth if the minimum-history check let it through; the table says whether the
  check (at the shipped settings) lets `takehold train` run on the group's whole history;
- **starter**: one banded GA2M fitted once on a *different*, larger simulated reference group
  (`--reference-services`, its own seed), scoring the small group without learning from it:
  whether a model trained elsewhere transfers;
- **rules**: the rules' stage mapped to the held share of its stage (`[ranking]
  rules_hold_shares`), which is what a group without a model is ranked by; and the simulator's
  true probability (the ceiling).

Per group size: AUROC, Brier, ECE (mean over seeds, with the seeds' range), and for the two
banded models how often the 80% band holds the true probability, and its median width.

Results: benchmarks/results/small-groups.md and per-run CSVs in
benchmarks/results/small_groups/ (written after every run, so a stopped run keeps what it had).

    .venv/bin/python benchmarks/bench_small_groups.py [--services 6 12 30] [--seeds 0 1 2]
"""

from __future__ import annotations

import argparse
import logging
import os
import pickle
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

RESULTS = Path(__file__).parent / "results"
FOLDER = RESULTS / "small_groups"
log = logging.getLogger("bench_small_groups")
WAYS = ("own", "starter", "rules", "ground_truth")


class Prefitted:
    """A fitted banded model that learns nothing from the rows it is given: the starter
    model, scored at each cutoff as `replay_evaluation` scores the group's own."""

    def __init__(self, model):
        self.model = model

    def fit(self, X, y, groups=None):
        return self

    def __getattr__(self, name):
        return getattr(self.model, name)


def default_cache() -> Path:
    return Path(os.environ.get("TAKEHOLD_HOME", ".takehold")) / "bench_small_groups"


def cached(path: Path, build):
    if path.exists():
        return pickle.loads(path.read_bytes())
    value = build()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(pickle.dumps(value))
    return value


def cutoffs_of(args) -> list[pd.Timestamp]:
    from models.replay import replay_cutoffs
    from simulator.core import DEFAULT_END

    return replay_cutoffs(pd.Timestamp(DEFAULT_END), count=args.cutoffs, step_months=3)


def starter_model(args):
    """The banded GA2M fitted on the reference group's labelled snapshots at its end."""
    from contracts.params import RunConfig
    from pipelines.stages import fit_banded_model, training_snapshots
    from simulator import simulate_group

    def build():
        started = time.perf_counter()
        sim = simulate_group(args.reference_services, 3, args.reference_seed)
        snapshots = training_snapshots(sim.frames, sim.end, RunConfig())
        model = fit_banded_model(snapshots, RunConfig())
        log.info(
            "starter: %d labelled snapshots of %d services, fitted in %.0f s",
            len(snapshots),
            args.reference_services,
            time.perf_counter() - started,
        )
        return model

    name = f"starter_{args.reference_services}_seed{args.reference_seed}.pkl"
    return cached(args.cache / name, build)


def run_group(services: int, years: float, seed: int, starter, args) -> pd.DataFrame:
    """One simulated group: the scores of every way, and the band of the banded ones."""
    from contracts.params import RunConfig
    from models.baselines import fixed_stage_rates
    from models.replay import replay_evaluation, replay_plan
    from pipelines.stages import (
        NotEnoughHistory,
        banded_model,
        require_enough_history,
        training_snapshots,
    )
    from pipelines.training import replay_plan as training_plan
    from simulator import simulate_group

    cutoffs = cutoffs_of(args)
    sim = cached(
        args.cache / f"sim_{services}_{years}_seed{seed}.pkl",
        lambda: simulate_group(
            services,
            years,
            seed,
            truth_as_of=[c.date() for c in cutoffs],
            truth_draws=args.truth_draws,
        ),
    )
    truth = sim.truth[["improvement_id", "as_of", "p_hold_true"]].astype(
        {"improvement_id": "str", "as_of": "datetime64[ns]"}
    )
    shipped = RunConfig()
    snapshots = training_snapshots(sim.frames, sim.end, shipped)
    try:  # would `takehold train` run on the whole history, with the shipped settings?
        require_enough_history(
            snapshots, training_plan(sim.frames, sim.end, shipped), sim.end, shipped
        )
        trains = True
    except NotEnoughHistory:
        trains = False

    lowered = replace(shipped.model, **args.own_needs)
    config = replace(shipped, model=lowered)
    plan = replay_plan(sim.frames, cutoffs, export_at=sim.as_it_stood, needs=lowered)
    rules = {"rules": fixed_stage_rates(shipped.ranking.rules_hold_shares)}
    common = {"plan": plan, "truth": truth, "unseen_share": 0.0, "seed": seed}
    common |= {"n_resamples": args.resamples, "contenders": rules}
    found = []
    started = time.perf_counter()
    starter_result = replay_evaluation(
        sim.frames,
        lambda: Prefitted(starter),
        reference="starter",
        models=("rules", "ground_truth"),
        needs=None,
        **common,
    )
    found.append(_rows(starter_result, ("starter", "rules", "ground_truth")))
    starter_seconds = time.perf_counter() - started
    used, own_failed = pd.DataFrame({"n_train": [0]}), ""
    if any(step.history.usable for step in plan):
        try:
            own = replay_evaluation(
                sim.frames,
                lambda: banded_model(config),
                reference="own",
                models=("ground_truth",),  # the band is checked against it
                needs=lowered,
                **common,
            )
        except ValueError as failure:  # a fit on a few dozen rows can fail (`takehold train`
            own_failed = f"{type(failure).__name__}: {failure}"  # names it: TrainingFailed)
            log.warning("own model, %d services: %s", services, own_failed)
        else:
            found.append(_rows(own, ("own",)))
            used = own.cutoffs
    table = pd.concat(found, ignore_index=True).assign(
        services=services,
        years=years,
        seed=seed,
        improvements=int(sim.truth["improvement_id"].nunique()),
        labelled=len(snapshots),
        trains_at_shipped_settings=trains,
        own_cutoffs=len(used) if used["n_train"].any() else 0,
        own_training_rows=float(used["n_train"].mean()),
        own_failed=own_failed,
    )
    log.info(
        "%d services seed %d: %d scored rows, starter %.0f s, total %.0f s",
        services,
        seed,
        int(table["n"].max()),
        starter_seconds,
        time.perf_counter() - started,
    )
    return table


def _rows(result, models) -> pd.DataFrame:
    """One row per way: pooled scores, and the band's coverage and width where it has one."""
    pooled = result.pooled.set_index("model")
    band = result.band.set_index("model") if "model" in result.band else pd.DataFrame()
    rows = []
    for model in models:
        row = {"way": model, "n": int(pooled.loc[model, "n"])}
        row |= {m: float(pooled.loc[model, m]) for m in ("auroc", "brier", "ece")}
        if model in band.index:
            row |= {
                "coverage": float(band.loc[model, "coverage"]),
                "median_width": float(band.loc[model, "median_width"]),
            }
        rows.append(row)
    return pd.DataFrame(rows)


def _mean_range(values: pd.Series) -> str:
    values = values.dropna()
    if values.empty:
        return "-"
    if len(values) == 1:
        return f"{values.iloc[0]:.3f}"
    return f"{values.mean():.3f} ({values.min():.3f}-{values.max():.3f})"


def markdown(runs: pd.DataFrame, args) -> str:
    seeds = sorted(runs["seed"].unique().tolist())
    lines = [
        "# Small provider groups: the group's own model, a starter model, or the rules",
        "",
        f"Simulated groups of {sorted(runs['services'].unique().tolist())} services with "
        f"{sorted(runs['years'].unique().tolist())} years of evidence, seeds {seeds}; cutoffs {[str(c.date()) for c in cutoffs_of(args)]} (time split "
        "only). At each cutoff: **own** = the GA2M with its band trained on the group's own "
        "labelled snapshots as the export stood then (training floor lowered to "
        f"{args.own_needs}, so that it can be measured where the check would refuse); "
        f"**starter** = one banded GA2M fitted on a different simulated group of "
        f"{args.reference_services} services over 3 years (seed {args.reference_seed}), learning nothing "
        "from the small group; **rules** = the held share of the rules' stage "
        "(`[ranking] rules_hold_shares`), what a group without a model is ranked by; "
        "**ground_truth** = the simulator's true probability (the ceiling). Values: mean over "
        "seeds, with the seeds' range. Band: how often the 80% band holds the true probability "
        "(target 0.75-0.85) and its median width. Simulated groups only.",
        "",
        "| years | services | way | seeds | labelled snapshots | `takehold train` runs (shipped "
        "settings) | rows scored | AUROC | Brier | ECE | band coverage | band median width |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for (years, services, way), group in runs.groupby(["years", "services", "way"], sort=True):
        if way not in WAYS:
            continue
        trains = f"{int(group['trains_at_shipped_settings'].sum())} of {len(group)}"
        lines.append(
            f"| {years:g} | {services} | {way} | {len(group)} | {group['labelled'].mean():.0f} | {trains} "
            f"| {group['n'].mean():.0f} | {_mean_range(group['auroc'])} "
            f"| {_mean_range(group['brier'])} | {_mean_range(group['ece'])} "
            f"| {_mean_range(group.get('coverage', pd.Series(dtype=float)))} "
            f"| {_mean_range(group.get('median_width', pd.Series(dtype=float)))} |"
        )
    lines += ["", "Per run:", ""]
    for (years, services, seed), group in runs.groupby(["years", "services", "seed"], sort=True):
        first = group.iloc[0]
        lines.append(
            f"- {years:g} years, {services} services, seed {seed}: {first['improvements']} improvements, "
            f"{first['labelled']} labelled snapshots at the end; own model replayed at "
            f"{first['own_cutoffs']} cutoff(s) on {first['own_training_rows']:.0f} training "
            f"rows on average{_failed(first)}; `takehold train` "
            f"{'runs' if first['trains_at_shipped_settings'] else 'refuses (not enough history)'}"
        )
    return "\n".join(lines) + "\n"


def _failed(run) -> str:
    failed = run.get("own_failed")
    return f" (its fit failed: {failed})" if isinstance(failed, str) and failed else ""


def needs_argument(text: str) -> dict:
    """'min_training_rows=40,min_training_improvements=5' -> a dict of ints."""
    return {k: int(v) for k, v in (part.split("=") for part in text.split(",") if part)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--services", type=int, nargs="+", default=[6, 12, 30])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--years", type=float, nargs="+", default=[3, 2, 1.5])
    parser.add_argument("--truth-draws", type=int, default=100)
    parser.add_argument("--cutoffs", type=int, default=4)
    parser.add_argument("--resamples", type=int, default=50)
    parser.add_argument("--reference-services", type=int, default=120)
    parser.add_argument("--reference-seed", type=int, default=1000)
    parser.add_argument(
        "--own-needs",
        type=needs_argument,
        default=needs_argument(
            "min_training_rows=40,min_training_improvements=5,min_outcome_snapshots=10"
        ),
    )
    parser.add_argument("--cache", type=Path, default=default_cache())
    parser.add_argument("--out", type=Path, default=RESULTS / "small-groups.md")
    parser.add_argument("--folder", type=Path, default=FOLDER, help="Per-run CSVs.")
    parser.add_argument("--aggregate", action="store_true", help="Only rewrite the table.")
    args = parser.parse_args()
    args.cache.mkdir(parents=True, exist_ok=True)
    args.folder.mkdir(parents=True, exist_ok=True)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    if not args.aggregate:
        starter = starter_model(args)
        for years in args.years:  # every size and seed at one length before the next
            for seed in args.seeds:
                for services in args.services:
                    path = args.folder / f"services{services}_years{years}_seed{seed}.csv"
                    if not path.exists():
                        run_group(services, years, seed, starter, args).to_csv(path, index=False)
                    write(args)
    write(args)


def write(args) -> None:
    runs = [pd.read_csv(p) for p in sorted(args.folder.glob("services*_years*_seed*.csv"))]
    if runs:
        args.out.write_text(markdown(pd.concat(runs, ignore_index=True), args), "utf-8")


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
