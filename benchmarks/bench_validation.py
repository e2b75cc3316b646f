"""Benchmark: validating exports with 1 million and 10 million check rows.

For each size, a synthetic CSV export (the three required files; 2,000 services, one
improvement per 200 checks, 0.1% of checks with met > sampled so quarantine has work) is
written once, then two cases run, each in its own process so its peak memory (max RSS) is
its own:

- read: `pipelines.io.read_export` (parse and type every file);
- validate: read, then `validation.validate_export` (GX suites + quarantine), timed apart,
  with the time inside GX's `validate_expectation_suite` measured separately.

Target (issue 3): validating 10 million check rows costs no more than reading them plus
3 times that again (validate time <= 3 x read time).

    .venv/bin/python benchmarks/bench_validation.py [--checks 1000000 10000000] [--folder DIR]
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

import pyarrow as pa
import pyarrow.csv as pacsv

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from simulator.stress import stress_export  # noqa: E402

AS_OF = date(2026, 10, 31)
TODAY = date(2026, 11, 26)
SERVICES = 2_000
INVALID_SHARE = 0.001


def write_synthetic_export(folder: Path, checks: int, seed: int = 1) -> None:
    """The three required files of a stress export as CSV, valid but for INVALID_SHARE of
    the checks (met > sampled)."""
    frames = stress_export(checks, seed, services=SERVICES, invalid_share=INVALID_SHARE)
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("services", "improvements", "checks"):
        frame = frames[name]
        dates = frame.select_dtypes("datetime").columns
        columns = {c: frame[c].dt.strftime("%Y-%m-%d") if c in dates else frame[c] for c in frame}
        _write(folder / f"{name}.csv", columns)


def _write(path: Path, columns: dict) -> None:
    table = pa.table({name: pa.array(values, from_pandas=True) for name, values in columns.items()})
    pacsv.write_csv(table, path)


def run_case(case: str, folder: str) -> dict:
    """One case in this process; returns seconds and peak memory (MiB)."""
    import great_expectations  # noqa: F401 - imported before timing: 2-6 s, once per process

    from pipelines.io import read_export
    from validation import engine, validate_export

    started = time.perf_counter()
    export = read_export(folder, collect_errors=True)
    read_seconds = time.perf_counter() - started
    timings = {
        "read_seconds": read_seconds,
        "read_peak_mib": _peak_mib(),
        "rss_after_read_mib": _status_mib("VmRSS"),
    }
    if case == "validate":
        _reset_peak()  # from here on the peak is validation's own
        inside_gx = []
        original = engine.Validator.validate_expectation_suite

        def timed(self, *args, **kwargs):
            began = time.perf_counter()
            try:
                return original(self, *args, **kwargs)
            finally:
                inside_gx.append(time.perf_counter() - began)

        engine.Validator.validate_expectation_suite = timed
        began = time.perf_counter()
        result = validate_export(export, AS_OF, today=TODAY)
        timings["validate_seconds"] = time.perf_counter() - began
        timings["inside_gx_seconds"] = sum(inside_gx)
        timings["quarantined"] = result.counts["checks"]["quarantined"]
        timings["blocked"] = result.blocked
        timings["validate_peak_mib"] = _status_mib("VmHWM")
    return timings


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _status_mib(field: str) -> float:
    """A memory figure of this process from /proc/self/status (Linux), in MiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _reset_peak() -> None:
    # Writing 5 to clear_refs resets the peak resident set size (VmHWM) on Linux.
    Path("/proc/self/clear_refs").write_text("5")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checks", type=int, nargs="+", default=[1_000_000, 10_000_000])
    parser.add_argument("--folder", type=Path, default=None)
    parser.add_argument("--case", choices=["read", "validate"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.case:
        print(json.dumps(run_case(args.case, str(args.folder))))
        return
    base = args.folder or Path(tempfile.mkdtemp(prefix="takehold-bench-validation-"))
    results = []
    for checks in args.checks:
        folder = base / f"checks_{checks}"
        if not (folder / "checks.csv").exists():
            write_synthetic_export(folder, checks)
        row = {"checks": checks}
        for case in ("read", "validate"):
            out = subprocess.run(
                [sys.executable, __file__, "--case", case, "--folder", str(folder)],
                check=True,
                capture_output=True,
                text=True,
            )
            measured = json.loads(out.stdout.strip().splitlines()[-1])
            row.update({f"{case}_{k}": v for k, v in measured.items()})
        row["validate_over_read"] = row["validate_validate_seconds"] / row["read_read_seconds"]
        results.append(row)
        print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
