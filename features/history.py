"""What an export said on a past date: the claim in force, the actions, the export as it stood.

Contract v2 (`shared/spec/evidence-exports.md`, "declarations"): the claim in force at a date
`t` is the latest declaration dated on or before `t` (at the most senior level where several
share that date). Without a declarations file, `improvements.declared_status` counts as one
declaration made on `declared_on`; before that date the claim is *unknown* (whether a status
was set later is information from the future), and an improvement with no declared status has
no claim ("none").

Claims are never model inputs; the claim check, the cross-check and the report read them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from contracts.export import (
    CLAIM_UNKNOWN,
    DECLARATION_LEVELS,
    FILES_BY_NAME,
    NO_CLAIM_YET,
)
from features.panels import day_numbers, positions_in, text

# Declaration levels, lowest first: on a day with several, the most senior one counts.
LEVEL_ORDER = {level: rank for rank, level in enumerate(DECLARATION_LEVELS)}


def declaration_rows(declarations: pd.DataFrame, ids: pd.Index) -> pd.DataFrame:
    """Declarations as (improvement position in `ids`, day, status), sorted so that the last
    row of an improvement on or before any day is the claim in force then."""
    level = (
        declarations["level"]
        if "level" in declarations
        else pd.Series(None, index=declarations.index, dtype="object")
    )
    frame = pd.DataFrame(
        {
            "improvement": positions_in(ids, declarations["improvement_id"]),
            "day": day_numbers(declarations["declared_on"]),
            "level": pd.Series(text(level)).map(LEVEL_ORDER).fillna(-1).to_numpy(),
            "status": text(declarations["declared_status"]),
        }
    )
    frame = frame[(frame["improvement"] >= 0) & frame["day"].notna() & pd.notna(frame["status"])]
    return frame.sort_values(["day", "level"], kind="mergesort", ignore_index=True)


def claim_in_force(
    improvements: pd.DataFrame, declarations: pd.DataFrame | None, as_of
) -> np.ndarray:
    """The claim in force at `as_of` for each improvement (in table order): a declared status,
    "none" (nothing declared by then) or "unknown" (no history, before the one declaration)."""
    day = float(day_numbers(pd.DatetimeIndex([pd.Timestamp(as_of)]))[0])
    ids = pd.Index(text(improvements["improvement_id"]))
    if declarations is not None:
        return claims_from_history(declaration_rows(declarations, ids), len(ids), day)
    return claims_from_improvements(
        text(improvements["declared_status"]), day_numbers(improvements["declared_on"]), day
    )


def claims_from_history(rows: pd.DataFrame, count: int, day: float) -> np.ndarray:
    """The latest declaration on or before `day` per improvement position; "none" without."""
    out = np.full(count, NO_CLAIM_YET, dtype=object)
    seen = rows[rows["day"] <= day].drop_duplicates("improvement", keep="last")
    out[seen["improvement"].to_numpy()] = seen["status"].to_numpy()
    return out


def claim_days_from_history(rows: pd.DataFrame, count: int, day: float) -> np.ndarray:
    """The day of the latest declaration on or before `day` per improvement position; NaN
    without one."""
    out = np.full(count, np.nan)
    seen = rows[rows["day"] <= day].drop_duplicates("improvement", keep="last")
    out[seen["improvement"].to_numpy()] = seen["day"].to_numpy()
    return out


def claims_from_improvements(status: np.ndarray, declared_day: np.ndarray, day: float):
    """v1 claims: the current status from its declared_on; "unknown" before it."""
    declared = pd.notna(status)
    return np.where(
        ~declared,
        NO_CLAIM_YET,
        np.where(declared_day <= day, status, CLAIM_UNKNOWN),
    ).astype(object)


def declarations_disagreeing(
    improvements: pd.DataFrame, declarations: pd.DataFrame
) -> pd.DataFrame:
    """Improvements whose declared_status / declared_on differ from the latest declaration of
    the history (the history wins; the run says how many). Rows of `improvements`."""
    ids = pd.Index(text(improvements["improvement_id"]))
    latest = claims_from_history(declaration_rows(declarations, ids), len(ids), np.inf)
    rows = declaration_rows(declarations, ids).drop_duplicates("improvement", keep="last")
    latest_day = np.full(len(ids), np.nan)
    latest_day[rows["improvement"].to_numpy()] = rows["day"].to_numpy()
    status = text(improvements["declared_status"])
    stated = np.where(pd.isna(status), NO_CLAIM_YET, status)
    day = day_numbers(improvements["declared_on"])
    same_day = (day == latest_day) | (np.isnan(day) & np.isnan(latest_day))
    return improvements[(stated != latest) | ~same_day]


def actions_as_of(actions: pd.DataFrame, improvement_id: str, as_of) -> pd.DataFrame:
    """The actions of one improvement as known at `as_of`: planned on or before it, with a
    completion dated after it read as not (yet) completed. Activity, never evidence."""
    t = pd.Timestamp(as_of)
    mine = actions[(actions["improvement_id"] == improvement_id) & (actions["planned_on"] <= t)]
    completed = mine["completed_on"].where(mine["completed_on"] <= t)
    return mine.assign(completed_on=completed, overdue=completed.isna() & (mine["due_on"] < t))


def export_as_it_stood(tables: dict[str, pd.DataFrame], as_of) -> dict[str, pd.DataFrame]:
    """The export as far as it can tell what it held at `as_of`.

    Rows dated after `as_of` are removed (each file's placing date), with the rows of
    improvements identified after it; a later action start or completion is blanked; the
    improvements' claim is the one in force then (from the declarations history, else kept only
    when declared on or before `as_of`). What the export cannot tell is left as it is: rows
    entered late (the simulator knows those) and a v1 claim replaced since `as_of`.
    """
    t = pd.Timestamp(as_of)
    cut: dict[str, pd.DataFrame] = {}
    for name, frame in tables.items():
        date_column = FILES_BY_NAME[name].date_column
        cut[name] = frame[frame[date_column] <= t] if date_column else frame
    improvements = cut["improvements"]
    improvements = improvements.assign(
        action_started_on=improvements["action_started_on"].where(
            improvements["action_started_on"] <= t
        )
    )
    cut["improvements"] = _claims_as_they_stood(improvements, cut.get("declarations"), t)
    known = pd.Index(text(improvements["improvement_id"]))
    for name, frame in cut.items():
        if name != "improvements" and "improvement_id" in frame.columns:
            linked = frame["improvement_id"]
            cut[name] = frame[linked.isna().to_numpy() | (positions_in(known, linked) >= 0)]
    if "actions" in cut:
        actions = cut["actions"]
        cut["actions"] = actions.assign(
            completed_on=actions["completed_on"].where(actions["completed_on"] <= t)
        )
    return cut


def _claims_as_they_stood(
    improvements: pd.DataFrame, declarations: pd.DataFrame | None, t: pd.Timestamp
) -> pd.DataFrame:
    if declarations is None:
        later = improvements["declared_on"] > t
        return improvements.assign(
            declared_status=improvements["declared_status"].mask(later),
            declared_on=improvements["declared_on"].mask(later),
        )
    ids = pd.Index(text(improvements["improvement_id"]))
    rows = declaration_rows(declarations, ids).drop_duplicates("improvement", keep="last")
    status = np.full(len(ids), None, dtype=object)
    day = np.full(len(ids), np.nan)
    status[rows["improvement"].to_numpy()] = rows["status"].to_numpy()
    day[rows["improvement"].to_numpy()] = rows["day"].to_numpy()
    dtype = improvements["declared_status"].dtype
    return improvements.assign(
        declared_status=pd.Series(status, index=improvements.index).astype(dtype),
        declared_on=pd.to_datetime(pd.Series(day, index=improvements.index), unit="D").astype(
            "datetime64[ns]"
        ),
    )
