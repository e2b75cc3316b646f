"""simulate_group and write_simulation: the simulator's public entry points."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from contracts.params import ModelSettings
from simulator.dynamics import State, advance, initial_state
from simulator.export import write_export
from simulator.frames import export_frames, improvement_id_array
from simulator.group import Group, calendar_for, draw_group
from simulator.history import actions_frame, declarations_frame, entry_lags, export_as_it_stood
from simulator.links import TeamSpellings
from simulator.parameters import Parameters
from simulator.records import Recorder
from simulator.truth import hold_probabilities, latent_summary, realised_labels

log = logging.getLogger(__name__)

DEFAULT_END = date(2026, 10, 31)
# Draws of the ground-truth re-simulation per truth date. The incident route is exact given
# each draw's path (simulator.truth); 40 draws are a mean 0.034 from 1,000 and understate the
# ceiling's AUROC by about 0.006 (benchmarks/results/truth.md, docs/simulator.md).
DEFAULT_TRUTH_DRAWS = 40
TRUTH_README = """# Ground truth of a simulated provider group

Written by `takehold simulate` / `simulator.write_simulation`. Never part of the
export: a model must not see it. One row per improvement (once identified) per truth date:
the replay evaluation's four cutoffs (the latest month-end whose six-month window closed by the
end, and three before it, three months apart) unless other dates were asked for.

- improvement_id, location_id, as_of (a month-end)
- latent state at as_of: action_started, teams, teams_adopted_share (ever took the change up),
  teams_holding_share, months_embedded_mean (months holding, mean over holding teams),
  latent_compliance (expected share of items met this month, mean over teams), standard,
  slip_hazard_mean (next month's chance a holding team slips), leadership (service, z-score,
  higher is better), instability_mean (team workforce instability, z-score, higher is worse),
  overconfidence_mean (self-rated confidence above demonstrated, 1-5 points), declared_latent
- p_hold_true: P(held | label observed) over the next {horizon} calendar months, by
  re-simulating {draws} times from the latent state; p_observed_true: P(label observed)
- held_realised: the spec's label computed from the export (1 held, 0 slipped, <NA> when
  censored or the window is not complete); label_observed_realised; window_complete (the
  window's last month ends on or before {end}); eligible (action started and a primary check
  dated on or before as_of: the spec's training rows)

See docs/simulator.md for the generative story.
"""


@dataclass
class Simulation:
    """A simulated export (`frames`, the nine contract files), its ground truth and end.

    `entry_lags`: per file, the days between each row's date and the day it was entered
    (never exported): `as_it_stood` uses them.
    """

    frames: dict[str, pd.DataFrame]
    truth: pd.DataFrame
    end: date
    truth_draws: int = DEFAULT_TRUTH_DRAWS
    entry_lags: dict[str, np.ndarray] = field(default_factory=dict)

    def as_it_stood(self, as_of, *, late_entries: bool = True) -> dict[str, pd.DataFrame]:
        """The export as the group would have handed it over on `as_of` (simulator.history)."""
        return export_as_it_stood(self.frames, self.entry_lags, as_of, late_entries=late_entries)


def simulate_group(
    services: int,
    years: float,
    seed: int,
    *,
    end: date = DEFAULT_END,
    truth_as_of: Sequence[date] | Literal["monthly"] | None = None,
    truth_draws: int = DEFAULT_TRUTH_DRAWS,
    params: Parameters | None = None,
) -> Simulation:
    """Simulate `services` services over the `round(years * 12)` calendar months to `end`.

    The same arguments give the same frames and truth. `truth_as_of`: the month-end dates (on
    or before `end`) of the ground truth; by default the replay evaluation's cutoffs (the four
    `takehold train` uses at `end`), "monthly" for every month-end.
    `params`: the generative story (default `Parameters()`, every knob at its realistic value;
    `Parameters.clean()` or `Parameters().without(...)` switch knobs off).
    """
    if services < 1 or years <= 0 or truth_draws < 1:
        raise ValueError("services, years and truth_draws must be positive")
    p = params or Parameters()
    calendar = calendar_for(end, years)
    # A fourth stream for the histories (v2) and a fifth for the team spellings: the first
    # streams draw exactly what they did before the later ones were added.
    streams = np.random.default_rng(seed).spawn(5)
    group_rng, export_rng, truth_rng, history_rng, links_rng = streams
    group = draw_group(services, calendar, p, group_rng)
    truth_months = _truth_months(calendar, truth_as_of, p.horizon_months)
    log.info(
        "simulating %d services, %d improvements, %d months",
        services,
        group.improvements,
        calendar.months,
    )
    recorder, state, truth_parts = Recorder(group, p), initial_state(group), []
    for month in range(calendar.months):
        before = state
        state, out = advance(group, p, state, month, export_rng)
        recorder.add(month, before, state, out, export_rng)
        if month in truth_months:
            truth_parts.append(_truth_at(group, p, state, out, month, truth_rng, truth_draws))
    columns = recorder.column_arrays()
    frames = export_frames(
        group,
        p,
        columns,
        state.declared[0],
        recorder.last_declared_month,
        np.stack(recorder.instability),
        export_rng,
        TeamSpellings(group, p, links_rng),
    )
    ids = improvement_id_array(group)
    frames["declarations"] = declarations_frame(
        group, ids, columns["declarations"], frames["improvements"], history_rng
    )
    frames["actions"] = actions_frame(group, p, frames["improvements"], history_rng)
    lags = entry_lags(frames, p, history_rng)
    truth = _with_realised(group, frames, truth_parts, end, p.horizon_months)
    return Simulation(frames=frames, truth=truth, end=end, truth_draws=truth_draws, entry_lags=lags)


def write_simulation(
    sim: Simulation, out_dir: Path, fmt: Literal["csv", "parquet"] = "csv"
) -> tuple[Path, Path]:
    """Write OUT_DIR/export/ (the nine files) and OUT_DIR/truth/ (truth.parquet, README.md)."""
    if fmt not in ("csv", "parquet"):
        raise ValueError(f"format must be csv or parquet, not {fmt!r}")
    out_dir = Path(out_dir)
    export_dir, truth_dir = out_dir / "export", out_dir / "truth"
    write_export(sim.frames, str(export_dir), fmt)
    truth_dir.mkdir(parents=True, exist_ok=True)
    sim.truth.to_parquet(truth_dir / "truth.parquet", index=False)
    readme = TRUTH_README.format(horizon=6, draws=sim.truth_draws, end=sim.end.isoformat())
    (truth_dir / "README.md").write_text(readme, encoding="utf-8")
    return export_dir, truth_dir


def _truth_months(
    calendar, truth_as_of: Sequence[date] | Literal["monthly"] | None, horizon: int
) -> dict[int, pd.Timestamp]:
    """Month index -> as-of date (the month's last day) for every truth date.

    Default: the replay evaluation's cutoffs as `takehold train` takes them at the export's end
    (`ModelSettings`: the latest month-end whose label window has closed, and the three before
    it, three months apart; the last month-end when no window has closed); "monthly": every
    month-end.
    """
    ends = calendar.month_ends()
    inside = ends <= np.datetime64(calendar.end)
    if truth_as_of is None or isinstance(truth_as_of, str):
        if truth_as_of not in (None, "monthly"):
            raise ValueError(f"truth_as_of must be dates or 'monthly', not {truth_as_of!r}")
        months = np.arange(calendar.months)[inside]
        if truth_as_of == "monthly":
            return {int(m): pd.Timestamp(ends[m]) for m in months}
        settings = ModelSettings()
        step, count = settings.replay_step_months, settings.replay_cutoffs
        latest = calendar.months - 1 - horizon - (0 if inside[-1] else 1)
        cutoffs = [m for m in range(latest, latest - step * count, -step) if m >= 0]
        # A history too short for a closed window: the truth at the last month-end.
        return {m: pd.Timestamp(ends[m]) for m in sorted(cutoffs or months[-1:].tolist())}
    wanted = {}
    for as_of in truth_as_of:
        stamp = np.datetime64(as_of, "D")
        found = np.flatnonzero(ends == stamp)
        if len(found) == 0 or stamp > np.datetime64(calendar.end):
            raise ValueError(f"truth_as_of {as_of} is not a month-end inside the simulation")
        wanted[int(found[0])] = pd.Timestamp(stamp)
    return wanted


def _truth_at(
    group: Group, p: Parameters, state: State, out, month: int, rng, draws: int
) -> pd.DataFrame:
    summary = latent_summary(group, p, state, out, month)
    p_hold, p_observed = hold_probabilities(group, p, state, month, rng, draws)
    imp = summary["improvement"].to_numpy()
    as_of = pd.Timestamp(group.calendar.month_ends()[month])
    return summary.assign(as_of=as_of, p_hold_true=p_hold[imp], p_observed_true=p_observed[imp])


def _with_realised(group: Group, frames, parts, end: date, horizon: int) -> pd.DataFrame:
    ids = np.asarray(improvement_id_array(group).to_pylist(), dtype=object)
    if not parts:
        return pd.DataFrame()
    latent = pd.concat(parts, ignore_index=True)
    latent.insert(0, "improvement_id", pd.array(ids[latent["improvement"]], dtype="str"))
    latent.insert(
        1, "location_id", pd.array(group.location_id[group.loc[latent["improvement"]]], dtype="str")
    )
    latent["standard"] = group.standard[latent["improvement"]]
    as_of = pd.DatetimeIndex(sorted(latent["as_of"].unique()))
    realised = realised_labels(frames, as_of, end, horizon)
    latent["as_of"] = latent["as_of"].astype("datetime64[ns]")
    merged = latent.drop(columns="improvement").merge(
        realised, on=["improvement_id", "as_of"], how="left", validate="one_to_one"
    )
    first = ["improvement_id", "location_id", "as_of"]
    return merged[first + [c for c in merged.columns if c not in first]].sort_values(
        ["as_of", "improvement_id"], ignore_index=True
    )
