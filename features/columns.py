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
    "timeline",
    "trend",
    "spread",
    "recurrence",
    "staff",
    "experience",
    "workforce",
    "context",
    "claims",
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
    # How an analyst says the feature at a value (`{v}` is the formatted value): the model's
    # explanations (models.explain) read it.
    phrase: str = ""


# Every feature's name, for the code that reads one feature by name (rules, triggers, model).
DAYS_SINCE_IDENTIFIED = "days_since_identified"
DAYS_SINCE_ACTION_STARTED = "days_since_action_started"
REVIEW_CYCLES_SINCE_ACTION_COUNT = "review_cycles_since_action_count"
CONSECUTIVE_MONTHS_AT_STANDARD_COUNT = "consecutive_months_at_standard_count"
MONTHS_SINCE_BELOW_STANDARD = "months_since_below_standard"
EVIDENCE_SPAN_DAYS = "evidence_span_days"
DAYS_SINCE_LATEST_REVIEW = "days_since_latest_review"
REVIEWS_180D_COUNT = "reviews_180d_count"
COMPLIANCE_LATEST = "compliance_latest"
COMPLIANCE_MARGIN_LATEST = "compliance_margin_latest"
COMPLIANCE_SLOPE_SINCE_ACTION_PER_MONTH = "compliance_slope_since_action_per_month"
COMPLIANCE_SLOPE_3M_PER_MONTH = "compliance_slope_3m_per_month"
COMPLIANCE_SLOPE_6M_PER_MONTH = "compliance_slope_6m_per_month"
SPC_SPECIAL_CAUSE_CONCERN_LATEST_FLAG = "spc_special_cause_concern_latest_flag"
SPC_IMPROVEMENT_SIGNAL_SINCE_ACTION_FLAG = "spc_improvement_signal_since_action_flag"
SPC_ASSURANCE_PASS_FLAG = "spc_assurance_pass_flag"
SPC_ASSURANCE_FAIL_FLAG = "spc_assurance_fail_flag"
FIRST_CYCLE_SLIP_FLAG = "first_cycle_slip_flag"
TEAM_COUNT = "team_count"
TEAMS_CHECKED_90D_COUNT = "teams_checked_90d_count"
TEAMS_MEETING_STANDARD_COUNT = "teams_meeting_standard_count"
TEAMS_MEETING_STANDARD_SHARE = "teams_meeting_standard_share"
MET_ITEMS_TOP_TEAM_SHARE = "met_items_top_team_share"
EVIDENCE_CATEGORIES_POSITIVE_90D_COUNT = "evidence_categories_positive_90d_count"
PEOPLES_EXPERIENCE_POSITIVE_90D_FLAG = "peoples_experience_positive_90d_flag"
SOURCE_AGREEMENT_SHARE = "source_agreement_share"
REPEAT_GAPS_SHARE_90D = "repeat_gaps_share_90d"
THEME_INCIDENTS_90D_COUNT = "theme_incidents_90d_count"
THEME_INCIDENTS_180D_COUNT = "theme_incidents_180d_count"
SERIOUS_THEME_INCIDENTS_90D_COUNT = "serious_theme_incidents_90d_count"
THEME_INCIDENT_RATE_CHANGE_PER_MONTH = "theme_incident_rate_change_per_month"
SLIPS_SINCE_ACTION_COUNT = "slips_since_action_count"
COMPETENCY_PASS_SHARE_180D = "competency_pass_share_180d"
CONFIDENCE_GAP_POINTS = "confidence_gap_points"
PROMPTS_PER_OBSERVATION_90D = "prompts_per_observation_90d"
THEME_SENTIMENT_90D_MEAN = "theme_sentiment_90d_mean"
THEME_SENTIMENT_CHANGE_90D = "theme_sentiment_change_90d"
THEME_COMPLAINTS_90D_COUNT = "theme_complaints_90d_count"
AGENCY_SHIFT_SHARE_90D = "agency_shift_share_90d"
UNFILLED_SHIFT_SHARE_90D = "unfilled_shift_share_90d"
AGENCY_SHIFT_SHARE_CHANGE_90D = "agency_shift_share_change_90d"
UNFILLED_SHIFT_SHARE_CHANGE_90D = "unfilled_shift_share_change_90d"
LEAVERS_PER_100_SHIFTS_90D = "leavers_per_100_shifts_90d"
WORKFORCE_FEEDBACK_MISMATCH_FLAG = "workforce_feedback_mismatch_flag"
SEVERITY = "severity"
ORIGIN = "origin"
THEME = "theme"
KEY_QUESTION = "key_question"
SERVICE_TYPE = "service_type"
STANDARD = "standard"
DECLARED_STATUS = "declared_status"
LATEST_REVIEW_CLASSIFICATION = "latest_review_classification"

FEATURES: tuple[Feature, ...] = (
    # --- timeline -------------------------------------------------------------------------
    Feature(
        DAYS_SINCE_IDENTIFIED,
        "timeline",
        "numeric",
        "Days from identified_on to as_of.",
        phrase="identified {v} days ago",
    ),
    Feature(
        DAYS_SINCE_ACTION_STARTED,
        "timeline",
        "numeric",
        "Days from action_started_on to as_of; NaN when no action has started by as_of.",
        phrase="action started {v} days ago",
    ),
    Feature(
        REVIEW_CYCLES_SINCE_ACTION_COUNT,
        "timeline",
        "numeric",
        "Calendar months from the action month to the as_of month that have a monthly "
        "compliance value (audit, care_records or staff_practice checks); NaN without "
        "action.",
        +1,
        phrase="{v} months of compliance results since the action",
    ),
    Feature(
        CONSECUTIVE_MONTHS_AT_STANDARD_COUNT,
        "timeline",
        "numeric",
        "Run of most recent months with a compliance value at or above the standard, "
        "counted back from the latest month with a value; a month with no value ends the "
        "run. 0 when the latest value is below the standard; NaN when there is no value.",
        +1,
        phrase="{v} consecutive months at standard",
    ),
    Feature(
        MONTHS_SINCE_BELOW_STANDARD,
        "timeline",
        "numeric",
        "Months from the last month below the standard (since action) to the as_of month; "
        "NaN when no month since action was below the standard.",
        +1,
        phrase="{v} months since last below standard",
    ),
    Feature(
        EVIDENCE_SPAN_DAYS,
        "timeline",
        "numeric",
        "Days between the first and the last primary check dated on or before as_of.",
        phrase="{v} days of check evidence",
    ),
    # --- trend ----------------------------------------------------------------------------
    Feature(
        COMPLIANCE_LATEST,
        "trend",
        "numeric",
        "Monthly compliance (sum met / sum sampled, primary sources) in the latest month "
        "with a value on or before as_of.",
        phrase="latest compliance {v}",
    ),
    Feature(
        COMPLIANCE_MARGIN_LATEST,
        "trend",
        "numeric",
        "compliance_latest minus the improvement's standard (share points).",
        +1,
        phrase="latest compliance {v} against the standard",
    ),
    Feature(
        COMPLIANCE_SLOPE_SINCE_ACTION_PER_MONTH,
        "trend",
        "numeric",
        "Theil-Sen slope of monthly compliance since the action month, over at most the 12 "
        "latest months, share points per month; NaN with fewer than 3 monthly values.",
        phrase="compliance trend since action {v} per month",
    ),
    Feature(
        COMPLIANCE_SLOPE_3M_PER_MONTH,
        "trend",
        "numeric",
        "Theil-Sen slope of monthly compliance over the 3 months ending with the as_of "
        "month; NaN with fewer than 2 values.",
        phrase="3-month compliance trend {v} per month",
    ),
    Feature(
        COMPLIANCE_SLOPE_6M_PER_MONTH,
        "trend",
        "numeric",
        "Theil-Sen slope of monthly compliance over the 6 months ending with the as_of "
        "month; NaN with fewer than 3 values.",
        phrase="6-month compliance trend {v} per month",
    ),
    Feature(
        SPC_SPECIAL_CAUSE_CONCERN_LATEST_FLAG,
        "trend",
        "flag",
        "1 when any of the latest 3 monthly points on the SPC (XmR) chart since action is a "
        "special cause of concern; NaN with fewer than 3 points since action.",
        -1,
        phrase="SPC concern in the latest months: {v}",
    ),
    Feature(
        SPC_IMPROVEMENT_SIGNAL_SINCE_ACTION_FLAG,
        "trend",
        "flag",
        "1 when the SPC chart since action shows a special cause of improvement (shift, "
        "trend, two-of-three or point outside the limits) at any point; NaN with fewer "
        "than 3 points.",
        +1,
        phrase="SPC improvement signal since action: {v}",
    ),
    Feature(
        SPC_ASSURANCE_PASS_FLAG,
        "trend",
        "flag",
        "1 when the lower SPC process limit since action is above the standard (NHS "
        "'consistent pass'), 0 otherwise; NaN with fewer than 3 points. With no variation "
        "at all (every moving range 0) both limits are the mean.",
        phrase="SPC limits wholly at standard: {v}",
    ),
    Feature(
        SPC_ASSURANCE_FAIL_FLAG,
        "trend",
        "flag",
        "1 when the upper SPC process limit since action is below the standard (NHS "
        "'consistent fail'), 0 otherwise; NaN with fewer than 3 points.",
        -1,
        phrase="SPC limits wholly below standard: {v}",
    ),
    Feature(
        FIRST_CYCLE_SLIP_FLAG,
        "trend",
        "flag",
        "1 when the first month at or above the standard since the action month was "
        "followed, within the next two months, by a month below it; 0 when it was not (so "
        "far); NaN when no month since action met the standard.",
        -1,
        phrase="slipped soon after first meeting the standard: {v}",
    ),
    # --- spread ---------------------------------------------------------------------------
    Feature(
        TEAM_COUNT,
        "spread",
        "numeric",
        "Distinct teams with a primary check since the action month, on or before as_of; "
        "NaN without action.",
        phrase="{v} teams checked since action",
    ),
    Feature(
        TEAMS_CHECKED_90D_COUNT,
        "spread",
        "numeric",
        "Distinct teams with a primary check in the 90 days to as_of (0 is a true count).",
        phrase="{v} teams checked in 90 days",
    ),
    Feature(
        TEAMS_MEETING_STANDARD_COUNT,
        "spread",
        "numeric",
        "Teams whose latest primary check day in the 90 days to as_of met the standard "
        "(that day's checks pooled: met / sampled >= standard); NaN when no team has such "
        "a check.",
        +1,
        phrase="{v} teams meeting the standard",
    ),
    Feature(
        TEAMS_MEETING_STANDARD_SHARE,
        "spread",
        "numeric",
        "Share of teams whose latest primary check in the 90 days to as_of met the "
        "standard (met / sampled >= standard); NaN when no team has such a check.",
        +1,
        phrase="{v} of teams meeting the standard",
    ),
    Feature(
        MET_ITEMS_TOP_TEAM_SHARE,
        "spread",
        "numeric",
        "Share of met items (primary checks since the action month) that came from the team "
        "with the most met items (1 = all improvement in one team); NaN with no met item.",
        -1,
        phrase="{v} of met items from one team",
    ),
    Feature(
        EVIDENCE_CATEGORIES_POSITIVE_90D_COUNT,
        "spread",
        "numeric",
        "CQC evidence categories (of six) whose latest evidence in the 90 days to as_of is "
        "positive: the category's latest day of checks (pooled) at or above the standard "
        "and of feedback with mean sentiment > 0 (both, when on the same day); outcomes: "
        "an incidents file, no incident concerning the improvement in the 90 days and a "
        "primary check in them. 0 is a true count.",
        +1,
        phrase="{v} evidence categories positive in 90 days",
    ),
    Feature(
        PEOPLES_EXPERIENCE_POSITIVE_90D_FLAG,
        "spread",
        "flag",
        "1 when people and families' feedback on the theme in the 90 days to as_of has "
        "mean sentiment > 0, 0 when <= 0, NaN when there is none.",
        +1,
        phrase="people's feedback positive in 90 days: {v}",
    ),
    Feature(
        SOURCE_AGREEMENT_SHARE,
        "spread",
        "numeric",
        "Share of check sources (audit, care_records, staff_practice, competency) whose "
        "pooled result in the 90 days to as_of agrees with all of them pooled (both at or "
        "both below the standard); NaN with no checks in the window.",
        +1,
        phrase="{v} of check sources agree",
    ),
    # --- recurrence -----------------------------------------------------------------------
    Feature(
        REPEAT_GAPS_SHARE_90D,
        "recurrence",
        "numeric",
        "Repeat gaps / failed items over primary checks in the 90 days to as_of; NaN when "
        "no item failed or repeat_gaps was not recorded.",
        -1,
        phrase="{v} of failed items were repeat gaps",
    ),
    Feature(
        THEME_INCIDENTS_90D_COUNT,
        "recurrence",
        "numeric",
        "Incidents at the improvement's location with its theme or naming it, in the 90 "
        "days to as_of; NaN when the export has no incidents file.",
        -1,
        phrase="{v} theme incidents in 90 days",
    ),
    Feature(
        THEME_INCIDENTS_180D_COUNT,
        "recurrence",
        "numeric",
        "As theme_incidents_90d_count over 180 days.",
        -1,
        phrase="{v} theme incidents in 180 days",
    ),
    Feature(
        SERIOUS_THEME_INCIDENTS_90D_COUNT,
        "recurrence",
        "numeric",
        "Theme incidents with harm moderate, severe or death in the 90 days to as_of.",
        -1,
        phrase="{v} serious theme incidents in 90 days",
    ),
    Feature(
        THEME_INCIDENT_RATE_CHANGE_PER_MONTH,
        "recurrence",
        "numeric",
        "Theme incidents per month from action_started_on to as_of (at least one month "
        "counted) minus per month in the 180 days before action_started_on (months of "
        "30.44 days); NaN without action or without an incidents file.",
        -1,
        phrase="theme incidents per month changed by {v}",
    ),
    Feature(
        SLIPS_SINCE_ACTION_COUNT,
        "recurrence",
        "numeric",
        "Months since the action month below the standard whose previous month with a "
        "value (since action) was at or above it; NaN without a value since action.",
        -1,
        phrase="{v} slips below standard since action",
    ),
    # --- staff understanding --------------------------------------------------------------
    Feature(
        COMPETENCY_PASS_SHARE_180D,
        "staff",
        "numeric",
        "met / sampled over competency checks in the 180 days to as_of; NaN without one.",
        +1,
        phrase="{v} of competency checks passed",
    ),
    Feature(
        CONFIDENCE_GAP_POINTS,
        "staff",
        "numeric",
        "Mean self-rated confidence (1-5) minus demonstrated competency on the same scale "
        "(1 + 4 x competency pass share), competency checks in the 180 days to as_of. "
        "Positive: staff rate themselves above what they show.",
        -1,
        phrase="staff confidence {v} points above demonstrated competency",
    ),
    Feature(
        PROMPTS_PER_OBSERVATION_90D,
        "staff",
        "numeric",
        "Mean prompts_needed per staff_practice check in the 90 days to as_of.",
        -1,
        phrase="{v} prompts per observation",
    ),
    # --- lived experience -----------------------------------------------------------------
    Feature(
        THEME_SENTIMENT_90D_MEAN,
        "experience",
        "numeric",
        "Mean sentiment (-1, 0, 1) of feedback from people and families at the location on "
        "the theme (or naming the improvement) in the 90 days to as_of; NaN without "
        "any.",
        +1,
        phrase="people's feedback sentiment {v}",
    ),
    Feature(
        THEME_SENTIMENT_CHANGE_90D,
        "experience",
        "numeric",
        "theme_sentiment_90d_mean minus the same mean over (as_of - 180 days, as_of - 90 days].",
        phrase="feedback sentiment changed by {v}",
    ),
    Feature(
        THEME_COMPLAINTS_90D_COUNT,
        "experience",
        "numeric",
        "Complaints (channel complaint) on the theme at the location in the 90 days to "
        "as_of; NaN when the export has no feedback file.",
        -1,
        phrase="{v} complaints on the theme in 90 days",
    ),
    # --- workforce ------------------------------------------------------------------------
    Feature(
        AGENCY_SHIFT_SHARE_90D,
        "workforce",
        "numeric",
        "Agency shifts / planned shifts at the location, weeks starting in the 90 days to as_of.",
        -1,
        phrase="{v} of shifts by agency staff",
    ),
    Feature(
        UNFILLED_SHIFT_SHARE_90D,
        "workforce",
        "numeric",
        "Unfilled shifts / planned shifts at the location, weeks in the 90 days to as_of.",
        -1,
        phrase="{v} of shifts unfilled",
    ),
    Feature(
        AGENCY_SHIFT_SHARE_CHANGE_90D,
        "workforce",
        "numeric",
        "agency_shift_share_90d minus the same share over the 90 days before that.",
        phrase="agency share changed by {v}",
    ),
    Feature(
        UNFILLED_SHIFT_SHARE_CHANGE_90D,
        "workforce",
        "numeric",
        "unfilled_shift_share_90d minus the same share over the 90 days before that.",
        phrase="unfilled shift share change 90d {v}",
    ),
    Feature(
        LEAVERS_PER_100_SHIFTS_90D,
        "workforce",
        "numeric",
        "Leavers per 100 planned shifts at the location, weeks in the 90 days to as_of.",
        -1,
        phrase="{v} leavers per 100 shifts",
    ),
    Feature(
        WORKFORCE_FEEDBACK_MISMATCH_FLAG,
        "workforce",
        "flag",
        "1 when agency + unfilled share of planned shifts fell (90 days to as_of against the "
        "90 days before) while people's theme sentiment did not rise; 0 otherwise; NaN "
        "when either change is missing.",
        phrase="staffing improved but feedback did not: {v}",
    ),
    # --- governance (that a review happened and when; never what it concluded) ------
    Feature(
        DAYS_SINCE_LATEST_REVIEW,
        "timeline",
        "numeric",
        "Days from the latest governance review dated on or before as_of to as_of; NaN "
        "without one. That a review took place, and when, is a fact about governance; what "
        "it concluded is a claim and never a model input.",
        phrase="last governance review {v} days ago",
    ),
    Feature(
        REVIEWS_180D_COUNT,
        "timeline",
        "numeric",
        "Governance reviews (any level) dated in the 180 days to as_of; NaN when the export "
        "has no reviews file.",
        phrase="{v} governance reviews in 180 days",
    ),
    # --- context --------------------------------------------------------------------------
    Feature(
        SEVERITY,
        "context",
        "category",
        "Improvement severity (routine/significant/serious).",
        phrase="severity {v}",
    ),
    Feature(
        ORIGIN,
        "context",
        "category",
        "Where the concern came from.",
        phrase="raised by {v}",
    ),
    Feature(
        THEME,
        "context",
        "category",
        "Improvement theme.",
        phrase="theme {v}",
    ),
    Feature(
        KEY_QUESTION,
        "context",
        "category",
        "CQC key question.",
        phrase="key question {v}",
    ),
    Feature(
        SERVICE_TYPE,
        "context",
        "category",
        "Type of service.",
        phrase="service type {v}",
    ),
    Feature(
        STANDARD,
        "context",
        "numeric",
        "Required share of sampled items meeting the standard.",
        phrase="standard of {v}",
    ),
    # --- claims: what leaders say (never model inputs; the claim check reads them) ------
    Feature(
        DECLARED_STATUS,
        "claims",
        "category",
        "The claim in force at as_of (contract v2): the latest declaration dated on or "
        "before as_of (the most senior level on a day with several); without a declarations "
        "file, improvements.declared_status from its declared_on, 'unknown' before that day; "
        "'none' when nothing was declared by as_of.",
        phrase="leaders declare {v}",
    ),
    Feature(
        LATEST_REVIEW_CLASSIFICATION,
        "claims",
        "category",
        "Classification of the latest governance review on or before as_of, else 'none'; "
        "on a day with several, the most senior level's.",
        phrase="latest governance review: {v}",
    ),
)

FEATURE_NAMES: tuple[str, ...] = tuple(f.name for f in FEATURES)
CLAIM_COLUMNS: tuple[str, ...] = tuple(f.name for f in FEATURES if f.family == "claims")
"""What leaders say, as of each date: compared with the evidence, never a model input."""
EVIDENCE_FEATURE_NAMES: tuple[str, ...] = tuple(n for n in FEATURE_NAMES if n not in CLAIM_COLUMNS)
"""Every feature the model may read: the evidence, never the claims."""
PHRASES: dict[str, str] = {f.name: f.phrase for f in FEATURES}
FEATURES_BY_NAME = {f.name: f for f in FEATURES}
NUMERIC_FEATURES: tuple[str, ...] = tuple(f.name for f in FEATURES if f.kind != "category")
CATEGORICAL_FEATURES: tuple[str, ...] = tuple(f.name for f in FEATURES if f.kind == "category")
