"""Context features: what the improvement is, where, and what leaders say about it as of t.

The improvements file holds only the current declared status; it is used as of `t` only when
declared_on <= t (an earlier declaration that was later replaced is not in the export).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from features.evidence import AsOfView
from features.panels import text

NONE = "none"


def context_features(view: AsOfView) -> dict[str, np.ndarray]:
    """Every context feature (features.columns), one value per improvement."""
    evidence = view.evidence
    improvements = evidence.improvements
    declared = text(improvements["declared_status"]) if "declared_status" in improvements else None
    declared_by_now = evidence.declared_day <= view.day
    return {
        "severity": text(improvements["severity"]),
        "origin": text(improvements["origin"]),
        "theme": text(improvements["theme"]),
        "key_question": text(improvements["key_question"]),
        "service_type": evidence.service_type,
        "standard": evidence.standard,
        "declared_status": (
            np.where(declared_by_now & pd.notna(declared), declared, NONE)
            if declared is not None
            else np.full(len(improvements), NONE)
        ),
        "latest_review_classification": latest_review_classification(view),
        "days_since_claim": np.where(declared_by_now, view.day - evidence.declared_day, np.nan),
    }


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
