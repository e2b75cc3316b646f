"""Sentences from feature values, built without a loop over rows.

The rules' reasons, the triggers' words and the claim check's sentence all depend on a few
values each, which repeat across rows (counts, flags, shares of small samples, team names):
each text is built once per distinct combination of its inputs and spread back to the rows
(`texts_by_distinct_inputs`); the sentences of a row are then joined by Arrow in one pass.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from contracts.tables import LIST_SEPARATOR


def numeric(features: pd.DataFrame, name: str) -> pd.Series:
    """A feature as float64, missing as NaN (flags, counts and nullable ints alike)."""
    column = features[name]
    if column.dtype == "float64":
        return column
    return pd.to_numeric(column, errors="coerce").astype("float64")


def optional(features: pd.DataFrame, name: str) -> pd.Series:
    """A numeric column the frame may lack (all NaN then)."""
    if name not in features:
        return pd.Series(np.nan, index=features.index, dtype="float64")
    return numeric(features, name)


def labels(features: pd.DataFrame, name: str) -> pd.Series:
    """A categorical feature as plain strings, missing as 'none'."""
    return features[name].astype("str").where(features[name].notna(), "none")


def names(features: pd.DataFrame, name: str) -> pd.Series:
    """A list column of team names as a sentence reads it ('B, C'); '' when the frame has no
    such column or the cell is empty."""
    if name not in features:
        return pd.Series("", index=features.index, dtype="str")
    listed = features[name].astype("str").where(features[name].notna(), "")
    return listed.str.replace(LIST_SEPARATOR, ", ", regex=False)


def number_text(values: pd.Series, decimals: int = 2) -> pd.Series:
    """Numbers as short text: at most `decimals` decimals, trailing zeros dropped (1.2, 0.51, 3)."""
    text = np.char.mod(f"%.{decimals}f", values.fillna(0).to_numpy(dtype="float64"))
    text = pd.Series(text, index=values.index, dtype="str")
    return text.str.rstrip("0").str.rstrip(".") if decimals else text


def format_number(value: float, decimals: int = 2) -> str:
    """One number as short text, by the same rule as `number_text`."""
    text = f"{value:.{decimals}f}"
    return text.rstrip("0").rstrip(".") if decimals else text


def percent_text(shares: pd.Series) -> pd.Series:
    """Shares as percentages with at most one decimal (0.9 -> '90%', 0.875 -> '87.5%')."""
    return number_text(shares * 100, decimals=1) + "%"


def plural(counts: pd.Series, singular: str, plural_form: str) -> pd.Series:
    """'1 month' / '2 months' for each count."""
    words = pd.Series(np.where(counts == 1, singular, plural_form), index=counts.index, dtype="str")
    return number_text(counts, decimals=0) + " " + words


def choose(conditions: list[pd.Series], choices: list, default) -> pd.Series:
    """np.select over text Series: the first matching choice for each row."""
    index = conditions[0].index
    arrays = [c.to_numpy(dtype=object) if isinstance(c, pd.Series) else c for c in choices]
    fallback = default.to_numpy(dtype=object) if isinstance(default, pd.Series) else default
    picked = np.select([c.to_numpy(dtype=bool) for c in conditions], arrays, fallback)
    return pd.Series(picked, index=index, dtype="str")


def month_text(as_of: pd.Series, months_ago: pd.Series) -> pd.Series:
    """The calendar month `months_ago` months before the month of `as_of`, as 'March 2026'
    ('' where months_ago is missing)."""
    dates = pd.to_datetime(as_of)
    month = dates.dt.year * 12 + dates.dt.month - 1 - months_ago.fillna(0).astype("int64")
    first = pd.to_datetime((month.to_numpy() - 1970 * 12).astype("datetime64[M]"))
    text = pd.Series(first.strftime("%B %Y"), index=as_of.index, dtype="str")
    return text.where(months_ago.notna(), "")


def date_text(as_of: pd.Series, days_ago: pd.Series) -> pd.Series:
    """The day `days_ago` days before `as_of`, as '3 Mar 2026' ('' where it is missing)."""
    day = pd.to_datetime(as_of) - pd.to_timedelta(days_ago.fillna(0), unit="D")
    text = day.dt.strftime("%d %b %Y").str.lstrip("0").astype("str")
    return text.where(days_ago.notna(), "")


def distinct_rows(inputs: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """(codes, first): a code per row naming its distinct combination of `inputs` values
    (missing values included), and the position of the first row of each combination."""
    codes = np.zeros(len(inputs), dtype=np.int64)
    for column in inputs.columns:
        column_codes, uniques = pd.factorize(inputs[column], use_na_sentinel=False)
        codes, _ = pd.factorize(codes * len(uniques) + column_codes)
    _, first = np.unique(codes, return_index=True)
    return codes, first


def texts_by_distinct_inputs(
    inputs: pd.DataFrame, build: Callable[[pd.DataFrame], pd.Series], where=None
) -> pa.Array:
    """`build` applied to each distinct combination of `inputs`, as an Arrow string array
    aligned to `inputs`; an empty text becomes null (no sentence). With `where` (a boolean per
    row), only those rows are built; the others are null."""
    if where is not None:
        mask = np.asarray(where, dtype=bool)
        if not mask.any():
            return pa.nulls(len(inputs), pa.string())
        position = np.cumsum(mask) - 1
        chosen = texts_by_distinct_inputs(inputs[mask], build)
        return chosen.take(pa.array(position, mask=~mask))
    codes, first = distinct_rows(inputs)
    texts = build(inputs.iloc[first]).to_numpy(dtype=object)
    distinct = pa.array(np.where(texts == "", None, texts), type=pa.string())
    return distinct.take(pa.array(codes))


def joined(texts: list[pa.Array], separator: str = LIST_SEPARATOR) -> pa.Array:
    """Per row, the non-null texts joined by `separator` ('' when there is none)."""
    # pyarrow returns an empty array when every input is null throughout, so an empty
    # non-null text leads every row; its separator is then cut off.
    lead = pa.array(np.full(len(texts[0]), "", dtype=object), type=pa.string())
    together = pc.binary_join_element_wise(lead, *texts, separator, null_handling="skip")
    return pc.utf8_slice_codeunits(together, len(separator))


def kept(texts: pa.Array, mask: pd.Series) -> pa.Array:
    """The texts where `mask` holds, null elsewhere."""
    return pc.if_else(pa.array(mask.to_numpy(dtype=bool)), texts, pa.scalar(None, pa.string()))


def nulls_for_empty(texts: pa.Array) -> pa.Array:
    """Empty texts as nulls, so that joining skips them."""
    return pc.if_else(pc.equal(texts, ""), pa.scalar(None, pa.string()), texts)


def listed(parts: list[tuple[pd.Series, pd.Series | str]], index: pd.Index) -> pd.Series:
    """Per row, the texts whose condition holds, joined by ', ' ('' when none holds)."""
    texts = []
    for condition, text in parts:
        values = text if isinstance(text, pd.Series) else pd.Series(text, index=index)
        arrow = pa.array(values.astype("str").to_numpy(dtype=object), type=pa.string())
        texts.append(kept(nulls_for_empty(arrow), condition))
    return text_series(joined(texts, ", "), index)


def text_series(texts: pa.Array, index: pd.Index) -> pd.Series:
    return pd.Series(pd.array(texts, dtype="str"), index=index)
