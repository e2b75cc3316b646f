"""Governance over time, as plain functions of frames: which earlier runs a report draws its
trends from, which run it compares with, and why an improvement's probability of holding moved.

"Why it moved" is exact because the model's explanations are: a run's probability is the
logistic of an intercept plus one contribution per term (`HoldModel.explain`). Between an
earlier run (model m0, evidence x0) and this one (model m1, evidence x1) the log-odds move
splits, term by term, into

    new evidence:  m0 on x1  minus  m0 on x0   (same model, tonight's features)
    new model:     m1 on x1  minus  m0 on x1   (same features, tonight's model)

which add up to the whole move. In probability points the split is taken along the same path:
new evidence = p(m0, x1) - p(m0, x0), new model = p(m1, x1) - p(m0, x1). With the same model
version at both runs, every move is new evidence.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from contracts.params import GovernanceParams

PREVIOUS_QUARTER = "previous_quarter"
PREVIOUS_RUN = "previous_run"
NEW_EVIDENCE = "new evidence"
NEW_MODEL = "a new model"
BOTH = "new evidence and a new model"
# A part at least this many times the other names the move on its own.
DOMINANT = 2.0


# --- which runs ------------------------------------------------------------------------------


def latest_per_day(runs: pd.DataFrame) -> pd.DataFrame:
    """One run per as-of date, the one that finished last (a re-run replaces the night's
    earlier run), oldest first."""
    ordered = runs.sort_values(["as_of", "finished_at", "run_id"], kind="mergesort")
    return ordered.drop_duplicates("as_of", keep="last").reset_index(drop=True)


def trend_runs(runs: pd.DataFrame, as_of, params: GovernanceParams | None = None) -> pd.DataFrame:
    """The earlier runs a trend shows, oldest first: every run in the `trend_recent_days`
    days up to `as_of`, and the last run of each of the `trend_months` calendar months before
    `as_of`'s month. Runs dated after `as_of` are never shown (a report of an older run does
    not see later ones)."""
    params = params or GovernanceParams()
    day = pd.Timestamp(as_of)
    earlier = latest_per_day(runs[runs["as_of"] <= day])
    if earlier.empty:
        return earlier
    recent = earlier["as_of"] > day - pd.Timedelta(days=params.trend_recent_days)
    month = earlier["as_of"].dt.to_period("M")
    first_month = day.to_period("M") - params.trend_months
    month_end = (
        ~month.duplicated(keep="last") & (month >= first_month) & (month < day.to_period("M"))
    )
    return earlier[recent | month_end].reset_index(drop=True)


@dataclass(frozen=True)
class ComparisonChoice:
    """The run a report compares with (None when there is none) and why it is that one."""

    run: pd.Series | None
    why: str


def comparison_run(
    runs: pd.DataFrame, run_id: str, as_of, compare_with: str = PREVIOUS_QUARTER
) -> ComparisonChoice:
    """The earlier run to compare run `run_id` (as of `as_of`) with.

    `compare_with`: "previous_quarter" (the last run dated before `as_of`'s calendar quarter
    began: what the last quarterly meeting saw), "previous_run", a run id of the same output
    folder, or a date YYYY-MM-DD (the last run as of that date or before). An unknown run id or
    a date with no run before it raises ValueError; the two modes return no run, saying why.
    """
    day = pd.Timestamp(as_of)
    others = latest_per_day(runs[(runs["run_id"] != run_id) & (runs["as_of"] <= day)])
    if compare_with == PREVIOUS_QUARTER:
        quarter = day.to_period("Q")
        before = others[others["as_of"] < quarter.start_time]
        label = f"the last run before this quarter ({_quarter(quarter)}) began"
        return _last(before, label, f"no run before {_quarter(quarter)} in the history")
    if compare_with == PREVIOUS_RUN:
        return _last(others, "the previous run", "no earlier run in the history")
    if compare_with in set(runs["run_id"]):
        chosen = runs[runs["run_id"] == compare_with].iloc[-1]
        return ComparisonChoice(chosen, f"run {compare_with}, chosen for this report")
    wanted = _date(compare_with)
    if wanted is None:
        raise ValueError(
            f"compare with {compare_with!r}: not a run of this output folder in the history, nor "
            f"a date (YYYY-MM-DD), nor {PREVIOUS_QUARTER} / {PREVIOUS_RUN}"
        )
    before = others[others["as_of"] <= pd.Timestamp(wanted)]
    if before.empty:
        raise ValueError(f"compare with {wanted}: the history has no run as of that date or before")
    return ComparisonChoice(before.iloc[-1], f"the last run as of {wanted:%d %b %Y}")


def _last(candidates: pd.DataFrame, label: str, none: str) -> ComparisonChoice:
    if candidates.empty:
        return ComparisonChoice(None, none)
    return ComparisonChoice(candidates.iloc[-1], label)


def _quarter(period: pd.Period) -> str:
    return f"Q{period.quarter} {period.year}"


def _date(text: str) -> date | None:
    try:
        return date.fromisoformat(str(text))
    except ValueError:
        return None


# --- why it moved ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Explained:
    """One model's exact explanation of some improvements: the probability of holding per
    improvement (`p_hold`, indexed by improvement_id) and its terms in the long shape of
    `contributions.parquet` (improvement_id, term, value, contribution)."""

    p_hold: pd.Series
    contributions: pd.DataFrame


MOVE_COLUMNS = (
    "improvement_id",
    "p_before",
    "p_after",
    "change",
    "evidence_change",
    "model_change",
    "moved_by",
)
TERM_COLUMNS = (
    "improvement_id",
    "rank",
    "term",
    "value_before",
    "value_after",
    "change",
    "evidence_change",
    "model_change",
)


def movement_reasons(
    before: Explained,
    after: Explained,
    earlier_model_now: Explained | None,
    *,
    same_model: bool,
    threshold: float,
    terms: int = 3,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Why each improvement whose probability of holding moved by `threshold` or more moved.

    `before`: the earlier run (its model on its evidence); `after`: this run;
    `earlier_model_now`: the earlier run's model on this run's evidence (None when the models
    are the same, or when the earlier model could not be loaded: the split is then unknown).
    `before.contributions` may be empty (the earlier run's explanation was not kept): the moves
    are still split, but no term is named.

    Returns (moves, terms). moves: one row per improvement that moved, the largest move first:
    p_before, p_after, change, evidence_change and model_change (probability points; NaN when
    unknown) and moved_by (`NEW_EVIDENCE`, `NEW_MODEL`, `BOTH`, or '' when unknown). terms: the
    `terms` terms whose contribution changed most for each (rank 1 first), with the feature
    values before and after and the change in log-odds, whole and split.
    """
    joined = pd.concat({"p_before": before.p_hold, "p_after": after.p_hold}, axis=1).dropna()
    change = joined["p_after"] - joined["p_before"]
    moved = joined[change.abs() >= threshold - 1e-12].assign(change=change)
    if same_model:
        moved = moved.assign(evidence_change=moved["change"], model_change=0.0)
    elif earlier_model_now is not None:
        middle = earlier_model_now.p_hold.reindex(moved.index)
        moved = moved.assign(
            evidence_change=middle - moved["p_before"], model_change=moved["p_after"] - middle
        )
    else:
        moved = moved.assign(evidence_change=np.nan, model_change=np.nan)
    moved = moved.assign(moved_by=_moved_by(moved["evidence_change"], moved["model_change"]))
    moved = (
        moved.rename_axis("improvement_id")
        .reset_index()
        .sort_values(["change", "improvement_id"], key=_by_size, kind="mergesort")
    )
    ids = pd.Index(moved["improvement_id"])
    middle = after if same_model else earlier_model_now
    return moved[list(MOVE_COLUMNS)].reset_index(drop=True), _term_changes(
        ids, before.contributions, after.contributions, middle, terms
    )


def _by_size(column: pd.Series) -> pd.Series:
    """Sort key: the largest move first (by size, whatever its direction), then by id."""
    return -column.abs() if column.name == "change" else column


def _moved_by(evidence: pd.Series, model: pd.Series) -> np.ndarray:
    size_evidence, size_model = evidence.abs().to_numpy(), model.abs().to_numpy()
    return np.select(
        [
            np.isnan(size_evidence) | np.isnan(size_model),
            size_model * DOMINANT <= size_evidence,
            size_evidence * DOMINANT <= size_model,
        ],
        ["", NEW_EVIDENCE, NEW_MODEL],
        default=BOTH,
    )


def _term_changes(
    ids: pd.Index,
    before: pd.DataFrame,
    after: pd.DataFrame,
    middle: Explained | None,
    terms: int,
) -> pd.DataFrame:
    """The terms whose contribution changed most, per moved improvement."""
    if ids.empty or before.empty:
        return pd.DataFrame(columns=list(TERM_COLUMNS))
    old, new = _wide(before, ids), _wide(after, ids)
    names = old.columns.union(new.columns)
    old, new = (
        old.reindex(columns=names, fill_value=0.0),
        new.reindex(columns=names, fill_value=0.0),
    )
    if middle is None:
        mid = pd.DataFrame(np.nan, index=ids, columns=names)
    else:
        mid = _wide(middle.contributions, ids).reindex(columns=names, fill_value=0.0)
    changes = pd.DataFrame(
        {
            "change": (new - old).stack(),
            "evidence_change": (mid - old).stack(),
            "model_change": (new - mid).stack(),
        }
    ).rename_axis(["improvement_id", "term"])
    changes = changes.reset_index().assign(size=lambda f: -f["change"].abs())
    top = changes.sort_values(["improvement_id", "size", "term"], kind="mergesort")
    top = top.groupby("improvement_id", sort=False).head(terms)
    top = top.assign(rank=top.groupby("improvement_id", sort=False).cumcount() + 1)
    values = {
        "value_before": _values(before, ids),
        "value_after": _values(after, ids),
    }
    for name, shown in values.items():
        top = top.merge(shown.rename(name), on=["improvement_id", "term"], how="left")
    order = pd.Categorical(top["improvement_id"], categories=ids, ordered=True)
    return (
        top.assign(_order=order)
        .sort_values(["_order", "rank"], kind="mergesort")[list(TERM_COLUMNS)]
        .fillna({"value_before": "", "value_after": ""})
        .reset_index(drop=True)
    )


def _wide(contributions: pd.DataFrame, ids: pd.Index) -> pd.DataFrame:
    """improvement x term contributions for `ids` (a missing improvement contributes 0)."""
    picked = contributions[contributions["improvement_id"].isin(ids)]
    wide = picked.pivot_table(
        index="improvement_id", columns="term", values="contribution", aggfunc="sum"
    )
    return wide.reindex(ids).fillna(0.0)


def _values(contributions: pd.DataFrame, ids: pd.Index) -> pd.Series:
    picked = contributions[contributions["improvement_id"].isin(ids)]
    return (
        picked.drop_duplicates(["improvement_id", "term"])
        .set_index(["improvement_id", "term"])["value"]
        .astype("str")
    )
