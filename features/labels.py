"""The outcome label: does an improvement hold over the months after an as-of date?

Exactly the spec's "When an improvement holds" (shared/spec/evidence-exports.md):

1. monthly compliance pools the primary checks of a calendar month (sum met / sum sampled);
2. the window is the `horizon_months` whole calendar months after the month containing t;
3. the improvement slips when `consecutive_below` consecutive window months all have
   compliance below the standard (a month without a value breaks the run), or when an
   incident in the window at its location with its theme (or naming it) has a serious harm;
4. the label is observed when at least `min_observed_months` window months have a value, or
   such an incident occurred; otherwise it is censored (held = <NA>);
5. held = observed and no slip.

Only rows dated after the month of t are read for the label of t: the label never sees the
month of t itself or anything before it.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from contracts.params import LabelParams
from features.columns import AS_OF, HELD, IMPROVEMENT_ID, LABEL_OBSERVED, SLIP_REASON
from features.panels import (
    check_days,
    day_numbers,
    linked_incidents,
    month_numbers,
    month_start_day,
    monthly_matrices,
    numbers,
    ratio,
    text,
)


def build_labels(
    tables: dict[str, pd.DataFrame],
    as_of_dates: Iterable,
    params: LabelParams = LabelParams(),  # noqa: B008
) -> pd.DataFrame:
    """Labels of every improvement identified on or before each as-of date.

    Returns improvement_id, as_of, held (Int64: 1 held, 0 slipped, <NA> censored),
    label_observed (bool) and slip_reason ("compliance", "incident", "both" or <NA>), sorted
    by improvement_id then as_of. Meant for month-end as-of dates; any date works (its
    window starts with the next calendar month).
    """
    dates = pd.DatetimeIndex(pd.to_datetime(list(np.atleast_1d(as_of_dates)))).normalize()
    dates = dates.unique().sort_values()
    improvements = tables["improvements"].reset_index(drop=True)
    if len(dates) == 0:
        return _finish([])
    ids = pd.Index(text(improvements[IMPROVEMENT_ID]))
    days = check_days(tables["checks"], ids, params.primary_sources)
    as_of_months = month_numbers(day_numbers(dates))
    months = np.concatenate(
        [month_numbers(days.days), as_of_months, as_of_months + params.horizon_months]
    )
    monthly = monthly_matrices(days, len(ids), int(np.nanmin(months)), int(np.nanmax(months)))
    compliance = ratio(monthly.met, monthly.sampled)
    standard = numbers(improvements["standard"])
    incidents = (
        linked_incidents(tables["incidents"], improvements, params.serious_harms)
        if "incidents" in tables
        else None
    )
    identified = day_numbers(improvements["identified_on"])
    frames = []
    for as_of, month in zip(dates, as_of_months.astype("int64"), strict=True):
        window = compliance[
            :, monthly.column(month) + 1 : monthly.column(month) + 1 + params.horizon_months
        ]
        serious = serious_incident_in_window(incidents, month, params, len(ids))
        frame = labels_for_window(window, standard, serious, params)
        keep = identified <= day_numbers(pd.DatetimeIndex([as_of]))[0]
        frames.append(frame.assign(**{IMPROVEMENT_ID: ids.to_numpy(), AS_OF: as_of})[keep])
    return _finish(frames)


def serious_incident_in_window(
    incidents, month: int, params: LabelParams, count: int
) -> np.ndarray:
    """Per improvement: a serious-harm incident concerning it dated in the label window."""
    if incidents is None:
        return np.zeros(count, dtype=bool)
    first = month_start_day(month + 1)
    last = month_start_day(month + 1 + params.horizon_months) - 1
    rows = incidents.window(first, last)
    rows = rows[rows["serious"] > 0]
    return np.bincount(rows["improvement"].to_numpy(), minlength=count)[:count] > 0


def labels_for_window(
    window: np.ndarray, standard: np.ndarray, serious: np.ndarray, params: LabelParams
) -> pd.DataFrame:
    """held, label_observed and slip_reason from the window's monthly compliance (rows:
    improvements, columns: the horizon months, NaN without a value)."""
    below = window < standard[:, None]  # NaN compares False: a month without a value breaks runs
    compliance_slip = consecutive_true(below, params.consecutive_below)
    valued = np.count_nonzero(~np.isnan(window), axis=1)
    observed = (valued >= params.min_observed_months) | serious
    slipped = compliance_slip | serious
    held = pd.array(np.where(slipped, 0, 1), dtype="Int64")
    held[~observed] = pd.NA
    reason = np.select(
        [compliance_slip & serious, compliance_slip, serious],
        ["both", "compliance", "incident"],
        default="",
    )
    return pd.DataFrame(
        {
            HELD: held,
            LABEL_OBSERVED: observed,
            SLIP_REASON: pd.Series(reason, dtype="str").replace("", pd.NA),
        }
    )


def consecutive_true(mask: np.ndarray, run: int) -> np.ndarray:
    """Per row: some `run` consecutive columns are all True."""
    if mask.shape[1] < run:
        return np.zeros(len(mask), dtype=bool)
    found = np.ones((len(mask), mask.shape[1] - run + 1), dtype=bool)
    for offset in range(run):  # a loop over the run length (2), not over rows
        found &= mask[:, offset : mask.shape[1] - run + 1 + offset]
    return found.any(axis=1)


def _finish(frames: list[pd.DataFrame]) -> pd.DataFrame:
    columns = [IMPROVEMENT_ID, AS_OF, HELD, LABEL_OBSERVED, SLIP_REASON]
    if not frames:
        return pd.DataFrame(
            {
                IMPROVEMENT_ID: pd.Series(dtype="str"),
                AS_OF: pd.Series(dtype="datetime64[ns]"),
                HELD: pd.Series(dtype="Int64"),
                LABEL_OBSERVED: pd.Series(dtype="bool"),
                SLIP_REASON: pd.Series(dtype="str"),
            }
        )
    frame = pd.concat(frames, ignore_index=True)[columns]
    frame = frame.astype({IMPROVEMENT_ID: "str", AS_OF: "datetime64[ns]"})
    return frame.sort_values([IMPROVEMENT_ID, AS_OF], ignore_index=True)
