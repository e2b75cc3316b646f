"""takehold against real servers: PostgreSQL 15, an MLflow tracking server, a Prefect server.

The servers come from the session fixture in tests/servers.py. Every client here runs in a
subprocess with a clean environment naming only the servers (`Servers.client_environment`), so
nothing the rest of the session set up (a Prefect test harness, an MLflow tracking URI MLflow
wrote into os.environ) can stand in for them; and it is the same code, unchanged, that a
deployment runs. Results are then read back from the servers' own APIs.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from unittest.mock import patch

import httpx
import numpy as np
import psycopg2
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from servers import (
    PASSED_THROUGH,
    TELEMETRY_OFF,
    Servers,
    ServerStartError,
    as_postgres_user,
    base_environment,
    start_server,
    stop_process_group,
    wait_until_healthy,
)

CLIENT_TIMEOUT_SECONDS = 300  # one client process: a CLI run may train a model
SMOKE_MODEL = "takehold-smoke"
SMOKE_FLOW = "takehold-smoke-flow"

# The train-and-score test checks the plumbing to the servers, not the model: a light training
# configuration (two bootstrap refits for the band, one backtest contender) keeps it short.
LIGHT_TRAINING = """
[model]
band_refits = 2
backtest_peers = ["ga2m"]
"""

# A tiny classifier whose fitted probabilities the test recomputes: three rows per class.
SMOKE_X = [[0.0], [1.0], [2.0], [3.0], [4.0], [5.0]]
SMOKE_Y = [0, 0, 0, 1, 1, 1]

MLFLOW_CLIENT = f"""
import json, os
import mlflow
from mlflow.tracking import MlflowClient
from sklearn.linear_model import LogisticRegression

uri = os.environ["MLFLOW_TRACKING_URI"]
mlflow.set_tracking_uri(uri)
client = MlflowClient(tracking_uri=uri)
experiment = client.create_experiment("smoke", artifact_location="mlflow-artifacts:/smoke")
model = LogisticRegression().fit({SMOKE_X}, {SMOKE_Y})
with mlflow.start_run(experiment_id=experiment) as run:
    mlflow.log_param("C", model.C)
    mlflow.log_metric("accuracy", model.score({SMOKE_X}, {SMOKE_Y}))
    mlflow.log_text("smoke", "notes/smoke.txt")
    info = mlflow.sklearn.log_model(model, name="model", registered_model_name="{SMOKE_MODEL}",
                                    pip_requirements=["scikit-learn", "skops"])
version = str(info.registered_model_version)
client.set_registered_model_alias("{SMOKE_MODEL}", "champion", version)
loaded = mlflow.sklearn.load_model("models:/{SMOKE_MODEL}@champion")
print(json.dumps({{"run_id": run.info.run_id, "version": version,
                  "artifact_uri": run.info.artifact_uri,
                  "probabilities": loaded.predict_proba({SMOKE_X})[:, 1].tolist()}}))
"""

PREFECT_CLIENT = f"""
import json
from prefect import flow, task

@task
def doubled(value: int) -> int:
    return 2 * value

@flow(name="{SMOKE_FLOW}")
def smoke(value: int) -> int:
    return doubled(value) + 1

state = smoke(20, return_state=True)
print(json.dumps({{"flow_run_id": str(state.state_details.flow_run_id),
                  "result": state.result()}}))
"""


# --- helpers ------------------------------------------------------------------------------------


def run_client(command: list[str], env: dict[str, str], cwd: Path) -> str:
    """Run a client process to completion and return its standard output; fail the test with
    the end of its output when it exits non-zero or overruns CLIENT_TIMEOUT_SECONDS."""
    try:
        finished = subprocess.run(
            command,
            env=env,
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=CLIENT_TIMEOUT_SECONDS,
        )
    except subprocess.TimeoutExpired as overrun:
        pytest.fail(
            f"{command[:3]} did not finish within {CLIENT_TIMEOUT_SECONDS} s"
            f"\n--- stderr\n{_text(overrun.stderr)[-4000:]}"
        )
    assert finished.returncode == 0, (
        f"{command[:3]} exited with {finished.returncode}\n--- stdout\n{finished.stdout[-4000:]}"
        f"\n--- stderr\n{finished.stderr[-4000:]}"
    )
    return finished.stdout


def _text(output: bytes | str | None) -> str:
    """A timed-out process's captured output as text (bytes, whatever `text=` said)."""
    if isinstance(output, bytes):
        return output.decode(errors="replace")
    return output or ""


def run_python(code: str, env: dict[str, str], cwd: Path) -> dict:
    """Run a Python script in a client process; its last output line is a JSON object."""
    output = run_client([sys.executable, "-c", textwrap.dedent(code)], env, cwd)
    return json.loads(output.strip().splitlines()[-1])


def takehold(*arguments: str, env: dict[str, str], cwd: Path) -> str:
    """Run the takehold CLI installed beside this Python."""
    return run_client([str(Path(sys.executable).with_name("takehold")), *arguments], env, cwd)


def flow_runs(servers: Servers, flow_names: list[str]) -> list[dict]:
    """Every flow run of the named flows recorded by the Prefect server, with its flow's name."""
    with httpx.Client(base_url=servers.prefect_api_url, timeout=30) as api:
        flows = api.post("/flows/filter", json={"flows": {"name": {"any_": flow_names}}})
        flows.raise_for_status()
        names = {found["id"]: found["name"] for found in flows.json()}
        if not names:
            return []
        runs = api.post("/flow_runs/filter", json={"flows": {"id": {"any_": list(names)}}})
        runs.raise_for_status()
    return [{**run, "flow_name": names[run["flow_id"]]} for run in runs.json()]


def files_under(folder: Path) -> list[Path]:
    return [path for path in folder.rglob("*") if path.is_file()]


# --- the harness itself (no servers needed) -----------------------------------------------------


def test_clients_see_only_the_servers_not_the_session_environment(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "sqlite:////elsewhere/mlflow.db")
    monkeypatch.setenv("PREFECT_API_URL", "http://elsewhere:4200/api")
    monkeypatch.setenv("PREFECT_SERVER_DATABASE_CONNECTION_URL", "sqlite+aiosqlite:///x.db")
    servers = Servers(
        postgres_url="postgresql://postgres@127.0.0.1:5999",
        mlflow_tracking_uri="http://127.0.0.1:5001",
        prefect_api_url="http://127.0.0.1:4201/api",
        logs=tmp_path,
        artifacts=tmp_path,
    )
    env = servers.client_environment(tmp_path / "home")
    assert not {
        "MLFLOW_TRACKING_URI",
        "PREFECT_API_URL",
        "PREFECT_SERVER_DATABASE_CONNECTION_URL",
    } & set(base_environment())
    assert env["MLFLOW_TRACKING_URI"] == "http://127.0.0.1:5001"
    assert env["PREFECT_API_URL"] == "http://127.0.0.1:4201/api"
    assert env["PREFECT_SERVER_EPHEMERAL_ENABLED"] == "false"
    assert env["TAKEHOLD_HOME"] == str(tmp_path / "home")
    assert "PREFECT_SERVER_DATABASE_CONNECTION_URL" not in env
    assert env["MLFLOW_DISABLE_TELEMETRY"] == env["DO_NOT_TRACK"] == "true"


@settings(max_examples=50, deadline=None)
@given(
    extra=st.dictionaries(
        st.sampled_from(
            [
                "MLFLOW_TRACKING_URI",
                "PREFECT_API_URL",
                "PREFECT_HOME",
                "TAKEHOLD_HOME",
                "PATH",
                "HOME",
                "LANG",
                "PYTHONPATH",
                "DO_NOT_TRACK",
            ]
        ),
        st.text(alphabet="abc:/._-", min_size=1, max_size=12),
    )
)
def test_base_environment_passes_only_path_home_and_locale(extra) -> None:
    with patch.dict(os.environ, extra):
        env = base_environment()
        passed = {name: os.environ[name] for name in PASSED_THROUGH if name in os.environ}
    assert set(env) <= set(PASSED_THROUGH) | set(TELEMETRY_OFF)
    assert {name: env[name] for name in passed} == passed
    assert {name: env[name] for name in TELEMETRY_OFF} == TELEMETRY_OFF


@pytest.mark.parametrize(
    ("root", "expected"),
    [
        (True, ["runuser", "-u", "postgres", "--", "initdb", "-D", "data"]),
        (False, ["initdb", "-D", "data"]),
    ],
)
def test_postgres_commands_run_as_the_postgres_user_only_when_root(
    root, expected, monkeypatch
) -> None:
    monkeypatch.setattr("servers.is_root", lambda: root)
    assert as_postgres_user(["initdb", "-D", "data"]) == expected


@pytest.mark.parametrize(
    ("database", "driver", "expected"),
    [
        ("mlflow", "postgresql", "postgresql://postgres@127.0.0.1:5999/mlflow"),
        ("mlflow", "postgresql+psycopg2", "postgresql+psycopg2://postgres@127.0.0.1:5999/mlflow"),
        ("prefect", "postgresql+asyncpg", "postgresql+asyncpg://postgres@127.0.0.1:5999/prefect"),
    ],
)
def test_database_url_names_driver_and_database(database, driver, expected, tmp_path) -> None:
    servers = Servers(
        postgres_url="postgresql://postgres@127.0.0.1:5999",
        mlflow_tracking_uri="",
        prefect_api_url="",
        logs=tmp_path,
        artifacts=tmp_path,
    )
    assert servers.database_url(database, driver) == expected


def test_a_server_that_dies_before_answering_fails_with_its_log(tmp_path) -> None:
    log_file = tmp_path / "dying.log"
    process = start_server(
        [sys.executable, "-c", "print('port already in use'); raise SystemExit(3)"],
        base_environment(),
        log_file,
    )
    try:
        with pytest.raises(ServerStartError, match=r"(?s)exited with 3.*port already in use"):
            wait_until_healthy("dying server", "http://127.0.0.1:9/health", process, log_file)
    finally:
        stop_process_group(process)


def test_stopping_a_server_stops_the_processes_it_started(tmp_path) -> None:
    # A parent that ignores SIGTERM and a child it started: both must be gone afterwards.
    script = (
        "import signal, subprocess, sys, time; signal.signal(signal.SIGTERM, signal.SIG_IGN);"
        " child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(300)']);"
        " print(child.pid, flush=True); time.sleep(300)"
    )
    log_file = tmp_path / "stubborn.log"
    process = start_server([sys.executable, "-c", script], base_environment(), log_file)
    child_pid = wait_for_first_line(log_file)
    stop_process_group(process, grace_seconds=0.5)
    assert process.returncode == -signal.SIGKILL
    assert not process_exists(child_pid)


def wait_for_first_line(log_file: Path, attempts: int = 200) -> int:
    """The integer a test process prints first (polled: the process writes it when ready)."""
    for _ in range(attempts):
        text = log_file.read_text() if log_file.exists() else ""
        if text.strip():
            return int(text.split()[0])
        time.sleep(0.05)
    raise AssertionError(f"nothing written to {log_file}")


def process_exists(pid: int) -> bool:
    """Whether `pid` is a live (not zombie) process."""
    status = Path(f"/proc/{pid}/status")
    if not status.exists():
        return False
    return "\tZ (zombie)" not in status.read_text()


# --- the servers themselves ---------------------------------------------------------------------


def query(url: str, sql: str, parameters: tuple = ()) -> list[tuple]:
    """The rows of one read-only query against a PostgreSQL database."""
    connection = psycopg2.connect(url, connect_timeout=10)
    try:
        with connection.cursor() as cursor:
            cursor.execute(sql, parameters)
            return cursor.fetchall()
    finally:
        connection.close()


@pytest.mark.servers
@pytest.mark.slow
def test_postgres_serves_the_mlflow_and_prefect_databases(servers: Servers) -> None:
    databases = {
        name
        for (name,) in query(servers.database_url("postgres"), "SELECT datname FROM pg_database")
    }
    assert {"mlflow", "prefect"} <= databases
    # Both databases were migrated before their servers started: each holds its tables.
    for database, table in (("mlflow", "experiments"), ("prefect", "flow_run")):
        [(exists,)] = query(
            servers.database_url(database), "SELECT to_regclass(%s) IS NOT NULL", (table,)
        )
        assert exists, f"{database} has no {table} table"


@pytest.mark.servers
@pytest.mark.slow
def test_mlflow_server_logs_a_run_and_registers_a_model_with_an_alias(
    servers: Servers, tmp_path: Path
) -> None:
    from mlflow.tracking import MlflowClient
    from sklearn.linear_model import LogisticRegression

    logged = run_python(MLFLOW_CLIENT, servers.client_environment(tmp_path / "home"), tmp_path)

    client = MlflowClient(
        tracking_uri=servers.mlflow_tracking_uri, registry_uri=servers.mlflow_tracking_uri
    )
    champion = client.get_model_version_by_alias(SMOKE_MODEL, "champion")
    assert champion.version == logged["version"] == "1"
    run = client.get_run(logged["run_id"])
    assert run.data.metrics["accuracy"] == 1.0
    assert run.data.params["C"] == "1.0"
    # Artifacts went through the server's proxy to its artifact store, not to a client path.
    assert logged["artifact_uri"].startswith("mlflow-artifacts:/smoke/")
    stored = {path.name for path in files_under(servers.artifacts)}
    assert {"smoke.txt", "MLmodel"} <= stored
    assert not (tmp_path / "mlruns").exists() and not (tmp_path / "mlflow.db").exists()
    # The model loaded by alias is the one that was fitted.
    expected = LogisticRegression().fit(SMOKE_X, SMOKE_Y).predict_proba(SMOKE_X)[:, 1]
    np.testing.assert_allclose(logged["probabilities"], expected, rtol=1e-9)


@pytest.mark.servers
@pytest.mark.slow
def test_prefect_server_records_a_flow_run_and_its_task(servers: Servers, tmp_path: Path) -> None:
    ran = run_python(PREFECT_CLIENT, servers.client_environment(tmp_path / "home"), tmp_path)

    assert ran["result"] == 41
    with httpx.Client(base_url=servers.prefect_api_url, timeout=30) as api:
        flow_run = api.get(f"/flow_runs/{ran['flow_run_id']}").raise_for_status().json()
        task_runs = (
            api.post(
                "/task_runs/filter", json={"flow_runs": {"id": {"any_": [ran["flow_run_id"]]}}}
            )
            .raise_for_status()
            .json()
        )
    assert flow_run["state_type"] == "COMPLETED"
    assert [run["flow_name"] for run in flow_runs(servers, [SMOKE_FLOW])] == [SMOKE_FLOW]
    assert [(run["task_key"].split("-")[0], run["state_type"]) for run in task_runs] == [
        ("doubled", "COMPLETED")
    ]


# --- takehold's own train-and-score path -------------------------------------------------------


@pytest.mark.servers
@pytest.mark.slow
def test_train_and_score_run_unchanged_against_the_servers(
    servers: Servers, tmp_path: Path
) -> None:
    from mlflow.tracking import MlflowClient

    from simulator import simulate_group, write_simulation

    simulation = simulate_group(12, 2.5, seed=3)
    export_dir, _ = write_simulation(simulation, tmp_path / "demo")
    as_of = str(simulation.end)
    env = servers.client_environment(tmp_path / "home")
    out = tmp_path / "out"

    config = tmp_path / "light.toml"
    config.write_text(LIGHT_TRAINING)

    takehold(
        "train", str(export_dir), "--as-of", as_of, "--config", str(config), env=env, cwd=tmp_path
    )
    takehold("score", str(export_dir), "--as-of", as_of, "--out", str(out), env=env, cwd=tmp_path)

    # The outputs were published, scored by the champion registered on the MLflow server.
    client = MlflowClient(
        tracking_uri=servers.mlflow_tracking_uri, registry_uri=servers.mlflow_tracking_uri
    )
    champion = client.get_model_version_by_alias("takehold", "champion")
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["model"]["version"] == champion.version
    assert manifest["model"]["tracking_uri"] == servers.mlflow_tracking_uri
    assert manifest["as_of"] == as_of
    for name in ("scores.csv", "services.csv", "scores.parquet"):
        assert (out / name).stat().st_size > 0, name
    # Nothing fell back to the local stores takehold uses without servers.
    assert not (tmp_path / "home" / "mlflow.db").exists()
    assert not list((tmp_path / "home" / "prefect").glob("*.db"))
    # Both flows ran on the Prefect server and completed.
    recorded = flow_runs(servers, ["train_model", "nightly_scoring"])
    assert sorted((run["flow_name"], run["state_type"]) for run in recorded) == [
        ("nightly_scoring", "COMPLETED"),
        ("train_model", "COMPLETED"),
    ]


SERVE_TIMEOUT_SECONDS = 420  # serve registers, the run is triggered, scores and publishes


def deployment_id(servers: Servers, name: str) -> str | None:
    with httpx.Client(base_url=servers.prefect_api_url, timeout=30) as api:
        found = api.post("/deployments/filter", json={"deployments": {"name": {"any_": [name]}}})
        found.raise_for_status()
    return found.json()[0]["id"] if found.json() else None


def wait_for(what: str, probe, serving: subprocess.Popen, log_file: Path, timeout: float):
    """Poll `probe` until it returns something; fail with the serve log if it never does."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = probe()
        if value:
            return value
        if serving.poll() is not None:
            break
        time.sleep(2)
    pytest.fail(f"{what} did not happen\n--- serve log\n{log_file.read_text()[-4000:]}")


@pytest.mark.servers
@pytest.mark.slow
def test_a_served_deployment_runs_the_nightly_scoring_to_completion(
    servers: Servers, tmp_path: Path
) -> None:
    """`takehold serve` registers the nightly deployment; a run of it created through Prefect,
    as the schedule creates one, validates its parameters, scores as of the run day and
    publishes its outputs."""
    from datetime import date

    from simulator import simulate_group, write_simulation

    simulation = simulate_group(6, 2.5, seed=5)
    export_dir, _ = write_simulation(simulation, tmp_path / "group")
    env = servers.client_environment(tmp_path / "home")
    config = tmp_path / "light.toml"
    config.write_text(LIGHT_TRAINING)
    as_of = str(simulation.end)
    takehold(
        "train", str(export_dir), "--as-of", as_of, "--config", str(config), env=env, cwd=tmp_path
    )
    out = tmp_path / "served"
    log_file = tmp_path / "serve.log"
    with log_file.open("w") as log:
        serving = subprocess.Popen(
            [
                str(Path(sys.executable).with_name("takehold")),
                "serve",
                str(export_dir),
                "--out",
                str(out),
                "--config",
                str(config),
                "--cron",
                "0 2 * * *",
            ],
            env=env,
            cwd=tmp_path,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deployment = wait_for(
            "the deployment's registration",
            lambda: deployment_id(servers, "takehold-nightly"),
            serving,
            log_file,
            SERVE_TIMEOUT_SECONDS,
        )
        with httpx.Client(base_url=servers.prefect_api_url, timeout=30) as api:
            created = api.post(f"/deployments/{deployment}/create_flow_run", json={})
            created.raise_for_status()
        run_id = created.json()["id"]

        def finished() -> dict | None:
            with httpx.Client(base_url=servers.prefect_api_url, timeout=30) as api:
                state = api.get(f"/flow_runs/{run_id}").json()["state"]
            return state if state and state["type"] in ("COMPLETED", "FAILED", "CRASHED") else None

        state = wait_for("the served run", finished, serving, log_file, SERVE_TIMEOUT_SECONDS)
    finally:
        os.killpg(serving.pid, signal.SIGTERM)
        serving.wait(timeout=60)
    assert state["type"] == "COMPLETED", f"{state}\n{log_file.read_text()[-4000:]}"
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["as_of"] == str(date.today())
    assert manifest["config"]["model"]["band_refits"] == 2  # the configuration file was read
    assert (out / "scores.csv").stat().st_size > 0
    assert (out / "report.html").stat().st_size > 0


# --- governance over time against the servers: the history on PostgreSQL, alerts ---------------


def run_client_failing(
    command: list[str], env: dict[str, str], cwd: Path
) -> subprocess.CompletedProcess:
    """Run a client process that is expected to fail; return it (the test checks the code)."""
    return subprocess.run(
        command, env=env, cwd=cwd, capture_output=True, text=True, timeout=CLIENT_TIMEOUT_SECONDS
    )


def create_database(servers: Servers, name: str) -> None:
    connection = psycopg2.connect(servers.database_url("postgres"), connect_timeout=10)
    try:
        connection.autocommit = True
        with connection.cursor() as cursor:
            cursor.execute(f'CREATE DATABASE "{name}"')
    finally:
        connection.close()


@pytest.mark.servers
@pytest.mark.slow
def test_three_nights_on_postgresql_give_trends_a_quarter_comparison_and_a_signoff(
    servers: Servers, tmp_path: Path
) -> None:
    """The run history in PostgreSQL: a night a quarter earlier and two consecutive nights,
    scored by the CLI against the servers, then a sign-off and the governance report. The
    history URL carries a password (PostgreSQL here trusts loopback, so any password works):
    it must never reach Prefect, which records every flow parameter."""
    from datetime import timedelta

    import pandas as pd

    from simulator import simulate_group, write_simulation

    simulation = simulate_group(10, 2.5, seed=8)
    export_dir, _ = write_simulation(simulation, tmp_path / "group")
    create_database(servers, "takehold_history")
    password = "not-a-real-secret"
    history = servers.database_url("takehold_history").replace("postgres@", f"postgres:{password}@")
    env = servers.client_environment(tmp_path / "home")
    config = tmp_path / "light.toml"
    config.write_text(LIGHT_TRAINING)
    end = simulation.end
    takehold(
        "train",
        str(export_dir),
        "--as-of",
        str(end),
        "--config",
        str(config),
        env=env,
        cwd=tmp_path,
    )
    out = tmp_path / "out"
    quarter_day = (pd.Timestamp(end) - pd.DateOffset(months=3)).date()
    for as_of in (quarter_day, end - timedelta(days=1), end):
        takehold(
            "score", str(export_dir), "--as-of", str(as_of), "--out", str(out),
            "--history-url", history, env=env, cwd=tmp_path,
        )  # fmt: skip
    takehold(
        "signoff", str(out), "--by", "A. Analyst", "--note", "Reviewed for Q4",
        "--history-url", history, env=env, cwd=tmp_path,
    )  # fmt: skip
    said = takehold(
        "report", str(out), "--governance", "--history-url", history, env=env, cwd=tmp_path
    )
    assert "Compared with run" in said

    database = servers.database_url("takehold_history")
    recorded = query(database, "SELECT run_id, as_of FROM runs ORDER BY as_of")
    assert [str(r[1]) for r in recorded] == [
        str(quarter_day),
        str(end - timedelta(days=1)),
        str(end),
    ]
    scores = pd.read_parquet(out / "scores.parquet")
    [(count,)] = query(
        database, "SELECT count(*) FROM scores WHERE run_id = %s", (recorded[-1][0],)
    )
    assert count == len(scores)
    assert query(database, "SELECT run_id, signed_by FROM signoffs") == [
        (recorded[-1][0], "A. Analyst")
    ]
    [(version,)] = query(database, "SELECT max(version) FROM schema_version")
    assert version >= 1
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "What changed since the last run before this quarter (Q4 2026) began" in page
    assert f"Compared with run <strong>{recorded[0][0]}</strong>" in page
    assert f"Over 3 runs since {pd.Timestamp(quarter_day):%d %b %Y}" in page
    assert "A. Analyst" in page
    assert len(pd.read_csv(out / "tables" / "why_it_moved.csv", encoding="utf-8-sig")) > 0
    # The password never reached Prefect: not in any recorded parameter.
    recorded_runs = flow_runs(servers, ["nightly_scoring"])
    assert len([r for r in recorded_runs if r["state_type"] == "COMPLETED"]) >= 3
    assert all(password not in json.dumps(r["parameters"]) for r in recorded_runs)
    assert password not in json.dumps(json.loads((out / "manifest.json").read_text()))


class Webhook:
    """A tiny HTTP endpoint on loopback that keeps every JSON body posted to it."""

    def __init__(self) -> None:
        import http.server
        import threading

        received = self.received = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (the http.server name)
                length = int(self.headers.get("Content-Length", 0))
                received.append(json.loads(self.rfile.read(length) or b"{}"))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/alert"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


SAVE_ALERT_BLOCK = """
import json, sys
from prefect.blocks.notifications import CustomWebhookNotificationBlock

block = CustomWebhookNotificationBlock(
    name="takehold-alerts",
    url=sys.argv[1],
    json_data={"subject": "{{subject}}", "body": "{{body}}"},
)
block.save("takehold-alerts", overwrite=True)
print(json.dumps({"saved": True}))
"""


@pytest.mark.servers
@pytest.mark.slow
def test_a_blocked_nightly_run_raises_its_alert_through_a_prefect_notification_block(
    servers: Servers, tmp_path: Path
) -> None:
    """With a Prefect server and a notification block named in TAKEHOLD_ALERT_BLOCK, a blocked
    nightly run notifies through the block (here a webhook on loopback), writes the local alert
    log, and the command exits 1; the run is recorded as failed on the server."""
    import pandas as pd

    from simulator import simulate_group, write_simulation

    simulation = simulate_group(4, 1.5, seed=9)
    export_dir, _ = write_simulation(simulation, tmp_path / "group")
    services = pd.read_csv(export_dir / "services.csv", dtype=str)
    pd.concat([services, services.head(1)]).to_csv(export_dir / "services.csv", index=False)
    env = {
        **servers.client_environment(tmp_path / "home"),
        "TAKEHOLD_ALERT_BLOCK": "custom-webhook/takehold-alerts",
    }
    webhook = Webhook()
    try:
        script = [sys.executable, "-c", textwrap.dedent(SAVE_ALERT_BLOCK), webhook.url]
        run_client(script, env, tmp_path)
        finished = run_client_failing(
            [
                str(Path(sys.executable).with_name("takehold")),
                "score",
                str(export_dir),
                "--as-of",
                str(simulation.end),
                "--out",
                str(tmp_path / "out"),
            ],
            env,
            tmp_path,
        )
    finally:
        webhook.close()
    assert finished.returncode == 1, finished.stdout + finished.stderr
    assert "alert log" in finished.stderr  # the failure's plain lines, with where it is logged
    assert len(webhook.received) == 1, webhook.received
    alert = webhook.received[0]
    assert "was blocked by validation" in alert["subject"]
    assert "services" in alert["body"] and "location_id" in alert["body"]
    logged = [
        json.loads(line) for line in (tmp_path / "home" / "alerts.log").read_text().splitlines()
    ]
    assert [entry["kind"] for entry in logged] == ["blocked"]
    assert not (tmp_path / "out" / "scores.csv").exists()
    states = [
        r["state_type"]
        for r in flow_runs(servers, ["nightly_scoring"])
        if r["parameters"].get("out") == str((tmp_path / "out").resolve())
    ]
    assert states == ["FAILED"]
