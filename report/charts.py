"""The report's charts, drawn with matplotlib and returned as inline SVG fragments.

Charts per improvement are the expensive part of a 3,000-improvement report, so each kind of
chart is drawn by a painter that keeps one figure and moves its artists' data for the next
chart (about 4x faster than a new figure per chart). Text stays text (`svg.fonttype: none`),
a short font list and 2-decimal coordinates keep each chart small, and each chart's SVG ids
are salted with its own key so hundreds of charts can share one page.

Colours follow NHS England's Making Data Count: grey common cause, blue special cause of
improvement, orange special cause of concern, red target.
"""

from __future__ import annotations

import io
import textwrap
from collections.abc import Iterator
from contextlib import contextmanager

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator, PercentFormatter

from report.svg import inline_svg

GREY = "#7b7d7d"
BLUE = "#289de0"
ORANGE = "#e46c0a"
RED = "#d5281b"
INK = "#212b32"
GREEN = "#007f3b"
POINT_COLOURS = {
    "common_cause": GREY,
    "special_cause_improvement": BLUE,
    "special_cause_concern": ORANGE,
}
# NHS Making Data Count icons: letter and colour of each variation and assurance verdict.
# (Names as features.spc.variation_icon and features.spc.assurance return them.)
PURPLE = "#490092"
VARIATION_ICONS = {
    "common_cause": ("~", GREY),
    "improvement_high": ("H", BLUE),
    "improvement_low": ("L", BLUE),
    "concern_high": ("H", ORANGE),
    "concern_low": ("L", ORANGE),
    "neutral_high": ("H", PURPLE),
    "neutral_low": ("L", PURPLE),
}
ASSURANCE_ICONS = {
    "consistent_pass": ("P", BLUE),
    "consistent_fail": ("F", ORANGE),
    "inconsistent": ("?", GREY),
}
BASE_RC = {
    "svg.fonttype": "none",
    "font.size": 7,
    "font.family": "sans-serif",
    "font.sans-serif": ["DejaVu Sans"],
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.edgecolor": GREY,
    "axes.labelcolor": INK,
    "xtick.color": INK,
    "ytick.color": INK,
    "xtick.major.size": 2,
    "ytick.major.size": 2,
    "path.simplify": True,
}


@contextmanager
def chart_style(salt: str = "takehold") -> Iterator[None]:
    """matplotlib settings for report charts; `salt` makes this chart's SVG ids unique."""
    with matplotlib.rc_context({**BASE_RC, "svg.hashsalt": salt}):
        yield


def figure_svg(figure: Figure, label: str, salt: str) -> str:
    """The figure as an inline SVG fragment labelled `label` for screen readers."""
    buffer = io.StringIO()
    with chart_style(salt):
        figure.savefig(buffer, format="svg", metadata={"Date": None})
    return inline_svg(buffer.getvalue(), label)


def month_positions(dates: pd.Series, first_month: pd.Timestamp) -> np.ndarray:
    """Dates as fractional months after `first_month` (0 = its first day)."""
    days = pd.to_datetime(dates).to_numpy(dtype="datetime64[D]")
    months = days.astype("datetime64[M]")
    start = np.datetime64(first_month.to_period("M").start_time.date(), "M")
    month_length = (months + 1).astype("datetime64[D]") - months.astype("datetime64[D]")
    within = (days - months.astype("datetime64[D]")) / month_length
    return (months - start).astype("float64") + within.astype("float64")


class SpcChartPainter:
    """An XmR chart of monthly compliance, Making Data Count style, with timeline events.

    Points are coloured by their SPC verdict; the mean is solid, process limits dashed, the
    improvement's standard is the red target line. Events from the timeline sit on the
    bottom edge: action started (dotted line), reviews (triangles), declarations (diamonds).
    """

    def __init__(self, size: tuple[float, float] = (5.6, 1.9)) -> None:
        with chart_style():
            self.figure = Figure(figsize=size)
            ax = self.figure.add_axes((0.08, 0.16, 0.80, 0.78))
            self.ax = ax
            (self.line,) = ax.plot([], [], color=GREY, lw=1, zorder=2)
            self.points = {
                kind: ax.plot([], [], ls="none", marker="o", ms=3.5, color=colour, zorder=3)[0]
                for kind, colour in POINT_COLOURS.items()
            }
            (self.mean,) = ax.plot([], [], color=INK, lw=0.8)
            self.limits = [ax.plot([], [], color=GREY, lw=0.8, ls="--")[0] for _ in range(2)]
            (self.target,) = ax.plot([], [], color=RED, lw=1, ls=(0, (4, 2)))
            (self.started,) = ax.plot([], [], color=INK, lw=0.8, ls=":")
            (self.reviews,) = ax.plot([], [], ls="none", marker="^", ms=4, color=INK)
            (self.declared,) = ax.plot([], [], ls="none", marker="D", ms=3.5, color=GREEN)
            self.icons = [
                self.figure.text(
                    0.935,
                    y,
                    "",
                    ha="center",
                    va="center",
                    fontsize=8,
                    fontweight="bold",
                    color="white",
                    bbox={"boxstyle": "circle,pad=0.35", "lw": 0},
                )
                for y in (0.78, 0.45)
            ]
            ax.yaxis.set_major_locator(MaxNLocator(4))
            ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))

    def svg(
        self,
        points: pd.DataFrame,
        *,
        target: float,
        events: pd.DataFrame,
        variation: str,
        assurance: str,
        label: str,
        salt: str,
    ) -> str:
        """Draw `points` (month, y, mean, lpl, upl, point_type) and `events` (date, event)."""
        first = pd.Timestamp(points["month"].min())
        x = month_positions(points["month"], first)
        y = points["y"].to_numpy(dtype="float64")
        self.line.set_data(x, y)
        kinds = points["point_type"].astype("str").to_numpy()
        for kind, artist in self.points.items():
            artist.set_data(x[kinds == kind], y[kinds == kind])
        span = [x.min() - 0.5, x.max() + 0.5]
        self.mean.set_data(span, [points["mean"].iloc[-1]] * 2)
        self.limits[0].set_data(span, [points["lpl"].iloc[-1]] * 2)
        self.limits[1].set_data(span, [points["upl"].iloc[-1]] * 2)
        self.target.set_data(span, [target] * 2)
        low, high = self._value_range(points, target)
        self._draw_events(events, first, span, low)
        self._set_axes(first, x, span, low, high)
        self._set_icons(variation, assurance)
        return figure_svg(self.figure, label, salt)

    @staticmethod
    def _value_range(points: pd.DataFrame, target: float) -> tuple[float, float]:
        values = pd.concat([points["y"], points[["lpl", "upl"]].iloc[-1]]).astype("float64")
        low = min(np.nanmin(values.to_numpy()), target)
        high = max(np.nanmax(values.to_numpy()), target)
        pad = max(0.02, (high - low) * 0.08)
        # Compliance is a share: limits beyond 0% or 100% run off the chart's edge.
        return max(0.0, low - pad), min(1.0 + pad / 2, high + pad)

    def _draw_events(
        self, events: pd.DataFrame, first: pd.Timestamp, span: list[float], low: float
    ) -> None:
        where = month_positions(events["date"], first)
        inside = (where >= span[0]) & (where <= span[1])
        kinds = events["event"].astype("str").to_numpy()
        started = where[inside & (kinds == "action_started")]
        self.started.set_data(np.repeat(started, 3), np.tile([low, 2.0, np.nan], len(started)))
        for artist, kind in ((self.reviews, "review"), (self.declared, "declared")):
            chosen = where[inside & (kinds == kind)]
            artist.set_data(chosen, np.full(len(chosen), low))

    def _set_axes(
        self, first: pd.Timestamp, x: np.ndarray, span: list[float], low: float, high: float
    ) -> None:
        self.ax.set_xlim(*span)
        self.ax.set_ylim(low, high)
        step = max(1, int(np.ceil((x.max() - x.min() + 1) / 6)))
        ticks = np.arange(x.min(), x.max() + 1, step)
        months = [first + pd.DateOffset(months=int(t)) for t in ticks]
        self.ax.set_xticks(ticks, [f"{m:%b %y}" for m in months])

    def _set_icons(self, variation: str, assurance: str) -> None:
        for text, (letter, colour) in zip(
            self.icons,
            (
                VARIATION_ICONS.get(variation, ("", GREY)),
                ASSURANCE_ICONS.get(assurance, ("", GREY)),
            ),
            strict=True,
        ):
            text.set_text(letter)
            text.set_visible(bool(letter))
            text.get_bbox_patch().set_facecolor(colour)


class SparklinePainter:
    """A word-sized line of monthly compliance with its standard (red) and latest point."""

    def __init__(self, size: tuple[float, float] = (1.5, 0.32)) -> None:
        with chart_style():
            self.figure = Figure(figsize=size)
            self.ax = self.figure.add_axes((0.02, 0.08, 0.96, 0.84))
            self.ax.set_axis_off()
            (self.line,) = self.ax.plot([], [], color=GREY, lw=0.9)
            (self.target,) = self.ax.plot([], [], color=RED, lw=0.6)
            (self.last,) = self.ax.plot([], [], ls="none", marker="o", ms=2.5, color=INK)

    def svg(self, compliance: pd.Series, *, target: float, label: str, salt: str) -> str:
        """`compliance`: monthly values in month order (shares 0-1)."""
        y = compliance.to_numpy(dtype="float64")
        x = np.arange(len(y))
        self.line.set_data(x, y)
        self.target.set_data([0, max(len(y) - 1, 1)], [target, target])
        self.last.set_data(x[-1:], y[-1:])
        self.ax.set_xlim(-0.5, max(len(y) - 0.5, 1))
        low, high = min(np.nanmin(y), target), max(np.nanmax(y), target)
        self.ax.set_ylim(low - 0.02, high + 0.02)
        return figure_svg(self.figure, label, salt)


class FactorChartPainter:
    """Horizontal bars: the terms raising (green) and lowering (orange) the log-odds of holding.

    Term names are text artists kept from chart to chart (new tick labels per chart cost
    twice the drawing).
    """

    def __init__(self, bars: int = 6, size: tuple[float, float] = (5.0, 2.2)) -> None:
        with chart_style():
            self.figure = Figure(figsize=size)
            self.ax = self.figure.add_axes((0.56, 0.22, 0.42, 0.74))
            self.positions = np.arange(bars)[::-1]
            self.bars = list(self.ax.barh(self.positions, np.zeros(bars), height=0.6))
            self.ax.axvline(0, color=INK, lw=0.6)
            self.ax.set_xlabel("effect on the log-odds of holding")
            self.ax.set_ylim(-0.6, bars - 0.4)
            self.ax.set_yticks([])
            self.ax.xaxis.set_major_locator(MaxNLocator(5, symmetric=True))
            self.names = [
                self.ax.text(
                    -0.02,
                    y,
                    "",
                    transform=self.ax.get_yaxis_transform(),
                    ha="right",
                    va="center",
                    color=INK,
                )
                for y in self.positions
            ]

    def svg(self, factors: pd.DataFrame, *, label: str, salt: str) -> str:
        """`factors`: term, value, contribution (log-odds); at most one row per bar, top first."""
        contribution = factors["contribution"].to_numpy(dtype="float64")[: len(self.bars)]
        names = [
            f"{str(t).replace('_', ' ')} = {v}"
            for t, v in zip(factors["term"], factors["value"], strict=True)
        ]
        for i, (bar, name) in enumerate(zip(self.bars, self.names, strict=True)):
            shown = i < len(contribution)
            bar.set_visible(shown)
            name.set_text(wrapped_label(names[i]) if shown else "")
            if shown:
                bar.set_width(contribution[i])
                bar.set_facecolor(GREEN if contribution[i] >= 0 else ORANGE)
        reach = max(float(np.abs(contribution).max(initial=0.0)), 0.05) * 1.1
        self.ax.set_xlim(-reach, reach)
        return figure_svg(self.figure, label, salt)


def wrapped_label(text: str, width: int = 46) -> str:
    """A factor's label on as many lines as it needs: never cut (a cut label can hide the very
    value it is about)."""
    return textwrap.fill(text, width, break_long_words=True)


def stage_chart(counts: pd.DataFrame) -> str:
    """Bar chart of improvements per stage (the summary's 'improvements by stage')."""
    with chart_style("stages"):
        figure = Figure(figsize=(4.8, 1.8))
        ax = figure.add_axes((0.12, 0.22, 0.85, 0.7))
        bars = ax.bar(
            counts["stage"].str.replace("_", " "),
            counts["improvements"],
            color=[RED if s == "slipping" else BLUE for s in counts["stage"]],
        )
        ax.bar_label(bars, fontsize=7)
        ax.set_ylabel("improvements")
    return figure_svg(figure, "Improvements by stage", "stages")


def reliability_chart(reliability: pd.DataFrame) -> str:
    """The reliability diagram as inline SVG (`reliability_figure`)."""
    figure = reliability_figure(reliability)
    return figure_svg(figure, "Reliability of predicted probabilities", "reliability")


def reliability_figure(reliability: pd.DataFrame) -> Figure:
    """Observed rate of holding against mean predicted probability, per model, by bin.

    The one drawing of the reliability diagram: the report shows it and MLflow keeps it."""
    with chart_style("reliability"):
        figure = Figure(figsize=(3.4, 3.0))
        ax = figure.add_axes((0.16, 0.14, 0.8, 0.8))
        ax.plot([0, 1], [0, 1], color=GREY, lw=0.8, ls="--", label="perfect calibration")
        for model, rows in reliability.groupby("model", sort=False):
            ax.plot(
                rows["mean_predicted"],
                rows["observed_rate"],
                marker="o",
                ms=3,
                lw=1,
                label=str(model),
            )
        ax.set_xlabel("mean predicted probability of holding")
        ax.set_ylabel("observed share held")
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        ax.legend(frameon=False, fontsize=6)
    return figure


def shape_function_chart(shapes: pd.DataFrame, columns: int = 4) -> str:
    """The shape functions as inline SVG (`shape_functions_figure`)."""
    figure = shape_functions_figure(shapes, columns)
    return figure_svg(figure, "Shape functions of the model's terms", "shapes")


def shape_functions_figure(shapes: pd.DataFrame, columns: int = 4) -> Figure:
    """Small multiples: each model term's contribution (log-odds) across its values.

    A numeric term is a step line over its bins, a categorical term a row of dots, and the
    missing-value cell a hollow marker left of the axis. A pair term is a line per value of
    its second variable when it has few values, else a heatmap of the cells. Each panel is one
    or two artists: a chart of 3,000 cells draws in about a second. The one drawing of the
    shape functions: the report shows it and MLflow keeps it.
    """
    terms = list(dict.fromkeys(shapes["term"].astype("str")))
    rows = max(1, int(np.ceil(len(terms) / columns)))
    by_term = dict(tuple(shapes.groupby(shapes["term"].astype("str"), sort=False)))
    with chart_style("shapes"):
        height = 1.55 * rows
        figure = Figure(figsize=(7.2, height))
        # A fixed grid: a constrained layout costs seconds per redraw with 40+ panels.
        figure.subplots_adjust(
            left=0.06,
            right=0.99,
            bottom=0.5 / height,
            top=1 - 0.25 / height,
            wspace=0.35,
            hspace=0.75,
        )
        axes = figure.subplots(rows, columns, squeeze=False).ravel()
        for ax, term in zip(axes, terms, strict=False):
            _draw_shape(ax, by_term[term], term)
        for ax in axes[len(terms) :]:
            ax.set_axis_off()
    return figure


PAIR_LINES_MAX = 6


def shape_panel_kind(rows: pd.DataFrame) -> str:
    """How one term's panel is drawn: 'numeric' (step line), 'categorical' (dots),
    'pair_lines' (a step line per value of the second variable) or 'pair_heatmap'."""
    if _is_pair(rows):
        seconds = rows["x2"].dropna().nunique()
        return "pair_lines" if seconds <= PAIR_LINES_MAX else "pair_heatmap"
    present = rows[rows["x"].notna()]
    return "numeric" if _is_numeric_axis(present["x_label"]) else "categorical"


def _draw_shape(ax, rows: pd.DataFrame, term: str) -> None:
    ax.set_title(textwrap.fill(term.replace("_", " "), 36), fontsize=6.5)
    ax.axhline(0, color=GREY, lw=0.5)
    kind = shape_panel_kind(rows)
    if kind.startswith("pair"):
        _draw_pair(ax, rows, kind)
        return
    present = rows[rows["x"].notna()].sort_values("x")
    if kind == "numeric":
        ax.step(present["x"], present["contribution"], where="mid", color=BLUE, lw=1)
    else:
        ax.plot(
            present["x_label"].astype("str").tolist(),
            present["contribution"],
            ls="none",
            marker="o",
            ms=3,
            color=BLUE,
        )
        ax.tick_params(axis="x", labelrotation=30, labelsize=5)
    missing = rows[rows["x"].isna()]
    if not missing.empty:
        # Left of the axis, hollow: the contribution of a missing value.
        ax.plot(
            [-0.08],
            missing["contribution"].iloc[:1],
            transform=ax.get_yaxis_transform(),
            ls="none",
            marker="o",
            ms=3,
            mfc="white",
            color=INK,
            clip_on=False,
        )


def _draw_pair(ax, rows: pd.DataFrame, kind: str) -> None:
    present = rows[rows["x"].notna() & rows["x2"].notna()]
    second = str(rows["feature2"].dropna().iloc[0]).replace("_", " ")
    if kind == "pair_lines":
        for _, group in present.groupby("x2", sort=True):
            ax.step(
                group["x"],
                group["contribution"],
                where="mid",
                lw=1,
                label=str(group["x2_label"].iloc[0]),
            )
        ax.legend(frameon=False, fontsize=4.5, title=second, title_fontsize=4.5)
        return
    grid = present.pivot_table(index="x2", columns="x", values="contribution", aggfunc="first")
    reach = max(float(np.nanmax(np.abs(grid.to_numpy()))), 1e-9)
    ax.pcolormesh(
        grid.columns.to_numpy(),
        grid.index.to_numpy(),
        grid.to_numpy(),
        cmap="RdBu",
        vmin=-reach,
        vmax=reach,
        shading="nearest",
    )
    ax.set_ylabel(second, fontsize=5)


def _is_pair(rows: pd.DataFrame) -> bool:
    second = rows["feature2"].astype("str")
    return bool((rows["feature2"].notna() & ~second.isin(["None", "nan", ""])).any())


def _is_numeric_axis(labels: pd.Series) -> bool:
    """True when the cells are bins of a number ('<= 3', '(3, 5]', '> 5'), not categories."""
    if labels.isna().all():  # an older shape table without labels: plot positions only
        return True
    return bool(labels.astype("str").str.match(r"^(<=|>|\()").all())
