"""The minimum-history check: what labelled snapshots an export holds, and what is missing."""

from __future__ import annotations

import pandas as pd

from contracts.params import ModelSettings
from models.history import history_shortfalls, labelled_history, months_of_history_needed

HORIZON = 6


def snapshots(months: int, improvements: int = 2, censored_last: int = 0) -> pd.DataFrame:
    """One snapshot per improvement and month-end from January 2022; held alternates 1, 0 by
    month; the last `censored_last` months have no label."""
    ends = pd.date_range("2022-01-31", periods=months, freq="ME")
    rows = [
        {
            "improvement_id": f"IMP-{i}",
            "as_of": end,
            "location_id": f"LOC-{i % 2}",
            "held": pd.NA if m >= months - censored_last else (m + i) % 2,
        }
        for i in range(improvements)
        for m, end in enumerate(ends)
    ]
    return pd.DataFrame(rows).astype({"held": "Int64"})


def test_the_history_is_counted_from_labelled_snapshots_only():
    history = labelled_history(snapshots(12, improvements=3, censored_last=2), HORIZON)
    assert history.snapshots == 30  # 3 improvements x 10 labelled months
    assert (history.improvements, history.services) == (3, 2)
    assert history.held + history.slipped == 30 and history.held == 15
    assert history.months == 10
    assert (history.first_as_of, history.last_as_of) == (
        pd.Timestamp("2022-01-31"),
        pd.Timestamp("2022-10-31"),
    )
    assert "30 labelled snapshots of 3 improvements in 2 services (15 held, 15 slipped)" in (
        history.sentence()
    )


def test_the_backtest_needs_seventeen_months_of_labelled_as_of_dates():
    assert months_of_history_needed(HORIZON) == 17
    assert labelled_history(snapshots(16), HORIZON).backtest_folds == 0
    assert labelled_history(snapshots(17), HORIZON).backtest_folds == 1


def test_each_shortfall_is_named_and_enough_history_has_none():
    needs = ModelSettings(
        min_training_rows=40, min_training_improvements=2, min_outcome_snapshots=10
    )
    short = history_shortfalls(labelled_history(snapshots(12), HORIZON), needs, HORIZON)
    assert short == [
        "at least 40 labelled snapshots",
        "about 17 months of labelled as-of dates, with both outcomes in the first 6, so that "
        "the backtest can test the model on months it did not learn from",
    ]
    assert history_shortfalls(labelled_history(snapshots(24), HORIZON), needs, HORIZON) == []
    one_sided = snapshots(24).assign(held=1).astype({"held": "Int64"})
    assert history_shortfalls(labelled_history(one_sided, HORIZON), needs, HORIZON) == [
        "at least 10 labelled snapshots that held and as many that slipped",
        "about 17 months of labelled as-of dates, with both outcomes in the first 6, so that "
        "the backtest can test the model on months it did not learn from",
    ]


def test_no_labelled_snapshot_says_so():
    empty = snapshots(3, censored_last=3)
    history = labelled_history(empty, HORIZON)
    assert history.snapshots == 0
    assert history.sentence() == (
        "the export has no labelled snapshot (no improvement's outcome is known yet)"
    )
    assert len(history_shortfalls(history, ModelSettings(), HORIZON)) == 4
