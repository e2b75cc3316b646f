"""The outcome label, exactly as in the spec's "When an improvement holds".

As of 2025-01-31 with the default 6-month horizon, the window is February to July 2025. The
improvement's standard is 0.8; it is a falls improvement at LOCATION.
"""

from __future__ import annotations

import pandas as pd
import pytest
from features_fixtures import LOCATION, OTHER_LOCATION, check, improvement, tables

from contracts.params import LabelParams
from features.labels import build_labels

AS_OF = "2025-01-31"


def incident(day, harm="moderate", *, theme="falls", location_id=LOCATION, named=None):
    return {
        "incident_id": f"i-{day}-{harm}-{theme}-{location_id}",
        "location_id": location_id,
        "occurred_on": day,
        "theme": theme,
        "harm": harm,
        "improvement_id": named,
    }


def label(checks, incidents=None, params=None, as_of=AS_OF):
    optional = {"incidents": incidents} if incidents is not None else {}
    frame = build_labels(tables(checks, **optional), [as_of], params or LabelParams())
    assert len(frame) == 1
    row = frame.iloc[0]
    return row["held"], bool(row["label_observed"]), row["slip_reason"]


HELD, SLIPPED, CENSORED = 1, 0, pd.NA


@pytest.mark.parametrize(
    ("checks", "incidents", "expected"),
    [
        # two months at standard
        ([check("2025-02-10", 10, 9), check("2025-03-10", 10, 9)], None, (HELD, True, None)),
        # two consecutive months below
        (
            [check("2025-02-10", 10, 7), check("2025-03-10", 10, 7)],
            None,
            (SLIPPED, True, "compliance"),
        ),
        # below, no value, below: the gap breaks the run
        ([check("2025-02-10", 10, 7), check("2025-04-10", 10, 7)], None, (HELD, True, None)),
        # checks pooled over the month: 9/10 + 5/10 = 0.7 in February
        (
            [
                check("2025-02-03", 10, 9),
                check("2025-02-20", 10, 5, team="B", source="staff_practice"),
                check("2025-03-10", 10, 7),
            ],
            None,
            (SLIPPED, True, "compliance"),
        ),
        # one month with a value: censored
        ([check("2025-02-10", 10, 7)], None, (CENSORED, False, None)),
        # competency checks are not monthly compliance
        (
            [
                check("2025-02-10", 10, 2, source="competency"),
                check("2025-03-10", 10, 2, source="competency"),
            ],
            None,
            (CENSORED, False, None),
        ),
        # the month of as_of is not in the window: only February counts
        ([check("2025-01-10", 10, 5), check("2025-02-10", 10, 5)], None, (CENSORED, False, None)),
        # August is after the window: July below alone is no slip
        (
            [check("2025-02-10", 10, 9), check("2025-07-10", 10, 5), check("2025-08-10", 10, 5)],
            None,
            (HELD, True, None),
        ),
        # a serious incident on the theme in the window: observed and slipped without checks
        ([], [incident("2025-04-01")], (SLIPPED, True, "incident")),
        ([], [incident("2025-07-31", "death")], (SLIPPED, True, "incident")),
        # not serious, outside the window, elsewhere, another theme: no effect
        ([], [incident("2025-04-01", "low")], (CENSORED, False, None)),
        ([], [incident("2025-01-31")], (CENSORED, False, None)),
        ([], [incident("2025-08-01")], (CENSORED, False, None)),
        ([], [incident("2025-04-01", location_id=OTHER_LOCATION)], (CENSORED, False, None)),
        ([], [incident("2025-04-01", theme="medicines")], (CENSORED, False, None)),
        # ... unless it names the improvement
        (
            [],
            [incident("2025-04-01", theme="medicines", named="imp-1")],
            (SLIPPED, True, "incident"),
        ),
        # both reasons
        (
            [check("2025-02-10", 10, 7), check("2025-03-10", 10, 7)],
            [incident("2025-05-05", "severe")],
            (SLIPPED, True, "both"),
        ),
    ],
)
def test_label(checks, incidents, expected):
    held, observed, reason = label(checks, incidents)
    assert pd.isna(held) if expected[0] is pd.NA else held == expected[0]
    assert observed == expected[1]
    assert pd.isna(reason) if expected[2] is None else reason == expected[2]


@pytest.mark.parametrize(
    ("params", "expected_held"),
    [
        (LabelParams(horizon_months=1), CENSORED),  # only February: one value
        (LabelParams(horizon_months=1, min_observed_months=1), HELD),
        (LabelParams(horizon_months=2), SLIPPED),  # February and March below
        (LabelParams(consecutive_below=3), HELD),  # Feb, Mar below; April at
        (LabelParams(serious_harms=("low",)), SLIPPED),
    ],
)
def test_label_parameters(params, expected_held):
    checks = [check("2025-02-10", 10, 7), check("2025-03-10", 10, 7), check("2025-04-10", 10, 9)]
    checks = checks if params.serious_harms != ("low",) else [check("2025-02-10", 10, 9)]
    held, _, _ = label(checks, [incident("2025-02-20", "low")], params)
    assert pd.isna(held) if expected_held is pd.NA else held == expected_held


def test_labels_for_several_dates_and_improvements():
    improvements = [improvement(), improvement("imp-0", identified_on="2025-02-15")]
    checks = [check("2025-02-10", 10, 9), check("2025-03-10", 10, 7), check("2025-04-10", 10, 7)]
    frame = build_labels(tables(checks, improvements), ["2025-02-28", "2025-01-31"])
    assert list(frame.columns) == [
        "improvement_id",
        "as_of",
        "held",
        "label_observed",
        "slip_reason",
    ]
    assert frame["held"].dtype == "Int64" and frame["label_observed"].dtype == bool
    # imp-0 is identified after 2025-01-31; rows sorted by improvement_id, as_of
    assert frame[["improvement_id", "as_of"]].astype("str").values.tolist() == [
        ["imp-0", "2025-02-28"],
        ["imp-1", "2025-01-31"],
        ["imp-1", "2025-02-28"],
    ]
    assert frame["held"].tolist() == [pd.NA, 0, 0]  # imp-0 has no checks; imp-1 Mar+Apr below
