"""Synthetic training snapshots with a known probability of holding, for tests and benchmarks.

The frame has the columns of `features.snapshots.build_training_snapshots` (keys, every
declared feature, `held`), but the features are drawn directly rather than built from an
export: a handful of features drive a known log-odds (additive, one pair interaction, one
categorical effect, a learned effect of missing evidence), the rest are noise. An unobserved
per-improvement effect makes rows of one improvement correlated, as real monthly snapshots are,
and keeps the truth out of reach of any model. Use the demo simulator for realistic data.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from features.columns import AS_OF, FEATURES, HELD, IMPROVEMENT_ID, LOCATION_ID

CATEGORY_LEVELS = {
    "severity": ("routine", "significant", "serious"),
    "origin": ("internal_audit", "incident", "complaint", "inspection"),
    "theme": ("documentation", "medicines", "falls", "pressure_care"),
    "key_question": ("safe", "effective", "caring", "responsive", "well_led"),
    "service_type": ("care_home_nursing", "care_home_residential", "domiciliary_care"),
    "declared_status": ("none", "emerging", "embedded", "closed"),
    "latest_review_classification": ("none", "emerging", "embedded", "not_assured"),
}


def synthetic_snapshots(
    n_improvements: int = 400, n_months: int = 24, *, seed: int = 0, censored_share: float = 0.1
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(snapshots, truth): month-end rows per improvement and their true P(held).

    `truth` has improvement_id, as_of, p_hold_true for every row, censored or not.
    """
    rng = np.random.default_rng(seed)
    n = n_improvements * n_months
    improvement = np.repeat(np.arange(n_improvements), n_months)
    month = np.tile(np.arange(n_months), n_improvements)
    features = _drawn_features(rng, n, month)
    latent = rng.normal(0.0, 0.6, n_improvements)[improvement]
    p_hold = 1.0 / (1.0 + np.exp(-(true_log_odds(features) + latent)))
    held = pd.array((rng.random(n) < p_hold).astype(int), dtype="Int64")
    held[rng.random(n) < censored_share] = pd.NA
    month_ends = pd.date_range("2023-01-31", periods=n_months, freq="ME")
    keys = pd.DataFrame(
        {
            IMPROVEMENT_ID: [f"imp-{i:05d}" for i in improvement],
            AS_OF: month_ends[month],
            LOCATION_ID: [f"1-{100000000 + i // 3}" for i in improvement],
        }
    )
    snapshots = pd.concat([keys, features], axis=1).assign(**{HELD: held})
    truth = keys[[IMPROVEMENT_ID, AS_OF]].assign(p_hold_true=p_hold)
    return snapshots, truth


def true_log_odds(features: pd.DataFrame) -> np.ndarray:
    """The known log-odds of holding (before the unobserved per-improvement effect)."""
    months = features["consecutive_months_at_standard_count"].to_numpy(dtype=float)
    margin = features["compliance_margin_latest"].to_numpy(dtype=float)
    spread = features["teams_meeting_standard_share"].to_numpy(dtype=float)
    incidents = features["serious_theme_incidents_90d_count"].to_numpy(dtype=float)
    serious = (features["severity"] == "serious").to_numpy()
    no_spread_evidence = np.isnan(spread)
    spread_filled = np.where(no_spread_evidence, 0.3, spread)
    return (
        -0.4
        + 1.6 * np.tanh(months / 4.0)
        + 6.0 * np.clip(margin, -0.15, 0.15)
        + 1.0 * spread_filled
        + 0.8 * np.tanh(months / 4.0) * spread_filled  # sustained and spread reinforce
        - 0.5 * np.minimum(incidents, 3)
        - 0.4 * serious
        - 0.3 * no_spread_evidence
    )


def _drawn_features(rng: np.random.Generator, n: int, month: np.ndarray) -> pd.DataFrame:
    """Every declared feature: the driving ones with plausible ranges, the rest noise."""
    columns: dict[str, object] = {}
    for feature in FEATURES:
        if feature.kind == "category":
            levels = CATEGORY_LEVELS.get(feature.name)
            if levels is None:
                columns[feature.name] = rng.random(n).round(2)  # 'standard' is numeric
            else:
                columns[feature.name] = pd.array(rng.choice(levels, n), dtype="str")
        elif feature.kind == "flag":
            columns[feature.name] = np.where(rng.random(n) < 0.2, np.nan, rng.integers(0, 2, n))
        else:
            columns[feature.name] = rng.normal(0.0, 1.0, n)
    columns["standard"] = rng.choice([0.8, 0.85, 0.9, 0.95], n)
    columns["consecutive_months_at_standard_count"] = np.minimum(
        rng.poisson(1.0 + month / 4.0), month + 1
    ).astype(float)
    columns["compliance_margin_latest"] = rng.normal(0.0, 0.08, n)
    spread = rng.beta(3, 2, n)
    columns["teams_meeting_standard_share"] = np.where(rng.random(n) < 0.15, np.nan, spread)
    columns["serious_theme_incidents_90d_count"] = rng.poisson(0.4, n).astype(float)
    return pd.DataFrame(columns)
