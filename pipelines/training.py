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
from models.promotion import CHAMPION_CONTENDER, ChampionSpec, same_specification
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


def backtest(snapshots: pd.DataFrame, config: RunConfig, truth=None, champion_spec=None):
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
    backtest metrics and tables, figures, the model card and the evidence threshold."""
    from models.card import model_card, snapshots_summary
    from report.charts import reliability_figure, shape_functions_figure

    shapes = model.model_.shape_functions()
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
        feature_names=list(MODEL_FEATURES),
        tables={
            "backtest.csv": conform(result.metrics, BACKTEST),
            "backtest_pooled.csv": result.pooled,
            "reliability.csv": conform(result.reliability, RELIABILITY),
            "shape_functions.parquet": conform(shapes, SHAPE_FUNCTIONS),
        },
        figures={
            "reliability": reliability_figure(result.reliability),
            "shape_functions": shape_functions_figure(shapes),
        },
        texts={
            "model_card.md": model_card(model.model_, result, snapshots_summary(snapshots)),
            "evidence_threshold.json": json.dumps(config.threshold.to_dict(), indent=2),
        },
    )
