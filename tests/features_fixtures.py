"""Small typed export tables for the feature and label tests.

Tables are typed by the real loader (`pipelines.io.type_frame`), so they look exactly like
what the pipeline hands to `features`: an index named `row`, dates at midnight, `Int64`
counts, `category` vocabularies, `str` ids.
"""

from __future__ import annotations

import pandas as pd

from contracts.export import FILES_BY_NAME
from pipelines.io import type_frame

LOCATION = "1-123456789"
OTHER_LOCATION = "1-987654321"


def typed(name: str, records: list[dict]) -> pd.DataFrame:
    """A contract table from records (missing columns become missing values)."""
    spec = FILES_BY_NAME[name]
    raw = pd.DataFrame(records, columns=list(spec.column_names)).astype("object")
    return type_frame(raw, spec).frame


def improvement(improvement_id: str = "imp-1", **overrides) -> dict:
    record = {
        "improvement_id": improvement_id,
        "location_id": LOCATION,
        "theme": "falls",
        "key_question": "safe",
        "severity": "significant",
        "origin": "incident",
        "identified_on": "2025-01-05",
        "action_started_on": "2025-01-20",
        "standard": 0.8,
    }
    return {**record, **overrides}


def check(
    day: str,
    sampled: int,
    met: int,
    *,
    improvement_id: str = "imp-1",
    team: str = "A",
    source: str = "audit",
    check_id: str | None = None,
    **extra,
) -> dict:
    record = {
        "check_id": check_id or f"c-{improvement_id}-{day}-{team}-{source}-{sampled}-{met}",
        "improvement_id": improvement_id,
        "team": team,
        "source": source,
        "checked_on": day,
        "sampled": sampled,
        "met": met,
    }
    return {**record, **extra}


def service(location_id: str = LOCATION, service_type: str = "care_home_nursing") -> dict:
    return {
        "location_id": location_id,
        "provider_id": "1-100000001",
        "name": "Home",
        "service_type": service_type,
    }


def tables(checks: list[dict], improvements: list[dict] | None = None, **optional) -> dict:
    """services, improvements and checks, plus any optional table given as records."""
    improvements = improvements if improvements is not None else [improvement()]
    locations = sorted({i["location_id"] for i in improvements})
    out = {
        "services": typed("services", [service(loc) for loc in locations]),
        "improvements": typed("improvements", improvements),
        "checks": typed("checks", checks),
    }
    for name, records in optional.items():
        out[name] = typed(name, records)
    return out
