"""Explicit rules: the stage of each improvement, in criteria a quality lead can argue with.

For each (improvement_id, as_of) row of the feature frame (`features.build`), the rules say
which stage the improvement has reached and why:

- ``not_started``: no action yet, or no monthly compliance result since action started;
- ``emerging``: action under way, improvement recent, narrow or single-source;
- ``consolidating``: at the standard for some review cycles and seen in more than one kind of
  evidence, but not yet meeting every criterion of the evidence threshold;
- ``embedded``: meets every criterion of the provider group's evidence threshold;
- ``slipping``: fell back below the standard after having met it.

Every threshold lives in one frozen `EvidenceThreshold`, which a provider group may set for
itself and which each run writes into its record (`EvidenceThreshold.to_dict`). The embedded
criteria are small named predicates (`CRITERIA`): functions of feature columns returning a
boolean Series. Missing evidence (NaN) never counts as meeting a criterion, with one
exception documented on `confidence_gap_small` (self-ratings are optional in the contract).

The escalation triggers live in `models.triggers`, the review cadence in `models.cadence`;
both are re-exported here with the thresholds' defaults, so `models.rules` is the one entry.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import NamedTuple

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from contracts.export import EVIDENCE_CATEGORIES
from contracts.params import EvidenceThreshold
from contracts.tables import LIST_SEPARATOR
from contracts.vocabulary import (
    CONSISTENT,
    CONSOLIDATING,
    EMBEDDED,
    EMERGING,
    NO_CLAIM,
    NOT_STARTED,
    OVERCLAIM,
    SLIPPING,
    UNDERCLAIM,
)
from features.columns import (
    AS_OF,
    COMPETENCY_PASS_SHARE_180D,
    COMPLIANCE_MARGIN_LATEST,
    CONFIDENCE_GAP_POINTS,
    CONSECUTIVE_MONTHS_AT_STANDARD_COUNT,
    DAYS_SINCE_ACTION_STARTED,
    DECLARED_STATUS,
    EVIDENCE_CATEGORIES_POSITIVE_90D_COUNT,
    IMPROVEMENT_ID,
    KEY_COLUMNS,
    LATEST_REVIEW_CLASSIFICATION,
    PEOPLES_EXPERIENCE_POSITIVE_90D_FLAG,
    REVIEW_CYCLES_SINCE_ACTION_COUNT,
    SERIOUS_THEME_INCIDENTS_90D_COUNT,
    SLIPS_SINCE_ACTION_COUNT,
    SPC_SPECIAL_CAUSE_CONCERN_LATEST_FLAG,
    STANDARD,
    TEAMS_CHECKED_90D_COUNT,
    TEAMS_MEETING_STANDARD_COUNT,
    TEAMS_MEETING_STANDARD_SHARE,
    THEME_INCIDENT_RATE_CHANGE_PER_MONTH,
    THEME_INCIDENTS_180D_COUNT,
)
from models import cadence, triggers

log = logging.getLogger(__name__)

REASON_SEPARATOR = LIST_SEPARATOR


DEFAULT_THRESHOLD = EvidenceThreshold()


# --- column access and text ------------------------------------------------------------------


# A feature as float64, missing as NaN (flags, counts and nullable ints alike).
_values = triggers.numeric_feature


def _labels(features: pd.DataFrame, name: str) -> pd.Series:
    """A categorical feature as plain strings, missing as 'none'."""
    return features[name].astype("str").where(features[name].notna(), "none")


def _number_text(values: pd.Series, decimals: int = 2) -> pd.Series:
    """Numbers as short text: at most `decimals` decimals, trailing zeros dropped (1.2, 0.51, 3)."""
    text = np.char.mod(f"%.{decimals}f", values.fillna(0).to_numpy(dtype="float64"))
    text = pd.Series(text, index=values.index, dtype="str")
    return text.str.rstrip("0").str.rstrip(".") if decimals else text


def _format_number(value: float, decimals: int = 2) -> str:
    """One number as short text, by the same rule as `_number_text`."""
    text = f"{value:.{decimals}f}"
    return text.rstrip("0").rstrip(".") if decimals else text


def _percent_text(shares: pd.Series) -> pd.Series:
    """Shares as percentages with at most one decimal (0.9 -> '90%', 0.875 -> '87.5%')."""
    return _number_text(shares * 100, decimals=1) + "%"


def _plural(counts: pd.Series, singular: str, plural: str) -> pd.Series:
    """'1 month' / '2 months' for each count."""
    words = pd.Series(np.where(counts == 1, singular, plural), index=counts.index, dtype="str")
    return _number_text(counts, decimals=0) + " " + words


def _choose(conditions: list[pd.Series], choices: list, default) -> pd.Series:
    """np.select over text Series: the first matching choice for each row."""
    index = conditions[0].index
    arrays = [c.to_numpy(dtype=object) if isinstance(c, pd.Series) else c for c in choices]
    fallback = default.to_numpy(dtype=object) if isinstance(default, pd.Series) else default
    picked = np.select([c.to_numpy(dtype=bool) for c in conditions], arrays, fallback)
    return pd.Series(picked, index=index, dtype="str")


# --- the embedded criteria: predicates -------------------------------------------------------


def consecutive_months_at_standard(features: pd.DataFrame, t: EvidenceThreshold) -> pd.Series:
    """At least `min_consecutive_months` monthly results in a row at or above the standard."""
    return _values(features, CONSECUTIVE_MONTHS_AT_STANDARD_COUNT) >= t.min_consecutive_months


def evidence_categories(features: pd.DataFrame, t: EvidenceThreshold) -> pd.Series:
    """Improvement visible in at least `min_evidence_categories` CQC evidence categories."""
    return _values(features, EVIDENCE_CATEGORIES_POSITIVE_90D_COUNT) >= t.min_evidence_categories


def peoples_experience(features: pd.DataFrame, t: EvidenceThreshold) -> pd.Series:
    """People's and families' feedback on the theme is positive (when the threshold asks it)."""
    positive = _values(features, PEOPLES_EXPERIENCE_POSITIVE_90D_FLAG) == 1
    return positive | (not t.require_peoples_experience)


def teams_meeting_standard(features: pd.DataFrame, t: EvidenceThreshold) -> pd.Series:
    """At least `min_teams_meeting_share` of teams met the standard at their latest check."""
    return _values(features, TEAMS_MEETING_STANDARD_SHARE) >= t.min_teams_meeting_share


def no_serious_incidents(features: pd.DataFrame, t: EvidenceThreshold) -> pd.Series:
    """No more than `max_serious_incidents` moderate-or-worse theme incidents in 90 days."""
    return _values(features, SERIOUS_THEME_INCIDENTS_90D_COUNT) <= t.max_serious_incidents


def fewer_incidents_than_before(features: pd.DataFrame, t: EvidenceThreshold) -> pd.Series:
    """Fewer theme incidents a month than before action, or none recently and no more than before."""
    change = _values(features, THEME_INCIDENT_RATE_CHANGE_PER_MONTH)
    # With no incident either side "fewer" is impossible; an unchanged rate and a quiet half
    # year is the best evidence there can be, so it passes.
    quiet = (change <= 0) & (_values(features, THEME_INCIDENTS_180D_COUNT) == 0)
    return (change < t.max_incident_rate_change_per_month) | quiet


def competency_demonstrated(features: pd.DataFrame, t: EvidenceThreshold) -> pd.Series:
    """Competency checks (180 days) pass at or above the standard (plus `min_competency_margin`)."""
    margin = _values(features, COMPETENCY_PASS_SHARE_180D) - _values(features, STANDARD)
    # Round away float noise so a pass share equal to the standard counts as meeting it.
    return margin.round(9) >= t.min_competency_margin


def confidence_gap_small(features: pd.DataFrame, t: EvidenceThreshold) -> pd.Series:
    """Staff rate their confidence no more than `max_confidence_gap_points` above what they show.

    Self-rated confidence is optional in the contract: with no self-ratings there is no
    evidence of a gap, so the criterion holds (competency itself is judged separately).
    """
    gap = _values(features, CONFIDENCE_GAP_POINTS)
    return gap.isna() | (gap.round(9) <= t.max_confidence_gap_points)


def no_spc_concern(features: pd.DataFrame, t: EvidenceThreshold) -> pd.Series:
    """No SPC special cause of concern in the latest 3 monthly points since action."""
    return _values(features, SPC_SPECIAL_CAUSE_CONCERN_LATEST_FLAG) == 0


# --- the embedded criteria: reasons in a Registered Manager's words ---------------------------


def consecutive_months_reason(features: pd.DataFrame, t: EvidenceThreshold) -> pd.Series:
    months = _values(features, CONSECUTIVE_MONTHS_AT_STANDARD_COUNT)
    return _choose(
        [months.isna(), months == 0, months >= t.min_consecutive_months],
        [
            "no monthly compliance result yet",
            "latest month below the standard",
            _number_text(months, 0) + " months in a row at or above the standard",
        ],
        "only "
        + _plural(months, "month", "months")
        + f" at standard since action ({t.min_consecutive_months} needed)",
    )


def evidence_categories_reason(features: pd.DataFrame, t: EvidenceThreshold) -> pd.Series:
    categories = _values(features, EVIDENCE_CATEGORIES_POSITIVE_90D_COUNT).fillna(0)
    of_six = _number_text(categories, 0) + f" of {len(EVIDENCE_CATEGORIES)} kinds of evidence"
    return _choose(
        [categories >= t.min_evidence_categories],
        ["improvement seen in " + of_six],
        "improvement seen in only " + of_six + f" ({t.min_evidence_categories} needed)",
    )


def peoples_experience_reason(features: pd.DataFrame, t: EvidenceThreshold) -> pd.Series:
    flag = _values(features, PEOPLES_EXPERIENCE_POSITIVE_90D_FLAG)
    return _choose(
        [flag == 1, flag == 0, flag.isna()],
        [
            "people and families give positive feedback on this theme",
            "feedback from people and families on this theme is not positive",
            "no feedback from people or families in the last 90 days",
        ],
        "",
    )


def teams_meeting_standard_reason(features: pd.DataFrame, t: EvidenceThreshold) -> pd.Series:
    share = _values(features, TEAMS_MEETING_STANDARD_SHARE)
    seen = (
        "improvement seen in "
        + _number_text(_values(features, TEAMS_MEETING_STANDARD_COUNT), 0)
        + " of "
        + _plural(_values(features, TEAMS_CHECKED_90D_COUNT), "team", "teams")
    )
    needed = f" ({_format_number(t.min_teams_meeting_share * 100, 1)}% needed)"
    return _choose(
        [share.isna(), share >= t.min_teams_meeting_share],
        ["no team checked in the last 90 days", seen],
        seen + needed,
    )


def no_serious_incidents_reason(features: pd.DataFrame, t: EvidenceThreshold) -> pd.Series:
    serious = _values(features, SERIOUS_THEME_INCIDENTS_90D_COUNT)
    return _choose(
        [serious.isna(), serious == 0],
        [
            "no incident records to show harm on this theme has stopped",
            "no moderate-or-worse harm incidents on this theme in the last 90 days",
        ],
        _plural(serious, "moderate-or-worse harm incident", "moderate-or-worse harm incidents")
        + " on this theme in the last 90 days",
    )


def fewer_incidents_reason(features: pd.DataFrame, t: EvidenceThreshold) -> pd.Series:
    change = _values(features, THEME_INCIDENT_RATE_CHANGE_PER_MONTH)
    quiet = (change <= 0) & (_values(features, THEME_INCIDENTS_180D_COUNT) == 0)
    per_month = _number_text(change.abs()) + " "
    return _choose(
        [change.isna(), change < 0, quiet, change > 0],
        [
            "no incident records from before and since action to compare",
            per_month + "fewer theme incidents a month than before action",
            "no theme incidents in the last 180 days and no more than before action",
            per_month + "more theme incidents a month than before action",
        ],
        "theme incidents as frequent as before action",
    )


def competency_reason(features: pd.DataFrame, t: EvidenceThreshold) -> pd.Series:
    passed = _values(features, COMPETENCY_PASS_SHARE_180D)
    pass_text = _percent_text(passed) + " of items"
    standard = " the " + _percent_text(_values(features, STANDARD)) + " standard"
    return _choose(
        [passed.isna(), competency_demonstrated(features, t)],
        [
            "no competency checks in the last 180 days",
            "competency checks pass " + pass_text + ", at or above" + standard,
        ],
        "competency checks pass only " + pass_text + ", below" + standard,
    )


def confidence_gap_reason(features: pd.DataFrame, t: EvidenceThreshold) -> pd.Series:
    gap = _values(features, CONFIDENCE_GAP_POINTS)
    no_competency = _values(features, COMPETENCY_PASS_SHARE_180D).isna()
    limit = _format_number(t.max_confidence_gap_points)
    return _choose(
        [gap.isna() & no_competency, gap.isna(), confidence_gap_small(features, t)],
        [
            "",
            "staff self-ratings not recorded, so no confidence gap shown",
            "staff confidence no more than " + limit + " points above what competency checks show",
        ],
        "staff rate their confidence "
        + _number_text(gap)
        + " points above what competency checks show",
    )


def no_spc_concern_reason(features: pd.DataFrame, t: EvidenceThreshold) -> pd.Series:
    flag = _values(features, SPC_SPECIAL_CAUSE_CONCERN_LATEST_FLAG)
    return _choose(
        [flag.isna(), flag == 1],
        [
            "fewer than 3 monthly results since action to chart",
            "SPC chart shows a special cause of concern in the latest 3 months",
        ],
        "no SPC special cause of concern in the latest 3 months",
    )


Predicate = Callable[[pd.DataFrame, EvidenceThreshold], pd.Series]


class Criterion(NamedTuple):
    """One criterion of the evidence threshold: its name, its predicate, its reason text (the
    sentence for met, not met and missing alike) and the features the reason reads."""

    name: str
    predicate: Predicate
    reason: Predicate
    inputs: tuple[str, ...]


CRITERIA: tuple[Criterion, ...] = (
    Criterion(
        "consecutive_months_at_standard",
        consecutive_months_at_standard,
        consecutive_months_reason,
        (CONSECUTIVE_MONTHS_AT_STANDARD_COUNT,),
    ),
    Criterion(
        "evidence_categories",
        evidence_categories,
        evidence_categories_reason,
        (EVIDENCE_CATEGORIES_POSITIVE_90D_COUNT,),
    ),
    Criterion(
        "peoples_experience",
        peoples_experience,
        peoples_experience_reason,
        (PEOPLES_EXPERIENCE_POSITIVE_90D_FLAG,),
    ),
    Criterion(
        "teams_meeting_standard",
        teams_meeting_standard,
        teams_meeting_standard_reason,
        (TEAMS_MEETING_STANDARD_SHARE, TEAMS_MEETING_STANDARD_COUNT, TEAMS_CHECKED_90D_COUNT),
    ),
    Criterion(
        "no_serious_incidents",
        no_serious_incidents,
        no_serious_incidents_reason,
        (SERIOUS_THEME_INCIDENTS_90D_COUNT,),
    ),
    Criterion(
        "fewer_incidents_than_before",
        fewer_incidents_than_before,
        fewer_incidents_reason,
        (THEME_INCIDENT_RATE_CHANGE_PER_MONTH, THEME_INCIDENTS_180D_COUNT),
    ),
    Criterion(
        "competency_demonstrated",
        competency_demonstrated,
        competency_reason,
        (COMPETENCY_PASS_SHARE_180D, STANDARD),
    ),
    Criterion(
        "confidence_gap_small",
        confidence_gap_small,
        confidence_gap_reason,
        (CONFIDENCE_GAP_POINTS, COMPETENCY_PASS_SHARE_180D),
    ),
    Criterion(
        "no_spc_concern",
        no_spc_concern,
        no_spc_concern_reason,
        (SPC_SPECIAL_CAUSE_CONCERN_LATEST_FLAG,),
    ),
)
CRITERION_COLUMNS = tuple(f"criterion_{c.name}" for c in CRITERIA)
# The features the rules read; the frame must carry them (plus the key columns).
RULE_FEATURES = (
    DAYS_SINCE_ACTION_STARTED,
    REVIEW_CYCLES_SINCE_ACTION_COUNT,
    CONSECUTIVE_MONTHS_AT_STANDARD_COUNT,
    COMPLIANCE_MARGIN_LATEST,
    SLIPS_SINCE_ACTION_COUNT,
    EVIDENCE_CATEGORIES_POSITIVE_90D_COUNT,
    PEOPLES_EXPERIENCE_POSITIVE_90D_FLAG,
    TEAMS_CHECKED_90D_COUNT,
    TEAMS_MEETING_STANDARD_COUNT,
    TEAMS_MEETING_STANDARD_SHARE,
    SERIOUS_THEME_INCIDENTS_90D_COUNT,
    THEME_INCIDENTS_180D_COUNT,
    THEME_INCIDENT_RATE_CHANGE_PER_MONTH,
    COMPETENCY_PASS_SHARE_180D,
    CONFIDENCE_GAP_POINTS,
    SPC_SPECIAL_CAUSE_CONCERN_LATEST_FLAG,
    STANDARD,
)


def criteria_met(features: pd.DataFrame, threshold: EvidenceThreshold) -> pd.DataFrame:
    """One boolean column `criterion_<name>` per embedded criterion, aligned to `features`."""
    return pd.DataFrame(
        {
            f"criterion_{c.name}": c.predicate(features, threshold).to_numpy(dtype=bool)
            for c in CRITERIA
        },
        index=features.index,
    )


# --- stages ---------------------------------------------------------------------------------


def action_started(features: pd.DataFrame) -> pd.Series:
    """Action has started by as_of (days_since_action_started is recorded)."""
    return _values(features, DAYS_SINCE_ACTION_STARTED).notna()


def evidence_since_action(features: pd.DataFrame) -> pd.Series:
    """At least one monthly compliance result since the action month."""
    return _values(features, REVIEW_CYCLES_SINCE_ACTION_COUNT) >= 1


def slipped_below_standard(features: pd.DataFrame, t: EvidenceThreshold) -> pd.Series:
    """Below the standard now, after having met it since action (at least `slipping_min_slips`)."""
    below_now = _values(features, COMPLIANCE_MARGIN_LATEST) < 0
    return below_now & (_values(features, SLIPS_SINCE_ACTION_COUNT) >= t.slipping_min_slips)


def sustained_and_confirmed(features: pd.DataFrame, t: EvidenceThreshold) -> pd.Series:
    """At standard for some review cycles and seen in more than one kind of evidence."""
    months = _values(features, CONSECUTIVE_MONTHS_AT_STANDARD_COUNT)
    categories = _values(features, EVIDENCE_CATEGORIES_POSITIVE_90D_COUNT)
    return (months >= t.consolidating_min_consecutive_months) & (
        categories >= t.consolidating_min_evidence_categories
    )


def stage_of(features: pd.DataFrame, criteria: pd.DataFrame, t: EvidenceThreshold) -> pd.Series:
    """The stage of each row; earlier conditions win (no action before slipping, and so on)."""
    started, evidenced = action_started(features), evidence_since_action(features)
    return _choose(
        [
            ~started | ~evidenced,
            slipped_below_standard(features, t),
            criteria.all(axis=1),
            sustained_and_confirmed(features, t),
        ],
        [NOT_STARTED, SLIPPING, EMBEDDED, CONSOLIDATING],
        EMERGING,
    )


def stage_headline(inputs: pd.DataFrame) -> pd.Series:
    """The first reason of each row: why it sits in its stage, in one phrase.

    `inputs` holds the stage and the features in `HEADLINE_INPUTS`."""
    stage = inputs["stage"]
    months = _values(inputs, CONSECUTIVE_MONTHS_AT_STANDARD_COUNT)
    categories = _values(inputs, EVIDENCE_CATEGORIES_POSITIVE_90D_COUNT)
    slips = _values(inputs, SLIPS_SINCE_ACTION_COUNT)
    return _choose(
        [
            ~action_started(inputs),
            stage == NOT_STARTED,
            stage == SLIPPING,
            stage == EMBEDDED,
            stage == CONSOLIDATING,
            months.fillna(0) == 0,
        ],
        [
            "no action started yet",
            "no monthly compliance result since action started",
            "fell back below the standard after meeting it ("
            + _plural(slips, "slip", "slips")
            + " since action)",
            "meets every criterion of the evidence threshold",
            "at standard for "
            + _plural(months, "month", "months")
            + " in a row and seen in "
            + _plural(categories, "kind", "kinds")
            + " of evidence, but not yet every embedded criterion",
            "action under way, not yet at the standard",
        ],
        "action under way, improvement recent, narrow or single-source",
    )


HEADLINE_INPUTS = (
    DAYS_SINCE_ACTION_STARTED,
    CONSECUTIVE_MONTHS_AT_STANDARD_COUNT,
    EVIDENCE_CATEGORIES_POSITIVE_90D_COUNT,
    SLIPS_SINCE_ACTION_COUNT,
)


# --- assembling reason text without a loop over rows -----------------------------------------
# Reason texts depend on a few feature values each, which repeat across rows (counts, flags,
# shares of small samples): each text is built once per distinct combination of its inputs and
# spread back to the rows; the sentences of a row are then joined by Arrow in one pass.


def distinct_rows(inputs: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """(codes, first): a code per row naming its distinct combination of `inputs` values
    (missing values included), and the position of the first row of each combination."""
    codes = np.zeros(len(inputs), dtype=np.int64)
    for column in inputs.columns:
        column_codes, uniques = pd.factorize(inputs[column], use_na_sentinel=False)
        codes, _ = pd.factorize(codes * len(uniques) + column_codes)
    _, first = np.unique(codes, return_index=True)
    return codes, first


def texts_by_distinct_inputs(
    inputs: pd.DataFrame, build: Callable[[pd.DataFrame], pd.Series]
) -> pa.Array:
    """`build` applied to each distinct combination of `inputs`, as an Arrow string array
    aligned to `inputs`; an empty text becomes null (no sentence)."""
    codes, first = distinct_rows(inputs)
    texts = build(inputs.iloc[first]).to_numpy(dtype=object)
    distinct = pa.array(np.where(texts == "", None, texts), type=pa.string())
    return distinct.take(pa.array(codes))


def _joined(texts: list[pa.Array]) -> pa.Array:
    """Per row, the non-null texts joined by '; ' ('' when there is none)."""
    # pyarrow 25 returns an empty array when every input is null throughout, so an empty
    # non-null text leads every row; its separator is then cut off.
    lead = pa.array(np.full(len(texts[0]), "", dtype=object), type=pa.string())
    joined = pc.binary_join_element_wise(lead, *texts, REASON_SEPARATOR, null_handling="skip")
    return pc.utf8_slice_codeunits(joined, len(REASON_SEPARATOR))


def _kept(texts: pa.Array, mask: pd.Series) -> pa.Array:
    """The texts where `mask` holds, null elsewhere."""
    return pc.if_else(pa.array(mask.to_numpy(dtype=bool)), texts, pa.scalar(None, pa.string()))


def _text_series(texts: pa.Array, index: pd.Index) -> pd.Series:
    return pd.Series(pd.array(texts, dtype="str"), index=index)


def reason_texts(
    features: pd.DataFrame, criteria: pd.DataFrame, stage: pd.Series, t: EvidenceThreshold
) -> pd.DataFrame:
    """stage_reasons, stable_reasons and fragile_reasons for each row of `features`."""
    texts = [
        texts_by_distinct_inputs(features[list(c.inputs)], lambda d, c=c: c.reason(d, t))
        for c in CRITERIA
    ]
    met = [criteria[f"criterion_{c.name}"] for c in CRITERIA]
    stable = _joined([_kept(text, m) for text, m in zip(texts, met, strict=True)])
    fragile = _joined([_kept(text, ~m) for text, m in zip(texts, met, strict=True)])
    headline = texts_by_distinct_inputs(
        features[list(HEADLINE_INPUTS)].assign(stage=stage), stage_headline
    )
    nulls_for_empty = [
        pc.if_else(pc.equal(x, ""), pa.scalar(None, pa.string()), x) for x in (fragile, stable)
    ]
    return pd.DataFrame(
        {
            "stage_reasons": _text_series(_joined([headline, *nulls_for_empty]), features.index),
            "stable_reasons": _text_series(stable, features.index),
            "fragile_reasons": _text_series(fragile, features.index),
        }
    )


def classify_stages(
    features: pd.DataFrame,
    threshold: EvidenceThreshold = DEFAULT_THRESHOLD,
    *,
    with_reasons: bool = True,
) -> pd.DataFrame:
    """The stage of each (improvement_id, as_of) row, with the reasons behind it.

    Returns a new frame with the index of `features`: improvement_id, as_of, stage,
    stage_reasons (the stage's headline, then what remains fragile, then what appears stable,
    joined by '; '), stable_reasons (criteria met), fragile_reasons (criteria not met), and one
    boolean `criterion_<name>` column per criterion of the evidence threshold.

    The reasons are about 1 kB of text per row; `with_reasons=False` leaves the three reason
    columns out, for training-sized frames that only need the stage and the criteria.
    """
    _require_columns(features, KEY_COLUMNS + RULE_FEATURES)
    criteria = criteria_met(features, threshold)
    stage = stage_of(features, criteria, threshold)
    parts = [features[[IMPROVEMENT_ID, AS_OF]], stage.rename("stage").to_frame()]
    if with_reasons:
        parts.append(reason_texts(features, criteria, stage, threshold))
    log.info(
        "classified %d rows into stages (%s)",
        len(features),
        ", ".join(f"{s}={n}" for s, n in stage.value_counts().items()),
    )
    return pd.concat([*parts, criteria], axis=1)


# --- claim check ----------------------------------------------------------------------------


def claimed_level(features: pd.DataFrame, t: EvidenceThreshold) -> pd.Series:
    """What leaders claim: 'embedded' if the declared status or the latest governance review
    says embedded (or closed), else 'not_embedded' if either says emerging or not assured, else
    'none'. The stronger claim wins, since an overclaim is the risk the check exists to catch."""
    declared = _labels(features, DECLARED_STATUS)
    reviewed = _labels(features, LATEST_REVIEW_CLASSIFICATION)
    embedded = declared.isin(t.embedded_claims) | reviewed.isin(t.embedded_claims)
    modest = declared.isin(("emerging", "not_assured")) | reviewed.isin(("emerging", "not_assured"))
    return _choose([embedded, modest], ["embedded", "not_embedded"], "none")


def claim_check(
    stages: pd.DataFrame, features: pd.DataFrame, threshold: EvidenceThreshold = DEFAULT_THRESHOLD
) -> pd.Series:
    """Leaders' claim against the rules' stage, aligned to `stages` (same index).

    overclaim: embedded or closed claimed, the evidence says a stage in `overclaim_stages`
    (default not_started, emerging, slipping); underclaim: emerging or not assured claimed, the
    evidence meets the embedded threshold; no_claim: nothing declared and no review;
    consistent otherwise (an embedded claim on a consolidating improvement is consistent).
    """
    _require_columns(features, KEY_COLUMNS + (DECLARED_STATUS, LATEST_REVIEW_CLASSIFICATION))
    claims = features[list(KEY_COLUMNS)].assign(claim=claimed_level(features, threshold))
    joined = (
        stages[list(KEY_COLUMNS) + ["stage"]]
        .merge(
            claims.drop_duplicates(list(KEY_COLUMNS), keep="last"), on=list(KEY_COLUMNS), how="left"
        )
        .set_axis(stages.index, axis=0)
    )
    claim = joined["claim"].fillna("none")
    result = _choose(
        [
            claim == "none",
            (claim == "embedded") & joined["stage"].isin(threshold.overclaim_stages),
            (claim == "not_embedded") & (joined["stage"] == EMBEDDED),
        ],
        [NO_CLAIM, OVERCLAIM, UNDERCLAIM],
        CONSISTENT,
    )
    return result.rename("claim_check")


# --- triggers and cadence, with this module's defaults --------------------------------------


def escalation_triggers(
    features: pd.DataFrame, threshold: EvidenceThreshold = DEFAULT_THRESHOLD
) -> pd.DataFrame:
    """The escalation triggers that fire for each row, and the recommended escalations.

    See `models.triggers.escalation_frame` for the columns and `models.triggers.TRIGGERS` for
    each trigger's condition and escalation.
    """
    return triggers.escalation_frame(features, threshold)


def review_cadence(
    improvements: pd.DataFrame,
    reviews: pd.DataFrame | None,
    as_of,
    threshold: EvidenceThreshold = DEFAULT_THRESHOLD,
) -> pd.DataFrame:
    """When each improvement is next due for Registered Manager and senior review, and whether
    either is overdue at `as_of`. See `models.cadence.review_dates`."""
    return cadence.review_dates(improvements, reviews, as_of, threshold)


def _require_columns(frame: pd.DataFrame, names: tuple[str, ...]) -> None:
    missing = [n for n in names if n not in frame.columns]
    if missing:
        raise KeyError(f"the feature frame lacks column(s) the rules need: {missing}")
