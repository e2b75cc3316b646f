"""How much labelled history an export holds, and whether training can use it.

`takehold train` does two things with the history, and the check asks what both need, with
the same rule (`training_shortfalls`) they apply:

1. **the replay evaluation** (`models.replay`): at each replay cutoff (a month-end whose
   outcome over the horizon is known by the as-of date) it trains on the labelled snapshots
   of the export *as it stood then* and scores the improvements eligible at the cutoff whose
   outcome after it is known. A cutoff is used when its training rows meet the rule and it
   has rows to score; at least one must be, or the model cannot be tested on months it did
   not learn from;
2. **the fit** on every labelled snapshot (month-end as-of dates whose outcome is known by the
   as-of date), which must meet the rule too.

So a group passes the check exactly when the replay has a cutoff to test on and the fit has
the rows it needs (tests/test_minimum_history.py holds the boundary). A small provider group
may not have that yet: the check says, in plain words, what the export has and what the model
needs, before any fitting starts (the rules need no history and score it anyway).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from contracts.params import ModelSettings
from features.columns import AS_OF, HELD, IMPROVEMENT_ID, LOCATION_ID


@dataclass(frozen=True)
class LabelledHistory:
    """What a set of labelled snapshots holds."""

    snapshots: int
    services: int
    improvements: int
    held: int
    slipped: int
    first_as_of: pd.Timestamp | None
    last_as_of: pd.Timestamp | None
    months: int  # calendar months from the first labelled as-of date to the last

    def sentence(self, whose: str = "the export has") -> str:
        """The history in one sentence a quality lead can read."""
        if not self.snapshots:
            return f"{whose} no labelled snapshot (no improvement's outcome is known yet)"
        return (
            f"{whose} {self.snapshots:,} labelled snapshot{_s(self.snapshots)} of "
            f"{self.improvements:,} improvement{_s(self.improvements)} in {self.services:,} "
            f"service{_s(self.services)} ({self.held:,} held, {self.slipped:,} slipped), over "
            f"{self.months} month{_s(self.months)} of as-of dates ({self.first_as_of:%Y-%m} to "
            f"{self.last_as_of:%Y-%m})"
        )


@dataclass(frozen=True)
class CutoffHistory:
    """One replay cutoff: the training rows as the export stood then, and the rows it scores.

    `scored`: improvements eligible at the cutoff whose outcome after it is known.
    """

    cutoff: pd.Timestamp
    training: LabelledHistory
    scored: int
    shortfalls: tuple[str, ...]  # what its training rows lack (training_shortfalls)

    @property
    def usable(self) -> bool:
        """Whether the replay trains and scores at this cutoff."""
        return not self.shortfalls and self.scored > 0


def _s(count: int) -> str:
    return "" if count == 1 else "s"


def labelled_history(snapshots: pd.DataFrame) -> LabelledHistory:
    """Count what the labelled snapshots (censored rows, held <NA>, left out) hold."""
    rows = snapshots[snapshots[HELD].notna()]
    if rows.empty:
        return LabelledHistory(0, 0, 0, 0, 0, None, None, 0)
    held = rows[HELD].astype(int)
    as_of = pd.to_datetime(rows[AS_OF])
    first, last = as_of.min(), as_of.max()
    return LabelledHistory(
        snapshots=len(rows),
        services=int(rows[LOCATION_ID].nunique()) if LOCATION_ID in rows else 0,
        improvements=int(rows[IMPROVEMENT_ID].nunique()),
        held=int(held.sum()),
        slipped=int((held == 0).sum()),
        first_as_of=first,
        last_as_of=last,
        months=(last.year - first.year) * 12 + last.month - first.month + 1,
    )


def training_shortfalls(history: LabelledHistory, needs: ModelSettings) -> list[str]:
    """What a fit on these labelled snapshots needs that they do not have, one phrase each
    ([] when enough). The replay applies it at each cutoff, training at the end."""
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
    return shortfalls


def cutoff_history(
    cutoff, training: pd.DataFrame, scored: int, needs: ModelSettings
) -> CutoffHistory:
    """A replay cutoff's training rows and scored rows, judged by `training_shortfalls`."""
    history = labelled_history(training)
    return CutoffHistory(
        pd.Timestamp(cutoff), history, int(scored), tuple(training_shortfalls(history, needs))
    )


def history_shortfalls(
    history: LabelledHistory, cutoffs: Sequence[CutoffHistory], needs: ModelSettings
) -> list[str]:
    """What training needs that the history does not have ([] when it can train): the fit's
    needs on every labelled snapshot, then a replay cutoff to test the model on."""
    shortfalls = training_shortfalls(history, needs)
    if not any(c.usable for c in cutoffs):
        shortfalls.append(replay_shortfall(cutoffs))
    return shortfalls


def replay_shortfall(cutoffs: Sequence[CutoffHistory]) -> str:
    """Why no replay cutoff can be used, in words: what the best of them had."""
    if not cutoffs:
        return (
            "a month-end whose outcome is known by the as-of date, to test the model on months "
            "it did not learn from"
        )
    best = max(cutoffs, key=lambda c: (c.training.snapshots, c.cutoff))
    dates = ", ".join(f"{c.cutoff:%Y-%m-%d}" for c in cutoffs)
    lacking = (
        "; ".join(best.shortfalls)
        if best.shortfalls
        else "an improvement eligible then whose outcome after it is known"
    )
    return (
        f"a replay cutoff with enough history to test the model on months it did not learn "
        f"from (cutoffs {dates}): at {best.cutoff:%Y-%m-%d} "
        f"{best.training.sentence('the export as it stood then had')}, and training there "
        f"needs {lacking}"
    )
