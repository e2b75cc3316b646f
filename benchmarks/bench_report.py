"""Benchmark: the governance report for a 300-service provider group.

Builds the report once and prints the wall time, the size of report.html and how many
charts of each kind it holds. Targets (issue 8): under 30 s and under 20 MB.

The input is either a real run's output folder (`--run OUT`, e.g. from
`takehold score` on a 300-service simulation; it is copied first, OUT is not touched) or
a synthetic one written by tests/report_fixtures.py for `--services` services.

`--history N` gives the report N earlier runs (tests/report_fixtures.run_history: the last run
of each of 12 months and nightly runs after them, with a quarter comparison and its movement
reasons), so the trends, the comparison and the sign-offs are in the page. A nightly run's
default trend window (12 month ends and the last 14 days) holds at most 26 earlier runs.

    .venv/bin/python benchmarks/bench_report.py [--run OUT | --services 300 --seed 1]
        [--workers N] [--history 26]
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from report_fixtures import write_run_outputs  # noqa: E402

from report import build_report  # noqa: E402

TARGET_SECONDS = 30
TARGET_MEGABYTES = 20


def history_days(count: int) -> tuple[str, ...]:
    """`count` earlier as-of dates before 2026-10-31: month ends, then the last nights."""
    if count <= 0:
        return ()
    import pandas as pd

    nights = min(count, 14)
    months = (
        pd.date_range(end="2026-09-30", periods=count - nights, freq="ME") if count > nights else []
    )
    recent = pd.date_range(end="2026-10-30", periods=nights, freq="D")
    return tuple(f"{d:%Y-%m-%d}" for d in [*months, *recent])


def measure(
    services: int,
    seed: int,
    run: Path | None = None,
    workers: int | None = None,
    history: int = 0,
) -> dict:
    """Build the report for a run folder or a `services`-service fixture; the figures."""
    with tempfile.TemporaryDirectory() as folder:
        if run is not None:
            out = Path(folder) / "out"
            shutil.copytree(
                run.resolve() / "current" if (run / "current").is_dir() else run,
                out,
                ignore=shutil.ignore_patterns("report.html", "tables"),
            )
        else:
            out = write_run_outputs(Path(folder) / "out", n_services=services, seed=seed)
        earlier = None
        if history:
            from report_fixtures import run_history

            earlier = run_history(out, seed=seed, hostile=False, days=history_days(history))
        started = time.perf_counter()
        report = build_report(out, workers=workers, history=earlier)
        seconds = time.perf_counter() - started
        page = report.read_text(encoding="utf-8")
        improvements = len(__import__("pandas").read_parquet(out / "scores.parquet"))
        return {
            "input": str(run) if run else "fixture",
            "services": len(__import__("pandas").read_csv(out / "services.csv")),
            "improvements": improvements,
            "workers": workers or "auto",
            "earlier_runs": history,
            "build_seconds": round(seconds, 2),
            "report_megabytes": round(report.stat().st_size / 1e6, 2),
            "spc_charts": page.count('aria-label="SPC chart of improvement'),
            "factor_charts": page.count('aria-label="Top factors for improvement'),
            "sparklines": page.count('aria-label="Monthly compliance of improvement'),
            "trends": page.count('aria-label="Probability of holding of'),
            "csv_tables": len(list((report.parent / "tables").glob("*.csv"))),
            "within_targets": seconds < TARGET_SECONDS
            and report.stat().st_size < TARGET_MEGABYTES * 1e6,
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--services", type=int, default=300)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--run", type=Path, help="A real run's OUT folder to build from.")
    parser.add_argument("--workers", type=int, help="Chart processes (default: auto).")
    parser.add_argument("--history", type=int, default=0, help="Earlier runs given (0: none).")
    arguments = parser.parse_args()
    figures = measure(
        arguments.services, arguments.seed, arguments.run, arguments.workers, arguments.history
    )
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
