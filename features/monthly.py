"""Monthly compliance: the series both the label and the trend features are built on.

Spec step 1: for each calendar month, pool an improvement's checks whose source is audit,
care_records or staff_practice; compliance = sum of met / sum of sampled. A month with no such
check has no value (it is absent here, never a zero).
"""

from __future__ import annotations

import pandas as pd

from contracts.export import PRIMARY_CHECK_SOURCES
from features.panels import (
    DaySorted,
    MonthlyMatrices,
    check_days,
    month_first_days,
    month_numbers,
    monthly_matrices,
    numbers,
)


def monthly_compliance(
    checks: pd.DataFrame | None,
    improvements: pd.DataFrame,
    primary_sources: tuple[str, ...] = PRIMARY_CHECK_SOURCES,
    days: DaySorted | None = None,
    matrices: MonthlyMatrices | None = None,
) -> pd.DataFrame:
    """One row per improvement and calendar month that has a primary check.

    Columns: improvement_id, month (first day of the month), sampled and met (items, summed
    over the month's primary checks), compliance (met / sampled, a share in [0, 1]) and the
    improvement's standard. Sorted by improvement_id, month. Checks of improvements not in
    `improvements` are left out. `days`: `check_days` of these checks and improvements (in
    table order) with `primary_sources`, when the caller already has it (`checks` is then not
    read and may be None); `matrices`: its monthly matrices (`monthly_matrices`, any span of
    months covering the checks), likewise.
    """
    ids = pd.Index(improvements["improvement_id"].astype("str"))
    if days is None:
        days = check_days(checks, ids, primary_sources)
    if days.frame.empty or not days.frame["primary"].any():
        return _empty_monthly()
    if matrices is None:
        month = month_numbers(days.frame["day"].to_numpy())
        matrices = monthly_matrices(days, len(ids), int(month.min()), int(month.max()))
    first = matrices.first_month
    row, col = matrices.sampled.nonzero()
    frame = pd.DataFrame(
        {
            "improvement_id": ids[row],
            "month": month_first_days(col + first),
            "sampled": matrices.sampled[row, col].astype("int64"),
            "met": matrices.met[row, col].astype("int64"),
        }
    )
    standard = pd.Series(numbers(improvements["standard"]), index=ids)
    frame = frame.assign(
        compliance=frame["met"] / frame["sampled"],
        standard=standard.reindex(frame["improvement_id"]).to_numpy(),
    )
    return frame.sort_values(["improvement_id", "month"], ignore_index=True)


def _empty_monthly() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "improvement_id": pd.Series(dtype="str"),
            "month": pd.Series(dtype="datetime64[ns]"),
            "sampled": pd.Series(dtype="int64"),
            "met": pd.Series(dtype="int64"),
            "compliance": pd.Series(dtype="float64"),
            "standard": pd.Series(dtype="float64"),
        }
    )
