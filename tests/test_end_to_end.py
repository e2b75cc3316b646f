"""End to end: simulate a small group, train, score, with the real Prefect, GX and MLflow.

One training run per session (a light but real configuration), then scoring runs that check
the promises of the nightly run: the outputs and their columns, reconciled counts, safe
publishing when a stage fails, identical scores on a re-run, a blocked export that writes no
new scores, and the Dask runner giving the same scores as the local one.
"""

from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from contracts.tables import SCORES
from models.promotion import decide_promotion
from pipelines.config import load_run_config, load_settings, prepare_environment
from pipelines.stages import BlockedExport

pytestmark = pytest.mark.slow

RUN_DAY = date(2026, 11, 26)
# Flows take plain values: the light configuration goes in as setting overrides.
LIGHT_OVERRIDES = {
    "model": {"band_refits": 2, "backtest_peers": ["ga2m", "rules_stage"], "replay_cutoffs": 1}
}
LIGHT = load_run_config(None, LIGHT_OVERRIDES)


@pytest.fixture(scope="session")
def demo(tmp_path_factory, harness):
    """A simulated export and a registered champion trained on it."""
    from pipelines.flows import train_model
    from simulator import simulate_group, write_simulation

    root = tmp_path_factory.mktemp("e2e")
    simulation = simulate_group(16, 2.5, seed=21, truth_draws=10)
    export_dir, _ = write_simulation(simulation, root / "demo")
    environment = pytest.MonkeyPatch()
    # The flows read their settings from the environment, as a served deployment does.
    environment.setenv("TAKEHOLD_HOME", str(root / "home"))
    environment.delenv("MLFLOW_TRACKING_URI", raising=False)
    settings = load_settings()
    prepare_environment(settings)
    trained = train_model(
        export=str(export_dir),
        as_of=simulation.end,
        config_overrides=LIGHT_OVERRIDES,
        today=RUN_DAY,
    )
    yield {
        "export": export_dir,
        "as_of": simulation.end,
        "settings": settings,
        "trained": trained,
        "root": root,
    }
    environment.undo()


def score(demo, out: Path, **options):
    from pipelines.flows import nightly_scoring

    return nightly_scoring(
        export=str(options.pop("export", demo["export"])),
        out=str(out),
        as_of=demo["as_of"],
        config_overrides=options.pop("config_overrides", LIGHT_OVERRIDES),
        today=RUN_DAY,
        **options,
    )


def test_training_registers_a_champion_with_its_replay_evaluation(demo):
    trained = demo["trained"]
    assert trained["promoted"] is True
    assert trained["version"] == "1"
    pooled = time_split(trained["replay"].pooled)
    assert {"ga2m", "rules_stage"} <= set(pooled.index)
    assert 0.5 < pooled.loc["ga2m", "auroc"] <= 1


def time_split(pooled: pd.DataFrame) -> pd.DataFrame:
    return pooled[pooled["split"] == "time"].set_index("model")


@pytest.fixture(scope="module")
def nightly(demo, tmp_path_factory):
    """One complete nightly run, report included, shared by the tests that read its outputs."""
    out = tmp_path_factory.mktemp("nightly") / "out"
    return score(demo, out), out


def test_a_nightly_run_writes_every_output_with_reconciled_counts(nightly):
    run, out = nightly
    scores = pd.read_parquet(out / "scores.parquet")
    assert list(scores.columns) == list(SCORES.column_names)
    assert scores["improvement_id"].is_unique
    assert scores["p_hold"].between(0, 1).all()
    assert (scores["p_hold_low"] <= scores["p_hold"]).all()
    assert (scores["p_hold"] <= scores["p_hold_high"]).all()
    assert set(scores["stage"]) <= {
        "not_started",
        "emerging",
        "consolidating",
        "embedded",
        "slipping",
    }
    assert (scores["model_version"] == "1").all()
    services = pd.read_csv(out / "services.csv")
    assert services["rank"].tolist() == list(range(1, len(services) + 1))
    assert services["priority_score"].is_monotonic_decreasing
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["run_id"] == run.run_id
    for name, counts in manifest["counts"].items():
        assert counts["read"] == counts["used"] + counts["set_aside"] + counts["quarantined"], name
    assert manifest["inputs"]["checks"]["rows"] == manifest["counts"]["checks"]["read"]
    assert manifest["model"] == {
        **manifest["model"],
        "name": "takehold",
        "version": "1",
        "alias": "champion",
        "scored_by": "own",
    }
    assert "the provider group's own model (version 1" in manifest["model"]["scored_by_because"]
    assert "AUROC" in manifest["model"]["scored_by_because"]
    assert manifest["config"]["threshold"]["min_consecutive_months"] == 3
    assert set(manifest["timings"]) >= {"validate", "features, score, rules", "report"}
    assert (out / "report.html").stat().st_size > 10_000
    assert (out / "model" / "model_card.md").exists()
    assert (out / "runs" / run.run_id / "scores.csv").exists()


def test_every_table_is_written_as_declared_and_the_report_reads_only_that(nightly):
    """The run writes each declared table with exactly its declared columns, and the report's
    reader finds every column it shows in what the run wrote (review_overdue once was not)."""
    from contracts.tables import OUTPUT_TABLES
    from models.ga2m import MODEL_FEATURES
    from report.reading import read_run_outputs

    _, out = nightly
    written = {}
    for table in OUTPUT_TABLES:
        features = list(MODEL_FEATURES) if table.feature_columns else []
        for name in table.files:
            path = out / name
            frame = pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path)
            assert list(frame.columns) == [*table.column_names, *features], name
            written[table.name] = frame
    outputs = read_run_outputs(out)
    for table in ("scores", "services", "monthly", "timeline", "contributions"):
        frame = getattr(outputs, table)
        assert frame.notna().any().all(), [c for c in frame.columns if frame[c].isna().all()]
    assert written["scores"]["review_overdue"].notna().all()


def test_free_text_never_reaches_an_output(demo, nightly):
    feedback = pd.read_csv(demo["export"] / "feedback.csv")
    phrases = [t for t in feedback["text"].dropna().unique() if len(t) > 25][:20]
    assert phrases, "the simulator writes free text"
    run_folder = (nightly[1] / "current").resolve()
    for path in run_folder.rglob("*"):
        if path.is_file() and path.suffix in {".csv", ".json", ".html", ".md"}:
            text = path.read_text(errors="ignore")
            assert not any(p in text for p in phrases), path


def test_two_runs_give_identical_scores(demo, tmp_path):
    score(demo, tmp_path / "a", report=False)
    score(demo, tmp_path / "b", report=False)
    first = pd.read_parquet(tmp_path / "a" / "scores.parquet")
    second = pd.read_parquet(tmp_path / "b" / "scores.parquet")
    pd.testing.assert_frame_equal(first, second)
    assert (tmp_path / "a" / "scores.csv").read_bytes() == (
        tmp_path / "b" / "scores.csv"
    ).read_bytes()


def test_a_failing_stage_leaves_the_previous_outputs_untouched(demo, tmp_path, monkeypatch):
    import report

    out = tmp_path / "out"
    first = score(demo, out, report=False)
    before = (out / "scores.csv").read_bytes()

    def report_fails(folder, **settings):
        raise RuntimeError("the report stage failed")

    monkeypatch.setattr(report, "build_report", report_fails)
    with pytest.raises(RuntimeError, match="report stage failed"):
        score(demo, out)
    assert (out / "current").resolve().name == first.run_id
    assert (out / "scores.csv").read_bytes() == before
    assert len(list((out / "runs").iterdir())) == 2  # the failed run's folder stays for a look


def test_a_blocked_export_stops_and_writes_no_new_scores(demo, tmp_path):
    broken = tmp_path / "broken"
    shutil.copytree(demo["export"], broken)
    services = pd.read_csv(broken / "services.csv", dtype=str)
    pd.concat([services, services.head(1)]).to_csv(broken / "services.csv", index=False)
    out = tmp_path / "out"
    first = score(demo, out, report=False)
    with pytest.raises(BlockedExport) as blocked:
        score(demo, out, export=broken)
    assert "services" in str(blocked.value)
    assert "location_id" in str(blocked.value)
    assert (out / "current").resolve().name == first.run_id
    failed = [p for p in (out / "runs").iterdir() if p.name != first.run_id]
    assert len(failed) == 1
    assert not (failed[0] / "scores.csv").exists()
    assert json.loads((failed[0] / "validation.json").read_text())["blocked"] is True


def score_command_exit_code(demo, export: Path, out: Path, monkeypatch) -> int:
    """`takehold score EXPORT --out OUT` as the command line runs it (local runner, one
    partition, no report options): its exit code."""
    from pipelines import runs
    from pipelines.failures import exit_code

    monkeypatch.setenv("TAKEHOLD_HOME", str(demo["settings"].home))
    return exit_code(
        lambda: runs.score_command(
            str(export), out, demo["as_of"], None, "local", None, 1, None, False
        ),
        verbose=False,
    )


def test_the_score_command_exits_1_on_a_blocked_export(demo, tmp_path, monkeypatch):
    broken = tmp_path / "broken"
    shutil.copytree(demo["export"], broken)
    (broken / "improvements.csv").write_text("improvement_id\n")
    code = score_command_exit_code(demo, broken, tmp_path / "out", monkeypatch)
    assert code == 1
    assert not (tmp_path / "out" / "scores.csv").exists()


def test_partitioned_scoring_gives_the_same_scores(demo, tmp_path):
    score(demo, tmp_path / "one", partitions=1, report=False)
    score(demo, tmp_path / "four", partitions=4, report=False)
    pd.testing.assert_frame_equal(
        pd.read_parquet(tmp_path / "one" / "scores.parquet"),
        pd.read_parquet(tmp_path / "four" / "scores.parquet"),
    )


def test_the_dask_runner_gives_the_same_scores_as_the_local_one(demo, tmp_path):
    from prefect_dask import DaskTaskRunner

    from pipelines.flows import nightly_scoring

    score(demo, tmp_path / "local", report=False)
    runner = DaskTaskRunner(
        cluster_kwargs={
            "n_workers": 2,
            "threads_per_worker": 1,
            "processes": True,
            "dashboard_address": None,
        }
    )
    nightly_scoring.with_options(task_runner=runner)(
        export=str(demo["export"]),
        out=str(tmp_path / "dask"),
        as_of=demo["as_of"],
        config_overrides=LIGHT_OVERRIDES,
        today=RUN_DAY,
        partitions=4,
        report=False,
    )
    pd.testing.assert_frame_equal(
        pd.read_parquet(tmp_path / "local" / "scores.parquet"),
        pd.read_parquet(tmp_path / "dask" / "scores.parquet"),
    )


def test_the_sql_sink_appends_each_run(demo, tmp_path):
    import sqlite3

    sink = tmp_path / "history.db"
    first = score(demo, tmp_path / "out", history_url=str(sink), report=False)
    second = score(demo, tmp_path / "out", history_url=str(sink), report=False)
    with sqlite3.connect(sink) as connection:
        runs_seen = connection.execute(
            "select run_id, count(*) from scores group by run_id"
        ).fetchall()
        ranked = connection.execute("select count(*) from service_rankings").fetchone()[0]
    assert {r for r, _ in runs_seen} == {first.run_id, second.run_id}
    assert ranked > 0


def test_promotion_refuses_a_worse_model_and_keeps_the_champion(demo):
    from pipelines import tracking

    settings = demo["settings"]
    champion = tracking.champion(settings)
    worse = {k: v for k, v in champion.metrics.items()}
    worse["replay.ga2m.auroc"] -= 0.05
    decision = decide_promotion(
        worse,
        champion.metrics,
        champion.feature_names,
        champion.feature_names,
        auroc_key="replay.ga2m.auroc",
        brier_key="replay.ga2m.brier",
        tolerance=0.005,
    )
    assert not decision.promote
    assert "below the champion" in decision.reason


def test_a_lower_bar_config_changes_stages_and_is_recorded(demo, tmp_path):
    easy = {
        **LIGHT_OVERRIDES,
        "threshold": {
            "min_consecutive_months": 1,
            "min_evidence_categories": 1,
            "require_peoples_experience": False,
            "min_teams_meeting_share": 0.0,
            # consolidating may not ask more than embedded (a rule across settings)
            "consolidating_min_consecutive_months": 1,
            "consolidating_min_evidence_categories": 1,
        },
    }
    strict = score(demo, tmp_path / "strict", report=False)
    lenient = score(demo, tmp_path / "lenient", report=False, config_overrides=easy)
    assert lenient.manifest["config"]["threshold"]["min_consecutive_months"] == 1
    a = pd.read_parquet(tmp_path / "strict" / "scores.parquet")
    b = pd.read_parquet(tmp_path / "lenient" / "scores.parquet")
    order = {"not_started": 0, "slipping": 1, "emerging": 2, "consolidating": 3, "embedded": 4}
    assert (b["stage"] == "embedded").sum() >= (a["stage"] == "embedded").sum()
    assert strict.manifest["config"]["threshold"]["min_consecutive_months"] == 3
    assert set(order) >= set(b["stage"])


def test_the_gate_compares_with_the_champion_on_the_same_folds(demo):
    """Same specification: the candidate's backtest is the champion's on this data. Another
    specification: the champion's is re-run on the same folds and both are in the backtest."""
    from pipelines import tracking
    from pipelines.flows import train_model

    settings = demo["settings"]
    common = {"export": str(demo["export"]), "as_of": demo["as_of"], "today": RUN_DAY}
    before = tracking.champion(settings)
    same = train_model(config_overrides=LIGHT_OVERRIDES, **common)
    assert same["promoted"], same["reason"]
    assert f"same specification as champion v{before.version}" in same["reason"]
    assert "champion" not in set(same["replay"].pooled["model"])

    other = {"model": {**LIGHT_OVERRIDES["model"], "random_state": 1}}
    champion = tracking.champion(settings)
    rerun = train_model(config_overrides=other, **common)
    pooled = time_split(rerun["replay"].pooled)
    assert {"ga2m", "champion"} <= set(pooled.index)
    assert f"champion v{champion.version}'s specification re-run" in rerun["reason"]
    drop = pooled.loc["champion", "auroc"] - pooled.loc["ga2m", "auroc"]
    rise = pooled.loc["ga2m", "brier"] - pooled.loc["champion", "brier"]
    assert rerun["promoted"] is bool(drop <= 0.005 and rise <= 0.005)


def test_a_partition_hands_its_tables_over_and_scores_the_same(demo):
    """score_partition takes its partition's tables (the partition holds nothing after) and
    leaves the caller's own dict as it was; the answers do not depend on who held what."""
    from contracts.files import HandedTables
    from pipelines import stages, tracking
    from pipelines.io import read_export

    checked = stages.validate_or_block(
        read_export(str(demo["export"])), demo["as_of"], LIGHT, RUN_DAY
    )
    model, champion = tracking.load_champion_model(demo["settings"])
    mine = dict(checked.tables)
    first, second = HandedTables(mine), HandedTables(mine)
    expected = stages.score_partition(first, demo["as_of"], model, champion.version, LIGHT)
    got = stages.score_partition(second, demo["as_of"], model, champion.version, LIGHT)
    assert first.names() == () and second.names() == ()
    assert set(mine) == set(checked.tables)
    for name in ("scores", "contributions", "monthly", "timeline"):
        pd.testing.assert_frame_equal(getattr(got, name), getattr(expected, name))
    assert len(got.monthly) > 0


# --- governance over time: the run history, trends, comparison, sign-off, alerts, retention -----


def night(demo, out: Path, as_of: date, history: Path, **options):
    from pipelines.flows import nightly_scoring

    return nightly_scoring(
        export=str(demo["export"]),
        out=str(out),
        as_of=as_of,
        config_overrides=options.pop("config_overrides", LIGHT_OVERRIDES),
        history_url=str(history),
        today=RUN_DAY,
        **options,
    )


def test_three_nights_give_trends_a_quarter_comparison_reasons_and_a_signoff(demo, tmp_path):
    """One night a quarter earlier (scored by the champion), then two consecutive nights scored
    by a newly trained model version; a sign-off; the report rebuilt in governance mode. The
    history database and the report both show what the issue promises."""
    import sqlite3
    from datetime import timedelta

    from models.promotion import PromotionDecision
    from pipelines import runs, tracking
    from pipelines.flows import train_model

    settings, end = demo["settings"], demo["as_of"]
    out, history = tmp_path / "out", tmp_path / "history.db"
    quarter_day = (pd.Timestamp(end) - pd.DateOffset(months=3)).date()
    assert pd.Timestamp(quarter_day).to_period("Q") < pd.Timestamp(end).to_period("Q")
    champion = tracking.champion(settings)
    quarter = night(demo, out, quarter_day, history)
    retrained = train_model(
        export=str(demo["export"]),
        as_of=end,
        config_overrides={"model": {**LIGHT_OVERRIDES["model"], "random_state": 3}},
        today=RUN_DAY,
    )
    assert retrained["version"] != champion.version
    tracking.apply_promotion(settings, retrained["version"], PromotionDecision(True, "test"))
    try:
        first = night(demo, out, end - timedelta(days=1), history)
        second = night(demo, out, end, history)
    finally:
        tracking.apply_promotion(settings, champion.version, PromotionDecision(True, "restored"))

    # A sign-off is recorded and changes no score.
    scores_file = (out / "scores.parquet").read_bytes()
    with sqlite3.connect(history) as connection:
        before = connection.execute(
            "select * from scores where run_id = ? order by improvement_id", (second.run_id,)
        ).fetchall()
    assert (
        runs.signoff_command(out, "A. Analyst", "Reviewed for Q4 governance", None, str(history))
        == 0
    )
    assert (out / "scores.parquet").read_bytes() == scores_file
    assert runs.report_command(out, "previous_quarter", str(history), 150, 30, 1) == 0
    assert (out / "scores.parquet").read_bytes() == scores_file

    with sqlite3.connect(history) as connection:
        sql = connection.execute
        after = sql(
            "select * from scores where run_id = ? order by improvement_id", (second.run_id,)
        ).fetchall()
        recorded = sql(
            "select run_id, as_of, model_version, out from runs order by as_of"
        ).fetchall()
        per_run = dict(sql("select run_id, count(*) from scores group by run_id").fetchall())
        triggers = sql(
            "select count(*) from triggers where run_id = ?", (second.run_id,)
        ).fetchone()
        files = sql(
            "select count(*) from input_files where run_id = ?", (second.run_id,)
        ).fetchone()
        warned = sql("select run_id, kind from warnings order by run_id").fetchall()
        signed = sql("select run_id, signed_by, note from signoffs").fetchall()
    assert after == before
    assert [r[0] for r in recorded] == [quarter.run_id, first.run_id, second.run_id]
    assert [r[1][:10] for r in recorded] == [
        str(quarter_day),
        str(end - timedelta(days=1)),
        str(end),
    ]
    assert [r[2] for r in recorded] == [
        champion.version,
        retrained["version"],
        retrained["version"],
    ]
    assert {r[3] for r in recorded} == {str(out.resolve())}
    scores = pd.read_parquet(out / "scores.parquet")
    assert per_run[second.run_id] == len(scores)
    assert (
        triggers[0]
        == scores["triggers"]
        .fillna("")
        .str.split("; ")
        .map(lambda items: len([t for t in items if t]))
        .sum()
    )
    assert files[0] == len(second.manifest["inputs"])
    # The same export three times: the two later nights are warned that it was not refreshed.
    assert warned == [(first.run_id, "identical_export"), (second.run_id, "identical_export")]
    assert signed == [(second.run_id, "A. Analyst", "Reviewed for Q4 governance")]

    page = (out / "report.html").read_text(encoding="utf-8")
    assert "What changed since the last run before this quarter (Q4 2026) began, and why" in page
    assert f"Compared with run <strong>{quarter.run_id}</strong>" in page
    assert f"Over 3 runs since {pd.Timestamp(quarter_day):%d %b %Y}" in page  # trends
    assert "A. Analyst" in page and "Reviewed for Q4 governance" in page  # sign-off
    assert "identical, file for file" in page  # the warning about the input

    # Why it moved: a new model and new evidence, split exactly.
    tables = out / "tables"
    moves = pd.read_csv(tables / "why_it_moved.csv", encoding="utf-8-sig")
    terms = pd.read_csv(tables / "why_it_moved_terms.csv", encoding="utf-8-sig")
    assert len(moves) > 0 and set(terms["improvement_id"]) == set(moves["improvement_id"])
    assert set(moves["moved_by"]) <= {"new evidence", "a new model", "new evidence and a new model"}
    assert (moves["evidence_change"] + moves["model_change"] - moves["change"]).abs().max() < 1e-9
    assert (moves["model_change"].abs() > 1e-6).any()  # the model did change
    # The split, recomputed from the artifacts: the earlier model on tonight's evidence.
    earlier_model = tracking.load_model_version(settings, champion.version)
    inputs = pd.read_parquet(out / "model_inputs.parquet").set_index("improvement_id")
    moved = moves.set_index("improvement_id")
    middle = earlier_model.predict_proba(inputs.loc[moved.index])[:, 1]
    then = pd.read_parquet(out / "runs" / quarter.run_id / "scores.parquet").set_index(
        "improvement_id"
    )["p_hold"]
    expected = middle - then.loc[moved.index].to_numpy()
    assert (moved["evidence_change"].to_numpy() - expected).max() < 1e-9


def test_a_failed_run_leaves_nothing_in_the_history_and_raises_a_local_alert(
    demo, tmp_path, monkeypatch
):
    import json as json_module
    import sqlite3

    import report

    out, history = tmp_path / "out", tmp_path / "history.db"
    first = night(demo, out, demo["as_of"], history, report=False)

    def report_fails(folder, **settings):
        raise RuntimeError("the report stage failed")

    monkeypatch.setattr(report, "build_report", report_fails)
    with pytest.raises(RuntimeError, match="report stage failed"):
        night(demo, out, demo["as_of"], history)
    with sqlite3.connect(history) as connection:
        assert connection.execute("select run_id from runs").fetchall() == [(first.run_id,)]
        assert connection.execute("select count(distinct run_id) from scores").fetchone() == (1,)
    alert = json_module.loads(demo["settings"].alert_log.read_text().splitlines()[-1])
    assert alert["kind"] == "failed"
    assert alert["out"] == str(out)
    assert "the report stage failed" in alert["message"]


def test_a_blocked_export_is_alerted_as_blocked_and_the_command_says_where(
    demo, tmp_path, monkeypatch, capsys
):
    import json as json_module

    broken = tmp_path / "broken"
    shutil.copytree(demo["export"], broken)
    services = pd.read_csv(broken / "services.csv", dtype=str)
    pd.concat([services, services.head(1)]).to_csv(broken / "services.csv", index=False)
    code = score_command_exit_code(demo, broken, tmp_path / "out", monkeypatch)
    assert code == 1
    alert = json_module.loads(demo["settings"].alert_log.read_text().splitlines()[-1])
    assert alert["kind"] == "blocked"
    assert "services" in alert["message"] and "location_id" in alert["message"]
    printed = capsys.readouterr()
    assert str(demo["settings"].alert_log) in (printed.out + printed.err).replace("\n", "")


def test_retention_keeps_the_last_runs_and_never_the_history(demo, tmp_path):
    import sqlite3

    out, history = tmp_path / "out", tmp_path / "history.db"
    keep_one = {**LIGHT_OVERRIDES, "retention": {"keep_last_runs": 1, "keep_quarter_ends": False}}
    first = night(demo, out, demo["as_of"], history, report=False, config_overrides=keep_one)
    second = night(demo, out, demo["as_of"], history, report=False, config_overrides=keep_one)
    assert [p.name for p in (out / "runs").iterdir()] == [second.run_id]
    assert (out / "current").resolve().name == second.run_id
    with sqlite3.connect(history) as connection:
        kept = connection.execute("select run_id from runs order by finished_at").fetchall()
    assert kept == [(first.run_id,), (second.run_id,)]


def test_a_worked_example_read_through_the_nightly_flow_with_the_champion(demo, tmp_path):
    """Example 1a of shared/spec/worked-examples.md through the real flow (Prefect, GX, the
    registered champion from MLflow), as `takehold score` runs it."""
    from test_worked_examples import one_good_audit_cycle

    from pipelines.flows import nightly_scoring

    export = one_good_audit_cycle().write(tmp_path / "export")
    nightly_scoring(
        export=str(export), out=str(tmp_path / "out"), as_of=date(2026, 10, 31), today=RUN_DAY
    )
    scores = pd.read_csv(tmp_path / "out" / "scores.csv").set_index("improvement_id")
    row = scores.loc["DOC-1"]
    assert (row["stage"], row["claim_check"]) == ("emerging", "overclaim")
    assert row["triggers"] == "uneven_results_between_teams; weak_staff_understanding"
    assert "Team B below the standard" in row["trigger_reasons"]
    teams = pd.read_csv(tmp_path / "out" / "tables" / "teams.csv")
    assert set(teams["team"]) == {"Team A", "Team B"}
    report = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    assert "Team B below the standard" in report
    assert "uneven_results_between_teams" not in report
