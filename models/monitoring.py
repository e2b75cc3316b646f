"""Enhanced monitoring: when it is recommended, since when, what would end it, and whether
the original concern is still relevant.

Assessors keep an improvement under enhanced monitoring while its hold is in doubt: after a
slip (until it has held for two senior review cycles), while a serious concern's evidence is
thin or its fall in incidents too recent to judge, while people's experience has not caught
up with workforce figures or complaints continue, after a recurrence following closure, and
while leaders claim more than the evidence shows. The recommendation says when it began (the
month of the slip, else the day action started, else the day of the claim), what would end
it, and the two facts that say whether the original concern still matters: its age and its
recurrences (moderate-or-worse incidents of its theme) within the last year.
"""

from __future__ import annotations

import pandas as pd

from contracts.params import EvidenceThreshold
from contracts.vocabulary import OVERCLAIM
from features.columns import (
    AS_OF,
    DAYS_SINCE_ACTION_STARTED,
    DAYS_SINCE_CLAIM,
    DAYS_SINCE_IDENTIFIED,
    MONTHS_SINCE_LATEST_SLIP,
    SERIOUS_THEME_INCIDENTS_365D_COUNT,
    SEVERITY,
)
from models import triggers, words
from models.words import choose, plural

INPUTS = (
    AS_OF,
    DAYS_SINCE_ACTION_STARTED,
    DAYS_SINCE_CLAIM,
    DAYS_SINCE_IDENTIFIED,
    MONTHS_SINCE_LATEST_SLIP,
    SERIOUS_THEME_INCIDENTS_365D_COUNT,
    SEVERITY,
)


def enhanced_monitoring(
    features: pd.DataFrame,
    fired: pd.DataFrame,
    slip_remembered: pd.Series,
    claims: pd.Series,
    t: EvidenceThreshold,
) -> pd.Series:
    """Per row of `features`: the enhanced-monitoring recommendation in words, '' when none.

    `fired`: the trigger flags (`trigger_<name>`, models.triggers.fired) of the same rows;
    `slip_remembered`: rows whose slip after early improvement is still a fragile reason;
    `claims`: the claim check of the same rows.
    """
    reasons = {
        "slip": slip_remembered.to_numpy(dtype=bool)
        | fired["trigger_slippage_after_early_improvement"].to_numpy(dtype=bool),
        "serious": (
            fired["trigger_serious_concern_thin_evidence"]
            | fired["trigger_incident_reduction_too_short"]
        ).to_numpy(dtype=bool),
        "experience": (
            fired["trigger_workforce_improving_feedback_not"]
            | fired["trigger_continuing_complaints"]
        ).to_numpy(dtype=bool),
        "recurrence": fired["trigger_recurrence_after_closure"].to_numpy(dtype=bool),
        "overclaim": (claims == OVERCLAIM).to_numpy(dtype=bool),
    }
    inputs = features[list(INPUTS)].assign(**reasons)
    wanted = pd.DataFrame(reasons).any(axis=1).to_numpy()
    texts = words.texts_by_distinct_inputs(inputs, lambda d: recommendation(d, t), where=wanted)
    return words.text_series(texts, features.index).fillna("").rename("enhanced_monitoring")


def recommendation(inputs: pd.DataFrame, t: EvidenceThreshold) -> pd.Series:
    """The recommendation for each distinct combination of `INPUTS` and reason flags (rows
    where at least one reason holds)."""
    slip, serious = inputs["slip"], inputs["serious"]
    experience, recurrence, overclaim = (
        inputs["experience"],
        inputs["recurrence"],
        inputs["overclaim"],
    )
    as_of = inputs[AS_OF]
    slip_month = words.month_text(as_of, inputs[MONTHS_SINCE_LATEST_SLIP])
    action_day = words.date_text(as_of, inputs[DAYS_SINCE_ACTION_STARTED])
    claim_day = words.date_text(as_of, inputs[DAYS_SINCE_CLAIM])
    began = choose(
        [slip & (slip_month != ""), action_day != "", claim_day != ""],
        ["the slip in " + slip_month, action_day, claim_day],
        "this run",
    )
    months = triggers.required_consecutive_months(inputs, t)
    medium = inputs[SEVERITY].astype("str").isin(t.medium_term_severities)
    ends = words.listed(
        [
            (
                pd.Series(True, index=inputs.index),
                words.number_text(months, 0) + " months in a row at the standard in every team",
            ),
            (
                slip,
                f"{t.slip_memory_months} months at the standard since the latest slip (two "
                "senior review cycles)",
            ),
            (
                serious | recurrence | medium,
                f"no moderate-or-worse incident on the theme for {t.medium_term_incident_days} "
                "days",
            ),
            (experience, "people's feedback on the theme positive and complaints stopped"),
            (overclaim, "evidence that meets the threshold leaders claim"),
        ],
        inputs.index,
    )
    age = words.number_text(inputs[DAYS_SINCE_IDENTIFIED] / (365.25 / 12), 0)
    recurred = inputs[SERIOUS_THEME_INCIDENTS_365D_COUNT]
    relevance = (
        "original concern identified "
        + age
        + " months ago, "
        + choose(
            [recurred.isna()],
            ["no incident records to show whether it recurred"],
            plural(recurred, "moderate-or-worse incident", "moderate-or-worse incidents")
            + " on its theme in the last 12 months",
        )
    )
    return "recommended since " + began + ", until: " + ends + " (" + relevance + ")"
