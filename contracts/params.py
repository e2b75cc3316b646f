"""Every parameter of a run, one frozen dataclass per part, composed into `RunConfig`.

These are the thresholds and windows a provider group may set in its configuration file
(`pipelines.config.load_run_config`); each run writes the whole `RunConfig` into its record.
Nothing here reads a file or the environment.

Each setting is declared once, here, with what it must be:

- its **type** is its annotation (`int` a whole number, `float` any finite number, `bool`,
  `str`, `tuple[str, ...]` a list of words, `dict[str, float]` a table of numbers); a setting
  declared in the plain style (`name: int = 3`) is type-checked with nothing more;
- its **range or rule**, its **meaning** and its default go beside it with `setting(...)`;
- a **rule across settings** of one part goes in the part's `ACROSS`.

Every part checks itself when it is built (`SettingsError` lists every problem), so a value
from a file, a flow parameter or code is held to the same rules; the configuration reference
in README.md is generated from these declarations (`scripts/generate_docs.py`).
"""

from __future__ import annotations

import difflib
import json
import math
import typing
from collections.abc import Callable
from dataclasses import MISSING, asdict, dataclass, field, fields
from functools import cache
from typing import Any, ClassVar

from contracts.export import (
    CHECK_SOURCES,
    DECLARED_STATUSES,
    EVIDENCE_CATEGORIES,
    HARMS,
    PRIMARY_CHECK_SOURCES,
    REVIEW_CLASSIFICATIONS,
    SERIOUS_HARMS,
    SEVERITIES,
)
from contracts.vocabulary import (
    CONSOLIDATING,
    EMBEDDED,
    EMERGING,
    NOT_STARTED,
    SLIPPING,
    STAGES,
)

# The feature frame counts serious incidents over this fixed window
# (`serious_theme_incidents_90d_count`); a different lookback needs a new feature.
FEATURE_INCIDENT_WINDOW_DAYS = 90

# The models the replay evaluation can compare (models.baselines; `ground_truth` is added on
# simulated data only).
BACKTEST_PEERS = (
    "ga2m",
    "logistic_compliance",
    "hgb_unconstrained",
    "ebm",
    "rules_stage",
    "claims_alone",
)
# The model the promotion gate reads the backtest of.
GATED_MODEL = "ga2m"


# --- how a setting declares what it must be ---------------------------------------------------


@dataclass(frozen=True)
class Check:
    """A rule one setting's value must meet: its words (in errors and the docs) and its test."""

    words: str
    test: Callable[[Any], bool]


@dataclass(frozen=True)
class Across:
    """A rule across settings of one part: the settings it reads, its words and its test."""

    names: tuple[str, ...]
    words: str
    test: Callable[[Any], bool]


def at_least(low: float) -> Check:
    return Check(f"at least {low}", lambda v: v >= low)


def between(low: float, high: float) -> Check:
    return Check(f"{low} to {high}", lambda v: low <= v <= high)


def fixed(value: Any, why: str) -> Check:
    """A window the features are defined over: another value needs new features."""
    return Check(f"{value}: {why}; another window needs new features", lambda v: v == value)


def each_of(allowed: tuple) -> Check:
    """At least one item, every item one of `allowed`."""
    return Check(
        f"one or more of {', '.join(map(str, allowed))}",
        lambda v: len(v) > 0 and set(v) <= set(allowed),
    )


def keys_exactly(names: tuple[str, ...], low: float = 0.0, high: float | None = None) -> Check:
    """A table naming each of `names` once, every value in range."""
    limit = f"{low} to {high}" if high is not None else f"at least {low}"
    return Check(
        f"a table naming each of {', '.join(names)}, each {limit}",
        lambda v: (
            set(v) == set(names)
            and all(low <= x and (high is None or x <= high) for x in v.values())
        ),
    )


def setting(default: Any, meaning: str, *checks: Check) -> Any:
    """A declared setting: its default, its meaning in plain words and its rules."""
    metadata = {"meaning": meaning, "checks": checks}
    if isinstance(default, dict):
        return field(default_factory=lambda: dict(default), metadata=metadata)
    return field(default=default, metadata=metadata)


@dataclass(frozen=True)
class SettingProblem:
    """One setting that is not what it must be: where (section, key), the value, the rule."""

    section: str
    names: tuple[str, ...]  # one setting, or the settings a rule across settings reads
    values: tuple[Any, ...]
    rule: str

    def line(self, where: str = "") -> str:
        """One line naming the file (`where`), section, key(s), value(s) and the rule."""
        place = f"{where} [{self.section}]" if where else f"[{self.section}]"
        if not self.names:
            return f"{place}: {self.rule}"
        values = ", ".join(
            f"{n} = {shown(v)}" for n, v in zip(self.names, self.values, strict=True)
        )
        return f"{place} {values}: {self.rule}"


def shown(value: Any) -> str:
    """A value as a TOML file writes it: "text", true, 0.5, ["a", "b"], { a = 1.0 }."""
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {shown(v)}" for k, v in value.items()) + " }"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(shown(v) for v in value) + "]"
    return json.dumps(value, default=str, ensure_ascii=False)


class SettingsError(ValueError):
    """A part of the configuration broke its declared rules; `problems` names each."""

    def __init__(self, title: str, problems: list[SettingProblem]):
        self.problems = tuple(problems)
        super().__init__(f"{title}: " + "; ".join(p.line() for p in self.problems))


class Section:
    """What every part of the configuration shares: it checks itself when built, and reads
    and writes itself as plain values."""

    SECTION: ClassVar[str] = ""  # its [section] in a configuration file
    TITLE: ClassVar[str] = ""  # what it is, in words
    ACROSS: ClassVar[tuple[Across, ...]] = ()

    def __post_init__(self) -> None:
        problems = [
            SettingProblem(self.SECTION, (name,), (value,), rule)
            for name, value in self.values().items()
            for rule in value_problems(type(self), name, value)
        ]
        if not problems:
            problems = [
                SettingProblem(
                    self.SECTION,
                    rule.names,
                    tuple(getattr(self, n) for n in rule.names),
                    rule.words,
                )
                for rule in self.ACROSS
                if not rule.test(self)
            ]
        if problems:
            raise SettingsError(self.TITLE, problems)

    def values(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def to_dict(self) -> dict:
        """Every setting by name, JSON-ready (tuples become lists), for the run record."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}

    @classmethod
    def from_dict(cls, values: dict):
        """A part from plain values (as a file or a run record gives them); unknown names,
        wrong types and broken rules are a `SettingsError` naming each, all at once."""
        known = setting_types(cls)
        problems = []
        for name, value in values.items():
            if name not in known:
                rule = "unknown setting" + _did_you_mean(name, known)
                problems.append(SettingProblem(cls.SECTION, (name,), (value,), rule))
            else:
                problems.extend(
                    SettingProblem(cls.SECTION, (name,), (value,), rule)
                    for rule in value_problems(cls, name, value)
                )
        if problems:
            raise SettingsError(cls.TITLE, problems)
        return cls(**{name: typed_value(value, known[name]) for name, value in values.items()})


def _did_you_mean(name: str, known) -> str:
    close = difflib.get_close_matches(name, list(known), n=1)
    return f" (did you mean {close[0]}?)" if close else ""


@cache
def setting_types(part: type) -> dict[str, Any]:
    """Each setting's declared type, resolved from the annotations."""
    hints = typing.get_type_hints(part)
    return {f.name: hints[f.name] for f in fields(part)}


def setting_checks(part: type, name: str) -> tuple[Check, ...]:
    return next(f.metadata.get("checks", ()) for f in fields(part) if f.name == name)


def setting_meaning(part: type, name: str) -> str:
    return next(f.metadata.get("meaning", "") for f in fields(part) if f.name == name)


def setting_default(part: type, name: str) -> Any:
    found = next(f for f in fields(part) if f.name == name)
    return found.default_factory() if found.default is MISSING else found.default


def value_problems(part: type, name: str, value: Any) -> list[str]:
    """What is wrong with one value of a setting: its type first, then its declared rules."""
    try:
        typed = typed_value(value, setting_types(part)[name])
    except TypeError as wrong:
        return [str(wrong)]
    return [
        f"must be {check.words}" for check in setting_checks(part, name) if not check.test(typed)
    ]


def type_words(kind: Any) -> str:
    """A declared type in words: 'a whole number', 'a list of text', ..."""
    origin, arguments = typing.get_origin(kind), typing.get_args(kind)
    if origin in (typing.Union, _UnionType):
        return " or ".join(type_words(a) for a in arguments if a is not type(None))
    if origin is tuple:
        if len(arguments) == 2 and arguments[1] is Ellipsis:
            return f"a list of {_plural(arguments[0])}"
        return f"a list of {len(arguments)} {_plural(arguments[0])}"
    if origin is dict:
        return f"a table of {_plural(arguments[1])}"
    return _SCALAR_WORDS.get(kind, getattr(kind, "__name__", str(kind)))


_UnionType = type(int | None)
_SCALAR_WORDS = {int: "a whole number", float: "a number", bool: "true or false", str: "text"}
_PLURALS = {int: "whole numbers", float: "numbers", bool: "true/false values", str: "words"}


def _plural(kind: Any) -> str:
    return _PLURALS.get(kind, type_words(kind))


def typed_value(value: Any, kind: Any) -> Any:
    """`value` as the declared type `kind`, or a TypeError saying what it must be.

    Strict, so a typo is never read as something else: true is not 1, 4.0 is not a whole
    number, "4" is not a number; a whole number is a number; a list becomes a tuple.
    """
    origin, arguments = typing.get_origin(kind), typing.get_args(kind)
    if origin in (typing.Union, _UnionType):
        if value is None and type(None) in arguments:
            return None
        kind = next(a for a in arguments if a is not type(None))
        origin, arguments = typing.get_origin(kind), typing.get_args(kind)
    must = TypeError(f"must be {type_words(kind)}")
    if origin is tuple:
        if not isinstance(value, list | tuple):
            raise must
        items = arguments[:1] * len(value) if arguments[-1] is Ellipsis else arguments
        if len(items) != len(value):
            raise must
        try:
            return tuple(typed_value(v, k) for v, k in zip(value, items, strict=True))
        except TypeError:
            raise must from None
    if origin is dict:
        if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
            raise must
        try:
            return {k: typed_value(v, arguments[1]) for k, v in value.items()}
        except TypeError:
            raise must from None
    return _typed_scalar(value, kind, must)


def _typed_scalar(value: Any, kind: Any, must: TypeError) -> Any:
    if kind is bool:
        if isinstance(value, bool):
            return value
        raise must
    if isinstance(value, bool):  # a bool is an int to Python, never a number here
        raise must
    if kind is int and isinstance(value, int):
        return value
    if kind is float and isinstance(value, int | float):
        if not math.isfinite(value):
            raise TypeError("must be a finite number")
        return float(value)
    if kind is str and isinstance(value, str):
        return value
    if kind not in (int, float, str):  # a type this module does not know how to read
        return value
    raise must


# --- the parts ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class FeatureParams(Section):
    """Windows and thresholds of the point-in-time features.

    Day windows are exact: a window of `d` days for as-of date `t` holds rows dated in
    (t - d days, t], so a row dated `t` is in and a row dated `t + 1 day` is not.
    Month windows count calendar months ending with the month of `t`, that month holding only
    the rows dated on or before `t`. The windows are part of each feature's definition (its
    name and meaning say `_90d`, `3m`, ...), which the model was trained on: they are recorded
    with each run, and only the values the features are defined for are accepted.
    """

    SECTION = "features"
    TITLE = "feature windows"

    recent_days: int = setting(
        90,
        "Days in every `_90d` window.",
        fixed(90, "the `_90d` features are defined over 90 days"),
    )
    long_days: int = setting(
        180,
        "Days in every `_180d` window, and in the before-action incident window.",
        fixed(180, "the `_180d` features are defined over 180 days"),
    )
    slope_since_action_max_months: int = setting(
        12,
        "Latest months since action the compliance trend since action uses, at most.",
        fixed(12, "the trend since action is defined over at most 12 months"),
    )
    slope_short_months: int = setting(
        3, "Months in the 3-month compliance trend.", fixed(3, "the 3-month trend's window")
    )
    slope_long_months: int = setting(
        6, "Months in the 6-month compliance trend.", fixed(6, "the 6-month trend's window")
    )
    first_cycle_months: int = setting(
        2,
        "A slip within this many months of first meeting the standard is a first-cycle slip.",
        fixed(2, "the first-cycle slip feature is defined over two months"),
    )
    spc_recent_points: int = setting(
        3,
        "Points of the SPC chart that count as the latest.",
        fixed(3, "the SPC features are defined on the latest 3 points"),
    )
    spc_min_points: int = setting(
        3,
        "Monthly points an SPC chart needs; fewer give no SPC features.",
        fixed(3, "the SPC features are defined from 3 points"),
    )
    primary_sources: tuple[str, ...] = setting(
        PRIMARY_CHECK_SOURCES,
        "Check sources whose results make monthly compliance.",
        each_of(CHECK_SOURCES),
    )


@dataclass(frozen=True)
class LabelParams(Section):
    """Parameters of the outcome label: horizon, observation and slip rules (spec steps 1-5)."""

    SECTION = "labels"
    TITLE = "outcome label"

    horizon_months: int = setting(
        6,
        "Whole calendar months after the as-of month over which an improvement must hold.",
        between(1, 12),
    )
    min_observed_months: int = setting(
        2,
        "Months of the window with a compliance value needed to observe the outcome (or a "
        "serious incident).",
        between(1, 12),
    )
    consecutive_below: int = setting(
        2, "Consecutive months below the standard that make a slip.", between(1, 12)
    )
    serious_harms: tuple[str, ...] = setting(
        SERIOUS_HARMS, "Incident harms that make a slip on their own.", each_of(HARMS)
    )
    primary_sources: tuple[str, ...] = setting(
        PRIMARY_CHECK_SOURCES,
        "Check sources whose results make the label's monthly compliance.",
        each_of(CHECK_SOURCES),
    )


@dataclass(frozen=True)
class EvidenceThreshold(Section):
    """Every threshold the rules use, in one place. A provider group may set its own.

    Embedded (all must hold):
        min_consecutive_months: monthly review cycles in a row at or above the standard.
        min_evidence_categories: CQC evidence categories (of six) showing improvement in the
            90 days to as_of.
        require_peoples_experience: people's and families' feedback must be among them.
        min_teams_meeting_share: share of teams whose latest check (90 days) met the standard.
        incident_lookback_days: window for moderate-or-worse theme incidents; fixed at 90 by
            the feature frame.
        max_serious_incidents: moderate-or-worse theme incidents allowed in that window.
        max_incident_rate_change_per_month: theme incidents per month since action minus before
            action must be strictly below this (fewer than before); no theme incident in the
            last 180 days with an unchanged rate also passes.
        min_competency_margin: competency pass share (180 days) minus the standard.
        max_confidence_gap_points: self-rated confidence above demonstrated competency (1-5).
    Consolidating:
        consolidating_min_consecutive_months, consolidating_min_evidence_categories.
    Slipping:
        slipping_min_slips: falls from at-or-above to below the standard since action.
    Triggers (see `models.triggers`):
        trigger_max_prompts_per_observation: prompts per staff-practice observation (90 days)
            above which staff understanding is weak.
        trigger_min_incident_judgement_days: days since action needed before a fall in
            incidents can be judged.
    Claim check:
        embedded_claims: declared statuses / review classifications that claim embedding.
        overclaim_stages: stages that contradict a claim of embedding.
    Review cadence (see `models.cadence`):
        rm_review_interval_months, senior_review_interval_months, review_grace_days.
    """

    SECTION = "threshold"
    TITLE = "evidence threshold"

    min_consecutive_months: int = setting(
        3,
        "Embedded: monthly review cycles in a row at or above the standard.",
        between(1, 36),
    )
    min_evidence_categories: int = setting(
        3,
        "Embedded: CQC evidence categories (of six) showing improvement in the 90 days to the "
        "as-of date.",
        between(1, len(EVIDENCE_CATEGORIES)),
    )
    require_peoples_experience: bool = setting(
        True, "Embedded: people's and families' feedback must be among those categories."
    )
    min_teams_meeting_share: float = setting(
        0.8,
        "Embedded: share of teams whose latest check in 90 days met the standard.",
        between(0, 1),
    )
    incident_lookback_days: int = setting(
        90,
        "Embedded: days in which moderate-or-worse theme incidents are counted.",
        fixed(
            FEATURE_INCIDENT_WINDOW_DAYS, "the feature frame counts serious incidents over 90 days"
        ),
    )
    max_serious_incidents: int = setting(
        0, "Embedded: moderate-or-worse theme incidents allowed in that window.", at_least(0)
    )
    max_incident_rate_change_per_month: float = setting(
        0.0,
        "Embedded: theme incidents per month since action minus before action must be below "
        "this (fewer than before).",
        between(-10, 10),
    )
    min_competency_margin: float = setting(
        0.0,
        "Embedded: competency pass share (180 days) minus the standard, at least.",
        between(-1, 1),
    )
    max_confidence_gap_points: float = setting(
        0.5,
        "Embedded: self-rated confidence above demonstrated competency (points on 1-5), at most.",
        between(0, 4),
    )
    consolidating_min_consecutive_months: int = setting(
        2, "Consolidating: monthly review cycles in a row at or above the standard.", between(1, 36)
    )
    consolidating_min_evidence_categories: int = setting(
        2,
        "Consolidating: CQC evidence categories showing improvement in 90 days.",
        between(1, len(EVIDENCE_CATEGORIES)),
    )
    slipping_min_slips: int = setting(
        1, "Slipping: falls from at-or-above to below the standard since action.", at_least(1)
    )
    trigger_max_prompts_per_observation: float = setting(
        1.0,
        "Trigger: prompts per staff-practice observation (90 days) above which staff "
        "understanding is weak.",
        at_least(0),
    )
    trigger_min_incident_judgement_days: int = setting(
        180,
        "Trigger: days since action before a fall in incidents can be judged.",
        between(0, 3650),
    )
    embedded_claims: tuple[str, ...] = setting(
        ("embedded", "closed"),
        "Claim check: declared statuses and review classifications that claim embedding.",
        each_of(tuple(dict.fromkeys(DECLARED_STATUSES + REVIEW_CLASSIFICATIONS))),
    )
    overclaim_stages: tuple[str, ...] = setting(
        (NOT_STARTED, EMERGING, SLIPPING),
        "Claim check: stages that contradict a claim of embedding.",
        each_of(tuple(s for s in STAGES if s != EMBEDDED)),
    )
    rm_review_interval_months: int = setting(
        1, "Review cadence: months between Registered Manager reviews.", between(1, 24)
    )
    senior_review_interval_months: int = setting(
        3, "Review cadence: months between senior leadership reviews.", between(1, 24)
    )
    review_grace_days: int = setting(
        0, "Review cadence: days a review may be late before it is overdue.", between(0, 365)
    )

    ACROSS = (
        Across(
            ("consolidating_min_consecutive_months", "min_consecutive_months"),
            "consolidating needs no more months in a row than embedded",
            lambda t: t.consolidating_min_consecutive_months <= t.min_consecutive_months,
        ),
        Across(
            ("consolidating_min_evidence_categories", "min_evidence_categories"),
            "consolidating needs no more evidence categories than embedded",
            lambda t: t.consolidating_min_evidence_categories <= t.min_evidence_categories,
        ),
    )


@dataclass(frozen=True)
class ValidationParams(Section):
    """How strict a run is.

    `block_share`: a file whose rows break row-level rules of their own (not counting rows
    quarantined only because a row they depend on was) in more than this share of its judged
    rows (rows read minus rows set aside) blocks the run.
    `sample_rows`: how many failing row numbers a finding names.
    """

    SECTION = "validation"
    TITLE = "validation"

    block_share: float = setting(
        0.05,
        "A file with more than this share of its rows breaking row rules blocks the run.",
        between(0, 1),
    )
    sample_rows: int = setting(5, "Failing row numbers each finding names.", between(1, 100))


@dataclass(frozen=True)
class RankingParams(Section):
    """Weights that turn an expected slip into oversight priority (`models.ranking`)."""

    SECTION = "ranking"
    TITLE = "ranking"

    severity_weights: dict[str, float] = setting(
        {"routine": 1.0, "significant": 2.0, "serious": 3.0},
        "Weight of an expected slip by the improvement's severity.",
        keys_exactly(SEVERITIES),
    )
    overclaim_weight: float = setting(
        0.5, "Added per over-claimed improvement: credibility risk.", at_least(0)
    )
    rules_hold_shares: dict[str, float] = setting(
        # Held shares of labelled snapshots by stage, simulated groups of 100 services x 3
        # years, 3 seeds (benchmarks/bench_rules_hold_shares.py); no snapshot of a not-started
        # improvement has a label (it needs action and a check), so it takes the lowest.
        {NOT_STARTED: 0.38, EMERGING: 0.42, CONSOLIDATING: 0.79, EMBEDDED: 0.87, SLIPPING: 0.38},
        "Without a model: the share of improvements at each stage that held over the next "
        "horizon, used in place of the probability of holding to rank services.",
        keys_exactly(STAGES, 0, 1),
    )


@dataclass(frozen=True)
class CrossCheckBands(Section):
    """Probability bands of the cross-check (P(holds over the next horizon))."""

    SECTION = "cross_check"
    TITLE = "cross-check bands"

    low: float = setting(
        0.5,
        "Below this probability, a confident stage is more than the model sees.",
        between(0, 1),
    )
    high: float = setting(
        0.8,
        "At or above this probability, a cautious stage undersells the evidence.",
        between(0, 1),
    )
    confident_stages: tuple[str, ...] = setting(
        (EMBEDDED,), "Stages the model may find too confident.", each_of(STAGES)
    )
    cautious_stages: tuple[str, ...] = setting(
        (EMERGING, SLIPPING), "Stages the model may find too cautious.", each_of(STAGES)
    )

    ACROSS = (
        Across(("low", "high"), "the bands need low <= high", lambda b: b.low <= b.high),
        Across(
            ("confident_stages", "cautious_stages"),
            "a stage cannot be both confident and cautious",
            lambda b: not set(b.confident_stages) & set(b.cautious_stages),
        ),
    )


@dataclass(frozen=True)
class ModelSettings(Section):
    """How the hold model is trained, banded, promoted and cross-checked."""

    SECTION = "model"
    TITLE = "model settings"

    random_state: int = setting(
        0, "Seed of every fit: the same seed gives the same model.", between(0, 2**32 - 1)
    )
    # OpenMP threads per boosting fit: on a shared 2-core machine one thread was 8x faster
    # than two (threads spin-wait on each other under load); raise it on a dedicated host.
    threads: int = setting(1, "OpenMP threads per boosting fit.", between(1, 256))
    band_refits: int = setting(
        8,
        "Bootstrap refits (over improvements) behind p_hold_low and p_hold_high.",
        between(2, 200),
    )
    band_quantiles: tuple[float, float] = setting(
        (0.1, 0.9),
        "Quantiles of the refits that are the band's ends (0.1 and 0.9: an 80% band).",
        Check("0 <= low < high <= 1", lambda q: 0 <= q[0] < q[1] <= 1),
    )
    # Chosen on seed 1 of benchmarks/bench_model.py (300 services): the narrowest band holding
    # the true probability for 80% of the replay's rows; checked on the other seeds
    # (docs/model.md, "The band").
    band_spread_scale: float = setting(
        3.0,
        "The band's log-odds half-width is this times sqrt(refit spread^2 + floor^2).",
        between(0, 20),
    )
    band_spread_floor: float = setting(
        0.32,
        "The smallest log-odds spread the band assumes, however much the refits agree.",
        between(0, 5),
    )
    promotion_tolerance: float = setting(
        0.005,
        "A new model is promoted when its replay AUROC drops, and its Brier score rises, by "
        "at most this much against the champion's.",
        between(0, 1),
    )
    backtest_peers: tuple[str, ...] = setting(
        ("ga2m", "logistic_compliance", "hgb_unconstrained", "rules_stage", "claims_alone"),
        "Models the replay evaluation compares (models.baselines; the promotion gate reads "
        "ga2m's).",
        each_of(BACKTEST_PEERS),
        Check(f"a list naming {GATED_MODEL}", lambda peers: GATED_MODEL in peers),
    )
    replay_cutoffs: int = setting(
        4, "Cutoffs of the replay evaluation a training run logs.", between(1, 24)
    )
    replay_step_months: int = setting(3, "Months between the replay's cutoffs.", between(1, 24))
    replay_unseen_share: float = setting(
        0.25,
        "Share of services held out of training for the replay's unseen-services split.",
        between(0, 0.9),
    )
    min_training_rows: int = setting(
        200, "Labelled snapshots training needs, at least.", at_least(1)
    )
    min_training_improvements: int = setting(
        20, "Improvements with a labelled snapshot training needs, at least.", at_least(2)
    )
    min_outcome_snapshots: int = setting(
        30,
        "Labelled snapshots that held, and that slipped, training needs, at least.",
        at_least(1),
    )


@dataclass(frozen=True)
class ReportSettings(Section):
    """How much of the governance report is drawn in full (see docs/report.md)."""

    SECTION = "report"
    TITLE = "report settings"

    detailed_services: int = setting(
        30,
        "Services (top of the ranking) shown as full improvement cards; the rest as rows.",
        at_least(0),
    )
    detailed_charts: int = setting(
        150, "Improvements needing attention drawn with SPC and factor charts.", at_least(0)
    )
    chart_workers: int = setting(
        0, "Processes drawing charts; 0: the usable CPUs, at most 4.", between(0, 64)
    )


PARTS: tuple[type[Section], ...] = (
    FeatureParams,
    LabelParams,
    EvidenceThreshold,
    ValidationParams,
    RankingParams,
    ModelSettings,
    CrossCheckBands,
    ReportSettings,
)
SECTIONS = tuple(part.SECTION for part in PARTS)


@dataclass(frozen=True)
class RunConfig:
    """Every parameter of a run, in one frozen object, written into each run's record."""

    features: FeatureParams = field(default_factory=FeatureParams)
    labels: LabelParams = field(default_factory=LabelParams)
    threshold: EvidenceThreshold = field(default_factory=EvidenceThreshold)
    validation: ValidationParams = field(default_factory=ValidationParams)
    ranking: RankingParams = field(default_factory=RankingParams)
    model: ModelSettings = field(default_factory=ModelSettings)
    cross_check: CrossCheckBands = field(default_factory=CrossCheckBands)
    report: ReportSettings = field(default_factory=ReportSettings)

    def to_dict(self) -> dict:
        return {name: getattr(self, name).to_dict() for name in SECTIONS}
