"""Prefect flows: the nightly scoring run and the training run.

Each flow reads as a table of contents; each task is one coarse stage (or one partition of
services when scaled out) and calls a plain function in `pipelines.stages`. Frames pass between
tasks in memory, so tasks use no cache policy (hashing large frames buys nothing here).
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
from features.columns import FEATURE_NAMES
from models.ga2m import MODEL_FEATURES
from pipelines import outputs, stages, tracking
from pipelines.config import Settings, load_run_config, load_settings
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

pull_export = task(
    read_export, name="pull export", retries=2, retry_delay_seconds=10, cache_policy=NONE
)
validate = task(stages.validate_or_block, name="validate export", cache_policy=NONE)
load_champion = task(
    tracking.load_champion_model,
    name="load champion model",
    retries=2,
    retry_delay_seconds=10,
    cache_policy=NONE,
)
score_partition = task(stages.score_partition, name="score partition", cache_policy=NONE)
combine = task(stages.combine_partitions, name="rank services", cache_policy=NONE)
snapshots_task = task(stages.training_snapshots, name="build training snapshots", cache_policy=NONE)
fit_task = task(stages.fit_banded_model, name="fit model", cache_policy=NONE)


@task(name="governance report", cache_policy=NONE)
def governance_report(run_folder: Path, settings: ReportSettings) -> Path:
    from report import build_report

    return build_report(
        run_folder,
        detailed_chart_limit=settings.detailed_charts,
        detailed_services=settings.detailed_services,
        workers=settings.chart_workers or None,
    )


@task(name="fetch model documents", retries=2, retry_delay_seconds=10, cache_policy=NONE)
def model_documents(settings: Settings, run_id: str, folder: Path, config: RunConfig) -> None:
    """The champion's backtest, card and shapes, and the evidence threshold in force now."""
    tracking.write_model_documents(settings, run_id, folder)
    (folder / "evidence_threshold.json").write_text(_json(config.threshold.to_dict()))


@task(name="backtest", cache_policy=NONE)
def backtest(snapshots, config: RunConfig, truth=None, champion_spec=None):
    """The rolling-origin backtest of the peers; with `champion_spec`, the champion's model
    specification too (as `champion`), on the same folds as the candidate."""
    from models.backtest import rolling_origin_backtest

    models = config.model.backtest_peers + (("ground_truth",) if truth is not None else ())
    estimators = {}
    if champion_spec is not None:
        models, estimators = (*models, CHAMPION_CONTENDER), {CHAMPION_CONTENDER: champion_spec}
    return rolling_origin_backtest(
        snapshots,
        horizon_months=config.labels.horizon_months,
        models=models,
        truth=truth,
        seed=config.model.random_state,
        n_threads=config.model.threads,
        estimators=estimators,
    )


CHAMPION_CONTENDER = "champion"


@dataclass(frozen=True)
class ChampionSpec:
    """The registered champion as the gate sees it."""

    info: tracking.ChampionInfo | None  # None: no champion yet
    spec: object | None = None  # its model specification, when it differs from the candidate's
    same: bool = False  # the candidate has the champion's specification


@task(name="load champion specification", retries=2, retry_delay_seconds=10, cache_policy=NONE)
def champion_specification(settings: Settings, config: RunConfig) -> ChampionSpec:
    """The champion, and its model specification when it differs from the candidate's.

    The gate compares like with like: when the champion's specification differs from the one
    being trained, the backtest re-runs it on the same folds; when it is the same, the
    candidate's own backtest is the champion's on this data.
    """
    from sklearn.base import clone

    current = tracking.champion(settings)
    if current is None or current.feature_names != list(FEATURE_NAMES):
        return ChampionSpec(current)
    try:
        registered, _ = tracking.load_champion_model(settings)
    except Exception as exc:  # an unloadable champion is compared by its stored metrics
        log.warning(
            "champion version %s could not be loaded for the gate: %s",
            current.version,
            type(exc).__name__,
        )
        return ChampionSpec(current)
    spec = clone(getattr(registered, "model_", registered))
    if _same_specification(spec, stages.hold_model(config)):
        return ChampionSpec(current, same=True)
    return ChampionSpec(current, spec)


def _same_specification(a, b) -> bool:
    """Same parameters apart from threads (which never change a prediction)."""
    first, second = a.get_params(deep=False), b.get_params(deep=False)
    return type(a) is type(b) and {k: v for k, v in first.items() if k != "n_threads"} == {
        k: v for k, v in second.items() if k != "n_threads"
    }


@task(name="log, register and gate", retries=1, retry_delay_seconds=5, cache_policy=NONE)
def register(settings: Settings, record: tracking.TrainingRecord, model, example):
    return tracking.log_training_run(settings, record, model, example)


# --- flows --------------------------------------------------------------------------------------


@flow(name="nightly_scoring", log_prints=False)
def nightly_scoring(
    export: str,
    out: str,
    as_of: date | None = None,
    config_file: str | None = None,
    partitions: int | None = None,
    sink_url: str | None = None,
    report: bool = True,
    settings: Settings | None = None,
    config: RunConfig | None = None,
    today: date | None = None,
) -> ScoringRun:
    """Pull, validate, build features, score, apply rules, cross-check, rank, write, report.

    Scheduled runs pass only strings (export, out, config_file) and score as of the run day.
    `partitions`: groups of whole services scored as separate tasks (default: one per core,
    `stages.local_partitions`); the scores never depend on it.
    """
    as_of = as_of or date.today()
    settings = settings or load_settings()
    config = config or load_run_config(Path(config_file) if config_file else None)
    timings = Timings()
    out = Path(out)
    run_id = outputs.new_run_id(as_of)
    folder = outputs.start_run_folder(out, run_id)
    with timings.stage("pull export"):
        raw = pull_export(export)
    with timings.stage("validate"):
        try:
            checked = validate(raw, as_of, config, today)
        except stages.BlockedExport as blocked:
            write_validation(blocked.result, folder)
            raise
        write_validation(checked, folder)
        raw = raw.summary()  # the validated tables are what the run uses from here on
    with timings.stage("load model"):
        model, champion = load_champion(settings)
        model_documents(settings, champion.run_id, folder / "model", config)
    with timings.stage("features, score, rules"):
        services = checked.tables["services"]
        # The partitions take the rows over table by table (10M checks: ~2 GB).
        parts = stages.partition_tables(
            checked.tables, partitions or stages.local_partitions(), consume=True
        )
        checked.tables = {}
        futures = [
            score_partition.submit(
                part, as_of, model, champion.version, config, release_checks=True
            )
            for part in parts
        ]
        del parts
        scored = combine(futures, services, config)
    manifest = run_manifest(run_id, as_of, out, raw, checked, champion, config, settings, timings)
    with timings.stage("write outputs"):
        write_outputs(folder, scored, manifest, sink_url, run_id)
    if report:
        with timings.stage("report"):
            governance_report(folder, config.report)
    outputs.write_manifest(folder, {**manifest, "timings": timings.seconds})
    outputs.publish(out, folder)
    return ScoringRun(run_id, folder, True, {**manifest, "timings": timings.seconds})


@flow(name="train_model", log_prints=False)
def train_model(
    export: str,
    as_of: date | None = None,
    config_file: str | None = None,
    settings: Settings | None = None,
    config: RunConfig | None = None,
    truth=None,
    today: date | None = None,
) -> dict:
    """Snapshots with labels observable by as_of -> backtest -> fit -> log, register, gate."""
    as_of = as_of or date.today()
    settings = settings or load_settings()
    config = config or load_run_config(Path(config_file) if config_file else None)
    timings = Timings()
    with timings.stage("pull export"):
        raw = pull_export(export)
    with timings.stage("validate"):
        checked = validate(raw, as_of, config, today)
    with timings.stage("snapshots"):
        snapshots = snapshots_task(checked.tables, as_of, config)
    if len(snapshots) < config.model.min_training_rows:
        raise ValueError(
            f"only {len(snapshots)} labelled snapshots observable by {as_of}; "
            f"at least {config.model.min_training_rows} are needed to train"
        )
    with timings.stage("backtest"):
        champion = champion_specification(settings, config)
        result = backtest(snapshots, config, truth, champion.spec)
    with timings.stage("fit"):
        model = fit_task(snapshots, config)
    record = training_record(raw, checked, snapshots, result, model, config, timings)
    with timings.stage("register"):
        run_id, version = register(settings, record, model, snapshots[list(MODEL_FEATURES)])
        decision = gate(champion, record, config)
        tracking.apply_promotion(settings, version, decision)
    return {
        "run_id": run_id,
        "version": version,
        "promoted": decision.promote,
        "reason": decision.reason,
        "backtest": result,
        "timings": timings.seconds,
        "snapshots": len(snapshots),
    }


# --- helpers the tasks call ---------------------------------------------------------------------


def write_validation(result, folder: Path) -> None:
    from validation import write_validation_outputs

    write_validation_outputs(result, folder)


@task(name="write outputs", retries=1, cache_policy=NONE)
def write_outputs(
    folder: Path, scored: stages.ScoringOutputs, manifest: dict, sink_url: str | None, run_id: str
) -> None:
    outputs.write_table(scored.scores, folder / "scores.csv")
    outputs.write_table(scored.scores, folder / "scores.parquet")
    outputs.write_table(scored.services, folder / "services.csv")
    outputs.write_table(scored.monthly, folder / "monthly_compliance.parquet")
    outputs.write_table(scored.timeline, folder / "timeline.parquet")
    outputs.write_table(scored.contributions, folder / "contributions.parquet")
    outputs.write_manifest(folder, manifest)
    if sink_url:
        outputs.append_to_sink(
            sink_url, run_id, {"scores": scored.scores, "service_rankings": scored.services}
        )


def run_manifest(run_id, as_of, out, raw, checked, champion, config, settings, timings) -> dict:
    return {
        "run_id": run_id,
        "as_of": str(as_of),
        "previous_run_id": outputs.previous_run_id(out),
        "export": raw.source,
        # "pull export" in timings is what the run waited; the read itself may have begun
        # while the command started (pipelines.io.prefetch_export).
        "export_read": {"seconds": raw.read_seconds, "read_ahead": raw.read_ahead},
        "inputs": {
            name: {
                "file": Path(f.path).name,
                "format": f.format,
                "sha256": f.sha256,
                "rows": f.rows,
            }
            for name, f in raw.files.items()
        },
        "absent_files": list(raw.absent),
        "counts": checked.counts,
        "model": {
            "name": settings.model_name,
            "version": champion.version,
            "alias": tracking.CHAMPION,
            "run_id": champion.run_id,
            "tracking_uri": _redacted(settings.mlflow_tracking_uri),
        },
        "config": config.to_dict(),
        "code_version": stages.code_version(),
        "timings": dict(timings.seconds),
    }


def training_record(raw, checked, snapshots, result, model, config, timings):
    from models.card import model_card, snapshots_summary
    from models.figures import reliability_figure, shape_function_figures

    metrics = {
        f"backtest.{row.model}.{m}": float(getattr(row, m))
        for row in result.pooled.itertuples()
        for m in ("auroc", "brier", "log_loss", "ece")
        if getattr(row, m) == getattr(row, m)
    }
    return tracking.TrainingRecord(
        params={**model.get_params(deep=False), "model": repr(model.model)},
        config=config.to_dict(),
        fingerprint=stages.data_fingerprint(raw, checked.counts, snapshots),
        code_version=stages.code_version(),
        metrics=metrics,
        feature_names=list(FEATURE_NAMES),
        tables={
            "backtest.csv": result.metrics,
            "backtest_pooled.csv": result.pooled,
            "reliability.csv": result.reliability,
            "shape_functions.parquet": model.model_.shape_functions(),
        },
        figures={
            "reliability": reliability_figure(result.reliability),
            **{f"shape_{k}": v for k, v in shape_function_figures(model.model_).items()},
        },
        texts={
            "model_card.md": model_card(model.model_, result, snapshots_summary(snapshots)),
            "evidence_threshold.json": _json(config.threshold.to_dict()),
        },
    )


def gate(champion: ChampionSpec, record, config) -> tracking.PromotionDecision:
    """Promote only a model whose schema matches scoring and whose backtest is no worse than
    the champion's on the same data.

    The champion's figures, in order of preference: its specification re-run in this backtest
    (`backtest.champion.*`); this backtest itself when the champion has the candidate's
    specification; else (a champion that could not be loaded) its stored backtest, which is
    on the same data only when the data fingerprint matches, and the reason says so.
    """
    auroc, brier = "backtest.ga2m.auroc", "backtest.ga2m.brier"
    current = champion.info
    champion_metrics, basis = None, ""
    if current is not None and current.feature_names == list(FEATURE_NAMES):
        rerun = f"backtest.{CHAMPION_CONTENDER}."
        if rerun + "auroc" in record.metrics:
            champion_metrics = {
                auroc: record.metrics[rerun + "auroc"],
                brier: record.metrics[rerun + "brier"],
            }
            basis = f"champion v{current.version}'s specification re-run on the same folds"
        elif champion.same:
            champion_metrics = {auroc: record.metrics[auroc], brier: record.metrics[brier]}
            basis = f"same specification as champion v{current.version}, on newer data"
        else:
            champion_metrics = current.metrics
            basis = f"champion v{current.version}'s stored backtest"
    decision = tracking.decide_promotion(
        record.metrics,
        champion_metrics,
        record.feature_names,
        list(FEATURE_NAMES),
        auroc_key=auroc,
        brier_key=brier,
        tolerance=config.model.promotion_tolerance,
    )
    if not basis:
        return decision
    return tracking.PromotionDecision(decision.promote, f"{decision.reason} ({basis})")


def _json(value) -> str:
    import json

    return json.dumps(value, indent=2, default=str)


def _redacted(uri: str) -> str:
    """A tracking URI without credentials."""
    if "@" in uri and "://" in uri:
        scheme, rest = uri.split("://", 1)
        return f"{scheme}://***@{rest.split('@', 1)[1]}"
    return uri
