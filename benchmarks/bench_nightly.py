"""Benchmark: the nightly scoring run end to end, local and Dask runners.

For each group size it simulates a provider group (Parquet), trains a light model once on the
smallest group (training is not what is measured here), then runs `takehold score` in a fresh
process per runner, with and without the report, and records the wall time of every stage
(from the run's manifest), the total, and the process's peak memory (max RSS).

    .venv/bin/python benchmarks/bench_nightly.py [--services 300 3000] [--folder DIR]
        [--skip-train] [--reuse] [--runs local dask report]

Targets (issue 7): 3,000 services scored end to end in under 60 s excluding the report, peak
memory under 6 GB, time growing no faster than linearly with rows. Results go to
benchmarks/results/nightly.md.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TAKEHOLD = str(ROOT / ".venv" / "bin" / "takehold")
LIGHT = """
[model]
band_refits = 4
backtest_peers = ["ga2m"]
"""


DEFAULT_AS_OF = "2026-10-31"  # the simulator's default end
RUNS = {"local": ("local", False), "dask": ("dask", False), "report": ("local", True)}


def environment(home: Path) -> dict[str, str]:
    return {**os.environ, "TAKEHOLD_HOME": str(home), "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "DO_NOT_TRACK": "true", "MLFLOW_DISABLE_TELEMETRY": "true"}


def simulate(services: int, folder: Path) -> tuple[Path, str]:
    code = (
        "import sys; from datetime import date; from pathlib import Path;"
        "from pipelines.simulator import simulate_group, write_simulation;"
        f"s = simulate_group({services}, 3, seed=1, truth_as_of=[date(2026, 10, 31)], "
        "truth_draws=10);"
        f"write_simulation(s, Path(r'{folder}'), fmt='parquet'); print(s.end)"
    )
    done = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                          text=True, cwd=ROOT)
    return folder / "export", done.stdout.strip().splitlines()[-1]


def timed(command: list[str], env: dict) -> tuple[float, float]:
    """(wall seconds, peak RSS in GB of the child) of one command."""
    start = time.perf_counter()
    done = subprocess.run(["/usr/bin/time", "-f", "%M", *command], env=env, cwd=ROOT,
                          capture_output=True, text=True)
    wall = time.perf_counter() - start
    if done.returncode:
        raise RuntimeError(f"{' '.join(command)} failed:\n{done.stdout[-3000:]}\n"
                           f"{done.stderr[-3000:]}")
    peak_kb = int(done.stderr.strip().splitlines()[-1])
    return wall, peak_kb / 1024 / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--services", type=int, nargs="+", default=[300, 3000])
    parser.add_argument("--folder", type=Path, default=None)
    parser.add_argument("--skip-train", action="store_true",
                        help="Reuse the champion already registered under FOLDER/home.")
    parser.add_argument("--reuse", action="store_true",
                        help="Reuse FOLDER/group<N>/export when it exists (simulated as of "
                             f"{DEFAULT_AS_OF}) instead of simulating again.")
    parser.add_argument("--runs", nargs="+", default=list(RUNS), choices=list(RUNS),
                        help="Which runs: local and dask without the report, local with it.")
    args = parser.parse_args()
    folder = args.folder or Path(tempfile.mkdtemp(prefix="bench-nightly-"))
    folder.mkdir(parents=True, exist_ok=True)
    home = folder / "home"
    env = environment(home)
    config = folder / "light.toml"
    config.write_text(LIGHT)
    rows = []
    for index, services in enumerate(sorted(args.services)):
        existing = folder / f"group{services}" / "export"
        if args.reuse and existing.is_dir():
            export, as_of = existing, DEFAULT_AS_OF
        else:
            export, as_of = simulate(services, folder / f"group{services}")
        if index == 0 and not args.skip_train:
            timed([TAKEHOLD, "train", str(export), "--as-of", as_of, "--config", str(config)],
                  env)
        for runner, report in (RUNS[name] for name in args.runs):
            out = folder / f"out-{services}-{runner}-{report}"
            command = [TAKEHOLD, "score", str(export), "--as-of", as_of, "--out", str(out),
                       "--config", str(config), "--runner", runner]
            if not report:
                command.append("--no-report")
            wall, peak = timed(command, env)
            manifest = json.loads((out / "manifest.json").read_text())
            rows.append({"services": services, "runner": runner, "with_report": report,
                         "checks": manifest["counts"]["checks"]["read"], "wall_s": round(wall, 1),
                         "peak_gb": round(peak, 2), **manifest["timings"]})
            print(json.dumps(rows[-1]), flush=True)
    write_results(rows, ROOT / "benchmarks" / "results" / f"nightly-{'-'.join(map(str, args.services))}.md")


def write_results(rows: list[dict], target: Path) -> None:
    stages = sorted({k for r in rows for k in r} - {"services", "runner", "with_report", "checks",
                                                     "wall_s", "peak_gb"})
    header = ["services", "checks", "runner", "with_report", "wall_s", "peak_gb", *stages]
    lines = ["# Nightly run benchmark", "",
             "Wall time of `takehold score` (a fresh process: Python start, the temporary "
             "Prefect server, every stage), its stages from the run manifest, and peak memory.",
             "", "| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    for row in rows:
        lines.append("| " + " | ".join(str(row.get(h, "")) for h in header) + " |")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text("\n".join(lines) + "\n")
    print(f"wrote {target}")


if __name__ == "__main__":
    main()
