"""Putting one improvement's answers side by side: probability, band, stage, claim, cross-check.

`assemble_scores` joins what the model, the rules and the cross-check said about each
improvement into the `scores` table that quality teams read (docs/interfaces.md). It reads no
free text: the only words in it are the rules' and the model's own.
"""

from __future__ import annotations

import pandas as pd

from contracts.tables import SCORES, conform
from features.columns import AS_OF, IMPROVEMENT_ID
from models.ga2m import MODEL_FEATURES

PROBABILITY_DECIMALS = 6


def predict_hold(model, features: pd.DataFrame) -> pd.DataFrame:
    """The model's answer for each feature row, as the nightly run gives it: improvement_id,
    as_of, p_hold, p_hold_low, p_hold_high. `model` is a fitted `BandedHoldModel`; it reads
    only the evidence features (`models.ga2m.MODEL_FEATURES`), never a claim."""
    X = features[list(MODEL_FEATURES)]
    band = model.band(X)
    return features[[IMPROVEMENT_ID, AS_OF]].assign(
        p_hold=model.predict_proba(X)[:, 1],
        p_hold_low=band["p_hold_low"].to_numpy(),
        p_hold_high=band["p_hold_high"].to_numpy(),
    )


def assemble_scores(
    features: pd.DataFrame,
    predictions: pd.DataFrame,
    stages: pd.DataFrame,
    claims: pd.Series,
    triggers: pd.DataFrame,
    cross: pd.DataFrame,
    cadence: pd.DataFrame,
    services: pd.DataFrame,
    model_version: str,
    words: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """One row per improvement scored, sorted by improvement_id, with the columns of
    `contracts.tables.SCORES`.

    `predictions`: improvement_id, as_of, p_hold, p_hold_low, p_hold_high, top_factors;
    `stages` from models.rules.classify_stages; `claims` aligned to `stages`; `triggers` from
    models.rules.escalation_triggers; `cross`: improvement_id, as_of, cross_check,
    cross_check_sentence; `cadence` from models.rules.review_cadence; `words`: improvement_id,
    as_of, teams_at_standard, teams_below_standard, claim_reason, enhanced_monitoring,
    monitoring_ended_on (without it those columns are empty).
    """
    keys = [IMPROVEMENT_ID, AS_OF]
    context = features[
        [
            *keys,
            "location_id",
            "theme",
            "key_question",
            "severity",
            "declared_status",
            "latest_review_classification",
        ]
    ]
    scores = (
        context.merge(predictions, on=keys, how="left", validate="one_to_one")
        .merge(
            stages[[*keys, "stage", "stage_reasons", "stable_reasons", "fragile_reasons"]].assign(
                claim_check=claims.to_numpy()
            ),
            on=keys,
            how="left",
            validate="one_to_one",
        )
        .merge(
            triggers[[*keys, "triggers", "escalations", "trigger_reasons"]],
            on=keys,
            how="left",
            validate="one_to_one",
        )
        .merge(_words(features, words), on=keys, how="left", validate="one_to_one")
        .merge(
            cross[[*keys, "cross_check", "cross_check_sentence"]],
            on=keys,
            how="left",
            validate="one_to_one",
        )
        .merge(cadence, on=IMPROVEMENT_ID, how="left", validate="many_to_one")
        .merge(
            services[["location_id", "provider_id"]],
            on="location_id",
            how="left",
            validate="many_to_one",
        )
        .assign(model_version=str(model_version))
    )
    probabilities = ["p_hold", "p_hold_low", "p_hold_high"]
    scores[probabilities] = scores[probabilities].round(PROBABILITY_DECIMALS)
    for column in (
        "theme",
        "key_question",
        "severity",
        "declared_status",
        "latest_review_classification",
    ):
        scores[column] = scores[column].astype("str")
    ordered = scores.sort_values(keys, kind="mergesort").reset_index(drop=True)
    return conform(ordered, SCORES)


WORD_COLUMNS = (
    "teams_at_standard",
    "teams_below_standard",
    "claim_reason",
    "enhanced_monitoring",
    "monitoring_ended_on",
)


def _words(features: pd.DataFrame, words: pd.DataFrame | None) -> pd.DataFrame:
    keys = [IMPROVEMENT_ID, AS_OF]
    if words is not None:
        return words[[*keys, *WORD_COLUMNS]]
    empty = {c: "" for c in WORD_COLUMNS if c != "monitoring_ended_on"}
    return features[keys].assign(**empty, monitoring_ended_on=pd.NaT)
