"""What the CLI's run commands do: set up, call a flow, turn failures into clear words and exit codes.

This is the user-facing edge, so it prints (through rich); everything below it logs.
Exit codes: 0 success, 1 the input or the state cannot be used (named in the message),
2 a usage error (Typer's own).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from datetime import date
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from pipelines.config import (
    Settings,
    has_credentials,
    load_run_config,
    load_settings,
    prepare_environment,
    refuse_credentials,
)
from pipelines.history import HistoryError, HistoryStore
from pipelines.io import ExportError, prefetch_export, read_export

log = logging.getLogger(__name__)
console = Console(stderr=False, highlight=False)


def score_command(
    export: str,
    out: Path,
    as_of: date,
    config_path: Path | None,
    runner: str,
    dask_address: str | None,
    partitions: int,
    history_url: str | None,
    report: bool,
) -> int:
    started = time.time()
    settings = _settings()
    if runner == "local":  # with Dask the export is read on a worker
        prefetch_export(export)
    booting = boot_temporary_server(settings)
    from pipelines.flows import nightly_scoring
    from pipelines.stages import BlockedExport

    booting.join()
    flow, partitions = _with_runner(nightly_scoring, runner, dask_address, partitions)
    try:
        load_run_config(config_path)  # a broken configuration is refused before any work
        refuse_credentials("EXPORT", export)
        with console.status(f"Scoring {export} as of {as_of} ..."):
            run = flow(
                export=export,
                as_of=as_of,
                out=str(out.resolve()),
                config_file=_path_text(config_path),
                partitions=partitions,
                history_url=history_parameter(history_url),
                report=report,
            )
    except (ExportError, BlockedExport, LookupError, ValueError, HistoryError) as problem:
        # ValueError: an as-of date after the day of the run, or a broken configuration value.
        return _refuse(problem, _alert_since(settings, started))
    except Exception as problem:  # any other failure: said in words, never a bare traceback
        log.info("the nightly run failed", exc_info=True)  # the traceback with --verbose
        return _refuse(
            f"the run failed: {type(problem).__name__}: {problem}", _alert_since(settings, started)
        )
    _print_scoring(run, out)
    return 0


def train_command(
    export: str, as_of: date, config_path: Path | None, truth_path: Path | None = None
) -> int:
    settings = _settings()
    prefetch_export(export)
    booting = boot_temporary_server(settings)
    from pipelines.flows import train_model
    from pipelines.stages import BlockedExport

    booting.join()
    try:
        load_run_config(config_path)  # a broken configuration is refused before any work
        refuse_credentials("EXPORT", export)
        with console.status(f"Training on {export}, labels observable by {as_of} ..."):
            result = train_model(
                export=export,
                as_of=as_of,
                config_file=_path_text(config_path),
                truth_path=_path_text(truth_path),
            )
    except (ExportError, BlockedExport, ValueError) as problem:
        return _refuse(problem)
    _print_training(result, settings)
    return 0


def serve_command(
    export: str,
    out: Path,
    cron: str,
    timezone: str,
    config_path: Path | None,
    history_url: str | None,
) -> int:
    settings = _settings()
    if settings.prefect_api_url is None:
        console.print(
            "[red]takehold serve needs a Prefect server.[/red] Start one with "
            "`prefect server start --background` and set PREFECT_API_URL "
            "(e.g. http://127.0.0.1:4200/api); see README 'Running every night'."
        )
        return 1
    from prefect.schedules import Cron

    from pipelines.flows import nightly_scoring

    try:
        load_run_config(config_path)  # refuse a broken configuration now, not at 02:00
        refuse_credentials("EXPORT", export)
    except ValueError as problem:
        return _refuse(problem)
    console.print(
        f"Serving nightly_scoring on '{cron}' ({timezone}) against "
        f"{settings.prefect_api_url}; Ctrl-C stops it."
    )
    nightly_scoring.serve(
        name="takehold-nightly",
        schedule=Cron(cron, timezone=timezone),
        parameters={
            "export": export,
            "out": str(out.resolve()),
            "config_file": _path_text(config_path),
            "history_url": history_parameter(history_url),
        },
        limit=1,
    )
    return 0


def report_command(
    out: Path,
    compare_to: str | None,
    history_url: str | None,
    detailed_charts: int,
    detailed_services: int,
    workers: int,
) -> int:
    """Rebuild OUT's report, with trends, the comparison (`compare_to`: a run id, a date, or
    previous_quarter / previous_run; default the run's own setting) and sign-offs from the
    run history."""
    from contracts.params import GovernanceParams
    from pipelines.governance import report_history
    from report import build_report
    from report.build import report_folder
    from report.reading import RunOutputsError, read_run_outputs

    settings = _settings()
    try:
        outputs = read_run_outputs(out)
        params = GovernanceParams(**outputs.manifest.get("config", {}).get("governance", {}))
        store = HistoryStore.open(history_url or settings.history_url)
        try:
            history = report_history(store, settings, out, report_folder(out), params, compare_to)
        finally:
            store.close()
        written = build_report(
            out,
            detailed_chart_limit=detailed_charts,
            detailed_services=detailed_services,
            workers=workers or None,
            history=history,
            governance_params=params,
        )
    except (RunOutputsError, HistoryError, ValueError, TypeError) as problem:
        return _refuse(problem)
    console.print(f"Report: {written}; tables: {written.parent / 'tables'}")
    if history.comparison is not None:
        console.print(
            f"Compared with run {history.comparison.run['run_id']} ({history.comparison.why})."
        )
    return 0


SIGNED_BY_LIMIT = 120
NOTE_LIMIT = 2000


def signoff_command(
    out: Path, signed_by: str, note: str, run_id: str | None, history_url: str | None
) -> int:
    """Record in the run history that a run (OUT's current one unless `run_id`) was reviewed
    before governance. Nothing else changes: not a score, not a file of the run."""
    from pipelines.outputs import previous_run_id

    settings = _settings()
    try:
        signed_by, note = (
            _signoff_text(signed_by, "--by", SIGNED_BY_LIMIT),
            _signoff_text(note, "--note", NOTE_LIMIT, empty_ok=True),
        )
        run_id = run_id or previous_run_id(out)
        if run_id is None:
            raise ValueError(f"{out} has no published run (no {out / 'current'}); give --run")
        store = HistoryStore.open(history_url or settings.history_url)
        try:
            at = store.add_signoff(run_id, signed_by, note)
        finally:
            store.close()
    except (HistoryError, ValueError) as problem:
        return _refuse(problem)
    console.print(
        f"Run {run_id} signed off by {signed_by} at {at:%d %b %Y %H:%M} UTC. The next report "
        f"shows it; `takehold report {out}` rebuilds the current one now."
    )
    return 0


def _signoff_text(value: str, option: str, limit: int, empty_ok: bool = False) -> str:
    """A sign-off's name or note, stripped; refused when empty (unless allowed), too long, or
    holding control characters (a note is one paragraph of plain text)."""
    text = (value or "").strip()
    if not text and not empty_ok:
        raise ValueError(f"{option} must not be empty")
    if len(text) > limit:
        raise ValueError(f"{option} is {len(text)} characters long; at most {limit}")
    if any(ord(c) < 32 or ord(c) == 127 for c in text):
        raise ValueError(f"{option} must be plain text on one line (no control characters)")
    return text


def demo_command(services: int, years: float, seed: int) -> int:
    """Simulate, validate, train, score and report a demo provider group."""
    settings = _settings()
    simulator = simulator_package()
    if simulator is None:
        return 1
    simulate_group, write_simulation = simulator.simulate_group, simulator.write_simulation

    started = time.perf_counter()
    with console.status(f"Simulating {services} services over {years:g} years ..."):
        # 20 re-simulations per as-of date are plenty for the demo's ceiling row; the
        # simulator's default (200) is for benchmarks of the ground truth itself.
        simulation = simulate_group(services, years, seed, truth_draws=20)
        export_dir, truth_dir = write_simulation(simulation, settings.demo_dir)
    as_of = simulation.end
    _print_export_summary(str(export_dir), as_of)
    code = train_command(str(export_dir), as_of, None, truth_path=truth_dir)
    if code:
        return code
    out = settings.demo_dir / "out"
    code = score_command(str(export_dir), out, as_of, None, "local", None, 1, None, True)
    if code:
        return code
    console.print(
        f"\nDemo finished in {time.perf_counter() - started:.0f} s. Everything is under "
        f"{settings.home}:"
    )
    for label, path in (
        ("export", export_dir),
        ("ground truth", truth_dir),
        ("outputs", out),
        ("report", out / "report.html"),
        ("MLflow store", settings.mlflow_tracking_uri),
    ):
        console.print(f"  {label:<13} {path}")
    return 0


# --- helpers ------------------------------------------------------------------------------------


def simulator_package():
    """The demo simulator, or None (said in plain words) when it is not installed: a
    production install of takehold leaves it out (simulator/pyproject.toml)."""
    try:
        import simulator
    except ImportError:
        console.print(
            "[red]takehold stopped:[/red] the demo simulator is not installed. It is a "
            "separate distribution: `pip install -e ./simulator` from the project (make does)."
        )
        return None
    return simulator


def _settings() -> Settings:
    # At the command line takehold says what went wrong in its own words (file, column, rule);
    # Prefect's log of the same failure is a traceback. The Prefect API still records it.
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "CRITICAL")
    settings = load_settings()
    prepare_environment(settings)
    return settings


def history_parameter(history_url: str | None) -> str | None:
    """The history URL as a flow parameter; one with credentials goes to the environment
    (TAKEHOLD_HISTORY_URL, which the flow reads) instead, since Prefect records parameters."""
    if has_credentials(history_url):
        os.environ["TAKEHOLD_HISTORY_URL"] = str(history_url)
        return None
    return history_url


def _path_text(path: Path | None) -> str | None:
    return str(Path(path).resolve()) if path else None


def boot_temporary_server(settings: Settings) -> threading.Thread:
    """Start Prefect's temporary server in the background; join the thread before a flow runs.

    With no Prefect server configured, a flow starts a temporary one and waits for it (about
    10 s here: the server process imports Prefect and checks its database). Booted from a
    thread while this process imports the rest of the stack, the two overlap on two cores,
    and the flow finds the server running (Prefect keeps one per process). When the boot
    fails, the flow starts the server itself and reports any failure as Prefect does.
    """
    thread = threading.Thread(
        target=_boot, args=(settings,), daemon=True, name="prefect-temporary-server"
    )
    thread.start()
    return thread


def _boot(settings: Settings) -> None:
    if settings.prefect_api_url is not None:
        return
    try:
        from prefect.server.api.server import SubprocessASGIServer
        from prefect.settings import PREFECT_SERVER_EPHEMERAL_ENABLED

        if PREFECT_SERVER_EPHEMERAL_ENABLED.value():
            SubprocessASGIServer().start()
    except Exception as exc:  # the flow tries again and says why it cannot
        log.warning("could not start Prefect's temporary server early: %s", type(exc).__name__)


def _with_runner(flow, runner: str, address: str | None, partitions: int):
    if runner == "local":
        return flow, (partitions if partitions > 0 else None)  # None: one per core
    if runner != "dask":
        raise SystemExit(2)
    from prefect_dask import DaskTaskRunner

    if address:
        task_runner = DaskTaskRunner(address=address)
    else:
        task_runner = DaskTaskRunner(
            cluster_kwargs={
                "n_workers": 2,
                "threads_per_worker": 1,
                "processes": True,
                "dashboard_address": None,
            }
        )
    return flow.with_options(task_runner=task_runner), (partitions or 4)


def _refuse(problem: Exception | str, alert_log: Path | None = None) -> int:
    console.print(f"[red]takehold stopped:[/red] {escape(str(problem))}", soft_wrap=True)
    if alert_log is not None:
        console.print(f"The failure is recorded in the alert log, {alert_log}.")
    return 1


def _alert_since(settings: Settings, started: float) -> Path | None:
    """The alert log, when the run wrote an alert to it after `started` (epoch seconds)."""
    log_file = settings.alert_log
    return log_file if log_file.exists() and log_file.stat().st_mtime >= started else None


def _print_export_summary(source: str, as_of: date) -> None:
    export = read_export(source)
    table = Table(title=f"Export {source}")
    for column in ("file", "rows", "first date", "last date"):
        table.add_column(column, justify="right" if column == "rows" else "left")
    from contracts.export import FILES_BY_NAME

    for name, loaded in export.files.items():
        date_column = FILES_BY_NAME[name].date_column
        dates = loaded.frame[date_column] if date_column else None
        first = "" if dates is None else str(dates.min().date())
        last = "" if dates is None else str(dates.max().date())
        table.add_row(name, f"{loaded.rows:,}", first, last)
    console.print(table)
    improvements = export.frame("improvements")
    console.print(
        f"{len(export.frame('services')):,} services, {len(improvements):,} "
        f"improvements; as of {as_of}"
    )


def _print_scoring(run, out: Path) -> None:
    manifest = run.manifest
    table = Table(title=f"Run {run.run_id} as of {manifest['as_of']}")
    for column in ("file", "read", "used", "set aside", "quarantined"):
        table.add_column(column, justify="left" if column == "file" else "right")
    for name, counts in manifest["counts"].items():
        table.add_row(
            name, *(f"{counts[k]:,}" for k in ("read", "used", "set_aside", "quarantined"))
        )
    console.print(table)
    files = ["scores.csv", "services.csv", "manifest.json"]
    if (Path(out) / "report.html").exists():
        files.insert(2, "report.html")
    console.print(
        f"Model {manifest['model']['name']} version {manifest['model']['version']} "
        f"({manifest['model']['alias']}). Outputs: {out} ({', '.join(files)}). "
        f"Stage times (s): {manifest['timings']}"
    )
    for warning in manifest.get("warnings") or []:
        console.print(f"[yellow]Warning:[/yellow] {escape(warning['message'])}", soft_wrap=True)


def _print_training(result: dict, settings: Settings) -> None:
    pooled = result["backtest"].pooled
    table = Table(title="Rolling-origin backtest (pooled over cutoffs)")
    columns = [
        c
        for c in ("model", "n", "auroc", "brier", "log_loss", "ece", "fit_seconds", "score_seconds")
        if c in pooled.columns
    ]
    for column in columns:
        table.add_column(column, justify="left" if column == "model" else "right")
    for row in pooled[columns].itertuples(index=False):
        table.add_row(*(f"{v:.4f}" if isinstance(v, float) else str(v) for v in row))
    console.print(table)
    role = "champion" if result["promoted"] else "challenger"
    console.print(
        f"Registered {settings.model_name} version {result['version']} as {role}: "
        f"{result['reason']}. Trained on {result['snapshots']:,} labelled snapshots."
    )
