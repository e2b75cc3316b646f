"""Exact per-term lookup tables compiled from fitted HistGradientBoosting trees.

Under interaction constraints of one group per feature plus disjoint named pairs, every tree of
a fitted `HistGradientBoostingClassifier` splits on one feature or on the two features of one
pair. The model's raw log-odds is therefore the baseline plus a sum of terms, each term being
the sum of the trees that use exactly its features. A term's value is piecewise constant
between the split thresholds of its trees, so evaluating its trees once on one point per
interval (plus the missing value, plus every category) gives a lookup table that reproduces
the trees exactly. Explaining a row is then one `searchsorted` and one fancy index per term.

This module reads the fitted trees through scikit-learn's private `_predictors` and
`_bin_mapper` attributes (pinned to scikit-learn 1.9 in pyproject.toml); that access lives
only in `tree_groups` and `tree_values` below.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Axis:
    """One feature's cells in a term table.

    Numeric: cells are (-inf, t0], (t0, t1], ..., (t_last, inf), then missing (NaN).
    Categorical: cells are the category codes 0..n-1, then missing (NaN or unseen category).
    """

    feature: str
    categorical: bool
    thresholds: np.ndarray  # sorted split thresholds (numeric); empty for categorical
    categories: tuple[str, ...] = ()

    @property
    def n_cells(self) -> int:
        """Cells including the final missing cell."""
        if self.categorical:
            return len(self.categories) + 1
        return len(self.thresholds) + 2

    def representatives(self) -> np.ndarray:
        """One value inside each cell, in cell order, at which the trees are evaluated."""
        if self.categorical:
            inner = np.arange(len(self.categories), dtype=float)
        else:
            inner = np.append(self.thresholds, np.inf)  # x <= t goes left in every tree
        return np.append(inner, np.nan)

    def cells(self, values: np.ndarray) -> np.ndarray:
        """Cell index of each encoded value (NaN and unseen categories go to the missing cell)."""
        missing = np.isnan(values)
        if self.categorical:
            cell = np.where(missing, 0, values).astype(np.intp)
        else:
            cell = np.searchsorted(self.thresholds, np.where(missing, 0.0, values), side="left")
        return np.where(missing, self.n_cells - 1, cell)

    def labels(self) -> list[str]:
        """Plain-words label of each cell, e.g. '(2, 3]', 'serious', 'missing'."""
        if self.categorical:
            return [*self.categories, "missing"]
        edges = distinct_numbers(self.thresholds)
        if not edges:
            return ["any value", "missing"]
        inner = [f"<= {edges[0]}"]
        inner += [f"({lo}, {hi}]" for lo, hi in zip(edges[:-1], edges[1:], strict=True)]
        return [*inner, f"> {edges[-1]}", "missing"]

    def plot_values(self) -> np.ndarray:
        """A finite x per cell for plots: the cell's upper threshold (last: one step past)."""
        if self.categorical:
            return np.append(np.arange(len(self.categories), dtype=float), np.nan)
        if len(self.thresholds) == 0:
            return np.array([0.0, np.nan])
        step = np.diff(self.thresholds).mean() if len(self.thresholds) > 1 else 1.0
        return np.append(np.append(self.thresholds, self.thresholds[-1] + step), np.nan)


@dataclass(frozen=True)
class TermTable:
    """A term's contribution (log-odds) on every cell of its one or two axes."""

    name: str
    axes: tuple[Axis, ...]
    values: np.ndarray  # shape (n_cells,) or (n_cells_1, n_cells_2)

    def cell_index(self, columns: list[np.ndarray]) -> tuple[np.ndarray, ...]:
        """Cell coordinates of each row, given the term's encoded feature columns."""
        return tuple(axis.cells(col) for axis, col in zip(self.axes, columns, strict=True))

    def lookup(self, columns: list[np.ndarray]) -> np.ndarray:
        """The term's contribution for each row."""
        return self.values[self.cell_index(columns)]

    def shifted(self, scale: float, offset: float) -> TermTable:
        """The same table with values `scale * (values - offset)`."""
        return TermTable(self.name, self.axes, scale * (self.values - offset))


def tree_groups(estimator) -> dict[tuple[int, ...], list]:
    """The fitted trees of one HGB estimator grouped by the sorted feature indices they use.

    Trees that never split (a single leaf) are grouped under the empty tuple: their constant
    value belongs to the intercept.
    """
    groups: dict[tuple[int, ...], list] = {}
    for (predictor,) in estimator._predictors:  # binary: one tree per iteration
        nodes = predictor.nodes
        used = tuple(sorted(set(nodes["feature_idx"][nodes["is_leaf"] == 0].tolist())))
        groups.setdefault(used, []).append(predictor)
    return groups


def tree_values(estimator, predictors: list, points: np.ndarray) -> np.ndarray:
    """Sum of the given trees' leaf values at each row of `points` (raw feature matrix)."""
    known, f_idx_map = estimator._bin_mapper.make_known_categories_bitsets()
    points = hgb_encoded(estimator, points)
    total = np.zeros(points.shape[0])
    for predictor in predictors:
        total += predictor.predict(points, known, f_idx_map, 1)
    return total


def hgb_encoded(estimator, points: np.ndarray) -> np.ndarray:
    """Points as HGB's own categorical encoder would pass them to its trees.

    HGB re-encodes each categorical column (they come first) by the rank of the value among
    the values seen in its fit; unseen values become NaN (missing). Doing it here avoids the
    encoder's per-call overhead (tens of milliseconds) for the many small evaluation grids.
    """
    if estimator._preprocessor is None:
        return points
    encoder = estimator._preprocessor.named_transformers_["encoder"]
    encoded = points.copy()
    for column, seen in enumerate(encoder.categories_):
        seen = np.asarray(seen, dtype=float)
        values = points[:, column]
        position = np.minimum(np.searchsorted(seen, values), len(seen) - 1)
        found = seen[position] == values  # NaN never equals: missing stays missing
        encoded[:, column] = np.where(found, position, np.nan)
    return encoded


def split_thresholds(predictors: list, feature_index: int) -> np.ndarray:
    """Numeric thresholds at which the given trees split on one feature."""
    found = [
        p.nodes["num_threshold"][
            (p.nodes["is_leaf"] == 0) & (p.nodes["feature_idx"] == feature_index)
        ]
        for p in predictors
    ]
    return np.concatenate(found) if found else np.empty(0)


def evaluation_grid(
    axes: tuple[Axis, ...], indices: tuple[int, ...], n_features: int
) -> np.ndarray:
    """Raw feature matrix holding every cell combination of the axes (other features NaN)."""
    reps = [axis.representatives() for axis in axes]
    mesh = np.meshgrid(*reps, indexing="ij")
    points = np.full((mesh[0].size, n_features), np.nan)
    for index, coords in zip(indices, mesh, strict=True):
        points[:, index] = coords.ravel()
    return points


def ensemble_intercept_and_terms(
    estimators: list,
    feature_names: tuple[str, ...],
    categories: dict[str, tuple[str, ...]],
    terms: tuple[tuple[str, ...], ...],
) -> tuple[float, list[TermTable]]:
    """Raw (uncalibrated, uncentred) intercept and term tables of an average of HGB fits.

    The averaged model's raw log-odds is mean over estimators of (baseline + sum of trees);
    every tree is assigned to the term naming exactly the features it splits on.
    """
    index = {name: i for i, name in enumerate(feature_names)}
    weight = 1.0 / len(estimators)
    grouped = [tree_groups(est) for est in estimators]
    allowed = {tuple(sorted(index[f] for f in term)) for term in terms} | {()}
    for groups in grouped:
        stray = set(groups) - allowed
        if stray:
            raise RuntimeError(f"trees use feature sets outside the declared terms: {stray}")
    intercept = weight * sum(
        float(est._baseline_prediction.ravel()[0])
        + float(tree_values(est, groups.get((), []), np.zeros((1, len(feature_names))))[0])
        for est, groups in zip(estimators, grouped, strict=True)
    )
    tables = [_term_table(term, estimators, grouped, index, categories, weight) for term in terms]
    return intercept, tables


def _term_table(term, estimators, grouped, index, categories, weight) -> TermTable:
    """One term's raw table: its trees from every estimator evaluated on every cell."""
    key = tuple(sorted(index[f] for f in term))
    indices = tuple(index[f] for f in term)
    trees = [groups.get(key, []) for groups in grouped]
    axes = tuple(
        Axis(
            feature=f,
            categorical=f in categories,
            thresholds=np.unique(np.concatenate([split_thresholds(t, index[f]) for t in trees]))
            if f not in categories
            else np.empty(0),
            categories=categories.get(f, ()),
        )
        for f in term
    )
    points = evaluation_grid(axes, indices, len(index))
    total = sum(tree_values(est, t, points) for est, t in zip(estimators, trees, strict=True) if t)
    values = weight * np.broadcast_to(total, (points.shape[0],)).astype(float)
    return TermTable(" & ".join(term), axes, values.reshape([a.n_cells for a in axes]))


def distinct_numbers(values, digits: int = 4) -> list[str]:
    """Numbers as short text, with as many significant digits as it takes to tell them apart
    (two thresholds 0.10001 and 0.10004 must not both read '0.1')."""
    for shown in range(digits, 17):
        text = [f"{v:.{shown}g}" for v in values]
        if len(set(text)) == len(text):
            return text
    return [repr(float(v)) for v in values]
