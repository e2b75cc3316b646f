"""Plain-words explanations of the hold model: the factors that raise and lower each forecast.

A factor is a term of the model (a feature, or a named pair of features) together with the
row's value; its contribution is in log-odds relative to the average improvement in the
training data, so "raises" means "makes holding more likely than for a typical improvement".
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from features.columns import PHRASES, STANDARD
from models.ga2m import PAIR_SEPARATOR


def formatted_values(feature: str, values: pd.Series) -> pd.Series:
    """Values as an analyst reads them: shares in %, counts whole, flags yes/no.

    Each distinct number is formatted once (a nightly run formats 50 features of 67,000
    improvements, mostly repeats).
    """
    if not pd.api.types.is_numeric_dtype(values):
        return values.astype("str").fillna("missing")
    numbers = pd.to_numeric(values).astype(float)
    codes, distinct = pd.factorize(numbers, use_na_sentinel=True)
    if len(distinct) * 2 > len(numbers):
        return _formatted_numbers(feature, numbers).where(numbers.notna(), None)
    once = _formatted_numbers(feature, pd.Series(distinct, dtype=float))
    text = pd.Series(once.array.take(codes, allow_fill=True), index=values.index)
    return text.where(numbers.notna(), None)


def _formatted_numbers(feature: str, numbers: pd.Series) -> pd.Series:
    if feature.endswith("_flag"):
        text = numbers.map({1.0: "yes", 0.0: "no"})
    elif feature.endswith("_share") or "_share_" in feature or feature == STANDARD:
        text = (100 * numbers).round(0).map("{:.0f}%".format)
    elif feature.endswith(("_count", "_days")) or feature.startswith("months_"):
        text = numbers.round(0).map("{:.0f}".format)
    else:
        text = numbers.map("{:.2g}".format)
    return text.where(numbers.notna(), None)


def phrases(feature: str, values: pd.Series) -> pd.Series:
    """Plain-words description of one feature at each value; missing evidence said so."""
    template = PHRASES[feature]  # every feature declares its phrase (features.columns)
    text = formatted_values(feature, values)
    described = text.map(lambda v: template.format(v=v), na_action="ignore")
    return described.fillna(f"no evidence for {feature.replace('_', ' ')}").astype("str")


def top_factors(model, X: pd.DataFrame, n: int = 3) -> pd.DataFrame:
    """The `n` largest contributions raising and lowering each row's probability of holding.

    Returns, indexed like X: top_factors (the largest `n` by size, each tagged '(raises)' or
    '(lowers)', joined by '; '), raising and lowering (each up to `n`, largest first).
    Contributions smaller than 0.01 log-odds are not factors. Phrases are written only for
    the (row, term) cells chosen, about a sixth of all cells.
    """
    contributions = model.explain(X)
    values = contributions.to_numpy(dtype=float)
    terms = tuple(contributions.columns)
    factor = np.abs(values) >= 0.01
    raising = _largest(np.where(factor & (values > 0), values, np.nan), n)
    lowering = _largest(np.where(factor & (values < 0), -values, np.nan), n)
    overall = _largest(np.where(factor, np.abs(values), np.nan), n)
    phrases_at = _chosen_phrases(X, terms, np.concatenate([raising, lowering, overall], axis=1))
    tags = np.where(values > 0, " (raises)", " (lowers)")
    return pd.DataFrame(
        {
            "top_factors": _joined(phrases_at, overall, tags),
            "raising": _joined(phrases_at, raising),
            "lowering": _joined(phrases_at, lowering),
        },
        index=X.index,
    )


def _largest(sizes: np.ndarray, n: int) -> np.ndarray:
    """Per row, the column indices of the `n` largest non-NaN sizes, largest first (-1: none)."""
    order = np.argsort(np.where(np.isnan(sizes), np.inf, -sizes), axis=1, kind="stable")[:, :n]
    chosen = np.take_along_axis(sizes, order, axis=1)
    return np.where(np.isnan(chosen), -1, order)


def _chosen_phrases(X: pd.DataFrame, terms: tuple[str, ...], chosen: np.ndarray) -> np.ndarray:
    """(rows, terms) object array with the phrase of every chosen cell (None elsewhere)."""
    phrases_at = np.full((len(X), len(terms)), None, dtype=object)
    for k, term in enumerate(terms):
        rows = np.flatnonzero((chosen == k).any(axis=1))
        if len(rows):
            part = X.iloc[rows]
            words = [phrases(f, part[f]) for f in term.split(PAIR_SEPARATOR)]
            text = words[0] if len(words) == 1 else words[0] + ", with " + words[1]
            phrases_at[rows, k] = text.to_numpy(dtype=object)
    return phrases_at


def _joined(
    phrases_at: np.ndarray, chosen: np.ndarray, tags: np.ndarray | None = None
) -> np.ndarray:
    """Per row, the chosen cells' phrases (with their tags) joined by '; ' ('' if none)."""
    out = np.empty(len(chosen), dtype=object)
    for row, columns in enumerate(chosen):
        picked = [
            phrases_at[row, k] + (tags[row, k] if tags is not None else "")
            for k in columns
            if k >= 0
        ]
        out[row] = "; ".join(picked)
    return out
