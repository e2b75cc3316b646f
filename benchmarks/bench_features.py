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

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from features.build import build_feature_frame  # noqa: E402
from pipelines.io import read_export  # noqa: E402
from simulator.export import write_export  # noqa: E402
from simulator.stress import END, START, stress_export  # noqa: E402

TARGET_RATIO = 5.0


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
            write_export(stress_export(arguments.checks, arguments.seed), folder, "parquet")
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
