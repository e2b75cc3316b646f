"""Staff understanding: demonstrated competency, self-rated confidence, prompting.

Day windows are exact: (as_of - d days, as_of]. NaN when the window has no such check or the
optional column was not recorded.
"""

from __future__ import annotations

import numpy as np

from contracts.export import CHECK_SOURCES
from contracts.params import FeatureParams
from features.evidence import AsOfView
from features.panels import group_sum, ratio

COMPETENCY = CHECK_SOURCES.index("competency")
STAFF_PRACTICE = CHECK_SOURCES.index("staff_practice")


def staff_features(view: AsOfView, params: FeatureParams) -> dict[str, np.ndarray]:
    """Every staff-understanding feature (features.columns), one value per improvement."""
    pass_share = competency_pass_share(view, params.long_days)
    return {
        "competency_pass_share_180d": pass_share,
        "confidence_gap_points": confidence_gap_points(view, params.long_days, pass_share),
        "prompts_per_observation_90d": prompts_per_observation(view, params.recent_days),
        "self_rated_confidence_180d_mean": self_rated_confidence(view, params.long_days),
    }


def _source_sums(view: AsOfView, days: int, source: int, numerator: str, denominator: str):
    rows = view.checks_within(days)
    rows = rows[rows["source"] == source]
    improvement, count = rows["improvement"].to_numpy(), len(view.evidence.improvements)
    return (
        group_sum(improvement, rows[numerator].to_numpy(), count),
        group_sum(improvement, rows[denominator].to_numpy(), count),
    )


def competency_pass_share(view: AsOfView, days: int) -> np.ndarray:
    """met / sampled over competency checks in the window."""
    return ratio(*_source_sums(view, days, COMPETENCY, "met", "sampled"))


def self_rated_confidence(view: AsOfView, days: int) -> np.ndarray:
    """Mean self-rated confidence (1-5) of the competency checks rating it, in the window."""
    return ratio(*_source_sums(view, days, COMPETENCY, "confidence_sum", "confidence_checks"))


def confidence_gap_points(view: AsOfView, days: int, pass_share: np.ndarray) -> np.ndarray:
    """Mean self-rated confidence (1-5) minus (1 + 4 x competency pass share), same window."""
    return self_rated_confidence(view, days) - (1.0 + 4.0 * pass_share)


def prompts_per_observation(view: AsOfView, days: int) -> np.ndarray:
    """Mean prompts_needed per staff_practice check recording it, in the window."""
    return ratio(*_source_sums(view, days, STAFF_PRACTICE, "prompts_needed", "prompted_checks"))
