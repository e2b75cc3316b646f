"""Point-in-time correctness and invariants of the feature frame and the labels.

- rows dated after an as-of date change no feature at that date;
- labels read only rows dated after the month of the as-of date;
- moving one check from as_of to as_of + 1 day changes exactly the features it should;
- Hypothesis: row order, renaming teams, and another service's data change nothing.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from features_fixtures import LOCATION, OTHER_LOCATION, check, improvement, tables
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from features.build import build_feature_frame
from features.columns import FEATURE_NAMES
from features.labels import build_labels

AS_OF_DATES = ["2025-02-28", "2025-03-17", "2025-03-31", "2025-05-31"]
SOURCES = ("audit", "care_records", "staff_practice", "competency")


def rich_records(location=LOCATION, prefix="") -> dict[str, list[dict]]:
    """Every table, with rows from 2024-10 to 2025-05 for two improvements at `location`."""
    imps = [
        improvement(
            f"{prefix}imp-1",
            location_id=location,
            declared_status="embedded",
            declared_on="2025-03-20",
        ),
        improvement(
            f"{prefix}imp-2",
            location_id=location,
            theme="medicines",
            identified_on="2024-10-02",
            action_started_on="2024-11-01",
            standard=0.9,
        ),
    ]
    checks = []
    for month in range(10, 18):
        year, mon = 2024 + (month - 1) // 12, (month - 1) % 12 + 1
        for k, (team, source) in enumerate(
            [("A", "audit"), ("B", "care_records"), ("A", "staff_practice"), ("B", "competency")]
        ):
            day = f"{year}-{mon:02d}-{3 + 7 * k:02d}"
            for imp_n, imp in enumerate(imps):
                met = 6 + (month + k + imp_n) % 5
                checks.append(
                    check(
                        day,
                        10,
                        met,
                        improvement_id=imp["improvement_id"],
                        team=team,
                        source=source,
                        repeat_gaps=(10 - met) // 2,
                        prompts_needed=k,
                        self_rated_confidence=3.5 + k / 4,
                    )
                )
    events = {
        "feedback": [
            {
                "feedback_id": f"{prefix}f{n}",
                "location_id": location,
                "received_on": day,
                "channel": channel,
                "respondent": who,
                "theme": theme,
                "sentiment": s,
                "rating": 2 + n % 4 if who in ("person", "family") else None,
                "text": "free text",
            }
            for n, (day, channel, who, theme, s) in enumerate(
                [
                    ("2024-11-20", "survey", "person", "falls", -1),
                    ("2025-01-15", "complaint", "family", "falls", -1),
                    ("2025-03-10", "survey", "person", "falls", 1),
                    ("2025-03-31", "meeting", "staff", "medicines", 1),
                    ("2025-05-02", "survey", "professional", "medicines", 0),
                ]
            )
        ],
        "incidents": [
            {
                "incident_id": f"{prefix}i{n}",
                "location_id": location,
                "occurred_on": day,
                "theme": theme,
                "harm": harm,
            }
            for n, (day, theme, harm) in enumerate(
                [
                    ("2024-12-01", "falls", "moderate"),
                    ("2025-02-14", "falls", "low"),
                    ("2025-03-17", "medicines", "severe"),
                    ("2025-05-20", "falls", "none"),
                ]
            )
        ],
        "workforce": [
            {
                "location_id": location,
                "team": team,
                "week_start": str(day.date()),
                "shifts_planned": 50,
                "shifts_agency": 5 + 2 * (n % 7),
                "shifts_unfilled": n % 3,
                "leavers": n % 2,
                "keyworker_continuity": 0.5 + (n % 5) / 10 if team == "A" else 0.9,
            }
            for n, day in enumerate(pd.date_range("2024-10-07", "2025-05-26", freq="W-MON"))
            for team in ("A", "B")
        ],
        "reviews": [
            {
                "review_id": f"{prefix}r{n}",
                "improvement_id": imp,
                "reviewed_on": day,
                "level": level,
                "classification": cls,
            }
            for n, (imp, day, level, cls) in enumerate(
                [
                    (f"{prefix}imp-1", "2025-02-01", "registered_manager", "emerging"),
                    (f"{prefix}imp-2", "2025-03-17", "board", "embedded"),
                    (f"{prefix}imp-1", "2025-04-01", "senior_leadership", "not_assured"),
                ]
            )
        ],
    }
    events["actions"] = [
        {
            "action_id": f"{prefix}a{n}",
            "improvement_id": f"{prefix}{imp}",
            "kind": kind,
            "planned_on": planned,
            "due_on": due,
            "completed_on": completed,
        }
        for n, (imp, kind, planned, due, completed) in enumerate(
            [
                ("imp-1", "immediate_control", "2025-01-20", "2025-01-27", "2025-01-25"),
                ("imp-1", "immediate_control", "2025-01-20", None, "2025-03-20"),
                ("imp-1", "embedding", "2025-01-25", "2025-03-01", "2025-04-10"),
                ("imp-2", "embedding", "2024-11-01", "2025-02-01", None),
                ("imp-2", "immediate_control", "2024-11-01", None, None),
            ]
        )
    ]
    return {"improvements": imps, "checks": checks, **events}


def export_from(records: dict[str, list[dict]]) -> dict[str, pd.DataFrame]:
    optional = {k: v for k, v in records.items() if k not in ("improvements", "checks")}
    return tables(records["checks"], records["improvements"], **optional)


def future_records(after: str) -> dict[str, list[dict]]:
    """Rows of every file dated from the day after `after` on, for old and new improvements."""
    day = (pd.Timestamp(after) + pd.Timedelta(days=1)).strftime("%Y-%m-%d")
    later = (pd.Timestamp(after) + pd.Timedelta(days=40)).strftime("%Y-%m-%d")
    monday = (pd.Timestamp(after) + pd.offsets.Week(weekday=0)).strftime("%Y-%m-%d")
    return {
        "improvements": [improvement("imp-new", identified_on=day, action_started_on=day)],
        "checks": [
            check(d, 10, m, improvement_id=i, team=t, source=s, check_id=f"fut-{n}")
            for n, (d, m, i, t, s) in enumerate(
                [
                    (day, 0, "imp-1", "A", "audit"),
                    (day, 10, "imp-2", "C", "competency"),
                    (later, 1, "imp-1", "D", "staff_practice"),
                    (day, 3, "imp-new", "A", "audit"),
                ]
            )
        ],
        "feedback": [
            {
                "feedback_id": "fut-f",
                "location_id": LOCATION,
                "received_on": day,
                "channel": "complaint",
                "respondent": "person",
                "theme": "falls",
                "sentiment": -1,
            }
        ],
        "incidents": [
            {
                "incident_id": "fut-i",
                "location_id": LOCATION,
                "occurred_on": day,
                "theme": "medicines",
                "harm": "death",
                "improvement_id": "imp-1",
            }
        ],
        "workforce": [
            {
                "location_id": LOCATION,
                "team": "Z",
                "week_start": monday,
                "shifts_planned": 10,
                "shifts_agency": 10,
                "shifts_unfilled": 0,
            }
        ],
        "actions": [
            {
                "action_id": "fut-a",
                "improvement_id": "imp-1",
                "kind": "embedding",
                "planned_on": day,
                "due_on": day,
                "completed_on": day,
            }
        ],
        "reviews": [
            {
                "review_id": "fut-r",
                "improvement_id": "imp-1",
                "reviewed_on": day,
                "level": "board",
                "classification": "embedded",
            }
        ],
    }


def combined(*parts: dict[str, list[dict]]) -> dict[str, list[dict]]:
    return {name: [row for part in parts for row in part.get(name, [])] for name in parts[0]}


@pytest.fixture(scope="module")
def rich():
    return rich_records()


@pytest.fixture(scope="module")
def rich_features(rich):
    return build_feature_frame(export_from(rich), AS_OF_DATES)


@pytest.mark.parametrize("as_of", AS_OF_DATES)
def test_rows_dated_after_as_of_change_no_feature(rich, rich_features, as_of):
    augmented = build_feature_frame(export_from(combined(rich, future_records(as_of))), [as_of])
    expected = rich_features[rich_features["as_of"] == pd.Timestamp(as_of)].reset_index(drop=True)
    pd.testing.assert_frame_equal(augmented, expected)


def test_the_rich_export_exercises_every_feature(rich_features):
    # Guards the test above: a feature that is always missing would pass it trivially.
    always_missing = [n for n in FEATURE_NAMES if rich_features[n].isna().all()]
    assert always_missing == []


@pytest.mark.parametrize("as_of", ["2025-01-31", "2025-03-31"])
def test_labels_read_only_rows_after_the_month_of_as_of(rich, as_of):
    """Rows up to the end of the as-of month, and after the window, change no label."""
    base = build_labels(export_from(rich), [as_of])
    month_end = pd.Timestamp(as_of) + pd.offsets.MonthEnd(0)
    window_end = month_end + pd.offsets.MonthEnd(6)
    earlier = {
        "checks": [
            check(str(d.date()), 10, 0, team="X", check_id=f"e{n}")
            for n, d in enumerate([month_end, month_end - pd.Timedelta(days=40)])
        ],
        "incidents": [
            {
                "incident_id": "e-i",
                "location_id": LOCATION,
                "occurred_on": str(month_end.date()),
                "theme": "falls",
                "harm": "death",
            }
        ],
    }
    later = future_records(str(window_end.date()))
    for extra in (earlier, later):
        changed = build_labels(
            export_from(combined(rich, {**{k: [] for k in rich}, **extra})), [as_of]
        )
        changed = changed[changed["improvement_id"].isin(base["improvement_id"])]
        pd.testing.assert_frame_equal(changed.reset_index(drop=True), base)


def test_a_check_moved_across_as_of_changes_exactly_the_expected_features():
    as_of = "2025-03-31"
    team_a = [check("2025-01-15", 20, 17), check("2025-02-15", 10, 9), check("2025-03-15", 10, 9)]

    def row(day_of_team_b_check: str) -> pd.Series:
        export = tables([*team_a, check(day_of_team_b_check, 10, 10, team="B", check_id="b")])
        return build_feature_frame(export, [as_of]).iloc[0]

    inside, outside = row("2025-03-31"), row("2025-04-01")
    changed = {
        n
        for n in FEATURE_NAMES
        if not (pd.isna(inside[n]) and pd.isna(outside[n])) and inside[n] != outside[n]
    }
    assert changed == {
        "compliance_latest",  # March: 19/20 with B, 9/10 without
        "compliance_margin_latest",
        "compliance_slope_3m_per_month",
        "compliance_slope_6m_per_month",
        "compliance_slope_since_action_per_month",
        "evidence_span_days",  # the last check is Mar 31 instead of Mar 15
        "team_count",
        "teams_checked_90d_count",
        "teams_meeting_standard_count",
        "met_items_top_team_share",
        # March at 0.95 widens the chart: lower limit 0.9 - 2.66 x 0.05 = 0.767 < 0.8 (without
        # it: 0.883 - 2.66 x 0.025 = 0.817 >= 0.8)
        "spc_assurance_pass_flag",
    }
    assert inside["compliance_latest"] == pytest.approx(0.95)
    assert outside["compliance_latest"] == pytest.approx(0.9)
    assert (inside["team_count"], outside["team_count"]) == (2, 1)


# --- invariants (Hypothesis) --------------------------------------------------------------------

check_rows = st.lists(
    st.tuples(
        st.integers(0, 200),
        st.sampled_from(["A", "B", "C"]),
        st.sampled_from(SOURCES),
        st.integers(1, 12),
        st.integers(0, 12),
        st.sampled_from(["imp-1", "imp-2"]),
        st.one_of(st.none(), st.integers(0, 3)),
    ),
    min_size=1,
    max_size=25,
)
incident_rows = st.lists(
    st.tuples(
        st.integers(0, 200),
        st.sampled_from(["falls", "medicines"]),
        st.sampled_from(["low", "moderate"]),
    ),
    max_size=4,
)
INVARIANT_DATES = ["2025-02-28", "2025-04-15", "2025-06-30"]
START = pd.Timestamp("2025-01-01")


def random_export(checks, incidents, *, teams=None, location=LOCATION, prefix=""):
    teams = teams or {}
    imps = [
        improvement(f"{prefix}imp-1", location_id=location),
        improvement(
            f"{prefix}imp-2",
            location_id=location,
            theme="medicines",
            action_started_on="2025-03-01",
            standard=0.7,
        ),
    ]
    check_records = [
        check(
            str((START + pd.Timedelta(days=d)).date()),
            s,
            min(m, s),
            improvement_id=prefix + imp,
            team=teams.get(t, t),
            source=src,
            check_id=f"{prefix}c{n}",
            repeat_gaps=None if r is None else min(r, s - min(m, s)),
        )
        for n, (d, t, src, s, m, imp, r) in enumerate(checks)
    ]
    incident_records = [
        {
            "incident_id": f"{prefix}i{n}",
            "location_id": location,
            "occurred_on": str((START + pd.Timedelta(days=d)).date()),
            "theme": theme,
            "harm": harm,
        }
        for n, (d, theme, harm) in enumerate(incidents)
    ]
    return {"improvements": imps, "checks": check_records, "incidents": incident_records}


def shuffled(frames: dict[str, pd.DataFrame], seed: int) -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    return {name: frame.iloc[rng.permutation(len(frame))] for name, frame in frames.items()}


PROPERTY_SETTINGS = settings(
    max_examples=5, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


@PROPERTY_SETTINGS
@given(check_rows, incident_rows, st.integers(0, 2**31))
def test_row_order_changes_nothing(checks, incidents, seed):
    frames = export_from(random_export(checks, incidents))
    pd.testing.assert_frame_equal(
        build_feature_frame(shuffled(frames, seed), INVARIANT_DATES),
        build_feature_frame(frames, INVARIANT_DATES),
    )
    pd.testing.assert_frame_equal(
        build_labels(shuffled(frames, seed), INVARIANT_DATES), build_labels(frames, INVARIANT_DATES)
    )


@PROPERTY_SETTINGS
@given(check_rows, incident_rows, st.permutations(["Wing 1", "Floor 2", "Night shift"]))
def test_renaming_teams_changes_nothing(checks, incidents, names):
    renamed = dict(zip(["A", "B", "C"], names, strict=True))
    original = build_feature_frame(export_from(random_export(checks, incidents)), INVARIANT_DATES)
    changed = build_feature_frame(
        export_from(random_export(checks, incidents, teams=renamed)), INVARIANT_DATES
    )
    pd.testing.assert_frame_equal(changed, original)


@PROPERTY_SETTINGS
@given(check_rows, incident_rows, check_rows, incident_rows)
def test_another_services_data_changes_nothing(checks, incidents, other_checks, other_incidents):
    ours = random_export(checks, incidents)
    theirs = random_export(other_checks, other_incidents, location=OTHER_LOCATION, prefix="x-")
    alone = build_feature_frame(export_from(ours), INVARIANT_DATES)
    together = build_feature_frame(export_from(combined(ours, theirs)), INVARIANT_DATES)
    together = together[~together["improvement_id"].str.startswith("x-")].reset_index(drop=True)
    pd.testing.assert_frame_equal(together, alone)
    labels_alone = build_labels(export_from(ours), INVARIANT_DATES)
    labels_together = build_labels(export_from(combined(ours, theirs)), INVARIANT_DATES)
    labels_together = labels_together[~labels_together["improvement_id"].str.startswith("x-")]
    pd.testing.assert_frame_equal(labels_together.reset_index(drop=True), labels_alone)


@pytest.mark.parametrize("as_of", AS_OF_DATES)
def test_rows_dated_after_as_of_change_no_team_row(rich, as_of):
    """The team table (features.teams) reads nothing dated after as_of either."""
    from features.build import build_team_frame, prepare_as_of

    def teams_of(records):
        frames = export_from(records)
        return build_team_frame(prepare_as_of(frames, [as_of]), as_of)

    alone_teams, alone_names = teams_of(rich)
    later_teams, later_names = teams_of(combined(rich, future_records(as_of)))
    later_teams = later_teams[later_teams["improvement_id"] != "imp-new"]
    # a team that appears only after as_of is not a row at as_of
    assert not (later_teams["team"].isin(["C", "D", "Z"])).any()
    pd.testing.assert_frame_equal(later_teams.reset_index(drop=True), alone_teams)
    later_names = later_names[later_names["improvement_id"] != "imp-new"]
    pd.testing.assert_frame_equal(later_names.reset_index(drop=True), alone_names)
    assert (
        alone_teams["status"]
        .isin(["at standard", "below standard", "not checked in 90 days"])
        .all()
    )
