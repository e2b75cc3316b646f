"""Ground truth: the latent state, the true chance of holding, and the realised label.

`p_hold_true` re-simulates the `horizon_months` after an as-of month-end `truth_draws`
times from the latent state at that date, with the same `advance` that wrote the export
(check sampling noise, closure-reduced monitoring and the incident route included), and
applies the spec's label to each draw. `held_realised` applies the same label to the export
itself, from its files alone.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from contracts.export import PRIMARY_CHECK_SOURCES, SERIOUS_HARMS, THEMES
from simulator.dynamics import (
    HOLDING,
    NOT_ADOPTED,
    PRIMARY,
    Month,
    State,
    advance,
    background_rate,
    harm_probabilities,
    slip_hazard,
)
from simulator.group import Group
from simulator.parameters import Parameters

DECLARED_LATENT = np.array(["none", "emerging", "embedded", "closed"], dtype=object)


def latent_summary(
    group: Group, p: Parameters, state: State, out: Month, month: int
) -> pd.DataFrame:
    """One row per improvement identified by the end of `month`: its hidden state then.

    teams_adopted_share: teams that ever took the change up / teams; teams_holding_share:
    teams holding it now; months_embedded_mean: months holding, mean over holding teams;
    latent_compliance: expected share of items met this month, mean over teams;
    slip_hazard_mean: next month's chance a holding team slips, mean over holding teams;
    instability_mean: team instability index (0 = group average, 1 = one s.d. worse).
    """
    imp = np.flatnonzero(group.identified_month <= month)
    valid = group.team_valid[imp]
    teams = valid.sum(1)
    status, held = state.status[0, imp], state.held_months[0, imp]
    holding = (status == HOLDING) & valid
    team_instability = out.instability[:, group.loc, :]
    hazard = slip_hazard(group, p, state, team_instability, month)[0, imp]
    loc = group.loc[imp]
    return pd.DataFrame(
        {
            "improvement": imp,
            "teams": teams,
            "action_started": month >= group.action_month[imp],
            "teams_adopted_share": ((status != NOT_ADOPTED) & valid).sum(1) / teams,
            "teams_holding_share": holding.sum(1) / teams,
            "months_embedded_mean": _masked_mean(held, holding),
            "latent_compliance": out.mean_compliance[0, imp],
            "slip_hazard_mean": _masked_mean(hazard, holding),
            "leadership": group.leadership[loc],
            "instability_mean": _masked_mean(out.instability[0, loc, :], valid),
            "overconfidence_mean": _masked_mean(group.overconfidence[loc], valid),
            "declared_latent": DECLARED_LATENT[state.declared[0, imp]],
        }
    )


def hold_probabilities(
    group: Group, p: Parameters, state: State, month: int, rng: np.random.Generator, draws: int
) -> tuple[np.ndarray, np.ndarray]:
    """(p_hold_true, p_observed_true) per improvement for the window after `month`.

    p_hold_true is P(held | observed) = P(observed and held) / P(observed), each the mean over
    draws of its chance given the draw's path (`_window_labels`); NaN when no draw could be
    observed.
    """
    # Improvements identified after the window cannot touch it; drop them to save work.
    keep = np.flatnonzero(group.identified_month <= month + p.horizon_months)
    window_group, window_state = group.subset(keep), state.subset(keep)
    per_draw = len(keep) * group.max_teams * PRIMARY
    chunk = max(1, p.truth_chunk_elements // max(per_draw, 1))
    held = np.zeros(len(keep))
    observed = np.zeros(len(keep))
    for start in range(0, draws, chunk):
        size = min(chunk, draws - start)
        chunk_held, chunk_observed = _window_labels(
            window_group, p, window_state.replicate(size), month, rng
        )
        held += chunk_held.sum(0)
        observed += chunk_observed.sum(0)
    p_hold, p_observed = np.full(group.improvements, np.nan), np.zeros(group.improvements)
    with np.errstate(invalid="ignore", divide="ignore"):
        p_hold[keep] = held / observed
    p_observed[keep] = observed / draws
    return p_hold, p_observed


def _window_labels(group: Group, p: Parameters, state: State, month: int, rng):
    """(D, I) chances of (observed and held, observed) for the window of `month`, given each
    draw's path.

    The checks are drawn (compliance, monitoring and check sampling move together); the
    incident route is exact given the path: qualifying incidents of an improvement's location
    and theme are Poisson with the path's expected count `L`, so P(none) = exp(-L). Then
    P(observed and held) = 1{2+ months with a value, no two consecutive below} x exp(-L) and
    P(observed) = 1 - 1{fewer than 2 months with a value} x exp(-L): the same expectation as
    drawing the incidents, with none of their noise, so far fewer draws are needed.
    """
    draws, n = state.declared.shape
    horizon = p.horizon_months
    values = np.zeros((horizon, draws, n), dtype=bool)
    below = np.zeros((horizon, draws, n), dtype=bool)
    group_of, background, serious_share = _incident_groups(group, p)
    expected = np.zeros((draws, len(background)))
    keys = (np.arange(draws)[:, None] * len(background) + group_of[None, :]).ravel()
    for h in range(horizon):
        state, out = advance(group, p, state, month + 1 + h, rng, primary_only=True)
        flat = out.check_at[0] * n + out.check_at[1]
        sampled = np.bincount(flat, weights=out.sampled, minlength=draws * n).reshape(draws, n)
        met = np.bincount(flat, weights=out.met, minlength=draws * n).reshape(draws, n)
        values[h] = sampled > 0
        with np.errstate(invalid="ignore", divide="ignore"):
            below[h] = values[h] & (met / sampled < group.standard[None, :])
        caused = out.incident_rate * serious_share[group.loc][None, :]
        expected += np.bincount(
            keys, weights=caused.ravel(), minlength=draws * len(background)
        ).reshape(draws, -1)
    expected += horizon * background[None, :]
    none = np.exp(-expected[:, group_of])
    enough = values.sum(0) >= 2
    checks_held = enough & ~(below[:-1] & below[1:]).any(0)
    return checks_held * none, 1.0 - ~enough * none


def _incident_groups(group: Group, p: Parameters):
    """Each improvement's (location, theme) group, each group's rate of qualifying
    (moderate-or-worse) background incidents, and each service's share of recorded incidents
    that qualify: an incident of the theme at the location counts for every improvement of
    that group."""
    key = group.loc * len(THEMES) + group.theme
    keys, group_of = np.unique(key, return_inverse=True)
    serious_share = harm_probabilities(group, p)[:, 2:].sum(1)
    loc, theme = keys // len(THEMES), keys % len(THEMES)
    rate = background_rate(group, p)[loc, theme] * serious_share[loc]
    return group_of, rate, serious_share


def _masked_mean(values, mask) -> np.ndarray:
    count = mask.sum(-1)
    total = np.where(mask, values, 0.0).sum(-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, total / count, np.nan)


def realised_labels(
    frames: dict[str, pd.DataFrame], as_of: pd.DatetimeIndex, end, horizon: int = 6
) -> pd.DataFrame:
    """The spec's label computed from the export's files, for every improvement x as_of.

    held_realised: 1 held, 0 slipped, <NA> censored or window not complete;
    label_observed_realised: at least two months of the window with a compliance value or a
    qualifying incident; window_complete: the window's last month ends on or before `end`;
    eligible: action started on or before as_of and a primary check dated on or before it.
    """
    improvements = frames["improvements"]
    ids = improvements["improvement_id"].to_numpy()
    first = min(
        pd.Timestamp(t).to_period("M") for t in [improvements["identified_on"].min(), *as_of]
    )
    last = pd.Timestamp(end).to_period("M")
    months = (last - first).n + 1 + horizon
    has, below = _monthly_below(frames["checks"], improvements, first, months)
    incident = _qualifying_incident_months(frames.get("incidents"), improvements, first, months)
    as_of_month = np.array([(pd.Timestamp(t).to_period("M") - first).n for t in as_of])
    window = as_of_month[:, None] + 1 + np.arange(horizon)[None, :]  # (A, H)
    has_w, below_w, incident_w = has[:, window], below[:, window], incident[:, window]
    any_incident = incident_w.any(-1)
    slip = (below_w[..., :-1] & below_w[..., 1:]).any(-1) | any_incident
    observed = (has_w.sum(-1) >= 2) | any_incident
    window_end = np.array(
        [(pd.Timestamp(t).to_period("M") + horizon).end_time.normalize() for t in as_of]
    )
    complete = window_end <= pd.Timestamp(end)
    held = pd.array(np.where(observed & ~slip, 1, 0).ravel(), dtype="Int64")
    held[~(observed & complete[None, :]).ravel()] = pd.NA
    return pd.DataFrame(
        {
            "improvement_id": np.repeat(ids, len(as_of)),
            "as_of": np.tile(np.asarray(as_of, dtype="datetime64[ns]"), len(ids)),
            "held_realised": held,
            "label_observed_realised": (observed & complete[None, :]).ravel(),
            "window_complete": np.tile(complete, len(ids)),
            "eligible": _eligible(frames, improvements, as_of).ravel(),
        }
    )


def _monthly_below(checks, improvements, first, months):
    """(I, months) has a compliance value / is below the standard, per calendar month."""
    primary = checks[checks["source"].isin(PRIMARY_CHECK_SOURCES)]
    row = _improvement_codes(primary["improvement_id"], improvements)
    month = _month_codes(primary["checked_on"], first)
    n = len(improvements)
    flat = row * months + month
    sampled = np.bincount(
        flat, weights=primary["sampled"].to_numpy(np.float64), minlength=n * months
    ).reshape(n, months)
    met = np.bincount(
        flat, weights=primary["met"].to_numpy(np.float64), minlength=n * months
    ).reshape(n, months)
    has = sampled > 0
    standard = improvements["standard"].to_numpy()[:, None]
    with np.errstate(invalid="ignore", divide="ignore"):
        return has, has & (met / sampled < standard)


def _qualifying_incident_months(incidents, improvements, first, months) -> np.ndarray:
    """(I, months) a moderate-or-worse incident at the location with the theme, or naming
    the improvement, occurred in the month."""
    n = len(improvements)
    out = np.zeros((n, months), dtype=bool)
    if incidents is None or incidents.empty:
        return out
    serious = incidents[incidents["harm"].isin(SERIOUS_HARMS)]
    keys = improvements[["improvement_id", "location_id", "theme"]].astype({"theme": "str"})
    by_theme = serious.astype({"theme": "str"}).merge(
        keys, on=["location_id", "theme"], suffixes=("_named", "")
    )
    by_name = serious[serious["improvement_id"].notna()]
    pairs = pd.concat(
        [
            by_theme[["incident_id", "improvement_id", "occurred_on"]],
            by_name[["incident_id", "improvement_id", "occurred_on"]],
        ]
    ).drop_duplicates(["incident_id", "improvement_id"])
    row = _improvement_codes(pairs["improvement_id"], improvements)
    month = _month_codes(pairs["occurred_on"], first)
    inside = (month >= 0) & (month < months)
    out[row[inside], month[inside]] = True
    return out


def _eligible(frames, improvements, as_of) -> np.ndarray:
    """(I, A) action started and a primary check dated on or before each as_of."""
    checks = frames["checks"]
    primary = checks[checks["source"].isin(PRIMARY_CHECK_SOURCES)]
    first_check = primary.groupby("improvement_id")["checked_on"].min()
    first_check = first_check.reindex(improvements["improvement_id"]).to_numpy()
    started = improvements["action_started_on"].to_numpy()
    times = np.asarray(as_of, dtype="datetime64[ns]")[None, :]
    return (started[:, None] <= times) & (first_check[:, None] <= times)


def _improvement_codes(ids: pd.Series, improvements: pd.DataFrame) -> np.ndarray:
    index = pd.Index(improvements["improvement_id"])
    return index.get_indexer(ids).astype(np.int64)


def _month_codes(dates: pd.Series, first: pd.Period) -> np.ndarray:
    stamps = dates.to_numpy().astype("datetime64[M]").astype(np.int64)
    start = np.datetime64(first.start_time, "M").astype(np.int64)
    return stamps - start
