"""Vectorised helpers over improvement x month matrices (rows: improvements, columns: months)."""

from __future__ import annotations

import warnings

import numpy as np


def last_index(mask: np.ndarray) -> np.ndarray:
    """Per row, the last column where `mask` is True; -1 when there is none."""
    width = mask.shape[1]
    found = width - 1 - np.argmax(mask[:, ::-1], axis=1)
    return np.where(mask.any(axis=1), found, -1)


def first_index(mask: np.ndarray) -> np.ndarray:
    """Per row, the first column where `mask` is True; -1 when there is none."""
    return np.where(mask.any(axis=1), np.argmax(mask, axis=1), -1)


def take(matrix: np.ndarray, columns: np.ndarray) -> np.ndarray:
    """matrix[row, columns[row]] per row; NaN where the column is -1."""
    values = matrix[np.arange(len(matrix)), np.maximum(columns, 0)].astype("float64")
    return np.where(columns >= 0, values, np.nan)


def last_columns(matrix: np.ndarray, width: int) -> np.ndarray:
    """The last `width` columns, padded on the left with NaN when the matrix is narrower."""
    if matrix.shape[1] >= width:
        return matrix[:, matrix.shape[1] - width :]
    pad = np.full((matrix.shape[0], width - matrix.shape[1]), np.nan)
    return np.hstack([pad, matrix])


def theil_sen_slopes(values: np.ndarray, min_points: int) -> np.ndarray:
    """Theil-Sen slope per row: median of the pairwise slopes (value units per column).

    Columns are equally spaced in time (months), so a gap (NaN) keeps the true spacing of the
    points around it. NaN when a row has fewer than `min_points` values.
    """
    first, second = np.triu_indices(values.shape[1], k=1)
    slopes = (values[:, second] - values[:, first]) / (second - first)
    enough = np.count_nonzero(~np.isnan(values), axis=1) >= max(min_points, 2)
    out = np.full(len(values), np.nan)
    if enough.any():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            out[enough] = np.nanmedian(slopes[enough], axis=1)
    return out


def forward_filled(matrix: np.ndarray) -> np.ndarray:
    """Each NaN replaced by the last value to its left in the row (NaN when none)."""
    columns = np.where(~np.isnan(matrix), np.arange(matrix.shape[1])[None, :], -1)
    latest = np.maximum.accumulate(columns, axis=1)
    filled = np.take_along_axis(matrix, np.maximum(latest, 0), axis=1)
    return np.where(latest >= 0, filled, np.nan)
