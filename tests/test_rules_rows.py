"""Hand-made feature frames for the rules' tests: a default row that is embedded, overridable.

The other `test_rules*` modules import `frame` and `EMBEDDED_ROW` from here; the one test in this
module checks the default row still carries exactly the declared feature columns.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from contracts.params import EvidenceThreshold
from features.columns import FEATURE_NAMES, TEAM_NAME_COLUMNS
from models.rules import RULE_FEATURES, classify_stages

NAN = np.nan

# Every value chosen so that the row meets every embedded criterion with some margin.
EMBEDDED_ROW: dict = {
    "improvement_id": "IMP-1",
    "as_of": pd.Timestamp("2026-03-31"),
    "location_id": "1-101675727",
    "days_since_identified": 300.0,
    "days_since_action_started": 240.0,
    "review_cycles_since_action_count": 8.0,
    "consecutive_months_at_standard_count": 4.0,
    "months_since_below_standard": 5.0,
    "evidence_span_days": 230.0,
    "compliance_latest": 0.95,
    "compliance_margin_latest": 0.05,
    "compliance_slope_since_action_per_month": 0.01,
    "compliance_slope_3m_per_month": 0.0,
    "compliance_slope_6m_per_month": 0.01,
    "spc_special_cause_concern_latest_flag": 0.0,
    "spc_improvement_signal_since_action_flag": 1.0,
    "spc_assurance_pass_flag": 1.0,
    "spc_assurance_fail_flag": 0.0,
    "first_cycle_slip_flag": 0.0,
    "team_count": 4.0,
    "teams_checked_90d_count": 4.0,
    "teams_meeting_standard_count": 4.0,
    "teams_meeting_standard_share": 1.0,
    "met_items_top_team_share": 0.3,
    "evidence_categories_positive_90d_count": 4.0,
    "peoples_experience_positive_90d_flag": 1.0,
    "source_agreement_share": 1.0,
    "repeat_gaps_share_90d": 0.1,
    "theme_incidents_90d_count": 0.0,
    "theme_incidents_180d_count": 1.0,
    "serious_theme_incidents_90d_count": 0.0,
    "theme_incident_rate_change_per_month": -0.5,
    "slips_since_action_count": 0.0,
    "competency_pass_share_180d": 0.95,
    "confidence_gap_points": 0.2,
    "prompts_per_observation_90d": 0.5,
    "theme_sentiment_90d_mean": 0.5,
    "theme_sentiment_change_90d": 0.1,
    "theme_complaints_90d_count": 0.0,
    "agency_shift_share_90d": 0.1,
    "unfilled_shift_share_90d": 0.02,
    "agency_shift_share_change_90d": -0.01,
    "unfilled_shift_share_change_90d": -0.005,
    "leavers_per_100_shifts_90d": 0.5,
    "workforce_feedback_mismatch_flag": 0.0,
    "severity": "significant",
    "origin": "internal_audit",
    "theme": "falls",
    "key_question": "safe",
    "service_type": "care_home_nursing",
    "standard": 0.9,
    "declared_status": "none",
    "latest_review_classification": "none",
    # the features the worked examples added (no slip, no actions file, a steady rota)
    "evidence_categories_positive_90d_mask": 27.0,  # people, staff, observation, processes
    "months_since_latest_slip": NAN,
    "self_rated_confidence_180d_mean": 4.0,
    "peoples_rating_90d_mean": 4.2,
    "days_since_theme_complaint": NAN,
    "keyworker_continuity_share_90d": 0.85,
    "keyworker_continuity_lowest_team_gap_90d": 0.05,
    "keyworker_continuity_share_change_since_action": 0.02,
    "agency_unfilled_share_change_since_action": -0.01,
    "staffing_pressure_months_since_action_count": 0.0,
    "staffing_pressure_months_at_standard_share": NAN,
    "serious_theme_incidents_180d_count": 0.0,
    "serious_theme_incidents_365d_count": 1.0,
    "serious_theme_incident_rate_change_per_month": -0.2,
    "serious_theme_incidents_lookback_count": 0.0,
    "serious_theme_incidents_medium_term_count": 0.0,
    "serious_theme_incidents_since_claim_count": NAN,
    "days_since_claim": NAN,
    "immediate_controls_completed_count": NAN,
    "immediate_controls_open_count": NAN,
    "days_since_immediate_controls_completed": NAN,
    "embedding_actions_completed_count": NAN,
    "embedding_actions_open_count": NAN,
    "embedding_actions_overdue_count": NAN,
}
COLUMNS = ["improvement_id", "as_of", "location_id", *FEATURE_NAMES]


def frame(*overrides: dict) -> pd.DataFrame:
    """A feature frame with one row per overrides dict (the embedded row, with those values).

    Columns are the feature frame's; a feature declared after this row was written is NaN.
    """
    rows = [
        {**EMBEDDED_ROW, "improvement_id": f"IMP-{i + 1}", **changes}
        for i, changes in enumerate(overrides or ({},))
    ]
    # Team names (features.teams) ride along when a case gives them; the rules read them if there.
    names = [c for c in TEAM_NAME_COLUMNS if any(c in changes for changes in overrides)]
    return pd.DataFrame(rows).reindex(columns=COLUMNS + names)


def test_default_row_gives_every_feature_the_rules_read():
    assert set(EMBEDDED_ROW) <= set(COLUMNS)
    assert set(RULE_FEATURES) <= set(EMBEDDED_ROW)
    assert list(frame({}, {}).columns) == COLUMNS


_CLASSIFIED: dict = {}


def classified(rows: list[dict], threshold=None) -> pd.DataFrame:
    """`classify_stages(frame(*rows), threshold)`, computed once per table of rows and threshold.

    Table-driven tests look up their own row (by position) in one classification of the whole
    table, which keeps a file of a hundred cases to a few calls.
    """
    threshold = threshold or EvidenceThreshold()
    key = (id(rows), threshold)
    if key not in _CLASSIFIED:
        _CLASSIFIED[key] = classify_stages(frame(*rows), threshold)
    return _CLASSIFIED[key]
