"""Trends over past runs, drawn as tiny inline SVG built from numbers only.

Every improvement's probability of holding (with its band) and stage, and every service's
priority and rank, at the runs the history gives (`RunHistory.runs`) and at this run. A trend
is a handful of coordinates, so it is built here as text (no matplotlib figure: 6,800
improvements would cost minutes), a few hundred bytes each. The coordinates are numbers
formatted by this module and the stage classes come from a fixed list, so nothing from an
export reaches the SVG markup; the template escapes the rest.

x is time (the same scale for every trend on the page, from the first run shown to this one);
y is the probability of holding (0 at the bottom, 1 at the top), or the service's priority
scaled to its own range.
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


def improvement_trends(found: pd.DataFrame) -> pd.DataFrame:
    """Per improvement (index improvement_id): `runs` shown, `line` and `band` (card SVG
    points), `small` (compact SVG points) and `last_x`/`last_y` (the compact trend's end dot).
    The stage strip and the stage's path are `stage_segments`."""
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
    # The band's outline runs along the upper ends, then back along the lower ends.
    backwards = found.iloc[::-1].groupby("improvement_id", sort=False)["low"].agg(" ".join)
    return pd.DataFrame(
        {
            "runs": grouped.size(),
            "line": grouped["xy"].agg(" ".join),
            "band": grouped["high"].agg(" ".join) + " " + backwards,
            "small": grouped["small"].agg(" ".join),
            "last_x": grouped["x_small"].last().round(1),
            "last_y": grouped["y_small"].last().round(1),
        }
    )


def service_trends(found: pd.DataFrame) -> pd.DataFrame:
    """Per service (index location_id): `runs`, `small` (priority, scaled to the service's own
    range, higher priority higher up) with its end dot `last_x`/`last_y`, and `ranks` (rank at
    each run shown, oldest first)."""
    if found.empty:
        return pd.DataFrame()
    priority = found["priority_score"].astype(float)
    grouped = priority.groupby(found["location_id"])
    low, high = grouped.transform("min"), grouped.transform("max")
    share = ((priority - low) / (high - low).replace(0, np.nan)).fillna(0.5)
    x, y = _x(found["as_of"], SMALL[0]), _y(share, SMALL[1])
    found = found.assign(small=_pairs(x, y), x=x.round(1), y=y.round(1))
    by_service = found.groupby("location_id", sort=False)
    return pd.DataFrame(
        {
            "runs": by_service.size(),
            "small": by_service["small"].agg(" ".join),
            "last_x": by_service["x"].last(),
            "last_y": by_service["y"].last(),
            "ranks": by_service["rank"].agg(lambda r: [int(v) for v in r]),
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
    return x.round(1).astype("str") + "," + y.round(1).astype("str")
