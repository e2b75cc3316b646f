"""An uncertainty band around the probability of holding, from bootstrap refits.

`BandedHoldModel` is the model that is registered and scored: the point model (`HoldModel`)
gives `p_hold` and the exact explanation; `n_refits` further `HoldModel`s, each fitted on a
bootstrap resample of whole improvements (all as-of rows of an improvement together, since
they are not independent), measure how far the answer moves with the training data: the
standard deviation `s` of their log-odds for the row (`refit_spread`).

The band is set on the log-odds scale around the point estimate `l`:
`[l + z_low * w, l + z_high * w]` with `w = spread_scale * sqrt(s**2 + spread_floor**2)` and
`z` the normal quantiles of `quantiles` (10% and 90%: an 80% band). With scale 1 and floor 0
it is the plain bootstrap band, which only says how much the answer depends on which
improvements happened to be in the training data, and held the simulator's true probability
far less often than 80% (docs/model.md, "The band"): the model's own error (an additive model
of the evidence, not the latent state) is larger than its sampling spread. `spread_scale` and
`spread_floor` (`contracts.params.ModelSettings`) were chosen on simulated provider groups so
that the 80% band holds the true probability about 80% of the time, and checked on others.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import norm
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.utils.validation import check_is_fitted

from models.ga2m import HoldModel

REFIT_SEEDS = 2  # seeded fits averaged inside each refit: enough to steady it, cheap to fit
RESAMPLE_TRIES = 100  # draws of a resample with both outcomes before the band gives up


class BandedHoldModel(ClassifierMixin, BaseEstimator):
    """A HoldModel plus bootstrap refits over groups (improvements) for a probability band.

    Parameters
    ----------
    model : HoldModel or None
        The point model's settings (cloned); None uses HoldModel(random_state=random_state).
    n_refits : int
        Bootstrap refits behind the band; 0 gives a band equal to the point estimate.
    quantiles : (low, high)
        Probabilities of the band's ends under a normal spread on the log-odds scale.
    spread_scale : float
        Multiplies the band's spread (1: the refits' own spread).
    spread_floor : float
        Log-odds spread added in quadrature to the refits' (the model error the refits do
        not see).
    random_state : int
        Seed of the resampling and of every refit.
    """

    def __init__(
        self,
        model=None,
        *,
        n_refits=8,
        quantiles=(0.1, 0.9),
        spread_scale=1.0,
        spread_floor=0.0,
        random_state=0,
    ):
        self.model = model
        self.n_refits = n_refits
        self.quantiles = quantiles
        self.spread_scale = spread_scale
        self.spread_floor = spread_floor
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
        unique, y = np.unique(groups), np.asarray(y)
        for _ in range(RESAMPLE_TRIES):
            chosen = rng.choice(unique, size=len(unique), replace=True)
            counts = pd.Series(chosen).value_counts()
            repeats = pd.Series(groups).map(counts).fillna(0).astype(int).to_numpy()
            rows = np.repeat(np.arange(len(X)), repeats)
            # With few improvements of one outcome a resample can miss them all: draw again
            # (a resample with both outcomes is the one a refit can learn from).
            if np.unique(y[rows]).size == np.unique(y).size:
                break
        else:
            raise ValueError(
                f"{RESAMPLE_TRIES} resamples of the {len(unique)} improvements each left one "
                "outcome out: too few improvements of one outcome for the band"
            )
        # Copies of a group get distinct names so cross-fitting keeps each copy whole.
        copy_number = pd.Series(rows).groupby(rows).cumcount().to_numpy()
        resampled_groups = pd.Series(groups[rows]).astype(str) + "#" + copy_number.astype(str)
        refit = clone(base).set_params(random_state=self.random_state + b + 1, n_seeds=REFIT_SEEDS)
        return refit.fit(_take(X, rows), y[rows], groups=resampled_groups.to_numpy())

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

    def refit_spread(self, X) -> np.ndarray:
        """Standard deviation of the refits' log-odds for each row (0 with fewer than two)."""
        check_is_fitted(self, "model_")
        if len(self.refits_) < 2:
            return np.zeros(len(X))
        draws = np.column_stack([m.decision_function(X) for m in self.refits_])
        return draws.std(axis=1, ddof=1)

    def band(self, X) -> pd.DataFrame:
        """p_hold_low and p_hold_high per row (see the module docstring); it always holds the
        point estimate."""
        check_is_fitted(self, "model_")
        point = self.decision_function(X)
        spread = self.spread_scale * np.sqrt(self.refit_spread(X) ** 2 + self.spread_floor**2)
        z_low, z_high = norm.ppf(np.asarray(self.quantiles, dtype=float))
        low = _sigmoid(point + min(z_low, 0.0) * spread)
        high = _sigmoid(point + max(z_high, 0.0) * spread)
        return pd.DataFrame({"p_hold_low": low, "p_hold_high": high})


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _take(X, rows: np.ndarray):
    return X.iloc[rows].reset_index(drop=True) if hasattr(X, "iloc") else X[rows]
