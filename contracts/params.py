"""Every parameter of a run, one frozen dataclass per part, composed into `RunConfig`.

These are the thresholds and windows a provider group may set in its configuration file
(`pipelines.config.load_run_config`); each run writes the whole `RunConfig` into its record.
Nothing here reads a file or the environment.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields

from contracts.export import EVIDENCE_CATEGORIES, PRIMARY_CHECK_SOURCES, SERIOUS_HARMS
from contracts.vocabulary import EMERGING, NOT_STARTED, SLIPPING, STAGES

# The feature frame counts serious incidents over this fixed window
# (`serious_theme_incidents_90d_count`); a different lookback needs a new feature.
FEATURE_INCIDENT_WINDOW_DAYS = 90


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

    min_consecutive_months: int = 3
    min_evidence_categories: int = 3
    require_peoples_experience: bool = True
    min_teams_meeting_share: float = 0.8
    incident_lookback_days: int = 90
    max_serious_incidents: int = 0
    max_incident_rate_change_per_month: float = 0.0
    min_competency_margin: float = 0.0
    max_confidence_gap_points: float = 0.5
    consolidating_min_consecutive_months: int = 2
    consolidating_min_evidence_categories: int = 2
    slipping_min_slips: int = 1
    trigger_max_prompts_per_observation: float = 1.0
    trigger_min_incident_judgement_days: int = 180
    embedded_claims: tuple[str, ...] = ("embedded", "closed")
    overclaim_stages: tuple[str, ...] = (NOT_STARTED, EMERGING, SLIPPING)
    rm_review_interval_months: int = 1
    senior_review_interval_months: int = 3
    review_grace_days: int = 0

    def __post_init__(self) -> None:
        if self.incident_lookback_days != FEATURE_INCIDENT_WINDOW_DAYS:
            raise ValueError(
                f"incident_lookback_days={self.incident_lookback_days}: the feature frame counts "
                f"serious incidents over {FEATURE_INCIDENT_WINDOW_DAYS} days only"
            )
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
class GovernanceParams:
    """How a run is set against earlier runs of the same output folder (docs/governance.md).

    The earlier runs come from the run history (`contracts.tables.HISTORY_TABLES`).
    """

    # The report's comparison run: "previous_quarter" (the last run dated before the current
    # quarter began), "previous_run", a run id, or a date (YYYY-MM-DD: the last run as of it).
    compare_with: str = "previous_quarter"
    # A probability of holding that moved by at least this much (0.10 = 10 points) since the
    # comparison run is explained: new evidence or a new model, and the terms behind it.
    movement_threshold: float = 0.10
    movement_terms: int = 3  # terms named for each explained move, the largest first
    rank_move_places: int = 3  # a service that moved at least this many places is listed
    trend_months: int = 12  # trends show the last run of each of this many calendar months ...
    trend_recent_days: int = 14  # ... and every run in this many days up to the current one
    recent_runs: int = 7  # earlier runs a file's row count is compared with (their median)
    # Warn when a file has at least this share fewer rows than that median (0.3 = 30% fewer).
    row_drop_warning_share: float = 0.3

    def __post_init__(self) -> None:
        if not 0 < self.movement_threshold <= 1:
            raise ValueError("movement_threshold must be a probability change in (0, 1]")
        if not 0 < self.row_drop_warning_share <= 1:
            raise ValueError("row_drop_warning_share must be a share in (0, 1]")
        for name in ("movement_terms", "rank_move_places", "recent_runs"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1")
        if self.trend_months < 0 or self.trend_recent_days < 0:
            raise ValueError("trend_months and trend_recent_days must not be negative")


@dataclass(frozen=True)
class RetentionParams:
    """Which run folders under OUT/runs/ a successful run keeps; the rest are removed.

    The run history keeps every run whatever happens to its folder; the folder published as
    OUT/current is never removed, nor a failed run's folder newer than it (for a look).
    """

    enabled: bool = True  # False keeps every run folder
    keep_last_runs: int = 30  # the latest finished runs kept (the current one among them)
    # Also keep each calendar quarter's last finished run: the one a quarterly governance
    # meeting compares with, and whose explanation "why it moved" needs.
    keep_quarter_ends: bool = True

    def __post_init__(self) -> None:
        if self.keep_last_runs < 1:
            raise ValueError("keep_last_runs must be at least 1 (the current run)")


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
    governance: GovernanceParams = field(default_factory=GovernanceParams)
    retention: RetentionParams = field(default_factory=RetentionParams)

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
    "governance",
    "retention",
)


def _as_dict(part) -> dict:
    return part.to_dict() if hasattr(part, "to_dict") else _plain(part)
