"""Governance review cadence: when each improvement is next due for review, and what is overdue.

Registered Managers review each open improvement monthly, senior leadership quarterly (the
intervals are `EvidenceThreshold.rm_review_interval_months` and
`senior_review_interval_months`). A review is due one interval after the last review at that
level; with no review yet, one interval after action started (or, with no action yet, after
the improvement was identified). It is overdue when as_of is more than `review_grace_days`
after the due date. Board reviews count as senior reviews; a senior review does not stand in
for the Registered Manager's own monthly review.

The public entry with the defaults is `models.rules.review_cadence`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from contracts.params import EvidenceThreshold
from features.columns import IMPROVEMENT_ID

RM_LEVELS = ("registered_manager",)
SENIOR_LEVELS = ("senior_leadership", "board")


def last_review_on(
    reviews: pd.DataFrame | None, levels: tuple[str, ...], as_of: pd.Timestamp
) -> pd.Series:
    """Date of the latest review at one of `levels` on or before as_of, by improvement_id."""
    if reviews is None or reviews.empty:
        return pd.Series(dtype="datetime64[ns]", name="reviewed_on")
    dated = pd.to_datetime(reviews["reviewed_on"])
    relevant = reviews["level"].astype("str").isin(levels) & (dated <= as_of)
    return dated[relevant].groupby(reviews.loc[relevant, IMPROVEMENT_ID].astype("str")).max()


def first_review_anchor(improvements: pd.DataFrame) -> pd.Series:
    """The date reviews are counted from when none has happened: action start, else identified."""
    action = pd.to_datetime(improvements["action_started_on"])
    return action.fillna(pd.to_datetime(improvements["identified_on"]))


def review_dates(
    improvements: pd.DataFrame,
    reviews: pd.DataFrame | None,
    as_of,
    threshold: EvidenceThreshold,
    closed_ids=None,
) -> pd.DataFrame:
    """Review cadence for improvements identified on or before as_of.

    Returns improvement_id, last_rm_review_on, next_rm_review_due, rm_review_overdue,
    last_senior_review_on, next_senior_review_due, senior_review_overdue, review_overdue
    (either overdue); one row per improvement, dates as datetime64 (NaT when no review yet).
    An improvement in `closed_ids` (closed by leaders as of as_of) has no review due and is
    never overdue: closing it is what ends the monitoring.
    """
    as_of = pd.Timestamp(as_of).normalize()
    known = improvements[pd.to_datetime(improvements["identified_on"]) <= as_of]
    ids = known[IMPROVEMENT_ID].astype("str")
    anchor = first_review_anchor(known).set_axis(ids.to_numpy())
    grace = pd.Timedelta(days=threshold.review_grace_days)
    closed = np.zeros(len(ids), dtype=bool)
    if closed_ids is not None and len(closed_ids):
        closed = pd.Index(list(closed_ids), dtype="str").unique().get_indexer(ids) >= 0
    columns = {IMPROVEMENT_ID: ids.to_numpy()}
    for prefix, levels, months in (
        ("rm", RM_LEVELS, threshold.rm_review_interval_months),
        ("senior", SENIOR_LEVELS, threshold.senior_review_interval_months),
    ):
        last = last_review_on(reviews, levels, as_of).reindex(ids.to_numpy())
        due = last.fillna(anchor) + pd.DateOffset(months=months)
        columns[f"last_{prefix}_review_on"] = last.to_numpy(dtype="datetime64[ns]")
        due = due.where(~closed)
        columns[f"next_{prefix}_review_due"] = due.to_numpy(dtype="datetime64[ns]")
        columns[f"{prefix}_review_overdue"] = (as_of > due + grace).to_numpy(dtype=bool)
    frame = pd.DataFrame(columns)
    return frame.assign(review_overdue=frame["rm_review_overdue"] | frame["senior_review_overdue"])
