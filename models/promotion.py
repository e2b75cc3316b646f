"""The promotion gate: a newly trained model becomes the champion only when it is no worse.

Plain functions over metrics and feature lists; `pipelines.tracking` reads the champion from
MLflow and applies the decision.
"""

from __future__ import annotations

from dataclasses import dataclass

# The backtest contender that stands for the champion's specification re-run on the same folds.
CHAMPION_CONTENDER = "champion"
AUROC_KEY = "replay.ga2m.auroc"
BRIER_KEY = "replay.ga2m.brier"


@dataclass(frozen=True)
class PromotionDecision:
    promote: bool
    reason: str


@dataclass(frozen=True)
class ChampionInfo:
    """The registered champion as the gate sees it: version, run, metrics, feature list."""

    version: str
    run_id: str
    metrics: dict[str, float]
    feature_names: list[str]
    params: dict[str, str]


@dataclass(frozen=True)
class ChampionSpec:
    """The champion, and its model specification when it differs from the candidate's."""

    info: ChampionInfo | None  # None: no champion yet
    spec: object | None = None  # its model specification, when it differs from the candidate's
    same: bool = False  # the candidate has the champion's specification


def same_specification(a, b) -> bool:
    """Same estimator parameters apart from threads (which never change a prediction)."""
    first, second = a.get_params(deep=False), b.get_params(deep=False)
    return type(a) is type(b) and {k: v for k, v in first.items() if k != "n_threads"} == {
        k: v for k, v in second.items() if k != "n_threads"
    }


def decide_promotion(
    new_metrics: dict[str, float],
    champion_metrics: dict[str, float] | None,
    new_features: list[str],
    scoring_features: list[str],
    *,
    auroc_key: str,
    brier_key: str,
    tolerance: float,
) -> PromotionDecision:
    """The promotion gate: same feature schema as scoring, and no worse than the champion.

    "No worse" means AUROC no more than `tolerance` below and Brier score no more than
    `tolerance` above the champion's, both measured by the same backtest on the same data.
    """
    if list(new_features) != list(scoring_features):
        return PromotionDecision(False, "feature schema differs from what scoring builds")
    if champion_metrics is None:
        return PromotionDecision(True, "no champion yet")
    if auroc_key not in champion_metrics or brier_key not in champion_metrics:
        return PromotionDecision(True, "champion has no comparable backtest")
    auroc_drop = champion_metrics[auroc_key] - new_metrics[auroc_key]
    brier_rise = new_metrics[brier_key] - champion_metrics[brier_key]
    if auroc_drop > tolerance:
        return PromotionDecision(
            False,
            f"AUROC {new_metrics[auroc_key]:.4f} is {auroc_drop:.4f} below the champion's "
            f"{champion_metrics[auroc_key]:.4f} (tolerance {tolerance})",
        )
    if brier_rise > tolerance:
        return PromotionDecision(
            False,
            f"Brier {new_metrics[brier_key]:.4f} is {brier_rise:.4f} above the champion's "
            f"{champion_metrics[brier_key]:.4f} (tolerance {tolerance})",
        )
    return PromotionDecision(True, "no worse than the champion on the same backtest")


def gate(
    champion: ChampionSpec,
    metrics: dict[str, float],
    feature_names: list[str],
    scoring_features: list[str],
    tolerance: float,
) -> PromotionDecision:
    """Promote only a model whose schema matches scoring and whose backtest is no worse than
    the champion's on the same data.

    The champion's figures, in order of preference: its specification re-run in this backtest
    (`replay.champion.*`); this backtest itself when the champion has the candidate's
    specification; else (a champion that could not be loaded) its stored backtest, which is
    on the same data only when the data fingerprint matches, and the reason says so.
    """
    current = champion.info
    champion_metrics, basis = None, ""
    if current is not None and current.feature_names == list(scoring_features):
        rerun = f"replay.{CHAMPION_CONTENDER}."
        if rerun + "auroc" in metrics:
            champion_metrics = {
                AUROC_KEY: metrics[rerun + "auroc"],
                BRIER_KEY: metrics[rerun + "brier"],
            }
            basis = f"champion v{current.version}'s specification re-run on the same folds"
        elif champion.same:
            champion_metrics = {AUROC_KEY: metrics[AUROC_KEY], BRIER_KEY: metrics[BRIER_KEY]}
            basis = f"same specification as champion v{current.version}, on newer data"
        else:
            champion_metrics = current.metrics
            basis = f"champion v{current.version}'s stored backtest"
    decision = decide_promotion(
        metrics,
        champion_metrics,
        feature_names,
        list(scoring_features),
        auroc_key=AUROC_KEY,
        brier_key=BRIER_KEY,
        tolerance=tolerance,
    )
    if not basis:
        return decision
    return PromotionDecision(decision.promote, f"{decision.reason} ({basis})")
