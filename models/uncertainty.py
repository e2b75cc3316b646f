"""An uncertainty band around the probability of holding, from bootstrap refits.

`BandedHoldModel` is the model that is registered and scored: the point model (`HoldModel`)
gives `p_hold` and the exact explanation; `n_refits` further `HoldModel`s, each fitted on a
bootstrap resample of whole improvements (all as-of rows of an improvement together, since
they are not independent), give the band: `p_hold_low` / `p_hold_high` are the `quantiles` of
the refits' probabilities for the same row. The band says how much the answer depends on which
improvements happened to be in the training data; it does not include the label's own noise.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.utils.validation import check_is_fitted

from models.ga2m import HoldModel

REFIT_SEEDS = 2  # seeded fits averaged inside each refit: enough to steady it, cheap to fit


class BandedHoldModel(ClassifierMixin, BaseEstimator):
    """A HoldModel plus bootstrap refits over groups (improvements) for a probability band.

    Parameters
    ----------
    model : HoldModel or None
        The point model's settings (cloned); None uses HoldModel(random_state=random_state).
    n_refits : int
        Bootstrap refits behind the band; 0 gives a band equal to the point estimate.
    quantiles : (low, high)
        Quantiles of the refits' probabilities reported as the band.
    random_state : int
        Seed of the resampling and of every refit.
    """

    def __init__(self, model=None, *, n_refits=8, quantiles=(0.1, 0.9), random_state=0):
        self.model = model
        self.n_refits = n_refits
        self.quantiles = quantiles
        self.random_state = random_state

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.input_tags.string = True
        tags.input_tags.categorical = True
        tags.classifier_tags.multi_class = False
        return tags

    def fit(self, X, y, groups=None):
        """Fit the point model and the refits. `groups` (improvement_id) defines resampling."""
        base = self.model if self.model is not None else HoldModel(random_state=self.random_state)
        self.model_ = clone(base).fit(X, y, groups=groups)
        self.classes_ = self.model_.classes_
        self.n_features_in_ = self.model_.n_features_in_
        if hasattr(self.model_, "feature_names_in_"):
            self.feature_names_in_ = self.model_.feature_names_in_
        if not hasattr(X, "iloc"):
            X = np.asarray(X)
        groups = np.arange(len(X)) if groups is None else np.asarray(groups)
        rng = np.random.default_rng(self.random_state)
        self.refits_ = [self._refit(base, X, y, groups, rng, b) for b in range(self.n_refits)]
        return self

    def _refit(self, base, X, y, groups, rng, b):
        unique = np.unique(groups)
        chosen = rng.choice(unique, size=len(unique), replace=True)
        counts = pd.Series(chosen).value_counts()
        repeats = pd.Series(groups).map(counts).fillna(0).astype(int).to_numpy()
        rows = np.repeat(np.arange(len(X)), repeats)
        # Copies of a group get distinct names so cross-fitting keeps each copy whole.
        copy_number = pd.Series(rows).groupby(rows).cumcount().to_numpy()
        resampled_groups = pd.Series(groups[rows]).astype(str) + "#" + copy_number.astype(str)
        refit = clone(base).set_params(random_state=self.random_state + b + 1, n_seeds=REFIT_SEEDS)
        return refit.fit(_take(X, rows), np.asarray(y)[rows], groups=resampled_groups.to_numpy())

    def predict_proba(self, X) -> np.ndarray:
        check_is_fitted(self, "model_")
        return self.model_.predict_proba(X)

    def decision_function(self, X) -> np.ndarray:
        check_is_fitted(self, "model_")
        return self.model_.decision_function(X)

    def predict(self, X) -> np.ndarray:
        check_is_fitted(self, "model_")
        return self.model_.predict(X)

    def explain(self, X) -> pd.DataFrame:
        """Exact log-odds contributions of the point model (see HoldModel.explain)."""
        check_is_fitted(self, "model_")
        return self.model_.explain(X)

    def band(self, X) -> pd.DataFrame:
        """p_hold_low and p_hold_high per row; the point estimate when there are no refits."""
        check_is_fitted(self, "model_")
        point = self.predict_proba(X)[:, 1]
        if not self.refits_:
            return pd.DataFrame({"p_hold_low": point, "p_hold_high": point})
        draws = np.column_stack([m.predict_proba(X)[:, 1] for m in self.refits_])
        low, high = np.quantile(draws, self.quantiles, axis=1)
        # The band always contains the point estimate it is reported with.
        return pd.DataFrame(
            {"p_hold_low": np.minimum(low, point), "p_hold_high": np.maximum(high, point)}
        )


def _take(X, rows: np.ndarray):
    return X.iloc[rows].reset_index(drop=True) if hasattr(X, "iloc") else X[rows]
