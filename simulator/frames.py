"""Typed contract frames from the recorded arrays, sorted and with stable IDs.

Frames are typed as `pipelines.io` types what it reads: index `row` (1-based), dates
`datetime64[ns]`, counts `Int64`, numbers `float64`, vocabularies `category` with the
contract's categories, IDs and text `str` with missing values as NA.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from contracts.export import FILES_BY_NAME, THEMES, ExportFile
from simulator.dynamics import CLOSED, EMBEDDED, EMERGING
from simulator.group import THEME_KEY_QUESTION, Group, sigmoid
from simulator.links import TeamSpellings
from simulator.parameters import Parameters
from simulator.records import (
    CHANNELS,
    CLASSIFICATIONS,
    HARMS,
    LEVELS,
    RESPONDENTS,
)
from simulator.words import feedback_texts

SOURCES = np.array(["audit", "care_records", "staff_practice", "competency"], dtype=object)
DECLARED_NAMES = {EMERGING: "emerging", EMBEDDED: "embedded", CLOSED: "closed"}


def export_frames(
    group: Group,
    p: Parameters,
    columns: dict,
    declared: np.ndarray,
    declared_month: np.ndarray,
    instability: np.ndarray,
    rng: np.random.Generator,
    spellings: TeamSpellings,
) -> dict[str, pd.DataFrame]:
    """All seven contract files of the export; team names as each file spells them."""
    improvement_ids = improvement_id_array(group)
    return {
        "services": services_frame(group),
        "improvements": improvements_frame(group, improvement_ids, declared, declared_month, rng),
        "checks": checks_frame(group, improvement_ids, columns["checks"], spellings),
        "feedback": feedback_frame(group, improvement_ids, columns["feedback"], spellings),
        "incidents": incidents_frame(group, improvement_ids, columns["incidents"], spellings),
        "workforce": workforce_frame(group, p, instability, rng, spellings),
        "reviews": reviews_frame(improvement_ids, columns["reviews"]),
    }


def improvement_id_array(group: Group) -> pa.Array:
    """`IMP-0000001`, ... in identification order (the improvements' index order)."""
    return _ids("IMP-", group.improvements, 7)


def services_frame(group: Group) -> pd.DataFrame:
    order = np.argsort(group.location_id, kind="stable")
    beds = group.beds[order]
    return _typed(
        {
            "location_id": group.location_id[order],
            "provider_id": np.full(group.services, group.provider_id, dtype=object),
            "name": group.service_name[order],
            "service_type": group.service_type[order],
            "region": group.region[order],
            "beds": np.where(np.isnan(beds), -1, beds).astype(np.int64),
        },
        FILES_BY_NAME["services"],
        missing_integer=-1,
    )


def improvements_frame(group: Group, ids: pa.Array, declared, declared_month, rng) -> pd.DataFrame:
    cal = group.calendar
    started = group.action_month < cal.months
    action_on = _month_day(cal, np.where(started, group.action_month, 0), group.action_day)
    has_claim = declared > 0
    lo = np.where(declared_month == group.action_month, group.action_day, 1)
    month = np.clip(declared_month, 0, cal.months - 1)
    hi = cal.days[month]
    day = lo + np.floor(rng.random(group.improvements) * (hi - lo + 1)).astype(np.int64)
    theme = np.array(THEMES, dtype=object)[group.theme]
    return _typed(
        {
            "improvement_id": ids,
            "location_id": group.location_id[group.loc],
            "theme": theme,
            "key_question": np.array([THEME_KEY_QUESTION[t] for t in THEMES], dtype=object)[
                group.theme
            ],
            "framework_ref": group.framework_ref,
            "severity": group.severity,
            "origin": group.origin,
            "identified_on": _month_day(cal, group.identified_month, group.identified_day),
            "action_started_on": np.where(started, action_on, np.datetime64("NaT")),
            "standard": group.standard,
            "declared_status": np.array(
                [DECLARED_NAMES.get(d, "") for d in range(4)], dtype=object
            )[declared],
            "declared_on": np.where(has_claim, _month_day(cal, month, day), np.datetime64("NaT")),
        },
        FILES_BY_NAME["improvements"],
    )


def checks_frame(group: Group, ids: pa.Array, rows: dict, spellings) -> pd.DataFrame:
    imp, team = rows["improvement"], rows["team"].astype(np.int64)
    order = np.lexsort((rows["source"], team, imp, rows["date"]))
    imp, team = imp[order], team[order]
    return _typed(
        {
            "check_id": _ids("CHK-", len(order), 9),
            "improvement_id": ids.take(pa.array(imp)),
            "team": spellings.names("checks", group.loc[imp], team),
            "source": SOURCES[rows["source"][order]],
            "checked_on": rows["date"][order],
            "sampled": rows["sampled"][order],
            "met": rows["met"][order],
            "repeat_gaps": rows["repeat_gaps"][order],
            "prompts_needed": rows["prompts_needed"][order],
            "self_rated_confidence": rows["self_rated_confidence"][order].astype(np.float64),
        },
        FILES_BY_NAME["checks"],
        missing_integer=-1,
    )


def feedback_frame(group: Group, ids: pa.Array, rows: dict, spellings) -> pd.DataFrame:
    order = np.argsort(rows["date"], kind="stable")
    r = {k: v[order] for k, v in rows.items()}
    texts = feedback_texts()
    return _typed(
        {
            "feedback_id": _ids("FB-", len(order), 8),
            "location_id": group.location_id[r["location"]],
            "improvement_id": _optional_ids(ids, r["improvement"]),
            "team": spellings.names("feedback", r["location"], r["team"]),
            "received_on": r["date"],
            "channel": CHANNELS[r["channel"]],
            "respondent": RESPONDENTS[r["respondent"]],
            "theme": np.array(THEMES, dtype=object)[r["theme"]],
            "sentiment": r["sentiment"].astype(np.int64),
            "rating": r["rating"].astype(np.int64),
            "text": np.where(r["text"] >= 0, texts[np.maximum(r["text"], 0)], ""),
        },
        FILES_BY_NAME["feedback"],
        missing_integer=-1,
    )


def incidents_frame(group: Group, ids: pa.Array, rows: dict, spellings) -> pd.DataFrame:
    order = np.argsort(rows["date"], kind="stable")
    r = {k: v[order] for k, v in rows.items()}
    return _typed(
        {
            "incident_id": _ids("INC-", len(order), 8),
            "location_id": group.location_id[r["location"]],
            "improvement_id": _optional_ids(ids, r["improvement"]),
            "team": spellings.names("incidents", r["location"], r["team"]),
            "occurred_on": r["date"],
            "theme": np.array(THEMES, dtype=object)[r["theme"]],
            "harm": HARMS[r["harm"]],
        },
        FILES_BY_NAME["incidents"],
    )


def reviews_frame(ids: pa.Array, rows: dict) -> pd.DataFrame:
    order = np.argsort(rows["date"], kind="stable")
    return _typed(
        {
            "review_id": _ids("REV-", len(order), 8),
            "improvement_id": ids.take(pa.array(rows["improvement"][order])),
            "reviewed_on": rows["date"][order],
            "level": LEVELS[rows["level"][order]],
            "classification": CLASSIFICATIONS[rows["classification"][order]],
        },
        FILES_BY_NAME["reviews"],
    )


def workforce_frame(
    group: Group, p: Parameters, instability: np.ndarray, rng: np.random.Generator, spellings
) -> pd.DataFrame:
    """One row per team per week (Mondays from the first in the export to `end`); the
    week's agency, unfilled and leaver rates follow its month's team instability."""
    cal = group.calendar
    mondays = _mondays(cal)
    month = mondays.astype("datetime64[M]") - cal.month_starts[0].astype("datetime64[M]")
    month = month.astype(np.int64)
    loc, team = np.nonzero(np.arange(group.max_teams)[None, :] < group.teams[:, None])
    week = np.tile(np.arange(len(mondays)), len(loc))
    loc, team = np.repeat(loc, len(mondays)), np.repeat(team, len(mondays))
    level = instability[month[week], loc, team].astype(np.float64)
    n = len(week)
    agency_share = sigmoid(
        p.agency_logit
        + p.agency_instability * level
        + group.agency_propensity[loc]
        + rng.normal(0, p.weekly_share_noise_sd, n)
    )
    unfilled_share = sigmoid(
        p.unfilled_logit
        + p.unfilled_instability * level
        + rng.normal(0, p.weekly_share_noise_sd, n)
    )
    planned = rng.poisson(group.team_size_shifts[loc, team])
    agency = rng.binomial(planned, agency_share)
    unfilled = rng.binomial(planned - agency, unfilled_share)
    leavers = rng.poisson(p.leavers_per_team_week * np.exp(p.leavers_instability * level))
    worked = np.maximum(planned, 1)
    continuity = np.round(
        np.clip(
            0.85 - 0.9 * agency / worked - 0.5 * unfilled / worked + rng.normal(0, 0.04, n), 0, 1
        ),
        2,
    )
    order = np.lexsort((week, team, group.location_id[loc]))
    return _typed(
        {
            "location_id": group.location_id[loc][order],
            "team": spellings.names("workforce", loc[order], team[order]),
            "week_start": mondays[week][order],
            "shifts_planned": planned[order],
            "shifts_agency": agency[order],
            "shifts_unfilled": unfilled[order],
            "leavers": leavers[order],
            "keyworker_continuity": continuity[order],
        },
        FILES_BY_NAME["workforce"],
    )


# --- internals -----------------------------------------------------------------------------


def _mondays(cal) -> np.ndarray:
    first = cal.month_starts[0]
    # 1970-01-01 was a Thursday: day numbers with (d + 3) % 7 == 0 are Mondays.
    offset = (-(first.astype(np.int64) + 3)) % 7
    return np.arange(first + offset, np.datetime64(cal.end, "D") + 1, 7)


def _month_day(cal, month: np.ndarray, day: np.ndarray) -> np.ndarray:
    return cal.month_starts[month] + (np.maximum(day, 1) - 1).astype("timedelta64[D]")


def _ids(prefix: str, n: int, width: int) -> pa.Array:
    digits = pc.utf8_lpad(pc.cast(pa.array(np.arange(1, n + 1)), pa.string()), width, "0")
    return pc.binary_join_element_wise(prefix, digits, "")


def _optional_ids(ids: pa.Array, index: np.ndarray) -> pa.Array:
    taken = ids.take(pa.array(np.maximum(index, 0)))
    return pc.if_else(pa.array(index >= 0), taken, pa.scalar(None, pa.string()))


def _typed(columns: dict, spec: ExportFile, *, missing_integer: int | None = None) -> pd.DataFrame:
    """A frame with the contract's dtypes; '' strings, NaT and `missing_integer` in an optional
    integer column become NA."""
    n = len(next(iter(columns.values())))
    index = pd.RangeIndex(1, n + 1, name="row")
    out = {}
    for column in spec.columns:
        values = columns[column.name]
        out[column.name] = _typed_series(values, column, index, missing_integer)
    return pd.DataFrame(out, index=index)


def _typed_series(values, column, index, missing_integer) -> pd.Series:
    kind = column.kind
    if kind == "date":
        return pd.Series(np.asarray(values).astype("datetime64[ns]"), index=index)
    if kind == "integer":
        series = pd.Series(np.asarray(values).astype(np.int64), index=index).astype("Int64")
        # Only optional columns have "not recorded"; -1 is a real sentiment.
        if missing_integer is None or column.required:
            return series
        return series.mask(series == missing_integer)
    if kind == "number":
        return pd.Series(np.asarray(values, dtype=np.float64), index=index)
    if kind == "category":
        categories = [str(v) for v in column.vocabulary]
        return pd.Series(pd.Categorical(np.asarray(values), categories=categories), index=index)
    series = pd.Series(values, index=index, dtype="str")
    return series.mask(series == "")
