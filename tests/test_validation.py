"""Validation: rules built from the contract, reasons, severities, privacy, outputs and the CLI."""

from __future__ import annotations

import logging
from datetime import date

import pandas as pd
import pytest
from broken_exports.corpus import AS_OF, CASES_BY_NAME, PLANTED, TODAY, base_frames, write_frames
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from contracts.export import EXPORT_FILES, FILES_BY_NAME
from contracts.params import ValidationParams
from pipelines.cli import app
from pipelines.io import read_export
from validation import validate_export, write_validation_outputs
from validation.outputs import spreadsheet_safe
from validation.result import GX_VALUE_KEYS
from validation.rules import contract_rules
from validation.validate import quarantine_reasons

# --- suites are built from the contract --------------------------------------------------

ALL_COLUMNS = [(spec.name, column) for spec in EXPORT_FILES for column in spec.columns]


def expected_rule_names(column) -> set[str]:
    """The rules a contract column must produce, read from its declaration."""
    if column.free_text:
        return set()
    names = {"type"}
    names |= {"present", "required"} if column.required else set()
    names |= {"unique"} if column.unique else set()
    names |= {"vocabulary"} if column.vocabulary else set()
    names |= {"range"} if column.minimum is not None or column.maximum is not None else set()
    names |= {"id_form"} if column.pattern else set()
    names |= {"date_bounds"} if column.kind == "date" else set()
    names |= {"reference"} if column.references else set()
    return names


@pytest.mark.parametrize(
    ("file", "column"), ALL_COLUMNS, ids=[f"{f}.{c.name}" for f, c in ALL_COLUMNS]
)
def test_every_column_rule_of_the_contract_is_an_expectation(file, column):
    rules = contract_rules(FILES_BY_NAME[file], TODAY)
    found = {r.key.rsplit(".", 1)[1] for r in rules if r.key.split(".")[1] == column.name}
    cross_column = {"monday"} if (file, column.name) == ("workforce", "week_start") else set()
    assert found == expected_rule_names(column) | cross_column


@pytest.mark.parametrize(
    ("file", "key", "expectation_type"),
    [
        (
            "checks",
            "checks.sampled+met.met_within_sampled",
            "expect_column_pair_values_a_to_be_greater_than_b",
        ),
        (
            "checks",
            "checks.sampled+met+repeat_gaps.repeat_gaps_within_unmet_items",
            "expect_column_pair_values_a_to_be_greater_than_b",
        ),
        (
            "workforce",
            "workforce.shifts_planned+shifts_agency+shifts_unfilled"
            ".shifts_agency_plus_unfilled_within_shifts_planned",
            "expect_column_pair_values_a_to_be_greater_than_b",
        ),
        ("workforce", "workforce.week_start.monday", "expect_column_values_to_be_in_set"),
        (
            "workforce",
            "workforce.location_id+team+week_start.key_unique",
            "expect_compound_columns_to_be_unique",
        ),
        (
            "improvements",
            "improvements.identified_on+action_started_on.identified_on_within_action_started_on",
            "expect_column_pair_values_a_to_be_greater_than_b",
        ),
        (
            "improvements",
            "improvements.declared_status+declared_on.declared_on_required",
            "expect_column_values_to_not_be_null",
        ),
        (
            "actions",
            "actions.planned_on+due_on.planned_on_within_due_on",
            "expect_column_pair_values_a_to_be_greater_than_b",
        ),
        (
            "actions",
            "actions.planned_on+completed_on.planned_on_within_completed_on",
            "expect_column_pair_values_a_to_be_greater_than_b",
        ),
    ],
)
def test_cross_column_rules_are_gx_expectations(file, key, expectation_type):
    rules = {r.key: r for r in contract_rules(FILES_BY_NAME[file], TODAY)}
    assert rules[key].expectation.expectation_type == expectation_type


def test_every_rule_has_words_a_reason_and_a_unique_key():
    for spec in EXPORT_FILES:
        rules = contract_rules(spec, TODAY)
        assert len({r.key for r in rules}) == len(rules)
        for rule in rules:
            assert rule.text and rule.why and "\n" not in rule.why
            assert rule.expectation.meta["why"] == rule.why


@pytest.mark.parametrize(
    ("file", "blocking"),
    [("services", True), ("improvements", True), ("checks", False), ("reviews", False)],
)
def test_duplicate_ids_block_only_in_services_and_improvements(file, blocking):
    spec = FILES_BY_NAME[file]
    unique = next(r for r in contract_rules(spec, TODAY) if r.key.endswith(".unique"))
    assert unique.blocking is blocking


# --- small pieces, by hand ----------------------------------------------------------------


def test_a_row_breaking_several_rules_gets_every_reason_in_rule_order():
    failures = pd.DataFrame(
        {
            "row": [4, 2, 4, 4],
            "rule_key": ["b", "a", "a", "b"],
            "text": ["second", "first", "first", "second"],
            "order": [2, 1, 1, 2],
        }
    )
    reasons = quarantine_reasons(failures)
    assert reasons.to_dict() == {2: "first", 4: "first; second"}


@pytest.mark.parametrize(
    ("cell", "written"),
    [
        ('=HYPERLINK("x")', '\'=HYPERLINK("x")'),
        ("+44 1234", "'+44 1234"),
        ("-1+1", "'-1+1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("Oak House", "Oak House"),
        (None, None),
    ],
)
def test_cells_that_a_spreadsheet_would_run_are_neutralised(cell, written):
    frame = pd.DataFrame({"name": pd.Series([cell], dtype="str"), "beds": [3]})
    safe = spreadsheet_safe(frame)
    assert (safe.loc[0, "name"] if cell else None) == written or pd.isna(safe.loc[0, "name"])
    assert frame.loc[0, "name"] == cell or cell is None  # the argument is not changed
    assert safe.loc[0, "beds"] == 3


# --- whole runs ---------------------------------------------------------------------------


DEFAULT = ValidationParams()


def validated(folder, params=DEFAULT):
    return validate_export(
        read_export(str(folder), collect_errors=True), AS_OF, params, today=TODAY
    )


@pytest.mark.parametrize(("block_share", "blocked"), [(0.05, True), (0.06, False)])
def test_the_blocking_share_is_configurable(tmp_path, block_share, blocked):
    folder = CASES_BY_NAME["too_many_failing_rows"].build(tmp_path / "export")
    result = validated(folder, ValidationParams(block_share=block_share))  # 3 of 50 rows: 6%
    assert result.blocked is blocked
    assert result.counts["checks"]["quarantined"] == 3


def test_an_unreadable_file_blocks_without_a_cascade_of_unresolved_references(tmp_path):
    result = validated(CASES_BY_NAME["non_utf8_bytes"].build(tmp_path / "export"))
    assert [(f.file, f.severity) for f in result.findings] == [("services", "blocking")]
    assert result.rules_not_evaluated == {"improvements": ("improvements.location_id.reference",)}
    assert result.counts["improvements"]["quarantined"] == 0


def test_an_as_of_date_after_the_run_date_is_refused(tmp_path):
    folder = CASES_BY_NAME["extra_column"].build(tmp_path / "export")
    with pytest.raises(ValueError, match="after the day of the run"):
        validate_export(read_export(str(folder)), date(2026, 12, 1), today=TODAY)


def test_the_input_export_is_not_changed(tmp_path):
    folder = CASES_BY_NAME["met_above_sampled"].build(tmp_path / "export")
    export = read_export(str(folder), collect_errors=True)
    before = {name: f.frame.copy() for name, f in export.files.items()}
    validate_export(export, AS_OF, today=TODAY)
    for name, frame in before.items():
        pd.testing.assert_frame_equal(export.files[name].frame, frame)


def planted_export(folder):
    """Every file, the planted string in every feedback text, one feedback row quarantined."""
    frames = base_frames()
    feedback = frames["feedback"].assign(text=f"{PLANTED} said Mrs Example was kind")
    feedback.loc[feedback.index[2], "rating"] = "9"
    return write_frames({**frames, "feedback": feedback}, folder)


def test_free_text_reaches_no_output_log_or_data_docs(tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    result = validated(planted_export(tmp_path / "export"))
    write_validation_outputs(result, tmp_path / "out")
    assert result.counts["feedback"]["quarantined"] == 1
    pages = list((tmp_path / "out" / "data_docs").rglob("*.html"))
    # index, a suite and a result page per file of the export
    assert len(pages) >= 1 + 2 * len(base_frames())
    for path in (tmp_path / "out").rglob("*"):
        if path.is_file():
            assert PLANTED.encode() not in path.read_bytes(), path
    assert PLANTED not in caplog.text
    for name, table in {**result.tables, **result.quarantine}.items():
        assert "text" not in table.columns, name
    for gx_result in result.gx_results.values():
        for item in gx_result.results:
            assert not set(item.result) & set(GX_VALUE_KEYS)


def test_outputs_say_what_was_found(tmp_path):
    import json

    folder = CASES_BY_NAME["repeat_gaps_above_unmet"].build(tmp_path / "export")
    write_validation_outputs(validated(folder), tmp_path / "out", data_docs=False)
    summary = json.loads((tmp_path / "out" / "validation.json").read_text())
    assert summary["status"] == "usable"
    assert summary["findings"] == [
        {
            "file": "checks",
            "columns": ["sampled", "met", "repeat_gaps"],
            "rule": "repeat_gaps must not exceed sampled - met",
            "severity": "row",
            "failing_rows": 1,
            "sample_rows": [12],
            "rule_key": "checks.sampled+met+repeat_gaps.repeat_gaps_within_unmet_items",
            "why": "repeat gaps are a subset of this check's failed items",
        }
    ]
    assert summary["counts"]["checks"] == {"read": 50, "used": 49, "set_aside": 0, "quarantined": 1}
    quarantine = pd.read_csv(tmp_path / "out" / "quarantine" / "checks.csv")
    assert quarantine[["row", "check_id", "reason"]].to_dict("records") == [
        {"row": 12, "check_id": "C-12", "reason": "repeat_gaps must not exceed sampled - met"}
    ]


@pytest.mark.parametrize(
    ("case", "args", "code"),
    [
        ("extra_column", [], 0),
        ("duplicate_service_id", [], 1),
        (None, [], 2),  # no such folder
        ("extra_column", ["--as-of", "31/10/2026"], 2),
    ],
)
def test_the_validate_command_exits_0_usable_1_blocked_2_usage(tmp_path, case, args, code):
    folder = tmp_path / "missing"
    if case:
        folder = CASES_BY_NAME[case].build(tmp_path / "export")
    out = tmp_path / "out"
    run = CliRunner().invoke(app, ["validate", str(folder), "--out", str(out), *args])
    assert run.exit_code == code, run.output
    if code < 2:
        assert (out / "validation.json").exists() and (out / "data_docs" / "index.html").exists()
    if code == 1:
        assert "BLOCKED" in run.output and "location_id must be unique" in run.output


def test_a_simulated_demo_export_validates_clean(tmp_path):
    """With perfectly linked files the demo export is clean; by default (imperfect links) the
    only findings are warnings about team names no other file uses, and the obvious spelling
    variants are joined and counted."""
    import simulator
    from simulator.export import write_export
    from simulator.parameters import Parameters

    for params, name in ((Parameters().without("imperfect_links"), "linked"), (None, "demo")):
        sim = simulator.simulate_group(
            4, 1.0, seed=3, truth_as_of=[date(2026, 10, 31)], truth_draws=1, params=params
        )
        write_export(sim.frames, str(tmp_path / name))
        result = validate_export(read_export(str(tmp_path / name)), sim.end, today=TODAY)
        assert not result.blocked
        counts = result.counts.values()
        assert all(c["quarantined"] == 0 and c["used"] == c["read"] for c in counts)
        if name == "linked":
            assert result.findings == []
            assert "team" not in result.normalised_cells.get("checks", {})
        else:
            assert {f.rule_key.split(".", 1)[1] for f in result.findings} <= {"team.joined"}
            assert all(f.severity == "warning" for f in result.findings)
            assert sum(c.get("team", 0) for c in result.normalised_cells.values()) > 0


# --- invariants ---------------------------------------------------------------------------

BREAKS = {
    "met": "x",
    "sampled": "0",
    "checked_on": "31/12/2025",
    "source": "spot",
    "team": "",
    "improvement_id": "IMP-0",
    "self_rated_confidence": "9",
}


@settings(
    max_examples=6,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    broken=st.dictionaries(st.integers(1, 50), st.sampled_from(sorted(BREAKS)), max_size=2),
    shuffle=st.randoms(use_true_random=False),
)
def test_every_row_ends_in_exactly_one_place(tmp_path_factory, broken, shuffle):
    frames = base_frames()
    checks = frames["checks"].copy()
    for row, column in broken.items():
        checks.loc[checks.index[row - 1], column] = BREAKS[column]
    folder = write_frames(
        {"services": frames["services"], "improvements": frames["improvements"], "checks": checks},
        tmp_path_factory.mktemp("export"),
    )
    result = validated(folder)
    counts = result.counts["checks"]
    assert counts["read"] == counts["used"] + counts["set_aside"] + counts["quarantined"] == 50
    assert set(result.quarantine["checks"]["row"]) == set(broken)
    assert set(result.tables["checks"].index).isdisjoint(broken)


@pytest.mark.parametrize(
    ("exception_info", "raised"),
    [
        (None, False),
        ({"raised_exception": False, "exception_message": None}, False),
        ({"raised_exception": True, "exception_message": "boom"}, True),
        (
            {
                "MetricConfigurationID(metric_name='column_values.in_set.condition')": {
                    "raised_exception": True,
                    "exception_message": "no such column",
                }
            },
            True,
        ),
        (
            {"MetricConfigurationID(metric_name='table.row_count')": {"raised_exception": False}},
            False,
        ),
    ],
)
def test_a_crashed_expectation_is_recognised_in_both_of_gx_forms(exception_info, raised):
    from validation.engine import gx_raised

    assert gx_raised(exception_info) is raised


def actions_frame(rows: list[tuple]) -> pd.DataFrame:
    """An actions file (contract v2) as text: (id, improvement, kind, planned, due, completed)."""
    columns = ["action_id", "improvement_id", "kind", "planned_on", "due_on", "completed_on"]
    return pd.DataFrame(rows, columns=columns).fillna("")


def test_an_actions_file_is_validated_and_its_broken_rows_quarantined(tmp_path):
    valid = [
        (f"A-{k}-{kind}", f"IMP-{k}", kind, "2025-02-10", "2025-02-17", "2025-02-12")
        for k in range(1, 26)  # every improvement of the base export
        for kind in ("immediate_control", "embedding")
    ]
    broken = [
        ("B-1", "IMP-2", "embedding", "2025-03-10", "2025-03-01", None),  # due before planned
        ("B-2", "IMP-3", "immediate_control", "2025-03-10", None, "2025-03-09"),  # done before
    ]
    folder = write_frames(
        {**base_frames(), "actions": actions_frame(valid + broken)}, tmp_path / "export"
    )
    result = validated(folder)
    assert not result.blocked
    reasons = result.quarantine["actions"].set_index("action_id")["reason"]
    assert reasons.to_dict() == {
        "B-1": "due_on must not be before planned_on",
        "B-2": "completed_on must not be before planned_on",
    }
    assert result.counts["actions"] == {"read": 52, "used": 50, "set_aside": 0, "quarantined": 2}
    kinds = result.tables["actions"]["kind"].astype("str").value_counts().to_dict()
    assert kinds == {"immediate_control": 25, "embedding": 25}
