"""Eligible as-of dates (spec rule 6), training snapshots and monthly compliance."""

from __future__ import annotations

import pandas as pd
import pytest
from features_fixtures import check, improvement, tables

from features.columns import FEATURE_NAMES, LABEL_COLUMNS
from features.monthly import monthly_compliance
from features.snapshots import build_training_snapshots, eligible_as_of_dates


def pairs(frame: pd.DataFrame) -> list[tuple[str, str]]:
    return list(zip(frame["improvement_id"], frame["as_of"].dt.strftime("%Y-%m-%d"), strict=True))


IMPROVEMENTS = [
    improvement("imp-1", action_started_on="2025-01-20"),  # first primary check Feb 10
    improvement("imp-2", action_started_on="2025-03-31"),  # action on a month-end
    improvement("imp-3", action_started_on=None),  # no action: never eligible
    improvement("imp-4", action_started_on="2025-01-20"),  # only competency checks
]
CHECKS = [
    check("2025-02-10", 10, 9, improvement_id="imp-1"),
    check("2025-01-10", 10, 9, improvement_id="imp-2"),
    check("2025-01-10", 10, 9, improvement_id="imp-3"),
    check("2025-01-10", 10, 9, improvement_id="imp-4", source="competency"),
]


def test_eligible_as_of_dates_follow_rule_6():
    found = eligible_as_of_dates(tables(CHECKS, IMPROVEMENTS), "2025-01-01", "2025-04-15")
    assert pairs(found) == [
        ("imp-1", "2025-02-28"),
        ("imp-1", "2025-03-31"),
        ("imp-2", "2025-03-31"),
    ]


@pytest.mark.parametrize(
    ("observable_by", "expected"),
    [
        (None, [("imp-1", "2025-02-28"), ("imp-1", "2025-03-31"), ("imp-2", "2025-03-31")]),
        # the window of 2025-02-28 is March to August: it ends on 2025-08-31
        ("2025-08-31", [("imp-1", "2025-02-28")]),
        ("2025-08-30", []),
    ],
)
def test_training_snapshots(observable_by, expected):
    export = tables(
        [
            *CHECKS,
            check("2025-04-10", 10, 9, improvement_id="imp-1"),
            check("2025-05-10", 10, 9, improvement_id="imp-1"),
        ],
        IMPROVEMENTS,
    )
    frame = build_training_snapshots(
        export, "2025-01-01", "2025-04-15", observable_by=observable_by
    )
    assert pairs(frame) == expected
    assert list(frame.columns) == [
        "improvement_id",
        "as_of",
        "location_id",
        *FEATURE_NAMES,
        *LABEL_COLUMNS,
    ]
    if expected:
        first = frame.iloc[0]
        # imp-1 at Feb 28: one month of checks so far; its window (Mar-Aug) has Apr and May
        assert first["review_cycles_since_action_count"] == 1
        assert first["held"] == 1 and bool(first["label_observed"])


def test_monthly_compliance_pools_primary_checks_per_month():
    export = tables(
        [
            check("2025-02-03", 10, 9),
            check("2025-02-27", 10, 5, team="B", source="staff_practice"),
            check("2025-02-10", 10, 0, source="competency"),
            check("2025-04-01", 4, 3, source="care_records"),
        ]
    )
    frame = monthly_compliance(export["checks"], export["improvements"])
    assert frame["month"].dt.strftime("%Y-%m-%d").tolist() == ["2025-02-01", "2025-04-01"]
    assert frame[["sampled", "met"]].values.tolist() == [[20, 14], [4, 3]]
    assert frame["compliance"].tolist() == pytest.approx([0.7, 0.75])
    assert frame["standard"].tolist() == [0.8, 0.8]
    assert list(frame.columns) == [
        "improvement_id",
        "month",
        "sampled",
        "met",
        "compliance",
        "standard",
    ]
