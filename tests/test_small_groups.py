"""Small provider groups: training either trains or says, in plain words, what history is
missing; the rules alone score any group, model or not, with every output and the report.

With the real Prefect (the session's test server), GX and MLflow (a SQLite store per group).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from contracts.tables import OUTPUT_TABLES, SCORES, SERVICES
from pipelines.config import load_settings, prepare_environment
from pipelines.stages import NotEnoughHistory

pytestmark = pytest.mark.slow

RUN_DAY = date(2026, 11, 26)
LIGHT = {
    "model": {"band_refits": 2, "backtest_peers": ["ga2m", "rules_stage"], "replay_cutoffs": 2}
}
# (services, years of evidence to 2026-10-31, whether training has enough history): measured
# with `takehold simulate` and `takehold train` (README 'Small provider groups').
GROUPS = [(3, 1.5, False), (6, 2.5, True), (12, 3.5, True)]


def simulated(services: int, years: float, root: Path) -> dict:
    from simulator import simulate_group, write_simulation

    simulation = simulate_group(services, years, seed=5, truth_draws=1)
    export_dir, _ = write_simulation(simulation, root)
    return {"services": services, "export": export_dir, "as_of": simulation.end, "root": root}


@pytest.fixture(scope="module", params=GROUPS, ids=[f"{n} services" for n, _, _ in GROUPS])
def group(request, tmp_path_factory, harness):
    """A simulated group and a takehold home of its own (no model trained yet)."""
    services, years, enough = request.param
    root = tmp_path_factory.mktemp(f"group{services}")
    environment = pytest.MonkeyPatch()
    environment.setenv("TAKEHOLD_HOME", str(root / "home"))
    environment.delenv("MLFLOW_TRACKING_URI", raising=False)
    prepare_environment(load_settings())
    yield {**simulated(services, years, root), "enough": enough}
    environment.undo()


def test_training_trains_or_says_what_history_is_missing(group):
    from pipelines.flows import train_model

    if not group["enough"]:
        with pytest.raises(NotEnoughHistory) as refused:
            train_model(
                export=str(group["export"]),
                as_of=group["as_of"],
                config_overrides=LIGHT,
                today=RUN_DAY,
            )
        words = str(refused.value)
        assert f"in {group['services']} services" in words
        for fact in ("labelled snapshots of", "held,", "slipped)", "The model needs"):
            assert fact in words
        return
    trained = train_model(
        export=str(group["export"]), as_of=group["as_of"], config_overrides=LIGHT, today=RUN_DAY
    )
    assert trained["promoted"] and trained["version"] == "1"
    assert trained["snapshots"] >= 200


def test_the_rules_alone_score_the_group_with_every_output_and_the_report(group):
    from pipelines.flows import nightly_scoring

    out = group["root"] / "rules-only"
    run = nightly_scoring(
        export=str(group["export"]),
        out=str(out),
        as_of=group["as_of"],
        config_overrides=LIGHT,
        today=RUN_DAY,
        rules_only=True,
    )
    scores = pd.read_parquet(out / "scores.parquet")
    assert list(scores.columns) == list(SCORES.column_names)
    assert scores["p_hold"].isna().all() and scores["p_hold_low"].isna().all()
    assert scores["cross_check"].isna().all()
    assert (scores["model_version"] == "").all()
    assert scores["stage"].notna().all() and scores["stage_reasons"].str.len().gt(0).all()
    services = pd.read_csv(out / "services.csv")
    assert list(services.columns) == list(SERVICES.column_names)
    assert len(services) == group["services"]
    assert services["priority_score"].is_monotonic_decreasing
    assert services["priority_low"].isna().all()
    assert services["main_reason"].str.contains("by the rules").all()
    for table in OUTPUT_TABLES:
        for name in table.files:
            path = out / name
            if path.suffix == ".parquet" and path.exists():
                columns = list(pd.read_parquet(path).columns)
                if table.feature_columns:  # the model's features follow the declared columns
                    columns = columns[: len(table.column_names)]
                assert columns == list(table.column_names), name
    model = run.manifest["model"]
    assert model["rules_only"] is True and "--rules-only" in model["rules_only_because"]
    assert model["scored_by"] == "none" and "--rules-only" in model["scored_by_because"]
    report = (out / "report.html").read_text(encoding="utf-8")
    assert "No probability of holding in this run" in report
    assert "the run was asked for the rules alone (--rules-only)" in report


def takehold(*arguments: str, home: Path) -> subprocess.CompletedProcess:
    """The installed command, as a user runs it (its own temporary Prefect server)."""
    environment = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "MLFLOW_"))},
        "TAKEHOLD_HOME": str(home),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "DO_NOT_TRACK": "true",
        "MLFLOW_DISABLE_TELEMETRY": "true",
        "COLUMNS": "400",
    }
    return subprocess.run(
        [str(Path(sys.executable).with_name("takehold")), *arguments],
        env=environment,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_without_a_champion_the_command_scores_by_the_rules_and_says_so(tmp_path):
    """The nightly command on a group with no model yet: the rules alone, with a notice."""
    services, years, _ = GROUPS[0]
    group = simulated(services, years, tmp_path)
    out = tmp_path / "out"
    finished = takehold(
        "score",
        str(group["export"]),
        "--as-of",
        str(group["as_of"]),
        "--out",
        str(out),
        home=tmp_path / "home",
    )
    output = finished.stdout + finished.stderr
    assert finished.returncode == 0, output
    assert "Notice: no probability of holding in this run: no model is trained" in output
    assert "Rules alone (no model)" in output
    assert "Traceback" not in output
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["model"]["rules_only"] is True and manifest["model"]["version"] is None
    assert "no champion is registered" in (out / "report.html").read_text(encoding="utf-8")


def test_a_flow_that_fails_inside_prefect_prints_plain_words_without_a_traceback(tmp_path):
    """A blocked export stops the flow inside Prefect, whose own log of a failed flow carries
    the traceback: the user reads takehold's words only, and --verbose adds the traceback."""
    services, years, _ = GROUPS[0]
    group = simulated(services, years, tmp_path)
    services_csv = group["export"] / "services.csv"
    lines = services_csv.read_text().splitlines()
    services_csv.write_text("\n".join([*lines, lines[1]]) + "\n")  # a duplicated service
    arguments = ("score", str(group["export"]), "--as-of", str(group["as_of"]), "--no-report")
    plain = takehold(*arguments, "--out", str(tmp_path / "a"), home=tmp_path / "home")
    output = plain.stdout + plain.stderr
    assert plain.returncode == 1, output
    assert "takehold stopped: the export is blocked by validation" in output
    assert "location_id must be unique" in output
    assert "Traceback" not in output and "unexpected" not in output
    verbose = takehold(
        *arguments, "--out", str(tmp_path / "b"), "--verbose", home=tmp_path / "home"
    )
    assert verbose.returncode == 1
    assert "Traceback" in verbose.stderr


def test_a_tracking_server_that_does_not_answer_is_named_never_taken_for_no_model(
    harness, tmp_path, monkeypatch
):
    """The flow as a served deployment runs it (no check before it starts): the champion
    cannot be asked for, so the run stops naming the server; it is not scored as if no model
    had been trained, and publishes nothing."""
    import socket
    import time

    from pipelines.config import ServerUnavailable
    from pipelines.flows import nightly_scoring

    services, years, _ = GROUPS[0]
    group = simulated(services, years, tmp_path)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        refused = f"http://127.0.0.1:{probe.getsockname()[1]}"
    monkeypatch.setenv("TAKEHOLD_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("MLFLOW_TRACKING_URI", refused)
    out = tmp_path / "out"
    started = time.perf_counter()
    with pytest.raises(ServerUnavailable, match=f"MLflow tracking server at {refused}"):
        nightly_scoring(
            export=str(group["export"]),
            out=str(out),
            as_of=group["as_of"],
            config_overrides=LIGHT,
            today=RUN_DAY,
        )
    assert time.perf_counter() - started < 60
    assert not (out / "current").exists()
