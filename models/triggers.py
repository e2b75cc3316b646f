"""Escalation triggers from assessors' practice, each with its recommended escalation and the
words a Registered Manager reads.

A trigger is a small named predicate over the feature frame (a boolean Series per row), the
escalation an assessor would recommend when it fires, and a sentence saying what was seen
(naming the teams, the months, the counts). Outputs keep the trigger's code (`triggers`, e.g.
`uneven_results_between_teams`) for filtering; people read the sentences (`trigger_reasons`).
Missing evidence (NaN) never fires a trigger: the rules' stages and reasons already say what
evidence is absent.

Thresholds come from `contracts.params.EvidenceThreshold` (passed in; the public entry with the
defaults is `models.rules.escalation_triggers`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np
import pandas as pd

from contracts.params import EvidenceThreshold
from contracts.vocabulary import CLOSED
from features.columns import (
    AGENCY_SHIFT_SHARE_CHANGE_90D,
    AGENCY_UNFILLED_SHARE_CHANGE_SINCE_ACTION,
    AS_OF,
    COMPETENCY_PASS_SHARE_180D,
    COMPLIANCE_MARGIN_LATEST,
    CONFIDENCE_GAP_POINTS,
    CONSECUTIVE_MONTHS_AT_STANDARD_COUNT,
    DAYS_SINCE_ACTION_STARTED,
    DAYS_SINCE_CLAIM,
    DAYS_SINCE_THEME_COMPLAINT,
    DECLARED_STATUS,
    EVIDENCE_CATEGORIES_POSITIVE_90D_COUNT,
    IMMEDIATE_CONTROLS_COMPLETED_COUNT,
    IMPROVEMENT_ID,
    KEYWORKER_CONTINUITY_LOWEST_TEAM_GAP_90D,
    KEYWORKER_CONTINUITY_SHARE_90D,
    KEYWORKER_CONTINUITY_SHARE_CHANGE_SINCE_ACTION,
    MONTHS_SINCE_LATEST_SLIP,
    PEOPLES_RATING_90D_MEAN,
    PROMPTS_PER_OBSERVATION_90D,
    SELF_RATED_CONFIDENCE_180D_MEAN,
    SERIOUS_THEME_INCIDENT_RATE_CHANGE_PER_MONTH,
    SERIOUS_THEME_INCIDENTS_SINCE_CLAIM_COUNT,
    SEVERITY,
    SLIPS_SINCE_ACTION_COUNT,
    STANDARD,
    TEAMS_AT_STANDARD,
    TEAMS_BELOW_STANDARD,
    TEAMS_CHECKED_90D_COUNT,
    TEAMS_CONTINUITY_LAGGING,
    TEAMS_MEETING_STANDARD_COUNT,
    TEAMS_MEETING_STANDARD_SHARE,
    THEME,
    THEME_COMPLAINTS_90D_COUNT,
    THEME_INCIDENT_RATE_CHANGE_PER_MONTH,
    THEME_SENTIMENT_90D_MEAN,
    UNFILLED_SHIFT_SHARE_CHANGE_90D,
)
from models import words
from models.words import choose, number_text, percent_text, plural

SEPARATOR = "; "
DAYS_PER_MONTH = 365.25 / 12
numeric_feature = words.numeric


def required_consecutive_months(features: pd.DataFrame, t: EvidenceThreshold) -> pd.Series:
    """Months in a row at the standard the threshold asks of each row: more for a serious
    concern (the framework's medium-term bar)."""
    serious = features[SEVERITY].astype("str") == "serious"
    return pd.Series(
        np.where(serious, t.serious_min_consecutive_months, t.min_consecutive_months),
        index=features.index,
        dtype="float64",
    )


# --- predicates -------------------------------------------------------------------------------


def slippage_after_early_improvement(features: pd.DataFrame, t: EvidenceThreshold) -> pd.Series:
    """Met the standard since action, and is below it again now."""
    below_now = numeric_feature(features, COMPLIANCE_MARGIN_LATEST) < 0
    return below_now & (numeric_feature(features, SLIPS_SINCE_ACTION_COUNT) >= t.slipping_min_slips)


def uneven_teams(features: pd.DataFrame, t: EvidenceThreshold) -> pd.Series:
    some_meet = numeric_feature(features, TEAMS_MEETING_STANDARD_COUNT) >= 1
    return some_meet & (
        numeric_feature(features, TEAMS_MEETING_STANDARD_SHARE) < t.min_teams_meeting_share
    )


def concerns_workforce(features: pd.DataFrame, t: EvidenceThreshold) -> pd.Series:
    """The improvement's theme is one that workforce figures concern (staffing by default)."""
    return features[THEME].astype("str").isin(t.workforce_themes)


def uneven_continuity(features: pd.DataFrame, t: EvidenceThreshold) -> pd.Series:
    gap = numeric_feature(features, KEYWORKER_CONTINUITY_LOWEST_TEAM_GAP_90D).round(9)
    return concerns_workforce(features, t) & (gap >= t.team_continuity_gap)


def uneven_results_between_teams(features: pd.DataFrame, t: EvidenceThreshold) -> pd.Series:
    """Some teams meet the standard but fewer than `min_teams_meeting_share` of them do; or,
    for a workforce improvement, one team's key-worker continuity lags its service's by
    `team_continuity_gap` or more (uneven local routines)."""
    return uneven_teams(features, t) | uneven_continuity(features, t)


def competency_short(features: pd.DataFrame, t: EvidenceThreshold) -> pd.Series:
    margin = numeric_feature(features, COMPETENCY_PASS_SHARE_180D) - numeric_feature(
        features, STANDARD
    )
    return margin.round(9) < t.min_competency_margin


def overconfident(features: pd.DataFrame, t: EvidenceThreshold) -> pd.Series:
    gap = numeric_feature(features, CONFIDENCE_GAP_POINTS)
    return gap.round(9) > t.max_confidence_gap_points


def low_confidence(features: pd.DataFrame, t: EvidenceThreshold) -> pd.Series:
    rated = numeric_feature(features, SELF_RATED_CONFIDENCE_180D_MEAN)
    return rated.round(9) < t.min_self_rated_confidence


def prompted(features: pd.DataFrame, t: EvidenceThreshold) -> pd.Series:
    prompts = numeric_feature(features, PROMPTS_PER_OBSERVATION_90D)
    return prompts > t.trigger_max_prompts_per_observation


def weak_staff_understanding(features: pd.DataFrame, t: EvidenceThreshold) -> pd.Series:
    """Competency below the standard, staff rating themselves above what they demonstrate,
    staff still learning without full confidence (low self-rating), or frequent prompting."""
    return (
        competency_short(features, t)
        | overconfident(features, t)
        | low_confidence(features, t)
        | prompted(features, t)
    )


def rota_gap_change(features: pd.DataFrame) -> pd.Series:
    """Change in the agency + unfilled share of planned shifts: since action (the 90 days
    before it against the latest 90), or, where the rota does not reach back before action,
    the latest 90 days against the 90 before them."""
    since_action = numeric_feature(features, AGENCY_UNFILLED_SHARE_CHANGE_SINCE_ACTION)
    recent = numeric_feature(features, AGENCY_SHIFT_SHARE_CHANGE_90D) + numeric_feature(
        features, UNFILLED_SHIFT_SHARE_CHANGE_90D
    )
    return since_action.fillna(recent)


def workforce_improving(features: pd.DataFrame, t: EvidenceThreshold) -> pd.Series:
    """Agency and unfilled shifts fell, or key-worker continuity rose, by at least
    `workforce_improvement_min_change` since action (`rota_gap_change`)."""
    continuity = numeric_feature(features, KEYWORKER_CONTINUITY_SHARE_CHANGE_SINCE_ACTION)
    step = t.workforce_improvement_min_change
    return (rota_gap_change(features).round(9) <= -step) | (continuity.round(9) >= step)


def experience_not_positive(features: pd.DataFrame, t: EvidenceThreshold) -> pd.Series:
    """People's and families' feedback on the theme (90 days) is not positive: mean sentiment
    at or below 0, or a mean rating below `min_peoples_rating`."""
    sentiment = numeric_feature(features, THEME_SENTIMENT_90D_MEAN)
    rating = numeric_feature(features, PEOPLES_RATING_90D_MEAN)
    return (sentiment <= 0) | (rating.round(9) < t.min_peoples_rating)


def continuing_complaints(features: pd.DataFrame, t: EvidenceThreshold) -> pd.Series:
    """At least `min_continuing_complaints` complaints on the theme in 90 days, the latest
    within `continuing_complaint_days`."""
    many = numeric_feature(features, THEME_COMPLAINTS_90D_COUNT) >= t.min_continuing_complaints
    recent = numeric_feature(features, DAYS_SINCE_THEME_COMPLAINT) <= t.continuing_complaint_days
    return many & recent


def workforce_improving_feedback_not(features: pd.DataFrame, t: EvidenceThreshold) -> pd.Series:
    """A workforce improvement whose rota figures improved since action while people's
    experience has not caught up (feedback not positive, or complaints continuing)."""
    lived = experience_not_positive(features, t) | continuing_complaints(features, t)
    return concerns_workforce(features, t) & workforce_improving(features, t) & lived


def serious_concern_thin_evidence(features: pd.DataFrame, t: EvidenceThreshold) -> pd.Series:
    """A serious concern whose improvement is too recent or too narrow to rely on.

    Too recent: fewer than `serious_min_consecutive_months` months in a row at the standard
    (the medium-term bar); too narrow: fewer than `min_evidence_categories` kinds of evidence.
    Only where some improvement is shown (at least one month at standard): with none, the
    stage already says so.
    """
    months = numeric_feature(features, CONSECUTIVE_MONTHS_AT_STANDARD_COUNT)
    categories = numeric_feature(features, EVIDENCE_CATEGORIES_POSITIVE_90D_COUNT).fillna(0)
    serious = features[SEVERITY].astype("str") == "serious"
    thin = (months < t.serious_min_consecutive_months) | (categories < t.min_evidence_categories)
    return serious & (months >= 1) & thin


def incident_reduction_too_short(features: pd.DataFrame, t: EvidenceThreshold) -> pd.Series:
    """Theme incidents (all, or moderate-or-worse) fell since action, over fewer days than can
    be judged."""
    fell = (numeric_feature(features, THEME_INCIDENT_RATE_CHANGE_PER_MONTH) < 0) | (
        numeric_feature(features, SERIOUS_THEME_INCIDENT_RATE_CHANGE_PER_MONTH) < 0
    )
    recent = (
        numeric_feature(features, DAYS_SINCE_ACTION_STARTED) < t.trigger_min_incident_judgement_days
    )
    return fell & recent


def _incident_since_closure(features: pd.DataFrame) -> pd.Series:
    return numeric_feature(features, SERIOUS_THEME_INCIDENTS_SINCE_CLAIM_COUNT) >= 1


def _slipped_since_closure(features: pd.DataFrame, t: EvidenceThreshold) -> pd.Series:
    months_since_slip = numeric_feature(features, MONTHS_SINCE_LATEST_SLIP)
    slipped_after = months_since_slip * DAYS_PER_MONTH < numeric_feature(features, DAYS_SINCE_CLAIM)
    return slipped_after & slippage_after_early_improvement(features, t)


def recurrence_after_closure(features: pd.DataFrame, t: EvidenceThreshold) -> pd.Series:
    """Closed by leaders, and since then a moderate-or-worse incident of its theme happened, or
    compliance (where checks went on) slipped below the standard again."""
    closed = words.labels(features, DECLARED_STATUS) == CLOSED
    return closed & (_incident_since_closure(features) | _slipped_since_closure(features, t))


# --- what a manager reads ---------------------------------------------------------------------


def slippage_words(features: pd.DataFrame, t: EvidenceThreshold) -> pd.Series:
    month = words.month_text(features[AS_OF], numeric_feature(features, MONTHS_SINCE_LATEST_SLIP))
    return choose(
        [month != ""],
        ["slipped below the standard in " + month + " after early improvement"],
        "slipped below the standard after early improvement",
    )


def uneven_words(features: pd.DataFrame, t: EvidenceThreshold) -> pd.Series:
    below = words.names(features, TEAMS_BELOW_STANDARD)
    at = words.names(features, TEAMS_AT_STANDARD)
    counted = (
        number_text(numeric_feature(features, TEAMS_MEETING_STANDARD_COUNT), 0)
        + " of "
        + plural(numeric_feature(features, TEAMS_CHECKED_90D_COUNT), "team", "teams")
        + " at the standard"
    )
    teams = choose(
        [(below != "") & (at != ""), below != ""],
        [
            "uneven results between teams: " + below + " below the standard (" + at + " at it)",
            "uneven results between teams: " + below + " below the standard",
        ],
        "uneven results between teams: only " + counted,
    )
    lagging = words.names(features, TEAMS_CONTINUITY_LAGGING)
    service = numeric_feature(features, KEYWORKER_CONTINUITY_SHARE_90D)
    gap = numeric_feature(features, KEYWORKER_CONTINUITY_LOWEST_TEAM_GAP_90D)
    where = choose([lagging != ""], ["in " + lagging], "in one team")
    continuity = (
        "uneven local routines: key-worker continuity lags "
        + where
        + " ("
        + percent_text(service - gap)
        + " against "
        + percent_text(service)
        + " across the service)"
    )
    by_teams, by_continuity = uneven_teams(features, t), uneven_continuity(features, t)
    return choose(
        [by_teams & by_continuity, by_continuity],
        [teams + ", and " + continuity, continuity],
        teams,
    )


def weak_understanding_words(features: pd.DataFrame, t: EvidenceThreshold) -> pd.Series:
    competency = numeric_feature(features, COMPETENCY_PASS_SHARE_180D)
    rated = numeric_feature(features, SELF_RATED_CONFIDENCE_180D_MEAN)
    prompts = numeric_feature(features, PROMPTS_PER_OBSERVATION_90D)
    parts = [
        (
            competency_short(features, t),
            "competency checks pass "
            + percent_text(competency)
            + " against the "
            + percent_text(numeric_feature(features, STANDARD))
            + " standard",
        ),
        (
            overconfident(features, t),
            "staff describe the process more confidently than they demonstrate it (self-rated "
            + number_text(rated, 1)
            + " of 5, competency "
            + percent_text(competency)
            + ")",
        ),
        (
            low_confidence(features, t),
            "staff still learning new roles without full confidence (self-rated "
            + number_text(rated, 1)
            + " of 5)",
        ),
        (
            prompted(features, t),
            "staff need " + number_text(prompts, 1) + " prompts per observation",
        ),
    ]
    return "weak staff understanding: " + words.listed(parts, features.index)


def workforce_words(features: pd.DataFrame, t: EvidenceThreshold) -> pd.Series:
    gaps = rota_gap_change(features)
    continuity = numeric_feature(features, KEYWORKER_CONTINUITY_SHARE_CHANGE_SINCE_ACTION)
    step = t.workforce_improvement_min_change
    figures = words.listed(
        [
            (
                gaps.round(9) <= -step,
                "agency and unfilled shifts down "
                + number_text(-gaps * 100, 0)
                + " percentage points",
            ),
            (
                continuity.round(9) >= step,
                "key-worker continuity up " + number_text(continuity * 100, 0) + " points",
            ),
        ],
        features.index,
    )
    lived = words.listed(
        [
            (experience_not_positive(features, t), "people's feedback on the theme not positive"),
            (continuing_complaints(features, t), "complaints continue"),
        ],
        features.index,
    )
    return (
        "workforce figures improving ("
        + figures
        + ") while lived experience is not ("
        + lived
        + ")"
    )


def complaints_words(features: pd.DataFrame, t: EvidenceThreshold) -> pd.Series:
    count = numeric_feature(features, THEME_COMPLAINTS_90D_COUNT)
    days = numeric_feature(features, DAYS_SINCE_THEME_COMPLAINT)
    return (
        "continuing complaints: "
        + number_text(count, 0)
        + " on this theme in the last 90 days, the latest "
        + plural(days, "day", "days")
        + " ago"
    )


def serious_thin_words(features: pd.DataFrame, t: EvidenceThreshold) -> pd.Series:
    months = numeric_feature(features, CONSECUTIVE_MONTHS_AT_STANDARD_COUNT)
    categories = numeric_feature(features, EVIDENCE_CATEGORIES_POSITIVE_90D_COUNT).fillna(0)
    controls = numeric_feature(features, IMMEDIATE_CONTROLS_COMPLETED_COUNT)
    opening = choose(
        [controls >= 1],
        ["a serious concern with good immediate controls but thin medium-term evidence"],
        "a serious concern with thin medium-term evidence",
    )
    return (
        opening
        + ": "
        + plural(months, "month", "months")
        + f" in a row at the standard ({t.serious_min_consecutive_months} needed), "
        + plural(categories, "kind", "kinds")
        + f" of evidence ({t.min_evidence_categories} needed)"
    )


def incident_words(features: pd.DataFrame, t: EvidenceThreshold) -> pd.Series:
    days = numeric_feature(features, DAYS_SINCE_ACTION_STARTED)
    return (
        "fewer incidents over too short a period to judge: "
        + plural(days, "day", "days")
        + f" since action ({t.trigger_min_incident_judgement_days} needed)"
    )


def recurrence_words(features: pd.DataFrame, t: EvidenceThreshold) -> pd.Series:
    count = numeric_feature(features, SERIOUS_THEME_INCIDENTS_SINCE_CLAIM_COUNT)
    closed_on = words.date_text(features[AS_OF], numeric_feature(features, DAYS_SINCE_CLAIM))
    seen = words.listed(
        [
            (
                _incident_since_closure(features),
                plural(count, "moderate-or-worse incident", "moderate-or-worse incidents")
                + " on this theme",
            ),
            (_slipped_since_closure(features, t), "compliance below the standard again"),
        ],
        features.index,
    )
    return "recurrence after closure: " + seen + " since it was closed on " + closed_on


class Trigger(NamedTuple):
    """One escalation trigger: its code, predicate, the escalation an assessor recommends,
    the sentence a manager reads when it fires, and the columns that sentence reads."""

    name: str
    predicate: Callable[[pd.DataFrame, EvidenceThreshold], pd.Series]
    escalation: str
    describe: Callable[[pd.DataFrame, EvidenceThreshold], pd.Series]
    inputs: tuple[str, ...]


TEAM_INPUTS = (
    TEAMS_MEETING_STANDARD_COUNT,
    TEAMS_MEETING_STANDARD_SHARE,
    TEAMS_CHECKED_90D_COUNT,
    TEAMS_AT_STANDARD,
    TEAMS_BELOW_STANDARD,
    TEAMS_CONTINUITY_LAGGING,
    KEYWORKER_CONTINUITY_SHARE_90D,
    KEYWORKER_CONTINUITY_LOWEST_TEAM_GAP_90D,
    THEME,
)
STAFF_INPUTS = (
    COMPETENCY_PASS_SHARE_180D,
    STANDARD,
    CONFIDENCE_GAP_POINTS,
    SELF_RATED_CONFIDENCE_180D_MEAN,
    PROMPTS_PER_OBSERVATION_90D,
)
EXPERIENCE_INPUTS = (
    AGENCY_UNFILLED_SHARE_CHANGE_SINCE_ACTION,
    AGENCY_SHIFT_SHARE_CHANGE_90D,
    UNFILLED_SHIFT_SHARE_CHANGE_90D,
    KEYWORKER_CONTINUITY_SHARE_CHANGE_SINCE_ACTION,
    THEME_SENTIMENT_90D_MEAN,
    PEOPLES_RATING_90D_MEAN,
    THEME_COMPLAINTS_90D_COUNT,
    DAYS_SINCE_THEME_COMPLAINT,
)

TRIGGERS: tuple[Trigger, ...] = (
    Trigger(
        "slippage_after_early_improvement",
        slippage_after_early_improvement,
        "wider re-audit and extended monitoring",
        slippage_words,
        (AS_OF, MONTHS_SINCE_LATEST_SLIP),
    ),
    Trigger(
        "uneven_results_between_teams",
        uneven_results_between_teams,
        "wider re-audit, local management review and targeted supervision of the teams named",
        uneven_words,
        TEAM_INPUTS,
    ),
    Trigger(
        "weak_staff_understanding",
        weak_staff_understanding,
        "additional supervision, extended induction and competency re-checks",
        weak_understanding_words,
        STAFF_INPUTS,
    ),
    Trigger(
        "workforce_improving_feedback_not",
        workforce_improving_feedback_not,
        "deeper team support, linking workforce data to people's experience",
        workforce_words,
        EXPERIENCE_INPUTS,
    ),
    Trigger(
        "continuing_complaints",
        continuing_complaints,
        "enhanced monitoring kept while people's experience is mixed, and the complaints "
        "reviewed with people and families",
        complaints_words,
        (THEME_COMPLAINTS_90D_COUNT, DAYS_SINCE_THEME_COMPLAINT),
    ),
    Trigger(
        "serious_concern_thin_evidence",
        serious_concern_thin_evidence,
        "extended assurance, more senior oversight and a wider thematic review",
        serious_thin_words,
        (
            CONSECUTIVE_MONTHS_AT_STANDARD_COUNT,
            EVIDENCE_CATEGORIES_POSITIVE_90D_COUNT,
            IMMEDIATE_CONTROLS_COMPLETED_COUNT,
        ),
    ),
    Trigger(
        "incident_reduction_too_short",
        incident_reduction_too_short,
        "retain enhanced monitoring",
        incident_words,
        (DAYS_SINCE_ACTION_STARTED,),
    ),
    Trigger(
        "recurrence_after_closure",
        recurrence_after_closure,
        "reopen the improvement and review whether it was closed too soon",
        recurrence_words,
        (
            AS_OF,
            SERIOUS_THEME_INCIDENTS_SINCE_CLAIM_COUNT,
            DAYS_SINCE_CLAIM,
            MONTHS_SINCE_LATEST_SLIP,
            COMPLIANCE_MARGIN_LATEST,
            SLIPS_SINCE_ACTION_COUNT,
            DECLARED_STATUS,
        ),
    ),
)
TRIGGER_COLUMNS = tuple(f"trigger_{t.name}" for t in TRIGGERS)


def fired(features: pd.DataFrame, threshold: EvidenceThreshold) -> pd.DataFrame:
    """One boolean column `trigger_<name>` per trigger, aligned to `features`."""
    return pd.DataFrame(
        {
            f"trigger_{t.name}": t.predicate(features, threshold).to_numpy(dtype=bool)
            for t in TRIGGERS
        },
        index=features.index,
    )


def _joined_where(flags: pd.DataFrame, texts: tuple[str, ...]) -> pd.Series:
    """Per row, the texts of the flags that are set, joined by '; '.

    Each row's set of flags is a number (one bit per trigger); the joined text is built once
    per possible set (256 for eight triggers) and looked up for every row.
    """
    bits = flags.to_numpy(dtype=np.int64) @ (1 << np.arange(len(texts), dtype=np.int64))
    by_set = np.array(
        [
            SEPARATOR.join(t for i, t in enumerate(texts) if code >> i & 1)
            for code in range(1 << len(texts))
        ],
        dtype=object,
    )
    return pd.Series(by_set[bits], index=flags.index, dtype="str")


def trigger_sentences(
    features: pd.DataFrame, flags: pd.DataFrame, threshold: EvidenceThreshold
) -> pd.Series:
    """Per row, the sentence of each trigger that fired, in trigger order, joined by '; '.
    Team names are read when the frame carries them (features.teams), else counts are said."""
    texts = []
    for trigger in TRIGGERS:
        inputs = features[[c for c in trigger.inputs if c in features]]
        texts.append(
            words.texts_by_distinct_inputs(
                inputs,
                lambda d, t=trigger: t.describe(d, threshold),
                where=flags[f"trigger_{trigger.name}"],
            )
        )
    return words.text_series(words.joined(texts), features.index)


def escalation_frame(features: pd.DataFrame, threshold: EvidenceThreshold) -> pd.DataFrame:
    """improvement_id, as_of, triggers ('; '-joined trigger codes, '' when none fire),
    escalations (their recommended escalations, '; '-joined), trigger_reasons (what was seen,
    in a manager's words, one sentence per trigger), and `trigger_<name>` booleans; same index
    as `features`."""
    flags = fired(features, threshold)
    return pd.concat(
        [
            features[[IMPROVEMENT_ID, AS_OF]],
            pd.DataFrame(
                {
                    "triggers": _joined_where(flags, tuple(t.name for t in TRIGGERS)),
                    "escalations": _joined_where(flags, tuple(t.escalation for t in TRIGGERS)),
                    "trigger_reasons": trigger_sentences(features, flags, threshold),
                },
                index=features.index,
            ),
            flags,
        ],
        axis=1,
    )
