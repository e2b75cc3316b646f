"""Benchmark: the demo provider-group simulator at 300 and 3,000 services over 3 years.

Each size runs in its own process so that its peak memory (max RSS) is its own. A case
simulates the group with the ground truth limited to one as-of date (2026-03-31, whose
6-month window is complete) at 200 draws, then writes the export as Parquet. Results go to
benchmarks/results/simulator.md.

    .venv/bin/python benchmarks/bench_simulator.py [--sizes 300 3000] [--years 3]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

RESULTS = Path(__file__).parent / "results" / "simulator.md"
TRUTH_AS_OF = date(2026, 3, 31)


def run_case(services: int, years: float) -> dict:
    """Simulate and write one group; return timings, row counts and peak memory."""
    from simulator import simulate_group, write_simulation

    started = time.perf_counter()
    cpu = time.process_time()
    sim = simulate_group(services, years, seed=1, truth_as_of=[TRUTH_AS_OF], truth_draws=200)
    simulated = time.perf_counter() - started
    with tempfile.TemporaryDirectory() as folder:
        write_started = time.perf_counter()
        write_simulation(sim, Path(folder), "parquet")
        written = time.perf_counter() - write_started
    truth = sim.truth
    labelled = truth[truth["eligible"] & truth["held_realised"].notna()]
    return {
        "services": services,
        "years": years,
        "simulate_seconds": round(simulated, 1),
        "write_parquet_seconds": round(written, 1),
        "cpu_seconds": round(time.process_time() - cpu, 1),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
        "rows": {name: len(frame) for name, frame in sim.frames.items()},
        "truth_rows": len(truth),
        "held_rate": round(float(labelled["held_realised"].astype(float).mean()), 3),
        "mean_p_hold_true": round(float(labelled["p_hold_true"].mean()), 3),
    }


def report(results: list[dict]) -> str:
    """The results as a markdown page."""
    lines = [
        "# Simulator benchmark",
        "",
        f"`simulate_group(N, 3, seed=1, truth_as_of=[{TRUTH_AS_OF}], truth_draws=200)`, then",
        "`write_simulation(..., 'parquet')`; one process per size (peak RSS is its own).",
        "Measured on the shared 2-core machine: wall times are upper bounds.",
        "",
        "| services | simulate (s) | write parquet (s) | CPU (s) | peak RSS (MB) | checks | "
        "improvements | feedback | incidents | workforce | reviews | held rate | mean p_hold_true |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in results:
        rows = r["rows"]
        lines.append(
            f"| {r['services']:,} | {r['simulate_seconds']} | {r['write_parquet_seconds']} | "
            f"{r['cpu_seconds']} | {r['peak_rss_mb']:,} | {rows['checks']:,} | "
            f"{rows['improvements']:,} | {rows['feedback']:,} | {rows['incidents']:,} | "
            f"{rows['workforce']:,} | {rows['reviews']:,} | {r['held_rate']} | "
            f"{r['mean_p_hold_true']} |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[300, 3000])
    parser.add_argument("--years", type=float, default=3.0)
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run_case(args.one, args.years)))
        return
    results = []
    for size in args.sizes:
        done = subprocess.run(
            [sys.executable, __file__, "--one", str(size), "--years", str(args.years)],
            check=True,
            capture_output=True,
            text=True,
        )
        results.append(json.loads(done.stdout.strip().splitlines()[-1]))
        print(json.dumps(results[-1]))
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(report(results), encoding="utf-8")
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
