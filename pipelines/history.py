"""The run history: every run that fully succeeded, kept in one SQL database.

By default the database is SQLite under `$TAKEHOLD_HOME` (`history.db`); any SQLAlchemy URL
works the same way (`postgresql://...` goes through psycopg2). Its tables are declared once in
`contracts.tables.HISTORY_TABLES`: the run record, every run's scores and service rankings (the
run's own rows, with the run id in front), the triggers that fired, the input files with their
hashes and row counts, warnings about the input, and sign-offs.

The schema is created and migrated forward by code whenever a database is opened: tables the
declarations add are created, columns they add are added (existing rows keep their values, the
new column is empty for them), and `schema_version` records the version. A database written by
a newer takehold is refused rather than guessed at.

A run is recorded in one transaction around the moment its outputs are published
(`HistoryStore.recording`), so a failed run never leaves part of itself in the history. This is
the only module that talks SQL.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.exc import SQLAlchemyError

from contracts.tables import (
    HISTORY_INPUT_FILES,
    HISTORY_RUNS,
    HISTORY_SCHEMA_VERSION,
    HISTORY_SCORES,
    HISTORY_SERVICES,
    HISTORY_SIGNOFFS,
    HISTORY_TABLES,
    HISTORY_TRIGGERS,
    HISTORY_WARNINGS,
    LIST_SEPARATOR,
    OutputTable,
    conform,
)
from pipelines.config import redacted_url

log = logging.getLogger(__name__)

SCHEMA_VERSION_TABLE = "schema_version"
SQL_TYPES = {
    "id": sa.Text,
    "text": sa.Text,
    "list": sa.Text,
    "date": sa.Date,
    "timestamp": sa.DateTime,
    "number": sa.Double,
    "integer": sa.BigInteger,
    "flag": sa.Boolean,
}
PANDAS_TYPES = {
    "id": "str",
    "text": "str",
    "list": "str",
    "number": "float64",
    "integer": "Int64",
    "flag": "boolean",
}
SQLITE_BUSY_SECONDS = 60  # a sign-off and a nightly run may write at the same moment


class HistoryError(RuntimeError):
    """The history database cannot be used; the message names it (credentials removed)."""


def database_url(url: str) -> str:
    """A SQLAlchemy URL: a plain path means SQLite; postgresql:// goes through psycopg2
    (SQLAlchemy 2.1 maps a bare postgresql:// to psycopg 3, which takehold does not ship)."""
    url = str(url)
    if "://" not in url:
        return f"sqlite:///{Path(url).expanduser().resolve()}"
    if url.startswith(("postgresql://", "postgres://")):
        return "postgresql+psycopg2://" + url.split("://", 1)[1]
    return url


def history_metadata() -> sa.MetaData:
    """The history's tables as SQLAlchemy sees them, built from the declarations."""
    metadata = sa.MetaData()
    sa.Table(
        SCHEMA_VERSION_TABLE,
        metadata,
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("migrated_at", sa.DateTime, nullable=False),
    )
    for table in HISTORY_TABLES:
        sa.Table(
            table.name,
            metadata,
            *(sa.Column(c.name, SQL_TYPES[c.kind]()) for c in table.columns),
            *(sa.Index(f"ix_{table.name}_{c}", c) for c in table.indexed),
        )
    return metadata


@dataclass(frozen=True)
class RunRecord:
    """Everything the history keeps of one run (frames in the run's own declared shapes)."""

    run: dict  # one row of HISTORY_RUNS
    scores: pd.DataFrame  # the run's SCORES rows
    services: pd.DataFrame  # the run's SERVICES rows
    input_files: pd.DataFrame  # HISTORY_INPUT_FILES without run_id
    warnings: pd.DataFrame  # HISTORY_WARNINGS without run_id


class HistoryStore:
    """One history database. `HistoryStore.open(url)` migrates it; `close()` releases it."""

    def __init__(self, url: str):
        self.url = database_url(url)
        self.shown_url = redacted_url(self.url)
        options = {"connect_args": {"timeout": SQLITE_BUSY_SECONDS}}
        if self.url.startswith("sqlite:///"):
            Path(self.url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        else:
            options = {"pool_pre_ping": True}
        try:
            self.engine = sa.create_engine(self.url, **options)
        except (SQLAlchemyError, ImportError, ValueError) as problem:
            raise HistoryError(
                f"the run history {self.shown_url} cannot be used: {_first_line(problem)}"
            ) from None
        self.metadata = history_metadata()

    @classmethod
    def open(cls, url: str) -> HistoryStore:
        """The history at `url`, created or migrated to the declared schema."""
        store = cls(url)
        store.migrate()
        return store

    def close(self) -> None:
        self.engine.dispose()

    # --- schema -----------------------------------------------------------------------------

    def migrate(self) -> list[str]:
        """Create missing tables, add missing columns and indexes, record the schema version.

        Returns what was done, in words (empty when the database was current). Raises
        HistoryError for a database written by a newer takehold, or one that cannot be reached.
        """
        try:
            with self.engine.begin() as connection:
                return self._migrate(connection)
        except SQLAlchemyError as problem:
            raise HistoryError(
                f"the run history {self.shown_url} cannot be opened or migrated: "
                f"{type(problem).__name__}: {_first_line(problem)}"
            ) from None

    def _migrate(self, connection) -> list[str]:
        found = stored_version(connection)
        if found is not None and found > HISTORY_SCHEMA_VERSION:
            raise HistoryError(
                f"the run history {self.shown_url} has schema version {found}; this takehold "
                f"knows versions up to {HISTORY_SCHEMA_VERSION}: upgrade takehold to use it"
            )
        done = []
        present = set(sa.inspect(connection).get_table_names())
        for table in self.metadata.sorted_tables:
            if table.name not in present:
                table.create(connection)
                done.append(f"created table {table.name}")
        inspector = sa.inspect(connection)
        for table in self.metadata.sorted_tables:
            columns = {c["name"] for c in inspector.get_columns(table.name)}
            for column in table.columns:
                if column.name not in columns:
                    kind = column.type.compile(dialect=connection.dialect)
                    connection.execute(
                        sa.text(f'ALTER TABLE "{table.name}" ADD COLUMN "{column.name}" {kind}')
                    )
                    done.append(f"added column {table.name}.{column.name}")
            indexes = {i["name"] for i in inspector.get_indexes(table.name)}
            for index in table.indexes:
                if index.name not in indexes:
                    index.create(connection)
        if found != HISTORY_SCHEMA_VERSION or done:
            connection.execute(
                self.metadata.tables[SCHEMA_VERSION_TABLE].insert(),
                {"version": HISTORY_SCHEMA_VERSION, "migrated_at": _now()},
            )
        for step in done:
            log.info("run history: %s", step)
        return done

    # --- writing ----------------------------------------------------------------------------

    @contextmanager
    def recording(self, record: RunRecord) -> Iterator[None]:
        """Write the run in one transaction around the body (which publishes the outputs):
        when the body raises, nothing of the run is kept."""
        run_id = record.run["run_id"]
        rows = history_rows(record)
        try:
            with self.engine.begin() as connection:
                for table, frame in rows:
                    _append(connection, table, frame)
                yield
        except SQLAlchemyError as problem:
            raise HistoryError(
                f"run {run_id} could not be recorded in the run history {self.shown_url}: "
                f"{type(problem).__name__}: {_first_line(problem)}"
            ) from None
        log.info("run %s recorded in the run history", run_id)

    def add_signoff(self, run_id: str, signed_by: str, note: str, at: datetime | None = None):
        """Record that `run_id` was reviewed; returns the sign-off's time. Refuses a run the
        history does not hold (a run that never finished, or another database)."""
        at = at or _now()
        with self.engine.begin() as connection:
            runs = self.metadata.tables[HISTORY_RUNS.name]
            known = connection.execute(
                sa.select(runs.c.run_id).where(runs.c.run_id == run_id)
            ).first()
            if known is None:
                raise HistoryError(
                    f"run {run_id} is not in the run history {self.shown_url}: only a run that "
                    "finished and was published can be signed off"
                )
            row = {"run_id": run_id, "signed_by": signed_by, "signed_at": at, "note": note}
            connection.execute(self.metadata.tables[HISTORY_SIGNOFFS.name].insert(), row)
        log.info("sign-off recorded for run %s", run_id)  # never who, nor the note
        return at

    # --- reading ----------------------------------------------------------------------------

    def runs(self, out: str | Path | None = None) -> pd.DataFrame:
        """Run records, oldest first (by as-of date, then finish time); those that published
        to `out` when given."""
        table = self.metadata.tables[HISTORY_RUNS.name]
        query = sa.select(*_readable(table, HISTORY_RUNS.column_names))
        if out is not None:
            query = query.where(table.c.out == series_name(out))
        frame = self._read(query, HISTORY_RUNS)
        return frame.sort_values(["as_of", "finished_at", "run_id"], kind="mergesort").reset_index(
            drop=True
        )

    def rows(
        self, declared: OutputTable, run_ids, columns: tuple[str, ...] | None = None
    ) -> pd.DataFrame:
        """`declared`'s rows for the runs `run_ids` (all its columns, or `columns`)."""
        table = self.metadata.tables[declared.name]
        wanted = columns or declared.column_names
        run_ids = [str(r) for r in run_ids]
        if not run_ids:
            return _typed(pd.DataFrame({c: [] for c in wanted}), declared)
        query = sa.select(*_readable(table, wanted)).where(table.c.run_id.in_(run_ids))
        return self._read(query, declared)

    def _read(self, query, declared: OutputTable) -> pd.DataFrame:
        try:
            with self.engine.connect() as connection:
                frame = pd.read_sql(query, connection)
        except SQLAlchemyError as problem:
            raise HistoryError(
                f"the run history {self.shown_url} cannot be read: {_first_line(problem)}"
            ) from None
        return _typed(frame, declared)


def series_name(out: str | Path) -> str:
    """How the history names an output folder: its absolute path."""
    return str(Path(out).expanduser().resolve())


def stored_version(connection) -> int | None:
    """The newest schema version recorded, or None for a database takehold never migrated."""
    if SCHEMA_VERSION_TABLE not in sa.inspect(connection).get_table_names():
        return None
    found = connection.execute(sa.text(f"SELECT max(version) FROM {SCHEMA_VERSION_TABLE}"))
    return found.scalar()


def history_rows(record: RunRecord) -> list[tuple[OutputTable, pd.DataFrame]]:
    """Each history table's new rows for one run, shaped as declared."""
    run_id = record.run["run_id"]
    with_run = {"run_id": run_id}
    return [
        (HISTORY_RUNS, conform(pd.DataFrame([record.run]), HISTORY_RUNS)),
        (HISTORY_SCORES, conform(record.scores.assign(**with_run), HISTORY_SCORES)),
        (HISTORY_SERVICES, conform(record.services.assign(**with_run), HISTORY_SERVICES)),
        (
            HISTORY_TRIGGERS,
            conform(trigger_rows(record.scores).assign(**with_run), HISTORY_TRIGGERS),
        ),
        (HISTORY_INPUT_FILES, conform(record.input_files.assign(**with_run), HISTORY_INPUT_FILES)),
        (HISTORY_WARNINGS, conform(record.warnings.assign(**with_run), HISTORY_WARNINGS)),
    ]


def trigger_rows(scores: pd.DataFrame) -> pd.DataFrame:
    """One row per trigger that fired: improvement_id, location_id, trigger, escalation (the
    escalation in the same position of its list)."""
    keys = scores[["improvement_id", "location_id"]]
    fired = _items(scores, "triggers").merge(
        _items(scores, "escalations"), on=["row", "position"], how="left"
    )
    located = keys.reset_index(drop=True).rename_axis("row").reset_index()
    return fired.merge(located, on="row").rename(
        columns={"triggers": "trigger", "escalations": "escalation"}
    )[["improvement_id", "location_id", "trigger", "escalation"]]


def _items(frame: pd.DataFrame, column: str) -> pd.DataFrame:
    """A list column's items, one per row: row (position in `frame`), position, item."""
    cells = frame[column].reset_index(drop=True).fillna("").astype("str")
    items = cells.str.split(LIST_SEPARATOR.strip()).explode().str.strip()
    items = items[items.fillna("") != ""]
    return pd.DataFrame(
        {
            "row": items.index.to_numpy(),
            "position": items.groupby(level=0).cumcount().to_numpy(),
            column: items.to_numpy(dtype=object),
        }
    )


def _append(connection, table: OutputTable, frame: pd.DataFrame) -> None:
    if frame.empty:
        return
    # Calendar dates as dates (pandas would write a date column's timestamps as date-times).
    dates = {
        c: pd.to_datetime(frame[c]).dt.date.astype(object).where(frame[c].notna(), None)
        for c in table.names_of("date")
    }
    frame.assign(**dates).to_sql(
        table.name, connection, if_exists="append", index=False, chunksize=5_000
    )


def _readable(table: sa.Table, names) -> list:
    """The columns to select; dates and times come back as the database gives them (SQLite:
    text, parsed by `_typed`), since a database an older takehold wrote may hold them in
    another form than the declared type's."""
    return [
        sa.type_coerce(table.c[n], sa.Text).label(n)
        if isinstance(table.c[n].type, sa.Date | sa.DateTime)
        else table.c[n]
        for n in names
    ]


def _typed(frame: pd.DataFrame, declared: OutputTable) -> pd.DataFrame:
    """Each column as its declared kind (SQLite returns dates as text, an empty result has no
    types at all): text as `str`, dates and times as datetimes, numbers as floats, integers
    as Int64, flags as booleans."""
    kinds = {c.name: c.kind for c in declared.columns}
    converted = {}
    for name in frame.columns:
        kind = kinds.get(name)
        if kind in ("date", "timestamp"):
            converted[name] = pd.to_datetime(frame[name], errors="coerce", format="mixed")
        elif kind in PANDAS_TYPES:
            converted[name] = frame[name].astype(PANDAS_TYPES[kind])
    return frame.assign(**converted)


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None, microsecond=0)


_CREDENTIALS = re.compile(r"(\w[\w+.-]*://)[^/@\s]+@")


def _first_line(problem: Exception) -> str:
    """The first line of a database error, any URL's credentials replaced by ***."""
    text = str(problem).strip()
    return _CREDENTIALS.sub(r"\1***@", text.splitlines()[0]) if text else ""
