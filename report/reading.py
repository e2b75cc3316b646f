"""Read a finished run's output folder for the report (the tables of `contracts.tables`).

The report is pure reading: it never recomputes scores, stages or triggers. Only the columns
named in the run-output contract are kept, so a column the report does not know (free text
included) can never reach the page or the spreadsheets. Missing optional pieces (the model
folder, a previous run) become empty frames and the report says they were absent.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from contracts.tables import (
    BACKTEST,
    CONTRIBUTIONS,
    MONTHLY_COMPLIANCE,
    RELIABILITY,
    SCORES,
    SERVICES,
    SHAPE_FUNCTIONS,
    TEAMS,
    TIMELINE,
)

log = logging.getLogger(__name__)

SCORE_COLUMNS = SCORES.column_names
SERVICE_COLUMNS = SERVICES.column_names
MONTHLY_COLUMNS = MONTHLY_COMPLIANCE.column_names
TIMELINE_COLUMNS = TIMELINE.column_names
CONTRIBUTION_COLUMNS = CONTRIBUTIONS.column_names
BACKTEST_COLUMNS = BACKTEST.column_names
RELIABILITY_COLUMNS = RELIABILITY.column_names
SHAPE_COLUMNS = SHAPE_FUNCTIONS.column_names
TEAM_COLUMNS = TEAMS.column_names
# Columns that hold several items in one cell ("; "-joined text), and dates.
LIST_COLUMNS = SCORES.names_of("list")
DATE_COLUMNS = SCORES.names_of("date")


class RunOutputsError(ValueError):
    """The folder is not a finished run's output (a required file is missing or unreadable):
    the command line named the wrong folder, a usage error (exit code 2)."""

    usage_error = True


@dataclass(frozen=True)
class RunOutputs:
    """Everything the report shows, as read from OUT (one frame per run-output file)."""

    folder: Path
    manifest: dict
    scores: pd.DataFrame
    services: pd.DataFrame
    monthly: pd.DataFrame
    timeline: pd.DataFrame
    contributions: pd.DataFrame
    backtest: pd.DataFrame
    reliability: pd.DataFrame
    shape_functions: pd.DataFrame
    teams: pd.DataFrame
    evidence_threshold: dict
    model_card: str
    previous_scores: pd.DataFrame | None
    absent: tuple[str, ...] = field(default=())


def read_run_outputs(out_dir: Path) -> RunOutputs:
    """Read OUT; raise `RunOutputsError` when scores, services or the manifest is missing."""
    folder = Path(out_dir)
    for required in ("scores.parquet", "services.csv", "manifest.json"):
        if not (folder / required).is_file():
            raise RunOutputsError(f"{folder} has no {required}: is it a finished run's output?")
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    absent: list[str] = []
    model = folder / "model"
    scores = scores_frame(_table(folder / "scores.parquet", SCORE_COLUMNS, absent))
    services = _table(folder / "services.csv", SERVICE_COLUMNS, absent)
    monthly = _table(folder / "monthly_compliance.parquet", MONTHLY_COLUMNS, absent)
    timeline = _table(folder / "timeline.parquet", TIMELINE_COLUMNS, absent)
    contributions = _table(folder / "contributions.parquet", CONTRIBUTION_COLUMNS, absent)
    backtest = _table(model / "backtest.csv", BACKTEST_COLUMNS, absent)
    reliability = _table(model / "reliability.csv", RELIABILITY_COLUMNS, absent)
    shapes = _table(model / "shape_functions.parquet", SHAPE_COLUMNS, absent)
    teams = _table(folder / "teams.parquet", TEAM_COLUMNS, absent)
    threshold = _json(model / "evidence_threshold.json", absent)
    card = _text(model / "model_card.md", absent)
    previous = _previous_scores(folder, manifest.get("previous_run_id"), absent)
    outputs = RunOutputs(
        folder=folder,
        manifest=manifest,
        scores=scores,
        services=services,
        monthly=monthly,
        timeline=timeline,
        contributions=contributions,
        backtest=backtest,
        reliability=reliability,
        shape_functions=shapes,
        teams=teams,
        evidence_threshold=threshold,
        model_card=card,
        previous_scores=previous,
        absent=tuple(absent),
    )
    log.info(
        "read run outputs: %d improvements, %d services, %d absent pieces",
        len(outputs.scores),
        len(outputs.services),
        len(absent),
    )
    return outputs


def scores_frame(scores: pd.DataFrame) -> pd.DataFrame:
    """Scores with list cells as tuples of text and review dates as datetimes."""
    lists = {c: scores[c].map(text_items) for c in LIST_COLUMNS if c in scores}
    dates = {c: pd.to_datetime(scores[c], errors="coerce") for c in DATE_COLUMNS if c in scores}
    return scores.assign(**lists, **dates)


def text_items(cell) -> tuple[str, ...]:
    """The items of a multi-item cell: a list/array, or text joined by "; " (empty: none)."""
    if cell is None or (isinstance(cell, float) and pd.isna(cell)) or cell is pd.NA:
        return ()
    if isinstance(cell, str):
        return tuple(part.strip() for part in cell.split(";") if part.strip())
    return tuple(str(item) for item in cell if item is not None and str(item).strip())


def _table(path: Path, columns: tuple[str, ...], absent: list[str]) -> pd.DataFrame:
    if not path.is_file():
        absent.append(path.name)
        return pd.DataFrame({c: pd.Series(dtype="object") for c in columns})
    frame = pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path)
    kept = [c for c in columns if c in frame.columns]
    return frame[kept].reindex(columns=list(columns))


def _json(path: Path, absent: list[str]) -> dict:
    if not path.is_file():
        absent.append(path.name)
        return {}
    return json.loads(path.read_text(encoding="utf-8"))


def _text(path: Path, absent: list[str]) -> str:
    if not path.is_file():
        absent.append(path.name)
        return ""
    return path.read_text(encoding="utf-8")


def _previous_scores(folder: Path, run_id: str | None, absent: list[str]) -> pd.DataFrame | None:
    if not run_id:
        return None
    name = Path(str(run_id)).name  # a bare folder name: the manifest cannot point elsewhere
    # OUT/runs/<previous>/ seen from OUT, or a sibling when the report is built inside a run
    # folder (OUT/runs/<run_id>/) before it is published.
    candidates = [folder / "runs" / name / "scores.parquet"]
    if folder.resolve().parent.name == "runs":
        candidates.append(folder.resolve().parent / name / "scores.parquet")
    path = next((c for c in candidates if c.is_file()), candidates[0])
    if not path.is_file():
        absent.append(f"runs/{name}/scores.parquet")
        return None
    return scores_frame(_table(path, SCORE_COLUMNS, absent))
