"""Every number of the generative story, in one frozen object.

Each value's reason is given in docs/simulator.md. Rates are per calendar month unless the
name says otherwise; shares and probabilities are in [0, 1]; compliance is the share of
sampled items that meet the standard.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Parameters:
    """The simulator's constants. Defaults are the documented realistic values."""

    # --- the group ----------------------------------------------------------------------
    service_types: tuple[str, ...] = (
        "care_home_residential",
        "care_home_nursing",
        "domiciliary_care",
        "supported_living",
        "extra_care",
        "hospice",
        "other",
    )
    service_type_shares: tuple[float, ...] = (0.36, 0.26, 0.22, 0.10, 0.03, 0.01, 0.02)
    team_counts: tuple[int, ...] = (2, 3, 4, 5, 6)
    team_count_shares: tuple[float, ...] = (0.08, 0.20, 0.30, 0.24, 0.18)
    leadership_instability_correlation: float = -0.4
    culture_leadership_correlation: float = 0.5

    # --- improvements -------------------------------------------------------------------
    backlog_per_service: float = 5.0  # open at the start of the export (system adoption audit)
    arrivals_per_service_year: float = 6.0
    never_acted_share: float = 0.07
    action_delay_monthly_start: float = 0.55  # chance per month that action starts
    standards: tuple[float, ...] = (0.75, 0.8, 0.85, 0.9, 0.95)
    standard_shares: tuple[float, ...] = (0.05, 0.2, 0.25, 0.35, 0.15)
    baseline_gap: tuple[float, float] = (0.08, 0.30)  # below the standard before the change
    target_margin: tuple[float, float] = (0.05, 0.12)  # above the standard once adopted
    team_offset_sd: float = 0.025
    pilot_share: float = 0.08  # improvements only one team ever takes up
    unwilling_logit: float = -3.3  # a team that never adopts (average leadership)
    unwilling_leadership: float = 0.6
    adoption_logit: float = 0.5  # monthly chance a willing team adopts, at average leadership
    adoption_leadership: float = 0.5
    ramp_months: float = 2.0  # months from adoption to the full new level
    slipped_level: float = 0.3  # share of the gain kept after a slip
    recovery_logit: float = -0.9
    recovery_leadership: float = 0.5

    # --- slip hazard (monthly, holding teams) --------------------------------------------
    hazard_floor_logit: float = -5.0  # long-embedded team, average everything
    hazard_new_boost: float = 2.6  # extra log-odds in the first months after adoption
    hazard_decay_months: float = 3.0
    hazard_leadership: float = 0.5
    hazard_instability: float = 0.6
    hazard_overconfidence: float = 0.5
    hazard_concentration: float = 1.0  # times the share of teams that never adopted

    # --- latent compliance noise ----------------------------------------------------------
    instability_compliance: float = 0.02  # compliance lost per unit of instability
    monthly_noise_sd: float = 0.02
    check_concentration: float = 40.0  # beta concentration of one check around the team level

    # --- workforce ----------------------------------------------------------------------
    instability_autocorrelation: float = 0.8
    instability_sd: float = 0.8
    service_instability_weight: float = 0.7
    agency_logit: float = -2.6
    agency_instability: float = 0.9
    unfilled_logit: float = -3.6
    unfilled_instability: float = 0.8
    weekly_share_noise_sd: float = 0.3
    leavers_per_team_week: float = 0.12
    leavers_instability: float = 0.5
    overconfidence_mean: float = 0.3
    overconfidence_sd: float = 0.5

    # --- monitoring: chance of a check per team per month, by phase x source -------------
    # rows: identified but no action, action under way, declared closed;
    # columns: audit, care_records, staff_practice, competency
    check_frequency: tuple[tuple[float, ...], ...] = (
        (0.50, 0.30, 0.10, 0.00),
        (0.95, 0.85, 0.60, 0.35),
        (0.60, 0.50, 0.15, 0.05),
    )
    source_use_shares: tuple[float, ...] = (1.0, 0.85, 0.75, 0.6)
    sampled_choices: tuple[tuple[int, ...], ...] = (
        (5, 8, 10, 10, 10, 12, 15, 20),
        (5, 6, 8, 10, 10),
        (3, 4, 5, 6, 8),
        (4, 6, 8, 10, 12),
    )
    repeat_gap_not_held: float = 0.7
    repeat_gap_held: float = 0.25
    prompts_per_failed_item: float = 1.2

    # --- incidents ----------------------------------------------------------------------
    theme_incidents_per_month: float = 0.15  # at the standard, per improvement, size 1
    incident_compliance_gradient: float = 6.0  # log-rate per unit of compliance below standard
    background_incidents_per_month: float = 2.0  # per service of size 1, all themes
    harm_shares: tuple[float, ...] = (0.64, 0.32, 0.03, 0.007, 0.003)
    named_incident_share: float = 0.35

    # --- feedback ------------------------------------------------------------------------
    theme_feedback_per_month: float = 0.35
    background_feedback_per_month: float = 1.2
    staff_feedback_per_team_month: float = 0.15
    feedback_lag_weight: float = 0.3  # weight of the newest month in the lagged experience
    feedback_compliance_gradient: float = 5.0
    feedback_culture: float = 0.7
    named_feedback_share: float = 0.3
    feedback_with_text_share: float = 0.7

    # --- leaders and governance -----------------------------------------------------------
    optimism_mean: float = 0.03
    optimism_sd: float = 0.03
    perception_sd: float = 0.03
    claim_months: tuple[int, ...] = (1, 3, 6)  # months at standard before declaring embedded
    claim_month_shares: tuple[float, ...] = (0.25, 0.55, 0.20)
    close_after_months: int = 3
    close_monthly: float = 0.4
    reopen_margin: float = 0.06
    reopen_monthly: float = 0.4
    # chance of a review per month: (while open, after closure) for each level
    review_monthly: tuple[tuple[float, float], ...] = ((0.85, 0.15), (0.33, 0.1), (0.05, 0.02))
    board_serious_monthly: float = 0.15
    review_optimism: tuple[float, ...] = (0.02, 0.03, 0.04)
    not_assured_margin: float = 0.08

    # --- improvement plans (the actions file): activity, not evidence ----------------------
    embedding_actions_mean: float = 2.0  # embedding actions beyond the first, per improvement
    action_completion_logit: float = 0.8  # chance an embedding action is ever completed
    action_completion_leadership: float = 0.5

    # --- late entry: rows recorded some days after the date they carry --------------------
    late_entry_share: float = 0.15  # of checks, feedback, incidents, reviews, declarations, actions
    late_entry_mean_days: float = 10.0  # mean delay of a late row

    # --- outcome label (the spec's defaults) ---------------------------------------------
    horizon_months: int = 6
    truth_chunk_elements: int = 6_000_000  # draws x improvements x teams per re-simulation chunk
