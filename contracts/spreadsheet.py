"""One rule for every CSV takehold writes for people: nothing in it runs as a formula.

A text cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return is run as a formula
by spreadsheets (CSV injection); such cells get the usual apostrophe prefix. Numbers keep their
type. Quarantine files, run outputs and the report's tables all use `spreadsheet_safe`.
"""

from __future__ import annotations

import pandas as pd

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy whose text cells cannot run as spreadsheet formulas (prefixed with `'`)."""
    changed = {}
    for name in frame.columns:
        column = frame[name]
        if not (
            pd.api.types.is_string_dtype(column.dtype)
            or isinstance(column.dtype, pd.CategoricalDtype)
        ):
            continue
        text = column.astype("str").where(column.notna())
        risky = text.str.startswith(FORMULA_STARTS).fillna(False).astype(bool)
        if risky.any():
            changed[name] = text.where(~risky, "'" + text)
    return frame.assign(**changed)
