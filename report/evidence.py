"""Per-improvement evidence for the report: SPC points, top factors and timelines.

All of it is computed for every improvement at once (vectorised), then handed out per
improvement by the page builder.
"""

from __future__ import annotations

import pandas as pd

from features.spc import xmr_by_group

TOP_FACTORS_EACH_WAY = 3


def spc_points(monthly: pd.DataFrame) -> pd.DataFrame:
    """XmR chart points of every improvement's monthly compliance (higher is better).

    Columns: improvement_id, month, standard, then features.spc's y, mean, lpl, upl and
    point_type; sorted by improvement and month. Months without a compliance value are left
    out (they have no point on the chart).
    """
    present = monthly.dropna(subset=["compliance"]).sort_values(["improvement_id", "month"])
    present = present.reset_index(drop=True)
    if present.empty:
        return present.assign(y=[], mean=[], lpl=[], upl=[], point_type=[])
    chart = xmr_by_group(
        present,
        group="improvement_id",
        value="compliance",
        order="month",
        improvement_direction="increase",
    )
    return pd.concat(
        [
            present[["improvement_id", "month", "standard"]],
            chart[["y", "mean", "lpl", "upl", "point_type"]],
        ],
        axis=1,
    )


def top_factors(contributions: pd.DataFrame, each_way: int = TOP_FACTORS_EACH_WAY) -> pd.DataFrame:
    """The `each_way` terms raising and lowering each improvement's log-odds the most.

    Rows: improvement_id, term, value, contribution, direction ("raises" or "lowers"); per
    improvement the raising terms first (largest first), then the lowering ones (largest
    first). A zero contribution neither raises nor lowers and is left out.
    """
    signed = contributions.dropna(subset=["contribution"])
    signed = signed[signed["contribution"] != 0].assign(
        direction=lambda f: f["contribution"].gt(0).map({True: "raises", False: "lowers"}),
        size=lambda f: f["contribution"].abs(),
    )
    ordered = signed.sort_values(
        ["improvement_id", "direction", "size"], ascending=[True, False, False], kind="stable"
    )
    place = ordered.groupby(["improvement_id", "direction"]).cumcount()
    kept = ordered[place < each_way]
    return kept[["improvement_id", "term", "value", "contribution", "direction"]].reset_index(
        drop=True
    )


def timelines(timeline: pd.DataFrame) -> pd.DataFrame:
    """Timeline events in date order per improvement (identified, action, reviews, declared)."""
    order = {"identified": 0, "action_started": 1, "review": 2, "declared": 3}
    return (
        timeline.assign(
            _order=timeline["event"].map(order).fillna(9), date=pd.to_datetime(timeline["date"])
        )
        .sort_values(["improvement_id", "date", "_order"], kind="stable")
        .drop(columns="_order")
        .reset_index(drop=True)
    )
