"""One calendar month of the latent story, vectorised over draws x improvements x teams.

The same `advance` runs the export (one draw) and the ground-truth re-simulation (many
draws from a copied state), so the truth and the data come from one model. Arrays carry a
leading draw axis D; improvements are I, team slots K, check sources 4 (audit,
care_records, staff_practice, competency).

Team status: 0 not adopted, 1 holding the change, 2 slipped back.
Declared status (what leaders say): 0 nothing yet, 1 emerging, 2 embedded, 3 closed.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from simulator.group import BACKGROUND_THEME_SHARES, Group, sigmoid, theme_shares
from simulator.parameters import Parameters

NOT_ADOPTED, HOLDING, SLIPPED = 0, 1, 2
NONE, EMERGING, EMBEDDED, CLOSED = 0, 1, 2, 3
PRIMARY = 3  # the first three sources make up monthly compliance


@dataclass
class State:
    """The latent state at the end of a month, for D draws."""

    instability_noise: np.ndarray  # (D, S, K) workforce instability, AR(1) part
    status: np.ndarray  # (D, I, K) int8
    held_months: np.ndarray  # (D, I, K) months holding since the last adoption or recovery
    declared: np.ndarray  # (D, I) int8
    run_at_standard: np.ndarray  # (D, I) months leaders have seen compliance at standard
    lagged_compliance: np.ndarray  # (D, I) what people and families experience (lags audits)
    unaudited: np.ndarray  # (D, S, K) months a team's spell without any check still runs

    def replicate(self, draws: int) -> State:
        """The same state repeated `draws` times along the draw axis (from one draw)."""
        return State(
            **{f.name: np.repeat(getattr(self, f.name), draws, axis=0) for f in fields(self)}
        )

    def subset(self, improvements: np.ndarray) -> State:
        """The state of the given improvements only (workforce unchanged)."""
        return State(
            **{
                f.name: getattr(self, f.name)
                if f.name in SERVICE_FIELDS
                else getattr(self, f.name)[:, improvements]
                for f in fields(self)
            }
        )


SERVICE_FIELDS = ("instability_noise", "unaudited")  # (D, S, K): not per improvement


@dataclass
class Month:
    """What one month produced: latent levels, checks and theme incidents, per draw."""

    instability: np.ndarray  # (D, S, K) team instability index (service part + AR part)
    compliance: np.ndarray  # (D, I, K) latent team compliance
    mean_compliance: np.ndarray  # (D, I) over the service's teams
    hazard: np.ndarray  # (D, I, K) monthly slip hazard that applied to holding teams
    check_at: tuple[np.ndarray, ...]  # (draw, improvement, team, source) of each check
    sampled: np.ndarray
    met: np.ndarray
    theme_incidents: np.ndarray  # (D, I) incidents caused by the improvement's gap
    incident_rate: np.ndarray  # (D, I) their expected number (recorded) this month
    declared_changed: np.ndarray  # (D, I) bool


def initial_state(group: Group, draws: int = 1) -> State:
    """Nothing adopted, nothing declared; workforce noise at its stationary spread."""
    shape = (draws, group.improvements, group.max_teams)
    return State(
        instability_noise=np.zeros((draws, group.services, group.max_teams)),
        status=np.zeros(shape, dtype=np.int8),
        held_months=np.zeros(shape, dtype=np.int16),
        declared=np.zeros((draws, group.improvements), dtype=np.int8),
        run_at_standard=np.zeros((draws, group.improvements), dtype=np.int16),
        lagged_compliance=np.full((draws, group.improvements), np.nan),
        unaudited=np.zeros((draws, group.services, group.max_teams), dtype=np.int16),
    )


def advance(
    group: Group,
    p: Parameters,
    state: State,
    month: int,
    rng: np.random.Generator,
    *,
    primary_only: bool = False,
) -> tuple[State, Month]:
    """Move every draw one calendar month on; return the new state and what happened."""
    noise = _next_instability_noise(state.instability_noise, p, rng)
    instability = (
        p.service_instability_weight * group.base_instability[None, :, None]
        + noise
        + winter_pressure(group, p, month)
    )
    team_instability = instability[:, group.loc, :]
    identified = month >= group.identified_month
    acting = month >= group.action_month
    unaudited = _next_unaudited(state.unaudited, p, rng)
    missed = rng.random(unaudited.shape[:2]) < p.missed_round_monthly
    hazard = slip_hazard(group, p, state, team_instability, month)
    status, held = _next_team_status(group, state, hazard, acting, rng)
    compliance = _team_compliance(group, p, status, held, team_instability, rng)
    valid = group.team_valid
    mean = np.where(identified, (compliance * valid).sum(-1) / valid.sum(-1), np.nan)
    gaps = (missed[:, group.loc], unaudited[:, group.loc, :] > 0)
    check_at, sampled, met = _checks(
        group,
        p,
        state.declared,
        compliance,
        identified,
        acting,
        month,
        gaps,
        rng,
        primary_only=primary_only,
    )
    rate = np.where(identified[None, :], theme_incident_rate(group, p, mean), 0.0)
    incidents = rng.poisson(rate)
    declared, run, changed = _next_declared(group, p, state, mean, acting, rng)
    lagged = _next_lagged(state.lagged_compliance, mean, p)
    new = State(noise, status, held, declared, run, lagged, unaudited)
    return new, Month(
        instability, compliance, mean, hazard, check_at, sampled, met, incidents, rate, changed
    )


def winter_pressure(group: Group, p: Parameters, month: int) -> float:
    """Extra workforce instability in December, January and February (drift knob)."""
    month_of_year = (group.first_month_of_year + month) % 12
    return p.winter_instability if month_of_year in (11, 0, 1) else 0.0


def _after(group: Group, share: float, month: int) -> bool:
    """Whether `month` is past the given share of the export's history (drift knob)."""
    return month >= round(share * group.calendar.months)


def _next_unaudited(spells, p: Parameters, rng) -> np.ndarray:
    """Spells in which a team has no check at all (measurement gaps knob): a running spell
    counts down; a new one starts with `unaudited_spell_monthly` and lasts a geometric number
    of months (mean `unaudited_spell_months`)."""
    start = rng.random(spells.shape) < p.unaudited_spell_monthly
    length = rng.geometric(1.0 / max(p.unaudited_spell_months, 1.0), spells.shape)
    return np.where(spells > 0, spells - 1, np.where(start, length, 0)).astype(np.int16)


def slip_hazard(
    group: Group, p: Parameters, state: State, team_instability, month: int
) -> np.ndarray:
    """Monthly chance that a holding team slips back: high just after adoption, then falling;
    raised by weak leadership, unstable staffing, over-confident staff, and by a change that
    the other teams never took up; lowered where people's experience culture is good (lived
    experience knob); raised in one region after its regime changes (drift knob)."""
    regime = p.regime_change_hazard * group.regime_region * _after(group, p.regime_change_at, month)
    valid = group.team_valid
    ever = ((state.status > NOT_ADOPTED) & valid).sum(-1) / valid.sum(-1)
    never_share = np.where(ever > 0, 1 - ever, 0.0)
    logit = (
        p.hazard_floor_logit
        + p.hazard_new_boost * np.exp(-state.held_months / p.hazard_decay_months)
        - p.hazard_leadership * group.leadership[group.loc][None, :, None]
        + p.hazard_instability * team_instability
        + p.hazard_overconfidence * group.overconfidence[group.loc][None, :, :]
        + p.hazard_concentration * never_share[..., None]
        - p.hazard_experience * group.culture[group.loc][None, :, None]
        + regime[group.loc][None, :, None]
    )
    return sigmoid(logit)


def _next_instability_noise(noise, p: Parameters, rng) -> np.ndarray:
    rho = p.instability_autocorrelation
    shock = rng.standard_normal(noise.shape) * p.instability_sd * np.sqrt(1 - rho * rho)
    return rho * noise + shock


def _next_team_status(group: Group, state: State, hazard, acting, rng):
    """Adoption (willing teams once action has started), slips and recoveries."""
    u = rng.random(state.status.shape)
    status, held = state.status, state.held_months
    adopt = (
        (status == NOT_ADOPTED)
        & group.willing[None]
        & acting[None, :, None]
        & (u < group.adoption_chance[None, :, None])
    )
    slip = (status == HOLDING) & (u < hazard)
    recover = (status == SLIPPED) & (u < group.recovery_chance[None, :, None])
    new_status = np.where(adopt | recover, HOLDING, np.where(slip, SLIPPED, status))
    new_held = np.where(adopt | recover | slip, 0, np.where(status == HOLDING, held + 1, held))
    return new_status.astype(np.int8), new_held.astype(np.int16)


def _team_compliance(group: Group, p: Parameters, status, held, team_instability, rng):
    """Latent share of items a team gets right this month."""
    ramp = np.minimum(1.0, (held + 1) / p.ramp_months)
    gained = np.where(status == HOLDING, ramp, np.where(status == SLIPPED, p.slipped_level, 0.0))
    level = (
        group.baseline[None, :, None]
        + (group.target - group.baseline)[None, :, None] * gained
        + group.team_offset[None]
        - p.instability_compliance * team_instability
        + rng.standard_normal(status.shape) * p.monthly_noise_sd
    )
    return np.clip(level, 0.02, 0.995)


def check_frequency(
    group: Group, p: Parameters, declared, identified, acting, gaps=None, sources: int = 4
) -> np.ndarray:
    """(D, I, K, sources) chance of a check this month per team and source (the first
    `sources` of audit, care_records, staff_practice, competency): baseline audits before
    action, full monitoring while open, much less once leaders have closed it (none at all for
    improvements whose checks stop at closure). `gaps` (measurement gaps knob): (D, I) the
    service missed its audit round (no audit or records check), (D, I, K) the team is in a
    spell without checks."""
    table = np.array(p.check_frequency, dtype=np.float32)[:, :sources]
    closed = declared == CLOSED
    phase = np.where(acting[None, :], np.where(closed, 2, 1), 0)
    base = table[phase] * group.source_used[None, :, :sources]
    base *= (identified[None, :] & ~(closed & group.stops_after_closure[None, :]))[..., None]
    if gaps is not None:
        base[..., :2] *= ~gaps[0][..., None]
    valid = group.team_valid[None]
    if gaps is not None:
        valid = valid & ~gaps[1]
    return base[:, :, None, :] * valid[..., None]


def _checks(
    group: Group,
    p: Parameters,
    declared,
    compliance,
    identified,
    acting,
    month: int,
    gaps,
    rng,
    *,
    primary_only: bool,
):
    sources = PRIMARY if primary_only else 4
    freq = check_frequency(group, p, declared, identified, acting, gaps, sources)
    # Draw only where a check is possible (identified, real team, source in use).
    chances = freq.ravel()
    possible = np.flatnonzero(chances)
    drawn = possible[rng.random(len(possible), dtype=np.float32) < chances[possible]]
    at = np.unravel_index(drawn, freq.shape)
    imp, source = at[1], at[3]
    sampled = _sampled(p, source, rng)
    level = compliance.ravel()[drawn // sources]
    competency = np.flatnonzero(source == 3)
    if len(competency):
        # A competency assessment tests knowledge; over-confident staff do a little worse.
        over = group.overconfidence[group.loc[imp[competency]], at[2][competency]]
        level[competency] = np.clip(level[competency] + 0.03 - 0.05 * over, 0.02, 0.995)
    # The service's own audits are lenient; a stricter audit tool arrives part-way (knobs).
    strict = p.audit_tool_strictness * _after(group, p.audit_tool_change_at, month)
    audit = np.flatnonzero(source == 0)
    lenient = group.audit_leniency[group.loc[imp[audit]]] - strict
    level[audit] = np.clip(level[audit] + lenient, 0.02, 0.995)
    # Check-to-check variation beyond binomial sampling (who was on shift, which records were
    # picked): the spread of a beta with concentration `check_concentration`, drawn as normal.
    spread = np.sqrt(level * (1 - level) / (p.check_concentration + 1))
    chance = np.clip(level + spread * rng.standard_normal(len(level)), 0.0, 1.0)
    met = rng.binomial(sampled, chance)
    return at, sampled, met


def _sampled(p: Parameters, source, rng) -> np.ndarray:
    width = max(len(c) for c in p.sampled_choices)
    table = np.array([[c[i % len(c)] for i in range(width)] for c in p.sampled_choices])
    lengths = np.array([len(c) for c in p.sampled_choices])
    pick = np.floor(rng.random(len(source)) * lengths[source]).astype(np.int64)
    return table[source, pick]


def theme_incident_rate(group: Group, p: Parameters, mean_compliance) -> np.ndarray:
    """Recorded incidents a month caused by the improvement's gap: more when compliance is
    low, and more where the service reports more (reporting culture knob)."""
    gap = group.standard[None, :] - np.nan_to_num(mean_compliance, nan=0.0)
    return (
        p.theme_incidents_per_month
        * (group.size * reporting_multiplier(group, p))[group.loc][None, :]
        * np.exp(p.incident_compliance_gradient * gap)
    )


def background_rate(group: Group, p: Parameters) -> np.ndarray:
    """(S, themes) recorded incidents a month not caused by any improvement's gap."""
    shares = theme_shares(BACKGROUND_THEME_SHARES)
    size = group.size * reporting_multiplier(group, p)
    return p.background_incidents_per_month * size[:, None] * shares[None, :]


def _reported_harm_weights(group: Group, p: Parameters) -> np.ndarray:
    """(S, harms) harm shares x how readily the service reports each harm: low-harm
    reporting follows the service's culture; moderate-or-worse harm much less so."""
    power = np.where(np.arange(len(p.harm_shares)) >= 2, p.reporting_serious_power, 1.0)
    return np.array(p.harm_shares)[None, :] * group.reporting[:, None] ** power[None, :]


def reporting_multiplier(group: Group, p: Parameters) -> np.ndarray:
    """(S,) recorded incidents against a service of average reporting culture."""
    return _reported_harm_weights(group, p).sum(1) / np.sum(p.harm_shares)


def harm_probabilities(group: Group, p: Parameters) -> np.ndarray:
    """(S, harms) the harm of a recorded incident, by service."""
    weights = _reported_harm_weights(group, p)
    return weights / weights.sum(1, keepdims=True)


def leaders_perceived(group: Group, p: Parameters, mean, rng) -> np.ndarray:
    """Compliance as leaders see it: the truth plus their optimism and noise."""
    noise = rng.standard_normal(mean.shape) * p.perception_sd
    return mean + group.optimism[None, :] + noise


def _next_declared(group: Group, p: Parameters, state: State, mean, acting, rng):
    """Leaders declare emerging at action, embedded after `claim_months` months they believe
    are at standard (1: too early, 6: too late), closed a few months later; they reopen when
    compliance falls clearly below the standard."""
    perceived = leaders_perceived(group, p, mean, rng)
    at_standard = perceived >= group.standard[None, :]
    run = np.where(acting[None, :] & at_standard, state.run_at_standard + 1, 0).astype(np.int16)
    u = rng.random(perceived.shape)
    d = state.declared
    claim = group.claim_months[None, :]
    to_emerging = acting[None, :] & (d == NONE)
    to_embedded = (d == EMERGING) & (run >= claim)
    to_closed = (d == EMBEDDED) & (run >= claim + p.close_after_months) & (u < p.close_monthly)
    reopen = (
        (d >= EMBEDDED)
        & (perceived < group.standard[None, :] - p.reopen_margin)
        & (u < p.reopen_monthly)
    )
    new = np.where(
        to_emerging | reopen,
        EMERGING,
        np.where(to_embedded, EMBEDDED, np.where(to_closed, CLOSED, d)),
    )
    return new.astype(np.int8), run, new != d


def _next_lagged(lagged, mean, p: Parameters) -> np.ndarray:
    w = p.feedback_lag_weight
    return np.where(np.isnan(lagged), mean, lagged + w * (mean - lagged))
