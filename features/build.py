"""The point-in-time feature frame: one row per (improvement_id, as_of).

Every table is aggregated once (features.evidence.prepare_evidence); then, for each distinct
as-of date, the prepared panels are cut at that date (features.evidence.as_of_view) and every
family computes its features for all improvements at once with array operations. The loop
runs over the as-of dates only (a few dozen for training, one at night), never over
improvements or rows.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

import numpy as np
import pandas as pd

from contracts.export import (
    CLAIMS_IN_FORCE,
    KEY_QUESTIONS,
    ORIGINS,
    REVIEW_CLASSIFICATIONS,
    SERIOUS_HARMS,
    SERVICE_TYPES,
    SEVERITIES,
    THEMES,
)
from contracts.params import FeatureParams
from features.actions import action_features
from features.columns import (
    AS_OF,
    CATEGORICAL_FEATURES,
    FEATURE_NAMES,
    IMPROVEMENT_ID,
    LOCATION_ID,
)
from features.context import NONE, context_features
from features.evidence import AsOfView, Evidence, as_of_view, prepare_evidence, restrict
from features.experience import experience_features
from features.panels import DaySorted, day_numbers, text
from features.recurrence import recurrence_features
from features.spc_features import spc_features
from features.spread import spread_features
from features.staff import staff_features
from features.teams import team_names, team_table
from features.timeline import timeline_features
from features.trend import trend_features

log = logging.getLogger(__name__)

# The categories of every categorical feature, fixed so that frames built from different
# exports (or different as-of dates) share one dtype.
CATEGORIES = {
    "severity": SEVERITIES,
    "origin": ORIGINS,
    "theme": THEMES,
    "key_question": KEY_QUESTIONS,
    "service_type": SERVICE_TYPES,
    "declared_status": CLAIMS_IN_FORCE,
    "latest_review_classification": (*REVIEW_CLASSIFICATIONS, NONE),
}


def build_feature_frame(
    tables: dict[str, pd.DataFrame],
    as_of_dates: Iterable,
    params: FeatureParams = FeatureParams(),  # noqa: B008
    evidence: Evidence | None = None,
) -> pd.DataFrame:
    """Features of every improvement identified on or before each as-of date.

    `tables` are the typed frames of `pipelines.io` (absent optional files are not keys;
    their features are NaN). Each as-of date is a day: rows dated on or before it are used,
    rows dated after it are not. Returns improvement_id, as_of, location_id, then
    FEATURE_NAMES in order, sorted by improvement_id then as_of. `evidence`: these tables
    already prepared (`prepare_as_of`) for these dates, when the caller needs them too.
    """
    dates = as_of_timestamps(as_of_dates)
    if len(dates) == 0:
        return empty_feature_frame()
    evidence = evidence or prepare_as_of(tables, dates, params)
    frames = [features_as_of(as_of_view(evidence, as_of, params), params) for as_of in dates]
    frame = pd.concat(frames, ignore_index=True)
    log.info("built %d feature rows for %d as-of dates", len(frame), len(dates))
    return finish(frame)


def prepare_as_of(
    tables: dict[str, pd.DataFrame],
    as_of_dates: Iterable,
    params: FeatureParams = FeatureParams(),  # noqa: B008
    checks: DaySorted | None = None,
) -> Evidence:
    """Every table aggregated once for these as-of dates (features.evidence.prepare_evidence);
    `checks`: the checks already summed by `check_days`, when the caller has them."""
    days = day_numbers(as_of_timestamps(as_of_dates))
    return prepare_evidence(tables, days, params, SERIOUS_HARMS, checks)


def as_of_timestamps(as_of_dates: Iterable) -> pd.DatetimeIndex:
    """Distinct as-of dates, normalised to midnight and sorted."""
    values = pd.DatetimeIndex(pd.to_datetime(list(np.atleast_1d(as_of_dates))))
    return values.normalize().unique().sort_values()


def features_as_of(view: AsOfView, params: FeatureParams) -> pd.DataFrame:
    """Feature rows at one as-of date, for improvements identified on or before it."""
    evidence = view.evidence
    columns = {
        **timeline_features(view),
        **trend_features(view, params),
        **spc_features(view, params),
        **spread_features(view, params),
        **recurrence_features(view, params),
        **staff_features(view, params),
        **experience_features(view, params),
        **context_features(view),
        **action_features(view),
    }
    keys = {
        IMPROVEMENT_ID: text(evidence.improvements[IMPROVEMENT_ID]),
        AS_OF: np.full(len(evidence.improvements), view.as_of.to_datetime64()),
        LOCATION_ID: text(evidence.improvements[LOCATION_ID]),
    }
    frame = pd.DataFrame({**keys, **{name: columns[name] for name in FEATURE_NAMES}})
    return frame[evidence.identified_day <= view.day]


def build_features_at(
    evidence: Evidence,
    positions: np.ndarray,
    days: np.ndarray,
    params: FeatureParams = FeatureParams(),  # noqa: B008
) -> pd.DataFrame:
    """Features of the improvements at `positions` (in `evidence`), each as of its own day in
    `days` (day numbers), as `build_feature_frame` gives them (sorted by improvement_id; the
    as_of column holds each row's own day). One pass per distinct day, over those
    improvements only."""
    if len(positions) == 0:
        return empty_feature_frame()
    subset = restrict(evidence, positions)
    frames = []
    for day in np.unique(days):  # a loop over distinct dates, as build_feature_frame's
        view = as_of_view(subset, pd.Timestamp(int(day), unit="D"), params)
        rows = features_as_of(view, params)
        frames.append(rows[days[rows.index.to_numpy()] == day])
    return finish(pd.concat(frames, ignore_index=True))


def build_team_frame(
    evidence: Evidence,
    as_of,
    params: FeatureParams = FeatureParams(),  # noqa: B008
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The team table at one as-of date (features.teams) for improvements identified by then,
    and, per improvement, the names of its teams at and below the standard and of the team
    where key-worker continuity lags.

    Returns (teams: improvement_id, location_id, team and the columns of `team_table`;
    names: improvement_id and the columns TEAM_NAME_COLUMNS); teams in the order of the
    improvements table, then by team name; names sorted by improvement_id.
    `evidence` is the tables prepared for this date (`prepare_as_of`).
    """
    view = as_of_view(evidence, as_of_timestamps([as_of])[0], params)
    known = np.flatnonzero(evidence.identified_day <= view.day)
    ids = text(evidence.improvements[IMPROVEMENT_ID])
    locations = text(evidence.improvements[LOCATION_ID])
    teams = team_table(view, params)
    teams = teams[np.isin(teams["improvement"].to_numpy(), known)]
    position = teams["improvement"].to_numpy()
    teams = pd.concat(
        [
            pd.DataFrame(
                {IMPROVEMENT_ID: ids[position], LOCATION_ID: locations[position]},
                index=teams.index,
            ).astype("str"),
            teams.drop(columns=["improvement", "latest_check_day"]).assign(
                latest_check_on=pd.to_datetime(teams["latest_check_day"], unit="D")
            ),
        ],
        axis=1,
    )
    names = (
        team_names(teams.assign(improvement=position), len(ids))
        .iloc[known]
        .assign(**{IMPROVEMENT_ID: ids[known]})
    )
    order = [IMPROVEMENT_ID, *[c for c in names.columns if c != IMPROVEMENT_ID]]
    return (
        teams.reset_index(drop=True),
        names[order].sort_values(IMPROVEMENT_ID, ignore_index=True),
    )


def finish(frame: pd.DataFrame) -> pd.DataFrame:
    """Give every column its dtype and sort the rows by improvement_id, as_of."""
    typed = {
        name: (
            pd.Categorical(frame[name], categories=list(CATEGORIES[name]))
            if name in CATEGORICAL_FEATURES
            else frame[name].astype("float64")
        )
        for name in FEATURE_NAMES
    }
    out = pd.DataFrame(
        {
            IMPROVEMENT_ID: frame[IMPROVEMENT_ID].astype("str"),
            AS_OF: frame[AS_OF].astype("datetime64[ns]"),
            LOCATION_ID: frame[LOCATION_ID].astype("str"),
            **typed,
        }
    )
    return out.sort_values([IMPROVEMENT_ID, AS_OF], ignore_index=True)


def empty_feature_frame() -> pd.DataFrame:
    """The feature frame with no rows and every column typed."""
    frame = pd.DataFrame(
        {IMPROVEMENT_ID: [], AS_OF: [], LOCATION_ID: [], **{name: [] for name in FEATURE_NAMES}}
    )
    return finish(frame)
