"""Trends over past runs, drawn as tiny inline SVG built from numbers only.

Every improvement's probability of holding (with its band) and stage, and every service's
priority and rank, at the runs the history gives (`RunHistory.runs`) and at this run. A trend
is a handful of coordinates, so it is built here as text (no matplotlib figure: 6,800
improvements would cost minutes), a few hundred bytes each. The coordinates are numbers
formatted by this module and the stage classes come from a fixed list, so nothing from an
export reaches the SVG markup; the template escapes the rest.

x is time (the same scale for every trend on the page, from the first run shown to this one);
y is the probability of holding (0 at the bottom, 1 at the top), or the service's priority
(0 at the bottom, the page's largest at the top).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from contracts.vocabulary import STAGES
from report.history import RunHistory
from report.reading import RunOutputs

# Card trend: width x height in px, with a strip for the stage at the bottom.
CARD = (176.0, 46.0)
STAGE_STRIP = 5.0
# Compact rows and the ranking table.
SMALL = (88.0, 20.0)
PAD = 2.0


def points(history: RunHistory, outputs: RunOutputs) -> pd.DataFrame:
    """Each improvement's probability, band and stage at every trend run and at this run:
    run_id, as_of, improvement_id, p_hold, p_hold_low, p_hold_high, stage; oldest first."""
    days = history.runs[["run_id", "as_of"]]
    earlier = history.scores.merge(days, on="run_id", how="inner")
    now = outputs.scores.assign(
        run_id=outputs.manifest.get("run_id"), as_of=pd.Timestamp(outputs.manifest.get("as_of"))
    )
    columns = ["run_id", "as_of", "improvement_id", "p_hold", "p_hold_low", "p_hold_high", "stage"]
    both = pd.concat([earlier[columns], now[columns]], ignore_index=True)
    both = both.assign(as_of=pd.to_datetime(both["as_of"]), stage=both["stage"].astype("str"))
    return both.sort_values(["improvement_id", "as_of"], kind="mergesort").reset_index(drop=True)


def service_points(history: RunHistory, outputs: RunOutputs) -> pd.DataFrame:
    """Each service's rank and priority at every trend run and at this run, oldest first."""
    days = history.runs[["run_id", "as_of"]]
    earlier = history.services.merge(days, on="run_id", how="inner")
    now = outputs.services.assign(as_of=pd.Timestamp(outputs.manifest.get("as_of")))
    columns = ["as_of", "location_id", "rank", "priority_score"]
    both = pd.concat([earlier[columns], now[columns]], ignore_index=True)
    both = both.assign(as_of=pd.to_datetime(both["as_of"]))
    return both.sort_values(["location_id", "as_of"], kind="mergesort").reset_index(drop=True)


def improvement_trends(found: pd.DataFrame, carded: set[str] | None = None) -> pd.DataFrame:
    """Per improvement (index improvement_id): `runs` shown, `line` and `band` (card SVG
    points; for the improvements in `carded` only, when given), `small` (compact SVG points:
    each month's last run only, the nights of the current month folded into its last run)
    and `last_x`/`last_y` (the compact trend's end dot). The stage strip and the stage's path
    are `stage_segments`. Runs without a probability (the rules alone) draw no point: an
    improvement scored by the rules alone at every run has no probability trend."""
    found = found[found["p_hold"].notna()]
    if found.empty:
        return pd.DataFrame()
    x_card = _x(found["as_of"], CARD[0])
    x_small = _x(found["as_of"], SMALL[0])
    plot = CARD[1] - STAGE_STRIP - 2
    found = found.assign(
        xy=_pairs(x_card, _y(found["p_hold"], plot)),
        high=_pairs(x_card, _y(found["p_hold_high"].fillna(found["p_hold"]), plot)),
        low=_pairs(x_card, _y(found["p_hold_low"].fillna(found["p_hold"]), plot)),
        small=_pairs(x_small, _y(found["p_hold"], SMALL[1])),
        x_small=x_small,
        y_small=_y(found["p_hold"], SMALL[1]),
    )
    grouped = found.groupby("improvement_id", sort=False)
    month = found["as_of"].dt.to_period("M")
    month_ends = found[found["as_of"] == found["as_of"].groupby(month).transform("max")]
    cards = found if carded is None else found[found["improvement_id"].isin(carded)]
    return pd.DataFrame(
        {
            "runs": grouped.size(),
            "line": _joined(cards, "xy"),
            # The band's outline runs along the upper ends, then back along the lower ends.
            "band": _joined(cards, "high") + " " + _joined(cards.iloc[::-1], "low"),
            "small": _joined(month_ends, "small"),
            "last_x": grouped["x_small"].last().round(),
            "last_y": grouped["y_small"].last().round(),
        }
    )


def service_trends(found: pd.DataFrame) -> pd.DataFrame:
    """Per service (index location_id): `runs`, `small` (priority on one scale for the page,
    0 at the bottom, the largest priority shown at the top) with its end dot `last_x`/`last_y`, and `ranks` (the
    rank at each run shown, oldest first, as "9 → 5 → 3"; the first and last only, "9 → … →
    3", beyond four runs)."""
    if found.empty:
        return pd.DataFrame()
    priority = found["priority_score"].astype(float)
    # One scale for the whole page (0 to the largest priority shown): a service whose priority
    # barely moved draws a flat line, whatever its size.
    top = priority.max()
    share = (priority / top if top > 0 else priority * 0).fillna(0)
    x, y = _x(found["as_of"], SMALL[0]), _y(share, SMALL[1])
    found = found.assign(small=_pairs(x, y), x=x.round(), y=y.round(), rank=_whole(found["rank"]))
    by_service = found.groupby("location_id", sort=False)
    runs = by_service.size()
    ends = by_service["rank"].first() + " → … → " + by_service["rank"].last()
    return pd.DataFrame(
        {
            "runs": runs,
            "small": _joined(found, "small", "location_id"),
            "last_x": by_service["x"].last(),
            "last_y": by_service["y"].last(),
            "ranks": _joined(found, "rank", "location_id", " → ").where(runs <= 4, ends),
        }
    )


def stage_segments(found: pd.DataFrame) -> pd.DataFrame:
    """Each improvement's stretches at one stage, oldest first: improvement_id, stage, since
    (the first run at it), and x, width, stage_class for the card's stage strip."""
    if found.empty:
        return pd.DataFrame(
            columns=["improvement_id", "stage", "since", "x", "width", "stage_class"]
        )
    x = _x(found["as_of"], CARD[0])
    stage = found["stage"]
    starts = (stage != stage.shift()) | (found["improvement_id"] != found["improvement_id"].shift())
    runs = found.assign(segment=starts.cumsum(), x=x)
    first = runs.groupby("segment", sort=False).agg(
        improvement_id=("improvement_id", "first"),
        stage=("stage", "first"),
        since=("as_of", "first"),
        x=("x", "first"),
        last_x=("x", "last"),
    )
    following = first.groupby("improvement_id", sort=False)["x"].shift(-1)
    end = following.fillna(first["last_x"] + 2 * PAD).clip(upper=CARD[0])
    return (
        first.assign(
            width=(end - first["x"]).clip(lower=1.5).round(1),
            x=first["x"].round(1),
            stage_class=first["stage"].where(first["stage"].isin(STAGES), "other"),
        )
        .drop(columns="last_x")
        .reset_index(drop=True)
    )


def _joined(
    found: pd.DataFrame, column: str, key: str = "improvement_id", separator: str = " "
) -> pd.Series:
    """`column`'s texts joined per `key`, in the frame's order (each key's rows contiguous).
    GroupBy.agg(" ".join) calls Python per group through pandas' slow path (2 s for 6,800
    improvements); joining plain slices of one array costs milliseconds."""
    keys = found[key].to_numpy()
    if not len(keys):
        return pd.Series(dtype=object)
    starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
    parts = np.split(found[column].to_numpy(dtype=object), starts[1:])
    return pd.Series([separator.join(part) for part in parts], index=keys[starts], dtype=object)


def _x(days: pd.Series, width: float) -> pd.Series:
    """x of each date on the page's common time scale."""
    first, last = days.min(), days.max()
    span = (last - first).total_seconds() if pd.notna(first) else 0
    if not span:
        return pd.Series(width - PAD, index=days.index)
    share = (days - first).dt.total_seconds() / span
    return PAD + share * (width - 2 * PAD)


def _y(share: pd.Series, height: float) -> pd.Series:
    """y of a share in [0, 1]: 1 at the top."""
    return PAD + (1 - share.astype(float).clip(0, 1)) * (height - 2 * PAD)


def _pairs(x: pd.Series, y: pd.Series) -> pd.Series:
    """ "x,y" in whole pixels: at these sizes a tenth of a pixel is invisible, and 6,800
    trends of 26 points each would carry a megabyte of decimals."""
    return _whole(x) + "," + _whole(y)


def _whole(values: pd.Series) -> pd.Series:
    return values.round().astype("int64").astype("str")
