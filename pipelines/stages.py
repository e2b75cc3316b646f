"""The stages of takehold's runs as plain functions: each wires the packages for one step.

The Prefect flows in `pipelines.flows` call these, one task per stage (or per partition), so
the flows read as a table of contents and every stage can be run and tested without Prefect.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from contracts.files import HandedTables
from contracts.params import RunConfig
from contracts.tables import (
    CONTRIBUTIONS,
    MONTHLY_COMPLIANCE,
    SCORES,
    SERVICES,
    TIMELINE,
    conform,
)
from features.build import build_feature_frame, prepare_as_of
from features.columns import AS_OF, HELD, IMPROVEMENT_ID
from features.monthly import monthly_compliance
from features.panels import check_days, positions_in
from features.snapshots import labelled_snapshots
from models.crosscheck import cross_check, cross_check_sentence
from models.explain import formatted_values, top_factors
from models.ga2m import MODEL_FEATURES, PAIR_SEPARATOR, HoldModel
from models.history import history_shortfalls, labelled_history
from models.ranking import rank_services
from models.rules import claim_check, classify_stages, escalation_triggers, review_cadence
from models.scoring import assemble_scores, predict_hold
from models.uncertainty import BandedHoldModel
from pipelines import outputs
from pipelines.config import redacted_url
from validation import ValidationResult, validate_export, write_validation_outputs

log = logging.getLogger(__name__)


class BlockedExport(Exception):
    """The export cannot be trusted as a whole; the validation result says why."""

    def __init__(self, result: ValidationResult):
        self.result = result
        super().__init__(
            "the export is blocked by validation:\n" + "\n".join(result.summary_lines())
        )


@dataclass
class PartitionScores:
    """Everything scored for one partition of services."""

    scores: pd.DataFrame
    contributions: pd.DataFrame
    monthly: pd.DataFrame
    timeline: pd.DataFrame


@dataclass
class ScoringOutputs:
    scores: pd.DataFrame
    services: pd.DataFrame
    contributions: pd.DataFrame
    monthly: pd.DataFrame
    timeline: pd.DataFrame
    extra: dict = field(default_factory=dict)


def validate_or_block(export, as_of: date, config: RunConfig, today: date | None = None):
    """Validate; raise BlockedExport when the export cannot be used."""
    result = validate_export(export, as_of, config.validation, today=today)
    if result.blocked:
        raise BlockedExport(result)
    return result


def validate_and_record(
    export, as_of: date, config: RunConfig, folder: Path | None, today: date | None = None
):
    """Validate, write what validation found into the run folder (when given), whether the
    export is usable or not; raise BlockedExport when it cannot be used."""
    result = validate_export(export, as_of, config.validation, today=today)
    if folder is not None:
        write_validation_outputs(result, folder)
    if result.blocked:
        raise BlockedExport(result)
    return result


def local_partitions() -> int:
    """Partitions on the local runner: one per core, at most 4. The partitions run in threads;
    much of the scoring is numpy and Arrow work that releases the interpreter lock (on 2
    cores at 3,000 services, two partitions took 35-38 s against 47 s for one)."""
    return max(1, min(os.cpu_count() or 1, 4))


def partition_tables(handed: HandedTables, partitions: int) -> list[HandedTables]:
    """Split the tables handed over into `partitions` groups of whole services (by location_id).

    Every feature of an improvement depends only on its own service's rows, so scoring the
    partitions separately gives the same answers as scoring everything at once. A row's
    partition is that of its location, or of its improvement's location. The tables are taken
    one at a time and released once split, so no more than one table is held twice.
    """
    names = handed.names()
    services = handed.take("services")
    locations = pd.Index(np.sort(services["location_id"].dropna().unique()))
    if partitions <= 1 or len(locations) <= 1:
        return [HandedTables({"services": services, **handed.take_all()})]
    chunks = np.array_split(np.arange(len(locations)), min(partitions, len(locations)))
    part_of_location = np.concatenate([np.full(len(c), k) for k, c in enumerate(chunks)])
    improvements = handed.take("improvements")
    unique = improvements.drop_duplicates("improvement_id")
    part_of_improvement = _part(part_of_location, positions_in(locations, unique["location_id"]))
    improvement_ids = pd.Index(unique["improvement_id"])
    del unique
    parts: list[dict] = [{} for _ in chunks]
    for name in names:
        frame = {"services": services, "improvements": improvements}.get(name)
        frame = handed.take(name) if frame is None else frame
        row = (
            _part(part_of_location, positions_in(locations, frame["location_id"]))
            if "location_id" in frame.columns
            else _part(part_of_improvement, positions_in(improvement_ids, frame["improvement_id"]))
        )
        for k, part in enumerate(parts):
            part[name] = frame[row == k]
        del frame
    return [HandedTables(part) for part in parts]


def _part(part_of: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """The partition at each position (-1 where the position is -1: no such key)."""
    return np.append(part_of, -1)[positions]


def score_partition(
    part: HandedTables,
    as_of: date,
    model: BandedHoldModel | None,
    model_version: str | None,
    config: RunConfig,
) -> PartitionScores:
    """Features, probability with band, explanation, rules and cross-check for one partition.

    Without a model (`model` None: the rules alone) the probability, its band, the factors and
    the cross-check are left empty; everything the rules say is there as usual.
    The partition's tables are handed over; its check rows are released once summed by day
    (nothing after reads them): about 1 GB at 10M checks.
    """
    tables = part.take_all()
    # Checks summed by day once, for the features and the report's monthly compliance alike.
    ids = pd.Index(tables["improvements"]["improvement_id"].astype("str"))
    days = check_days(tables.pop("checks"), ids, config.features.primary_sources)
    evidence = prepare_as_of(tables, [as_of], config.features, checks=days)
    features = build_feature_frame(tables, [as_of], config.features, evidence=evidence)
    if features.empty:
        return PartitionScores(*(pd.DataFrame() for _ in range(4)))
    predictions, factors, contributions = model_answers(features, model)
    stages = classify_stages(features, config.threshold)
    claims = claim_check(stages, features, config.threshold)
    triggers = escalation_triggers(features, config.threshold)
    verdict = cross_check(stages["stage"], predictions["p_hold"], config.cross_check)
    cross = features[[IMPROVEMENT_ID, AS_OF]].assign(
        cross_check=verdict,
        cross_check_sentence=cross_check_sentence(
            verdict, stages["stage"], predictions["p_hold"], factors, config.labels.horizon_months
        ),
    )
    cadence = review_cadence(tables["improvements"], tables.get("reviews"), as_of, config.threshold)
    scores = assemble_scores(
        features,
        predictions,
        stages,
        claims,
        triggers,
        cross,
        cadence,
        tables["services"],
        model_version or "",
    )
    return PartitionScores(
        scores=scores,
        contributions=contributions,
        monthly=monthly_compliance(
            None,
            tables["improvements"],
            config.features.primary_sources,
            days=days,
            matrices=evidence.monthly,
        ),
        timeline=evidence_timeline(tables, scores["improvement_id"]),
    )


def model_answers(features: pd.DataFrame, model: BandedHoldModel | None):
    """(predictions, factors, contributions) of the model for the feature frame's rows:
    p_hold with its band and top factors; the raising and lowering factors; the long table of
    every term's contribution. Without a model, empty answers of the same shape."""
    keys = features[[IMPROVEMENT_ID, AS_OF]]
    if model is None:
        nothing = np.full(len(features), np.nan)
        predictions = keys.assign(
            p_hold=nothing, p_hold_low=nothing, p_hold_high=nothing, top_factors=""
        )
        factors = pd.DataFrame({"raising": "", "lowering": ""}, index=features.index)
        return predictions, factors, conform(pd.DataFrame(), CONTRIBUTIONS)
    # The same function the replay evaluation scores with: the model reads evidence only.
    X = features[list(MODEL_FEATURES)]
    factors = top_factors(model.model_, X, n=3)
    predictions = predict_hold(model, features).assign(
        top_factors=factors["top_factors"].to_numpy()
    )
    return predictions, factors, contribution_table(features, X, model.explain(X))


def combine_partitions(
    parts: list[PartitionScores], services: pd.DataFrame, config: RunConfig
) -> ScoringOutputs:
    """Join the partitions (in improvement order, so the result never depends on partitioning)
    and rank the services."""

    def joined(name, keys):
        frames = [getattr(p, name) for p in parts if not getattr(p, name).empty]
        if not frames:
            return pd.DataFrame()
        return (
            pd.concat(frames, ignore_index=True)
            .sort_values(keys, kind="mergesort")
            .reset_index(drop=True)
        )

    scores = joined("scores", ["improvement_id"])
    ranked = rank_services(scores, services, config.ranking) if not scores.empty else pd.DataFrame()
    return ScoringOutputs(
        scores=scores,
        services=ranked,
        contributions=joined("contributions", ["improvement_id", "term"]),
        monthly=joined("monthly", ["improvement_id", "month"]),
        timeline=joined("timeline", ["improvement_id", "date", "event"]),
    )


def contribution_table(
    features: pd.DataFrame, X: pd.DataFrame, contributions: pd.DataFrame
) -> pd.DataFrame:
    """Long table: improvement_id, term, value (the feature value as text), contribution.

    One row per improvement and term, improvements in feature-frame order and terms in model
    order; a pair term's value is both its features' values, "a, b"; a missing value reads
    "missing".
    """
    terms = list(contributions.columns)
    rows = len(contributions)
    shown = {
        c: formatted_values(c, X[c])
        .astype("object")
        .where(X[c].notna(), "missing")
        .to_numpy(dtype=object)
        for c in X.columns
    }
    missing = np.full(rows, "missing", dtype=object)
    values = []
    for term in terms:
        if term in shown:
            values.append(shown[term])
        elif PAIR_SEPARATOR in term:
            first, second = term.split(PAIR_SEPARATOR, 1)
            values.append(shown.get(first, missing) + ", " + shown.get(second, missing))
        else:
            values.append(np.full(rows, "", dtype=object))
    by_row = np.column_stack(values).ravel() if terms else np.array([], dtype=object)
    # Repeated ids and term names taken from their short arrays (no 3.5M-string conversion).
    ids = features[IMPROVEMENT_ID].astype("str").array
    return pd.DataFrame(
        {
            IMPROVEMENT_ID: ids.take(np.repeat(np.arange(rows), len(terms))),
            "term": pd.array(terms, dtype="str").take(np.tile(np.arange(len(terms)), rows)),
            "value": pd.array(by_row, dtype="str"),
            "contribution": contributions.to_numpy(dtype="float64").ravel(),
        }
    )


def evidence_timeline(tables: dict[str, pd.DataFrame], improvement_ids: pd.Series) -> pd.DataFrame:
    """Dated events per improvement: identified, action started, declared (every declaration of
    the history when the export has one, else the current one), governance reviews."""
    # Looked up once per distinct id (Series.isin on 67,000 ids costs seconds in pandas 3).
    wanted = pd.Index(pd.unique(improvement_ids.to_numpy(dtype=object)))
    imp = tables["improvements"]
    imp = imp[positions_in(wanted, imp["improvement_id"]) >= 0]
    parts = [
        imp[["improvement_id", "identified_on"]]
        .rename(columns={"identified_on": "date"})
        .assign(event="identified", detail=""),
        imp[["improvement_id", "action_started_on"]]
        .rename(columns={"action_started_on": "date"})
        .assign(event="action_started", detail=""),
        _declarations(tables, imp, wanted)
        .rename(columns={"declared_on": "date", "declared_status": "detail"})
        .assign(event="declared"),
    ]
    reviews = tables.get("reviews")
    if reviews is not None and not reviews.empty:
        reviews = reviews[positions_in(wanted, reviews["improvement_id"]) >= 0]
        parts.append(
            reviews.assign(
                date=reviews["reviewed_on"],
                event="review",
                detail=reviews["level"].astype("str")
                + ": "
                + reviews["classification"].astype("str"),
            )[["improvement_id", "date", "event", "detail"]]
        )
    timeline = pd.concat(
        [p.assign(detail=p["detail"].astype("str")) for p in parts], ignore_index=True
    )
    timeline = timeline[timeline["date"].notna()]
    return (
        timeline[["improvement_id", "date", "event", "detail"]]
        .sort_values(["improvement_id", "date", "event"], kind="mergesort")
        .reset_index(drop=True)
    )


def _declarations(tables: dict, improvements: pd.DataFrame, wanted: pd.Index) -> pd.DataFrame:
    """improvement_id, declared_on, declared_status of every declaration known."""
    columns = ["improvement_id", "declared_on", "declared_status"]
    history = tables.get("declarations")
    if history is None:
        return improvements[columns]
    return history.loc[positions_in(wanted, history["improvement_id"]) >= 0, columns]


# --- writing ----------------------------------------------------------------------------------


def write_outputs(
    folder: Path, scored: ScoringOutputs, manifest: dict, sink_url: str | None, run_id: str
) -> None:
    """Every run-output table to its declared files (`contracts.tables`), the manifest, and
    the SQL sink when one is configured."""
    for table, frame in (
        (SCORES, scored.scores),
        (SERVICES, scored.services),
        (MONTHLY_COMPLIANCE, scored.monthly),
        (TIMELINE, scored.timeline),
        (CONTRIBUTIONS, scored.contributions),
    ):
        outputs.write_declared(frame, table, folder)
    outputs.write_manifest(folder, manifest)
    if sink_url:
        outputs.append_to_sink(
            sink_url, run_id, {"scores": scored.scores, "service_rankings": scored.services}
        )


def write_evidence_threshold(config: RunConfig, folder: Path) -> None:
    """The evidence threshold in force for this run, beside the champion's documents."""
    folder.mkdir(parents=True, exist_ok=True)
    text = json.dumps(config.threshold.to_dict(), indent=2, default=str)
    (folder / "evidence_threshold.json").write_text(text)


def run_manifest(
    run_id,
    as_of,
    out: Path,
    export,
    checked,
    champion,
    config: RunConfig,
    settings,
    timings,
    rules_only_because: str | None = None,
) -> dict:
    """The run's record: inputs with hashes, where every row went, the model (or why there
    was none), the whole configuration, the code version and the stage times. Never a row of
    evidence."""
    return {
        "run_id": run_id,
        "as_of": str(as_of),
        "previous_run_id": outputs.previous_run_id(out),
        "export": redacted_url(export.source),
        # "pull export" in timings is what the run waited; the read itself may have begun
        # while the command started (pipelines.io.prefetch_export).
        "export_read": {"seconds": export.read_seconds, "read_ahead": export.read_ahead},
        "inputs": {
            name: {
                "file": Path(f.path).name,
                "format": f.format,
                "sha256": f.sha256,
                "rows": f.rows,
            }
            for name, f in export.files.items()
        },
        "absent_files": list(export.absent),
        "counts": checked.counts,
        "model": model_record(champion, settings, rules_only_because),
        "config": config.to_dict(),
        "code_version": code_version(),
        "timings": dict(timings),
    }


# Why a run used the rules alone, in the words the report and the command line show.
RULES_ONLY_ASKED = "the run was asked for the rules alone (--rules-only)"
NO_CHAMPION = (
    "no model is trained for this provider group yet (no champion is registered); "
    "`takehold train` trains one once the export holds enough labelled history"
)


def model_record(champion, settings, rules_only_because: str | None) -> dict:
    """The manifest's model section: the champion that scored the run, or why none did."""
    record = {
        "name": settings.model_name,
        "version": None if champion is None else champion.version,
        "alias": None if champion is None else "champion",
        "run_id": None if champion is None else champion.run_id,
        "tracking_uri": redacted_url(settings.mlflow_tracking_uri),
        "rules_only": champion is None,
    }
    if champion is None:
        record["rules_only_because"] = rules_only_because or NO_CHAMPION
    return record


# --- training ---------------------------------------------------------------------------------


def training_snapshots(
    tables: dict[str, pd.DataFrame], as_of: date, config: RunConfig
) -> pd.DataFrame:
    """Features and labels for every eligible month-end whose label is observable by `as_of`."""
    return labelled_snapshots(tables, as_of, config.features, config.labels)


class NotEnoughHistory(ValueError):
    """The export's labelled history is too short or too thin to train on; the message says
    what it has and what the model needs."""


def require_enough_history(snapshots: pd.DataFrame, as_of: date, config: RunConfig) -> None:
    """Refuse to train, in plain words, on less history than the model needs."""
    history = labelled_history(snapshots, config.labels.horizon_months)
    shortfalls = history_shortfalls(history, config.model, config.labels.horizon_months)
    if shortfalls:
        raise NotEnoughHistory(
            f"not enough history to train a model as of {as_of}: {history.sentence()}. The "
            f"model needs {'; '.join(shortfalls)}. Until then, `takehold score` scores this "
            "group with the rules alone: stages, reasons, triggers and claim checks, without "
            "a probability."
        )
    log.info("training on %s", history.sentence())


class TrainingFailed(RuntimeError):
    """Training stopped inside a library; the message names the stage and the history."""


@contextmanager
def naming_training_failures(stage: str, snapshots: pd.DataFrame, config: RunConfig):
    """Re-raise a library's failure while fitting as `TrainingFailed`, which names the stage
    and the history it had: a library's message never reaches the user alone."""
    try:
        yield
    except Exception as failure:
        history = labelled_history(snapshots, config.labels.horizon_months)
        raise TrainingFailed(
            f"training stopped while {stage}: {history.sentence()}, and the fit failed with "
            f"{type(failure).__name__}: {failure}. This history may be too thin for the model "
            "(README 'Small provider groups'); `takehold score` still scores with the rules."
        ) from failure


def hold_model(config: RunConfig) -> HoldModel:
    return HoldModel(random_state=config.model.random_state, n_threads=config.model.threads)


def banded_model(config: RunConfig) -> BandedHoldModel:
    """The model that is registered, unfitted: point model plus bootstrap refits for the band."""
    return BandedHoldModel(
        hold_model(config),
        n_refits=config.model.band_refits,
        quantiles=config.model.band_quantiles,
        spread_scale=config.model.band_spread_scale,
        spread_floor=config.model.band_spread_floor,
        random_state=config.model.random_state,
    )


def fit_banded_model(snapshots: pd.DataFrame, config: RunConfig) -> BandedHoldModel:
    """The registered model fitted on the labelled snapshots."""
    X = snapshots[list(MODEL_FEATURES)]
    y = snapshots[HELD].astype(int).to_numpy()
    return banded_model(config).fit(X, y, groups=snapshots[IMPROVEMENT_ID].to_numpy())


def data_fingerprint(export, counts: dict, snapshots: pd.DataFrame) -> dict:
    """What the model was trained on: files, hashes, rows, dates; never a row of evidence."""
    return {
        "source": export.source,
        "files": {
            name: {"sha256": f.sha256, "format": f.format, "rows_read": f.rows}
            for name, f in export.files.items()
        },
        "absent_files": list(export.absent),
        "row_counts": counts,
        "snapshots": int(len(snapshots)),
        "improvements": int(snapshots[IMPROVEMENT_ID].nunique()) if len(snapshots) else 0,
        "as_of_range": [str(snapshots[AS_OF].min().date()), str(snapshots[AS_OF].max().date())]
        if len(snapshots)
        else [],
        "held_rate": float(snapshots[HELD].astype(float).mean()) if len(snapshots) else None,
    }


def code_version() -> str:
    """The git commit of the code, when run from a checkout; else the package version."""
    here = Path(__file__).resolve().parent
    try:
        sha = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=here,
            check=True,
            capture_output=True,
            text=True,
            timeout=5,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=here,
            capture_output=True,
            text=True,
            timeout=5,
        ).stdout
        return sha + ("-dirty" if dirty.strip() else "")
    except (OSError, subprocess.SubprocessError):
        from importlib.metadata import version

        return version("takehold")
