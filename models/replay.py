"""The replay evaluation: the model judged the way it is used (the headline evaluation).

For each cutoff `c` (a month-end):

1. **train** on the export *as it stood at c* (`export_at(c)`: by default
   `features.history.export_as_it_stood`; the simulator's own also leaves out rows entered after
   c): the labelled snapshots whose whole label window closed by c, fitted as `takehold train`
   fits (`model_factory`, a `BandedHoldModel`);
2. **score at c** as the nightly run scores: the feature frame of that export at c
   (`features.build.build_feature_frame`) and `models.scoring.predict_hold`;
3. **compare** with what happened after c: the outcome label of the window after c, from the
   full export (`features.labels.build_labels`), for improvements eligible at c (action
   started, a primary check by c) whose label is observed.

Beside this *time* split, an *unseen services* split trains at c without a random share of the
services and scores only those (a home joining the group). Every contender is fitted on the same
training rows and scores the same rows. Scores pooled over cutoffs carry 95% intervals from a
bootstrap over services (whole services resampled: an improvement's rows, and a service's
improvements, are not independent), and are broken down by subgroup: the claim in force at c
(none/unknown, emerging, embedded, closed), severity, theme and service type. The over-claim
decision (improvements claimed embedded or closed) comes first.

Nothing here needs ground truth; with `truth` (simulated groups) the ceiling (the true
probability) joins the contenders and the band's coverage of it is measured.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from contracts.export import CLAIM_UNKNOWN, NO_CLAIM_YET
from contracts.params import FeatureParams, LabelParams, ModelSettings
from features.build import build_feature_frame
from features.columns import (
    AS_OF,
    HELD,
    IMPROVEMENT_ID,
    LOCATION_ID,
    SERVICE_TYPE,
    SEVERITY,
    THEME,
)
from features.history import claim_in_force, export_as_it_stood
from features.labels import build_labels
from features.snapshots import eligible_as_of_dates, labelled_snapshots
from models.baselines import DEFAULT_REPLAY_MODELS, Fitter, replay_contenders
from models.history import (
    CutoffHistory,
    cutoff_history,
    labelled_history,
    training_shortfalls,
)
from models.metrics import (
    REPLAY_METRICS,
    cluster_bootstrap_scores,
    forecast_scores,
    reliability_table,
    replay_scores,
)
from models.scoring import predict_hold

log = logging.getLogger(__name__)

REFERENCE_MODEL = "ga2m"
TIME_SPLIT = "time"
UNSEEN_SPLIT = "unseen_services"
CLAIM_GROUP = "claim_in_force"
# The claim groups of the subgroup table: no claim known is one group.
CLAIM_GROUPS = {NO_CLAIM_YET: "none/unknown", CLAIM_UNKNOWN: "none/unknown"}
SUBGROUPS = (CLAIM_GROUP, SEVERITY, THEME, SERVICE_TYPE)
EMBEDDING_CLAIMS = ("embedded", "closed")


@dataclass(frozen=True)
class ReplayResult:
    """The replay's tables (docs/model.md, "How the model is evaluated").

    predictions: one row per (split, cutoff, improvement) scored: keys, location_id, split,
        cutoff, held, claim_in_force, severity, theme, service_type, one column per contender
        (P(held)) and, per banded model (the reference and `estimators`), `<name>_low`,
        `<name>_high` and `<name>_spread` (sd of the refits' log-odds).
    pooled: split, model, n, services, each metric with `_low` / `_high`.
    subgroups: split, model, subgroup, value, n, held_rate, each metric (`_low`/`_high` for
        the reference).
    overclaim: the over-claim decision, per split: improvements claimed embedded or closed.
    reliability: split, model, subgroup, value, bin, mean_predicted, observed_rate, n.
    band: split, model (each banded model), n, median_width; with truth, coverage (of the
        true probability), below and above.
    cutoffs: split, cutoff, n_train, n_scored, fit_seconds.
    metrics: split, model, cutoff, n, auroc, brier, log_loss, ece, fit_seconds, score_seconds.
    """

    predictions: pd.DataFrame
    pooled: pd.DataFrame
    subgroups: pd.DataFrame
    overclaim: pd.DataFrame
    reliability: pd.DataFrame
    band: pd.DataFrame
    cutoffs: pd.DataFrame
    metrics: pd.DataFrame

    def headline(self, split: str = TIME_SPLIT, model: str = REFERENCE_MODEL) -> dict:
        """One model's pooled scores on one split, by metric name."""
        row = self.pooled[(self.pooled["split"] == split) & (self.pooled["model"] == model)]
        return row.iloc[0].to_dict() if len(row) else {}


def replay_cutoffs(
    as_of, horizon_months: int = 6, *, step_months: int = 3, count: int = 4
) -> list[pd.Timestamp]:
    """Up to `count` month-end cutoffs `step_months` apart, the last one the latest whose label
    window (the `horizon_months` calendar months after it) has closed by `as_of`."""
    latest = pd.Timestamp(as_of).normalize() - pd.offsets.MonthEnd(horizon_months)
    if latest + pd.offsets.MonthEnd(horizon_months) > pd.Timestamp(as_of).normalize():
        latest -= pd.offsets.MonthEnd(1)
    return sorted(latest - pd.offsets.MonthEnd(step_months * k) for k in range(count))


@dataclass(frozen=True)
class ReplayCutoff:
    """One cutoff of the replay: its training rows (the labelled snapshots of the export as it
    stood then), the rows it scores, and what those hold (`models.history.CutoffHistory`)."""

    cutoff: pd.Timestamp
    train: pd.DataFrame
    scored: pd.DataFrame
    history: CutoffHistory


def replay_plan(
    tables: dict[str, pd.DataFrame],
    cutoffs: Sequence,
    *,
    export_at: Callable[[pd.Timestamp], dict[str, pd.DataFrame]] | None = None,
    feature_params: FeatureParams = FeatureParams(),  # noqa: B008
    label_params: LabelParams = LabelParams(),  # noqa: B008
    needs: ModelSettings = ModelSettings(),  # noqa: B008
) -> list[ReplayCutoff]:
    """Every cutoff's training rows and scored rows, built once: the minimum-history check
    reads them (`CutoffHistory.usable`, the rule the replay itself follows) before
    `replay_evaluation` trains and scores on them."""
    export_at = export_at or (lambda cutoff: export_as_it_stood(tables, cutoff))
    plan = []
    for cutoff in sorted(pd.Timestamp(c) for c in cutoffs):
        cut = export_at(cutoff)
        train = labelled_snapshots(cut, cutoff, feature_params, label_params)
        scored = scored_rows(tables, cut, cutoff, feature_params, label_params)
        history = cutoff_history(cutoff, train, len(scored), needs)
        plan.append(ReplayCutoff(cutoff, train, scored, history))
    return plan


def replay_evaluation(
    tables: dict[str, pd.DataFrame],
    model_factory: Callable[[], object],
    *,
    cutoffs: Sequence = (),
    plan: Sequence[ReplayCutoff] | None = None,
    export_at: Callable[[pd.Timestamp], dict[str, pd.DataFrame]] | None = None,
    feature_params: FeatureParams = FeatureParams(),  # noqa: B008
    label_params: LabelParams = LabelParams(),  # noqa: B008
    models: Sequence[str] | None = None,
    estimators: Mapping[str, Callable[[], object]] | None = None,
    contenders: Mapping[str, Fitter] | None = None,
    truth: pd.DataFrame | None = None,
    unseen_share: float = 0.25,
    needs: ModelSettings | None = ModelSettings(),  # noqa: B008
    reference: str = REFERENCE_MODEL,
    n_resamples: int = 200,
    seed: int = 0,
    n_threads: int = 1,
) -> ReplayResult:
    """Replay the model's use at each cutoff (see the module docstring).

    `tables`: the export as it stands (validated tables). `model_factory()` returns the unfitted
    model `takehold train` registers (the `reference` contender, by default the GA2M). The
    cutoffs come from `plan` (`replay_plan`), else are built from `cutoffs`; a cutoff is
    replayed when it is usable (`models.history.CutoffHistory.usable`: its training rows meet
    `needs`, and it has rows to score); with `needs` None, when it has rows to score (every
    contender then needs no training rows, e.g. a model fitted elsewhere:
    `benchmarks/bench_small_groups.py`'s starter model). `models`: the contenders by name (default: all of
    `models.baselines.replay_contenders`, plus `contenders`, more fitters by name);
    `estimators`: more, by name, as factories of `BandedHoldModel`-like models (e.g. the
    registered champion's specification), scored and banded as the reference is. `truth`
    (simulated data: improvement_id, as_of, p_hold_true) adds the ceiling and the band check.
    """
    if plan is None:
        plan = replay_plan(
            tables,
            cutoffs,
            export_at=export_at,
            feature_params=feature_params,
            label_params=label_params,
            needs=needs or ModelSettings(),
        )
    factories = {reference: model_factory, **dict(estimators or {})}
    fitters = {**replay_contenders(truth), **dict(contenders or {})}
    names = list(models) if models is not None else list(DEFAULT_REPLAY_MODELS)
    names = [n for n in names if n != "ground_truth" or truth is not None]
    rows, described, timings = [], [], []
    for step in plan:
        used = step.history.usable if needs is not None else step.history.scored > 0
        if not used:
            log.warning(
                "cutoff %s skipped: %d labelled snapshots, %d rows to score",
                step.cutoff.date(),
                step.history.training.snapshots,
                step.history.scored,
            )
            continue
        share = unseen_share if needs is not None else 0.0
        for split, train_rows, test_rows in splits(
            step.train, step.scored, share, seed, step.cutoff, needs
        ):
            started = time.perf_counter()
            with threadpool_limits(limits=n_threads, user_api="openmp"):
                forecasts, seconds = forecast(
                    train_rows, test_rows, factories, fitters, names, seed
                )
            rows.append(forecasts.assign(split=split, cutoff=step.cutoff))
            timings += [
                {"split": split, "cutoff": step.cutoff, "model": m, **s} for m, s in seconds
            ]
            described.append(
                {
                    "split": split,
                    "cutoff": step.cutoff,
                    "n_train": len(train_rows),
                    "n_scored": len(test_rows),
                    "fit_seconds": time.perf_counter() - started,
                }
            )
            log.info("replay %s cutoff %s: %d scored", split, step.cutoff.date(), len(test_rows))
    if not rows:
        raise ValueError(
            "no cutoff had enough history to train and an observed outcome after it; "
            f"cutoffs tried: {[str(step.cutoff.date()) for step in plan]}"
        )
    predictions = pd.concat(rows, ignore_index=True)
    models_scored = [*factories, *[n for n in names if n not in factories]]
    return summarise(
        predictions,
        models_scored,
        list(factories),
        pd.DataFrame(described),
        pd.DataFrame(timings),
        n_resamples,
        seed,
        reference,
    )


def scored_rows(tables, cut, cutoff, feature_params, label_params) -> pd.DataFrame:
    """The features at `cutoff` from the export as it stood (as the nightly run builds them),
    for improvements eligible then, with the label observed after it (from the full export)
    and the claim in force at the cutoff."""
    features = build_feature_frame(cut, [cutoff], feature_params)
    eligible = eligible_as_of_dates(cut, cutoff, cutoff, feature_params.primary_sources)
    labels = build_labels(tables, [cutoff], label_params)
    labels = labels[labels[HELD].notna()]
    frame = features.merge(eligible, on=[IMPROVEMENT_ID, AS_OF]).merge(
        labels[[IMPROVEMENT_ID, AS_OF, HELD]], on=[IMPROVEMENT_ID, AS_OF]
    )
    claims = pd.Series(
        claim_in_force(tables["improvements"], tables.get("declarations"), cutoff),
        index=tables["improvements"]["improvement_id"].astype("str").to_numpy(),
    )
    claim = frame[IMPROVEMENT_ID].map(claims[~claims.index.duplicated()])
    return frame.assign(**{HELD: frame[HELD].astype(int), CLAIM_GROUP: claim.astype("str")})


def splits(
    train: pd.DataFrame,
    scored: pd.DataFrame,
    share: float,
    seed: int,
    cutoff,
    needs: ModelSettings | None = None,
):
    """(split, training rows, rows to score): the time split, then the unseen services when
    the training rows left without them still meet `needs` (the rule the time split met:
    `models.history.training_shortfalls`), or, without `needs`, have both outcomes."""
    yield TIME_SPLIT, train, scored
    if share <= 0:
        return
    locations = np.sort(scored[LOCATION_ID].unique())
    rng = np.random.default_rng([seed, int(pd.Timestamp(cutoff).strftime("%Y%m%d"))])
    held_out = rng.choice(locations, size=max(1, round(share * len(locations))), replace=False)
    unseen_train = train[~train[LOCATION_ID].isin(held_out)]
    if needs is not None and training_shortfalls(labelled_history(unseen_train), needs):
        log.info("cutoff %s: too few training rows without the unseen services", cutoff)
    elif unseen_train[HELD].nunique() == 2:
        yield UNSEEN_SPLIT, unseen_train, scored[scored[LOCATION_ID].isin(held_out)]


def forecast(train, test, factories, contenders, names, seed):
    """Every contender fitted on `train` and scored on `test`, the banded models as the
    nightly run scores them (`predict_hold`), with their band (`<name>_low`, `<name>_high`)
    and refit spread (`<name>_spread`); and each one's (name, fit and score seconds)."""
    out = test[
        [IMPROVEMENT_ID, AS_OF, LOCATION_ID, HELD, CLAIM_GROUP, SEVERITY, THEME, SERVICE_TYPE]
    ].astype({SEVERITY: "str", THEME: "str", SERVICE_TYPE: "str"})
    groups = train[IMPROVEMENT_ID].to_numpy()
    y = train[HELD].astype(int).to_numpy()
    seconds = []
    for name, factory in factories.items():
        started = time.perf_counter()
        model = factory().fit(train[list(_model_features())], y, groups=groups)
        fitted = time.perf_counter()
        predicted = predict_hold(model, test)
        seconds.append((name, _seconds(started, fitted)))
        out[name] = predicted["p_hold"].to_numpy()
        out[f"{name}_low"] = predicted["p_hold_low"].to_numpy()
        out[f"{name}_high"] = predicted["p_hold_high"].to_numpy()
        out[f"{name}_spread"] = model.refit_spread(test[list(_model_features())])
    for name in names:
        if name not in factories:
            started = time.perf_counter()
            scorer = contenders[name](train, seed)
            fitted = time.perf_counter()
            out[name] = np.asarray(scorer(test), dtype=float)
            seconds.append((name, _seconds(started, fitted)))
    return out, seconds


def _seconds(started: float, fitted: float) -> dict[str, float]:
    return {"fit_seconds": fitted - started, "score_seconds": time.perf_counter() - fitted}


def _model_features():
    from models.ga2m import MODEL_FEATURES

    return MODEL_FEATURES


# --------------------------------------------------------------------------- the tables


def summarise(
    predictions, models, banded, cutoffs, timings, n_resamples, seed, reference=REFERENCE_MODEL
) -> ReplayResult:
    """Pooled scores, subgroups, the over-claim decision, reliability and the band check."""
    predictions = predictions.assign(
        **{CLAIM_GROUP: predictions[CLAIM_GROUP].replace(CLAIM_GROUPS)}
    )
    models = [m for m in models if m in predictions.columns]
    pooled, subgroups, overclaim, reliability, band = [], [], [], [], []
    for split, rows in predictions.groupby("split", sort=False):
        present = [m for m in models if rows[m].notna().all()]
        pooled.append(pooled_scores(rows, present, n_resamples, seed).assign(split=split))
        subgroups.append(
            subgroup_scores(rows, present, n_resamples, seed, reference).assign(split=split)
        )
        overclaim.append(overclaim_decision(rows, present).assign(split=split))
        reliability.append(reliability_tables(rows, present, reference).assign(split=split))
        band.append(band_coverage(rows, [m for m in banded if m in present]).assign(split=split))
    first = lambda frames: _split_first(pd.concat(frames, ignore_index=True))  # noqa: E731
    return ReplayResult(
        predictions=predictions,
        pooled=first(pooled),
        subgroups=first(subgroups),
        overclaim=first(overclaim),
        reliability=first(reliability),
        band=first(band),
        cutoffs=cutoffs,
        metrics=per_cutoff_scores(predictions, models, timings),
    )


def per_cutoff_scores(predictions, models, timings) -> pd.DataFrame:
    """split, model, cutoff, n, the four forecast scores and the fit and score seconds."""
    found = []
    for (split, cutoff), rows in predictions.groupby(["split", "cutoff"], sort=False):
        for model in models:
            if rows[model].notna().all():
                scores = forecast_scores(rows[HELD].to_numpy(), rows[model].to_numpy(float))
                found.append(
                    {"split": split, "model": model, "cutoff": cutoff, "n": len(rows), **scores}
                )
    frame = pd.DataFrame(found)
    return frame.merge(timings, on=["split", "cutoff", "model"], how="left")


def _split_first(frame: pd.DataFrame) -> pd.DataFrame:
    return frame[["split", *[c for c in frame.columns if c != "split"]]]


def pooled_scores(rows: pd.DataFrame, models: list[str], n_resamples: int, seed: int):
    """Each model's scores over every row of the split, with service-bootstrap intervals."""
    y = rows[HELD].to_numpy()
    forecasts = {m: rows[m].to_numpy(dtype=float) for m in models}
    low, high = _intervals(y, forecasts, rows[LOCATION_ID].to_numpy(), n_resamples, seed)
    return pd.DataFrame(
        [
            {
                "model": m,
                "n": len(y),
                "services": rows[LOCATION_ID].nunique(),
                **_with_interval(replay_scores(y, forecasts[m]), low.get(m), high.get(m)),
            }
            for m in models
        ]
    )


def _intervals(y, forecasts, clusters, n_resamples, seed):
    """Per model, the 2.5% and 97.5% quantiles of each metric over service resamples."""
    if n_resamples <= 0 or len(np.unique(clusters)) < 2:
        return {}, {}
    resampled = cluster_bootstrap_scores(
        y, forecasts, clusters, n_resamples=n_resamples, seed=seed, scorer=replay_scores
    )
    grouped = resampled.groupby("model")[list(REPLAY_METRICS)]
    low, high = grouped.quantile(0.025), grouped.quantile(0.975)
    return (
        {m: low.loc[m].to_dict() for m in low.index},
        {m: high.loc[m].to_dict() for m in high.index},
    )


def _with_interval(scores: dict, low: dict | None, high: dict | None) -> dict:
    out = {}
    for metric, value in scores.items():
        out[metric] = value
        out[f"{metric}_low"] = (low or {}).get(metric, np.nan)
        out[f"{metric}_high"] = (high or {}).get(metric, np.nan)
    return out


def subgroup_scores(
    rows: pd.DataFrame, models: list[str], n_resamples: int, seed: int, reference=REFERENCE_MODEL
):
    """Scores within each subgroup value; intervals for the reference model only."""
    found = []
    for subgroup in SUBGROUPS:
        for value, part in rows.groupby(subgroup, sort=True):
            y = part[HELD].to_numpy()
            low, high = _intervals(
                y,
                {reference: part[reference].to_numpy(dtype=float)},
                part[LOCATION_ID].to_numpy(),
                n_resamples // 2,
                seed,
            )
            for model in models:
                scores = replay_scores(y, part[model].to_numpy(dtype=float))
                found.append(
                    {
                        "model": model,
                        "subgroup": subgroup,
                        "value": str(value),
                        "n": len(part),
                        "held_rate": float(y.mean()),
                        **_with_interval(scores, low.get(model), high.get(model)),
                    }
                )
    return pd.DataFrame(found)


def overclaim_decision(rows: pd.DataFrame, models: list[str], low: float = 0.5) -> pd.DataFrame:
    """The decision the product exists for: of the improvements whose leaders claim embedding
    (embedded or closed in force at the cutoff), which will not hold. Per model: how many it
    flags (P(held) below `low`, the cross-check's band), how many of those slipped, and how
    many of the slips it missed."""
    claimed = rows[rows[CLAIM_GROUP].isin(EMBEDDING_CLAIMS)]
    slipped = claimed[HELD].to_numpy() == 0
    found = []
    for model in models:
        p = claimed[model].to_numpy(dtype=float)
        flagged = p < low
        found.append(
            {
                "model": model,
                "claimed": len(claimed),
                "slipped": int(slipped.sum()),
                "flagged": int(flagged.sum()),
                "flagged_slipped": int((flagged & slipped).sum()),
                "precision": _share(flagged & slipped, flagged),
                "recall": _share(flagged & slipped, slipped),
                **replay_scores(claimed[HELD].to_numpy(), p),
            }
        )
    return pd.DataFrame(found)


def _share(part: np.ndarray, whole: np.ndarray) -> float:
    return float(part.sum() / whole.sum()) if whole.sum() else float("nan")


def reliability_tables(
    rows: pd.DataFrame, models: list[str], reference=REFERENCE_MODEL
) -> pd.DataFrame:
    """Reliability of every model over all rows, and of the reference per claim group."""
    y = rows[HELD].to_numpy()
    tables = [
        reliability_table(y, rows[m].to_numpy(dtype=float)).assign(
            model=m, subgroup="all", value="all"
        )
        for m in models
    ]
    for value, part in rows.groupby(CLAIM_GROUP, sort=True):
        tables.append(
            reliability_table(part[HELD].to_numpy(), part[reference].to_numpy(float)).assign(
                model=reference, subgroup=CLAIM_GROUP, value=str(value)
            )
        )
    table = pd.concat(tables, ignore_index=True)
    return table[["model", "subgroup", "value", "bin", "mean_predicted", "observed_rate", "n"]]


def band_coverage(rows: pd.DataFrame, models: list[str]) -> pd.DataFrame:
    """Per banded model: its band's median width and, on simulated data, how often it holds
    the true probability (and how often the truth falls below or above it)."""
    found = []
    for model in models:
        low, high = rows[f"{model}_low"], rows[f"{model}_high"]
        row = {"model": model, "n": len(rows), "median_width": float((high - low).median())}
        if "ground_truth" in rows.columns:
            truth = rows["ground_truth"]
            row |= {
                "coverage": float(((truth >= low) & (truth <= high)).mean()),
                "below": float((truth < low).mean()),
                "above": float((truth > high).mean()),
            }
        found.append(row)
    return pd.DataFrame(found)
