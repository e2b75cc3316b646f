"""Plain-words factors, shape-function figures, reliability figure and the model card."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from models.card import model_card, snapshots_summary, term_importance
from models.explain import phrases, top_factors
from models.ga2m import MODEL_FEATURES, HoldModel
from models.metrics import reliability_table
from report.charts import reliability_figure, shape_functions_figure
from simulator.synthetic import synthetic_snapshots


@pytest.fixture(scope="module")
def fitted():
    snapshots, _ = synthetic_snapshots(100, 12, seed=3)
    rows = snapshots[snapshots["held"].notna()]
    X = rows[list(MODEL_FEATURES)]
    model = HoldModel(n_seeds=3, n_threads=1, random_state=1).fit(X, rows["held"].astype(int))
    return model, X, snapshots


@pytest.mark.parametrize(
    ("feature", "value", "expected"),
    [
        ("consecutive_months_at_standard_count", 3.0, "3 consecutive months at standard"),
        ("teams_meeting_standard_share", 0.5, "50% of teams meeting the standard"),
        ("spc_assurance_fail_flag", 1.0, "SPC limits wholly below standard: yes"),
        (
            "serious_theme_incidents_90d_count",
            np.nan,
            "no evidence for serious theme incidents 90d count",
        ),
        ("compliance_slope_3m_per_month", 0.0123, "3-month compliance trend 0.012 per month"),
    ],
)
def test_phrases_by_hand(feature, value, expected):
    assert phrases(feature, pd.Series([value])).item() == expected


def test_categorical_phrase():
    assert phrases("severity", pd.Series(["serious"], dtype="str")).item() == "severity serious"


def test_top_factors_follow_the_signs_and_sizes_of_the_contributions(fitted):
    model, X, _ = fitted
    rows = X.head(20)
    factors = top_factors(model, rows, n=2)
    contributions = model.explain(rows)
    assert list(factors.columns) == ["top_factors", "raising", "lowering"]
    assert factors.index.equals(rows.index)
    for (_, row), (_, words) in zip(contributions.iterrows(), factors.iterrows(), strict=True):
        up = row[row >= 0.01].sort_values(ascending=False).head(2)
        assert words["raising"].count(";") == max(len(up) - 1, 0)
        if len(up):
            biggest = up.index[0].split(" & ")[0]
            expected = phrases(biggest, rows.loc[[row.name], biggest]).item()
            assert words["raising"].startswith(expected)
        assert words["top_factors"].count("(raises)") + words["top_factors"].count("(lowers)") <= 2


def test_a_missing_value_is_explained_as_missing_evidence(fitted):
    model, X, _ = fitted
    row = X.head(1).assign(teams_meeting_standard_share=np.nan)
    factors = top_factors(model, row, n=60)
    contribution = model.explain(row)["teams_meeting_standard_share"].item()
    if abs(contribution) >= 0.01:
        assert "no evidence for teams meeting standard share" in factors["top_factors"].item()


def test_free_text_never_reaches_the_explanations(fitted):
    model, X, _ = fitted
    rows = X.head(3).assign(text="Mrs Example said the night staff were kind")
    factors = top_factors(model, rows)
    assert not factors.apply(lambda c: c.str.contains("Example")).any().any()


def test_one_shape_panel_per_term(fitted):
    model, _, _ = fitted
    figure = shape_functions_figure(model.shape_functions())
    titled = [ax.get_title() for ax in figure.axes if ax.axison]
    assert len(titled) == len(model.terms_)


def test_card_and_reliability_figure(fitted):
    model, _, snapshots = fitted
    rng = np.random.default_rng(3)
    p = rng.uniform(0.05, 0.95, 400)
    reliability = reliability_table((rng.random(400) < p).astype(int), p).assign(model="m")
    card = model_card(model, None, snapshots_summary(snapshots))
    for heading in (
        "Purpose and label",
        "Training data",
        "Model",
        "monotone",
        "Metrics",
        "Known limits",
    ):
        assert heading in card
    assert "No replay evaluation was run" in card
    assert "no real-world validation" in card
    assert "consecutive_months_at_standard_count | numeric | raises" in card
    assert isinstance(reliability_figure(reliability), Figure)
    importance = term_importance(model)
    assert (importance["mean_abs_contribution"] >= 0).all()
    assert importance["mean_abs_contribution"].is_monotonic_decreasing
