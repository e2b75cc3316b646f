"""The feature list, declared once.

Every feature built for an (improvement_id, as_of) pair is named here with its family, its
kind, its meaning (window, unit, time semantics) and the direction in which the domain
expects it to move the chance that an improvement holds (+1 raises it, -1 lowers it,
0 unknown or not monotone). The model, the rules, the validation of the feature frame and
the report all read this list; nothing else spells feature names.

Missing evidence is missing (NaN), never zero, unless zero is the true count.

Time semantics (features.build): a day window "in the N days to as_of" is exact, rows dated in
(as_of - N days, as_of]; month features use calendar months, the month of as_of holding only
rows dated on or before as_of; "since action" in a month feature means from the calendar month
of action_started_on, and every since-action feature is NaN when no action started by as_of.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Family = Literal[
    "timeline", "trend", "spread", "recurrence", "staff", "experience", "workforce", "context"
]
Kind = Literal["numeric", "flag", "category"]

IMPROVEMENT_ID = "improvement_id"
LOCATION_ID = "location_id"
AS_OF = "as_of"
KEY_COLUMNS = (IMPROVEMENT_ID, AS_OF)

# Label columns (features.labels): present only in training snapshots.
HELD = "held"  # 1 held, 0 slipped, <NA> censored
LABEL_OBSERVED = "label_observed"
SLIP_REASON = "slip_reason"  # "compliance", "incident", "both" or <NA>
LABEL_COLUMNS = (HELD, LABEL_OBSERVED, SLIP_REASON)


@dataclass(frozen=True)
class Feature:
    name: str
    family: Family
    kind: Kind
    description: str
    direction: int = 0  # expected effect on holding: +1, -1, or 0 (unknown / not monotone)


FEATURES: tuple[Feature, ...] = (
    # --- timeline -------------------------------------------------------------------------
    Feature("days_since_identified", "timeline", "numeric", "Days from identified_on to as_of."),
    Feature(
        "days_since_action_started",
        "timeline",
        "numeric",
        "Days from action_started_on to as_of; NaN when no action has started by as_of.",
    ),
    Feature(
        "review_cycles_since_action_count",
        "timeline",
        "numeric",
        "Calendar months from the action month to the as_of month that have a monthly "
        "compliance value (audit, care_records or staff_practice checks); NaN without "
        "action.",
        +1,
    ),
    Feature(
        "consecutive_months_at_standard_count",
        "timeline",
        "numeric",
        "Run of most recent months with a compliance value at or above the standard, "
        "counted back from the latest month with a value; a month with no value ends the "
        "run. 0 when the latest value is below the standard; NaN when there is no value.",
        +1,
    ),
    Feature(
        "months_since_below_standard",
        "timeline",
        "numeric",
        "Months from the last month below the standard (since action) to the as_of month; "
        "NaN when no month since action was below the standard.",
        +1,
    ),
    Feature(
        "evidence_span_days",
        "timeline",
        "numeric",
        "Days between the first and the last primary check dated on or before as_of.",
    ),
    # --- trend ----------------------------------------------------------------------------
    Feature(
        "compliance_latest",
        "trend",
        "numeric",
        "Monthly compliance (sum met / sum sampled, primary sources) in the latest month "
        "with a value on or before as_of.",
    ),
    Feature(
        "compliance_margin_latest",
        "trend",
        "numeric",
        "compliance_latest minus the improvement's standard (share points).",
        +1,
    ),
    Feature(
        "compliance_slope_since_action_per_month",
        "trend",
        "numeric",
        "Theil-Sen slope of monthly compliance since the action month, over at most the 12 "
        "latest months, share points per month; NaN with fewer than 3 monthly values.",
    ),
    Feature(
        "compliance_slope_3m_per_month",
        "trend",
        "numeric",
        "Theil-Sen slope of monthly compliance over the 3 months ending with the as_of "
        "month; NaN with fewer than 2 values.",
    ),
    Feature(
        "compliance_slope_6m_per_month",
        "trend",
        "numeric",
        "Theil-Sen slope of monthly compliance over the 6 months ending with the as_of "
        "month; NaN with fewer than 3 values.",
    ),
    Feature(
        "spc_special_cause_concern_latest_flag",
        "trend",
        "flag",
        "1 when any of the latest 3 monthly points on the SPC (XmR) chart since action is a "
        "special cause of concern; NaN with fewer than 3 points since action.",
        -1,
    ),
    Feature(
        "spc_improvement_signal_since_action_flag",
        "trend",
        "flag",
        "1 when the SPC chart since action shows a special cause of improvement (shift, "
        "trend, two-of-three or point outside the limits) at any point; NaN with fewer "
        "than 3 points.",
        +1,
    ),
    Feature(
        "spc_assurance_pass_flag",
        "trend",
        "flag",
        "1 when the lower SPC process limit since action is above the standard (NHS "
        "'consistent pass'), 0 otherwise; NaN with fewer than 3 points. With no variation "
        "at all (every moving range 0) both limits are the mean.",
    ),
    Feature(
        "spc_assurance_fail_flag",
        "trend",
        "flag",
        "1 when the upper SPC process limit since action is below the standard (NHS "
        "'consistent fail'), 0 otherwise; NaN with fewer than 3 points.",
        -1,
    ),
    Feature(
        "first_cycle_slip_flag",
        "trend",
        "flag",
        "1 when the first month at or above the standard since the action month was "
        "followed, within the next two months, by a month below it; 0 when it was not (so "
        "far); NaN when no month since action met the standard.",
        -1,
    ),
    # --- spread ---------------------------------------------------------------------------
    Feature(
        "team_count",
        "spread",
        "numeric",
        "Distinct teams with a primary check since the action month, on or before as_of; "
        "NaN without action.",
    ),
    Feature(
        "teams_checked_90d_count",
        "spread",
        "numeric",
        "Distinct teams with a primary check in the 90 days to as_of (0 is a true count).",
    ),
    Feature(
        "teams_meeting_standard_count",
        "spread",
        "numeric",
        "Teams whose latest primary check day in the 90 days to as_of met the standard "
        "(that day's checks pooled: met / sampled >= standard); NaN when no team has such "
        "a check.",
        +1,
    ),
    Feature(
        "teams_meeting_standard_share",
        "spread",
        "numeric",
        "Share of teams whose latest primary check in the 90 days to as_of met the "
        "standard (met / sampled >= standard); NaN when no team has such a check.",
        +1,
    ),
    Feature(
        "met_items_top_team_share",
        "spread",
        "numeric",
        "Share of met items (primary checks since the action month) that came from the team "
        "with the most met items (1 = all improvement in one team); NaN with no met item.",
        -1,
    ),
    Feature(
        "evidence_categories_positive_90d_count",
        "spread",
        "numeric",
        "CQC evidence categories (of six) whose latest evidence in the 90 days to as_of is "
        "positive: the category's latest day of checks (pooled) at or above the standard "
        "and of feedback with mean sentiment > 0 (both, when on the same day); outcomes: "
        "an incidents file, no incident concerning the improvement in the 90 days and a "
        "primary check in them. 0 is a true count.",
        +1,
    ),
    Feature(
        "peoples_experience_positive_90d_flag",
        "spread",
        "flag",
        "1 when people and families' feedback on the theme in the 90 days to as_of has "
        "mean sentiment > 0, 0 when <= 0, NaN when there is none.",
        +1,
    ),
    Feature(
        "source_agreement_share",
        "spread",
        "numeric",
        "Share of check sources (audit, care_records, staff_practice, competency) whose "
        "pooled result in the 90 days to as_of agrees with all of them pooled (both at or "
        "both below the standard); NaN with no checks in the window.",
        +1,
    ),
    # --- recurrence -----------------------------------------------------------------------
    Feature(
        "repeat_gaps_share_90d",
        "recurrence",
        "numeric",
        "Repeat gaps / failed items over primary checks in the 90 days to as_of; NaN when "
        "no item failed or repeat_gaps was not recorded.",
        -1,
    ),
    Feature(
        "theme_incidents_90d_count",
        "recurrence",
        "numeric",
        "Incidents at the improvement's location with its theme or naming it, in the 90 "
        "days to as_of; NaN when the export has no incidents file.",
        -1,
    ),
    Feature(
        "theme_incidents_180d_count",
        "recurrence",
        "numeric",
        "As theme_incidents_90d_count over 180 days.",
        -1,
    ),
    Feature(
        "serious_theme_incidents_90d_count",
        "recurrence",
        "numeric",
        "Theme incidents with harm moderate, severe or death in the 90 days to as_of.",
        -1,
    ),
    Feature(
        "theme_incident_rate_change_per_month",
        "recurrence",
        "numeric",
        "Theme incidents per month from action_started_on to as_of (at least one month "
        "counted) minus per month in the 180 days before action_started_on (months of "
        "30.44 days); NaN without action or without an incidents file.",
        -1,
    ),
    Feature(
        "slips_since_action_count",
        "recurrence",
        "numeric",
        "Months since the action month below the standard whose previous month with a "
        "value (since action) was at or above it; NaN without a value since action.",
        -1,
    ),
    # --- staff understanding --------------------------------------------------------------
    Feature(
        "competency_pass_share_180d",
        "staff",
        "numeric",
        "met / sampled over competency checks in the 180 days to as_of; NaN without one.",
        +1,
    ),
    Feature(
        "confidence_gap_points",
        "staff",
        "numeric",
        "Mean self-rated confidence (1-5) minus demonstrated competency on the same scale "
        "(1 + 4 x competency pass share), competency checks in the 180 days to as_of. "
        "Positive: staff rate themselves above what they show.",
        -1,
    ),
    Feature(
        "prompts_per_observation_90d",
        "staff",
        "numeric",
        "Mean prompts_needed per staff_practice check in the 90 days to as_of.",
        -1,
    ),
    # --- lived experience -----------------------------------------------------------------
    Feature(
        "theme_sentiment_90d_mean",
        "experience",
        "numeric",
        "Mean sentiment (-1, 0, 1) of feedback from people and families at the location on "
        "the theme (or naming the improvement) in the 90 days to as_of; NaN without "
        "any.",
        +1,
    ),
    Feature(
        "theme_sentiment_change_90d",
        "experience",
        "numeric",
        "theme_sentiment_90d_mean minus the same mean over (as_of - 180 days, as_of - 90 days].",
    ),
    Feature(
        "theme_complaints_90d_count",
        "experience",
        "numeric",
        "Complaints (channel complaint) on the theme at the location in the 90 days to "
        "as_of; NaN when the export has no feedback file.",
        -1,
    ),
    # --- workforce ------------------------------------------------------------------------
    Feature(
        "agency_shift_share_90d",
        "workforce",
        "numeric",
        "Agency shifts / planned shifts at the location, weeks starting in the 90 days to as_of.",
        -1,
    ),
    Feature(
        "unfilled_shift_share_90d",
        "workforce",
        "numeric",
        "Unfilled shifts / planned shifts at the location, weeks in the 90 days to as_of.",
        -1,
    ),
    Feature(
        "agency_shift_share_change_90d",
        "workforce",
        "numeric",
        "agency_shift_share_90d minus the same share over the 90 days before that.",
    ),
    Feature(
        "unfilled_shift_share_change_90d",
        "workforce",
        "numeric",
        "unfilled_shift_share_90d minus the same share over the 90 days before that.",
    ),
    Feature(
        "leavers_per_100_shifts_90d",
        "workforce",
        "numeric",
        "Leavers per 100 planned shifts at the location, weeks in the 90 days to as_of.",
        -1,
    ),
    Feature(
        "workforce_feedback_mismatch_flag",
        "workforce",
        "flag",
        "1 when agency + unfilled share of planned shifts fell (90 days to as_of against the "
        "90 days before) while people's theme sentiment did not rise; 0 otherwise; NaN "
        "when either change is missing.",
    ),
    # --- context --------------------------------------------------------------------------
    Feature(
        "severity", "context", "category", "Improvement severity (routine/significant/serious)."
    ),
    Feature("origin", "context", "category", "Where the concern came from."),
    Feature("theme", "context", "category", "Improvement theme."),
    Feature("key_question", "context", "category", "CQC key question."),
    Feature("service_type", "context", "category", "Type of service."),
    Feature(
        "standard", "context", "numeric", "Required share of sampled items meeting the standard."
    ),
    Feature(
        "declared_status",
        "context",
        "category",
        "Leaders' declared status as of as_of (declared_on <= as_of), else 'none'.",
    ),
    Feature(
        "latest_review_classification",
        "context",
        "category",
        "Classification of the latest governance review on or before as_of, else 'none'; "
        "on a day with several, the most senior level's.",
    ),
)

FEATURE_NAMES: tuple[str, ...] = tuple(f.name for f in FEATURES)
FEATURES_BY_NAME = {f.name: f for f in FEATURES}
NUMERIC_FEATURES: tuple[str, ...] = tuple(f.name for f in FEATURES if f.kind != "category")
CATEGORICAL_FEATURES: tuple[str, ...] = tuple(f.name for f in FEATURES if f.kind == "category")
