"""What the report is given about earlier runs of the same output folder.

The report reads one run's folder; the run history (a database `pipelines.history` keeps) holds
the earlier runs. The caller reads what the report needs from it into a `RunHistory` of plain
frames, so the report stays pure reading and never talks to a database or a model registry.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from contracts.tables import HISTORY_RUNS, HISTORY_SIGNOFFS

TREND_SCORE_COLUMNS = (
    "run_id",
    "improvement_id",
    "location_id",
    "p_hold",
    "p_hold_low",
    "p_hold_high",
    "stage",
)
TREND_SERVICE_COLUMNS = ("run_id", "location_id", "rank", "priority_score")


@dataclass(frozen=True)
class Comparison:
    """The earlier run this report compares with, and what moved since.

    `scores` and `services` are the earlier run's own rows (`SCORES`, `SERVICES`); `moves` and
    `move_terms` come from `models.governance.movement_reasons`; `notes` say what could not be
    worked out (e.g. the earlier run's folder was removed, so no term is named).
    """

    run: dict  # the earlier run's record (HISTORY_RUNS)
    why: str  # "the last run before this quarter (Q4 2026) began", ...
    scores: pd.DataFrame
    services: pd.DataFrame
    moves: pd.DataFrame
    move_terms: pd.DataFrame
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class RunHistory:
    """Earlier runs for the report: the runs its trends show (`runs`, oldest first, with their
    `scores` and `services` rows in TREND_*_COLUMNS), every sign-off of this run and earlier ones
    (`signoffs`, HISTORY_SIGNOFFS with the run's as_of), and the comparison (None, with
    `comparison_note` saying why, when there is none)."""

    runs: pd.DataFrame
    scores: pd.DataFrame
    services: pd.DataFrame
    signoffs: pd.DataFrame
    comparison: Comparison | None = None
    comparison_note: str = ""
    database: str = ""  # where the history is (credentials removed), for the page
    notes: tuple[str, ...] = field(default=())


def empty_history(note: str) -> RunHistory:
    """No earlier runs (the history is off, empty or unreadable): `note` says why."""
    return RunHistory(
        runs=pd.DataFrame(columns=list(HISTORY_RUNS.column_names)),
        scores=pd.DataFrame(columns=list(TREND_SCORE_COLUMNS)),
        services=pd.DataFrame(columns=list(TREND_SERVICE_COLUMNS)),
        signoffs=pd.DataFrame(columns=[*HISTORY_SIGNOFFS.column_names, "as_of"]),
        comparison_note=note,
        notes=(note,),
    )
