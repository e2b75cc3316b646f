"""The model card: what the hold model is, what it was trained on, how well it does, its limits.

Markdown for a governance pack; built from the fitted model, its backtest and a summary of the
training snapshots. Nothing here reads or writes files.
"""

from __future__ import annotations

import pandas as pd

from features.columns import AS_OF, FEATURES_BY_NAME, HELD, IMPROVEMENT_ID, LOCATION_ID
from models.backtest import BacktestResult

KNOWN_LIMITS = (
    "The model learns from the provider group's own history: a group with few improvements "
    "whose labels have been observed gets a model close to the average hold rate.",
    "A forecast is about the next six calendar months of the monthly compliance results and "
    "serious theme incidents (the outcome label); it says nothing about aspects of care that "
    "are not checked.",
    "Rows whose six-month window has too little evidence (censored) are left out of training "
    "and evaluation: the model has not learned from improvements that stop being checked.",
    "Contributions are relative to the average improvement in the training data, not causal "
    "effects: a factor that raises the probability is associated with holding, it may not "
    "cause it.",
    "Monotone constraints impose the domain's expected direction on the features listed; "
    "if the data disagree, the model flattens that effect rather than reversing it.",
    "On simulated data the gap to the ground-truth probability is the part of the outcome the "
    "evidence cannot see (the latent state of each improvement); no model can close it.",
)


def snapshots_summary(snapshots: pd.DataFrame) -> dict:
    """Data window and counts of a training snapshot frame."""
    labelled = snapshots[snapshots[HELD].notna()]
    return {
        "as_of_first": pd.Timestamp(snapshots[AS_OF].min()).date().isoformat(),
        "as_of_last": pd.Timestamp(snapshots[AS_OF].max()).date().isoformat(),
        "rows": len(snapshots),
        "labelled_rows": len(labelled),
        "censored_share": round(1 - len(labelled) / max(len(snapshots), 1), 3),
        "improvements": int(snapshots[IMPROVEMENT_ID].nunique()),
        "services": int(snapshots[LOCATION_ID].nunique()) if LOCATION_ID in snapshots else None,
        "hold_rate": round(float(labelled[HELD].astype(float).mean()), 3),
    }


def term_importance(model) -> pd.DataFrame:
    """Mean absolute contribution (log-odds) of each term over the training rows."""
    shapes = model.shape_functions()
    weighted = shapes.assign(weighted=shapes["contribution"].abs() * shapes["n_train"])
    totals = weighted.groupby("term", sort=False)[["weighted", "n_train"]].sum()
    importance = (totals["weighted"] / totals["n_train"]).rename("mean_abs_contribution")
    return importance.sort_values(ascending=False).reset_index()


def model_card(model, backtest: BacktestResult | None, summary: dict) -> str:
    """Markdown model card of a fitted HoldModel."""
    sections = [
        "# Model card: probability that an improvement holds",
        _purpose(),
        _data_section(summary),
        _model_section(model),
        _features_section(model),
        _metrics_section(backtest),
        "## Known limits\n\n" + "\n".join(f"- {limit}" for limit in KNOWN_LIMITS),
    ]
    return "\n\n".join(sections) + "\n"


def _purpose() -> str:
    return (
        "## Purpose and label\n\n"
        "For an improvement at a month-end as-of date, the probability that it **holds** over "
        "the next 6 calendar months (shared/spec/evidence-exports.md, outcome label v1): no "
        "two consecutive months of the window with monthly compliance below the improvement's "
        "standard, and no theme incident of moderate harm or worse at the location. Rows "
        "whose window has fewer than two months with a compliance value and no qualifying "
        "incident are censored: left out of training and evaluation, never counted as held. "
        "Features use only rows dated on or before the as-of date."
    )


def _data_section(summary: dict) -> str:
    lines = [f"- {key.replace('_', ' ')}: {value}" for key, value in summary.items()]
    return "## Training data\n\n" + "\n".join(lines)


def _model_section(model) -> str:
    config = model.config_
    slope, offset = model.platt_
    pairs = [t for t in model.terms_ if " & " in t]
    return (
        "## Model\n\n"
        "A generalised additive model with pairwise interactions (GA2M): the average of "
        f"{config.n_seeds} seeded scikit-learn HistGradientBoostingClassifier fits "
        f"(trees of {config.max_leaf_nodes} leaves, at least {config.min_samples_leaf} rows "
        f"per leaf, L2 {config.l2_regularization}), each tree restricted to one feature or "
        "one approved pair, monotone where the domain knows the direction. Each fit leaves "
        "out one fold of improvements; Platt scaling on those out-of-fold log-odds "
        f"(slope {slope:.3f}, offset {offset:.3f}) calibrates the probability and keeps both "
        "the ranking and the exact additive explanation.\n\n"
        f"- pairs: {', '.join(pairs) if pairs else 'none (small training set)'}\n"
        f"- intercept (log-odds of the average improvement): {model.intercept_:.3f}"
    )


def _features_section(model) -> str:
    monotone = model.enforced_monotone()
    importance = term_importance(model)
    rows = [
        "| term | kind | monotone | mean abs contribution |",
        "| --- | --- | --- | --- |",
    ]
    for term, value in zip(importance["term"], importance["mean_abs_contribution"], strict=True):
        features = term.split(" & ")
        kind = "pair" if len(features) == 2 else _kind(features[0])
        direction = ", ".join(
            f"{'+' if monotone[f] > 0 else '-'} {f}"
            if len(features) == 2
            else ("raises" if monotone[f] > 0 else "lowers")
            for f in features
            if f in monotone
        )
        rows.append(f"| {term} | {kind} | {direction or '-'} | {value:.3f} |")
    return "## Features and monotone constraints\n\n" + "\n".join(rows)


def _kind(feature: str) -> str:
    known = FEATURES_BY_NAME.get(feature)
    return known.kind if known else "numeric"


def _metrics_section(backtest: BacktestResult | None) -> str:
    if backtest is None:
        return "## Metrics\n\nNo backtest was run."
    pooled = backtest.pooled
    rows = [
        "| model | n | AUROC | Brier | log loss | ECE | fit s | score s |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for record in pooled.to_dict("records"):
        cells = [
            f"{record[m]:.3f} ({record[m + '_low']:.3f}-{record[m + '_high']:.3f})"
            for m in ("auroc", "brier", "log_loss", "ece")
        ]
        rows.append(
            f"| {record['model']} | {record['n']} | "
            + " | ".join(cells)
            + f" | {record['fit_seconds']:.1f} | {record['score_seconds']:.2f} |"
        )
    folds = backtest.folds
    window = (
        f"Rolling origin over {len(folds)} cutoffs "
        f"({', '.join(pd.to_datetime(folds['cutoff']).dt.date.astype(str))}); training rows' "
        "label windows end by the cutoff, test rows are the as-of dates of the horizon that "
        "starts at it. Intervals: 95% bootstrap over whole improvements."
    )
    return "## Metrics (backtest, pooled over cutoffs)\n\n" + window + "\n\n" + "\n".join(rows)
