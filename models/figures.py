"""Figures of the hold model: shape functions of every term and the reliability diagram.

Figures are built with the object-oriented matplotlib API (no pyplot state), and returned,
never saved: the caller decides where they go.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure


def shape_function_figures(model) -> dict[str, Figure]:
    """One figure per term: contribution (log-odds) against the feature, missing bin shown.

    Main effects are step plots (bars for categories) with the missing cell as a separate
    marker; pair terms are heat maps over the two features' cells.
    """
    shapes = model.shape_functions()
    return {
        term: (_pair_figure if table["feature2"].notna().any() else _main_figure)(term, table)
        for term, table in shapes.groupby("term", sort=False)
    }


def _main_figure(term: str, table: pd.DataFrame) -> Figure:
    figure = Figure(figsize=(5, 3.2), layout="constrained")
    axes = figure.add_subplot()
    present = table[table["x_label"] != "missing"]
    missing = table[table["x_label"] == "missing"]
    labels = present["x_label"].tolist()
    if not present.empty and not _is_numeric_axis(present):
        axes.bar(labels, present["contribution"], color="#4c72b0")
        axes.tick_params(axis="x", labelrotation=45)
    elif len(present) > 1:
        axes.step(present["x"], present["contribution"], where="pre", color="#4c72b0")
    else:
        axes.axhline(present["contribution"].sum(), color="#4c72b0")
    if not missing.empty:
        axes.axhline(
            missing["contribution"].item(),
            color="#dd8452",
            linestyle="--",
            label=f"missing ({int(missing['n_train'].item())} training rows)",
        )
        axes.legend(loc="best", fontsize="small")
    axes.axhline(0, color="grey", linewidth=0.5)
    axes.set_title(term, fontsize="medium")
    axes.set_ylabel("contribution (log-odds)")
    return figure


def _is_numeric_axis(cells: pd.DataFrame) -> bool:
    """True when the cells are intervals of a number, not categories."""
    first = str(cells["x_label"].iloc[0])
    return first.startswith(("<=", "(", ">", "any value"))


def _pair_figure(term: str, table: pd.DataFrame) -> Figure:
    figure = Figure(figsize=(6, 4.5), layout="constrained")
    axes = figure.add_subplot()
    grid = table.pivot_table(index="x2_label", columns="x_label", values="contribution", sort=False)
    limit = float(np.nanmax(np.abs(grid.to_numpy()))) or 1.0
    image = axes.imshow(
        grid.to_numpy(), cmap="RdBu", vmin=-limit, vmax=limit, aspect="auto", origin="lower"
    )
    axes.set_xticks(range(grid.shape[1]), grid.columns, rotation=90, fontsize="x-small")
    axes.set_yticks(range(grid.shape[0]), grid.index, fontsize="x-small")
    first, second = term.split(" & ")
    axes.set_xlabel(first)
    axes.set_ylabel(second)
    axes.set_title(term, fontsize="medium")
    figure.colorbar(image, ax=axes, label="contribution (log-odds)")
    return figure


def reliability_figure(reliability: pd.DataFrame) -> Figure:
    """Observed hold rate against mean forecast per bin, one line per model, diagonal ideal."""
    figure = Figure(figsize=(5, 5), layout="constrained")
    axes = figure.add_subplot()
    axes.plot([0, 1], [0, 1], color="grey", linewidth=0.8, linestyle=":", label="ideal")
    for model, table in reliability.groupby("model", sort=False):
        axes.plot(table["mean_predicted"], table["observed_rate"], marker="o", label=model)
    axes.set_xlabel("mean forecast P(holds)")
    axes.set_ylabel("observed share that held")
    axes.set_xlim(0, 1)
    axes.set_ylim(0, 1)
    axes.legend(loc="upper left", fontsize="small")
    return figure
