"""The minimum-history check: what labelled snapshots an export holds, what is missing, and
that it asks exactly what training needs (the boundary, on a simulated group)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from contracts.params import ModelSettings, RunConfig
from models.history import (
    CutoffHistory,
    cutoff_history,
    history_shortfalls,
    labelled_history,
    training_shortfalls,
)
from models.uncertainty import BandedHoldModel

NEEDS = ModelSettings(min_training_rows=40, min_training_improvements=2, min_outcome_snapshots=10)


def snapshots(months: int, improvements: int = 2, censored_last: int = 0) -> pd.DataFrame:
    """One snapshot per improvement and month-end from January 2022; held alternates 1, 0 by
    month; the last `censored_last` months have no label."""
    ends = pd.date_range("2022-01-31", periods=months, freq="ME")
    rows = [
        {
            "improvement_id": f"IMP-{i}",
            "as_of": end,
            "location_id": f"LOC-{i % 2}",
            "held": pd.NA if m >= months - censored_last else (m + i) % 2,
        }
        for i in range(improvements)
        for m, end in enumerate(ends)
    ]
    return pd.DataFrame(rows).astype({"held": "Int64"})


def test_the_history_is_counted_from_labelled_snapshots_only():
    history = labelled_history(snapshots(12, improvements=3, censored_last=2))
    assert history.snapshots == 30  # 3 improvements x 10 labelled months
    assert (history.improvements, history.services) == (3, 2)
    assert history.held + history.slipped == 30 and history.held == 15
    assert history.months == 10
    assert (history.first_as_of, history.last_as_of) == (
        pd.Timestamp("2022-01-31"),
        pd.Timestamp("2022-10-31"),
    )
    assert "30 labelled snapshots of 3 improvements in 2 services (15 held, 15 slipped)" in (
        history.sentence()
    )


def test_each_shortfall_of_a_fit_is_named_and_enough_history_has_none():
    assert training_shortfalls(labelled_history(snapshots(12)), NEEDS) == [
        "at least 40 labelled snapshots"
    ]
    assert training_shortfalls(labelled_history(snapshots(24)), NEEDS) == []
    one_sided = snapshots(24).assign(held=1).astype({"held": "Int64"})
    assert training_shortfalls(labelled_history(one_sided), NEEDS) == [
        "at least 10 labelled snapshots that held and as many that slipped"
    ]


def usable_cutoff(months: int, scored: int = 5) -> CutoffHistory:
    end = pd.Timestamp("2022-01-31") + pd.offsets.MonthEnd(months + 6)
    return cutoff_history(end, snapshots(months), scored, NEEDS)


def test_training_also_needs_a_replay_cutoff_with_the_same_history():
    enough = labelled_history(snapshots(30))
    assert history_shortfalls(enough, [usable_cutoff(12), usable_cutoff(24)], NEEDS) == []
    short = history_shortfalls(enough, [usable_cutoff(6), usable_cutoff(12)], NEEDS)
    assert len(short) == 1
    assert short[0].startswith(
        "a replay cutoff with enough history to test the model on months it did not learn "
        "from (cutoffs 2023-01-31, 2023-07-31): at 2023-07-31 the export as it stood then had "
        "24 labelled snapshots of 2 improvements"
    )
    assert short[0].endswith("and training there needs at least 40 labelled snapshots")
    # Enough to train on but nothing to score after the cutoff: the replay cannot use it.
    nothing_scored = history_shortfalls(enough, [usable_cutoff(24, scored=0)], NEEDS)
    assert nothing_scored[0].endswith(
        "needs an improvement eligible then whose outcome after it is known"
    )


def test_no_labelled_snapshot_says_so():
    history = labelled_history(snapshots(3, censored_last=3))
    assert history.snapshots == 0
    assert history.sentence() == (
        "the export has no labelled snapshot (no improvement's outcome is known yet)"
    )
    assert len(history_shortfalls(history, [], ModelSettings())) == 4


def test_a_band_refit_never_draws_a_resample_with_one_outcome():
    """Two improvements slipped among forty: about one plain resample in seven leaves both
    out, which a refit cannot learn from; the band draws again."""
    rng = np.random.default_rng(0)
    groups = np.repeat(np.arange(40), 5)
    y = (groups >= 2).astype(int)
    X = pd.DataFrame({"x": rng.normal(size=len(y)) + y})
    model = BandedHoldModel(n_refits=20, random_state=3).fit(X, y, groups=groups)
    assert len(model.refits_) == 20
    assert all(list(refit.classes_) == [0, 1] for refit in model.refits_)


# --- the boundary: the check passes exactly when the replay and the fit can run ---------------


LIGHT = {"replay_cutoffs": 2, "band_refits": 2, "backtest_peers": ["ga2m", "rules_stage"]}


def needing(rows: int) -> RunConfig:
    """The light configuration, training needing `rows` labelled snapshots."""
    from pipelines.config import load_run_config

    needs = {"min_training_rows": rows, "min_training_improvements": 2}
    return load_run_config(None, {"model": {**LIGHT, **needs}})


@pytest.fixture(scope="module")
def small_group():
    """Six simulated services over two years, the replay's cutoffs and the labelled
    snapshots as of its end."""
    from pipelines.stages import training_snapshots
    from pipelines.training import replay_plan
    from simulator import simulate_group

    simulation = simulate_group(6, 2, seed=3, truth_draws=1)
    config = needing(200)
    plan = replay_plan(simulation.frames, simulation.end, config)
    return simulation, plan, training_snapshots(simulation.frames, simulation.end, config)


@pytest.mark.slow
def test_the_check_passes_exactly_when_training_can_complete(small_group):
    """At the largest replay cutoff's training rows the check passes and the replay and the
    fit run; one row more and the check refuses, and the replay itself could not have run."""
    from models.replay import replay_evaluation
    from pipelines.stages import (
        NotEnoughHistory,
        banded_model,
        fit_banded_model,
        require_enough_history,
    )
    from pipelines.training import replay

    simulation, plan, snapshots = small_group
    boundary = max(step.history.training.snapshots for step in plan if step.history.scored)
    assert 0 < boundary < len(snapshots)

    at_boundary = needing(boundary)
    passing = rejudged(plan, at_boundary.model)
    require_enough_history(snapshots, passing, simulation.end, at_boundary)
    result = replay(simulation.frames, passing, at_boundary)
    assert result.cutoffs["n_train"].max() == boundary
    assert len(fit_banded_model(snapshots, at_boundary).refits_) == 2

    beyond = needing(boundary + 1)
    refused_plan = rejudged(plan, beyond.model)
    with pytest.raises(NotEnoughHistory) as refused:
        require_enough_history(snapshots, refused_plan, simulation.end, beyond)
    words = str(refused.value)
    assert "in 6 services" in words and "a replay cutoff with enough history" in words
    assert f"at least {boundary + 1:,} labelled snapshots" in words
    with pytest.raises(ValueError, match="no cutoff had enough history"):
        replay_evaluation(
            simulation.frames, lambda: banded_model(beyond), plan=refused_plan, needs=beyond.model
        )


def rejudged(plan, needs: ModelSettings) -> list:
    """The same cutoffs and rows, judged by other needs."""
    return [
        replace(step, history=cutoff_history(step.cutoff, step.train, step.history.scored, needs))
        for step in plan
    ]


def test_the_manifest_says_which_model_scored_and_why():
    """The group's own champion, with what its replay measured; or none, and why."""
    from models.promotion import ChampionInfo
    from pipelines.config import load_settings
    from pipelines.stages import NO_CHAMPION, RULES_ONLY_ASKED, model_record

    settings = load_settings()
    metrics = {"replay.ga2m.auroc": 0.8123, "replay.rules_stage.auroc": 0.6549}
    own = model_record(ChampionInfo("3", "run", metrics, [], {}), settings, None)
    assert (own["scored_by"], own["rules_only"], own["version"]) == ("own", False, "3")
    assert own["scored_by_because"].startswith("the provider group's own model (version 3")
    assert own["scored_by_because"].endswith("AUROC 0.81 (the rules' stage alone: 0.65)")
    unmeasured = model_record(ChampionInfo("3", "run", {}, [], {}), settings, None)
    assert "AUROC" not in unmeasured["scored_by_because"]
    for because, expected in ((None, NO_CHAMPION), (RULES_ONLY_ASKED, RULES_ONLY_ASKED)):
        none = model_record(None, settings, because)
        assert (none["scored_by"], none["rules_only"], none["version"]) == ("none", True, None)
        assert none["scored_by_because"] == none["rules_only_because"] == expected
