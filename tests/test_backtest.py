"""Rolling-origin backtest: folds never overlap their label windows; scores and baselines."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from models.backtest import (
    backtest_folds,
    default_cutoffs,
    fit_group_rate,
    fold_masks,
    label_window_end,
    rolling_origin_backtest,
)
from models.metrics import (
    cluster_bootstrap_scores,
    expected_calibration_error,
    forecast_scores,
    reliability_table,
)
from simulator.synthetic import synthetic_snapshots

MONTHS_2024 = pd.Series(pd.date_range("2024-01-31", periods=12, freq="ME"))


@pytest.mark.parametrize(
    ("as_of", "horizon", "window_end"),
    [
        ("2024-01-31", 6, "2024-07-31"),
        ("2024-01-15", 6, "2024-07-31"),  # the window is whole months after the month of as_of
        ("2024-02-29", 1, "2024-03-31"),
        ("2024-12-31", 3, "2025-03-31"),
    ],
)
def test_label_window_ends_horizon_months_after_the_month_of_as_of(as_of, horizon, window_end):
    ends = label_window_end(pd.Series([pd.Timestamp(as_of)]), horizon)
    assert ends.iloc[0] == pd.Timestamp(window_end)


@pytest.mark.parametrize(
    ("cutoff", "horizon", "test_months", "train_months", "test_months_expected"),
    [
        ("2024-09-30", 6, 6, [1, 2, 3], [9, 10, 11, 12]),
        ("2024-09-30", 3, 2, [1, 2, 3, 4, 5, 6], [9, 10]),
        ("2024-06-30", 6, 1, [], [6]),
        ("2024-12-31", 1, 6, list(range(1, 12)), [12]),
    ],
)
def test_fold_masks_by_hand(cutoff, horizon, test_months, train_months, test_months_expected):
    train, test = fold_masks(MONTHS_2024, pd.Timestamp(cutoff), horizon, test_months)
    assert list(MONTHS_2024[train].dt.month) == train_months
    assert list(MONTHS_2024[test].dt.month) == test_months_expected


def test_default_cutoffs_by_hand():
    as_of = pd.Series(pd.date_range("2023-01-31", "2024-12-31", freq="ME"))
    # First allowed: six training months (Jan-Jun 2023) whose windows close by Dec 2023;
    # last: the test period Jul-Dec 2024 ends with the last as-of date.
    assert default_cutoffs(as_of, 6) == [pd.Timestamp("2024-01-31"), pd.Timestamp("2024-07-31")]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.integers(0, 47), min_size=1, max_size=40),
    st.integers(0, 47),
    st.integers(1, 12),
    st.integers(1, 12),
)
def test_no_training_label_window_reaches_a_test_as_of_or_window(
    months, cutoff_month, horizon, test_months
):
    month_ends = pd.date_range("2022-01-31", periods=48, freq="ME")
    as_of = pd.Series(month_ends[months])
    cutoff = month_ends[cutoff_month]
    train, test = fold_masks(as_of, cutoff, horizon, test_months)
    assert not (train & test).any()
    if train.any() and test.any():
        train_windows_end = label_window_end(as_of[train], horizon).max()
        test_windows_start = as_of[test].min() + pd.offsets.MonthBegin(1)  # month after as_of
        assert train_windows_end <= cutoff <= as_of[test].min()
        assert train_windows_end < test_windows_start


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


def test_cluster_bootstrap_resamples_whole_clusters():
    # Cluster "a" is all held and perfectly forecast, "b" all slipped: every resample's
    # Brier score is 0 or a mix of whole clusters, never a split of one.
    y = np.array([1, 1, 1, 0, 0])
    p = np.array([1.0, 1.0, 1.0, 0.0, 0.0])
    clusters = np.array(["a", "a", "a", "b", "b"])
    scores = cluster_bootstrap_scores(y, {"m": p}, clusters, n_resamples=30, seed=1)
    assert len(scores) == 30
    assert (scores["brier"] == 0).all()


@pytest.fixture(scope="module")
def backtest():
    snapshots, truth = synthetic_snapshots(120, 24, seed=4)
    result = rolling_origin_backtest(
        snapshots,
        truth=truth,
        models=("ga2m", "declared_status", "ground_truth"),
        n_resamples=40,
    )
    return snapshots, result


def test_backtest_tables_have_the_promised_columns(backtest):
    _, result = backtest
    assert {
        "model",
        "cutoff",
        "n",
        "auroc",
        "brier",
        "log_loss",
        "ece",
        "fit_seconds",
        "score_seconds",
    } <= set(result.metrics.columns)
    assert {"model", "bin", "mean_predicted", "observed_rate", "n"} == set(result.reliability)
    assert set(result.metrics["model"]) == {"ga2m", "declared_status", "ground_truth"}
    assert len(result.folds) == result.metrics["cutoff"].nunique() >= 2


def test_backtest_folds_never_overlap_their_label_windows(backtest):
    _, result = backtest
    folds = result.folds
    assert (folds["train_label_window_end_last"] <= folds["cutoff"]).all()
    assert (folds["cutoff"] <= folds["test_as_of_first"]).all()
    # Test periods of successive cutoffs are disjoint, so pooled rows are counted once.
    assert (folds["test_as_of_last"].iloc[:-1].to_numpy() < folds["cutoff"].iloc[1:]).all()
    assert not result.predictions.duplicated(["improvement_id", "as_of", "cutoff"]).any()


def test_pooled_intervals_hold_the_point_estimate(backtest):
    _, result = backtest
    pooled = result.pooled.set_index("model")
    for metric in ("auroc", "brier", "log_loss", "ece"):
        assert (pooled[f"{metric}_low"] <= pooled[metric] + 1e-12).all()
        assert (pooled[metric] <= pooled[f"{metric}_high"] + 1e-12).all()


def test_model_ranks_between_the_declared_status_and_the_ceiling(backtest):
    _, result = backtest
    auroc = result.pooled.set_index("model")["auroc"]
    assert auroc["declared_status"] < auroc["ga2m"] < auroc["ground_truth"]
    own = result.differences.query("model == 'ga2m'")
    assert (own[["difference", "low", "high"]].to_numpy() == 0).all()


def test_backtest_leaves_the_snapshots_unchanged(backtest):
    snapshots, _ = backtest
    again, _ = synthetic_snapshots(120, 24, seed=4)
    pd.testing.assert_frame_equal(snapshots, again)


def test_backtest_folds_describe_only_labelled_rows():
    snapshots, _ = synthetic_snapshots(30, 18, seed=2, censored_share=0.5)
    folds = backtest_folds(snapshots, [pd.Timestamp("2024-01-31")])
    labelled = snapshots[snapshots["held"].notna()]
    expected_train = (label_window_end(labelled["as_of"], 6) <= pd.Timestamp("2024-01-31")).sum()
    assert folds["n_train"].item() == expected_train


@pytest.mark.slow
def test_black_box_and_rules_baselines_run_on_the_same_rows():
    # InterpretML's EBM (minutes per fit on a busy machine) runs in benchmarks/bench_model.py.
    snapshots, _ = synthetic_snapshots(60, 18, seed=5)
    result = rolling_origin_backtest(
        snapshots, models=("hgb_unconstrained", "rules_stage"), n_resamples=10
    )
    counts = result.metrics.groupby("cutoff")["n"].nunique()
    assert (counts == 1).all()
    assert result.metrics[["auroc", "brier"]].notna().all().all()
