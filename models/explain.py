"""Plain-words explanations of the hold model: the factors that raise and lower each forecast.

A factor is a term of the model (a feature, or a named pair of features) together with the
row's value; its contribution is in log-odds relative to the average improvement in the
training data, so "raises" means "makes holding more likely than for a typical improvement".
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from models.ga2m import PAIR_SEPARATOR

# How an analyst would say a feature's value; `{v}` is the formatted value.
PHRASES: dict[str, str] = {
    "days_since_identified": "identified {v} days ago",
    "days_since_action_started": "action started {v} days ago",
    "review_cycles_since_action_count": "{v} months of compliance results since the action",
    "consecutive_months_at_standard_count": "{v} consecutive months at standard",
    "months_since_below_standard": "{v} months since last below standard",
    "evidence_span_days": "{v} days of check evidence",
    "compliance_latest": "latest compliance {v}",
    "compliance_margin_latest": "latest compliance {v} against the standard",
    "compliance_slope_since_action_per_month": "compliance trend since action {v} per month",
    "compliance_slope_3m_per_month": "3-month compliance trend {v} per month",
    "compliance_slope_6m_per_month": "6-month compliance trend {v} per month",
    "spc_special_cause_concern_latest_flag": "SPC concern in the latest months: {v}",
    "spc_improvement_signal_since_action_flag": "SPC improvement signal since action: {v}",
    "spc_assurance_pass_flag": "SPC limits wholly at standard: {v}",
    "spc_assurance_fail_flag": "SPC limits wholly below standard: {v}",
    "first_cycle_slip_flag": "slipped soon after first meeting the standard: {v}",
    "team_count": "{v} teams checked since action",
    "teams_checked_90d_count": "{v} teams checked in 90 days",
    "teams_meeting_standard_count": "{v} teams meeting the standard",
    "teams_meeting_standard_share": "{v} of teams meeting the standard",
    "met_items_top_team_share": "{v} of met items from one team",
    "evidence_categories_positive_90d_count": "{v} evidence categories positive in 90 days",
    "peoples_experience_positive_90d_flag": "people's feedback positive in 90 days: {v}",
    "source_agreement_share": "{v} of check sources agree",
    "repeat_gaps_share_90d": "{v} of failed items were repeat gaps",
    "theme_incidents_90d_count": "{v} theme incidents in 90 days",
    "theme_incidents_180d_count": "{v} theme incidents in 180 days",
    "serious_theme_incidents_90d_count": "{v} serious theme incidents in 90 days",
    "theme_incident_rate_change_per_month": "theme incidents per month changed by {v}",
    "slips_since_action_count": "{v} slips below standard since action",
    "competency_pass_share_180d": "{v} of competency checks passed",
    "confidence_gap_points": "staff confidence {v} points above demonstrated competency",
    "prompts_per_observation_90d": "{v} prompts per observation",
    "theme_sentiment_90d_mean": "people's feedback sentiment {v}",
    "theme_sentiment_change_90d": "feedback sentiment changed by {v}",
    "theme_complaints_90d_count": "{v} complaints on the theme in 90 days",
    "agency_shift_share_90d": "{v} of shifts by agency staff",
    "unfilled_shift_share_90d": "{v} of shifts unfilled",
    "agency_shift_share_change_90d": "agency share changed by {v}",
    "leavers_per_100_shifts_90d": "{v} leavers per 100 shifts",
    "workforce_feedback_mismatch_flag": "staffing improved but feedback did not: {v}",
    "severity": "severity {v}",
    "origin": "raised by {v}",
    "theme": "theme {v}",
    "key_question": "key question {v}",
    "service_type": "service type {v}",
    "standard": "standard of {v}",
    "declared_status": "leaders declare {v}",
    "latest_review_classification": "latest governance review: {v}",
}


def formatted_values(feature: str, values: pd.Series) -> pd.Series:
    """Values as an analyst reads them: shares in %, counts whole, flags yes/no."""
    if not pd.api.types.is_numeric_dtype(values):
        return values.astype("str").fillna("missing")
    numbers = pd.to_numeric(values).astype(float)
    if feature.endswith("_flag"):
        text = numbers.map({1.0: "yes", 0.0: "no"})
    elif feature.endswith("_share") or "_share_" in feature or feature in ("standard",):
        text = (100 * numbers).round(0).map("{:.0f}%".format)
    elif feature.endswith(("_count", "_days")) or feature.startswith("months_"):
        text = numbers.round(0).map("{:.0f}".format)
    else:
        text = numbers.map("{:.2g}".format)
    return text.where(numbers.notna(), None)


def phrases(feature: str, values: pd.Series) -> pd.Series:
    """Plain-words description of one feature at each value; missing evidence said so."""
    template = PHRASES.get(feature, feature.replace("_", " ") + " {v}")
    text = formatted_values(feature, values)
    described = text.map(lambda v: template.format(v=v), na_action="ignore")
    return described.fillna(f"no evidence for {feature.replace('_', ' ')}").astype("str")


def term_phrases(X: pd.DataFrame, terms: tuple[str, ...]) -> pd.DataFrame:
    """For each row and term, what the term says about the row (pairs: 'a, with b')."""
    single = {}
    for term in terms:
        parts = [phrases(f, X[f]) for f in term.split(PAIR_SEPARATOR)]
        single[term] = parts[0] if len(parts) == 1 else parts[0] + ", with " + parts[1]
    return pd.DataFrame(single, index=X.index)


def top_factors(model, X: pd.DataFrame, n: int = 3) -> pd.DataFrame:
    """The `n` largest contributions raising and lowering each row's probability of holding.

    Returns, indexed like X: top_factors (the largest `n` by size, each tagged '(raises)' or
    '(lowers)', joined by '; '), raising and lowering (each up to `n`, largest first).
    Contributions smaller than 0.01 log-odds are not factors.
    """
    contributions = model.explain(X)
    words = term_phrases(X, tuple(contributions.columns))
    long = (
        contributions.reset_index(drop=True)
        .rename_axis("row")
        .melt(ignore_index=False, var_name="term", value_name="contribution")
        .reset_index()
    )
    long["phrase"] = words.reset_index(drop=True).melt()["value"].to_numpy()
    long = long[long["contribution"].abs() >= 0.01]
    raising = _joined_largest(long[long["contribution"] > 0], n, "contribution", len(X))
    lowering = _joined_largest(
        long[long["contribution"] < 0].assign(contribution=lambda f: -f["contribution"]),
        n,
        "contribution",
        len(X),
    )
    tagged = long.assign(
        size=long["contribution"].abs(),
        phrase=long["phrase"]
        + np.where(long["contribution"] > 0, " (raises)", " (lowers)").astype(object),
    )
    overall = _joined_largest(tagged, n, "size", len(X))
    return pd.DataFrame(
        {"top_factors": overall, "raising": raising, "lowering": lowering}, index=X.index
    )


def _joined_largest(long: pd.DataFrame, n: int, by: str, n_rows: int) -> np.ndarray:
    """Per row, the phrases of the `n` largest values of `by`, joined by '; ' ('' if none)."""
    largest = long.sort_values(["row", by], ascending=[True, False]).groupby("row").head(n)
    joined = largest.groupby("row")["phrase"].agg("; ".join)
    return joined.reindex(range(n_rows), fill_value="").to_numpy(dtype=object)
