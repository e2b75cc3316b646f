"""Writing a run's outputs safely.

Every run writes into its own folder, `OUT/runs/<run_id>/`. Only when the whole run has
succeeded does `publish` switch `OUT/current` (a symbolic link) to that folder with one atomic
rename; the files people open, `OUT/scores.csv`, `OUT/services.csv`, `OUT/report.html`, ..., are
links through `OUT/current`, so they all change together and a failed or killed run leaves the
previous outputs untouched.
"""

from __future__ import annotations

import json
import logging
import os
import uuid
from datetime import UTC, date, datetime
from pathlib import Path

import pandas as pd
import sqlalchemy

# One rule for every CSV takehold writes for people: text cells a spreadsheet would run as a
# formula get an apostrophe; numbers keep their type.
from validation.outputs import spreadsheet_safe as neutralise_formulas

log = logging.getLogger(__name__)

CURRENT = "current"
RUNS = "runs"
# The files published at the top of OUT/ (links through OUT/current).
PUBLISHED = (
    "scores.csv", "scores.parquet", "services.csv", "manifest.json", "report.html",
    "monthly_compliance.parquet", "timeline.parquet", "contributions.parquet", "model",
    "tables", "validation.json", "quarantine",
)


def new_run_id(as_of: date, now: datetime | None = None) -> str:
    """A sortable, unique run id: as-of date, UTC time of the run, and a short random tag."""
    now = now or datetime.now(UTC)
    return f"{as_of:%Y%m%d}-{now:%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}"


def start_run_folder(out: Path, run_id: str) -> Path:
    folder = out / RUNS / run_id
    folder.mkdir(parents=True, exist_ok=False)
    return folder


def previous_run_id(out: Path) -> str | None:
    """The run currently published under OUT/, if any."""
    link = out / CURRENT
    if not link.is_symlink():
        return None
    return Path(os.readlink(link)).name


def write_table(frame: pd.DataFrame, path: Path) -> None:
    """Parquet as is; CSV with spreadsheet formulas neutralised and ISO dates."""
    if path.suffix == ".parquet":
        frame.to_parquet(path, index=False)
    else:
        neutralise_formulas(frame).to_csv(path, index=False, date_format="%Y-%m-%d",
                                          lineterminator="\n")


def write_manifest(folder: Path, manifest: dict) -> None:
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=2, default=str) + "\n")


def publish(out: Path, run_folder: Path) -> None:
    """Make `run_folder` the current outputs in one atomic step."""
    out.mkdir(parents=True, exist_ok=True)
    temporary = out / f".{CURRENT}.{uuid.uuid4().hex[:8]}"
    temporary.symlink_to(Path(RUNS) / run_folder.name, target_is_directory=True)
    os.replace(temporary, out / CURRENT)
    for name in PUBLISHED:
        _link_through_current(out, name)
    log.info("published run %s", run_folder.name)


def append_to_sink(url: str, run_id: str, tables: dict[str, pd.DataFrame]) -> None:
    """Append tables to a SQL database (any SQLAlchemy URL; a plain path means SQLite)."""
    if "://" not in url:
        url = f"sqlite:///{Path(url).resolve()}"
    elif url.startswith(("postgresql://", "postgres://")):
        # SQLAlchemy 2.1 maps a bare postgresql:// to psycopg 3; takehold ships psycopg2.
        url = "postgresql+psycopg2://" + url.split("://", 1)[1]
    engine = sqlalchemy.create_engine(url)
    try:
        with engine.begin() as connection:
            for name, frame in tables.items():
                frame.assign(run_id=run_id).to_sql(name, connection, if_exists="append",
                                                   index=False)
    finally:
        engine.dispose()


def _link_through_current(out: Path, name: str) -> None:
    link = out / name
    if link.is_symlink():
        return
    if link.exists():  # a real file left by an older layout: keep it, don't overwrite
        log.warning("%s exists and is not a link; leaving it in place", link)
        return
    link.symlink_to(Path(CURRENT) / name)
