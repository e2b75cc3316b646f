"""Scores of probabilistic forecasts of holding: ranking, accuracy, calibration, and their spread.

Every function takes the observed outcome `y` (1 held, 0 slipped; censored rows already
removed) and the forecast probability of holding `p`, and returns plain numbers or frames.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import rankdata

METRICS = ("auroc", "brier", "log_loss", "ece")
PROBABILITY_FLOOR = 1e-6  # log loss of a forecast of exactly 0 or 1 would be infinite


def auroc(y: np.ndarray, p: np.ndarray) -> float:
    """Probability that a random held row gets a higher forecast than a random slipped row
    (ties count a half): the Mann-Whitney statistic from mid-ranks, as scikit-learn's
    `roc_auc_score` gives it, without its input checks (the bootstrap calls this thousands of
    times)."""
    y = np.asarray(y) == 1
    held = int(y.sum())
    slipped = len(y) - held
    if held == 0 or slipped == 0:
        return float("nan")
    ranks = rankdata(np.asarray(p, dtype=float))
    return float((ranks[y].sum() - held * (held + 1) / 2) / (held * slipped))


def brier(y: np.ndarray, p: np.ndarray) -> float:
    """Mean squared difference between forecast and outcome (0 perfect, 0.25 a coin)."""
    return float(np.mean((np.asarray(p, dtype=float) - np.asarray(y, dtype=float)) ** 2))


def log_loss(y: np.ndarray, p: np.ndarray) -> float:
    """Mean negative log-likelihood, natural log; forecasts clipped to [1e-6, 1 - 1e-6]."""
    p = np.clip(np.asarray(p, dtype=float), PROBABILITY_FLOOR, 1 - PROBABILITY_FLOOR)
    y = np.asarray(y, dtype=float)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))


def probability_bins(p: np.ndarray, n_bins: int = 10) -> np.ndarray:
    """Equal-width bin of each forecast: 0 for [0, 0.1), ..., n_bins - 1 for [0.9, 1]."""
    return np.minimum((np.asarray(p, dtype=float) * n_bins).astype(int), n_bins - 1)


def reliability_table(y: np.ndarray, p: np.ndarray, n_bins: int = 10) -> pd.DataFrame:
    """Per forecast bin: bin, mean_predicted, observed_rate, n (empty bins left out)."""
    frame = pd.DataFrame(
        {"bin": probability_bins(p, n_bins), "p": np.asarray(p, float), "y": np.asarray(y, float)}
    )
    table = frame.groupby("bin").agg(
        mean_predicted=("p", "mean"), observed_rate=("y", "mean"), n=("y", "size")
    )
    return table.reset_index()


def expected_calibration_error(y: np.ndarray, p: np.ndarray, n_bins: int = 10) -> float:
    """Row-weighted mean gap |observed rate - mean forecast| over 10 equal-width bins: the
    reliability table's, summed per bin with numpy (the bootstrap calls this thousands of
    times)."""
    p = np.asarray(p, dtype=float)
    if not np.isfinite(p).all():
        return float("nan")
    bins = probability_bins(p, n_bins)
    n = np.bincount(bins, minlength=n_bins)
    gaps = np.bincount(bins, weights=np.asarray(y, dtype=float), minlength=n_bins)
    gaps -= np.bincount(bins, weights=p, minlength=n_bins)
    return float(np.abs(gaps).sum() / n.sum())


def forecast_scores(y: np.ndarray, p: np.ndarray) -> dict[str, float]:
    """auroc, brier, log_loss and ece of one set of forecasts."""
    return {
        "auroc": auroc(y, p),
        "brier": brier(y, p),
        "log_loss": log_loss(y, p),
        "ece": expected_calibration_error(y, p),
    }


def calibration_slope_intercept(y: np.ndarray, p: np.ndarray) -> tuple[float, float]:
    """(slope, intercept) of the forecasts' calibration on the log-odds scale.

    slope: b in logit P(y) = a + b * logit(p) (1 is ideal; below 1, forecasts too extreme);
    intercept: a in logit P(y) = a + logit(p), the slope held at 1 (calibration in the large:
    0 is ideal; above 0, forecasts too low on average). NaN with one outcome only.
    """
    y = np.asarray(y, dtype=float)
    if not 0 < y.sum() < len(y):
        return float("nan"), float("nan")
    p = np.clip(np.asarray(p, dtype=float), PROBABILITY_FLOOR, 1 - PROBABILITY_FLOOR)
    logit = np.log(p / (1 - p))
    design = np.column_stack([np.ones_like(logit), logit])
    theta = newton_logistic(design, y, np.zeros(len(y)))
    offset_only = newton_logistic(np.ones((len(y), 1)), y, logit)
    return float(theta[1]), float(offset_only[0])


def newton_logistic(
    design, y, offset, *, start=None, ridge: float = 1e-8, iterations: int = 50
) -> np.ndarray:
    """Maximum-likelihood coefficients of logit P(y) = offset + design @ theta, by Newton
    steps; a tiny ridge keeps the steps defined when a column is constant or the classes are
    separable."""
    theta = np.zeros(design.shape[1]) if start is None else np.asarray(start, dtype=float)
    ridge = ridge * np.eye(design.shape[1])
    for _ in range(iterations):
        q = 1.0 / (1.0 + np.exp(-(offset + design @ theta)))
        gradient = design.T @ (q - y) + ridge @ theta
        hessian = (design * (q * (1 - q))[:, None]).T @ design + ridge
        step = np.linalg.solve(hessian, gradient)
        theta = theta - step
        if np.abs(step).max() < 1e-10:
            break
    return theta


REPLAY_METRICS = (*METRICS, "calibration_slope", "calibration_intercept")


def replay_scores(y: np.ndarray, p: np.ndarray) -> dict[str, float]:
    """forecast_scores plus the calibration slope and intercept."""
    slope, intercept = calibration_slope_intercept(y, p)
    return {**forecast_scores(y, p), "calibration_slope": slope, "calibration_intercept": intercept}


def cluster_bootstrap_scores(
    y: np.ndarray,
    forecasts: dict[str, np.ndarray],
    clusters: np.ndarray,
    *,
    n_resamples: int = 200,
    seed: int = 0,
    scorer=forecast_scores,
) -> pd.DataFrame:
    """Scores (`scorer`) of each forecast on resamples of whole clusters (e.g. services).

    Rows of one improvement are correlated month to month, so resampling rows would give
    intervals that are too narrow; every forecast is scored on the same resamples, so
    differences between models are paired. Returns one row per (resample, model).
    """
    codes, uniques = pd.factorize(pd.Series(np.asarray(clusters)))
    order = np.argsort(codes, kind="stable")
    starts = np.searchsorted(codes[order], np.arange(len(uniques)))
    sizes = np.bincount(codes, minlength=len(uniques))
    rng = np.random.default_rng(seed)
    rows = []
    for resample in range(n_resamples):
        picked = rng.integers(0, len(uniques), len(uniques))
        index = order[np.repeat(starts[picked], sizes[picked]) + _ranks_within(sizes[picked])]
        for model, p in forecasts.items():
            rows.append({"resample": resample, "model": model, **scorer(y[index], p[index])})
    return pd.DataFrame(rows)


def _ranks_within(sizes: np.ndarray) -> np.ndarray:
    """0, 1, ..., size - 1 for each block of the given sizes, concatenated."""
    ends = np.cumsum(sizes)
    return np.arange(ends[-1] if len(ends) else 0) - np.repeat(ends - sizes, sizes)
