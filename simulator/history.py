"""The histories behind the export, and the export as it stood on any date.

- `declarations_frame`: every change of what leaders declared (contract v2), the last one
  identical to `improvements.declared_status` / `declared_on`;
- `actions_frame`: each improvement's plan, one immediate control at the action start and
  some embedding actions after it, completed or not (activity, never evidence);
- `entry_lags`: how many days after its date each row was entered (most on the day);
- `export_as_it_stood`: the export a provider group would have handed over on a past date:
  rows dated after it or entered after it absent, claims as they stood, nothing later in any
  column.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

from contracts.export import FILES_BY_NAME
from features.history import export_as_it_stood as cut_export
from simulator.dynamics import CLOSED
from simulator.frames import DECLARED_NAMES, _ids, _month_day, _typed
from simulator.group import NEVER, Group, sigmoid
from simulator.parameters import Parameters

LATE_FILES = ("checks", "feedback", "incidents", "reviews", "declarations", "actions")
DECLARING_LEVEL = {CLOSED: "senior_leadership"}  # closure is signed off above the home


def declarations_frame(
    group: Group, ids: pa.Array, rows: dict, improvements: pd.DataFrame, rng
) -> pd.DataFrame:
    """One row per change of the declared status; the last change of each improvement carries
    the improvements file's declared_on, so the file and the history agree."""
    imp, month, status = rows["improvement"], rows["month"], rows["status"]
    cal = group.calendar
    lo = np.where(month == group.action_month[imp], group.action_day[imp], 1)
    day = lo + np.floor(rng.random(len(imp)) * (cal.days[month] - lo + 1)).astype(np.int64)
    dates = _month_day(cal, month, day)
    order = np.lexsort((month, imp))
    imp, month, status, dates = imp[order], month[order], status[order], dates[order]
    last = np.r_[imp[1:] != imp[:-1], True] if len(imp) else np.array([], bool)
    current = improvements["declared_on"].to_numpy("datetime64[D]")
    dates = np.where(last, current[imp], dates)
    level = np.array([DECLARING_LEVEL.get(int(s), "registered_manager") for s in range(4)])
    names = np.array([DECLARED_NAMES.get(s, "") for s in range(4)], dtype=object)
    return _typed(
        {
            "improvement_id": ids.take(pa.array(imp)),
            "declared_on": dates,
            "declared_status": names[status],
            "level": level[status].astype(object),
        },
        FILES_BY_NAME["declarations"],
    )


def actions_frame(group: Group, p: Parameters, improvements: pd.DataFrame, rng) -> pd.DataFrame:
    """Each started improvement's plan: an immediate control on the action start, then
    embedding actions (training, supervision, process, rota) planned over the next two months,
    due one to four months later, completed or not; nothing dated after the export's end."""
    end = np.datetime64(group.calendar.end, "D")
    started = np.flatnonzero(group.action_month != NEVER)
    start = improvements["action_started_on"].to_numpy("datetime64[D]")
    started = started[~np.isnat(start[started])]
    embedding = 1 + rng.poisson(p.embedding_actions_mean, len(started))
    imp = np.concatenate([started, np.repeat(started, embedding)])
    immediate = np.arange(len(imp)) < len(started)
    n = len(imp)
    planned = start[imp] + np.where(immediate, 0, rng.integers(0, 61, n)).astype("timedelta64[D]")
    due = planned + np.where(immediate, 7, rng.integers(30, 121, n)).astype("timedelta64[D]")
    leader = group.leadership[group.loc[imp]]
    done = immediate | (
        rng.random(n) < sigmoid(p.action_completion_logit + p.action_completion_leadership * leader)
    )
    took = np.where(immediate, rng.integers(0, 15, n), rng.integers(14, 151, n))
    completed = planned + took.astype("timedelta64[D]")
    completed = np.where(done & (completed <= end), completed, np.datetime64("NaT"))
    keep = planned <= end
    order = np.lexsort((planned[keep], imp[keep]))
    kind = np.where(immediate, "immediate_control", "embedding").astype(object)
    return _typed(
        {
            "action_id": _ids("ACT-", int(keep.sum()), 8),
            "improvement_id": pa.array(
                np.asarray(improvements["improvement_id"], dtype=object)[imp[keep][order]]
            ),
            "kind": kind[keep][order],
            "planned_on": planned[keep][order],
            "due_on": due[keep][order],
            "completed_on": completed[keep][order],
        },
        FILES_BY_NAME["actions"],
    )


def entry_lags(frames: dict[str, pd.DataFrame], p: Parameters, rng) -> dict[str, np.ndarray]:
    """Days between each row's date and its entry: 0 for most rows, a geometric delay (mean
    `late_entry_mean_days`) for a `late_entry_share` of them."""
    lags = {}
    for name in LATE_FILES:
        n = len(frames[name])
        late = rng.random(n) < p.late_entry_share
        delay = rng.geometric(1.0 / max(p.late_entry_mean_days, 1.0), n)
        lags[name] = np.where(late, delay, 0).astype(np.int32)
    return lags


def export_as_it_stood(
    frames: dict[str, pd.DataFrame], lags: dict[str, np.ndarray], as_of, *, late_entries=True
) -> dict[str, pd.DataFrame]:
    """The export as a provider group would have handed it over on `as_of`: rows entered after
    it absent (`late_entries`), then everything dated after it removed and the claims as they
    stood (`features.history.export_as_it_stood`)."""
    t = pd.Timestamp(as_of)
    entered = {}
    for name, frame in frames.items():
        lag = lags.get(name)
        if late_entries and lag is not None:
            dates = frame[FILES_BY_NAME[name].date_column]
            frame = frame[(dates + pd.to_timedelta(lag, unit="D") <= t).to_numpy()]
        entered[name] = frame
    return cut_export(entered, t)
