"""The report's tables as CSV files for board papers, safe to open in Excel or LibreOffice.

A cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return is run as a formula by
spreadsheets (CSV injection); such text cells are prefixed with an apostrophe by
`contracts.spreadsheet.spreadsheet_safe`, which every takehold CSV uses. Numbers keep their type.
Files are UTF-8 with a byte-order mark so Excel reads accents and symbols correctly, and
multi-item cells are joined with "; ".
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from contracts.spreadsheet import spreadsheet_safe as neutralise_formulas


def spreadsheet_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """`frame` with list cells joined by "; ", text as str, dates ISO, formulas neutralised."""
    converted = {}
    for column in frame.columns:
        values = frame[column]
        if pd.api.types.is_datetime64_any_dtype(values):
            converted[column] = values.dt.strftime("%Y-%m-%d").astype("str")
        elif values.dtype == object or isinstance(values.dtype, pd.CategoricalDtype):
            converted[column] = values.map(_cell_text, na_action="ignore").astype("str")
    return neutralise_formulas(frame.assign(**converted))


def write_spreadsheet_tables(tables: dict[str, pd.DataFrame], folder: Path) -> list[Path]:
    """Write each table to `folder/<name>.csv`; returns the paths written."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, frame in tables.items():
        path = folder / f"{name}.csv"
        spreadsheet_frame(frame).to_csv(
            path, index=False, encoding="utf-8-sig", lineterminator="\r\n"
        )
        written.append(path)
    return written


def _cell_text(cell) -> str:
    if isinstance(cell, tuple | list):
        return "; ".join(str(item) for item in cell)
    return str(cell)
