"""The takehold command line: a thin layer that parses options and calls the pipelines."""

from __future__ import annotations

import logging
import sys
from datetime import date, datetime
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
    """Logs go to stderr; library code never prints. Verbose shows takehold's own stages."""
    logging.basicConfig(
        level=logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    level = logging.INFO if verbose else logging.WARNING
    for package in ("pipelines", "features", "models", "validation", "report", "contracts"):
        logging.getLogger(package).setLevel(level)
    # Great Expectations sets some of its loggers to INFO when imported; its notes are not
    # the user's business unless asked for.
    for handler in logging.getLogger().handlers:
        handler.addFilter(lambda record: verbose or _not_a_library_note(record))


def _not_a_library_note(record: logging.LogRecord) -> bool:
    return record.levelno >= logging.WARNING or not record.name.startswith("great_expectations")


def main() -> None:  # pragma: no cover - console entry
    app()


# --- the run commands: score, train, serve, demo -------------------------------------------------

DateOption = Annotated[
    datetime | None,
    typer.Option(
        "--as-of", formats=["%Y-%m-%d"], help="The as-of date (YYYY-MM-DD); default: today."
    ),
]
ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config",
        exists=True,
        dir_okay=False,
        help="A TOML file overriding the run configuration (thresholds, windows, ...).",
    ),
]
VerboseOption = Annotated[bool, typer.Option("--verbose", "-v", help="Log every stage.")]


@app.command()
def score(
    export: Annotated[str, typer.Argument(help="Export folder path or fsspec URL.")],
    out: Annotated[Path, typer.Option("--out", help="Output folder (OUT/).")] = Path("out"),
    as_of: DateOption = None,
    config: ConfigOption = None,
    runner: Annotated[str, typer.Option(help="'local' (threads) or 'dask'.")] = "local",
    dask_address: Annotated[
        str | None,
        typer.Option(help="Address of an existing Dask scheduler; a local cluster otherwise."),
    ] = None,
    partitions: Annotated[
        int,
        typer.Option(
            help="Partitions of services scored separately (default: one per core, at most 4, "
            "on the local runner; 4 on dask).",
        ),
    ] = 0,
    sink_url: Annotated[
        str | None,
        typer.Option(
            help="SQLAlchemy URL (or a file path for SQLite) to append scores and rankings to."
        ),
    ] = None,
    no_report: Annotated[bool, typer.Option("--no-report", help="Skip the HTML report.")] = False,
    verbose: VerboseOption = False,
) -> None:
    """Score every improvement as of a date with the champion model (the nightly run)."""
    from pipelines import runs

    setup_logging(verbose)
    code = runs.score_command(
        export, out, _date(as_of), config, runner, dask_address, partitions, sink_url, not no_report
    )
    raise typer.Exit(code)


@app.command()
def train(
    export: Annotated[str, typer.Argument(help="Export folder path or fsspec URL.")],
    as_of: DateOption = None,
    config: ConfigOption = None,
    verbose: VerboseOption = False,
) -> None:
    """Replay-evaluate, fit, log and register the model on labels observable by the as-of date."""
    from pipelines import runs

    setup_logging(verbose)
    raise typer.Exit(runs.train_command(export, _date(as_of), config))


@app.command()
def evaluate(
    export: Annotated[str, typer.Argument(help="Export folder path or fsspec URL.")],
    as_of: Annotated[
        datetime | None,
        typer.Option(
            formats=["%Y-%m-%d"],
            help="The export's last day (YYYY-MM-DD); default: its latest date, up to today.",
        ),
    ] = None,
    out: Annotated[
        Path, typer.Option("--out", help="Folder for the evaluation's tables and plots.")
    ] = Path("evaluation"),
    config: ConfigOption = None,
    verbose: VerboseOption = False,
) -> None:
    """How well the model would have done on this group's own services: the replay evaluation
    (train as the export stood at each cutoff, score then, compare with what happened after)."""
    from pipelines import runs

    setup_logging(verbose)
    raise typer.Exit(runs.evaluate_command(export, as_of.date() if as_of else None, out, config))


@app.command()
def serve(
    export: Annotated[str, typer.Argument(help="Export folder path or fsspec URL, read nightly.")],
    out: Annotated[Path, typer.Option("--out", help="Output folder (OUT/).")] = Path("out"),
    cron: Annotated[str, typer.Option(help="Cron schedule.")] = "0 2 * * *",
    timezone: Annotated[str, typer.Option(help="Time zone of the schedule.")] = "Europe/London",
    config: ConfigOption = None,
    sink_url: Annotated[str | None, typer.Option(help="SQL sink URL, as for `score`.")] = None,
    verbose: VerboseOption = False,
) -> None:
    """Serve the nightly scoring flow on a schedule (needs a Prefect server: PREFECT_API_URL)."""
    from pipelines import runs

    setup_logging(verbose)
    raise typer.Exit(runs.serve_command(export, out, cron, timezone, config, sink_url))


@app.command()
def demo(
    services: Annotated[int, typer.Option(help="Services in the demo provider group.")] = 120,
    years: Annotated[float, typer.Option(help="Years of evidence.")] = 3.0,
    seed: Annotated[int, typer.Option(help="Simulation seed.")] = 7,
    verbose: VerboseOption = False,
) -> None:
    """Simulate a demo provider group, validate, train, score and report; print where it all is."""
    from pipelines import runs

    setup_logging(verbose)
    raise typer.Exit(runs.demo_command(services, years, seed))


def _date(value: datetime | None) -> date:
    return value.date() if value is not None else date.today()


@app.command("validate")
def validate_command(
    export: Annotated[str, typer.Argument(help="Export folder path or fsspec URL.")],
    as_of: DateOption = None,
    out: Annotated[
        Path, typer.Option("--out", help="Folder for validation.json, quarantine/ and data_docs/.")
    ] = Path("out"),
    block_share: Annotated[
        float,
        typer.Option(
            min=0.0,
            max=1.0,
            help="Block the run when more than this share of a file's rows break rules.",
        ),
    ] = 0.05,
    verbose: VerboseOption = False,
) -> None:
    """Check an export against the contract: exit 0 usable, 1 blocked, 2 usage error."""
    from contracts.params import ValidationParams
    from pipelines.io import ExportError, read_export
    from validation import validate_export, write_validation_outputs

    setup_logging(verbose)
    try:
        loaded = read_export(export, collect_errors=True)
        result = validate_export(loaded, _date(as_of), ValidationParams(block_share=block_share))
    except (ExportError, ValueError) as exc:
        typer.echo(f"Error: {exc}", err=True)
        raise typer.Exit(2) from None
    write_validation_outputs(result, out)
    for line in result.summary_lines():
        typer.echo(line)
    typer.echo(f"Summary: {out / 'validation.json'}; Data Docs: {out / 'data_docs' / 'index.html'}")
    raise typer.Exit(1 if result.blocked else 0)


@app.command("report")
def report_command(
    out: str = typer.Argument(..., help="A finished run's output folder (OUT/)."),
    detailed_charts: int = typer.Option(
        150, help="Most improvements needing attention that get full SPC and factor charts."
    ),
    detailed_services: int = typer.Option(
        30,
        help="Services (top of the ranking) shown as full improvement cards; the rest as "
        "one table row per improvement.",
    ),
    workers: int = typer.Option(
        0, help="Processes drawing charts (0: the usable CPUs, at most 4)."
    ),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Log every stage."),
) -> None:
    """Write OUT/report.html (self-contained, offline) and OUT/tables/*.csv from a run's outputs."""
    from pathlib import Path

    from report import build_report
    from report.reading import RunOutputsError

    setup_logging(verbose)
    try:
        written = build_report(
            Path(out),
            detailed_chart_limit=detailed_charts,
            detailed_services=detailed_services,
            workers=workers or None,
        )
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
    end: Annotated[
        datetime | None,
        typer.Option(formats=["%Y-%m-%d"], help="Last day of the evidence (default 2026-10-31)."),
    ] = None,
    truth_draws: Annotated[
        int,
        typer.Option(
            help="Re-simulations per truth date for the true probability of holding (40 match "
            "1,000 to about 0.02; docs/simulator.md)."
        ),
    ] = 40,
    monthly_truth: Annotated[
        bool,
        typer.Option(
            help="Ground truth at every month-end (default: the replay evaluation's 4 cutoffs)."
        ),
    ] = False,
) -> None:
    """Write a simulated provider group's export and, beside it, its ground truth."""
    from pipelines.runs import simulator_package

    simulator = simulator_package()
    if simulator is None:
        raise typer.Exit(1)
    from simulator.core import DEFAULT_END

    if fmt not in ("csv", "parquet"):
        typer.echo("Error: --format must be csv or parquet", err=True)
        raise typer.Exit(2)
    simulation = simulator.simulate_group(
        services,
        years,
        seed,
        end=end.date() if end else DEFAULT_END,
        truth_draws=truth_draws,
        truth_as_of="monthly" if monthly_truth else None,
    )
    export_dir, truth_dir = simulator.write_simulation(simulation, out_dir, fmt)  # type: ignore[arg-type]
    typer.echo(f"Export: {export_dir}")
    for name, frame in simulation.frames.items():
        typer.echo(f"  {name}: {len(frame):,} rows")
    typer.echo(f"Truth: {truth_dir} ({len(simulation.truth):,} rows)")
