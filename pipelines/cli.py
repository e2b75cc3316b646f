"""The takehold command line: a thin layer that parses options and calls the pipelines."""

from __future__ import annotations

import logging
import sys

import typer

app = typer.Typer(
    help="takehold: has a care service's improvement taken hold, or only started?",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def setup_logging(verbose: bool) -> None:
    """Logs go to stderr; library code never prints."""
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )


def main() -> None:  # pragma: no cover - console entry
    app()


@app.command("report")
def report_command(
    out: str = typer.Argument(..., help="A finished run's output folder (OUT/)."),
    detailed_charts: int = typer.Option(
        300, help="Most improvements needing attention that get full SPC and factor charts."),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Log every stage."),
) -> None:
    """Write OUT/report.html (self-contained, offline) and OUT/tables/*.csv from a run's outputs."""
    from pathlib import Path

    from pipelines.report import build_report
    from pipelines.report.reading import RunOutputsError

    setup_logging(verbose)
    try:
        written = build_report(Path(out), detailed_chart_limit=detailed_charts)
    except RunOutputsError as exc:
        typer.echo(f"Error: {exc}", err=True)
        raise typer.Exit(2) from None
    typer.echo(f"Report: {written}; tables: {written.parent / 'tables'}")
