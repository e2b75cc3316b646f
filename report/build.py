"""Build the governance report from a finished run's output folder.

`build_report(OUT)` reads OUT (never recomputes a score), draws the charts, and writes
`report.html` (one self-contained file: styles, charts and the print helper inline; no
network) and `tables/*.csv` for board papers next to it.

Page budget. A 300-service group has about 7,000 improvements; a full card costs about
4 kB of HTML and a matplotlib chart tens of milliseconds and 10 kB. So the first
`detailed_services` services in the oversight ranking show each improvement as a full card
(reasons, factors, timeline, a chart), and the others one table row per improvement (stage,
probability and band, claim check, cross-check, triggers with escalation, reasons, reviews).
Within the full cards, those needing attention (a trigger, an over-claim or slipping) get
the SPC chart and the factor chart, up to `detailed_chart_limit` in oversight order; the
others a compliance sparkline (up to SPARKLINE_LIMIT) and their top factors as a list.
benchmarks/bench_report.py measures time and size against the targets (30 s, 20 MB).
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from markupsafe import Markup

from contracts.params import GovernanceParams
from features.spc import assurance, variation_icon
from report import charts, content, evidence, governance, tables
from report.history import RunHistory, empty_history
from report.reading import RunOutputs, read_run_outputs
from report.render import render_report
from report.spreadsheet import write_spreadsheet_tables

log = logging.getLogger(__name__)

REPORT_FILE = "report.html"
TABLES_FOLDER = "tables"
DETAILED_CHART_LIMIT = 150
# Sparklines for the first improvements in oversight order only: each costs a matplotlib
# figure (~10 ms), and 300 services hold ~7,000 improvements. The rest show their numbers.
SPARKLINE_LIMIT = 600
# Drawing processes: charts are independent, so a 2-core machine draws them in about half
# the time. A chunk of charts per task keeps the pickling small against the drawing.
MAX_CHART_WORKERS = 4
CHART_CHUNK = 60


def build_report(
    out_dir: Path,
    *,
    detailed_chart_limit: int = DETAILED_CHART_LIMIT,
    detailed_services: int = content.DETAILED_SERVICES,
    workers: int | None = None,
    history: RunHistory | None = None,
    governance_params: GovernanceParams | None = None,
) -> Path:
    """Write OUT/report.html and OUT/tables/*.csv from the run outputs in `out_dir`.

    Charts are drawn in `workers` processes (default: the usable CPUs, at most
    MAX_CHART_WORKERS); the page is the same for any number. `history`: the earlier runs of
    this output folder (trends, the comparison and why probabilities moved, sign-offs); without
    it the page says there is none.

    Returns the path of report.html. When OUT publishes runs through `OUT/current`, the files
    are written into the current run's folder (OUT/report.html links there).
    """
    started = time.perf_counter()
    outputs = read_run_outputs(Path(out_dir))
    target = report_folder(Path(out_dir))
    improvements = content.ordered_improvements(outputs)
    changes = tables.changes_since_previous(outputs.scores, outputs.previous_scores)
    page = page_content(
        outputs,
        improvements,
        changes,
        detailed_chart_limit,
        detailed_services,
        chart_workers() if workers is None else workers,
        history=history,
        governance_params=governance_params,
    )
    path = target / REPORT_FILE
    compared = page.pop("compared_tables")
    path.write_text(render_report(page), encoding="utf-8")
    write_spreadsheet_tables(
        {**board_tables(outputs, improvements, changes), **compared}, target / TABLES_FOLDER
    )
    log.info(
        "report written: %s (%.1f MB, %.1f s)",
        path,
        path.stat().st_size / 1e6,
        time.perf_counter() - started,
    )
    return path


def report_folder(out_dir: Path) -> Path:
    """Where the report's files go: OUT/current's run folder when OUT publishes, else OUT."""
    current = out_dir / "current"
    return current.resolve() if current.is_dir() else out_dir


def page_content(
    outputs: RunOutputs,
    improvements: pd.DataFrame,
    changes: pd.DataFrame,
    detailed_chart_limit: int,
    detailed_services: int = content.DETAILED_SERVICES,
    workers: int = 1,
    *,
    history: RunHistory | None = None,
    governance_params: GovernanceParams | None = None,
) -> dict:
    """All template data for the page, charts included."""
    history = history or empty_history("This report was built without the run history.")
    points = evidence.spc_points(outputs.monthly)
    factors = evidence.top_factors(outputs.contributions)
    timeline = evidence.timelines(outputs.timeline)
    in_full = improvements["location_id"].isin(
        content.detailed_service_ids(outputs.services, detailed_services)
    )
    carded = improvements[in_full]
    detailed = detailed_ids(carded, detailed_chart_limit)
    drawn, shapes_svg = improvement_charts(
        carded, points, factors, timeline, detailed, workers=workers, shapes=outputs.shape_functions
    )
    teams = tables.teams_of(outputs.teams, carded["improvement_id"])
    items = content.improvement_items(improvements, factors, timeline, points, drawn, teams)
    trend_by_id = governance.improvement_trends(history, outputs, set(carded["improvement_id"]))
    for key, item in items.items():
        item["trend"] = trend_by_id.get(key)
    summary = content.summary_content(
        outputs, improvements, charts.stage_chart(tables.stage_counts(outputs.scores)), changes
    )
    summary.update(
        detailed_count=len(detailed),
        detailed_limit=detailed_chart_limit,
        detailed_capped=bool(carded["attention"].sum() > len(detailed)),
        detailed_services=min(detailed_services, len(outputs.services)),
    )
    service_trends = governance.service_trends(history, outputs)
    services = content.service_content(outputs.services, improvements, items, detailed_services)
    for entry in services:
        entry["trend"] = service_trends.get(entry["location_id"])
    over_time, compared_tables = governance.governance_content(
        outputs, improvements, history, governance_params or GovernanceParams()
    )
    return {
        "run": content.run_facts(outputs),
        "summary": summary,
        "services": services,
        "model": content.model_content(outputs, reliability_svg(outputs), shapes_svg),
        "governance": over_time,
        "compared_tables": compared_tables,  # every row, for tables/ (not for the page)
    }


def detailed_ids(improvements: pd.DataFrame, limit: int) -> set[str]:
    """Ids of the improvements that get full charts: needing attention, first `limit` in order."""
    attention = improvements[improvements["attention"]]
    return set(attention["improvement_id"].head(max(limit, 0)))


@dataclass(frozen=True)
class ChartJob:
    """One improvement's charts to draw: `kind` 'detailed' (SPC and factors) or 'sparkline'."""

    key: str
    position: int
    kind: str
    series: pd.DataFrame | None
    factors: pd.DataFrame | None = None
    events: pd.DataFrame | None = None


def chart_jobs(
    improvements: pd.DataFrame,
    points: pd.DataFrame,
    factors: pd.DataFrame,
    timeline: pd.DataFrame,
    detailed: set[str],
) -> list[ChartJob]:
    """The charts to draw, in page order: full charts for `detailed`, sparklines up to the cap."""
    points_by_id = dict(tuple(points.groupby("improvement_id", sort=False)))
    factors_by_id = dict(tuple(factors.groupby("improvement_id", sort=False)))
    events_by_id = dict(tuple(timeline.groupby("improvement_id", sort=False)))
    no_events = timeline.iloc[:0]
    jobs: list[ChartJob] = []
    sparklines = 0
    for position, key in enumerate(improvements["improvement_id"]):
        series = points_by_id.get(key)
        if key in detailed:
            jobs.append(
                ChartJob(
                    key,
                    position,
                    "detailed",
                    series,
                    factors_by_id.get(key),
                    events_by_id.get(key, no_events),
                )
            )
        elif series is not None and sparklines < SPARKLINE_LIMIT:
            sparklines += 1
            jobs.append(ChartJob(key, position, "sparkline", series))
    return jobs


def draw_charts(jobs: list[ChartJob]) -> list[tuple[str, dict]]:
    """Draw `jobs` in this process: (improvement id, chart fragments) per job, in order."""
    spc, factor, spark = (
        charts.SpcChartPainter(),
        charts.FactorChartPainter(),
        charts.SparklinePainter(),
    )
    drawn = []
    for job in jobs:
        found: dict = {}
        if job.kind == "detailed":
            if job.series is not None:
                found.update(_spc_chart(spc, job.series, job.events, job.key, job.position))
            if job.factors is not None:
                found["factor_svg"] = factor.svg(
                    job.factors,
                    label=f"Top factors for improvement {job.key}",
                    salt=f"f{job.position}",
                )
        else:
            found["sparkline_svg"] = spark.svg(
                job.series["y"],
                target=float(job.series["standard"].iloc[-1]),
                label=f"Monthly compliance of improvement {job.key}",
                salt=f"k{job.position}",
            )
        drawn.append((job.key, found))
    return drawn


def chart_workers() -> int:
    """Processes for drawing: the CPUs this process may use, at most MAX_CHART_WORKERS."""
    return max(1, min(len(os.sched_getaffinity(0)), MAX_CHART_WORKERS))


def improvement_charts(
    improvements: pd.DataFrame,
    points: pd.DataFrame,
    factors: pd.DataFrame,
    timeline: pd.DataFrame,
    detailed: set[str],
    *,
    workers: int = 1,
    shapes: pd.DataFrame | None = None,
) -> tuple[dict[str, dict], str | None]:
    """Chart fragments per improvement id (SPC and factor charts, or a sparkline), and the
    shape-function figure of `shapes` when given.

    With `workers` > 1 the charts are drawn in that many processes, in contiguous chunks of the
    page order; each chart's SVG depends only on its own data and salt, so the page is
    byte-identical to a single-process build.
    """
    jobs = chart_jobs(improvements, points, factors, timeline, detailed)
    if workers <= 1 or len(jobs) < 2 * CHART_CHUNK:
        shapes_svg = _shape_svg(shapes)
        drawn = draw_charts(jobs)
    else:
        chunks = [jobs[i : i + CHART_CHUNK] for i in range(0, len(jobs), CHART_CHUNK)]
        context = multiprocessing.get_context("spawn")  # never fork a threaded flow run
        with ProcessPoolExecutor(workers, mp_context=context) as pool:
            shape_future = pool.submit(_shape_svg, shapes)
            drawn = [pair for part in pool.map(draw_charts, chunks) for pair in part]
            shapes_svg = shape_future.result()
    marked = {
        key: {name: Markup(svg) if name.endswith("_svg") else svg for name, svg in found.items()}
        for key, found in drawn
    }
    return marked, shapes_svg


def _shape_svg(shapes: pd.DataFrame | None) -> str | None:
    if shapes is None or shapes.dropna(how="all").empty:
        return None
    return charts.shape_function_chart(shapes)


def reliability_svg(outputs: RunOutputs) -> str | None:
    """The reliability plot, or None when the run has no reliability table."""
    if outputs.reliability.dropna(how="all").empty:
        return None
    return charts.reliability_chart(outputs.reliability)


def board_tables(
    outputs: RunOutputs, improvements: pd.DataFrame, changes: pd.DataFrame
) -> dict[str, pd.DataFrame]:
    """The tables analysts paste into board papers, by file name."""
    columns = [
        "service_rank",
        "service",
        "location_id",
        "improvement_id",
        "theme",
        "key_question",
        "severity",
        "stage",
        "p_hold",
        "p_hold_low",
        "p_hold_high",
        "declared_status",
        "claim_check",
        "cross_check",
        "claim_reason",
        "triggers",
        "trigger_reasons",
        "escalations",
        "enhanced_monitoring",
        "teams_below_standard",
        "stage_reasons",
        "stable_reasons",
        "fragile_reasons",
        "top_factors",
        "next_rm_review_due",
        "next_senior_review_due",
        "review_overdue",
        "monitoring_ended_on",
    ]
    names = outputs.services[["location_id", "name"]].rename(columns={"name": "service"})
    return {
        "services": tables.ranked_services(outputs.services),
        "improvements": improvements[columns],
        "stages": tables.stage_counts(outputs.scores),
        "overclaims": tables.overclaims(improvements),
        "underclaims": tables.underclaims(improvements),
        "triggers": tables.triggered(improvements),
        "changes": changes.merge(names, on="location_id", how="left"),
        "timeline": timeline_table(outputs.timeline, improvements),
        "backtest": tables.backtest_summary(outputs.backtest),
    }


def timeline_table(timeline: pd.DataFrame, improvements: pd.DataFrame) -> pd.DataFrame:
    """Every dated event of every improvement, in page order (the timelines in full)."""
    events = evidence.timelines(timeline)
    order = improvements[["improvement_id", "service_rank", "service"]].reset_index(names="_at")
    merged = events.merge(order, on="improvement_id", how="inner")
    merged = merged.sort_values(["_at", "date"], kind="stable")
    return merged[["service_rank", "service", "improvement_id", "date", "event", "detail"]]


def _spc_chart(
    painter: charts.SpcChartPainter,
    series: pd.DataFrame,
    events: pd.DataFrame,
    key: str,
    position: int,
) -> dict:
    standard = float(series["standard"].iloc[-1])
    chart = series.reset_index(drop=True)
    variation = variation_icon(chart, "increase")
    assured = assurance(chart, standard, "increase")
    svg = painter.svg(
        chart,
        target=standard,
        events=events,
        variation=variation,
        assurance=assured or "",
        label=f"SPC chart of improvement {key}",
        salt=f"s{position}",
    )
    return {"spc_svg": Markup(svg), "variation": variation, "assurance": assured}
