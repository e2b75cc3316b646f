"""The export contract's rules, one Great Expectations expectation each, built from the contract.

Every column rule is read from `features.contract` (required, type, uniqueness, vocabulary,
range, ID form, date bounds, references); the few rules that relate two columns are declared
here, once, by column name and checked against the contract when the rules are built. Each
rule carries its plain-words text (what a quarantine `reason` says) and a one-line reason
(why the rule exists); both travel in the expectation's `meta`, so Data Docs show them too.

Rules that GX cannot state over a single pandas frame are stated over *derived columns* that
`derived_columns` adds to the batch with vectorised pandas (the rule itself stays a GX
expectation):
- a reference to another file becomes a boolean column `<column>_found_in_<file>` (GX batches
  are one frame; putting every key of the other file into the suite's value set would copy
  every ID into the suite and its Data Docs page);
- `repeat_gaps <= sampled - met` compares with `unmet_items = sampled - met`;
- `shifts_agency + shifts_unfilled <= shifts_planned` compares with `shifts_agency_plus_unfilled`;
- "week_start is a Monday" checks `week_start_weekday` (0 is Monday), as GX has no weekday rule.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

import great_expectations.expectations as gxe
import pandas as pd

from contracts.export import EARLIEST_DATE, Column, ExportFile
from features.panels import positions_in

# Files whose duplicate IDs make the whole export untrustworthy (every other file points at them).
BLOCKING_DUPLICATE_FILES = ("services", "improvements")

# What the contract kinds look like after `pipelines.io.type_frame`, as GX names the types.
GX_TYPE_NAMES = {
    "id": "str",
    "string": "str",
    "category": "CategoricalDtypeType",
    "date": "datetime64",
    "integer": "int64",
    "number": "float64",
}

UNMET_ITEMS = "unmet_items"
AGENCY_PLUS_UNFILLED = "shifts_agency_plus_unfilled"
WEEK_START_WEEKDAY = "week_start_weekday"
MONDAY = 0


@dataclass(frozen=True)
class Rule:
    """One rule of the contract as a GX expectation.

    `key` identifies the rule across runs; `columns` are the export columns it judges (empty
    for file-level rules); `text` is the rule in plain words as a quarantine reason gives it;
    `why` is the one-line reason it exists; a `blocking` rule stops the run when it fails.
    """

    key: str
    file: str
    columns: tuple[str, ...]
    text: str
    why: str
    blocking: bool
    expectation: gxe.Expectation


def reference_column(column: Column) -> str:
    """The derived boolean column that says whether `column`'s reference resolves."""
    target_file, _ = column.references
    return f"{column.name}_found_in_{target_file}"


def contract_rules(spec: ExportFile, today: date) -> tuple[Rule, ...]:
    """Every rule of one export file: column rules in contract order, then cross-column rules."""
    rules: list[Rule] = []
    for column in spec.columns:
        if column.free_text:
            continue  # free text is never judged or shown: it may name people
        rules.extend(column_rules(spec, column, today))
    rules.extend(cross_column_rules(spec))
    return tuple(rules)


def column_rules(spec: ExportFile, column: Column, today: date) -> list[Rule]:
    """The rules one contract column states about its values."""
    found = [
        presence_rule(spec, column),
        type_rule(spec, column),
        required_rule(spec, column),
        unique_rule(spec, column),
        vocabulary_rule(spec, column),
        range_rule(spec, column),
        id_form_rule(spec, column),
        date_bounds_rule(spec, column, today),
        reference_rule(spec, column),
    ]
    return [rule for rule in found if rule is not None]


def _rule(
    spec: ExportFile,
    name: str,
    columns: tuple[str, ...],
    text: str,
    why: str,
    expectation_class,
    *,
    blocking: bool = False,
    **kwargs,
) -> Rule:
    key = f"{spec.name}.{'+'.join(columns) or 'file'}.{name}"
    meta = {"rule": key, "text": text, "why": why, "blocking": blocking}
    return Rule(
        key=key,
        file=spec.name,
        columns=columns,
        text=text,
        why=why,
        blocking=blocking,
        expectation=expectation_class(meta=meta, **kwargs),
    )


def presence_rule(spec: ExportFile, column: Column) -> Rule | None:
    """A required column must be in the file's header."""
    if not column.required:
        return None
    return _rule(
        spec,
        "present",
        (column.name,),
        f"required column {column.name} must be present",
        "without it no row of the file can be read as the contract says",
        gxe.ExpectColumnToExist,
        blocking=True,
        column=column.name,
    )


def type_rule(spec: ExportFile, column: Column) -> Rule:
    """The loader gave the column its contract type (a guard on the loader, never on rows)."""
    type_name = GX_TYPE_NAMES["category" if column.coded else column.kind]
    return _rule(
        spec,
        "type",
        (column.name,),
        f"{column.name} must be of type {type_name}",
        "every later step relies on the typed column; a wrong type is a loader fault",
        gxe.ExpectColumnValuesToBeOfType,
        blocking=True,
        column=column.name,
        type_=type_name,
    )


def required_rule(spec: ExportFile, column: Column) -> Rule | None:
    if not column.required:
        return None
    return _rule(
        spec,
        "required",
        (column.name,),
        f"{column.name} must not be empty",
        "the contract requires a value in every row",
        gxe.ExpectColumnValuesToNotBeNull,
        column=column.name,
    )


def unique_rule(spec: ExportFile, column: Column) -> Rule | None:
    if not column.unique:
        return None
    blocking = spec.name in BLOCKING_DUPLICATE_FILES
    return _rule(
        spec,
        "unique",
        (column.name,),
        f"{column.name} must be unique",
        "an ID used twice makes every row that refers to it ambiguous",
        gxe.ExpectColumnValuesToBeUnique,
        blocking=blocking,
        column=column.name,
    )


def vocabulary_rule(spec: ExportFile, column: Column) -> Rule | None:
    if column.vocabulary is None:
        return None
    words = ", ".join(str(v) for v in column.vocabulary)
    values = (
        list(column.vocabulary) if column.kind == "integer" else [str(v) for v in column.vocabulary]
    )
    return _rule(
        spec,
        "vocabulary",
        (column.name,),
        f"{column.name} must be one of: {words}",
        "features and rules only know the contract's words",
        gxe.ExpectColumnValuesToBeInSet,
        column=column.name,
        value_set=values,
    )


def number_view(name: str) -> str:
    """The derived float64 copy of a numeric column that GX's range rule reads (see below)."""
    return f"{name}__as_float"


def range_rule(spec: ExportFile, column: Column) -> Rule | None:
    if column.minimum is None and column.maximum is None:
        return None
    # GX compares numpy int/float columns vectorised but walks a nullable Int64/Float64
    # column value by value in Python (10M checks: minutes). The rule reads a float64 copy
    # (missing as NaN, which GX skips like NA); the rule still names the contract column.
    kwargs = {"column": number_view(column.name)}
    if column.minimum is not None:
        kwargs["min_value"] = column.minimum
        kwargs["strict_min"] = column.minimum_exclusive
    if column.maximum is not None:
        kwargs["max_value"] = column.maximum
    return _rule(
        spec,
        "range",
        (column.name,),
        f"{column.name} must be {_range_words(column)}",
        "a value outside the contract's range is a recording error",
        gxe.ExpectColumnValuesToBeBetween,
        **kwargs,
    )


def _range_words(column: Column) -> str:
    low, high = _number_words(column.minimum), _number_words(column.maximum)
    if column.maximum is None:
        return f"at least {low}"
    if column.minimum_exclusive:
        return f"more than {low} and at most {high}"
    return f"between {low} and {high}"


def _number_words(value: float | None) -> str:
    return f"{value:g}" if value is not None else ""


def id_form_rule(spec: ExportFile, column: Column) -> Rule | None:
    if column.pattern is None:
        return None
    return _rule(
        spec,
        "id_form",
        (column.name,),
        f"{column.name} must be a CQC ID (1- then 9 to 11 digits) or an ODS code "
        "(3 to 5 upper-case letters or digits)",
        "IDs are matched to CQC's register exactly, so their form must be exact",
        gxe.ExpectColumnValuesToMatchRegex,
        column=column.name,
        regex=_non_capturing(column.pattern),
    )


def _non_capturing(pattern: str) -> str:
    # GX matches with pandas `str.contains`, which warns about capturing groups.
    return re.sub(r"\((?!\?)", "(?:", pattern)


def date_bounds_rule(spec: ExportFile, column: Column, today: date) -> Rule | None:
    if column.kind != "date":
        return None
    earliest = datetime.fromisoformat(EARLIEST_DATE)
    if column.future_allowed:
        return _rule(
            spec,
            "date_bounds",
            (column.name,),
            f"{column.name} must be from {EARLIEST_DATE}",
            "a date before 2000 is a recording error; a plan may fall due after the run",
            gxe.ExpectColumnValuesToBeBetween,
            column=column.name,
            min_value=earliest,
        )
    return _rule(
        spec,
        "date_bounds",
        (column.name,),
        f"{column.name} must be from {EARLIEST_DATE} to the day of the run",
        "a date before 2000 or in the future is a recording or export error",
        gxe.ExpectColumnValuesToBeBetween,
        column=column.name,
        min_value=earliest,
        max_value=datetime(today.year, today.month, today.day),
    )


def reference_rule(spec: ExportFile, column: Column) -> Rule | None:
    if column.references is None:
        return None
    target_file, target_column = column.references
    return _rule(
        spec,
        "reference",
        (column.name,),
        f"{column.name} must exist in {target_file}.{target_column}",
        "a row that points at nothing cannot be placed in its service or improvement",
        gxe.ExpectColumnValuesToBeInSet,
        column=reference_column(column),
        value_set=[True],
    )


def cross_column_rules(spec: ExportFile) -> list[Rule]:
    """The rules that relate columns of one row, and the compound key of team-week rows."""
    builders = {
        "improvements": _improvement_pair_rules,
        "checks": _check_pair_rules,
        "workforce": _workforce_pair_rules,
        "actions": _action_pair_rules,
    }
    rules = builders[spec.name](spec) if spec.name in builders else []
    if len(spec.key) > 1:
        rules.append(
            _rule(
                spec,
                "key_unique",
                spec.key,
                f"({', '.join(spec.key)}) must be unique",
                COMPOUND_KEY_WHY[spec.name],
                gxe.ExpectCompoundColumnsToBeUnique,
                column_list=list(spec.key),
            )
        )
    return rules


def _not_more_than(
    spec: ExportFile, larger: str, smaller: str, columns: tuple[str, ...], text: str, why: str
) -> Rule:
    """`smaller` must not exceed `larger`; rows with either value missing are not judged."""
    for name in columns:
        spec.column(name)  # a rule may only name contract columns
    return _rule(
        spec,
        f"{smaller}_within_{larger}",
        columns,
        text,
        why,
        gxe.ExpectColumnPairValuesAToBeGreaterThanB,
        column_A=larger,
        column_B=smaller,
        or_equal=True,
        ignore_row_if="either_value_is_missing",
    )


def _improvement_pair_rules(spec: ExportFile) -> list[Rule]:
    declared = _rule(
        spec,
        "declared_on_required",
        ("declared_status", "declared_on"),
        "declared_on must be set when declared_status is set",
        "a leaders' claim without its date cannot be placed in time",
        gxe.ExpectColumnValuesToNotBeNull,
        column=spec.column("declared_on").name,
        row_condition="declared_status.notna()",
        condition_parser="pandas",
    )
    return [
        _not_more_than(
            spec,
            "action_started_on",
            "identified_on",
            ("identified_on", "action_started_on"),
            "action_started_on must not be before identified_on",
            "work cannot start on a concern before it was identified",
        ),
        declared,
    ]


COMPOUND_KEY_WHY = {
    "workforce": "one row per team per week; a repeat would count a week twice",
    "declarations": "one claim per improvement, day and level; a repeat makes the claim "
    "in force ambiguous",
}


def _action_pair_rules(spec: ExportFile) -> list[Rule]:
    return [
        _not_more_than(
            spec,
            "due_on",
            "planned_on",
            ("planned_on", "due_on"),
            "due_on must not be before planned_on",
            "an action cannot fall due before it was planned",
        ),
        _not_more_than(
            spec,
            "completed_on",
            "planned_on",
            ("planned_on", "completed_on"),
            "completed_on must not be before planned_on",
            "an action cannot be completed before it was planned",
        ),
    ]


def _check_pair_rules(spec: ExportFile) -> list[Rule]:
    return [
        _not_more_than(
            spec,
            "sampled",
            "met",
            ("sampled", "met"),
            "met must not exceed sampled",
            "more items met than were sampled is impossible",
        ),
        _not_more_than(
            spec,
            UNMET_ITEMS,
            "repeat_gaps",
            ("sampled", "met", "repeat_gaps"),
            "repeat_gaps must not exceed sampled - met",
            "repeat gaps are a subset of this check's failed items",
        ),
    ]


def _workforce_pair_rules(spec: ExportFile) -> list[Rule]:
    monday = _rule(
        spec,
        "monday",
        ("week_start",),
        "week_start must be a Monday",
        "team-weeks are aligned on Mondays so weeks from different systems match",
        gxe.ExpectColumnValuesToBeInSet,
        column=WEEK_START_WEEKDAY,
        value_set=[MONDAY],
    )
    return [
        _not_more_than(
            spec,
            "shifts_planned",
            "shifts_agency",
            ("shifts_planned", "shifts_agency"),
            "shifts_agency must not exceed shifts_planned",
            "agency shifts fill planned shifts",
        ),
        _not_more_than(
            spec,
            "shifts_planned",
            AGENCY_PLUS_UNFILLED,
            ("shifts_planned", "shifts_agency", "shifts_unfilled"),
            "shifts_agency + shifts_unfilled must not exceed shifts_planned",
            "agency and unfilled shifts are parts of the planned shifts",
        ),
        monday,
    ]


def derived_columns(
    spec: ExportFile, frame: pd.DataFrame, reference_keys: dict[str, pd.Series]
) -> pd.DataFrame:
    """The batch GX validates: `frame` plus the derived columns the rules above judge.

    `reference_keys` maps a referenced file name to the key values read from it (all of its
    rows, quarantined or not: a reference to a quarantined row resolves, and the row is then
    quarantined as a dependant instead). A missing optional reference counts as resolved.
    """
    added: dict[str, pd.Series] = {}
    for column in spec.columns:
        if column.references is None or column.name not in frame.columns:
            continue
        if column.references[0] not in reference_keys:
            continue  # the other file could not be read: the rule is not evaluated
        keys = pd.Index(reference_keys[column.references[0]].dropna().unique())
        values = frame[column.name]
        added[reference_column(column)] = values.isna() | (positions_in(keys, values) >= 0)

    def has(*names: str) -> bool:
        # A derived column needs its source columns; when one is missing the file is blocked
        # by the presence rule and the dependent rule is not evaluated.
        return all(name in frame.columns for name in names)

    for column in spec.columns:
        has_range = column.minimum is not None or column.maximum is not None
        if has_range and column.name in frame.columns:
            added[number_view(column.name)] = frame[column.name].astype("float64")
    if spec.name == "checks" and has("sampled", "met"):
        added[UNMET_ITEMS] = frame["sampled"] - frame["met"]
    if spec.name == "workforce" and has("shifts_agency", "shifts_unfilled"):
        added[AGENCY_PLUS_UNFILLED] = frame["shifts_agency"] + frame["shifts_unfilled"]
    if spec.name == "workforce" and has("week_start"):
        added[WEEK_START_WEEKDAY] = frame["week_start"].dt.dayofweek.astype("Int64")
    return frame.assign(**added)
