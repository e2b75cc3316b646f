"""A small valid export and a corpus of deliberately broken copies, one breach each.

The base export is laid out so every expected outcome can be worked out by hand:
service i (rows 1..25) has improvement i (`IMP-i`, row i), which has checks `C-(2i-1)` and
`C-2i` (rows 2i-1 and 2i), one feedback, one incident, one workforce week and one review
(row i in each; workforce also row 25 + i for a second team). 25 rows per file keep one bad
row under the 5% blocking share (1/25 = 4%); checks and workforce have 50 rows. Every date is on or before AS_OF; TODAY is the day of the run.

Each `Case` writes the base export, applies one breach, and states the exact outcome:
`blocked` with the (file, rule) expected among the blocking findings, or the rows expected in
quarantine per file with their reason, and the counts.

`python tests/broken_exports/corpus.py OUT` writes every small case to OUT/<case>/ to look at.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pandas as pd

AS_OF = date(2026, 10, 31)
TODAY = date(2026, 11, 26)
N = 25
THEMES = ("medicines", "falls", "documentation", "pressure_care", "staffing")
LOCATION = [f"1-1016757{i:02d}" for i in range(1, N + 1)]
PLANTED = "PLANTED-SECRET-Q7X"  # a recognisable string planted in free text
FILES = (
    "services",
    "improvements",
    "checks",
    "feedback",
    "incidents",
    "workforce",
    "reviews",
    "declarations",
    "actions",
)
REQUIRED = ("services", "improvements", "checks")


def base_frames() -> dict[str, pd.DataFrame]:
    """The valid export as text frames (every cell a string, empty = not recorded)."""
    i = pd.RangeIndex(1, N + 1)
    imp = "IMP-" + i.astype(str)
    month = (i % 9 + 1).astype(str).str.zfill(2)
    services = pd.DataFrame(
        {
            "location_id": LOCATION,
            "provider_id": "1-100000001",
            "name": "Service " + i.astype(str),
            "service_type": "care_home_nursing",
            "region": "North West",
            "beds": (i + 10).astype(str),
        }
    )
    improvements = pd.DataFrame(
        {
            "improvement_id": imp,
            "location_id": LOCATION,
            "theme": [THEMES[k % 5] for k in range(N)],
            "key_question": "safe",
            "framework_ref": "saf-2023:qs07",
            "severity": "significant",
            "origin": "internal_audit",
            "identified_on": "2025-" + month + "-05",
            "action_started_on": "2025-" + month + "-10",
            "standard": "0.9",
            "declared_status": "emerging",
            "declared_on": "2026-01-15",
        }
    )
    c = pd.RangeIndex(1, 2 * N + 1)
    checks = pd.DataFrame(
        {
            "check_id": "C-" + c.astype(str),
            "improvement_id": "IMP-" + ((c + 1) // 2).astype(str),
            "team": "Ground floor",
            "source": "audit",
            "checked_on": "2026-0" + (c % 9 + 1).astype(str) + "-12",
            "sampled": "10",
            "met": "8",
            "repeat_gaps": "1",
            "prompts_needed": "0",
            "self_rated_confidence": "4",
        }
    )
    feedback = pd.DataFrame(
        {
            "feedback_id": "F-" + i.astype(str),
            "location_id": LOCATION,
            "improvement_id": imp,
            "team": "Ground floor",
            "received_on": "2026-03-03",
            "channel": "survey",
            "respondent": "family",
            "theme": "falls",
            "sentiment": "1",
            "rating": "4",
            "text": "Staff were kind to Mum",
        }
    )
    incidents = pd.DataFrame(
        {
            "incident_id": "INC-" + i.astype(str),
            "location_id": LOCATION,
            "improvement_id": imp,
            "team": "Ground floor",
            "occurred_on": "2026-04-04",
            "theme": "falls",
            "harm": "low",
        }
    )
    # Two teams per service (rows i and 25 + i), so one duplicated team-week (2 rows) stays
    # under the blocking share.
    workforce = pd.DataFrame(
        {
            "location_id": LOCATION * 2,
            "team": ["Ground floor"] * N + ["First floor"] * N,
            "week_start": "2026-06-01",
            "shifts_planned": "40",
            "shifts_agency": "5",
            "shifts_unfilled": "2",
            "leavers": "0",
            "keyworker_continuity": "0.8",
        }
    )
    reviews = pd.DataFrame(
        {
            "review_id": "R-" + i.astype(str),
            "improvement_id": imp,
            "reviewed_on": "2026-05-05",
            "level": "registered_manager",
            "classification": "emerging",
        }
    )
    # Two declarations per improvement (rows i and 25 + i): emerging when action started, then
    # confirmed by senior leadership on the date the improvements file gives (its latest row).
    declarations = pd.DataFrame(
        {
            "improvement_id": list(imp) * 2,
            "declared_on": list("2025-" + month + "-10") + ["2026-01-15"] * N,
            "declared_status": "emerging",
            "level": ["registered_manager"] * N + ["senior_leadership"] * N,
        }
    )
    actions = pd.DataFrame(
        {
            "action_id": "A-" + i.astype(str),
            "improvement_id": imp,
            "kind": "embedding",
            "planned_on": "2025-" + month + "-10",
            "due_on": "2025-12-01",
            "completed_on": "2026-02-01",
        }
    )
    return {
        "services": services,
        "improvements": improvements,
        "checks": checks,
        "feedback": feedback,
        "incidents": incidents,
        "workforce": workforce,
        "reviews": reviews,
        "declarations": declarations,
        "actions": actions,
    }


def write_frames(frames: dict[str, pd.DataFrame], folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, frame in frames.items():
        frame.to_csv(folder / f"{name}.csv", index=False, lineterminator="\n")
    return folder


def set_cell(file: str, row: int, column: str, value: str) -> Callable:
    """A breach: one cell (1-based data row) of one file set to `value`."""

    def apply(frames):
        frame = frames[file].copy()
        frame.loc[frame.index[row - 1], column] = value
        return {**frames, file: frame}

    return apply


def set_cells(*changes: tuple[str, int, str, str]) -> Callable:
    def apply(frames):
        for change in changes:
            frames = set_cell(*change)(frames)
        return frames

    return apply


def drop_column(file: str, column: str) -> Callable:
    return lambda frames: {**frames, file: frames[file].drop(columns=[column])}


def add_column(file: str, column: str, value: str) -> Callable:
    return lambda frames: {**frames, file: frames[file].assign(**{column: value})}


def drop_file(file: str) -> Callable:
    return lambda frames: {k: v for k, v in frames.items() if k != file}


def map_column(file: str, column: str, change: Callable[[pd.Series], pd.Series]) -> Callable:
    return lambda frames: {
        **frames,
        file: frames[file].assign(**{column: change(frames[file][column])}),
    }


def raw_bytes(file: str, content: Callable[[bytes], bytes]) -> Callable[[Path], None]:
    """A breach in the bytes of a written file (encoding, delimiter, header...)."""

    def apply(folder: Path) -> None:
        path = folder / f"{file}.csv"
        path.write_bytes(content(path.read_bytes()))

    return apply


@dataclass(frozen=True)
class Case:
    """One breach and its exact expected outcome."""

    name: str
    frames: Callable | None = None  # dict of text frames -> dict of text frames
    raw: Callable | None = None  # folder -> None, after writing
    blocked_by: tuple[str, str] | None = None  # (file, words in the blocking rule)
    quarantined: dict[str, dict[int, str]] = field(default_factory=dict)  # file -> row -> reason
    set_aside: dict[str, int] = field(default_factory=dict)
    also: tuple[str, ...] = ()  # optional files to keep besides those the outcome names
    large: bool = False
    warned: tuple[str, ...] = ()  # (file, words) of a warning the run must give

    @property
    def files(self) -> tuple[str, ...]:
        """The files of this case's export: the required ones and those the case is about.

        GX costs a fixed ~15 ms per expectation, so optional files a case does not touch are
        left out to keep the corpus quick; cases about services or improvements keep every
        file, to show the rows that depend on them quarantined everywhere.
        """
        named = {*self.quarantined, *self.set_aside, *self.also, *self.warned[:1]}
        if self.blocked_by:
            named.add(self.blocked_by[0])
        return tuple(f for f in FILES if f in REQUIRED or f in named)

    def build(self, folder: Path) -> Path:
        frames = base_frames()
        if self.frames is not None:
            frames = self.frames(frames)
        frames = {name: frame for name, frame in frames.items() if name in self.files}
        write_frames(frames, folder)
        if self.raw is not None:
            self.raw(folder)
        return folder


DEPENDS_ON_SERVICE = "depends on a quarantined row of services (location_id)"
DEPENDS_ON_IMPROVEMENT = "depends on a quarantined row of improvements (improvement_id)"


def service_and_dependants(row: int, reason: str) -> dict[str, dict[int, str]]:
    """Service `row` quarantined, with every row about it or its improvement."""
    return {
        "services": {row: reason},
        "improvements": {row: DEPENDS_ON_SERVICE},
        "checks": {2 * row - 1: DEPENDS_ON_IMPROVEMENT, 2 * row: DEPENDS_ON_IMPROVEMENT},
        "feedback": {row: f"{DEPENDS_ON_SERVICE}; {DEPENDS_ON_IMPROVEMENT}"},
        "incidents": {row: f"{DEPENDS_ON_SERVICE}; {DEPENDS_ON_IMPROVEMENT}"},
        "workforce": {row: DEPENDS_ON_SERVICE, N + row: DEPENDS_ON_SERVICE},
        "reviews": {row: DEPENDS_ON_IMPROVEMENT},
    }


def improvement_and_dependants(row: int, reason: str) -> dict[str, dict[int, str]]:
    """Improvement `row` quarantined, with its checks, feedback, incident and review."""
    return {
        "improvements": {row: reason},
        "checks": {2 * row - 1: DEPENDS_ON_IMPROVEMENT, 2 * row: DEPENDS_ON_IMPROVEMENT},
        "feedback": {row: DEPENDS_ON_IMPROVEMENT},
        "incidents": {row: DEPENDS_ON_IMPROVEMENT},
        "reviews": {row: DEPENDS_ON_IMPROVEMENT},
    }


def _latin1_name(data: bytes) -> bytes:
    return data.replace(b"Service 3,", "Servicé 3,".encode("latin-1"))


def _semicolons(data: bytes) -> bytes:
    return data.replace(b",", b";")


def _duplicated_header(data: bytes) -> bytes:
    header, rest = data.split(b"\n", 1)
    return header.replace(b"key_question", b"theme", 1) + b"\n" + rest


def _header_only(data: bytes) -> bytes:
    return data.split(b"\n", 1)[0] + b"\n"


def _big_text(frames):
    feedback = frames["feedback"].copy()
    feedback.loc[feedback.index[1], "text"] = PLANTED + "x" * (100 * 1024 * 1024)
    return {**frames, "feedback": feedback}


CASES: tuple[Case, ...] = (
    # --- blocking: the export cannot be trusted as a whole ---------------------------------
    Case(
        "missing_required_file",
        frames=drop_file("checks"),
        blocked_by=("checks", "required file is missing"),
    ),
    Case(
        "missing_required_column",
        frames=drop_column("checks", "sampled"),
        blocked_by=("checks", "required column sampled must be present"),
    ),
    Case(
        "missing_required_column_optional_file",
        frames=drop_column("incidents", "harm"),
        blocked_by=("incidents", "required column harm must be present"),
    ),
    Case(
        "duplicate_service_id",
        frames=set_cell("services", 2, "location_id", LOCATION[0]),
        blocked_by=("services", "location_id must be unique"),
    ),
    Case(
        "duplicate_improvement_id",
        frames=set_cell("improvements", 5, "improvement_id", "IMP-4"),
        blocked_by=("improvements", "improvement_id must be unique"),
    ),
    Case(
        "empty_file",
        raw=raw_bytes("services", lambda _: b""),
        blocked_by=("services", "file is empty"),
    ),
    Case(
        "header_only_required_file",
        raw=raw_bytes("checks", _header_only),
        blocked_by=("checks", "a required file must have data rows"),
    ),
    Case(
        "wrong_delimiter",
        raw=raw_bytes("incidents", _semicolons),
        blocked_by=("incidents", "separated by semicolons"),
    ),
    Case(
        "non_utf8_bytes",
        raw=raw_bytes("services", _latin1_name),
        blocked_by=("services", "is not UTF-8"),
    ),
    Case(
        "missing_standard_column",
        frames=drop_column("improvements", "standard"),
        blocked_by=("improvements", "required column standard must be present"),
    ),
    Case(
        "services_not_text",
        raw=raw_bytes("services", lambda _: bytes(range(256)) * 20),
        blocked_by=("services", "is not UTF-8"),
    ),
    Case(
        "duplicated_header",
        raw=raw_bytes("improvements", _duplicated_header),
        blocked_by=("improvements", "column 'theme' appears twice"),
    ),
    Case(
        "too_many_failing_rows",
        frames=set_cells(
            ("checks", 1, "met", "11"), ("checks", 2, "met", "11"), ("checks", 3, "met", "11")
        ),
        blocked_by=("checks", "more than 5% of judged rows"),
    ),
    # --- row level: quarantined with the rule broken ----------------------------------------
    Case(
        "service_id_form",
        frames=set_cells(
            ("services", 4, "location_id", "1-123"),
            ("improvements", 4, "location_id", "1-123"),
            ("feedback", 4, "location_id", "1-123"),
            ("incidents", 4, "location_id", "1-123"),
            ("workforce", 4, "location_id", "1-123"),
            ("workforce", 29, "location_id", "1-123"),
        ),
        quarantined=service_and_dependants(
            4,
            "location_id must be a CQC ID (1- then 9 to 11 "
            "digits) or an ODS code (3 to 5 upper-case "
            "letters or digits)",
        ),
    ),
    Case(
        "provider_id_lower_case",
        frames=set_cell("services", 6, "provider_id", "rrk15"),
        quarantined=service_and_dependants(
            6,
            "provider_id must be a CQC ID (1- then 9 to 11 "
            "digits) or an ODS code (3 to 5 upper-case "
            "letters or digits)",
        ),
    ),
    Case(
        "service_type_vocabulary",
        frames=set_cell("services", 2, "service_type", "nursing_home"),
        quarantined=service_and_dependants(
            2,
            "service_type must be one of: "
            "care_home_nursing, care_home_residential, "
            "domiciliary_care, supported_living, extra_care, "
            "hospice, hospital, community, other",
        ),
    ),
    Case(
        "beds_negative",
        frames=set_cell("services", 3, "beds", "-2"),
        quarantined=service_and_dependants(3, "beds must be at least 0"),
    ),
    Case(
        "service_name_missing",
        frames=set_cell("services", 5, "name", ""),
        quarantined=service_and_dependants(5, "name must not be empty"),
    ),
    Case(
        "improvement_unknown_location",
        frames=set_cell("improvements", 7, "location_id", "1-999999999"),
        quarantined=improvement_and_dependants(7, "location_id must exist in services.location_id"),
    ),
    Case(
        "theme_vocabulary",
        frames=set_cell("improvements", 8, "theme", "falls_prevention"),
        quarantined=improvement_and_dependants(
            8,
            "theme must be one of: documentation, medicines, falls, pressure_care, "
            "infection_prevention, safeguarding, nutrition_hydration, staffing, "
            "training_competency, consent_capacity, person_centred_care, "
            "complaints_handling, governance, environment, other",
        ),
    ),
    Case(
        "severity_missing",
        frames=set_cell("improvements", 9, "severity", ""),
        quarantined=improvement_and_dependants(9, "severity must not be empty"),
    ),
    Case(
        "identified_before_2000",
        frames=set_cells(
            ("improvements", 10, "identified_on", "1999-12-31"),
            ("improvements", 10, "action_started_on", "2000-01-03"),
        ),
        quarantined=improvement_and_dependants(
            10, "identified_on must be from 2000-01-01 to the day of the run"
        ),
    ),
    Case(
        "identified_after_today",
        frames=set_cells(
            ("improvements", 11, "identified_on", "2027-01-04"),
            ("improvements", 11, "action_started_on", ""),
        ),
        quarantined=improvement_and_dependants(
            11, "identified_on must be from 2000-01-01 to the day of the run"
        ),
    ),
    Case(
        "action_before_identified",
        frames=set_cell("improvements", 12, "action_started_on", "2024-12-01"),
        quarantined=improvement_and_dependants(
            12, "action_started_on must not be before identified_on"
        ),
    ),
    Case(
        "standard_zero",
        frames=set_cell("improvements", 13, "standard", "0"),
        quarantined=improvement_and_dependants(13, "standard must be more than 0 and at most 1"),
    ),
    Case(
        "standard_as_percent",
        frames=set_cell("improvements", 14, "standard", "90"),
        quarantined=improvement_and_dependants(14, "standard must be more than 0 and at most 1"),
    ),
    Case(
        "declared_status_without_date",
        frames=set_cell("improvements", 15, "declared_on", ""),
        quarantined=improvement_and_dependants(
            15, "declared_on must be set when declared_status is set"
        ),
    ),
    Case(
        "duplicate_check_id",
        frames=set_cell("checks", 6, "check_id", "C-5"),
        quarantined={"checks": {5: "check_id must be unique", 6: "check_id must be unique"}},
    ),
    Case(
        "check_unknown_improvement",
        frames=set_cell("checks", 7, "improvement_id", "IMP-99"),
        quarantined={"checks": {7: "improvement_id must exist in improvements.improvement_id"}},
    ),
    Case(
        "check_team_missing",
        frames=set_cell("checks", 8, "team", ""),
        quarantined={"checks": {8: "team must not be empty"}},
    ),
    Case(
        "check_source_vocabulary",
        frames=set_cell("checks", 9, "source", "spot_check"),
        quarantined={
            "checks": {9: "source must be one of: audit, care_records, staff_practice, competency"}
        },
    ),
    Case(
        "sampled_zero",
        frames=set_cells(
            ("checks", 10, "sampled", "0"),
            ("checks", 10, "met", "0"),
            ("checks", 10, "repeat_gaps", "0"),
        ),
        quarantined={"checks": {10: "sampled must be at least 1"}},
    ),
    Case(
        "met_above_sampled",
        frames=set_cells(("checks", 11, "met", "12"), ("checks", 11, "repeat_gaps", "")),
        quarantined={"checks": {11: "met must not exceed sampled"}},
    ),
    Case(
        "repeat_gaps_above_unmet",
        frames=set_cell("checks", 12, "repeat_gaps", "3"),
        quarantined={"checks": {12: "repeat_gaps must not exceed sampled - met"}},
    ),
    Case(
        "prompts_negative",
        frames=set_cell("checks", 13, "prompts_needed", "-1"),
        quarantined={"checks": {13: "prompts_needed must be at least 0"}},
    ),
    Case(
        "confidence_above_five",
        frames=set_cell("checks", 14, "self_rated_confidence", "6"),
        quarantined={"checks": {14: "self_rated_confidence must be between 1 and 5"}},
    ),
    Case(
        "thousands_separator",
        frames=set_cells(("checks", 15, "sampled", "1,200"), ("checks", 15, "met", "1,100")),
        quarantined={"checks": {15: "sampled must be a whole number; met must be a whole number"}},
    ),
    Case(
        "day_month_year_date",
        frames=set_cell("checks", 16, "checked_on", "12/03/2026"),
        quarantined={"checks": {16: "checked_on must be a date in YYYY-MM-DD form"}},
    ),
    Case(
        "impossible_date",
        frames=set_cell("checks", 17, "checked_on", "2026-02-30"),
        quarantined={"checks": {17: "checked_on must be a date in YYYY-MM-DD form"}},
    ),
    Case(
        "sentiment_vocabulary",
        frames=set_cell("feedback", 3, "sentiment", "2"),
        quarantined={"feedback": {3: "sentiment must be one of: -1, 0, 1"}},
    ),
    Case(
        "rating_above_five",
        frames=set_cell("feedback", 4, "rating", "7"),
        quarantined={"feedback": {4: "rating must be between 1 and 5"}},
    ),
    Case(
        "feedback_unknown_improvement",
        frames=set_cell("feedback", 5, "improvement_id", "IMP-404"),
        quarantined={"feedback": {5: "improvement_id must exist in improvements.improvement_id"}},
    ),
    Case(
        "incident_harm_vocabulary",
        frames=set_cell("incidents", 6, "harm", "catastrophic"),
        quarantined={"incidents": {6: "harm must be one of: none, low, moderate, severe, death"}},
    ),
    Case(
        "incident_unknown_location",
        frames=set_cell("incidents", 7, "location_id", "ZZZ99"),
        quarantined={"incidents": {7: "location_id must exist in services.location_id"}},
    ),
    Case(
        "week_start_not_monday",
        frames=set_cell("workforce", 8, "week_start", "2026-06-03"),
        quarantined={"workforce": {8: "week_start must be a Monday"}},
    ),
    Case(
        "agency_above_planned",
        frames=set_cells(
            ("workforce", 9, "shifts_agency", "41"), ("workforce", 9, "shifts_unfilled", "0")
        ),
        quarantined={
            "workforce": {
                9: "shifts_agency must not exceed shifts_planned; "
                "shifts_agency + shifts_unfilled must not exceed "
                "shifts_planned"
            }
        },
    ),
    Case(
        "agency_plus_unfilled_above_planned",
        frames=set_cell("workforce", 10, "shifts_unfilled", "36"),
        quarantined={
            "workforce": {10: "shifts_agency + shifts_unfilled must not exceed shifts_planned"}
        },
    ),
    Case(
        "duplicate_team_week",
        frames=set_cell("workforce", 12, "location_id", LOCATION[10]),
        quarantined={
            "workforce": {
                11: "(location_id, team, week_start) must be unique",
                12: "(location_id, team, week_start) must be unique",
            }
        },
    ),
    Case(
        "continuity_above_one",
        frames=set_cell("workforce", 13, "keyworker_continuity", "1.2"),
        quarantined={"workforce": {13: "keyworker_continuity must be between 0 and 1"}},
    ),
    Case(
        "review_level_vocabulary",
        frames=set_cell("reviews", 14, "level", "ceo"),
        quarantined={
            "reviews": {14: "level must be one of: registered_manager, senior_leadership, board"}
        },
    ),
    Case(
        "review_unknown_improvement",
        frames=set_cell("reviews", 15, "improvement_id", "IMP-0"),
        quarantined={"reviews": {15: "improvement_id must exist in improvements.improvement_id"}},
    ),
    Case(
        "quarantined_formula_name",
        frames=set_cells(
            ("services", 16, "name", '=HYPERLINK("http://x.example","click")'),
            ("services", 16, "beds", "-1"),
        ),
        quarantined=service_and_dependants(16, "beds must be at least 0"),
    ),
    # --- normalised, not rejected: the export validates clean -------------------------------
    Case("byte_order_mark", raw=raw_bytes("services", lambda d: b"\xef\xbb\xbf" + d)),
    Case(
        "whitespace_around_ids_and_words",
        frames=set_cells(
            ("services", 1, "location_id", f"  {LOCATION[0]} "),
            ("checks", 1, "source", " audit "),
            ("checks", 2, "improvement_id", " IMP-1"),
            ("improvements", 1, "theme", "medicines  "),
        ),
    ),
    Case(
        "mixed_case_vocabulary",
        frames=set_cells(
            ("improvements", 2, "key_question", "Safe"),
            ("checks", 3, "source", "AUDIT"),
            ("incidents", 1, "harm", "Low"),
        ),
        also=("incidents",),
    ),
    Case(
        "timestamps_with_time_zones",
        frames=set_cells(
            ("checks", 4, "checked_on", "2026-03-01T23:30:00+01:00"),
            ("improvements", 3, "identified_on", "2025-04-05 08:15:00Z"),
        ),
    ),
    Case(
        "formula_in_name",
        frames=set_cell("services", 17, "name", '=HYPERLINK("http://x.example","click")'),
    ),
    Case("header_only_optional_file", raw=raw_bytes("reviews", _header_only), also=("reviews",)),
    Case("extra_column", frames=add_column("checks", "legacy_code", "A7")),
    # --- v2: the declarations history and the improvement plans ---------------------------
    Case(
        "declarations_status_vocabulary",
        frames=set_cell("declarations", 6, "declared_status", "sustained"),
        quarantined={
            "declarations": {6: "declared_status must be one of: emerging, embedded, closed"}
        },
    ),
    Case(
        "declarations_repeat_a_day_and_level",
        frames=set_cells(
            ("declarations", 4, "improvement_id", "IMP-3"),
            ("declarations", 4, "declared_on", "2025-04-10"),
        ),
        quarantined={
            "declarations": {
                3: "(improvement_id, declared_on, level) must be unique",
                4: "(improvement_id, declared_on, level) must be unique",
            }
        },
    ),
    Case(
        "declarations_unknown_improvement",
        frames=set_cell("declarations", 7, "improvement_id", "IMP-999"),
        quarantined={
            "declarations": {7: "improvement_id must exist in improvements.improvement_id"}
        },
    ),
    Case(
        "declarations_without_their_file_improvement_claim",
        frames=set_cell("improvements", 9, "declared_status", "embedded"),
        warned=("declarations", "differ from the latest declaration for 1 improvement"),
    ),
    Case(
        "action_kind_vocabulary",
        frames=set_cell("actions", 8, "kind", "meeting"),
        quarantined={"actions": {8: "kind must be one of: immediate_control, embedding"}},
    ),
    Case(
        "action_completed_before_planned",
        frames=set_cell("actions", 5, "completed_on", "2025-01-01"),
        quarantined={"actions": {5: "completed_on must not be before planned_on"}},
    ),
    Case(
        "action_due_before_planned",
        frames=set_cell("actions", 6, "due_on", "2025-01-01"),
        quarantined={"actions": {6: "due_on must not be before planned_on"}},
    ),
    Case(
        "absent_optional_file",
        frames=drop_file("workforce"),
        also=("feedback", "incidents", "reviews"),
    ),
    Case(
        "rows_after_as_of_set_aside",
        frames=set_cells(
            ("checks", 18, "checked_on", "2026-11-20"),
            ("improvements", 20, "identified_on", "2026-11-02"),
            ("improvements", 20, "action_started_on", "2026-11-03"),
        ),
        set_aside={"checks": 3, "improvements": 1, "feedback": 1, "incidents": 1, "reviews": 1},
    ),
    Case("huge_free_text_cell", frames=_big_text, also=("feedback",), large=True),
)

CASES_BY_NAME = {case.name: case for case in CASES}


if __name__ == "__main__":
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "broken_exports")
    for case in CASES:
        if not case.large:
            case.build(out / case.name)
    print(f"wrote {sum(not c.large for c in CASES)} cases to {out}")  # a script, not library code
