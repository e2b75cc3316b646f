"""Evidence panels: every export table aggregated once, to the grain the features read.

The feature builder never touches raw rows again after this module:

- checks -> one row per improvement x day x team x source (`check_days`), sorted by day, so a
  day window is a contiguous slice; and dense improvement x calendar-month matrices of the
  primary sources (`MonthlyMatrices`) for the monthly compliance series;
- incidents and feedback -> one row per (evidence row, improvement it concerns), sorted by day:
  a row concerns an improvement when it is at the improvement's location and has its theme or
  names it (the spec's label rule, reused for the features);
- workforce -> team-weeks with the location's position, sorted by week start.

Improvements are addressed by position (0..n-1) in the improvements table as given; teams and
locations by integer codes. Days are integers (days since 1970-01-01) and months are integers
(year * 12 + month - 1), so windows are plain comparisons on sorted arrays.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from contracts.export import (
    CHECK_SOURCE_CATEGORY,
    CHECK_SOURCES,
    EVIDENCE_CATEGORIES,
    RESPONDENT_CATEGORY,
    RESPONDENTS,
)

CHECK_SUMS = (
    "sampled",
    "met",
    "failed_with_repeat_recorded",
    "repeat_gaps",
    "prompts_needed",
    "prompted_checks",
    "confidence_sum",
    "confidence_checks",
    "checks",
)
# Category code (position in EVIDENCE_CATEGORIES) of each check source and respondent.
SOURCE_CATEGORY_CODE = np.array(
    [EVIDENCE_CATEGORIES.index(CHECK_SOURCE_CATEGORY[s]) for s in CHECK_SOURCES]
)
RESPONDENT_CATEGORY_CODE = np.array(
    [EVIDENCE_CATEGORIES.index(RESPONDENT_CATEGORY[r]) for r in RESPONDENTS]
)


def day_numbers(dates: pd.Series | pd.DatetimeIndex) -> np.ndarray:
    """Days since 1970-01-01 as float (NaN for a missing date)."""
    values = pd.to_datetime(pd.Series(dates)).to_numpy(dtype="datetime64[D]")
    days = values.astype("int64").astype("float64")
    days[np.isnat(values)] = np.nan
    return days


def month_numbers(days: np.ndarray) -> np.ndarray:
    """Calendar month (year * 12 + month - 1) of each day number; NaN stays NaN."""
    out = np.full(days.shape, np.nan)
    known = ~np.isnan(days)
    if not known.any():
        return out
    # Calendar arithmetic once per day in the range, then a lookup per row (10M check-days).
    day = days[known].astype("int64")
    low = int(day.min())
    span = np.arange(low, int(day.max()) + 1).astype("datetime64[D]").astype("datetime64[M]")
    out[known] = (span.astype("int64") + 1970 * 12)[day - low]
    return out


def month_start_day(month: int) -> int:
    """Day number of the first day of calendar month `month`."""
    return int(np.datetime64(int(month - 1970 * 12), "M").astype("datetime64[D]").astype("int64"))


def month_first_days(months: np.ndarray) -> pd.DatetimeIndex:
    """Timestamp of the first day of each calendar month number."""
    return pd.DatetimeIndex((np.asarray(months, "int64") - 1970 * 12).astype("datetime64[M]"))


def numbers(series: pd.Series) -> np.ndarray:
    """A numeric column as float64 with NaN for missing."""
    return pd.to_numeric(series, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)


def vocabulary_codes(series: pd.Series, vocabulary: tuple[str, ...]) -> np.ndarray:
    """Position of each value in `vocabulary` (-1 for a value outside it or missing)."""
    if isinstance(series.dtype, pd.CategoricalDtype):
        return series.cat.set_categories(list(vocabulary)).cat.codes.to_numpy().astype("int64")
    return pd.Categorical(series.astype("object"), categories=vocabulary).codes.astype("int64")


def ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """numerator / denominator, NaN where the denominator is 0 or missing."""
    numerator, denominator = np.asarray(numerator, "float64"), np.asarray(denominator, "float64")
    valid = denominator > 0
    return np.where(valid, numerator / np.where(valid, denominator, 1.0), np.nan)


def group_sum(positions: np.ndarray, values: np.ndarray, size: int) -> np.ndarray:
    """Sum of `values` per position 0..size-1 (0 where a position has no row)."""
    return np.bincount(
        np.asarray(positions, "int64"), np.asarray(values, "float64"), minlength=size
    )[:size]


def group_max(positions: np.ndarray, values: np.ndarray, size: int) -> np.ndarray:
    """Largest of `values` per position 0..size-1, as float (NaN where a position has no row)."""
    return _group_extreme(np.maximum, positions, values, size)


def group_min(positions: np.ndarray, values: np.ndarray, size: int) -> np.ndarray:
    """Smallest of `values` per position 0..size-1, as float (NaN where a position has no row)."""
    return _group_extreme(np.minimum, positions, values, size)


def _group_extreme(ufunc, positions, values, size) -> np.ndarray:
    empty = -np.inf if ufunc is np.maximum else np.inf
    out = np.full(size, empty)
    # float64 values into a float64 output: ufunc.at casting int64 per element is ~10x slower.
    ufunc.at(out, np.asarray(positions, "int64"), np.asarray(values, "float64"))
    out[out == empty] = np.nan
    return out


def text(series: pd.Series) -> np.ndarray:
    """A string or categorical column as an object array of str (None for missing)."""
    return series.astype("object").where(series.notna(), None).to_numpy()


@dataclass(frozen=True)
class DaySorted:
    """Rows sorted by a day number, so that a day window is a contiguous slice."""

    frame: pd.DataFrame
    days: np.ndarray  # the sorted day column
    # The text of each team code in the frame's `team` column (checks and workforce), so a
    # team can be named in a reason without carrying text through the arithmetic.
    team_names: np.ndarray | None = None

    def window(self, first_day: float, last_day: float) -> pd.DataFrame:
        """Rows dated in [first_day, last_day] (day numbers, both inclusive)."""
        start = np.searchsorted(self.days, first_day, side="left")
        stop = np.searchsorted(self.days, last_day, side="right")
        return self.frame.iloc[start:stop]


def day_sorted(
    frame: pd.DataFrame, column: str = "day", team_names: np.ndarray | None = None
) -> DaySorted:
    """Wrap a frame already sorted by `column`."""
    return DaySorted(frame=frame, days=frame[column].to_numpy(), team_names=team_names)


def _team_codes(teams: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """A code per row and the text of each code (None for a missing team), looked up once
    per distinct team."""
    codes, names = pd.factorize(teams, use_na_sentinel=False)
    names = pd.Index(names).astype("object")
    return codes, np.asarray(names.where(names.notna(), None), dtype=object)


def check_days(
    checks: pd.DataFrame, improvement_ids: pd.Index, primary_sources: tuple[str, ...]
) -> DaySorted:
    """Checks summed once to improvement x day x team x source, sorted by day.

    Columns: improvement (position), day, team (code), source (code in CHECK_SOURCES),
    primary (bool), then the sums in CHECK_SUMS: items sampled and met; failed items at checks
    where repeat_gaps was recorded and those repeat gaps; prompts needed and the number of
    checks recording them; self-rated confidence summed and the number of checks rating it;
    and the number of checks. Checks of unknown improvements or sources are left out.
    """
    sampled, met = numbers(checks["sampled"]), numbers(checks["met"])
    repeat, prompts, confidence = (
        numbers(checks[c]) if c in checks else np.full(len(checks), np.nan)
        for c in ("repeat_gaps", "prompts_needed", "self_rated_confidence")
    )
    team, team_names = _team_codes(checks["team"])
    keys = {
        "day": day_numbers(checks["checked_on"]),
        "improvement": positions_in(improvement_ids, checks["improvement_id"]).astype("float64"),
        "team": team.astype("float64"),
        "source": vocabulary_codes(checks["source"], CHECK_SOURCES).astype("float64"),
    }
    usable = (
        (keys["improvement"] >= 0)
        & ~np.isnan(keys["day"])
        & (keys["source"] >= 0)
        & (sampled > 0)
        & ~np.isnan(met)
    )
    values = {
        "sampled": sampled,
        "met": met,
        "failed_with_repeat_recorded": np.where(np.isnan(repeat), 0.0, sampled - met),
        "repeat_gaps": np.nan_to_num(repeat),
        "prompts_needed": np.nan_to_num(prompts),
        "prompted_checks": (~np.isnan(prompts)).astype("float64"),
        "confidence_sum": np.nan_to_num(confidence),
        "confidence_checks": (~np.isnan(confidence)).astype("float64"),
        "checks": np.ones(len(checks)),
    }
    if not usable.all():
        keys = {k: v[usable] for k, v in keys.items()}
        values = {k: v[usable] for k, v in values.items()}
    summed = sums_by_key(keys, values)
    primary_codes = [CHECK_SOURCES.index(s) for s in primary_sources]
    summed = summed.assign(primary=summed["source"].isin(primary_codes))
    return day_sorted(summed, team_names=team_names)


def sums_by_key(keys: dict[str, np.ndarray], values: dict[str, np.ndarray]) -> pd.DataFrame:
    """Sum `values` per distinct combination of the non-negative integer `keys`.

    Returns one row per combination, sorted by the keys in the order given, with the keys
    (int64) and the sums (float64) as columns. The keys are packed into one int64 and sorted
    stably, so each combination is one run of rows in their original order, summed with one
    `reduceat`: about five times faster than hashing the packed keys at 10 million rows, and
    the same sums however the rows are partitioned (a combination never spans partitions).
    Rows already in key order (an export written in date order) are not sorted or copied.
    """
    names = list(keys)
    low = {n: np.min(keys[n]) if len(keys[n]) else 0.0 for n in names}
    size = {n: int(np.max(keys[n]) - low[n]) + 1 if len(keys[n]) else 1 for n in names}
    packed = np.zeros(len(keys[names[0]]), dtype="int64")
    for name in names:  # a loop over the few key columns
        packed *= size[name]
        packed += (keys[name] - low[name]).astype("int64")
    in_order = bool(np.all(packed[1:] >= packed[:-1]))
    order = None if in_order else np.argsort(packed, kind="stable")
    if order is not None:
        packed = packed[order]
    starts = (
        np.flatnonzero(np.concatenate([[True], packed[1:] != packed[:-1]]))
        if len(packed)
        else np.array([], dtype="int64")
    )
    first = starts if order is None else order[starts]  # a row of each combination
    out = {n: np.asarray(keys[n])[first].astype("int64") for n in names}
    sums = {
        n: _run_sums(_in_order(np.asarray(v, "float64"), order), starts) for n, v in values.items()
    }
    return pd.DataFrame({**out, **sums}, copy=False)


def _in_order(values: np.ndarray, order: np.ndarray | None) -> np.ndarray:
    return values if order is None else values[order]


def _run_sums(sorted_values: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Sum of each run of `sorted_values` beginning at `starts`."""
    if len(starts) == len(sorted_values):
        return sorted_values  # every run is one row
    return np.add.reduceat(sorted_values, starts) if len(starts) else sorted_values[:0]


def positions_in(index: pd.Index, values: pd.Series) -> np.ndarray:
    """Position of each value in `index` (-1 where absent or missing), looked up once per
    distinct value: 10M checks name about 67k improvements."""
    codes, distinct = pd.factorize(values, use_na_sentinel=True)
    found = np.append(index.get_indexer(pd.Index(distinct)), -1)
    return found[codes]


@dataclass(frozen=True)
class MonthlyMatrices:
    """Primary-source checks per improvement (rows) x calendar month (columns), full months.

    Column j is calendar month `first_month + j`. `sampled` and `met` are sums (0 where no
    check); `last_day` is the day number of the month's last primary check (NaN where none).
    """

    first_month: int
    sampled: np.ndarray
    met: np.ndarray
    last_day: np.ndarray

    def column(self, month: float) -> int:
        return int(month) - self.first_month

    @property
    def months(self) -> int:
        return self.sampled.shape[1]


def monthly_matrices(
    days: DaySorted, improvements: int, first_month: int, last_month: int
) -> MonthlyMatrices:
    """Dense monthly sums of the primary checks over months first_month..last_month."""
    primary = days.frame["primary"].to_numpy(dtype=bool)
    day = days.frame["day"].to_numpy()[primary]
    row = days.frame["improvement"].to_numpy()[primary].astype("int64")
    col = month_numbers(day).astype("int64") - first_month
    shape = (improvements, last_month - first_month + 1)
    cell = row * shape[1] + col
    size = shape[0] * shape[1]
    sampled = np.bincount(cell, days.frame["sampled"].to_numpy()[primary], minlength=size)
    met = np.bincount(cell, days.frame["met"].to_numpy()[primary], minlength=size)
    last_day = group_max(cell, day, size)
    return MonthlyMatrices(
        first_month, sampled.reshape(shape), met.reshape(shape), last_day.reshape(shape)
    )


def linked_events(
    events: pd.DataFrame,
    improvements: pd.DataFrame,
    date_column: str,
    values: dict[str, np.ndarray],
) -> DaySorted:
    """Pair each event with every improvement at its location that has its theme or is named.

    `values` are per-event arrays carried along (already numeric); the event's `team` (when the
    file has the column) is carried as a code whose text is in the result's `team_names` (-1:
    not recorded). An event matched both by theme and by name counts once for that
    improvement. Locations and themes are matched as integer codes (an event at a location
    with no improvement matches nothing).
    """
    team, team_names = np.full(len(events), -1), np.array([], dtype=object)
    if "team" in events:
        team, names = pd.factorize(events["team"], use_na_sentinel=True)
        team_names = np.asarray(pd.Index(names).astype("object"), dtype=object)
    values = {**values, "team": team.astype("float64")}
    target_location, locations = pd.factorize(improvements["location_id"])
    target_theme, themes = pd.factorize(improvements["theme"])
    location = positions_in(pd.Index(locations), events["location_id"])
    theme = positions_in(pd.Index(themes), events["theme"])
    placed = (location >= 0) & (theme >= 0)
    by_theme = pd.DataFrame(
        {"event": np.flatnonzero(placed), "location": location[placed], "theme": theme[placed]}
    ).merge(
        pd.DataFrame(
            {
                "location": target_location,
                "theme": target_theme,
                "improvement": np.arange(len(improvements)),
            }
        ),
        on=["location", "theme"],
    )[["event", "improvement"]]
    named = (
        positions_in(pd.Index(text(improvements["improvement_id"])), events["improvement_id"])
        if "improvement_id" in events
        else np.full(len(events), -1)
    )
    same_place = (
        (named >= 0) & (location >= 0) & (location == target_location[np.maximum(named, 0)])
    )
    by_name = pd.DataFrame({"event": np.flatnonzero(same_place), "improvement": named[same_place]})
    pairs = pd.concat([by_theme, by_name], ignore_index=True).drop_duplicates(
        ["event", "improvement"]
    )
    event = pairs["event"].to_numpy()
    day = day_numbers(events[date_column])[event]
    linked = pd.DataFrame(
        {
            "event": event,
            "day": day,
            **{k: np.asarray(v)[event] for k, v in values.items()},
            "improvement": pairs["improvement"].to_numpy(),
        }
    )
    linked = linked[~np.isnan(day)].sort_values(
        ["day", "improvement", "event"], kind="stable", ignore_index=True
    )
    return day_sorted(linked[["event", "day", *values, "improvement"]], team_names=team_names)


def linked_incidents(
    incidents: pd.DataFrame, improvements: pd.DataFrame, serious_harms: tuple[str, ...]
) -> DaySorted:
    """Incidents concerning each improvement, with a `serious` flag (harm in serious_harms)."""
    serious = incidents["harm"].astype("object").isin(serious_harms).to_numpy(dtype="float64")
    return linked_events(incidents, improvements, "occurred_on", {"serious": serious})


def linked_feedback(feedback: pd.DataFrame, improvements: pd.DataFrame) -> DaySorted:
    """Feedback concerning each improvement: sentiment, evidence category code, complaint flag.

    Only the numeric columns are carried: the free text never leaves the input frame.
    """
    respondent = pd.Categorical(feedback["respondent"].astype("object"), categories=RESPONDENTS)
    codes = respondent.codes
    category = np.where(codes >= 0, RESPONDENT_CATEGORY_CODE[np.maximum(codes, 0)], -1)
    rating = numbers(feedback["rating"]) if "rating" in feedback else np.full(len(feedback), np.nan)
    values = {
        "sentiment": numbers(feedback["sentiment"]),
        "category": category.astype("int64"),
        "complaint": (feedback["channel"].astype("object") == "complaint").to_numpy(
            dtype="float64", na_value=0.0
        ),
        "rating": np.nan_to_num(rating),
        "rated": (~np.isnan(rating)).astype("float64"),
    }
    return linked_events(feedback, improvements, "received_on", values)


def workforce_weeks(workforce: pd.DataFrame, locations: pd.Index) -> DaySorted:
    """Rota figures with the location's and the team's codes; leavers and key-worker continuity
    counted only where recorded (continuity weighted by the week's planned shifts)."""

    def optional(name: str) -> np.ndarray:
        return numbers(workforce[name]) if name in workforce else np.full(len(workforce), np.nan)

    leavers, continuity = optional("leavers"), optional("keyworker_continuity")
    planned = numbers(workforce["shifts_planned"])
    team, team_names = _team_codes(workforce["team"])
    weeks = pd.DataFrame(
        {
            "location": positions_in(locations, workforce["location_id"]),
            "team": team,
            "day": day_numbers(workforce["week_start"]),
            "planned": planned,
            "agency": numbers(workforce["shifts_agency"]),
            "unfilled": numbers(workforce["shifts_unfilled"]),
            "leavers": np.nan_to_num(leavers),
            "planned_with_leavers": np.where(np.isnan(leavers), 0.0, planned),
            "continuity_weighted": np.nan_to_num(continuity * planned),
            "planned_with_continuity": np.where(np.isnan(continuity), 0.0, planned),
        }
    )
    weeks = weeks[(weeks["location"] >= 0) & weeks["day"].notna() & weeks["planned"].notna()]
    weeks = weeks.sort_values(["day", "location", "team"], kind="stable", ignore_index=True)
    return day_sorted(weeks, team_names=team_names)


def workforce_months(weeks: DaySorted, locations: int, first_month: int, last_month: int):
    """Planned, agency and unfilled shifts per location (rows) x calendar month (columns,
    month `first_month + j`), weeks placed in the month of their week_start."""
    frame = weeks.frame
    month = month_numbers(frame["day"].to_numpy())
    keep = (month >= first_month) & (month <= last_month)
    shape = (locations, last_month - first_month + 1)
    cell = frame["location"].to_numpy()[keep] * shape[1] + (month[keep] - first_month)
    cell = cell.astype("int64")
    size = shape[0] * shape[1]
    return {
        name: np.bincount(cell, frame[name].to_numpy()[keep], minlength=size).reshape(shape)
        for name in ("planned", "agency", "unfilled")
    }


def action_rows(actions: pd.DataFrame, improvement_ids: pd.Index) -> pd.DataFrame:
    """One row per action of a known improvement: improvement (position), immediate (1 for an
    immediate control, 0 for an embedding action), planned, due and completed day numbers."""
    rows = pd.DataFrame(
        {
            "improvement": positions_in(improvement_ids, actions["improvement_id"]),
            "immediate": (actions["kind"].astype("object") == "immediate_control").to_numpy(
                dtype="float64", na_value=0.0
            ),
            "kind_known": actions["kind"].notna().to_numpy(),
            "planned": day_numbers(actions["planned_on"]),
            "due": day_numbers(actions["due_on"]),
            "completed": day_numbers(actions["completed_on"]),
        }
    )
    usable = (rows["improvement"] >= 0) & rows["kind_known"] & rows["planned"].notna()
    return rows[usable].drop(columns="kind_known").reset_index(drop=True)


def team_months(days: DaySorted) -> DaySorted:
    """Primary checks summed to month x improvement x team (met, sampled), sorted by month."""
    primary = days.frame["primary"].to_numpy(dtype=bool)
    column = {
        name: days.frame[name].to_numpy()[primary]
        for name in ("improvement", "team", "met", "sampled")
    }
    keys = {
        "month": month_numbers(days.frame["day"].to_numpy()[primary]),
        "improvement": column["improvement"],
        "team": column["team"],
    }
    values = {"met": column["met"], "sampled": column["sampled"]}
    return day_sorted(sums_by_key(keys, values), "month", days.team_names)


@dataclass(frozen=True)
class LocationSums:
    """Running sums of rota figures per location in day order, so that the sum over any day
    window of any location is two lookups (windows that differ per improvement, such as the
    90 days before its action, cost no loop)."""

    keys: np.ndarray  # location * DAY_SPAN + day, sorted
    sums: dict[str, np.ndarray]  # running sums, one leading 0

    def window(self, location: np.ndarray, first_day: np.ndarray, last_day: np.ndarray):
        """Per query: the sums over the weeks of `location` starting in [first_day, last_day]."""
        base = np.asarray(location, "float64") * DAY_SPAN
        start = np.searchsorted(self.keys, base + first_day, side="left")
        stop = np.searchsorted(self.keys, base + last_day, side="right")
        return {name: running[stop] - running[start] for name, running in self.sums.items()}


# Day numbers stay below this (the year 2243), so location * DAY_SPAN + day orders by location.
DAY_SPAN = 100_000.0


def location_sums(weeks: DaySorted, columns: tuple[str, ...]) -> LocationSums:
    """`columns` of the team-weeks as running sums per location in day order."""
    frame = weeks.frame
    keys = frame["location"].to_numpy("float64") * DAY_SPAN + frame["day"].to_numpy("float64")
    order = np.argsort(keys, kind="stable")
    return LocationSums(
        keys=keys[order],
        sums={
            name: np.concatenate([[0.0], np.cumsum(frame[name].to_numpy("float64")[order])])
            for name in columns
        },
    )
