"""Prefect flows: the nightly scoring run and the training run.

Each flow reads as a table of contents; each task is one coarse stage (or one partition of
services when scaled out) and calls a plain function in `pipelines.stages` or
`pipelines.training`. Frames pass between tasks in memory, so tasks use no cache policy
(hashing large frames buys nothing here).

Flow parameters are plain values a schedule can send (paths, dates, numbers, strings, a dict of
setting overrides): a served deployment validates them when each scheduled run starts. The
settings (where MLflow and takehold's home are) come from the environment and the run
configuration from `config_file`, both read inside the flow. No parameter may carry a
credential: Prefect records parameters.
"""

from __future__ import annotations

import logging
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from prefect import flow, task
from prefect.cache_policies import NONE

from contracts.params import ReportSettings, RunConfig
from models.ga2m import MODEL_FEATURES
from models.promotion import gate
from pipelines import outputs, stages, tracking, training
from pipelines.config import (
    ServerUnavailable,
    Settings,
    load_run_config,
    load_settings,
    refuse_credentials,
)
from pipelines.io import read_export

log = logging.getLogger(__name__)


@dataclass
class Timings:
    """Wall time per stage, in seconds, in the order the stages ran."""

    seconds: dict[str, float] = field(default_factory=dict)

    @contextmanager
    def stage(self, name: str):
        start = time.perf_counter()
        log.info("stage %s ...", name)
        try:
            yield
        finally:
            self.seconds[name] = round(time.perf_counter() - start, 3)
            log.info("stage %s took %.2f s", name, self.seconds[name])


@dataclass
class ScoringRun:
    run_id: str
    run_folder: Path
    published: bool
    manifest: dict


# --- tasks: one per stage ----------------------------------------------------------------------


def unless_a_server_is_silent(task, task_run, state) -> bool:
    """Retry a failed task, except when a server did not answer: the client's own bounded
    retries are spent by then (`SERVER_PATIENCE`), and the user should hear it within a minute."""
    return not isinstance(state.result(raise_on_failure=False), ServerUnavailable)


pull_export = task(
    read_export, name="pull export", retries=2, retry_delay_seconds=10, cache_policy=NONE
)
validate = task(stages.validate_and_record, name="validate export", cache_policy=NONE)
load_champion = task(
    tracking.champion_model_or_none,
    name="load champion model",
    retry_condition_fn=unless_a_server_is_silent,
    retries=2,
    retry_delay_seconds=10,
    cache_policy=NONE,
)
score_partition = task(stages.score_partition, name="score partition", cache_policy=NONE)
combine = task(stages.combine_partitions, name="rank services", cache_policy=NONE)
write_outputs = task(stages.write_outputs, name="write outputs", retries=1, cache_policy=NONE)
snapshots_task = task(stages.training_snapshots, name="build training snapshots", cache_policy=NONE)
fit_task = task(stages.fit_banded_model, name="fit model", cache_policy=NONE)
replay = task(training.replay, name="replay evaluation", cache_policy=NONE)
champion_specification = task(
    training.champion_specification,
    name="load champion specification",
    retry_condition_fn=unless_a_server_is_silent,
    retries=2,
    retry_delay_seconds=10,
    cache_policy=NONE,
)
register = task(
    tracking.log_training_run,
    name="log, register and gate",
    retry_condition_fn=unless_a_server_is_silent,
    retries=1,
    retry_delay_seconds=5,
    cache_policy=NONE,
)


@task(name="governance report", cache_policy=NONE)
def governance_report(run_folder: Path, settings: ReportSettings) -> Path:
    from report import build_report

    return build_report(
        run_folder,
        detailed_chart_limit=settings.detailed_charts,
        detailed_services=settings.detailed_services,
        workers=settings.chart_workers or None,
    )


@task(
    name="fetch model documents",
    retries=2,
    retry_delay_seconds=10,
    retry_condition_fn=unless_a_server_is_silent,
    cache_policy=NONE,
)
def model_documents(
    settings: Settings, run_id: str | None, folder: Path, config: RunConfig
) -> None:
    """The champion's backtest, card and shapes (none without a champion), and the evidence
    threshold in force now."""
    if run_id is not None:
        tracking.write_model_documents(settings, run_id, folder)
    stages.write_evidence_threshold(config, folder)


# --- flows --------------------------------------------------------------------------------------


@flow(name="nightly_scoring", log_prints=False)
def nightly_scoring(
    export: str,
    out: str,
    as_of: date | None = None,
    config_file: str | None = None,
    config_overrides: dict | None = None,
    partitions: int | None = None,
    sink_url: str | None = None,
    report: bool = True,
    today: date | None = None,
    rules_only: bool = False,
) -> ScoringRun:
    """Pull, validate, build features, score, apply rules, cross-check, rank, write, report.

    A scheduled run passes export, out and config_file and scores as of the run day.
    `partitions`: groups of whole services scored as separate tasks (default: one per core,
    `stages.local_partitions`); the scores never depend on it. `sink_url` (or, with
    credentials, TAKEHOLD_SINK_URL in the environment): a SQL database the run appends to.
    `rules_only`, or no champion registered: the rules alone, p_hold left empty, the
    manifest and the report saying why (a tracking server that does not answer is an error).
    """
    refuse_credentials("sink_url", sink_url)
    as_of = as_of or date.today()
    settings = load_settings()
    config = load_run_config(Path(config_file) if config_file else None, config_overrides)
    timings = Timings()
    run_id = outputs.new_run_id(as_of)
    folder = outputs.start_run_folder(Path(out), run_id)
    with timings.stage("pull export"):
        raw = pull_export(export)
    with timings.stage("validate"):
        checked = validate(raw, as_of, config, folder, today)
        export_record = raw.summary()  # the validated tables are what the run uses from here on
        del raw
    with timings.stage("load model"):
        loaded = None if rules_only else load_champion(settings)
        model, champion = loaded or (None, None)
        because = stages.RULES_ONLY_ASKED if rules_only else stages.NO_CHAMPION
        if champion is None:
            log.info("no model in this run: %s; the rules alone score it", because)
        trained_in, version = (champion.run_id, champion.version) if champion else (None, None)
        model_documents(settings, trained_in, folder / "model", config)
    with timings.stage("features, score, rules"):
        services = checked.tables["services"]
        parts = stages.partition_tables(
            checked.hand_over(), partitions or stages.local_partitions()
        )
        futures = [score_partition.submit(part, as_of, model, version, config) for part in parts]
        del parts
        scored = combine(futures, services, config)
    manifest = stages.run_manifest(
        run_id,
        as_of,
        Path(out),
        export_record,
        checked,
        champion,
        config,
        settings,
        timings.seconds,
        because,
    )
    with timings.stage("write outputs"):
        write_outputs(folder, scored, manifest, sink_url or settings.sink_url, run_id)
    if report:
        with timings.stage("report"):
            governance_report(folder, config.report)
    outputs.write_manifest(folder, {**manifest, "timings": timings.seconds})
    outputs.publish(Path(out), folder)
    return ScoringRun(run_id, folder, True, {**manifest, "timings": timings.seconds})


@flow(name="train_model", log_prints=False)
def train_model(
    export: str,
    as_of: date | None = None,
    config_file: str | None = None,
    config_overrides: dict | None = None,
    truth_path: str | None = None,
    today: date | None = None,
) -> dict:
    """Snapshots with labels observable by as_of -> replay evaluation -> fit -> log, register,
    gate.

    `truth_path`: a simulated group's ground truth, for the backtest's ceiling row.
    """
    as_of = as_of or date.today()
    settings = load_settings()
    config = load_run_config(Path(config_file) if config_file else None, config_overrides)
    timings = Timings()
    with timings.stage("pull export"):
        raw = pull_export(export)
    with timings.stage("validate"):
        checked = validate(raw, as_of, config, None, today)
    with timings.stage("snapshots"):
        snapshots = snapshots_task(checked.tables, as_of, config)
    stages.require_enough_history(snapshots, as_of, config)
    with timings.stage("replay"):
        champion = champion_specification(settings, config)
        truth = training.read_truth(truth_path)
        with stages.naming_training_failures("replaying", snapshots, config):
            result = replay(checked.tables, as_of, config, truth, champion.spec)
    with timings.stage("fit"), stages.naming_training_failures("fitting", snapshots, config):
        model = fit_task(snapshots, config)
    record = training.training_record(raw, checked, snapshots, result, model, config, timings)
    with timings.stage("register"):
        run_id, version = register(settings, record, model, snapshots[list(MODEL_FEATURES)])
        decision = gate(
            champion,
            record.metrics,
            record.feature_names,
            list(MODEL_FEATURES),
            config.model.promotion_tolerance,
        )
        tracking.apply_promotion(settings, version, decision)
    return {
        "run_id": run_id,
        "version": version,
        "promoted": decision.promote,
        "reason": decision.reason,
        "replay": result,
        "timings": timings.seconds,
        "snapshots": len(snapshots),
    }
