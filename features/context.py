"""Context features: what the improvement is and where; and the claims as they stood at t.

The claims (the claim in force, the latest review's classification) are columns of the
feature frame for the rules' claim check and the report, never model inputs
(`features.columns.CLAIM_COLUMNS`). The claim in force is the contract's (features.history).
"""

from __future__ import annotations

import numpy as np

from contracts.export import NO_CLAIM_YET
from features.evidence import AsOfView
from features.history import (
    claim_days_from_history,
    claims_from_history,
    claims_from_improvements,
)
from features.panels import text

NONE = NO_CLAIM_YET


def context_features(view: AsOfView) -> dict[str, np.ndarray]:
    """Every context feature (features.columns), one value per improvement."""
    evidence = view.evidence
    improvements = evidence.improvements
    return {
        "severity": text(improvements["severity"]),
        "origin": text(improvements["origin"]),
        "theme": text(improvements["theme"]),
        "key_question": text(improvements["key_question"]),
        "service_type": evidence.service_type,
        "standard": evidence.standard,
        "declared_status": claim_in_force(view),
        "latest_review_classification": latest_review_classification(view),
        "days_since_claim": view.day - claim_day_in_force(view),
    }


def claim_in_force(view: AsOfView) -> np.ndarray:
    """The claim in force at t: from the declarations history when there is one, else from
    improvements.declared_status ('unknown' before its declared_on)."""
    evidence = view.evidence
    if evidence.declarations is not None:
        return claims_from_history(evidence.declarations, len(evidence.improvements), view.day)
    improvements = evidence.improvements
    if "declared_status" not in improvements:
        return np.full(len(improvements), NONE, dtype=object)
    return claims_from_improvements(
        text(improvements["declared_status"]), evidence.declared_day, view.day
    )


def claim_day_in_force(view: AsOfView) -> np.ndarray:
    """The day the claim in force at t was declared (from the declarations history when there is
    one, else improvements.declared_on); NaN when nothing was declared by t."""
    evidence = view.evidence
    if evidence.declarations is not None:
        return claim_days_from_history(evidence.declarations, len(evidence.improvements), view.day)
    declared = evidence.declared_day.astype("float64")
    return np.where(declared <= view.day, declared, np.nan)


def latest_review_classification(view: AsOfView) -> np.ndarray:
    """Classification of the latest review dated on or before t ('none' without one); on a day
    with several reviews, the most senior level's (then the greatest review_id)."""
    count = len(view.evidence.improvements)
    out = np.full(count, NONE, dtype=object)
    if view.evidence.reviews is None:
        return out
    rows = view.evidence.reviews.window(-np.inf, view.day)
    # Rows are sorted by day, level, review_id: the last row of each improvement is its latest.
    latest = rows.drop_duplicates("improvement", keep="last")
    out[latest["improvement"].to_numpy()] = latest["classification"].to_numpy()
    return out
