"""The interpretable hold model: a calibrated GA2M built from scikit-learn's gradient boosting.

`HoldModel` predicts, for an improvement at an as-of date, the probability that it holds over
the next six months (the outcome label of shared/spec/evidence-exports.md). It is an average
of several seeded `HistGradientBoostingClassifier` fits whose interaction constraints allow one
feature per tree, or the two features of one named pair, so the model is a sum of shape
functions of one feature and a few of two features. Features whose effect the domain knows
are monotone (`MONOTONE`), in every tree, pair terms included. Platt scaling on the averaged
log-odds (slope > 0) calibrates the probability while keeping both the ranking and the exact
additive explanation: `intercept_ + explain(X).sum(axis=1) == decision_function(X)`. The
trees are read into one lookup table per term (exact: every split threshold is a cell edge);
scoring uses the tables and `tree_decision_function` keeps the trees' own answer to check them.

The seeded fits are cross-fitted: fit k leaves out fold k (rows, or whole groups such as
improvements when `groups` is given), stops early on it, and scores it; those out-of-fold
log-odds are what Platt scaling is fitted on, so calibration never sees in-sample scores.
"""

from __future__ import annotations

import logging
from contextlib import nullcontext
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.utils.multiclass import type_of_target
from sklearn.utils.validation import check_array, check_is_fitted, column_or_1d, validate_data
from threadpoolctl import threadpool_limits

from features.columns import FEATURES, MODEL_FEATURE_NAMES
from models.metrics import newton_logistic
from models.terms import TermTable, ensemble_intercept_and_terms

log = logging.getLogger(__name__)

MODEL_FEATURES: tuple[str, ...] = MODEL_FEATURE_NAMES
"""The model's inputs: every declared feature of the evidence marked for the model (never a
claim: declared status and review classifications are what the evidence is compared with; never
actions, which show a start and not a hold; never free text, never identifiers;
`features.columns.Feature.model`)."""

# Declared directions the model does not enforce, and why.
UNCONSTRAINED_DIRECTIONS: dict[str, str] = {}

MONOTONE: dict[str, int] = {
    f.name: f.direction
    for f in FEATURES
    if f.model
    and f.direction != 0
    and f.kind != "category"
    and f.name not in UNCONSTRAINED_DIRECTIONS
}
"""Feature -> +1 (never lowers the probability of holding as it grows) or -1 (never raises it).

Taken from the domain directions in `features.columns.FEATURES`; enforced in every tree.
"""

PAIRS: tuple[tuple[str, str], ...] = (
    # Sustained at standard and spread across teams: embedding needs both at once.
    ("consecutive_months_at_standard_count", "teams_meeting_standard_share"),
    # A comfortable margin means less after repeated slips since the action.
    ("compliance_margin_latest", "slips_since_action_count"),
    # Staff who pass competency checks but overrate themselves are a known fragility.
    ("competency_pass_share_180d", "confidence_gap_points"),
)
"""The approved pairwise interactions (disjoint, so each tree belongs to exactly one term)."""

PAIR_SEPARATOR = " & "


@dataclass(frozen=True)
class BoostingConfig:
    """Tree settings resolved at fit time (see STACK_NOTES.md, "The interpretable model")."""

    max_leaf_nodes: int
    min_samples_leaf: int
    l2_regularization: float
    n_seeds: int
    use_pairs: bool


SMALL_DATA = BoostingConfig(2, 20, 0.0, 10, use_pairs=False)
LARGE_DATA = BoostingConfig(8, 100, 1.0, 5, use_pairs=True)


class HoldModel(ClassifierMixin, BaseEstimator):
    """Calibrated GA2M: P(improvement holds over the horizon) with exact additive explanations.

    Parameters
    ----------
    complexity : "auto", "small" or "large"
        "small": boosted stumps, no pairs, 10 seeds; "large": 8-leaf trees, the named pairs,
        5 seeds; "auto" picks "small" below `small_data_rows` training rows.
    monotone : dict or None
        Feature name -> +1/-1; None uses `MONOTONE`. Names absent from X are ignored.
    pairs : tuple of pairs or None
        Allowed pairwise interactions; None uses `PAIRS`. Pairs must not share a feature.
    n_seeds : int or None
        Seeded fits averaged (also the cross-fitting folds); None takes it from `complexity`.
    learning_rate, max_iter, n_iter_no_change : boosting settings (early stopping on the
        left-out fold of each seeded fit).
    calibrate : bool
        Platt scaling of the averaged log-odds on out-of-fold scores.
    small_data_rows : int
        Threshold of `complexity="auto"`.
    random_state : int
        Seed of the folds and of every boosting fit; the same seed gives the same model.
    n_threads : int or None
        OpenMP threads for boosting and scoring; None uses them all. On a shared, busy
        machine 1 is often several times faster (OpenMP threads wait on each other).
    """

    def __init__(
        self,
        *,
        complexity="auto",
        monotone=None,
        pairs=None,
        n_seeds=None,
        learning_rate=0.1,
        max_iter=1000,
        n_iter_no_change=20,
        calibrate=True,
        small_data_rows=20_000,
        random_state=0,
        n_threads=None,
    ):
        self.complexity = complexity
        self.monotone = monotone
        self.pairs = pairs
        self.n_seeds = n_seeds
        self.learning_rate = learning_rate
        self.max_iter = max_iter
        self.n_iter_no_change = n_iter_no_change
        self.calibrate = calibrate
        self.small_data_rows = small_data_rows
        self.random_state = random_state
        self.n_threads = n_threads

    def _threads(self):
        """Context limiting OpenMP threads to `n_threads` (no limit when None)."""
        if self.n_threads is None:
            return nullcontext()
        return threadpool_limits(limits=int(self.n_threads), user_api="openmp")

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.input_tags.string = True
        tags.input_tags.categorical = True
        tags.classifier_tags.multi_class = False
        return tags

    # ----------------------------------------------------------------------------- fitting

    def fit(self, X, y, groups=None):
        """Fit on rows X (features as columns) with binary outcome y (1 = held).

        `groups` (e.g. improvement_id) keeps all rows of a group in one cross-fitting fold, so
        the out-of-fold scores used for calibration never come from a fit that saw the group.
        Censored rows must be dropped before fitting.
        """
        X, y = self._validated_training_data(X, y)
        y_type = type_of_target(y, input_name="y", raise_unknown=True)
        if y_type != "binary":
            raise ValueError(
                f"Only binary classification is supported. The type of the target is {y_type}."
            )
        self.classes_ = np.unique(y)
        if len(self.classes_) < 2:
            raise ValueError("Classifier can't train when only one class is present.")
        target = (y == self.classes_[1]).astype(float)
        self.config_ = self._resolved_config(len(target))
        self.terms_features_ = self._terms(self.feature_names_)
        self.terms_ = tuple(PAIR_SEPARATOR.join(t) for t in self.terms_features_)
        self.matrix_columns_ = self._matrix_columns()
        matrix = self._encoded(X)
        folds = self._fold_of_each_row(len(target), groups)
        with self._threads():
            self.estimators_, out_of_fold = self._fit_seeded_ensemble(matrix, target, folds)
        self.n_iter_ = max(int(est.n_iter_) for est in self.estimators_)
        self.platt_ = self._fitted_platt(out_of_fold, target)
        self._compile_tables(matrix)
        log.info(
            "fitted HoldModel on %d rows: %d terms, %d seeds, platt slope %.3f",
            len(target),
            len(self.terms_),
            len(self.estimators_),
            self.platt_[0],
        )
        return self

    def _validated_training_data(self, X, y):
        """X as a DataFrame with string column names (records names and categorical columns)."""
        if y is None:
            raise ValueError("requires y to be passed, but the target y is None")
        if not isinstance(X, pd.DataFrame):
            X = check_array(X, dtype=None, ensure_all_finite="allow-nan")
        validate_data(self, X, reset=True, skip_check_array=True)
        frame = self._as_frame(X, reset=True)
        if pd.isna(pd.Series(np.asarray(y).ravel())).any():
            raise ValueError("y has missing labels: drop censored rows before fitting")
        y = column_or_1d(np.asarray(y), warn=True)
        if len(y) != len(frame):
            raise ValueError(f"X has {len(frame)} rows but y has {len(y)}")
        return frame, y

    def _as_frame(self, X, *, reset: bool) -> pd.DataFrame:
        """The input as a DataFrame; on fit also records feature names and categorical columns."""
        if isinstance(X, pd.DataFrame):
            frame = X.set_axis([str(c) for c in X.columns], axis=1)
        else:
            array = check_array(X, dtype=None, ensure_all_finite="allow-nan", ensure_min_samples=1)
            frame = pd.DataFrame(array, columns=[f"x{i}" for i in range(array.shape[1])])
            if array.dtype.kind in "fiub":
                frame = frame.astype(float)
        if reset:
            self.feature_names_ = tuple(str(c) for c in frame.columns)
            self.categories_ = {
                str(c): tuple(sorted(frame[c].dropna().astype(str).unique()))
                for c in frame.columns
                if not pd.api.types.is_numeric_dtype(frame[c])
            }
        elif tuple(str(c) for c in frame.columns) != self.feature_names_:
            if not set(self.feature_names_) <= {str(c) for c in frame.columns}:
                raise ValueError("X lacks features the model was fitted on")
            frame = frame[list(self.feature_names_)]
        if len(frame) == 0:
            raise ValueError("X has 0 samples")
        return frame

    def _matrix_columns(self) -> tuple[str, ...]:
        """Feature order of the boosting matrix: categorical features first.

        HistGradientBoosting moves categorical columns to the front internally but does not
        remap `interaction_cst`; giving it that order already keeps every index meaning the
        same feature in the constraints, the trees and the tables.
        """
        names = self.feature_names_
        return tuple(n for n in names if n in self.categories_) + tuple(
            n for n in names if n not in self.categories_
        )

    def _encoded(self, frame: pd.DataFrame) -> np.ndarray:
        """Float matrix in `matrix_columns_` order: numbers as float (missing NaN), categories
        as training codes (NaN when missing or unseen in training)."""
        columns = []
        for name in self.matrix_columns_:
            values = frame[name]
            if name in self.categories_:
                codes = pd.Categorical(
                    values.astype("str"), categories=self.categories_[name]
                ).codes
                columns.append(np.where(codes < 0, np.nan, codes.astype(float)))
            else:
                numeric = pd.to_numeric(values, errors="raise")
                columns.append(np.asarray(numeric.to_numpy(dtype=float, na_value=np.nan)))
        matrix = np.column_stack(columns) if columns else np.empty((len(frame), 0))
        if np.isinf(matrix).any():
            raise ValueError("X contains infinity")
        return matrix

    def _resolved_config(self, n_rows: int) -> BoostingConfig:
        if self.complexity not in ("auto", "small", "large"):
            raise ValueError(f"complexity must be auto, small or large, not {self.complexity!r}")
        small = self.complexity == "small" or (
            self.complexity == "auto" and n_rows < self.small_data_rows
        )
        base = SMALL_DATA if small else LARGE_DATA
        n_seeds = base.n_seeds if self.n_seeds is None else int(self.n_seeds)
        if n_seeds < 1:
            raise ValueError("n_seeds must be at least 1")
        return BoostingConfig(
            base.max_leaf_nodes,
            base.min_samples_leaf,
            base.l2_regularization,
            n_seeds,
            base.use_pairs,
        )

    def _terms(self, names: tuple[str, ...]) -> tuple[tuple[str, ...], ...]:
        """One main-effect term per feature, then the allowed pairs present in X."""
        pairs = PAIRS if self.pairs is None else tuple(tuple(p) for p in self.pairs)
        present = [p for p in pairs if set(p) <= set(names)] if self.config_.use_pairs else []
        flat = [f for p in present for f in p]
        if len(flat) != len(set(flat)):
            raise ValueError(f"pairs must not share a feature: {present}")
        return tuple((n,) for n in names) + tuple(tuple(p) for p in present)

    def enforced_monotone(self) -> dict[str, int]:
        """The monotone constraints actually enforced, by feature name."""
        check_is_fitted(self)
        declared = MONOTONE if self.monotone is None else dict(self.monotone)
        return {
            n: int(np.sign(declared[n]))
            for n in self.feature_names_
            if n in declared and n not in self.categories_ and declared[n] != 0
        }

    def _fold_of_each_row(self, n_rows: int, groups) -> np.ndarray:
        """Cross-fitting fold of each row; whole groups share a fold when groups are given."""
        n_folds = self.config_.n_seeds
        rng = np.random.RandomState(self.random_state)
        if groups is None:
            return rng.permutation(n_rows) % n_folds
        codes, uniques = pd.factorize(pd.Series(np.asarray(groups)), sort=True)
        fold_of_group = rng.permutation(len(uniques)) % n_folds
        return fold_of_group[codes]

    def _boosting(self, seed: int, early_stopping: bool) -> HistGradientBoostingClassifier:
        names = self.matrix_columns_
        monotone = self.enforced_monotone()
        index = {n: i for i, n in enumerate(names)}
        groups = [[index[t[0]]] for t in self.terms_features_ if len(t) == 1]
        groups += [[index[f] for f in t] for t in self.terms_features_ if len(t) == 2]
        return HistGradientBoostingClassifier(
            learning_rate=self.learning_rate,
            max_iter=self.max_iter,
            max_leaf_nodes=self.config_.max_leaf_nodes,
            min_samples_leaf=self.config_.min_samples_leaf,
            l2_regularization=self.config_.l2_regularization,
            monotonic_cst=[monotone.get(n, 0) for n in names],
            interaction_cst=groups,
            categorical_features=[n in self.categories_ for n in names],
            early_stopping=early_stopping,
            n_iter_no_change=self.n_iter_no_change,
            scoring="loss",
            random_state=seed,
        )

    def _fit_seeded_ensemble(self, matrix, target, folds):
        """Fit one booster per fold (leaving it out); return them and the out-of-fold log-odds."""
        n_folds = self.config_.n_seeds
        if n_folds == 1:
            booster = self._boosting(self.random_state, early_stopping=False)
            booster.fit(_learnable(matrix), target)
            return [booster], booster.decision_function(matrix)
        estimators, out_of_fold = [], np.zeros(len(target))
        for k in range(n_folds):
            held_out = folds == k
            training = ~held_out
            if np.unique(target[training]).size < 2:
                # Too few improvements of one outcome for this fold to leave any out: fit it on
                # every row (its rows' calibration scores are then in-sample).
                log.warning("fold %d leaves one outcome only; fitted on every row", k)
                training, held_out = np.ones_like(held_out), held_out
            # Early stopping needs a held-out part whose outcomes the fit has seen.
            stop_early = (
                bool(held_out.any())
                and np.isin(np.unique(target[held_out]), target[training]).all()
            )
            booster = self._boosting(self.random_state + k, early_stopping=stop_early)
            fit_params = (
                {"X_val": matrix[held_out], "y_val": target[held_out]} if stop_early else {}
            )
            booster.fit(_learnable(matrix[training]), target[training], **fit_params)
            if held_out.any():
                out_of_fold[held_out] = booster.decision_function(matrix[held_out])
            estimators.append(booster)
        return estimators, out_of_fold

    def _fitted_platt(self, raw: np.ndarray, target: np.ndarray) -> tuple[float, float]:
        """(slope, offset) of Platt scaling on log-odds; slope kept positive to keep the ranking."""
        if not self.calibrate:
            return 1.0, 0.0
        slope, offset = platt_parameters(raw, target)
        if not slope > 0:
            log.warning("Platt slope %.3g is not positive: calibration skipped", slope)
            return 1.0, 0.0
        return slope, offset

    def _compile_tables(self, matrix: np.ndarray) -> None:
        """Exact lookup tables per term, centred on the training rows and calibrated."""
        raw_intercept, raw_tables = ensemble_intercept_and_terms(
            self.estimators_, self.matrix_columns_, self.categories_, self.terms_features_
        )
        slope, offset = self.platt_
        index = {n: i for i, n in enumerate(self.matrix_columns_)}
        tables, centre_total, counts = [], 0.0, []
        for features, table in zip(self.terms_features_, raw_tables, strict=True):
            columns = [matrix[:, index[f]] for f in features]
            centre = float(table.lookup(columns).mean())
            centre_total += centre
            tables.append(table.shifted(slope, centre))
            cells = np.ravel_multi_index(table.cell_index(columns), table.values.shape)
            counts.append(
                np.bincount(cells, minlength=table.values.size).reshape(table.values.shape)
            )
        self.intercept_ = slope * (raw_intercept + centre_total) + offset
        self.tables_ = tuple(tables)
        self.cell_counts_ = tuple(counts)

    # ----------------------------------------------------------------------------- scoring

    def decision_function(self, X) -> np.ndarray:
        """Calibrated log-odds of holding: the intercept plus each term's table value.

        The tables hold the averaged trees exactly (every split threshold is a cell edge), so
        this equals `tree_decision_function` to floating-point precision (tested) while
        costing one lookup per term instead of a walk down thousands of trees: 6,800 rows
        score in milliseconds, not 1.5 s.
        """
        check_is_fitted(self)
        matrix = self._encoded(self._input_frame(X))
        return self.intercept_ + self._term_values(matrix).sum(axis=1)

    def tree_decision_function(self, X) -> np.ndarray:
        """The same log-odds computed by the boosted trees themselves (the reference)."""
        check_is_fitted(self)
        matrix = self._encoded(self._input_frame(X))
        with self._threads():
            raw = np.mean([est.decision_function(matrix) for est in self.estimators_], axis=0)
        slope, offset = self.platt_
        return slope * raw + offset

    def _term_values(self, matrix: np.ndarray) -> np.ndarray:
        """(rows, terms) contributions of every term, looked up in its table."""
        index = {n: i for i, n in enumerate(self.matrix_columns_)}
        values = np.empty((matrix.shape[0], len(self.tables_)))
        for k, (features, table) in enumerate(zip(self.terms_features_, self.tables_, strict=True)):
            values[:, k] = table.lookup([matrix[:, index[f]] for f in features])
        return values

    def predict_proba(self, X) -> np.ndarray:
        """[P(not held), P(held)] per row."""
        p_hold = 1.0 / (1.0 + np.exp(-self.decision_function(X)))
        return np.column_stack([1.0 - p_hold, p_hold])

    def predict(self, X) -> np.ndarray:
        """The more likely class per row."""
        check_is_fitted(self)
        return self.classes_[(self.decision_function(X) > 0).astype(int)]

    def _input_frame(self, X) -> pd.DataFrame:
        """The model's columns of X; other columns (keys, free text) are never read."""
        if isinstance(X, pd.DataFrame) and set(self.feature_names_) <= set(map(str, X.columns)):
            X = X.set_axis([str(c) for c in X.columns], axis=1)[list(self.feature_names_)]
        elif not isinstance(X, pd.DataFrame):
            X = check_array(X, dtype=None, ensure_all_finite="allow-nan")
        validate_data(self, X, reset=False, skip_check_array=True)
        return self._as_frame(X, reset=False)

    # ----------------------------------------------------------------------------- explaining

    def explain(self, X) -> pd.DataFrame:
        """Contribution of every term to each row's calibrated log-odds, relative to the average.

        One column per term (`terms_`); `intercept_ + row sum` equals `decision_function` to
        floating-point precision. Missing evidence has its own learned contribution.
        """
        check_is_fitted(self)
        frame = self._input_frame(X)
        values = self._term_values(self._encoded(frame))
        return pd.DataFrame(values, index=frame.index, columns=list(self.terms_))

    def shape_functions(self) -> pd.DataFrame:
        """Every term's contribution (log-odds) on every cell, missing cells included.

        Columns: term, feature, x (plot position), x_label, feature2, x2, x2_label,
        contribution, n_train (training rows in the cell). For categorical axes x is the
        category code and x_label the category; missing cells have x NaN, x_label 'missing'.
        """
        check_is_fitted(self)
        frames = [
            _shape_frame(table, counts)
            for table, counts in zip(self.tables_, self.cell_counts_, strict=True)
        ]
        return pd.concat(frames, ignore_index=True)


def _shape_frame(table: TermTable, counts: np.ndarray) -> pd.DataFrame:
    """One term's table as long rows (one per cell or cell pair)."""
    first = table.axes[0]
    second = table.axes[1] if len(table.axes) == 2 else None
    n1 = first.n_cells
    n2 = second.n_cells if second else 1
    i, j = np.meshgrid(np.arange(n1), np.arange(n2), indexing="ij")
    i, j = i.ravel(), j.ravel()
    return pd.DataFrame(
        {
            "term": table.name,
            "feature": first.feature,
            "x": first.plot_values()[i],
            "x_label": np.asarray(first.labels(), dtype=object)[i],
            "feature2": second.feature if second else None,
            "x2": second.plot_values()[j] if second else np.nan,
            "x2_label": np.asarray(second.labels(), dtype=object)[j] if second else None,
            "contribution": table.values.reshape(n1 * n2),
            "n_train": counts.reshape(n1 * n2),
        }
    ).astype({"feature2": "str", "x_label": "str", "x2_label": "str"})


def platt_parameters(
    raw: np.ndarray, target: np.ndarray, iterations: int = 50
) -> tuple[float, float]:
    """Maximum-likelihood (slope, offset) of P = sigmoid(slope * raw + offset), by Newton steps.

    A tiny ridge keeps the steps defined when raw is constant or the classes are separable.
    """
    design = np.column_stack([raw, np.ones_like(raw)])
    theta = newton_logistic(
        design, target, np.zeros(len(raw)), start=[1.0, 0.0], ridge=1e-6, iterations=iterations
    )
    return float(theta[0]), float(theta[1])


def _learnable(matrix: np.ndarray) -> np.ndarray:
    """The training matrix with every column that has no value at all (e.g. a 90-day change
    in the first months of a young export) set to one constant: such a column cannot be split
    on either way, but scikit-learn's binning refuses a column without any value ("window
    shape cannot be larger than input array shape"). Its later values then change nothing."""
    empty = np.isnan(matrix).all(axis=0)
    if not empty.any():
        return matrix
    filled = matrix.copy()
    filled[:, empty] = 0.0
    return filled
