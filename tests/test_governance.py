"""Governance over time, as plain functions: trend runs, the comparison run, why a probability
moved (exact, with real models), warnings about the input, and retention."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contracts.params import GovernanceParams, RetentionParams
from models.ga2m import MODEL_FEATURES, HoldModel
from models.governance import (
    BOTH,
    NEW_EVIDENCE,
    NEW_MODEL,
    Explained,
    comparison_run,
    movement_reasons,
    trend_runs,
)
from pipelines.retention import apply_retention, run_folders, runs_to_keep
from validation.continuity import IDENTICAL_EXPORT, ROW_DROP, continuity_warnings


def runs_frame(rows: list[tuple[str, str, str]]) -> pd.DataFrame:
    """Run records from (run_id, as_of, finished_at) triples."""
    frame = pd.DataFrame(rows, columns=["run_id", "as_of", "finished_at"])
    return frame.assign(
        as_of=pd.to_datetime(frame["as_of"]), finished_at=pd.to_datetime(frame["finished_at"])
    )


RUNS = runs_frame(
    [
        ("may-31", "2026-05-31", "2026-06-01 02:00"),
        ("jun-15", "2026-06-15", "2026-06-16 02:00"),
        ("jun-30", "2026-06-30", "2026-07-01 02:00"),
        ("jul-31", "2026-07-31", "2026-08-01 02:00"),
        ("sep-30", "2026-09-30", "2026-10-01 02:00"),
        ("sep-30-rerun", "2026-09-30", "2026-10-01 09:00"),
        ("oct-20", "2026-10-20", "2026-10-21 02:00"),
        ("oct-29", "2026-10-29", "2026-10-30 02:00"),
        ("oct-30", "2026-10-30", "2026-10-31 02:00"),
        ("nov-02", "2026-11-02", "2026-11-03 02:00"),
    ]
)


# --- which runs ----------------------------------------------------------------------------------


def test_trends_show_recent_runs_and_each_months_last_run_never_later_ones():
    params = GovernanceParams(trend_months=4, trend_recent_days=14)
    shown = trend_runs(RUNS[RUNS["run_id"] != "oct-30"], "2026-10-31", params)
    # Months Jun-Sep: their last run (the re-run replaces its night); Oct: the last 14 days.
    assert shown["run_id"].tolist() == ["jun-30", "jul-31", "sep-30-rerun", "oct-20", "oct-29"]


def test_no_earlier_runs_no_trend():
    assert trend_runs(RUNS.iloc[:0], "2026-10-31").empty


@pytest.mark.parametrize(
    ("compare_with", "expected", "why"),
    [
        ("previous_quarter", "sep-30-rerun", "before this quarter (Q4 2026) began"),
        ("previous_run", "oct-29", "the previous run"),
        ("jun-15", "jun-15", "run jun-15"),
        ("2026-07-15", "jun-30", "the last run as of 15 Jul 2026"),
        ("2026-10-30", "oct-29", "the last run as of 30 Oct 2026"),  # never the run itself
    ],
)
def test_the_comparison_run(compare_with, expected, why):
    choice = comparison_run(RUNS, "oct-30", "2026-10-30", compare_with)
    assert choice.run["run_id"] == expected
    assert why in choice.why


def test_no_run_before_the_quarter_is_said_not_raised():
    choice = comparison_run(RUNS.tail(4), "oct-30", "2026-10-30", "previous_quarter")
    assert choice.run is None
    assert "no run before Q4 2026" in choice.why


@pytest.mark.parametrize(
    ("compare_with", "message"),
    [("no-such-run", "not a run of this output folder"), ("2026-01-01", "no run as of")],
)
def test_an_unknown_comparison_is_refused_in_words(compare_with, message):
    with pytest.raises(ValueError, match=message):
        comparison_run(RUNS, "oct-30", "2026-10-30", compare_with)


# --- why it moved --------------------------------------------------------------------------------


def explained(p: dict[str, float], terms: dict[str, dict[str, tuple[str, float]]]) -> Explained:
    rows = [
        {"improvement_id": i, "term": t, "value": v, "contribution": c}
        for i, by_term in terms.items()
        for t, (v, c) in by_term.items()
    ]
    return Explained(pd.Series(p), pd.DataFrame(rows))


BEFORE = explained(
    {"a": 0.50, "b": 0.80, "c": 0.40},
    {
        "a": {"months": ("1", -0.2), "teams": ("40%", -0.1), "slope": ("0.00", 0.0)},
        "b": {"months": ("5", 0.8), "teams": ("90%", 0.4), "slope": ("0.01", 0.1)},
        "c": {"months": ("0", -0.4), "teams": ("50%", 0.0), "slope": ("0.00", 0.0)},
    },
)
AFTER = explained(
    {"a": 0.70, "b": 0.55, "c": 0.45},
    {
        "a": {"months": ("4", 0.6), "teams": ("60%", 0.0), "slope": ("0.01", 0.1)},
        "b": {"months": ("5", 0.8), "teams": ("50%", -0.5), "slope": ("-0.02", -0.1)},
        "c": {"months": ("1", -0.2), "teams": ("50%", 0.0), "slope": ("0.00", 0.0)},
    },
)


def test_with_the_same_model_every_move_is_new_evidence_and_the_terms_are_named():
    moves, terms = movement_reasons(BEFORE, AFTER, None, same_model=True, threshold=0.1, terms=2)
    # b moved 25 points down, a 20 up; c (5 points) is within the threshold.
    assert moves["improvement_id"].tolist() == ["b", "a"]
    assert moves["change"].round(6).tolist() == [-0.25, 0.2]
    assert moves["evidence_change"].round(6).tolist() == [-0.25, 0.2]
    assert moves["model_change"].tolist() == [0.0, 0.0]
    assert set(moves["moved_by"]) == {NEW_EVIDENCE}
    assert terms[terms["improvement_id"] == "b"][
        ["rank", "term", "value_before", "value_after"]
    ].to_dict("records") == [
        {"rank": 1, "term": "teams", "value_before": "90%", "value_after": "50%"},
        {"rank": 2, "term": "slope", "value_before": "0.01", "value_after": "-0.02"},
    ]
    a = terms[terms["improvement_id"] == "a"].set_index("term")
    assert a.loc["months", "change"] == pytest.approx(0.8)
    assert a.loc["months", "evidence_change"] == pytest.approx(0.8)
    assert a.loc["months", "model_change"] == pytest.approx(0.0)


@pytest.mark.parametrize(
    ("middle_p", "moved_by"),
    [(0.68, NEW_EVIDENCE), (0.52, NEW_MODEL), (0.60, BOTH)],
)
def test_a_new_model_takes_its_share_of_the_move(middle_p, moved_by):
    middle = explained(
        {"a": middle_p},
        {"a": {"months": ("4", 0.5), "teams": ("60%", 0.0), "slope": ("0.01", 0.1)}},
    )
    moves, terms = movement_reasons(
        explained({"a": 0.5}, {"a": BEFORE.contributions.pipe(_of, "a")}),
        explained({"a": 0.7}, {"a": AFTER.contributions.pipe(_of, "a")}),
        middle,
        same_model=False,
        threshold=0.1,
    )
    row = moves.iloc[0]
    assert row["evidence_change"] == pytest.approx(middle_p - 0.5)
    assert row["model_change"] == pytest.approx(0.7 - middle_p)
    assert row["evidence_change"] + row["model_change"] == pytest.approx(row["change"])
    assert row["moved_by"] == moved_by
    months = terms.set_index("term").loc["months"]
    assert months["evidence_change"] == pytest.approx(0.5 - -0.2)
    assert months["model_change"] == pytest.approx(0.6 - 0.5)


def _of(contributions: pd.DataFrame, key: str) -> dict:
    picked = contributions[contributions["improvement_id"] == key]
    return {r.term: (r.value, r.contribution) for r in picked.itertuples()}


def test_without_the_earlier_explanation_moves_are_still_split_but_no_term_is_named():
    earlier = Explained(BEFORE.p_hold, BEFORE.contributions.iloc[:0])
    moves, terms = movement_reasons(earlier, AFTER, None, same_model=True, threshold=0.1)
    assert len(moves) == 2 and terms.empty


def test_without_the_earlier_model_the_split_is_unknown_not_guessed():
    moves, _ = movement_reasons(BEFORE, AFTER, None, same_model=False, threshold=0.1)
    assert moves["evidence_change"].isna().all() and moves["model_change"].isna().all()
    assert set(moves["moved_by"]) == {""}


@pytest.fixture(scope="module")
def two_models():
    """Two real models (different seeds and data) and evidence at two dates."""
    from simulator.synthetic import synthetic_snapshots

    snapshots, _ = synthetic_snapshots(120, 12, seed=5)
    rows = snapshots[snapshots["held"].notna()].reset_index(drop=True)
    X, y = rows[list(MODEL_FEATURES)], rows["held"].astype(int)
    first = HoldModel(n_seeds=2, n_threads=1, random_state=1).fit(X.iloc[::2], y.iloc[::2])
    second = HoldModel(n_seeds=2, n_threads=1, random_state=2).fit(X.iloc[1::2], y.iloc[1::2])
    ids = [f"i{k}" for k in range(60)]
    then = X.iloc[:60].set_axis(ids)
    now = X.iloc[300:360].set_axis(ids)
    return first, second, then, now


def _explained(model: HoldModel, X: pd.DataFrame) -> Explained:
    long = model.explain(X).rename_axis(index="improvement_id", columns="term").stack()
    contributions = long.rename("contribution").reset_index().assign(value="")
    return Explained(pd.Series(model.predict_proba(X)[:, 1], index=X.index), contributions)


def test_the_split_is_exact_with_real_models(two_models):
    """Per improvement, the terms' evidence changes add up to the earlier model's log-odds move
    on the new evidence, and evidence + model changes to the whole move, to rounding."""
    first, second, then, now = two_models
    before, after, middle = _explained(first, then), _explained(second, now), _explained(first, now)
    moves, terms = movement_reasons(
        before, after, middle, same_model=False, threshold=0.05, terms=len(second.terms_)
    )
    assert len(moves) > 5
    np.testing.assert_allclose(
        moves["evidence_change"] + moves["model_change"], moves["change"], atol=1e-12
    )
    logit = lambda p: np.log(p / (1 - p))  # noqa: E731
    ids = moves["improvement_id"]
    evidence_logodds = terms.groupby("improvement_id")["evidence_change"].sum().reindex(ids)
    expected = logit(middle.p_hold[ids]) - logit(before.p_hold[ids])
    np.testing.assert_allclose(evidence_logodds.to_numpy(), expected.to_numpy(), atol=1e-9)


# --- warnings about the input ----------------------------------------------------------------------


def files(rows: dict[str, tuple[str, int]], run_id: str | None = None) -> pd.DataFrame:
    frame = pd.DataFrame(
        [(name, sha, n) for name, (sha, n) in rows.items()], columns=["file", "sha256", "rows"]
    )
    return frame if run_id is None else frame.assign(run_id=run_id)


EARLIER = runs_frame(
    [
        ("r1", "2026-10-27", "2026-10-28 02:00"),
        ("r2", "2026-10-28", "2026-10-29 02:00"),
        ("r3", "2026-10-29", "2026-10-30 02:00"),
    ]
)
EARLIER_FILES = pd.concat(
    [
        files({"checks": ("a", 1000), "feedback": ("b", 200)}, "r1"),
        files({"checks": ("c", 1010), "feedback": ("d", 210)}, "r2"),
        files({"checks": ("e", 990), "feedback": ("f", 190)}, "r3"),
    ]
)


def test_an_export_identical_to_the_last_one_is_warned_about():
    found = continuity_warnings(
        files({"checks": ("e", 990), "feedback": ("f", 190)}), EARLIER_FILES, EARLIER
    )
    assert found["kind"].tolist() == [IDENTICAL_EXPORT]
    assert "identical, file for file" in found["message"].iloc[0]
    assert "r3" in found["message"].iloc[0]


@pytest.mark.parametrize(
    ("checks", "feedback", "dropped"),
    [
        (1000, 200, []),
        (699, 200, ["checks"]),  # 30.1% fewer than the median (1,000)
        (701, 200, []),
        (1000, 0, ["feedback"]),
    ],
)
def test_a_file_whose_rows_drop_sharply_is_warned_about(checks, feedback, dropped):
    now = {"checks": ("new", checks)}
    if feedback:
        now["feedback"] = ("new2", feedback)
    found = continuity_warnings(files(now), EARLIER_FILES, EARLIER, GovernanceParams())
    assert found.loc[found["kind"] == ROW_DROP, "file"].tolist() == dropped


def test_a_first_run_has_nothing_to_be_warned_about():
    assert continuity_warnings(
        files({"checks": ("a", 1)}), EARLIER_FILES.iloc[:0], EARLIER.iloc[:0]
    ).empty


# --- retention ----------------------------------------------------------------------------------


def folders(rows: list[tuple[str, str, bool]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["run_id", "as_of", "finished"]).assign(
        as_of=lambda f: pd.to_datetime(f["as_of"])
    )


FOLDERS = folders(
    [
        ("20260331-a", "2026-03-31", True),  # Q1's last run
        ("20260615-a", "2026-06-15", True),
        ("20260630-a", "2026-06-30", True),  # Q2's last run
        ("20260630-b", "2026-06-30", False),  # a failed run, older than the current one
        ("20260901-a", "2026-09-01", True),
        ("20260915-a", "2026-09-15", True),
        ("20260920-a", "2026-09-20", True),  # Q3's last finished run
        ("20260921-a", "2026-09-21", False),  # current is older: a failure since, kept
    ]
)


@pytest.mark.parametrize(
    ("params", "current", "kept"),
    [
        (
            RetentionParams(keep_last_runs=2),
            "20260920-a",
            {"20260331-a", "20260630-a", "20260915-a", "20260920-a", "20260921-a"},
        ),
        (
            RetentionParams(keep_last_runs=2, keep_quarter_ends=False),
            "20260920-a",
            {"20260915-a", "20260920-a", "20260921-a"},
        ),
        (  # the current run is never removed, even when it is not among the last N
            RetentionParams(keep_last_runs=1, keep_quarter_ends=False),
            "20260615-a",
            {"20260615-a", "20260920-a", *FOLDERS["run_id"][FOLDERS["run_id"] > "20260615-a"]},
        ),
        (RetentionParams(enabled=False), "20260920-a", set(FOLDERS["run_id"])),
    ],
)
def test_retention_keeps_exactly_what_it_promises(params, current, kept):
    assert runs_to_keep(FOLDERS, current, params) == kept


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 400), st.booleans()),  # (day offset, finished) per folder
        min_size=1,
        max_size=25,
    ),
    st.integers(1, 6),
    st.booleans(),
    st.data(),
)
def test_retention_keeps_the_current_run_the_last_n_and_each_quarter_end(
    runs, keep_last, quarter_ends, data
):
    start = pd.Timestamp("2025-01-01")
    frame = folders(
        [
            (
                f"{(start + pd.Timedelta(days=d)):%Y%m%d}-{k:03d}",
                str(start + pd.Timedelta(days=d)),
                f,
            )
            for k, (d, f) in enumerate(runs)
        ]
    ).sort_values("run_id", ignore_index=True)
    current = data.draw(st.sampled_from(frame["run_id"].tolist()))
    kept = runs_to_keep(
        frame, current, RetentionParams(keep_last_runs=keep_last, keep_quarter_ends=quarter_ends)
    )
    finished = frame[frame["finished"]].sort_values(["as_of", "run_id"])
    expected = {current} | set(finished["run_id"].tail(keep_last))
    if quarter_ends:
        quarter = finished["as_of"].dt.to_period("Q")
        expected |= set(finished.loc[~quarter.duplicated(keep="last"), "run_id"])
    expected |= set(frame.loc[frame["run_id"] > current, "run_id"])
    assert kept == expected


def test_retention_removes_folders_and_reads_their_manifests(tmp_path):
    out = tmp_path / "out"
    for run_id, as_of, finished in FOLDERS.itertuples(index=False):
        folder = out / "runs" / run_id
        folder.mkdir(parents=True)
        manifest = {"run_id": run_id, "as_of": str(as_of.date()), "finished_at": None}
        if finished:
            manifest["finished_at"] = "2026-10-01T02:00:00+00:00"
        (folder / "manifest.json").write_text(json.dumps(manifest))
    legacy = out / "runs" / "20250101-old"  # written before finished_at existed
    legacy.mkdir()
    (legacy / "manifest.json").write_text(json.dumps({"run_id": "old", "as_of": "2025-01-01"}))
    (legacy / "scores.parquet").write_bytes(b"")
    (out / "current").symlink_to("runs/20260920-a")
    found = run_folders(out)
    assert found.set_index("run_id").loc["20250101-old", "finished"]
    removed = apply_retention(out, RetentionParams(keep_last_runs=2))
    assert sorted(removed) == ["20260615-a", "20260630-b", "20260901-a"]
    assert sorted(p.name for p in (out / "runs").iterdir()) == sorted(
        {"20250101-old", "20260331-a", "20260630-a", "20260915-a", "20260920-a", "20260921-a"}
    )
