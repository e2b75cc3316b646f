"""Reading evidence exports: a folder path or any fsspec URL, CSV / CSV.gz / Parquet.

Reading is robust and typed, and nothing more: it never raises a bare traceback on
anything a user could hand it. A file that cannot be read at all raises `ExportError`
naming the file and the problem; a cell that cannot be read as its contract type becomes
missing and is listed in `LoadedFile.parse_problems` (row number, column, rule) so that
validation can quarantine the row with a reason. Judging rows against the contract is
`validation`'s job.

Normalised, not rejected (documented in README "What the loader accepts"):
- a UTF-8 byte-order mark at the start of a CSV;
- white space around any value except free text;
- letter case of vocabulary words (`Safe` -> `safe`);
- timestamps, with or without a time zone, truncated to their date as written.

Row numbers are 1-based data rows (row 1 is the line after the header) and are kept as the
frames' index, named `row`, so every later message can point at the row in the file.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import logging
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace
from datetime import date

import fsspec
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from contracts.export import EXPORT_FILES, FILES_BY_NAME, Column, ExportFile
from contracts.files import (
    ROW_INDEX,
    Export,
    ExportError,
    LoadedFile,
    column_dtype,
    empty_problems,
    empty_series,
)

log = logging.getLogger(__name__)

SUFFIXES = (".csv", ".csv.gz", ".parquet")

_DATE_RE = r"\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}(:?\d{2})?)?)?"
_INT_RE = r"[+-]?\d+(\.0+)?"
_NUMBER_RE = r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?"
# Arrow parses CSV in blocks of this size; a block must hold whole rows.
_CSV_BLOCK_BYTES = 1 << 24
_MAX_BLOCK_BYTES = (1 << 31) - 1


# Exports being read ahead by `prefetch_export`, by source, until `read_export` takes them.
_PREFETCHED: dict[str, Future] = {}


def prefetch_export(source: str) -> None:
    """Start reading `source` in a background thread; the next `read_export(source)` takes it.

    The command line calls this first, so that reading and typing the files (much of it in
    Arrow, without the interpreter lock) overlaps the process importing its libraries and
    Prefect starting up. What `read_export` returns is the same as reading then; a read that
    failed raises from `read_export` as it would have, and a retry reads again.
    """
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="takehold-prefetch")
    _PREFETCHED[str(source)] = pool.submit(_read_export, str(source), None, False)
    pool.shutdown(wait=False)  # the read carries on; the thread ends with it


def read_export(
    source: str, *, storage_options: dict | None = None, collect_errors: bool = False
) -> Export:
    """Read every contract file found at `source` (a folder path or fsspec URL).

    A missing required file or an unreadable file raises `ExportError`, unless
    `collect_errors` is set: then every such file is listed in `Export.errors` and left out
    of `Export.files`. A folder that cannot be opened always raises.
    """
    ahead = _PREFETCHED.pop(str(source), None)
    if ahead is not None and storage_options is None and not collect_errors:
        started = time.perf_counter()
        export = ahead.result()
        log.info(
            "export %s was read ahead (%.1f s); waited %.1f s for the rest",
            source,
            export.read_seconds,
            time.perf_counter() - started,
        )
        return replace(export, read_ahead=True)
    return _read_export(source, storage_options, collect_errors)


def export_folder(source: str, storage_options: dict | None = None):
    """(filesystem, root) of an export folder; `ExportError` when it cannot be opened or is
    not there (the command line asks this before any work starts)."""
    try:
        fs, root = fsspec.core.url_to_fs(str(source), **(storage_options or {}))
    except (ValueError, ImportError) as exc:
        raise ExportError(str(source), f"cannot open this location ({exc})") from None
    if not fs.isdir(root):
        raise ExportError(str(source), "export folder not found")
    return fs, root


def _read_export(source: str, storage_options: dict | None, collect_errors: bool) -> Export:
    started = time.perf_counter()
    fs, root = export_folder(source, storage_options)
    files: dict[str, LoadedFile] = {}
    absent: list[str] = []
    errors: list[ExportError] = []
    for spec in EXPORT_FILES:
        try:
            path = _find_file(fs, root, spec)
            if path is None and spec.required:
                raise ExportError(
                    f"{spec.name}.csv",
                    f"required file is missing from {source} (looked for "
                    + ", ".join(spec.name + s for s in SUFFIXES)
                    + ")",
                )
            if path is None:
                absent.append(spec.name)
                continue
            files[spec.name] = read_file(fs, path, spec)
        except ExportError as exc:
            if not collect_errors:
                raise
            errors.append(exc)
    log.info("read export %s: %s", source, ", ".join(f"{n}={f.rows}" for n, f in files.items()))
    files = join_team_variants(files)
    return Export(
        source=str(source),
        files=files,
        absent=tuple(absent),
        errors=tuple(errors),
        read_seconds=round(time.perf_counter() - started, 3),
    )


def read_file(fs, path: str, spec: ExportFile) -> LoadedFile:
    """Read and type one export file. Raises ExportError when it cannot be read at all."""
    display = path.rsplit("/", 1)[-1]
    try:
        with fs.open(path, "rb") as handle:
            data = handle.read()
    except OSError as exc:
        raise ExportError(display, f"cannot be opened ({exc.__class__.__name__})") from None
    digest = hashlib.sha256(data).hexdigest()
    # Free text (which may name people) is never materialised: the readers skip its column.
    skip = spec.free_text_columns
    if path.endswith(".parquet"):
        raw, fmt = _read_parquet(display, data, skip), "parquet"
    else:
        if path.endswith(".gz"):
            data = _gunzip(display, data)
        raw, fmt = _read_csv(display, data, skip), ("csv.gz" if path.endswith(".gz") else "csv")
    return type_frame(raw, spec, path=path, fmt=fmt, sha256=digest)


def type_frame(
    raw: pd.DataFrame, spec: ExportFile, *, path: str = "", fmt: str = "", sha256: str = ""
) -> LoadedFile:
    """Give every contract column its type; list cells that could not be read.

    Free-text columns are dropped here if a reader passed them on: no typed frame, cache,
    task result or persisted Prefect result of takehold's ever holds free text.
    """
    raw = raw.drop(columns=[c for c in spec.free_text_columns if c in raw.columns])
    ignored = tuple(c for c in raw.columns if c not in spec.column_names)
    missing = tuple(
        c for c in spec.column_names if c not in raw.columns and c not in spec.free_text_columns
    )
    if ignored:
        log.info("%s: ignoring %d extra column(s): %s", spec.name, len(ignored), ", ".join(ignored))
    raw = raw.set_axis(pd.RangeIndex(1, len(raw) + 1, name=ROW_INDEX), axis=0)
    typed: dict[str, pd.Series] = {}
    problems: list[pd.DataFrame] = []
    normalised: dict[str, int] = {}
    for column in spec.columns:
        if column.free_text:
            continue
        if column.name not in raw.columns:
            typed[column.name] = empty_series(column, len(raw), raw.index)
            continue
        values, bad, rule, changed = _coerce_distinct(raw[column.name], column)
        typed[column.name] = values
        if changed:
            normalised[column.name] = changed
        if bad.any():
            rows = raw.index[bad.to_numpy()]
            problems.append(pd.DataFrame({"row": rows, "column": column.name, "rule": rule}))
    frame = pd.DataFrame(typed, index=raw.index)
    found = pd.concat(problems, ignore_index=True) if problems else empty_problems()
    return LoadedFile(
        name=spec.name,
        path=path,
        format=fmt,
        sha256=sha256,
        frame=frame,
        ignored_columns=ignored,
        missing_columns=missing,
        parse_problems=found,
        normalised_cells=normalised,
    )


TEAM_COLUMN = "team"


def team_key(name: str) -> str:
    """What two spellings of one team share: letters and digits, case ignored ("Rose Wing",
    "ROSE WING", "rose-wing" and "Rose  Wing" are one team)."""
    return "".join(ch for ch in name.casefold() if ch.isalnum())


def join_team_variants(files: dict[str, LoadedFile]) -> dict[str, LoadedFile]:
    """Spell every team one way across the export's files.

    Systems and people spell a team differently ("Rose Wing" in the rota, "ROSE WING" in the
    audit tool). Spellings that differ only in case, spaces or punctuation (`team_key`) are
    joined to the spelling the export uses most; the cells changed are counted in each file's
    `normalised_cells["team"]` (validation's summary reports them). Spellings that differ
    otherwise ("Rose" beside "Rose Wing") are left apart: validation warns of team names that
    no other file uses.
    """
    per_file = {
        file: _team_counts(loaded.frame[TEAM_COLUMN])
        for file, loaded in files.items()
        if TEAM_COLUMN in loaded.frame.columns
    }
    counts: dict[str, int] = {}
    for found in per_file.values():
        for name, n in found.items():
            counts[name] = counts.get(name, 0) + n
    by_key: dict[str, list[str]] = {}
    for name in counts:
        by_key.setdefault(team_key(name), []).append(name)
    mapping = {
        name: best
        for names in by_key.values()
        if len(names) > 1
        for best in [min(names, key=lambda n: (-counts[n], n))]
        for name in names
        if name != best
    }
    if not mapping:
        return files
    joined = {}
    for file, loaded in files.items():
        found = per_file.get(file, {})
        changed = sum(n for name, n in found.items() if name in mapping)
        if not changed:
            joined[file] = loaded
            continue
        column = loaded.frame[TEAM_COLUMN]
        frame = loaded.frame.assign(**{TEAM_COLUMN: _renamed(column, mapping)})
        normalised = dict(loaded.normalised_cells)
        normalised[TEAM_COLUMN] = normalised.get(TEAM_COLUMN, 0) + changed
        joined[file] = replace(loaded, frame=frame, normalised_cells=normalised)
    log.info("joined %d team spelling(s) to the export's usual ones", len(mapping))
    return joined


def _team_counts(column: pd.Series) -> dict[str, int]:
    """Rows per distinct team name (categorical columns from their codes)."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        codes = column.cat.codes.to_numpy()
        found = np.bincount(codes[codes >= 0], minlength=len(column.cat.categories))
        return {str(c): int(n) for c, n in zip(column.cat.categories, found, strict=True) if n}
    return {str(k): int(v) for k, v in column.value_counts(dropna=True).items()}


def _renamed(column: pd.Series, mapping: dict[str, str]) -> pd.Series:
    """`column` with the names in `mapping` replaced; a categorical stays one, its categories
    the sorted distinct names (as the loader builds it)."""
    if not isinstance(column.dtype, pd.CategoricalDtype):
        return column.replace(mapping)
    old = pd.Index(column.cat.categories, dtype="str")
    renamed = pd.Index([mapping.get(c, c) for c in old], dtype="str")
    codes, categories = pd.factorize(renamed, sort=True)
    row_codes = column.cat.codes.to_numpy()
    row_codes = np.where(row_codes >= 0, codes[np.maximum(row_codes, 0)], -1)
    dtype = pd.CategoricalDtype(pd.Index(categories, dtype="str"))
    return pd.Series(
        pd.Categorical.from_codes(row_codes, dtype=dtype), index=column.index, name=column.name
    )


def split_at_as_of(export: Export, as_of: date) -> tuple[Export, dict[str, int]]:
    """Set aside rows dated after `as_of`; return the export as of that date and the counts."""
    cutoff = pd.Timestamp(as_of)
    kept: dict[str, LoadedFile] = {}
    counts: dict[str, int] = {}
    for name, loaded in export.files.items():
        spec = FILES_BY_NAME[name]
        if not spec.date_column:
            kept[name], counts[name] = loaded, 0
            continue
        after = (loaded.frame[spec.date_column] > cutoff).fillna(False).to_numpy()
        counts[name] = int(after.sum())
        kept[name] = _replace_frame(loaded, loaded.frame[~after])
    return Export(
        source=export.source, files=kept, absent=export.absent, errors=export.errors
    ), counts


def load_export(source: str, as_of: date | None = None) -> tuple[Export, dict[str, int]]:
    """Read an export and, when `as_of` is given, set aside rows dated after it."""
    export = read_export(source)
    if as_of is None:
        return export, dict.fromkeys(export.files, 0)
    return split_at_as_of(export, as_of)


# --- internals -----------------------------------------------------------------------------


def _find_file(fs, root: str, spec: ExportFile) -> str | None:
    found = [f"{root.rstrip('/')}/{spec.name}{s}" for s in SUFFIXES]
    found = [p for p in found if fs.exists(p)]
    if len(found) > 1:
        names = ", ".join(p.rsplit("/", 1)[-1] for p in found)
        raise ExportError(spec.name, f"more than one file for the same table ({names}); keep one")
    return found[0] if found else None


def _gunzip(display: str, data: bytes) -> bytes:
    try:
        return gzip.decompress(data)
    except (OSError, EOFError) as exc:
        raise ExportError(display, f"is not a readable gzip file ({exc})") from None


def _read_parquet(display: str, data: bytes, skip: tuple[str, ...] = ()) -> pd.DataFrame:
    try:
        names = pq.read_schema(io.BytesIO(data)).names
        _refuse_duplicate_columns(display, names)
        kept = [n for n in names if n not in skip]
        table = pq.read_table(io.BytesIO(data), columns=kept)
    except (pa.ArrowException, OSError) as exc:
        raise ExportError(display, f"is not a readable Parquet file ({exc})") from None
    return table.to_pandas()


def _read_csv(display: str, data: bytes, skip: tuple[str, ...] = ()) -> pd.DataFrame:
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    if not data.strip():
        raise ExportError(display, "file is empty (no header row)")
    try:
        data.decode("utf-8", errors="strict")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ExportError(
            display,
            f"is not UTF-8 text (byte 0x{data[exc.start]:02x} on line {line}); "
            "save the export as UTF-8",
        ) from None
    header = _header(display, data)
    _refuse_duplicate_columns(display, header)
    _refuse_wrong_delimiter(display, header)
    try:
        table = _parse_csv(data, header, _CSV_BLOCK_BYTES, skip)
    except pa.ArrowInvalid as exc:
        if "straddling" not in str(exc):
            raise ExportError(display, f"is not a well-formed CSV ({_arrow_reason(exc)})") from None
        # One cell longer than a parsing block (a very long free-text answer): parse the file
        # as a single block rather than refuse it. Slower, but only for such files.
        try:
            table = _parse_csv(data, header, min(len(data) + 1, _MAX_BLOCK_BYTES), skip)
        except pa.ArrowInvalid as again:
            raise ExportError(
                display, f"is not a well-formed CSV ({_arrow_reason(again)})"
            ) from None
    return table.to_pandas()


def _parse_csv(
    data: bytes, header: list[str], block_size: int, skip: tuple[str, ...] = ()
) -> pa.Table:
    """Every column but `skip` as text, empty cells as missing; typing is `type_frame`'s job."""
    return pacsv.read_csv(
        io.BytesIO(data),
        read_options=pacsv.ReadOptions(column_names=header, skip_rows=1, block_size=block_size),
        parse_options=pacsv.ParseOptions(newlines_in_values=True),
        convert_options=pacsv.ConvertOptions(
            column_types=dict.fromkeys(header, pa.string()),
            strings_can_be_null=True,
            null_values=[""],
            quoted_strings_can_be_null=True,
            include_columns=[h for h in header if h not in skip],
        ),
    )


def _header(display: str, data: bytes) -> list[str]:
    first = data.split(b"\n", 1)[0].decode("utf-8").rstrip("\r")
    header = next(csv.reader([first]))
    return [h.strip() for h in header]


def _refuse_duplicate_columns(display: str, names: list[str]) -> None:
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise ExportError(display, f"column '{name}' appears twice in the header")
        seen.add(name)


def _refuse_wrong_delimiter(display: str, header: list[str]) -> None:
    if len(header) == 1:
        for delimiter, word in ((";", "semicolons"), ("\t", "tabs"), ("|", "pipes")):
            if delimiter in header[0]:
                raise ExportError(
                    display,
                    f"the header is separated by {word}, not commas; export as comma-separated CSV",
                )


def _arrow_reason(exc: Exception) -> str:
    # Arrow quotes the offending row after its own words; keep only its words so that no
    # evidence reaches a message.
    return ": ".join(str(exc).splitlines()[0].split(": ")[:2])


def _coerce_distinct(raw: pd.Series, column: Column) -> tuple[pd.Series, pd.Series, str, int]:
    """`_coerce`, computed once per distinct text when a column repeats itself.

    Exports repeat their dates, teams, sources and ids millions of times (10M checks hold
    about 1,100 distinct dates): stripping, matching and parsing each distinct text once and
    spreading the results back is several times faster, with the same values, problems and
    count of normalised cells.
    """
    if column.kind == "text" or len(raw) < DISTINCT_MIN_ROWS:
        return _coded(_coerce(raw, column), column)
    if isinstance(raw.dtype, pd.CategoricalDtype):  # Parquet dictionary columns arrive so
        codes = raw.cat.codes.to_numpy()
        once = pd.Series(raw.cat.categories.astype("str"), dtype="str")
    elif _is_text(raw) and (column.coded or _repetitive(raw)):
        codes, distinct = pd.factorize(raw, use_na_sentinel=True)
        once = pd.Series(distinct, dtype=raw.dtype)
    else:
        return _coded(_coerce(raw, column), column)
    values, bad, rule, changed = _coerce_cells(once, column)
    known = codes >= 0
    at = np.where(known, codes, 0)
    if column.coded:
        spread = _categorical(values, codes, raw.index, raw.name)
    else:
        spread = pd.Series(
            values.array.take(codes, allow_fill=True), index=raw.index, name=raw.name
        )
    bad_cells = pd.Series(known & bad.to_numpy(dtype=bool, na_value=False)[at], index=raw.index)
    changed_cells = known & changed.to_numpy(dtype=bool, na_value=False)[at]
    return spread, bad_cells, rule, int(changed_cells.sum())


def _coded(coerced: tuple, column: Column) -> tuple:
    """`_coerce`'s result with a `coded` column as a categorical (see `Column.coded`)."""
    if not column.coded:
        return coerced
    values, *rest = coerced
    return (_categorical(values, None, values.index, values.name), *rest)


def _categorical(distinct: pd.Series, codes: np.ndarray | None, index: pd.Index, name) -> pd.Series:
    """Rows `codes` into the typed texts `distinct` (-1: missing; None: one row per text), as
    a categorical whose categories are the distinct non-missing texts, sorted (so sorting it
    sorts the texts)."""
    typed, categories = pd.factorize(distinct, sort=True, use_na_sentinel=True)
    row_codes = typed if codes is None else np.append(typed, -1)[codes]
    dtype = pd.CategoricalDtype(pd.Index(categories, dtype="str"))
    return pd.Series(pd.Categorical.from_codes(row_codes, dtype=dtype), index=index, name=name)


DISTINCT_MIN_ROWS = 10_000  # below this the plain path is as fast
DISTINCT_MAX_SHARE = 4  # use the distinct path when distinct texts are at most 1/4 of rows


def _repetitive(raw: pd.Series, sample: int = 10_000) -> bool:
    """Whether distinct texts are at most 1/DISTINCT_MAX_SHARE of a sample of the rows."""
    picked = raw.iloc[:: max(1, len(raw) // sample)]
    return picked.nunique(dropna=True) * DISTINCT_MAX_SHARE <= len(picked)


def _is_text(raw: pd.Series) -> bool:
    return pd.api.types.is_string_dtype(raw.dtype) or raw.dtype == object


def _coerce(raw: pd.Series, column: Column) -> tuple[pd.Series, pd.Series, str, int]:
    """Return (typed values, mask of unreadable cells, the rule they broke, cells normalised)."""
    values, bad, rule, changed = _coerce_cells(raw, column)
    return values, bad, rule, int(changed.sum())


def _coerce_cells(raw: pd.Series, column: Column) -> tuple[pd.Series, pd.Series, str, pd.Series]:
    """(typed values, mask of unreadable cells, the rule they broke, mask of normalised cells)."""
    none = pd.Series(False, index=raw.index)
    if column.kind == "text":
        values = raw.astype("str").where(raw.notna())
        return values, none, "", none
    if column.kind == "date" and pd.api.types.is_datetime64_any_dtype(raw.dtype):
        return _naive_dates(raw), none, "", none
    if column.kind in ("integer", "number") and pd.api.types.is_numeric_dtype(raw.dtype):
        values, bad, rule = _coerce_native_number(raw, column)
        return values, bad, rule, none
    text = raw.astype("str").where(raw.notna())
    stripped = text.str.strip()
    changed = (text.notna() & (stripped != text)).fillna(False).astype(bool)
    stripped = stripped.where(stripped != "")
    present = stripped.notna()
    if column.kind in ("id", "string"):
        return stripped, none, "", changed
    if column.kind == "category":
        lowered = stripped.str.lower()
        changed = changed | (present & (lowered != stripped)).fillna(False).astype(bool)
        values = pd.Categorical(lowered, categories=column_dtype(column).categories)
        values = pd.Series(values, index=raw.index)
        bad = present & values.isna()
        return values, bad, "not one of the allowed values", changed
    if column.kind == "date":
        ok = stripped.str.fullmatch(_DATE_RE).fillna(False).astype(bool)
        values = pd.to_datetime(
            stripped.str.slice(0, 10).where(ok), format="%Y-%m-%d", errors="coerce"
        )
        bad = present & values.isna()
        return values.astype("datetime64[ns]"), bad, "not a date in YYYY-MM-DD form", changed
    if column.kind == "integer":
        ok = stripped.str.fullmatch(_INT_RE).fillna(False).astype(bool)
        numbers = pd.to_numeric(stripped.where(ok), errors="coerce")
        values = numbers.round().astype("Int64")
        bad = present & values.isna()
        return values, bad, "not a whole number", changed
    ok = stripped.str.fullmatch(_NUMBER_RE).fillna(False).astype(bool)
    values = pd.to_numeric(stripped.where(ok), errors="coerce").astype("float64")
    bad = present & values.isna()
    return values, bad, "not a number (use a point for decimals, no thousands separators)", changed


def _coerce_native_number(raw: pd.Series, column: Column):
    if column.kind == "integer" and pd.api.types.is_signed_integer_dtype(raw.dtype):
        return raw.astype("Int64"), pd.Series(False, index=raw.index), ""  # whole already
    values = raw.astype("float64")
    if column.kind == "number":
        return values, pd.Series(False, index=raw.index), ""
    whole = values.isna() | ((values == values.round()) & (values.abs() < 2.0**63))
    bad = ~whole
    return values.where(whole).round().astype("Int64"), bad, "not a whole number"


def _naive_dates(raw: pd.Series) -> pd.Series:
    if getattr(raw.dtype, "tz", None) is not None:
        raw = raw.dt.tz_localize(None)
    return raw.dt.normalize().astype("datetime64[ns]")


def _replace_frame(loaded: LoadedFile, frame: pd.DataFrame) -> LoadedFile:
    return LoadedFile(
        name=loaded.name,
        path=loaded.path,
        format=loaded.format,
        sha256=loaded.sha256,
        frame=frame,
        ignored_columns=loaded.ignored_columns,
        missing_columns=loaded.missing_columns,
        parse_problems=loaded.parse_problems[loaded.parse_problems["row"].isin(frame.index)],
        normalised_cells=loaded.normalised_cells,
    )
