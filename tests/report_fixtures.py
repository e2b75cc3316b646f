"""A realistic run output folder (the tables of `contracts.tables`) for the report's tests.

The nightly pipeline writes OUT; the report only reads it. This writer produces a folder of
exactly that shape so the report can be built and tested without the pipeline:

    OUT/scores.parquet, scores.csv, services.csv, manifest.json,
    OUT/monthly_compliance.parquet, timeline.parquet, contributions.parquet,
    OUT/model/{model_card.md, backtest.csv, reliability.csv, shape_functions.parquet,
               evidence_threshold.json},
    OUT/runs/<previous_run_id>/scores.parquet

Values are random but coherent (a slipping improvement has recent months below its standard,
an over-claim is a declared "embedded" on an emerging stage). With `hostile=True`, export
values that try to break out of HTML or spreadsheets are planted where an export could put
them: service names, a theme, a reason and a timeline detail.

Every table is written through `contracts.tables.conform`, the declarations the nightly run
writes with, so the fixture cannot hold a column the run does not write (nor miss one).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from contracts.tables import (
    CONTRIBUTIONS,
    MONTHLY_COMPLIANCE,
    SCORES,
    SERVICES,
    TEAMS,
    TIMELINE,
    conform,
)
from contracts.vocabulary import CROSS_CHECKS, STAGES
from features.columns import FEATURE_NAMES, FEATURES_BY_NAME

SCRIPT_NAME = "<script>alert(1)</script>"
FORMULA_NAME = '=HYPERLINK("http://x","y")'
HOSTILE_THEME = "<b>falls</b>"
HOSTILE_REASON = '<img src="http://example.invalid/x.png" onerror="alert(2)">'
HOSTILE_DETAIL = "senior_leadership: </details><script>alert(3)</script>"

AS_OF = pd.Timestamp("2026-10-31")
PROVIDER_ID = "1-900000001"
MODEL_VERSION = "7"
THEMES = (
    "medicines",
    "falls",
    "pressure_care",
    "documentation",
    "safeguarding",
    "nutrition_hydration",
    "staffing",
    "infection_prevention",
)
KEY_QUESTIONS = ("safe", "effective", "caring", "responsive", "well_led")
SEVERITIES = ("routine", "significant", "serious")
TRIGGERS = (
    "two months below standard",
    "serious theme incident",
    "review overdue",
    "special cause of concern",
)
# What a manager reads for each trigger code (the report never shows the codes themselves).
TRIGGER_WORDS = {code: f"seen: {code} in words" for code in TRIGGERS}
ESCALATIONS = (
    "senior leadership review within 14 days",
    "board notification",
    "registered manager action plan refresh",
    "quality team visit",
)
STABLE = ("met the standard for 4 months", "all teams at standard", "people's feedback positive")
FRAGILE = (
    "improvement in one team only",
    "agency share rising",
    "competency gap",
    "one month below standard since action",
)
TEAM_NAMES = ("Ground floor", "Rose Wing", "Night shift")
HOSTILE_TEAM = "<img src=x onerror=alert(4)>"
PREVIOUS_RUN_ID = "2026-09-30T02-00-00"
RUN_ID = "2026-10-31T02-00-00"


def write_run_outputs(
    out_dir: Path,
    *,
    n_services: int = 6,
    seed: int = 0,
    hostile: bool = True,
    with_previous: bool = True,
) -> Path:
    """Write a finished run's output folder under `out_dir` and return it."""
    rng = np.random.default_rng(seed)
    out_dir = Path(out_dir)
    (out_dir / "model").mkdir(parents=True, exist_ok=True)
    services = _services(rng, n_services, hostile)
    scores = _scores(rng, services, hostile)
    services = _with_service_summaries(services, scores)
    monthly = _monthly_compliance(rng, scores)
    scores = conform(scores, SCORES)
    scores.to_parquet(out_dir / "scores.parquet", index=False)
    scores.to_csv(out_dir / "scores.csv", index=False)
    conform(services, SERVICES).to_csv(out_dir / "services.csv", index=False)
    conform(monthly, MONTHLY_COMPLIANCE).to_parquet(
        out_dir / "monthly_compliance.parquet", index=False
    )
    timeline = conform(_timeline(rng, scores, hostile), TIMELINE)
    timeline.to_parquet(out_dir / "timeline.parquet", index=False)
    conform(_teams(rng, scores, hostile), TEAMS).to_parquet(out_dir / "teams.parquet", index=False)
    contributions = conform(_contributions(rng, scores), CONTRIBUTIONS)
    contributions.to_parquet(out_dir / "contributions.parquet", index=False)
    _write_model_folder(rng, out_dir / "model")
    previous = PREVIOUS_RUN_ID if with_previous else None
    if with_previous:
        run_dir = out_dir / "runs" / PREVIOUS_RUN_ID
        run_dir.mkdir(parents=True, exist_ok=True)
        _previous_scores(rng, scores).to_parquet(run_dir / "scores.parquet", index=False)
    manifest = _manifest(scores, services, previous)
    (out_dir / "manifest.json").write_text(json.dumps(manifest, indent=2))
    return out_dir


def _services(rng, n: int, hostile: bool) -> pd.DataFrame:
    ids = [f"1-{100000000 + 7919 * i:09d}" for i in range(n)]
    names = [
        f"{w} House"
        for w in rng.choice(["Oak", "Elm", "Ash", "Birch", "Willow", "Rowan", "Hazel", "Cedar"], n)
    ]
    names = [f"{name} {i + 1}" for i, name in enumerate(names)]
    if hostile and n >= 2:
        names[0], names[1] = SCRIPT_NAME, FORMULA_NAME
    return pd.DataFrame({"location_id": ids, "provider_id": PROVIDER_ID, "name": names})


def _scores(rng, services: pd.DataFrame, hostile: bool) -> pd.DataFrame:
    per_service = rng.integers(3, 10, len(services))
    location = np.repeat(services["location_id"].to_numpy(), per_service)
    n = len(location)
    stage = rng.choice(STAGES, n, p=[0.08, 0.32, 0.25, 0.25, 0.10])
    base = (
        pd.Series(stage)
        .map(
            {
                "not_started": 0.35,
                "emerging": 0.5,
                "consolidating": 0.65,
                "embedded": 0.82,
                "slipping": 0.3,
            }
        )
        .to_numpy()
    )
    p_hold = np.clip(base + rng.normal(0, 0.08, n), 0.02, 0.98)
    width = rng.uniform(0.04, 0.15, n)
    declared = rng.choice(["emerging", "embedded", "closed", ""], n, p=[0.35, 0.35, 0.05, 0.25])
    claim = _claim_check(stage, declared)
    triggers = np.where(rng.random(n) < 0.25, rng.choice(TRIGGERS, n), "")
    triggers = np.where(stage == "slipping", TRIGGERS[0], triggers)
    escalations = pd.Series(triggers).map(dict(zip(TRIGGERS, ESCALATIONS, strict=True)))
    theme = rng.choice(THEMES, n).astype(object)
    stable = [_pick(rng, STABLE) for _ in range(n)]
    if hostile:
        theme[1] = HOSTILE_THEME
        stable[0] = HOSTILE_REASON
    frame = pd.DataFrame(
        {
            "improvement_id": [f"IMP-{i + 1:05d}" for i in range(n)],
            "location_id": location,
            "provider_id": PROVIDER_ID,
            "theme": theme,
            "key_question": rng.choice(KEY_QUESTIONS, n),
            "severity": rng.choice(SEVERITIES, n, p=[0.5, 0.35, 0.15]),
            "as_of": AS_OF,
            "p_hold": p_hold,
            "p_hold_low": np.clip(p_hold - width, 0, 1),
            "p_hold_high": np.clip(p_hold + width, 0, 1),
            "stage": stage,
            "stage_reasons": [_pick(rng, STABLE + FRAGILE) for _ in range(n)],
            "declared_status": pd.Series(declared).replace("", pd.NA),
            "claim_check": claim,
            "cross_check": rng.choice(CROSS_CHECKS, n, p=[0.7, 0.2, 0.1]),
            "triggers": triggers,
            "top_factors": [_pick(rng, FEATURE_NAMES[:20]) for _ in range(n)],
            "model_version": MODEL_VERSION,
            "escalations": escalations.fillna("").to_numpy(),
            "cross_check_sentence": "The model and the rules agree.",
            "stable_reasons": stable,
            "fragile_reasons": [_pick(rng, FRAGILE) for _ in range(n)],
            "latest_review_classification": rng.choice(["emerging", "embedded", "none"], n),
            "next_rm_review_due": AS_OF + pd.to_timedelta(rng.integers(-20, 31, n), unit="D"),
            "next_senior_review_due": AS_OF + pd.to_timedelta(rng.integers(-10, 92, n), unit="D"),
        }
    )
    frame = frame.assign(
        last_rm_review_on=frame["next_rm_review_due"] - pd.DateOffset(months=1),
        last_senior_review_on=frame["next_senior_review_due"] - pd.DateOffset(months=3),
        rm_review_overdue=frame["next_rm_review_due"] < AS_OF,
        senior_review_overdue=frame["next_senior_review_due"] < AS_OF,
    )
    frame = frame.assign(review_overdue=frame["rm_review_overdue"] | frame["senior_review_overdue"])
    closed = frame["claim_check"] == "closed"
    teams_below = np.where(rng.random(n) < 0.4, TEAM_NAMES[1], "")
    if hostile:
        teams_below[0] = HOSTILE_TEAM
    return frame.assign(
        trigger_reasons=pd.Series(triggers).map(TRIGGER_WORDS).fillna("").to_numpy(),
        claim_reason=np.where(closed, "closed by leaders on 30 Jun 2026: monitoring may end", ""),
        teams_at_standard=TEAM_NAMES[0],
        teams_below_standard=teams_below,
        enhanced_monitoring=np.where(
            frame["stage"] == "slipping", "recommended since the slip in September 2026", ""
        ),
        monitoring_ended_on=pd.Series(pd.Timestamp("2026-06-30"), index=frame.index).where(closed),
    )


def _teams(rng, scores: pd.DataFrame, hostile: bool) -> pd.DataFrame:
    """Two or three teams per improvement, as the run writes them."""
    rows = []
    for improvement, location in zip(scores["improvement_id"], scores["location_id"], strict=True):
        for team in TEAM_NAMES[: int(rng.integers(2, 4))]:
            compliance = float(rng.uniform(0.6, 1.0))
            rows.append(
                {
                    "improvement_id": improvement,
                    "location_id": location,
                    "team": team,
                    "as_of": AS_OF,
                    "status": "at standard" if compliance >= 0.85 else "below standard",
                    "months_at_standard": float(rng.integers(0, 8)),
                    "latest_compliance": compliance,
                    "latest_check_on": AS_OF - pd.Timedelta(days=int(rng.integers(1, 60))),
                    "prompts_per_observation": float(rng.uniform(0, 3)),
                    "competency_pass_share": float(rng.uniform(0.7, 1.0)),
                    "self_rated_confidence": float(rng.uniform(2, 5)),
                    "keyworker_continuity": float(rng.uniform(0.5, 1.0)),
                    "agency_shift_share": float(rng.uniform(0, 0.3)),
                    "unfilled_shift_share": float(rng.uniform(0, 0.1)),
                    "complaints_90d": float(rng.integers(0, 3)),
                    "serious_incidents_90d": float(rng.integers(0, 2)),
                }
            )
    teams = pd.DataFrame(rows)
    if hostile:
        teams.loc[0, "team"] = HOSTILE_TEAM
    return teams


def _pick(rng, options) -> str:
    count = int(rng.integers(1, 3))
    return "; ".join(rng.choice(options, count, replace=False))


def _claim_check(stage: np.ndarray, declared: np.ndarray) -> np.ndarray:
    declared_embedded = np.isin(declared, ["embedded", "closed"])
    stage_embedded = stage == "embedded"
    return np.select(
        [
            declared == "",
            declared_embedded & ~stage_embedded,
            (declared == "emerging") & stage_embedded,
        ],
        ["no_claim", "overclaim", "underclaim"],
        "consistent",
    )


def _with_service_summaries(services: pd.DataFrame, scores: pd.DataFrame) -> pd.DataFrame:
    grouped = scores.groupby("location_id")
    counts = (
        pd.crosstab(scores["location_id"], scores["stage"])
        .reindex(columns=list(STAGES), fill_value=0)
        .add_prefix("n_")
    )
    summary = pd.DataFrame(
        {
            "improvements": grouped.size(),
            "priority_score": grouped["p_hold"].apply(lambda p: float((1 - p).sum())),
            "overclaims": grouped["claim_check"].apply(lambda c: int((c == "overclaim").sum())),
            "triggers": grouped["triggers"].apply(lambda t: int((t != "").sum())),
        }
    ).join(counts)
    out = services.merge(summary, left_on="location_id", right_index=True)
    out = out.sort_values("priority_score", ascending=False, ignore_index=True)
    reasons = np.where(
        out["n_slipping"] > 0,
        "slipping improvements",
        np.where(out["overclaims"] > 0, "over-claims", "low evidence"),
    ).astype(object)
    if len(out) > 2:
        reasons[2] = HOSTILE_REASON
    out = out.assign(
        rank=np.arange(1, len(out) + 1),
        priority_low=out["priority_score"] * 0.85,
        priority_high=out["priority_score"] * 1.15,
        main_reason=reasons,
        beds=pd.array(10 + 7 * np.arange(len(out)) % 70, dtype="Int64"),
    )
    out = out.assign(
        priority_per_10_beds=out["priority_score"] / out["beds"].astype(float) * 10,
        rank_per_bed=lambda f: f["priority_per_10_beds"].rank(ascending=False).astype("Int64"),
    )
    columns = [
        "rank",
        "location_id",
        "provider_id",
        "name",
        "priority_score",
        "priority_low",
        "priority_high",
        "improvements",
        "n_not_started",
        "n_emerging",
        "n_consolidating",
        "n_embedded",
        "n_slipping",
        "overclaims",
        "triggers",
        "main_reason",
        "beds",
        "priority_per_10_beds",
        "rank_per_bed",
    ]
    return out[columns]


def _monthly_compliance(rng, scores: pd.DataFrame) -> pd.DataFrame:
    months_each = rng.integers(4, 19, len(scores))
    improvement = np.repeat(scores["improvement_id"].to_numpy(), months_each)
    offset = np.concatenate([np.arange(m)[::-1] for m in months_each])
    month = _months_back(AS_OF, offset)
    standard = np.repeat(rng.choice([0.8, 0.85, 0.9, 0.95], len(scores)), months_each)
    level = np.repeat(scores["p_hold"].to_numpy(), months_each)
    trend = (1 - offset / np.maximum(offset.max(), 1)) * 0.15
    sampled = rng.integers(10, 41, len(offset))
    noise = rng.normal(0, 0.04, len(offset))
    share = np.clip(standard - 0.12 + trend + (level - 0.5) * 0.2 + noise, 0, 1)
    met = rng.binomial(sampled, share)
    return pd.DataFrame(
        {
            "improvement_id": improvement,
            "month": month,
            "sampled": sampled,
            "met": met,
            "compliance": met / sampled,
            "standard": standard,
        }
    )


def _months_back(as_of: pd.Timestamp, offset: np.ndarray) -> pd.DatetimeIndex:
    period = as_of.to_period("M").ordinal - offset
    return pd.PeriodIndex.from_ordinals(period, freq="M").to_timestamp()


def _timeline(rng, scores: pd.DataFrame, hostile: bool) -> pd.DataFrame:
    n = len(scores)
    ids = scores["improvement_id"].to_numpy()
    identified = AS_OF - pd.to_timedelta(rng.integers(200, 600, n), unit="D")
    started = identified + pd.to_timedelta(rng.integers(5, 60, n), unit="D")
    review = started + pd.to_timedelta(rng.integers(60, 150, n), unit="D")
    declared = review + pd.to_timedelta(rng.integers(1, 30, n), unit="D")
    level = rng.choice(["registered_manager", "senior_leadership", "board"], n)
    classification = rng.choice(["emerging", "embedded", "not_assured"], n)
    review_detail = pd.Series(level) + ": " + pd.Series(classification)
    if hostile:
        review_detail.iloc[0] = HOSTILE_DETAIL
    frames = [
        pd.DataFrame(
            {
                "improvement_id": ids,
                "date": identified,
                "event": "identified",
                "detail": "origin: internal_audit",
            }
        ),
        pd.DataFrame(
            {"improvement_id": ids, "date": started, "event": "action_started", "detail": ""}
        ),
        pd.DataFrame(
            {
                "improvement_id": ids,
                "date": review,
                "event": "review",
                "detail": review_detail.to_numpy(),
            }
        ),
        pd.DataFrame(
            {
                "improvement_id": ids,
                "date": declared,
                "event": "declared",
                "detail": scores["declared_status"].fillna("").to_numpy(),
            }
        ),
    ]
    timeline = pd.concat(frames, ignore_index=True)
    timeline = timeline[~((timeline["event"] == "declared") & (timeline["detail"] == ""))]
    return timeline.sort_values(["improvement_id", "date"], ignore_index=True)


def _contributions(rng, scores: pd.DataFrame) -> pd.DataFrame:
    terms = [name for name in FEATURE_NAMES if FEATURES_BY_NAME[name].kind != "category"][:24]
    n, k = len(scores), len(terms)
    contribution = rng.normal(0, 0.25, (n, k)) * rng.random((n, k)) ** 2
    value = np.round(rng.uniform(0, 10, (n, k)), 2).astype(str)
    return pd.DataFrame(
        {
            "improvement_id": np.repeat(scores["improvement_id"].to_numpy(), k),
            "term": np.tile(terms, n),
            "value": value.ravel(),
            "contribution": contribution.ravel(),
        }
    )


def _write_model_folder(rng, folder: Path) -> None:
    (folder / "model_card.md").write_text(
        "# takehold hold model, version 7\n\n"
        "Intended use: rank improvements for oversight; never an automatic decision.\n\n"
        "Training data: monthly snapshots 2023-01 to 2026-04, 41,204 labelled rows.\n\n"
        "Limitations: <i>services with fewer than 3 months of checks</i> are uncertain.\n"
    )
    cutoffs = ["2025-04-30", "2025-07-31", "2025-10-31", "2026-01-31"]
    models = ["ga2m", "rules", "declared_status", "ebm", "spline_logistic"]
    grid = pd.MultiIndex.from_product([models, cutoffs], names=["model", "cutoff"]).to_frame(
        index=False
    )
    skill = grid["model"].map(
        {"ga2m": 0.77, "rules": 0.68, "declared_status": 0.6, "ebm": 0.765, "spline_logistic": 0.76}
    )
    grid = grid.assign(
        auroc=skill + rng.normal(0, 0.01, len(grid)),
        brier=0.25 - (skill - 0.5) * 0.3 + rng.normal(0, 0.003, len(grid)),
        log_loss=0.69 - (skill - 0.5) * 0.6,
        ece=rng.uniform(0.01, 0.06, len(grid)),
        n=rng.integers(2000, 4000, len(grid)),
        fit_seconds=rng.uniform(0.5, 120, len(grid)),
        score_seconds=rng.uniform(0.01, 1, len(grid)),
    )
    grid.to_csv(folder / "backtest.csv", index=False)
    bins = np.arange(10)
    reliability = pd.concat(
        [
            pd.DataFrame(
                {
                    "model": m,
                    "bin": bins,
                    "mean_predicted": (bins + 0.5) / 10,
                    "observed_rate": np.clip((bins + 0.5) / 10 + rng.normal(0, 0.04, 10), 0, 1),
                    "n": rng.integers(50, 500, 10),
                }
            )
            for m in ("ga2m", "rules")
        ],
        ignore_index=True,
    )
    reliability.to_csv(folder / "reliability.csv", index=False)
    _shape_functions(rng).to_parquet(folder / "shape_functions.parquet", index=False)
    threshold = {
        "min_months_at_standard": 3,
        "min_evidence_categories": 3,
        "min_team_share": 0.75,
        "max_repeat_gap_share": 0.2,
        "version": "v1",
    }
    (folder / "evidence_threshold.json").write_text(json.dumps(threshold, indent=2))


def _shape_functions(rng) -> pd.DataFrame:
    """The shape table as HoldModel.shape_functions writes it: numeric bins with a missing
    cell, a categorical term, a pair with few values of its second variable and one with many."""
    numeric = [name for name in FEATURE_NAMES if FEATURES_BY_NAME[name].kind == "numeric"][:8]
    frames = []
    for term in numeric:
        x = np.linspace(0, 10, 12)
        direction = FEATURES_BY_NAME[term].direction or 1
        frames.append(
            _shape_rows(
                term, [*x, np.nan], [*_bins(x), "missing"], [*(direction * np.log1p(x) / 4), -0.1]
            )
        )
    frames.append(_shape_rows("severity", [0.0, 1.0, 2.0], list(SEVERITIES), [0.2, 0.0, -0.3]))
    for pair, seconds in (
        ("compliance_margin_latest & team_count", 3),
        ("competency_pass_share_180d & confidence_gap_points", 12),
    ):
        first, second = pair.split(" & ")
        x = np.tile(np.linspace(-0.2, 0.2, 5), seconds)
        x2 = np.repeat(np.arange(seconds, dtype=float), 5)
        frames.append(
            _shape_rows(
                pair,
                x,
                _bins(x),
                x * (1 + x2 / 4),
                feature=first,
                feature2=second,
                x2=x2,
                x2_label=_bins(x2),
            )
        )
    return pd.concat(frames, ignore_index=True)


def _bins(x) -> list[str]:
    return [f"<= {v:.4g}" for v in x]


def _shape_rows(
    term, x, x_label, contribution, *, feature=None, feature2=None, x2=None, x2_label=None
) -> pd.DataFrame:
    n = len(x)
    return pd.DataFrame(
        {
            "term": term,
            "feature": feature or term,
            "x": np.asarray(x, dtype=float),
            "x_label": x_label,
            "feature2": feature2,
            "x2": np.nan if x2 is None else x2,
            "x2_label": x2_label,
            "contribution": np.asarray(contribution, dtype=float),
            "n_train": 50,
        },
        index=range(n),
    ).astype({"feature2": "str", "x2_label": "str"})


def _previous_scores(rng, scores: pd.DataFrame) -> pd.DataFrame:
    previous = scores.iloc[:-1].copy()  # the newest improvement did not exist last month
    moved = rng.random(len(previous)) < 0.15
    earlier = pd.Series(previous["stage"]).map(
        {
            "embedded": "consolidating",
            "consolidating": "emerging",
            "emerging": "not_started",
            "slipping": "embedded",
            "not_started": "not_started",
        }
    )
    previous["stage"] = np.where(moved, earlier, previous["stage"])
    previous["p_hold"] = np.clip(previous["p_hold"] + rng.normal(0, 0.08, len(previous)), 0, 1)
    previous["triggers"] = np.where(rng.random(len(previous)) < 0.5, previous["triggers"], "")
    previous["as_of"] = pd.Timestamp("2026-09-30")
    extra = previous.iloc[:1].assign(improvement_id="IMP-CLOSED", stage="embedded")
    return pd.concat([previous, extra], ignore_index=True)


def _manifest(scores: pd.DataFrame, services: pd.DataFrame, previous: str | None) -> dict:
    return {
        "run_id": RUN_ID,
        "as_of": AS_OF.date().isoformat(),
        "previous_run_id": previous,
        "inputs": {
            "services": {"rows": len(services)},
            "improvements": {"rows": len(scores)},
            "feedback": {"absent": True},
        },
        "counts": {"services": len(services), "improvements": len(scores)},
        "model": {"name": "takehold", "version": MODEL_VERSION, "alias": "champion"},
        "config": {"horizon_months": 6},
        "code_version": "0.1.0+g1234abc",
        "timings": {"total_seconds": 95.2},
    }


# --- the run history the report is given (`report.history.RunHistory`) --------------------------

HOSTILE_SIGNER = "<b>Dr Who</b>"
HOSTILE_NOTE = '=1+1 <script>alert(4)</script> "reviewed"'
EARLIER_DAYS = ("2026-03-31", "2026-06-30", "2026-09-30", "2026-10-30")
WARNING = {
    "kind": "identical_export",
    "file": "",
    "message": "This export is identical, file for file, to the one the run of 30 Oct 2026 read.",
}


def run_history(
    out_dir: Path, *, seed: int = 0, hostile: bool = True, days: tuple[str, ...] = EARLIER_DAYS
):
    """Earlier runs for the report of the run written by `write_run_outputs(out_dir)`, shaped
    as the history declares them (`contracts.tables.HISTORY_*`): a run at each of `days`
    (by default three quarter ends and last night), their scores drifting towards tonight's,
    sign-offs, and the comparison with the last run before the quarter (2026-09-30 by default)
    with real movement reasons. Also writes an input warning into the run's manifest."""
    from contracts.tables import (
        HISTORY_RUNS,
        HISTORY_SCORES,
        HISTORY_SERVICES,
        HISTORY_SIGNOFFS,
    )
    from models.governance import Explained, movement_reasons
    from report.history import (
        TREND_SCORE_COLUMNS,
        TREND_SERVICE_COLUMNS,
        Comparison,
        RunHistory,
    )

    rng = np.random.default_rng(seed)
    out_dir = Path(out_dir)
    scores = pd.read_parquet(out_dir / "scores.parquet")
    services = pd.read_csv(out_dir / "services.csv")
    contributions = pd.read_parquet(out_dir / "contributions.parquet")
    as_of = pd.to_datetime(list(days))
    quarter = int((as_of < AS_OF.to_period("Q").start_time).sum()) - 1
    runs = conform(
        pd.DataFrame(
            {
                "run_id": [f"{d.replace('-', '')}-T020000-earlier" for d in days],
                "out": str(out_dir.resolve()),
                "as_of": as_of,
                "finished_at": as_of + pd.Timedelta(days=1, hours=2),
                "previous_run_id": None,
                "export": "/exports/group",
                "model_name": "takehold",
                "model_version": np.where(np.arange(len(days)) <= quarter, "6", MODEL_VERSION),
                "model_run_id": "mlflow-run",
                "code_version": "0.1.0",
                "services": len(services),
                "improvements": len(scores),
                "warnings": 0,
                "config": "{}",
            }
        ),
        HISTORY_RUNS,
    )
    earlier_scores, earlier_services = [], []
    for step, run_id in enumerate(runs["run_id"]):
        drift = (len(runs) - step) * 0.06
        older = scores.assign(
            run_id=run_id,
            as_of=runs["as_of"].iloc[step],
            p_hold=np.clip(scores["p_hold"] + rng.normal(0, drift, len(scores)), 0.01, 0.99),
            stage=np.where(rng.random(len(scores)) < drift, "emerging", scores["stage"]),
            claim_check=np.where(
                rng.random(len(scores)) < drift, "overclaim", scores["claim_check"]
            ),
        )
        older = older.assign(p_hold_low=older["p_hold"] - 0.05, p_hold_high=older["p_hold"] + 0.05)
        earlier_scores.append(conform(older, HISTORY_SCORES))
        ranked = services.sample(frac=1, random_state=step).assign(
            rank=np.arange(1, len(services) + 1), run_id=run_id
        )
        earlier_services.append(conform(ranked, HISTORY_SERVICES))
    all_scores = pd.concat(earlier_scores, ignore_index=True)
    all_services = pd.concat(earlier_services, ignore_index=True)
    signer = HOSTILE_SIGNER if hostile else "A. Analyst"
    signoffs = conform(
        pd.DataFrame(
            {
                "run_id": [runs["run_id"].iloc[quarter], RUN_ID],
                "signed_by": ["Q. Lead", signer],
                "signed_at": pd.to_datetime(["2026-10-02 09:30", "2026-11-01 10:15"]),
                "note": ["Q3 reviewed", HOSTILE_NOTE if hostile else "Ready for Q4"],
            }
        ),
        HISTORY_SIGNOFFS,
    ).assign(as_of=[runs["as_of"].iloc[quarter], AS_OF])
    quarter_id = runs["run_id"].iloc[quarter]
    quarter_scores = earlier_scores[quarter].drop(columns="run_id")
    before = contributions.assign(
        contribution=contributions["contribution"] + rng.normal(0, 0.3, len(contributions))
    )
    moves, terms = movement_reasons(
        Explained(quarter_scores.set_index("improvement_id")["p_hold"], before),
        Explained(scores.set_index("improvement_id")["p_hold"], contributions),
        None,
        same_model=False,
        threshold=0.1,
    )
    moves = moves.assign(
        evidence_change=moves["change"] * 0.7,
        model_change=moves["change"] * 0.3,
        moved_by="new evidence",
    )
    comparison = Comparison(
        run=runs.iloc[quarter].to_dict(),
        why="the last run before this quarter (Q4 2026) began",
        scores=quarter_scores,
        services=earlier_services[quarter].drop(columns="run_id"),
        moves=moves,
        move_terms=terms,
        notes=(f"Model version 6 scored run {quarter_id}.",),
    )
    manifest = json.loads((out_dir / "manifest.json").read_text())
    manifest["warnings"] = [WARNING]
    (out_dir / "manifest.json").write_text(json.dumps(manifest, indent=2))
    return RunHistory(
        runs=runs,
        scores=all_scores[list(TREND_SCORE_COLUMNS)],
        services=all_services[list(TREND_SERVICE_COLUMNS)],
        signoffs=signoffs,
        comparison=comparison,
        comparison_note=comparison.why,
        database="sqlite:///history.db",
    )
