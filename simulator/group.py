"""The fictional provider group: services, teams and improvements, drawn once.

Everything here is fixed for the whole run (and for every re-simulation of the ground
truth); what changes month to month lives in `simulator.dynamics`.
Improvements are indexed 0..I-1 in identification order; teams are padded to the largest
team count so that every improvement has a row of `max_teams` team slots.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

import numpy as np

from contracts.export import THEMES
from simulator.parameters import Parameters
from simulator.words import region_names, service_names, team_names

NEVER = np.iinfo(np.int32).max  # month index of an action that never starts

THEME_SHARES = {
    "documentation": 0.13,
    "medicines": 0.15,
    "falls": 0.08,
    "pressure_care": 0.07,
    "infection_prevention": 0.08,
    "safeguarding": 0.05,
    "nutrition_hydration": 0.06,
    "staffing": 0.06,
    "training_competency": 0.08,
    "consent_capacity": 0.06,
    "person_centred_care": 0.07,
    "complaints_handling": 0.03,
    "governance": 0.05,
    "environment": 0.02,
    "other": 0.01,
}
# Background incidents: falls and medicines dominate what care services report.
BACKGROUND_THEME_SHARES = {
    "documentation": 0.03,
    "medicines": 0.22,
    "falls": 0.32,
    "pressure_care": 0.1,
    "infection_prevention": 0.05,
    "safeguarding": 0.08,
    "nutrition_hydration": 0.04,
    "staffing": 0.03,
    "training_competency": 0.01,
    "consent_capacity": 0.01,
    "person_centred_care": 0.03,
    "complaints_handling": 0.01,
    "governance": 0.01,
    "environment": 0.04,
    "other": 0.02,
}
THEME_KEY_QUESTION = {
    "documentation": "well_led",
    "medicines": "safe",
    "falls": "safe",
    "pressure_care": "safe",
    "infection_prevention": "safe",
    "safeguarding": "safe",
    "nutrition_hydration": "effective",
    "staffing": "safe",
    "training_competency": "effective",
    "consent_capacity": "effective",
    "person_centred_care": "responsive",
    "complaints_handling": "responsive",
    "governance": "well_led",
    "environment": "safe",
    "other": "caring",
}
SEVERITY_SHARES = {"routine": 0.55, "significant": 0.35, "serious": 0.10}
ORIGIN_SHARES = {
    "internal_audit": 0.45,
    "incident": 0.14,
    "complaint": 0.1,
    "inspection": 0.15,
    "safeguarding": 0.05,
    "whistleblowing": 0.02,
    "commissioner": 0.07,
    "other": 0.02,
}


@dataclass(frozen=True)
class Calendar:
    """The export's calendar months, month 0 first; the last month may end before its end."""

    month_starts: np.ndarray  # datetime64[D], first day of each month
    days: np.ndarray  # usable days in each month (the last month stops at `end`)
    end: date

    @property
    def months(self) -> int:
        return len(self.month_starts)

    def month_ends(self) -> np.ndarray:
        """Last day of each month (calendar, may be after `end` for a partial last month)."""
        nxt = (self.month_starts.astype("datetime64[M]") + 1).astype("datetime64[D]")
        return nxt - np.timedelta64(1, "D")


@dataclass(frozen=True)
class Group:
    """Static attributes of services (S), their teams (S x max_teams) and improvements (I)."""

    calendar: Calendar
    location_id: np.ndarray
    provider_id: str
    service_name: np.ndarray
    service_type: np.ndarray
    region: np.ndarray
    beds: np.ndarray  # float, NaN where beds do not apply
    size: np.ndarray  # people supported / 40, scales event rates
    leadership: np.ndarray
    base_instability: np.ndarray
    culture: np.ndarray
    teams: np.ndarray  # team count per service
    team_name: np.ndarray  # (S, max_teams) str, "" beyond the service's teams
    team_size_shifts: np.ndarray  # (S, max_teams) planned shifts per week
    overconfidence: np.ndarray  # (S, max_teams) self-rating above demonstrated, 1-5 points
    # improvements
    loc: np.ndarray
    theme: np.ndarray  # index into THEMES
    severity: np.ndarray
    origin: np.ndarray
    framework_ref: np.ndarray
    identified_month: np.ndarray
    identified_day: np.ndarray  # day of month, 1-based
    action_month: np.ndarray  # NEVER when action never starts
    action_day: np.ndarray
    standard: np.ndarray
    baseline: np.ndarray
    target: np.ndarray
    team_offset: np.ndarray  # (I, max_teams)
    willing: np.ndarray  # (I, max_teams) bool: the team would ever adopt
    adoption_chance: np.ndarray  # monthly, per improvement
    recovery_chance: np.ndarray
    source_used: np.ndarray  # (I, 4) bool: audit, care_records, staff_practice, competency
    optimism: np.ndarray
    claim_months: np.ndarray
    stops_after_closure: np.ndarray  # (I,) bool: checks end once leaders close it
    # knobs (simulator.parameters.KNOBS), per service unless said
    audit_leniency: np.ndarray  # own audits read above the latent level
    reporting: np.ndarray  # incident reporting rate against the group's (1 = average)
    agency_propensity: np.ndarray  # log-odds of covering gaps with agency staff
    confidence_style: np.ndarray  # how a service's staff rate their own confidence
    regime_region: np.ndarray  # bool: in the region whose regime changes part-way
    first_month_of_year: int = 0  # calendar month (0 = January) of month index 0

    def subset(self, improvements: np.ndarray) -> Group:
        """The same group with only the given improvements (services and teams unchanged)."""
        sliced = {name: getattr(self, name)[improvements] for name in IMPROVEMENT_FIELDS}
        return replace(self, **sliced)

    @property
    def services(self) -> int:
        return len(self.location_id)

    @property
    def improvements(self) -> int:
        return len(self.loc)

    @property
    def max_teams(self) -> int:
        return self.team_name.shape[1]

    @property
    def team_valid(self) -> np.ndarray:
        """(I, max_teams) bool: the team slot is a real team of the improvement's service."""
        return np.arange(self.max_teams)[None, :] < self.teams[self.loc][:, None]


IMPROVEMENT_FIELDS = (
    "loc",
    "theme",
    "severity",
    "origin",
    "framework_ref",
    "identified_month",
    "identified_day",
    "action_month",
    "action_day",
    "standard",
    "baseline",
    "target",
    "team_offset",
    "willing",
    "adoption_chance",
    "recovery_chance",
    "source_used",
    "optimism",
    "claim_months",
    "stops_after_closure",
)


def calendar_for(end: date, years: float) -> Calendar:
    """The `round(years * 12)` calendar months ending with the month of `end`."""
    months = max(1, round(years * 12))
    last = np.datetime64(end, "M")
    starts = np.arange(last - months + 1, last + 1).astype("datetime64[D]")
    days = ((starts.astype("datetime64[M]") + 1).astype("datetime64[D]") - starts).astype(int)
    days[-1] = end.day
    return Calendar(month_starts=starts, days=days, end=end)


def draw_group(services: int, calendar: Calendar, p: Parameters, rng: np.random.Generator) -> Group:
    """Draw the services, their teams and every improvement of the run."""
    svc = _draw_services(services, p, rng)
    imp = _draw_improvements(svc, calendar, p, rng)
    # Drawn last and whatever the knobs, so that every knob setting shares the same group.
    knobs = _draw_knob_attributes(svc, imp, p, rng)
    imp["optimism"] = imp["optimism"] + knobs.pop("service_optimism")[imp["loc"]]
    imp["recovery_chance"] = sigmoid(
        p.recovery_logit
        + p.recovery_leadership * svc["leadership"][imp["loc"]]
        + p.recovery_experience * svc["culture"][imp["loc"]]
    )
    first = int(calendar.month_starts[0].astype("datetime64[M]").astype(np.int64) % 12)
    return Group(calendar=calendar, **svc, **imp, **knobs, first_month_of_year=first)


def _draw_knob_attributes(svc: dict, imp: dict, p: Parameters, rng) -> dict:
    """The service and improvement attributes behind the knobs (`Parameters` "knobs")."""
    n, m = len(svc["teams"]), len(imp["loc"])
    z = rng.standard_normal((5, n))
    named = svc["region"][svc["region"] != ""]
    regions = np.unique(named if len(named) else svc["region"])
    changed = regions[rng.integers(0, len(regions))]
    sd = p.reporting_culture_sd
    return dict(
        stops_after_closure=rng.random(m) < p.stop_after_closure_share,
        audit_leniency=np.maximum(
            0.0, p.self_audit_leniency_mean + p.self_audit_leniency_sd * z[0]
        ),
        reporting=np.exp(sd * z[1] - sd * sd / 2),
        agency_propensity=p.agency_service_sd * z[2],
        confidence_style=p.confidence_service_sd * z[3],
        regime_region=svc["region"] == changed,
        service_optimism=p.service_optimism_sd * z[4],
    )


def sigmoid(x):
    """The logistic function, elementwise."""
    return 1.0 / (1.0 + np.exp(-x))


def _draw_services(n: int, p: Parameters, rng: np.random.Generator) -> dict:
    ids = 100_000_000 + rng.choice(900_000_000, size=n + 1, replace=False)
    service_type = rng.choice(np.array(p.service_types), size=n, p=p.service_type_shares)
    home = np.char.startswith(service_type.astype(str), "care_home")
    beds = np.where(home, np.clip(np.round(rng.normal(42, 16, n)), 8, 120), np.nan)
    beds = np.where(service_type == "hospice", np.clip(np.round(rng.normal(16, 5, n)), 6, 30), beds)
    people = np.where(np.isnan(beds), np.clip(rng.lognormal(np.log(40), 0.5, n), 5, 250), beds)
    leadership = rng.standard_normal(n)
    r = p.leadership_instability_correlation
    instability = r * leadership + np.sqrt(1 - r * r) * rng.standard_normal(n)
    c = p.culture_leadership_correlation
    culture = c * leadership + np.sqrt(1 - c * c) * rng.standard_normal(n)
    teams = rng.choice(np.array(p.team_counts), size=n, p=p.team_count_shares)
    width = max(p.team_counts)
    names = team_names(service_type, teams, width, rng)
    # About 2.5 care-staff shifts per person supported per week, split across the teams.
    shifts = np.round(people[:, None] * 2.5 / teams[:, None] * rng.uniform(0.8, 1.2, (n, width)))
    return dict(
        location_id=np.char.add("1-", ids[:n].astype(str)).astype(object),
        provider_id="1-" + str(ids[n]),
        service_name=service_names(service_type, rng),
        service_type=service_type.astype(object),
        region=region_names(n, rng),
        beds=beds,
        size=people / 40.0,
        leadership=leadership,
        base_instability=instability,
        culture=culture,
        teams=teams,
        team_name=names,
        team_size_shifts=np.maximum(shifts, 7).astype(np.int64),
        overconfidence=rng.normal(p.overconfidence_mean, p.overconfidence_sd, (n, width)),
    )


def _draw_improvements(
    svc: dict, calendar: Calendar, p: Parameters, rng: np.random.Generator
) -> dict:
    n_services = len(svc["teams"])
    per_month = (
        np.vstack(
            [
                rng.poisson(p.backlog_per_service, n_services),
                rng.poisson(p.arrivals_per_service_year / 12, (calendar.months - 1, n_services)),
            ]
        )
        if calendar.months > 1
        else rng.poisson(p.backlog_per_service, (1, n_services))
    )
    month_idx, loc = np.nonzero(per_month)
    counts = per_month[month_idx, loc]
    month_idx, loc = np.repeat(month_idx, counts), np.repeat(loc, counts)
    n = len(loc)
    day = 1 + np.floor(rng.random(n) * calendar.days[month_idx]).astype(np.int64)
    order = np.lexsort((loc, day, month_idx))
    month_idx, loc, day = month_idx[order], loc[order], day[order]
    width = svc["team_name"].shape[1]
    leader = svc["leadership"][loc]
    action_month, action_day = _action_start(month_idx, day, calendar, p, rng)
    standard = rng.choice(np.array(p.standards), size=n, p=p.standard_shares)
    baseline = standard - rng.uniform(*p.baseline_gap, n)
    target = np.minimum(0.995, standard + rng.uniform(*p.target_margin, n))
    theme = rng.choice(len(THEMES), size=n, p=theme_shares(THEME_SHARES))
    return dict(
        loc=loc,
        theme=theme,
        severity=rng.choice(
            np.array(list(SEVERITY_SHARES), dtype=object), size=n, p=list(SEVERITY_SHARES.values())
        ),
        origin=rng.choice(
            np.array(list(ORIGIN_SHARES), dtype=object), size=n, p=list(ORIGIN_SHARES.values())
        ),
        framework_ref=_framework_refs(theme, rng),
        identified_month=month_idx,
        identified_day=day,
        action_month=action_month,
        action_day=action_day,
        standard=standard,
        baseline=baseline,
        target=target,
        team_offset=rng.normal(0, p.team_offset_sd, (n, width)),
        willing=_willing_teams(leader, svc["teams"][loc], width, p, rng),
        adoption_chance=sigmoid(p.adoption_logit + p.adoption_leadership * leader),
        recovery_chance=sigmoid(p.recovery_logit + p.recovery_leadership * leader),
        source_used=_sources_used(n, p, rng),
        optimism=rng.normal(p.optimism_mean, p.optimism_sd, n),
        claim_months=rng.choice(np.array(p.claim_months), size=n, p=p.claim_month_shares),
    )


def _action_start(month_idx, day, calendar: Calendar, p: Parameters, rng):
    """Month and day action starts: a geometric delay after identification, or never."""
    n = len(month_idx)
    delay = rng.geometric(p.action_delay_monthly_start, n) - 1
    never = rng.random(n) < p.never_acted_share
    month = np.where(never, NEVER, month_idx + delay).astype(np.int64)
    in_range = month < calendar.months
    days = calendar.days[np.minimum(month, calendar.months - 1)]
    lo = np.where(month == month_idx, day, 1)
    action_day = lo + np.floor(rng.random(n) * (days - lo + 1)).astype(np.int64)
    return month, np.where(in_range, action_day, 0)


def _willing_teams(leader, teams, width, p: Parameters, rng) -> np.ndarray:
    """Which teams would ever take the change up: one team for pilots, else most teams."""
    n = len(leader)
    valid = np.arange(width)[None, :] < teams[:, None]
    unwilling = sigmoid(p.unwilling_logit - p.unwilling_leadership * leader)
    willing = valid & (rng.random((n, width)) >= unwilling[:, None])
    pilot_team = np.floor(rng.random(n) * teams).astype(np.int64)
    pilot = rng.random(n) < p.pilot_share
    only = np.arange(width)[None, :] == pilot_team[:, None]
    return np.where(pilot[:, None], only, willing)


def _sources_used(n: int, p: Parameters, rng) -> np.ndarray:
    return rng.random((n, 4)) < np.array(p.source_use_shares)[None, :]


def _framework_refs(theme: np.ndarray, rng) -> np.ndarray:
    """A single-assessment-framework quality statement per theme; empty for some rows."""
    statement = (np.arange(len(THEMES)) * 7 % 34) + 1
    refs = np.char.add("saf-2023:qs", np.char.zfill(statement[theme].astype(str), 2))
    return np.where(rng.random(len(theme)) < 0.85, refs, "").astype(object)


def theme_shares(table: dict[str, float]) -> np.ndarray:
    """Shares in the contract's theme order, normalised to sum to one."""
    shares = np.array([table[t] for t in THEMES], dtype=float)
    return shares / shares.sum()
