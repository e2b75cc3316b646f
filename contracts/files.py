"""An export as read: the typed frames of its files, and the error for a file that cannot be read.

`pipelines.io` builds these; validation, the features and the run's record read them. Each
contract column is read as one pandas type (`column_dtype`): ids and strings `str`,
vocabularies `category`, dates `datetime64[ns]` at midnight, counts `Int64`, numbers
`float64`; columns the rows repeat millions of times (`Column.coded`) as categoricals.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from contracts.export import FILES_BY_NAME, Column, ExportFile

# Frames are indexed by 1-based data row number (row 1 is the line after the header).
ROW_INDEX = "row"


class ExportError(Exception):
    """An export file that cannot be read at all. The message names the file and the problem."""

    def __init__(self, file: str, problem: str):
        self.file = file
        self.problem = problem
        super().__init__(f"{file}: {problem}")


@dataclass
class LoadedFile:
    """One export file, read and typed. `frame` is indexed by 1-based data row number."""

    name: str
    path: str
    format: str
    sha256: str
    frame: pd.DataFrame
    ignored_columns: tuple[str, ...] = ()
    missing_columns: tuple[str, ...] = ()
    parse_problems: pd.DataFrame = field(default_factory=lambda: empty_problems())
    normalised_cells: dict[str, int] = field(default_factory=dict)

    @property
    def rows(self) -> int:
        return len(self.frame)


@dataclass(frozen=True)
class FileSummary:
    """An export file's identity and size, without its rows."""

    name: str
    path: str
    format: str
    sha256: str
    rows: int


@dataclass(frozen=True)
class ExportSummary:
    """An export's identity (`Export.summary()`)."""

    source: str
    files: dict[str, FileSummary]
    absent: tuple[str, ...]
    read_seconds: float = 0.0
    read_ahead: bool = False


@dataclass
class Export:
    """A whole export as read: present files by name, and the optional files that are absent.

    `errors` lists the files that could not be used at all (a required file missing, a file
    that cannot be read); it is filled only by `read_export(..., collect_errors=True)`, which
    validation uses so that one run reports every unreadable file instead of the first.
    """

    source: str
    files: dict[str, LoadedFile]
    absent: tuple[str, ...]
    errors: tuple[ExportError, ...] = ()
    read_seconds: float = 0.0  # reading and typing every file
    read_ahead: bool = False  # read by `prefetch_export` while the process started

    def summary(self) -> ExportSummary:
        """What the run's record needs (source, files with hashes and row counts, absent
        files), without the frames: at 10M checks the frames are gigabytes."""
        return ExportSummary(
            source=self.source,
            files={
                name: FileSummary(f.name, f.path, f.format, f.sha256, f.rows)
                for name, f in self.files.items()
            },
            absent=self.absent,
            read_seconds=self.read_seconds,
            read_ahead=self.read_ahead,
        )

    def frame(self, name: str) -> pd.DataFrame:
        """The typed frame of a file; an empty frame with the contract's columns when absent."""
        if name in self.files:
            return self.files[name].frame
        return empty_frame(FILES_BY_NAME[name])


def empty_frame(spec: ExportFile) -> pd.DataFrame:
    """An absent file's frame: its columns (free text excepted, as read) and no rows."""
    index = pd.RangeIndex(1, 1, name=ROW_INDEX)
    columns = {c.name: empty_series(c, 0, index) for c in spec.columns if not c.free_text}
    return pd.DataFrame(columns, index=index)


def empty_problems() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "row": pd.Series(dtype="int64"),
            "column": pd.Series(dtype="str"),
            "rule": pd.Series(dtype="str"),
        }
    )


def empty_series(column: Column, length: int, index: pd.Index) -> pd.Series:
    dtype = column_dtype(column)
    if column.kind == "date":
        return pd.Series(pd.NaT, index=index, dtype=dtype)
    return pd.Series([pd.NA] * length if dtype != "float64" else np.nan, index=index, dtype=dtype)


def column_dtype(column: Column):
    if column.coded:
        return pd.CategoricalDtype(pd.Index([], dtype="str"))
    return {
        "id": "str",
        "string": "str",
        "text": "str",
        "category": pd.CategoricalDtype(
            [str(v) for v in column.vocabulary] if column.vocabulary else []
        ),
        "date": "datetime64[ns]",
        "integer": "Int64",
        "number": "float64",
    }[column.kind]


class HandedTables:
    """Tables handed from one stage to the next, by name.

    The receiver takes what it needs out (`take`, `take_all`) and the object keeps no reference
    to it afterwards: at ten million checks a table is gigabytes, so the stage that owns a
    table is the only one holding it, and no stage frees memory by emptying a dict its caller
    still uses.
    """

    def __init__(self, tables: dict[str, pd.DataFrame]):
        self._tables = dict(tables)

    def names(self) -> tuple[str, ...]:
        return tuple(self._tables)

    def take(self, name: str) -> pd.DataFrame:
        """The table `name`, handed over: this object no longer holds it."""
        return self._tables.pop(name)

    def take_all(self) -> dict[str, pd.DataFrame]:
        """Every table still held, handed over."""
        tables, self._tables = self._tables, {}
        return tables
