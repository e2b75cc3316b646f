"""Benchmark: the governance report for a 300-service provider group.

Builds the report once and prints the wall time, the size of report.html and how many
charts of each kind it holds. Targets (issue 8): under 30 s and under 20 MB.

The input is either a real run's output folder (`--run OUT`, e.g. from
`takehold score` on a 300-service simulation; it is copied first, OUT is not touched) or
a synthetic one written by tests/report_fixtures.py for `--services` services.

    .venv/bin/python benchmarks/bench_report.py [--run OUT | --services 300 --seed 1]
        [--workers N]
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


def measure(services: int, seed: int, run: Path | None = None, workers: int | None = None) -> dict:
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
        started = time.perf_counter()
        report = build_report(out, workers=workers)
        seconds = time.perf_counter() - started
        page = report.read_text(encoding="utf-8")
        improvements = len(__import__("pandas").read_parquet(out / "scores.parquet"))
        return {
            "input": str(run) if run else "fixture",
            "services": len(__import__("pandas").read_csv(out / "services.csv")),
            "improvements": improvements,
            "workers": workers or "auto",
            "build_seconds": round(seconds, 2),
            "report_megabytes": round(report.stat().st_size / 1e6, 2),
            "spc_charts": page.count('aria-label="SPC chart of improvement'),
            "factor_charts": page.count('aria-label="Top factors for improvement'),
            "sparklines": page.count('aria-label="Monthly compliance of improvement'),
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
    arguments = parser.parse_args()
    print(
        json.dumps(
            measure(arguments.services, arguments.seed, arguments.run, arguments.workers), indent=2
        )
    )


if __name__ == "__main__":
    main()
