"""Governance over time, wired: what a run records in the history, what it is warned about, and
what its report is given about earlier runs.

The choices (which runs a trend shows, which run to compare with, why a probability moved) are
plain functions in `models.governance`; the warnings about the input are in
`validation.continuity`; this module reads the run history (`pipelines.history`), the run
folders and, when the model changed, the earlier model version (`pipelines.tracking`).
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from contracts.params import GovernanceParams
from contracts.tables import (
    CONTRIBUTIONS,
    HISTORY_INPUT_FILES,
    HISTORY_SCORES,
    HISTORY_SERVICES,
    HISTORY_SIGNOFFS,
)
from models.governance import (
    ComparisonChoice,
    Explained,
    comparison_run,
    movement_reasons,
    trend_runs,
)
from pipelines import tracking
from pipelines.config import Settings
from pipelines.history import HistoryStore, RunRecord, series_name
from pipelines.outputs import RUNS
from report.history import TREND_SCORE_COLUMNS, TREND_SERVICE_COLUMNS, Comparison, RunHistory
from validation.continuity import WARNING_COLUMNS, continuity_warnings

log = logging.getLogger(__name__)


# --- what a run records and is warned about ----------------------------------------------------


def input_files(manifest: dict) -> pd.DataFrame:
    """The export files a run read (HISTORY_INPUT_FILES without run_id), from its manifest."""
    columns = [c for c in HISTORY_INPUT_FILES.column_names if c != "run_id"]
    rows = [
        {
            "file": name,
            **{k: found[k] for k in ("format", "sha256", "rows")},
            **{
                k: manifest["counts"].get(name, {}).get(k)
                for k in ("used", "set_aside", "quarantined")
            },
        }
        for name, found in manifest["inputs"].items()
    ]
    return pd.DataFrame(rows, columns=columns)


def input_warnings(
    store: HistoryStore, out: str | Path, manifest: dict, params: GovernanceParams
) -> pd.DataFrame:
    """Warnings about tonight's export against the earlier runs of `out` (kind, file, message)."""
    runs = store.runs(out)
    earlier = runs[runs["run_id"] != manifest["run_id"]].sort_values(
        ["finished_at", "run_id"], kind="mergesort"
    )
    recent = earlier.tail(params.recent_runs)
    files = store.rows(HISTORY_INPUT_FILES, recent["run_id"], ("run_id", "file", "sha256", "rows"))
    found = continuity_warnings(input_files(manifest), files, recent, params)
    for kind in found["kind"]:
        log.warning("input warning: %s", kind)
    return found


def run_record(manifest: dict, out: str | Path, scores, services, warnings) -> RunRecord:
    """What the history keeps of a finished run (its manifest says the rest)."""
    model = manifest["model"]
    run = {
        "run_id": manifest["run_id"],
        "out": series_name(out),
        "as_of": pd.Timestamp(manifest["as_of"]),
        "finished_at": pd.Timestamp(manifest["finished_at"]).tz_localize(None),
        "previous_run_id": manifest.get("previous_run_id"),
        "export": manifest["export"],
        "model_name": model["name"],
        "model_version": str(model["version"]),
        "model_run_id": model.get("run_id"),
        "code_version": manifest.get("code_version"),
        "services": len(services),
        "improvements": len(scores),
        "warnings": len(warnings),
        "config": json.dumps(manifest.get("config", {}), sort_keys=True, default=str),
    }
    return RunRecord(run, scores, services, input_files(manifest), warnings)


def finished_now() -> str:
    """The moment a run finished, as the manifest records it (UTC, ISO 8601)."""
    return datetime.now(UTC).replace(microsecond=0).isoformat()


def warning_records(warnings: pd.DataFrame) -> list[dict]:
    return warnings[list(WARNING_COLUMNS)].to_dict("records")


# --- what a report is given about earlier runs -------------------------------------------------


def report_history(
    store: HistoryStore,
    settings: Settings,
    out: str | Path,
    folder: Path,
    params: GovernanceParams,
    compare_with: str | None = None,
    *,
    strict: bool = True,
) -> RunHistory:
    """Earlier runs of `out` for the report of the run in `folder`: trend runs and their rows,
    sign-offs, and the comparison (with `compare_with`, default `params.compare_with`).

    A comparison run or date the history does not have raises ValueError when `strict` (a
    person asked for it); otherwise the report goes without a comparison and says why.
    """
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    run_id, as_of = manifest["run_id"], pd.Timestamp(manifest["as_of"])
    runs = store.runs(out)
    shown = trend_runs(runs[runs["run_id"] != run_id], as_of, params)
    signoffs = store.rows(HISTORY_SIGNOFFS, runs.loc[runs["as_of"] <= as_of, "run_id"])
    try:
        choice = comparison_run(runs, run_id, as_of, compare_with or params.compare_with)
    except ValueError as problem:
        if strict:
            raise
        choice = ComparisonChoice(None, str(problem))
    return RunHistory(
        runs=shown,
        scores=store.rows(HISTORY_SCORES, shown["run_id"], TREND_SCORE_COLUMNS),
        services=store.rows(HISTORY_SERVICES, shown["run_id"], TREND_SERVICE_COLUMNS),
        signoffs=signoffs.merge(runs[["run_id", "as_of"]], on="run_id", how="left"),
        comparison=None
        if choice.run is None
        else comparison(store, settings, out, folder, manifest, choice, params),
        comparison_note=choice.why,
        database=store.shown_url,
    )


def comparison(
    store: HistoryStore,
    settings: Settings,
    out: str | Path,
    folder: Path,
    manifest: dict,
    choice: ComparisonChoice,
    params: GovernanceParams,
) -> Comparison:
    """The comparison with the chosen earlier run, and why probabilities moved since."""
    earlier = choice.run.to_dict()
    run_id = earlier["run_id"]
    scores = store.rows(HISTORY_SCORES, [run_id]).drop(columns="run_id")
    services = store.rows(HISTORY_SERVICES, [run_id]).drop(columns="run_id")
    notes = []
    explained_before = Path(out) / RUNS / run_id / "contributions.parquet"
    if explained_before.is_file():
        contributions_before = pd.read_parquet(
            explained_before, columns=list(CONTRIBUTIONS.column_names)
        )
    else:
        contributions_before = pd.DataFrame(columns=list(CONTRIBUTIONS.column_names))
        notes.append(
            f"Run {run_id}'s folder is no longer under {Path(out) / RUNS} (retention keeps the "
            "last runs and each quarter's last run; the history keeps every run's scores), so "
            "the terms behind each move are not named."
        )
    now = pd.read_parquet(folder / "scores.parquet", columns=["improvement_id", "p_hold"])
    same_model = str(earlier["model_version"]) == str(manifest["model"]["version"])
    middle = None
    if not same_model:
        middle, note = earlier_model_now(settings, str(earlier["model_version"]), folder)
        notes += [note] if note else []
    moves, terms = movement_reasons(
        Explained(_by_id(scores), contributions_before),
        Explained(_by_id(now), pd.read_parquet(folder / "contributions.parquet")),
        middle,
        same_model=same_model,
        threshold=params.movement_threshold,
        terms=params.movement_terms,
    )
    return Comparison(earlier, choice.why, scores, services, moves, terms, tuple(notes))


def earlier_model_now(
    settings: Settings, version: str, folder: Path
) -> tuple[Explained | None, str]:
    """The earlier model version on this run's evidence (`model_inputs.parquet`), or None and
    a note saying why it could not be worked out."""
    try:
        model = tracking.load_model_version(settings, version)
        inputs = pd.read_parquet(folder / "model_inputs.parquet")
        ids = inputs["improvement_id"].astype("str").to_numpy()
        explained = model.explain(inputs)
        p_hold = pd.Series(model.predict_proba(inputs)[:, 1], index=ids)
    except (LookupError, OSError, KeyError, ValueError) as problem:
        log.warning("earlier model version %s not applied: %s", version, type(problem).__name__)
        return None, (
            f"The earlier run was scored by model version {version}, which could not be applied "
            f"to this run's evidence ({_first_line(problem)}), so each move is not split into "
            "new evidence and a new model."
        )
    long = explained.set_axis(ids).rename_axis(index="improvement_id", columns="term").stack()
    contributions = long.rename("contribution").reset_index().assign(value="")
    return Explained(p_hold, contributions), ""


def _by_id(scores: pd.DataFrame) -> pd.Series:
    return scores.set_index(scores["improvement_id"].astype("str"))["p_hold"].astype(float)


def _first_line(problem: Exception) -> str:
    text = str(problem).strip()
    return text.splitlines()[0] if text else type(problem).__name__
