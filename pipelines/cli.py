"""The takehold command line: a thin layer that parses options and calls the pipelines."""

from __future__ import annotations

import logging
import sys
from datetime import datetime
from pathlib import Path
from typing import Annotated

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
        150, help="Most improvements needing attention that get full SPC and factor charts."),
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


@app.command("simulate")
def simulate_command(
    out_dir: Annotated[Path, typer.Argument(help="Folder for export/ and truth/.")],
    services: Annotated[int, typer.Option(help="Services in the provider group.")] = 120,
    years: Annotated[float, typer.Option(help="Years of evidence up to --end.")] = 3.0,
    seed: Annotated[int, typer.Option(help="Random seed; the same seed gives the same files.")] = 1,
    fmt: Annotated[str, typer.Option("--format", help="csv or parquet.")] = "csv",
    end: Annotated[datetime | None, typer.Option(
        formats=["%Y-%m-%d"], help="Last day of the evidence (default 2026-10-31).")] = None,
    truth_draws: Annotated[int, typer.Option(
        help="Re-simulations per as-of date for the true probability of holding.")] = 200,
) -> None:
    """Write a simulated provider group's export and, beside it, its ground truth."""
    from pipelines.simulator import simulate_group, write_simulation
    from pipelines.simulator.core import DEFAULT_END

    if fmt not in ("csv", "parquet"):
        typer.echo("Error: --format must be csv or parquet", err=True)
        raise typer.Exit(2)
    simulation = simulate_group(services, years, seed, end=end.date() if end else DEFAULT_END,
                                truth_draws=truth_draws)
    export_dir, truth_dir = write_simulation(simulation, out_dir, fmt)  # type: ignore[arg-type]
    typer.echo(f"Export: {export_dir}")
    for name, frame in simulation.frames.items():
        typer.echo(f"  {name}: {len(frame):,} rows")
    typer.echo(f"Truth: {truth_dir} ({len(simulation.truth):,} rows)")
