"""Spread features: breadth across teams, across check sources and across CQC evidence
categories.

Day windows are exact: "in the 90 days to as_of" means dated in (as_of - 90 days, as_of].
"Since action" means from the first day of the month of action_started_on.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from contracts.export import EVIDENCE_CATEGORIES, OUTCOMES, PEOPLES_EXPERIENCE
from contracts.params import FeatureParams
from features.evidence import AsOfView
from features.panels import SOURCE_CATEGORY_CODE, group_max, group_sum, ratio


def spread_features(view: AsOfView, params: FeatureParams) -> dict[str, np.ndarray]:
    """Every spread feature (features.columns), one value per improvement."""
    recent = view.checks_within(params.recent_days)
    primary = recent[recent["primary"]]
    count = len(view.evidence.improvements)
    meeting, teams = teams_meeting_standard(primary, view.evidence.standard)
    team_met = met_by_team_since_action(view)
    return {
        "team_count": np.where(
            view.action_started, _teams_per_improvement(team_met, count), np.nan
        ),
        "teams_checked_90d_count": _teams_per_improvement(primary, count),
        "teams_meeting_standard_count": np.where(teams > 0, meeting, np.nan),
        "teams_meeting_standard_share": ratio(meeting, teams),
        "met_items_top_team_share": met_items_top_team_share(team_met, count),
        **evidence_categories_positive(view, recent, params),
        "peoples_experience_positive_90d_flag": peoples_experience_positive_flag(view, params),
        "source_agreement_share": source_agreement_share(recent, view.evidence.standard),
    }


def _teams_per_improvement(rows: pd.DataFrame, count: int) -> np.ndarray:
    pairs = rows[["improvement", "team"]].drop_duplicates()
    return np.bincount(pairs["improvement"].to_numpy(), minlength=count)[:count].astype("float64")


def teams_meeting_standard(primary: pd.DataFrame, standard: np.ndarray):
    """Per improvement: teams whose latest check day met the standard, and teams checked.

    Several checks of a team on its latest day are pooled (sum met / sum sampled).
    """
    count = len(standard)
    latest_day = primary.groupby(["improvement", "team"])["day"].transform("max")
    latest = (
        primary[primary["day"] == latest_day]
        .groupby(["improvement", "team"])[["met", "sampled"]]
        .sum()
        .reset_index()
    )
    improvement = latest["improvement"].to_numpy()
    met_standard = latest["met"].to_numpy() >= standard[improvement] * latest["sampled"].to_numpy()
    meeting = group_sum(improvement, met_standard, count)
    teams = np.bincount(improvement, minlength=count)[:count].astype("float64")
    return meeting, teams


def met_by_team_since_action(view: AsOfView) -> pd.DataFrame:
    """Met items per improvement and team, primary checks since the action month to as_of."""
    evidence = view.evidence
    earlier = evidence.team_months.window(-np.inf, view.month - 1)
    current = view.current_month_checks
    rows = pd.concat(
        [
            earlier[["improvement", "team", "month", "met"]],
            current[["improvement", "team", "met"]].assign(month=float(view.month)),
        ]
    )
    improvement = rows["improvement"].to_numpy()
    started = view.action_started[improvement]
    in_window = started & (rows["month"].to_numpy() >= evidence.action_month[improvement])
    return rows[in_window].groupby(["improvement", "team"], as_index=False)["met"].sum()


def met_items_top_team_share(team_met: pd.DataFrame, count: int) -> np.ndarray:
    """Share of met items since action from the team with the most; NaN with none met."""
    improvement = team_met["improvement"].to_numpy()
    total = group_sum(improvement, team_met["met"].to_numpy(), count)
    top = np.nan_to_num(group_max(improvement, team_met["met"].to_numpy(), count))
    return ratio(top, total)


def evidence_categories_positive(
    view: AsOfView, recent: pd.DataFrame, params: FeatureParams
) -> dict[str, np.ndarray]:
    """CQC evidence categories (of six) whose latest evidence in the window is positive: how
    many, and which (the sum of 2 ** position in EVIDENCE_CATEGORIES, so a reason can name
    them).

    Checks: the category's latest check day, pooled, at or above the standard. Feedback: the
    category's latest feedback day has mean sentiment > 0. When a category has both on its
    latest day, all of it must be positive. Outcomes: positive when the incidents file is
    present, no moderate-or-worse incident concerning the improvement is in the window (no-harm
    and low-harm reports do not count: more reporting is not less safety), and there is at
    least one primary check in the window (the outcome is being watched). 0 is a true count.
    """
    count = len(view.evidence.improvements)
    evidence = pd.concat(
        [
            _check_category_days(recent, view.evidence.standard),
            _feedback_category_days(view, params),
        ],
        ignore_index=True,
    )
    latest = evidence.groupby(["improvement", "category"])["day"].transform("max")
    on_latest = evidence[evidence["day"] == latest]
    positive = on_latest.groupby(["improvement", "category"])["positive"].min().reset_index()
    improvement, flag = positive["improvement"].to_numpy(), positive["positive"].to_numpy()
    bit = 2.0 ** positive["category"].to_numpy("float64")
    outcomes = _outcomes_positive(view, recent, params)
    return {
        "evidence_categories_positive_90d_count": group_sum(improvement, flag, count) + outcomes,
        "evidence_categories_positive_90d_mask": group_sum(improvement, flag * bit, count)
        + outcomes * 2.0 ** EVIDENCE_CATEGORIES.index(OUTCOMES),
    }


def _check_category_days(recent: pd.DataFrame, standard: np.ndarray) -> pd.DataFrame:
    days = (
        recent.assign(category=SOURCE_CATEGORY_CODE[recent["source"].to_numpy()])
        .groupby(["improvement", "category", "day"])[["met", "sampled"]]
        .sum()
        .reset_index()
    )
    improvement = days["improvement"].to_numpy()
    positive = days["met"].to_numpy() >= standard[improvement] * days["sampled"].to_numpy()
    return days[["improvement", "category", "day"]].assign(positive=positive.astype("float64"))


def _feedback_category_days(view: AsOfView, params: FeatureParams) -> pd.DataFrame:
    if view.evidence.feedback is None:
        return pd.DataFrame(columns=["improvement", "category", "day", "positive"], dtype="float64")
    rows = view.evidence.feedback.window(view.day - params.recent_days + 1, view.day)
    days = (
        rows[rows["category"] >= 0]
        .groupby(["improvement", "category", "day"])["sentiment"]
        .mean()
        .reset_index()
    )
    return days.assign(positive=(days["sentiment"] > 0).astype("float64")).drop(columns="sentiment")


def _outcomes_positive(view: AsOfView, recent: pd.DataFrame, params: FeatureParams) -> np.ndarray:
    count = len(view.evidence.improvements)
    if view.evidence.incidents is None:
        return np.zeros(count)
    incidents = view.evidence.incidents.window(view.day - params.recent_days + 1, view.day)
    # Only harm counts against outcomes: more no-harm and low-harm reporting is not less safety.
    harmful = incidents[incidents["serious"] > 0]
    has_incident = np.bincount(harmful["improvement"].to_numpy(), minlength=count)[:count] > 0
    watched = (
        np.bincount(recent.loc[recent["primary"], "improvement"].to_numpy(), minlength=count)[
            :count
        ]
        > 0
    )
    return (watched & ~has_incident).astype("float64")


def peoples_experience_positive_flag(view: AsOfView, params: FeatureParams) -> np.ndarray:
    """1 when people's and families' feedback in the window has mean sentiment > 0, else 0;
    NaN when there is none (or no feedback file)."""
    count = len(view.evidence.improvements)
    if view.evidence.feedback is None:
        return np.full(count, np.nan)
    rows = view.evidence.feedback.window(view.day - params.recent_days + 1, view.day)
    people = rows[rows["category"] == EVIDENCE_CATEGORIES.index(PEOPLES_EXPERIENCE)]
    improvement = people["improvement"].to_numpy()
    mean = ratio(
        group_sum(improvement, people["sentiment"].to_numpy(), count),
        np.bincount(improvement, minlength=count)[:count],
    )
    return np.where(np.isnan(mean), np.nan, (mean > 0).astype("float64"))


def source_agreement_share(recent_all: pd.DataFrame, standard: np.ndarray) -> np.ndarray:
    """Share of check sources whose pooled result agrees with all sources pooled (both at or
    both below the standard), checks in the window; NaN with no check in it."""
    count = len(standard)
    by_source = (
        recent_all.groupby(["improvement", "source"])[["met", "sampled"]].sum().reset_index()
    )
    improvement = by_source["improvement"].to_numpy()
    source_at = (
        by_source["met"].to_numpy() >= standard[improvement] * by_source["sampled"].to_numpy()
    )
    met = group_sum(improvement, by_source["met"].to_numpy(), count)
    sampled = group_sum(improvement, by_source["sampled"].to_numpy(), count)
    overall_at = met >= standard * sampled
    agree = group_sum(improvement, source_at == overall_at[improvement], count)
    return ratio(agree, np.bincount(improvement, minlength=count)[:count])
