"""The run history database: schema from the declarations, forward migration, one transaction
per run, sign-offs, and clear errors. On SQLite here; tests/test_servers.py runs the same code
against PostgreSQL."""

from __future__ import annotations

import sqlite3
from datetime import datetime

import pandas as pd
import pytest
import sqlalchemy as sa

from contracts.tables import (
    HISTORY_SCHEMA_VERSION,
    HISTORY_TABLES,
    SCORES,
    SERVICES,
)
from pipelines.history import (
    HistoryError,
    HistoryStore,
    RunRecord,
    database_url,
    series_name,
    trigger_rows,
)


def scores_rows(run: str, n: int = 3, triggers=("", "a; b", "c")) -> pd.DataFrame:
    """`n` scores rows with every declared column, as a run writes them."""
    frame = pd.DataFrame({c: [None] * n for c in SCORES.column_names})
    return frame.assign(
        improvement_id=[f"I{k}" for k in range(n)],
        location_id=["L1"] * n,
        as_of=pd.Timestamp("2026-10-31"),
        p_hold=[0.2 + 0.1 * k for k in range(n)],
        stage=["emerging"] * n,
        claim_check="consistent",
        triggers=list(triggers)[:n],
        escalations=["", "do a; do b", "do c"][:n],
        rm_review_overdue=False,
        senior_review_overdue=False,
        review_overdue=False,
        model_version="1",
    )


def services_rows() -> pd.DataFrame:
    frame = pd.DataFrame({c: [None] for c in SERVICES.column_names})
    return frame.assign(rank=1, location_id="L1", name="Oak House", priority_score=1.5)


def record(run_id: str, out, as_of="2026-10-31") -> RunRecord:
    run = {
        "run_id": run_id,
        "out": series_name(out),
        "as_of": pd.Timestamp(as_of),
        "finished_at": pd.Timestamp("2026-11-01 02:00"),
        "previous_run_id": None,
        "export": "/exports/x",
        "model_name": "takehold",
        "model_version": "1",
        "model_run_id": "abc",
        "code_version": "test",
        "services": 1,
        "improvements": 3,
        "warnings": 0,
        "config": "{}",
    }
    files = pd.DataFrame(
        {
            "file": ["checks"],
            "format": ["csv"],
            "sha256": ["f" * 64],
            "rows": [10],
            "used": [9],
            "set_aside": [1],
            "quarantined": [0],
        }
    )
    warnings = pd.DataFrame({"kind": [], "file": [], "message": []})
    return RunRecord(run, scores_rows(run_id), services_rows(), files, warnings)


def count(path, table: str, run_id: str | None = None) -> int:
    with sqlite3.connect(path) as connection:
        query = f'select count(*) from "{table}"'
        if run_id is None:
            return connection.execute(query).fetchone()[0]
        return connection.execute(query + " where run_id = ?", (run_id,)).fetchone()[0]


def test_a_new_database_gets_every_declared_table_and_the_schema_version(tmp_path):
    path = tmp_path / "history.db"
    store = HistoryStore.open(str(path))
    inspector = sa.inspect(store.engine)
    for table in HISTORY_TABLES:
        columns = [c["name"] for c in inspector.get_columns(table.name)]
        assert columns == list(table.column_names), table.name
        assert {i["name"] for i in inspector.get_indexes(table.name)} == {
            f"ix_{table.name}_{c}" for c in table.indexed
        }
    assert store.migrate() == []  # a current database is left as it is
    store.close()
    with sqlite3.connect(path) as connection:
        assert connection.execute("select max(version) from schema_version").fetchone() == (
            HISTORY_SCHEMA_VERSION,
        )


def test_an_older_database_is_migrated_forward_and_keeps_its_rows(tmp_path):
    """The database the old --sink-url wrote (scores and service_rankings with run_id, no
    schema version, fewer columns) gains the declared tables and columns; no row is lost."""
    path = tmp_path / "sink.db"
    old_scores = scores_rows("old-run")[["improvement_id", "p_hold", "stage"]]
    with sqlite3.connect(path) as connection:
        old_scores.assign(run_id="old-run").to_sql("scores", connection, index=False)
        services_rows()[["rank", "location_id"]].assign(run_id="old-run").to_sql(
            "service_rankings", connection, index=False
        )
    store = HistoryStore(str(path))
    done = store.migrate()
    assert {"created table runs", "created table signoffs", "added column scores.theme"} <= set(
        done
    )
    assert store.migrate() == []
    inspector = sa.inspect(store.engine)
    assert [c["name"] for c in inspector.get_columns("scores")][:4] == [
        "improvement_id",
        "p_hold",
        "stage",
        "run_id",
    ]
    assert set(c["name"] for c in inspector.get_columns("scores")) == set(SCORES.column_names) | {
        "run_id"
    }
    assert {t.name for t in HISTORY_TABLES} <= set(inspector.get_table_names())
    kept = store.rows(HISTORY_TABLES[1], ["old-run"], ("run_id", "improvement_id", "p_hold"))
    assert kept["p_hold"].tolist() == old_scores["p_hold"].tolist()
    # The migrated database takes a new run like any other.
    with store.recording(record("new-run", tmp_path / "out")):
        pass
    store.close()
    assert count(path, "scores", "old-run") == 3
    assert count(path, "scores", "new-run") == 3


def test_a_database_from_a_newer_takehold_is_refused(tmp_path):
    path = tmp_path / "history.db"
    HistoryStore.open(str(path)).close()
    with sqlite3.connect(path) as connection:
        connection.execute(
            "insert into schema_version values (?, ?)",
            (HISTORY_SCHEMA_VERSION + 1, "2030-01-01 00:00:00"),
        )
    with pytest.raises(HistoryError, match=f"schema version {HISTORY_SCHEMA_VERSION + 1}"):
        HistoryStore.open(str(path))


def test_a_run_is_recorded_whole_or_not_at_all(tmp_path):
    path = tmp_path / "history.db"
    store = HistoryStore.open(str(path))
    with (
        pytest.raises(RuntimeError, match="publishing failed"),
        store.recording(record("failed", tmp_path / "out")),
    ):
        raise RuntimeError("publishing failed")
    assert all(count(path, t.name) == 0 for t in HISTORY_TABLES)
    with store.recording(record("good", tmp_path / "out")):
        pass
    assert count(path, "runs", "good") == 1
    assert count(path, "scores", "good") == 3
    assert count(path, "service_rankings", "good") == 1
    assert count(path, "triggers", "good") == 3
    assert count(path, "input_files", "good") == 1
    runs = store.runs(tmp_path / "out")
    assert runs["run_id"].tolist() == ["good"]
    assert runs["as_of"].tolist() == [pd.Timestamp("2026-10-31")]
    assert store.runs(tmp_path / "elsewhere").empty
    store.close()


def test_trigger_rows_pair_each_trigger_with_its_escalation():
    rows = trigger_rows(scores_rows("r"))
    assert rows.to_dict("records") == [
        {"improvement_id": "I1", "location_id": "L1", "trigger": "a", "escalation": "do a"},
        {"improvement_id": "I1", "location_id": "L1", "trigger": "b", "escalation": "do b"},
        {"improvement_id": "I2", "location_id": "L1", "trigger": "c", "escalation": "do c"},
    ]


def test_a_signoff_is_recorded_for_a_known_run_and_changes_no_score(tmp_path):
    store = HistoryStore.open(str(tmp_path / "history.db"))
    with store.recording(record("run-1", tmp_path / "out")):
        pass
    before = store.rows(HISTORY_TABLES[1], ["run-1"])
    at = store.add_signoff("run-1", "A. Analyst", "Ready for the Q4 meeting", datetime(2026, 11, 2))
    assert at == datetime(2026, 11, 2)
    signoffs = store.rows(HISTORY_TABLES[-1], ["run-1"])
    assert signoffs[["signed_by", "note"]].to_dict("records") == [
        {"signed_by": "A. Analyst", "note": "Ready for the Q4 meeting"}
    ]
    pd.testing.assert_frame_equal(store.rows(HISTORY_TABLES[1], ["run-1"]), before)
    with pytest.raises(HistoryError, match="run-9 is not in the run history"):
        store.add_signoff("run-9", "A. Analyst", "")
    store.close()


def test_an_unreachable_database_is_named_without_its_password():
    with pytest.raises(HistoryError) as refused:
        HistoryStore.open("postgresql://quality:s3cret@127.0.0.1:9/history")
    message = str(refused.value)
    assert "127.0.0.1:9/history" in message
    assert "s3cret" not in message


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgresql://u@h:5432/db", "postgresql+psycopg2://u@h:5432/db"),
        ("postgres://u@h/db", "postgresql+psycopg2://u@h/db"),
        ("sqlite:////tmp/x.db", "sqlite:////tmp/x.db"),
    ],
)
def test_database_urls(given, expected):
    assert database_url(given) == expected


def test_a_plain_path_means_sqlite(tmp_path):
    assert database_url(str(tmp_path / "h.db")) == f"sqlite:///{tmp_path / 'h.db'}"
