"""SPC features: the XmR chart (features.spc, NHS "Making Data Count") of monthly compliance.

At as-of date `t`, each improvement's chart holds its months since the action month that have
a compliance value, up to the month of `t` (that month from checks dated on or before `t`);
the limits come from those points only, so the chart is point-in-time. Higher compliance is
an improvement. With fewer than `spc_min_points` points every SPC feature is NaN.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from contracts.params import FeatureParams
from features.evidence import AsOfView
from features.panels import group_sum
from features.spc import xmr_by_group


def spc_features(view: AsOfView, params: FeatureParams) -> dict[str, np.ndarray]:
    """Every SPC feature (features.columns), one value per improvement."""
    count = len(view.evidence.improvements)
    chart = compliance_chart(view)
    improvement = chart["improvement"].to_numpy()
    points = np.bincount(improvement, minlength=count)[:count]
    enough = points >= params.spc_min_points

    def flag(values: np.ndarray) -> np.ndarray:
        return np.where(enough, (values > 0).astype("float64"), np.nan)

    from_end = points[improvement] - chart["point"].to_numpy()  # 1 = latest point
    concern = (chart["point_type"] == "special_cause_concern").to_numpy()
    improving = (chart["point_type"] == "special_cause_improvement").to_numpy()
    lower, upper = latest_limits(chart, count)
    standard = view.evidence.standard
    return {
        "spc_special_cause_concern_latest_flag": flag(
            group_sum(improvement, concern & (from_end <= params.spc_recent_points), count)
        ),
        "spc_improvement_signal_since_action_flag": flag(group_sum(improvement, improving, count)),
        "spc_assurance_pass_flag": flag(lower > standard),
        "spc_assurance_fail_flag": flag(upper < standard),
    }


def compliance_chart(view: AsOfView) -> pd.DataFrame:
    """XmR chart rows: improvement, point (1-based order since action), compliance, limits."""
    rows, columns = np.nonzero(view.since_action & (view.sampled > 0))
    series = pd.DataFrame(
        {"improvement": rows, "column": columns, "compliance": view.compliance[rows, columns]}
    )
    if series.empty:
        return series.assign(point=0, point_type="", mean=0.0, lpl=0.0, upl=0.0)
    chart = xmr_by_group(series, group="improvement", value="compliance", order="column")
    point = series.groupby("improvement").cumcount().to_numpy() + 1
    return series.assign(
        point=point,
        point_type=chart["point_type"].to_numpy(),
        mean=chart["mean"].to_numpy(),
        lpl=chart["lpl"].to_numpy(),
        upl=chart["upl"].to_numpy(),
    )


def latest_limits(chart: pd.DataFrame, count: int) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper process limits per improvement (NaN without a chart).

    When every moving range is zero the XmR limits are undefined (NaN); the process then has
    no variation, so both limits are its mean.
    """
    lower, upper = np.full(count, np.nan), np.full(count, np.nan)
    improvement = chart["improvement"].to_numpy()
    lower[improvement] = chart["lpl"].fillna(chart["mean"]).to_numpy()
    upper[improvement] = chart["upl"].fillna(chart["mean"]).to_numpy()
    return lower, upper
