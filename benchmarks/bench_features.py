"""Benchmark: point-in-time features from a 10-million-check export.

Writes a synthetic export (Parquet, every contract file; ~50k improvements over 3 years at
2,000 services, 10M checks by default) to a folder, then runs three cases, each in its own
process so that its peak memory (max RSS) is its own:

- baseline: read the export (`pipelines.io.read_export`) and run one groupby over the checks
  (sum of met and sampled per improvement and month);
- nightly: read the export and build the features for one as-of date (the last day);
- training: read the export and build the features for every month-end of the export.

Target (issue 4): the nightly feature build takes no more than 5 times the baseline.

    .venv/bin/python benchmarks/bench_features.py [--checks 10000000] [--folder DIR]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from contracts.export import (  # noqa: E402
    CHECK_SOURCES,
    KEY_QUESTIONS,
    ORIGINS,
    SEVERITIES,
    THEMES,
)
from features.build import build_feature_frame  # noqa: E402
from pipelines.io import read_export  # noqa: E402
from simulator.export import write_export  # noqa: E402

START, END = pd.Timestamp("2023-11-01"), pd.Timestamp("2026-10-31")
TARGET_RATIO = 5.0


def synthetic_export(checks: int, seed: int) -> dict[str, pd.DataFrame]:
    """Contract frames at the scale of `checks` check rows (improvements = checks / 200)."""
    rng = np.random.default_rng(seed)
    n_imp = max(checks // 200, 10)
    n_loc = max(n_imp // 25, 2)
    days = (END - START).days
    locations = np.array([f"1-{1000000000 + i}" for i in range(n_loc)])
    loc_of = rng.integers(0, n_loc, n_imp)
    identified = START + pd.to_timedelta(rng.integers(0, days - 60, n_imp), "D")
    action = identified + pd.to_timedelta(rng.integers(0, 60, n_imp), "D")
    action = action.where(rng.random(n_imp) > 0.1)
    ids = np.array([f"imp-{i:07d}" for i in range(n_imp)])
    improvements = pd.DataFrame(
        {
            "improvement_id": ids,
            "location_id": locations[loc_of],
            "theme": rng.choice(THEMES, n_imp),
            "key_question": rng.choice(KEY_QUESTIONS, n_imp),
            "severity": rng.choice(SEVERITIES, n_imp),
            "origin": rng.choice(ORIGINS, n_imp),
            "identified_on": identified,
            "action_started_on": action,
            "standard": rng.choice([0.8, 0.9, 0.95], n_imp),
        }
    )
    imp = rng.integers(0, n_imp, checks)
    span = (END - identified[imp]).days.to_numpy()
    sampled = rng.integers(5, 21, checks)
    met = rng.binomial(sampled, rng.uniform(0.6, 1.0, n_imp)[imp])
    source = rng.choice(CHECK_SOURCES, checks)
    frames = {
        "services": pd.DataFrame(
            {
                "location_id": locations,
                "provider_id": "1-100000001",
                "name": "Service",
                "service_type": "care_home_nursing",
            }
        ),
        "improvements": improvements,
        "checks": pd.DataFrame(
            {
                "check_id": np.char.add("c", np.arange(checks).astype(str)),
                "improvement_id": ids[imp],
                "team": np.char.add("Team ", rng.integers(1, 5, checks).astype(str)),
                "source": source,
                "checked_on": identified[imp]
                + pd.to_timedelta((rng.random(checks) * span).astype(int), "D"),
                "sampled": sampled,
                "met": met,
                "repeat_gaps": rng.binomial(sampled - met, 0.4),
                "prompts_needed": np.where(
                    source == "staff_practice", rng.poisson(1.0, checks), np.nan
                ),
                "self_rated_confidence": np.where(
                    source == "competency", rng.uniform(1, 5, checks), np.nan
                ),
            }
        ),
        **_events(rng, improvements, locations, checks // 20, days),
    }
    return frames


def _events(rng, improvements, locations, count, days) -> dict[str, pd.DataFrame]:
    at = START + pd.to_timedelta(rng.integers(0, days, count), "D")
    mondays = pd.date_range(START, END, freq="W-MON")
    grid = pd.MultiIndex.from_product([locations, ["Team 1", "Team 2"], mondays]).to_frame(
        index=False, name=["location_id", "team", "week_start"]
    )
    planned = rng.integers(20, 80, len(grid))
    agency = rng.binomial(planned, 0.1)
    return {
        "feedback": pd.DataFrame(
            {
                "feedback_id": np.char.add("f", np.arange(count).astype(str)),
                "location_id": rng.choice(locations, count),
                "received_on": at,
                "channel": rng.choice(["survey", "complaint", "meeting"], count),
                "respondent": rng.choice(["person", "family", "staff", "professional"], count),
                "theme": rng.choice(THEMES, count),
                "sentiment": rng.integers(-1, 2, count),
            }
        ),
        "incidents": pd.DataFrame(
            {
                "incident_id": np.char.add("i", np.arange(count).astype(str)),
                "location_id": rng.choice(locations, count),
                "occurred_on": at,
                "theme": rng.choice(THEMES, count),
                "harm": rng.choice(["none", "low", "moderate", "severe"], count),
            }
        ),
        "workforce": grid.assign(
            shifts_planned=planned,
            shifts_agency=agency,
            shifts_unfilled=rng.binomial(planned - agency, 0.05),
            leavers=rng.poisson(0.2, len(grid)),
        ),
        "reviews": pd.DataFrame(
            {
                "review_id": np.char.add("r", np.arange(len(improvements)).astype(str)),
                "improvement_id": improvements["improvement_id"],
                "reviewed_on": improvements["identified_on"] + pd.Timedelta(days=90),
                "level": "registered_manager",
                "classification": rng.choice(
                    ["emerging", "embedded", "not_assured"], len(improvements)
                ),
            }
        ),
    }


def run_case(case: str, folder: str) -> dict:
    """One case in this process: its seconds (read, work) and peak memory."""
    started = time.perf_counter()
    export = read_export(folder)
    tables = {name: loaded.frame for name, loaded in export.files.items()}
    read_seconds = time.perf_counter() - started
    started = time.perf_counter()
    if case == "baseline":
        checks = tables["checks"]
        result = (
            checks.assign(month=checks["checked_on"].dt.to_period("M"))
            .groupby(["improvement_id", "month"])[["met", "sampled"]]
            .sum()
        )
    elif case == "nightly":
        result = build_feature_frame(tables, [END])
    else:
        result = build_feature_frame(tables, pd.date_range(START, END, freq="ME"))
    work_seconds = time.perf_counter() - started
    return {
        "case": case,
        "read_seconds": round(read_seconds, 1),
        "work_seconds": round(work_seconds, 1),
        "rows": len(result),
        "check_rows": len(tables["checks"]),
        "peak_memory_gb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checks", type=int, default=10_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--folder", help="export folder to reuse or create")
    parser.add_argument("--case", help=argparse.SUPPRESS)
    parser.add_argument("--cases", default="baseline,nightly,training")
    arguments = parser.parse_args()
    if arguments.case:
        print(json.dumps(run_case(arguments.case, arguments.folder)))
        return
    with tempfile.TemporaryDirectory() as scratch:
        folder = arguments.folder or str(Path(scratch) / "export")
        if not Path(folder, "checks.parquet").exists():
            started = time.perf_counter()
            write_export(synthetic_export(arguments.checks, arguments.seed), folder, "parquet")
            print(json.dumps({"generated_seconds": round(time.perf_counter() - started, 1)}))
        results = {}
        for case in arguments.cases.split(","):
            out = subprocess.run(
                [sys.executable, __file__, "--case", case, "--folder", folder],
                check=True,
                capture_output=True,
                text=True,
            ).stdout
            results[case] = json.loads(out.strip().splitlines()[-1])
            print(json.dumps(results[case]), flush=True)
        if {"baseline", "nightly"} <= results.keys():
            base = results["baseline"]["read_seconds"] + results["baseline"]["work_seconds"]
            ratio = results["nightly"]["work_seconds"] / base
            print(
                json.dumps(
                    {
                        "nightly_features_over_read_plus_groupby": round(ratio, 2),
                        "within_target": ratio <= TARGET_RATIO,
                    }
                )
            )


if __name__ == "__main__":
    main()
