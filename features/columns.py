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
    "actions",
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
    # Whether the hold model reads it (models.ga2m.MODEL_FEATURES). Claims never do (leaders'
    # words are what the evidence tests); nor do actions (activity is not improvement) or
    # counts over windows a provider group configures (the model's inputs must not move with
    # the configuration); the rules read every feature.
    model: bool = True


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
EVIDENCE_CATEGORIES_POSITIVE_90D_MASK = "evidence_categories_positive_90d_mask"
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
MONTHS_SINCE_LATEST_SLIP = "months_since_latest_slip"
SELF_RATED_CONFIDENCE_180D_MEAN = "self_rated_confidence_180d_mean"
PEOPLES_RATING_90D_MEAN = "peoples_rating_90d_mean"
DAYS_SINCE_THEME_COMPLAINT = "days_since_theme_complaint"
KEYWORKER_CONTINUITY_SHARE_90D = "keyworker_continuity_share_90d"
KEYWORKER_CONTINUITY_LOWEST_TEAM_GAP_90D = "keyworker_continuity_lowest_team_gap_90d"
KEYWORKER_CONTINUITY_SHARE_CHANGE_SINCE_ACTION = "keyworker_continuity_share_change_since_action"
AGENCY_UNFILLED_SHARE_CHANGE_SINCE_ACTION = "agency_unfilled_share_change_since_action"
STAFFING_PRESSURE_MONTHS_SINCE_ACTION_COUNT = "staffing_pressure_months_since_action_count"
STAFFING_PRESSURE_MONTHS_AT_STANDARD_SHARE = "staffing_pressure_months_at_standard_share"
SERIOUS_THEME_INCIDENTS_180D_COUNT = "serious_theme_incidents_180d_count"
SERIOUS_THEME_INCIDENTS_365D_COUNT = "serious_theme_incidents_365d_count"
SERIOUS_THEME_INCIDENT_RATE_CHANGE_PER_MONTH = "serious_theme_incident_rate_change_per_month"
SERIOUS_THEME_INCIDENTS_LOOKBACK_COUNT = "serious_theme_incidents_lookback_count"
SERIOUS_THEME_INCIDENTS_MEDIUM_TERM_COUNT = "serious_theme_incidents_medium_term_count"
SERIOUS_THEME_INCIDENTS_SINCE_CLAIM_COUNT = "serious_theme_incidents_since_claim_count"
DAYS_SINCE_CLAIM = "days_since_claim"
IMMEDIATE_CONTROLS_COMPLETED_COUNT = "immediate_controls_completed_count"
IMMEDIATE_CONTROLS_OPEN_COUNT = "immediate_controls_open_count"
DAYS_SINCE_IMMEDIATE_CONTROLS_COMPLETED = "days_since_immediate_controls_completed"
EMBEDDING_ACTIONS_COMPLETED_COUNT = "embedding_actions_completed_count"
EMBEDDING_ACTIONS_OPEN_COUNT = "embedding_actions_open_count"
EMBEDDING_ACTIONS_OVERDUE_COUNT = "embedding_actions_overdue_count"

# Per-improvement team names the rules read beside the features (features.teams.team_names):
# text, not features; no model reads them.
TEAMS_AT_STANDARD = "teams_at_standard"
TEAMS_BELOW_STANDARD = "teams_below_standard"
TEAMS_CONTINUITY_LAGGING = "teams_continuity_lagging"
TEAM_NAME_COLUMNS = (TEAMS_AT_STANDARD, TEAMS_BELOW_STANDARD, TEAMS_CONTINUITY_LAGGING)
# For an improvement leaders have closed: days from the day its monitoring ended to as_of (the
# nightly run reads its evidence as of that day; models.reading.rules_reading). Not a feature.
DAYS_SINCE_MONITORING_ENDED = "days_since_monitoring_ended"

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
        "an incidents file, no moderate-or-worse incident concerning the improvement in the "
        "90 days (no-harm and low-harm reports do not count against it) and a primary check "
        "in them. 0 is a true count.",
        +1,
        phrase="{v} evidence categories positive in 90 days",
    ),
    Feature(
        EVIDENCE_CATEGORIES_POSITIVE_90D_MASK,
        "spread",
        "numeric",
        "Which evidence categories count in evidence_categories_positive_90d_count: the sum "
        "of 2 ** (position in contracts.export.EVIDENCE_CATEGORIES) over them, so a reason "
        "can name them; 0 with none.",
        phrase="evidence categories {v}",
        model=False,
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
    # --- slips remembered, both kinds of confidence, lived experience, workforce per team,
    # pressure, harm-only incident counts, claims' dates, actions ---------------------------
    Feature(
        MONTHS_SINCE_LATEST_SLIP,
        "recurrence",
        "numeric",
        "Calendar months from the latest slip since action (a month below the standard whose "
        "previous month with a value since action was at or above it) to the as_of month; NaN "
        "when there has been no slip.",
        +1,
        phrase="{v} months since the latest slip below the standard",
    ),
    Feature(
        SELF_RATED_CONFIDENCE_180D_MEAN,
        "staff",
        "numeric",
        "Mean self-rated confidence (1-5) recorded in competency checks in the 180 days to "
        "as_of; NaN without one. Low values: staff still learning without full confidence.",
        phrase="staff rate their own confidence {v} of 5",
    ),
    Feature(
        PEOPLES_RATING_90D_MEAN,
        "experience",
        "numeric",
        "Mean rating (1-5) of people's and families' feedback on the theme at the location "
        "(or naming the improvement) in the 90 days to as_of, where rated; NaN without one.",
        +1,
        phrase="people and families rate it {v} of 5",
    ),
    Feature(
        DAYS_SINCE_THEME_COMPLAINT,
        "experience",
        "numeric",
        "Days from the latest complaint on the theme at the location (or naming the "
        "improvement) to as_of; NaN without one (or without a feedback file).",
        +1,
        phrase="latest complaint on the theme {v} days ago",
    ),
    Feature(
        KEYWORKER_CONTINUITY_SHARE_90D,
        "workforce",
        "numeric",
        "Share of visits or shifts by the person's usual worker at the location: "
        "keyworker_continuity of team-weeks starting in the 90 days to as_of, weighted by "
        "planned shifts, where recorded; NaN without a record.",
        +1,
        phrase="{v} of visits or shifts by the usual worker",
    ),
    Feature(
        KEYWORKER_CONTINUITY_LOWEST_TEAM_GAP_90D,
        "workforce",
        "numeric",
        "keyworker_continuity_share_90d minus the same share of the location's lowest team "
        "(0 with one team): how far the team where continuity lags is behind; NaN without a "
        "record.",
        -1,
        phrase="continuity of the lowest team {v} below the service's",
    ),
    Feature(
        KEYWORKER_CONTINUITY_SHARE_CHANGE_SINCE_ACTION,
        "workforce",
        "numeric",
        "keyworker_continuity_share_90d minus the same share over the 90 days before "
        "action_started_on; NaN without action or without records in either window.",
        phrase="continuity changed by {v} since action",
    ),
    Feature(
        AGENCY_UNFILLED_SHARE_CHANGE_SINCE_ACTION,
        "workforce",
        "numeric",
        "Agency plus unfilled share of planned shifts at the location in the 90 days to as_of "
        "minus the same share over the 90 days before action_started_on (weeks starting in "
        "each window); NaN without action or without rota weeks in either window.",
        phrase="agency and unfilled shifts changed by {v} since action",
    ),
    Feature(
        STAFFING_PRESSURE_MONTHS_SINCE_ACTION_COUNT,
        "workforce",
        "numeric",
        "Months since the action month with a compliance value in which the location was under "
        "staffing pressure: agency share of planned shifts at least 20% or unfilled share at "
        "least 10% (FeatureParams; weeks starting in the month, the as_of month up to as_of); "
        "NaN without action or without a workforce file.",
        phrase="{v} months under staffing pressure since action",
    ),
    Feature(
        STAFFING_PRESSURE_MONTHS_AT_STANDARD_SHARE,
        "workforce",
        "numeric",
        "Share of those months of staffing pressure whose compliance was at or above the "
        "standard; NaN when there was none.",
        +1,
        phrase="{v} of months under staffing pressure at the standard",
    ),
    Feature(
        SERIOUS_THEME_INCIDENTS_180D_COUNT,
        "recurrence",
        "numeric",
        "As serious_theme_incidents_90d_count over 180 days.",
        -1,
        phrase="{v} serious theme incidents in 180 days",
    ),
    Feature(
        SERIOUS_THEME_INCIDENTS_365D_COUNT,
        "recurrence",
        "numeric",
        "As serious_theme_incidents_90d_count over 365 days: recurrence within the last year.",
        -1,
        phrase="{v} serious theme incidents in the last year",
    ),
    Feature(
        SERIOUS_THEME_INCIDENT_RATE_CHANGE_PER_MONTH,
        "recurrence",
        "numeric",
        "As theme_incident_rate_change_per_month counting only incidents with harm moderate, "
        "severe or death: no-harm and low-harm reports never count (more reporting is not "
        "less safety).",
        -1,
        phrase="serious theme incidents per month changed by {v}",
    ),
    Feature(
        SERIOUS_THEME_INCIDENTS_LOOKBACK_COUNT,
        "recurrence",
        "numeric",
        "Moderate-or-worse theme incidents in the evidence threshold's incident_lookback_days "
        "(default 90) to as_of; NaN without an incidents file.",
        -1,
        phrase="{v} serious theme incidents in the lookback",
        model=False,
    ),
    Feature(
        SERIOUS_THEME_INCIDENTS_MEDIUM_TERM_COUNT,
        "recurrence",
        "numeric",
        "Moderate-or-worse theme incidents in the evidence threshold's "
        "medium_term_incident_days (default 180) to as_of; NaN without an incidents file.",
        -1,
        phrase="{v} serious theme incidents in the medium term",
        model=False,
    ),
    Feature(
        SERIOUS_THEME_INCIDENTS_SINCE_CLAIM_COUNT,
        "recurrence",
        "numeric",
        "Moderate-or-worse theme incidents dated after the declaration in force at as_of (for "
        "a closed improvement: after it was closed); NaN without a declaration or without an "
        "incidents file.",
        -1,
        phrase="{v} serious theme incidents since the declaration",
        model=False,
    ),
    Feature(
        DAYS_SINCE_CLAIM,
        "claims",
        "numeric",
        "Days from the declaration in force at as_of (declared_on <= as_of) to as_of; NaN "
        "without one.",
        phrase="declared {v} days ago",
        model=False,
    ),
    Feature(
        IMMEDIATE_CONTROLS_COMPLETED_COUNT,
        "actions",
        "numeric",
        "Immediate controls (actions file) completed on or before as_of; NaN without an "
        "actions file.",
        phrase="{v} immediate controls completed",
        model=False,
    ),
    Feature(
        IMMEDIATE_CONTROLS_OPEN_COUNT,
        "actions",
        "numeric",
        "Immediate controls planned on or before as_of and not completed by it; NaN without "
        "an actions file.",
        phrase="{v} immediate controls open",
        model=False,
    ),
    Feature(
        DAYS_SINCE_IMMEDIATE_CONTROLS_COMPLETED,
        "actions",
        "numeric",
        "Days from the latest immediate control completed on or before as_of to as_of; NaN "
        "without one.",
        phrase="immediate controls completed {v} days ago",
        model=False,
    ),
    Feature(
        EMBEDDING_ACTIONS_COMPLETED_COUNT,
        "actions",
        "numeric",
        "Embedding actions (supervision, training, process, rota) completed on or before "
        "as_of; NaN without an actions file.",
        phrase="{v} embedding actions completed",
        model=False,
    ),
    Feature(
        EMBEDDING_ACTIONS_OPEN_COUNT,
        "actions",
        "numeric",
        "Embedding actions planned on or before as_of and not completed by it; NaN without an "
        "actions file.",
        phrase="{v} embedding actions open",
        model=False,
    ),
    Feature(
        EMBEDDING_ACTIONS_OVERDUE_COUNT,
        "actions",
        "numeric",
        "Open embedding actions whose due_on is before as_of; NaN without an actions file.",
        phrase="{v} embedding actions overdue",
        model=False,
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
        model=False,
    ),
    Feature(
        LATEST_REVIEW_CLASSIFICATION,
        "claims",
        "category",
        "Classification of the latest governance review on or before as_of, else 'none'; "
        "on a day with several, the most senior level's.",
        phrase="latest governance review: {v}",
        model=False,
    ),
)

FEATURE_NAMES: tuple[str, ...] = tuple(f.name for f in FEATURES)
CLAIM_COLUMNS: tuple[str, ...] = tuple(f.name for f in FEATURES if f.family == "claims")
"""What leaders say, as of each date: compared with the evidence, never a model input."""
EVIDENCE_FEATURE_NAMES: tuple[str, ...] = tuple(n for n in FEATURE_NAMES if n not in CLAIM_COLUMNS)
"""Every feature of the evidence (never the claims)."""
MODEL_FEATURE_NAMES: tuple[str, ...] = tuple(
    f.name for f in FEATURES if f.model and f.name in EVIDENCE_FEATURE_NAMES
)
"""Every feature the model may read: the evidence marked for the model (`Feature.model`)."""
PHRASES: dict[str, str] = {f.name: f.phrase for f in FEATURES}
FEATURES_BY_NAME = {f.name: f for f in FEATURES}
NUMERIC_FEATURES: tuple[str, ...] = tuple(f.name for f in FEATURES if f.kind != "category")
CATEGORICAL_FEATURES: tuple[str, ...] = tuple(f.name for f in FEATURES if f.kind == "category")
