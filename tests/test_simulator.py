"""The demo provider-group simulator: determinism, the contract, the mechanisms, the truth.

One seeded group (module fixture) serves the rule, mechanism and truth tests; determinism
uses a smaller one. Every check is plain pandas/numpy on the generated frames.
"""

from __future__ import annotations

import re
from datetime import date

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from contracts.export import (
    EARLIEST_DATE,
    EXPORT_FILES,
    FILES_BY_NAME,
    ID_PATTERN,
    PRIMARY_CHECK_SOURCES,
)
from pipelines.io import read_export, team_key
from simulator import Simulation, simulate_group, write_simulation
from simulator.words import FIRST_NAMES

# The files the simulator writes: every file of the contract but `actions` (contract v2),
# which the simulator does not draw yet (issue 15 adds it).
SIMULATED_FILES = EXPORT_FILES  # the simulator writes every file of the contract

END = date(2026, 10, 31)


@pytest.fixture(scope="module")
def sim() -> Simulation:
    return simulate_group(20, 2.5, seed=5, truth_as_of="monthly", truth_draws=30)


@pytest.fixture(scope="module")
def labelled(sim) -> pd.DataFrame:
    """Eligible truth rows with an observed realised label (the spec's training rows)."""
    truth = sim.truth
    rows = truth[truth["eligible"] & truth["held_realised"].notna()]
    return rows.assign(held=rows["held_realised"].astype(float))


@pytest.fixture(scope="module")
def monthly(sim) -> pd.DataFrame:
    """Monthly pooled compliance of primary checks per improvement (the label's step 1)."""
    checks = sim.frames["checks"]
    primary = checks[checks["source"].isin(PRIMARY_CHECK_SOURCES)]
    out = (
        primary.assign(month=primary["checked_on"].dt.to_period("M"))
        .groupby(["improvement_id", "month"], observed=True)[["sampled", "met"]]
        .sum()
        .reset_index()
    )
    standard = sim.frames["improvements"].set_index("improvement_id")["standard"]
    return out.assign(
        compliance=out["met"] / out["sampled"],
        standard=out["improvement_id"].map(standard).to_numpy(),
    )


# --- determinism ---------------------------------------------------------------------------


def _written_bytes(tmp_path, name, seed, fmt) -> dict[str, bytes]:
    export_dir, truth_dir = write_simulation(
        simulate_group(6, 1, seed=seed, truth_draws=5), tmp_path / name, fmt
    )
    files = sorted([*export_dir.iterdir(), *truth_dir.iterdir()])
    return {f.name: f.read_bytes() for f in files}


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_same_seed_writes_byte_identical_files(tmp_path, fmt):
    first = _written_bytes(tmp_path, "a", 3, fmt)
    second = _written_bytes(tmp_path, "b", 3, fmt)
    assert len(first) == 11 and first == second  # nine export files, truth and its README
    other = _written_bytes(tmp_path, "c", 4, fmt)
    assert other[f"checks.{fmt}"] != first[f"checks.{fmt}"]


def test_truth_is_written_beside_the_export_never_inside(tmp_path, sim):
    export_dir, truth_dir = write_simulation(sim, tmp_path / "out")
    assert sorted(p.name for p in export_dir.iterdir()) == sorted(
        f"{f.name}.csv" for f in SIMULATED_FILES
    )
    assert {p.name for p in truth_dir.iterdir()} == {"truth.parquet", "README.md"}
    assert not truth_dir.is_relative_to(export_dir)


# --- the contract ----------------------------------------------------------------------------


def _violations(frames: dict[str, pd.DataFrame]) -> dict[str, int]:
    """Rows breaking each spec rule (0 everywhere for a valid export)."""
    s, imp, chk = frames["services"], frames["improvements"], frames["checks"]
    fb, inc, wf, rev = (frames[n] for n in ("feedback", "incidents", "workforce", "reviews"))
    out = {}
    for spec in SIMULATED_FILES:
        frame = frames[spec.name]
        out[f"{spec.name}: exact columns"] = int(list(frame.columns) != list(spec.column_names))
        out[f"{spec.name}: unique key"] = int(frame.duplicated(list(spec.key)).sum())
        for column in spec.columns:
            values = frame[column.name]
            if column.required:
                out[f"{spec.name}.{column.name}: required"] = int(values.isna().sum())
            present = values.dropna()
            if column.vocabulary:
                allowed = {str(v) for v in column.vocabulary}
                out[f"{spec.name}.{column.name}: vocabulary"] = int(
                    (~present.astype(str).isin(allowed)).sum()
                )
            if column.kind == "date":
                out[f"{spec.name}.{column.name}: date range"] = int(
                    (
                        (present < pd.Timestamp(EARLIEST_DATE))
                        | ((present > pd.Timestamp(END)) & (not column.future_allowed))
                    ).sum()
                )
            if column.pattern:
                out[f"{spec.name}.{column.name}: ID form"] = int(
                    (~present.str.fullmatch(column.pattern)).sum()
                )
            if column.references:
                file, key = column.references
                out[f"{spec.name}.{column.name}: resolves"] = int(
                    (~present.isin(frames[file][key])).sum()
                )
    out["location IDs are CQC form"] = int((~s["location_id"].str.fullmatch(r"1-\d{9,11}")).sum())
    out["beds >= 0"] = int((s["beds"] < 0).sum())
    out["standard in (0, 1]"] = int(((imp["standard"] <= 0) | (imp["standard"] > 1)).sum())
    out["action_started_on >= identified_on"] = int(
        (imp["action_started_on"] < imp["identified_on"]).sum()
    )
    out["declared_on set iff declared_status set"] = int(
        (imp["declared_on"].isna() != imp["declared_status"].isna()).sum()
    )
    out["sampled >= 1"] = int((chk["sampled"] < 1).sum())
    out["0 <= met <= sampled"] = int(((chk["met"] < 0) | (chk["met"] > chk["sampled"])).sum())
    out["0 <= repeat_gaps <= sampled - met"] = int(
        ((chk["repeat_gaps"] < 0) | (chk["repeat_gaps"] > chk["sampled"] - chk["met"])).sum()
    )
    out["prompts_needed >= 0"] = int((chk["prompts_needed"] < 0).sum())
    out["self_rated_confidence in [1, 5]"] = int(
        ((chk["self_rated_confidence"] < 1) | (chk["self_rated_confidence"] > 5)).sum()
    )
    out["rating in 1..5"] = int(((fb["rating"] < 1) | (fb["rating"] > 5)).sum())
    out["week_start a Monday"] = int((wf["week_start"].dt.dayofweek != 0).sum())
    out["shifts >= 0"] = int(
        (wf[["shifts_planned", "shifts_agency", "shifts_unfilled"]] < 0).any(axis=1).sum()
    )
    out["agency + unfilled <= planned"] = int(
        (wf["shifts_agency"] + wf["shifts_unfilled"] > wf["shifts_planned"]).sum()
    )
    out["leavers >= 0"] = int((wf["leavers"] < 0).sum())
    out["keyworker_continuity in [0, 1]"] = int(
        ((wf["keyworker_continuity"] < 0) | (wf["keyworker_continuity"] > 1)).sum()
    )
    out["incident dated on or after... any date"] = int(inc["occurred_on"].isna().sum())
    out["review dated on or after identification"] = int(
        (
            rev.merge(imp, on="improvement_id").pipe(
                lambda r: r["reviewed_on"] < r["identified_on"]
            )
        ).sum()
    )
    return out


def test_every_spec_rule_holds_on_the_generated_frames(sim):
    broken = {rule: n for rule, n in _violations(sim.frames).items() if n}
    assert broken == {}


def test_every_file_has_rows_and_optional_columns_are_used(sim):
    for spec in SIMULATED_FILES:
        assert len(sim.frames[spec.name]) > 0, spec.name
    checks = sim.frames["checks"]
    assert checks["repeat_gaps"].notna().any() and checks["prompts_needed"].notna().any()
    assert checks["self_rated_confidence"].notna().any()
    assert sim.frames["improvements"]["action_started_on"].isna().any()  # never acted on


@pytest.mark.parametrize(
    ("rule", "column"),
    [("checked_on after end", "checked_on"), ("met above sampled", "met")],
)
def test_the_rule_checker_can_fail(sim, rule, column):
    checks = sim.frames["checks"].copy()
    if column == "checked_on":
        checks.loc[checks.index[0], column] = pd.Timestamp("2027-01-01")
    else:
        checks.loc[checks.index[0], column] = checks.loc[checks.index[0], "sampled"] + 1
    broken = {k: v for k, v in _violations({**sim.frames, "checks": checks}).items() if v}
    assert broken, rule


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_the_loader_reads_the_written_export_cleanly(tmp_path, fmt):
    simulation = simulate_group(5, 1, seed=9, truth_draws=3)
    export_dir, _ = write_simulation(simulation, tmp_path, fmt)
    export = read_export(str(export_dir))
    assert export.absent == ()
    for name, loaded in export.files.items():
        assert loaded.parse_problems.empty, name
        assert loaded.missing_columns == () and loaded.ignored_columns == ()
        assert loaded.rows == len(simulation.frames[name])
    checks = export.frame("checks").reset_index(drop=True)
    expected = simulation.frames["checks"].reset_index(drop=True)
    # The loader joins the team spellings the imperfect-links knob writes ("ROSE WING" for
    # "Rose Wing"): one spelling per team, the same team on every row.
    keys = expected["team"].astype("str").map(team_key)
    assert (checks["team"].astype("str").map(team_key) == keys).all()
    assert checks.groupby(keys.to_numpy())["team"].nunique().max() == 1
    assert expected.groupby(keys.to_numpy())["team"].nunique().max() > 1
    pd.testing.assert_frame_equal(
        checks.drop(columns="team"),
        expected.drop(columns="team"),
        check_dtype=False,
        check_categorical=False,
    )


def test_frames_are_typed_like_the_loader(sim):
    for spec in SIMULATED_FILES:
        frame = sim.frames[spec.name]
        for column in spec.date_columns:
            assert frame[column].dtype == "datetime64[ns]", (spec.name, column)
    assert str(sim.frames["checks"]["met"].dtype) == "Int64"
    assert isinstance(sim.frames["improvements"]["theme"].dtype, pd.CategoricalDtype)


def test_some_feedback_text_names_an_invented_person(sim):
    text = sim.frames["feedback"]["text"].dropna()
    named = text.str.contains("|".join(FIRST_NAMES))
    assert 0.05 < named.mean() < 0.6


@pytest.mark.parametrize("bad", [date(2026, 10, 15), date(2027, 1, 31)])
def test_truth_as_of_must_be_a_month_end_inside_the_run(bad):
    with pytest.raises(ValueError, match="month-end"):
        simulate_group(3, 1, seed=1, truth_as_of=[bad], truth_draws=2)


def test_the_default_truth_is_at_the_replays_cutoffs():
    """The dates `takehold train` replays at the export's end (ModelSettings: 4 cutoffs, 3
    months apart, the last whose window has closed); the last month-end when none has."""
    from contracts.params import ModelSettings
    from models.replay import replay_cutoffs

    simulation = simulate_group(3, 3, seed=2, truth_draws=1)
    settings = ModelSettings()
    cutoffs = replay_cutoffs(
        pd.Timestamp(simulation.end),
        step_months=settings.replay_step_months,
        count=settings.replay_cutoffs,
    )
    assert sorted(simulation.truth["as_of"].unique()) == cutoffs
    short = simulate_group(2, 0.5, seed=3, truth_draws=1)
    assert set(short.truth["as_of"]) == {pd.Timestamp(short.end)}
    monthly = simulate_group(3, 1, seed=2, truth_as_of="monthly", truth_draws=1)
    assert monthly.truth["as_of"].nunique() == 12


def test_truth_as_of_limits_the_truth_rows():
    simulation = simulate_group(4, 1, seed=2, truth_as_of=[date(2026, 6, 30)], truth_draws=5)
    assert set(simulation.truth["as_of"]) == {pd.Timestamp("2026-06-30")}


# --- realistic magnitudes --------------------------------------------------------------------


def test_magnitudes_are_realistic(sim):
    f, months = sim.frames, 30
    services = len(f["services"])
    assert f["services"]["service_type"].astype(str).str.startswith("care_home").mean() > 0.45
    teams = f["workforce"].groupby("location_id")["team"].nunique()
    assert teams.between(2, 6).all()
    sampled = f["checks"].loc[f["checks"]["source"] == "audit", "sampled"]
    assert sampled.between(5, 20).all()
    open_now = f["improvements"]["declared_status"].astype(str).ne("closed").sum() / services
    # Open improvements per service at the end: with the knobs on, leaders close more slowly
    # where their own audits disagree with the independent checks (about 12 a service).
    assert 2 <= open_now <= 16
    assert f["incidents"]["harm"].isin(["none", "low"]).mean() > 0.85
    assert 1 <= len(f["feedback"]) / services / months <= 30


def test_base_rate_of_held_is_realistic(labelled):
    """The NHS Sustainability Model's "up to 70%" of change not sustained: fewer than half to
    two thirds of the labelled rows hold, never almost all or almost none."""
    assert len(labelled) > 1000
    assert 0.35 <= labelled["held"].mean() <= 0.65


def test_base_rates_follow_the_published_figures():
    """CQC's 2014-2017 re-inspections and the NHS Sustainability Model (simulator.base_rates):
    the demo's latent rates are near them, and measured, not assumed."""
    from simulator.base_rates import PUBLISHED, base_rates

    sim = simulate_group(60, 3, seed=4, truth_as_of="monthly", truth_draws=1)
    rates = base_rates(sim.truth)
    assert rates["improvements"] > 300
    published = {name: value for name, (value, _) in PUBLISHED.items()}
    assert abs(rates["improved_by_12_months"] - published["improved_by_12_months"]) < 0.15
    assert rates["worse_than_before_at_12_months"] < 0.1
    assert 0.08 < rates["lost_by_24_months"] < 0.4
    assert 0.1 < rates["not_sustained_by_24_months"] <= published["not_sustained_by_24_months"]


# --- the mechanisms, visible in the data -------------------------------------------------------


def _hold_rate(rows: pd.DataFrame) -> float:
    assert len(rows) >= 30, "too few rows to compare"
    return float(rows["held"].mean())


def test_adopted_by_every_team_slips_less_than_by_one_team(labelled):
    adopted = (labelled["teams_adopted_share"] * labelled["teams"]).round()
    everyone = labelled[labelled["teams_adopted_share"] == 1]
    one_team = labelled[(adopted == 1) & (labelled["teams"] >= 3)]
    assert _hold_rate(everyone) > _hold_rate(one_team) + 0.2


def test_longer_run_at_standard_holds_more_often(labelled, monthly):
    ordered = monthly.sort_values(["improvement_id", "month"])
    at = ordered["compliance"] >= ordered["standard"]
    gap = ordered.groupby("improvement_id")["month"].diff().map(lambda d: getattr(d, "n", 0)) != 1
    block = (~at | gap).cumsum()
    run = at.astype(int).groupby(block).cumsum()
    runs = ordered.assign(run=run.to_numpy(), as_of=ordered["month"].dt.end_time.dt.normalize())
    rows = labelled.merge(runs[["improvement_id", "as_of", "run"]], on=["improvement_id", "as_of"])
    assert _hold_rate(rows[rows["run"] >= 6]) > _hold_rate(rows[rows["run"].between(1, 2)])


def test_higher_agency_share_holds_less_often(sim, labelled):
    wf = sim.frames["workforce"]
    month = wf["week_start"].dt.to_period("M")
    by_month = (
        wf.assign(month=month)
        .groupby(["location_id", "month"])[["shifts_agency", "shifts_planned"]]
        .sum()
        .reset_index()
        .sort_values(["location_id", "month"])
    )
    rolled = by_month.groupby("location_id")[["shifts_agency", "shifts_planned"]].transform(
        lambda s: s.rolling(3, min_periods=1).sum()
    )
    share = by_month.assign(
        agency=rolled["shifts_agency"] / rolled["shifts_planned"],
        as_of=by_month["month"].dt.end_time.dt.normalize(),
    )
    rows = labelled.merge(share[["location_id", "as_of", "agency"]], on=["location_id", "as_of"])
    low, high = rows["agency"].quantile([1 / 3, 2 / 3])
    assert _hold_rate(rows[rows["agency"] >= high]) < _hold_rate(rows[rows["agency"] <= low])


def test_leaders_over_claim(sim, monthly):
    reviews = sim.frames["reviews"]
    embedded = reviews[reviews["classification"] == "embedded"]
    embedded = embedded.assign(month=embedded["reviewed_on"].dt.to_period("M"))
    joined = embedded.merge(monthly, on=["improvement_id", "month"])
    over = joined["compliance"] < joined["standard"]
    assert over.sum() >= 10 and over.mean() < 0.5


def test_feedback_lags_audits(sim, monthly):
    fb = sim.frames["feedback"]
    fb = fb[fb["improvement_id"].notna() & fb["respondent"].isin(["person", "family"])]
    fb = fb.assign(month=fb["received_on"].dt.to_period("M"))
    level = (
        monthly.set_index(["improvement_id", "month"])["compliance"]
        - monthly.set_index(["improvement_id", "month"])["standard"]
    )

    def at_lag(lag: int) -> np.ndarray:
        keys = pd.MultiIndex.from_arrays([fb["improvement_id"], fb["month"] - lag])
        return level.reindex(keys).to_numpy()

    now, earlier = at_lag(0), at_lag(2)
    ok = ~np.isnan(now) & ~np.isnan(earlier)
    design = np.column_stack([np.ones(ok.sum()), now[ok], earlier[ok]])
    coef = np.linalg.lstsq(design, fb["sentiment"].to_numpy(float)[ok], rcond=None)[0]
    assert ok.sum() > 300
    assert coef[2] > coef[1] and coef[2] > 0


def test_theme_incidents_are_more_frequent_when_compliance_is_low(sim, monthly):
    inc, imp = sim.frames["incidents"], sim.frames["improvements"]
    inc = inc.assign(month=inc["occurred_on"].dt.to_period("M"), theme=inc["theme"].astype(str))
    counts = inc.groupby(["location_id", "theme", "month"]).size().rename("incidents")
    keys = imp[["improvement_id", "location_id", "theme"]].astype({"theme": "str"})
    rows = monthly.merge(keys, on="improvement_id")
    rows = rows.join(counts, on=["location_id", "theme", "month"]).fillna({"incidents": 0})
    low = rows.loc[rows["compliance"] < rows["standard"] - 0.1, "incidents"].mean()
    high = rows.loc[rows["compliance"] >= rows["standard"], "incidents"].mean()
    assert low > 1.3 * high


def test_monitoring_drops_after_closure(sim):
    imp = sim.frames["improvements"]
    closed = imp[
        (imp["declared_status"] == "closed")
        & (imp["declared_on"] <= pd.Timestamp(END) - pd.DateOffset(months=3))
    ]
    checks = sim.frames["checks"].merge(
        closed[["improvement_id", "action_started_on", "declared_on"]], on="improvement_id"
    )
    before = checks[
        (checks["checked_on"] >= checks["action_started_on"])
        & (checks["checked_on"] < checks["declared_on"])
    ]
    after = checks[checks["checked_on"] >= checks["declared_on"]]
    days_before = (closed["declared_on"] - closed["action_started_on"]).dt.days.clip(lower=1)
    days_after = (pd.Timestamp(END) - closed["declared_on"]).dt.days.clip(lower=1)
    assert len(closed) > 20
    assert len(after) / days_after.sum() < 0.6 * len(before) / days_before.sum()


# --- the ground truth ------------------------------------------------------------------------


def test_truth_has_the_documented_columns(sim):
    expected = {
        "improvement_id",
        "location_id",
        "as_of",
        "teams_adopted_share",
        "months_embedded_mean",
        "latent_compliance",
        "slip_hazard_mean",
        "leadership",
        "instability_mean",
        "p_hold_true",
        "p_observed_true",
        "held_realised",
        "label_observed_realised",
        "window_complete",
        "eligible",
    }
    assert expected <= set(sim.truth.columns)
    assert not sim.truth.duplicated(["improvement_id", "as_of"]).any()
    incomplete = sim.truth[~sim.truth["window_complete"]]
    assert len(incomplete) > 0 and incomplete["held_realised"].isna().all()
    window_end = incomplete["as_of"] + pd.offsets.MonthEnd(6)
    assert (window_end > pd.Timestamp(END)).all()


def test_p_hold_true_is_calibrated_against_the_realised_label(labelled):
    """Binned by p_hold_true, the realised hold rate matches the mean probability within
    sampling error (rows of one improvement are correlated, so the tolerance is generous)."""
    rows = labelled[labelled["p_hold_true"].notna()]
    assert abs(rows["p_hold_true"].mean() - rows["held"].mean()) < 0.04
    bins = pd.cut(rows["p_hold_true"], [0, 0.35, 0.7, 1.0], include_lowest=True)
    table = rows.groupby(bins, observed=True).agg(
        p=("p_hold_true", "mean"), held=("held", "mean"), n=("held", "size")
    )
    tolerance = 3 * np.sqrt(table["p"] * (1 - table["p"]) / (table["n"] / 6)) + 0.02
    assert ((table["p"] - table["held"]).abs() < tolerance).all(), table
    assert table["held"].is_monotonic_increasing


def test_ids_have_the_contract_form(sim):
    ids = pd.concat([sim.frames["services"]["location_id"], sim.frames["services"]["provider_id"]])
    assert ids.map(lambda v: bool(re.fullmatch(ID_PATTERN, v))).all()
    assert FILES_BY_NAME["services"].column("location_id").pattern == ID_PATTERN


# --- the command line ------------------------------------------------------------------------


def test_simulate_command_writes_the_export(tmp_path):
    from pipelines.cli import app

    result = CliRunner().invoke(
        app,
        [
            "simulate",
            str(tmp_path),
            "--services",
            "3",
            "--years",
            "0.5",
            "--seed",
            "1",
            "--format",
            "parquet",
            "--truth-draws",
            "3",
        ],
    )
    assert result.exit_code == 0, result.output
    assert (tmp_path / "export" / "checks.parquet").exists()
    assert (tmp_path / "truth" / "truth.parquet").exists()
    assert "checks" in result.output


def test_the_stress_export_is_valid_but_for_the_rows_it_breaks_on_purpose(tmp_path):
    from pipelines.io import read_export
    from simulator.export import write_export
    from simulator.stress import stress_export
    from validation import validate_export

    frames = stress_export(4_000, seed=3, services=7, invalid_share=0.01)
    assert frames["services"]["location_id"].nunique() == 7
    write_export(frames, str(tmp_path / "export"), "parquet")
    result = validate_export(
        read_export(str(tmp_path / "export")), date(2026, 10, 31), today=date(2026, 11, 26)
    )
    broken = int((frames["checks"]["met"] > frames["checks"]["sampled"]).sum())
    assert broken > 0
    assert result.counts["checks"]["quarantined"] == broken
    assert not result.blocked
