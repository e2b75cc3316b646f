"""Team-level evidence: one row per improvement x team at an as-of date.

An improvement is delivered team by team, so whether it has taken hold is read team by team
too: which teams are at the standard and which below, how long each has been there, how much
prompting its staff need, whether they demonstrate competency, and the team's own rota
(key-worker continuity, agency and unfilled shifts). The rules name the teams at and below
the standard from this table, and a run writes it as `teams` (contracts.tables).

The teams of an improvement are those with one of its checks (primary checks over the latest
`TEAM_MONTHS` months, any check in the 180 days to as_of) and the teams on its location's rota
in the 90 days to as_of. Checks and rota rows meet on the team's name. Windows are those of the
features: (as_of - d days, as_of], and calendar months with the month of as_of holding only
checks dated on or before it. Nothing dated after as_of is read (the view cannot reach it).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from contracts.export import CHECK_SOURCES
from contracts.params import FeatureParams
from features.columns import TEAMS_AT_STANDARD, TEAMS_BELOW_STANDARD, TEAMS_CONTINUITY_LAGGING
from features.evidence import AsOfView
from features.panels import ratio, sums_by_key

# Months of primary checks read for a team's run at the standard: a run longer than two years
# reads as "24 months", and the nightly run sorts a bounded number of team-months.
TEAM_MONTHS = 24
AT_STANDARD = "at standard"
BELOW_STANDARD = "below standard"
NOT_CHECKED = "not checked in 90 days"
# Team names are joined with this in the per-improvement name columns (a list, as outputs
# join several items; sentences show them joined by ", ").
NAME_SEPARATOR = "; "
COMPETENCY = CHECK_SOURCES.index("competency")
STAFF_PRACTICE = CHECK_SOURCES.index("staff_practice")
KEYS = ["improvement", "team"]


def team_table(view: AsOfView, params: FeatureParams) -> pd.DataFrame:
    """One row per (improvement, team), sorted by improvement then team name.

    Columns: improvement (position), team (name), months_at_standard (months in a row at or
    above the standard, counted back from the team's latest month with a primary check; 0 when
    that month was below; NaN when the team has none), latest_compliance (pooled primary
    checks of the team's latest check day in the 90 days), latest_check_day (day number),
    status (at standard, below standard, not checked in 90 days), prompts_per_observation (90
    days), competency_pass_share and self_rated_confidence (180 days), and the team's rota over
    the 90 days: keyworker_continuity, agency_shift_share, unfilled_shift_share; and what
    feedback and incidents naming the team say over the 90 days: complaints_90d (complaints on
    the theme) and serious_incidents_90d (moderate-or-worse theme incidents); NaN when the file
    is absent or records no team.
    """
    names, codes = _team_names(view)
    checks = _check_team_rows(view, params)
    rota = _rota_team_rows(view, params, codes.get("workforce"))
    rows = pd.concat([checks[KEYS], rota[KEYS]]).drop_duplicates(KEYS)
    table = (
        rows.merge(_months_at_standard(view), on=KEYS, how="left")
        .merge(checks, on=KEYS, how="left")
        .merge(rota, on=KEYS, how="left")
        .merge(_event_counts(view, params, codes), on=KEYS, how="left")
    )
    for name, panel in (
        ("complaints_90d", view.evidence.feedback),
        ("serious_incidents_90d", view.evidence.incidents),
    ):
        if panel is not None and len(panel.team_names):  # the file records teams: 0 is a count
            table[name] = table[name].fillna(0.0)
    latest = table["latest_compliance"].to_numpy()
    standard = view.evidence.standard[table["improvement"].to_numpy()]
    status = np.select(
        [np.isnan(latest), latest >= standard - 1e-12], [NOT_CHECKED, AT_STANDARD], BELOW_STANDARD
    )
    # Sorted by improvement, then team name: the names are ranked once, the rows by integers.
    code = table["team"].to_numpy("int64")
    rank = pd.Series(names, dtype="object").fillna("").rank(method="dense").to_numpy()
    order = np.lexsort((rank[code], table["improvement"].to_numpy()))
    table = table.iloc[order].reset_index(drop=True)
    table = table.assign(team=names[table["team"].to_numpy()], status=status[order])
    return table[
        [
            "improvement",
            "team",
            "months_at_standard",
            "latest_compliance",
            "latest_check_day",
            "status",
            "prompts_per_observation",
            "competency_pass_share",
            "self_rated_confidence",
            "keyworker_continuity",
            "agency_shift_share",
            "unfilled_shift_share",
            "complaints_90d",
            "serious_incidents_90d",
        ]
    ]


def _team_names(view: AsOfView) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Every team's name (check teams' codes first, then teams only the rota, incidents or
    feedback name), and for each of those files the code, in that list, of each of its teams."""
    evidence = view.evidence
    combined = pd.Index(evidence.checks.team_names, dtype=object)
    others = {
        name: pd.Index(panel.team_names, dtype=object)
        for name, panel in (
            ("workforce", evidence.workforce),
            ("incidents", evidence.incidents),
            ("feedback", evidence.feedback),
        )
        if panel is not None and panel.team_names is not None
    }
    for teams in others.values():  # a team not recorded (None) is never a row
        combined = combined.append(teams.difference(combined, sort=False).dropna())
    codes = {name: combined.get_indexer(teams) for name, teams in others.items()}
    return np.asarray(combined, dtype=object), codes


def _event_counts(view: AsOfView, params: FeatureParams, codes: dict) -> pd.DataFrame:
    """Per (improvement, team named by the event): complaints on the theme and moderate-or-worse
    theme incidents in the 90 days to as_of (teams with none are not listed)."""
    counted = []
    for name, panel, column, wanted in (
        ("complaints_90d", view.evidence.feedback, "complaint", "feedback"),
        ("serious_incidents_90d", view.evidence.incidents, "serious", "incidents"),
    ):
        if panel is None or wanted not in codes:
            continue
        rows = panel.window(view.day - params.recent_days + 1, view.day)
        rows = rows[(rows["team"] >= 0) & (rows[column] > 0)]
        team = codes[wanted][rows["team"].to_numpy("int64")]
        counted.append(
            pd.DataFrame({"improvement": rows["improvement"].to_numpy("int64"), "team": team})[
                team >= 0
            ]
            .value_counts()
            .rename(name)
        )
    frame = pd.concat(counted, axis=1) if counted else pd.DataFrame()
    frame = frame.reindex(columns=["complaints_90d", "serious_incidents_90d"])
    frame.index = (
        frame.index.set_names(KEYS)
        if len(frame)
        else pd.MultiIndex.from_arrays([[], []], names=KEYS)
    )
    return frame.reset_index().astype({"improvement": "int64", "team": "int64"})


def _check_team_rows(view: AsOfView, params: FeatureParams) -> pd.DataFrame:
    """Per (improvement, team) with a check in the 180 days: latest compliance (90 days),
    prompting (90 days), competency and self-rated confidence (180 days). Summed with
    `sums_by_key` (sorted integer keys), not a groupby per measure: 10M checks at night."""
    recent = view.recent_checks
    short = recent[recent["day"] > view.day - params.recent_days]
    teams = _key_sums(recent, {})
    # The latest primary check day of each team: the last (improvement, team, day) run.
    primary = short[short["primary"]]
    days = sums_by_key(
        {k: primary[k].to_numpy() for k in (*KEYS, "day")},
        {"met": primary["met"].to_numpy(), "sampled": primary["sampled"].to_numpy()},
    )
    last = np.append(
        (days["improvement"].to_numpy()[1:] != days["improvement"].to_numpy()[:-1])
        | (days["team"].to_numpy()[1:] != days["team"].to_numpy()[:-1]),
        True,
    )[: len(days)]  # no check in the 90 days: no row
    latest = days[last].assign(
        latest_check_day=lambda f: f["day"].astype("float64"),
        latest_compliance=lambda f: ratio(f["met"], f["sampled"]),
    )[[*KEYS, "latest_check_day", "latest_compliance"]]
    practice = _key_sums(
        short[short["source"] == STAFF_PRACTICE],
        {"prompts_per_observation": ("prompts_needed", "prompted_checks")},
    )
    competency = _key_sums(
        recent[recent["source"] == COMPETENCY],
        {
            "competency_pass_share": ("met", "sampled"),
            "self_rated_confidence": ("confidence_sum", "confidence_checks"),
        },
    )
    return (
        teams.merge(latest, on=KEYS, how="left")
        .merge(practice, on=KEYS, how="left")
        .merge(competency, on=KEYS, how="left")
    )


def _key_sums(rows: pd.DataFrame, ratios: dict[str, tuple[str, str]]) -> pd.DataFrame:
    """Per (improvement, team) of `rows`: each ratio (numerator / denominator summed)."""
    needed = sorted({c for pair in ratios.values() for c in pair})
    summed = sums_by_key(
        {k: rows[k].to_numpy() for k in KEYS}, {c: rows[c].to_numpy() for c in needed}
    )
    return summed[KEYS].assign(
        **{name: ratio(summed[a], summed[b]) for name, (a, b) in ratios.items()}
    )


def _rota_team_rows(
    view: AsOfView, params: FeatureParams, rota_code: np.ndarray | None
) -> pd.DataFrame:
    """Per (improvement, team on its location's rota in the 90 days): the team's key-worker
    continuity and agency and unfilled shares of planned shifts."""
    columns = ["keyworker_continuity", "agency_shift_share", "unfilled_shift_share"]
    if rota_code is None:
        return pd.DataFrame(
            {
                **{k: pd.Series(dtype="int64") for k in KEYS},
                **dict.fromkeys(columns, pd.Series(dtype="float64")),
            }
        )
    weeks = view.workforce_within(0, params.recent_days)
    sums = (
        weeks.groupby(["location", "team"])[
            ["planned", "agency", "unfilled", "continuity_weighted", "planned_with_continuity"]
        ]
        .sum()
        .reset_index()
    )
    by_location = pd.DataFrame(
        {"location": view.evidence.location, "improvement": np.arange(len(view.evidence.location))}
    )
    rows = by_location.merge(sums, on="location")
    rows = rows[rota_code[rows["team"].to_numpy("int64")] >= 0]
    return pd.DataFrame(
        {
            "improvement": rows["improvement"].to_numpy("int64"),
            "team": rota_code[rows["team"].to_numpy("int64")].astype("int64"),
            "keyworker_continuity": ratio(
                rows["continuity_weighted"], rows["planned_with_continuity"]
            ),
            "agency_shift_share": ratio(rows["agency"], rows["planned"]),
            "unfilled_shift_share": ratio(rows["unfilled"], rows["planned"]),
        }
    )


def _months_at_standard(view: AsOfView) -> pd.DataFrame:
    """Per (improvement, team) with a primary check in the latest TEAM_MONTHS months: the run of
    months at or above the standard ending at its latest month with a value (a month without
    a value ends a run, as for the improvement as a whole)."""
    evidence = view.evidence
    earlier = evidence.team_months.window(view.month - TEAM_MONTHS + 1, view.month - 1)
    current = (
        view.current_month_checks.groupby(KEYS)[["met", "sampled"]]
        .sum()
        .reset_index()
        .assign(month=float(view.month))
    )
    months = pd.concat(
        [earlier[["month", *KEYS, "met", "sampled"]], current], ignore_index=True
    ).sort_values([*KEYS, "month"], kind="stable", ignore_index=True)
    improvement = months["improvement"].to_numpy("int64")
    at = months["met"].to_numpy() >= evidence.standard[improvement] * months["sampled"].to_numpy()
    group = months[KEYS].to_numpy("int64")
    first = np.ones(len(months), dtype=bool)
    first[1:] = (group[1:] != group[:-1]).any(axis=1)
    month = months["month"].to_numpy()
    gap = np.ones(len(months), dtype=bool)
    gap[1:] = month[1:] - month[:-1] != 1
    position = np.arange(len(months))
    # A run starts at a month at the standard after a group start, a gap or a month below.
    starts = at & (first | gap | np.concatenate([[True], ~at[:-1]]))
    run_start = np.maximum.accumulate(np.where(starts, position, -1))
    run = np.where(at, position - run_start + 1, 0)
    last = np.append(first[1:], True)
    return pd.DataFrame(
        {
            "improvement": improvement[last],
            "team": group[last, 1],
            "months_at_standard": run[last].astype("float64"),
        }
    )


def team_names(teams: pd.DataFrame, count: int) -> pd.DataFrame:
    """Per improvement position 0..count-1: the names of its teams at the standard, below it,
    and the team(s) on its rota with the lowest key-worker continuity when below another's
    ('' when none), each joined by '; ' in name order."""
    lowest = teams.groupby("improvement")["keyworker_continuity"].transform("min")
    highest = teams.groupby("improvement")["keyworker_continuity"].transform("max")
    lagging = (teams["keyworker_continuity"] == lowest) & (lowest < highest)
    columns = {
        TEAMS_AT_STANDARD: teams["status"] == AT_STANDARD,
        TEAMS_BELOW_STANDARD: teams["status"] == BELOW_STANDARD,
        TEAMS_CONTINUITY_LAGGING: lagging,
    }
    out = {}
    for name, chosen in columns.items():  # three lists
        out[name] = joined_names(teams.loc[chosen.to_numpy(dtype=bool)], count)
    return pd.DataFrame(out)


def joined_names(rows: pd.DataFrame, count: int) -> np.ndarray:
    """Per improvement position: its rows' team names joined by NAME_SEPARATOR, in the rows'
    order ('' without a row). One concatenation per run of rows (np.add.reduceat), no Python
    call per improvement."""
    out = np.full(count, "", dtype=object)
    if rows.empty:
        return out
    improvement = rows["improvement"].to_numpy()
    text = (rows["team"].astype("str") + NAME_SEPARATOR).to_numpy(dtype=object)
    starts = np.flatnonzero(np.concatenate([[True], improvement[1:] != improvement[:-1]]))
    joined = np.add.reduceat(text, starts)
    out[improvement[starts]] = [t[: -len(NAME_SEPARATOR)] for t in joined]
    return out
