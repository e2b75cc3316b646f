"""The training run's stages as plain functions: snapshots, backtest, the record MLflow keeps,
and the champion the promotion gate compares with.

`pipelines.flows.train_model` calls these, one Prefect task per stage.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pandas as pd

from contracts.params import RunConfig
from contracts.tables import BACKTEST, RELIABILITY, SHAPE_FUNCTIONS, conform
from models.ga2m import MODEL_FEATURES
from models.metrics import REPLAY_METRICS
from models.promotion import CHAMPION_CONTENDER, ChampionSpec, same_specification
from models.replay import CLAIM_GROUP, REFERENCE_MODEL, TIME_SPLIT, UNSEEN_SPLIT
from pipelines import stages, tracking
from pipelines.config import Settings

log = logging.getLogger(__name__)


def read_truth(truth_path: str | None) -> pd.DataFrame | None:
    """A simulated group's ground truth (`truth.parquet` in the folder the simulator wrote
    beside the export), for the backtest's ceiling row; None without one."""
    if not truth_path:
        return None
    folder = Path(truth_path)
    return pd.read_parquet(folder / "truth.parquet" if folder.is_dir() else folder)


def replay_plan(tables: dict, as_of, config: RunConfig) -> list:
    """The replay's cutoffs as of `as_of`, each with its training rows and rows to score
    (`models.replay.replay_plan`): what the minimum-history check judges and the replay uses."""
    from models.replay import replay_cutoffs, replay_plan

    settings = config.model
    return replay_plan(
        tables,
        replay_cutoffs(
            as_of,
            config.labels.horizon_months,
            step_months=settings.replay_step_months,
            count=settings.replay_cutoffs,
        ),
        feature_params=config.features,
        label_params=config.labels,
        needs=settings,
    )


def replay(tables: dict, plan: list, config: RunConfig, truth=None, champion_spec=None):
    """The replay evaluation (models.replay) of the model `takehold train` fits, on this
    export's own history (`plan`: `replay_plan`); with `champion_spec`, the champion's model
    specification too (as `champion`), trained and scored on the same rows as the candidate."""
    from sklearn.base import clone

    from models.replay import replay_evaluation
    from models.uncertainty import BandedHoldModel

    settings = config.model
    models = tuple(m for m in settings.backtest_peers if m != REFERENCE_MODEL)
    models += ("ground_truth",) if truth is not None else ()
    estimators = {}
    if champion_spec is not None:
        estimators = {CHAMPION_CONTENDER: lambda: BandedHoldModel(clone(champion_spec), n_refits=0)}
    return replay_evaluation(
        tables,
        lambda: stages.banded_model(config),
        plan=plan,
        models=models,
        estimators=estimators,
        truth=truth,
        unseen_share=settings.replay_unseen_share,
        needs=settings,
        seed=settings.random_state,
        n_threads=settings.threads,
    )


def replay_metrics(result) -> dict[str, float]:
    """The replay's pooled scores as MLflow metrics: `replay.<model>.<metric>` (time split)
    and `replay_unseen.<model>.<metric>` (services never seen in training)."""
    prefixes = {TIME_SPLIT: "replay", UNSEEN_SPLIT: "replay_unseen"}
    return {
        f"{prefixes[row['split']]}.{row['model']}.{metric}": float(row[metric])
        for row in result.pooled.to_dict("records")
        for metric in REPLAY_METRICS
        if row[metric] == row[metric]
    }


def evaluation_tables(result) -> dict[str, pd.DataFrame]:
    """The replay's tables as `takehold evaluate` writes them and MLflow keeps them."""
    time_split = result.metrics[result.metrics["split"] == TIME_SPLIT]
    reliability = result.reliability
    overall = reliability[(reliability["split"] == TIME_SPLIT) & (reliability["subgroup"] == "all")]
    return {
        "backtest.csv": conform(time_split.drop(columns="split"), BACKTEST),
        "backtest_pooled.csv": result.pooled,
        "reliability.csv": conform(
            overall.drop(columns=["split", "subgroup", "value"]), RELIABILITY
        ),
        "replay_overclaim.csv": result.overclaim,
        "replay_subgroups.csv": result.subgroups,
        "replay_band.csv": result.band,
        "replay_cutoffs.csv": result.cutoffs,
        "replay_reliability.csv": reliability,
    }


def evaluation_figures(result) -> dict:
    """Reliability plots: every model (time split), and the GA2M per claim in force."""
    from report.charts import reliability_figure

    reliability = result.reliability[result.reliability["split"] == TIME_SPLIT]
    by_claim = reliability[reliability["subgroup"] == CLAIM_GROUP]
    return {
        "reliability": reliability_figure(reliability[reliability["subgroup"] == "all"]),
        "reliability_by_claim": reliability_figure(
            by_claim.assign(model="claim in force: " + by_claim["value"])
        ),
    }


def champion_specification(settings: Settings, config: RunConfig) -> ChampionSpec:
    """The champion, and its model specification when it differs from the candidate's.

    The gate compares like with like: when the champion's specification differs from the one
    being trained, the backtest re-runs it on the same folds; when it is the same, the
    candidate's own backtest is the champion's on this data.
    """
    from sklearn.base import clone

    current = tracking.champion(settings)
    if current is None or current.feature_names != list(MODEL_FEATURES):
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
    if same_specification(spec, stages.hold_model(config)):
        return ChampionSpec(current, same=True)
    return ChampionSpec(current, spec)


def training_record(raw, checked, snapshots, result, model, config: RunConfig, timings):
    """What MLflow keeps of a training run: parameters, configuration, data fingerprint,
    the replay evaluation's metrics, tables and figures, the model card and the evidence
    threshold."""
    from models.card import model_card, snapshots_summary
    from report.charts import shape_functions_figure

    shapes = model.model_.shape_functions()
    metrics = replay_metrics(result)
    return tracking.TrainingRecord(
        params={**model.get_params(deep=False), "model": repr(model.model)},
        config=config.to_dict(),
        fingerprint=stages.data_fingerprint(raw, checked.counts, snapshots),
        code_version=stages.code_version(),
        metrics=metrics,
        feature_names=list(MODEL_FEATURES),
        tables={
            **evaluation_tables(result),
            "shape_functions.parquet": conform(shapes, SHAPE_FUNCTIONS),
        },
        figures={**evaluation_figures(result), "shape_functions": shape_functions_figure(shapes)},
        texts={
            "model_card.md": model_card(model.model_, result, snapshots_summary(snapshots)),
            "evidence_threshold.json": json.dumps(config.threshold.to_dict(), indent=2),
        },
    )
