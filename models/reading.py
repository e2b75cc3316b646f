"""The frame the rules read: the features, the names of each improvement's teams, and for an
improvement leaders have closed, its evidence as it stood when monitoring ended.

The nightly run (`pipelines.stages.score_partition`) builds it between the features and the
rules; the model never reads it (the model scores the features as of as_of).
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from contracts.params import FeatureParams
from contracts.vocabulary import CLOSED
from features.build import build_features_at
from features.columns import (
    AS_OF,
    DAYS_SINCE_CLAIM,
    DAYS_SINCE_IDENTIFIED,
    DAYS_SINCE_MONITORING_ENDED,
    DECLARED_STATUS,
    IMPROVEMENT_ID,
    LATEST_REVIEW_CLASSIFICATION,
    SERIOUS_THEME_INCIDENTS_365D_COUNT,
    SERIOUS_THEME_INCIDENTS_SINCE_CLAIM_COUNT,
    TEAM_NAME_COLUMNS,
)
from features.evidence import Evidence, last_primary_check_day
from features.panels import day_numbers, positions_in

# What a closed improvement's reading keeps from as_of itself: the claim and what followed it.
READ_AT_AS_OF = (
    DECLARED_STATUS,
    LATEST_REVIEW_CLASSIFICATION,
    DAYS_SINCE_CLAIM,
    DAYS_SINCE_IDENTIFIED,
    SERIOUS_THEME_INCIDENTS_SINCE_CLAIM_COUNT,
    SERIOUS_THEME_INCIDENTS_365D_COUNT,
    *TEAM_NAME_COLUMNS,
    DAYS_SINCE_MONITORING_ENDED,
)


def rules_reading(
    features: pd.DataFrame,
    names: pd.DataFrame,
    evidence: Evidence,
    as_of: date,
    params: FeatureParams,
) -> tuple[pd.DataFrame, pd.Series]:
    """The frame the rules read, and the day monitoring ended for each closed improvement.

    The features with the names of each improvement's teams (features.teams). For an
    improvement leaders have closed, monitoring may end: it ended at the closure when no
    primary check followed it, or at the last check when checks went on after the closure but
    none came in the `recent_days` to as_of. Its evidence is then read as of that day, so a
    closed improvement whose checks stopped keeps the stage its evidence had rather than
    decaying into a false alarm; the claim, and anything since the closure, are still read as
    of as_of (`READ_AT_AS_OF`). Returns the frame (rows and order of `features`, plus
    DAYS_SINCE_MONITORING_ENDED) and the end dates (NaT where monitoring goes on).
    """
    reading = features.merge(names, on=IMPROVEMENT_ID, how="left", validate="one_to_one")
    reading[list(TEAM_NAME_COLUMNS)] = reading[list(TEAM_NAME_COLUMNS)].fillna("")
    today = float(day_numbers(pd.DatetimeIndex([pd.Timestamp(as_of)]))[0])
    end = monitoring_end_days(reading, evidence, today, params.recent_days)
    reading[DAYS_SINCE_MONITORING_ENDED] = today - end
    ended = pd.Series(pd.to_datetime(end, unit="D"), index=reading.index, dtype="datetime64[ns]")
    evaluated = month_ends(end, today)  # NaN stays NaN
    earlier = evaluated < today  # ended in an earlier month than as_of
    if not earlier.any():
        return reading, ended
    ids = pd.Index(evidence.improvements[IMPROVEMENT_ID].astype("str"))
    positions = positions_in(ids, reading.loc[earlier, IMPROVEMENT_ID])
    then = build_features_at(evidence, positions, evaluated[earlier], params)
    now = reading.loc[earlier, [IMPROVEMENT_ID, *READ_AT_AS_OF]]
    then = (
        then.drop(columns=[AS_OF, *[c for c in READ_AT_AS_OF if c in then]])
        .merge(now, on=IMPROVEMENT_ID, validate="one_to_one")
        .assign(**{AS_OF: reading[AS_OF].iloc[0]})
    )
    merged = pd.concat([reading[~earlier], then[reading.columns]])
    order = pd.Index(reading[IMPROVEMENT_ID]).get_indexer(merged[IMPROVEMENT_ID])
    return merged.set_axis(order).sort_index(), ended


def month_ends(days: np.ndarray, today: float) -> np.ndarray:
    """Each day moved to the last day of its month (at most `today`): one feature pass per
    month in which monitoring ended, rather than per day. Nothing was checked after monitoring
    ended, so the month's extra days add only feedback and incidents, all on or before today."""
    known = ~np.isnan(days)
    months = (
        np.where(known, days, 0).astype("int64").astype("datetime64[D]").astype("datetime64[M]")
    )
    last = ((months + 1).astype("datetime64[D]") - 1).astype("int64").astype("float64")
    return np.where(known, np.minimum(last, today), np.nan)


def monitoring_end_days(
    reading: pd.DataFrame, evidence: Evidence, today: float, recent_days: int
) -> np.ndarray:
    """Per row: the day number monitoring ended for an improvement leaders have closed (the
    closure when no primary check followed it; the last check when checks followed but none
    in the `recent_days` to today), NaN otherwise."""
    end = np.full(len(reading), np.nan)
    closed = (reading[DECLARED_STATUS].astype("str") == CLOSED).to_numpy()
    if not closed.any():
        return end
    ids = pd.Index(evidence.improvements[IMPROVEMENT_ID].astype("str"))
    positions = positions_in(ids, reading.loc[closed, IMPROVEMENT_ID])
    last = last_primary_check_day(evidence, today)[positions]
    closed_day = today - reading.loc[closed, DAYS_SINCE_CLAIM].to_numpy(dtype="float64")
    stopped = ~(last > closed_day)  # no check after the closure (NaN: none at all)
    quiet = last <= today - recent_days
    end[closed] = np.where(stopped, closed_day, np.where(quiet, last, np.nan))
    return end
