"""XmR charts with the semantics of NHSRplotthedots v0.2.2 (features.spc).

Hand-checkable cases for every rule at its run length and one short of it, precedence, screening,
rebasing and fixed limits, the icons, the package's own tests ported (each cites its source
file in nhs-r-community/NHSRplotthedots), and Hypothesis invariants against a literal,
loop-by-loop port of the package's R functions (`reference_chart` below).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from features.spc import (
    _GroupLayout,
    _part_of_shift,
    _part_of_trend,
    _part_of_two_in_three,
    assurance,
    variation_icon,
    xmr,
    xmr_by_group,
)

COMMON = "common_cause"
IMPROVEMENT = "special_cause_improvement"
CONCERN = "special_cause_concern"

# set.seed(123); rnorm(24) in R, the series behind the package's own tests and snapshots.
RNORM_123 = [
    -0.56047565, -0.23017749, 1.55870831, 0.07050839, 0.12928774, 1.71506499,
    0.46091621, -1.26506123, -0.68685285, -0.44566197, 1.22408180, 0.35981383,
    0.40077145, 0.11068272, -0.55584113, 1.78691314, 0.49785048, -1.96661716,
    0.70135590, -0.47279141, -1.06782371, -0.21797491, -1.02600445, -0.72889123,
]  # fmt: skip


def types(frame: pd.DataFrame) -> list[str]:
    return frame["special_cause_type"].astype(str).tolist()


def points(frame: pd.DataFrame) -> list[str]:
    return frame["point_type"].astype(str).tolist()


# --- limits --------------------------------------------------------------------------------


def test_limits_are_mean_plus_minus_2_66_mean_moving_ranges():
    # mean 2, moving ranges 1, 2, 3 (mean 2, none screened): limits 2 -/+ 2.66 * 2
    chart = xmr([1, 2, 4, 1])
    assert chart["mean"].tolist() == [2.0] * 4
    assert chart["lpl"].tolist() == pytest.approx([2 - 5.32] * 4)
    assert chart["upl"].tolist() == pytest.approx([2 + 5.32] * 4)
    assert chart["relative_to_mean"].tolist() == [-1.0, 0.0, 1.0, -1.0]
    assert list(chart.columns) == [
        "y", "rebase_group", "mean", "lpl", "upl", "outside_limits", "relative_to_mean",
        "close_to_limits", "special_cause_type", "point_type",
    ]  # fmt: skip


# The package's "deviations" vignette (vignettes/deviations.Rmd): screening on by default.
DEVIATIONS = [1, 2, 1, 2, 10, 1, 2, 1, 2, 1, 2, 1, 2, 1, 2, 1, 2, 1]


@pytest.mark.parametrize(
    ("screen", "mean_moving_range"),
    [
        # moving ranges: 1, 1, 1, 8, 9 and twelve 1s, mean 32/17; 8 and 9 are not below
        # 3.267 * 32/17 = 6.15, so screening leaves fifteen 1s: mean moving range 1
        (True, 1.0),
        (False, 32 / 17),
    ],
)
def test_screening_drops_large_moving_ranges_from_the_limits(screen, mean_moving_range):
    chart = xmr(DEVIATIONS, screen_outliers=screen)
    mean = 35 / 18
    assert chart["mean"].iloc[0] == pytest.approx(mean)
    assert chart["upl"].iloc[0] == pytest.approx(mean + 2.66 * mean_moving_range)
    assert chart["lpl"].iloc[0] == pytest.approx(mean - 2.66 * mean_moving_range)
    assert types(chart)[4] == "Above UCL"
    assert chart["outside_limits"].sum() == 1


def test_all_zero_moving_ranges_are_all_screened_out():
    # the screen keeps moving ranges strictly below 3.267 x their mean: none is below 0, so
    # the package's limits are NaN (missing) and no point can be outside them
    screened = xmr([5, 5, 5, 5])
    assert screened[["lpl", "upl"]].isna().all().all()
    assert screened["outside_limits"].isna().all() and screened["close_to_limits"].isna().all()
    assert points(screened) == [COMMON] * 4
    unscreened = xmr([5, 5, 5, 5], screen_outliers=False)
    assert unscreened["upl"].tolist() == [5.0] * 4 and unscreened["lpl"].tolist() == [5.0] * 4
    assert not unscreened["outside_limits"].any()


# --- the rules at their run length and one short of it ------------------------------------


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        # 7 rises in a row (mean 62/11, mean moving range 4.3: limits -5.8 .. 17.1)
        (
            [0, 10, 0, 10, 3, 4, 5, 6, 7, 8, 9],
            ["Common Cause"] * 4 + ["7 Point Trend (Increasing)"] * 7,
        ),
        # 6 points only
        ([0, 10, 0, 10, 3, 4, 5, 6, 7, 8], ["Common Cause"] * 10),
        # 7 points, but a tie (5, 5) breaks the run
        ([0, 10, 0, 10, 3, 4, 5, 5, 6, 7, 8], ["Common Cause"] * 11),
        # 7 falls in a row
        (
            [10, 0, 10, 0, 7, 6, 5, 4, 3, 2, 1],
            ["Common Cause"] * 4 + ["7 Point Trend (Decreasing)"] * 7,
        ),
    ],
)
def test_trend_needs_seven_points_each_strictly_beyond_the_last(values, expected):
    assert types(xmr(values)) == expected


def test_a_trend_crossing_the_mean_is_one_colour():
    # package issue #171: trend points below the mean are improvement too, not concern
    chart = xmr([0, 10, 0, 10, 3, 4, 5, 6, 7, 8, 9])
    assert chart["relative_to_mean"].tolist()[4:] == [-1, -1, -1, 1, 1, 1, 1]
    assert points(chart)[4:] == [IMPROVEMENT] * 7
    assert (
        points(xmr([0, 10, 0, 10, 3, 4, 5, 6, 7, 8, 9], improvement_direction="decrease"))[4:]
        == [CONCERN] * 7
    )


def test_a_peak_shared_by_two_trends_takes_the_direction_of_its_next_step():
    # mean 49/17; unscreened mean moving range 83/16: limits -10.9 .. 16.7, nothing outside;
    # +-10 are close to the limits but their windows straddle the mean. The rise starts at
    # the last -10; the peak 7 ends the rise and starts the fall: it reads as a fall
    values = [10, -10, 10, -10, 1, 2, 3, 4, 5, 6, 7, 6, 5, 4, 3, 2, 1]
    chart = xmr(values, screen_outliers=False)
    assert types(chart) == (
        ["Common Cause"] * 3
        + ["7 Point Trend (Increasing)"] * 7
        + ["7 Point Trend (Decreasing)"] * 7
    )
    assert points(chart)[10] == CONCERN


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        # mean 17/8, unscreened mean moving range 1: -4 is below the lower limit -0.535,
        # the seven 3s are above the mean and inside the near limit 3.898
        ([-4, 3, 3, 3, 3, 3, 3, 3], ["Below LCL"] + ["7 Points Above CL"] * 7),
        # six 3s only
        ([-4, 3, 3, 3, 3, 3, 3], ["Below LCL"] + ["Common Cause"] * 6),
        # the mean is exactly 16/8 = 2: the point on it breaks the run of seven
        ([-4, 3, 3, 3, 2, 3, 3, 3], ["Below LCL"] + ["Common Cause"] * 7),
    ],
)
def test_shift_needs_seven_points_strictly_on_one_side_of_the_mean(values, expected):
    assert types(xmr(values, screen_outliers=False)) == expected


ALTERNATING = [1, -1] * 7


@pytest.mark.parametrize(
    ("tail", "expected_tail"),
    [
        # mean 12/17, mean moving range 41.5/16: near limit 5.31, upper limit 7.6. Both 5.5s
        # are close, all three points above the mean: the close ones are flagged
        ([5.5, 1, 5.5], ["2 in 3 Above CL", "Common Cause", "2 in 3 Above CL"]),
        # one close point only (near limit 4.54, upper limit 6.59)
        ([5.5, 1, 1], ["Common Cause"] * 3),
        # two close points (near limit 5.86) but the middle one is below the mean
        ([6, -1, 6], ["Common Cause"] * 3),
    ],
)
def test_two_of_three_close_to_the_limits_on_one_side(tail, expected_tail):
    chart = xmr(ALTERNATING + tail)
    assert types(chart) == ["Common Cause"] * 14 + expected_tail


def test_two_of_three_on_opposite_sides_is_common_cause():
    # ported from tests/testthat/test-ptd_spc_standard.R ("only reports special cause for 2 of
    # 3 points close to limits when they are on the same side of the mean", issue #143)
    values = [1, -1] * 8
    values[14], values[15] = 5.5, -5.5
    chart = xmr(values, dates=pd.date_range("2020-01-02", periods=16, freq="D"))
    assert points(chart)[-2:] == [COMMON, COMMON]


# --- precedence -----------------------------------------------------------------------------


def test_outside_limits_wins_over_a_trend():
    # 0..6: mean 3, mean moving range 1, limits 0.34 .. 5.66
    chart = xmr([0, 1, 2, 3, 4, 5, 6])
    assert types(chart) == ["Below LCL"] + ["7 Point Trend (Increasing)"] * 5 + ["Above UCL"]
    assert points(chart) == [CONCERN] + [IMPROVEMENT] * 6


def test_two_of_three_wins_over_a_shift():
    # mean 16/21, mean moving range 2.3: near limit 4.84, upper limit 6.88; the last seven
    # points are above the mean and the two 5.5s are close to the limit
    chart = xmr(ALTERNATING + [5.5, 1, 5.5, 1, 1, 1, 1])
    assert (
        types(chart)[14:]
        == ["2 in 3 Above CL", "7 Points Above CL", "2 in 3 Above CL"] + ["7 Points Above CL"] * 4
    )
    assert types(chart)[:14] == ["Common Cause"] * 14


@pytest.mark.parametrize(
    ("direction", "high", "low"),
    [
        ("increase", IMPROVEMENT, CONCERN),
        ("decrease", CONCERN, IMPROVEMENT),
        ("neutral", "special_cause_neutral_high", "special_cause_neutral_low"),
    ],
)
def test_point_type_reads_the_side_against_the_direction(direction, high, low):
    chart = xmr([0, 1, 2, 3, 4, 5, 6], improvement_direction=direction)
    assert points(chart)[0] == low and points(chart)[-1] == high
    assert points(chart)[3] == high  # a rising trend point on the mean


# --- rebase, fixed limits, dates ------------------------------------------------------------


def test_rebase_starts_a_new_group_and_the_moving_range_does_not_cross_it():
    values = [1, 2, 1, 2, 1, 2, 11, 12, 11, 12, 11, 12]
    plain = xmr(values)
    # one group: the 2 -> 11 range is screened, limits 6.5 -/+ 2.66 leave every point outside
    assert plain["outside_limits"].all()
    rebased = xmr(values, rebase=[6])
    assert rebased["rebase_group"].tolist() == [0] * 6 + [1] * 6
    assert rebased["mean"].tolist() == [1.5] * 6 + [11.5] * 6
    assert rebased["upl"].tolist() == pytest.approx([1.5 + 2.66] * 6 + [11.5 + 2.66] * 6)
    assert points(rebased) == [COMMON] * 12


def test_rebase_by_date_and_a_date_not_in_the_series_has_no_effect():
    dates = pd.date_range("2024-01-01", periods=12, freq="MS")
    values = [1, 2, 1, 2, 1, 2, 11, 12, 11, 12, 11, 12]
    chart = xmr(
        values, dates=dates, rebase=[pd.Timestamp("2024-07-01"), pd.Timestamp("2030-01-01")]
    )
    assert chart["rebase_group"].tolist() == [0] * 6 + [1] * 6
    assert chart["x"].tolist() == list(dates)


def test_no_run_crosses_a_rebase():
    values = [0, 10, 0, 10, 3, 4, 5, 6, 7, 8, 9]
    assert types(xmr(values, rebase=[7]))[4:] == ["Common Cause"] * 7


@pytest.mark.parametrize(
    ("fix", "mean", "mean_moving_range", "last_type"),
    [
        # first 4 points: mean 1.5, moving ranges 1, 1, 1
        (4, 1.5, 1.0, "Above UCL"),
        # all 5: mean 3.2, moving ranges 1, 1, 1, 8 (8 < 3.267 * 2.75, kept)
        (None, 3.2, 2.75, "Common Cause"),
    ],
)
def test_fix_after_n_points_holds_the_first_points_limits(fix, mean, mean_moving_range, last_type):
    chart = xmr([1, 2, 1, 2, 10], fix_after_n_points=fix)
    assert chart["mean"].tolist() == pytest.approx([mean] * 5)
    assert chart["upl"].iloc[0] == pytest.approx(mean + 2.66 * mean_moving_range)
    assert types(chart)[-1] == last_type


def test_fix_after_n_points_applies_per_rebase_group():
    chart = xmr([1, 2, 1, 2, 10, 5, 6, 5, 6, 20], rebase=[5], fix_after_n_points=4)
    assert chart["mean"].tolist() == [1.5] * 5 + [5.5] * 5
    assert types(chart)[4] == "Above UCL" and types(chart)[9] == "Above UCL"


def test_points_are_charted_in_date_order_and_returned_in_input_order():
    dates = pd.to_datetime(["2024-03-01", "2024-01-01", "2024-02-01", "2024-04-01"])
    values = pd.Series([4.0, 1.0, 2.0, 4.0], index=list("abcd"))
    chart = xmr(values, dates=dates)
    assert values.tolist() == [4.0, 1.0, 2.0, 4.0]  # the input is not sorted in place
    # in date order 1, 2, 4, 4: moving ranges 1, 2, 0
    assert list(chart.index) == list("abcd")
    assert chart["y"].tolist() == [4.0, 1.0, 2.0, 4.0]
    assert chart["upl"].iloc[0] == pytest.approx(2.75 + 2.66)
    assert chart["x"].tolist() == list(dates)


def test_target_is_carried_as_a_column():
    assert xmr([1, 2, 3], target=2.5)["target"].tolist() == [2.5] * 3
    assert "target" not in xmr([1, 2, 3]).columns


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"improvement_direction": "up"}, "improvement_direction"),
        ({"dates": pd.to_datetime(["2024-01-01"] * 3)}, "duplicate dates"),
        ({"dates": pd.to_datetime(["2024-01-01", None, "2024-03-01"])}, "missing"),
        ({"fix_after_n_points": 0}, "fix_after_n_points"),
        ({"rebase": [3]}, "rebase positions"),
    ],
)
def test_invalid_arguments_are_named(kwargs, message):
    with pytest.raises(ValueError, match=message):
        xmr([1.0, 2.0, 3.0], **kwargs)


# --- degenerate series ----------------------------------------------------------------------


def test_degenerate_series():
    assert xmr([]).empty
    one = xmr([4.0])
    assert one["mean"].tolist() == [4.0] and one["upl"].isna().all()  # no moving range
    assert one["outside_limits"].isna().all() and points(one) == [COMMON]
    two = xmr([1.0, 3.0])
    assert two["upl"].tolist() == pytest.approx([2 + 2.66 * 2] * 2)
    assert two["relative_to_mean"].tolist() == [-1.0, 1.0]


def test_missing_values_are_left_out_and_never_flagged():
    chart = xmr([1, None, 3, 1, 3, np.nan])
    # mean of 1, 3, 1, 3; moving ranges only between neighbours that both have values: 2, 2
    assert chart["mean"].iloc[0] == 2.0
    assert chart["upl"].iloc[0] == pytest.approx(2 + 2.66 * 2)
    assert chart["outside_limits"].isna().tolist() == [False, True, False, False, False, True]
    assert np.isnan(chart["relative_to_mean"].iloc[1])
    assert points(chart) == [COMMON] * 6


def test_a_missing_value_breaks_a_trend():
    # the package stops with an R error here (`if (NA)` in ptd_seven_point_trend)
    values = [0, 10, 0, 10, 3, 4, 5, np.nan, 7, 8, 9, 10, 11]
    assert "7 Point Trend (Increasing)" not in types(xmr(values, screen_outliers=False))


# --- the package's own tests of its rule helpers, ported -------------------------------------
# from tests/testthat/test-ptd_calculate_point_type.R (ptd_seven_point_trend,
# ptd_part_of_seven_trend, ptd_seven_point_one_side_mean, ptd_two_in_three,
# ptd_part_of_two_in_three); the package's helpers return end-of-run flags, the port checks
# the "part of" flags they feed.


def one_group(n: int) -> _GroupLayout:
    return _GroupLayout(np.zeros(n, dtype="int64"))


@pytest.mark.parametrize(
    ("y", "expected"),
    [
        ([1, 2, 3, 4, 5, 6], [0] * 6),
        ([1, 2, 3, 3, 4, 5, 6], [0] * 7),
        ([1, 2, 3, 4, 5, 6, 7], [1] * 7),
        ([2, 1, 2, 3, 4, 5, 6, 7, 3], [0] + [1] * 7 + [0]),
        ([7, 6, 5, 4, 3, 2, 1], [1] * 7),
        ([2, 7, 6, 5, 4, 3, 2, 1, 3], [0] + [1] * 7 + [0]),
    ],
)
def test_package_seven_point_trend(y, expected):
    y = np.asarray(y, dtype=float)
    assert _part_of_trend(y, one_group(len(y))).astype(int).tolist() == expected


@pytest.mark.parametrize(
    ("relative", "expected"),
    [
        ([1] * 6, [0] * 6),
        ([1] * 6 + [-1], [0] * 7),
        ([1] * 8 + [-1], [1] * 8 + [0]),
        ([-1] * 8 + [1], [1] * 8 + [0]),
        ([-1] + [1] * 8 + [-1], [0] + [1] * 8 + [0]),
    ],
)
def test_package_seven_point_one_side_mean(relative, expected):
    relative = np.asarray(relative, dtype=float)
    assert _part_of_shift(relative, one_group(len(relative))).astype(int).tolist() == expected


@pytest.mark.parametrize(
    ("close", "relative", "expected"),
    [
        ([1, 0, 1], [1, 1, 1], [1, 0, 1]),
        ([0, 1, 1], [1, 1, 1], [0, 1, 1]),
        ([1, 1, 0], [1, 1, 1], [1, 1, 0]),
        ([0, 0, 1, 0, 1, 0, 0], [1] * 7, [0, 0, 1, 0, 1, 0, 0]),
        ([0, 0, 1, 1, 0, 0, 0], [1] * 7, [0, 0, 1, 1, 0, 0, 0]),
        ([1, 0, 0, 1], [1] * 4, [0] * 4),
        ([1, 0, 0, 1, 1], [1] * 5, [0, 0, 0, 1, 1]),
        # issue #143: opposite sides of the mean never qualify
        ([1, 0, 1], [1, -1, 1], [0] * 3),
        ([0, 1, 1], [1, -1, 1], [0] * 3),
        ([1, 1, 0], [1, -1, 1], [0] * 3),
        ([0, 0, 1, 0, 1, 0, 0], [1, -1] * 3 + [1], [0] * 7),
        ([0, 0, 1, 1, 0, 0, 0], [-1, 1] * 3 + [-1], [0] * 7),
    ],
)
def test_package_two_in_three(close, relative, expected):
    close = np.asarray(close, dtype=bool)
    relative = np.asarray(relative, dtype=float)
    flags = _part_of_two_in_three(relative, close, one_group(len(close)))
    assert flags.astype(int).tolist() == expected


# --- the package's snapshots, ported ----------------------------------------------------------


def test_package_snapshot_of_rnorm_20():
    # tests/testthat/test-ptd_spc_standard.R and _snaps/ptd_spc_standard.md (v0.1.0 snapshot;
    # the calculation is unchanged in v0.2.2)
    y = RNORM_123[:20]
    r1 = xmr(y)
    assert r1["mean"].iloc[0] == pytest.approx(0.1416238, abs=5e-8)
    assert r1["lpl"].iloc[0] == pytest.approx(-3.01138, abs=5e-6)
    assert r1["upl"].iloc[0] == pytest.approx(3.294627, abs=5e-7)
    assert r1["relative_to_mean"].tolist()[:13] == [-1, -1, 1, -1, -1, 1, 1, -1, -1, -1, 1, 1, 1]
    assert not r1["outside_limits"].any()
    y2 = list(y)
    y2[14] = 10
    r2, r3 = xmr(y2), xmr(y2, screen_outliers=False)
    assert r2["mean"].iloc[0] == pytest.approx(0.6694159, abs=5e-8)
    assert (r2["lpl"].iloc[0], r2["upl"].iloc[0]) == pytest.approx((-2.383666, 3.722497), abs=5e-7)
    assert (r3["lpl"].iloc[0], r3["upl"].iloc[0]) == pytest.approx((-4.596625, 5.935457), abs=5e-7)


def test_package_summary_snapshot_by_facet_and_target():
    # tests/testthat/test-ptd_spc.R "it outputs expected content" and _snaps/ptd_spc.md:
    # facet = rep(c(0, 1), each = 10); a rebase date outside the series changes nothing
    frame = pd.DataFrame(
        {
            "facet": np.repeat([0, 1], 10),
            "x": pd.date_range("2020-01-02", periods=20, freq="D"),
            "y": RNORM_123[:20],
        }
    )
    charts = xmr_by_group(frame, group="facet", value="y", order="x")
    summary = charts.groupby(frame["facet"])[["mean", "lpl", "upl"]].first()
    assert summary.to_numpy().ravel().tolist() == pytest.approx(
        [0.0746, -2.60, 2.75, 0.209, -3.28, 3.70], abs=5e-3
    )
    assert (charts["point_type"] == COMMON).all()
    whole = xmr(frame["y"], dates=frame["x"], rebase=[pd.Timestamp("2020-01-01")], target=0.5)
    assert (whole["rebase_group"] == 0).all()
    assert variation_icon(whole, "increase") == "common_cause"
    assert assurance(whole, 0.5, "increase") == "inconsistent"


@pytest.fixture(scope="module")
def shifted_halves() -> tuple[pd.Series, pd.Series, pd.DatetimeIndex]:
    # tests/testthat/test-geom_ptd_icon.R draws the second 12 points from rnorm(12, 5) and then
    # rnorm(12, -5); R's stream after rnorm(24) is not reproduced here, so the same
    # distributions are drawn with numpy (the icons do not depend on the draw)
    rng = np.random.default_rng(123)
    first = np.array(RNORM_123[:12])
    up = pd.Series(np.concatenate([first, rng.normal(5, 1, 12)]))
    down = pd.Series(np.concatenate([first, rng.normal(-5, 1, 12)]))
    return up, down, pd.date_range("2020-01-02", periods=24, freq="D")


@pytest.mark.parametrize(
    ("half", "target", "direction", "icon", "assured"),
    [
        ("up", -3, "increase", "improvement_high", "consistent_pass"),
        ("up", -3, "decrease", "concern_high", "consistent_fail"),
        ("down", 3, "increase", "concern_low", "consistent_fail"),
        ("down", 3, "decrease", "improvement_low", "consistent_pass"),
        ("down", 3, "neutral", "neutral_low", None),
    ],
)
def test_package_icon_cases(shifted_halves, half, target, direction, icon, assured):
    up, down, dates = shifted_halves
    chart = xmr(up if half == "up" else down, dates=dates, improvement_direction=direction)
    assert variation_icon(chart, direction) == icon
    assert assurance(chart, target, direction) == assured


def test_package_icons_of_rnorm_24_are_common_cause_and_inconsistent():
    # tests/testthat/test-geom_ptd_icon.R, s1 to s4
    chart = xmr(RNORM_123, dates=pd.date_range("2020-01-02", periods=24, freq="D"))
    assert variation_icon(chart, "increase") == "common_cause"
    assert assurance(chart, 0.5, "increase") == "inconsistent"
    assert assurance(chart, None, "increase") is None
    for half in (RNORM_123[:12], RNORM_123[12:]):
        assert variation_icon(xmr(half), "increase") == "common_cause"


# --- icons and assurance, each outcome ------------------------------------------------------

ENDS_HIGH = [1, 2, 1, 2, 1, 2, 1, 2, 10]
ENDS_LOW = [1, 2, 1, 2, 1, 2, 1, 2, -10]


@pytest.mark.parametrize(
    ("values", "direction", "icon"),
    [
        (ENDS_HIGH, "increase", "improvement_high"),
        (ENDS_HIGH, "decrease", "concern_high"),
        (ENDS_LOW, "increase", "concern_low"),
        (ENDS_LOW, "decrease", "improvement_low"),
        (ENDS_HIGH, "neutral", "neutral_high"),
        (ENDS_LOW, "neutral", "neutral_low"),
        ([1, 2, 1, 2, 1, 2], "increase", "common_cause"),
    ],
)
def test_variation_icon_reads_the_latest_point(values, direction, icon):
    assert variation_icon(xmr(values, improvement_direction=direction), direction) == icon


def test_variation_icon_reads_the_latest_date_not_the_last_row():
    dates = pd.date_range("2024-01-01", periods=9, freq="MS")
    chart = xmr(ENDS_HIGH, dates=dates)
    shuffled = chart.iloc[[8, 0, 1, 2, 3, 4, 5, 6, 7]]
    assert variation_icon(shuffled, "increase") == "improvement_high"
    with pytest.raises(ValueError):
        variation_icon(chart.iloc[0:0], "increase")


# ported from tests/testthat/test-ptd_calculate_assurance_type.R: limits (1, 3), (5, 7), (1, 5)
# against a target of 4
LIMITS = pd.DataFrame({"lpl": [1.0, 5.0, 1.0], "upl": [3.0, 7.0, 5.0]})


@pytest.mark.parametrize(
    ("row", "direction", "expected"),
    [
        (0, "increase", "consistent_fail"),
        (1, "increase", "consistent_pass"),
        (2, "increase", "inconsistent"),
        (0, "decrease", "consistent_pass"),
        (1, "decrease", "consistent_fail"),
        (2, "decrease", "inconsistent"),
        (0, "neutral", None),
        (1, "neutral", None),
    ],
)
def test_package_assurance_cases(row, direction, expected):
    assert assurance(LIMITS.iloc[[row]], 4.0, direction) == expected


@pytest.mark.parametrize(
    ("target", "expected"),
    [(3.0, "inconsistent"), (1.0, "inconsistent"), (float("nan"), "inconsistent"), (None, None)],
)
def test_assurance_on_a_limit_or_without_a_target(target, expected):
    assert assurance(LIMITS.iloc[[0]], target, "increase") == expected


def test_assurance_reads_the_latest_rebase_group():
    # the package's rebase case: the last row decides
    for order, expected in [([0, 1, 2], "inconsistent"), ([1, 2, 0], "consistent_pass")]:
        assert assurance(LIMITS.iloc[order], 4.0, "decrease") == expected
    chart = xmr([1, 2, 1, 2, 1, 2, 11, 12, 11, 12, 11, 12], rebase=[6])
    assert assurance(chart, 5.0, "increase") == "consistent_pass"  # 5 < 11.5 - 2.66


def test_assurance_with_missing_limits_is_inconsistent():
    assert assurance(xmr([5, 5, 5]), 1.0, "increase") == "inconsistent"


# --- the grouped variant ----------------------------------------------------------------------


def test_xmr_by_group_aligns_to_the_index_and_leaves_the_frame_alone():
    frame = pd.DataFrame(
        {
            "improvement_id": ["B", "A", "B", "A", "B", "A"],
            "month": pd.to_datetime(["2024-03-01", "2024-02-01", "2024-01-01"] * 2).sort_values(
                ascending=False
            ),
            "compliance": [0.9, 0.5, 0.7, 0.6, 0.8, 0.55],
        },
        index=[10, 11, 12, 13, 14, 15],
    )
    before = frame.copy()
    charts = xmr_by_group(frame, group="improvement_id", value="compliance", order="month")
    pd.testing.assert_frame_equal(frame, before)
    assert list(charts.index) == [10, 11, 12, 13, 14, 15]
    assert charts["y"].tolist() == frame["compliance"].tolist()
    b = frame["improvement_id"] == "B"
    expected = xmr(frame.loc[b, "compliance"], dates=frame.loc[b, "month"]).drop(columns="x")
    pd.testing.assert_frame_equal(charts.loc[b], expected)


def test_xmr_by_group_takes_several_key_columns():
    frame = pd.DataFrame(
        {
            "improvement_id": ["A"] * 8 + ["B"] * 4,
            "as_of": ["2024-06"] * 4 + ["2024-07"] * 4 + ["2024-07"] * 4,
            "month": list(range(4)) * 3,
            "value": [1, 2, 1, 9, 1, 2, 1, 2, 5, 5, 5, 5],
        }
    )
    charts = xmr_by_group(frame, group=["improvement_id", "as_of"], value="value", order="month")
    assert charts["mean"].tolist() == [3.25] * 4 + [1.5] * 4 + [5.0] * 4
    assert charts["upl"].iloc[8:].isna().all()  # constant series: every moving range screened
    assert charts["rebase_group"].eq(0).all()


def test_xmr_by_group_refuses_duplicate_or_missing_order():
    frame = pd.DataFrame({"g": [1, 1], "t": [1, 1], "v": [1.0, 2.0]})
    with pytest.raises(ValueError, match="duplicate"):
        xmr_by_group(frame, group="g", value="v", order="t")
    with pytest.raises(ValueError, match="missing"):
        xmr_by_group(frame.assign(t=[1, None]), group="g", value="v", order="t")


# --- a literal port of the package's R code, the oracle for the invariants ---------------------
# R/ptd_spc_standard.R and R/ptd_calculate_point_type.R (v0.2.2), loop by loop, with R's NA
# logic: logical NA is None, numeric NA is nan.


class RError(Exception):
    """Where R would stop: `if (NA)` in ptd_seven_point_trend."""


def _na(x):
    return x is None or (isinstance(x, float) and math.isnan(x))


def _cmp(a, b, op):
    return None if _na(a) or _na(b) else op(a, b)


def _and(a, b):
    if a is False or b is False:
        return False
    return None if a is None or b is None else True


def _or(a, b):
    if a is True or b is True:
        return True
    return None if a is None or b is None else False


def _all(xs):
    return False if False in xs else (None if None in xs else True)


def _any(xs):
    return True if True in xs else (None if None in xs else False)


def _num(x):
    return math.nan if x is None else float(x)


def _sign(x):
    return math.nan if _na(x) else float((x > 0) - (x < 0))


def _r_mean(xs):
    kept = [x for x in xs if not _na(x)]
    return sum(kept) / len(kept) if kept else math.nan


def r_spc_standard(y, screen, fix):
    fix_y = [v if (fix is None or i < fix) else math.nan for i, v in enumerate(y)]
    mean = _r_mean(fix_y)
    mr = [math.nan] + [abs(b - a) for a, b in zip(fix_y, fix_y[1:], strict=False)]
    amr = _r_mean(mr)
    if screen:
        mr = [m if _cmp(m, 3.267 * amr, lambda a, b: a < b) is True else math.nan for m in mr]
        amr = _r_mean(mr)
    limit = 2.66
    close_limit = 2 * (limit / 3)
    lpl, upl = mean - limit * amr, mean + limit * amr
    nlpl, nupl = mean - close_limit * amr, mean + close_limit * amr
    outside = [_or(_cmp(v, upl, float.__gt__), _cmp(v, lpl, float.__lt__)) for v in y]
    relative = [_sign(v - mean) for v in y]
    close = [
        _and(
            None if o is None else not o,
            _or(_cmp(v, nlpl, float.__lt__), _cmp(v, nupl, float.__gt__)),
        )
        for v, o in zip(y, outside, strict=True)
    ]
    return mean, lpl, upl, outside, relative, close


def r_seven_point_one_side_mean(v):
    vp = [0.0] * 6 + v
    return [
        _num(
            _and(
                _all([_cmp(vp[i], vp[i - k], float.__eq__) for k in range(1, 7)]),
                _cmp(vp[i], 0.0, float.__ne__),
            )
        )
        for i in range(6, len(vp))
    ]


def r_part_of_seven_trend(v):
    vp = v + [0.0] * 6
    return [
        _num(_any([_cmp(abs(vp[i + k]), 1.0, float.__eq__) for k in range(7)]))
        for i in range(len(v))
    ]


def r_seven_point_trend(y):
    if len(y) < 7:
        return [0.0] * len(y)
    out = [0.0] * 6
    for i in range(6, len(y)):
        d = [_sign(y[i - k] - y[i - k - 1]) for k in range(6)]
        rising, falling = (
            _all([_cmp(x, 1.0, float.__eq__) for x in d]),
            _all([_cmp(x, -1.0, float.__eq__) for x in d]),
        )
        if rising is None or (rising is False and falling is None):
            raise RError
        out.append(1.0 if rising else (-1.0 if falling else 0.0))
    return out


def r_two_in_three(v, rtm):
    vp, rp = [0.0, 0.0] + v + [0.0, 0.0], [0.0, 0.0] + rtm + [0.0, 0.0]
    out = []
    for i in range(len(v)):
        result = False
        for o in range(3):
            s = sum(vp[i + o : i + o + 3])
            term = _and(
                _cmp(s, 2.0, float.__ge__), _cmp(abs(sum(rp[i + o : i + o + 3])), 3.0, float.__eq__)
            )
            result = _or(result, term)
        out.append(_num(result))
    return out


def r_special_cause_type(y, relative, close, outside):
    close_num = [_num(c) for c in close]
    trend = r_part_of_seven_trend(r_seven_point_trend(y))
    two = [
        _num(_and(_cmp(a, 1.0, float.__eq__), _cmp(abs(c), 1.0, float.__eq__)))
        for a, c in zip(r_two_in_three(close_num, relative), close_num, strict=True)
    ]
    shift = r_part_of_seven_trend(r_seven_point_one_side_mean(relative))
    sdy = [_sign(b - a) for a, b in zip(y, y[1:], strict=False)]
    right, left = sdy + sdy[-1:], [0.0] + sdy
    labels = []
    for j in range(len(y)):
        next_trend = trend[j + 1] if j + 1 < len(y) else 0.0
        step = right[j] if (next_trend != 0 and trend[j] != 0) else left[j]
        side = "NA" if _na(relative[j]) else ("Above" if relative[j] > 0 else "Below")
        if outside[j] is True:
            labels.append("Above UCL" if relative[j] == 1 else "Below LCL")
        elif trend[j] == 1:
            labels.append(f"7 Point Trend ({'In' if step == 1 else 'De'}creasing)")
        elif two[j] == 1:
            labels.append(f"2 in 3 {side} CL")
        elif shift[j] == 1:
            labels.append(f"7 Points {side} CL")
        else:
            labels.append("Common Cause")
    return labels


def r_point_type(label, direction):
    v = (
        1
        if ("Above" in label or "Increasing" in label)
        else (-1 if ("Below" in label or "Decreasing" in label) else 0)
    )
    if direction == 0:
        return {1: "special_cause_neutral_high", -1: "special_cause_neutral_low"}.get(v, COMMON)
    return {1: IMPROVEMENT, -1: CONCERN}.get(v * direction, COMMON)


def reference_chart(y, rebase_at, screen, fix, direction):
    """The package's columns for values already in time order, groups started at `rebase_at`."""
    starts = sorted({0, *rebase_at})
    rows = []
    for a, b in zip(starts, [*starts[1:], len(y)], strict=True):
        part = y[a:b]
        mean, lpl, upl, outside, relative, close = r_spc_standard(part, screen, fix)
        labels = r_special_cause_type(part, relative, close, outside)
        for k in range(len(part)):
            rows.append(
                {
                    "y": part[k],
                    "rebase_group": sum(1 for r in rebase_at if r <= a),
                    "mean": mean,
                    "lpl": lpl,
                    "upl": upl,
                    "outside_limits": outside[k],
                    "relative_to_mean": relative[k],
                    "close_to_limits": close[k],
                    "special_cause_type": labels[k],
                    "point_type": r_point_type(labels[k], direction),
                }
            )
    return rows


def assert_matches_reference(chart: pd.DataFrame, rows: list[dict]) -> None:
    assert len(chart) == len(rows)
    for column in ("y", "mean", "lpl", "upl", "relative_to_mean"):
        np.testing.assert_array_equal(
            chart[column].to_numpy(dtype=float), [r[column] for r in rows]
        )
    for column in ("outside_limits", "close_to_limits"):
        assert chart[column].astype(object).where(chart[column].notna(), None).tolist() == [
            r[column] for r in rows
        ]
    assert types(chart) == [r["special_cause_type"] for r in rows]
    assert points(chart) == [r["point_type"] for r in rows]


# Small integers make ties, points on the mean and constant runs frequent, and keep every sum
# exact, so the comparison with the reference can be exact.
NOISE = st.lists(st.integers(-4, 4).map(float), max_size=30)
# Random walks with drift make trends, shifts and points beyond the limits frequent.
WALKS = st.tuples(
    st.lists(st.sampled_from([-1, 0, 1, 1, 2]), max_size=30), st.sampled_from([1, -1])
).map(lambda steps_sign: [float(v * steps_sign[1]) for v in np.cumsum(steps_sign[0])])
SERIES = st.one_of(NOISE, WALKS)
DIRECTIONS = st.sampled_from([("increase", 1), ("decrease", -1), ("neutral", 0)])


@settings(max_examples=200, deadline=None)
@given(
    series=SERIES,
    screen=st.booleans(),
    fix=st.one_of(st.none(), st.integers(1, 12)),
    direction=DIRECTIONS,
    rebase_at=st.sets(st.integers(0, 29), max_size=3),
)
def test_xmr_matches_the_ported_r_code(series, screen, fix, direction, rebase_at):
    rebase_at = {r for r in rebase_at if r < len(series)}
    chart = xmr(series, improvement_direction=direction[0], screen_outliers=screen,
                fix_after_n_points=fix, rebase=sorted(rebase_at))  # fmt: skip
    rows = reference_chart(series, rebase_at, screen, fix, direction[1])
    assert (
        chart["rebase_group"].tolist()
        == np.cumsum([1 if i in rebase_at else 0 for i in range(len(series))]).tolist()
    )
    assert_matches_reference(chart, rows)


@settings(max_examples=120, deadline=None)
@given(
    series=st.lists(st.one_of(st.integers(-4, 4).map(float), st.just(math.nan)), max_size=25),
    screen=st.booleans(),
)
def test_xmr_matches_the_ported_r_code_with_missing_values(series, screen):
    try:
        rows = reference_chart(series, set(), screen, None, 1)
    except RError:  # the package errors; here a missing value breaks the trend
        return
    assert_matches_reference(xmr(series, screen_outliers=screen), rows)


@settings(max_examples=100, deadline=None)
@given(
    groups=st.lists(SERIES, min_size=1, max_size=6),
    direction=DIRECTIONS,
    screen=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_xmr_by_group_equals_xmr_per_group(groups, direction, screen, seed):
    frame = pd.DataFrame(
        {
            "g": np.repeat(np.arange(len(groups)), [len(s) for s in groups]),
            "t": np.concatenate([np.arange(len(s)) for s in groups]).astype("int64"),
            "v": np.concatenate([np.asarray(s, dtype=float) for s in groups]),
        }
    )
    shuffled = frame.sample(frac=1.0, random_state=seed)  # row order must not matter
    charts = xmr_by_group(shuffled, group="g", value="v", order="t",
                          improvement_direction=direction[0], screen_outliers=screen)  # fmt: skip
    assert charts.index.equals(shuffled.index)
    expected = pd.concat(
        [
            xmr(series, improvement_direction=direction[0], screen_outliers=screen)
            for series in groups
        ],
        ignore_index=True,
    )
    got = charts.loc[frame.index].reset_index(drop=True)  # frame is in group, then time, order
    pd.testing.assert_frame_equal(got, expected)


@pytest.mark.parametrize("level", [0.95, 0.1, 0.7, 1 / 3, 0.83])
@pytest.mark.parametrize("length", [7, 8, 12])
def test_a_steady_series_is_common_cause(level, length):
    # The mean of seven 0.95s is 0.95 + 1.1e-16 in floating point: every point used to sit
    # "below the mean" and make a 7-point run, a special cause of concern that is not there.
    chart = xmr([level] * length)
    assert (chart["relative_to_mean"] == 0).all()
    assert points(chart) == [COMMON] * length
    assert variation_icon(chart, "increase") == "common_cause"
