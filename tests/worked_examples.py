"""Small exports for the framework's worked examples, and the scoring pipeline that reads them.

`Story` collects the rows of an export (every file as CSV text, as a provider group would hand
it over) with a few helpers for what the examples are made of: monthly checks per team, a rota
week by week, feedback, incidents, reviews and the actions of a plan. `read_story` writes the
export and runs it through the nightly run's stages exactly as the Prefect flow calls them
(read, validate, features, model with band and explanation, rules, claim check, triggers,
cross-check, ranking, write, report), then reads back what a person reads: `scores.parquet`,
`teams.parquet`, `services.csv` and `report.html`.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from contracts.export import FILES_BY_NAME
from contracts.params import RunConfig
from models.ga2m import MODEL_FEATURES, HoldModel
from models.uncertainty import BandedHoldModel
from pipelines import stages
from pipelines.io import read_export
from report import build_report
from simulator.synthetic import synthetic_snapshots

LOCATION = "1-101675727"
OTHER_LOCATION = "1-101675728"
PROVIDER = "1-100000001"
TODAY = date(2027, 6, 30)  # the day the runs happen: every as-of date is before it


def fitted_model() -> BandedHoldModel:
    """A small banded hold model (fitted on synthetic snapshots): the worked examples read the
    rules' stages and words; the model only has to score, explain and band."""
    snapshots, _ = synthetic_snapshots(120, 12, seed=5)
    rows = snapshots[snapshots["held"].notna()]
    model = BandedHoldModel(HoldModel(n_seeds=2, n_threads=1, random_state=1), n_refits=2)
    return model.fit(
        rows[list(MODEL_FEATURES)], rows["held"].astype(int), groups=rows["improvement_id"]
    )


def month_days(first: str, last: str, day: int = 10) -> list[str]:
    """The `day` of every month from `first` to `last` ('YYYY-MM')."""
    months = pd.period_range(first, last, freq="M")
    return [f"{m.year}-{m.month:02d}-{day:02d}" for m in months]


def mondays(first: str, last: str) -> list[pd.Timestamp]:
    return list(pd.date_range(first, last, freq="W-MON"))


@dataclass
class Story:
    """The rows of one export, built up by the helpers below."""

    rows: dict[str, list[dict]] = field(default_factory=lambda: defaultdict(list))

    def service(self, location: str = LOCATION, name: str = "Oak House", beds: int = 40):
        self.rows["services"].append(
            {
                "location_id": location,
                "provider_id": PROVIDER,
                "name": name,
                "service_type": "care_home_nursing",
                "region": "North West",
                "beds": beds,
            }
        )
        return self

    def improvement(self, improvement_id: str, **values):
        record = {
            "improvement_id": improvement_id,
            "location_id": LOCATION,
            "theme": "documentation",
            "key_question": "effective",
            "severity": "significant",
            "origin": "internal_audit",
            "standard": 0.9,
        }
        self.rows["improvements"].append({**record, **values})
        return self

    def checks(
        self,
        improvement: str,
        teams: tuple[str, ...],
        days: list[str],
        met: int,
        sampled: int = 20,
        source: str = "audit",
        **extra,
    ):
        """One check per team on each day, `met` of `sampled` items."""
        for day in days:
            for team in teams:
                number = len(self.rows["checks"]) + 1
                self.rows["checks"].append(
                    {
                        "check_id": f"C-{number}",
                        "improvement_id": improvement,
                        "team": team,
                        "source": source,
                        "checked_on": day,
                        "sampled": sampled,
                        "met": met,
                        **extra,
                    }
                )
        return self

    def every_kind_of_check(
        self, improvement: str, teams: tuple[str, ...], days: list[str], share: float = 0.95
    ):
        """Audits, care records, observed practice and competency, all at `share`, with few
        repeat gaps, no prompting and staff rating themselves as they perform."""
        met = round(20 * share)
        self.checks(improvement, teams, days, met, repeat_gaps=0)
        self.checks(improvement, teams, days, met, source="care_records", repeat_gaps=0)
        self.checks(
            improvement, teams, days, round(10 * share), 10, "staff_practice", prompts_needed=0
        )
        return self.checks(
            improvement,
            teams,
            days,
            round(10 * share),
            10,
            "competency",
            self_rated_confidence=4.5,
        )

    def feedback(self, days: list[str], theme: str, sentiment: int, **values):
        for day in days:
            number = len(self.rows["feedback"]) + 1
            record = {
                "feedback_id": f"F-{number}",
                "location_id": LOCATION,
                "received_on": day,
                "channel": "survey",
                "respondent": "family",
                "theme": theme,
                "sentiment": sentiment,
                "rating": 5 if sentiment > 0 else 2,
                "text": "Mrs Example said the staff were kind",
            }
            self.rows["feedback"].append({**record, **values})
        return self

    def incident(self, day: str, theme: str, harm: str, **values):
        number = len(self.rows["incidents"]) + 1
        record = {
            "incident_id": f"I-{number}",
            "location_id": LOCATION,
            "occurred_on": day,
            "theme": theme,
            "harm": harm,
        }
        self.rows["incidents"].append({**record, **values})
        return self

    def rota(self, team: str, weeks: list[pd.Timestamp], agency, continuity, planned: int = 50):
        """One row per week: `agency` and `continuity` are functions of the week's start."""
        for week in weeks:
            self.rows["workforce"].append(
                {
                    "location_id": LOCATION,
                    "team": team,
                    "week_start": week.strftime("%Y-%m-%d"),
                    "shifts_planned": planned,
                    "shifts_agency": round(planned * agency(week)),
                    "shifts_unfilled": 1,
                    "leavers": 0,
                    "keyworker_continuity": round(continuity(week), 3),
                }
            )
        return self

    def review(self, improvement: str, day: str, level: str, classification: str):
        number = len(self.rows["reviews"]) + 1
        self.rows["reviews"].append(
            {
                "review_id": f"R-{number}",
                "improvement_id": improvement,
                "reviewed_on": day,
                "level": level,
                "classification": classification,
            }
        )
        return self

    def action(self, improvement: str, kind: str, planned: str, due=None, completed=None):
        number = len(self.rows["actions"]) + 1
        self.rows["actions"].append(
            {
                "action_id": f"A-{number}",
                "improvement_id": improvement,
                "kind": kind,
                "planned_on": planned,
                "due_on": due,
                "completed_on": completed,
            }
        )
        return self

    def no_incidents_file_gap(self):
        """An incidents file with one no-harm report of another theme: the file is there, so
        'no harmful incident' is a fact and not missing evidence."""
        return self.incident("2025-01-15", "environment", "none")

    def write(self, folder: Path) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        for name, records in self.rows.items():
            columns = list(FILES_BY_NAME[name].column_names)
            frame = pd.DataFrame(records).reindex(columns=columns)
            frame.to_csv(folder / f"{name}.csv", index=False)
        return folder


@dataclass(frozen=True)
class Reading:
    """What a person reads after the run: the scores, teams, services and the report's text."""

    scores: pd.DataFrame
    teams: pd.DataFrame
    services: pd.DataFrame
    report: str

    def of(self, improvement_id: str) -> pd.Series:
        return self.scores.set_index("improvement_id").loc[improvement_id]

    def words(self, improvement_id: str) -> str:
        """Every sentence a person reads about the improvement in scores.csv, joined."""
        row = self.of(improvement_id)
        columns = [
            "stage_reasons",
            "trigger_reasons",
            "escalations",
            "claim_reason",
            "enhanced_monitoring",
        ]
        return " | ".join(str(row[c]) for c in columns if isinstance(row[c], str))


def read_story(
    story: Story,
    folder: Path,
    as_of: date,
    model: BandedHoldModel,
    config: RunConfig | None = None,
) -> Reading:
    """Write the export, run it through the nightly run's stages, and read what was written."""
    config = config or RunConfig()
    export_dir = story.write(folder / "export")
    out = folder / "out"
    out.mkdir(parents=True, exist_ok=True)
    raw = read_export(str(export_dir))
    checked = stages.validate_and_record(raw, as_of, config, None, TODAY)  # no Data Docs
    services = checked.tables["services"]
    parts = stages.partition_tables(checked.hand_over(), 1)
    scored = stages.combine_partitions(
        [stages.score_partition(part, as_of, model, "1", config) for part in parts],
        services,
        config,
    )
    manifest = {"run_id": f"worked-{as_of}", "as_of": str(as_of), "model": {"version": "1"}}
    stages.write_outputs(out, scored, manifest)
    stages.write_evidence_threshold(config, out / "model")
    report = build_report(out, workers=1)
    return Reading(
        scores=pd.read_parquet(out / "scores.parquet"),
        teams=pd.read_parquet(out / "teams.parquet"),
        services=pd.read_csv(out / "services.csv"),
        report=report.read_text(encoding="utf-8"),
    )


def steady(value: float):
    """A rota figure that stays at `value`."""
    return lambda week: value


def falling(before: float, after: float, start: str, end: str):
    """A rota figure moving linearly from `before` (until `start`) to `after` (from `end`)."""
    first, last = pd.Timestamp(start), pd.Timestamp(end)

    def at(week: pd.Timestamp) -> float:
        share = np.clip((week - first) / (last - first), 0.0, 1.0)
        return before + (after - before) * float(share)

    return at
