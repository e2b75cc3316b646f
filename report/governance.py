"""The report's governance-over-time content: trends, the comparison with an earlier run and why
probabilities moved, sign-offs, and warnings about the input.

Built from a `RunHistory` (what the caller read from the run history) and the run's own
outputs; like the rest of the report, it selects and joins, it never rescores.
"""

from __future__ import annotations

import pandas as pd

from contracts.params import GovernanceParams
from report import tables, trends
from report.content import _grouped_records, _records
from report.history import Comparison, RunHistory
from report.reading import RunOutputs, scores_frame

RECENT_SIGNOFFS = 5


def improvement_trends(history: RunHistory, outputs: RunOutputs) -> dict[str, dict]:
    """Each improvement's trend for the page (see `report.trends`), by improvement id; an
    improvement seen at this run only has a trend of one point."""
    found = trends.points(history, outputs)
    drawn = trends.improvement_trends(found)
    if drawn.empty:
        return {}
    stretches = _grouped(trends.stage_segments(found))
    first_day = found.groupby("improvement_id", sort=False)["as_of"].first()
    drawn = drawn.assign(first_day=first_day)
    return {
        key: {**row, "segments": stretches.get(key, [])}
        for key, row in zip(drawn.index, _records(drawn), strict=True)
    }


def service_trends(history: RunHistory, outputs: RunOutputs) -> dict[str, dict]:
    """Each service's priority and rank over the runs shown, by location id."""
    drawn = trends.service_trends(trends.service_points(history, outputs))
    if drawn.empty:
        return {}
    return dict(zip(drawn.index, _records(drawn), strict=True))


def governance_content(
    outputs: RunOutputs,
    improvements: pd.DataFrame,
    history: RunHistory,
    params: GovernanceParams,
) -> dict:
    """Template data: the history's reach, the comparison, sign-offs and input warnings."""
    run_id = outputs.manifest.get("run_id")
    signoffs = history.signoffs.sort_values("signed_at", ascending=False, kind="mergesort")
    comparison = history.comparison
    return {
        "trend_runs": len(history.runs),
        "trend_first": history.runs["as_of"].min() if len(history.runs) else None,
        "database": history.database,
        "notes": list(history.notes),
        "warnings": list(outputs.manifest.get("warnings") or []),
        "signed": _records(signoffs[signoffs["run_id"] == run_id]),
        "recent_signoffs": _records(signoffs.head(RECENT_SIGNOFFS)),
        "comparison": None
        if comparison is None
        else comparison_content(outputs, improvements, comparison, signoffs, params),
        "comparison_note": history.comparison_note,
    }


def comparison_content(
    outputs: RunOutputs,
    improvements: pd.DataFrame,
    comparison: Comparison,
    signoffs: pd.DataFrame,
    params: GovernanceParams,
) -> dict:
    """The comparison section: the earlier run, services that moved in the ranking,
    improvements that changed, and why probabilities moved."""
    earlier = scores_frame(comparison.scores)
    anchors = improvements[["improvement_id", "anchor", "service"]]
    changes = tables.changes_between(outputs.scores, earlier).merge(
        anchors, on="improvement_id", how="left"
    )
    moved_services = tables.service_moves(
        outputs.services, comparison.services, params.rank_move_places
    ).merge(service_anchors(outputs.services), on="location_id", how="left")
    moves = comparison.moves.merge(anchors, on="improvement_id", how="left")
    terms = _grouped(comparison.move_terms)
    run = comparison.run
    return {
        "run_id": run.get("run_id"),
        "as_of": run.get("as_of"),
        "model_version": run.get("model_version"),
        "why": comparison.why,
        "notes": list(comparison.notes),
        "signed": _records(signoffs[signoffs["run_id"] == run.get("run_id")]),
        "counts": _records(tables.count_changes(changes, tables.COMPARISON_ORDER)),
        "services_moved": _records(moved_services),
        "rank_move_places": params.rank_move_places,
        "changes": _records(changes),
        "moves": [{**m, "terms": terms.get(m["improvement_id"], [])} for m in _records(moves)],
        "threshold": params.movement_threshold,
    }


def board_tables(content: dict) -> dict[str, pd.DataFrame]:
    """The comparison as tables for board papers (empty when there is no comparison)."""
    comparison = content.get("comparison")
    if not comparison:
        return {}
    moves = pd.DataFrame(comparison["moves"])
    terms = [
        {"improvement_id": m["improvement_id"], **t}
        for m in comparison["moves"]
        for t in m["terms"]
    ]
    return {
        "compared_changes": pd.DataFrame(comparison["changes"]).drop(
            columns=["anchor"], errors="ignore"
        ),
        "service_moves": pd.DataFrame(comparison["services_moved"]).drop(
            columns=["anchor"], errors="ignore"
        ),
        "why_it_moved": moves.drop(columns=["anchor", "terms"], errors="ignore"),
        "why_it_moved_terms": pd.DataFrame(terms),
    }


def service_anchors(services: pd.DataFrame) -> pd.DataFrame:
    """location_id -> the service's anchor on the page (`svc-N`, N its place in rank order)."""
    ranked = tables.ranked_services(services)
    return pd.DataFrame(
        {
            "location_id": ranked["location_id"],
            "anchor": [f"svc-{i + 1}" for i in range(len(ranked))],
        }
    )


def _grouped(frame: pd.DataFrame) -> dict[str, list[dict]]:
    """Records per improvement id (in the frame's order), without the id."""
    return _grouped_records(frame, [c for c in frame.columns if c != "improvement_id"])
