"""Escalation triggers from assessors' practice, each with its recommended escalation.

A trigger is a small named predicate over the feature frame (a boolean Series per row) and the
escalation an assessor would recommend when it fires. Missing evidence (NaN) never fires a
trigger: the rules' stages and reasons already say what evidence is absent.

Thresholds come from `contracts.params.EvidenceThreshold` (passed in; the public entry with the
defaults is `models.rules.escalation_triggers`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np
import pandas as pd

from contracts.params import EvidenceThreshold
from features.columns import (
    AS_OF,
    COMPETENCY_PASS_SHARE_180D,
    COMPLIANCE_MARGIN_LATEST,
    CONFIDENCE_GAP_POINTS,
    CONSECUTIVE_MONTHS_AT_STANDARD_COUNT,
    DAYS_SINCE_ACTION_STARTED,
    EVIDENCE_CATEGORIES_POSITIVE_90D_COUNT,
    IMPROVEMENT_ID,
    PROMPTS_PER_OBSERVATION_90D,
    SEVERITY,
    SLIPS_SINCE_ACTION_COUNT,
    STANDARD,
    TEAMS_MEETING_STANDARD_COUNT,
    TEAMS_MEETING_STANDARD_SHARE,
    THEME_INCIDENT_RATE_CHANGE_PER_MONTH,
    WORKFORCE_FEEDBACK_MISMATCH_FLAG,
)

SEPARATOR = "; "


def numeric_feature(features: pd.DataFrame, name: str) -> pd.Series:
    """A feature as float64, missing as NaN (flags, counts and nullable ints alike)."""
    column = features[name]
    if column.dtype == "float64":
        return column
    return pd.to_numeric(column, errors="coerce").astype("float64")


def slippage_after_early_improvement(features: pd.DataFrame, t: EvidenceThreshold) -> pd.Series:
    """Met the standard since action, and is below it again now."""
    below_now = numeric_feature(features, COMPLIANCE_MARGIN_LATEST) < 0
    return below_now & (numeric_feature(features, SLIPS_SINCE_ACTION_COUNT) >= t.slipping_min_slips)


def uneven_results_between_teams(features: pd.DataFrame, t: EvidenceThreshold) -> pd.Series:
    """Some teams meet the standard but fewer than `min_teams_meeting_share` of them do."""
    some_meet = numeric_feature(features, TEAMS_MEETING_STANDARD_COUNT) >= 1
    return some_meet & (
        numeric_feature(features, TEAMS_MEETING_STANDARD_SHARE) < t.min_teams_meeting_share
    )


def weak_staff_understanding(features: pd.DataFrame, t: EvidenceThreshold) -> pd.Series:
    """Competency below the standard, a large confidence gap, or frequent prompting."""
    competency_margin = (
        numeric_feature(features, COMPETENCY_PASS_SHARE_180D) - numeric_feature(features, STANDARD)
    ).round(9)
    return (
        (competency_margin < t.min_competency_margin)
        | (numeric_feature(features, CONFIDENCE_GAP_POINTS).round(9) > t.max_confidence_gap_points)
        | (
            numeric_feature(features, PROMPTS_PER_OBSERVATION_90D)
            > t.trigger_max_prompts_per_observation
        )
    )


def workforce_improving_feedback_not(features: pd.DataFrame, t: EvidenceThreshold) -> pd.Series:
    """Agency and unfilled shifts fell while people's feedback on the theme did not improve."""
    return numeric_feature(features, WORKFORCE_FEEDBACK_MISMATCH_FLAG) == 1


def serious_concern_thin_evidence(features: pd.DataFrame, t: EvidenceThreshold) -> pd.Series:
    """A serious concern whose improvement is too recent or too narrow to rely on.

    Too recent: fewer than `min_consecutive_months` months in a row at the standard; too
    narrow: fewer than `min_evidence_categories` kinds of evidence. Only where some improvement
    is shown (at least one month at standard): with none, the stage already says so.
    """
    months = numeric_feature(features, CONSECUTIVE_MONTHS_AT_STANDARD_COUNT)
    categories = numeric_feature(features, EVIDENCE_CATEGORIES_POSITIVE_90D_COUNT).fillna(0)
    serious = features[SEVERITY].astype("str") == "serious"
    thin = (months < t.min_consecutive_months) | (categories < t.min_evidence_categories)
    return serious & (months >= 1) & thin


def incident_reduction_too_short(features: pd.DataFrame, t: EvidenceThreshold) -> pd.Series:
    """Theme incidents fell since action, over fewer days than can be judged."""
    fell = numeric_feature(features, THEME_INCIDENT_RATE_CHANGE_PER_MONTH) < 0
    recent = (
        numeric_feature(features, DAYS_SINCE_ACTION_STARTED) < t.trigger_min_incident_judgement_days
    )
    return fell & recent


class Trigger(NamedTuple):
    """One escalation trigger: name, predicate, and the escalation an assessor recommends."""

    name: str
    predicate: Callable[[pd.DataFrame, EvidenceThreshold], pd.Series]
    escalation: str


TRIGGERS: tuple[Trigger, ...] = (
    Trigger(
        "slippage_after_early_improvement",
        slippage_after_early_improvement,
        "wider re-audit and extended monitoring",
    ),
    Trigger(
        "uneven_results_between_teams",
        uneven_results_between_teams,
        "local management review and targeted supervision",
    ),
    Trigger(
        "weak_staff_understanding",
        weak_staff_understanding,
        "additional supervision, extended induction and competency re-checks",
    ),
    Trigger(
        "workforce_improving_feedback_not",
        workforce_improving_feedback_not,
        "deeper team support, linking workforce data to people's experience",
    ),
    Trigger(
        "serious_concern_thin_evidence",
        serious_concern_thin_evidence,
        "senior oversight and thematic review",
    ),
    Trigger(
        "incident_reduction_too_short", incident_reduction_too_short, "retain enhanced monitoring"
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
    per possible set (64 for six triggers) and looked up for every row.
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


def escalation_frame(features: pd.DataFrame, threshold: EvidenceThreshold) -> pd.DataFrame:
    """improvement_id, as_of, triggers ('; '-joined trigger names, '' when none fire),
    escalations (their recommended escalations, '; '-joined), and `trigger_<name>` booleans;
    same index as `features`."""
    flags = fired(features, threshold)
    return pd.concat(
        [
            features[[IMPROVEMENT_ID, AS_OF]],
            pd.DataFrame(
                {
                    "triggers": _joined_where(flags, tuple(t.name for t in TRIGGERS)),
                    "escalations": _joined_where(flags, tuple(t.escalation for t in TRIGGERS)),
                },
                index=features.index,
            ),
            flags,
        ],
        axis=1,
    )
