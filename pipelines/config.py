"""Where takehold keeps its state, and the environment its components need.

One frozen `Settings` is built once at the entry point (the CLI or a flow's caller) and
passed down. Nothing here runs at import time: no folder is created and no environment
variable is set until `prepare_environment` is called.

Everything takehold keeps between runs lives under `$TAKEHOLD_HOME` (default `./.takehold`):

    .takehold/
      mlflow.db          MLflow tracking and registry store (SQLite) unless MLFLOW_TRACKING_URI
      mlartifacts/       MLflow artifacts
      prefect/           PREFECT_HOME: Prefect's local SQLite database and settings
      demo/              the demo provider group written by `takehold demo`
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

# Telemetry must be off or a first run on a fresh SQLite database fails with
# "database is locked" (shared/STACK_NOTES.md).
TELEMETRY_OFF = {
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "DO_NOT_TRACK": "true",
    "MLFLOW_DISABLE_TELEMETRY": "true",
}


@dataclass(frozen=True)
class Settings:
    """Locations of takehold's state and of the services it talks to."""

    home: Path
    mlflow_tracking_uri: str
    mlflow_artifact_root: str
    prefect_home: Path
    prefect_api_url: str | None
    model_name: str = "takehold"

    @property
    def demo_dir(self) -> Path:
        return self.home / "demo"


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Settings from the environment: TAKEHOLD_HOME, MLFLOW_TRACKING_URI, PREFECT_API_URL."""
    env = os.environ if env is None else env
    home = Path(env.get("TAKEHOLD_HOME", ".takehold")).expanduser().resolve()
    tracking = env.get("MLFLOW_TRACKING_URI") or f"sqlite:///{home / 'mlflow.db'}"
    artifacts = env.get("TAKEHOLD_MLFLOW_ARTIFACT_ROOT") or (home / "mlartifacts").as_uri()
    return Settings(
        home=home,
        mlflow_tracking_uri=tracking,
        mlflow_artifact_root=artifacts,
        prefect_home=Path(env.get("PREFECT_HOME", str(home / "prefect"))),
        prefect_api_url=env.get("PREFECT_API_URL") or None,
        model_name=env.get("TAKEHOLD_MODEL_NAME", "takehold"),
    )


def prepare_environment(settings: Settings) -> None:
    """Create the state folder and point Prefect and MLflow at it. Call once, at the entry."""
    settings.home.mkdir(parents=True, exist_ok=True)
    settings.prefect_home.mkdir(parents=True, exist_ok=True)
    for key, value in TELEMETRY_OFF.items():
        os.environ.setdefault(key, value)
    os.environ.setdefault("PREFECT_HOME", str(settings.prefect_home))
    os.environ.setdefault(
        "PREFECT_RESULTS_LOCAL_STORAGE_PATH", str(settings.prefect_home / "storage")
    )
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
