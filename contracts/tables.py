"""Every table a run writes, declared once: name, file, columns, types and meaning.

The writer (`pipelines.stages` / `pipelines.outputs`), the report (`report.reading`), the SQL
sink and `docs/interfaces.md` all read these declarations; nothing else spells an output
column list. A test runs a real nightly run and checks that every column declared here is
written, and that the report reads nothing undeclared.

Column kinds: `id` and `text` are strings; `list` is text of several items joined by "; "
(a Parquet string column as well); `date` is a calendar date (datetime64 in Parquet, ISO text
in CSV); `number`, `integer`, `flag` (boolean) are what they say.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

OutputKind = Literal["id", "text", "list", "date", "number", "integer", "flag"]

# Cells of several items are joined by this separator in every output table.
LIST_SEPARATOR = "; "


@dataclass(frozen=True)
class OutputColumn:
    """One column of an output table and what it means to the person reading it."""

    name: str
    kind: OutputKind
    meaning: str


@dataclass(frozen=True)
class OutputTable:
    """One table a run writes: its name, the files it is written to (relative to the run
    folder) and its columns in order."""

    name: str
    files: tuple[str, ...]
    columns: tuple[OutputColumn, ...]
    meaning: str

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def names_of(self, kind: OutputKind) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.kind == kind)


def _columns(*specs: tuple[str, OutputKind, str]) -> tuple[OutputColumn, ...]:
    return tuple(OutputColumn(*spec) for spec in specs)


SCORES = OutputTable(
    name="scores",
    files=("scores.parquet", "scores.csv"),
    meaning="One row per improvement scored: the model's probability, the rules' stage and "
    "reasons, the claim check, the cross-check, the triggers and the review dates.",
    columns=_columns(
        ("improvement_id", "id", "The improvement."),
        ("location_id", "id", "Its service (CQC location)."),
        ("provider_id", "id", "The service's provider."),
        ("theme", "text", "Improvement theme."),
        ("key_question", "text", "CQC key question."),
        ("severity", "text", "routine, significant or serious."),
        ("as_of", "date", "The date the run scored as of."),
        (
            "p_hold",
            "number",
            "Probability that the improvement holds over the horizon; empty in a run of the "
            "rules alone (no model).",
        ),
        (
            "p_hold_low",
            "number",
            "Lower end of the 80% band around p_hold (sized on simulated groups to hold the true "
            "probability 8 times in 10; docs/model.md).",
        ),
        ("p_hold_high", "number", "Upper end of the 80% band around p_hold."),
        ("stage", "text", "not_started, emerging, consolidating, embedded or slipping."),
        ("stage_reasons", "list", "Why: the stage's headline, then what is fragile and stable."),
        (
            "declared_status",
            "text",
            "The claim in force at as_of: emerging, embedded, closed, none (nothing declared) "
            "or unknown (no declarations history, before the one declaration). Never a model "
            "input.",
        ),
        ("claim_check", "text", "overclaim, underclaim, consistent or no_claim."),
        (
            "cross_check",
            "text",
            "agree, model_more_cautious or rules_more_cautious; empty without a model.",
        ),
        ("triggers", "list", "Escalation triggers that fire (codes)."),
        ("top_factors", "list", "The model's largest factors, each marked raises or lowers."),
        (
            "model_version",
            "text",
            "Registered model version that scored the row; empty without a model.",
        ),
        ("escalations", "list", "The escalation each trigger recommends."),
        ("cross_check_sentence", "text", "The disagreement in one sentence ('' on agree)."),
        ("stable_reasons", "list", "Criteria of the evidence threshold that are met."),
        ("fragile_reasons", "list", "Criteria of the evidence threshold that are not met."),
        ("latest_review_classification", "text", "What the latest governance review concluded."),
        ("last_rm_review_on", "date", "Latest Registered Manager review."),
        ("next_rm_review_due", "date", "When the next Registered Manager review is due."),
        ("rm_review_overdue", "flag", "The Registered Manager review is overdue."),
        ("last_senior_review_on", "date", "Latest senior leadership or board review."),
        ("next_senior_review_due", "date", "When the next senior review is due."),
        ("senior_review_overdue", "flag", "The senior review is overdue."),
        ("review_overdue", "flag", "Either review is overdue."),
    ),
)

SERVICES = OutputTable(
    name="services",
    files=("services.csv",),
    meaning="Services ranked for oversight, most in need first.",
    columns=_columns(
        ("rank", "integer", "1 = most in need of oversight."),
        ("location_id", "id", "The service."),
        ("provider_id", "id", "Its provider."),
        ("name", "text", "The service's name."),
        (
            "priority_score",
            "number",
            "Severity-weighted expected number of improvements that "
            "slip over the horizon, plus a weight per over-claim. Without a model, each "
            "improvement's chance of holding is the share that held at its stage "
            "([ranking] rules_hold_shares).",
        ),
        (
            "priority_low",
            "number",
            "priority_score over the band's upper ends; empty without a model.",
        ),
        (
            "priority_high",
            "number",
            "priority_score over the band's lower ends; empty without a model.",
        ),
        ("improvements", "integer", "Improvements scored."),
        ("n_not_started", "integer", "Improvements not started."),
        ("n_emerging", "integer", "Improvements emerging."),
        ("n_consolidating", "integer", "Improvements consolidating."),
        ("n_embedded", "integer", "Improvements embedded."),
        ("n_slipping", "integer", "Improvements slipping."),
        ("overclaims", "integer", "Improvements whose claim goes beyond the evidence."),
        ("triggers", "integer", "Improvements with at least one escalation trigger."),
        ("main_reason", "text", "The largest contributor to the priority, in words."),
    ),
)

MONTHLY_COMPLIANCE = OutputTable(
    name="monthly_compliance",
    files=("monthly_compliance.parquet",),
    meaning="Monthly compliance of each improvement (the label's step 1), for the SPC charts.",
    columns=_columns(
        ("improvement_id", "id", "The improvement."),
        ("month", "date", "First day of the month."),
        ("sampled", "integer", "Items sampled by primary checks in the month."),
        ("met", "integer", "Items that met the standard."),
        ("compliance", "number", "met / sampled."),
        ("standard", "number", "The improvement's standard."),
    ),
)

TIMELINE = OutputTable(
    name="timeline",
    files=("timeline.parquet",),
    meaning="Dated events of each improvement: identified, action started, declared, reviews.",
    columns=_columns(
        ("improvement_id", "id", "The improvement."),
        ("date", "date", "When it happened."),
        ("event", "text", "identified, action_started, declared or review."),
        ("detail", "text", "For example `senior_leadership: embedded`."),
    ),
)

CONTRIBUTIONS = OutputTable(
    name="contributions",
    files=("contributions.parquet",),
    meaning="The model's exact explanation: every term's contribution to every improvement.",
    columns=_columns(
        ("improvement_id", "id", "The improvement."),
        ("term", "text", "A feature, or a pair of features joined by ' x '."),
        ("value", "text", "The feature value(s) as an analyst reads them."),
        ("contribution", "number", "Contribution to the log-odds of holding."),
    ),
)

BACKTEST = OutputTable(
    name="backtest",
    files=("model/backtest.csv",),
    meaning="The champion's replay evaluation (time split), per model and cutoff: trained on "
    "the export as it stood at the cutoff, scored at it, compared with the six months after.",
    columns=_columns(
        ("model", "text", "Model or baseline."),
        ("cutoff", "date", "The cutoff: trained on the export as it stood, scored at it."),
        ("n", "integer", "Improvements scored at the cutoff with an observed outcome."),
        ("auroc", "number", "Area under the ROC curve."),
        ("brier", "number", "Brier score."),
        ("log_loss", "number", "Log loss."),
        ("ece", "number", "Expected calibration error."),
        ("fit_seconds", "number", "Seconds to fit."),
        ("score_seconds", "number", "Seconds to score."),
    ),
)

RELIABILITY = OutputTable(
    name="reliability",
    files=("model/reliability.csv",),
    meaning="Calibration of each model: mean predicted against observed hold rate per bin.",
    columns=_columns(
        ("model", "text", "Model or baseline."),
        ("bin", "integer", "Probability bin."),
        ("mean_predicted", "number", "Mean predicted probability in the bin."),
        ("observed_rate", "number", "Share that held."),
        ("n", "integer", "Rows in the bin."),
    ),
)

SHAPE_FUNCTIONS = OutputTable(
    name="shape_functions",
    files=("model/shape_functions.parquet",),
    meaning="The champion's shape functions: each term's contribution along its feature.",
    columns=_columns(
        ("term", "text", "A feature or a pair."),
        ("feature", "text", "The (first) feature of the term."),
        ("x", "number", "Feature value (bin)."),
        ("x_label", "text", "The bin as text."),
        ("feature2", "text", "The pair's second feature ('' for a single feature)."),
        ("x2", "number", "Second feature value (bin)."),
        ("x2_label", "text", "The second bin as text."),
        ("contribution", "number", "Contribution to the log-odds."),
        ("n_train", "integer", "Training rows in the cell."),
    ),
)

OUTPUT_TABLES: tuple[OutputTable, ...] = (
    SCORES,
    SERVICES,
    MONTHLY_COMPLIANCE,
    TIMELINE,
    CONTRIBUTIONS,
    BACKTEST,
    RELIABILITY,
    SHAPE_FUNCTIONS,
)
TABLES_BY_NAME = {t.name: t for t in OUTPUT_TABLES}


class TableShapeError(KeyError):
    """A frame about to be written lacks a declared column or carries an undeclared one."""


def conform(frame, table: OutputTable):
    """`frame` with exactly `table`'s columns, in declared order.

    Raises `TableShapeError` naming the columns missing or undeclared: a table is never written
    with a column its readers do not know, nor without one they expect.
    """
    declared = table.column_names
    if len(frame.columns) == 0 and len(frame) == 0:  # nothing scored: an empty table
        return frame.reindex(columns=list(declared))
    missing = [c for c in declared if c not in frame.columns]
    extra = [c for c in frame.columns if c not in declared]
    if missing or extra:
        raise TableShapeError(
            f"output table {table.name!r}: missing declared column(s) {missing}, "
            f"undeclared column(s) {extra}"
        )
    return frame[list(declared)]
