"""Running the contract's suites with Great Expectations 1.x over pandas frames.

One ephemeral context per run (nothing on disk), one suite per export file built once from
`validation.rules`, each run over the whole frame at once. Results come back in COMPLETE
form so that failing rows are named by their data row number (the frame's index, `row`);
the free-text column is never part of a batch, and the value lists GX adds to results are
read for row numbers and then dropped (`validation.result.scrub_gx_result`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import great_expectations as gx
import numpy as np
import pandas as pd
from great_expectations.core.run_identifier import RunIdentifier
from great_expectations.data_context.types.base import ProgressBarsConfig
from great_expectations.validator.v1_validator import Validator

from features.contract import ExportFile
from validation.rules import Rule

RESULT_FORMAT = {"result_format": "COMPLETE"}
PASS_FAIL_FORMAT = {"result_format": "BOOLEAN_ONLY"}
ROW = "row"


@dataclass(frozen=True)
class RuleOutcome:
    """What one rule found: the failing data rows, or that it could not be evaluated."""

    rule: Rule
    failing_rows: np.ndarray  # 1-based data row numbers, sorted, int64
    success: bool
    raised: bool


def ephemeral_context():
    """A GX context that keeps nothing on disk and draws no progress bars."""
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    return context


def build_suite(context, spec: ExportFile, rules: tuple[Rule, ...]):
    """Register one file's suite in `context`: one expectation per rule, in rule order."""
    suite = gx.ExpectationSuite(
        name=spec.name,
        expectations=[rule.expectation for rule in rules],
        meta={"notes": f"takehold evidence-export contract v1: {spec.name}"},
    )
    return context.suites.add(suite)


def run_suite(context, suite, spec: ExportFile, batch: pd.DataFrame):
    """Validate `batch` (indexed by `row`) against `suite`; GX's result, one item per rule.

    Two passes: every rule with BOOLEAN_ONLY results (about a third cheaper), then only the
    rules that failed again with COMPLETE results, which name the failing rows. GX's own
    `Validator` is called directly rather than through a `ValidationDefinition`, whose `run`
    also serialises the complete result (every unexpected value) into the context's store.
    """
    source = context.data_sources.add_or_update_pandas(f"export_{spec.name}")
    definition = source.add_dataframe_asset(spec.name).add_batch_definition_whole_dataframe(
        "whole_file")
    first = _validate(definition, batch, suite, PASS_FAIL_FORMAT)
    failed = [item.expectation_config.meta["rule"] for item in first.results
              if not item.success]
    if failed:
        again = context.suites.add(gx.ExpectationSuite(
            name=f"{spec.name}_failed_rules",
            expectations=[_unbound(e) for e in suite.expectations if e.meta["rule"] in failed]))
        detailed = {item.expectation_config.meta["rule"]: item for item in
                    _validate(definition, batch, again, RESULT_FORMAT).results}
        first.results = [detailed.get(item.expectation_config.meta["rule"], item)
                         for item in first.results]
    first.meta["run_id"] = RunIdentifier(run_name=spec.name, run_time=datetime.now(UTC))
    # The data source's execution engine caches the batch (the whole file, derived columns
    # included) and GX keeps its last context alive: at 10M checks that held 1.8 GB until
    # the process ended. Results do not need it.
    context.data_sources.delete(source.name)
    return first


def _validate(definition, batch: pd.DataFrame, suite, result_format: dict):
    validator = Validator(batch_definition=definition, batch_parameters={"dataframe": batch},
                          result_format=result_format)
    return validator.validate_expectation_suite(suite)


def _unbound(expectation):
    """A copy of an expectation that can join another suite."""
    fields = expectation.dict(exclude={"id", "rendered_content"})
    return expectation.__class__(**fields)


def rule_outcomes(result, rules: tuple[Rule, ...]) -> list[RuleOutcome]:
    """Match GX's results (which come back in its own order) to our rules by their key."""
    by_key = {rule.key: rule for rule in rules}
    outcomes = []
    for item in result.results:
        rule = by_key[item.expectation_config.meta["rule"]]
        raised = gx_raised(item.exception_info)
        outcomes.append(RuleOutcome(rule=rule, failing_rows=_failing_rows(item),
                                    success=bool(item.success), raised=raised))
    order = {rule.key: position for position, rule in enumerate(rules)}
    return sorted(outcomes, key=lambda o: order[o.rule.key])


def _failing_rows(item) -> np.ndarray:
    listed = (item.result or {}).get("unexpected_index_list") or []
    rows = [entry[ROW] if isinstance(entry, dict) else entry for entry in listed]
    return np.unique(np.asarray(rows, dtype="int64"))


def gx_raised(exception_info: dict | None) -> bool:
    """Whether GX could not evaluate an expectation.

    GX reports a crash either at the top level or per metric (a dict keyed by metric ID), and
    a crashed expectation otherwise looks like a plain failure with no failing rows.
    """
    info = exception_info or {}
    if info.get("raised_exception"):
        return True
    return any(isinstance(v, dict) and v.get("raised_exception") for v in info.values())
