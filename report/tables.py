"""The report's tables, built from run outputs by selection and joins only (no rescoring).

Every function takes frames read from OUT and returns a new frame; nothing is mutated. The
same tables feed the HTML page and the spreadsheet export, so both always agree.
"""

from __future__ import annotations

import pandas as pd

STAGE_ORDER = ("not_started", "emerging", "consolidating", "embedded", "slipping")
# A move in the probability of holding at least this large (10 percentage points) since the
# previous run is listed under "what changed"; smaller moves are within a run's usual noise.
NOTABLE_PROBABILITY_CHANGE = 0.10
CHANGE_ORDER = ("new", "no_longer_scored", "stage_changed", "new_trigger", "probability_moved")
# What the comparison with an earlier run lists (moves of the probability are explained
# separately: `models.governance.movement_reasons`).
COMPARISON_ORDER = (
    "new",
    "no_longer_scored",
    "stage_changed",
    "claim_changed",
    "new_trigger",
    "trigger_cleared",
)
CHANGE_COLUMNS = ["improvement_id", "location_id", "change", "before", "after"]


def ranked_services(services: pd.DataFrame) -> pd.DataFrame:
    """Services in oversight order (rank 1 first: the service to look at first)."""
    return services.sort_values(["rank", "location_id"], ignore_index=True)


def stage_counts(scores: pd.DataFrame) -> pd.DataFrame:
    """Improvements per stage in the pipeline's stage order, then any other stage seen."""
    counts = scores["stage"].astype("str").value_counts()
    order = [s for s in STAGE_ORDER if s in counts.index]
    order += sorted(s for s in counts.index if s not in STAGE_ORDER)
    return pd.DataFrame({"stage": order, "improvements": counts.reindex(order).to_numpy()})


def with_service_names(scores: pd.DataFrame, services: pd.DataFrame) -> pd.DataFrame:
    """Scores with the service's name and oversight rank beside each improvement."""
    names = services[["location_id", "name", "rank"]].rename(
        columns={"name": "service", "rank": "service_rank"}
    )
    return scores.merge(names, on="location_id", how="left")


CLAIM_COLUMNS = [
    "service_rank",
    "service",
    "improvement_id",
    "theme",
    "declared_status",
    "stage",
    "p_hold",
    "p_hold_low",
    "p_hold_high",
    "claim_reason",
]


def overclaims(named_scores: pd.DataFrame) -> pd.DataFrame:
    """Improvements whose leaders declare more than the evidence shows (claim_check overclaim)."""
    return _with_claim(named_scores, "overclaim")


def underclaims(named_scores: pd.DataFrame) -> pd.DataFrame:
    """Improvements whose evidence supports more than leaders declare (claim_check underclaim)."""
    return _with_claim(named_scores, "underclaim")


def _with_claim(named_scores: pd.DataFrame, claim: str) -> pd.DataFrame:
    picked = named_scores[named_scores["claim_check"] == claim]
    return picked.sort_values(["service_rank", "improvement_id"])[CLAIM_COLUMNS].reset_index(
        drop=True
    )


def triggered(named_scores: pd.DataFrame) -> pd.DataFrame:
    """Improvements with at least one escalation trigger, with the recommended escalations."""
    picked = named_scores[named_scores["triggers"].map(len) > 0]
    columns = [
        "service_rank",
        "service",
        "improvement_id",
        "theme",
        "stage",
        "triggers",
        "trigger_reasons",
        "escalations",
    ]
    return picked.sort_values(["service_rank", "improvement_id"])[columns].reset_index(drop=True)


TEAM_SHOWN = [
    "team",
    "status",
    "months_at_standard",
    "latest_compliance",
    "prompts_per_observation",
    "competency_pass_share",
    "keyworker_continuity",
    "agency_shift_share",
    "complaints_90d",
]


def teams_of(teams: pd.DataFrame, improvement_ids) -> pd.DataFrame:
    """The team rows of the given improvements, below the standard first, then by name."""
    wanted = pd.Index(pd.unique(pd.Series(list(improvement_ids), dtype="object")))
    picked = teams[wanted.get_indexer(teams["improvement_id"].astype("object")) >= 0]
    order = picked["status"].map({"below standard": 0, "at standard": 1}).fillna(2)
    return (
        picked.assign(_order=order)
        .sort_values(["improvement_id", "_order", "team"], kind="mergesort")
        .drop(columns="_order")[["improvement_id", *TEAM_SHOWN]]
    )


def needs_attention(scores: pd.DataFrame) -> pd.Series:
    """True for improvements a reader must look at: a trigger, an over-claim or slipping."""
    return (
        (scores["triggers"].map(len) > 0)
        | (scores["claim_check"] == "overclaim")
        | (scores["stage"] == "slipping")
    )


def changes_since_previous(scores: pd.DataFrame, previous: pd.DataFrame | None) -> pd.DataFrame:
    """What changed since the previous run, one row per improvement and kind of change.

    Kinds: new (scored now, not before), no_longer_scored, stage_changed, new_trigger (a
    trigger that did not fire last run) and probability_moved (by NOTABLE_PROBABILITY_CHANGE
    or more). `before` and `after` give the old and new stage, trigger or probability as text.
    """
    if previous is None:
        return _no_changes()
    both = _side_by_side(scores, previous)
    parts = [
        _new_and_gone(both),
        _stage_changes(both),
        _trigger_changes(both, "new_trigger"),
        _probability_moves(both),
    ]
    return _in_order(parts, CHANGE_ORDER)


def changes_between(scores: pd.DataFrame, earlier: pd.DataFrame) -> pd.DataFrame:
    """What changed since an earlier run, one row per improvement and kind of change
    (`COMPARISON_ORDER`): new, no_longer_scored, stage_changed, claim_changed (the claim check
    of the declared status against the evidence), new_trigger and trigger_cleared."""
    both = _side_by_side(scores, earlier)
    parts = [
        _new_and_gone(both),
        _stage_changes(both),
        _claim_changes(both),
        _trigger_changes(both, "new_trigger"),
        _trigger_changes(both, "trigger_cleared"),
    ]
    return _in_order(parts, COMPARISON_ORDER)


def count_changes(changes: pd.DataFrame, order: tuple[str, ...]) -> pd.DataFrame:
    """Improvements per kind of change, in `order`, zero when none."""
    counts = changes["change"].value_counts().reindex(list(order), fill_value=0)
    return pd.DataFrame({"change": list(order), "improvements": counts.to_numpy()})


def service_moves(services: pd.DataFrame, earlier: pd.DataFrame, places: int) -> pd.DataFrame:
    """Services whose oversight rank moved by at least `places` since an earlier run, or that
    are new to the ranking or left it: location_id, name, rank_before, rank, places_up
    (positive: moved up, towards more oversight), priority_before, priority_score. Largest
    move first."""
    now = services[["location_id", "name", "rank", "priority_score"]]
    then = earlier[["location_id", "name", "rank", "priority_score"]].rename(
        columns={"name": "name_before", "rank": "rank_before", "priority_score": "priority_before"}
    )
    both = now.merge(then, on="location_id", how="outer", indicator=True)
    up = both["rank_before"] - both["rank"]
    both = both.assign(
        places_up=up,
        name=both["name"].fillna(both["name_before"]),
        _size=-up.abs().fillna(float("inf")),  # arrivals and departures first
    )
    picked = both[(up.abs() >= places) | (both["_merge"] != "both")]
    columns = ["location_id", "name", "rank_before", "rank", "places_up", "priority_before"]
    return picked.sort_values(["_size", "rank", "location_id"], kind="mergesort")[
        [*columns, "priority_score"]
    ].reset_index(drop=True)


def change_summary(changes: pd.DataFrame) -> pd.DataFrame:
    """Count of changes per kind, in a fixed order, zero when none."""
    return count_changes(changes, CHANGE_ORDER)


def backtest_summary(backtest: pd.DataFrame) -> pd.DataFrame:
    """Mean of each backtest metric per model over the rolling-origin cutoffs, best AUROC first."""
    if backtest.empty:
        return backtest
    metrics = ["auroc", "brier", "log_loss", "ece", "fit_seconds", "score_seconds"]
    summary = backtest.groupby("model", sort=False)[metrics].mean()
    summary = summary.assign(
        cutoffs=backtest.groupby("model", sort=False)["cutoff"].nunique(),
        n=backtest.groupby("model", sort=False)["n"].sum(),
    )
    return summary.sort_values("auroc", ascending=False).reset_index()


def _no_changes() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="str") for c in CHANGE_COLUMNS})


def _side_by_side(scores: pd.DataFrame, earlier: pd.DataFrame) -> pd.DataFrame:
    """Every improvement of either run, this run's columns beside the earlier's (`_before`)."""
    both = scores.merge(
        earlier, on="improvement_id", how="outer", suffixes=("", "_before"), indicator=True
    )
    return both.assign(location_id=both["location_id"].fillna(both["location_id_before"]))


def _in_order(parts: list[pd.DataFrame], order: tuple[str, ...]) -> pd.DataFrame:
    changes = pd.concat([p[CHANGE_COLUMNS] for p in parts], ignore_index=True)
    rank = changes["change"].map({c: i for i, c in enumerate(order)})
    return (
        changes.assign(_order=rank)
        .sort_values(["_order", "improvement_id"])
        .drop(columns="_order")
        .reset_index(drop=True)
    )


def _new_and_gone(both: pd.DataFrame) -> pd.DataFrame:
    new = both[both["_merge"] == "left_only"].assign(
        change="new", before="", after=lambda f: f["stage"].astype("str")
    )
    gone = both[both["_merge"] == "right_only"].assign(
        change="no_longer_scored", before=lambda f: f["stage_before"].astype("str"), after=""
    )
    return pd.concat([new, gone])


def _stage_changes(both: pd.DataFrame) -> pd.DataFrame:
    matched = both[both["_merge"] == "both"]
    moved = matched[matched["stage"].astype("str") != matched["stage_before"].astype("str")]
    return moved.assign(
        change="stage_changed",
        before=moved["stage_before"].astype("str"),
        after=moved["stage"].astype("str"),
    )


def _claim_changes(both: pd.DataFrame) -> pd.DataFrame:
    matched = both[both["_merge"] == "both"]
    now, then = matched["claim_check"].astype("str"), matched["claim_check_before"].astype("str")
    moved = matched[now != then]
    return moved.assign(change="claim_changed", before=then[now != then], after=now[now != then])


def _trigger_changes(both: pd.DataFrame, kind: str) -> pd.DataFrame:
    """Triggers that fire now and did not before (new_trigger), or the other way round
    (trigger_cleared), joined per improvement in the run's order."""
    matched = both[both["_merge"] == "both"]
    fired, other = ("triggers", "triggers_before")
    if kind == "trigger_cleared":
        fired, other = other, fired
    here = matched[["improvement_id", "location_id", fired]].explode(fired)
    there = matched[["improvement_id", other]].explode(other)
    joined = here.dropna(subset=[fired]).merge(
        there.rename(columns={other: fired}),
        on=["improvement_id", fired],
        how="left",
        indicator="_seen",
    )
    only = joined[joined["_seen"] == "left_only"]
    listed = only.groupby(["improvement_id", "location_id"], as_index=False)[fired].agg("; ".join)
    if kind == "trigger_cleared":
        return listed.assign(change=kind, after="").rename(columns={fired: "before"})
    return listed.assign(change=kind, before="").rename(columns={fired: "after"})


def _probability_moves(both: pd.DataFrame) -> pd.DataFrame:
    matched = both[both["_merge"] == "both"]
    delta = matched["p_hold"] - matched["p_hold_before"]
    moved = matched[delta.abs() >= NOTABLE_PROBABILITY_CHANGE]
    return moved.assign(
        change="probability_moved",
        before=moved["p_hold_before"].map("{:.0%}".format),
        after=moved["p_hold"].map("{:.0%}".format),
    )
