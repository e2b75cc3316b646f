"""Cross-check of the explicit rules' stage against the model's probability of holding.

Two views of the same improvement can disagree in two ways that matter at a governance meeting:
- model_more_cautious: the rules call it embedded, yet the model gives a low probability that
  it holds over the horizon;
- rules_more_cautious: the rules still call it emerging (or slipping), yet the model is
  confident it holds.
Everything else is `agree`. Rows without a stage or a probability get <NA>.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from contracts.params import CrossCheckBands
from contracts.vocabulary import AGREE, MODEL_MORE_CAUTIOUS, RULES_MORE_CAUTIOUS


def cross_check(
    stage: pd.Series, p_hold: pd.Series, bands: CrossCheckBands | None = None
) -> pd.Series:
    """agree, model_more_cautious or rules_more_cautious per row (<NA> without both inputs)."""
    bands = bands or CrossCheckBands()
    p = pd.to_numeric(p_hold).astype(float)
    stage_text = stage.astype("str")
    model_cautious = stage_text.isin(bands.confident_stages) & (p < bands.low)
    rules_cautious = stage_text.isin(bands.cautious_stages) & (p >= bands.high)
    verdict = np.select(
        [model_cautious, rules_cautious], [MODEL_MORE_CAUTIOUS, RULES_MORE_CAUTIOUS], AGREE
    )
    result = pd.Series(verdict, index=stage.index, dtype="str", name="cross_check")
    return result.mask(stage.isna() | p.isna())


def cross_check_sentence(
    verdict: pd.Series,
    stage: pd.Series,
    p_hold: pd.Series,
    factors: pd.DataFrame,
    horizon_months: int = 6,
) -> pd.Series:
    """An analyst-facing sentence for each disagreement ('' when the two views agree).

    `factors` is `models.explain.top_factors(...)` for the same rows: a model-more-cautious
    sentence cites what lowers the probability, a rules-more-cautious one what raises it.
    """
    percent = (100 * pd.to_numeric(p_hold).astype(float)).round(0).map("{:.0f}%".format)
    chance = f"the model puts the chance of holding over the next {horizon_months} months at "
    stage_text = stage.astype("str")
    model_cautious = (
        "The rules call this "
        + stage_text
        + ", but "
        + chance
        + percent
        + ", mainly because of: "
        + factors["lowering"].astype("str")
        + "."
    )
    rules_cautious = (
        "The rules still call this "
        + stage_text
        + ", but "
        + chance
        + percent
        + ", mainly because of: "
        + factors["raising"].astype("str")
        + "."
    )
    sentence = pd.Series("", index=verdict.index, dtype="str", name="cross_check_sentence")
    sentence = sentence.mask(verdict == MODEL_MORE_CAUTIOUS, model_cautious)
    return sentence.mask(verdict == RULES_MORE_CAUTIOUS, rules_cautious).fillna("")
