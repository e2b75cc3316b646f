"""Build the governance report from a finished run's output folder.

`build_report(OUT)` reads OUT (never recomputes a score), draws the charts, and writes
`report.html` (one self-contained file: styles, charts and the print helper inline; no
network) and `tables/*.csv` for board papers next to it.

Chart budget. A 300-service group has 1,500 to 3,000 improvements and a matplotlib chart
costs tens of milliseconds, so not every improvement gets the full treatment: those needing
attention (a trigger, an over-claim or slipping) get the SPC chart and the factor chart, up
to `detailed_chart_limit` in oversight order; every other improvement gets a compliance
sparkline and its top factors as a short list. This keeps the 300-service report under 30 s
and 20 MB (benchmarks/bench_report.py).
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import pandas as pd
from markupsafe import Markup

from features.spc import assurance, variation_icon
from pipelines.report import charts, content, evidence, tables
from pipelines.report.reading import RunOutputs, read_run_outputs
from pipelines.report.render import render_report
from pipelines.report.spreadsheet import write_spreadsheet_tables

log = logging.getLogger(__name__)

REPORT_FILE = "report.html"
TABLES_FOLDER = "tables"
DETAILED_CHART_LIMIT = 150
# Sparklines for the first improvements in oversight order only: each costs a matplotlib
# figure (~10 ms), and 300 services hold ~7,000 improvements. The rest show their numbers.
SPARKLINE_LIMIT = 600


def build_report(out_dir: Path, *, detailed_chart_limit: int = DETAILED_CHART_LIMIT) -> Path:
    """Write OUT/report.html and OUT/tables/*.csv from the run outputs in `out_dir`.

    Returns the path of report.html. When OUT publishes runs through `OUT/current`, the files
    are written into the current run's folder (OUT/report.html links there).
    """
    started = time.perf_counter()
    outputs = read_run_outputs(Path(out_dir))
    target = report_folder(Path(out_dir))
    improvements = content.ordered_improvements(outputs)
    changes = tables.changes_since_previous(outputs.scores, outputs.previous_scores)
    page = page_content(outputs, improvements, changes, detailed_chart_limit)
    path = target / REPORT_FILE
    path.write_text(render_report(page), encoding="utf-8")
    write_spreadsheet_tables(board_tables(outputs, improvements, changes), target / TABLES_FOLDER)
    log.info("report written: %s (%.1f MB, %.1f s)", path, path.stat().st_size / 1e6,
             time.perf_counter() - started)
    return path


def report_folder(out_dir: Path) -> Path:
    """Where the report's files go: OUT/current's run folder when OUT publishes, else OUT."""
    current = out_dir / "current"
    return current.resolve() if current.is_dir() else out_dir


def page_content(outputs: RunOutputs, improvements: pd.DataFrame, changes: pd.DataFrame,
                 detailed_chart_limit: int) -> dict:
    """All template data for the page, charts included."""
    points = evidence.spc_points(outputs.monthly)
    factors = evidence.top_factors(outputs.contributions)
    timeline = evidence.timelines(outputs.timeline)
    detailed = detailed_ids(improvements, detailed_chart_limit)
    drawn = improvement_charts(improvements, points, factors, timeline, detailed)
    items = content.improvement_items(improvements, factors, timeline, points, drawn)
    summary = content.summary_content(
        outputs, improvements, charts.stage_chart(tables.stage_counts(outputs.scores)), changes)
    summary.update(detailed_count=len(detailed), detailed_limit=detailed_chart_limit,
                   detailed_capped=bool(improvements["attention"].sum() > len(detailed)))
    return {
        "run": content.run_facts(outputs),
        "summary": summary,
        "services": content.service_content(outputs.services, improvements, items),
        "model": content.model_content(outputs, *model_charts(outputs)),
    }


def detailed_ids(improvements: pd.DataFrame, limit: int) -> set[str]:
    """Ids of the improvements that get full charts: needing attention, first `limit` in order."""
    attention = improvements[improvements["attention"]]
    return set(attention["improvement_id"].head(max(limit, 0)))


def improvement_charts(improvements: pd.DataFrame, points: pd.DataFrame, factors: pd.DataFrame,
                       timeline: pd.DataFrame, detailed: set[str]) -> dict[str, dict]:
    """Chart fragments per improvement id: SPC and factor charts, or a sparkline."""
    spc, factor, spark = (charts.SpcChartPainter(), charts.FactorChartPainter(),
                          charts.SparklinePainter())
    points_by_id = dict(tuple(points.groupby("improvement_id", sort=False)))
    factors_by_id = dict(tuple(factors.groupby("improvement_id", sort=False)))
    events_by_id = dict(tuple(timeline.groupby("improvement_id", sort=False)))
    no_events = timeline.iloc[:0]
    drawn: dict[str, dict] = {}
    sparklines = 0
    for position, key in enumerate(improvements["improvement_id"]):
        series = points_by_id.get(key)
        found: dict = {}
        if key in detailed:
            if series is not None:
                found.update(_spc_chart(spc, series, events_by_id.get(key, no_events), key,
                                        position))
            if key in factors_by_id:
                found["factor_svg"] = Markup(factor.svg(
                    factors_by_id[key], label=f"Top factors for improvement {key}",
                    salt=f"f{position}"))
        elif series is not None and sparklines < SPARKLINE_LIMIT:
            sparklines += 1
            found["sparkline_svg"] = Markup(spark.svg(
                series["y"], target=float(series["standard"].iloc[-1]),
                label=f"Monthly compliance of improvement {key}", salt=f"k{position}"))
        drawn[key] = found
    return drawn


def model_charts(outputs: RunOutputs) -> tuple[str | None, str | None]:
    """The reliability plot and the shape functions, or None when the run has no such table."""
    reliability = (charts.reliability_chart(outputs.reliability)
                   if not outputs.reliability.dropna(how="all").empty else None)
    shapes = (charts.shape_function_chart(outputs.shape_functions)
              if not outputs.shape_functions.dropna(how="all").empty else None)
    return reliability, shapes


def board_tables(outputs: RunOutputs, improvements: pd.DataFrame,
                 changes: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The tables analysts paste into board papers, by file name."""
    columns = ["service_rank", "service", "location_id", "improvement_id", "theme",
               "key_question", "severity", "stage", "p_hold", "p_hold_low", "p_hold_high",
               "declared_status", "claim_check", "cross_check", "triggers", "escalations",
               "stable_reasons", "fragile_reasons", "next_rm_review_due",
               "next_senior_review_due", "review_overdue"]
    names = outputs.services[["location_id", "name"]].rename(columns={"name": "service"})
    return {
        "services": tables.ranked_services(outputs.services),
        "improvements": improvements[columns],
        "stages": tables.stage_counts(outputs.scores),
        "overclaims": tables.overclaims(improvements),
        "triggers": tables.triggered(improvements),
        "changes": changes.merge(names, on="location_id", how="left"),
        "backtest": tables.backtest_summary(outputs.backtest),
    }


def _spc_chart(painter: charts.SpcChartPainter, series: pd.DataFrame, events: pd.DataFrame,
               key: str, position: int) -> dict:
    standard = float(series["standard"].iloc[-1])
    chart = series.reset_index(drop=True)
    variation = variation_icon(chart, "increase")
    assured = assurance(chart, standard, "increase")
    svg = painter.svg(chart, target=standard, events=events, variation=variation,
                      assurance=assured or "", label=f"SPC chart of improvement {key}",
                      salt=f"s{position}")
    return {"spc_svg": Markup(svg), "variation": variation, "assurance": assured}
