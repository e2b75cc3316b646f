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
# Rows of the comparison drawn in the page (the largest moves first, changes in kind order);
# every row is in tables/why_it_moved.csv and tables/compared_changes.csv. A quarter at 300
# services can move thousands: the page is for reading, the tables for searching.
MOVES_IN_PAGE = 200
CHANGES_IN_PAGE = 500


def improvement_trends(
    history: RunHistory, outputs: RunOutputs, carded: set[str] | None = None
) -> dict[str, dict]:
    """Each improvement's trend for the page (see `report.trends`), by improvement id; an
    improvement seen at this run only has a trend of one point. The card's line, band and
    stage strip for the improvements in `carded` only, when given."""
    found = trends.points(history, outputs)
    drawn = trends.improvement_trends(found, carded)
    if drawn.empty:
        return {}
    on_cards = found if carded is None else found[found["improvement_id"].isin(carded)]
    stretches = _grouped(trends.stage_segments(on_cards))
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
) -> tuple[dict, dict[str, pd.DataFrame]]:
    """Template data (the history's reach, the comparison, sign-offs, input warnings), and the
    comparison's tables for board papers with every row (the page draws the first ones)."""
    run_id = outputs.manifest.get("run_id")
    signoffs = history.signoffs.sort_values("signed_at", ascending=False, kind="mergesort")
    compared, board = (None, {})
    if history.comparison is not None:
        compared, board = comparison_content(
            outputs, improvements, history.comparison, signoffs, params
        )
    content = {
        "trend_runs": len(history.runs),
        "trend_first": history.runs["as_of"].min() if len(history.runs) else None,
        "database": history.database,
        "notes": list(history.notes),
        "warnings": list(outputs.manifest.get("warnings") or []),
        "signed": _records(signoffs[signoffs["run_id"] == run_id]),
        "recent_signoffs": _records(signoffs.head(RECENT_SIGNOFFS)),
        "comparison": compared,
        "comparison_note": history.comparison_note,
    }
    return content, board


def comparison_content(
    outputs: RunOutputs,
    improvements: pd.DataFrame,
    comparison: Comparison,
    signoffs: pd.DataFrame,
    params: GovernanceParams,
) -> tuple[dict, dict[str, pd.DataFrame]]:
    """The comparison section (the earlier run, services that moved in the ranking,
    improvements that changed, why probabilities moved: the first MOVES_IN_PAGE moves and
    CHANGES_IN_PAGE changes), and the same as board tables with every row."""
    earlier = scores_frame(comparison.scores)
    anchors = improvements[["improvement_id", "anchor", "service"]]
    changes = tables.changes_between(outputs.scores, earlier).merge(
        anchors, on="improvement_id", how="left"
    )
    moved_services = tables.service_moves(
        outputs.services, comparison.services, params.rank_move_places
    ).merge(service_anchors(outputs.services), on="location_id", how="left")
    moves = comparison.moves.merge(anchors, on="improvement_id", how="left")
    shown = moves.head(MOVES_IN_PAGE)
    terms = _grouped(
        comparison.move_terms[comparison.move_terms["improvement_id"].isin(shown["improvement_id"])]
    )
    run = comparison.run
    content = {
        "run_id": run.get("run_id"),
        "as_of": run.get("as_of"),
        "model_version": run.get("model_version"),
        "why": comparison.why,
        "notes": list(comparison.notes),
        "signed": _records(signoffs[signoffs["run_id"] == run.get("run_id")]),
        "counts": _records(tables.count_changes(changes, tables.COMPARISON_ORDER)),
        "services_moved": _records(moved_services),
        "rank_move_places": params.rank_move_places,
        "changes": _records(changes.head(CHANGES_IN_PAGE)),
        "changes_total": len(changes),
        "moves": [{**m, "terms": terms.get(m["improvement_id"], [])} for m in _records(shown)],
        "moves_total": len(moves),
        "threshold": params.movement_threshold,
    }
    without_anchor = {"columns": ["anchor"], "errors": "ignore"}
    board = {
        "compared_changes": changes.drop(**without_anchor),
        "service_moves": moved_services.drop(**without_anchor),
        "why_it_moved": moves.drop(**without_anchor),
        "why_it_moved_terms": comparison.move_terms,
    }
    return content, board


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
