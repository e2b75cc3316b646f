"""The loader reads CSV, CSV.gz and Parquet alike, types columns, and names every unreadable file."""

from __future__ import annotations

import gzip
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from pipelines.io import ExportError, load_export, prefetch_export, read_export

SERVICES = (
    "location_id,provider_id,name,service_type,region,beds,legacy_code\n"
    "1-101675727,1-100000001,Rose House,care_home_nursing,North West,40,A7\n"
    "RRK15,1-100000001,Elm Court,domiciliary_care,,,B2\n"
)
IMPROVEMENTS = (
    "improvement_id,location_id,theme,key_question,severity,origin,identified_on,"
    "action_started_on,standard,declared_status,declared_on,framework_ref\n"
    "I1,1-101675727,falls,safe,serious,incident,2025-01-03,2025-01-10,0.9,embedded,2025-06-01,\n"
    "I2,RRK15,medicines,safe,routine,internal_audit,2025-02-01,,0.95,,,saf-2023:qs07\n"
)
CHECKS = (
    "check_id,improvement_id,team,source,checked_on,sampled,met,repeat_gaps,prompts_needed,"
    "self_rated_confidence\n"
    "C1,I1,Rose Wing,audit,2025-02-01,10,7,2,,\n"
    "C2,I1,Rose Wing,competency,2025-03-01,5,5,,,4.5\n"
    "C3,I1,Lily Wing,staff_practice,2025-07-15,8,8,0,1,\n"
)


def write_export(folder: Path, fmt: str = "csv", **overrides: str) -> Path:
    """Write a small hand-made export in the given format; overrides replace a file's CSV text."""
    folder.mkdir(parents=True, exist_ok=True)
    files = {"services": SERVICES, "improvements": IMPROVEMENTS, "checks": CHECKS, **overrides}
    for name, text in files.items():
        if fmt == "csv":
            (folder / f"{name}.csv").write_text(text, encoding="utf-8")
        elif fmt == "csv.gz":
            (folder / f"{name}.csv.gz").write_bytes(gzip.compress(text.encode("utf-8")))
        else:
            frame = pd.read_csv(pd.io.common.StringIO(text), dtype=str, keep_default_na=False)
            frame = frame.replace("", None)
            frame.to_parquet(folder / f"{name}.parquet", index=False)
    return folder


@pytest.mark.parametrize("fmt", ["csv", "csv.gz", "parquet"])
def test_every_format_reads_to_the_same_typed_frames(tmp_path, fmt):
    export = read_export(str(write_export(tmp_path / fmt, fmt)))
    checks = export.frame("checks")
    assert list(checks.index) == [1, 2, 3]
    assert checks["checked_on"].dtype == "datetime64[ns]"
    assert checks["checked_on"].iloc[0] == pd.Timestamp("2025-02-01")
    assert str(checks["sampled"].dtype) == "Int64"
    assert checks["repeat_gaps"].isna().tolist() == [False, True, False]
    assert isinstance(checks["source"].dtype, pd.CategoricalDtype)
    assert checks["self_rated_confidence"].iloc[1] == 4.5
    improvements = export.frame("improvements")
    assert improvements["standard"].tolist() == [0.9, 0.95]
    assert pd.isna(improvements["action_started_on"].iloc[1])
    assert export.absent == (
        "feedback",
        "incidents",
        "workforce",
        "reviews",
        "declarations",
        "actions",
    )
    assert export.files["checks"].parse_problems.empty


def test_extra_columns_are_reported_and_ignored(tmp_path):
    export = read_export(str(write_export(tmp_path)))
    assert export.files["services"].ignored_columns == ("legacy_code",)
    assert "legacy_code" not in export.frame("services").columns


def test_rows_after_the_as_of_date_are_set_aside_and_counted(tmp_path):
    export, set_aside = load_export(str(write_export(tmp_path)), as_of=date(2025, 6, 30))
    assert set_aside == {"services": 0, "improvements": 0, "checks": 1}
    assert export.frame("checks")["check_id"].tolist() == ["C1", "C2"]


def test_an_absent_optional_file_reads_as_an_empty_frame_with_contract_columns(tmp_path):
    export = read_export(str(write_export(tmp_path)))
    incidents = export.frame("incidents")
    assert incidents.empty
    assert "harm" in incidents.columns


def test_harmless_variations_are_normalised(tmp_path):
    services = SERVICES.replace("care_home_nursing", " Care_Home_Nursing ").replace(
        "1-101675727,1-100000001", " 1-101675727 ,1-100000001"
    )
    checks = CHECKS.replace("2025-02-01,10", "2025-02-01T23:30:00+01:00,10")
    export = read_export(str(write_export(tmp_path, services=services, checks=checks)))
    frame = export.frame("services")
    assert frame["location_id"].iloc[0] == "1-101675727"
    assert frame["service_type"].iloc[0] == "care_home_nursing"
    assert export.frame("checks")["checked_on"].iloc[0] == pd.Timestamp("2025-02-01")


@pytest.mark.parametrize(
    ("cell", "column", "rule"),
    [
        ('"1,000"', "sampled", "not a whole number"),
        ("01/02/2025", "checked_on", "not a date in YYYY-MM-DD form"),
        ("2025-02-30", "checked_on", "not a date in YYYY-MM-DD form"),
        ("Audit report", "source", "not one of the allowed values"),
    ],
)
def test_unreadable_cells_become_missing_and_are_listed(tmp_path, cell, column, rule):
    original = {"sampled": "10", "checked_on": "2025-02-01", "source": "audit"}[column]
    line = "C1,I1,Rose Wing,audit,2025-02-01,10,7,2,,"
    checks = CHECKS.replace(line, line.replace(original, cell, 1))
    export = read_export(str(write_export(tmp_path, checks=checks)))
    problems = export.files["checks"].parse_problems
    assert problems.to_dict("records") == [{"row": 1, "column": column, "rule": rule}]
    assert pd.isna(export.frame("checks")[column].iloc[0])


def _bad_file_cases():
    return [
        ("missing_required", None, "required file is missing"),
        ("empty", b"", "file is empty"),
        ("semicolons", SERVICES.replace(",", ";").encode(), "separated by semicolons"),
        ("not_utf8", SERVICES.replace("Rose", "R\xf6se").encode("latin-1"), "is not UTF-8"),
        (
            "duplicate_header",
            b"location_id,location_id,name\n1-101675727,1-101675727,x\n",
            "appears twice",
        ),
        (
            "ragged",
            SERVICES.encode() + b"1-101675728,1-100000001,a,b,c,d,e,f,g\n",
            "is not a well-formed CSV",
        ),
    ]


@pytest.mark.parametrize(("case", "content", "message"), _bad_file_cases())
def test_unreadable_files_raise_one_named_error(tmp_path, case, content, message):
    folder = write_export(tmp_path)
    if content is None:
        (folder / "services.csv").unlink()
    else:
        (folder / "services.csv").write_bytes(content)
    with pytest.raises(ExportError) as raised:
        read_export(str(folder))
    assert raised.value.file.startswith("services")
    assert message in str(raised.value)


def test_two_files_for_one_table_is_an_error(tmp_path):
    folder = write_export(tmp_path)
    (folder / "checks.csv.gz").write_bytes(gzip.compress(CHECKS.encode()))
    with pytest.raises(ExportError, match="more than one file"):
        read_export(str(folder))


def test_a_missing_folder_is_named(tmp_path):
    with pytest.raises(ExportError, match="export folder not found"):
        read_export(str(tmp_path / "nowhere"))


def test_an_fsspec_url_reads_like_a_folder(tmp_path):
    folder = write_export(tmp_path)
    export = read_export(f"file://{folder}")
    assert len(export.frame("checks")) == 3


def test_a_corrupt_parquet_file_is_named(tmp_path):
    folder = write_export(tmp_path, fmt="parquet")
    (folder / "checks.parquet").write_bytes(b"PAR1 not really")
    with pytest.raises(ExportError, match="checks.parquet: is not a readable Parquet file"):
        read_export(str(folder))


def test_large_repetitive_columns_type_exactly_as_cell_by_cell(monkeypatch):
    """Above DISTINCT_MIN_ROWS each distinct text is coerced once and spread back: the typed
    frame, the unreadable cells and the count of normalised cells are the same."""
    import numpy as np

    import pipelines.io as loader
    from contracts.export import FILES_BY_NAME

    rng = np.random.default_rng(3)
    n = 30_000
    raw = pd.DataFrame(
        {
            "check_id": [f"C{i}" for i in range(n)],  # unique: stays on the cell-by-cell path
            "improvement_id": rng.choice([" IMP-1", "IMP-2", "IMP-3 ", None], n),
            "checked_on": rng.choice(
                [
                    "2026-01-05",
                    " 2026-02-01",
                    "2026-13-01",
                    "05/01/2026",
                    "2026-03-01T00:00:00",
                    None,
                    "",
                ],
                n,
            ),
            "team": rng.choice(["Day", "Night ", "night", None], n),
            "source": rng.choice(["audit", "Audit", " care_records", "gossip", None], n),
            "sampled": rng.choice(["10", " 12", "12.0", "ten", "-1", None], n),
            "met": rng.choice(["8", "9 ", "x", None], n),
        },
        dtype="str",
    )
    spec = FILES_BY_NAME["checks"]
    fast = loader.type_frame(raw, spec)
    monkeypatch.setattr(loader, "DISTINCT_MIN_ROWS", 10**9)
    plain = loader.type_frame(raw, spec)
    pd.testing.assert_frame_equal(fast.frame, plain.frame)
    pd.testing.assert_frame_equal(
        fast.parse_problems.sort_values(["column", "row"], ignore_index=True),
        plain.parse_problems.sort_values(["column", "row"], ignore_index=True),
    )
    assert fast.normalised_cells == plain.normalised_cells
    assert len(fast.parse_problems) > 1000 and sum(fast.normalised_cells.values()) > 1000
    # a Parquet dictionary column arrives as a pandas categorical: same result
    monkeypatch.setattr(loader, "DISTINCT_MIN_ROWS", 10_000)
    as_category = loader.type_frame(raw.astype({"source": "category", "team": "category"}), spec)
    pd.testing.assert_frame_equal(as_category.frame, plain.frame)
    assert as_category.normalised_cells == plain.normalised_cells
    assert len(as_category.parse_problems) == len(plain.parse_problems)


def test_an_export_read_ahead_is_the_export_read_then(tmp_path):
    folder = str(write_export(tmp_path / "ahead"))
    prefetch_export(folder)
    ahead = read_export(folder)
    now = read_export(folder)  # taken once: this one reads the files again
    assert ahead is not now
    for name, loaded in now.files.items():
        pd.testing.assert_frame_equal(ahead.files[name].frame, loaded.frame)
        assert ahead.files[name].sha256 == loaded.sha256
    assert ahead.absent == now.absent


def test_a_failed_read_ahead_raises_the_same_named_error_and_a_retry_reads_again(tmp_path):
    folder = tmp_path / "later"
    prefetch_export(str(folder))  # not there yet
    with pytest.raises(ExportError, match="export folder not found"):
        read_export(str(folder))
    write_export(folder)
    assert read_export(str(folder)).frame("checks").shape[0] == 3


def test_native_integer_columns_keep_their_values_and_an_out_of_range_one_is_listed(tmp_path):
    import numpy as np

    folder = write_export(tmp_path / "native", "parquet")
    checks = pd.read_parquet(folder / "checks.parquet")
    checks["sampled"] = np.array([10, 5, 8], dtype="int32")
    checks["met"] = pd.array([7, 5, 8], dtype="Int64")
    checks["prompts_needed"] = np.array([2**64 - 1, 0, 1], dtype="uint64")
    checks.to_parquet(folder / "checks.parquet", index=False)
    loaded = read_export(str(folder)).files["checks"]
    assert loaded.frame["sampled"].tolist() == [10, 5, 8]
    assert str(loaded.frame["sampled"].dtype) == str(loaded.frame["met"].dtype) == "Int64"
    assert pd.isna(loaded.frame["prompts_needed"].iloc[0])
    assert loaded.parse_problems[["row", "column"]].values.tolist() == [[1, "prompts_needed"]]


FEEDBACK_WITH_TEXT = (
    "feedback_id,location_id,received_on,channel,respondent,theme,sentiment,text\n"
    'F1,1-101675727,2025-03-01,complaint,family,falls,-1,"Mrs Planted-Name fell, twice"\n'
)


@pytest.mark.parametrize("fmt", ["csv", "csv.gz", "parquet"])
def test_free_text_is_dropped_as_it_is_read_even_when_read_ahead(tmp_path, fmt):
    folder = str(write_export(tmp_path / fmt, fmt, feedback=FEEDBACK_WITH_TEXT))
    prefetch_export(folder)
    for export in (read_export(folder), read_export(folder)):  # read ahead, then read now
        feedback = export.files["feedback"]
        assert "text" not in feedback.frame.columns
        assert "text" not in feedback.missing_columns and "text" not in feedback.ignored_columns
        assert feedback.frame["sentiment"].tolist() == [-1]
        assert "Planted" not in repr(export.__dict__)


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_obvious_team_spellings_are_joined_to_the_usual_one_and_counted(tmp_path, fmt):
    """Spellings "ROSE WING" and "rose-wing" are the team the export mostly calls "Rose
    Wing"; "Rose" (a short form) and "Lily Wing" stay as they are. Without the join the rows
    would count as three teams; the cells changed are counted per file for validation's
    summary."""
    checks = CHECKS + (
        "C4,I1,ROSE WING,audit,2025-04-01,10,9,0,,\nC5,I1,rose-wing,audit,2025-05-01,10,9,0,,\n"
        "C6,I1,Rose,audit,2025-06-01,10,9,0,,\n"
    )
    incidents = (
        "incident_id,location_id,improvement_id,team,occurred_on,theme,harm\n"
        "N1,1-101675727,,Rose  Wing,2025-03-01,falls,low\n"
        "N2,1-101675727,,Lily Wing,2025-03-02,falls,none\n"
    )
    export = read_export(str(write_export(tmp_path, fmt, checks=checks, incidents=incidents)))
    teams = export.frame("checks")["team"].astype("str").tolist()
    assert teams == ["Rose Wing", "Rose Wing", "Lily Wing", "Rose Wing", "Rose Wing", "Rose"]
    assert export.frame("incidents")["team"].astype("str").tolist() == ["Rose Wing", "Lily Wing"]
    assert export.files["checks"].normalised_cells.get("team") == 2
    assert export.files["incidents"].normalised_cells.get("team") == 1
    assert "team" not in export.files["services"].normalised_cells
