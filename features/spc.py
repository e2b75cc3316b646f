"""XmR statistical process control, with the semantics of NHSRplotthedots v0.2.2.

NHS England's "Making Data Count" (MDC) reads a monthly series on an XmR chart: the mean, and
process limits at mean +/- 2.66 x the mean moving range. A point is a *special cause* when it
breaks one of four rules, checked in this order (the first that applies names the point):

1. it lies outside the process limits (strictly above the upper or below the lower limit);
2. it is part of a run of 7 points each strictly higher (or each strictly lower) than the one
   before (6 consecutive rises or falls; a tie breaks the run);
3. it lies between the near limit (2/3 of the way from the mean to the limit) and the limit,
   inside a window of 3 consecutive points of which at least 2 are so close to the limits and
   all 3 are strictly on the same side of the mean;
4. it is part of a run of 7 points all strictly on the same side of the mean (a point exactly
   on the mean breaks the run).

Every point of a qualifying run or window is flagged, not only the point that completes it.
The semantics follow the R package NHSRplotthedots v0.2.2 (`ptd_spc_standard`,
`ptd_calculate_point_type`, `ptd_calculate_assurance_type`, `ptd_get_icons`), including
its particular choices:

- moving-range screening (on by default): moving ranges not strictly below 3.267 x the mean
  moving range are left out of the mean moving range (Nelson 1982). When every moving range of
  a group is zero, all of them are screened out and the limits are NaN;
- rebasing starts a new group: mean, limits and moving ranges are computed per group, the
  moving range never crosses a rebase, and no rule's run or window crosses one either;
- `fix_after_n_points=n` computes mean and limits from the first n points of each group
  (counting points with a missing value) and holds them for the rest of the group;
- the direction of a trend point is that of its step to the next point when the next point is
  also part of a trend, else that of its step from the previous point; so a point shared by a
  rising and a falling trend, or followed by a tie that starts another trend, is "Decreasing";
- missing values (NaN) are left out of the mean and the moving ranges, their own
  `outside_limits`, `relative_to_mean` and `close_to_limits` are missing, and they are never
  flagged. Where the package stops with an R error (a missing value inside a 7-point window
  whose other steps all rise, or all fall), a missing value here simply breaks the trend.

Numbers agree with the package to floating-point rounding, with one deliberate difference: a
point equal to the mean up to rounding (within 1e-9 of the series' magnitude) is on the mean.
R accumulates means in extended precision, so there a point that lies on the mean only up to
the last bit may fall on either side, and a steady series (seven months at exactly 95%) can
read as a run below its own mean: a special cause of concern that is not there.

`xmr` charts one series (with optional dates, rebasing and fixed limits); `xmr_by_group` charts
many series at once with array operations (no per-group Python loop) and gives, per group, the
same result as `xmr`. `variation_icon` and `assurance` name the MDC icons of a charted series.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

logger = logging.getLogger(__name__)

LIMIT_SIGMAS = (
    2.66  # 3 / d2 with d2 = 1.128: the XmR constant for limits from the mean moving range
)
NEAR_LIMIT_SIGMAS = 2 * (LIMIT_SIGMAS / 3)  # computed as the package does, to match its rounding
MOVING_RANGE_SCREEN = 3.267  # D4 for n = 2: the upper limit of the moving-range chart
RUN_POINTS = 7  # points in a trend or a shift
WINDOW_POINTS = 3  # points in the "2 of 3 close to the limits" window
# Relative to the largest magnitude in the series: differences this small are rounding.
ON_MEAN_TOLERANCE = 1e-9

IMPROVEMENT_DIRECTIONS = {"increase": 1, "decrease": -1, "neutral": 0}

COMMON_CAUSE_TYPE = "Common Cause"
# The package's labels, each with the side it signals (+1 high, -1 low).
SPECIAL_CAUSE_TYPES: tuple[tuple[str, int], ...] = (
    (COMMON_CAUSE_TYPE, 0),
    ("Above UCL", 1),
    ("Below LCL", -1),
    ("7 Point Trend (Increasing)", 1),
    ("7 Point Trend (Decreasing)", -1),
    ("2 in 3 Above CL", 1),
    ("2 in 3 Below CL", -1),
    ("7 Points Above CL", 1),
    ("7 Points Below CL", -1),
)
POINT_TYPES = (
    "common_cause",
    "special_cause_improvement",
    "special_cause_concern",
    "special_cause_neutral_high",
    "special_cause_neutral_low",
)
VARIATION_ICONS = (
    "common_cause",
    "improvement_high",
    "improvement_low",
    "concern_high",
    "concern_low",
    "neutral_high",
    "neutral_low",
)
ASSURANCE_ICONS = ("consistent_pass", "consistent_fail", "inconsistent")

COLUMNS = (
    "y",
    "rebase_group",
    "mean",
    "lpl",
    "upl",
    "outside_limits",
    "relative_to_mean",
    "close_to_limits",
    "special_cause_type",
    "point_type",
)


# --- public API -----------------------------------------------------------------------------


def xmr(
    values: Any,
    *,
    dates: Any = None,
    improvement_direction: str = "increase",
    target: float | None = None,
    rebase: Sequence[Any] | None = None,
    screen_outliers: bool = True,
    fix_after_n_points: int | None = None,
) -> pd.DataFrame:
    """The XmR chart of one series: one row per point, in input order.

    `values` are the measurements (NaN allowed); `dates`, when given, are paired with them by
    position, order the points (the package sorts by date) and must be unique; without them
    the input order is the time order.
    `rebase` lists the points that start a new group: dates matched against `dates` (a date that
    is not in `dates` has no effect, as in the package), or 0-based positions when `dates` is
    None. `fix_after_n_points` fixes each group's mean and limits to its first n points.

    Columns: `y`; `x` (the dates, when given); `rebase_group` (0 for the first group, +1 at
    each rebase point); `mean`, `lpl`, `upl` (the group's mean and lower/upper process limits,
    in the unit of `values`); `outside_limits` and `close_to_limits` (nullable booleans,
    missing where `y` or the limits are missing); `relative_to_mean` (sign of y - mean: 1, 0,
    -1 or NaN); `special_cause_type` (the package's label of the first rule that applies, e.g.
    "7 Point Trend (Increasing)", else "Common Cause"); `point_type` (`common_cause`,
    `special_cause_improvement`, `special_cause_concern`, or with a neutral direction
    `special_cause_neutral_high` / `_low`); `target` when a target is given.
    """
    direction = _direction_sign(improvement_direction)
    y = _as_float_array(values)
    index = values.index if isinstance(values, pd.Series) else pd.RangeIndex(len(y))
    order, x = _time_order(dates, len(y))
    starts_group = _rebase_flags(rebase, x, order, len(y))
    sorted_group = np.cumsum(starts_group)
    chart = _chart_columns(
        y[order], sorted_group, direction, screen_outliers, _fix_count(fix_after_n_points)
    )
    chart["rebase_group"] = sorted_group
    frame = _unsort(chart, order, index)
    if x is not None:
        frame.insert(1, "x", x.array)
    if target is not None:
        frame["target"] = float(target)
    return frame


def xmr_by_group(
    frame: pd.DataFrame,
    *,
    group: str | list[str],
    value: str,
    order: str,
    improvement_direction: str = "increase",
    screen_outliers: bool = True,
) -> pd.DataFrame:
    """XmR charts of many series at once, one per `group`, each point ordered by `order`.

    Gives, for every group, what `xmr(values, dates=order values)` gives for that group alone
    (no rebasing, no fixed limits: `rebase_group` is 0). The result has the columns of `xmr`
    without `x`, aligned to `frame`'s index. `(group, order)` must be unique and `order` must
    have no missing value; a missing group key forms a group of its own.
    """
    direction = _direction_sign(improvement_direction)
    keys = [group] if isinstance(group, str) else list(group)
    if frame[order].isna().any():
        raise ValueError(f"xmr_by_group: column {order!r} has missing values")
    codes = frame.groupby(keys, sort=False, dropna=False, observed=True).ngroup().to_numpy()
    times = _sort_keys(frame[order])
    positions = np.lexsort((times, codes))
    sorted_codes, sorted_times = codes[positions], times[positions]
    if ((sorted_codes[1:] == sorted_codes[:-1]) & (sorted_times[1:] == sorted_times[:-1])).any():
        raise ValueError(f"xmr_by_group: duplicate {order!r} within a group of {keys}")
    y = _as_float_array(frame[value])
    chart = _chart_columns(y[positions], sorted_codes, direction, screen_outliers, None)
    chart["rebase_group"] = np.zeros(len(y), dtype="int64")
    logger.debug("charted %d series of %d points in all", codes.max(initial=-1) + 1, len(y))
    return _unsort(chart, positions, frame.index)


def variation_icon(frame: pd.DataFrame, improvement_direction: str) -> str:
    """The MDC variation icon of a charted series, named as the package names its icon files.

    The package reads the point type of the latest point (the latest date `x`, else the last
    row): `common_cause`; `improvement_high` / `improvement_low` and `concern_high` /
    `concern_low` (high or low by the improvement direction: with "increase", improvement is
    high and concern is low); `neutral_high` / `neutral_low` for a neutral direction.
    """
    _direction_sign(improvement_direction)
    point_type = _latest_row(frame)["point_type"]
    increasing = improvement_direction == "increase"
    icons = {
        "common_cause": "common_cause",
        "special_cause_neutral_high": "neutral_high",
        "special_cause_neutral_low": "neutral_low",
        "special_cause_concern": "concern_low" if increasing else "concern_high",
        "special_cause_improvement": "improvement_high" if increasing else "improvement_low",
    }
    return icons[point_type]


def assurance(frame: pd.DataFrame, target: float | None, improvement_direction: str) -> str | None:
    """The MDC assurance icon: will the process consistently meet `target`?

    Read from the latest point's limits (so, after a rebase, the latest group's):
    `consistent_fail` when the target is strictly beyond the limits on the improvement side
    (above `upl` when improvement is an increase), `consistent_pass` when it is strictly
    beyond them on the other side, else `inconsistent` (also when the target or the limits are
    NaN). None (the package's NA) when there is no target or the direction is neutral.
    """
    direction = _direction_sign(improvement_direction)
    latest = _latest_row(frame)
    if target is None or direction == 0:
        return None
    above_upper, below_lower = target > latest["upl"], target < latest["lpl"]
    if above_upper:
        return "consistent_fail" if direction > 0 else "consistent_pass"
    if below_lower:
        return "consistent_pass" if direction > 0 else "consistent_fail"
    return "inconsistent"


# --- input handling -------------------------------------------------------------------------


def _direction_sign(improvement_direction: str) -> int:
    """+1 when improvement is an increase, -1 a decrease, 0 neutral (the package's integers)."""
    if improvement_direction not in IMPROVEMENT_DIRECTIONS:
        raise ValueError(
            f"improvement_direction must be one of {sorted(IMPROVEMENT_DIRECTIONS)}, "
            f"not {improvement_direction!r}"
        )
    return IMPROVEMENT_DIRECTIONS[improvement_direction]


def _as_float_array(values: Any) -> np.ndarray:
    """Values as a new float64 array, missing values (None, pd.NA, NaN) as NaN."""
    series = values if isinstance(values, pd.Series) else pd.Series(list(values), dtype=object)
    if not pd.api.types.is_numeric_dtype(series.dtype):
        series = pd.to_numeric(series.astype(object).where(series.notna(), np.nan))
    return series.to_numpy(dtype="float64", na_value=np.nan, copy=True)


def _sort_keys(column: pd.Series) -> np.ndarray:
    """An array that sorts as `column` does: its own values when numeric or dates, else ranks."""
    values = column.to_numpy()
    if values.dtype.kind in "iufmM":
        return values
    return pd.factorize(column, sort=True)[0]


def _fix_count(fix_after_n_points: int | None) -> int | None:
    """The validated number of points that fix the limits, or None for no fixing."""
    if fix_after_n_points is None:
        return None
    if int(fix_after_n_points) != fix_after_n_points or fix_after_n_points < 1:
        raise ValueError(
            f"fix_after_n_points must be a positive integer, not {fix_after_n_points!r}"
        )
    return int(fix_after_n_points)


def _time_order(dates: Any, n: int) -> tuple[np.ndarray, pd.Series | None]:
    """Positions of the points in time order (stable), and the dates as a Series (or None)."""
    if dates is None:
        return np.arange(n), None
    x = pd.Series(dates).reset_index(drop=True)
    if len(x) != n:
        raise ValueError(f"dates has {len(x)} entries for {n} values")
    if x.isna().any():
        raise ValueError("dates has missing values")
    if x.duplicated().any():
        raise ValueError("duplicate dates: each point needs its own date")
    return x.sort_values(kind="stable").index.to_numpy(), x


def _rebase_flags(
    rebase: Sequence[Any] | None, x: pd.Series | None, order: np.ndarray, n: int
) -> np.ndarray:
    """1 for each point (in time order) that starts a new group, else 0."""
    flags = np.zeros(n, dtype="int64")
    if rebase is None or len(rebase) == 0:
        return flags
    if x is not None:
        flags[x.isin(pd.Series(list(rebase), dtype=x.dtype)).to_numpy()] = 1
    else:
        positions = np.asarray(rebase, dtype="int64")
        if ((positions < 0) | (positions >= n)).any():
            raise ValueError("rebase positions must lie in 0 .. len(values) - 1")
        flags[positions] = 1
    return flags[order]


def _unsort(chart: dict[str, np.ndarray], positions: np.ndarray, index: pd.Index) -> pd.DataFrame:
    """The chart columns (computed in sorted order) put back at their input positions."""
    restored = {}
    for name in COLUMNS:
        restored[name] = np.empty_like(chart[name])
        restored[name][positions] = chart[name]
    special_dtype, point_dtype = _category_dtypes()
    columns = {
        **restored,
        "outside_limits": _nullable_bool(restored["outside_limits"]),
        "close_to_limits": _nullable_bool(restored["close_to_limits"]),
        "special_cause_type": pd.Categorical.from_codes(
            restored["special_cause_type"], dtype=special_dtype, validate=False
        ),
        "point_type": pd.Categorical.from_codes(
            restored["point_type"], dtype=point_dtype, validate=False
        ),
    }
    return pd.DataFrame(columns, index=index, columns=list(COLUMNS))


@functools.cache
def _category_dtypes() -> tuple[pd.CategoricalDtype, pd.CategoricalDtype]:
    """The dtypes of `special_cause_type` and `point_type`: every label, in a fixed order."""
    return (
        pd.CategoricalDtype([label for label, _ in SPECIAL_CAUSE_TYPES]),
        pd.CategoricalDtype(list(POINT_TYPES)),
    )


def _nullable_bool(codes: np.ndarray) -> pd.arrays.BooleanArray:
    """A nullable boolean array from codes 1 (True), 0 (False), -1 (missing)."""
    return pd.arrays.BooleanArray(codes == 1, codes < 0)


def _latest_row(frame: pd.DataFrame) -> pd.Series:
    """The row of the latest point: the latest `x` when the frame has dates, else the last row."""
    if frame.empty:
        raise ValueError("an empty chart has no latest point")
    if "x" in frame.columns:
        return frame.iloc[frame["x"].reset_index(drop=True).idxmax()]
    return frame.iloc[-1]


# --- the chart, on arrays sorted by group then time -------------------------------------------


def _chart_columns(
    y: np.ndarray,
    group: np.ndarray,
    direction: int,
    screen_outliers: bool,
    fix_count: int | None,
) -> dict[str, np.ndarray]:
    """Every chart column for `y`, sorted so that each group's points are contiguous, in time order.

    `group` labels the contiguous groups (any integers, equal within a group).
    """
    groups = _GroupLayout(group)
    mean, amr = _mean_and_mean_moving_range(y, groups, screen_outliers, fix_count)
    lpl, upl = mean - LIMIT_SIGMAS * amr, mean + LIMIT_SIGMAS * amr
    near_lower, near_upper = mean - NEAR_LIMIT_SIGMAS * amr, mean + NEAR_LIMIT_SIGMAS * amr
    missing = np.isnan(y) | np.isnan(upl)  # where the package's comparisons give NA
    outside = ~missing & ((y > upl) | (y < lpl))
    close = ~missing & ~outside & ((y < near_lower) | (y > near_upper))
    relative = _side_of_mean(y, mean, groups)
    special = _special_cause_codes(y, relative, outside, close, groups)
    return {
        "y": y,
        "mean": mean,
        "lpl": lpl,
        "upl": upl,
        "outside_limits": np.where(missing, -1, outside.astype("int8")),
        "relative_to_mean": relative,
        "close_to_limits": np.where(missing, -1, close.astype("int8")),
        "special_cause_type": special,
        "point_type": _point_type_codes(special, direction),
    }


def _side_of_mean(y: np.ndarray, mean: np.ndarray, groups: _GroupLayout) -> np.ndarray:
    """Sign of y - mean (1, 0, -1, NaN), a point equal to the mean up to rounding being on it.

    The mean of a steady series is not always the series' value in floating point (seven
    points of 0.95 average to 0.95 + 1.1e-16): a point within `ON_MEAN_TOLERANCE` of the
    group's largest magnitude from the mean lies on it, so a steady series never makes a run.
    """
    scale = np.zeros(groups.count)
    np.maximum.at(scale, groups.ids, np.nan_to_num(np.abs(y)))
    difference = y - mean
    on_mean = np.abs(difference) <= ON_MEAN_TOLERANCE * scale[groups.ids]
    return np.where(on_mean, 0.0, np.sign(difference))


class _GroupLayout:
    """Where each point sits in its group: start flags, position, and the group's last index."""

    def __init__(self, group: np.ndarray) -> None:
        n = len(group)
        index = np.arange(n)
        self.starts = np.ones(n, dtype=bool)
        self.starts[1:] = group[1:] != group[:-1]
        self.ids = np.cumsum(self.starts) - 1  # 0 .. number of groups - 1
        first = index[self.starts]
        self.position = index - first[self.ids]
        ends = np.append(first[1:], n) - 1
        self.last = ends[self.ids]
        self.count = len(first)

    def group_mean(self, values: np.ndarray) -> np.ndarray:
        """Per point, the mean of its group's non-NaN `values` (NaN when there are none)."""
        valid = ~np.isnan(values)
        total = np.bincount(self.ids[valid], weights=values[valid], minlength=self.count)
        count = np.bincount(self.ids[valid], minlength=self.count)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = total / count
        return mean[self.ids]

    def previous(self, values: np.ndarray, fill: float) -> np.ndarray:
        """Per point, the value of the point before it in its group (`fill` at a group start)."""
        shifted = np.empty_like(values)
        shifted[0:1] = fill
        shifted[1:] = values[:-1]
        return np.where(self.starts, fill, shifted)

    def next(self, values: np.ndarray, fill: Any) -> np.ndarray:
        """Per point, the value of the point after it in its group (`fill` at a group end)."""
        shifted = np.empty_like(values)
        shifted[:-1] = values[1:]
        shifted[-1:] = fill
        return np.where(np.arange(len(values)) == self.last, fill, shifted)

    def run_length(self, flags: np.ndarray) -> np.ndarray:
        """Per point, how many consecutive points of its group up to it have `flags` True."""
        index = np.arange(len(flags))
        breaks = np.where(~flags, index, -1)
        resets = np.where(self.starts, index - 1, -1)
        return index - np.maximum.accumulate(np.maximum(breaks, resets))

    def any_ahead(self, flags: np.ndarray, width: int) -> np.ndarray:
        """Per point, whether `flags` holds at it or any of the next width - 1 points of its group."""
        cumulative = np.concatenate([[0], np.cumsum(flags)])
        index = np.arange(len(flags))
        until = np.minimum(index + width - 1, self.last)
        return cumulative[until + 1] - cumulative[index] > 0


def _mean_and_mean_moving_range(
    y: np.ndarray, groups: _GroupLayout, screen_outliers: bool, fix_count: int | None
) -> tuple[np.ndarray, np.ndarray]:
    """Per point, its group's mean and mean moving range (screened), from the fixing points."""
    fixing = y if fix_count is None else np.where(groups.position < fix_count, y, np.nan)
    mean = groups.group_mean(fixing)
    moving_range = np.abs(fixing - groups.previous(fixing, np.nan))
    amr = groups.group_mean(moving_range)
    if screen_outliers:
        # Strictly below, as the package: with an all-zero moving range nothing is kept.
        kept = np.where(moving_range < MOVING_RANGE_SCREEN * amr, moving_range, np.nan)
        amr = groups.group_mean(kept)
    return mean, amr


def _special_cause_codes(
    y: np.ndarray,
    relative: np.ndarray,
    outside: np.ndarray,
    close: np.ndarray,
    groups: _GroupLayout,
) -> np.ndarray:
    """Per point, the index in SPECIAL_CAUSE_TYPES of the first rule that flags it."""
    trend = _part_of_trend(y, groups)
    two_in_three = _part_of_two_in_three(relative, close, groups)
    shift = _part_of_shift(relative, groups)
    high = relative > 0
    rising = _trend_direction(y, trend, groups) == 1
    code = {label: i for i, (label, _) in enumerate(SPECIAL_CAUSE_TYPES)}
    conditions = [outside, trend, two_in_three, shift]
    # Outside the limits the package tests relative_to_mean == 1, elsewhere > 0: for a point
    # outside the limits the two agree, since it cannot lie on the mean.
    choices = [
        np.where(high, code["Above UCL"], code["Below LCL"]),
        np.where(rising, code["7 Point Trend (Increasing)"], code["7 Point Trend (Decreasing)"]),
        np.where(high, code["2 in 3 Above CL"], code["2 in 3 Below CL"]),
        np.where(high, code["7 Points Above CL"], code["7 Points Below CL"]),
    ]
    return np.select(conditions, choices, default=code[COMMON_CAUSE_TYPE]).astype("int8")


def _part_of_trend(y: np.ndarray, groups: _GroupLayout) -> np.ndarray:
    """Whether a point belongs to 7 consecutive points each strictly above (or below) the last."""
    before = groups.previous(y, np.nan)
    rises = groups.run_length(y > before)  # NaN compares False: a missing value breaks a run
    falls = groups.run_length(y < before)
    completes = (rises >= RUN_POINTS - 1) | (falls >= RUN_POINTS - 1)
    return groups.any_ahead(completes, RUN_POINTS)


def _part_of_shift(relative: np.ndarray, groups: _GroupLayout) -> np.ndarray:
    """Whether a point belongs to 7 consecutive points strictly on one side of the mean."""
    above = groups.run_length(relative == 1)
    below = groups.run_length(relative == -1)
    completes = (above >= RUN_POINTS) | (below >= RUN_POINTS)
    return groups.any_ahead(completes, RUN_POINTS)


def _part_of_two_in_three(
    relative: np.ndarray, close: np.ndarray, groups: _GroupLayout
) -> np.ndarray:
    """Whether a point is close to the limits in a qualifying window of 3 consecutive points.

    A window qualifies when at least 2 of its 3 points are close to the limits and all 3 lie
    strictly on the same side of the mean; only its close points are flagged.
    """
    close_count, side_sum = close.astype("int64"), relative
    earlier_close, earlier_side = close_count, relative
    for _ in range(WINDOW_POINTS - 1):
        earlier_close = groups.previous(earlier_close, 0)
        earlier_side = groups.previous(earlier_side, np.nan)  # NaN before the group start
        close_count, side_sum = close_count + earlier_close, side_sum + earlier_side
    completes = (close_count >= 2) & (np.abs(side_sum) == WINDOW_POINTS)
    return close & groups.any_ahead(completes, WINDOW_POINTS)


def _trend_direction(y: np.ndarray, trend: np.ndarray, groups: _GroupLayout) -> np.ndarray:
    """Per point, the sign of the step the package reads a trend point's direction from.

    That is the step to the next point when the next point is also part of a trend, else the
    step from the previous point (0 at a group start): +1 a rise, -1 a fall, 0 a tie.
    """
    step_in = np.nan_to_num(np.sign(y - groups.previous(y, np.nan)))
    step_out = groups.next(step_in, 0.0)
    next_in_trend = groups.next(trend, False)
    return np.where(trend & next_in_trend, step_out, step_in)


def _point_type_codes(special: np.ndarray, direction: int) -> np.ndarray:
    """Per point, the index in POINT_TYPES: the special cause's side read against the direction."""
    code = {name: i for i, name in enumerate(POINT_TYPES)}
    side = np.array([s for _, s in SPECIAL_CAUSE_TYPES], dtype="int8")[special]
    if direction == 0:
        high, low = code["special_cause_neutral_high"], code["special_cause_neutral_low"]
    else:
        high, low = code["special_cause_improvement"], code["special_cause_concern"]
        side = side * direction  # +1 now means the improvement side
    return np.select([side > 0, side < 0], [high, low], default=code["common_cause"]).astype("int8")
