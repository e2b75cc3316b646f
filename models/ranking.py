"""Ranking services for oversight from their scored improvements.

A service's priority is the severity-weighted expected number of its improvements that will
slip over the horizon: sum over its improvements of weight(severity) x (1 - p_hold). The band
uses the same sum over each improvement's band ends (an upper bound on the spread, since the
ends are not jointly attained). Nothing here reads free text.

Without a model (a run of the rules alone, p_hold empty) the same sum takes, in place of each
improvement's p_hold, the share of improvements at its stage that held over the horizon
(`RankingParams.rules_hold_shares`, measured on simulated groups): the ranking is then the
rules' own, coarser by design, and has no band.
"""

from __future__ import annotations

import pandas as pd

from contracts.params import RankingParams
from contracts.tables import SERVICES, conform
from contracts.vocabulary import OVERCLAIM, STAGES


def rank_services(
    scores: pd.DataFrame, services: pd.DataFrame, params: RankingParams | None = None
) -> pd.DataFrame:
    """One row per service with a scored improvement, most in need of oversight first.

    `scores` needs location_id, improvement_id, theme, severity, p_hold, p_hold_low,
    p_hold_high, stage, claim_check, triggers; `services` needs location_id, provider_id, name.
    """
    params = params or RankingParams()
    weights = scores["severity"].astype("str").map(params.severity_weights).fillna(1.0)
    overclaim = (scores["claim_check"] == OVERCLAIM).astype(float)
    has_trigger = scores["triggers"].fillna("").astype("str").str.len() > 0
    frame = scores.assign(
        _expected=weights * (1 - hold_chance(scores, params)) + params.overclaim_weight * overclaim,
        _low=weights * (1 - scores["p_hold_high"]) + params.overclaim_weight * overclaim,
        _high=weights * (1 - scores["p_hold_low"]) + params.overclaim_weight * overclaim,
        _overclaim=overclaim.astype(int),
        _triggered=has_trigger.astype(int),
    )
    grouped = frame.groupby("location_id", observed=True, sort=True)
    ranked = pd.DataFrame(
        {
            "priority_score": grouped["_expected"].sum(),
            "priority_low": grouped["_low"].sum(min_count=1),  # no band without a model
            "priority_high": grouped["_high"].sum(min_count=1),
            "improvements": grouped["improvement_id"].count(),
            "overclaims": grouped["_overclaim"].sum(),
            "triggers": grouped["_triggered"].sum(),
        }
    )
    stage_counts = (
        pd.crosstab(frame["location_id"], frame["stage"])
        .reindex(columns=list(STAGES), fill_value=0)
        .add_prefix("n_")
    )
    ranked = ranked.join(stage_counts).fillna({f"n_{s}": 0 for s in STAGES})
    ranked = ranked.join(main_reasons(frame))
    ranked = ranked.reset_index().merge(
        services[["location_id", "provider_id", "name"]], on="location_id", how="left"
    )
    ranked = ranked.sort_values(
        ["priority_score", "location_id"], ascending=[False, True], kind="mergesort"
    ).reset_index(drop=True)
    ranked.insert(0, "rank", range(1, len(ranked) + 1))
    rounded = ranked.round({"priority_score": 3, "priority_low": 3, "priority_high": 3})
    return conform(rounded, SERVICES)


def hold_chance(scores: pd.DataFrame, params: RankingParams) -> pd.Series:
    """Each improvement's chance of holding: the model's p_hold, or where there is none (the
    rules alone), the share of improvements at its stage that held."""
    by_stage = scores["stage"].astype("str").map(params.rules_hold_shares).astype(float)
    return pd.to_numeric(scores["p_hold"]).astype(float).fillna(by_stage)


def main_reasons(frame: pd.DataFrame) -> pd.Series:
    """The single largest contributor to each service's priority, in words."""
    top = (
        frame.sort_values(
            ["location_id", "_expected", "improvement_id"],
            ascending=[True, False, True],
            kind="mergesort",
        )
        .drop_duplicates("location_id")
        .set_index("location_id")
    )
    stage = top["stage"].astype("str").str.replace("_", " ")
    chance = (
        " has a "
        + (pd.to_numeric(top["p_hold"]) * 100).round().astype("Int64").astype("str")
        + "% chance of holding ("
        + stage
        + ")"
    )
    words = (
        top["severity"].astype("str")
        + " "
        + top["theme"].astype("str").str.replace("_", " ")
        + " improvement "
        + top["improvement_id"].astype("str")
        + chance.where(top["p_hold"].notna(), " is " + stage + " by the rules")
    )
    overclaims = frame.groupby("location_id", observed=True)["_overclaim"].sum()
    suffix = overclaims.reindex(top.index).map(
        lambda n: f"; {n} over-claim{'s' if n != 1 else ''}" if n else ""
    )
    return (words + suffix).rename("main_reason")
