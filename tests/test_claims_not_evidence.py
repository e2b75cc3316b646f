"""Claims are not evidence, and the past is read as it stood (contract v2, issue 15).

- Features for a past date are identical whether computed from today's export or from the
  export as it stood on that date, current-state columns included (the claim, the action
  start, the actions' completion): the leak test rewrites the present, it does not only append
  the future.
- Raising every claim (declared status, declarations, review classifications) to "embedded"
  leaves p_hold, p_hold_low and p_hold_high bit-identical, whether the model was trained on
  the original export or on the raised one, and changes the claim check.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from contracts.export import CLAIM_UNKNOWN
from contracts.files import HandedTables
from contracts.params import ModelSettings, RunConfig
from features.build import build_feature_frame
from features.columns import CLAIM_COLUMNS, DECLARED_STATUS, KEY_COLUMNS
from features.history import actions_as_of, claim_in_force
from models.ga2m import MODEL_FEATURES
from models.scoring import predict_hold
from pipelines.stages import fit_banded_model, score_partition, training_snapshots
from simulator import simulate_group

PAST = ["2025-04-30", "2025-08-14", "2026-01-31"]
SCORED_ON = date(2026, 10, 31)


@pytest.fixture(scope="module")
def sim():
    return simulate_group(14, 2, 21, truth_draws=2)


def without_history(tables: dict) -> dict:
    return {name: frame for name, frame in tables.items() if name != "declarations"}


@pytest.mark.parametrize("history", [True, False], ids=["declarations", "v1"])
@pytest.mark.parametrize("as_of", PAST)
def test_features_for_a_past_date_are_the_same_from_today_and_as_it_stood(sim, as_of, history):
    today = sim.frames if history else without_history(sim.frames)
    stood = sim.as_it_stood(as_of, late_entries=False)
    stood = stood if history else without_history(stood)
    # The export as it stood really differs in its current-state columns, not only in rows.
    now, then = today["improvements"].set_index("improvement_id"), stood["improvements"]
    then = then.set_index("improvement_id")
    assert (
        now.loc[then.index, "declared_status"].astype("str")
        != then["declared_status"].astype("str")
    ).any()
    assert (
        now.loc[then.index, "action_started_on"].notna().sum()
        > then["action_started_on"].notna().sum()
    )
    from_today = build_feature_frame(today, [as_of])
    from_then = build_feature_frame(stood, [as_of])
    columns = [*KEY_COLUMNS, *MODEL_FEATURES]
    pd.testing.assert_frame_equal(from_today[columns], from_then[columns])
    if history:
        pd.testing.assert_frame_equal(
            from_today[list(CLAIM_COLUMNS)], from_then[list(CLAIM_COLUMNS)]
        )
    else:
        # Without a history today's export cannot know an older claim: it says so, and never
        # puts today's claim in the past.
        differs = from_today[DECLARED_STATUS] != from_then[DECLARED_STATUS]
        assert differs.any()
        assert (from_today.loc[differs, DECLARED_STATUS] == CLAIM_UNKNOWN).all()


def test_the_claim_in_force_is_the_latest_declaration_at_the_most_senior_level():
    improvements = pd.DataFrame(
        {
            "improvement_id": ["a", "b", "c"],
            "declared_status": ["closed", "embedded", pd.NA],
            "declared_on": pd.to_datetime(["2025-06-01", "2025-03-01", pd.NaT]),
        }
    )
    declarations = pd.DataFrame(
        {
            "improvement_id": ["a", "a", "a", "b"],
            "declared_on": pd.to_datetime(["2025-01-10", "2025-03-01", "2025-03-01", "2025-03-01"]),
            "declared_status": ["emerging", "closed", "embedded", "embedded"],
            "level": ["registered_manager", "registered_manager", "board", "senior_leadership"],
        }
    )
    claims = claim_in_force(improvements, declarations, "2025-03-01")
    assert list(claims) == ["embedded", "embedded", "none"]  # the board's word on the day
    assert list(claim_in_force(improvements, declarations, "2025-02-01")) == [
        "emerging",
        "none",
        "none",
    ]
    # Without the history: the one declaration from its date, unknown before it.
    assert list(claim_in_force(improvements, None, "2025-04-01")) == ["unknown", "embedded", "none"]
    assert list(claim_in_force(improvements, None, "2025-07-01")) == ["closed", "embedded", "none"]


# --- raising every claim ---------------------------------------------------------------------


def raised_claims(tables: dict) -> dict:
    """The same evidence with every claim raised to embedded: declared status, every
    declaration and every governance review's classification."""
    improvements = tables["improvements"]
    declared = improvements["declared_on"].fillna(improvements["identified_on"])
    return {
        **tables,
        "improvements": improvements.assign(
            declared_status=_all(improvements["declared_status"], "embedded"),
            declared_on=declared,
        ),
        "declarations": tables["declarations"].assign(
            declared_status=lambda d: _all(d["declared_status"], "embedded")
        ),
        "reviews": tables["reviews"].assign(
            classification=lambda r: _all(r["classification"], "embedded")
        ),
    }


def _all(column: pd.Series, value: str) -> pd.Series:
    return pd.Series(pd.Categorical([value] * len(column), dtype=column.dtype), index=column.index)


@pytest.fixture(scope="module")
def config():
    return RunConfig(model=ModelSettings(band_refits=2))


@pytest.fixture(scope="module")
def trained(sim, config):
    return fit_banded_model(training_snapshots(sim.frames, SCORED_ON, config), config)


def scored(tables: dict, model, config):
    return score_partition(HandedTables(tables), SCORED_ON, model, "1", config).scores


def test_raising_every_claim_leaves_the_probability_and_band_bit_identical(sim, trained, config):
    raised = raised_claims(sim.frames)
    features = build_feature_frame(sim.frames, [SCORED_ON])
    raised_features = build_feature_frame(raised, [SCORED_ON])
    assert (features[DECLARED_STATUS] != raised_features[DECLARED_STATUS]).any()
    before = predict_hold(trained, features)
    after = predict_hold(trained, raised_features)
    for column in ("p_hold", "p_hold_low", "p_hold_high"):
        np.testing.assert_array_equal(before[column].to_numpy(), after[column].to_numpy())
    original, claimed = scored(sim.frames, trained, config), scored(raised, trained, config)
    for column in ("p_hold", "p_hold_low", "p_hold_high"):
        np.testing.assert_array_equal(original[column].to_numpy(), claimed[column].to_numpy())
    assert (original["claim_check"] != claimed["claim_check"]).any()
    assert (claimed["claim_check"] == "overclaim").sum() > (
        original["claim_check"] == "overclaim"
    ).sum()


def test_a_model_trained_on_raised_claims_is_the_same_model(sim, trained, config):
    raised = raised_claims(sim.frames)
    retrained = fit_banded_model(training_snapshots(raised, SCORED_ON, config), config)
    features = build_feature_frame(sim.frames, [SCORED_ON])
    first, second = predict_hold(trained, features), predict_hold(retrained, features)
    for column in ("p_hold", "p_hold_low", "p_hold_high"):
        np.testing.assert_array_equal(first[column].to_numpy(), second[column].to_numpy())


def test_actions_as_known_at_a_date_are_activity_as_it_stood():
    actions = pd.DataFrame(
        {
            "action_id": ["a1", "a2", "a3", "b1"],
            "improvement_id": ["i", "i", "i", "j"],
            "kind": ["immediate_control", "embedding", "embedding", "embedding"],
            "planned_on": pd.to_datetime(["2025-01-05", "2025-01-20", "2025-04-01", "2025-01-05"]),
            "due_on": pd.to_datetime(["2025-01-12", "2025-02-28", "2025-06-30", "2025-03-01"]),
            "completed_on": pd.to_datetime(["2025-01-10", "2025-03-20", pd.NaT, pd.NaT]),
        }
    )
    known = actions_as_of(actions, "i", "2025-03-10").set_index("action_id")
    assert list(known.index) == ["a1", "a2"]  # a3 was not planned yet
    assert known.loc["a1", "completed_on"] == pd.Timestamp("2025-01-10")
    assert pd.isna(known.loc["a2", "completed_on"])  # completed after the date: not yet
    assert list(known["overdue"]) == [False, True]
