"""Trend features on monthly compliance: level, robust slopes and the first-cycle slip.

Slopes are Theil-Sen (the median of pairwise slopes, robust to one bad month), in share
points per month (compliance is a share in [0, 1], so 0.05 = five percentage points a month).
The SPC features of the same family live in features.spc_features.
"""

from __future__ import annotations

import numpy as np

from contracts.params import FeatureParams
from features.evidence import AsOfView
from features.series import last_columns, last_index, take, theil_sen_slopes


def trend_features(view: AsOfView, params: FeatureParams) -> dict[str, np.ndarray]:
    """Every non-SPC trend feature (features.columns), one value per improvement."""
    latest = compliance_latest(view)
    return {
        "compliance_latest": latest,
        "compliance_margin_latest": latest - view.evidence.standard,
        "compliance_slope_since_action_per_month": compliance_slope_since_action(view, params),
        "compliance_slope_3m_per_month": theil_sen_slopes(
            last_columns(view.compliance, params.slope_short_months), 2
        ),
        "compliance_slope_6m_per_month": theil_sen_slopes(
            last_columns(view.compliance, params.slope_long_months), 3
        ),
        "first_cycle_slip_flag": first_cycle_slip_flag(view, params),
    }


def compliance_latest(view: AsOfView) -> np.ndarray:
    """Compliance in the latest month with a value; NaN when there is none."""
    return take(view.compliance, last_index(view.sampled > 0))


def compliance_slope_since_action(view: AsOfView, params: FeatureParams) -> np.ndarray:
    """Theil-Sen slope over the months since action (at most the latest N); >= 3 values."""
    since_action = np.where(view.since_action, view.compliance, np.nan)
    return theil_sen_slopes(last_columns(since_action, params.slope_since_action_max_months), 3)


def first_cycle_slip_flag(view: AsOfView, params: FeatureParams) -> np.ndarray:
    """1 when the first month at standard since action was followed within N months by one
    below it, 0 when it was not (so far), NaN when no month since action met the standard."""
    at_standard = np.where(view.since_action, view.at_standard, np.nan)
    first_met = np.where(
        (at_standard == 1.0).any(axis=1), np.argmax(at_standard == 1.0, axis=1), -1
    )
    columns = np.arange(at_standard.shape[1])[None, :]
    following = (columns > first_met[:, None]) & (
        columns <= first_met[:, None] + params.first_cycle_months
    )
    slipped = ((at_standard == 0.0) & following).any(axis=1)
    return np.where(first_met >= 0, slipped.astype("float64"), np.nan)
