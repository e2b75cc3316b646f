"""Stages, criteria and reasons of the explicit rules (models.rules), on hand-made rows."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_rules_rows import EMBEDDED_ROW, classified, frame

from contracts.params import EvidenceThreshold
from contracts.vocabulary import STAGES
from models.rules import (
    CRITERIA,
    CRITERION_COLUMNS,
    classify_stages,
)
from pipelines.outputs import write_manifest

NAN = np.nan
DEFAULT = EvidenceThreshold()


def stage(overrides: dict, threshold: EvidenceThreshold = DEFAULT) -> str:
    return classify_stages(frame(overrides), threshold)["stage"].iloc[0]


# --- every predicate just below, at and just above its threshold ----------------------------

THRESHOLD_CASES = [
    # (criterion, feature overrides, threshold overrides, met)
    ("consecutive_months_at_standard", {"consecutive_months_at_standard_count": 2.0}, {}, False),
    ("consecutive_months_at_standard", {"consecutive_months_at_standard_count": 3.0}, {}, True),
    ("consecutive_months_at_standard", {"consecutive_months_at_standard_count": 4.0}, {}, True),
    ("consecutive_months_at_standard", {"consecutive_months_at_standard_count": NAN}, {}, False),
    ("evidence_categories", {"evidence_categories_positive_90d_count": 2.0}, {}, False),
    ("evidence_categories", {"evidence_categories_positive_90d_count": 3.0}, {}, True),
    ("evidence_categories", {"evidence_categories_positive_90d_count": 4.0}, {}, True),
    ("evidence_categories", {"evidence_categories_positive_90d_count": NAN}, {}, False),
    ("peoples_experience", {"peoples_experience_positive_90d_flag": 0.0}, {}, False),
    ("peoples_experience", {"peoples_experience_positive_90d_flag": 1.0}, {}, True),
    ("peoples_experience", {"peoples_experience_positive_90d_flag": NAN}, {}, False),
    (
        "peoples_experience",
        {"peoples_experience_positive_90d_flag": NAN},
        {"require_peoples_experience": False},
        True,
    ),
    (
        "peoples_experience",
        {"peoples_experience_positive_90d_flag": 0.0},
        {"require_peoples_experience": False},
        True,
    ),
    ("teams_meeting_standard", {"teams_meeting_standard_share": 0.79}, {}, False),
    ("teams_meeting_standard", {"teams_meeting_standard_share": 0.8}, {}, True),
    ("teams_meeting_standard", {"teams_meeting_standard_share": 4 / 5}, {}, True),
    ("teams_meeting_standard", {"teams_meeting_standard_share": 0.81}, {}, True),
    ("teams_meeting_standard", {"teams_meeting_standard_share": NAN}, {}, False),
    # a significant concern is held to the medium term (180 days), a routine one to 90 days
    ("no_serious_incidents", {"serious_theme_incidents_medium_term_count": 0.0}, {}, True),
    ("no_serious_incidents", {"serious_theme_incidents_medium_term_count": 1.0}, {}, False),
    ("no_serious_incidents", {"serious_theme_incidents_medium_term_count": NAN}, {}, False),
    (
        "no_serious_incidents",
        {"serious_theme_incidents_medium_term_count": 1.0, "severity": "routine"},
        {},
        True,
    ),
    (
        "no_serious_incidents",
        {"serious_theme_incidents_lookback_count": 1.0, "severity": "routine"},
        {},
        False,
    ),
    (
        "no_serious_incidents",
        {"serious_theme_incidents_medium_term_count": 1.0},
        {"max_serious_incidents": 1},
        True,
    ),
    (
        "no_serious_incidents",
        {"serious_theme_incidents_medium_term_count": 2.0},
        {"max_serious_incidents": 1},
        False,
    ),
    (
        "no_serious_incidents",
        {"serious_theme_incidents_medium_term_count": 1.0},
        {"medium_term_severities": ("serious",)},
        True,
    ),
    # only moderate-or-worse harm counts: more no-harm reports are not less safety
    (
        "fewer_incidents_than_before",
        {"serious_theme_incident_rate_change_per_month": -0.01},
        {},
        True,
    ),
    (
        "fewer_incidents_than_before",
        {"serious_theme_incident_rate_change_per_month": 0.0},
        {},
        True,  # the default row had none in 180 days: unchanged and quiet
    ),
    (
        "fewer_incidents_than_before",
        {
            "serious_theme_incident_rate_change_per_month": 0.0,
            "serious_theme_incidents_180d_count": 1.0,
        },
        {},
        False,
    ),
    (
        "fewer_incidents_than_before",
        {"serious_theme_incident_rate_change_per_month": 0.01},
        {},
        False,
    ),
    (
        "fewer_incidents_than_before",
        {"serious_theme_incident_rate_change_per_month": NAN},
        {},
        False,
    ),
    (
        "fewer_incidents_than_before",  # many more no-harm reports: not counted against it
        {"theme_incident_rate_change_per_month": 2.0, "theme_incidents_180d_count": 12.0},
        {},
        True,
    ),
    ("competency_demonstrated", {"competency_pass_share_180d": 0.89}, {}, False),
    ("competency_demonstrated", {"competency_pass_share_180d": 0.9}, {}, True),
    ("competency_demonstrated", {"competency_pass_share_180d": 27 / 30}, {}, True),
    ("competency_demonstrated", {"competency_pass_share_180d": 0.91}, {}, True),
    # without competency checks in the improvement's monitoring there is no evidence either way
    ("competency_demonstrated", {"competency_pass_share_180d": NAN}, {}, True),
    (
        "competency_demonstrated",
        {"competency_pass_share_180d": 0.94},
        {"min_competency_margin": 0.05},
        False,
    ),
    (
        "competency_demonstrated",
        {"competency_pass_share_180d": 0.95},
        {"min_competency_margin": 0.05},
        True,
    ),
    ("staff_confidence_matches", {"confidence_gap_points": 0.49}, {}, True),
    ("staff_confidence_matches", {"confidence_gap_points": 0.5}, {}, True),
    ("staff_confidence_matches", {"confidence_gap_points": 0.51}, {}, False),
    ("staff_confidence_matches", {"confidence_gap_points": -1.5}, {}, True),
    ("staff_confidence_matches", {"confidence_gap_points": NAN}, {}, True),
    # low self-rated confidence: still learning without full confidence
    ("staff_confidence_matches", {"self_rated_confidence_180d_mean": 2.99}, {}, False),
    ("staff_confidence_matches", {"self_rated_confidence_180d_mean": 3.0}, {}, True),
    (
        "staff_confidence_matches",
        {"self_rated_confidence_180d_mean": 3.2},
        {"min_self_rated_confidence": 3.5},
        False,
    ),
    ("staff_confidence_matches", {"self_rated_confidence_180d_mean": NAN}, {}, True),
    # a slip after early improvement is remembered for two senior review cycles
    (
        "no_recent_slip",
        {"slips_since_action_count": 1.0, "months_since_below_standard": 5.0},
        {},
        False,
    ),
    (
        "no_recent_slip",
        {"slips_since_action_count": 1.0, "months_since_below_standard": 6.0},
        {},
        True,
    ),
    (
        "no_recent_slip",
        {"slips_since_action_count": 1.0, "months_since_below_standard": 4.0},
        {"slip_memory_months": 4},
        True,
    ),
    ("no_recent_slip", {"slips_since_action_count": NAN}, {}, True),
    # people's ratings count where given
    ("peoples_experience", {"peoples_rating_90d_mean": 2.9}, {}, False),
    ("peoples_experience", {"peoples_rating_90d_mean": 3.0}, {}, True),
    ("peoples_experience", {"peoples_rating_90d_mean": NAN}, {}, True),
    # a serious concern needs two senior review cycles at the standard
    (
        "consecutive_months_at_standard",
        {"severity": "serious", "consecutive_months_at_standard_count": 5.0},
        {},
        False,
    ),
    (
        "consecutive_months_at_standard",
        {"severity": "serious", "consecutive_months_at_standard_count": 6.0},
        {},
        True,
    ),
    ("no_spc_concern", {"spc_special_cause_concern_latest_flag": 0.0}, {}, True),
    ("no_spc_concern", {"spc_special_cause_concern_latest_flag": 1.0}, {}, False),
    ("no_spc_concern", {"spc_special_cause_concern_latest_flag": NAN}, {}, False),
]


THRESHOLD_ROWS = [overrides for _, overrides, _, _ in THRESHOLD_CASES]


@pytest.mark.parametrize(
    ("case", "name", "overrides", "settings_", "met"),
    [(i, *case) for i, case in enumerate(THRESHOLD_CASES)],
)
def test_each_criterion_around_its_threshold(case, name, overrides, settings_, met):
    row = classified(THRESHOLD_ROWS, EvidenceThreshold(**settings_)).iloc[case]
    assert bool(row[f"criterion_{name}"]) is met
    # a single failed criterion is what keeps the default row from being embedded
    assert (row["stage"] == "embedded") is met


def test_every_criterion_has_a_threshold_case_either_way():
    outcomes = {(name, met) for name, _, _, met in THRESHOLD_CASES}
    assert outcomes == {(c.name, m) for c in CRITERIA for m in (True, False)}


def test_the_default_row_meets_every_criterion():
    stages = classify_stages(frame())
    assert stages[list(CRITERION_COLUMNS)].all(axis=None)
    assert stages["fragile_reasons"].iloc[0] == ""


# --- every stage, reached by a hand-built case -----------------------------------------------

STAGE_CASES = [
    ("embedded", {}),
    ("not_started", {"days_since_action_started": NAN}),
    ("not_started", {"review_cycles_since_action_count": 0.0}),
    ("not_started", {"review_cycles_since_action_count": NAN}),
    (
        "slipping",
        {
            "slips_since_action_count": 1.0,
            "compliance_margin_latest": -0.01,
            "consecutive_months_at_standard_count": 0.0,
        },
    ),
    # near misses of slipping: back at the standard, or never met it
    (
        "emerging",
        {
            "slips_since_action_count": 1.0,
            "compliance_margin_latest": 0.0,
            "consecutive_months_at_standard_count": 1.0,
        },
    ),
    (
        "emerging",
        {
            "slips_since_action_count": 0.0,
            "compliance_margin_latest": -0.05,
            "consecutive_months_at_standard_count": 0.0,
        },
    ),
    (
        "consolidating",
        {
            "consecutive_months_at_standard_count": 2.0,
            "evidence_categories_positive_90d_count": 2.0,
        },
    ),
    ("consolidating", {"teams_meeting_standard_share": 0.5, "teams_meeting_standard_count": 2.0}),
    ("emerging", {"consecutive_months_at_standard_count": 1.0}),
    (
        "emerging",
        {
            "consecutive_months_at_standard_count": 2.0,
            "evidence_categories_positive_90d_count": 1.0,
        },
    ),
]


STAGE_ROWS = [overrides for _, overrides in STAGE_CASES]


@pytest.mark.parametrize(
    ("case", "expected", "overrides"), [(i, *case) for i, case in enumerate(STAGE_CASES)]
)
def test_stage_of_a_hand_built_case(case, expected, overrides):
    assert classified(STAGE_ROWS)["stage"].iloc[case] == expected


def test_every_stage_is_reachable():
    assert {expected for expected, _ in STAGE_CASES} == set(STAGES)


def test_slipping_wins_over_criteria_that_still_hold():
    # even with most criteria met, a fall below the standard after meeting it is slipping
    assert stage({"slips_since_action_count": 2.0, "compliance_margin_latest": -0.2}) == "slipping"


# --- reasons, as exact strings ---------------------------------------------------------------

REASON_CASES = [
    # (overrides, column, exact reason that must be one of the '; '-joined parts)
    (
        {"consecutive_months_at_standard_count": 2.0},
        "fragile_reasons",
        "only 2 months at standard since action (3 needed)",
    ),
    (
        {"consecutive_months_at_standard_count": 1.0},
        "fragile_reasons",
        "only 1 month at standard since action (3 needed)",
    ),
    (
        {"consecutive_months_at_standard_count": 0.0},
        "fragile_reasons",
        "latest month below the standard",
    ),
    (
        {"consecutive_months_at_standard_count": NAN},
        "fragile_reasons",
        "no monthly compliance result yet",
    ),
    (
        {"consecutive_months_at_standard_count": 3.0},
        "stable_reasons",
        "3 months in a row at or above the standard",
    ),
    (
        {
            "evidence_categories_positive_90d_count": 1.0,
            "evidence_categories_positive_90d_mask": 16.0,
        },
        "fragile_reasons",
        "improvement seen in only 1 of 6 kinds of evidence (audits and records) (3 needed)",
    ),
    (
        {"evidence_categories_positive_90d_count": 3.0, "evidence_categories_positive_90d_mask": 0},
        "stable_reasons",
        "improvement seen in 3 of 6 kinds of evidence",
    ),
    (
        {},
        "stable_reasons",
        "improvement seen in 4 of 6 kinds of evidence (people's experience, staff and leaders, "
        "observed practice, audits and records)",
    ),
    (
        {"peoples_experience_positive_90d_flag": NAN},
        "fragile_reasons",
        "no feedback from people or families in the last 90 days",
    ),
    (
        {"peoples_experience_positive_90d_flag": 0.0},
        "fragile_reasons",
        "feedback from people and families on this theme is not positive",
    ),
    (
        {},
        "stable_reasons",
        "people and families give positive feedback on this theme (rated 4.2 of 5)",
    ),
    (
        {"peoples_rating_90d_mean": NAN},
        "stable_reasons",
        "people and families give positive feedback on this theme",
    ),
    (
        {"peoples_rating_90d_mean": 2.5},
        "fragile_reasons",
        "people and families rate this theme only 2.5 of 5 (3 needed)",
    ),
    (
        {"teams_meeting_standard_count": 1.0, "teams_meeting_standard_share": 0.25},
        "fragile_reasons",
        "improvement seen in 1 of 4 teams (80% needed)",
    ),
    (
        {
            "teams_meeting_standard_share": NAN,
            "teams_meeting_standard_count": NAN,
            "teams_checked_90d_count": 0.0,
        },
        "fragile_reasons",
        "no team checked in the last 90 days",
    ),
    (
        {"teams_meeting_standard_count": 1.0, "teams_checked_90d_count": 1.0},
        "stable_reasons",
        "improvement seen in 1 of 1 team",
    ),
    (
        {"serious_theme_incidents_medium_term_count": 1.0},
        "fragile_reasons",
        "1 moderate-or-worse harm incident on this theme in the last 180 days "
        "(the medium-term bar for a significant concern)",
    ),
    (
        {"serious_theme_incidents_lookback_count": 3.0, "severity": "routine"},
        "fragile_reasons",
        "3 moderate-or-worse harm incidents on this theme in the last 90 days",
    ),
    (
        {"serious_theme_incidents_medium_term_count": NAN},
        "fragile_reasons",
        "no incident records to show harm on this theme has stopped",
    ),
    (
        {"severity": "routine"},
        "stable_reasons",
        "no moderate-or-worse harm incidents on this theme in the last 90 days",
    ),
    (
        {"serious_theme_incident_rate_change_per_month": -0.25},
        "stable_reasons",
        "0.25 fewer moderate-or-worse theme incidents a month than before action",
    ),
    (
        {"serious_theme_incident_rate_change_per_month": 0.5},
        "fragile_reasons",
        "0.5 more moderate-or-worse theme incidents a month than before action",
    ),
    (
        {
            "serious_theme_incident_rate_change_per_month": 0.0,
            "serious_theme_incidents_180d_count": 2.0,
        },
        "fragile_reasons",
        "moderate-or-worse theme incidents as frequent as before action",
    ),
    (
        {"serious_theme_incident_rate_change_per_month": 0.0},
        "stable_reasons",
        "no moderate-or-worse theme incidents in the last 180 days and no more than before action",
    ),
    (
        {"serious_theme_incident_rate_change_per_month": NAN},
        "fragile_reasons",
        "no incident records from before and since action to compare",
    ),
    (
        {"competency_pass_share_180d": 0.75},
        "fragile_reasons",
        "competency checks pass only 75% of items, below the 90% standard",
    ),
    (
        {"competency_pass_share_180d": 0.875, "standard": 0.95},
        "fragile_reasons",
        "competency checks pass only 87.5% of items, below the 95% standard",
    ),
    (
        {"competency_pass_share_180d": 0.9},
        "stable_reasons",
        "competency checks pass 90% of items, at or above the 90% standard",
    ),
    (
        {"confidence_gap_points": 1.2},
        "fragile_reasons",
        "staff describe the process more confidently than they demonstrate it: they rate their "
        "confidence 1.2 points above what competency checks show",
    ),
    (
        {"confidence_gap_points": 0.51},
        "fragile_reasons",
        "staff describe the process more confidently than they demonstrate it: they rate their "
        "confidence 0.51 points above what competency checks show",
    ),
    (
        {"self_rated_confidence_180d_mean": 2.0, "confidence_gap_points": -2.6},
        "fragile_reasons",
        "staff still learning without full confidence: they rate their own confidence 2 of 5",
    ),
    (
        {},
        "stable_reasons",
        "staff confidence (4 of 5) in line with what competency checks show",
    ),
    (
        {"confidence_gap_points": NAN, "self_rated_confidence_180d_mean": NAN},
        "stable_reasons",
        "staff self-ratings not recorded, so no confidence gap shown",
    ),
    (
        {
            "slips_since_action_count": 1.0,
            "months_since_below_standard": 3.0,
            "months_since_latest_slip": 3.0,
        },
        "fragile_reasons",
        "slipped below the standard in December 2025 after early improvement, back at the "
        "standard for 3 months since (6 needed: two senior review cycles)",
    ),
    (
        {
            "slips_since_action_count": 1.0,
            "months_since_below_standard": 7.0,
            "months_since_latest_slip": 8.0,
        },
        "stable_reasons",
        "held at the standard for 7 months since it slipped in July 2025",
    ),
    ({}, "stable_reasons", "no slip below the standard since action"),
    (
        {
            "staffing_pressure_months_since_action_count": 2.0,
            "staffing_pressure_months_at_standard_share": 1.0,
        },
        "stable_reasons",
        "practice held at the standard through 2 months of staffing pressure (high agency or "
        "unfilled shifts)",
    ),
    (
        {
            "staffing_pressure_months_since_action_count": 4.0,
            "staffing_pressure_months_at_standard_share": 0.75,
        },
        "fragile_reasons",
        "compliance fell below the standard in 1 of 4 months of staffing pressure (high agency "
        "or unfilled shifts)",
    ),
    (
        {"theme_complaints_90d_count": 6.0, "days_since_theme_complaint": 5.0},
        "fragile_reasons",
        "continuing complaints: 6 on this theme in the last 90 days, the latest 5 days ago",
    ),
    (
        {"immediate_controls_completed_count": 2.0, "embedding_actions_open_count": 1.0},
        "fragile_reasons",
        "immediate controls done (2 completed), but 1 embedding action still open: not yet "
        "shown in practice",
    ),
    (
        {"spc_special_cause_concern_latest_flag": 1.0},
        "fragile_reasons",
        "SPC chart shows a special cause of concern in the latest 3 months",
    ),
    (
        {"spc_special_cause_concern_latest_flag": NAN},
        "fragile_reasons",
        "fewer than 3 monthly results since action to chart",
    ),
    ({}, "stable_reasons", "no SPC special cause of concern in the latest 3 months"),
]


REASON_ROWS = [overrides for overrides, _, _ in REASON_CASES]


@pytest.mark.parametrize(
    ("case", "overrides", "column", "reason"), [(i, *case) for i, case in enumerate(REASON_CASES)]
)
def test_reason_in_a_registered_managers_words(case, overrides, column, reason):
    row = classified(REASON_ROWS).iloc[case]
    assert reason in row[column].split("; ")
    assert reason in row["stage_reasons"].split("; ")
    other = "stable_reasons" if column == "fragile_reasons" else "fragile_reasons"
    assert reason not in row[other].split("; ")


def test_no_competency_and_no_self_ratings_give_one_reason_not_two():
    stages = classify_stages(
        frame({"competency_pass_share_180d": NAN, "confidence_gap_points": NAN})
    )
    assert "staff self-ratings" not in stages["stage_reasons"].iloc[0]


def test_full_reasons_of_a_consolidating_improvement():
    stages = classify_stages(
        frame(
            {
                "consecutive_months_at_standard_count": 2.0,
                "teams_meeting_standard_count": 1.0,
                "teams_meeting_standard_share": 0.25,
                "confidence_gap_points": 1.2,
                "peoples_experience_positive_90d_flag": NAN,
                "teams_below_standard": "Rose Wing; Night shift; Oak",
                "teams_at_standard": "Ground floor",
            }
        )
    )
    row = stages.iloc[0]
    fragile = (
        "only 2 months at standard since action (3 needed); "
        "no feedback from people or families in the last 90 days; "
        "improvement seen in 1 of 4 teams (80% needed): Rose Wing, Night shift, Oak below the "
        "standard; "
        "staff describe the process more confidently than they demonstrate it: they rate their "
        "confidence 1.2 points above what competency checks show"
    )
    stable = (
        "no slip below the standard since action; "
        "improvement seen in 4 of 6 kinds of evidence (people's experience, staff and leaders, "
        "observed practice, audits and records); "
        "no moderate-or-worse harm incidents on this theme in the last 180 days (the medium-term "
        "bar for a significant concern); "
        "0.2 fewer moderate-or-worse theme incidents a month than before action; "
        "competency checks pass 95% of items, at or above the 90% standard; "
        "no SPC special cause of concern in the latest 3 months"
    )
    assert row["stage"] == "consolidating"
    assert row["fragile_reasons"] == fragile
    assert row["stable_reasons"] == stable
    assert row["stage_reasons"] == (
        "at standard for 2 months in a row and seen in 4 kinds of evidence, "
        "but not yet every embedded criterion; " + fragile + "; " + stable
    )


def test_low_confidence_is_never_a_stable_reason():
    # staff who rate themselves 2 of 5 are still learning: fragile, whatever the gap says
    row = classify_stages(
        frame({"self_rated_confidence_180d_mean": 2.0, "confidence_gap_points": -2.6})
    ).iloc[0]
    assert "confidence" not in row["stable_reasons"]
    assert "still learning without full confidence" in row["fragile_reasons"]
    assert row["stage"] != "embedded"


HEADLINE_CASES = [
    ({}, "meets every criterion of the evidence threshold"),
    ({"days_since_action_started": NAN}, "no action started yet"),
    (
        {"review_cycles_since_action_count": 0.0},
        "no monthly compliance result since action started",
    ),
    (
        {"slips_since_action_count": 1.0, "compliance_margin_latest": -0.1},
        "fell back below the standard after meeting it (1 slip since action)",
    ),
    (
        {"slips_since_action_count": 2.0, "compliance_margin_latest": -0.1},
        "fell back below the standard after meeting it (2 slips since action)",
    ),
    (
        {"consecutive_months_at_standard_count": 0.0, "compliance_margin_latest": -0.1},
        "action under way, not yet at the standard",
    ),
    (
        {"consecutive_months_at_standard_count": 1.0},
        "action under way, improvement recent, narrow or single-source",
    ),
]


HEADLINE_ROWS = [overrides for overrides, _ in HEADLINE_CASES]


@pytest.mark.parametrize(
    ("case", "overrides", "headline"), [(i, *case) for i, case in enumerate(HEADLINE_CASES)]
)
def test_stage_reasons_start_with_the_stage_headline(case, overrides, headline):
    reasons = classified(HEADLINE_ROWS)["stage_reasons"].iloc[case]
    assert reasons.split("; ")[0] == headline


# --- the configuration: changes the stage, and goes into the run record ----------------------

CONFIG_CASES = [
    # (threshold overrides, feature overrides, stage with defaults, stage with the setting)
    ({"min_consecutive_months": 5}, {}, "embedded", "consolidating"),
    (
        {"min_consecutive_months": 2},
        {"consecutive_months_at_standard_count": 2.0},
        "consolidating",
        "embedded",
    ),
    ({"min_evidence_categories": 5}, {}, "embedded", "consolidating"),
    (
        {"require_peoples_experience": False},
        {"peoples_experience_positive_90d_flag": NAN},
        "consolidating",
        "embedded",
    ),
    (
        {"min_teams_meeting_share": 0.5},
        {"teams_meeting_standard_share": 0.5},
        "consolidating",
        "embedded",
    ),
    (
        {"max_confidence_gap_points": 1.0},
        {"confidence_gap_points": 0.8},
        "consolidating",
        "embedded",
    ),
    (
        {"consolidating_min_consecutive_months": 1},
        {"consecutive_months_at_standard_count": 1.0},
        "emerging",
        "consolidating",
    ),
    (
        {"consolidating_min_evidence_categories": 3},
        {
            "consecutive_months_at_standard_count": 2.0,
            "evidence_categories_positive_90d_count": 2.0,
        },
        "consolidating",
        "emerging",
    ),
    (
        {"slipping_min_slips": 2},
        {
            "slips_since_action_count": 1.0,
            "compliance_margin_latest": -0.1,
            "consecutive_months_at_standard_count": 0.0,
        },
        "slipping",
        "emerging",
    ),
]


CONFIG_ROWS = [overrides for _, overrides, _, _ in CONFIG_CASES]


@pytest.mark.parametrize(
    ("case", "settings_", "overrides", "before", "after"),
    [(i, *case) for i, case in enumerate(CONFIG_CASES)],
)
def test_changing_a_threshold_changes_the_stage(case, settings_, overrides, before, after):
    assert classified(CONFIG_ROWS)["stage"].iloc[case] == before
    assert classified(CONFIG_ROWS, EvidenceThreshold(**settings_))["stage"].iloc[case] == after


def test_a_changed_threshold_changes_the_reason_text():
    reasons = classify_stages(frame(), EvidenceThreshold(min_consecutive_months=5))
    assert reasons["fragile_reasons"].iloc[0] == "only 4 months at standard since action (5 needed)"


def test_the_threshold_goes_into_the_run_record(tmp_path):
    threshold = EvidenceThreshold(min_consecutive_months=4, min_teams_meeting_share=0.75)
    write_manifest(
        tmp_path, {"run_id": "r1", "config": {"evidence_threshold": threshold.to_dict()}}
    )
    (tmp_path / "evidence_threshold.json").write_text(json.dumps(threshold.to_dict()))
    recorded = json.loads((tmp_path / "manifest.json").read_text())["config"]["evidence_threshold"]
    assert recorded["min_consecutive_months"] == 4
    assert recorded["min_teams_meeting_share"] == 0.75
    assert recorded["embedded_claims"] == ["embedded"]
    reread = json.loads((tmp_path / "evidence_threshold.json").read_text())
    assert EvidenceThreshold.from_dict(reread) == threshold


def test_to_dict_names_every_threshold():
    assert set(DEFAULT.to_dict()) == set(EvidenceThreshold.__dataclass_fields__)


@pytest.mark.parametrize(
    "settings_",
    [
        {"incident_lookback_days": 0},
        {"medium_term_incident_days": -30},
        {"min_teams_meeting_share": 1.2},
        {"min_evidence_categories": 7},
        {"overclaim_stages": ("emerging", "stuck")},
    ],
)
def test_impossible_thresholds_are_refused(settings_):
    with pytest.raises(ValueError):
        EvidenceThreshold(**settings_)


@pytest.mark.parametrize("days", [30, 90, 180, 365])
def test_every_incident_lookback_it_advertises_is_accepted_and_used(days):
    # the window goes to the features through the run configuration (RunConfig)
    from contracts.params import RunConfig

    config = RunConfig(threshold=EvidenceThreshold(incident_lookback_days=days))
    assert config.features.incident_lookback_days == days
    routine = {"severity": "routine", "serious_theme_incidents_lookback_count": 1.0}
    stages = classify_stages(frame(routine), config.threshold)
    assert not stages["criterion_no_serious_incidents"].iloc[0]
    assert f"in the last {days} days" in stages["fragile_reasons"].iloc[0]


def test_unknown_settings_are_refused():
    with pytest.raises(ValueError, match="min_months"):
        EvidenceThreshold.from_dict({"min_months": 3})


def test_missing_feature_column_is_named():
    with pytest.raises(KeyError, match="confidence_gap_points"):
        classify_stages(frame().drop(columns="confidence_gap_points"))


# --- dtypes the feature builder may use ------------------------------------------------------


def test_nullable_and_categorical_dtypes_give_the_same_stages():
    plain = frame(
        {}, {"peoples_experience_positive_90d_flag": NAN}, {"days_since_action_started": NAN}
    )
    typed = plain.astype(
        {
            "peoples_experience_positive_90d_flag": "boolean",
            "spc_special_cause_concern_latest_flag": "Int64",
            "consecutive_months_at_standard_count": "Int64",
            "severity": "category",
            "declared_status": "category",
        }
    )
    pd.testing.assert_frame_equal(classify_stages(plain), classify_stages(typed))


# --- invariants ------------------------------------------------------------------------------

FLAG = st.sampled_from([0.0, 1.0, NAN])
ROWS = st.lists(
    st.fixed_dictionaries(
        {
            "days_since_action_started": st.sampled_from([NAN, 10.0, 200.0]),
            "review_cycles_since_action_count": st.sampled_from([0.0, 1.0, 5.0]),
            "consecutive_months_at_standard_count": st.sampled_from([NAN, 0.0, 1.0, 2.0, 3.0, 6.0]),
            "compliance_margin_latest": st.sampled_from([-0.1, 0.0, 0.05]),
            "slips_since_action_count": st.sampled_from([0.0, 1.0, 2.0]),
            "evidence_categories_positive_90d_count": st.sampled_from([0.0, 1.0, 2.0, 3.0, 6.0]),
            "peoples_experience_positive_90d_flag": FLAG,
            "teams_meeting_standard_share": st.sampled_from([NAN, 0.0, 0.5, 0.8, 1.0]),
            "serious_theme_incidents_90d_count": st.sampled_from([NAN, 0.0, 1.0]),
            "theme_incident_rate_change_per_month": st.sampled_from([NAN, -1.0, 0.0, 1.0]),
            "competency_pass_share_180d": st.sampled_from([NAN, 0.5, 0.9, 1.0]),
            "confidence_gap_points": st.sampled_from([NAN, -0.5, 0.5, 1.5]),
            "spc_special_cause_concern_latest_flag": FLAG,
        }
    ),
    min_size=1,
    max_size=8,
)
SETTINGS = settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(ROWS)
def test_embedded_exactly_when_started_evidenced_not_slipping_and_every_criterion_met(rows):
    features = frame(*rows)
    stages = classify_stages(features)
    started = features["days_since_action_started"].notna()
    evidenced = features["review_cycles_since_action_count"] >= 1
    slipping = (features["compliance_margin_latest"] < 0) & (
        features["slips_since_action_count"] >= 1
    )
    every = stages[list(CRITERION_COLUMNS)].all(axis=1)
    assert ((stages["stage"] == "embedded") == (started & evidenced & ~slipping & every)).all()
    assert stages["stage"].isin(STAGES).all()
    # an embedded row has nothing fragile; any other started row has a fragile reason or slips
    assert (stages.loc[stages["stage"] == "embedded", "fragile_reasons"] == "").all()


@SETTINGS
@given(ROWS, st.randoms(use_true_random=False))
def test_row_order_changes_nothing_and_input_is_not_mutated(rows, random):
    features = frame(*rows)
    before = features.copy()
    order = list(features.index)
    random.shuffle(order)
    expected = classify_stages(features)
    shuffled = classify_stages(features.loc[order])
    assert shuffled.index.tolist() == order
    pd.testing.assert_frame_equal(shuffled.loc[expected.index], expected)
    pd.testing.assert_frame_equal(features, before)


RANK = {"not_started": 0, "slipping": 0, "emerging": 1, "consolidating": 2, "embedded": 3}


@SETTINGS
@given(ROWS, st.integers(3, 6), st.integers(3, 6))
def test_a_stricter_threshold_never_raises_a_stage(rows, months, categories):
    features = frame(*rows)
    loose = classify_stages(features, with_reasons=False)["stage"].map(RANK)
    strict = classify_stages(
        features,
        EvidenceThreshold(min_consecutive_months=months, min_evidence_categories=categories),
        with_reasons=False,
    )["stage"].map(RANK)
    assert (strict <= loose).all()


def test_without_reasons_the_stages_and_criteria_are_the_same():
    features = frame(*STAGE_ROWS)
    full = classify_stages(features)
    lean = classify_stages(features, with_reasons=False)
    assert "stage_reasons" not in lean.columns
    pd.testing.assert_frame_equal(
        lean, full.drop(columns=["stage_reasons", "stable_reasons", "fragile_reasons"])
    )


def test_embedded_row_values_are_the_documented_defaults():
    # guards the helper: the default row must stay embedded under the default threshold
    assert EMBEDDED_ROW["consecutive_months_at_standard_count"] > DEFAULT.min_consecutive_months
    assert stage({}) == "embedded"


def test_an_empty_feature_frame_gives_empty_results():
    stages = classify_stages(frame().iloc[:0])
    assert len(stages) == 0
    assert list(stages.columns[:6]) == [
        "improvement_id",
        "as_of",
        "stage",
        "stage_reasons",
        "stable_reasons",
        "fragile_reasons",
    ]
