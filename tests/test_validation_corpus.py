"""Contract tests: every deliberately broken export ends exactly as intended.

Each case in `broken_exports.corpus` holds one breach and its exact outcome: blocked by the
named file and rule, or these rows of these files quarantined with this reason (and nothing
else), or (for the harmless variations that are normalised) a clean, usable export.
"""

from __future__ import annotations

import pandas as pd
import pytest
from broken_exports.corpus import AS_OF, CASES, CASES_BY_NAME, PLANTED, TODAY

from pipelines.io import read_export
from validation import validate_export, write_validation_outputs


def validated(case, tmp_path):
    folder = case.build(tmp_path / case.name)
    return validate_export(read_export(str(folder), collect_errors=True), AS_OF, today=TODAY)


@pytest.fixture(scope="module")
def outcome(tmp_path_factory):
    """The validation result of a corpus case, computed once per module (GX is not quick)."""
    results = {}

    def of(name):
        if name not in results:
            results[name] = validated(CASES_BY_NAME[name], tmp_path_factory.mktemp(name))
        return results[name]

    return of


def quarantined_reasons(result) -> dict[str, dict[int, str]]:
    return {
        name: dict(zip(rows["row"].tolist(), rows["reason"].tolist(), strict=True))
        for name, rows in result.quarantine.items()
        if len(rows)
    }


def assert_reconciled(result):
    for name, count in result.counts.items():
        assert count["read"] == count["used"] + count["set_aside"] + count["quarantined"], name
        assert count["used"] == len(result.tables[name])
        assert count["quarantined"] == len(result.quarantine[name])


BLOCKED = [c for c in CASES if c.blocked_by]
ROW_LEVEL = [c for c in CASES if c.quarantined]
CLEAN = [c for c in CASES if not c.blocked_by and not c.quarantined and not c.large]


def test_the_corpus_holds_at_least_thirty_single_breaches():
    assert len(CASES) >= 30
    assert len({c.name for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", BLOCKED, ids=lambda c: c.name)
def test_a_blocking_breach_stops_the_run_naming_file_and_rule(case, outcome):
    result = outcome(case.name)
    file, words = case.blocked_by
    assert result.blocked
    assert any(f.file == file and words in f.rule for f in result.blocking_findings), [
        (f.file, f.rule) for f in result.blocking_findings
    ]
    assert "BLOCKED" in result.summary_lines()[0]


@pytest.mark.parametrize("case", ROW_LEVEL, ids=lambda c: c.name)
def test_a_row_breach_quarantines_exactly_those_rows_with_the_rule(case, outcome):
    result = outcome(case.name)
    assert not result.blocked, [(f.file, f.rule) for f in result.blocking_findings]
    assert quarantined_reasons(result) == case.quarantined
    assert_reconciled(result)
    for name, rows in case.quarantined.items():
        assert not result.tables[name].index.isin(list(rows)).any()
        assert {f.file for f in result.findings} >= {name}


@pytest.mark.parametrize("case", CLEAN, ids=lambda c: c.name)
def test_a_harmless_variation_is_normalised_and_the_export_is_clean(case, outcome):
    result = outcome(case.name)
    assert not result.blocked
    assert result.findings == []
    assert quarantined_reasons(result) == {}
    assert_reconciled(result)
    for name, count in case.set_aside.items():
        assert result.counts[name]["set_aside"] == count


def test_normalised_values_reach_the_tables_in_their_contract_form(outcome):
    spaced = outcome("whitespace_around_ids_and_words")
    assert spaced.tables["services"].loc[1, "location_id"] == "1-101675701"
    assert spaced.tables["checks"].loc[2, "improvement_id"] == "IMP-1"
    assert spaced.normalised_cells["checks"] == {"improvement_id": 1, "source": 1}
    cased = outcome("mixed_case_vocabulary")
    assert cased.tables["improvements"].loc[2, "key_question"] == "safe"
    assert cased.tables["incidents"].loc[1, "harm"] == "low"
    zoned = outcome("timestamps_with_time_zones")
    assert zoned.tables["checks"].loc[4, "checked_on"] == pd.Timestamp("2026-03-01")
    assert zoned.tables["improvements"].loc[3, "identified_on"] == pd.Timestamp("2025-04-05")


def test_extra_and_absent_things_are_reported_not_judged(outcome):
    extra = outcome("extra_column")
    assert extra.ignored_columns == {"checks": ("legacy_code",)}
    absent = outcome("absent_optional_file")
    assert absent.absent_files == ("workforce", "actions")
    header_only = outcome("header_only_optional_file")
    assert header_only.counts["reviews"] == {"read": 0, "used": 0, "set_aside": 0, "quarantined": 0}


def test_a_formula_in_a_name_is_data_but_never_a_live_formula_in_quarantine(outcome, tmp_path):
    clean = outcome("formula_in_name")
    assert clean.tables["services"].loc[17, "name"].startswith("=HYPERLINK(")
    result = outcome("quarantined_formula_name")
    write_validation_outputs(result, tmp_path / "out", data_docs=False)
    written = pd.read_csv(tmp_path / "out" / "quarantine" / "services.csv", dtype=str)
    assert written.loc[0, "name"] == '\'=HYPERLINK("http://x.example","click")'
    assert written.loc[0, "reason"] == "beds must be at least 0"


def test_a_100_mb_free_text_cell_is_read_used_and_never_copied_out(tmp_path):
    result = validated(CASES_BY_NAME["huge_free_text_cell"], tmp_path)
    assert not result.blocked and result.findings == []
    assert result.counts["feedback"]["used"] == 25
    assert "text" not in result.tables["feedback"].columns
    write_validation_outputs(result, tmp_path / "out", data_docs=False)
    for path in (tmp_path / "out").rglob("*"):
        if path.is_file():
            assert PLANTED.encode() not in path.read_bytes()


# Broken exports on which GX's Data Docs renderer used to fail and print a traceback.
NO_TRACEBACK_CASES = ("non_utf8_bytes", "missing_standard_column", "services_not_text")


@pytest.mark.parametrize("name", NO_TRACEBACK_CASES)
def test_a_broken_export_is_reported_without_a_traceback(name, tmp_path):
    """`takehold validate` on the export: the verdict in plain words, Data Docs written (or a
    note in validation.json), exit 1, and no Python traceback anywhere in what it prints."""
    import json
    import subprocess
    import sys
    from pathlib import Path

    folder = CASES_BY_NAME[name].build(tmp_path / name)
    out = tmp_path / "out"
    command = [str(Path(sys.executable).with_name("takehold")), "validate", str(folder)]
    finished = subprocess.run(
        [*command, "--as-of", str(AS_OF), "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    printed = finished.stdout + finished.stderr
    assert finished.returncode == 1, printed
    assert "BLOCKED" in printed
    assert "Traceback" not in printed
    summary = json.loads((out / "validation.json").read_text())
    assert summary["blocked"] is True
    assert summary["data_docs"]["written"] or summary["data_docs"]["note"]
