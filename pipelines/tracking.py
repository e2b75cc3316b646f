"""Everything takehold says to MLflow: training runs, the registry, and the champion alias.

This is the only module that talks to MLflow. It always passes the tracking URI and run id
explicitly (the fluent "active run" is per thread, and Prefect tasks may run on other threads),
creates its experiment with an absolute artifact location, and logs no evidence rows: only
parameters, metrics, aggregate tables, figures, the model card and the model itself.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import mlflow
import pandas as pd
import requests
from mlflow.exceptions import MlflowException
from mlflow.models import infer_signature
from mlflow.protos.databricks_pb2 import (
    INVALID_PARAMETER_VALUE,
    RESOURCE_DOES_NOT_EXIST,
    ErrorCode,
)
from mlflow.tracking import MlflowClient

from models.promotion import ChampionInfo, PromotionDecision
from pipelines.config import SERVER_PATIENCE, ServerUnavailable, Settings, redacted_url

log = logging.getLogger(__name__)

EXPERIMENT = "takehold"
CHAMPION = "champion"
CHALLENGER = "challenger"
# What the registry says when there is no such model or alias: "none yet", not a failure.
NOT_FOUND = {ErrorCode.Name(RESOURCE_DOES_NOT_EXIST), ErrorCode.Name(INVALID_PARAMETER_VALUE)}
RETRIES = "MLFLOW_HTTP_REQUEST_MAX_RETRIES"


@dataclass
class TrainingRecord:
    """What a training run logs besides the model itself."""

    params: dict[str, Any]
    config: dict[str, Any]
    fingerprint: dict[str, Any]
    code_version: str
    metrics: dict[str, float]
    feature_names: list[str]
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    figures: dict[str, Any] = field(default_factory=dict)
    texts: dict[str, str] = field(default_factory=dict)


def unreachable(failure: BaseException) -> bool:
    """Whether a failure is the tracking server not answering (MLflow wraps the connection
    error of `requests`, after its bounded retries, in an MlflowException)."""
    seen = failure
    while seen is not None:
        if isinstance(seen, requests.ConnectionError | requests.Timeout):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def tracking_server(function):
    """Report a tracking server that does not answer as such, never as a missing model."""

    @functools.wraps(function)
    def answered(settings: Settings, *args, **kwargs):
        try:
            return function(settings, *args, **kwargs)
        except Exception as failure:
            if not unreachable(failure):
                raise
            retries = os.environ.get(RETRIES, SERVER_PATIENCE[RETRIES])
            raise ServerUnavailable(
                f"the MLflow tracking server at {redacted_url(settings.mlflow_tracking_uri)} "
                f"did not answer ({1 + int(retries)} tries). Check that it is running and that "
                "MLFLOW_TRACKING_URI points at it."
            ) from failure

    return answered


def client_for(settings: Settings) -> MlflowClient:
    """A client bound to the configured tracking URI (never the working directory default)."""
    mlflow.set_tracking_uri(settings.mlflow_tracking_uri)
    mlflow.set_registry_uri(settings.mlflow_tracking_uri)
    return MlflowClient(
        tracking_uri=settings.mlflow_tracking_uri, registry_uri=settings.mlflow_tracking_uri
    )


def experiment_id(client: MlflowClient, settings: Settings) -> str:
    """The takehold experiment, created with an absolute artifact location when missing."""
    found = client.get_experiment_by_name(EXPERIMENT)
    if found is not None:
        return found.experiment_id
    try:
        return client.create_experiment(
            EXPERIMENT, artifact_location=settings.mlflow_artifact_root or None
        )
    except MlflowException:  # created by a concurrent process in the meantime
        return client.get_experiment_by_name(EXPERIMENT).experiment_id


@tracking_server
def log_training_run(
    settings: Settings, record: TrainingRecord, model, input_example: pd.DataFrame
) -> tuple[str, str]:
    """Log one training run and register its model; returns (run_id, model version)."""
    client = client_for(settings)
    exp = experiment_id(client, settings)
    with mlflow.start_run(experiment_id=exp, run_name="train") as run:
        run_id = run.info.run_id
        mlflow.log_params({k: _param(v) for k, v in record.params.items()})
        mlflow.log_metrics(record.metrics)
        mlflow.set_tags({"code_version": record.code_version, "takehold.stage": "train"})
        mlflow.log_dict(record.config, "config.json")
        mlflow.log_dict(record.fingerprint, "data_fingerprint.json")
        mlflow.log_dict({"features": record.feature_names}, "feature_list.json")
        _log_tables(record.tables)
        for name, figure in record.figures.items():
            mlflow.log_figure(figure, f"plots/{name}.png")
        for name, text in record.texts.items():
            mlflow.log_text(text, name)
        signature = infer_signature(input_example, model.predict_proba(input_example))
        info = mlflow.sklearn.log_model(
            model,
            name="model",
            signature=signature,
            input_example=input_example.head(5),
            registered_model_name=settings.model_name,
            # cloudpickle: the registry holds only models this pipeline trained (skops refuses
            # the fitted boosting trees' own types). Never load a model from a registry you
            # do not control.
            serialization_format="cloudpickle",
            pip_requirements=_requirements(),
        )
    version = str(info.registered_model_version)
    log.info("logged training run %s as %s version %s", run_id, settings.model_name, version)
    return run_id, version


@tracking_server
def champion(settings: Settings) -> ChampionInfo | None:
    """The current champion's version, metrics and feature list; None when there is none."""
    client = client_for(settings)
    try:
        version = client.get_model_version_by_alias(settings.model_name, CHAMPION)
    except MlflowException as failure:
        if failure.error_code in NOT_FOUND:
            return None
        raise
    run = client.get_run(version.run_id)
    features = _load_json_artifact(client, version.run_id, "feature_list.json").get("features", [])
    return ChampionInfo(
        version=str(version.version),
        run_id=version.run_id,
        metrics=dict(run.data.metrics),
        feature_names=list(features),
        params=dict(run.data.params),
    )


@tracking_server
def apply_promotion(settings: Settings, version: str, decision: PromotionDecision) -> None:
    """Point `champion` at the version, or tag it a challenger with the reason."""
    client = client_for(settings)
    client.set_model_version_tag(settings.model_name, version, "promotion_reason", decision.reason)
    if decision.promote:
        client.set_registered_model_alias(settings.model_name, CHAMPION, version)
        client.set_model_version_tag(settings.model_name, version, "role", CHAMPION)
    else:
        client.set_model_version_tag(settings.model_name, version, "role", CHALLENGER)
    log.info(
        "version %s: %s (%s)",
        version,
        CHAMPION if decision.promote else CHALLENGER,
        decision.reason,
    )


@tracking_server
def load_champion_model(settings: Settings):
    """Load the champion model with the sklearn flavour; raises LookupError when none exists."""
    loaded = champion_model_or_none(settings)
    if loaded is None:
        raise LookupError(
            f"no '{CHAMPION}' version of model '{settings.model_name}' is registered;"
            " run `takehold train` first"
        )
    return loaded


class ModelUnavailable(LookupError):
    """A champion is registered but its model cannot be loaded; the message says which and
    what to do."""


@tracking_server
def champion_model_or_none(settings: Settings):
    """(model, ChampionInfo) of the champion, or None when no champion is registered; a
    registered champion whose model cannot be loaded is a `ModelUnavailable`."""
    info = champion(settings)
    if info is None:
        return None
    client_for(settings)
    try:
        model = mlflow.sklearn.load_model(f"models:/{settings.model_name}@{CHAMPION}")
    except (MlflowException, OSError, ValueError) as failure:
        if unreachable(failure):
            raise
        raise ModelUnavailable(
            f"the champion, version {info.version} of model '{settings.model_name}', is "
            f"registered at {redacted_url(settings.mlflow_tracking_uri)} but its model could "
            f"not be loaded ({type(failure).__name__}: {failure}). Train again with `takehold "
            "train`, or point the champion alias at a version whose model is there."
        ) from failure
    return model, info


@tracking_server
def download_run_artifacts(settings: Settings, run_id: str, path: str, dest: Path) -> Path:
    """Copy a run's artifact folder (e.g. the backtest tables) to `dest`."""
    client = client_for(settings)
    dest.mkdir(parents=True, exist_ok=True)
    return Path(client.download_artifacts(run_id, path, str(dest)))


# --- internals -----------------------------------------------------------------------------


def _param(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return text[:6000]


def _log_tables(tables: dict[str, pd.DataFrame]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        for name, frame in tables.items():
            path = Path(tmp) / name
            if name.endswith(".parquet"):
                frame.to_parquet(path, index=False)
            else:
                frame.to_csv(path, index=False)
            mlflow.log_artifact(str(path), "tables")


def _load_json_artifact(client: MlflowClient, run_id: str, path: str) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        try:
            local = client.download_artifacts(run_id, path, tmp)
        except (MlflowException, OSError) as failure:
            if unreachable(failure):
                raise
            return {}
        return json.loads(Path(local).read_text())


def _requirements() -> list[str]:
    from importlib.metadata import version

    return [
        f"{name}=={version(name)}" for name in ("scikit-learn", "pandas", "numpy", "cloudpickle")
    ]


MODEL_DOCUMENTS = {
    "tables/backtest.csv": "backtest.csv",
    "tables/backtest_pooled.csv": "backtest_pooled.csv",
    "tables/reliability.csv": "reliability.csv",
    "tables/shape_functions.parquet": "shape_functions.parquet",
    "model_card.md": "model_card.md",
}


@tracking_server
def write_model_documents(settings: Settings, run_id: str, dest: Path) -> list[str]:
    """Copy the champion's backtest, reliability, shape functions and card into `dest`.

    Returns the documents that the training run did not have (the report says so).
    """
    client = client_for(settings)
    dest.mkdir(parents=True, exist_ok=True)
    missing = []
    with tempfile.TemporaryDirectory() as tmp:
        for source, name in MODEL_DOCUMENTS.items():
            try:
                local = Path(client.download_artifacts(run_id, source, tmp))
            except (MlflowException, OSError) as failure:
                if unreachable(failure):
                    raise
                missing.append(name)
                continue
            (dest / name).write_bytes(local.read_bytes())
    return missing
