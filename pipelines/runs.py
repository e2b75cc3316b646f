"""What the CLI's run commands do: check, set up, call a flow, say what happened.

This is the user-facing edge, so it prints (through rich); everything below it logs. Failures
are raised, and end in `pipelines.failures.exit_code` as one or two plain lines and an exit code
(0 success, 1 the input, the state or a server cannot be used, 2 a usage error: the command
line or the configuration file).

Each command checks what it can before any work starts, in the order a user would fix things:
the configuration file, the folders it writes, the servers it needs.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from datetime import date
from pathlib import Path

import pandas as pd
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from pipelines.config import (
    Settings,
    described_config,
    has_credentials,
    load_run_config,
    load_settings,
    prepare_environment,
    refuse_credentials,
    require_servers,
    writable_folder,
)
from pipelines.history import HistoryStore
from pipelines.io import export_folder, prefetch_export, read_export

log = logging.getLogger(__name__)
console = Console(stderr=False, highlight=False)


def dry_run(config_path: Path | None) -> int:
    """Print the configuration in force, defaults included, and what the file changes."""
    config = load_run_config(config_path)
    source = str(config_path) if config_path else "no configuration file"
    for line in described_config(config, source):
        console.print(line, markup=False, soft_wrap=True)
    return 0


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
    *,
    rules_only: bool = False,
) -> int:
    load_run_config(config_path)  # a broken configuration is refused before any work
    refuse_credentials("EXPORT", export)
    export_folder(export)
    writable_folder(out, "--out")
    started = time.time()
    settings = _settings()
    require_servers(settings, tracking=not rules_only)
    if runner == "local":  # with Dask the export is read on a worker
        prefetch_export(export)
    booting = boot_temporary_server(settings)
    from pipelines.flows import nightly_scoring

    booting.join()
    flow, partitions = _with_runner(nightly_scoring, runner, dask_address, partitions)
    try:
        with console.status(f"Scoring {export} as of {as_of} ..."):
            run = flow(
                export=export,
                as_of=as_of,
                out=str(out.resolve()),
                config_file=_path_text(config_path),
                partitions=partitions,
                history_url=history_parameter(history_url),
                report=report,
                rules_only=rules_only,
            )
    except Exception as failure:
        alert = _alert_since(settings, started)
        if alert is not None:
            failure.add_note(f"The failure is recorded in the alert log, {alert}.")
        raise
    _print_scoring(run, out)
    return 0


def train_command(
    export: str, as_of: date, config_path: Path | None, truth_path: Path | None = None
) -> int:
    load_run_config(config_path)  # a broken configuration is refused before any work
    refuse_credentials("EXPORT", export)
    export_folder(export)
    settings = _settings()
    require_servers(settings)
    prefetch_export(export)
    booting = boot_temporary_server(settings)
    from pipelines.flows import train_model

    booting.join()
    with console.status(f"Training on {export}, labels observable by {as_of} ..."):
        result = train_model(
            export=export,
            as_of=as_of,
            config_file=_path_text(config_path),
            truth_path=_path_text(truth_path),
        )
    _print_training(result, settings)
    return 0


def evaluate_command(export: str, as_of: date | None, out: Path, config_path: Path | None) -> int:
    """Validate the export and replay the model's use on its own history; print the scores
    and write the tables and reliability plots to `out`."""
    from pipelines.stages import require_a_replay_cutoff, validate_or_block
    from pipelines.training import evaluation_figures, evaluation_tables, replay, replay_plan

    config = load_run_config(config_path)  # a broken configuration is refused before any work
    refuse_credentials("EXPORT", export)
    export_folder(export)
    writable_folder(out, "--out")
    _settings()
    raw = read_export(export)
    as_of = as_of or export_last_day(raw)
    with console.status(f"Replaying the model on {export} up to {as_of} ..."):
        checked = validate_or_block(raw, as_of, config)
        plan = replay_plan(checked.tables, as_of, config)
        require_a_replay_cutoff(plan, as_of)
        result = replay(checked.tables, plan, config)
    _print_replay(result)
    written = write_evaluation(out, evaluation_tables(result), evaluation_figures(result))
    console.print(
        f"Cutoffs {', '.join(str(c.date()) for c in sorted(result.cutoffs['cutoff'].unique()))};"
        f" {len(written)} files in {out}. Simulated provider groups only back the benchmarks: "
        "this is how the model would have done on your own services."
    )
    return 0


def export_last_day(export) -> date:
    """The latest date any file of the export carries, not after today."""
    from contracts.export import FILES_BY_NAME

    today = pd.Timestamp(date.today())
    latest = [
        loaded.frame[column][loaded.frame[column] <= today].max()
        for name, loaded in export.files.items()
        for column in (FILES_BY_NAME[name].date_column,)
        if column
    ]
    latest = [d for d in latest if pd.notna(d)]
    if not latest:
        raise ValueError("the export has no dated rows: give --as-of")
    return max(latest).date()


def write_evaluation(out: Path, tables: dict, figures: dict) -> list[Path]:
    """The replay's tables (CSV) and reliability plots (PNG) into `out`."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, frame in tables.items():
        frame.to_csv(out / name, index=False)
        written.append(out / name)
    for name, figure in figures.items():
        figure.savefig(out / f"{name}.png", dpi=110)
        written.append(out / f"{name}.png")
    return written


def serve_command(
    export: str,
    out: Path,
    cron: str,
    timezone: str,
    config_path: Path | None,
    history_url: str | None,
) -> int:
    load_run_config(config_path)  # refuse a broken configuration now, not at 02:00
    refuse_credentials("EXPORT", export)
    writable_folder(out, "--out")
    settings = _settings()
    if settings.prefect_api_url is None:
        console.print(
            "[red]takehold serve needs a Prefect server.[/red] Start one with "
            "`prefect server start --background` and set PREFECT_API_URL "
            "(e.g. http://127.0.0.1:4200/api); see README 'Running every night'."
        )
        return 1
    require_servers(settings)
    from prefect.schedules import Cron

    from pipelines.flows import nightly_scoring

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

    if not Path(out).is_dir():
        raise RunOutputsError(f"{out} is not a folder: give a finished run's output folder")
    writable_folder(out, "OUT")
    settings = _settings()
    outputs = read_run_outputs(out)
    params = GovernanceParams.from_dict(outputs.manifest.get("config", {}).get("governance", {}))
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
    require_servers(settings)
    simulator = simulator_package()
    if simulator is None:
        return 1
    simulate_group, write_simulation = simulator.simulate_group, simulator.write_simulation

    started = time.perf_counter()
    with console.status(f"Simulating {services} services over {years:g} years ..."):
        # 20 re-simulations per truth date are plenty for the demo's ceiling row (the
        # simulator's default, 40, matches 1,000 to about 0.02: docs/simulator.md).
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
    model = manifest["model"]
    if model.get("rules_only"):
        console.print(
            f"Notice: no probability of holding in this run: {model['rules_only_because']}. "
            "Stages, reasons, triggers, claim checks and review dates come from the rules; "
            "services are ranked by the rules (README 'Without a model').",
            markup=False,
            soft_wrap=True,
        )
        used = "Rules alone (no model)"
    else:
        used = f"Model {model['name']} version {model['version']} ({model['alias']})"
        if model.get("scored_by_because"):
            used += f": {model['scored_by_because']}"
    console.print(
        f"{used}. Outputs: {out} ({', '.join(files)}). Stage times (s): {manifest['timings']}",
        markup=False,
    )
    for warning in manifest.get("warnings") or []:
        console.print(f"[yellow]Warning:[/yellow] {escape(warning['message'])}", soft_wrap=True)


def _print_replay(result) -> None:
    """The replay's over-claim decision first, then every model on both splits."""
    claimed = result.overclaim
    table = Table(title="Improvements whose leaders claim embedded or closed (over-claim check)")
    columns = (
        "split",
        "model",
        "claimed",
        "slipped",
        "auroc",
        "brier",
        "ece",
        "precision",
        "recall",
    )
    for column in columns:
        table.add_column(column, justify="left" if column in ("split", "model") else "right")
    for row in claimed[list(columns)].itertuples(index=False):
        table.add_row(*(_cell(v) for v in row))
    console.print(table)
    table = Table(
        title="Every eligible improvement scored at the cutoffs (95% interval over services)"
    )
    for column in ("split", "model", "n", "AUROC", "Brier", "ECE", "cal. slope", "cal. intercept"):
        table.add_column(column, justify="left" if column in ("split", "model") else "right")
    for row in result.pooled.to_dict("records"):
        table.add_row(
            row["split"],
            row["model"],
            str(row["n"]),
            *(
                f"{row[m]:.3f} ({row[m + '_low']:.3f}-{row[m + '_high']:.3f})"
                for m in ("auroc", "brier", "ece", "calibration_slope", "calibration_intercept")
            ),
        )
    console.print(table)


def _cell(value) -> str:
    return f"{value:.3f}" if isinstance(value, float) else str(value)


def _print_training(result: dict, settings: Settings) -> None:
    _print_replay(result["replay"])
    role = "champion" if result["promoted"] else "challenger"
    console.print(
        f"Registered {settings.model_name} version {result['version']} as {role}: "
        f"{result['reason']}. Trained on {result['snapshots']:,} labelled snapshots."
    )
