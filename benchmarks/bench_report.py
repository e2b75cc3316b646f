"""Benchmark: the governance report for a 300-service provider group.

Writes a realistic run-output folder (tests/report_fixtures.py, the same writer the tests
use) for 300 services, builds the report once and prints the wall time, the size of
report.html and how many charts of each kind it holds. Targets (issue 8): under 30 s and
under 20 MB.

    .venv/bin/python benchmarks/bench_report.py [--services 300] [--seed 1]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from report_fixtures import write_run_outputs  # noqa: E402

from pipelines.report import build_report  # noqa: E402

TARGET_SECONDS = 30
TARGET_MEGABYTES = 20


def measure(services: int, seed: int) -> dict:
    """Build the report for a `services`-service fixture; return the measured figures."""
    with tempfile.TemporaryDirectory() as folder:
        out = write_run_outputs(Path(folder) / "out", n_services=services, seed=seed)
        started = time.perf_counter()
        report = build_report(out)
        seconds = time.perf_counter() - started
        page = report.read_text(encoding="utf-8")
        improvements = len(__import__("pandas").read_parquet(out / "scores.parquet"))
        return {
            "services": services, "improvements": improvements,
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
    arguments = parser.parse_args()
    print(json.dumps(measure(arguments.services, arguments.seed), indent=2))


if __name__ == "__main__":
    main()
