"""Features and labels on the demo simulator, against its ground truth.

- the label agrees with the simulator's `held_realised` row for row (complete windows);
- the eligible (improvement, as_of) pairs are the simulator's `eligible` rows;
- the direction of each simulated mechanism shows in the features: the rank correlation of a
  feature with the true probability of holding has the sign the domain expects (and the
  feature list declares).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from features.columns import FEATURES_BY_NAME
from features.labels import build_labels
from features.snapshots import build_training_snapshots, eligible_as_of_dates
from simulator import simulate_group

KEYS = ["improvement_id", "as_of"]


@pytest.fixture(scope="module")
def simulation():
    return simulate_group(services=20, years=3, seed=11, truth_as_of="monthly", truth_draws=20)


@pytest.fixture(scope="module")
def snapshots(simulation):
    truth = simulation.truth
    frame = build_training_snapshots(
        simulation.frames, truth["as_of"].min(), truth["as_of"].max(), observable_by=simulation.end
    )
    return frame.merge(truth[[*KEYS, "p_hold_true"]], on=KEYS, validate="one_to_one")


def test_labels_agree_with_the_simulator_row_for_row(simulation):
    truth = simulation.truth
    labels = build_labels(simulation.frames, sorted(truth["as_of"].unique()))
    both = truth.merge(labels, on=KEYS, how="left", validate="one_to_one")
    complete = both[both["window_complete"]]
    assert len(complete) > 1000 and complete["held"].notna().sum() > 500
    pd.testing.assert_series_equal(complete["held"], complete["held_realised"], check_names=False)
    assert (complete["label_observed"] == complete["label_observed_realised"]).all()


def test_eligible_pairs_are_the_simulators(simulation):
    truth = simulation.truth
    pairs = eligible_as_of_dates(simulation.frames, truth["as_of"].min(), truth["as_of"].max())
    expected = truth.loc[truth["eligible"], KEYS].sort_values(KEYS, ignore_index=True)
    pd.testing.assert_frame_equal(
        pairs.astype({"improvement_id": "str"}), expected.astype({"improvement_id": "str"})
    )


def test_snapshots_hold_only_complete_windows(simulation, snapshots):
    window_end = snapshots["as_of"] + pd.offsets.MonthEnd(6)
    assert (window_end <= pd.Timestamp(simulation.end)).all()
    assert snapshots["label_observed"].sum() > 500


# The mechanism each feature stands for, and the direction it should show.
MECHANISMS = [
    ("teams_meeting_standard_share", "breadth of adoption across teams"),
    ("evidence_categories_positive_90d_count", "multi-source confirmation"),
    ("consecutive_months_at_standard_count", "timeline: a run at standard"),
    ("compliance_margin_latest", "level against the standard"),
    ("first_cycle_slip_flag", "first-cycle slip"),
    ("spc_assurance_fail_flag", "process cannot meet the standard"),
    ("repeat_gaps_share_90d", "recurrence of the same gaps"),
    ("theme_incidents_180d_count", "recurrence: theme incidents"),
    ("competency_pass_share_180d", "staff understanding"),
    ("confidence_gap_points", "overconfident staff"),
    ("prompts_per_observation_90d", "practice needs prompting"),
    ("theme_sentiment_90d_mean", "lived experience"),
    ("agency_shift_share_90d", "workforce instability"),
    ("unfilled_shift_share_90d", "workforce instability"),
]


@pytest.mark.parametrize(("feature", "mechanism"), MECHANISMS)
def test_mechanism_direction_shows_in_the_feature(snapshots, feature, mechanism):
    rows = snapshots[snapshots["label_observed"] & snapshots[feature].notna()]
    correlation = np.corrcoef(rows[feature].rank(), rows["p_hold_true"].rank())[0, 1]
    expected = FEATURES_BY_NAME[feature].direction
    assert expected != 0, mechanism
    assert np.sign(correlation) == expected and abs(correlation) > 0.05, (mechanism, correlation)


def test_features_of_some_improvements_at_their_own_days_match_the_whole_frame(simulation):
    """`build_features_at` (the rules' reading of closed improvements as of the month their
    monitoring ended) renumbers a subset of the evidence: declarations and actions included,
    so the claim in force, days since it and incidents since it are the whole frame's."""
    from features.build import build_feature_frame, build_features_at, prepare_as_of
    from features.panels import day_numbers

    tables = simulation.frames
    assert {"declarations", "actions"} <= set(tables)
    dates = pd.to_datetime(["2025-03-31", "2025-09-30", "2026-06-30"])
    evidence = prepare_as_of(tables, dates)
    whole = build_feature_frame(tables, dates, evidence=evidence)
    count = len(evidence.improvements)
    positions = np.arange(count - 1, -1, -3)  # every third, out of order
    days = day_numbers(dates)[np.arange(len(positions)) % len(dates)]
    part = build_features_at(evidence, positions, days)
    assert len(part) > 20 and part["declared_status"].nunique() > 2
    expected = whole.merge(part[KEYS], on=KEYS, how="inner", validate="one_to_one")
    pd.testing.assert_frame_equal(
        part.reset_index(drop=True), expected[part.columns].reset_index(drop=True)
    )
