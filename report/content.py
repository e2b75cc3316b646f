"""Everything the report page shows, assembled from run outputs as plain template data.

Values are passed through untouched (the template escapes them); only chart SVG, cleaned by
`report.svg`, is marked safe. Anchors inside the page are positional (`svc-3`,
`imp-41`), never built from export values.
"""

from __future__ import annotations

import pandas as pd
from markupsafe import Markup

from report import tables
from report.reading import RunOutputs

NO_CHARTS = {
    "spc_svg": None,
    "factor_svg": None,
    "sparkline_svg": None,
    "variation": None,
    "assurance": None,
}
# Services at the top of the oversight ranking open by default; the rest stay folded so the
# page reads on a laptop (printing opens every section).
OPEN_SERVICES = 3
# Services at the top of the ranking show every improvement in full (reasons, evidence,
# timeline, charts); the rest one table row each. 6,800 full cards for a 300-service group
# would be 25 MB of HTML that nobody reads at a quarterly meeting; every row is still in
# tables/improvements.csv.
DETAILED_SERVICES = 30


# What a run of the rules alone has no use for: it is said once why, not listed as missing.
MODEL_DOCUMENTS = ("backtest.csv", "reliability.csv", "shape_functions.parquet", "model_card.md")


def run_facts(outputs: RunOutputs) -> dict:
    """Run, model and provenance facts from the manifest (missing ones are None).

    A run of the rules alone (no model: `rules_only` in the manifest) carries why, and the
    share of improvements at each stage that held, which ranked its services instead.
    """
    manifest, model = outputs.manifest, outputs.manifest.get("model") or {}
    providers = sorted(outputs.services["provider_id"].dropna().astype("str").unique())
    rules_only = bool(model.get("rules_only"))
    shares = ((manifest.get("config") or {}).get("ranking") or {}).get("rules_hold_shares") or {}
    return {
        "run_id": manifest.get("run_id"),
        "as_of": manifest.get("as_of"),
        "previous_run_id": manifest.get("previous_run_id"),
        "code_version": manifest.get("code_version"),
        "provider_ids": tuple(providers),
        "model_name": model.get("name"),
        "model_version": model.get("version"),
        "model_alias": model.get("alias"),
        "rules_only": rules_only,
        "rules_only_because": model.get("rules_only_because"),
        "rules_hold_shares": [(str(stage), share) for stage, share in shares.items()],
        "absent": tuple(a for a in outputs.absent if not (rules_only and a in MODEL_DOCUMENTS)),
    }


def ordered_improvements(outputs: RunOutputs) -> pd.DataFrame:
    """Scores with service name and rank, in page order, with positional anchors.

    Order: service rank, then improvements needing attention, then lowest probability of
    holding first (the ones most likely to slip).
    """
    named = tables.with_service_names(outputs.scores, outputs.services)
    named = named.assign(attention=tables.needs_attention(named))
    ordered = named.sort_values(
        ["service_rank", "attention", "p_hold", "improvement_id"],
        ascending=[True, False, True, True],
        na_position="last",
        ignore_index=True,
    )
    return ordered.assign(anchor=[f"imp-{i + 1}" for i in range(len(ordered))])


def summary_content(
    outputs: RunOutputs, improvements: pd.DataFrame, stage_chart: str, changes: pd.DataFrame
) -> dict:
    """The provider-group summary: stages, over-claims, triggers and what changed."""
    anchors = improvements[["improvement_id", "anchor"]]
    linked = _linked(anchors)
    names = outputs.services[["location_id", "name"]].rename(columns={"name": "service"})
    return {
        "service_count": len(outputs.services),
        "improvement_count": len(improvements),
        "stage_counts": _records(tables.stage_counts(outputs.scores)),
        "stage_chart": Markup(stage_chart),
        "overclaims": _records(linked(tables.overclaims(improvements))),
        "triggered": _records(linked(tables.triggered(improvements))),
        "has_previous": outputs.previous_scores is not None,
        "change_summary": _records(tables.change_summary(changes)),
        "changes": _records(linked(changes.merge(names, on="location_id", how="left"))),
    }


def service_content(
    services: pd.DataFrame,
    improvements: pd.DataFrame,
    items: dict[str, dict],
    detailed_services: int = DETAILED_SERVICES,
) -> list[dict]:
    """One entry per service in rank order, each with its improvements' page items.

    The first `detailed_services` entries are `detailed` (full cards); the rest compact rows.
    """
    ranked = tables.ranked_services(services)
    by_service = improvements.groupby("location_id", sort=False)["improvement_id"].agg(list)
    entries = []
    for position, service in enumerate(_records(ranked)):
        ids = by_service.get(service["location_id"], [])
        entries.append(
            {
                **service,
                "anchor": f"svc-{position + 1}",
                "open": position < OPEN_SERVICES,
                "detailed": position < detailed_services,
                "improvement_list": [items[i] for i in ids],
            }
        )
    return entries


def detailed_service_ids(
    services: pd.DataFrame, detailed_services: int = DETAILED_SERVICES
) -> set[str]:
    """Location ids of the services shown in full (the first in the oversight ranking)."""
    ranked = tables.ranked_services(services)
    return set(ranked["location_id"].head(max(detailed_services, 0)))


LATEST_REVIEWS_SHOWN = 6


def recent_timeline(timeline: pd.DataFrame, reviews: int = LATEST_REVIEWS_SHOWN) -> pd.DataFrame:
    """Every milestone (identified, action started, declared) and the latest `reviews` governance
    reviews of each improvement: monthly reviews over years would bury the story."""
    if timeline.empty:
        return timeline
    is_review = timeline["event"].astype("str") == "review"
    latest = (
        timeline[is_review]
        .sort_values(["improvement_id", "date"], kind="mergesort")
        .groupby("improvement_id", sort=False)
        .tail(reviews)
    )
    return pd.concat([timeline[~is_review], latest]).sort_values(
        ["improvement_id", "date", "event"], kind="mergesort"
    )


def improvement_items(
    improvements: pd.DataFrame,
    factors: pd.DataFrame,
    timeline: pd.DataFrame,
    points: pd.DataFrame,
    charts: dict[str, dict],
) -> dict[str, dict]:
    """Page items per improvement id: scores, factors, timeline, latest compliance, charts."""
    factor_lists = _grouped_records(factors, ["term", "value", "contribution", "direction"])
    event_lists = _grouped_records(recent_timeline(timeline), ["date", "event", "detail"])
    latest = points.groupby("improvement_id").agg(
        months=("y", "size"), latest=("y", "last"), standard=("standard", "last")
    )
    rows = improvements.join(latest, on="improvement_id")
    items = {}
    for row in _records(rows):
        key = row["improvement_id"]
        items[key] = {
            **row,
            **NO_CHARTS,
            **charts.get(key, {}),
            "stage_class": _css_token(row["stage"]),
            "claim_class": _css_token(row["claim_check"]),
            "factors": factor_lists.get(key, []),
            "timeline": event_lists.get(key, []),
        }
    return items


def model_content(outputs: RunOutputs, reliability_svg: str | None, shapes_svg: str | None) -> dict:
    """The analysts' section: backtest tables, charts, evidence threshold and model card."""
    threshold = outputs.evidence_threshold
    return {
        "backtest_summary": _records(tables.backtest_summary(outputs.backtest)),
        "backtest": _records(outputs.backtest),
        "reliability_svg": Markup(reliability_svg) if reliability_svg else None,
        "shapes_svg": Markup(shapes_svg) if shapes_svg else None,
        "threshold": [(str(k), _plain(v)) for k, v in threshold.items()],
        "card": outputs.model_card,
    }


def _linked(anchors: pd.DataFrame):
    def link(frame: pd.DataFrame) -> pd.DataFrame:
        return frame.merge(anchors, on="improvement_id", how="left")

    return link


def _records(frame: pd.DataFrame) -> list[dict]:
    """Rows as dicts with missing values as None (so the template shows a dash)."""
    return frame.astype("object").where(frame.notna(), None).to_dict("records")


def _grouped_records(frame: pd.DataFrame, columns: list[str]) -> dict[str, list[dict]]:
    records = _records(frame[["improvement_id", *columns]])
    grouped: dict[str, list[dict]] = {}
    for record in records:
        grouped.setdefault(record.pop("improvement_id"), []).append(record)
    return grouped


def _css_token(value) -> str:
    """A CSS class suffix from a code value; anything unexpected becomes 'other'."""
    text = str(value) if value is not None else ""
    return text if text.replace("_", "").isalnum() and text.isascii() else "other"


def _plain(value):
    return value if isinstance(value, str | int | float | bool) or value is None else str(value)
