"""Explicit rules: the stage of each improvement, in criteria a quality lead can argue with.

For each (improvement_id, as_of) row of the feature frame (`features.build`), the rules say
which stage the improvement has reached and why:

- ``not_started``: no action yet, or no monthly compliance result since action started
  (however many actions are completed: activity is not improvement);
- ``emerging``: action under way, improvement recent, narrow or single-source;
- ``consolidating``: at the standard for some review cycles and seen in more than one kind of
  evidence, but not yet meeting every criterion of the evidence threshold;
- ``embedded``: meets every criterion of the provider group's evidence threshold;
- ``slipping``: fell back below the standard after having met it.

Every threshold lives in one frozen `EvidenceThreshold`, which a provider group may set for
itself and which each run writes into its record (`EvidenceThreshold.to_dict`). The embedded
criteria are small named predicates (`CRITERIA`): functions of feature columns returning a
boolean Series. Missing evidence (NaN) never counts as meeting a criterion, with three
exceptions documented on `staff_confidence_matches` (self-ratings are optional in the
contract), `competency_demonstrated` (not every improvement's monitoring uses competency
checks: breadth is then judged by the kinds of evidence) and `no_recent_slip` (no result
since action: nothing has slipped).

Reasons name what a Registered Manager would look at: the months, the teams at and below the
standard (when the frame carries `features.columns.TEAM_NAME_COLUMNS`), the kinds of evidence,
the month of a slip. Beside the criteria, `OBSERVATIONS` add reasons that are not criteria of
embedding: practice that held under staffing pressure, continuing complaints, embedding actions
still open, a team whose key-worker continuity lags.

The claim check compares what leaders claim with the stage (`claim_check`, `claim_reasons`); a
claim never moves a stage or the model. The escalation triggers live in `models.triggers`, the
review cadence in `models.cadence`, the enhanced-monitoring recommendation in
`models.monitoring`; the first two are re-exported here with the thresholds' defaults, so
`models.rules` is the one entry.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import NamedTuple

import numpy as np
import pandas as pd
import pyarrow as pa

from contracts.export import (
    EVIDENCE_CATEGORIES,
    OBSERVATION,
    OUTCOMES,
    PARTNERS,
    PEOPLES_EXPERIENCE,
    PROCESSES,
    STAFF_AND_LEADERS,
)
from contracts.params import EvidenceThreshold
from contracts.tables import LIST_SEPARATOR
from contracts.vocabulary import (
    CLOSED,
    CONSISTENT,
    CONSOLIDATING,
    EMBEDDED,
    EMERGING,
    NO_CLAIM,
    NOT_STARTED,
    OVERCLAIM,
    SLIPPING,
    UNDERCLAIM,
)
from features.columns import (
    AS_OF,
    COMPETENCY_PASS_SHARE_180D,
    COMPLIANCE_MARGIN_LATEST,
    CONFIDENCE_GAP_POINTS,
    CONSECUTIVE_MONTHS_AT_STANDARD_COUNT,
    DAYS_SINCE_ACTION_STARTED,
    DAYS_SINCE_CLAIM,
    DAYS_SINCE_MONITORING_ENDED,
    DAYS_SINCE_THEME_COMPLAINT,
    DECLARED_STATUS,
    EMBEDDING_ACTIONS_COMPLETED_COUNT,
    EMBEDDING_ACTIONS_OPEN_COUNT,
    EVIDENCE_CATEGORIES_POSITIVE_90D_COUNT,
    EVIDENCE_CATEGORIES_POSITIVE_90D_MASK,
    IMMEDIATE_CONTROLS_COMPLETED_COUNT,
    IMPROVEMENT_ID,
    KEY_COLUMNS,
    KEYWORKER_CONTINUITY_LOWEST_TEAM_GAP_90D,
    KEYWORKER_CONTINUITY_SHARE_90D,
    LATEST_REVIEW_CLASSIFICATION,
    MONTHS_SINCE_BELOW_STANDARD,
    MONTHS_SINCE_LATEST_SLIP,
    PEOPLES_EXPERIENCE_POSITIVE_90D_FLAG,
    PEOPLES_RATING_90D_MEAN,
    REVIEW_CYCLES_SINCE_ACTION_COUNT,
    SELF_RATED_CONFIDENCE_180D_MEAN,
    SERIOUS_THEME_INCIDENT_RATE_CHANGE_PER_MONTH,
    SERIOUS_THEME_INCIDENTS_180D_COUNT,
    SERIOUS_THEME_INCIDENTS_LOOKBACK_COUNT,
    SERIOUS_THEME_INCIDENTS_MEDIUM_TERM_COUNT,
    SERIOUS_THEME_INCIDENTS_SINCE_CLAIM_COUNT,
    SEVERITY,
    SLIPS_SINCE_ACTION_COUNT,
    SPC_SPECIAL_CAUSE_CONCERN_LATEST_FLAG,
    STAFFING_PRESSURE_MONTHS_AT_STANDARD_SHARE,
    STAFFING_PRESSURE_MONTHS_SINCE_ACTION_COUNT,
    STANDARD,
    TEAMS_AT_STANDARD,
    TEAMS_BELOW_STANDARD,
    TEAMS_CHECKED_90D_COUNT,
    TEAMS_CONTINUITY_LAGGING,
    TEAMS_MEETING_STANDARD_COUNT,
    TEAMS_MEETING_STANDARD_SHARE,
    THEME,
    THEME_COMPLAINTS_90D_COUNT,
)
from models import cadence, triggers, words
from models.words import choose, format_number, number_text, percent_text, plural

log = logging.getLogger(__name__)

REASON_SEPARATOR = LIST_SEPARATOR


DEFAULT_THRESHOLD = EvidenceThreshold()

# A feature as float64, missing as NaN (flags, counts and nullable ints alike).
_values = words.numeric

# The kinds of evidence as a manager names them, in EVIDENCE_CATEGORIES order.
CATEGORY_WORDS = {
    PEOPLES_EXPERIENCE: "people's experience",
    STAFF_AND_LEADERS: "staff and leaders",
    PARTNERS: "partners",
    OBSERVATION: "observed practice",
    PROCESSES: "audits and records",
    OUTCOMES: "outcomes",
}
STAGE_WORDS = {stage: stage.replace("_", " ") for stage in (NOT_STARTED, EMERGING, CONSOLIDATING)}
STAGE_WORDS.update({EMBEDDED: EMBEDDED, SLIPPING: SLIPPING})


def _incident_window_days(features: pd.DataFrame, t: EvidenceThreshold) -> pd.Series:
    """Days of the moderate-or-worse incident window of each row: the medium term for the
    severities held to it, the lookback otherwise."""
    medium = features[SEVERITY].astype("str").isin(t.medium_term_severities)
    days = np.where(medium, t.medium_term_incident_days, t.incident_lookback_days)
    return pd.Series(days, index=features.index, dtype="float64")


def _serious_in_window(features: pd.DataFrame, t: EvidenceThreshold) -> pd.Series:
    medium = features[SEVERITY].astype("str").isin(t.medium_term_severities)
    return _values(features, SERIOUS_THEME_INCIDENTS_MEDIUM_TERM_COUNT).where(
        medium, _values(features, SERIOUS_THEME_INCIDENTS_LOOKBACK_COUNT)
    )


# --- the embedded criteria: predicates -------------------------------------------------------


def consecutive_months_at_standard(features: pd.DataFrame, t: EvidenceThreshold) -> pd.Series:
    """At least `min_consecutive_months` monthly results in a row at or above the standard
    (`serious_min_consecutive_months` for a serious concern)."""
    months = _values(features, CONSECUTIVE_MONTHS_AT_STANDARD_COUNT)
    return months >= triggers.required_consecutive_months(features, t)


def no_recent_slip(features: pd.DataFrame, t: EvidenceThreshold) -> pd.Series:
    """No slip after early improvement since action, or at the standard for
    `slip_memory_months` (two senior review cycles) since the last month below it."""
    slips = _values(features, SLIPS_SINCE_ACTION_COUNT)
    held = _values(features, MONTHS_SINCE_BELOW_STANDARD) >= t.slip_memory_months
    return (slips.fillna(0) == 0) | held


def evidence_categories(features: pd.DataFrame, t: EvidenceThreshold) -> pd.Series:
    """Improvement visible in at least `min_evidence_categories` CQC evidence categories."""
    return _values(features, EVIDENCE_CATEGORIES_POSITIVE_90D_COUNT) >= t.min_evidence_categories


def peoples_experience(features: pd.DataFrame, t: EvidenceThreshold) -> pd.Series:
    """People's and families' feedback on the theme is positive, and rated at least
    `min_peoples_rating` where rated (when the threshold asks for people's experience)."""
    positive = _values(features, PEOPLES_EXPERIENCE_POSITIVE_90D_FLAG) == 1
    rated_low = _values(features, PEOPLES_RATING_90D_MEAN).round(9) < t.min_peoples_rating
    return (positive & ~rated_low) | (not t.require_peoples_experience)


def teams_meeting_standard(features: pd.DataFrame, t: EvidenceThreshold) -> pd.Series:
    """At least `min_teams_meeting_share` of teams met the standard at their latest check."""
    return _values(features, TEAMS_MEETING_STANDARD_SHARE) >= t.min_teams_meeting_share


def no_serious_incidents(features: pd.DataFrame, t: EvidenceThreshold) -> pd.Series:
    """No more than `max_serious_incidents` moderate-or-worse theme incidents in the last
    `incident_lookback_days` (`medium_term_incident_days` for `medium_term_severities`)."""
    return _serious_in_window(features, t) <= t.max_serious_incidents


def fewer_incidents_than_before(features: pd.DataFrame, t: EvidenceThreshold) -> pd.Series:
    """Fewer moderate-or-worse theme incidents a month than before action, or none in the
    last 180 days and no more than before. No-harm and low-harm reports do not count: more
    reporting is not less safety."""
    change = _values(features, SERIOUS_THEME_INCIDENT_RATE_CHANGE_PER_MONTH)
    # With no incident either side "fewer" is impossible; an unchanged rate and a quiet half
    # year is the best evidence there can be, so it passes.
    quiet = (change <= 0) & (_values(features, SERIOUS_THEME_INCIDENTS_180D_COUNT) == 0)
    return (change < t.max_incident_rate_change_per_month) | quiet


def competency_demonstrated(features: pd.DataFrame, t: EvidenceThreshold) -> pd.Series:
    """Competency checks (180 days) pass at or above the standard (plus `min_competency_margin`).

    Where the improvement's monitoring has no competency check in the 180 days, there is no
    evidence either way: the criterion holds, and breadth is judged by the kinds of evidence
    (`evidence_categories`). Competency shown below the standard always fails it.
    """
    passed = _values(features, COMPETENCY_PASS_SHARE_180D)
    margin = passed - _values(features, STANDARD)
    # Round away float noise so a pass share equal to the standard counts as meeting it.
    return passed.isna() | (margin.round(9) >= t.min_competency_margin)


def staff_confidence_matches(features: pd.DataFrame, t: EvidenceThreshold) -> pd.Series:
    """Staff neither rate their confidence more than `max_confidence_gap_points` above what
    they demonstrate (they describe more confidently than they show) nor below
    `min_self_rated_confidence` (still learning without full confidence).

    Self-rated confidence is optional in the contract: with no self-ratings there is no
    evidence either way, so the criterion holds (competency itself is judged separately).
    """
    return ~(triggers.overconfident(features, t) | triggers.low_confidence(features, t))


def no_spc_concern(features: pd.DataFrame, t: EvidenceThreshold) -> pd.Series:
    """No SPC special cause of concern in the latest 3 monthly points since action."""
    return _values(features, SPC_SPECIAL_CAUSE_CONCERN_LATEST_FLAG) == 0


# --- the embedded criteria: reasons in a Registered Manager's words ---------------------------


def consecutive_months_reason(features: pd.DataFrame, t: EvidenceThreshold) -> pd.Series:
    months = _values(features, CONSECUTIVE_MONTHS_AT_STANDARD_COUNT)
    needed = triggers.required_consecutive_months(features, t)
    serious = features[SEVERITY].astype("str") == "serious"
    needed_text = choose(
        [serious & (needed != t.min_consecutive_months)],
        [" needed for a serious concern)"],
        " needed)",
    )
    return choose(
        [months.isna(), months == 0, months >= needed],
        [
            "no monthly compliance result yet",
            "latest month below the standard",
            number_text(months, 0) + " months in a row at or above the standard",
        ],
        "only "
        + plural(months, "month", "months")
        + " at standard since action ("
        + number_text(needed, 0)
        + needed_text,
    )


def no_recent_slip_reason(features: pd.DataFrame, t: EvidenceThreshold) -> pd.Series:
    slips = _values(features, SLIPS_SINCE_ACTION_COUNT)
    since = _values(features, MONTHS_SINCE_BELOW_STANDARD)
    month = words.month_text(features[AS_OF], _values(features, MONTHS_SINCE_LATEST_SLIP))
    slipped = "slipped below the standard in " + month + " after early improvement"
    return choose(
        [
            slips.isna(),
            slips == 0,
            since >= t.slip_memory_months,
            since.fillna(0) == 0,
        ],
        [
            "",
            "no slip below the standard since action",
            "held at the standard for "
            + plural(since, "month", "months")
            + " since it slipped in "
            + month,
            slipped + ", not yet back at the standard",
        ],
        slipped
        + ", back at the standard for "
        + plural(since, "month", "months")
        + f" since ({t.slip_memory_months} needed: two senior review cycles)",
    )


def category_names(mask: pd.Series) -> pd.Series:
    """The kinds of evidence in each bit mask (features: EVIDENCE_CATEGORIES_POSITIVE_90D_MASK)."""
    bits = mask.fillna(0).to_numpy().astype("int64")
    return words.listed(
        [
            (pd.Series((bits >> position) & 1 == 1, index=mask.index), CATEGORY_WORDS[category])
            for position, category in enumerate(EVIDENCE_CATEGORIES)
        ],
        mask.index,
    )


def evidence_categories_reason(features: pd.DataFrame, t: EvidenceThreshold) -> pd.Series:
    categories = _values(features, EVIDENCE_CATEGORIES_POSITIVE_90D_COUNT).fillna(0)
    of_six = number_text(categories, 0) + f" of {len(EVIDENCE_CATEGORIES)} kinds of evidence"
    if EVIDENCE_CATEGORIES_POSITIVE_90D_MASK in features:
        kinds = category_names(_values(features, EVIDENCE_CATEGORIES_POSITIVE_90D_MASK))
        of_six = of_six + choose([kinds != ""], [" (" + kinds + ")"], "")
    return choose(
        [categories >= t.min_evidence_categories],
        ["improvement seen in " + of_six],
        "improvement seen in only " + of_six + f" ({t.min_evidence_categories} needed)",
    )


def peoples_experience_reason(features: pd.DataFrame, t: EvidenceThreshold) -> pd.Series:
    flag = _values(features, PEOPLES_EXPERIENCE_POSITIVE_90D_FLAG)
    rating = _values(features, PEOPLES_RATING_90D_MEAN)
    rated = " (rated " + number_text(rating, 1) + " of 5)"
    return choose(
        [
            (flag == 1) & (rating.round(9) < t.min_peoples_rating),
            (flag == 1) & rating.notna(),
            flag == 1,
            flag == 0,
            flag.isna(),
        ],
        [
            "people and families rate this theme only "
            + number_text(rating, 1)
            + f" of 5 ({format_number(t.min_peoples_rating, 1)} needed)",
            "people and families give positive feedback on this theme" + rated,
            "people and families give positive feedback on this theme",
            "feedback from people and families on this theme is not positive",
            "no feedback from people or families in the last 90 days",
        ],
        "",
    )


def teams_meeting_standard_reason(features: pd.DataFrame, t: EvidenceThreshold) -> pd.Series:
    share = _values(features, TEAMS_MEETING_STANDARD_SHARE)
    checked = _values(features, TEAMS_CHECKED_90D_COUNT)
    meeting = _values(features, TEAMS_MEETING_STANDARD_COUNT)
    at, below = (
        words.names(features, TEAMS_AT_STANDARD),
        words.names(features, TEAMS_BELOW_STANDARD),
    )
    seen = (
        "improvement seen in " + number_text(meeting, 0) + " of " + plural(checked, "team", "teams")
    )
    named_at = choose([at != ""], [" (" + at + ")"], "")
    needed = f" ({format_number(t.min_teams_meeting_share * 100, 1)}% needed)"
    named_below = choose([below != ""], [": " + below + " below the standard"], "")
    return choose(
        [share.isna(), share >= t.min_teams_meeting_share],
        ["no team checked in the last 90 days", seen + named_at + named_below],
        seen + needed + named_below,
    )


def no_serious_incidents_reason(features: pd.DataFrame, t: EvidenceThreshold) -> pd.Series:
    serious = _serious_in_window(features, t)
    days = _incident_window_days(features, t)
    medium = features[SEVERITY].astype("str").isin(t.medium_term_severities)
    window = (
        " on this theme in the last "
        + number_text(days, 0)
        + " days"
        + choose(
            [medium & (days != t.incident_lookback_days)],
            [" (the medium-term bar for a " + features[SEVERITY].astype("str") + " concern)"],
            "",
        )
    )
    return choose(
        [serious.isna(), serious == 0],
        [
            "no incident records to show harm on this theme has stopped",
            "no moderate-or-worse harm incidents" + window,
        ],
        plural(serious, "moderate-or-worse harm incident", "moderate-or-worse harm incidents")
        + window,
    )


def fewer_incidents_reason(features: pd.DataFrame, t: EvidenceThreshold) -> pd.Series:
    change = _values(features, SERIOUS_THEME_INCIDENT_RATE_CHANGE_PER_MONTH)
    quiet = (change <= 0) & (_values(features, SERIOUS_THEME_INCIDENTS_180D_COUNT) == 0)
    per_month = number_text(change.abs()) + " "
    return choose(
        [change.isna(), change < 0, quiet, change > 0],
        [
            "no incident records from before and since action to compare",
            per_month + "fewer moderate-or-worse theme incidents a month than before action",
            "no moderate-or-worse theme incidents in the last 180 days and no more than before "
            "action",
            per_month + "more moderate-or-worse theme incidents a month than before action",
        ],
        "moderate-or-worse theme incidents as frequent as before action",
    )


def competency_reason(features: pd.DataFrame, t: EvidenceThreshold) -> pd.Series:
    passed = _values(features, COMPETENCY_PASS_SHARE_180D)
    pass_text = percent_text(passed) + " of items"
    standard = " the " + percent_text(_values(features, STANDARD)) + " standard"
    return choose(
        [passed.isna(), competency_demonstrated(features, t)],
        ["", "competency checks pass " + pass_text + ", at or above" + standard],
        "competency checks pass only " + pass_text + ", below" + standard,
    )


def staff_confidence_reason(features: pd.DataFrame, t: EvidenceThreshold) -> pd.Series:
    gap = _values(features, CONFIDENCE_GAP_POINTS)
    rated = _values(features, SELF_RATED_CONFIDENCE_180D_MEAN)
    no_competency = _values(features, COMPETENCY_PASS_SHARE_180D).isna()
    return choose(
        [
            triggers.overconfident(features, t),
            triggers.low_confidence(features, t),
            rated.isna() & no_competency,
            rated.isna(),
            gap.isna(),
        ],
        [
            "staff describe the process more confidently than they demonstrate it: they rate "
            "their confidence " + number_text(gap) + " points above what competency checks show",
            "staff still learning without full confidence: they rate their own confidence "
            + number_text(rated, 1)
            + " of 5",
            "",
            "staff self-ratings not recorded, so no confidence gap shown",
            "staff rate their own confidence " + number_text(rated, 1) + " of 5",
        ],
        "staff confidence ("
        + number_text(rated, 1)
        + " of 5) in line with what competency checks show",
    )


def no_spc_concern_reason(features: pd.DataFrame, t: EvidenceThreshold) -> pd.Series:
    flag = _values(features, SPC_SPECIAL_CAUSE_CONCERN_LATEST_FLAG)
    return choose(
        [flag.isna(), flag == 1],
        [
            "fewer than 3 monthly results since action to chart",
            "SPC chart shows a special cause of concern in the latest 3 months",
        ],
        "no SPC special cause of concern in the latest 3 months",
    )


Predicate = Callable[[pd.DataFrame, EvidenceThreshold], pd.Series]


class Criterion(NamedTuple):
    """One criterion of the evidence threshold: its name, its predicate, its reason text (the
    sentence for met, not met and missing alike) and the columns the reason reads (optional
    team-name columns are read when present)."""

    name: str
    predicate: Predicate
    reason: Predicate
    inputs: tuple[str, ...]


CRITERIA: tuple[Criterion, ...] = (
    Criterion(
        "consecutive_months_at_standard",
        consecutive_months_at_standard,
        consecutive_months_reason,
        (CONSECUTIVE_MONTHS_AT_STANDARD_COUNT, SEVERITY),
    ),
    Criterion(
        "no_recent_slip",
        no_recent_slip,
        no_recent_slip_reason,
        (SLIPS_SINCE_ACTION_COUNT, MONTHS_SINCE_BELOW_STANDARD, MONTHS_SINCE_LATEST_SLIP, AS_OF),
    ),
    Criterion(
        "evidence_categories",
        evidence_categories,
        evidence_categories_reason,
        (EVIDENCE_CATEGORIES_POSITIVE_90D_COUNT, EVIDENCE_CATEGORIES_POSITIVE_90D_MASK),
    ),
    Criterion(
        "peoples_experience",
        peoples_experience,
        peoples_experience_reason,
        (PEOPLES_EXPERIENCE_POSITIVE_90D_FLAG, PEOPLES_RATING_90D_MEAN),
    ),
    Criterion(
        "teams_meeting_standard",
        teams_meeting_standard,
        teams_meeting_standard_reason,
        (
            TEAMS_MEETING_STANDARD_SHARE,
            TEAMS_MEETING_STANDARD_COUNT,
            TEAMS_CHECKED_90D_COUNT,
            TEAMS_AT_STANDARD,
            TEAMS_BELOW_STANDARD,
        ),
    ),
    Criterion(
        "no_serious_incidents",
        no_serious_incidents,
        no_serious_incidents_reason,
        (
            SERIOUS_THEME_INCIDENTS_LOOKBACK_COUNT,
            SERIOUS_THEME_INCIDENTS_MEDIUM_TERM_COUNT,
            SEVERITY,
        ),
    ),
    Criterion(
        "fewer_incidents_than_before",
        fewer_incidents_than_before,
        fewer_incidents_reason,
        (SERIOUS_THEME_INCIDENT_RATE_CHANGE_PER_MONTH, SERIOUS_THEME_INCIDENTS_180D_COUNT),
    ),
    Criterion(
        "competency_demonstrated",
        competency_demonstrated,
        competency_reason,
        (COMPETENCY_PASS_SHARE_180D, STANDARD),
    ),
    Criterion(
        "staff_confidence_matches",
        staff_confidence_matches,
        staff_confidence_reason,
        (CONFIDENCE_GAP_POINTS, SELF_RATED_CONFIDENCE_180D_MEAN, COMPETENCY_PASS_SHARE_180D),
    ),
    Criterion(
        "no_spc_concern",
        no_spc_concern,
        no_spc_concern_reason,
        (SPC_SPECIAL_CAUSE_CONCERN_LATEST_FLAG,),
    ),
)
CRITERION_COLUMNS = tuple(f"criterion_{c.name}" for c in CRITERIA)


# --- reasons that are not criteria of embedding ----------------------------------------------


def held_under_pressure(features: pd.DataFrame, t: EvidenceThreshold) -> pd.Series:
    """Compliance stayed at the standard in every month of staffing pressure since action
    (at least `min_pressure_months` of them)."""
    months = _values(features, STAFFING_PRESSURE_MONTHS_SINCE_ACTION_COUNT)
    share = _values(features, STAFFING_PRESSURE_MONTHS_AT_STANDARD_SHARE)
    return (months >= t.min_pressure_months) & (share == 1)


def fell_under_pressure(features: pd.DataFrame, t: EvidenceThreshold) -> pd.Series:
    """Compliance fell below the standard in a month of staffing pressure since action."""
    return _values(features, STAFFING_PRESSURE_MONTHS_AT_STANDARD_SHARE) < 1


def pressure_reason(features: pd.DataFrame, t: EvidenceThreshold) -> pd.Series:
    months = _values(features, STAFFING_PRESSURE_MONTHS_SINCE_ACTION_COUNT)
    share = _values(features, STAFFING_PRESSURE_MONTHS_AT_STANDARD_SHARE)
    below = (months * (1 - share)).round()
    return choose(
        [share == 1, share < 1],
        [
            "practice held at the standard through "
            + plural(months, "month", "months")
            + " of staffing pressure (high agency or unfilled shifts)",
            "compliance fell below the standard in "
            + number_text(below, 0)
            + " of "
            + plural(months, "month", "months")
            + " of staffing pressure (high agency or unfilled shifts)",
        ],
        "",
    )


def embedding_actions_open(features: pd.DataFrame, t: EvidenceThreshold) -> pd.Series:
    """Embedding actions (changes to routine practice) planned and not yet completed."""
    return _values(features, EMBEDDING_ACTIONS_OPEN_COUNT) >= 1


def actions_reason(features: pd.DataFrame, t: EvidenceThreshold) -> pd.Series:
    controls = _values(features, IMMEDIATE_CONTROLS_COMPLETED_COUNT)
    open_ = _values(features, EMBEDDING_ACTIONS_OPEN_COUNT)
    embedding = plural(open_, "embedding action", "embedding actions") + " still open"
    return choose(
        [controls >= 1],
        [
            "immediate controls done ("
            + number_text(controls, 0)
            + " completed), but "
            + embedding
            + ": not yet shown in practice"
        ],
        embedding + ": changes to routine practice not yet in place",
    )


def continuity_lags(features: pd.DataFrame, t: EvidenceThreshold) -> pd.Series:
    """A workforce improvement one of whose teams lags its service's key-worker continuity."""
    return triggers.uneven_continuity(features, t)


def continuity_reason(features: pd.DataFrame, t: EvidenceThreshold) -> pd.Series:
    lagging = words.names(features, TEAMS_CONTINUITY_LAGGING)
    service = _values(features, KEYWORKER_CONTINUITY_SHARE_90D)
    gap = _values(features, KEYWORKER_CONTINUITY_LOWEST_TEAM_GAP_90D)
    where = choose([lagging != ""], ["in " + lagging], "in one team")
    return (
        "key-worker continuity lags "
        + where
        + " ("
        + percent_text(service - gap)
        + " against "
        + percent_text(service)
        + " across the service): uneven local routines"
    )


def never(features: pd.DataFrame, t: EvidenceThreshold) -> pd.Series:
    return pd.Series(False, index=features.index)


class Observation(NamedTuple):
    """A reason that is not a criterion of embedding: when it is stable, when it is fragile
    (a row is at most one of the two), its sentence and the columns the sentence reads."""

    name: str
    stable: Predicate
    fragile: Predicate
    reason: Predicate
    inputs: tuple[str, ...]


OBSERVATIONS: tuple[Observation, ...] = (
    Observation(
        "held_under_staffing_pressure",
        held_under_pressure,
        fell_under_pressure,
        pressure_reason,
        (STAFFING_PRESSURE_MONTHS_SINCE_ACTION_COUNT, STAFFING_PRESSURE_MONTHS_AT_STANDARD_SHARE),
    ),
    Observation(
        "continuing_complaints",
        never,
        triggers.continuing_complaints,
        triggers.complaints_words,
        (THEME_COMPLAINTS_90D_COUNT, DAYS_SINCE_THEME_COMPLAINT),
    ),
    Observation(
        "embedding_actions_open",
        never,
        embedding_actions_open,
        actions_reason,
        (IMMEDIATE_CONTROLS_COMPLETED_COUNT, EMBEDDING_ACTIONS_OPEN_COUNT),
    ),
    Observation(
        "keyworker_continuity_lags",
        never,
        continuity_lags,
        continuity_reason,
        (
            TEAMS_CONTINUITY_LAGGING,
            KEYWORKER_CONTINUITY_SHARE_90D,
            KEYWORKER_CONTINUITY_LOWEST_TEAM_GAP_90D,
        ),
    ),
)

# The features the rules read; the frame must carry them (plus the key columns). Team-name
# columns (features.columns.TEAM_NAME_COLUMNS) are optional: without them reasons count teams.
_OPTIONAL_INPUTS = (TEAMS_AT_STANDARD, TEAMS_BELOW_STANDARD, TEAMS_CONTINUITY_LAGGING)
RULE_FEATURES = tuple(
    dict.fromkeys(
        (
            DAYS_SINCE_ACTION_STARTED,
            REVIEW_CYCLES_SINCE_ACTION_COUNT,
            COMPLIANCE_MARGIN_LATEST,
            EMBEDDING_ACTIONS_COMPLETED_COUNT,
            *[c for criterion in CRITERIA for c in criterion.inputs],
            *[c for observation in OBSERVATIONS for c in observation.inputs],
            THEME,
            DECLARED_STATUS,
            DAYS_SINCE_CLAIM,
        )
    )
)
RULE_FEATURES = tuple(c for c in RULE_FEATURES if c not in (AS_OF, *_OPTIONAL_INPUTS))


def criteria_met(features: pd.DataFrame, threshold: EvidenceThreshold) -> pd.DataFrame:
    """One boolean column `criterion_<name>` per embedded criterion, aligned to `features`."""
    return pd.DataFrame(
        {
            f"criterion_{c.name}": c.predicate(features, threshold).to_numpy(dtype=bool)
            for c in CRITERIA
        },
        index=features.index,
    )


# --- stages ---------------------------------------------------------------------------------


def action_started(features: pd.DataFrame) -> pd.Series:
    """Action has started by as_of (days_since_action_started is recorded)."""
    return _values(features, DAYS_SINCE_ACTION_STARTED).notna()


def evidence_since_action(features: pd.DataFrame) -> pd.Series:
    """At least one monthly compliance result since the action month."""
    return _values(features, REVIEW_CYCLES_SINCE_ACTION_COUNT) >= 1


def slipped_below_standard(features: pd.DataFrame, t: EvidenceThreshold) -> pd.Series:
    """Below the standard now, after having met it since action (at least `slipping_min_slips`)."""
    return triggers.slippage_after_early_improvement(features, t)


def sustained_and_confirmed(features: pd.DataFrame, t: EvidenceThreshold) -> pd.Series:
    """At standard for some review cycles and seen in more than one kind of evidence."""
    months = _values(features, CONSECUTIVE_MONTHS_AT_STANDARD_COUNT)
    categories = _values(features, EVIDENCE_CATEGORIES_POSITIVE_90D_COUNT)
    return (months >= t.consolidating_min_consecutive_months) & (
        categories >= t.consolidating_min_evidence_categories
    )


def stage_of(features: pd.DataFrame, criteria: pd.DataFrame, t: EvidenceThreshold) -> pd.Series:
    """The stage of each row; earlier conditions win (no action before slipping, and so on)."""
    started, evidenced = action_started(features), evidence_since_action(features)
    return choose(
        [
            ~started | ~evidenced,
            slipped_below_standard(features, t),
            criteria.all(axis=1),
            sustained_and_confirmed(features, t),
        ],
        [NOT_STARTED, SLIPPING, EMBEDDED, CONSOLIDATING],
        EMERGING,
    )


def actions_completed(features: pd.DataFrame) -> pd.Series:
    """Actions of the plan (immediate controls and embedding actions) completed by as_of."""
    return _values(features, IMMEDIATE_CONTROLS_COMPLETED_COUNT).fillna(0) + _values(
        features, EMBEDDING_ACTIONS_COMPLETED_COUNT
    ).fillna(0)


def is_closed(features: pd.DataFrame) -> pd.Series:
    """Leaders have closed the improvement (the declaration in force at as_of)."""
    return words.labels(features, DECLARED_STATUS) == CLOSED


def stage_headline(inputs: pd.DataFrame) -> pd.Series:
    """The first reason of each row: why it sits in its stage, in one phrase (for a closed
    improvement, preceded by when it was closed).

    `inputs` holds the stage and the features in `HEADLINE_INPUTS`."""
    stage = inputs["stage"]
    months = _values(inputs, CONSECUTIVE_MONTHS_AT_STANDARD_COUNT)
    categories = _values(inputs, EVIDENCE_CATEGORIES_POSITIVE_90D_COUNT)
    slips = _values(inputs, SLIPS_SINCE_ACTION_COUNT)
    done = actions_completed(inputs)
    activity = (
        "actions completed, no evidence yet ("
        + plural(done, "action", "actions")
        + " completed, no compliance result since action started)"
    )
    headline = choose(
        [
            (stage == NOT_STARTED) & (done >= 1),
            ~action_started(inputs),
            stage == NOT_STARTED,
            stage == SLIPPING,
            stage == EMBEDDED,
            stage == CONSOLIDATING,
            months.fillna(0) == 0,
        ],
        [
            activity,
            "no action started yet",
            "no monthly compliance result since action started",
            "fell back below the standard after meeting it ("
            + plural(slips, "slip", "slips")
            + " since action)",
            "meets every criterion of the evidence threshold",
            "at standard for "
            + plural(months, "month", "months")
            + " in a row and seen in "
            + plural(categories, "kind", "kinds")
            + " of evidence, but not yet every embedded criterion",
            "action under way, not yet at the standard",
        ],
        "action under way, improvement recent, narrow or single-source",
    )
    closed_on = words.date_text(inputs[AS_OF], _values(inputs, DAYS_SINCE_CLAIM))
    ended = words.optional(inputs, DAYS_SINCE_MONITORING_ENDED)
    ended_on = words.date_text(inputs[AS_OF], ended)
    closure = choose(
        [ended > 0, ended == 0],
        [
            ", monitoring ended on " + ended_on + " (its evidence is read as it stood then)",
            ", monitoring ended on " + ended_on,
        ],
        ", checks continue",
    )
    return choose(
        [is_closed(inputs)],
        ["closed by leaders on " + closed_on + closure + REASON_SEPARATOR + headline],
        headline,
    )


HEADLINE_INPUTS = (
    AS_OF,
    DAYS_SINCE_ACTION_STARTED,
    CONSECUTIVE_MONTHS_AT_STANDARD_COUNT,
    EVIDENCE_CATEGORIES_POSITIVE_90D_COUNT,
    SLIPS_SINCE_ACTION_COUNT,
    IMMEDIATE_CONTROLS_COMPLETED_COUNT,
    EMBEDDING_ACTIONS_COMPLETED_COUNT,
    DECLARED_STATUS,
    DAYS_SINCE_CLAIM,
    DAYS_SINCE_MONITORING_ENDED,
)


# --- assembling reason text without a loop over rows -----------------------------------------


def _reason_texts_of(features: pd.DataFrame, inputs: tuple[str, ...], reason, t) -> pa.Array:
    present = [c for c in inputs if c in features]
    return words.texts_by_distinct_inputs(features[present], lambda d: reason(d, t))


def reason_texts(
    features: pd.DataFrame, criteria: pd.DataFrame, stage: pd.Series, t: EvidenceThreshold
) -> pd.DataFrame:
    """stage_reasons, stable_reasons and fragile_reasons for each row of `features`."""
    stable, fragile = [], []
    for criterion in CRITERIA:
        text = _reason_texts_of(features, criterion.inputs, criterion.reason, t)
        met = criteria[f"criterion_{criterion.name}"]
        stable.append(words.kept(text, met))
        fragile.append(words.kept(text, ~met))
    for observation in OBSERVATIONS:
        text = _reason_texts_of(features, observation.inputs, observation.reason, t)
        stable.append(words.kept(text, observation.stable(features, t)))
        fragile.append(words.kept(text, observation.fragile(features, t)))
    stable_text, fragile_text = words.joined(stable), words.joined(fragile)
    present = [c for c in HEADLINE_INPUTS if c in features]
    closure_only = [c for c in (DAYS_SINCE_CLAIM, DAYS_SINCE_MONITORING_ENDED) if c in features]
    inputs = features[present].assign(stage=stage)
    # The closure's days are read only for closed rows: fewer distinct combinations to word.
    closed = is_closed(features)
    inputs = inputs.assign(**{c: inputs[c].where(closed) for c in closure_only})
    headline = words.texts_by_distinct_inputs(inputs, stage_headline)
    parts = [headline, words.nulls_for_empty(fragile_text), words.nulls_for_empty(stable_text)]
    return pd.DataFrame(
        {
            "stage_reasons": words.text_series(words.joined(parts), features.index),
            "stable_reasons": words.text_series(stable_text, features.index),
            "fragile_reasons": words.text_series(fragile_text, features.index),
        }
    )


def classify_stages(
    features: pd.DataFrame,
    threshold: EvidenceThreshold = DEFAULT_THRESHOLD,
    *,
    with_reasons: bool = True,
) -> pd.DataFrame:
    """The stage of each (improvement_id, as_of) row, with the reasons behind it.

    Returns a new frame with the index of `features`: improvement_id, as_of, stage,
    stage_reasons (the stage's headline, then what remains fragile, then what appears stable,
    joined by '; '), stable_reasons (criteria met, and observations that hold), fragile_reasons
    (criteria not met, and observations that weaken the reading), and one boolean
    `criterion_<name>` column per criterion of the evidence threshold.

    The reasons are about 1 kB of text per row; `with_reasons=False` leaves the three reason
    columns out, for training-sized frames that only need the stage and the criteria.
    """
    _require_columns(features, KEY_COLUMNS + RULE_FEATURES)
    criteria = criteria_met(features, threshold)
    stage = stage_of(features, criteria, threshold)
    parts = [features[[IMPROVEMENT_ID, AS_OF]], stage.rename("stage").to_frame()]
    if with_reasons:
        parts.append(reason_texts(features, criteria, stage, threshold))
    log.info(
        "classified %d rows into stages (%s)",
        len(features),
        ", ".join(f"{s}={n}" for s, n in stage.value_counts().items()),
    )
    return pd.concat([*parts, criteria], axis=1)


# --- claim check ----------------------------------------------------------------------------


def claimed_level(features: pd.DataFrame, t: EvidenceThreshold) -> pd.Series:
    """What leaders claim: 'closed' when the declaration in force closes the improvement (and
    the threshold does not count a closure as a claim of embedding); else 'embedded' if the
    declared status or the latest governance review says embedded; else 'not_embedded' if
    either says emerging or not assured; else 'none'. The stronger claim wins, since an
    over-claim is the risk the check exists to catch."""
    declared = words.labels(features, DECLARED_STATUS)
    reviewed = words.labels(features, LATEST_REVIEW_CLASSIFICATION)
    closed = (declared == CLOSED) & (CLOSED not in t.embedded_claims)
    embedded = declared.isin(t.embedded_claims) | reviewed.isin(t.embedded_claims)
    modest = declared.isin(("emerging", "not_assured")) | reviewed.isin(("emerging", "not_assured"))
    return choose([closed, embedded, modest], [CLOSED, "embedded", "not_embedded"], "none")


def _claims_beside(stages: pd.DataFrame, features: pd.DataFrame, values: pd.DataFrame):
    """`values` (keyed by improvement_id and as_of, from `features`) aligned to `stages`."""
    return (
        stages[list(KEY_COLUMNS) + ["stage"]]
        .merge(
            values.drop_duplicates(list(KEY_COLUMNS), keep="last"), on=list(KEY_COLUMNS), how="left"
        )
        .set_axis(stages.index, axis=0)
    )


def claim_check(
    stages: pd.DataFrame, features: pd.DataFrame, threshold: EvidenceThreshold = DEFAULT_THRESHOLD
) -> pd.Series:
    """Leaders' claim against the rules' stage, aligned to `stages` (same index).

    overclaim: embedded claimed, the evidence says a stage in `overclaim_stages` (by default
    any stage short of embedded); underclaim: emerging or not assured claimed, the evidence
    meets the embedded threshold; closed: leaders have closed the improvement (monitoring may
    end; not judged as a claim of embedding); no_claim: nothing declared and no review;
    consistent otherwise.
    """
    _require_columns(features, KEY_COLUMNS + (DECLARED_STATUS, LATEST_REVIEW_CLASSIFICATION))
    claims = features[list(KEY_COLUMNS)].assign(claim=claimed_level(features, threshold))
    joined = _claims_beside(stages, features, claims)
    claim = joined["claim"].fillna("none")
    result = choose(
        [
            claim == "none",
            claim == CLOSED,
            (claim == "embedded") & joined["stage"].isin(threshold.overclaim_stages),
            (claim == "not_embedded") & (joined["stage"] == EMBEDDED),
        ],
        [NO_CLAIM, CLOSED, OVERCLAIM, UNDERCLAIM],
        CONSISTENT,
    )
    return result.rename("claim_check")


def corrective_action_as_proof(features: pd.DataFrame, t: EvidenceThreshold) -> pd.Series:
    """Where a claim of embedding rests on corrective action: the immediate controls are done
    but embedding actions are still open; or, without an actions file, a serious concern
    whose action is too recent to judge."""
    controls = _values(features, IMMEDIATE_CONTROLS_COMPLETED_COUNT)
    open_ = _values(features, EMBEDDING_ACTIONS_OPEN_COUNT)
    recent = _values(features, DAYS_SINCE_ACTION_STARTED) < t.trigger_min_incident_judgement_days
    serious = features[SEVERITY].astype("str") == "serious"
    return ((controls >= 1) & (open_ >= 1)) | (controls.isna() & serious & recent)


def claim_words(inputs: pd.DataFrame) -> pd.Series:
    """The claim check in a sentence; `inputs` from `claim_reasons`."""
    check, stage = inputs["claim_check"], inputs["stage"].map(STAGE_WORDS).fillna("")
    declared, reviewed = inputs["declared"], inputs["reviewed"]
    claim = choose(
        [declared.isin(("embedded", "emerging")), reviewed != "none"],
        ["leaders declare " + declared, "the latest governance review says " + reviewed],
        "leaders claim " + declared,
    )
    corrective = choose(
        [inputs["corrective"] & (inputs["controls"] >= 1), inputs["corrective"]],
        [
            ": corrective action presented as proof of recovery (the immediate controls are "
            "done, the embedding actions are not yet shown in practice)",
            ": corrective action presented as proof of recovery (too soon after action to judge)",
        ],
        "",
    )
    closed_on = words.date_text(inputs[AS_OF], inputs["claimed_days_ago"])
    recurred = choose(
        [inputs["since_claim"] >= 1],
        [", but a moderate-or-worse incident on its theme has happened since"],
        "",
    )
    return choose(
        [check == OVERCLAIM, check == UNDERCLAIM, check == CLOSED, check == NO_CLAIM],
        [
            "over-claim: " + claim + ", but the evidence shows " + stage + corrective,
            "under-claim: " + claim + ", but the evidence supports more: it meets every "
            "criterion of the evidence threshold (embedded)",
            "closed by leaders on " + closed_on + ": monitoring may end" + recurred,
            "no declaration or governance review yet",
        ],
        "consistent: " + claim + ", and the evidence shows " + stage,
    )


def claim_reasons(
    stages: pd.DataFrame,
    features: pd.DataFrame,
    claims: pd.Series,
    threshold: EvidenceThreshold = DEFAULT_THRESHOLD,
) -> pd.Series:
    """The claim check of each row of `stages` in a sentence (over-claims say when corrective
    action is presented as proof of recovery; under-claims that the evidence supports more)."""
    closed = is_closed(features)
    values = features[list(KEY_COLUMNS)].assign(
        declared=words.labels(features, DECLARED_STATUS),
        reviewed=words.labels(features, LATEST_REVIEW_CLASSIFICATION),
        corrective=corrective_action_as_proof(features, threshold),
        controls=_values(features, IMMEDIATE_CONTROLS_COMPLETED_COUNT).clip(upper=1),
        # read only for closed rows: fewer distinct combinations to word
        claimed_days_ago=_values(features, DAYS_SINCE_CLAIM).where(closed),
        since_claim=_values(features, SERIOUS_THEME_INCIDENTS_SINCE_CLAIM_COUNT).where(closed),
    )
    joined = _claims_beside(stages, features, values).assign(
        claim_check=claims.to_numpy(),
        corrective=lambda f: f["corrective"].fillna(False).astype(bool),
    )
    inputs = joined.drop(columns=IMPROVEMENT_ID)
    texts = words.texts_by_distinct_inputs(inputs, claim_words)
    return words.text_series(texts, stages.index).fillna("").rename("claim_reason")


# --- triggers and cadence, with this module's defaults --------------------------------------


def escalation_triggers(
    features: pd.DataFrame, threshold: EvidenceThreshold = DEFAULT_THRESHOLD
) -> pd.DataFrame:
    """The escalation triggers that fire for each row, the recommended escalations and what
    was seen, in a manager's words.

    See `models.triggers.escalation_frame` for the columns and `models.triggers.TRIGGERS` for
    each trigger's condition and escalation.
    """
    return triggers.escalation_frame(features, threshold)


def review_cadence(
    improvements: pd.DataFrame,
    reviews: pd.DataFrame | None,
    as_of,
    threshold: EvidenceThreshold = DEFAULT_THRESHOLD,
    closed_ids=None,
) -> pd.DataFrame:
    """When each improvement is next due for Registered Manager and senior review, and whether
    either is overdue at `as_of` (never for the improvements in `closed_ids`: monitoring may
    end). See `models.cadence.review_dates`."""
    return cadence.review_dates(improvements, reviews, as_of, threshold, closed_ids)


def _require_columns(frame: pd.DataFrame, names: tuple[str, ...]) -> None:
    missing = [n for n in names if n not in frame.columns]
    if missing:
        raise KeyError(f"the feature frame lacks column(s) the rules need: {missing}")
