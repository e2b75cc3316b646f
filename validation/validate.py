"""Validate an export against the contract: block it, or use it with its bad rows quarantined.

Every row read ends in exactly one place (`ValidationResult.counts` reconciles them per file):

1. **Set aside**: a row whose date (the file's `date_column`) is after `as_of` but not after
   the day of the run is valid and kept for a later run; it is not judged now. A row that
   depends on a set-aside improvement (a check, review, feedback or incident naming an
   improvement identified after `as_of`) is set aside with it: as of `as_of` that improvement
   does not exist yet. A date after the day of the run is not set aside: it is invalid.
2. **Quarantined**: a judged row that breaks a row-level rule of its own (a GX expectation
   from `validation.rules`, or a cell the loader could not read), or that depends on a
   quarantined row: an improvement at a quarantined service, a check or other row of a
   quarantined improvement, a feedback/incident/workforce row at a quarantined service.
3. **Used**: every other row; these are `ValidationResult.tables`.

The run is **blocked** when a file cannot be read, a required file or column is missing, a
required file has no rows, services or improvements repeat an ID, a rule could not be
evaluated at all, or a file's rows break rules of their own in more than
`ValidationParams.block_share` of its judged rows.
"""

from __future__ import annotations

import logging
from datetime import date

import numpy as np
import pandas as pd

from contracts.export import EXPORT_FILES, FILES_BY_NAME, ExportFile
from contracts.files import Export, ExportError, LoadedFile
from contracts.params import ValidationParams
from features.history import declarations_disagreeing
from validation.engine import build_suite, ephemeral_context, rule_outcomes, run_suite
from validation.result import (
    BLOCKING,
    ROW_LEVEL,
    WARNING,
    Finding,
    ValidationResult,
    scrub_gx_result,
)
from validation.rules import contract_rules, derived_columns

log = logging.getLogger(__name__)

IMPROVEMENT_REFERENCE = ("improvements", "improvement_id")
# Columns of a failure record: the data row, the rule that failed, its words, its position.
FAILURE_COLUMNS = ("row", "rule_key", "text", "order")
DEFAULT_PARAMS = ValidationParams()
# Reasons list a row's own failures first, then what it depends on, in column order.
DEPENDANT_ORDER = 10_000


def validate_export(
    export: Export,
    as_of: date,
    params: ValidationParams = DEFAULT_PARAMS,
    *,
    today: date | None = None,
) -> ValidationResult:
    """Judge every row of `export` as of `as_of`, on the day `today` (default: the clock's)."""
    today = today or date.today()
    if as_of > today:
        raise ValueError(f"as-of date {as_of} is after the day of the run ({today})")
    set_aside = set_aside_rows(export, as_of, today)
    keys = reference_keys(export)
    context = ephemeral_context()
    findings = [unreadable_file_finding(error) for error in export.errors]
    failures: dict[str, pd.DataFrame] = {}
    suites, gx_results, not_evaluated = {}, {}, {}
    for name, loaded in export.files.items():
        judged = judge_file(context, loaded, set_aside[name], keys, today, params)
        findings += judged.findings
        failures[name] = judged.failures
        suites[name], gx_results[name] = judged.suite, judged.gx_result
        if judged.not_evaluated:
            not_evaluated[name] = judged.not_evaluated
    findings += share_findings(export, set_aside, failures, params)
    findings += claim_history_findings(export, params)
    findings += team_name_findings(export, params)
    failures = add_dependants(export, set_aside, failures)
    findings += dependant_findings(failures, params)
    return assemble_result(
        export,
        as_of,
        today,
        findings,
        failures,
        set_aside,
        suites=suites,
        gx_results=gx_results,
        not_evaluated=not_evaluated,
    )


# --- set aside ---------------------------------------------------------------------------


def set_aside_rows(export: Export, as_of: date, today: date) -> dict[str, pd.Index]:
    """Rows dated after `as_of` (and not after `today`), and rows of improvements so dated."""
    after, not_future = pd.Timestamp(as_of), pd.Timestamp(today)
    aside: dict[str, pd.Index] = {}
    for name, loaded in export.files.items():
        spec = FILES_BY_NAME[name]
        if not spec.date_column:
            aside[name] = loaded.frame.index[:0]
            continue
        dated = loaded.frame[spec.date_column]
        later = ((dated > after) & (dated <= not_future)).fillna(False).to_numpy(dtype=bool)
        aside[name] = loaded.frame.index[later]
    if "improvements" not in export.files:
        return aside
    improvements = export.files["improvements"].frame
    later_ids = improvements.loc[aside["improvements"], "improvement_id"].dropna().unique()
    for name, column in references_to(IMPROVEMENT_REFERENCE):
        if name in export.files and len(later_ids):
            frame = export.files[name].frame
            depends = frame.index[frame[column].isin(later_ids).to_numpy(dtype=bool)]
            aside[name] = aside[name].union(depends)
    return aside


def references_to(target: tuple[str, str]) -> list[tuple[str, str]]:
    """(file, column) of every contract column that refers to `target` (file, column)."""
    return [
        (spec.name, column.name)
        for spec in EXPORT_FILES
        for column in spec.columns
        if column.references == target
    ]


def reference_keys(export: Export) -> dict[str, pd.Series]:
    """The key values of every referenced file, over all of its rows as read."""
    targets = {
        column.references for spec in EXPORT_FILES for column in spec.columns if column.references
    }
    return {
        file: export.files[file].frame[column] for file, column in targets if file in export.files
    }


# --- judging one file ----------------------------------------------------------------------


class JudgedFile:
    """What judging one file produced (a plain record; built by `judge_file`)."""

    def __init__(self, findings, failures, suite, gx_result, not_evaluated):
        self.findings: list[Finding] = findings
        self.failures: pd.DataFrame = failures
        self.suite = suite
        self.gx_result = gx_result
        self.not_evaluated: tuple[str, ...] = not_evaluated


def judge_file(
    context,
    loaded: LoadedFile,
    set_aside: pd.Index,
    keys: dict[str, pd.Series],
    today: date,
    params: ValidationParams,
) -> JudgedFile:
    """Run the file's suite over its judged rows and collect row failures and findings."""
    spec = FILES_BY_NAME[loaded.name]
    judged = without_rows(loaded.frame, set_aside)
    missing_required = tuple(c for c in loaded.missing_columns if spec.column(c).required)
    batch = gx_batch(spec, judged, missing_required, keys)
    rules = contract_rules(spec, today)
    suite = build_suite(context, spec, rules)
    run = run_suite(context, suite, spec, batch)
    findings: list[Finding] = []
    records: list[pd.DataFrame] = []
    not_evaluated: list[str] = []
    problems = loaded.parse_problems[loaded.parse_problems["row"].isin(judged.index)]
    for position, outcome in enumerate(rule_outcomes(run, rules)):
        rule = outcome.rule
        if outcome.raised:
            if set(rule.columns) & set(missing_required) or _unresolvable(spec, rule, keys):
                # A missing column or an unreadable file already blocks the run; a
                # reference into a file that could not be read cannot be judged.
                not_evaluated.append(rule.key)
                continue
            # Never GX's message: it may quote a value.
            log.warning("%s: rule %s could not be evaluated", rule.file, rule.key)
            findings.append(
                _finding(
                    rule.file,
                    rule.columns,
                    f"{rule.text} (could not be evaluated)",
                    BLOCKING,
                    np.array([], "int64"),
                    rule.key,
                    rule.why,
                    params,
                )
            )
            continue
        if outcome.success:
            continue
        rows = outcome.failing_rows
        if rule.key.endswith(".required"):
            # An unreadable cell is reported as unreadable, not also as empty.
            unreadable = problems.loc[problems["column"] == rule.columns[0], "row"]
            rows = np.setdiff1d(rows, unreadable.to_numpy(dtype="int64"))
        if rule.blocking:
            findings.append(
                _finding(
                    rule.file, rule.columns, rule.text, BLOCKING, rows, rule.key, rule.why, params
                )
            )
        elif len(rows):
            records.append(_failure_records(rows, rule.key, rule.text, position))
    records += parse_problem_records(spec, problems, rules)
    if spec.required and loaded.rows == 0:
        findings.append(
            _finding(
                spec.name,
                (),
                "a required file must have data rows",
                BLOCKING,
                np.array([], "int64"),
                f"{spec.name}.file.rows",
                "nothing can be scored without it",
                params,
            )
        )
    failures = pd.concat(records, ignore_index=True) if records else _no_failures()
    findings += row_findings(failures, spec.name, rules, params)
    return JudgedFile(findings, failures, suite, scrub_gx_result(run.result), tuple(not_evaluated))


def _unresolvable(spec: ExportFile, rule, keys: dict[str, pd.Series]) -> bool:
    """Whether `rule` is a reference into a file that is not in the export as read."""
    if not rule.key.endswith(".reference"):
        return False
    return spec.column(rule.columns[0]).references[0] not in keys


def gx_batch(
    spec: ExportFile,
    judged: pd.DataFrame,
    missing_required: tuple[str, ...],
    keys: dict[str, pd.Series],
) -> pd.DataFrame:
    """The frame GX sees: no stand-in for a missing required column (the loader has already
    dropped free text)."""
    return derived_columns(spec, judged.drop(columns=list(missing_required)), keys)


def parse_problem_records(spec: ExportFile, problems: pd.DataFrame, rules) -> list[pd.DataFrame]:
    """Cells the loader could not read, as failures of the column's vocabulary or form rule."""
    if problems.empty:
        return []
    by_key = {rule.key: (position, rule) for position, rule in enumerate(rules)}
    records = []
    for (column, words), group in problems.groupby(["column", "rule"], sort=True):
        vocabulary_key = f"{spec.name}.{column}.vocabulary"
        if vocabulary_key in by_key:
            position, rule = by_key[vocabulary_key]
            key, text = rule.key, rule.text
        else:
            # The loader says what the cell is not ("not a whole number"); say what it must be.
            # Placed with the column's type rule so reasons follow the contract's column order.
            position = by_key[f"{spec.name}.{column}.type"][0]
            key, text = f"{spec.name}.{column}.form", f"{column} must be {words[4:]}"
        records.append(_failure_records(group["row"].to_numpy("int64"), key, text, position))
    return records


def _failure_records(rows: np.ndarray, key: str, text: str, order: int) -> pd.DataFrame:
    return pd.DataFrame(
        {"row": rows.astype("int64"), "rule_key": key, "text": text, "order": order}
    )


def _no_failures() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "row": pd.Series(dtype="int64"),
            "rule_key": pd.Series(dtype="str"),
            "text": pd.Series(dtype="str"),
            "order": pd.Series(dtype="int64"),
        }
    )


def row_findings(
    failures: pd.DataFrame, file: str, rules, params: ValidationParams
) -> list[Finding]:
    """One row-level finding per rule that failed, in rule order."""
    if failures.empty:
        return []
    rules_by_key = {rule.key: rule for rule in rules}
    findings = []
    for key, group in failures.groupby("rule_key", sort=False):
        rule = rules_by_key.get(key)
        columns = rule.columns if rule else (key.split(".")[1],)
        why = rule.why if rule else "the loader could not read the cell as the contract's type"
        findings.append(
            _finding(
                file,
                columns,
                group["text"].iloc[0],
                ROW_LEVEL,
                group["row"].to_numpy("int64"),
                key,
                why,
                params,
                order=int(group["order"].iloc[0]),
            )
        )
    return [f for _, f in sorted(findings, key=lambda pair: pair[0])]


def _finding(file, columns, text, severity, rows, key, why, params, *, order=None):
    rows = np.unique(rows)
    finding = Finding(
        file=file,
        columns=tuple(columns),
        rule=text,
        severity=severity,
        failing_rows=len(rows),
        sample_rows=tuple(int(r) for r in rows[: params.sample_rows]),
        rule_key=key,
        why=why,
    )
    return finding if order is None else (order, finding)


def unreadable_file_finding(error: ExportError) -> Finding:
    """A file that could not be used at all: missing (required), unreadable or ambiguous."""
    name = error.file.split(".", 1)[0]
    return Finding(
        file=name,
        columns=(),
        rule=error.problem,
        severity=BLOCKING,
        failing_rows=0,
        sample_rows=(),
        rule_key=f"{name}.file.readable",
        why="a file that cannot be read leaves the export incomplete",
    )


# --- whole-export decisions ----------------------------------------------------------------


def share_findings(
    export: Export,
    set_aside: dict[str, pd.Index],
    failures: dict[str, pd.DataFrame],
    params: ValidationParams,
) -> list[Finding]:
    """Block a file whose own failing rows exceed `block_share` of its judged rows."""
    findings = []
    for name, loaded in export.files.items():
        judged = loaded.rows - len(set_aside[name])
        rows = failures[name]["row"].unique()
        if judged and len(rows) / judged > params.block_share:
            text = (
                f"more than {params.block_share:.0%} of judged rows break row-level rules "
                f"({len(rows)} of {judged})"
            )
            findings.append(
                _finding(
                    name,
                    (),
                    text,
                    BLOCKING,
                    np.sort(rows),
                    f"{name}.file.failing_share",
                    "so many bad rows that the rest cannot be trusted",
                    params,
                )
            )
    return findings


CLAIM_COLUMNS = ("declared_status", "declared_on")


def claim_history_findings(export: Export, params: ValidationParams) -> list[Finding]:
    """A warning when the improvements file's claim differs from the latest row of the
    declarations history (contract v2: the history wins, and the run says how many)."""
    if "declarations" not in export.files or "improvements" not in export.files:
        return []
    improvements = export.files["improvements"].frame
    declarations = export.files["declarations"].frame
    needed = {"improvement_id", "declared_on", "declared_status"}
    if not needed <= set(declarations.columns) or not set(CLAIM_COLUMNS) <= set(improvements):
        return []  # a missing required column already blocks the run
    differing = declarations_disagreeing(improvements, declarations)
    if differing.empty:
        return []
    return [
        _finding(
            "improvements",
            CLAIM_COLUMNS,
            f"declared_status / declared_on differ from the latest declaration for "
            f"{len(differing)} improvement(s); the declarations history is used",
            WARNING,
            differing.index.to_numpy("int64"),
            "improvements.declared_status.history",
            "the declarations file is the history of the claim; the improvements file only "
            "repeats its latest row",
            params,
        )
    ]


TEAM_FILES = ("checks", "workforce", "feedback", "incidents")


def team_name_findings(export: Export, params: ValidationParams) -> list[Finding]:
    """A warning for rows whose team name no other file uses (after the loader joined the
    spellings that differ only in case, spaces or punctuation): a short form or a different
    name that cannot be joined with certainty, so the team counts as a team of its own."""
    names = {
        name: export.files[name].frame["team"]
        for name in TEAM_FILES
        if name in export.files and "team" in export.files[name].frame.columns
    }
    if len(names) < 2:
        return []
    seen = {name: set(column.dropna().unique().tolist()) for name, column in names.items()}
    findings = []
    for name, column in names.items():
        elsewhere = set().union(*(v for k, v in seen.items() if k != name))
        alone = seen[name] - elsewhere
        if not alone:
            continue
        rows = column.index[column.isin(alone).to_numpy(dtype=bool, na_value=False)]
        findings.append(
            _finding(
                name,
                ("team",),
                f"{len(alone)} team name(s) appear in no other file, so their rows are not "
                "joined to any team and count as teams of their own",
                WARNING,
                rows.to_numpy("int64"),
                f"{name}.team.joined",
                "a team is recognised across files by its name; spellings that differ only "
                "in case, spaces or punctuation are joined, others need the same name",
                params,
            )
        )
    return findings


def add_dependants(
    export: Export, set_aside: dict[str, pd.Index], failures: dict[str, pd.DataFrame]
) -> dict[str, pd.DataFrame]:
    """Add judged rows that refer to a quarantined service or improvement, in contract order.

    Contract order puts services before improvements before the rest, so a check of an
    improvement at a quarantined service is quarantined too.
    """
    updated = dict(failures)
    quarantined_keys: dict[str, np.ndarray] = {}
    for spec in EXPORT_FILES:
        if spec.name not in export.files:
            continue
        frame = without_rows(export.files[spec.name].frame, set_aside[spec.name])
        for position, column in enumerate(spec.columns):
            target = column.references[0] if column.references else None
            if target not in quarantined_keys or not len(quarantined_keys[target]):
                continue
            hit = frame.index[frame[column.name].isin(quarantined_keys[target]).to_numpy(bool)]
            text = f"depends on a quarantined row of {target} ({column.name})"
            record = _failure_records(
                hit.to_numpy("int64"),
                f"{spec.name}.{column.name}.depends",
                text,
                DEPENDANT_ORDER + position,
            )
            updated[spec.name] = pd.concat([updated[spec.name], record], ignore_index=True)
        if len(spec.key) == 1:
            rows = updated[spec.name]["row"].unique()
            quarantined_keys[spec.name] = frame.loc[rows, spec.key[0]].dropna().unique()
    return updated


def dependant_findings(
    failures: dict[str, pd.DataFrame], params: ValidationParams
) -> list[Finding]:
    findings = []
    for name, found in failures.items():
        depends = found[found["rule_key"].str.endswith(".depends")]
        for key, group in depends.groupby("rule_key", sort=True):
            if len(group):
                findings.append(
                    _finding(
                        name,
                        (key.split(".")[1],),
                        group["text"].iloc[0],
                        ROW_LEVEL,
                        group["row"].to_numpy("int64"),
                        key,
                        "a row about a quarantined row cannot be used alone",
                        params,
                    )
                )
    return findings


def assemble_result(
    export: Export,
    as_of: date,
    today: date,
    findings: list[Finding],
    failures: dict[str, pd.DataFrame],
    set_aside: dict[str, pd.Index],
    *,
    suites: dict,
    gx_results: dict,
    not_evaluated: dict[str, tuple[str, ...]],
) -> ValidationResult:
    """Split every file into used / set aside / quarantined and count where each row went."""
    tables, quarantine, counts = {}, {}, {}
    for name, loaded in export.files.items():
        kept = without_rows(loaded.frame, set_aside[name])
        reasons = quarantine_reasons(failures[name])
        quarantine[name] = kept.loc[reasons.index].assign(reason=reasons).reset_index()
        tables[name] = without_rows(kept, reasons.index)
        counts[name] = {
            "read": loaded.rows,
            "used": len(tables[name]),
            "set_aside": len(set_aside[name]),
            "quarantined": len(reasons),
        }
    blocked = any(f.severity == BLOCKING for f in findings)
    log.info(
        "validated %s as of %s: %s; %s",
        export.source,
        as_of,
        "blocked" if blocked else "usable",
        ", ".join(f"{n} used {c['used']}/{c['read']}" for n, c in counts.items()),
    )
    present = export.files.values()
    return ValidationResult(
        blocked=blocked,
        source=export.source,
        as_of=as_of,
        today=today,
        findings=findings,
        tables=tables,
        quarantine=quarantine,
        counts=counts,
        absent_files=export.absent,
        ignored_columns={f.name: f.ignored_columns for f in present if f.ignored_columns},
        missing_optional_columns={
            f.name: optional for f in present if (optional := _missing_optional(f))
        },
        normalised_cells={f.name: f.normalised_cells for f in present if f.normalised_cells},
        suites=suites,
        gx_results=gx_results,
        rules_not_evaluated=not_evaluated,
    )


def without_rows(frame: pd.DataFrame, rows: pd.Index) -> pd.DataFrame:
    """`frame` less `rows`; when there are none, a copy-on-write view (a drop copies 10M rows)."""
    return frame.drop(index=rows) if len(rows) else frame.copy(deep=False)


def quarantine_reasons(failures: pd.DataFrame) -> pd.Series:
    """One reason per quarantined row: every rule it broke, in rule order, joined by '; '."""
    if failures.empty:
        return pd.Series(
            [], index=pd.Index([], dtype="int64", name="row"), dtype="str", name="reason"
        )
    ordered = failures.drop_duplicates(["row", "rule_key"]).sort_values(
        ["row", "order"], kind="stable"
    )
    reasons = ordered.groupby("row", sort=True)["text"].agg("; ".join)
    return reasons.rename("reason").rename_axis("row")


def _missing_optional(loaded: LoadedFile) -> tuple[str, ...]:
    spec = FILES_BY_NAME[loaded.name]
    return tuple(c for c in loaded.missing_columns if not spec.column(c).required)
