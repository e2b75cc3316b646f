"""Real servers for the test suite: PostgreSQL 15, an MLflow tracking server and a Prefect server.

The session fixture `servers` starts all three on loopback, once per pytest session, from what
`make test` installs (scripts/system-deps.sh for PostgreSQL, the virtual environment for MLflow
and Prefect), and stops them at the end, even when a start or a test fails:

    PostgreSQL 15   initdb + pg_ctl start -w in a temporary data directory, databases
                    `mlflow` and `prefect`; run as the `postgres` user when we are root
                    (PostgreSQL refuses to run as root, and CI runs as root)
    MLflow          mlflow db upgrade, then mlflow server on PostgreSQL with proxied artifacts
    Prefect         prefect server database upgrade -y, then prefect server start on PostgreSQL

Every database is migrated once before its server starts (several processes migrating a fresh
database at once crash: shared/STACK_NOTES.md). Every wait is bounded (60 s by default, see
`start_timeout`), every server's output goes to a log file under the session's
temporary folder, and a server that fails to start raises `ServerStartError` quoting the end of
its log. Servers are started in their own process group and the whole group is killed at
teardown.

Processes started here get a clean environment (`base_environment`), not the test session's:
other tests may have set MLFLOW_TRACKING_URI (MLflow writes it into os.environ) or activated a
Prefect test harness, and neither must leak into the servers or the clients talking to them.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

log = logging.getLogger(__name__)

DEFAULT_START_TIMEOUT_SECONDS = 60.0
STOP_TIMEOUT_SECONDS = 15.0  # grace after SIGTERM before SIGKILL
POLL_SECONDS = 0.25
POSTGRES_USER = "postgres"
POSTGRES_VERSION = "15"
DATABASES = ("mlflow", "prefect")
LOG_TAIL_LINES = 40

# Only these variables pass from the test session to the servers and their clients.
PASSED_THROUGH = ("PATH", "HOME", "LANG", "LC_ALL", "TZ", "TMPDIR", "SSL_CERT_FILE")
TELEMETRY_OFF = {
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "DO_NOT_TRACK": "true",
    "MLFLOW_DISABLE_TELEMETRY": "true",
}


class ServerStartError(RuntimeError):
    """A server or one of its set-up commands did not come up within its time bound."""


@dataclass(frozen=True)
class Servers:
    """Where the running servers are.

    `postgres_url` names the cluster, not a database (`database_url` adds one);
    `mlflow_tracking_uri` is the MLflow server's base URL and `prefect_api_url` the Prefect
    server's API root (ending in /api), in the forms MLFLOW_TRACKING_URI and PREFECT_API_URL take.
    `logs` holds every server's log; `artifacts` is where the MLflow server stores the artifacts
    clients upload through it.
    """

    postgres_url: str
    mlflow_tracking_uri: str
    prefect_api_url: str
    logs: Path
    artifacts: Path

    def database_url(self, database: str, driver: str = "postgresql") -> str:
        """The SQLAlchemy URL of one database on the cluster, e.g. driver='postgresql+asyncpg'."""
        return f"{driver}{self.postgres_url.removeprefix('postgresql')}/{database}"

    def client_environment(self, home: Path) -> dict[str, str]:
        """A clean environment for a process that runs takehold against these servers.

        `home` becomes TAKEHOLD_HOME (and holds PREFECT_HOME). The ephemeral Prefect server is
        disabled so that an unreachable server is an error, never a silent local fallback; MLflow
        artifacts go through the tracking server's proxy rather than a local path.
        """
        return {
            **base_environment(),
            "TAKEHOLD_HOME": str(home),
            "MLFLOW_TRACKING_URI": self.mlflow_tracking_uri,
            "TAKEHOLD_MLFLOW_ARTIFACT_ROOT": "mlflow-artifacts:/takehold",
            "PREFECT_API_URL": self.prefect_api_url,
            "PREFECT_SERVER_EPHEMERAL_ENABLED": "false",
            "PREFECT_HOME": str(home / "prefect"),
        }


# --- small helpers ------------------------------------------------------------------------------


def base_environment(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The session's PATH, HOME and locale, telemetry off, plus `extra`; nothing else."""
    passed = {name: os.environ[name] for name in PASSED_THROUGH if name in os.environ}
    return {**passed, **TELEMETRY_OFF, **(extra or {})}


def start_timeout() -> float:
    """The longest, in seconds, any single start, migration or wait may take.

    60 s by default. Start-up is mostly importing Python: about 15 s per server on an idle
    2-core machine, over a minute on one shared by many jobs, where TAKEHOLD_SERVER_START_TIMEOUT
    may raise it.
    """
    return float(os.environ.get("TAKEHOLD_SERVER_START_TIMEOUT", DEFAULT_START_TIMEOUT_SECONDS))


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing was listening on a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def postgres_bin_dir() -> Path | None:
    """The folder holding PostgreSQL 15's initdb and pg_ctl; None when they are not installed.

    Debian keeps them off PATH, under /usr/lib/postgresql/<major>/bin; PATH is tried first.
    """
    candidates = [Path(found).resolve().parent for found in [shutil.which("pg_ctl")] if found]
    candidates.append(Path(f"/usr/lib/postgresql/{POSTGRES_VERSION}/bin"))
    candidates += sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)
    return next(
        (
            folder
            for folder in candidates
            if (folder / "initdb").exists() and (folder / "pg_ctl").exists()
        ),
        None,
    )


def is_root() -> bool:
    return os.geteuid() == 0


def as_postgres_user(command: Sequence[str]) -> list[str]:
    """`command` run as the `postgres` user when we are root (PostgreSQL refuses root)."""
    return ["runuser", "-u", POSTGRES_USER, "--", *command] if is_root() else list(command)


def ensure_postgres_user() -> None:
    """Create the `postgres` system user when running as root and it is missing."""
    if not is_root():
        return
    if subprocess.run(["id", "-u", POSTGRES_USER], capture_output=True).returncode == 0:
        return
    log.info("creating the %s system user", POSTGRES_USER)
    subprocess.run(
        [
            "useradd",
            "--system",
            "--user-group",
            "--no-create-home",
            "--shell",
            "/usr/sbin/nologin",
            POSTGRES_USER,
        ],
        check=True,
        capture_output=True,
        timeout=start_timeout(),
    )


def log_tail(path: Path, lines: int = LOG_TAIL_LINES) -> str:
    """The last `lines` lines of a log file, or a note that it is missing."""
    if not path.exists():
        return f"(no log at {path})"
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def run_to_completion(
    name: str,
    command: Sequence[str],
    env: Mapping[str, str],
    log_file: Path,
    *,
    cwd: Path | None = None,
) -> None:
    """Run a set-up command with its output in `log_file`; raise if it fails or overruns."""
    started = time.perf_counter()
    with open(log_file, "ab") as output:
        try:
            finished = subprocess.run(
                command,
                env=dict(env),
                cwd=cwd,
                stdout=output,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                timeout=start_timeout(),
                start_new_session=True,
            )
        except subprocess.TimeoutExpired as overrun:
            raise ServerStartError(
                f"{name} took longer than {start_timeout():.0f} s; "
                f"log {log_file}:\n{log_tail(log_file)}"
            ) from overrun
    if finished.returncode != 0:
        raise ServerStartError(
            f"{name} exited with {finished.returncode}; log {log_file}:\n{log_tail(log_file)}"
        )
    log.info("%s finished in %.1f s", name, time.perf_counter() - started)


def start_server(
    command: Sequence[str], env: Mapping[str, str], log_file: Path, *, cwd: Path | None = None
) -> subprocess.Popen:
    """Start a long-running server in its own process group, its output in `log_file`."""
    with open(log_file, "ab") as output:
        return subprocess.Popen(
            command,
            env=dict(env),
            cwd=cwd,
            stdout=output,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )


def stop_process_group(
    process: subprocess.Popen, grace_seconds: float = STOP_TIMEOUT_SECONDS
) -> None:
    """Stop a server and every process it started: SIGTERM to its group, then, after
    `grace_seconds`, SIGKILL to whatever is left of the group."""
    started = time.perf_counter()
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=grace_seconds)
        except subprocess.TimeoutExpired:
            log.warning(
                "process %s ignored SIGTERM for %.0f s; killing it", process.pid, grace_seconds
            )
    # Workers the server forked may outlive it; they share its group.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=STOP_TIMEOUT_SECONDS)
    wait_until_group_is_gone(process.pid)
    log.info("process %s stopped in %.1f s", process.pid, time.perf_counter() - started)


def live_group_members(group: int) -> list[int]:
    """The pids of processes in process group `group` that are still running (not zombies)."""
    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError):
            # Fields after the parenthesised command name: state, ppid, pgrp, ...
            state, _, pgrp = stat.read_text().rsplit(")", 1)[1].split()[:3]
            if int(pgrp) == group and state not in ("Z", "X"):
                members.append(int(stat.parent.name))
    return members


def wait_until_group_is_gone(group: int) -> None:
    """Wait (at most STOP_TIMEOUT_SECONDS) until every killed member of `group` has died.

    SIGKILL is delivered asynchronously: without this wait a port or a data directory may
    still be held for a moment after teardown.
    """
    deadline = time.perf_counter() + STOP_TIMEOUT_SECONDS
    while (left := live_group_members(group)) and time.perf_counter() < deadline:
        time.sleep(POLL_SECONDS / 5)
    if left:
        log.warning("processes %s of group %s survived SIGKILL", left, group)


def answers_ok(url: str) -> bool:
    """Whether a GET of `url` returns HTTP 200 within a couple of seconds."""
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def wait_until_healthy(name: str, url: str, process: subprocess.Popen, log_file: Path) -> None:
    """Poll a health URL until it answers 200; raise, quoting the log, if the server dies or
    does not answer within start_timeout()."""
    started = time.perf_counter()
    deadline = started + start_timeout()
    while time.perf_counter() < deadline:
        if answers_ok(url):
            log.info("%s answered %s after %.1f s", name, url, time.perf_counter() - started)
            return
        if process.poll() is not None:
            raise ServerStartError(
                f"{name} exited with {process.returncode} before answering "
                f"{url}; log {log_file}:\n{log_tail(log_file)}"
            )
        time.sleep(POLL_SECONDS)
    raise ServerStartError(
        f"{name} did not answer {url} within {start_timeout():.0f} s; "
        f"log {log_file}:\n{log_tail(log_file)}"
    )


def venv_command(name: str) -> str:
    """The console script `name` (mlflow, prefect) installed beside this Python."""
    return str(Path(sys.executable).with_name(name))


# --- the three servers --------------------------------------------------------------------------


@contextlib.contextmanager
def running_postgres(bin_dir: Path, logs: Path) -> Iterator[str]:
    """PostgreSQL on a free loopback port with databases `mlflow` and `prefect`; yields its URL
    (postgresql://postgres@127.0.0.1:PORT, trust authentication, loopback only).

    The data directory lives in its own temporary folder owned by the `postgres` user (the
    session's pytest folder is private to root), removed at the end.
    """
    ensure_postgres_user()
    folder = Path(tempfile.mkdtemp(prefix="takehold-postgres-"))
    try:
        if is_root():
            shutil.chown(folder, POSTGRES_USER, POSTGRES_USER)
        port = free_port()
        data = folder / "data"
        env = base_environment()
        run_to_completion(
            "initdb",
            as_postgres_user(
                [
                    str(bin_dir / "initdb"),
                    "-D",
                    str(data),
                    "--auth=trust",
                    f"--username={POSTGRES_USER}",
                    "--encoding=UTF8",
                    "--no-sync",
                ]
            ),
            env,
            logs / "initdb.log",
            cwd=folder,
        )
        # Durability settings off: a throw-away test cluster, and fsync dominates on shared disks.
        options = (
            f"-c listen_addresses=127.0.0.1 -p {port} -k {folder} -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off"
        )
        pg_ctl = [str(bin_dir / "pg_ctl"), "-D", str(data), "-t", str(int(start_timeout()))]
        try:
            run_to_completion(
                "pg_ctl start",
                as_postgres_user(
                    [*pg_ctl, "-l", str(folder / "postgres.log"), "-o", options, "-w", "start"]
                ),
                env,
                logs / "pg_ctl.log",
                cwd=folder,
            )
            url = f"postgresql://{POSTGRES_USER}@127.0.0.1:{port}"
            create_databases(url, DATABASES)
            yield url
        finally:
            stop_postgres(pg_ctl, data, env, logs, folder)
    finally:
        remove_in_background(folder)


def remove_in_background(folder: Path) -> None:
    """Delete a folder without waiting for it.

    Deleting a stopped cluster's tens of megabytes took 8 s here (a disk mounted with online
    discard); nothing needs the folder gone before the session ends.
    """
    # The shell returns at once and leaves `rm` to finish on its own (no child left unwaited).
    subprocess.run(
        ["sh", "-c", 'rm -rf -- "$1" >/dev/null 2>&1 &', "sh", str(folder)],
        stdin=subprocess.DEVNULL,
        check=True,
        timeout=STOP_TIMEOUT_SECONDS,
    )


def create_databases(url: str, names: Sequence[str]) -> None:
    """CREATE DATABASE for each name (outside a transaction, as PostgreSQL requires)."""
    import psycopg2

    connection = psycopg2.connect(f"{url}/postgres", connect_timeout=10)
    try:
        connection.autocommit = True
        with connection.cursor() as cursor:
            for name in names:
                cursor.execute(f'CREATE DATABASE "{name}"')
    finally:
        connection.close()


def stop_postgres(
    pg_ctl: list[str], data: Path, env: Mapping[str, str], logs: Path, folder: Path
) -> None:
    """pg_ctl stop -m fast; if that fails, kill the postmaster's process group.

    pg_ctl starts the postmaster in a session of its own, so its pid is also its group id.
    """
    if (folder / "postgres.log").exists():
        shutil.copyfile(folder / "postgres.log", logs / "postgres.log")
    if not (data / "postmaster.pid").exists():
        return
    try:
        run_to_completion(
            "pg_ctl stop",
            as_postgres_user([*pg_ctl, "-m", "fast", "-w", "stop"]),
            env,
            logs / "pg_ctl.log",
            cwd=folder,
        )
    except ServerStartError:
        log.warning("pg_ctl stop failed; killing the postmaster")
        with contextlib.suppress(OSError, ValueError, IndexError):
            pid = int((data / "postmaster.pid").read_text().split()[0])
            os.killpg(pid, signal.SIGKILL)


def mlflow_store_url(postgres_url: str) -> str:
    """The MLflow backend store: the `mlflow` database through psycopg2.

    SQLAlchemy 2.1 maps a plain postgresql:// URL to psycopg 3, which is not installed.
    """
    return f"postgresql+psycopg2{postgres_url.removeprefix('postgresql')}/mlflow"


def mlflow_environment() -> dict[str, str]:
    """The MLflow server's environment.

    The job executor (GenAI scorers, trace roll-ups) is not used by takehold, and its worker
    processes would compete with the tests for the CPU.
    """
    return base_environment({"MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"})


def prefect_environment(postgres_url: str, root: Path) -> dict[str, str]:
    """The Prefect server's environment: the `prefect` database through asyncpg, its home in
    `root/prefect`, migrations run once beforehand (not on start), no UI."""
    return base_environment(
        {
            "PREFECT_HOME": str(root / "prefect"),
            "PREFECT_SERVER_DATABASE_CONNECTION_URL": f"postgresql+asyncpg{postgres_url.removeprefix('postgresql')}/prefect",
            "PREFECT_SERVER_DATABASE_MIGRATE_ON_START": "false",
            "PREFECT_SERVER_UI_ENABLED": "false",
        }
    )


def migrate_databases(postgres_url: str, root: Path, logs: Path) -> None:
    """`mlflow db upgrade` and `prefect server database upgrade -y`, side by side.

    Each database is migrated once, before any server or client touches it. The two commands
    work on different databases, so running them together only saves time.
    """
    commands = {
        "mlflow db upgrade": (
            [venv_command("mlflow"), "db", "upgrade", mlflow_store_url(postgres_url)],
            mlflow_environment(),
        ),
        "prefect server database upgrade": (
            [venv_command("prefect"), "server", "database", "upgrade", "-y"],
            prefect_environment(postgres_url, root),
        ),
    }
    with ThreadPoolExecutor(max_workers=len(commands)) as pool:
        runs = [
            pool.submit(
                run_to_completion,
                name,
                command,
                env,
                logs / f"{name.split()[0]}-upgrade.log",
                cwd=root,
            )
            for name, (command, env) in commands.items()
        ]
        for run in runs:
            run.result()


def start_mlflow(
    stack: contextlib.ExitStack, postgres_url: str, root: Path, logs: Path
) -> tuple[str, subprocess.Popen]:
    """Start the MLflow tracking server, serving artifacts from `root/artifacts`; its stop is
    registered on `stack` at once. Returns its URL (http://127.0.0.1:PORT) and process."""
    port = free_port()
    process = start_server(
        [
            venv_command("mlflow"),
            "server",
            "--backend-store-uri",
            mlflow_store_url(postgres_url),
            "--artifacts-destination",
            str(root / "artifacts"),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            "1",
        ],
        mlflow_environment(),
        logs / "mlflow-server.log",
        cwd=root,
    )
    stack.callback(stop_process_group, process)
    return f"http://127.0.0.1:{port}", process


def start_prefect(
    stack: contextlib.ExitStack, postgres_url: str, root: Path, logs: Path
) -> tuple[str, subprocess.Popen]:
    """Start the Prefect server; its stop is registered on `stack` at once. Returns its API URL
    (http://127.0.0.1:PORT/api) and process."""
    port = free_port()
    process = start_server(
        [venv_command("prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
        prefect_environment(postgres_url, root),
        logs / "prefect-server.log",
        cwd=root,
    )
    stack.callback(stop_process_group, process)
    return f"http://127.0.0.1:{port}/api", process


@contextlib.contextmanager
def running_servers(root: Path) -> Iterator[Servers]:
    """PostgreSQL, then the MLflow and Prefect servers on it; all stopped on exit.

    Both databases are migrated, then both servers are started before either is waited for,
    since most of their start-up is importing Python and the two can overlap. Logs are written
    to `root/logs` and kept; everything else lives under `root`.
    """
    bin_dir = postgres_bin_dir()
    if bin_dir is None:
        raise ServerStartError(
            "PostgreSQL is not installed (no initdb/pg_ctl on PATH or under "
            "/usr/lib/postgresql/*/bin); run scripts/system-deps.sh"
        )
    logs = root / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    with contextlib.ExitStack() as stack:
        postgres_url = stack.enter_context(running_postgres(bin_dir, logs))
        migrate_databases(postgres_url, root, logs)
        mlflow_url, mlflow_process = start_mlflow(stack, postgres_url, root, logs)
        prefect_api, prefect_process = start_prefect(stack, postgres_url, root, logs)
        wait_until_healthy(
            "mlflow server", f"{mlflow_url}/health", mlflow_process, logs / "mlflow-server.log"
        )
        wait_until_healthy(
            "prefect server", f"{prefect_api}/health", prefect_process, logs / "prefect-server.log"
        )
        yield Servers(
            postgres_url=postgres_url,
            mlflow_tracking_uri=mlflow_url,
            prefect_api_url=prefect_api,
            logs=logs,
            artifacts=root / "artifacts",
        )


def missing_prerequisite() -> str | None:
    """Why the servers cannot be started here, or None when they can."""
    if postgres_bin_dir() is None:
        return "PostgreSQL 15 is not installed: run scripts/system-deps.sh (make test does)"
    if is_root() and shutil.which("runuser") is None:
        return "running as root needs runuser to start PostgreSQL as the postgres user"
    return None


@pytest.fixture(scope="session")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    """PostgreSQL 15, an MLflow tracking server and a Prefect server on loopback, for the
    session. Skips the test when PostgreSQL is not installed."""
    reason = missing_prerequisite()
    if reason is not None:
        pytest.skip(reason)
    with running_servers(tmp_path_factory.mktemp("servers")) as started:
        yield started
