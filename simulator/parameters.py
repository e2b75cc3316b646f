"""Every number of the generative story, in one frozen object.

Each value's reason is given in docs/simulator.md. Rates are per calendar month unless the
name says otherwise; shares and probabilities are in [0, 1]; compliance is the share of
sampled items that meet the standard.
"""

from __future__ import annotations

from dataclasses import dataclass, replace


@dataclass(frozen=True)
class Parameters:
    """The simulator's constants. Defaults are the documented realistic values, every knob of
    `KNOBS` on; `without(...)` switches knobs off (`Parameters.clean()`: all of them)."""

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
    recovery_logit: float = -2.0  # set with the hazard to CQC's re-inspection rates
    recovery_leadership: float = 0.5

    # --- slip hazard (monthly, holding teams) --------------------------------------------
    # Floor, boost and recovery set so that the group's base rates follow CQC's 2014-2017
    # re-inspection figures (simulator.base_rates, docs/simulator.md "Base rates").
    hazard_floor_logit: float = -3.9  # long-embedded team, average everything
    hazard_new_boost: float = 1.6  # extra log-odds in the first months after adoption
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
    # Services differ in how they cover gaps (block-booked agency, bank staff, a no-agency
    # policy), whatever their instability: without this the agency share is a formula of the
    # hidden instability (r = 0.91).
    agency_service_sd: float = 0.7
    unfilled_logit: float = -3.6
    unfilled_instability: float = 0.8
    weekly_share_noise_sd: float = 0.3
    leavers_per_team_week: float = 0.12
    leavers_instability: float = 0.5
    overconfidence_mean: float = 0.3
    overconfidence_sd: float = 0.5
    # Self-rated confidence (1-5) is not on the pass share's scale: people rate themselves near
    # the middle whatever they know, and services ask differently. confidence = centre + slope x
    # (pass share - 0.8) + weight x over-confidence + service style + noise, clipped to 1-5.
    confidence_centre: float = 3.6
    confidence_pass_slope: float = 2.0
    confidence_overconfidence: float = 0.6
    confidence_service_sd: float = 0.35
    confidence_noise_sd: float = 0.5

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
    named_incident_share: float = 0.2  # caused incidents naming the improvement (0.35 off)
    incident_team_missing: float = 0.35  # incidents recorded without a team (0.2 off)

    # --- feedback ------------------------------------------------------------------------
    theme_feedback_per_month: float = 0.35
    background_feedback_per_month: float = 1.2
    staff_feedback_per_team_month: float = 0.15
    feedback_lag_weight: float = 0.3  # weight of the newest month in the lagged experience
    feedback_compliance_gradient: float = 5.0
    feedback_culture: float = 0.7
    named_feedback_share: float = 0.2  # theme-related feedback naming the improvement
    feedback_team_missing: float = 0.7  # feedback recorded without a team
    feedback_theme_miscoded: float = 0.15  # theme-related feedback filed under another theme
    feedback_with_text_share: float = 0.7

    # --- leaders and governance -----------------------------------------------------------
    optimism_mean: float = 0.03
    optimism_sd: float = 0.03
    perception_sd: float = 0.045  # 0.03 with measurement_bias off
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

    # ===== knobs: how real provider groups are harder than a clean simulation ============
    # Each knob's fields and their "off" values are listed in KNOBS below; reasons and sources
    # are in docs/simulator.md ("Knobs"). Defaults are the realistic values `make demo` uses.

    # --- measurement gaps -------------------------------------------------------------------
    missed_round_monthly: float = 0.08  # a service misses its audit round (audit, records) a month
    unaudited_spell_monthly: float = 0.02  # a team starts a spell with no checks at all
    unaudited_spell_months: float = 3.0  # mean length of such a spell
    stop_after_closure_share: float = 0.4  # improvements whose checks stop once closed
    # (late_entry_share above is part of this knob too)

    # --- measurement bias -------------------------------------------------------------------
    self_audit_leniency_mean: float = 0.04  # own audits read this much above the latent level
    self_audit_leniency_sd: float = 0.03  # by service
    service_optimism_sd: float = 0.04  # leaders' optimism shared by a service's improvements
    # (perception_sd above rises to 0.045: leaders see compliance less well than an audit)

    # --- drift --------------------------------------------------------------------------------
    audit_tool_change_at: float = 0.6  # share of the history after which a stricter tool is used
    audit_tool_strictness: float = 0.04  # the new tool's audits read this much lower
    winter_instability: float = 0.5  # extra instability December to February
    regime_change_at: float = 0.5  # share of the history after which one region changes
    regime_change_hazard: float = 0.8  # extra slip log-odds in that region afterwards

    # --- reporting culture -------------------------------------------------------------------
    reporting_culture_sd: float = 0.6  # log-sd of services' incident reporting rate
    reporting_serious_power: float = 0.3  # moderate-or-worse harm is reported more consistently

    # --- imperfect links ---------------------------------------------------------------------
    # (named_incident_share, named_feedback_share, incident_team_missing, feedback_team_missing
    # and feedback_theme_miscoded above take their knob values)
    team_spelling_file_share: float = 0.2  # a file spells a team its own obvious way throughout
    team_spelling_row_share: float = 0.03  # a hand-entered row spells it an obvious other way
    team_spelling_unjoinable_share: float = 0.03  # a file uses a short form nobody could join

    # --- lived experience as a cause ---------------------------------------------------------
    hazard_experience: float = 0.5  # slip log-odds per sd of people's experience culture
    recovery_experience: float = 0.5  # recovery log-odds per sd of it

    # --- outcome label (the spec's defaults) ---------------------------------------------
    horizon_months: int = 6
    truth_chunk_elements: int = 6_000_000  # draws x improvements x teams per re-simulation chunk

    def without(self, *knobs: str) -> Parameters:
        """These parameters with the named knobs switched off ("all": every knob)."""
        names = KNOB_NAMES if "all" in knobs else knobs
        unknown = sorted(set(names) - set(KNOB_NAMES))
        if unknown:
            raise ValueError(f"unknown knob(s) {unknown}; knobs are {list(KNOB_NAMES)} or all")
        off = {field: value for name in names for field, value in KNOBS[name].items()}
        return replace(self, **off)

    def only(self, *knobs: str) -> Parameters:
        """These parameters with every knob off but the named ones."""
        return self.without(*(k for k in KNOB_NAMES if k not in knobs))

    @classmethod
    def clean(cls) -> Parameters:
        """Every knob off: complete, unbiased, stationary, perfectly linked measurement."""
        return cls().without("all")


# Each knob: the fields it sets and their values when it is off.
KNOBS: dict[str, dict[str, object]] = {
    "measurement_gaps": {
        "missed_round_monthly": 0.0,
        "unaudited_spell_monthly": 0.0,
        "stop_after_closure_share": 0.0,
        "late_entry_share": 0.0,
    },
    "measurement_bias": {
        "self_audit_leniency_mean": 0.0,
        "self_audit_leniency_sd": 0.0,
        "service_optimism_sd": 0.0,
        "perception_sd": 0.03,
    },
    "drift": {
        "audit_tool_strictness": 0.0,
        "winter_instability": 0.0,
        "regime_change_hazard": 0.0,
    },
    "reporting_culture": {"reporting_culture_sd": 0.0},
    "imperfect_links": {
        "named_incident_share": 0.35,
        "named_feedback_share": 0.3,
        "incident_team_missing": 0.2,
        "feedback_team_missing": 0.6,
        "feedback_theme_miscoded": 0.0,
        "team_spelling_file_share": 0.0,
        "team_spelling_row_share": 0.0,
        "team_spelling_unjoinable_share": 0.0,
    },
    "lived_experience": {"hazard_experience": 0.0, "recovery_experience": 0.0},
}
KNOB_NAMES: tuple[str, ...] = tuple(KNOBS)
