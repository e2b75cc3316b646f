"""The evidence as prepared once (`Evidence`) and as visible at one as-of date (`AsOfView`).

`prepare_evidence` aggregates every table once (features.panels). `as_of_view` then cuts the
prepared panels at an as-of date `t`: the monthly matrices keep the months up to the month of
`t`, whose column is rebuilt from the checks dated on or before `t` (so a check dated `t + 1`
never counts), and the check rows of the longest day window are sliced out. Every feature
family reads only an `AsOfView`, which is what makes the features point-in-time.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cached_property

import numpy as np
import pandas as pd

from contracts.params import FeatureParams
from features.history import declaration_rows
from features.panels import (
    DaySorted,
    LocationSums,
    MonthlyMatrices,
    action_rows,
    check_days,
    day_numbers,
    day_sorted,
    group_max,
    group_min,
    linked_feedback,
    linked_incidents,
    location_sums,
    month_numbers,
    month_start_day,
    monthly_matrices,
    numbers,
    positions_in,
    ratio,
    team_months,
    text,
    workforce_months,
    workforce_weeks,
)

# Rota figures summed over windows that differ per improvement (features.experience).
WORKFORCE_SUMS = ("planned", "agency", "unfilled", "continuity_weighted", "planned_with_continuity")
# Review levels, lowest first: on a day with several reviews the most senior one counts.
REVIEW_LEVEL_ORDER = {"registered_manager": 0, "senior_leadership": 1, "board": 2}


@dataclass(frozen=True)
class Evidence:
    """All tables aggregated once; improvements addressed by position in `improvements`."""

    improvements: pd.DataFrame  # the improvements table, positional index
    service_type: np.ndarray  # per improvement: its service's type (None when unknown)
    location: np.ndarray  # per improvement: location code (position in `locations`)
    identified_day: np.ndarray
    action_day: np.ndarray  # NaN when no action has started
    action_month: np.ndarray
    declared_day: np.ndarray  # improvements.declared_on (v1 claims, no declarations file)
    declarations: pd.DataFrame | None  # the declarations history (features.history rows)
    standard: np.ndarray
    first_primary_day: np.ndarray  # first primary check of each improvement, NaN when none
    checks: DaySorted
    team_months: DaySorted
    monthly: MonthlyMatrices
    incidents: DaySorted | None
    feedback: DaySorted | None
    workforce: DaySorted | None
    # Planned, agency and unfilled shifts per location x month (the columns of `monthly`).
    workforce_by_month: dict[str, np.ndarray] | None
    workforce_sums: LocationSums | None  # running sums per location (WORKFORCE_SUMS)
    reviews: DaySorted | None
    actions: pd.DataFrame | None


def prepare_evidence(
    tables: dict[str, pd.DataFrame],
    as_of_days: np.ndarray,
    params: FeatureParams,
    serious_harms: tuple[str, ...],
    checks: DaySorted | None = None,
) -> Evidence:
    """Aggregate every present table once, for as-of dates up to max(as_of_days).

    `checks`: the checks already summed by `check_days` for these improvements (in table
    order) and `params.primary_sources`, when the caller has them (they are the costliest
    aggregate at 10M checks).
    """
    improvements = tables["improvements"].reset_index(drop=True)
    ids = pd.Index(text(improvements["improvement_id"]))
    services = tables.get("services")
    locations = pd.Index(text(improvements["location_id"])).unique()
    location = locations.get_indexer(text(improvements["location_id"]))
    if checks is None:
        checks = check_days(tables["checks"], ids, params.primary_sources)
    action_day = day_numbers(improvements["action_started_on"])
    monthly = _monthly(checks, len(ids), as_of_days)
    weeks = workforce_weeks(tables["workforce"], locations) if "workforce" in tables else None
    return Evidence(
        improvements=improvements,
        service_type=_service_types(improvements, services),
        location=location,
        identified_day=day_numbers(improvements["identified_on"]),
        action_day=action_day,
        action_month=month_numbers(action_day),
        declared_day=day_numbers(improvements["declared_on"]),
        declarations=(
            declaration_rows(tables["declarations"], ids) if "declarations" in tables else None
        ),
        standard=numbers(improvements["standard"]),
        first_primary_day=_first_primary_day(checks, len(ids)),
        checks=checks,
        team_months=team_months(checks),
        monthly=monthly,
        incidents=(
            linked_incidents(tables["incidents"], improvements, serious_harms)
            if "incidents" in tables
            else None
        ),
        feedback=(
            linked_feedback(tables["feedback"], improvements) if "feedback" in tables else None
        ),
        workforce=weeks,
        workforce_by_month=(
            None
            if weeks is None
            else workforce_months(
                weeks, len(locations), monthly.first_month, monthly.first_month + monthly.months - 1
            )
        ),
        workforce_sums=None if weeks is None else location_sums(weeks, WORKFORCE_SUMS),
        reviews=_reviews(tables["reviews"], ids) if "reviews" in tables else None,
        actions=action_rows(tables["actions"], ids) if "actions" in tables else None,
    )


def restrict(evidence: Evidence, positions: np.ndarray) -> Evidence:
    """The evidence of the improvements at `positions` only, renumbered 0..len(positions)-1 in
    that order (locations keep their codes, so the rota is shared as it is)."""
    positions = np.asarray(positions, dtype="int64")
    renumber = np.full(len(evidence.improvements) + 1, -1, dtype="int64")
    renumber[positions] = np.arange(len(positions))

    def rows(panel: DaySorted | None, column: str = "day") -> DaySorted | None:
        if panel is None:
            return None
        frame = panel.frame
        new = renumber[frame["improvement"].to_numpy("int64")]
        kept = frame[new >= 0].assign(improvement=new[new >= 0])
        return day_sorted(kept, column, panel.team_names)

    def renumbered(frame: pd.DataFrame | None) -> pd.DataFrame | None:
        if frame is None:
            return None
        new = renumber[frame["improvement"].to_numpy("int64")]
        return frame[new >= 0].assign(improvement=new[new >= 0]).reset_index(drop=True)

    monthly = evidence.monthly
    per_improvement = {
        name: getattr(evidence, name)[positions]
        for name in (
            "service_type",
            "location",
            "identified_day",
            "action_day",
            "action_month",
            "declared_day",
            "standard",
            "first_primary_day",
        )
    }
    return replace(
        evidence,
        improvements=evidence.improvements.iloc[positions].reset_index(drop=True),
        **per_improvement,
        checks=rows(evidence.checks),
        team_months=rows(evidence.team_months, "month"),
        monthly=MonthlyMatrices(
            monthly.first_month,
            monthly.sampled[positions],
            monthly.met[positions],
            monthly.last_day[positions],
        ),
        incidents=rows(evidence.incidents),
        feedback=rows(evidence.feedback),
        reviews=rows(evidence.reviews),
        actions=renumbered(evidence.actions),
        declarations=renumbered(evidence.declarations),
    )


def last_primary_check_day(evidence: Evidence, day: float) -> np.ndarray:
    """Per improvement: the day of its latest primary check on or before `day` (NaN: none)."""
    frame = evidence.checks.window(-np.inf, day)
    primary = frame[frame["primary"]]
    return group_max(
        primary["improvement"].to_numpy(), primary["day"].to_numpy(), len(evidence.improvements)
    )


def _service_types(improvements: pd.DataFrame, services: pd.DataFrame | None) -> np.ndarray:
    if services is None:
        return np.full(len(improvements), None, dtype=object)
    by_location = pd.Series(text(services["service_type"]), index=text(services["location_id"]))
    by_location = by_location[~by_location.index.duplicated()]
    return by_location.reindex(text(improvements["location_id"])).to_numpy(dtype=object)


def _first_primary_day(checks: DaySorted, improvements: int) -> np.ndarray:
    primary = checks.frame["primary"].to_numpy(dtype=bool)
    return group_min(
        checks.frame["improvement"].to_numpy()[primary],
        checks.frame["day"].to_numpy()[primary],
        improvements,
    )


def _monthly(checks: DaySorted, improvements: int, as_of_days: np.ndarray) -> MonthlyMatrices:
    # The month grid covers every check and every as-of month, so any as-of date has a column.
    months = np.concatenate([month_numbers(checks.days), month_numbers(as_of_days)])
    return monthly_matrices(checks, improvements, int(np.nanmin(months)), int(np.nanmax(months)))


def _reviews(reviews: pd.DataFrame, ids: pd.Index) -> DaySorted:
    frame = pd.DataFrame(
        {
            "improvement": positions_in(ids, reviews["improvement_id"]),
            "day": day_numbers(reviews["reviewed_on"]),
            "level": pd.Series(text(reviews["level"]))
            .map(REVIEW_LEVEL_ORDER)
            .fillna(-1)
            .to_numpy(),
            "classification": text(reviews["classification"]),
            "review_id": text(reviews["review_id"]) if "review_id" in reviews else "",
        }
    )
    frame = frame[(frame["improvement"] >= 0) & frame["day"].notna()]
    frame = frame.sort_values(["day", "improvement", "level", "review_id"], ignore_index=True)
    return day_sorted(frame)


@dataclass(frozen=True)
class AsOfView:
    """The evidence as visible at as-of date `t`: nothing dated after `t` is reachable.

    `sampled`, `met` and `last_day` are improvement x month matrices over the months
    `months` (calendar month numbers, the last one the month of `t`, holding only checks
    dated on or before `t`). `recent_checks` holds the check rows dated in the longest day
    window (t - long_days, t].
    """

    evidence: Evidence
    as_of: pd.Timestamp
    day: float
    month: int
    months: np.ndarray
    sampled: np.ndarray
    met: np.ndarray
    last_day: np.ndarray
    recent_checks: pd.DataFrame
    current_month_checks: pd.DataFrame

    @cached_property
    def compliance(self) -> np.ndarray:
        """Monthly compliance (met / sampled); NaN for a month without primary checks."""
        return ratio(self.met, self.sampled)

    @cached_property
    def at_standard(self) -> np.ndarray:
        """Improvement x month: 1.0 at or above the standard, 0.0 below, NaN without a value."""
        above = self.compliance >= self.evidence.standard[:, None]
        return np.where(np.isnan(self.compliance), np.nan, above.astype("float64"))

    @property
    def action_started(self) -> np.ndarray:
        """True where action started on or before `t`."""
        return self.evidence.action_day <= self.day

    @cached_property
    def since_action(self) -> np.ndarray:
        """Improvement x month mask: months from the action month to the month of `t`."""
        started = self.action_started[:, None]
        return started & (self.months[None, :] >= self.evidence.action_month[:, None])

    def checks_within(self, days: int) -> pd.DataFrame:
        """Check rows dated in the `days` days to `t`: (t - days, t]."""
        frame = self.recent_checks
        return frame[frame["day"] > self.day - days]

    def workforce_within(self, skip_days: int, days: int) -> pd.DataFrame:
        """Team-weeks starting in (t - days, t - skip_days] (the workforce file must exist)."""
        return self.evidence.workforce.window(self.day - days + 1, self.day - skip_days)

    def staffing_by_month(self) -> dict[str, np.ndarray] | None:
        """Planned, agency and unfilled shifts per location x month of `months`, the month of
        `t` from the weeks starting on or before `t`; None without a workforce file."""
        evidence = self.evidence
        if evidence.workforce_by_month is None:
            return None
        last = evidence.monthly.column(self.month)
        current = evidence.workforce.window(month_start_day(self.month), self.day)
        locations = len(next(iter(evidence.workforce_by_month.values())))
        location = current["location"].to_numpy()
        return {
            name: np.column_stack(
                [
                    matrix[:, :last],
                    np.bincount(location, current[name].to_numpy(), minlength=locations),
                ]
            )
            for name, matrix in evidence.workforce_by_month.items()
        }


def as_of_view(evidence: Evidence, as_of: pd.Timestamp, params: FeatureParams) -> AsOfView:
    """Cut the prepared evidence at `as_of` (see AsOfView)."""
    day = float(day_numbers(pd.DatetimeIndex([as_of]))[0])
    month = int(month_numbers(np.array([day]))[0])
    monthly = evidence.monthly
    last_column = monthly.column(month)
    current = evidence.checks.window(month_start_day(month), day)
    current_primary = current[current["primary"]]
    sampled, met, last_day = _current_month(evidence, current_primary)
    return AsOfView(
        evidence=evidence,
        as_of=pd.Timestamp(as_of),
        day=day,
        month=month,
        months=np.arange(monthly.first_month, month + 1),
        sampled=np.column_stack([monthly.sampled[:, :last_column], sampled]),
        met=np.column_stack([monthly.met[:, :last_column], met]),
        last_day=np.column_stack([monthly.last_day[:, :last_column], last_day]),
        recent_checks=evidence.checks.window(day - params.long_days + 1, day),
        current_month_checks=current_primary,
    )


def _current_month(evidence: Evidence, primary: pd.DataFrame):
    """Sums of the primary checks of the as-of month dated on or before the as-of date."""
    count = len(evidence.improvements)
    row = primary["improvement"].to_numpy()
    sampled = np.bincount(row, primary["sampled"].to_numpy(), minlength=count)
    met = np.bincount(row, primary["met"].to_numpy(), minlength=count)
    return sampled, met, group_max(row, primary["day"].to_numpy(), count)
