"""Wrong settings, typos, unwritable folders and silent servers, tried as a new user would: the
installed `takehold` command, in a process of its own. Each ends in one or two plain lines and
the right exit code, never a traceback (unless --verbose asks for it), and before any work.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pytest

TAKEHOLD = str(Path(sys.executable).with_name("takehold"))
AS_OF = "2026-10-31"
# Every case fails before Prefect or a model starts: a few seconds each on a busy machine.
CASE_TIMEOUT_SECONDS = 120
# A tracking or Prefect server that does not answer is reported within a minute.
SERVER_WAIT_SECONDS = 60


@dataclass(frozen=True)
class Case:
    """One command line: its arguments ({export}, {out}, {config}, {file}, {unwritable},
    {refused}, {silent} are filled in), the configuration file it is given, the environment it
    adds, and what must come back."""

    name: str
    arguments: tuple[str, ...]
    code: int
    says: tuple[str, ...]
    config: str | None = None
    environment: dict[str, str] = field(default_factory=dict)


def config_case(name: str, text: str, *says: str, command: str = "score") -> Case:
    arguments = {
        "score": ("score", "{export}", "--as-of", AS_OF, "--out", "{out}", "--config", "{config}"),
        "train": ("train", "{export}", "--as-of", AS_OF, "--config", "{config}"),
        "serve": ("serve", "{export}", "--out", "{out}", "--config", "{config}"),
        "check": ("config", "check", "{config}"),
    }[command]
    return Case(name, arguments, 2, ("is refused", *says), config=text)


SCORE = ("score", "{export}", "--as-of", AS_OF, "--out", "{out}")

CASES = (
    # --- types -----------------------------------------------------------------------------
    config_case(
        "text for a whole number",
        '[threshold]\nmin_consecutive_months = "four"\n',
        '[threshold] min_consecutive_months = "four": must be a whole number',
    ),
    config_case(
        "a fraction for a whole number",
        "[threshold]\nmin_consecutive_months = 4.5\n",
        "[threshold] min_consecutive_months = 4.5: must be a whole number",
    ),
    config_case(
        "true for a number",
        "[threshold]\nmin_teams_meeting_share = true\n",
        "[threshold] min_teams_meeting_share = true: must be a number",
    ),
    config_case(
        "a word for a list",
        '[labels]\nserious_harms = "severe"\n',
        '[labels] serious_harms = "severe": must be a list of words',
    ),
    config_case(
        "not a number",
        "[threshold]\nmin_competency_margin = nan\n",
        "[threshold] min_competency_margin = NaN: must be a finite number",
    ),
    # --- ranges ----------------------------------------------------------------------------
    config_case(
        "a negative count of months",
        "[threshold]\nmin_consecutive_months = -3\n",
        "[threshold] min_consecutive_months = -3: must be 1 to 36",
    ),
    config_case(
        "a share above one",
        "[threshold]\nmin_teams_meeting_share = 1.2\n",
        "[threshold] min_teams_meeting_share = 1.2: must be 0 to 1",
    ),
    config_case(
        "a window the features are not defined for",
        "[features]\nrecent_days = 60\n",
        "[features] recent_days = 60: must be 90: the `_90d` features are defined over 90 days",
    ),
    config_case(
        "an unknown stage",
        '[threshold]\noverclaim_stages = ["emerging", "stuck"]\n',
        '[threshold] overclaim_stages = ["emerging", "stuck"]: must be one or more of',
    ),
    config_case(
        "severity weights that leave one out",
        "[ranking.severity_weights]\nserious = 4\n",
        "[ranking] severity_weights = { serious = 4 }: must be a table naming each of routine, "
        "significant, serious",
    ),
    config_case(
        "band quantiles in the wrong order",
        "[model]\nband_quantiles = [0.9, 0.1]\n",
        "[model] band_quantiles = [0.9, 0.1]: must be 0 <= low < high <= 1",
    ),
    # --- rules across settings --------------------------------------------------------------
    config_case(
        "cross-check bands out of order",
        "[cross_check]\nlow = 0.9\nhigh = 0.5\n",
        "[cross_check] low = 0.9, high = 0.5: the bands need low <= high",
    ),
    config_case(
        "consolidating asks more than embedded",
        "[threshold]\nconsolidating_min_consecutive_months = 5\n",
        "[threshold] consolidating_min_consecutive_months = 5, min_consecutive_months = 3: "
        "consolidating needs no more months in a row than embedded",
    ),
    config_case(
        "a backtest without the model the gate reads",
        '[model]\nbacktest_peers = ["rules_stage"]\n',
        '[model] backtest_peers = ["rules_stage"]: must be a list naming ga2m',
    ),
    # --- unknown names and malformed files -----------------------------------------------------
    config_case(
        "a typo in a setting",
        "[threshold]\nmin_consecutive_monthz = 4\n",
        "[threshold] min_consecutive_monthz = 4: unknown setting (did you mean "
        "min_consecutive_months?)",
    ),
    config_case(
        "a typo in a section",
        "[thresholds]\nmin_consecutive_months = 4\n",
        "[thresholds]: unknown section (did you mean [threshold]?)",
    ),
    config_case(
        "a setting outside its section",
        "threshold = 4\n",
        "threshold = 4: must be a section",
    ),
    config_case(
        "not TOML",
        "[threshold\nmin_consecutive_months = 4\n",
        "not valid TOML: Expected ']' at the end of a table declaration (at line 1, column 11)",
    ),
    config_case(
        "three problems at once, for training",
        '[threshold]\nmin_consecutive_months = 0\nmin_evidence_categories = "3"\n'
        "[report]\ndetailed_charts = -1\n",
        "(3 problems)",
        "[threshold] min_consecutive_months = 0: must be 1 to 36",
        '[threshold] min_evidence_categories = "3": must be a whole number',
        "[report] detailed_charts = -1: must be at least 0",
        command="train",
    ),
    config_case(
        "a wrong file refused before serving",
        "[validation]\nblock_share = 5\n",
        "[validation] block_share = 5: must be 0 to 1",
        command="serve",
    ),
    config_case(
        "config check of a wrong file",
        "[report]\nchart_workers = -2\n",
        "[report] chart_workers = -2: must be 0 to 64",
        command="check",
    ),
    # --- the command line ----------------------------------------------------------------------
    Case(
        "a configuration file that is not there",
        (*SCORE, "--config", "{out}/nope.toml"),
        2,
        ("does not exist",),
    ),
    Case(
        "a date in the wrong form",
        ("score", "{export}", "--as-of", "31/10/2026"),
        2,
        ("Invalid value for '--as-of'",),
    ),
    Case("an unknown runner", (*SCORE, "--runner", "spark"), 2, ("must be 'local' or 'dask'",)),
    # --- paths ---------------------------------------------------------------------------------
    Case(
        "an export folder that is not there",
        ("score", "{out}/absent", "--out", "{out}/o"),
        1,
        ("takehold stopped:", "absent: export folder not found"),
    ),
    Case(
        "an output folder that cannot be written",
        ("score", "{export}", "--out", "{unwritable}"),
        1,
        ("takehold stopped: --out {unwritable}: cannot write there (",),
    ),
    Case(
        "a file where the output folder should be",
        ("score", "{export}", "--out", "{file}/out"),
        1,
        ("takehold stopped: --out {file}/out: cannot write there (Not a directory)",),
    ),
    Case(
        "validation into a folder that cannot be written",
        ("validate", "{export}", "--as-of", AS_OF, "--out", "{unwritable}"),
        1,
        ("takehold stopped: --out {unwritable}: cannot write there (",),
    ),
    Case(
        "a simulation into a folder that cannot be written",
        ("simulate", "{unwritable}", "--services", "2"),
        1,
        ("takehold stopped: OUT_DIR {unwritable}: cannot write there (",),
    ),
    Case(
        "a home that cannot be written",
        ("train", "{export}", "--as-of", AS_OF),
        1,
        ("takehold stopped: TAKEHOLD_HOME {unwritable}: cannot write there (",),
        environment={"TAKEHOLD_HOME": "{unwritable}"},
    ),
    Case(
        "a report of a folder that is not a run",
        ("report", "{export}"),
        2,
        ("has no scores.parquet: is it a finished run's output?",),
    ),
    # --- servers -------------------------------------------------------------------------------
    Case(
        "a tracking server that refuses connections",
        SCORE,
        1,
        (
            "takehold stopped: the MLflow tracking server at {refused} did not answer",
            "Check that it is running and that MLFLOW_TRACKING_URI points at it.",
        ),
        environment={"MLFLOW_TRACKING_URI": "{refused}"},
    ),
    Case(
        "a tracking server that never answers",
        ("train", "{export}", "--as-of", AS_OF),
        1,
        ("takehold stopped: the MLflow tracking server at {silent} did not answer",),
        environment={"MLFLOW_TRACKING_URI": "{silent}"},
    ),
    Case(
        "a Prefect server that refuses connections",
        SCORE,
        1,
        ("takehold stopped: the Prefect server at {refused}/api did not answer", "PREFECT_API_URL"),
        environment={"PREFECT_API_URL": "{refused}/api"},
    ),
)


@dataclass(frozen=True)
class Finished:
    code: int
    stdout: str
    stderr: str
    seconds: float


@pytest.fixture(scope="module")
def places(tmp_path_factory, unwritable):
    """Everything the cases name: an export, a plain file, servers that refuse or never answer."""
    from simulator import simulate_group
    from simulator.export import write_export

    root = tmp_path_factory.mktemp("cli")
    simulation = simulate_group(2, 0.5, seed=3, truth_as_of=[date(2026, 10, 31)], truth_draws=1)
    write_export(simulation.frames, str(root / "export"))
    (root / "a-file").write_text("not a folder\n")
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        refused = f"http://127.0.0.1:{probe.getsockname()[1]}"
    silent = socket.socket()  # accepts connections into its backlog, never answers
    silent.bind(("127.0.0.1", 0))
    silent.listen(16)
    yield {
        "export": str(root / "export"),
        "file": str(root / "a-file"),
        "unwritable": str(unwritable),
        "refused": refused,
        "silent": f"http://127.0.0.1:{silent.getsockname()[1]}",
        "root": root,
    }
    silent.close()


@pytest.fixture(scope="module")
def unwritable(tmp_path_factory):
    """A folder nobody can create or write in: read-only for a user, /sys for root."""
    folder = tmp_path_factory.mktemp("read-only") / "locked"
    folder.mkdir()
    folder.chmod(0o555)
    candidates = [folder / "out", Path("/sys/takehold-test-out")]
    yield next((c for c in candidates if not _writable(c)), None) or pytest.skip(
        "no unwritable folder on this machine"
    )
    folder.chmod(0o755)


def _writable(path: Path) -> bool:
    try:
        path.mkdir(parents=True)
    except OSError:
        return False
    shutil.rmtree(path)
    return True


def filled(text: str, places: dict) -> str:
    for name, value in places.items():
        if isinstance(value, str):
            text = text.replace("{" + name + "}", value)
    return text


def run_case(case: Case, places: dict, folder: Path, *extra: str) -> Finished:
    folder.mkdir(parents=True, exist_ok=True)
    config = folder / "provider.toml"
    if case.config is not None:
        config.write_text(case.config, encoding="utf-8")
    local = {**places, "out": str(folder / "out"), "config": str(config)}
    environment = {
        k: v for k, v in os.environ.items() if k not in ("MLFLOW_TRACKING_URI", "PREFECT_API_URL")
    }
    environment.update(
        TAKEHOLD_HOME=str(folder / "home"),
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        DO_NOT_TRACK="true",
        MLFLOW_DISABLE_TELEMETRY="true",
        COLUMNS="400",  # one line stays one line
    )
    environment.update({k: filled(v, local) for k, v in case.environment.items()})
    arguments = [filled(a, local) for a in case.arguments] + list(extra)
    started = time.perf_counter()
    finished = subprocess.run(
        [TAKEHOLD, *arguments],
        env=environment,
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=CASE_TIMEOUT_SECONDS,
    )
    return Finished(
        finished.returncode, finished.stdout, finished.stderr, time.perf_counter() - started
    )


@pytest.fixture(scope="module")
def finished(places):
    """Every case run once, two at a time (each is a process that stops before any work)."""
    root = places["root"]
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = {
            case.name: pool.submit(run_case, case, places, root / f"case-{i}")
            for i, case in enumerate(CASES)
        }
        return {name: future.result() for name, future in futures.items()}


def test_there_are_enough_cases():
    assert len(CASES) >= 20
    assert len({c.name for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_a_wrong_setting_or_command_line_ends_in_plain_words(case, finished, places):
    result = finished[case.name]
    output = result.stdout + result.stderr
    local = {**places, "out": "", "config": ""}
    assert result.code == case.code, output
    for words in case.says:
        assert filled(words, local) in output, output
    assert "Traceback" not in output, output
    assert 'File "' not in output, output
    if case.code == 2 and case.config is not None:
        # one line per problem after the heading, and nothing was started
        problems = [line for line in result.stderr.splitlines() if line.startswith("  ")]
        assert len(problems) == int(output.split("(")[1].split(" problem")[0]), output
    assert result.seconds < SERVER_WAIT_SECONDS, f"{case.name} took {result.seconds:.0f} s"


def test_verbose_shows_the_traceback_as_well(places, tmp_path):
    case = next(c for c in CASES if c.name == "an output folder that cannot be written")
    result = run_case(case, places, tmp_path, "--verbose")
    assert result.code == 1
    assert "Traceback" in result.stderr
    assert "cannot write there" in result.stderr


def test_config_check_prints_the_configuration_in_force_and_what_changed(places, tmp_path):
    case = Case(
        "a good file",
        ("config", "check", "{config}"),
        0,
        (),
        config="[threshold]\nmin_consecutive_months = 4\n",
    )
    result = run_case(case, places, tmp_path)
    assert result.code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "[threshold]" in lines and "[report]" in lines  # every section, defaults included
    changed = [line for line in lines if "# changed by" in line]
    assert len(changed) == 1 and changed[0].startswith("min_consecutive_months = 4 ")
    assert "(default 3)" in changed[0]
    assert "changes 1 setting: [threshold] min_consecutive_months 3 -> 4" in lines[-1]


def test_the_flow_refuses_a_wrong_file_in_the_same_lines_as_the_command_line(finished, places):
    """The configuration is read again inside the flow (a served deployment passes the file):
    the flow raises the same one-line refusals the command line prints."""
    from pipelines.config import ConfigError
    from pipelines.flows import nightly_scoring

    case = next(c for c in CASES if c.name == "three problems at once, for training")
    folder = places["root"] / f"case-{CASES.index(case)}"
    with pytest.raises(ConfigError) as refused:
        nightly_scoring.fn(
            export=places["export"],
            out=str(folder / "out"),
            config_file=str(folder / "provider.toml"),
        )
    printed = [line.strip() for line in finished[case.name].stderr.splitlines()]
    assert refused.value.problems and all(p in printed for p in refused.value.problems)
    assert not (folder / "out" / "runs").exists()


def test_every_command_reports_its_failures_through_one_path():
    from pipelines.cli import app

    def commands(group):
        yield from group.registered_commands
        for sub in group.registered_groups:
            yield from commands(sub.typer_instance)

    found = list(commands(app))
    assert len(found) >= 8
    for registered in found:
        assert getattr(registered.callback, "reports_failures", False), registered.callback


def test_a_library_message_never_reaches_the_user_alone():
    from sklearn.preprocessing import LabelEncoder

    from pipelines.failures import explained
    from pipelines.stages import require_enough_history

    with pytest.raises(ValueError) as library:
        LabelEncoder().fit([0, 1]).transform([2])
    code, lines = explained(library.value)
    assert code == 1
    assert lines[0].startswith("takehold stopped by an unexpected error: ValueError: y contains")
    assert "--verbose" in lines[1]
    with pytest.raises(ValueError) as ours:
        require_enough_history(_no_snapshots(), date(2026, 10, 31), _config())
    assert explained(ours.value) == (1, [f"takehold stopped: {ours.value}"])
    assert "the export has no labelled snapshot" in str(ours.value)


def _no_snapshots():
    import pandas as pd

    return pd.DataFrame(
        {"improvement_id": [], "as_of": pd.to_datetime([]), "location_id": [], "held": []}
    )


def _config():
    from contracts.params import RunConfig

    return RunConfig()


def test_tasks_that_ask_a_server_do_not_retry_one_that_did_not_answer():
    """The client's bounded retries are spent by then: a task retry would triple the wait."""
    from prefect.states import Failed

    from pipelines.config import ServerUnavailable
    from pipelines.flows import unless_a_server_is_silent

    assert unless_a_server_is_silent(None, None, Failed(data=ServerUnavailable("x"))) is False
    assert unless_a_server_is_silent(None, None, Failed(data=RuntimeError("x"))) is True
