"""HoldModel: exact additive explanations, monotone terms, calibration, determinism."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from models.ga2m import MODEL_FEATURES, MONOTONE, PAIRS, HoldModel, platt_parameters
from simulator.synthetic import synthetic_snapshots


def _model(**params) -> HoldModel:
    # One OpenMP thread: tests share two busy cores, where threads mostly wait on each other.
    return HoldModel(n_threads=1, **params)


def _labelled(n_improvements=120, n_months=12, seed=0):
    snapshots, _ = synthetic_snapshots(n_improvements, n_months, seed=seed)
    rows = snapshots[snapshots["held"].notna()].reset_index(drop=True)
    return rows[list(MODEL_FEATURES)], rows["held"].astype(int).to_numpy(), rows


@pytest.fixture(scope="module")
def data():
    return _labelled()


@pytest.fixture(scope="module", params=["small", "large"])
def fitted(request, data):
    X, y, rows = data
    model = _model(complexity=request.param, n_seeds=3, random_state=7)
    return model.fit(X, y, groups=rows["improvement_id"])


def _odd_rows(X: pd.DataFrame) -> pd.DataFrame:
    """Rows with missing evidence everywhere and a category never seen in training."""
    odd = X.head(3).copy()
    odd.loc[odd.index[0], list(MONOTONE)] = np.nan
    odd.loc[odd.index[1], "theme"] = "governance"  # not among the synthetic training themes
    odd.loc[odd.index[2], "severity"] = pd.NA
    return odd


def test_explanations_add_up_to_the_models_log_odds(fitted, data):
    X = pd.concat([data[0], _odd_rows(data[0])], ignore_index=True)
    contributions = fitted.explain(X)
    total = fitted.intercept_ + contributions.sum(axis=1).to_numpy()
    assert list(contributions.columns) == list(fitted.terms_)
    np.testing.assert_allclose(total, fitted.decision_function(X), rtol=0, atol=1e-9)
    # and the tables are the trees: the boosted trees' own log-odds agree to 1e-9
    np.testing.assert_allclose(total, fitted.tree_decision_function(X), rtol=0, atol=1e-9)


def test_contributions_are_centred_on_training_rows(fitted, data):
    means = fitted.explain(data[0]).mean()
    np.testing.assert_allclose(means.to_numpy(), 0.0, atol=1e-9)


@pytest.mark.parametrize(("complexity", "has_pairs"), [("small", False), ("large", True)])
def test_pairs_are_terms_only_with_larger_trees(data, complexity, has_pairs):
    X, y, _ = data
    model = _model(complexity=complexity, n_seeds=2, max_iter=30).fit(X, y)
    pair_terms = {" & ".join(p) for p in PAIRS}
    assert (pair_terms <= set(model.terms_)) is has_pairs
    assert set(MODEL_FEATURES) <= set(model.terms_)


def _direction_violations(table: pd.DataFrame, direction: int, along: str, across: str | None):
    """Wrong-direction steps of a term along one numeric axis, for each cell of the other."""
    cells = table[table[along + "_label"] != "missing"]
    # by the other axis's cell itself, not its printed label (two bins could print alike)
    groups = cells.groupby(cells[across].fillna(np.inf), sort=False) if across else [(None, cells)]
    steps = [
        np.diff(g.sort_values(along)["contribution"].to_numpy()) * direction for _, g in groups
    ]
    return int(sum((s < -1e-12).sum() for s in steps))


def test_every_monotone_term_steps_only_the_declared_way(fitted):
    shapes = fitted.shape_functions()
    monotone = fitted.enforced_monotone()
    checked = 0
    for term, table in shapes.groupby("term", sort=False):
        first, second = table["feature"].iloc[0], table["feature2"].iloc[0]
        if first in monotone:
            across = None if pd.isna(second) else "x2"
            assert _direction_violations(table, monotone[first], "x", across) == 0, term
            checked += 1
        if not pd.isna(second) and second in monotone:
            assert _direction_violations(table, monotone[second], "x2", "x") == 0, term
            checked += 1
    assert checked >= len(monotone)


def test_individual_conditional_expectation_curves_are_monotone(fitted, data):
    # Real rows, each monotone feature swept over its observed deciles (others kept as they are).
    X = data[0].head(25)
    violations = {}
    for feature, direction in fitted.enforced_monotone().items():
        grid = np.unique(np.nanquantile(X[feature].to_numpy(dtype=float), np.linspace(0, 1, 11)))
        swept = pd.concat([X.assign(**{feature: value}) for value in grid], ignore_index=True)
        curves = fitted.decision_function(swept).reshape(len(grid), len(X))
        violations[feature] = int((np.diff(curves, axis=0) * direction < -1e-12).sum())
    assert len(violations) == len(MONOTONE)
    assert violations == dict.fromkeys(violations, 0)


def test_shape_functions_show_the_missing_cell_of_every_feature(fitted):
    shapes = fitted.shape_functions()
    mains = shapes[shapes["feature2"].isna()]
    with_missing = mains.loc[mains["x_label"] == "missing", "term"]
    assert set(with_missing) == set(MODEL_FEATURES)
    assert {"term", "x", "x2", "contribution", "n_train"} <= set(shapes.columns)


def test_a_missing_value_gets_the_missing_cells_contribution(fitted, data):
    X = data[0].head(1).assign(compliance_margin_latest=np.nan)
    shapes = fitted.shape_functions()
    term = "compliance_margin_latest"
    if term not in fitted.terms_ or shapes.query("term == @term").empty:
        pytest.skip("margin is in a pair term for this configuration")
    missing = shapes.query("term == @term and x_label == 'missing'")["contribution"].item()
    assert fitted.explain(X)[term].item() == pytest.approx(missing, abs=1e-12)


def test_calibration_keeps_the_ranking(data):
    X, y, rows = data
    raw = _model(n_seeds=3, calibrate=False, random_state=3).fit(X, y)
    calibrated = _model(n_seeds=3, calibrate=True, random_state=3).fit(X, y)
    assert calibrated.platt_[0] > 0
    raw_order = np.argsort(raw.decision_function(X), kind="stable")
    calibrated_order = np.argsort(calibrated.decision_function(X), kind="stable")
    np.testing.assert_array_equal(raw_order, calibrated_order)


def test_same_seed_same_model_and_another_seed_differs(data):
    X, y, _ = data
    first = _model(n_seeds=2, random_state=11).fit(X, y).decision_function(X)
    again = _model(n_seeds=2, random_state=11).fit(X, y).decision_function(X)
    other = _model(n_seeds=2, random_state=12).fit(X, y).decision_function(X)
    np.testing.assert_array_equal(first, again)
    assert np.abs(first - other).max() > 0


def test_fit_and_explain_leave_their_inputs_unchanged(data):
    X, y, _ = data
    X_before, y_before = X.copy(), y.copy()
    model = _model(n_seeds=2, max_iter=20).fit(X, y)
    model.explain(X)
    pd.testing.assert_frame_equal(X, X_before)
    np.testing.assert_array_equal(y, y_before)


def test_censored_labels_are_refused():
    snapshots, _ = synthetic_snapshots(20, 6, seed=1, censored_share=0.3)
    held = snapshots["held"].to_numpy(dtype=float, na_value=np.nan)
    with pytest.raises(ValueError, match="censored"):
        _model(n_seeds=2).fit(snapshots[list(MODEL_FEATURES)], held)


@pytest.mark.parametrize(
    ("low_outcomes", "high_outcomes"),
    [([0, 0, 1], [1, 1, 1, 0]), ([0, 1], [1, 1, 0, 1, 1]), ([0, 0, 0, 1], [0, 1])],
)
def test_platt_matches_the_observed_rate_of_two_scores(low_outcomes, high_outcomes):
    # With two distinct scores, maximum likelihood reproduces each score's observed rate.
    raw = np.array([-1.0] * len(low_outcomes) + [2.0] * len(high_outcomes))
    target = np.array(low_outcomes + high_outcomes, dtype=float)
    slope, offset = platt_parameters(raw, target)
    p = 1 / (1 + np.exp(-(slope * np.array([-1.0, 2.0]) + offset)))
    np.testing.assert_allclose(p, [np.mean(low_outcomes), np.mean(high_outcomes)], atol=1e-5)


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.permutations(range(30)))
def test_explanations_do_not_depend_on_row_order(fitted, data, order):
    X = data[0].head(30)
    expected = fitted.explain(X).iloc[list(order)]
    np.testing.assert_array_equal(
        fitted.explain(X.iloc[list(order)]).to_numpy(), expected.to_numpy()
    )


def test_bin_labels_tell_close_thresholds_apart():
    from models.terms import distinct_numbers

    assert distinct_numbers([0.5, 2.25, 10.0]) == ["0.5", "2.25", "10"]
    close = distinct_numbers([-0.10001, -0.10004, -0.1])
    assert len(set(close)) == 3 and close[0] == "-0.10001"


def test_table_scores_equal_the_trees_on_rows_never_seen(fitted):
    unseen, _, _ = _labelled(n_improvements=60, seed=5)
    np.testing.assert_allclose(
        fitted.decision_function(unseen), fitted.tree_decision_function(unseen), rtol=0, atol=1e-9
    )


@pytest.mark.parametrize("n_seeds", [1, 3])
def test_a_feature_with_no_value_in_training_fits_and_changes_nothing(data, n_seeds):
    """A young export has no 90-day change in its first months: in a replay cutoff's training
    rows (or one cross-fitting fold's) a feature can be missing on every row. scikit-learn's
    binning refuses such a column; the model fits, and later values of it change nothing."""
    X, y, rows = data
    empty = "theme_sentiment_change_90d"
    assert empty in MODEL_FEATURES
    young = X.assign(**{empty: np.nan})
    model = _model(n_seeds=n_seeds, random_state=2).fit(young, y, groups=rows["improvement_id"])
    later = young.head(50).assign(**{empty: np.linspace(-1, 1, 50)})
    np.testing.assert_allclose(
        model.predict_proba(later)[:, 1], model.predict_proba(young.head(50))[:, 1]
    )
