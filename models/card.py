"""The model card: what the hold model is, what it was trained on, how well it does, its limits.

Markdown for a governance pack; built from the fitted model, its replay evaluation
(`models.replay`) and a summary of the training snapshots. Nothing here reads or writes files.
"""

from __future__ import annotations

import pandas as pd

from features.columns import AS_OF, FEATURES_BY_NAME, HELD, IMPROVEMENT_ID, LOCATION_ID
from models.replay import TIME_SPLIT, ReplayResult

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
    "The evaluation rests on simulated provider groups (benchmarks/results/model.md) and on "
    "this group's own history (the replay below); there is no real-world validation of the "
    "probability yet.",
    "Claims are never inputs: what leaders declare and what reviews conclude are compared with "
    "the probability, so declaring more cannot raise it.",
    "The band [p_hold_low, p_hold_high] was sized on simulated groups, where the true "
    "probability is known, so that it holds it about 80% of the time; on real data the true "
    "probability is never observed and the band cannot be checked directly.",
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


def model_card(model, replay: ReplayResult | None, summary: dict) -> str:
    """Markdown model card of a fitted HoldModel."""
    sections = [
        "# Model card: probability that an improvement holds",
        _purpose(),
        _data_section(summary),
        _model_section(model),
        _features_section(model),
        _metrics_section(replay),
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


def _metrics_section(replay: ReplayResult | None) -> str:
    if replay is None:
        return "## Metrics\n\nNo replay evaluation was run."
    cutoffs = sorted(pd.to_datetime(replay.cutoffs["cutoff"]).dt.date.astype(str).unique())
    lines = [
        "## Metrics (replay evaluation)",
        "",
        f"At each of {len(cutoffs)} cutoffs ({', '.join(cutoffs)}) the model was trained on "
        "the export as it stood then and scored the improvements eligible at the cutoff as the "
        "nightly run does; the outcome is the label of the six months after it. Beside the time "
        "split, the unseen-services split trains without a quarter of the services and scores "
        "only those. Intervals: 95% bootstrap over services.",
        "",
        "### Improvements whose leaders claim embedded or closed (the over-claim check)",
        "",
        "| split | model | claimed | slipped | AUROC | Brier | ECE | flagged (p < 0.5) | "
        "of which slipped |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in replay.overclaim.to_dict("records"):
        lines.append(
            f"| {r['split']} | {r['model']} | {r['claimed']} | {r['slipped']} | "
            f"{r['auroc']:.3f} | {r['brier']:.3f} | {r['ece']:.3f} | {r['flagged']} | "
            f"{r['flagged_slipped']} |"
        )
    lines += [
        "",
        "### Every eligible improvement",
        "",
        "| split | model | n | AUROC | Brier | ECE | calibration slope | calibration intercept |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in replay.pooled.to_dict("records"):
        cells = " | ".join(
            f"{r[m]:.3f} ({r[m + '_low']:.3f}-{r[m + '_high']:.3f})"
            for m in ("auroc", "brier", "ece", "calibration_slope", "calibration_intercept")
        )
        lines.append(f"| {r['split']} | {r['model']} | {r['n']} | {cells} |")
    band = replay.band[replay.band["split"] == TIME_SPLIT]
    if len(band) and "coverage" in band:
        lines += [
            "",
            f"The 80% band held the true probability for {band['coverage'].iloc[0]:.1%} of the "
            f"rows (median width {band['median_width'].iloc[0]:.3f}).",
        ]
    elif len(band):
        lines += ["", f"Median width of the 80% band: {band['median_width'].iloc[0]:.3f}."]
    return "\n".join(lines)
