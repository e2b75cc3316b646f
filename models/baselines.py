"""The replay's contenders beside the GA2M, on equal footing: same training rows, same rows scored.

- `logistic_compliance`: logistic regression on a handful of compliance features (what an
  analyst would fit first);
- `hgb_unconstrained` and `ebm`: a black-box gradient-boosting model and InterpretML's EBM,
  each cross-fitted by improvement and Platt-scaled on its out-of-fold log-odds, exactly as the
  GA2M is calibrated;
- `rules_stage`: the hold rate of the rules' stage in training;
- `claims_alone`: the hold rate of the claim in force in training, a comparator only (claims
  are never model inputs);
- `ground_truth`: the simulator's true probability (the ceiling; simulated data only).

Each entry is a fitter `(train, seed) -> scorer`, and a scorer `(rows) -> P(held)`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np
import pandas as pd

from features.columns import (
    COMPLIANCE_MARGIN_LATEST,
    CONSECUTIVE_MONTHS_AT_STANDARD_COUNT,
    DECLARED_STATUS,
    HELD,
    IMPROVEMENT_ID,
    KEY_COLUMNS,
    REVIEW_CYCLES_SINCE_ACTION_COUNT,
    SLIPS_SINCE_ACTION_COUNT,
    TEAMS_MEETING_STANDARD_SHARE,
)
from models.ga2m import MODEL_FEATURES, platt_parameters

Scorer = Callable[[pd.DataFrame], np.ndarray]
Fitter = Callable[[pd.DataFrame, int], Scorer]

COMPLIANCE_FEATURES = (
    COMPLIANCE_MARGIN_LATEST,
    CONSECUTIVE_MONTHS_AT_STANDARD_COUNT,
    TEAMS_MEETING_STANDARD_SHARE,
    SLIPS_SINCE_ACTION_COUNT,
    REVIEW_CYCLES_SINCE_ACTION_COUNT,
)
"""The logistic baseline's inputs: latest margin, months at standard, spread, slips, cycles."""

CROSS_FIT_FOLDS = 5
LOGIT_FLOOR = 1e-6


def fit_logistic_compliance(train: pd.DataFrame, seed: int) -> Scorer:
    """Logistic regression on `COMPLIANCE_FEATURES` (median-imputed with missing flags)."""
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    model = make_pipeline(
        SimpleImputer(strategy="median", add_indicator=True, keep_empty_features=True),
        StandardScaler(),
        LogisticRegression(max_iter=1000),
    )
    model.fit(train[list(COMPLIANCE_FEATURES)], train[HELD].astype(int).to_numpy())
    return lambda rows: model.predict_proba(rows[list(COMPLIANCE_FEATURES)])[:, 1]


def cross_fitted(make_model: Callable[[int], object], prepare, folds: int = CROSS_FIT_FOLDS):
    """Fitter of `make_model(seed)` cross-fitted over improvement folds and Platt-scaled on
    its out-of-fold log-odds; it scores with the mean log-odds of the fold models, recalibrated.
    `prepare(train)` returns a function turning rows into the model's input."""

    def fit(train: pd.DataFrame, seed: int) -> Scorer:
        to_input = prepare(train)
        X, y = to_input(train), train[HELD].astype(int).to_numpy()
        codes, uniques = pd.factorize(train[IMPROVEMENT_ID])
        fold = (np.random.RandomState(seed).permutation(len(uniques)) % folds)[codes]
        out_of_fold, models = np.zeros(len(y)), []
        for k in range(folds):
            held_out = fold == k
            model = make_model(seed + k).fit(X[~held_out], y[~held_out])
            out_of_fold[held_out] = _logit(model.predict_proba(X[held_out])[:, 1])
            models.append(model)
        slope, offset = platt_parameters(out_of_fold, y.astype(float))

        def score(rows: pd.DataFrame) -> np.ndarray:
            X_rows = to_input(rows)
            raw = np.mean([_logit(m.predict_proba(X_rows)[:, 1]) for m in models], axis=0)
            return 1.0 / (1.0 + np.exp(-(slope * raw + offset)))

        return score

    return fit


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, LOGIT_FLOOR, 1 - LOGIT_FLOOR)
    return np.log(p / (1 - p))


def _categorical_input(train: pd.DataFrame):
    X = train[list(MODEL_FEATURES)]
    text = [c for c in X.columns if not pd.api.types.is_numeric_dtype(X[c])]
    categories = {c: sorted(X[c].dropna().astype("str").unique()) for c in text}
    return lambda rows: _with_categories(rows, categories)


def _hgb(seed: int):
    from sklearn.ensemble import HistGradientBoostingClassifier

    return HistGradientBoostingClassifier(random_state=seed, categorical_features="from_dtype")


def _ebm(seed: int):
    from interpret.glassbox import ExplainableBoostingClassifier  # a dev dependency

    return ExplainableBoostingClassifier(random_state=seed, n_jobs=1)


def _object_text_input(train: pd.DataFrame):
    return lambda rows: _as_object_text(rows[list(MODEL_FEATURES)])


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


def fixed_stage_rates(shares: Mapping[str, float]) -> Fitter:
    """Fitter of the rules' own ranking (`[ranking] rules_hold_shares`): each row's chance of
    holding is the share of improvements at its stage that held, measured on simulated groups
    and fixed in the configuration. It learns nothing from the training rows."""

    def fit(train: pd.DataFrame, seed: int) -> Scorer:
        return lambda test: rules_stage(test).map(dict(shares)).to_numpy(dtype=float)

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


def _as_object_text(X: pd.DataFrame) -> pd.DataFrame:
    """Text columns as object arrays, missing as the word 'missing' (InterpretML's input)."""
    text = [c for c in X.columns if not pd.api.types.is_numeric_dtype(X[c])]
    return X.assign(**{c: X[c].astype("object").where(X[c].notna(), "missing") for c in text})


def fit_ground_truth(truth: pd.DataFrame | None) -> Fitter:
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


def replay_contenders(truth: pd.DataFrame | None) -> dict[str, Fitter]:
    """Contender name -> fitter, in the order the tables show them."""
    return {
        "logistic_compliance": fit_logistic_compliance,
        "hgb_unconstrained": cross_fitted(_hgb, _categorical_input),
        "ebm": cross_fitted(_ebm, _object_text_input, folds=3),
        "rules_stage": fit_group_rate(rules_stage),
        "claims_alone": fit_group_rate(DECLARED_STATUS),
        "ground_truth": fit_ground_truth(truth),
    }


DEFAULT_REPLAY_MODELS = (
    "logistic_compliance",
    "hgb_unconstrained",
    "rules_stage",
    "claims_alone",
    "ground_truth",
)
"""The contenders a training run replays (EBM costs hours at 300 services: benchmarks only)."""
