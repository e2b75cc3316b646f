"""Turning each simulated month into export rows (one draw: the export itself).

`Recorder.add` is called once per month with the state before and after the month; it
draws the observable details (days, teams, harms, feedback, reviews) and keeps compact
numpy arrays. `Recorder.tables` returns plain column arrays per file; `frames` types them.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from contracts.export import THEMES
from simulator.dynamics import (
    CLOSED,
    HOLDING,
    Month,
    State,
    background_rate,
    harm_probabilities,
    leaders_perceived,
)
from simulator.group import THEME_SHARES, Group, theme_shares
from simulator.parameters import Parameters
from simulator.words import feedback_text_index

CHANNELS = np.array(
    ["survey", "complaint", "compliment", "meeting", "review_site", "staff_survey", "other"],
    dtype=object,
)
# Channel mix by sentiment (-1, 0, 1): complaints come from unhappy people, compliments
# from happy ones, surveys from everyone.
CHANNEL_SHARES = np.array(
    [
        [0.30, 0.45, 0.00, 0.10, 0.12, 0.00, 0.03],
        [0.65, 0.00, 0.00, 0.28, 0.05, 0.00, 0.02],
        [0.40, 0.00, 0.38, 0.05, 0.15, 0.00, 0.02],
    ]
)
RESPONDENTS = np.array(["person", "family", "staff", "professional"], dtype=object)
HARMS = np.array(["none", "low", "moderate", "severe", "death"], dtype=object)
LEVELS = np.array(["registered_manager", "senior_leadership", "board"], dtype=object)
CLASSIFICATIONS = np.array(["emerging", "embedded", "not_assured"], dtype=object)
STAFF_THEMES = {"staffing": 0.5, "training_competency": 0.2, "governance": 0.2, "other": 0.1}


class Recorder:
    """Collects the export rows month by month."""

    def __init__(self, group: Group, p: Parameters):
        self.group, self.p = group, p
        self.rows: dict[str, defaultdict[str, list]] = defaultdict(lambda: defaultdict(list))
        self.previous_failed = np.full((group.improvements, group.max_teams, 4), -1, np.int16)
        self.last_declared_month = np.full(group.improvements, -1, np.int64)
        self.instability: list[np.ndarray] = []
        self.harm_probabilities = harm_probabilities(group, p)

    def add(
        self, month: int, before: State, after: State, out: Month, rng: np.random.Generator
    ) -> None:
        """Record month `month` of the single export draw."""
        self._checks(month, after, out, rng)
        self._theme_incidents(month, out, rng)
        self._background_incidents(month, rng)
        self._feedback(month, before, out, rng)
        self._reviews(month, before, after, out, rng)
        self.last_declared_month[out.declared_changed[0]] = month
        changed = np.flatnonzero(out.declared_changed[0])
        declarations = self.rows["declarations"]
        declarations["improvement"].append(changed.astype(np.int32))
        declarations["month"].append(np.full(len(changed), month, np.int32))
        declarations["status"].append(after.declared[0, changed].astype(np.int8))
        self.instability.append(out.instability[0].astype(np.float32))

    # --- checks -------------------------------------------------------------------------
    def _checks(self, month: int, after: State, out: Month, rng) -> None:
        g, p = self.group, self.p
        _, imp, team, source = out.check_at
        sampled, met = out.sampled, out.met
        failed = sampled - met
        previous = self.previous_failed[imp, team, source]
        holding = after.status[0, imp, team] == HOLDING
        recur = np.where(holding, p.repeat_gap_held, p.repeat_gap_not_held)
        repeat = rng.binomial(np.maximum(np.minimum(failed, previous), 0), recur)
        repeat = np.where((previous >= 0) & (source < 3), repeat, -1)
        self.previous_failed[imp, team, source] = failed
        prompts = rng.poisson(p.prompts_per_failed_item * failed + 0.2)
        prompts = np.where(source == 2, prompts, -1)
        # Self-ratings crowd the middle of the scale, vary with how a service asks, and rise
        # with over-confidence: not an exact function of the pass share.
        confidence = (
            p.confidence_centre
            + p.confidence_pass_slope * (met / sampled - 0.8)
            + p.confidence_overconfidence * g.overconfidence[g.loc[imp], team]
            + g.confidence_style[g.loc[imp]]
            + rng.normal(0, p.confidence_noise_sd, len(imp))
        )
        confidence = np.where(source == 3, np.round(np.clip(confidence, 1, 5), 1), np.nan)
        rows = self.rows["checks"]
        rows["improvement"].append(imp.astype(np.int32))
        rows["team"].append(team.astype(np.int8))
        rows["source"].append(source.astype(np.int8))
        rows["date"].append(self._dates(month, imp, rng, after_action=False))
        rows["sampled"].append(sampled.astype(np.int16))
        rows["met"].append(met.astype(np.int16))
        rows["repeat_gaps"].append(repeat.astype(np.int16))
        rows["prompts_needed"].append(prompts.astype(np.int16))
        rows["self_rated_confidence"].append(confidence.astype(np.float32))

    # --- incidents ----------------------------------------------------------------------
    def _theme_incidents(self, month: int, out: Month, rng) -> None:
        g, p = self.group, self.p
        imp = np.repeat(np.arange(g.improvements), out.theme_incidents[0])
        named = rng.random(len(imp)) < p.named_incident_share
        self._incident_rows(
            month,
            g.loc[imp],
            g.theme[imp],
            np.where(named, imp, -1),
            rng,
            dates=self._dates(month, imp, rng, after_action=False),
        )

    def _background_incidents(self, month: int, rng) -> None:
        g = self.group
        rate = background_rate(g, self.p).sum(axis=1)
        loc = np.repeat(np.arange(g.services), rng.poisson(rate))
        theme = rng.choice(len(THEMES), size=len(loc), p=_background_mix(g, self.p))
        self._incident_rows(
            month,
            loc,
            theme,
            np.full(len(loc), -1),
            rng,
            dates=self._service_dates(month, len(loc), rng),
        )

    def _incident_rows(self, month, loc, theme, improvement, rng, *, dates) -> None:
        p = self.p
        rows = self.rows["incidents"]
        rows["location"].append(loc.astype(np.int32))
        rows["theme"].append(theme.astype(np.int8))
        rows["improvement"].append(improvement.astype(np.int32))
        rows["team"].append(self._random_team(loc, p.incident_team_missing, rng))
        rows["date"].append(dates)
        cumulative = np.cumsum(self.harm_probabilities, axis=1)[loc]
        harm = (rng.random(len(loc))[:, None] > cumulative).sum(1)
        rows["harm"].append(np.minimum(harm, len(HARMS) - 1).astype(np.int8))

    # --- feedback -----------------------------------------------------------------------
    def _feedback(self, month: int, before: State, out: Month, rng) -> None:
        g, p = self.group, self.p
        identified = month >= g.identified_month
        rate = np.where(identified, p.theme_feedback_per_month * g.size[g.loc], 0.0)
        imp = np.repeat(np.arange(g.improvements), rng.poisson(rate))
        lagged = before.lagged_compliance[0, imp]
        lagged = np.where(np.isnan(lagged), out.mean_compliance[0, imp], lagged)
        z = (
            p.feedback_compliance_gradient * (lagged - g.standard[imp])
            + p.feedback_culture * g.culture[g.loc[imp]]
            + rng.standard_normal(len(imp))
        )
        respondent = rng.choice([0, 1, 3], size=len(imp), p=[0.45, 0.45, 0.1])
        named = rng.random(len(imp)) < p.named_feedback_share
        # Filed under another theme by whoever logged it (imperfect links knob).
        miscoded = rng.random(len(imp)) < p.feedback_theme_miscoded
        other = rng.choice(len(THEMES), size=len(imp), p=theme_shares(THEME_SHARES))
        self._feedback_rows(
            g.loc[imp],
            np.where(miscoded, other, g.theme[imp]),
            np.where(named, imp, -1),
            respondent,
            _sentiment(z),
            self._dates(month, imp, rng, after_action=False),
            rng,
        )
        self._staff_feedback(month, out, rng)
        self._background_feedback(month, rng)

    def _staff_feedback(self, month: int, out: Month, rng) -> None:
        g, p = self.group, self.p
        valid = np.arange(g.max_teams)[None, :] < g.teams[:, None]
        counts = rng.poisson(p.staff_feedback_per_team_month * valid)
        loc, team = np.nonzero(counts)
        loc, team = np.repeat(loc, counts[loc, team]), np.repeat(team, counts[loc, team])
        z = (
            -0.9 * out.instability[0, loc, team]
            + 0.4 * g.leadership[loc]
            + rng.standard_normal(len(loc))
        )
        theme_pick = rng.choice(len(STAFF_THEMES), size=len(loc), p=list(STAFF_THEMES.values()))
        theme = np.array([THEMES.index(t) for t in STAFF_THEMES])[theme_pick]
        self._feedback_rows(
            loc,
            theme,
            np.full(len(loc), -1),
            np.full(len(loc), 2),
            _sentiment(z),
            self._service_dates(month, len(loc), rng),
            rng,
            team=team,
        )

    def _background_feedback(self, month: int, rng) -> None:
        g, p = self.group, self.p
        loc = np.repeat(
            np.arange(g.services), rng.poisson(p.background_feedback_per_month * g.size)
        )
        theme = rng.choice(len(THEMES), size=len(loc), p=theme_shares(THEME_SHARES))
        z = 0.4 + p.feedback_culture * g.culture[loc] + rng.standard_normal(len(loc))
        respondent = rng.choice([0, 1, 3], size=len(loc), p=[0.4, 0.45, 0.15])
        self._feedback_rows(
            loc,
            theme,
            np.full(len(loc), -1),
            respondent,
            _sentiment(z),
            self._service_dates(month, len(loc), rng),
            rng,
        )

    def _feedback_rows(
        self, loc, theme, improvement, respondent, sentiment, dates, rng, *, team=None
    ) -> None:
        p = self.p
        n = len(loc)
        if team is None:
            team = self._random_team(loc, p.feedback_team_missing, rng)
        staff = respondent == 2
        channel = _channels(sentiment, staff, rng)
        rated = np.isin(channel, (0, 4))
        rating = np.clip(3 + sentiment + rng.choice([-1, 0, 0, 1], size=n) * (sentiment != 0), 1, 5)
        rows = self.rows["feedback"]
        rows["location"].append(loc.astype(np.int32))
        rows["improvement"].append(improvement.astype(np.int32))
        rows["team"].append(team.astype(np.int8))
        rows["date"].append(dates)
        rows["channel"].append(channel.astype(np.int8))
        rows["respondent"].append(respondent.astype(np.int8))
        rows["theme"].append(theme.astype(np.int8))
        rows["sentiment"].append(sentiment.astype(np.int8))
        rows["rating"].append(np.where(rated, rating, -1).astype(np.int8))
        rows["text"].append(
            np.where(
                rng.random(n) < p.feedback_with_text_share, _text_choice(sentiment, theme, rng), -1
            ).astype(np.int32)
        )

    # --- governance reviews ---------------------------------------------------------------
    def _reviews(self, month: int, before: State, after: State, out: Month, rng) -> None:
        g, p = self.group, self.p
        acting = month >= g.action_month
        closed = before.declared[0] == CLOSED
        for level in range(len(LEVELS)):
            open_chance, closed_chance = p.review_monthly[level]
            if level == 2:
                open_chance = np.where(
                    g.severity == "serious", p.board_serious_monthly, open_chance
                )
            chance = np.where(closed, closed_chance, open_chance) * acting
            imp = np.flatnonzero(rng.random(g.improvements) < chance)
            perceived = (
                leaders_perceived(g, p, out.mean_compliance, rng)[0, imp] + p.review_optimism[level]
            )
            classification = np.where(
                (perceived >= g.standard[imp]) & (after.run_at_standard[0, imp] >= 2),
                1,
                np.where(perceived < g.standard[imp] - p.not_assured_margin, 2, 0),
            )
            rows = self.rows["reviews"]
            rows["improvement"].append(imp.astype(np.int32))
            rows["date"].append(self._dates(month, imp, rng, after_action=True))
            rows["level"].append(np.full(len(imp), level, np.int8))
            rows["classification"].append(classification.astype(np.int8))

    # --- helpers --------------------------------------------------------------------------
    def _dates(self, month: int, imp: np.ndarray, rng, *, after_action: bool) -> np.ndarray:
        """A day in `month` for each row of an improvement, never before it was identified
        (or, for reviews, before action started)."""
        g, cal = self.group, self.group.calendar
        lo = np.where(g.identified_month[imp] == month, g.identified_day[imp], 1)
        if after_action:
            lo = np.where(g.action_month[imp] == month, np.maximum(lo, g.action_day[imp]), lo)
        hi = cal.days[month]
        day = lo + np.floor(rng.random(len(imp)) * (hi - lo + 1)).astype(np.int64)
        return cal.month_starts[month] + (day - 1).astype("timedelta64[D]")

    def _service_dates(self, month: int, n: int, rng) -> np.ndarray:
        cal = self.group.calendar
        day = np.floor(rng.random(n) * cal.days[month]).astype(np.int64)
        return cal.month_starts[month] + day.astype("timedelta64[D]")

    def _random_team(self, loc, missing_share: float, rng) -> np.ndarray:
        """A team of the service, or -1 (not recorded) for `missing_share` of rows."""
        team = np.floor(rng.random(len(loc)) * self.group.teams[loc]).astype(np.int8)
        return np.where(rng.random(len(loc)) < missing_share, -1, team).astype(np.int8)

    def column_arrays(self) -> dict[str, dict[str, np.ndarray]]:
        """Every recorded column, months concatenated."""
        return {
            name: {col: np.concatenate(parts) for col, parts in cols.items()}
            for name, cols in self.rows.items()
        }


def _sentiment(z: np.ndarray) -> np.ndarray:
    return np.where(z > 0.5, 1, np.where(z < -0.5, -1, 0))


def _channels(sentiment, staff, rng) -> np.ndarray:
    """Channel index by sentiment; staff speak in staff surveys and meetings."""
    u = rng.random(len(sentiment))
    cumulative = np.cumsum(CHANNEL_SHARES, axis=1)[sentiment + 1]
    channel = (u[:, None] > cumulative).sum(axis=1)
    channel = np.minimum(channel, len(CHANNELS) - 1)
    return np.where(staff, np.where(u < 0.6, 5, 3), channel)


def _text_choice(sentiment, theme, rng) -> np.ndarray:
    named = rng.random(len(sentiment)) < 0.25
    return feedback_text_index(sentiment, theme, named, rng)


def _background_mix(group: Group, p: Parameters) -> np.ndarray:
    rate = background_rate(group, p)[0]
    return rate / rate.sum()
