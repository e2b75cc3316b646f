"""Escalation triggers (models.triggers via models.rules): each fires, each near miss is quiet."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from test_rules_rows import frame

from contracts.params import EvidenceThreshold
from models.rules import escalation_triggers
from models.triggers import TRIGGER_COLUMNS, TRIGGERS

NAN = np.nan

# A staffing improvement whose rota got better since action (agency and unfilled shifts down
# 22 points, key-worker continuity up 0.4), and two ways its people's experience lags.
STAFFING_GAINS = {
    "theme": "staffing",
    "agency_unfilled_share_change_since_action": -0.22,
    "keyworker_continuity_share_change_since_action": 0.4,
}
FEEDBACK_NOT_POSITIVE = {"theme_sentiment_90d_mean": -0.4}
COMPLAINTS_ON_THEME_ONLY = {"theme_complaints_90d_count": 2.0, "days_since_theme_complaint": 20.0}

# (trigger, feature overrides, fires); the default row fires nothing.
TRIGGER_CASES = [
    (
        "slippage_after_early_improvement",
        {
            "slips_since_action_count": 1.0,
            "compliance_margin_latest": -0.01,
            "consecutive_months_at_standard_count": 0.0,
        },
        True,
    ),
    (
        "slippage_after_early_improvement",  # slipped once, back at the standard now
        {"slips_since_action_count": 1.0, "compliance_margin_latest": 0.0},
        False,
    ),
    (
        "slippage_after_early_improvement",  # below the standard but never met it
        {"slips_since_action_count": 0.0, "compliance_margin_latest": -0.05},
        False,
    ),
    (
        "uneven_results_between_teams",
        {"teams_meeting_standard_count": 2.0, "teams_meeting_standard_share": 0.5},
        True,
    ),
    (
        "uneven_results_between_teams",
        {"teams_meeting_standard_count": 3.0, "teams_meeting_standard_share": 0.75},
        True,
    ),
    (
        "uneven_results_between_teams",  # exactly the share needed
        {
            "teams_meeting_standard_count": 4.0,
            "teams_checked_90d_count": 5.0,
            "teams_meeting_standard_share": 0.8,
        },
        False,
    ),
    (
        "uneven_results_between_teams",  # no team meets it: failing evenly, not uneven
        {"teams_meeting_standard_count": 0.0, "teams_meeting_standard_share": 0.0},
        False,
    ),
    (
        "uneven_results_between_teams",
        {"teams_meeting_standard_count": NAN, "teams_meeting_standard_share": NAN},
        False,
    ),
    ("weak_staff_understanding", {"competency_pass_share_180d": 0.89}, True),
    ("weak_staff_understanding", {"competency_pass_share_180d": 0.9}, False),
    ("weak_staff_understanding", {"confidence_gap_points": 0.51}, True),
    ("weak_staff_understanding", {"confidence_gap_points": 0.5}, False),
    ("weak_staff_understanding", {"prompts_per_observation_90d": 1.01}, True),
    ("weak_staff_understanding", {"prompts_per_observation_90d": 1.0}, False),
    (
        "weak_staff_understanding",
        {
            "competency_pass_share_180d": NAN,
            "confidence_gap_points": NAN,
            "prompts_per_observation_90d": NAN,
        },
        False,
    ),
    ("weak_staff_understanding", {"self_rated_confidence_180d_mean": 2.0}, True),
    ("weak_staff_understanding", {"self_rated_confidence_180d_mean": 3.0}, False),
    (
        "uneven_results_between_teams",  # a staffing improvement: one team's continuity lags
        {"theme": "staffing", "keyworker_continuity_lowest_team_gap_90d": 0.3},
        True,
    ),
    (
        "uneven_results_between_teams",  # the same rota, read for a falls improvement
        {"theme": "falls", "keyworker_continuity_lowest_team_gap_90d": 0.3},
        False,
    ),
    ("workforce_improving_feedback_not", {**STAFFING_GAINS, **FEEDBACK_NOT_POSITIVE}, True),
    (
        "workforce_improving_feedback_not",  # feedback positive all along, no complaints
        STAFFING_GAINS,
        False,
    ),
    (
        "workforce_improving_feedback_not",  # a falls improvement at the same service
        {**STAFFING_GAINS, **FEEDBACK_NOT_POSITIVE, "theme": "falls"},
        False,
    ),
    (
        "workforce_improving_feedback_not",  # the rota did not improve
        {**FEEDBACK_NOT_POSITIVE, "theme": "staffing"},
        False,
    ),
    (
        "workforce_improving_feedback_not",  # no feedback at all: nothing to compare with
        {**STAFFING_GAINS, "theme_sentiment_90d_mean": NAN, "peoples_rating_90d_mean": NAN},
        False,
    ),
    (
        "continuing_complaints",
        {"theme_complaints_90d_count": 6.0, "days_since_theme_complaint": 9.0},
        True,
    ),
    (
        "continuing_complaints",  # complaints stopped six weeks ago
        {"theme_complaints_90d_count": 6.0, "days_since_theme_complaint": 43.0},
        False,
    ),
    (
        "continuing_complaints",  # one complaint is not a pattern
        {"theme_complaints_90d_count": 1.0, "days_since_theme_complaint": 9.0},
        False,
    ),
    (
        "recurrence_after_closure",
        {
            "declared_status": "closed",
            "days_since_claim": 120.0,
            "serious_theme_incidents_since_claim_count": 1.0,
        },
        True,
    ),
    (
        "recurrence_after_closure",  # closed, nothing since
        {
            "declared_status": "closed",
            "days_since_claim": 120.0,
            "serious_theme_incidents_since_claim_count": 0.0,
        },
        False,
    ),
    (
        "recurrence_after_closure",  # an incident since a declaration that did not close it
        {
            "declared_status": "embedded",
            "days_since_claim": 120.0,
            "serious_theme_incidents_since_claim_count": 1.0,
        },
        False,
    ),
    (
        "serious_concern_thin_evidence",
        {"severity": "serious", "consecutive_months_at_standard_count": 2.0},
        True,
    ),
    (
        "serious_concern_thin_evidence",
        {"severity": "serious", "evidence_categories_positive_90d_count": 2.0},
        True,
    ),
    (
        "serious_concern_thin_evidence",  # four months is thin for a serious concern
        {"severity": "serious", "consecutive_months_at_standard_count": 4.0},
        True,
    ),
    (
        "serious_concern_thin_evidence",  # long enough (two senior cycles) and broad enough
        {
            "severity": "serious",
            "consecutive_months_at_standard_count": 6.0,
            "evidence_categories_positive_90d_count": 3.0,
        },
        False,
    ),
    (
        "serious_concern_thin_evidence",  # thin, but not a serious concern
        {"severity": "significant", "consecutive_months_at_standard_count": 1.0},
        False,
    ),
    (
        "serious_concern_thin_evidence",  # serious, but no improvement shown to be thin
        {"severity": "serious", "consecutive_months_at_standard_count": 0.0},
        False,
    ),
    (
        "incident_reduction_too_short",
        {"theme_incident_rate_change_per_month": -0.5, "days_since_action_started": 179.0},
        True,
    ),
    (
        "incident_reduction_too_short",
        {"theme_incident_rate_change_per_month": -0.5, "days_since_action_started": 180.0},
        False,
    ),
    (
        "incident_reduction_too_short",
        {
            "theme_incident_rate_change_per_month": 0.0,
            "serious_theme_incident_rate_change_per_month": 0.0,
            "days_since_action_started": 30.0,
        },
        False,
    ),
    (
        "incident_reduction_too_short",  # fewer harmful incidents, whatever the reporting
        {
            "theme_incident_rate_change_per_month": 1.0,
            "serious_theme_incident_rate_change_per_month": -0.5,
            "days_since_action_started": 120.0,
        },
        True,
    ),
]
CASE_ROWS = [overrides for _, overrides, _ in TRIGGER_CASES]


@pytest.fixture(scope="module")
def fired():
    return escalation_triggers(frame(*CASE_ROWS))


@pytest.mark.parametrize(
    ("case", "name", "overrides", "fires"), [(i, *case) for i, case in enumerate(TRIGGER_CASES)]
)
def test_trigger_fires_or_stays_quiet(fired, case, name, overrides, fires):
    row = fired.iloc[case]
    assert bool(row[f"trigger_{name}"]) is fires
    assert (name in row["triggers"].split("; ")) is fires
    # the hand-built case is about one trigger: no other fires
    others = [c for c in TRIGGER_COLUMNS if c != f"trigger_{name}"]
    assert not row[others].any()


def test_every_trigger_has_a_firing_case_and_a_near_miss():
    outcomes = {(name, fires) for name, _, fires in TRIGGER_CASES}
    assert outcomes == {(t.name, f) for t in TRIGGERS for f in (True, False)}


ESCALATIONS = {
    "slippage_after_early_improvement": "wider re-audit and extended monitoring",
    "uneven_results_between_teams": (
        "wider re-audit, local management review and targeted supervision of the teams named"
    ),
    "weak_staff_understanding": "additional supervision, extended induction and competency re-checks",
    "workforce_improving_feedback_not": "deeper team support, linking workforce data to people's experience",
    "continuing_complaints": (
        "enhanced monitoring kept while people's experience is mixed, and the complaints "
        "reviewed with people and families"
    ),
    "serious_concern_thin_evidence": (
        "extended assurance, more senior oversight and a wider thematic review"
    ),
    "incident_reduction_too_short": "retain enhanced monitoring",
    "recurrence_after_closure": "reopen the improvement and review whether it was closed too soon",
}


@pytest.mark.parametrize(("name", "escalation"), ESCALATIONS.items())
def test_each_trigger_recommends_its_escalation(fired, name, escalation):
    row = fired.loc[fired[f"trigger_{name}"]].iloc[0]
    assert row["escalations"] == escalation


def test_several_triggers_are_listed_in_order_with_their_escalations():
    row = escalation_triggers(
        frame(
            {
                "severity": "serious",
                "consecutive_months_at_standard_count": 1.0,
                "confidence_gap_points": 1.2,
                "days_since_action_started": 60.0,
            }
        )
    ).iloc[0]
    assert row["triggers"] == (
        "weak_staff_understanding; serious_concern_thin_evidence; incident_reduction_too_short"
    )
    assert row["escalations"] == (
        "additional supervision, extended induction and competency re-checks; "
        "extended assurance, more senior oversight and a wider thematic review; "
        "retain enhanced monitoring"
    )
    assert row["trigger_reasons"] == (
        "weak staff understanding: staff describe the process more confidently than they "
        "demonstrate it (self-rated 4 of 5, competency 95%); "
        "a serious concern with thin medium-term evidence: 1 month in a row at the standard "
        "(6 needed), 4 kinds of evidence (3 needed); "
        "fewer incidents over too short a period to judge: 60 days since action (180 needed)"
    )


def test_the_default_row_fires_nothing():
    row = escalation_triggers(frame()).iloc[0]
    assert row["triggers"] == "" and row["escalations"] == ""


@pytest.mark.parametrize(
    ("settings_", "overrides", "before", "after"),
    [
        (
            {"trigger_max_prompts_per_observation": 2.0},
            {"prompts_per_observation_90d": 1.5},
            True,
            False,
        ),
        (
            {"trigger_min_incident_judgement_days": 90},
            {"days_since_action_started": 120.0},
            True,
            False,
        ),
        (
            {"min_teams_meeting_share": 0.5},
            {"teams_meeting_standard_count": 2.0, "teams_meeting_standard_share": 0.5},
            True,
            False,
        ),
        ({"max_confidence_gap_points": 1.0}, {"confidence_gap_points": 0.8}, True, False),
    ],
)
def test_trigger_thresholds_come_from_the_configuration(settings_, overrides, before, after):
    features = frame(overrides)
    assert (escalation_triggers(features)["triggers"].iloc[0] != "") is before
    assert (
        escalation_triggers(features, EvidenceThreshold(**settings_))["triggers"].iloc[0] != ""
    ) is after


def test_keys_and_index_follow_the_features_and_input_is_untouched():
    features = frame({}, {**STAFFING_GAINS, **FEEDBACK_NOT_POSITIVE}).set_axis([7, 3], axis=0)
    before = features.copy()
    result = escalation_triggers(features)
    assert result.index.tolist() == [7, 3]
    assert result["improvement_id"].tolist() == ["IMP-1", "IMP-2"]
    assert result["triggers"].tolist() == ["", "workforce_improving_feedback_not"]
    pd.testing.assert_frame_equal(features, before)


def test_trigger_words_name_the_teams_and_the_month():
    rows = frame(
        {
            "teams_meeting_standard_count": 1.0,
            "teams_checked_90d_count": 2.0,
            "teams_meeting_standard_share": 0.5,
            "teams_at_standard": "Team A",
            "teams_below_standard": "Team B",
        },
        {
            "theme": "staffing",
            "keyworker_continuity_share_90d": 0.8,
            "keyworker_continuity_lowest_team_gap_90d": 0.3,
            "teams_continuity_lagging": "Ash",
        },
        {
            "slips_since_action_count": 1.0,
            "compliance_margin_latest": -0.05,
            "consecutive_months_at_standard_count": 0.0,
            "months_since_latest_slip": 1.0,
        },
    )
    words = escalation_triggers(rows)["trigger_reasons"].tolist()
    assert words[0] == "uneven results between teams: Team B below the standard (Team A at it)"
    assert words[1] == (
        "uneven local routines: key-worker continuity lags in Ash (50% against 80% across the "
        "service)"
    )
    assert words[2].startswith("slipped below the standard in February 2026 after early")


def test_there_is_one_sentence_per_trigger_that_fired():
    features = frame(*CASE_ROWS)
    result = escalation_triggers(features)
    fired_count = result["triggers"].map(lambda t: len(t.split("; ")) if t else 0)
    said_count = result["trigger_reasons"].map(lambda t: len(t.split("; ")) if t else 0)
    assert fired_count.tolist() == said_count.tolist()


def test_continuing_complaints_make_experience_lag_workforce_even_with_positive_feedback():
    row = escalation_triggers(frame({**STAFFING_GAINS, **COMPLAINTS_ON_THEME_ONLY})).iloc[0]
    assert row["triggers"] == "workforce_improving_feedback_not; continuing_complaints"
    assert row["trigger_reasons"].startswith(
        "workforce figures improving (agency and unfilled shifts down 22 percentage points, "
        "key-worker continuity up 40 points) while lived experience is not (complaints "
        "continue); continuing complaints: 2 on this theme in the last 90 days"
    )


def test_a_rota_that_starts_at_action_is_read_over_its_latest_90_days():
    recent_gains = {
        "theme": "staffing",
        "agency_unfilled_share_change_since_action": NAN,  # no rota before action
        "agency_shift_share_change_90d": -0.12,
        "unfilled_shift_share_change_90d": -0.01,
        **FEEDBACK_NOT_POSITIVE,
    }
    row = escalation_triggers(frame(recent_gains)).iloc[0]
    assert row["triggers"] == "workforce_improving_feedback_not"
    assert "agency and unfilled shifts down 13 percentage points" in row["trigger_reasons"]
