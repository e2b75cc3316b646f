"""Hand-computed feature values, family by family, on 3-6 row exports.

The improvement (tests/features_fixtures.py) is identified 2025-01-05, its action starts
2025-01-20 and its standard is 0.8. Every expected number is worked out in the comment next
to it.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from features_fixtures import LOCATION, OTHER_LOCATION, check, improvement, tables

from features.build import build_feature_frame
from features.columns import FEATURE_NAMES, FEATURES

DAYS_PER_MONTH = 365.25 / 12


def features_at(export: dict, as_of: str, improvement_id: str = "imp-1") -> pd.Series:
    frame = build_feature_frame(export, [as_of])
    return frame.set_index("improvement_id").loc[improvement_id]


def assert_features(row: pd.Series, expected: dict) -> None:
    for name, value in expected.items():
        got = row[name]
        if isinstance(value, str):
            assert got == value, name
        elif value is None or (isinstance(value, float) and math.isnan(value)):
            assert pd.isna(got), f"{name}: expected missing, got {got}"
        else:
            assert got == pytest.approx(value, abs=1e-9), name


# --- timeline and trend -----------------------------------------------------------------------

# Monthly compliance: Jan 0.9 (at), Feb 0.6 (below), Mar 0.9 (at), Apr 1.0 (at).
MONTHLY = [
    check("2025-01-25", 10, 9),
    check("2025-02-10", 10, 6),
    check("2025-03-15", 10, 9),
    check("2025-04-10", 10, 10),
]


@pytest.mark.parametrize(
    ("checks", "as_of", "expected"),
    [
        (
            MONTHLY,
            "2025-04-30",
            {
                "days_since_identified": 115,  # Jan 5 -> Apr 30
                "days_since_action_started": 100,  # Jan 20 -> Apr 30
                "review_cycles_since_action_count": 4,
                "consecutive_months_at_standard_count": 2,  # Mar, Apr
                "months_since_below_standard": 2,  # Feb -> Apr
                "evidence_span_days": 75,  # Jan 25 -> Apr 10
                "compliance_latest": 1.0,
                "compliance_margin_latest": 0.2,
                # pairwise slopes of Feb..Apr: 0.3, 0.2, 0.1 -> median 0.2
                "compliance_slope_3m_per_month": 0.2,
                # Jan..Apr: -0.3, 0, 0.1/3, 0.3, 0.2, 0.1 -> median (0.1/3 + 0.1) / 2
                "compliance_slope_since_action_per_month": (0.1 / 3 + 0.1) / 2,
                "compliance_slope_6m_per_month": (0.1 / 3 + 0.1) / 2,
                "first_cycle_slip_flag": 1.0,  # met in Jan, below in Feb
                "slips_since_action_count": 1,  # Jan (at) -> Feb (below)
            },
        ),
        # The Apr 10 check is after as_of: March is the latest month.
        (
            MONTHLY,
            "2025-04-09",
            {
                "days_since_identified": 94,
                "review_cycles_since_action_count": 3,
                "consecutive_months_at_standard_count": 1,
                "months_since_below_standard": 2,
                "evidence_span_days": 49,
                "compliance_latest": 0.9,
                "compliance_slope_3m_per_month": 0.3,  # Feb, Mar; April has no value yet
                "compliance_slope_since_action_per_month": 0.0,  # -0.3, 0, 0.3
            },
        ),
        # A month without a value ends the run at standard; fewer than 3 values: no slope.
        (
            [check("2025-01-25", 10, 9), check("2025-03-15", 10, 9)],
            "2025-03-31",
            {
                "consecutive_months_at_standard_count": 1,
                "months_since_below_standard": None,
                "compliance_slope_since_action_per_month": None,
                "compliance_slope_3m_per_month": 0.0,
                "first_cycle_slip_flag": 0.0,
                "slips_since_action_count": 0,
            },
        ),
        # Competency checks are not monthly compliance.
        (
            [check("2025-02-10", 10, 2, source="competency")],
            "2025-03-31",
            {
                "review_cycles_since_action_count": 0,
                "compliance_latest": None,
                "consecutive_months_at_standard_count": None,
                "evidence_span_days": None,
                "first_cycle_slip_flag": None,
                "slips_since_action_count": None,
            },
        ),
    ],
)
def test_timeline_and_trend(checks, as_of, expected):
    assert_features(features_at(tables(checks), as_of), expected)


def test_without_action_the_since_action_features_are_missing():
    export = tables(MONTHLY, [improvement(action_started_on=None)])
    row = features_at(export, "2025-04-30")
    assert_features(
        row,
        {
            "days_since_action_started": None,
            "review_cycles_since_action_count": None,
            "months_since_below_standard": None,
            "slips_since_action_count": None,
            "compliance_slope_since_action_per_month": None,
            "team_count": None,
            "consecutive_months_at_standard_count": 2,
            "compliance_latest": 1.0,
        },
    )


def test_an_action_that_starts_after_as_of_has_not_started():
    export = tables(MONTHLY, [improvement(action_started_on="2025-05-02")])
    row = features_at(export, "2025-04-30")
    assert_features(row, {"days_since_action_started": None, "team_count": None})


# --- SPC ---------------------------------------------------------------------------------------


def monthly_series(values: list[float]) -> list[dict]:
    """One audit a month from January 2025, met out of 100."""
    return [check(f"2025-{m + 1:02d}-15", 100, round(v * 100)) for m, v in enumerate(values)]


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        # 7 rising points: a trend, special cause of improvement; limits straddle the standard.
        (
            [0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8],
            {
                "spc_improvement_signal_since_action_flag": 1.0,
                "spc_special_cause_concern_latest_flag": 0.0,
                "spc_assurance_pass_flag": 0.0,
            },
        ),
        # mean 0.9575, mean moving range 0.04/3 -> lower limit 0.9220 > 0.8: consistent pass.
        (
            [0.95, 0.96, 0.95, 0.97],
            {
                "spc_assurance_pass_flag": 1.0,
                "spc_assurance_fail_flag": 0.0,
                "spc_improvement_signal_since_action_flag": 0.0,
            },
        ),
        # mean 0.51, upper limit 0.51 + 2.66 x 0.015 = 0.55 < 0.8: consistent fail.
        ([0.5, 0.52, 0.51], {"spc_assurance_fail_flag": 1.0, "spc_assurance_pass_flag": 0.0}),
        # the 0.6 moving range is screened out; 0.3 is far below the lower limit: concern.
        ([0.9, 0.91, 0.9, 0.91, 0.9, 0.3], {"spc_special_cause_concern_latest_flag": 1.0}),
        # fewer than 3 points: no chart.
        (
            [0.9, 0.91],
            {"spc_special_cause_concern_latest_flag": None, "spc_assurance_pass_flag": None},
        ),
    ],
)
def test_spc_features(values, expected):
    row = features_at(tables(monthly_series(values)), "2025-12-31")
    assert_features(row, expected)


# --- spread -------------------------------------------------------------------------------------

SPREAD_CHECKS = [
    check("2025-03-01", 10, 9, team="A"),  # at standard, but not A's latest
    check("2025-03-20", 10, 5, team="A"),  # A's latest: below
    check("2025-02-15", 10, 10, team="B", source="care_records"),  # B's latest: at
    check("2024-12-20", 10, 10, team="C"),  # before the action month and the 90 days
    check("2025-03-05", 5, 5, team="A", source="competency"),
]
SPREAD_FEEDBACK = [
    {
        "feedback_id": "f1",
        "location_id": LOCATION,
        "received_on": "2025-03-10",
        "channel": "survey",
        "respondent": "person",
        "theme": "falls",
        "sentiment": 1,
    },
    # staff feedback older than the competency check: the category's latest evidence is positive
    {
        "feedback_id": "f2",
        "location_id": LOCATION,
        "received_on": "2025-03-01",
        "channel": "staff_survey",
        "respondent": "staff",
        "theme": "falls",
        "sentiment": -1,
    },
]
SPREAD_INCIDENTS = [
    {
        "incident_id": "i1",
        "location_id": LOCATION,
        "occurred_on": "2024-12-15",
        "theme": "falls",
        "harm": "low",
    }
]


def test_spread_features():
    export = tables(SPREAD_CHECKS, feedback=SPREAD_FEEDBACK, incidents=SPREAD_INCIDENTS)
    assert_features(
        features_at(export, "2025-03-31"),
        {
            "team_count": 2,  # A and B since January (C's check is in December)
            "teams_checked_90d_count": 2,
            "teams_meeting_standard_count": 1,  # B
            "teams_meeting_standard_share": 0.5,
            "met_items_top_team_share": 14 / 24,  # A 9 + 5 of 24 primary met items
            # processes no (latest day 5/10); observation none; staff and leaders yes (competency
            # 5/5 on Mar 5 is later than the staff survey); people yes; partners none; outcomes
            # yes (no incident in the 90 days, checks in them)
            "evidence_categories_positive_90d_count": 3,
            "peoples_experience_positive_90d_flag": 1.0,
            # audit 14/20 below, care_records 10/10 at, competency 5/5 at; all 29/35 at -> 2 of 3
            "source_agreement_share": 2 / 3,
        },
    )


def test_spread_without_optional_files_and_without_checks_in_the_window():
    export = tables([check("2024-12-20", 10, 10)])
    assert_features(
        features_at(export, "2025-06-30"),
        {
            "teams_checked_90d_count": 0,
            "teams_meeting_standard_count": None,
            "teams_meeting_standard_share": None,
            "evidence_categories_positive_90d_count": 0,
            "peoples_experience_positive_90d_flag": None,
            "source_agreement_share": None,
            "met_items_top_team_share": None,
            "team_count": 0,
        },
    )


# --- recurrence ---------------------------------------------------------------------------------

RECURRENCE_CHECKS = [
    check("2025-02-01", 10, 6, repeat_gaps=3),
    check("2025-03-01", 10, 8),  # repeat gaps not recorded: left out
    check("2025-03-10", 10, 9, source="care_records", repeat_gaps=1),
]


def incident(incident_id, day, harm="low", *, theme="falls", location_id=LOCATION, named=None):
    return {
        "incident_id": incident_id,
        "location_id": location_id,
        "occurred_on": day,
        "theme": theme,
        "harm": harm,
        "improvement_id": named,
    }


RECURRENCE_INCIDENTS = [
    incident("i1", "2025-03-20"),
    incident("i2", "2025-01-10", "moderate"),
    incident("i3", "2024-11-15", "none"),
    incident("i4", "2025-03-01", theme="medicines", named="imp-1"),  # names the improvement
    incident("i5", "2025-03-02", location_id=OTHER_LOCATION),  # elsewhere
    incident("i6", "2025-03-03", theme="medicines"),  # another theme
    incident("i7", "2025-04-01"),  # after as_of
]


def test_recurrence_features():
    improvements = [improvement(), improvement("imp-2", location_id=OTHER_LOCATION)]
    export = tables(RECURRENCE_CHECKS, improvements, incidents=RECURRENCE_INCIDENTS)
    assert_features(
        features_at(export, "2025-03-31"),
        {
            "repeat_gaps_share_90d": 4 / 5,  # (3 + 1) repeats of (4 + 1) recorded failed items
            "theme_incidents_90d_count": 3,  # i1, i2, i4
            "theme_incidents_180d_count": 4,  # and i3
            "serious_theme_incidents_90d_count": 1,  # i2
            # after action (Jan 20..Mar 31, 71 days): i1, i4; 180 days before: i2, i3
            "theme_incident_rate_change_per_month": 2 / (71 / DAYS_PER_MONTH)
            - 2 / (180 / DAYS_PER_MONTH),
        },
    )


def test_incident_features_are_missing_without_the_file_and_zero_with_it():
    without = features_at(tables(RECURRENCE_CHECKS), "2025-03-31")
    with_file = features_at(
        tables(RECURRENCE_CHECKS, incidents=[incident("x", "2020-01-01")]), "2025-03-31"
    )
    assert_features(
        without, {"theme_incidents_90d_count": None, "theme_incident_rate_change_per_month": None}
    )
    assert_features(
        with_file, {"theme_incidents_90d_count": 0, "serious_theme_incidents_90d_count": 0}
    )


# --- staff understanding ------------------------------------------------------------------------

STAFF_CHECKS = [
    check("2025-01-10", 10, 8, source="competency", self_rated_confidence=4.5),
    check("2025-03-01", 10, 6, source="competency", self_rated_confidence=5),
    check("2024-09-01", 10, 0, source="competency"),  # more than 180 days before
    check("2025-03-05", 10, 9, source="staff_practice", prompts_needed=2),
    check("2025-02-01", 10, 9, source="staff_practice", prompts_needed=4),
    check("2024-12-01", 10, 9, source="staff_practice", prompts_needed=10),  # > 90 days
]


def test_staff_features():
    assert_features(
        features_at(tables(STAFF_CHECKS), "2025-03-31"),
        {
            "competency_pass_share_180d": 14 / 20,
            "confidence_gap_points": 4.75 - (1 + 4 * 0.7),
            "prompts_per_observation_90d": 3.0,
        },
    )


# --- lived experience and workforce -------------------------------------------------------------


def feedback(feedback_id, day, sentiment, respondent="person", channel="survey", theme="falls"):
    return {
        "feedback_id": feedback_id,
        "location_id": LOCATION,
        "received_on": day,
        "channel": channel,
        "respondent": respondent,
        "theme": theme,
        "sentiment": sentiment,
        "text": "Mrs Example said so",
    }


def week(day, planned, agency, unfilled, leavers=None, location_id=LOCATION):
    return {
        "location_id": location_id,
        "team": "A",
        "week_start": day,
        "shifts_planned": planned,
        "shifts_agency": agency,
        "shifts_unfilled": unfilled,
        "leavers": leavers,
    }


EXPERIENCE = [
    feedback("f1", "2025-03-03", 1),
    feedback("f2", "2025-02-03", 0, respondent="family"),
    feedback("f3", "2024-12-02", -1),
    feedback("f4", "2024-11-04", -1),
    feedback("f5", "2025-03-15", 1, respondent="staff"),
    feedback("f6", "2025-03-20", -1, respondent="professional", channel="complaint"),
    feedback("f7", "2025-03-21", -1, theme="medicines"),
]
WORKFORCE = [
    week("2025-03-03", 100, 10, 5, leavers=1),
    week("2025-01-06", 100, 20, 5),
    week("2024-12-02", 100, 30, 10, leavers=2),
    week("2025-03-03", 100, 100, 0, location_id=OTHER_LOCATION),
]


def test_experience_and_workforce_features():
    improvements = [improvement(), improvement("imp-2", location_id=OTHER_LOCATION)]
    export = tables(
        [check("2025-03-01", 10, 9)], improvements, feedback=EXPERIENCE, workforce=WORKFORCE
    )
    assert_features(
        features_at(export, "2025-03-31"),
        {
            "theme_sentiment_90d_mean": 0.5,  # f1, f2
            "theme_sentiment_change_90d": 1.5,  # 0.5 - (-1): f3, f4
            "theme_complaints_90d_count": 1,  # f6
            "agency_shift_share_90d": 30 / 200,
            "unfilled_shift_share_90d": 10 / 200,
            "agency_shift_share_change_90d": 30 / 200 - 30 / 100,
            "unfilled_shift_share_change_90d": 10 / 200 - 10 / 100,
            "leavers_per_100_shifts_90d": 1.0,  # only the week that records leavers
            "workforce_feedback_mismatch_flag": 0.0,  # shortfalls fell and sentiment rose
        },
    )


def test_workforce_feedback_mismatch_when_sentiment_does_not_follow():
    flat = [feedback("a", "2025-03-03", 0), feedback("b", "2024-12-02", 0)]
    export = tables([check("2025-03-01", 10, 9)], feedback=flat, workforce=WORKFORCE)
    assert features_at(export, "2025-03-31")["workforce_feedback_mismatch_flag"] == 1.0


def test_no_free_text_reaches_the_features():
    export = tables([check("2025-03-01", 10, 9)], feedback=EXPERIENCE)
    frame = build_feature_frame(export, ["2025-03-31"])
    assert not frame.astype("str").apply(lambda c: c.str.contains("Example")).any().any()


# --- context ------------------------------------------------------------------------------------

REVIEWS = [
    {
        "review_id": "r1",
        "improvement_id": "imp-1",
        "reviewed_on": "2025-02-01",
        "level": "registered_manager",
        "classification": "emerging",
    },
    {
        "review_id": "r2",
        "improvement_id": "imp-1",
        "reviewed_on": "2025-03-10",
        "level": "board",
        "classification": "embedded",
    },
    {
        "review_id": "r3",
        "improvement_id": "imp-1",
        "reviewed_on": "2025-03-10",
        "level": "registered_manager",
        "classification": "not_assured",
    },
]


@pytest.mark.parametrize(
    ("as_of", "declared", "review"),
    [
        # No declarations history: before its one declaration the claim is unknown (v2).
        ("2025-01-31", "unknown", "none"),
        ("2025-02-28", "unknown", "emerging"),
        ("2025-03-31", "embedded", "embedded"),  # the board's review outranks the same day's
    ],
)
def test_context_features(as_of, declared, review):
    imp = improvement(declared_status="embedded", declared_on="2025-03-01")
    export = tables([check("2025-01-25", 10, 9)], [imp], reviews=REVIEWS)
    assert_features(
        features_at(export, as_of),
        {
            "declared_status": declared,
            "latest_review_classification": review,
            "severity": "significant",
            "origin": "incident",
            "theme": "falls",
            "key_question": "safe",
            "service_type": "care_home_nursing",
            "standard": 0.8,
        },
    )


# --- the frame ----------------------------------------------------------------------------------


def test_frame_shape_order_and_identified_rule():
    improvements = [improvement("imp-2"), improvement("imp-1", identified_on="2025-03-01")]
    export = tables([check("2025-01-25", 10, 9, improvement_id="imp-2")], improvements)
    frame = build_feature_frame(export, ["2025-03-31", "2025-02-28", "2025-03-31"])
    assert list(frame.columns) == ["improvement_id", "as_of", "location_id", *FEATURE_NAMES]
    assert list(
        zip(frame["improvement_id"], frame["as_of"].dt.strftime("%Y-%m-%d"), strict=True)
    ) == [("imp-1", "2025-03-31"), ("imp-2", "2025-02-28"), ("imp-2", "2025-03-31")]
    for feature in FEATURES:
        kind = frame[feature.name].dtype
        assert (kind == "category") if feature.kind == "category" else kind == np.float64


def test_inputs_are_not_mutated():
    export = tables(SPREAD_CHECKS, feedback=SPREAD_FEEDBACK, incidents=SPREAD_INCIDENTS)
    before = {name: frame.copy() for name, frame in export.items()}
    build_feature_frame(export, ["2025-03-31"])
    for name, frame in export.items():
        pd.testing.assert_frame_equal(frame, before[name])


def test_an_export_without_checks_gives_rows_with_missing_evidence():
    row = features_at(tables([]), "2025-03-31")
    assert_features(
        row,
        {
            "days_since_identified": 85,
            "review_cycles_since_action_count": 0,
            "compliance_latest": None,
            "teams_checked_90d_count": 0,
            "teams_meeting_standard_share": None,
            "competency_pass_share_180d": None,
            "spc_assurance_pass_flag": None,
            "declared_status": "none",
        },
    )
