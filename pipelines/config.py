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

import difflib
import os
import tempfile
import tomllib
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from contracts.params import PARTS, SECTIONS, RunConfig, SettingsError, shown

# Telemetry must be off or a first run on a fresh SQLite database fails with
# "database is locked" (shared/STACK_NOTES.md).
TELEMETRY_OFF = {
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "DO_NOT_TRACK": "true",
    "MLFLOW_DISABLE_TELEMETRY": "true",
}


# How long takehold waits for a server that does not answer, set here and nowhere else. MLflow's
# own defaults (7 retries, backoff factor 2, 120 s a request) kept a run waiting 11 minutes on
# a tracking server that was down. With these, a request to a server that refuses connections
# gives up after about 4 s, one to a server that never answers after under a minute (3 tries of
# 15 s, waits of 1 and 2 s; the tasks that talk to MLflow do not retry on top of that). The
# servers are first asked, `HEALTH_CHECK_TRIES` of `HEALTH_CHECK_SECONDS`, before any work
# starts (`require_servers`). Values already in the environment win.
SERVER_PATIENCE = {
    "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "2",
    "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1",
    "MLFLOW_HTTP_REQUEST_TIMEOUT": "15",
    "PREFECT_CLIENT_MAX_RETRIES": "2",
    "PREFECT_API_REQUEST_TIMEOUT": "15",
}
HEALTH_CHECK_SECONDS = 5.0
HEALTH_CHECK_TRIES = 2


class ServerUnavailable(ConnectionError):
    """A server takehold needs did not answer; the message names it and what to check."""


class UnusablePath(OSError):
    """A folder takehold must write (or a file it must read) cannot be used; the message
    names the option, the path and the reason."""


@dataclass(frozen=True)
class Settings:
    """Locations of takehold's state and of the services it talks to."""

    home: Path
    mlflow_tracking_uri: str
    mlflow_artifact_root: str  # "" lets a tracking server choose
    prefect_home: Path
    prefect_api_url: str | None
    model_name: str = "takehold"
    sink_url: str | None = None  # TAKEHOLD_SINK_URL: a SQL database each run appends to

    @property
    def demo_dir(self) -> Path:
        return self.home / "demo"


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Settings from the environment: TAKEHOLD_HOME, MLFLOW_TRACKING_URI, PREFECT_API_URL."""
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
        sink_url=env.get("TAKEHOLD_SINK_URL") or None,
    )


def prepare_environment(settings: Settings) -> None:
    """Create the state folder and point Prefect and MLflow at it. Call once, at the entry."""
    writable_folder(settings.home, "TAKEHOLD_HOME")
    writable_folder(settings.prefect_home, "PREFECT_HOME")
    for key, value in {**TELEMETRY_OFF, **SERVER_PATIENCE}.items():
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


class ConfigError(ValueError):
    """A configuration that cannot be used: one line per problem, each naming the file,
    section, key, value and rule. Refused before any work starts (exit code 2)."""

    def __init__(self, where: str, problems: list[str]):
        self.where = where
        self.problems = tuple(problems)
        count = f"{len(problems)} problem{'s' if len(problems) != 1 else ''}"
        super().__init__(
            f"the configuration in {where} is refused ({count}); nothing was run:\n"
            + "\n".join(f"  {line}" for line in problems)
        )


def load_run_config(path: Path | None = None, overrides: dict | None = None) -> RunConfig:
    """The run configuration: defaults, overridden by a TOML file's sections when given, then
    by `overrides` (the same sections as a dict: a flow parameter a schedule can send).

    A section per part, e.g. `[threshold] min_consecutive_months = 4`. Every value is checked
    against its declaration (`contracts.params`): its type, its range and the rules across
    settings; unknown sections and names are refused, so a typo never silently leaves a
    default in force. Raises `ConfigError` listing every problem at once.
    """
    where = str(path) if path is not None else "the configuration overrides"
    values = read_config_file(path) if path is not None else {}
    for section, settings in (overrides or {}).items():
        values[section] = {**values.get(section, {}), **settings}
    problems, parts = [], {}
    for section, settings in values.items():
        if section not in SECTIONS:
            close = difflib.get_close_matches(section, SECTIONS, n=1)
            hint = f"did you mean [{close[0]}]?" if close else f"known: {', '.join(SECTIONS)}"
            problems.append(f"{where} [{section}]: unknown section ({hint})")
        elif not isinstance(settings, dict):
            problems.append(
                f"{where} {section} = {shown(settings)}: must be a section, [{section}] "
                "with its settings on the lines below it"
            )
    for part in PARTS:
        settings = values.get(part.SECTION, {})
        if not isinstance(settings, dict):
            continue
        try:
            parts[part.SECTION] = part.from_dict(settings)
        except SettingsError as refused:
            problems.extend(problem.line(where) for problem in refused.problems)
    if problems:
        raise ConfigError(where, problems)
    return RunConfig(**parts)


def read_config_file(path: Path) -> dict:
    """A TOML file's tables; an unreadable or malformed file is a `ConfigError` saying so."""
    try:
        with open(path, "rb") as handle:
            return tomllib.load(handle)
    except tomllib.TOMLDecodeError as malformed:
        raise ConfigError(str(path), [f"{path}: not valid TOML: {malformed}"]) from None
    except OSError as unreadable:
        reason = unreadable.strerror or type(unreadable).__name__
        raise ConfigError(str(path), [f"{path}: cannot be read: {reason}"]) from None


def config_changes(config: RunConfig) -> list[tuple[str, str, object, object]]:
    """(section, setting, value in force, default) for every setting that is not its default."""
    defaults = RunConfig().to_dict()
    return [
        (section, name, value, defaults[section][name])
        for section, values in config.to_dict().items()
        for name, value in values.items()
        if value != defaults[section][name]
    ]


def described_config(config: RunConfig, source: str) -> list[str]:
    """The configuration in force as TOML lines, defaults included, each setting that `source`
    changed marked with its default; then a one-line summary of what changed."""
    changed = {(s, n): default for s, n, _, default in config_changes(config)}
    lines = [f"# The configuration in force: {source}; every other setting is its default."]
    for section, values in config.to_dict().items():
        lines.append(f"\n[{section}]")
        for name, value in values.items():
            line = f"{name} = {shown(value)}"
            if (section, name) in changed:
                line = f"{line:<48} # changed by {source} (default {shown(changed[section, name])})"
            lines.append(line)
    summary = "; ".join(
        f"[{s}] {n} {shown(d)} -> {shown(v)}" for s, n, v, d in config_changes(config)
    )
    count = len(changed)
    lines.append(
        f"\n# {source} changes {count} setting{'s' if count != 1 else ''}"
        + (f": {summary}" if summary else "")
    )
    return lines


def writable_folder(path: Path, what: str) -> Path:
    """`path`, created if missing, once a file could be written in it; `UnusablePath` naming
    `what` (an option or a setting) and the reason otherwise."""
    path = Path(path)
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=path):
            pass
    except OSError as refused:
        reason = refused.strerror or type(refused).__name__
        raise UnusablePath(f"{what} {path}: cannot write there ({reason})") from None
    return path


def require_servers(settings: Settings, *, tracking: bool = True, prefect: bool = True) -> None:
    """Ask the MLflow tracking server and the Prefect server (those configured, of those asked
    for) whether they answer; `ServerUnavailable` naming the first that does not."""
    if tracking and settings.mlflow_tracking_uri.startswith(("http://", "https://")):
        _require_answer(
            "MLflow tracking server", settings.mlflow_tracking_uri, "/health", "MLFLOW_TRACKING_URI"
        )
    if prefect and settings.prefect_api_url:
        _require_answer("Prefect server", settings.prefect_api_url, "/health", "PREFECT_API_URL")


def _require_answer(name: str, url: str, path: str, variable: str) -> None:
    """Any HTTP answer (even an error status) means the server is there."""
    reason = ""
    parts = urlsplit(url)
    host = f"{parts.hostname}:{parts.port}" if parts.port else str(parts.hostname)
    asked = urlunsplit(parts._replace(netloc=host)).rstrip("/") + path  # no credentials
    for _ in range(HEALTH_CHECK_TRIES):
        try:
            with urllib.request.urlopen(asked, timeout=HEALTH_CHECK_SECONDS):
                return
        except urllib.error.HTTPError:
            return
        except (urllib.error.URLError, OSError) as silent:
            reason = str(getattr(silent, "reason", silent))
    waited = HEALTH_CHECK_SECONDS * HEALTH_CHECK_TRIES
    raise ServerUnavailable(
        f"the {name} at {redacted_url(url)} did not answer ({HEALTH_CHECK_TRIES} tries, at "
        f"most {waited:g} s: {reason}). Check that it is running and that {variable} points at it."
    )


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
            f"so give the URL in the environment instead (TAKEHOLD_SINK_URL for the sink)"
        )
