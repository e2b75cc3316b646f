"""The replay's scores and baselines, by hand: forecast scores, reliability, the bootstrap over
clusters, and the group-rate baselines (models.metrics, models.baselines)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from models.baselines import fit_group_rate, fixed_stage_rates
from models.metrics import (
    cluster_bootstrap_scores,
    expected_calibration_error,
    forecast_scores,
    reliability_table,
)


def test_group_rate_baseline_by_hand():
    train = pd.DataFrame({"declared_status": ["a", "a", "a", "b"], "held": [1, 1, 0, 0]})
    test = pd.DataFrame({"declared_status": ["a", "b", "c", None]})
    score = fit_group_rate("declared_status", prior_rows=0.0)(train, seed=0)
    np.testing.assert_allclose(score(test), [2 / 3, 0.0, 0.5, 0.5])
    shrunk = fit_group_rate("declared_status", prior_rows=2.0)(train, seed=0)
    np.testing.assert_allclose(shrunk(test)[:2], [(2 + 1) / 5, (0 + 1) / 3])


@pytest.mark.parametrize(
    ("y", "p", "auroc", "brier", "ece"),
    [
        ([0, 0, 1, 1], [0.1, 0.2, 0.8, 0.9], 1.0, (0.01 + 0.04 + 0.04 + 0.01) / 4, 0.15),
        ([1, 0, 1, 0], [0.5, 0.5, 0.5, 0.5], 0.5, 0.25, 0.0),
        ([0, 1, 0, 1], [0.9, 0.1, 0.8, 0.2], 0.0, (0.81 + 0.81 + 0.64 + 0.64) / 4, 0.85),
    ],
)
def test_forecast_scores_by_hand(y, p, auroc, brier, ece):
    scores = forecast_scores(np.array(y), np.array(p))
    assert scores["auroc"] == pytest.approx(auroc)
    assert scores["brier"] == pytest.approx(brier)
    assert scores["ece"] == pytest.approx(ece)


def test_reliability_table_and_ece_by_hand():
    y = np.array([0, 1, 1, 1, 0])
    p = np.array([0.05, 0.15, 0.95, 0.91, 1.0])
    table = reliability_table(y, p)
    assert list(table["bin"]) == [0, 1, 9]
    assert list(table["n"]) == [1, 1, 3]
    assert table["observed_rate"].tolist() == pytest.approx([0, 1, 2 / 3])
    expected = (1 * 0.05 + 1 * 0.85 + 3 * abs(2 / 3 - (0.95 + 0.91 + 1.0) / 3)) / 5
    assert expected_calibration_error(y, p) == pytest.approx(expected)


@pytest.mark.parametrize("seed", range(6))
def test_fast_scores_equal_scikit_learns_auroc_and_the_reliability_tables_ece(seed):
    """The bootstrap's numpy AUROC and ECE give what roc_auc_score and the per-bin table give,
    ties, bin edges (0.1, 1.0) and one-outcome samples included."""
    from sklearn.metrics import roc_auc_score

    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 400))
    p = np.round(rng.random(n), int(rng.integers(1, 4)))  # rounding makes ties and bin edges
    p[: n // 10] = 1.0
    y = (rng.random(n) < p).astype(int)
    table = reliability_table(y, p)
    by_table = ((table["observed_rate"] - table["mean_predicted"]).abs() * table["n"]).sum() / n
    assert expected_calibration_error(y, p) == pytest.approx(by_table, abs=1e-12)
    scores = forecast_scores(y, p)
    if 0 < y.sum() < n:
        assert scores["auroc"] == pytest.approx(roc_auc_score(y, p), abs=1e-12)
    else:
        assert np.isnan(scores["auroc"])
    assert np.isnan(forecast_scores(np.ones(5, int), p[:5])["auroc"])
    assert np.isnan(expected_calibration_error(y, np.where(np.arange(n) == 0, np.nan, p)))


def test_cluster_bootstrap_resamples_whole_clusters():
    # Cluster "a" is all held and perfectly forecast, "b" all slipped: every resample's
    # Brier score is 0 or a mix of whole clusters, never a split of one.
    y = np.array([1, 1, 1, 0, 0])
    p = np.array([1.0, 1.0, 1.0, 0.0, 0.0])
    clusters = np.array(["a", "a", "a", "b", "b"])
    scores = cluster_bootstrap_scores(y, {"m": p}, clusters, n_resamples=30, seed=1)
    assert len(scores) == 30
    assert (scores["brier"] == 0).all()


def test_fixed_stage_rates_score_each_stage_by_its_share_and_learn_nothing():
    from contracts.params import RankingParams
    from models.baselines import rules_stage
    from simulator.synthetic import synthetic_snapshots

    rows, _ = synthetic_snapshots(12, 12, seed=1)
    shares = RankingParams().rules_hold_shares
    fit = fixed_stage_rates(shares)
    expected = rules_stage(rows).map(shares).to_numpy(dtype=float)
    np.testing.assert_allclose(fit(rows.iloc[:0], seed=0)(rows), expected)
    np.testing.assert_allclose(fit(rows, seed=3)(rows), expected)
    assert set(np.round(expected, 2)) <= {round(v, 2) for v in shares.values()}
