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

import numpy as np
import pandas as pd

from contracts.spreadsheet import spreadsheet_safe as neutralise_formulas
from contracts.tables import OutputTable, conform

log = logging.getLogger(__name__)

CURRENT = "current"
RUNS = "runs"
# The files published at the top of OUT/ (links through OUT/current).
PUBLISHED = (
    "scores.csv",
    "scores.parquet",
    "services.csv",
    "manifest.json",
    "report.html",
    "monthly_compliance.parquet",
    "timeline.parquet",
    "contributions.parquet",
    "model_inputs.parquet",
    "teams.parquet",
    "model",
    "tables",
    "validation.json",
    "quarantine",
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


def write_declared(
    frame: pd.DataFrame, table: OutputTable, folder: Path, features: tuple[str, ...] = ()
) -> None:
    """`frame` to every file `table` declares, with exactly its declared columns (then
    `features`, for a table that takes the model's features)."""
    shaped = conform(frame, table, features)
    for name in table.files:
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        write_table(shaped, path)


def write_table(frame: pd.DataFrame, path: Path) -> None:
    """Parquet as is; CSV with spreadsheet formulas neutralised and ISO dates."""
    if path.suffix == ".parquet":
        frame.to_parquet(path, index=False)
        return
    safe = neutralise_formulas(frame)
    text = csv_text(safe)
    if text is None:
        safe.to_csv(path, index=False, date_format="%Y-%m-%d", lineterminator="\n")
    else:
        path.write_text(text, encoding="utf-8")


def csv_text(frame: pd.DataFrame) -> str | None:
    """The frame as `to_csv(index=False, date_format="%Y-%m-%d", lineterminator="\\n")`
    writes it, byte for byte, built a column at a time; None for a column type it does not
    cover (the caller then uses pandas).

    pandas writes CSV a cell at a time through Python's csv module: 6 s for the 67,000
    improvements of a 3,000-service group, whose reasons run to hundreds of characters.
    """
    if frame.columns.has_duplicates or not len(frame.columns):
        return None
    cells = []
    for name in frame.columns:
        column = _csv_cells(frame[name])
        if column is None:
            return None
        cells.append(column)
    header = ",".join(_quoted(pd.Series([str(n) for n in frame.columns], dtype=object)))
    if not len(frame):
        return header + "\n"
    rows = map(",".join, zip(*(c.tolist() for c in cells), strict=True))
    return header + "\n" + "\n".join(rows) + "\n"


def _csv_cells(column: pd.Series) -> pd.Series | None:
    """One column's cells as CSV text (object dtype), missing as empty."""
    dtype = column.dtype
    missing = column.isna().to_numpy()
    if pd.api.types.is_bool_dtype(dtype) or pd.api.types.is_integer_dtype(dtype):
        values = column.astype(object).where(~missing, "").map(str)
        return pd.Series(values.to_numpy(dtype=object), dtype=object)
    if pd.api.types.is_float_dtype(dtype) and isinstance(dtype, np.dtype):
        text = column.to_numpy().astype(str).astype(object)  # a new array
        text[missing] = ""
        return pd.Series(text, dtype=object)
    if pd.api.types.is_datetime64_any_dtype(dtype) and getattr(dtype, "tz", None) is None:
        text = column.dt.strftime("%Y-%m-%d").to_numpy(dtype=object, na_value="")
        return pd.Series(text, dtype=object)
    if pd.api.types.is_string_dtype(dtype) or isinstance(dtype, pd.CategoricalDtype):
        values = column.astype(object).to_numpy(dtype=object, copy=True)
        if not pd.api.types.is_string_dtype(dtype) and not all(
            isinstance(v, str) for v in values[~missing]
        ):
            return None
        values[missing] = ""
        needs = (
            column.astype("str")
            .str.contains('[,"\n]', regex=True)
            .to_numpy(dtype=bool, na_value=False)
        )
        return _quoted(pd.Series(values, dtype=object), needs)
    return None


def _quoted(text: pd.Series, needs: np.ndarray | None = None) -> pd.Series:
    """Python's csv module, minimal quoting with "\\n" line ends: a cell holding a comma, a
    quote or a line feed (`needs`, when known) is quoted, its quotes doubled."""
    if needs is None:
        needs = np.array([("," in v) or ('"' in v) or ("\n" in v) for v in text], dtype=bool)
    if needs.any():
        text = text.copy()
        text[needs] = ['"' + v.replace('"', '""') + '"' for v in text[needs]]
    return text


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


def _link_through_current(out: Path, name: str) -> None:
    link = out / name
    if link.is_symlink():
        return
    if link.exists():  # a real file left by an older layout: keep it, don't overwrite
        log.warning("%s exists and is not a link; leaving it in place", link)
        return
    link.symlink_to(Path(CURRENT) / name)
