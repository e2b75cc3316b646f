"""Benchmark: the nightly scoring run end to end, local and Dask runners.

For each group size it simulates a provider group (Parquet), trains a light model once on the
smallest group (training is not what is measured here), then runs `takehold score` in a fresh
process per runner, with and without the report, and records the wall time of every stage
(from the run's manifest), the total, and the process's peak memory (max RSS).

    .venv/bin/python benchmarks/bench_nightly.py [--services 300 3000] [--folder DIR]
        [--skip-train] [--reuse] [--runs local dask report] [--prefect-server]

Without `--prefect-server` each `takehold score` starts Prefect's temporary server (the
embedded default, about 20-25 s of the wall time here); with it, the runs report to a Prefect
server started once on loopback (SQLite under FOLDER), as a nightly deployment does.

Targets (issue 7): 3,000 services scored end to end in under 60 s excluding the report, peak
memory under 6 GB, time growing no faster than linearly with rows. Raw tables go to
benchmarks/results/nightly-<sizes>[-server].md; benchmarks/results/nightly.md is the
summary with the history and the analysis.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
import servers  # noqa: E402  (the test suite's server harness: start, health, stop)

TAKEHOLD = str(ROOT / ".venv" / "bin" / "takehold")
LIGHT = """
[model]
band_refits = 4
backtest_peers = ["ga2m"]
"""


DEFAULT_AS_OF = "2026-10-31"  # the simulator's default end
RUNS = {"local": ("local", False), "dask": ("dask", False), "report": ("local", True)}


def environment(home: Path) -> dict[str, str]:
    return {
        **os.environ,
        "TAKEHOLD_HOME": str(home),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "DO_NOT_TRACK": "true",
        "MLFLOW_DISABLE_TELEMETRY": "true",
    }


def simulate(services: int, folder: Path) -> tuple[Path, str]:
    code = (
        "import sys; from datetime import date; from pathlib import Path;"
        "from simulator import simulate_group, write_simulation;"
        f"s = simulate_group({services}, 3, seed=1, truth_as_of=[date(2026, 10, 31)], "
        "truth_draws=10);"
        f"write_simulation(s, Path(r'{folder}'), fmt='parquet'); print(s.end)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True, cwd=ROOT
    )
    return folder / "export", done.stdout.strip().splitlines()[-1]


@contextlib.contextmanager
def prefect_server(folder: Path, env: dict):
    """A Prefect server on a free loopback port for the duration (SQLite under FOLDER), started
    and stopped with the test suite's server harness; yields its API URL."""
    port = servers.free_port()
    log_file = folder / "prefect-server.log"
    process = servers.start_server(
        [
            servers.venv_command("prefect"),
            "server",
            "start",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        {**env, "PREFECT_HOME": str(folder / "prefect-server")},
        log_file,
    )
    try:
        url = f"http://127.0.0.1:{port}/api"
        servers.wait_until_healthy("Prefect server", f"{url}/health", process, log_file)
        yield url
    finally:
        servers.stop_process_group(process)


def timed(command: list[str], env: dict) -> tuple[float, float, float]:
    """(wall seconds, peak RSS in GB of the child, peak growth in GB of the machine's used
    memory) of one command. The second misses Dask's worker processes; the third counts
    every process (and anything else running on the machine)."""
    baseline, peak_used = used_memory_gb(), [0.0]
    stop = threading.Event()

    def sample():
        while not stop.wait(0.25):
            peak_used[0] = max(peak_used[0], used_memory_gb())

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    start = time.perf_counter()
    done = subprocess.run(
        ["/usr/bin/time", "-f", "%M", *command], env=env, cwd=ROOT, capture_output=True, text=True
    )
    wall = time.perf_counter() - start
    stop.set()
    sampler.join()
    if done.returncode:
        raise RuntimeError(
            f"{' '.join(command)} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
        )
    peak_kb = int(done.stderr.strip().splitlines()[-1])
    return wall, peak_kb / 1024 / 1024, max(peak_used[0] - baseline, 0.0)


def used_memory_gb() -> float:
    """MemTotal - MemAvailable, in GB."""
    fields = dict(line.split(":", 1) for line in Path("/proc/meminfo").read_text().splitlines())
    kb = int(fields["MemTotal"].split()[0]) - int(fields["MemAvailable"].split()[0])
    return kb / 1024 / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--services", type=int, nargs="+", default=[300, 3000])
    parser.add_argument("--folder", type=Path, default=None)
    parser.add_argument(
        "--skip-train",
        action="store_true",
        help="Reuse the champion already registered under FOLDER/home.",
    )
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="Reuse FOLDER/group<N>/export when it exists (simulated as of "
        f"{DEFAULT_AS_OF}) instead of simulating again.",
    )
    parser.add_argument(
        "--runs",
        nargs="+",
        default=list(RUNS),
        choices=list(RUNS),
        help="Which runs: local and dask without the report, local with it.",
    )
    parser.add_argument(
        "--prefect-server",
        action="store_true",
        help="Report to one Prefect server started on loopback instead of a "
        "temporary server per run.",
    )
    args = parser.parse_args()
    folder = args.folder or Path(tempfile.mkdtemp(prefix="bench-nightly-"))
    folder.mkdir(parents=True, exist_ok=True)
    home = folder / "home"
    env = environment(home)
    config = folder / "light.toml"
    config.write_text(LIGHT)
    with contextlib.ExitStack() as stack:
        if args.prefect_server:
            env = {**env, "PREFECT_API_URL": stack.enter_context(prefect_server(folder, env))}
        rows = run_all(args, folder, env, config)
    suffix = "-server" if args.prefect_server else ""
    write_results(
        rows,
        ROOT / "benchmarks" / "results" / f"nightly-{'-'.join(map(str, args.services))}{suffix}.md",
    )


def run_all(args, folder: Path, env: dict, config: Path) -> list[dict]:
    rows = []
    for index, services in enumerate(sorted(args.services)):
        existing = folder / f"group{services}" / "export"
        if args.reuse and existing.is_dir():
            export, as_of = existing, DEFAULT_AS_OF
        else:
            export, as_of = simulate(services, folder / f"group{services}")
        if index == 0 and not args.skip_train:
            timed([TAKEHOLD, "train", str(export), "--as-of", as_of, "--config", str(config)], env)
        for runner, report in (RUNS[name] for name in args.runs):
            out = folder / f"out-{services}-{runner}-{report}"
            command = [
                TAKEHOLD,
                "score",
                str(export),
                "--as-of",
                as_of,
                "--out",
                str(out),
                "--config",
                str(config),
                "--runner",
                runner,
            ]
            if not report:
                command.append("--no-report")
            wall, peak, machine = timed(command, env)
            manifest = json.loads((out / "manifest.json").read_text())
            rows.append(
                {
                    "services": services,
                    "runner": runner,
                    "with_report": report,
                    "checks": manifest["counts"]["checks"]["read"],
                    "wall_s": round(wall, 1),
                    "stages_s": round(sum(manifest["timings"].values()), 1),
                    "peak_gb": round(peak, 2),
                    "machine_peak_gb": round(machine, 2),
                    "export read (ahead)": manifest["export_read"]["seconds"],
                    **manifest["timings"],
                }
            )
            print(json.dumps(rows[-1]), flush=True)
    return rows


def write_results(rows: list[dict], target: Path) -> None:
    fixed = [
        "services",
        "checks",
        "runner",
        "with_report",
        "wall_s",
        "stages_s",
        "peak_gb",
        "machine_peak_gb",
    ]
    stages = sorted({k for r in rows for k in r} - set(fixed))
    header = [*fixed, *stages]
    lines = [
        "# Nightly run benchmark",
        "",
        "wall_s: `takehold score` in a fresh process (Python start, the Prefect server "
        "or client start, every stage); stages_s: the sum of its stages from the run "
        "manifest; peak_gb: the process's max RSS; machine_peak_gb: the machine's used "
        "memory at its highest during the run, less before (Dask workers included); "
        "export read (ahead): reading and typing the files, begun as the command starts "
        "on the local runner, so 'pull export' is only what the flow still waited.",
        "",
        "| " + " | ".join(header) + " |",
        "|" + " --- |" * len(header),
    ]
    for row in rows:
        lines.append("| " + " | ".join(str(row.get(h, "")) for h in header) + " |")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text("\n".join(lines) + "\n")
    print(f"wrote {target}")


if __name__ == "__main__":
    main()
