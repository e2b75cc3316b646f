"""Every parameter of a run, one frozen dataclass per part, composed into `RunConfig`.

These are the thresholds and windows a provider group may set in its configuration file
(`pipelines.config.load_run_config`); each run writes the whole `RunConfig` into its record.
Nothing here reads a file or the environment.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields, replace

from contracts.export import EVIDENCE_CATEGORIES, PRIMARY_CHECK_SOURCES, SERIOUS_HARMS
from contracts.vocabulary import CONSOLIDATING, EMERGING, NOT_STARTED, SLIPPING, STAGES


def _plain(part) -> dict:
    """A parameter object as JSON-ready values (tuples become lists)."""
    return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(part).items()}


@dataclass(frozen=True)
class FeatureParams:
    """Windows and thresholds of the point-in-time features.

    Day windows are exact: a window of `d` days for as-of date `t` holds rows dated in
    (t - d days, t], so a row dated `t` is in and a row dated `t + 1 day` is not.
    Month windows count calendar months ending with the month of `t`, that month holding only
    the rows dated on or before `t`.
    """

    recent_days: int = 90  # the `_90d` windows
    long_days: int = 180  # the `_180d` windows, and the before-action incident window
    slope_since_action_max_months: int = 12  # Theil-Sen since action uses at most this many
    slope_short_months: int = 3
    slope_long_months: int = 6
    first_cycle_months: int = 2  # a slip within this many months of first meeting the standard
    spc_recent_points: int = 3  # points of the chart that count as "latest"
    spc_min_points: int = 3  # fewer monthly points than this: no SPC features
    primary_sources: tuple[str, ...] = PRIMARY_CHECK_SOURCES
    # A month is under staffing pressure when the location's agency share of planned shifts
    # (weeks starting in the month) is at least this, or its unfilled share at least the next.
    pressure_agency_share: float = 0.2
    pressure_unfilled_share: float = 0.1
    # The windows of the rules' incident counts: the evidence threshold's incident_lookback_days
    # and medium_term_incident_days (`RunConfig` copies them from [threshold]; set them there).
    incident_lookback_days: int = 90
    medium_term_incident_days: int = 180


@dataclass(frozen=True)
class LabelParams:
    """Parameters of the outcome label: horizon, observation and slip rules (spec steps 1-5)."""

    horizon_months: int = 6
    min_observed_months: int = 2
    consecutive_below: int = 2
    serious_harms: tuple[str, ...] = SERIOUS_HARMS
    primary_sources: tuple[str, ...] = PRIMARY_CHECK_SOURCES


@dataclass(frozen=True)
class EvidenceThreshold:
    """Every threshold the rules use, in one place. A provider group may set its own.

    Embedded (all must hold):
        min_consecutive_months: monthly review cycles in a row at or above the standard.
        serious_min_consecutive_months: the same for a serious concern (the framework's
            stricter medium-term bar: two senior review cycles).
        min_evidence_categories: CQC evidence categories (of six) showing improvement in the
            90 days to as_of.
        require_peoples_experience: people's and families' feedback must be among them.
        min_peoples_rating: where people rate their experience (1-5), the mean rating on the
            theme (90 days) must be at least this for their feedback to count as positive.
        min_teams_meeting_share: share of teams whose latest check (90 days) met the standard.
        incident_lookback_days: window (days to as_of) for moderate-or-worse theme incidents.
        medium_term_incident_days: the longer window used instead for concerns of a severity
            in `medium_term_severities`.
        medium_term_severities: severities held to the medium-term incident window.
        max_serious_incidents: moderate-or-worse theme incidents allowed in that window.
        max_incident_rate_change_per_month: moderate-or-worse theme incidents per month since
            action minus before action must be strictly below this (fewer than before); none in
            the last 180 days with an unchanged rate also passes. No-harm and low-harm reports
            never count against it: more reporting is not less safety.
        min_competency_margin: competency pass share (180 days) minus the standard, where the
            improvement's monitoring has competency checks in those 180 days (without any,
            staff understanding is judged by breadth of evidence and the triggers).
        max_confidence_gap_points: self-rated confidence above demonstrated competency (1-5):
            staff who describe more confidently than they demonstrate.
        min_self_rated_confidence: mean self-rated confidence (1-5, 180 days) below which staff
            are still learning without full confidence.
        slip_memory_months: months at the standard since a slip after early improvement before
            the slip stops being a fragile reason (two senior review cycles).
    Consolidating:
        consolidating_min_consecutive_months, consolidating_min_evidence_categories.
    Slipping:
        slipping_min_slips: falls from at-or-above to below the standard since action.
    Triggers (see `models.triggers`):
        trigger_max_prompts_per_observation: prompts per staff-practice observation (90 days)
            above which staff understanding is weak.
        trigger_min_incident_judgement_days: days since action needed before a fall in
            incidents can be judged.
        team_continuity_gap: key-worker continuity of a team this far below its service's
            (90 days) is an uneven local routine, for improvements of `workforce_themes`.
        workforce_themes: themes whose improvements workforce figures concern.
        workforce_improvement_min_change: fall in the agency + unfilled share, or rise in
            key-worker continuity, since action that counts as workforce figures improving.
        min_continuing_complaints: complaints on the theme in 90 days that, with the latest
            within `continuing_complaint_days`, are continuing complaints.
        continuing_complaint_days: see min_continuing_complaints.
    Stable under pressure:
        min_pressure_months: months of staffing pressure since action, all at the standard,
            that make "practice held under staffing pressure" a stable reason.
    Claim check:
        embedded_claims: declared statuses / review classifications that claim embedding.
        overclaim_stages: stages that contradict a claim of embedding (by default every stage
            short of embedded).
    Review cadence (see `models.cadence`):
        rm_review_interval_months, senior_review_interval_months, review_grace_days.
    """

    min_consecutive_months: int = 3
    serious_min_consecutive_months: int = 6
    min_evidence_categories: int = 3
    require_peoples_experience: bool = True
    min_peoples_rating: float = 3.0
    min_teams_meeting_share: float = 0.8
    incident_lookback_days: int = 90
    medium_term_incident_days: int = 180
    medium_term_severities: tuple[str, ...] = ("significant", "serious")
    max_serious_incidents: int = 0
    max_incident_rate_change_per_month: float = 0.0
    min_competency_margin: float = 0.0
    max_confidence_gap_points: float = 0.5
    min_self_rated_confidence: float = 3.0
    slip_memory_months: int = 6
    consolidating_min_consecutive_months: int = 2
    consolidating_min_evidence_categories: int = 2
    slipping_min_slips: int = 1
    trigger_max_prompts_per_observation: float = 1.0
    trigger_min_incident_judgement_days: int = 180
    team_continuity_gap: float = 0.15
    workforce_themes: tuple[str, ...] = ("staffing",)
    workforce_improvement_min_change: float = 0.05
    min_continuing_complaints: int = 2
    continuing_complaint_days: int = 42
    min_pressure_months: int = 1
    embedded_claims: tuple[str, ...] = ("embedded",)
    overclaim_stages: tuple[str, ...] = (NOT_STARTED, EMERGING, CONSOLIDATING, SLIPPING)
    rm_review_interval_months: int = 1
    senior_review_interval_months: int = 3
    review_grace_days: int = 0

    def __post_init__(self) -> None:
        for name in ("incident_lookback_days", "medium_term_incident_days"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be a number of days, at least 1")
        if not 0 <= self.min_teams_meeting_share <= 1:
            raise ValueError("min_teams_meeting_share must be a share in [0, 1]")
        if not 0 <= self.min_evidence_categories <= len(EVIDENCE_CATEGORIES):
            raise ValueError(f"min_evidence_categories must be 0 to {len(EVIDENCE_CATEGORIES)}")
        unknown = set(self.overclaim_stages) - set(STAGES)
        if unknown:
            raise ValueError(f"overclaim_stages has unknown stage(s): {sorted(unknown)}")

    def to_dict(self) -> dict:
        """Every threshold by name, JSON-ready (tuples become lists), for the run record."""
        return _plain(self)

    @classmethod
    def from_dict(cls, values: dict) -> EvidenceThreshold:
        """A threshold from a provider group's settings; unknown names are an error."""
        known = {f.name for f in fields(cls)}
        unknown = set(values) - known
        if unknown:
            raise ValueError(f"unknown evidence threshold setting(s): {sorted(unknown)}")
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in values.items()})


@dataclass(frozen=True)
class ValidationParams:
    """How strict a run is.

    `block_share`: a file whose rows break row-level rules of their own (not counting rows
    quarantined only because a row they depend on was) in more than this share of its judged
    rows (rows read minus rows set aside) blocks the run.
    `sample_rows`: how many failing row numbers a finding names.
    """

    block_share: float = 0.05
    sample_rows: int = 5


@dataclass(frozen=True)
class RankingParams:
    """Weights that turn an expected slip into oversight priority."""

    severity_weights: dict[str, float] = field(
        default_factory=lambda: {"routine": 1.0, "significant": 2.0, "serious": 3.0}
    )
    overclaim_weight: float = 0.5  # added per over-claimed improvement: credibility risk

    def to_dict(self) -> dict:
        return {
            "severity_weights": dict(self.severity_weights),
            "overclaim_weight": self.overclaim_weight,
        }


@dataclass(frozen=True)
class CrossCheckBands:
    """Probability bands of the cross-check (P(holds over the next horizon))."""

    low: float = 0.5  # below this, a stage of `confident_stages` is more than the model sees
    high: float = 0.8  # at or above this, a stage of `cautious_stages` undersells the evidence
    confident_stages: tuple[str, ...] = ("embedded",)
    cautious_stages: tuple[str, ...] = ("emerging", "slipping")

    def __post_init__(self) -> None:
        if not 0 <= self.low <= self.high <= 1:
            raise ValueError("bands need 0 <= low <= high <= 1")


@dataclass(frozen=True)
class ModelSettings:
    """How the hold model is trained, banded, promoted and cross-checked."""

    random_state: int = 0
    # OpenMP threads per boosting fit: on a shared 2-core machine one thread was 8x faster
    # than two (threads spin-wait on each other under load); raise it on a dedicated host.
    threads: int = 1
    band_refits: int = 8  # bootstrap refits (over improvements) behind p_hold_low / p_hold_high
    band_quantiles: tuple[float, float] = (0.1, 0.9)
    promotion_tolerance: float = 0.005  # AUROC may drop / Brier may rise by at most this much
    backtest_peers: tuple[str, ...] = (
        "ga2m",
        "rules_stage",
        "declared_status",
        "hgb_unconstrained",
    )
    min_training_rows: int = 200

    def to_dict(self) -> dict:
        return _plain(self)


@dataclass(frozen=True)
class ReportSettings:
    """How much of the governance report is drawn in full (see docs/report.md)."""

    detailed_services: int = 30  # services shown as full improvement cards; the rest as rows
    detailed_charts: int = 150  # improvements needing attention with SPC and factor charts
    chart_workers: int = 0  # processes drawing charts; 0: the usable CPUs, at most 4


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

    def __post_init__(self) -> None:
        # The rules' incident windows are thresholds ([threshold]); the features count over them.
        windows = {
            "incident_lookback_days": self.threshold.incident_lookback_days,
            "medium_term_incident_days": self.threshold.medium_term_incident_days,
        }
        object.__setattr__(self, "features", replace(self.features, **windows))

    def to_dict(self) -> dict:
        return {name: _as_dict(getattr(self, name)) for name in SECTIONS}


SECTIONS = (
    "features",
    "labels",
    "threshold",
    "validation",
    "ranking",
    "model",
    "cross_check",
    "report",
)


def _as_dict(part) -> dict:
    return part.to_dict() if hasattr(part, "to_dict") else _plain(part)
