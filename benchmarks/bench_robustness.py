"""Benchmark: how the hold model's replay scores move when the simulated data get harder.

For each seed and each setting of the simulator's knobs (`simulator.parameters.KNOBS`): every
knob off ("none": complete, unbiased, stationary, perfectly linked measurement), each knob
alone, and every knob on ("all": the realistic default `make demo` uses), simulate a provider
group (default 300 services, 3 years, ground truth at the cutoffs) and replay the model's use
(`models.replay.replay_evaluation`, time split; team spellings joined as the loader joins
them): train at each cutoff on the export as it stood
then, score at the cutoff, compare with the six months after it. Contenders: the GA2M as
`takehold train` fits it (the point model; its band is not scored here, so no refits), the
logistic and unconstrained baselines, the rules' stage, claims alone and the true probability
(the ceiling). 95% intervals come from a bootstrap over services.

One cell (seed x setting) at a time; each finished cell is appended to
`benchmarks/results/robustness/cells.csv`, so the grid can be stopped and resumed (cells
already there are skipped). Then `--aggregate` writes
`benchmarks/results/robustness.md`.

    .venv/bin/python benchmarks/bench_robustness.py [--seeds 0 1 2] [--settings none all ...]
        [--services 300] [--cutoffs 2] [--aggregate]
"""

from __future__ import annotations

import argparse
import logging
import os
import time
from pathlib import Path

import numpy as np
import pandas as pd

RESULTS = Path(__file__).parent / "results"
FOLDER = RESULTS / "robustness"
CELLS = FOLDER / "cells.csv"
log = logging.getLogger("bench_robustness")
MODELS = ("logistic_compliance", "hgb_unconstrained", "rules_stage", "claims_alone", "ground_truth")
METRICS = ("auroc", "brier", "ece")


def _interval_columns(metric: str) -> tuple[str, str, str]:
    return metric, f"{metric}_low", f"{metric}_high"


def settings() -> list[str]:
    from simulator.parameters import KNOB_NAMES

    return ["none", *KNOB_NAMES, "all"]


def parameters_for(setting: str):
    from simulator.parameters import Parameters

    if setting == "all":
        return Parameters()
    if setting == "none":
        return Parameters.clean()
    return Parameters().only(setting)


def joined_teams(frames: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """The frames with team spellings joined as the loader joins them on reading an export
    (`pipelines.io.join_team_variants`), so the replay sees what the nightly run would."""
    from contracts.files import LoadedFile
    from pipelines.io import join_team_variants

    files = {
        name: LoadedFile(name=name, path="", format="simulated", sha256="", frame=frame)
        for name, frame in frames.items()
    }
    return {name: loaded.frame for name, loaded in join_team_variants(files).items()}


def run_cell(seed: int, setting: str, args) -> pd.DataFrame:
    """One seed x setting: simulate, replay, and the pooled scores with their intervals."""

    from contracts.params import RunConfig
    from models.replay import TIME_SPLIT, replay_cutoffs, replay_evaluation
    from pipelines.stages import banded_model
    from simulator import simulate_group
    from simulator.core import DEFAULT_END

    cutoffs = replay_cutoffs(pd.Timestamp(DEFAULT_END), count=args.cutoffs, step_months=3)
    started = time.perf_counter()
    sim = simulate_group(
        args.services,
        args.years,
        seed,
        truth_as_of=[c.date() for c in cutoffs],
        truth_draws=args.truth_draws,
        params=parameters_for(setting),
    )
    simulated = time.perf_counter()
    frames = joined_teams(sim.frames)
    truth = sim.truth[["improvement_id", "as_of", "p_hold_true"]].astype(
        {"improvement_id": "str", "as_of": "datetime64[ns]"}
    )
    config = RunConfig()
    result = replay_evaluation(
        frames,
        # The point model only: its band is not scored here. The setting refuses fewer than
        # two refits (a band needs them), so the estimator's parameter is set directly.
        lambda: banded_model(config).set_params(n_refits=0),
        cutoffs=cutoffs,
        export_at=lambda cutoff: joined_teams(sim.as_it_stood(cutoff)),
        models=MODELS,
        truth=truth,
        unseen_share=0.0,
        seed=seed,
        n_resamples=args.resamples,
    )
    pooled = result.pooled[result.pooled["split"] == TIME_SPLIT]
    scored = result.predictions
    held = scored.groupby("cutoff")["held"].mean()
    return pooled.assign(
        seed=seed,
        setting=setting,
        held_rate=float(scored["held"].mean()),
        held_rate_by_cutoff=";".join(f"{v:.3f}" for v in held),
        simulate_seconds=round(simulated - started, 1),
        replay_seconds=round(time.perf_counter() - simulated, 1),
    )


def done_cells() -> set[tuple[int, str]]:
    if not CELLS.exists():
        return set()
    cells = pd.read_csv(CELLS, usecols=["seed", "setting"])
    return set(zip(cells["seed"], cells["setting"], strict=True))


def append(rows: pd.DataFrame) -> None:
    FOLDER.mkdir(parents=True, exist_ok=True)
    rows.to_csv(CELLS, mode="a", header=not CELLS.exists(), index=False)


def _cell(values: pd.Series, low: pd.Series | None = None, high: pd.Series | None = None) -> str:
    """Mean over seeds with the seeds' range in brackets; one seed: its value with its 95%
    interval over services in square brackets (when given)."""
    values = values.dropna()
    if values.empty:
        return "-"
    if len(values) == 1:
        if low is not None and high is not None and len(low.dropna()) == 1:
            return f"{values.iloc[0]:.3f} [{low.dropna().iloc[0]:.3f}-{high.dropna().iloc[0]:.3f}]"
        return f"{values.iloc[0]:.3f}"
    return f"{values.mean():.3f} ({values.min():.3f}-{values.max():.3f})"


def missing_cells(cells: pd.DataFrame, seeds=(0, 1, 2)) -> list[str]:
    """The cells of the full grid (every setting x `seeds`) not in `cells`."""
    done = set(zip(cells["seed"], cells["setting"], strict=True))
    return [
        f"{setting} seed {seed}"
        for setting in settings()
        for seed in seeds
        if (seed, setting) not in done
    ]


def markdown(cells: pd.DataFrame, args) -> str:
    cells = cells.drop_duplicates(["seed", "setting", "model"])  # a cell two processes ran
    order = [s for s in settings() if s in set(cells["setting"])]
    models = ["ga2m", *MODELS]
    seeds = sorted(cells["seed"].unique())
    lines = [
        "# Robustness of the hold model to harder data (simulated provider groups)",
        "",
        f"{args.services} services, {args.years} years; replay evaluation (time split) at "
        f"{args.cutoffs} cutoff(s) 3 months apart, the last the latest whose six-month window "
        "closed by the export's end; the GA2M as `takehold train` fits it (point model), "
        "beside the baselines and the ceiling (the simulator's true probability). Settings: "
        "`none` every knob off, one knob alone, `all` every knob on (the realistic default). "
        "Cells: mean over the seeds that finished, with the range over seeds in round brackets; "
        "a setting run on one seed shows its 95% interval from a bootstrap over services "
        "(clustered by service) in square brackets; every seed's intervals are in "
        "`benchmarks/results/robustness/cells.csv` (`*_low`, `*_high`).",
        "",
        "Seeds finished per setting: "
        + ", ".join(
            f"{s} {sorted(cells.loc[cells['setting'] == s, 'seed'].unique().tolist())}"
            for s in order
        ),
        "",
        "Not run (of every setting x seeds 0, 1, 2): "
        + (", ".join(missing_cells(cells)) or "none"),
        "",
    ]
    for metric in METRICS:
        lines += [
            f"## {metric.upper()}",
            "",
            "| setting | rows | held | " + " | ".join(models) + " |",
            "| --- | --- | --- | " + " | ".join("---" for _ in models) + " |",
        ]
        for setting in order:
            part = cells[cells["setting"] == setting]
            row = [setting, f"{part['n'].mean():.0f}", f"{part['held_rate'].mean():.2f}"]
            row += [
                _cell(*(part.loc[part["model"] == m, c] for c in _interval_columns(metric)))
                for m in models
            ]
            lines.append("| " + " | ".join(row) + " |")
        lines.append("")
    lines += _against_none(cells, order, seeds)
    lines += [
        "Time per cell (simulate + replay, one process on the shared 2-core machine): "
        f"{cells.groupby(['seed', 'setting'])['simulate_seconds'].first().mean():.0f} s + "
        f"{cells.groupby(['seed', 'setting'])['replay_seconds'].first().mean():.0f} s.",
        "",
    ]
    return "\n".join(lines)


def _against_none(cells: pd.DataFrame, order: list[str], seeds) -> list[str]:
    """GA2M's AUROC and the gap to the ceiling per setting, paired with `none` by seed."""
    ga2m = cells[cells["model"] == "ga2m"].set_index(["seed", "setting"])
    truth = cells[cells["model"] == "ground_truth"].set_index(["seed", "setting"])
    lines = [
        "## The GA2M against `none` (same seed) and against the ceiling",
        "",
        "| setting | GA2M AUROC change | ceiling AUROC change | GA2M gap to ceiling "
        "| GA2M ECE change |",
        "| --- | --- | --- | --- | --- |",
    ]
    for setting in order:
        change, ceiling, gap, ece = [], [], [], []
        for seed in seeds:
            if (seed, setting) not in ga2m.index:
                continue
            gap.append(truth.loc[(seed, setting), "auroc"] - ga2m.loc[(seed, setting), "auroc"])
            if (seed, "none") in ga2m.index:
                change.append(
                    ga2m.loc[(seed, setting), "auroc"] - ga2m.loc[(seed, "none"), "auroc"]
                )
                ceiling.append(
                    truth.loc[(seed, setting), "auroc"] - truth.loc[(seed, "none"), "auroc"]
                )
                ece.append(ga2m.loc[(seed, setting), "ece"] - ga2m.loc[(seed, "none"), "ece"])
        lines.append(
            f"| {setting} | {_cell(pd.Series(change, dtype=float))} "
            f"| {_cell(pd.Series(ceiling, dtype=float))} | {_cell(pd.Series(gap, dtype=float))} "
            f"| {_cell(pd.Series(ece, dtype=float))} |"
        )
    return [*lines, ""]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--settings", nargs="+", default=None)
    parser.add_argument("--services", type=int, default=300)
    parser.add_argument("--years", type=float, default=3)
    parser.add_argument("--cutoffs", type=int, default=1)
    parser.add_argument("--truth-draws", type=int, default=100)
    parser.add_argument("--resamples", type=int, default=200)
    parser.add_argument("--out", type=Path, default=RESULTS / "robustness.md")
    parser.add_argument("--aggregate", action="store_true", help="Only write the table.")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("great_expectations").setLevel(logging.WARNING)
    chosen = args.settings or settings()
    if not args.aggregate:
        for seed in args.seeds:
            for setting in chosen:
                if (seed, setting) in done_cells():
                    continue
                log.info("cell seed %d, %s (pid %d)", seed, setting, os.getpid())
                append(run_cell(seed, setting, args))
                args.out.write_text(markdown(pd.read_csv(CELLS), args), encoding="utf-8")
    if CELLS.exists():
        args.out.write_text(markdown(pd.read_csv(CELLS), args), encoding="utf-8")


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
