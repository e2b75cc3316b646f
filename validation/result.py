"""What a validation run found: findings, usable tables, quarantine and reconciled counts.

Nothing here holds a value from a free-text column: findings carry row numbers and counts,
quarantine frames leave free text out, and the GX results kept here have had every list of
unexpected values removed (`scrub_gx_result`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Literal

import pandas as pd

from contracts.files import HandedTables

Severity = Literal["blocking", "row", "warning"]
BLOCKING: Severity = "blocking"
ROW_LEVEL: Severity = "row"
WARNING: Severity = "warning"  # said, and nothing set aside: the run uses the rows as the rule says

# What Data Docs show for a rule GX could not evaluate (its own message may quote a value).
NOT_EVALUATED = "not evaluated: a column or file this rule needs is missing or unreadable"

# Keys of a GX result that list values or rows of the data; dropped from every kept result.
GX_VALUE_KEYS = (
    "unexpected_list",
    "partial_unexpected_list",
    "unexpected_index_list",
    "partial_unexpected_index_list",
    "partial_unexpected_counts",
    "unexpected_index_query",
    "unexpected_rows",
    "details",
)


@dataclass(frozen=True)
class Finding:
    """One failed rule: where, what, how often, and the first failing data rows (1-based)."""

    file: str
    columns: tuple[str, ...]
    rule: str
    severity: Severity
    failing_rows: int
    sample_rows: tuple[int, ...]
    rule_key: str
    why: str = ""

    def to_dict(self) -> dict:
        return {
            "file": self.file,
            "columns": list(self.columns),
            "rule": self.rule,
            "severity": self.severity,
            "failing_rows": self.failing_rows,
            "sample_rows": list(self.sample_rows),
            "rule_key": self.rule_key,
            "why": self.why,
        }

    def summary_line(self) -> str:
        rows = ""
        if self.failing_rows:
            shown = ", ".join(str(r) for r in self.sample_rows)
            more = ", ..." if self.failing_rows > len(self.sample_rows) else ""
            rows = f": {self.failing_rows} row(s) (rows {shown}{more})"
        columns = f" [{', '.join(self.columns)}]" if self.columns else ""
        return f"{self.severity.upper():8} {self.file}{columns} {self.rule}{rows}"


@dataclass
class ValidationResult:
    """The outcome of validating one export as of one date.

    `tables` holds the usable rows of each present file (indexed by data row number, free
    text removed); `quarantine` the rows left out, with `row` and `reason`; `counts` says, per
    file, where every row read went: read == used + set_aside + quarantined. When `blocked`
    the tables must not be used; they and the counts still say what the run would have done.
    """

    blocked: bool
    source: str
    as_of: date
    today: date
    findings: list[Finding]
    tables: dict[str, pd.DataFrame]
    quarantine: dict[str, pd.DataFrame]
    counts: dict[str, dict[str, int]]
    absent_files: tuple[str, ...] = ()
    ignored_columns: dict[str, tuple[str, ...]] = field(default_factory=dict)
    missing_optional_columns: dict[str, tuple[str, ...]] = field(default_factory=dict)
    normalised_cells: dict[str, dict[str, int]] = field(default_factory=dict)
    suites: dict = field(default_factory=dict)  # file -> gx ExpectationSuite
    gx_results: dict = field(default_factory=dict)  # file -> scrubbed suite validation result
    rules_not_evaluated: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def hand_over(self) -> HandedTables:
        """The usable tables, handed to the next stage; this result keeps its counts and
        findings but no longer holds the rows."""
        handed, self.tables = HandedTables(self.tables), {}
        return handed

    @property
    def blocking_findings(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == BLOCKING]

    @property
    def quarantined_rows(self) -> int:
        return sum(c["quarantined"] for c in self.counts.values())

    def to_dict(self) -> dict:
        """The machine-readable summary written as validation.json."""
        return {
            "status": "blocked" if self.blocked else "usable",
            "blocked": self.blocked,
            "source": self.source,
            "as_of": self.as_of.isoformat(),
            "run_date": self.today.isoformat(),
            "counts": self.counts,
            "findings": [f.to_dict() for f in self.findings],
            "absent_files": list(self.absent_files),
            "ignored_columns": {k: list(v) for k, v in self.ignored_columns.items()},
            "missing_optional_columns": {
                k: list(v) for k, v in self.missing_optional_columns.items()
            },
            "normalised_cells": self.normalised_cells,
            "rules_not_evaluated": {k: list(v) for k, v in self.rules_not_evaluated.items()},
            "rules_checked": {name: len(suite.expectations) for name, suite in self.suites.items()},
        }

    def summary_lines(self) -> list[str]:
        """The run's outcome for people: status, every failed rule, and where the rows went."""
        status = "BLOCKED: the export cannot be used as a whole" if self.blocked else "usable"
        lines = [f"Validation of {self.source} as of {self.as_of.isoformat()}: {status}"]
        lines += ["  " + f.summary_line() for f in self.findings]
        for name, count in self.counts.items():
            lines.append(
                f"  {name}: read {count['read']}, used {count['used']}, set aside (after "
                f"as-of) {count['set_aside']}, quarantined {count['quarantined']}"
            )
        if self.absent_files:
            lines.append(f"  absent optional files: {', '.join(self.absent_files)}")
        for name, keys in self.rules_not_evaluated.items():
            lines.append(
                f"  {name}: not evaluated (a column or file they need is missing): "
                f"{', '.join(keys)}"
            )
        for name, columns in self.ignored_columns.items():
            lines.append(f"  {name}: ignored extra column(s) {', '.join(columns)}")
        for name, cells in self.normalised_cells.items():
            shown = ", ".join(f"{column} {count}" for column, count in cells.items())
            lines.append(f"  {name}: cells normalised (spacing, case, team spellings): {shown}")
        for name, columns in self.missing_optional_columns.items():
            lines.append(
                f"  {name}: optional column(s) absent, read as not recorded: {', '.join(columns)}"
            )
        return lines


def scrub_gx_result(result):
    """A copy of a GX suite validation result without any value or row of the data."""
    scrubbed = result.__class__(
        success=result.success,
        results=[_scrubbed_expectation_result(r) for r in result.results],
        suite_name=result.suite_name,
        suite_parameters=result.suite_parameters,
        statistics=result.statistics,
        meta=result.meta,
        batch_id=result.batch_id,
    )
    return scrubbed


def _scrubbed_expectation_result(result):
    kept = {k: v for k, v in (result.result or {}).items() if k not in GX_VALUE_KEYS}
    from validation.engine import gx_raised

    raised = gx_raised(result.exception_info)
    return result.__class__(
        success=result.success,
        expectation_config=result.expectation_config,
        result=kept,
        meta=result.meta,
        # An exception message may quote a value; keep only that one was raised, in words
        # the Data Docs renderer can show (it cannot render a missing message).
        exception_info={
            "raised_exception": raised,
            "exception_message": NOT_EVALUATED if raised else None,
            "exception_traceback": "" if raised else None,
        },
    )
