"""Configuration of the feature and label builders: one frozen object each, passed down.

`FeatureParams` holds the look-back windows (in exact days, counted back from the as-of date)
and the month caps of the monthly-series features; `LabelParams` holds every parameter of the
outcome label (shared/spec/evidence-exports.md, "When an improvement holds").
"""

from __future__ import annotations

from dataclasses import dataclass

from features.contract import PRIMARY_CHECK_SOURCES, SERIOUS_HARMS


@dataclass(frozen=True)
class FeatureParams:
    """Windows and thresholds of the point-in-time features.

    Day windows are exact: a window of `d` days for as-of date `t` holds rows dated in
    (t - d days, t], so a row dated `t` is in and a row dated `t + 1 day` is not.
    Month windows count calendar months ending with the month of `t`, that month holding only
    the rows dated on or before `t`.
    """

    recent_days: int = 90  # the `_90d` windows
    long_days: int = 180  # the `_180d` windows, and the before-action incident window
    slope_since_action_max_months: int = 12  # Theil-Sen since action uses at most this many
    slope_short_months: int = 3
    slope_long_months: int = 6
    first_cycle_months: int = 2  # a slip within this many months of first meeting the standard
    spc_recent_points: int = 3  # points of the chart that count as "latest"
    spc_min_points: int = 3  # fewer monthly points than this: no SPC features
    primary_sources: tuple[str, ...] = PRIMARY_CHECK_SOURCES


@dataclass(frozen=True)
class LabelParams:
    """Parameters of the outcome label: horizon, observation and slip rules (spec steps 1-5)."""

    horizon_months: int = 6
    min_observed_months: int = 2
    consecutive_below: int = 2
    serious_harms: tuple[str, ...] = SERIOUS_HARMS
    primary_sources: tuple[str, ...] = PRIMARY_CHECK_SOURCES
