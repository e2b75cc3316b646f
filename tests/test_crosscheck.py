"""Cross-check of the rules' stage against the model: verdicts by hand, bands, sentences."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contracts.params import CrossCheckBands
from models.crosscheck import cross_check, cross_check_sentence

STAGES = ["not_started", "emerging", "consolidating", "embedded", "slipping"]


@pytest.mark.parametrize(
    ("stage", "p_hold", "expected"),
    [
        ("embedded", 0.30, "model_more_cautious"),
        ("embedded", 0.49, "model_more_cautious"),
        ("embedded", 0.50, "agree"),  # the low band is exclusive
        ("embedded", 0.95, "agree"),
        ("emerging", 0.80, "rules_more_cautious"),  # the high band is inclusive
        ("emerging", 0.79, "agree"),
        ("slipping", 0.90, "rules_more_cautious"),
        ("consolidating", 0.10, "agree"),
        ("consolidating", 0.95, "agree"),
        ("not_started", 0.95, "agree"),
    ],
)
def test_cross_check_by_hand(stage, p_hold, expected):
    assert cross_check(pd.Series([stage]), pd.Series([p_hold])).iloc[0] == expected


def test_bands_are_configurable():
    bands = CrossCheckBands(low=0.2, high=0.95, cautious_stages=("emerging", "consolidating"))
    stage = pd.Series(["embedded", "embedded", "consolidating", "emerging"])
    p_hold = pd.Series([0.3, 0.1, 0.97, 0.9])
    verdict = cross_check(stage, p_hold, bands)
    assert verdict.tolist() == ["agree", "model_more_cautious", "rules_more_cautious", "agree"]


@pytest.mark.parametrize(("low", "high"), [(0.6, 0.5), (-0.1, 0.5), (0.2, 1.2)])
def test_bands_must_be_ordered_probabilities(low, high):
    with pytest.raises(ValueError, match="bands"):
        CrossCheckBands(low=low, high=high)


def test_rows_without_a_stage_or_probability_get_no_verdict():
    stage = pd.Series(["embedded", None, "emerging"], index=[10, 11, 12])
    p_hold = pd.Series([float("nan"), 0.9, 0.9], index=[10, 11, 12])
    verdict = cross_check(stage, p_hold)
    assert verdict.isna().tolist() == [True, True, False]
    assert verdict.index.tolist() == [10, 11, 12]


@settings(deadline=None)  # a busy shared machine: timing is not what this test checks
@given(st.lists(st.tuples(st.sampled_from(STAGES), st.floats(0, 1)), min_size=1, max_size=30))
def test_verdicts_are_the_three_words_and_respect_the_bands(rows):
    stage = pd.Series([s for s, _ in rows])
    p_hold = pd.Series([p for _, p in rows])
    verdict = cross_check(stage, p_hold)
    assert set(verdict) <= {"agree", "model_more_cautious", "rules_more_cautious"}
    assert (p_hold[verdict == "model_more_cautious"] < 0.5).all()
    assert (p_hold[verdict == "rules_more_cautious"] >= 0.8).all()
    assert (stage[verdict != "agree"] != "consolidating").all()


def test_sentences_cite_the_factors_on_the_side_of_the_disagreement():
    stage = pd.Series(["embedded", "emerging", "embedded"])
    p_hold = pd.Series([0.31, 0.86, 0.9])
    factors = pd.DataFrame(
        {
            "raising": ["", "4 consecutive months at standard", "x"],
            "lowering": ["2 serious theme incidents in 90 days", "", "y"],
        }
    )
    verdict = cross_check(stage, p_hold)
    sentence = cross_check_sentence(verdict, stage, p_hold, factors)
    assert sentence.tolist() == [
        "The rules call this embedded, but the model puts the chance of holding over the next "
        "6 months at 31%, mainly because of: 2 serious theme incidents in 90 days.",
        "The rules still call this emerging, but the model puts the chance of holding over the "
        "next 6 months at 86%, mainly because of: 4 consecutive months at standard.",
        "",
    ]
