"""The evidence-export contract (v2), declared once in code.

Everything that needs to know what an export holds reads it from here: the loader
(`pipelines.io`), the Great Expectations suites (`validation`), the simulator and the
feature code. The source of truth for the prose is `shared/spec/evidence-exports.md`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

ColumnKind = Literal["id", "string", "text", "category", "date", "integer", "number"]

# A CQC location/provider ID (`1-` then 9 to 11 digits) or an NHS ODS site code.
ID_PATTERN = r"^(1-\d{9,11}|[A-Z0-9]{3,5})$"
EARLIEST_DATE = "2000-01-01"

KEY_QUESTIONS = ("safe", "effective", "caring", "responsive", "well_led")
THEMES = (
    "documentation",
    "medicines",
    "falls",
    "pressure_care",
    "infection_prevention",
    "safeguarding",
    "nutrition_hydration",
    "staffing",
    "training_competency",
    "consent_capacity",
    "person_centred_care",
    "complaints_handling",
    "governance",
    "environment",
    "other",
)
SERVICE_TYPES = (
    "care_home_nursing",
    "care_home_residential",
    "domiciliary_care",
    "supported_living",
    "extra_care",
    "hospice",
    "hospital",
    "community",
    "other",
)
SEVERITIES = ("routine", "significant", "serious")
ORIGINS = (
    "internal_audit",
    "incident",
    "complaint",
    "inspection",
    "safeguarding",
    "whistleblowing",
    "commissioner",
    "other",
)
DECLARED_STATUSES = ("emerging", "embedded", "closed")
CHECK_SOURCES = ("audit", "care_records", "staff_practice", "competency")
# Sources whose checks make up monthly compliance (the outcome label, step 1).
PRIMARY_CHECK_SOURCES = ("audit", "care_records", "staff_practice")
FEEDBACK_CHANNELS = (
    "survey",
    "complaint",
    "compliment",
    "meeting",
    "review_site",
    "staff_survey",
    "other",
)
RESPONDENTS = ("person", "family", "staff", "professional")
SENTIMENTS = (-1, 0, 1)
HARMS = ("none", "low", "moderate", "severe", "death")
SERIOUS_HARMS = ("moderate", "severe", "death")
REVIEW_LEVELS = ("registered_manager", "senior_leadership", "board")
REVIEW_CLASSIFICATIONS = ("emerging", "embedded", "not_assured")
DECLARATION_LEVELS = REVIEW_LEVELS
# Actions of an improvement plan (contract v2): an immediate control contains the risk now; an
# embedding action changes routine practice (supervision, training, process, rota).
IMMEDIATE_CONTROL = "immediate_control"
EMBEDDING_ACTION = "embedding"
ACTION_KINDS = (IMMEDIATE_CONTROL, EMBEDDING_ACTION)

# The claim in force at a date (v2, "declarations"): one of DECLARED_STATUSES, or
# - NO_CLAIM_YET: nothing declared on or before the date (the history says so), and
# - CLAIM_UNKNOWN: an export without a declarations file, before its one known declaration
#   (`improvements.declared_on`): whether another status was in force then is not recorded.
NO_CLAIM_YET = "none"
CLAIM_UNKNOWN = "unknown"
CLAIMS_IN_FORCE = (*DECLARED_STATUSES, NO_CLAIM_YET, CLAIM_UNKNOWN)

# CQC's evidence categories; multi-source confirmation counts distinct categories.
PROCESSES = "processes"
OBSERVATION = "observation"
STAFF_AND_LEADERS = "feedback_from_staff_and_leaders"
PEOPLES_EXPERIENCE = "peoples_experience"
PARTNERS = "feedback_from_partners"
OUTCOMES = "outcomes"
EVIDENCE_CATEGORIES = (
    PEOPLES_EXPERIENCE,
    STAFF_AND_LEADERS,
    PARTNERS,
    OBSERVATION,
    PROCESSES,
    OUTCOMES,
)
CHECK_SOURCE_CATEGORY = {
    "audit": PROCESSES,
    "care_records": PROCESSES,
    "staff_practice": OBSERVATION,
    "competency": STAFF_AND_LEADERS,
}
RESPONDENT_CATEGORY = {
    "person": PEOPLES_EXPERIENCE,
    "family": PEOPLES_EXPERIENCE,
    "staff": STAFF_AND_LEADERS,
    "professional": PARTNERS,
}
INCIDENT_CATEGORY = OUTCOMES


@dataclass(frozen=True)
class Column:
    """One column of an export file and its rule in the contract."""

    name: str
    kind: ColumnKind
    required: bool = False
    vocabulary: tuple | None = None
    minimum: float | None = None
    maximum: float | None = None
    minimum_exclusive: bool = False
    pattern: str | None = None
    unique: bool = False
    references: tuple[str, str] | None = None  # (file, column) the value must exist in
    free_text: bool = False  # may name people: never logged, never output, never a model input
    # Read as a pandas categorical (sorted distinct texts + integer codes): an id or name the
    # rows repeat millions of times (10M checks name ~67,000 improvements and ~10 teams each),
    # so validation and the features look each distinct text up once instead of every row.
    coded: bool = False
    # A date that may lie after the day of the run (a plan's due date); any other date after
    # it is a recording or export error.
    future_allowed: bool = False


@dataclass(frozen=True)
class ExportFile:
    """One file of an export: its columns, whether it must be present, and its row key."""

    name: str
    required: bool
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    date_column: str  # the date that places a row in time (set-aside after as-of)
    extra_dates: tuple[str, ...] = field(default=())

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)

    @property
    def date_columns(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.kind == "date")

    @property
    def free_text_columns(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.free_text)


SERVICES = ExportFile(
    name="services",
    required=True,
    key=("location_id",),
    date_column="",
    columns=(
        Column("location_id", "id", required=True, pattern=ID_PATTERN, unique=True),
        Column("provider_id", "id", required=True, pattern=ID_PATTERN),
        Column("name", "string", required=True),
        Column("service_type", "category", required=True, vocabulary=SERVICE_TYPES),
        Column("region", "string"),
        Column("beds", "integer", minimum=0),
    ),
)

IMPROVEMENTS = ExportFile(
    name="improvements",
    required=True,
    key=("improvement_id",),
    date_column="identified_on",
    columns=(
        Column("improvement_id", "id", required=True, unique=True),
        Column("location_id", "id", required=True, references=("services", "location_id")),
        Column("theme", "category", required=True, vocabulary=THEMES),
        Column("key_question", "category", required=True, vocabulary=KEY_QUESTIONS),
        Column("framework_ref", "string"),
        Column("severity", "category", required=True, vocabulary=SEVERITIES),
        Column("origin", "category", required=True, vocabulary=ORIGINS),
        Column("identified_on", "date", required=True),
        Column("action_started_on", "date"),
        Column("standard", "number", required=True, minimum=0, maximum=1, minimum_exclusive=True),
        Column("declared_status", "category", vocabulary=DECLARED_STATUSES),
        Column("declared_on", "date"),
    ),
)

CHECKS = ExportFile(
    name="checks",
    required=True,
    key=("check_id",),
    date_column="checked_on",
    columns=(
        Column("check_id", "id", required=True, unique=True),
        Column(
            "improvement_id",
            "id",
            required=True,
            references=("improvements", "improvement_id"),
            coded=True,
        ),
        Column("team", "string", required=True, coded=True),
        Column("source", "category", required=True, vocabulary=CHECK_SOURCES),
        Column("checked_on", "date", required=True),
        Column("sampled", "integer", required=True, minimum=1),
        Column("met", "integer", required=True, minimum=0),
        Column("repeat_gaps", "integer", minimum=0),
        Column("prompts_needed", "integer", minimum=0),
        Column("self_rated_confidence", "number", minimum=1, maximum=5),
    ),
)

FEEDBACK = ExportFile(
    name="feedback",
    required=False,
    key=("feedback_id",),
    date_column="received_on",
    columns=(
        Column("feedback_id", "id", required=True, unique=True),
        Column("location_id", "id", required=True, references=("services", "location_id")),
        Column("improvement_id", "id", references=("improvements", "improvement_id")),
        Column("team", "string"),
        Column("received_on", "date", required=True),
        Column("channel", "category", required=True, vocabulary=FEEDBACK_CHANNELS),
        Column("respondent", "category", required=True, vocabulary=RESPONDENTS),
        Column("theme", "category", required=True, vocabulary=THEMES),
        Column("sentiment", "integer", required=True, vocabulary=SENTIMENTS),
        Column("rating", "integer", minimum=1, maximum=5),
        Column("text", "text", free_text=True),
    ),
)

INCIDENTS = ExportFile(
    name="incidents",
    required=False,
    key=("incident_id",),
    date_column="occurred_on",
    columns=(
        Column("incident_id", "id", required=True, unique=True),
        Column("location_id", "id", required=True, references=("services", "location_id")),
        Column("improvement_id", "id", references=("improvements", "improvement_id")),
        Column("team", "string"),
        Column("occurred_on", "date", required=True),
        Column("theme", "category", required=True, vocabulary=THEMES),
        Column("harm", "category", required=True, vocabulary=HARMS),
    ),
)

WORKFORCE = ExportFile(
    name="workforce",
    required=False,
    key=("location_id", "team", "week_start"),
    date_column="week_start",
    columns=(
        Column("location_id", "id", required=True, references=("services", "location_id")),
        Column("team", "string", required=True),
        Column("week_start", "date", required=True),
        Column("shifts_planned", "integer", required=True, minimum=0),
        Column("shifts_agency", "integer", required=True, minimum=0),
        Column("shifts_unfilled", "integer", required=True, minimum=0),
        Column("leavers", "integer", minimum=0),
        Column("keyworker_continuity", "number", minimum=0, maximum=1),
    ),
)

REVIEWS = ExportFile(
    name="reviews",
    required=False,
    key=("review_id",),
    date_column="reviewed_on",
    columns=(
        Column("review_id", "id", required=True, unique=True),
        Column(
            "improvement_id", "id", required=True, references=("improvements", "improvement_id")
        ),
        Column("reviewed_on", "date", required=True),
        Column("level", "category", required=True, vocabulary=REVIEW_LEVELS),
        Column("classification", "category", required=True, vocabulary=REVIEW_CLASSIFICATIONS),
    ),
)

DECLARATIONS = ExportFile(
    name="declarations",
    required=False,
    key=("improvement_id", "declared_on", "level"),
    date_column="declared_on",
    columns=(
        Column(
            "improvement_id", "id", required=True, references=("improvements", "improvement_id")
        ),
        Column("declared_on", "date", required=True),
        Column("declared_status", "category", required=True, vocabulary=DECLARED_STATUSES),
        Column("level", "category", vocabulary=DECLARATION_LEVELS),
    ),
)

# Activity, not evidence: actions explain the timeline and let a reading say "much done, not
# yet shown in practice"; they never count as improvement.
ACTIONS = ExportFile(
    name="actions",
    required=False,
    key=("action_id",),
    date_column="planned_on",
    extra_dates=("due_on", "completed_on"),
    columns=(
        Column("action_id", "id", required=True, unique=True),
        Column(
            "improvement_id", "id", required=True, references=("improvements", "improvement_id")
        ),
        Column("kind", "category", required=True, vocabulary=ACTION_KINDS),
        Column("planned_on", "date", required=True),
        Column("due_on", "date", future_allowed=True),
        Column("completed_on", "date"),
    ),
)

EXPORT_FILES: tuple[ExportFile, ...] = (
    SERVICES,
    IMPROVEMENTS,
    CHECKS,
    FEEDBACK,
    INCIDENTS,
    WORKFORCE,
    REVIEWS,
    DECLARATIONS,
    ACTIONS,
)
FILES_BY_NAME = {f.name: f for f in EXPORT_FILES}
