"""The rules on the demo simulator: the share of improvements that hold falls stage by stage.

On a simulated provider group the realised outcome (`held_realised`, the spec's label over the
next six months) is known. Improvements the rules call embedded should hold more often than
consolidating ones, those more than emerging ones, and slipping ones least.
"""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

import simulator
from contracts.params import EvidenceThreshold
from features import build
from models.rules import OBSERVATIONS, classify_stages, escalation_triggers

pytestmark = pytest.mark.slow

# Month-ends whose six-month label window closes before the simulation ends (2026-10-31).
AS_OF = [
    date(2024, 6, 30),
    date(2024, 12, 31),
    date(2025, 6, 30),
    date(2025, 12, 31),
    date(2026, 4, 30),
]
KEYS = ["improvement_id", "as_of"]
ORDER = ["embedded", "consolidating", "emerging", "slipping"]


@pytest.fixture(scope="module")
def outcomes():
    sim = simulator.simulate_group(services=150, years=3, seed=7, truth_as_of=AS_OF, truth_draws=5)
    features = build.build_feature_frame(sim.frames, AS_OF)
    stages = classify_stages(features, with_reasons=False)
    truth = sim.truth[[*KEYS, "held_realised", "eligible"]].astype({"improvement_id": "str"})
    joined = stages.astype({"improvement_id": "str"}).merge(
        truth, on=KEYS, how="inner", validate="one_to_one"
    )
    assert len(joined) == len(stages)
    return features, joined[joined["eligible"] & joined["held_realised"].notna()]


def test_hold_rate_is_monotone_in_the_stage(outcomes):
    _, observed = outcomes
    by_stage = observed.groupby("stage")["held_realised"].agg(["count", "mean"]).reindex(ORDER)
    assert (by_stage["count"] >= 100).all(), by_stage
    rates = by_stage["mean"].astype(float)
    assert rates.is_monotonic_decreasing and rates.is_unique, by_stage


def test_every_stage_and_trigger_occurs_on_the_simulator(outcomes):
    features, observed = outcomes
    # not_started also occurs (actions completed, no evidence yet); the test asks for the rest
    assert set(ORDER) <= set(observed["stage"])
    fired = escalation_triggers(features)
    assert fired.filter(like="trigger_").any().all()
    assert (fired["triggers"] != "").mean() < 1


def test_a_row_read_from_the_simulator_has_reasons_that_match_its_criteria(outcomes):
    """No fragile reason exactly when every criterion is met and no observation weakens the
    reading (open embedding actions, continuing complaints, ...: not criteria of embedding)."""
    features, _ = outcomes
    sample = features.sample(200, random_state=0)
    stages = classify_stages(sample)
    threshold = EvidenceThreshold()
    fragile_empty = stages["fragile_reasons"] == ""
    observed = pd.concat(
        [o.fragile(sample, threshold).fillna(False).astype(bool) for o in OBSERVATIONS], axis=1
    ).any(axis=1)
    every_met = stages.filter(like="criterion_").all(axis=1) & ~observed.to_numpy()
    pd.testing.assert_series_equal(fragile_empty, every_met, check_names=False)
    assert (~fragile_empty).any()
