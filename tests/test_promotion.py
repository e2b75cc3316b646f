"""The promotion gate's decision (models.promotion.decide_promotion), without a registry."""

from __future__ import annotations

import pytest

from models.promotion import decide_promotion

FEATURES = ["consecutive_months_at_standard_count", "repeat_gaps_share_90d"]
CHAMPION = {"backtest.ga2m.auroc": 0.830, "backtest.ga2m.brier": 0.160}


def decide(new, champion=CHAMPION, features=FEATURES, scoring=FEATURES):
    return decide_promotion(
        new,
        champion,
        features,
        scoring,
        auroc_key="backtest.ga2m.auroc",
        brier_key="backtest.ga2m.brier",
        tolerance=0.005,
    )


@pytest.mark.parametrize(
    ("auroc", "brier", "promote", "words"),
    [
        (0.830, 0.160, True, "no worse"),
        (0.8251, 0.1649, True, "no worse"),  # inside the tolerance on both
        (0.824, 0.160, False, "AUROC 0.8240 is 0.0060 below the champion's"),
        (0.830, 0.166, False, "Brier 0.1660 is 0.0060 above the champion's"),
        (0.900, 0.100, True, "no worse"),
    ],
)
def test_the_gate_refuses_a_worse_backtest(auroc, brier, promote, words):
    decision = decide({"backtest.ga2m.auroc": auroc, "backtest.ga2m.brier": brier})
    assert decision.promote is promote
    assert words in decision.reason


def test_the_gate_refuses_a_feature_schema_scoring_does_not_build():
    better = {"backtest.ga2m.auroc": 0.95, "backtest.ga2m.brier": 0.10}
    decision = decide(better, features=[*FEATURES, "a_feature_scoring_never_builds"])
    assert not decision.promote
    assert "feature schema differs" in decision.reason
    assert not decide(better, features=list(reversed(FEATURES))).promote  # order matters too


def test_the_first_model_becomes_champion():
    decision = decide({"backtest.ga2m.auroc": 0.6, "backtest.ga2m.brier": 0.3}, champion=None)
    assert decision.promote and decision.reason == "no champion yet"
