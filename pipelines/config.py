"""Where takehold keeps its state, and the environment its components need.

One frozen `Settings` is built once at the entry point (the CLI or a flow's caller) and
passed down. Nothing here runs at import time: no folder is created and no environment
variable is set until `prepare_environment` is called.

Everything takehold keeps between runs lives under `$TAKEHOLD_HOME` (default `./.takehold`):

    .takehold/
      mlflow.db          MLflow tracking and registry store (SQLite) unless MLFLOW_TRACKING_URI
      mlartifacts/       MLflow artifacts
      history.db         the run history (SQLite) unless TAKEHOLD_HISTORY_URL
      alerts.log         failed and blocked runs, one JSON object a line
      prefect/           PREFECT_HOME: Prefect's local SQLite database and settings
      demo/              the demo provider group written by `takehold demo`
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from contracts.params import SECTIONS, RunConfig

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
    mlflow_artifact_root: str  # "" lets a tracking server choose
    prefect_home: Path
    prefect_api_url: str | None
    model_name: str = "takehold"
    # TAKEHOLD_HISTORY_URL (TAKEHOLD_SINK_URL before it): the run history's database; SQLite
    # under home when unset.
    history_url: str = ""
    # TAKEHOLD_ALERT_BLOCK: a Prefect notification block ("custom-webhook/takehold-alerts")
    # that a failed or blocked nightly run notifies when a Prefect server is configured.
    alert_block: str | None = None

    @property
    def demo_dir(self) -> Path:
        return self.home / "demo"

    @property
    def alert_log(self) -> Path:
        """Failed and blocked runs, one JSON object a line (`pipelines.alerts`)."""
        return self.home / "alerts.log"


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Settings from the environment: TAKEHOLD_HOME, MLFLOW_TRACKING_URI, PREFECT_API_URL,
    TAKEHOLD_HISTORY_URL, TAKEHOLD_ALERT_BLOCK."""
    env = os.environ if env is None else env
    home = Path(env.get("TAKEHOLD_HOME", ".takehold")).expanduser().resolve()
    tracking = env.get("MLFLOW_TRACKING_URI") or f"sqlite:///{home / 'mlflow.db'}"
    # A tracking server keeps artifacts where it was told to (its own default); the embedded
    # SQLite store keeps them under TAKEHOLD_HOME.
    local_store = not tracking.startswith(("http://", "https://", "databricks"))
    artifacts = env.get("TAKEHOLD_MLFLOW_ARTIFACT_ROOT") or (
        (home / "mlartifacts").as_uri() if local_store else ""
    )
    return Settings(
        home=home,
        mlflow_tracking_uri=tracking,
        mlflow_artifact_root=artifacts,
        prefect_home=Path(env.get("PREFECT_HOME", str(home / "prefect"))),
        prefect_api_url=env.get("PREFECT_API_URL") or None,
        model_name=env.get("TAKEHOLD_MODEL_NAME", "takehold"),
        history_url=env.get("TAKEHOLD_HISTORY_URL")
        or env.get("TAKEHOLD_SINK_URL")
        or f"sqlite:///{home / 'history.db'}",
        alert_block=env.get("TAKEHOLD_ALERT_BLOCK") or None,
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
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    # The temporary server migrates a fresh database first; on a busy 2-core machine that can
    # take longer than Prefect's default wait.
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "180")


def load_run_config(path: Path | None = None, overrides: dict | None = None) -> RunConfig:
    """The run configuration: defaults, overridden by a TOML file's sections when given, then
    by `overrides` (the same sections as a dict: a flow parameter a schedule can send).

    A section per part, e.g. `[threshold] min_consecutive_months = 4`. Unknown names are an
    error, so a typo never silently leaves a default in force.
    """
    values: dict = {}
    where = "configuration"
    if path is not None:
        with open(path, "rb") as handle:
            values = tomllib.load(handle)
        where = str(path)
    for section, settings in (overrides or {}).items():
        values[section] = {**values.get(section, {}), **settings}
    unknown = set(values) - set(SECTIONS)
    if unknown:
        raise ValueError(f"{where}: unknown section(s) {sorted(unknown)}; known: {list(SECTIONS)}")
    defaults = RunConfig()
    parts = {
        name: _override(getattr(defaults, name), values.get(name, {}), f"{where} [{name}]")
        for name in SECTIONS
    }
    return RunConfig(**parts)


def _override(default, values: dict, where: str):
    known = {f.name: f for f in fields(default)}
    unknown = set(values) - set(known)
    if unknown:
        raise ValueError(f"{where}: unknown setting(s) {sorted(unknown)}")
    typed = {k: tuple(v) if isinstance(v, list) else v for k, v in values.items()}
    return replace(default, **typed)


def redacted_url(url: str) -> str:
    """`url` with any user name and password replaced by ***, parsed (a password may hold '@')."""
    parts = urlsplit(str(url))
    if not (parts.username or parts.password):
        return str(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit(parts._replace(netloc=f"***@{host}"))


def has_credentials(url: str | None) -> bool:
    """Whether `url` carries a user name or password."""
    if not url:
        return False
    parts = urlsplit(str(url))
    return bool(parts.username or parts.password)


def refuse_credentials(name: str, url: str | None) -> None:
    """A flow parameter must not carry credentials: Prefect records every parameter."""
    if has_credentials(url):
        raise ValueError(
            f"{name} carries credentials ({redacted_url(url)}); Prefect records flow parameters, "
            f"so give the URL in the environment instead (TAKEHOLD_HISTORY_URL for the history)"
        )
