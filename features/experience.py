"""Lived experience and workforce features.

Feedback concerns an improvement when it is at the improvement's location and has its theme
or names it. Workforce figures are the location's (all its teams), except the gap of its
lowest team's key-worker continuity (features.teams reads every team). Day windows are exact:
"90 days to as_of" is (as_of - 90 days, as_of]; "the 90 days before that" is
(as_of - 180 days, as_of - 90 days]. A team-week counts in the window of its week_start.
Without the optional file the features are NaN; with it, 0 is a true count.
"""

from __future__ import annotations

import numpy as np

from contracts.export import EVIDENCE_CATEGORIES, PEOPLES_EXPERIENCE
from contracts.params import FeatureParams
from features.evidence import AsOfView
from features.panels import group_max, group_min, group_sum, ratio

PEOPLE = EVIDENCE_CATEGORIES.index(PEOPLES_EXPERIENCE)


def experience_features(view: AsOfView, params: FeatureParams) -> dict[str, np.ndarray]:
    """Every lived-experience and workforce feature (features.columns), per improvement."""
    recent = params.recent_days
    sentiment = people_sentiment_mean(view, 0, recent)
    sentiment_change = sentiment - people_sentiment_mean(view, recent, 2 * recent)
    agency, unfilled, leavers = workforce_shares(view, 0, recent)
    agency_before, unfilled_before, _ = workforce_shares(view, recent, 2 * recent)
    continuity = keyworker_continuity(view, 0, recent)
    return {
        "peoples_rating_90d_mean": peoples_rating_mean(view, recent),
        "days_since_theme_complaint": days_since_theme_complaint(view),
        "keyworker_continuity_share_90d": continuity,
        "keyworker_continuity_lowest_team_gap_90d": continuity
        - lowest_team_continuity(view, recent),
        "keyworker_continuity_share_change_since_action": continuity
        - keyworker_continuity_before_action(view, recent),
        "agency_unfilled_share_change_since_action": (agency + unfilled)
        - agency_unfilled_before_action(view, recent),
        **staffing_pressure_months(view, params),
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


def peoples_rating_mean(view: AsOfView, days: int) -> np.ndarray:
    """Mean rating (1-5) of people's and families' rated feedback in the window; NaN without."""
    count = len(view.evidence.improvements)
    if view.evidence.feedback is None:
        return np.full(count, np.nan)
    rows = view.evidence.feedback.window(view.day - days + 1, view.day)
    people = rows[rows["category"] == PEOPLE]
    improvement = people["improvement"].to_numpy()
    return ratio(
        group_sum(improvement, people["rating"].to_numpy(), count),
        group_sum(improvement, people["rated"].to_numpy(), count),
    )


def days_since_theme_complaint(view: AsOfView) -> np.ndarray:
    """Days from the latest complaint concerning the improvement to as_of; NaN without one."""
    count = len(view.evidence.improvements)
    if view.evidence.feedback is None:
        return np.full(count, np.nan)
    rows = view.evidence.feedback.window(-np.inf, view.day)
    complaints = rows[rows["complaint"] > 0]
    latest = group_max(complaints["improvement"].to_numpy(), complaints["day"].to_numpy(), count)
    return view.day - latest


def _location_window(view: AsOfView, first_day: np.ndarray, last_day: np.ndarray):
    """Rota sums at each improvement's location over per-improvement day windows."""
    return view.evidence.workforce_sums.window(view.evidence.location, first_day, last_day)


def keyworker_continuity(view: AsOfView, skip_days: int, days: int) -> np.ndarray:
    """Key-worker continuity at each improvement's location, weeks starting in
    (as_of - days, as_of - skip_days], weighted by planned shifts; NaN without a record."""
    count = len(view.evidence.improvements)
    if view.evidence.workforce_sums is None:
        return np.full(count, np.nan)
    sums = _location_window(
        view, np.full(count, view.day - days + 1), np.full(count, view.day - skip_days)
    )
    return ratio(sums["continuity_weighted"], sums["planned_with_continuity"])


def _before_action(view: AsOfView, days: int):
    """Rota sums at each improvement's location over the `days` days before its action
    started (NaN windows for improvements without action by as_of)."""
    action = np.where(view.action_started, view.evidence.action_day, np.nan)
    return _location_window(view, action - days, action - 1)


def keyworker_continuity_before_action(view: AsOfView, days: int) -> np.ndarray:
    """Key-worker continuity at the location in the `days` days before action started."""
    if view.evidence.workforce_sums is None:
        return np.full(len(view.evidence.improvements), np.nan)
    sums = _before_action(view, days)
    return ratio(sums["continuity_weighted"], sums["planned_with_continuity"])


def agency_unfilled_before_action(view: AsOfView, days: int) -> np.ndarray:
    """Agency plus unfilled share of planned shifts in the `days` days before action."""
    if view.evidence.workforce_sums is None:
        return np.full(len(view.evidence.improvements), np.nan)
    sums = _before_action(view, days)
    return ratio(sums["agency"] + sums["unfilled"], sums["planned"])


def lowest_team_continuity(view: AsOfView, days: int) -> np.ndarray:
    """Key-worker continuity of the location's lowest team (weeks in the window)."""
    count = len(view.evidence.improvements)
    if view.evidence.workforce is None:
        return np.full(count, np.nan)
    weeks = view.workforce_within(0, days)
    teams = weeks.groupby(["location", "team"])[
        ["continuity_weighted", "planned_with_continuity"]
    ].sum()
    share = ratio(teams["continuity_weighted"], teams["planned_with_continuity"])
    location = teams.index.get_level_values("location").to_numpy()
    lowest = group_min(location[~np.isnan(share)], share[~np.isnan(share)], _locations(view))
    return lowest[view.evidence.location]


def _locations(view: AsOfView) -> int:
    """Locations of the prepared evidence (the rota's location codes)."""
    return len(view.evidence.workforce_by_month["planned"])


def staffing_pressure_months(view: AsOfView, params: FeatureParams) -> dict[str, np.ndarray]:
    """Months since action, with a compliance value, in which the location was under staffing
    pressure (agency or unfilled share at its threshold), and the share of them at standard."""
    count = len(view.evidence.improvements)
    by_month = view.staffing_by_month()
    if by_month is None:
        empty = np.full(count, np.nan)
        return {
            "staffing_pressure_months_since_action_count": empty,
            "staffing_pressure_months_at_standard_share": empty,
        }
    planned = by_month["planned"]
    pressure = (ratio(by_month["agency"], planned) >= params.pressure_agency_share) | (
        ratio(by_month["unfilled"], planned) >= params.pressure_unfilled_share
    )
    months = pressure[view.evidence.location] & view.since_action & (view.sampled > 0)
    pressed = np.count_nonzero(months, axis=1).astype("float64")
    held = np.count_nonzero(months & (view.at_standard == 1.0), axis=1)
    return {
        "staffing_pressure_months_since_action_count": np.where(
            view.action_started, pressed, np.nan
        ),
        "staffing_pressure_months_at_standard_share": ratio(held, pressed),
    }
