"""Training snapshots: features and label for every eligible month-end as-of date.

Spec rule 6: training and evaluation use month-end as-of dates t with action_started_on <= t
and at least one primary check dated on or before t. Features at t use only rows dated on or
before t; labels only rows dated after the month of t.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from contracts.export import CHECK_SOURCES, PRIMARY_CHECK_SOURCES
from contracts.params import FeatureParams, LabelParams
from features.build import build_feature_frame
from features.columns import AS_OF, HELD, IMPROVEMENT_ID, KEY_COLUMNS
from features.labels import build_labels
from features.panels import day_numbers, text, vocabulary_codes


def month_ends(start, end) -> pd.DatetimeIndex:
    """Every month-end date in [start, end]."""
    return pd.date_range(pd.Timestamp(start).normalize(), pd.Timestamp(end).normalize(), freq="ME")


def eligible_as_of_dates(
    tables: dict[str, pd.DataFrame],
    start,
    end,
    primary_sources: tuple[str, ...] = PRIMARY_CHECK_SOURCES,
) -> pd.DataFrame:
    """(improvement_id, as_of) pairs of month-ends t in [start, end] with action started on or
    before t and a primary check dated on or before t; sorted by improvement_id, as_of."""
    improvements, checks = tables["improvements"], tables["checks"]
    codes = vocabulary_codes(checks["source"], CHECK_SOURCES)
    primary = checks[np.isin(codes, [CHECK_SOURCES.index(s) for s in primary_sources])]
    first_check = (
        pd.Series(day_numbers(primary["checked_on"]), index=text(primary[IMPROVEMENT_ID]))
        .groupby(level=0)
        .min()
    )
    ids = text(improvements[IMPROVEMENT_ID])
    ready = np.fmax(
        day_numbers(improvements["action_started_on"]), first_check.reindex(ids).to_numpy()
    )
    # fmax ignores one NaN: put it back, since both conditions are needed.
    ready[np.isnan(day_numbers(improvements["action_started_on"]))] = np.nan
    ready[np.isnan(first_check.reindex(ids).to_numpy())] = np.nan
    dates = month_ends(start, end)
    date_days = day_numbers(dates)
    row, column = np.nonzero(ready[:, None] <= date_days[None, :])
    pairs = pd.DataFrame(
        {
            IMPROVEMENT_ID: pd.Series(ids[row], dtype="str"),
            AS_OF: dates[column].astype("datetime64[ns]"),
        }
    )
    return pairs.sort_values(list(KEY_COLUMNS), ignore_index=True)


def build_training_snapshots(
    tables: dict[str, pd.DataFrame],
    start,
    end,
    *,
    observable_by=None,
    feature_params: FeatureParams = FeatureParams(),  # noqa: B008
    label_params: LabelParams = LabelParams(),  # noqa: B008
) -> pd.DataFrame:
    """Features (features.build) and label (features.labels) of every eligible pair.

    With `observable_by` (a date: the last day the export covers), only as-of dates whose
    whole label window ends on or before it are kept, so that no label is judged on a window
    the export has not reached yet. Censored rows are kept with label_observed False and held
    <NA>: the model drops them, the backtest counts them.
    """
    pairs = eligible_as_of_dates(tables, start, end, feature_params.primary_sources)
    if observable_by is not None:
        window_end = pairs[AS_OF] + pd.offsets.MonthEnd(label_params.horizon_months)
        pairs = pairs[window_end <= pd.Timestamp(observable_by)]
    dates = pairs[AS_OF].unique()
    features = build_feature_frame(tables, dates, feature_params)
    labels = build_labels(tables, dates, label_params)
    frame = pairs.merge(features, on=list(KEY_COLUMNS), how="inner")
    frame = frame.merge(labels, on=list(KEY_COLUMNS), how="inner")
    return frame.sort_values(list(KEY_COLUMNS), ignore_index=True)


def labelled_snapshots(
    tables: dict[str, pd.DataFrame],
    as_of,
    feature_params: FeatureParams = FeatureParams(),  # noqa: B008
    label_params: LabelParams = LabelParams(),  # noqa: B008
) -> pd.DataFrame:
    """What `takehold train` fits on: every eligible month-end snapshot whose label window has
    closed by `as_of` and whose label is observed (censored rows dropped)."""
    start = tables["improvements"]["identified_on"].min()
    snapshots = build_training_snapshots(
        tables,
        start,
        pd.Timestamp(as_of),
        observable_by=pd.Timestamp(as_of),
        feature_params=feature_params,
        label_params=label_params,
    )
    return snapshots[snapshots[HELD].notna()].reset_index(drop=True)
