"""Running the contract's suites with Great Expectations 1.x over pandas frames.

One ephemeral context per run (nothing on disk), one suite per export file built once from
`validation.rules`. Results come back in COMPLETE form so that failing rows are named by
their data row number (the frame's index, `row`); the free-text column is never part of a
batch, and the value lists GX adds to results are read for row numbers and then dropped
(`validation.result.scrub_gx_result`).

**Compact batches.** A rule about one value of one column (present, type, required,
vocabulary, range, ID form, date bounds, reference) gives the same verdict for every row that
holds the same value, and a rule about a pair of columns the same verdict for every row that
holds the same pair. GX therefore judges each file in up to three frames (`plan_parts`):

- *values*: each column's distinct values (missing as one of them), the columns side by side
  and the shorter ones padded by repeating their last distinct value; types are kept, so the
  type and presence rules judge the same columns;
- *pairs*: the distinct combinations of the columns that pair rules compare;
- *rows*: every row, for the rules that are about rows rather than values (uniqueness, a rule
  with a row condition), with only the columns those rules read.

A failing position maps back to every data row that holds its value (or pair), and the counts
GX reports for a failing rule are restated over the data rows (`_restate_counts`), so the
findings, quarantine and Data Docs are what a row-by-row run gives (tested) at a fraction of
the cost: at 10.9M checks GX would otherwise fingerprint and scan the whole frame per rule.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

import great_expectations as gx
import great_expectations.expectations as gxe
import numpy as np
import pandas as pd
from great_expectations.core.run_identifier import RunIdentifier
from great_expectations.data_context.types.base import ProgressBarsConfig
from great_expectations.validator.v1_validator import Validator

from contracts.export import ExportFile
from validation.rules import Rule

RESULT_FORMAT = {"result_format": "COMPLETE"}
PASS_FAIL_FORMAT = {"result_format": "BOOLEAN_ONLY"}
ROW = "row"
# Rules about rows, not values: each row must be judged as itself.
ROW_RULES = (gxe.ExpectColumnValuesToBeUnique, gxe.ExpectCompoundColumnsToBeUnique)
# Rules about a column's presence and type, not its values.
DTYPE_RULES = (gxe.ExpectColumnToExist, gxe.ExpectColumnValuesToBeOfType)
# Rules whose verdict only needs which values are equal and which are missing.
EQUALITY_RULES = (*ROW_RULES, gxe.ExpectColumnValuesToNotBeNull)


@dataclass(frozen=True)
class RuleOutcome:
    """What one rule found: the failing data rows, or that it could not be evaluated."""

    rule: Rule
    failing_rows: np.ndarray  # 1-based data row numbers, sorted, int64
    success: bool
    raised: bool


@dataclass(frozen=True)
class Part:
    """One frame GX judges for a file and the map from its positions back to data rows.

    `codes` maps each judged column to one code per data row; the frame's position `p`
    stands for code `p` (missing has the column's last code; positions past it, padding,
    repeat it). Pair columns share one code, their combination's. `codes is None` means the
    frame is the data rows themselves.
    """

    name: str
    frame: pd.DataFrame
    rule_keys: tuple[str, ...]
    codes: dict[str, np.ndarray] | None


@dataclass(frozen=True)
class SuiteRun:
    """GX's result for a file's suite (one item per rule) and every rule's failing rows."""

    result: object
    failing_rows: dict[str, np.ndarray]


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


def run_suite(
    context, suite, spec: ExportFile, batch: pd.DataFrame, *, compact: bool = True
) -> SuiteRun:
    """Validate `batch` (indexed by `row`) against `suite`, part by part (see the module);
    `compact=False` judges every rule row by row (the reference the compact run is tested
    against).

    In each part, two passes: every rule with BOOLEAN_ONLY results (about a third cheaper),
    then only the rules that failed again with COMPLETE results, which name the failing
    positions. GX's own `Validator` is called directly rather than through a
    `ValidationDefinition`, whose `run` also serialises the complete result into the store.
    """
    source = context.data_sources.add_or_update_pandas(f"export_{spec.name}")
    items, failing, first = {}, {}, None
    for part in plan_parts(batch, suite, compact=compact):
        definition = source.add_dataframe_asset(
            f"{spec.name}_{part.name}"
        ).add_batch_definition_whole_dataframe("whole_file")
        expectations = [e for e in suite.expectations if e.meta["rule"] in part.rule_keys]
        run = _validate(
            definition,
            part.frame,
            _suite(context, f"{spec.name}_{part.name}", expectations),
            PASS_FAIL_FORMAT,
        )
        first = first or run
        found = _items_by_rule(run)
        failed = [e for e in expectations if not found[e.meta["rule"]].success]
        if failed:
            found |= _items_by_rule(
                _validate(
                    definition,
                    part.frame,
                    _suite(context, f"{spec.name}_{part.name}_failed", failed),
                    RESULT_FORMAT,
                )
            )
        failed_keys = {e.meta["rule"] for e in failed}
        for expectation in expectations:
            key = expectation.meta["rule"]
            item = found[key]
            rows = _data_rows(part, expectation, _positions(item), batch.index)
            if part.codes is not None and key in failed_keys and item.result:
                _restate_counts(item, expectation, batch, len(rows))
            items[key], failing[key] = item, rows
    # The data source's execution engine caches each batch and GX keeps its last context
    # alive: at 10M checks that held 1.8 GB until the process ended. Results do not need it.
    context.data_sources.delete(source.name)
    result = _merged(first, [items[e.meta["rule"]] for e in suite.expectations], spec)
    return SuiteRun(result=result, failing_rows=failing)


def plan_parts(batch: pd.DataFrame, suite, *, compact: bool = True) -> list[Part]:
    """Split the suite's rules over the values, pairs and rows frames (see the module)."""
    unique_columns = {
        e.column for e in suite.expectations if isinstance(e, gxe.ExpectColumnValuesToBeUnique)
    }
    by_part: dict[str, list] = {"values": [], "pairs": [], "rows": []}
    for expectation in suite.expectations:
        columns = read_columns(expectation, batch.columns)
        if not compact:
            by_part["rows"].append(expectation)
        elif isinstance(expectation, DTYPE_RULES):
            by_part["values"].append(expectation)
        elif (
            isinstance(expectation, ROW_RULES)
            or getattr(expectation, "row_condition", None)
            or set(columns) & unique_columns
        ):
            by_part["rows"].append(expectation)
        elif len(columns) > 1:
            by_part["pairs"].append(expectation)
        else:
            by_part["values"].append(expectation)
    parts = []
    for name, expectations in by_part.items():
        if not expectations:
            continue
        keys = tuple(e.meta["rule"] for e in expectations)
        if name == "rows":
            parts.append(_all_rows(batch, expectations, keys, coded=compact))
        elif name == "pairs":
            parts.append(_distinct_rows(batch[_columns_of(expectations, batch)], keys))
        else:
            parts.append(_distinct_values(batch, expectations, keys))
    return parts


def _columns_of(expectations, batch: pd.DataFrame) -> list[str]:
    return list(dict.fromkeys(c for e in expectations for c in read_columns(e, batch.columns)))


def read_columns(expectation, present) -> tuple[str, ...]:
    """The batch columns an expectation reads (its row condition's included)."""
    names = [
        getattr(expectation, "column", None),
        getattr(expectation, "column_A", None),
        getattr(expectation, "column_B", None),
        *(getattr(expectation, "column_list", None) or []),
    ]
    condition = getattr(expectation, "row_condition", None) or ""
    names += re.findall(r"[A-Za-z_][A-Za-z0-9_]*", str(condition))
    return tuple(dict.fromkeys(n for n in names if n and n in present))


def _all_rows(batch: pd.DataFrame, expectations, keys: tuple[str, ...], *, coded: bool) -> Part:
    """Every data row, with the columns the rules read.

    When `coded`, a column that only equality and missingness rules read (uniqueness, not
    empty) is replaced by its factorize codes (missing stays missing): the same verdicts,
    without GX hashing and comparing millions of strings.
    """
    columns = _columns_of(expectations, batch)
    frame = batch[columns]
    if coded:
        readers = {
            c: [e for e in expectations if c in read_columns(e, batch.columns)] for c in columns
        }
        for column, by in readers.items():
            if all(
                isinstance(e, EQUALITY_RULES) and not getattr(e, "row_condition", None) for e in by
            ):
                frame = frame.assign(**{column: _equality_codes(frame[column])})
    return Part("rows", frame, keys, None)


def _equality_codes(values: pd.Series) -> np.ndarray:
    """Factorize codes as float, missing as NaN. A column whose values are all distinct (a
    key, as in a clean export) is numbered in order without hashing it twice: checking
    uniqueness costs about half of factorizing 10M ID strings."""
    present = values.notna().to_numpy()
    known = values if present.all() else values[present]
    if pd.Index(known.array).is_unique:
        return np.where(present, np.cumsum(present) - 1, np.nan)
    code = pd.factorize(values, use_na_sentinel=True)[0].astype("float64")
    code[code < 0] = np.nan
    return code


def _distinct_values(batch: pd.DataFrame, expectations, keys: tuple[str, ...]) -> Part:
    """Each column's distinct values side by side, shorter columns padded with their last.

    A column read only by the presence and type rules is not factorized: its first rows
    stand in for it (those rules judge the column's type, which needs at least one row).
    """
    judged = _columns_of([e for e in expectations if not isinstance(e, DTYPE_RULES)], batch)
    codes, picks = {}, {}
    for column in judged:
        code, uniques = pd.factorize(batch[column], use_na_sentinel=True)
        missing = np.flatnonzero(code < 0)[:1]
        picks[column] = np.concatenate([_first_rows(code), missing])
        code = code.astype("int32")  # half the memory; a column has far fewer values
        code[code < 0] = len(uniques)  # missing sits after the values
        codes[column] = code
    length = max([len(p) for p in picks.values()] + [min(len(batch), 1)])
    for column in _columns_of(expectations, batch):
        picks.setdefault(column, np.arange(min(len(batch), length)))
    columns = {}
    for column, pick in picks.items():
        padded = pick[np.minimum(np.arange(length), len(pick) - 1)] if len(pick) else pick
        columns[column] = batch[column].iloc[padded].reset_index(drop=True)
    compact = pd.DataFrame(columns, index=pd.RangeIndex(length, name=ROW))
    return Part("values", compact, keys, codes)


def _first_rows(code: np.ndarray) -> np.ndarray:
    """The first data position holding each code 0, 1, ... (missing, -1, has none).

    Factorize numbers codes in order of first appearance, so code k first appears where the
    running maximum of the codes steps up to k (missing, -1, never steps it up).
    """
    if not len(code):
        return np.array([], dtype="int64")
    running = np.maximum.accumulate(code)
    steps = np.empty(len(code), dtype=bool)
    steps[0] = running[0] >= 0
    np.greater(running[1:], running[:-1], out=steps[1:])
    return np.flatnonzero(steps)


def _distinct_rows(frame: pd.DataFrame, keys: tuple[str, ...]) -> Part:
    """The distinct combinations of `frame`'s columns (missing values included)."""
    code = (
        frame.groupby(list(frame.columns), dropna=False, sort=False)
        .ngroup()
        .to_numpy(dtype="int64")
    )
    compact = frame.iloc[_first_rows(code)].reset_index(drop=True).rename_axis(ROW)
    return Part("pairs", compact, keys, {column: code for column in frame.columns})


def _data_rows(part: Part, expectation, positions: np.ndarray, index: pd.Index) -> np.ndarray:
    """The data rows behind the failing `positions` of `part`'s frame."""
    if part.codes is None or not len(positions):
        return positions
    columns = read_columns(expectation, part.frame.columns)
    if not columns or columns[0] not in part.codes:
        return positions[:0]  # a presence or type rule judges the column, not rows
    code = part.codes[columns[0]]
    top = int(code.max())  # positions past the column's last code repeat it (padding)
    failing = np.zeros(top + 1, dtype=bool)
    failing[np.minimum(positions, top)] = True
    return index.to_numpy(dtype="int64")[failing[code]]


def _positions(item) -> np.ndarray:
    listed = (item.result or {}).get("unexpected_index_list") or []
    rows = [entry[ROW] if isinstance(entry, dict) else entry for entry in listed]
    return np.unique(np.asarray(rows, dtype="int64"))


def _restate_counts(item, expectation, batch: pd.DataFrame, unexpected: int) -> None:
    """Restate GX's counts for a compacted rule over the data rows it stands for."""
    columns = list(read_columns(expectation, batch.columns))
    rows = len(batch)
    if isinstance(expectation, gxe.ExpectColumnValuesToNotBeNull) or not columns:
        missing = 0
    else:
        missing = int(batch[columns].isna().any(axis=1).sum())
    judged = rows - missing
    counts = {
        "element_count": rows,
        "unexpected_count": unexpected,
        "missing_count": missing,
        "missing_percent": missing / rows * 100 if rows else None,
        "unexpected_percent": unexpected / judged * 100 if judged else None,
        "unexpected_percent_total": unexpected / rows * 100 if rows else None,
        "unexpected_percent_nonmissing": unexpected / judged * 100 if judged else None,
    }
    item.result.update({k: v for k, v in counts.items() if k in item.result})


def _suite(context, name: str, expectations):
    return context.suites.add_or_update(
        gx.ExpectationSuite(name=name, expectations=[_unbound(e) for e in expectations])
    )


def _items_by_rule(result) -> dict:
    return {item.expectation_config.meta["rule"]: item for item in result.results}


def _merged(first, items: list, spec: ExportFile):
    """One suite result for the file: every rule's item in rule order, statistics restated."""
    passed = sum(bool(item.success) for item in items)
    first.results = items
    first.success = passed == len(items)
    first.suite_name = spec.name
    first.statistics = {
        "evaluated_expectations": len(items),
        "successful_expectations": passed,
        "unsuccessful_expectations": len(items) - passed,
        "success_percent": 100 * passed / len(items) if items else None,
    }
    first.meta["run_id"] = RunIdentifier(run_name=spec.name, run_time=datetime.now(UTC))
    return first


def _validate(definition, batch: pd.DataFrame, suite, result_format: dict):
    validator = Validator(
        batch_definition=definition,
        batch_parameters={"dataframe": batch},
        result_format=result_format,
    )
    return validator.validate_expectation_suite(suite)


def _unbound(expectation):
    """A copy of an expectation that can join another suite."""
    fields = expectation.dict(exclude={"id", "rendered_content"})
    return expectation.__class__(**fields)


def rule_outcomes(run: SuiteRun, rules: tuple[Rule, ...]) -> list[RuleOutcome]:
    """Match GX's results to our rules by their key, in rule order."""
    by_key = _items_by_rule(run.result)
    return [
        RuleOutcome(
            rule=rule,
            failing_rows=run.failing_rows[rule.key],
            success=bool(by_key[rule.key].success),
            raised=gx_raised(by_key[rule.key].exception_info),
        )
        for rule in rules
    ]


def gx_raised(exception_info: dict | None) -> bool:
    """Whether GX could not evaluate an expectation.

    GX reports a crash either at the top level or per metric (a dict keyed by metric ID), and
    a crashed expectation otherwise looks like a plain failure with no failing rows.
    """
    info = exception_info or {}
    if info.get("raised_exception"):
        return True
    return any(isinstance(v, dict) and v.get("raised_exception") for v in info.values())
