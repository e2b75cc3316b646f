"""Large exports for speed and memory benchmarks: every contract file at a given scale, fast.

No story behind the numbers (use `simulate_group` for realistic groups with ground truth):
the rows are random within the contract, drawn with vectorised numpy so ten million checks
take seconds.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from contracts.export import CHECK_SOURCES, KEY_QUESTIONS, ORIGINS, SEVERITIES, THEMES

START, END = pd.Timestamp("2023-11-01"), pd.Timestamp("2026-10-31")


def stress_export(
    checks: int, seed: int = 1, *, services: int | None = None, invalid_share: float = 0.0
) -> dict[str, pd.DataFrame]:
    """Contract frames at the scale of `checks` check rows (improvements = checks / 200,
    services = improvements / 25 unless given); `invalid_share` of checks break the
    met <= sampled rule, so that validation's quarantine has work."""
    rng = np.random.default_rng(seed)
    n_imp = max(checks // 200, 10)
    n_loc = services or max(n_imp // 25, 2)
    days = (END - START).days
    locations = np.array([f"1-{1000000000 + i}" for i in range(n_loc)])
    loc_of = rng.integers(0, n_loc, n_imp)
    identified = START + pd.to_timedelta(rng.integers(0, days - 60, n_imp), "D")
    action = identified + pd.to_timedelta(rng.integers(0, 60, n_imp), "D")
    action = action.where(rng.random(n_imp) > 0.1)
    ids = np.array([f"imp-{i:07d}" for i in range(n_imp)])
    improvements = pd.DataFrame(
        {
            "improvement_id": ids,
            "location_id": locations[loc_of],
            "theme": rng.choice(THEMES, n_imp),
            "key_question": rng.choice(KEY_QUESTIONS, n_imp),
            "severity": rng.choice(SEVERITIES, n_imp),
            "origin": rng.choice(ORIGINS, n_imp),
            "identified_on": identified,
            "action_started_on": action,
            "standard": rng.choice([0.8, 0.9, 0.95], n_imp),
        }
    )
    imp = rng.integers(0, n_imp, checks)
    span = (END - identified[imp]).days.to_numpy()
    sampled = rng.integers(5, 21, checks)
    met = rng.binomial(sampled, rng.uniform(0.6, 1.0, n_imp)[imp])
    met = np.where(rng.random(checks) < invalid_share, sampled + 1, met)
    source = rng.choice(CHECK_SOURCES, checks)
    frames = {
        "services": pd.DataFrame(
            {
                "location_id": locations,
                "provider_id": "1-100000001",
                "name": "Service",
                "service_type": "care_home_nursing",
            }
        ),
        "improvements": improvements,
        "checks": pd.DataFrame(
            {
                "check_id": np.char.add("c", np.arange(checks).astype(str)),
                "improvement_id": ids[imp],
                "team": np.char.add("Team ", rng.integers(1, 5, checks).astype(str)),
                "source": source,
                "checked_on": identified[imp]
                + pd.to_timedelta((rng.random(checks) * span).astype(int), "D"),
                "sampled": sampled,
                "met": met,
                "repeat_gaps": rng.binomial(np.maximum(sampled - met, 0), 0.4),
                "prompts_needed": np.where(
                    source == "staff_practice", rng.poisson(1.0, checks), np.nan
                ),
                "self_rated_confidence": np.where(
                    source == "competency", rng.uniform(1, 5, checks), np.nan
                ),
            }
        ),
        **_events(rng, improvements, locations, checks // 20, days),
    }
    return frames


def _events(rng, improvements, locations, count, days) -> dict[str, pd.DataFrame]:
    at = START + pd.to_timedelta(rng.integers(0, days, count), "D")
    mondays = pd.date_range(START, END, freq="W-MON")
    grid = pd.MultiIndex.from_product([locations, ["Team 1", "Team 2"], mondays]).to_frame(
        index=False, name=["location_id", "team", "week_start"]
    )
    planned = rng.integers(20, 80, len(grid))
    agency = rng.binomial(planned, 0.1)
    return {
        "feedback": pd.DataFrame(
            {
                "feedback_id": np.char.add("f", np.arange(count).astype(str)),
                "location_id": rng.choice(locations, count),
                "received_on": at,
                "channel": rng.choice(["survey", "complaint", "meeting"], count),
                "respondent": rng.choice(["person", "family", "staff", "professional"], count),
                "theme": rng.choice(THEMES, count),
                "sentiment": rng.integers(-1, 2, count),
            }
        ),
        "incidents": pd.DataFrame(
            {
                "incident_id": np.char.add("i", np.arange(count).astype(str)),
                "location_id": rng.choice(locations, count),
                "occurred_on": at,
                "theme": rng.choice(THEMES, count),
                "harm": rng.choice(["none", "low", "moderate", "severe"], count),
            }
        ),
        "workforce": grid.assign(
            shifts_planned=planned,
            shifts_agency=agency,
            shifts_unfilled=rng.binomial(planned - agency, 0.05),
            leavers=rng.poisson(0.2, len(grid)),
        ),
        "reviews": pd.DataFrame(
            {
                "review_id": np.char.add("r", np.arange(len(improvements)).astype(str)),
                "improvement_id": improvements["improvement_id"],
                "reviewed_on": improvements["identified_on"] + pd.Timedelta(days=90),
                "level": "registered_manager",
                "classification": rng.choice(
                    ["emerging", "embedded", "not_assured"], len(improvements)
                ),
            }
        ),
    }
