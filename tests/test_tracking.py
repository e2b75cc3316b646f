"""What the registry says, told apart: no model yet (not an error: the rules score alone), a
champion whose model cannot be loaded, and a tracking server that does not answer. Real MLflow
on a SQLite store in a temporary folder."""

from __future__ import annotations

import shutil
import socket
from pathlib import Path

import pytest

from pipelines.config import SERVER_PATIENCE, ServerUnavailable, Settings
from pipelines.failures import explained


def settings_for(tmp_path: Path, uri: str | None = None) -> Settings:
    return Settings(
        home=tmp_path,
        mlflow_tracking_uri=uri or f"sqlite:///{tmp_path / 'mlflow.db'}",
        mlflow_artifact_root=(tmp_path / "artifacts").as_uri(),
        prefect_home=tmp_path / "prefect",
        prefect_api_url=None,
        model_name="takehold-test",
    )


def test_no_champion_yet_is_none_not_an_error(tmp_path):
    from pipelines import tracking

    assert tracking.champion_model_or_none(settings_for(tmp_path)) is None


def test_a_champion_whose_model_is_gone_is_said_in_plain_words(tmp_path):
    import mlflow
    from sklearn.linear_model import LogisticRegression

    from pipelines import tracking

    settings = settings_for(tmp_path)
    client = tracking.client_for(settings)
    experiment = tracking.experiment_id(client, settings)
    with mlflow.start_run(experiment_id=experiment):
        info = mlflow.sklearn.log_model(
            LogisticRegression().fit([[0.0], [1.0]], [0, 1]),
            name="model",
            registered_model_name=settings.model_name,
            serialization_format="cloudpickle",
            pip_requirements=["scikit-learn"],
        )
    client.set_registered_model_alias(settings.model_name, "champion", "1")
    assert tracking.champion_model_or_none(settings) is not None
    shutil.rmtree(Path(info.artifact_path.removeprefix("file://")), ignore_errors=True)
    for model_file in (tmp_path / "artifacts").rglob("model.pkl"):
        model_file.unlink()
    with pytest.raises(tracking.ModelUnavailable) as gone:
        tracking.champion_model_or_none(settings)
    code, lines = explained(gone.value)
    assert code == 1 and len(lines) == 1
    assert lines[0].startswith(
        "takehold stopped: the champion, version 1 of model 'takehold-test', is registered"
    )
    assert "Train again with `takehold train`" in lines[0]


def test_a_tracking_server_that_refuses_is_named_not_taken_for_no_model(tmp_path, monkeypatch):
    from pipelines import tracking

    for name, value in SERVER_PATIENCE.items():  # what prepare_environment sets
        monkeypatch.setenv(name, value)

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        refused = f"http://127.0.0.1:{probe.getsockname()[1]}"
    with pytest.raises(ServerUnavailable, match=f"the MLflow tracking server at {refused}"):
        tracking.champion_model_or_none(settings_for(tmp_path, refused))
