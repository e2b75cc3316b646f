"""The panel helpers that carry 10M check rows: each agrees with the plain pandas it replaces."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from features.panels import (
    DaySorted,
    day_numbers,
    group_max,
    group_min,
    linked_events,
    month_numbers,
    monthly_matrices,
    positions_in,
    sums_by_key,
)


@pytest.fixture
def rng():
    return np.random.default_rng(7)


def test_sums_by_key_equals_a_sorted_groupby_sum(rng):
    n = 20_000
    keys = {
        "day": rng.integers(19_000, 19_400, n).astype("float64"),
        "improvement": rng.integers(0, 60, n).astype("float64"),
        "team": rng.integers(2, 5, n).astype("float64"),
    }
    values = {"met": rng.integers(0, 10, n).astype("float64"), "score": rng.normal(size=n)}
    got = sums_by_key(keys, values)
    expected = pd.DataFrame({**keys, **values}).groupby(list(keys), sort=True).sum().reset_index()
    for name in keys:
        np.testing.assert_array_equal(got[name].to_numpy(), expected[name].astype("int64"))
    np.testing.assert_array_equal(got["met"], expected["met"])  # whole numbers: exact
    np.testing.assert_allclose(got["score"], expected["score"], rtol=0, atol=1e-12)
    assert list(got.columns) == [*keys, *values]


def test_sums_by_key_of_rows_already_in_key_order_needs_no_sort(rng):
    # An export written in date order: the rows arrive sorted by the keys, some repeated.
    n = 10_000
    keys = {
        "day": np.sort(rng.integers(19_000, 19_050, n)).astype("float64"),
        "improvement": np.zeros(n),
    }
    values = {"met": rng.integers(0, 10, n).astype("float64")}
    got = sums_by_key(keys, values)
    expected = pd.DataFrame({**keys, **values}).groupby(list(keys), sort=True).sum().reset_index()
    np.testing.assert_array_equal(got["day"], expected["day"].astype("int64"))
    np.testing.assert_array_equal(got["met"], expected["met"])


@pytest.mark.parametrize("helper, how", [(group_max, "max"), (group_min, "min")])
@pytest.mark.parametrize("dtype", ["int64", "float64"])
def test_group_max_and_min_match_groupby_and_leave_empty_positions_missing(rng, helper, how, dtype):
    positions = rng.integers(0, 50, 3_000)
    positions = positions[positions != 7]  # position 7 has no row
    values = rng.integers(-100, 20_000, len(positions)).astype(dtype)
    got = helper(positions, values, 60)
    expected = pd.Series(values).groupby(positions).agg(how).reindex(range(60))
    np.testing.assert_array_equal(got, expected.to_numpy(dtype="float64"))
    assert got.dtype == np.float64 and np.isnan(got[7]) and np.isnan(got[55:]).all()


def test_sums_by_key_of_nothing_is_an_empty_frame():
    got = sums_by_key({"a": np.array([]), "b": np.array([])}, {"x": np.array([])})
    assert got.empty and list(got.columns) == ["a", "b", "x"]


def test_month_numbers_match_calendar_months_and_keep_missing():
    dates = pd.to_datetime(
        pd.Series(["2024-01-31", "2024-02-01", None, "2026-12-31", "2000-01-01"])
    )
    days = dates.to_numpy(dtype="datetime64[D]").astype("int64").astype("float64")
    days[dates.isna().to_numpy()] = np.nan
    got = month_numbers(days)
    expected = [2024 * 12 + 0, 2024 * 12 + 1, np.nan, 2026 * 12 + 11, 2000 * 12 + 0]
    np.testing.assert_array_equal(got, expected)
    assert np.isnan(month_numbers(np.array([np.nan]))).all()


def test_monthly_matrices_sum_each_cell_and_keep_its_last_primary_day(rng):
    n = 5_000
    day = np.sort(rng.integers(19_700, 19_900, n)).astype("float64")
    frame = pd.DataFrame(
        {
            "improvement": rng.integers(0, 8, n),
            "day": day,
            "sampled": rng.integers(1, 10, n).astype("float64"),
            "primary": rng.random(n) < 0.7,
        }
    )
    frame["met"] = np.minimum(frame["sampled"], rng.integers(0, 10, n))
    first, last = int(month_numbers(day).min()), int(month_numbers(day).max())
    got = monthly_matrices(DaySorted(frame, day), 8, first, last)
    primary = frame[frame["primary"]].assign(
        month=month_numbers(frame.loc[frame["primary"], "day"].to_numpy())
    )
    expected = primary.groupby(["improvement", "month"]).agg(
        sampled=("sampled", "sum"), met=("met", "sum"), last_day=("day", "max")
    )
    for (improvement, month), row in expected.iterrows():
        column = int(month) - first
        assert got.sampled[improvement, column] == row["sampled"]
        assert got.met[improvement, column] == row["met"]
        assert got.last_day[improvement, column] == row["last_day"]
    assert np.isnan(got.last_day).sum() == got.last_day.size - len(expected)


def test_positions_in_finds_each_value_and_marks_absent_or_missing():
    index = pd.Index(["IMP-1", "IMP-2", "IMP-3"])
    values = pd.Series(["IMP-3", None, "IMP-9", "IMP-1", "IMP-3"], dtype="str")
    np.testing.assert_array_equal(positions_in(index, values), [2, -1, -1, 0, 2])


def _linked_by_merge(events, improvements, values):
    """The plain-pandas reference: merge on location and theme, and on location and name."""
    event = pd.DataFrame(
        {
            "event": np.arange(len(events)),
            "location_id": events["location_id"],
            "theme": events["theme"],
            "named": events["improvement_id"],
            "day": day_numbers(events["occurred_on"]),
            **values,
        }
    )
    target = pd.DataFrame(
        {
            "improvement": np.arange(len(improvements)),
            "location_id": improvements["location_id"],
            "theme": improvements["theme"],
            "named": improvements["improvement_id"],
        }
    )
    by_theme = event.merge(target.drop(columns="named"), on=["location_id", "theme"])
    by_name = event.dropna(subset=["named"]).merge(
        target.drop(columns="theme"), on=["location_id", "named"]
    )
    return (
        pd.concat([by_theme, by_name], ignore_index=True)
        .drop_duplicates(["event", "improvement"])
        .dropna(subset=["day"])
        .sort_values(["day", "improvement", "event"], kind="stable", ignore_index=True)
        .drop(columns=["location_id", "theme", "named"])
    )


def test_linked_events_match_the_merge_on_location_theme_and_name(rng):
    improvements = pd.DataFrame(
        {
            "improvement_id": pd.Series([f"IMP-{i}" for i in range(40)], dtype="str"),
            "location_id": pd.Series([f"L{i % 6}" for i in range(40)], dtype="str"),
            "theme": pd.Series(
                [["falls", "medicines", "nutrition"][i % 3] for i in range(40)], dtype="str"
            ),
        }
    )
    n = 3_000
    events = pd.DataFrame(
        {
            "location_id": pd.Series(rng.choice([f"L{i}" for i in range(8)], n), dtype="str"),
            "theme": pd.Series(
                rng.choice(["falls", "medicines", "nutrition", "staffing"], n), dtype="str"
            ),
            "improvement_id": pd.Series(
                np.where(rng.random(n) < 0.3, rng.choice([f"IMP-{i}" for i in range(45)], n), None),
                dtype="str",
            ),
            "occurred_on": pd.Series(
                pd.to_datetime("2025-01-01") + pd.to_timedelta(rng.integers(0, 300, n), unit="D")
            ).where(rng.random(n) > 0.02),
        }
    )
    values = {"serious": (rng.random(n) < 0.2).astype("float64")}
    got = linked_events(events, improvements, "occurred_on", values).frame
    assert (got["team"] == -1).all()  # the events name no team
    pd.testing.assert_frame_equal(
        got.drop(columns="team"), _linked_by_merge(events, improvements, values)
    )
    assert len(got) > n // 2  # the data exercise theme matches, names and missing days
