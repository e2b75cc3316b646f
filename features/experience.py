"""Lived experience and workforce features.

Feedback concerns an improvement when it is at the improvement's location and has its theme
or names it. Workforce figures are the location's (all its teams). Day windows are exact:
"90 days to as_of" is (as_of - 90 days, as_of]; "the 90 days before that" is
(as_of - 180 days, as_of - 90 days]. A team-week counts in the window of its week_start.
Without the optional file the features are NaN; with it, 0 is a true count.
"""

from __future__ import annotations

import numpy as np

from contracts.export import EVIDENCE_CATEGORIES, PEOPLES_EXPERIENCE
from contracts.params import FeatureParams
from features.evidence import AsOfView
from features.panels import group_sum, ratio

PEOPLE = EVIDENCE_CATEGORIES.index(PEOPLES_EXPERIENCE)


def experience_features(view: AsOfView, params: FeatureParams) -> dict[str, np.ndarray]:
    """Every lived-experience and workforce feature (features.columns), per improvement."""
    recent = params.recent_days
    sentiment = people_sentiment_mean(view, 0, recent)
    sentiment_change = sentiment - people_sentiment_mean(view, recent, 2 * recent)
    agency, unfilled, leavers = workforce_shares(view, 0, recent)
    agency_before, unfilled_before, _ = workforce_shares(view, recent, 2 * recent)
    return {
        "theme_sentiment_90d_mean": sentiment,
        "theme_sentiment_change_90d": sentiment_change,
        "theme_complaints_90d_count": theme_complaints_count(view, recent),
        "agency_shift_share_90d": agency,
        "unfilled_shift_share_90d": unfilled,
        "agency_shift_share_change_90d": agency - agency_before,
        "unfilled_shift_share_change_90d": unfilled - unfilled_before,
        "leavers_per_100_shifts_90d": 100.0 * leavers,
        "workforce_feedback_mismatch_flag": workforce_feedback_mismatch(
            (agency + unfilled) - (agency_before + unfilled_before), sentiment_change
        ),
    }


def people_sentiment_mean(view: AsOfView, skip_days: int, days: int) -> np.ndarray:
    """Mean sentiment of people's and families' feedback dated in
    (as_of - days, as_of - skip_days]; NaN when there is none."""
    count = len(view.evidence.improvements)
    if view.evidence.feedback is None:
        return np.full(count, np.nan)
    rows = view.evidence.feedback.window(view.day - days + 1, view.day - skip_days)
    people = rows[rows["category"] == PEOPLE]
    improvement = people["improvement"].to_numpy()
    return ratio(
        group_sum(improvement, people["sentiment"].to_numpy(), count),
        np.bincount(improvement, minlength=count)[:count],
    )


def theme_complaints_count(view: AsOfView, days: int) -> np.ndarray:
    """Complaints (channel complaint, any respondent) concerning the improvement."""
    count = len(view.evidence.improvements)
    if view.evidence.feedback is None:
        return np.full(count, np.nan)
    rows = view.evidence.feedback.window(view.day - days + 1, view.day)
    return group_sum(rows["improvement"].to_numpy(), rows["complaint"].to_numpy(), count)


def workforce_shares(view: AsOfView, skip_days: int, days: int):
    """Agency and unfilled shares of planned shifts, and leavers per planned shift, at each
    improvement's location, weeks starting in (as_of - days, as_of - skip_days]."""
    count = len(view.evidence.improvements)
    if view.evidence.workforce is None:
        return np.full(count, np.nan), np.full(count, np.nan), np.full(count, np.nan)
    weeks = view.evidence.workforce.window(view.day - days + 1, view.day - skip_days)
    by_location = weeks.groupby("location")[
        ["planned", "agency", "unfilled", "leavers", "planned_with_leavers"]
    ].sum()
    at = by_location.reindex(view.evidence.location)
    planned = at["planned"].to_numpy()
    return (
        ratio(at["agency"].to_numpy(), planned),
        ratio(at["unfilled"].to_numpy(), planned),
        ratio(at["leavers"].to_numpy(), at["planned_with_leavers"].to_numpy()),
    )


def workforce_feedback_mismatch(
    gap_share_change: np.ndarray, sentiment_change: np.ndarray
) -> np.ndarray:
    """1 when agency + unfilled share fell while people's sentiment did not rise, else 0;
    NaN when either change is missing."""
    mismatch = (gap_share_change < 0) & (sentiment_change <= 0)
    missing = np.isnan(gap_share_change) | np.isnan(sentiment_change)
    return np.where(missing, np.nan, mismatch.astype("float64"))
