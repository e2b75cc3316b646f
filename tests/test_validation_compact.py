"""Compact batches: GX judging distinct values gives exactly what judging every row gives.

`validation.engine` runs each file's value rules over the distinct values of each column,
pair rules over distinct pairs, and uniqueness over factorize codes; `compact=False` runs the
same suite row by row. Every row-level breach of the corpus at once, plus the blocking cases
that make rules fail or raise, must give the same failing rows, counts and verdicts both ways.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from broken_exports.corpus import AS_OF, CASES, CASES_BY_NAME, TODAY, base_frames, write_frames

from contracts.export import FILES_BY_NAME
from pipelines.io import read_export
from validation.engine import build_suite, ephemeral_context, plan_parts, run_suite
from validation.result import scrub_gx_result
from validation.rules import contract_rules
from validation.validate import gx_batch, reference_keys, set_aside_rows

ROW_LEVEL = [case for case in CASES if case.quarantined and case.frames is not None]


def every_breach_at_once(tmp_path):
    frames = base_frames()
    for case in ROW_LEVEL:
        frames = case.frames(frames)
    return write_frames(frames, tmp_path / "all_breaches")


def both_ways(folder):
    """For each file: (compact run, row-by-row run, the batch GX saw)."""
    export = read_export(str(folder), collect_errors=True)
    aside, keys = set_aside_rows(export, AS_OF, TODAY), reference_keys(export)
    context = ephemeral_context()
    runs = {}
    for name, loaded in export.files.items():
        spec = FILES_BY_NAME[name]
        missing = tuple(c for c in loaded.missing_columns if spec.column(c).required)
        batch = gx_batch(spec, loaded.frame.drop(index=aside[name]), missing, keys)
        suite = build_suite(context, spec, contract_rules(spec, TODAY))
        runs[name] = (
            run_suite(context, suite, spec, batch),
            run_suite(context, suite, spec, batch, compact=False),
            batch,
        )
    return runs


def assert_same(compact, row_by_row):
    assert compact.failing_rows.keys() == row_by_row.failing_rows.keys()
    for key, rows in row_by_row.failing_rows.items():
        np.testing.assert_array_equal(np.sort(compact.failing_rows[key]), rows, err_msg=key)
    ours = scrub_gx_result(compact.result).to_json_dict()
    theirs = scrub_gx_result(row_by_row.result).to_json_dict()
    assert ours["success"] == theirs["success"]
    assert ours["statistics"] == theirs["statistics"]
    for mine, reference in zip(ours["results"], theirs["results"], strict=True):
        key = reference["expectation_config"]["meta"]["rule"]
        assert mine["expectation_config"]["meta"]["rule"] == key
        assert mine["success"] == reference["success"], key
        assert mine["exception_info"] == reference["exception_info"], key
        assert mine["result"].keys() == reference["result"].keys(), key
        for field, value in reference["result"].items():
            assert mine["result"][field] == pytest.approx(value, rel=1e-12), (key, field)


def test_every_row_breach_gives_the_same_rows_and_counts_both_ways(tmp_path):
    runs = both_ways(every_breach_at_once(tmp_path))
    failing = 0
    for compact, row_by_row, _ in runs.values():
        assert_same(compact, row_by_row)
        failing += sum(len(rows) > 0 for rows in row_by_row.failing_rows.values())
    assert failing >= 30  # the corpus's breaches really fail rules in this export


@pytest.mark.parametrize(
    "name",
    [
        "missing_required_column",
        "duplicate_service_id",
        "duplicate_check_id",
        "duplicate_team_week",
        "too_many_failing_rows",
    ],
)
def test_blocking_breaches_fail_or_raise_the_same_rules_both_ways(name, tmp_path):
    for compact, row_by_row, _ in both_ways(CASES_BY_NAME[name].build(tmp_path / name)).values():
        assert_same(compact, row_by_row)


def test_value_rules_see_each_distinct_value_once_and_ids_only_as_codes(tmp_path):
    runs = both_ways(every_breach_at_once(tmp_path))
    _, _, batch = runs["checks"]
    spec = FILES_BY_NAME["checks"]
    suite = build_suite(ephemeral_context(), spec, contract_rules(spec, TODAY))
    parts = {part.name: part for part in plan_parts(batch, suite)}
    values = parts["values"].frame
    assert len(values) == max(
        batch[c].nunique(dropna=False) for c in values.columns if c != "check_id"
    )
    assert len(values) < len(batch)
    # Uniqueness of check_id is judged on codes, every row; its type on the real column.
    rows = parts["rows"].frame
    assert len(rows) == len(batch) and rows["check_id"].dtype == "float64"
    assert values["check_id"].dtype == batch["check_id"].dtype
    # A missing value keeps its place among the distinct values.
    assert pd.isna(values["repeat_gaps"]).any() == batch["repeat_gaps"].isna().any()


@pytest.mark.parametrize(
    "values",
    [["a", "b", None, "c"], ["a", "b", "a", None], [None, None], [], ["x"], ["b", "a", "c"]],
)
def test_equality_codes_number_values_as_factorize_does(values):
    from validation.engine import _equality_codes

    column = pd.Series(values, dtype="str")
    expected = pd.factorize(column, use_na_sentinel=True)[0].astype("float64")
    expected[expected < 0] = np.nan
    np.testing.assert_array_equal(_equality_codes(column), expected)
