"""How much labelled history an export holds, and whether it is enough to train the model.

Training needs labelled snapshots (month-end as-of dates whose outcome over the horizon is
known), of both outcomes, from enough improvements, and spread over enough months for the
rolling-origin backtest to test the model on months it did not train on. A small provider
group may not have that yet: the check says, in plain words, what the export has and what the
model needs, before any fitting starts (the rules need no history and score it anyway).
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from contracts.params import ModelSettings
from features.columns import AS_OF, HELD, IMPROVEMENT_ID
from models.backtest import default_cutoffs, fold_masks, labelled_rows

# The backtest's first cutoff leaves this many months of training as-of dates (its default).
BACKTEST_TRAINING_MONTHS = 6


@dataclass(frozen=True)
class LabelledHistory:
    """What an export's labelled snapshots hold."""

    snapshots: int
    services: int
    improvements: int
    held: int
    slipped: int
    first_as_of: pd.Timestamp | None
    last_as_of: pd.Timestamp | None
    months: int  # calendar months from the first labelled as-of date to the last
    backtest_folds: int  # cutoffs with training rows of both outcomes and test rows

    def sentence(self) -> str:
        """The history in one sentence a quality lead can read."""
        if not self.snapshots:
            return "the export has no labelled snapshot (no improvement's outcome is known yet)"
        return (
            f"the export has {self.snapshots:,} labelled snapshots of {self.improvements:,} "
            f"improvement{_s(self.improvements)} in {self.services:,} service{_s(self.services)} "
            f"({self.held:,} held, {self.slipped:,} slipped), over {self.months} month"
            f"{_s(self.months)} of as-of dates ({self.first_as_of:%Y-%m} to "
            f"{self.last_as_of:%Y-%m})"
        )


def _s(count: int) -> str:
    return "" if count == 1 else "s"


def labelled_history(snapshots: pd.DataFrame, horizon_months: int) -> LabelledHistory:
    """Count what the labelled snapshots hold, and how many backtest folds they allow."""
    rows = labelled_rows(snapshots)
    if rows.empty:
        return LabelledHistory(0, 0, 0, 0, 0, None, None, 0, 0)
    as_of = pd.to_datetime(rows[AS_OF])
    first, last = as_of.min(), as_of.max()
    return LabelledHistory(
        snapshots=len(rows),
        services=int(rows["location_id"].nunique()) if "location_id" in rows else 0,
        improvements=int(rows[IMPROVEMENT_ID].nunique()),
        held=int(rows[HELD].sum()),
        slipped=int((rows[HELD] == 0).sum()),
        first_as_of=first,
        last_as_of=last,
        months=(last.year - first.year) * 12 + last.month - first.month + 1,
        backtest_folds=_usable_folds(rows.assign(**{AS_OF: as_of}), horizon_months),
    )


def _usable_folds(rows: pd.DataFrame, horizon_months: int) -> int:
    """Cutoffs the backtest can use: training rows of both outcomes, and test rows."""
    usable = 0
    for cutoff in default_cutoffs(rows[AS_OF], horizon_months):
        train, test = fold_masks(rows[AS_OF], cutoff, horizon_months, horizon_months)
        usable += bool(rows.loc[train, HELD].nunique() == 2 and test.any())
    return usable


def months_of_history_needed(horizon_months: int) -> int:
    """Months of labelled as-of dates the backtest needs for one cutoff: training months whose
    outcome is known by the cutoff, then a horizon of test months after it."""
    return BACKTEST_TRAINING_MONTHS + 2 * horizon_months - 1


def history_shortfalls(
    history: LabelledHistory, needs: ModelSettings, horizon_months: int
) -> list[str]:
    """What the model needs that the history does not have, one phrase each ([] when enough)."""
    shortfalls = []
    if history.snapshots < needs.min_training_rows:
        shortfalls.append(f"at least {needs.min_training_rows:,} labelled snapshots")
    if history.improvements < needs.min_training_improvements:
        shortfalls.append(f"at least {needs.min_training_improvements:,} improvements with a label")
    if min(history.held, history.slipped) < needs.min_outcome_snapshots:
        shortfalls.append(
            f"at least {needs.min_outcome_snapshots:,} labelled snapshots that held and as many "
            "that slipped"
        )
    if history.backtest_folds == 0:
        shortfalls.append(
            f"about {months_of_history_needed(horizon_months)} months of labelled as-of dates, "
            f"with both outcomes in the first {BACKTEST_TRAINING_MONTHS}, so that the backtest "
            "can test the model on months it did not learn from"
        )
    return shortfalls
