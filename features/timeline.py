"""Timeline features: how long the improvement has run and how clear its record is.

Months are calendar months; "since action" means from the calendar month of
action_started_on to the month of the as-of date (that month holding only rows dated on or
before the as-of date). Undefined without a started action: NaN.
"""

from __future__ import annotations

import numpy as np

from features.evidence import AsOfView
from features.panels import group_max
from features.series import last_index


def timeline_features(view: AsOfView) -> dict[str, np.ndarray]:
    """Every timeline feature (features.columns), one value per improvement."""
    evidence = view.evidence
    return {
        "days_since_identified": view.day - evidence.identified_day,
        "days_since_action_started": np.where(
            view.action_started, view.day - evidence.action_day, np.nan
        ),
        "review_cycles_since_action_count": review_cycles_since_action_count(view),
        "consecutive_months_at_standard_count": consecutive_months_at_standard_count(view),
        "months_since_below_standard": months_since_below_standard(view),
        "evidence_span_days": evidence_span_days(view),
        "days_since_latest_review": days_since_latest_review(view),
        "reviews_180d_count": reviews_count(view, 180),
    }


def review_cycles_since_action_count(view: AsOfView) -> np.ndarray:
    """Months since the action month with a compliance value; NaN without action."""
    cycles = np.count_nonzero((view.sampled > 0) & view.since_action, axis=1)
    return np.where(view.action_started, cycles, np.nan)


def consecutive_months_at_standard_count(view: AsOfView) -> np.ndarray:
    """Run of months at standard ending at the latest month with a value; NaN without one."""
    valued = ~np.isnan(view.at_standard)
    latest = last_index(valued)
    columns = np.arange(view.at_standard.shape[1])[None, :]
    # A month below the standard or without a value, up to the latest value, ends the run.
    breaks = (view.at_standard != 1.0) & (columns <= latest[:, None])
    last_break = np.where(breaks, columns, -1).max(axis=1)
    return np.where(latest >= 0, latest - last_break, np.nan)


def months_since_below_standard(view: AsOfView) -> np.ndarray:
    """Months from the last month below the standard since action to the as-of month."""
    below = (view.at_standard == 0.0) & view.since_action
    last_below = last_index(below)
    return np.where(last_below >= 0, view.sampled.shape[1] - 1 - last_below, np.nan)


def evidence_span_days(view: AsOfView) -> np.ndarray:
    """Days from the first to the last primary check dated on or before the as-of date."""
    seen = ~np.isnan(view.last_day)
    latest = np.where(
        seen.any(axis=1), np.nanmax(np.where(seen, view.last_day, -np.inf), axis=1), np.nan
    )
    return latest - view.evidence.first_primary_day


def days_since_latest_review(view: AsOfView) -> np.ndarray:
    """Days from the latest governance review dated on or before t; NaN without one."""
    reviews = view.evidence.reviews
    count = len(view.evidence.improvements)
    if reviews is None:
        return np.full(count, np.nan)
    rows = reviews.window(-np.inf, view.day)
    latest = group_max(rows["improvement"].to_numpy(), rows["day"].to_numpy(), count)
    return view.day - latest


def reviews_count(view: AsOfView, days: int) -> np.ndarray:
    """Governance reviews dated in the `days` days to t; NaN without a reviews file."""
    reviews = view.evidence.reviews
    count = len(view.evidence.improvements)
    if reviews is None:
        return np.full(count, np.nan)
    rows = reviews.window(view.day - days + 1, view.day)
    return np.bincount(rows["improvement"].to_numpy(), minlength=count)[:count].astype(float)
