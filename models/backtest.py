"""Honest backtest: rolling-origin evaluation over month-end as-of dates.

The fold rule, for a cutoff `c` (a month-end) and a horizon of `h` months:

- **train** rows are the labelled snapshots whose whole label window ends on or before `c`:
  label_window_end(as_of) = the month-end `h` months after the month of as_of <= c. Everything
  a training row's features and label use is dated on or before `c`.
- **test** rows are the labelled snapshots with `c <= as_of < c + test_months` (default: the
  horizon, which is also the default spacing of cutoffs, so test periods of successive cutoffs
  do not overlap). Their labels use only rows dated after the month of as_of, hence after `c`.

So no training label window reaches past `c`, and every test label window starts after `c`:
this is what a model trained at `c` with the labels then observable, scoring at or after `c`,
would face. Censored rows (held <NA>) are in neither.

Every model in the comparison is fitted on the same training rows and scored on the same test
rows; the pooled scores have cluster-bootstrap 95% intervals (whole improvements resampled)
and paired differences against the GA2M.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.ensemble import HistGradientBoostingClassifier
from threadpoolctl import threadpool_limits

from features.columns import AS_OF, HELD, IMPROVEMENT_ID, KEY_COLUMNS
from models.ga2m import MODEL_FEATURES, HoldModel
from models.metrics import (
    METRICS,
    cluster_bootstrap_scores,
    forecast_scores,
    reliability_table,
)

log = logging.getLogger(__name__)

ALL_MODELS = (
    "ga2m",
    "rules_stage",
    "declared_status",
    "hgb_unconstrained",
    "ebm",
    "ground_truth",
)
REFERENCE_MODEL = "ga2m"


@dataclass(frozen=True)
class BacktestResult:
    """Backtest tables.

    metrics: model, cutoff, n, auroc, brier, log_loss, ece, fit_seconds, score_seconds.
    pooled: model, n, each metric with `_low`/`_high` (95% cluster bootstrap), fit_seconds and
        score_seconds summed over cutoffs.
    differences: model, metric, difference (model minus ga2m, pooled), low, high (paired).
    reliability: model, bin, mean_predicted, observed_rate, n (pooled over cutoffs).
    folds: cutoff, n_train, train_as_of_first, train_as_of_last, train_label_window_end_last,
        n_test, test_as_of_first, test_as_of_last.
    predictions: improvement_id, as_of, cutoff, held, one column per model (P(held)).
    """

    metrics: pd.DataFrame
    pooled: pd.DataFrame
    differences: pd.DataFrame
    reliability: pd.DataFrame
    folds: pd.DataFrame
    predictions: pd.DataFrame


def label_window_end(as_of: pd.Series, horizon_months: int) -> pd.Series:
    """Last day of the label window: the month-end `horizon_months` after the month of as_of."""
    return pd.to_datetime(as_of) + pd.offsets.MonthEnd(0) + pd.offsets.MonthEnd(horizon_months)


def labelled_rows(snapshots: pd.DataFrame) -> pd.DataFrame:
    """Snapshots with an observed label (censored rows dropped), held as int 1/0."""
    rows = snapshots[snapshots[HELD].notna()]
    return rows.assign(**{HELD: rows[HELD].astype(int)})


def default_cutoffs(
    as_of: pd.Series, horizon_months: int = 6, *, min_train_months: int = 6
) -> list[pd.Timestamp]:
    """Month-end cutoffs one horizon apart, counted back from the last labelled as-of date.

    The last cutoff's test period (one horizon of as-of dates) ends with the last labelled
    as-of date; the first cutoff still leaves `min_train_months` of as-of dates whose label
    windows have closed by it.
    """
    dates = pd.to_datetime(pd.Series(as_of)).dt.normalize() + pd.offsets.MonthEnd(0)
    earliest = dates.min() + pd.offsets.MonthEnd(min_train_months + horizon_months - 1)
    latest = dates.max() - pd.offsets.MonthEnd(horizon_months - 1)
    months = pd.date_range(earliest, latest, freq="ME")
    return sorted(months[::-1][::horizon_months])


def fold_masks(
    as_of: pd.Series, cutoff: pd.Timestamp, horizon_months: int, test_months: int
) -> tuple[pd.Series, pd.Series]:
    """(train, test) boolean masks of the fold for `cutoff` (see the module docstring)."""
    cutoff = pd.Timestamp(cutoff)
    train = label_window_end(as_of, horizon_months) <= cutoff
    test = (as_of >= cutoff) & (as_of < cutoff + pd.offsets.MonthEnd(test_months))
    return train, test


def backtest_folds(
    snapshots: pd.DataFrame, cutoffs: Sequence, horizon_months: int = 6, test_months: int = 6
) -> pd.DataFrame:
    """One row per cutoff describing its training and test rows (labelled rows only)."""
    rows = labelled_rows(snapshots)
    described = []
    for cutoff in cutoffs:
        train, test = fold_masks(rows[AS_OF], cutoff, horizon_months, test_months)
        described.append(
            {
                "cutoff": pd.Timestamp(cutoff),
                "n_train": int(train.sum()),
                "train_as_of_first": rows.loc[train, AS_OF].min(),
                "train_as_of_last": rows.loc[train, AS_OF].max(),
                "train_label_window_end_last": label_window_end(
                    rows.loc[train, AS_OF], horizon_months
                ).max(),
                "n_test": int(test.sum()),
                "test_as_of_first": rows.loc[test, AS_OF].min(),
                "test_as_of_last": rows.loc[test, AS_OF].max(),
            }
        )
    return pd.DataFrame(described)


# --------------------------------------------------------------------------- the contenders

Scorer = Callable[[pd.DataFrame], np.ndarray]


def fit_ga2m(train: pd.DataFrame, seed: int) -> Scorer:
    """The GA2M (HoldModel), cross-fitted by improvement."""
    model = HoldModel(random_state=seed).fit(
        train[list(MODEL_FEATURES)], train[HELD], groups=train[IMPROVEMENT_ID]
    )
    return lambda test: model.predict_proba(test[list(MODEL_FEATURES)])[:, 1]


def fit_estimator(estimator) -> Callable[[pd.DataFrame, int], Scorer]:
    """Fitter of a given model specification (e.g. the registered champion's), cloned unfitted
    and fitted on each fold like the GA2M, so two specifications meet on the same folds."""

    def fit(train: pd.DataFrame, seed: int) -> Scorer:
        model = clone(estimator).fit(
            train[list(MODEL_FEATURES)], train[HELD], groups=train[IMPROVEMENT_ID]
        )
        return lambda test: model.predict_proba(test[list(MODEL_FEATURES)])[:, 1]

    return fit


def fit_group_rate(column: str | Callable[[pd.DataFrame], pd.Series], prior_rows: float = 10.0):
    """Fitter of a baseline that forecasts the training hold rate of the row's group.

    Rates are shrunk toward the overall rate by `prior_rows` pseudo-rows, and a group never
    seen in training gets the overall rate.
    """

    def groups_of(frame: pd.DataFrame) -> pd.Series:
        values = column(frame) if callable(column) else frame[column]
        return pd.Series(values, index=frame.index).astype("str").fillna("missing")

    def fit(train: pd.DataFrame, seed: int) -> Scorer:
        overall = float(train[HELD].mean())
        stats = train[HELD].groupby(groups_of(train)).agg(["sum", "count"])
        rates = (stats["sum"] + prior_rows * overall) / (stats["count"] + prior_rows)
        return lambda test: groups_of(test).map(rates).fillna(overall).to_numpy(dtype=float)

    return fit


def rules_stage(frame: pd.DataFrame) -> pd.Series:
    """The explicit rules' stage of each row (models.rules)."""
    from models.rules import classify_stages  # the rules are only needed by this baseline

    return classify_stages(frame, with_reasons=False)["stage"]


def _with_categories(frame: pd.DataFrame, categories: dict) -> pd.DataFrame:
    """Model features with text columns as pandas categoricals of the training categories."""
    X = frame[list(MODEL_FEATURES)]
    return X.assign(
        **{c: pd.Categorical(X[c].astype("str"), categories=cats) for c, cats in categories.items()}
    )


def fit_unconstrained_hgb(train: pd.DataFrame, seed: int) -> Scorer:
    """Black-box reference: HistGradientBoosting with default settings, no constraints."""
    X = train[list(MODEL_FEATURES)]
    text = [c for c in X.columns if not pd.api.types.is_numeric_dtype(X[c])]
    categories = {c: sorted(X[c].dropna().astype("str").unique()) for c in text}
    model = HistGradientBoostingClassifier(random_state=seed, categorical_features="from_dtype")
    model.fit(_with_categories(train, categories), train[HELD])
    return lambda test: model.predict_proba(_with_categories(test, categories))[:, 1]


def fit_ebm(train: pd.DataFrame, seed: int) -> Scorer:
    """The interpretable peer: InterpretML's ExplainableBoostingClassifier, defaults."""
    from interpret.glassbox import ExplainableBoostingClassifier  # a dev dependency

    model = ExplainableBoostingClassifier(random_state=seed)
    model.fit(_as_object_text(train[list(MODEL_FEATURES)]), train[HELD].to_numpy())
    return lambda test: model.predict_proba(_as_object_text(test[list(MODEL_FEATURES)]))[:, 1]


def _as_object_text(X: pd.DataFrame) -> pd.DataFrame:
    """Text columns as object arrays, missing as the word 'missing' (InterpretML's input)."""
    text = [c for c in X.columns if not pd.api.types.is_numeric_dtype(X[c])]
    return X.assign(**{c: X[c].astype("object").where(X[c].notna(), "missing") for c in text})


def fit_ground_truth(truth: pd.DataFrame | None):
    """Fitter of the ceiling: the simulator's true P(held), looked up by (improvement, as_of)."""

    def fit(train: pd.DataFrame, seed: int) -> Scorer:
        if truth is None:
            raise ValueError("the ground_truth model needs `truth`")
        lookup = truth.set_index(list(KEY_COLUMNS))["p_hold_true"]

        def score(test: pd.DataFrame) -> np.ndarray:
            index = pd.MultiIndex.from_frame(test[list(KEY_COLUMNS)])
            return lookup.reindex(index).to_numpy(dtype=float)

        return score

    return fit


def contenders(truth: pd.DataFrame | None) -> dict[str, Callable[[pd.DataFrame, int], Scorer]]:
    """Model name -> fitter(train, seed) returning a scorer(test) -> P(held)."""
    return {
        "ga2m": fit_ga2m,
        "rules_stage": fit_group_rate(rules_stage),
        "declared_status": fit_group_rate("declared_status"),
        "hgb_unconstrained": fit_unconstrained_hgb,
        "ebm": fit_ebm,
        "ground_truth": fit_ground_truth(truth),
    }


# --------------------------------------------------------------------------- the backtest


def rolling_origin_backtest(
    snapshots: pd.DataFrame,
    *,
    cutoffs: Sequence | None = None,
    horizon_months: int = 6,
    test_months: int | None = None,
    models: Sequence[str] = ALL_MODELS,
    truth: pd.DataFrame | None = None,
    seed: int = 0,
    n_resamples: int = 200,
    n_threads: int = 1,
    estimators: Mapping[str, object] | None = None,
) -> BacktestResult:
    """Fit every model on each cutoff's training rows and score its test rows.

    `snapshots` are training snapshots (keys, features, held). `truth` (simulated data only:
    improvement_id, as_of, p_hold_true) enables the ground-truth ceiling. `estimators` adds
    contenders by name: model specifications (unfitted or fitted; each fold fits a clone),
    named in `models` too. Every model gets `n_threads` OpenMP threads, so fit and score
    times compare like with like.
    """
    estimators = dict(estimators or {})
    unknown = set(models) - set(ALL_MODELS) - set(estimators)
    if unknown:
        raise ValueError(f"unknown models: {sorted(unknown)}")
    if "ground_truth" in models and truth is None:
        models = tuple(m for m in models if m != "ground_truth")
    rows = labelled_rows(snapshots)
    rows = rows.assign(**{AS_OF: pd.to_datetime(rows[AS_OF])})
    cutoffs = default_cutoffs(rows[AS_OF], horizon_months) if cutoffs is None else cutoffs
    test_months = horizon_months if test_months is None else test_months
    fitters = {**contenders(truth), **{n: fit_estimator(e) for n, e in estimators.items()}}
    metrics, predictions = [], []
    for cutoff in cutoffs:
        train_mask, test_mask = fold_masks(rows[AS_OF], cutoff, horizon_months, test_months)
        train, test = rows[train_mask], rows[test_mask]
        if train[HELD].nunique() < 2 or test.empty:
            log.warning("cutoff %s skipped: too few labelled rows", cutoff)
            continue
        fold_predictions = test[[IMPROVEMENT_ID, AS_OF, HELD]].assign(cutoff=pd.Timestamp(cutoff))
        for name in models:
            with threadpool_limits(limits=n_threads, user_api="openmp"):
                p, fit_seconds, score_seconds = _timed_forecast(fitters[name], train, test, seed)
            fold_predictions[name] = p
            metrics.append(
                {
                    "model": name,
                    "cutoff": pd.Timestamp(cutoff),
                    "n": len(test),
                    **forecast_scores(test[HELD].to_numpy(), p),
                    "fit_seconds": fit_seconds,
                    "score_seconds": score_seconds,
                }
            )
            log.info("cutoff %s %s: fit %.1f s", pd.Timestamp(cutoff).date(), name, fit_seconds)
        predictions.append(fold_predictions)
    if not predictions:
        raise ValueError("no cutoff had both training and test rows")
    predicted = pd.concat(predictions, ignore_index=True)
    metrics_frame = pd.DataFrame(metrics)
    pooled, differences = pooled_scores(predicted, list(models), metrics_frame, n_resamples, seed)
    return BacktestResult(
        metrics=metrics_frame,
        pooled=pooled,
        differences=differences,
        reliability=pooled_reliability(predicted, list(models)),
        folds=backtest_folds(rows, cutoffs, horizon_months, test_months),
        predictions=predicted,
    )


def _timed_forecast(fitter, train, test, seed) -> tuple[np.ndarray, float, float]:
    """(P(held) for test rows, fit seconds, score seconds)."""
    started = time.perf_counter()
    scorer = fitter(train, seed)
    fitted = time.perf_counter()
    p = np.asarray(scorer(test), dtype=float)
    scored = time.perf_counter()
    if np.isnan(p).any():
        raise ValueError("a model left test rows without a forecast")
    return p, fitted - started, scored - fitted


def pooled_scores(
    predicted: pd.DataFrame,
    models: list[str],
    metrics: pd.DataFrame,
    n_resamples: int = 200,
    seed: int = 0,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(pooled scores with 95% intervals, paired differences against the GA2M)."""
    y = predicted[HELD].to_numpy()
    forecasts = {m: predicted[m].to_numpy() for m in models}
    resampled = cluster_bootstrap_scores(
        y, forecasts, predicted[IMPROVEMENT_ID].to_numpy(), n_resamples=n_resamples, seed=seed
    )
    low = resampled.groupby("model")[list(METRICS)].quantile(0.025)
    high = resampled.groupby("model")[list(METRICS)].quantile(0.975)
    timing = metrics.groupby("model")[["fit_seconds", "score_seconds"]].sum()
    pooled = pd.DataFrame(
        [
            {
                "model": m,
                "n": len(y),
                **{
                    k: v
                    for metric, value in forecast_scores(y, forecasts[m]).items()
                    for k, v in (
                        (metric, value),
                        (f"{metric}_low", low.loc[m, metric]),
                        (f"{metric}_high", high.loc[m, metric]),
                    )
                },
                "fit_seconds": timing.loc[m, "fit_seconds"],
                "score_seconds": timing.loc[m, "score_seconds"],
            }
            for m in models
        ]
    )
    return pooled, paired_differences(resampled, pooled, REFERENCE_MODEL)


def paired_differences(
    resampled: pd.DataFrame, pooled: pd.DataFrame, reference: str
) -> pd.DataFrame:
    """Each model's pooled score minus the reference's, with a paired bootstrap 95% interval."""
    if reference not in set(pooled["model"]):
        return pd.DataFrame(columns=["model", "metric", "difference", "low", "high"])
    wide = resampled.set_index(["resample", "model"])[list(METRICS)].unstack("model")
    point = pooled.set_index("model")[list(METRICS)]
    rows = []
    for metric in METRICS:
        deltas = wide[metric].sub(wide[metric][reference], axis=0)
        for model in point.index:
            rows.append(
                {
                    "model": model,
                    "metric": metric,
                    "difference": point.loc[model, metric] - point.loc[reference, metric],
                    "low": deltas[model].quantile(0.025),
                    "high": deltas[model].quantile(0.975),
                }
            )
    return pd.DataFrame(rows)


def pooled_reliability(predicted: pd.DataFrame, models: list[str]) -> pd.DataFrame:
    """Reliability table of each model over all test rows of all cutoffs."""
    y = predicted[HELD].to_numpy()
    tables = [reliability_table(y, predicted[m].to_numpy()).assign(model=m) for m in models]
    table = pd.concat(tables, ignore_index=True)
    return table[["model", "bin", "mean_predicted", "observed_rate", "n"]]
