"""Recurrence features: repeat gaps, theme incidents and slips since action.

An incident concerns an improvement when it is at the improvement's location and has its
theme or names it (the label's rule). Day windows are exact: (as_of - d days, as_of].
Without an incidents file the incident features are NaN; with one, 0 is a true count.
"""

from __future__ import annotations

import numpy as np

from contracts.params import FeatureParams
from features.context import claim_day_in_force
from features.evidence import AsOfView
from features.panels import group_sum, ratio
from features.series import forward_filled, last_index

DAYS_PER_MONTH = 365.25 / 12


YEAR_DAYS = 365


def recurrence_features(view: AsOfView, params: FeatureParams) -> dict[str, np.ndarray]:
    """Every recurrence feature (features.columns), one value per improvement."""

    def serious(days: int) -> np.ndarray:
        return theme_incidents_count(view, days, serious_only=True)

    return {
        "repeat_gaps_share_90d": repeat_gaps_share(view, params.recent_days),
        "theme_incidents_90d_count": theme_incidents_count(view, params.recent_days),
        "theme_incidents_180d_count": theme_incidents_count(view, params.long_days),
        "serious_theme_incidents_90d_count": serious(params.recent_days),
        "theme_incident_rate_change_per_month": theme_incident_rate_change(view, params),
        "slips_since_action_count": slips_since_action_count(view),
        "months_since_latest_slip": months_since_latest_slip(view),
        "serious_theme_incidents_180d_count": serious(params.long_days),
        "serious_theme_incidents_365d_count": serious(YEAR_DAYS),
        "serious_theme_incident_rate_change_per_month": theme_incident_rate_change(
            view, params, serious_only=True
        ),
        "serious_theme_incidents_lookback_count": serious(params.incident_lookback_days),
        "serious_theme_incidents_medium_term_count": serious(params.medium_term_incident_days),
        "serious_theme_incidents_since_claim_count": serious_incidents_since_claim(view),
    }


def repeat_gaps_share(view: AsOfView, days: int) -> np.ndarray:
    """Repeat gaps / failed items, primary checks recording repeat gaps in the window."""
    recent = view.checks_within(days)
    primary = recent[recent["primary"]]
    improvement, count = primary["improvement"].to_numpy(), len(view.evidence.improvements)
    return ratio(
        group_sum(improvement, primary["repeat_gaps"].to_numpy(), count),
        group_sum(improvement, primary["failed_with_repeat_recorded"].to_numpy(), count),
    )


def theme_incidents_count(view: AsOfView, days: int, *, serious_only: bool = False) -> np.ndarray:
    """Incidents concerning the improvement dated in the window; NaN without incidents file."""
    count = len(view.evidence.improvements)
    if view.evidence.incidents is None:
        return np.full(count, np.nan)
    rows = view.evidence.incidents.window(view.day - days + 1, view.day)
    weights = rows["serious"].to_numpy() if serious_only else np.ones(len(rows))
    return group_sum(rows["improvement"].to_numpy(), weights, count)


def theme_incident_rate_change(
    view: AsOfView, params: FeatureParams, *, serious_only: bool = False
) -> np.ndarray:
    """Incidents per month from the action date to as_of (at least one month counted) minus
    incidents per month in the `long_days` days before the action date; NaN without action
    or without an incidents file. `serious_only`: moderate-or-worse harm only."""
    evidence, count = view.evidence, len(view.evidence.improvements)
    if evidence.incidents is None:
        return np.full(count, np.nan)
    rows = evidence.incidents.window(-np.inf, view.day)
    if serious_only:
        rows = rows[rows["serious"] > 0]
    improvement, day = rows["improvement"].to_numpy(), rows["day"].to_numpy()
    action = evidence.action_day[improvement]
    after = group_sum(improvement, day >= action, count)
    before = group_sum(improvement, (day < action) & (day >= action - params.long_days), count)
    months_after = np.maximum((view.day - evidence.action_day + 1) / DAYS_PER_MONTH, 1.0)
    change = after / months_after - before / (params.long_days / DAYS_PER_MONTH)
    return np.where(view.action_started, change, np.nan)


def slips_since_action_count(view: AsOfView) -> np.ndarray:
    """Months since action below the standard whose previous month with a value (since action)
    was at or above it; NaN without action or without any value since action."""
    status = np.where(view.since_action, view.at_standard, np.nan)
    previous = np.hstack([np.full((len(status), 1), np.nan), forward_filled(status)[:, :-1]])
    slips = np.count_nonzero((status == 0.0) & (previous == 1.0), axis=1).astype("float64")
    return np.where((~np.isnan(status)).any(axis=1), slips, np.nan)


def months_since_latest_slip(view: AsOfView) -> np.ndarray:
    """Months from the latest slip since action (a month below the standard whose previous
    month with a value since action was at or above it) to the as_of month; NaN without one."""
    status = np.where(view.since_action, view.at_standard, np.nan)
    previous = np.hstack([np.full((len(status), 1), np.nan), forward_filled(status)[:, :-1]])
    latest = last_index((status == 0.0) & (previous == 1.0))
    return np.where(latest >= 0, status.shape[1] - 1 - latest, np.nan)


def serious_incidents_since_claim(view: AsOfView) -> np.ndarray:
    """Moderate-or-worse incidents concerning the improvement dated after the declaration in
    force at as_of; NaN without a declaration by as_of or without an incidents file."""
    evidence, count = view.evidence, len(view.evidence.improvements)
    declared = claim_day_in_force(view)
    if evidence.incidents is None:
        return np.full(count, np.nan)
    rows = evidence.incidents.window(-np.inf, view.day)
    improvement = rows["improvement"].to_numpy()
    after = (rows["day"].to_numpy() > declared[improvement]) & (rows["serious"].to_numpy() > 0)
    return np.where(~np.isnan(declared), group_sum(improvement, after, count), np.nan)
