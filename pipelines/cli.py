"""The takehold command line: a thin layer that parses options and calls the pipelines.

Every command is registered with `command`, which sets up logging and runs the command's body
through `pipelines.failures.exit_code`: whatever goes wrong ends as one or two plain lines and
a non-zero exit code, with a traceback only under `--verbose` (tests/test_cli.py checks that
every command is registered this way).
"""

from __future__ import annotations

import functools
import logging
import os
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
config_app = typer.Typer(
    help="Check a provider group's configuration file before it is used.",
    no_args_is_help=True,
)
app.add_typer(config_app, name="config")

# takehold's own packages: their log records are the user's business; the libraries' are not,
# unless they are errors or --verbose asks.
OUR_PACKAGES = ("pipelines", "features", "models", "validation", "report", "contracts", "simulator")


def command(name: str | None = None, *, group: typer.Typer = app):
    """Register a command whose failures all end in `pipelines.failures.exit_code`.

    The command function takes `verbose` and returns an exit code (None: 0).
    """

    def register(function):
        @functools.wraps(function)
        def guarded(*args, **kwargs) -> None:
            from pipelines.failures import exit_code

            verbose = bool(kwargs.get("verbose", False))
            setup_logging(verbose)
            raise typer.Exit(exit_code(lambda: function(*args, **kwargs), verbose))

        guarded.reports_failures = True  # type: ignore[attr-defined]
        return group.command(name)(guarded)

    return register


def setup_logging(verbose: bool) -> None:
    """Logs go to stderr; library code never prints. Verbose shows takehold's own stages and
    the libraries' warnings and tracebacks; without it no log record carries a traceback."""
    quiet_libraries(verbose)
    logging.basicConfig(
        level=logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    level = logging.INFO if verbose else logging.WARNING
    for package in OUR_PACKAGES:
        logging.getLogger(package).setLevel(level)
    for handler in logging.getLogger().handlers:
        handler.filters = [f for f in handler.filters if not isinstance(f, PlainLogs)]
        handler.addFilter(PlainLogs(verbose))


class PlainLogs(logging.Filter):
    """Without --verbose: the libraries' records below ERROR are dropped (Great Expectations'
    notes, Prefect's "still processing" warnings, urllib3's retries), and no record keeps a
    traceback (takehold says what went wrong in its own words)."""

    def __init__(self, verbose: bool):
        super().__init__()
        self.verbose = verbose

    def filter(self, record: logging.LogRecord) -> bool:
        if self.verbose:
            return True
        ours = record.name.split(".")[0] in OUR_PACKAGES
        if not ours and record.levelno < logging.ERROR:
            return False
        record.exc_info, record.exc_text, record.stack_info = None, None, None
        return True


def quiet_libraries(verbose: bool) -> None:
    """Prefect logs a failed flow with its traceback through handlers of its own, set up from
    the environment when it is imported (and directly when it already was); MLflow likewise."""
    if verbose:
        os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    else:
        os.environ["PREFECT_LOGGING_LEVEL"] = "CRITICAL"
    os.environ.setdefault("MLFLOW_LOGGING_LEVEL", "WARNING")
    logging.getLogger("prefect").setLevel(os.environ["PREFECT_LOGGING_LEVEL"].upper())
    logging.getLogger("urllib3").setLevel(logging.WARNING if verbose else logging.ERROR)


def main() -> None:  # pragma: no cover - console entry
    app()


# --- options shared by the commands ------------------------------------------------------------

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
        help="A TOML file overriding the run configuration (thresholds, windows, ...); "
        "see `takehold config check`.",
    ),
]
DryRunOption = Annotated[
    bool,
    typer.Option(
        "--dry-run",
        help="Check the configuration, print it (defaults included, with what --config "
        "changed) and stop before any work.",
    ),
]
VerboseOption = Annotated[
    bool, typer.Option("--verbose", "-v", help="Log every stage; show tracebacks.")
]
HistoryOption = Annotated[
    str | None,
    typer.Option(
        "--history-url",
        "--sink-url",
        help="The run history's database: a SQLAlchemy URL or a file path for SQLite "
        "(default TAKEHOLD_HISTORY_URL, else $TAKEHOLD_HOME/history.db). A URL with a "
        "password is best given in TAKEHOLD_HISTORY_URL.",
    ),
]


def _date(value: datetime | None) -> date:
    return value.date() if value is not None else date.today()


# --- the run commands: score, train, serve, demo -------------------------------------------------


@command()
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
            min=0,
            help="Partitions of services scored separately (default: one per core, at most 4, "
            "on the local runner; 4 on dask).",
        ),
    ] = 0,
    history_url: HistoryOption = None,
    no_report: Annotated[bool, typer.Option("--no-report", help="Skip the HTML report.")] = False,
    rules_only: Annotated[
        bool,
        typer.Option(
            "--rules-only",
            help="Score with the rules alone: stages, reasons, triggers, claim checks and a "
            "ranking by the rules, p_hold left empty. Automatic when no model is trained yet.",
        ),
    ] = False,
    dry_run: DryRunOption = False,
    verbose: VerboseOption = False,
) -> int:
    """Score every improvement as of a date with the champion model (the nightly run)."""
    from pipelines import runs

    if runner not in ("local", "dask"):
        raise typer.BadParameter("must be 'local' or 'dask'", param_hint="--runner")
    if dry_run:
        return runs.dry_run(config)
    return runs.score_command(
        export,
        out,
        _date(as_of),
        config,
        runner,
        dask_address,
        partitions,
        history_url,
        not no_report,
        rules_only=rules_only,
    )


@command()
def train(
    export: Annotated[str, typer.Argument(help="Export folder path or fsspec URL.")],
    as_of: DateOption = None,
    config: ConfigOption = None,
    dry_run: DryRunOption = False,
    verbose: VerboseOption = False,
) -> int:
    """Replay-evaluate, fit, log and register the model on labels observable by the as-of date."""
    from pipelines import runs

    if dry_run:
        return runs.dry_run(config)
    return runs.train_command(export, _date(as_of), config)


@command()
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
) -> int:
    """How well the model would have done on this group's own services: the replay evaluation
    (train as the export stood at each cutoff, score then, compare with what happened after)."""
    from pipelines import runs

    return runs.evaluate_command(export, as_of.date() if as_of else None, out, config)


@command()
def serve(
    export: Annotated[str, typer.Argument(help="Export folder path or fsspec URL, read nightly.")],
    out: Annotated[Path, typer.Option("--out", help="Output folder (OUT/).")] = Path("out"),
    cron: Annotated[str, typer.Option(help="Cron schedule.")] = "0 2 * * *",
    timezone: Annotated[str, typer.Option(help="Time zone of the schedule.")] = "Europe/London",
    config: ConfigOption = None,
    history_url: HistoryOption = None,
    dry_run: DryRunOption = False,
    verbose: VerboseOption = False,
) -> int:
    """Serve the nightly scoring flow on a schedule (needs a Prefect server: PREFECT_API_URL)."""
    from pipelines import runs

    if dry_run:
        return runs.dry_run(config)
    return runs.serve_command(export, out, cron, timezone, config, history_url)


@command()
def demo(
    services: Annotated[
        int, typer.Option(min=1, help="Services in the demo provider group.")
    ] = 120,
    years: Annotated[float, typer.Option(min=0.25, help="Years of evidence.")] = 3.0,
    seed: Annotated[int, typer.Option(help="Simulation seed.")] = 7,
    verbose: VerboseOption = False,
) -> int:
    """Simulate a demo provider group, validate, train, score and report; print where it all is."""
    from pipelines import runs

    return runs.demo_command(services, years, seed)


# --- configuration ------------------------------------------------------------------------------


@command("check", group=config_app)
def config_check(
    file: Annotated[
        Path,
        typer.Argument(exists=True, dir_okay=False, help="The TOML configuration file to check."),
    ],
    verbose: VerboseOption = False,
) -> int:
    """Check a configuration file; print the configuration in force (defaults included) and
    what the file changes. Exit 0 when it can be used, 2 (one line per problem) when not."""
    from pipelines import runs

    return runs.dry_run(file)


# --- the other commands: validate, report, simulate ---------------------------------------------


@command("validate")
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
) -> int:
    """Check an export against the contract: exit 0 usable, 1 blocked, 2 usage error."""
    from contracts.params import ValidationParams
    from pipelines.config import writable_folder
    from pipelines.io import ExportError, read_export
    from validation import validate_export, write_validation_outputs

    writable_folder(out, "--out")
    try:
        loaded = read_export(export, collect_errors=True)
        result = validate_export(loaded, _date(as_of), ValidationParams(block_share=block_share))
    except (ExportError, ValueError) as exc:
        typer.echo(f"Error: {exc}", err=True)
        return 2
    write_validation_outputs(result, out)
    for line in result.summary_lines():
        typer.echo(line)
    typer.echo(f"Summary: {out / 'validation.json'}; Data Docs: {out / 'data_docs' / 'index.html'}")
    return 1 if result.blocked else 0


@command("report")
def report_command(
    out: Annotated[Path, typer.Argument(help="A finished run's output folder (OUT/).")],
    compare_to: Annotated[
        str | None,
        typer.Option(
            "--compare-to",
            help="The earlier run to compare with: a run id, a date (YYYY-MM-DD: the last run "
            "as of it), previous_quarter or previous_run (default: the run's configuration, "
            "previous_quarter unless set).",
        ),
    ] = None,
    governance: Annotated[
        bool,
        typer.Option(
            "--governance",
            help="Governance mode: compare with the last run of the previous quarter.",
        ),
    ] = False,
    history_url: HistoryOption = None,
    detailed_charts: Annotated[
        int,
        typer.Option(
            min=0, help="Most improvements needing attention that get full SPC and factor charts."
        ),
    ] = 150,
    detailed_services: Annotated[
        int,
        typer.Option(
            min=0,
            help="Services (top of the ranking) shown as full improvement cards; the rest as "
            "one table row per improvement.",
        ),
    ] = 30,
    workers: Annotated[
        int, typer.Option(min=0, help="Processes drawing charts (0: the usable CPUs, at most 4).")
    ] = 0,
    verbose: VerboseOption = False,
) -> int:
    """Write OUT/report.html (self-contained, offline) and OUT/tables/*.csv from a run's
    outputs, with trends and the comparison from the run history."""
    from pipelines import runs

    if governance and compare_to:
        raise typer.BadParameter("give --governance or --compare-to, not both")
    chosen = "previous_quarter" if governance else compare_to
    return runs.report_command(
        out, chosen, history_url, detailed_charts, detailed_services, workers
    )


@command("signoff")
def signoff_command(
    out: Annotated[Path, typer.Argument(help="The output folder (OUT/) whose run was reviewed.")],
    signed_by: Annotated[str, typer.Option("--by", help="Who reviewed the run.")],
    note: Annotated[
        str, typer.Option("--note", help="What they would like the meeting to know.")
    ] = "",
    run: Annotated[
        str | None, typer.Option("--run", help="The run reviewed (default: OUT's current run).")
    ] = None,
    history_url: HistoryOption = None,
    verbose: VerboseOption = False,
) -> int:
    """Record that a run was reviewed before governance (who, when, note) in the run history.
    The next report shows it; a sign-off never changes a score."""
    from pipelines import runs

    return runs.signoff_command(out, signed_by, note, run, history_url)


@command("simulate")
def simulate_command(
    out_dir: Annotated[Path, typer.Argument(help="Folder for export/ and truth/.")],
    services: Annotated[int, typer.Option(min=1, help="Services in the provider group.")] = 120,
    years: Annotated[float, typer.Option(min=0.25, help="Years of evidence up to --end.")] = 3.0,
    seed: Annotated[int, typer.Option(help="Random seed; the same seed gives the same files.")] = 1,
    fmt: Annotated[str, typer.Option("--format", help="csv or parquet.")] = "csv",
    end: Annotated[
        datetime | None,
        typer.Option(formats=["%Y-%m-%d"], help="Last day of the evidence (default 2026-10-31)."),
    ] = None,
    truth_draws: Annotated[
        int,
        typer.Option(
            min=1,
            help="Re-simulations per truth date for the true probability of holding (40 are "
            "a mean 0.034 from 1,000; docs/simulator.md).",
        ),
    ] = 40,
    monthly_truth: Annotated[
        bool,
        typer.Option(
            help="Ground truth at every month-end (default: the replay evaluation's 4 cutoffs)."
        ),
    ] = False,
    verbose: VerboseOption = False,
) -> int:
    """Write a simulated provider group's export and, beside it, its ground truth."""
    from pipelines.config import writable_folder
    from pipelines.runs import simulator_package

    if fmt not in ("csv", "parquet"):
        raise typer.BadParameter("must be csv or parquet", param_hint="--format")
    writable_folder(out_dir, "OUT_DIR")
    simulator = simulator_package()
    if simulator is None:
        return 1
    from simulator.core import DEFAULT_END

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
    return 0
