"""The framework's worked examples (shared/spec/worked-examples.md), each row read right.

Each situation is a small export built here (tests/worked_examples.py), scored through the
nightly run's stages and read back from what the run wrote: the stage and claim check, the
reasons, the triggers in a manager's words, the teams table and the governance report.
"""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest
from worked_examples import (
    LOCATION,
    Story,
    falling,
    fitted_model,
    mondays,
    month_days,
    read_story,
    steady,
)

TEAMS = ("Team A", "Team B", "Team C")


@pytest.fixture(scope="module")
def model():
    return fitted_model()


@pytest.fixture(scope="module")
def read(model, tmp_path_factory):
    """read(story, as_of) -> Reading, each story in its own folder."""

    def reading(story: Story, as_of: date):
        return read_story(story, tmp_path_factory.mktemp("story"), as_of, model)

    return reading


# --- 1. Documentation quality improves quickly: more than a short-term response? -----------


def one_good_audit_cycle() -> Story:
    """1a: one strong audit cycle after targeted supervision; team A at the standard, team B
    still below; staff need about three prompts each; leaders declare embedded."""
    story = Story().service().no_incidents_file_gap()
    story.improvement(
        "DOC-1",
        identified_on="2026-08-15",
        action_started_on="2026-09-01",
        declared_status="embedded",
        declared_on="2026-10-25",
    )
    story.checks("DOC-1", ("Team A", "Team B"), ["2026-08-12"], 13)  # before supervision
    story.checks("DOC-1", ("Team A",), ["2026-10-05"], 10, 10, "staff_practice", prompts_needed=3)
    story.checks("DOC-1", ("Team B",), ["2026-10-05"], 9, 10, "staff_practice", prompts_needed=3)
    story.checks("DOC-1", ("Team A",), ["2026-10-20"], 20)
    return story.checks("DOC-1", ("Team B",), ["2026-10-20"], 16)


@pytest.fixture(scope="module")
def reading_1a(read):
    return read(one_good_audit_cycle(), date(2026, 10, 31))


def test_1a_one_good_cycle_is_emerging_and_an_embedded_claim_overclaims(reading_1a):
    row = reading_1a.of("DOC-1")
    assert row["stage"] == "emerging"
    assert row["claim_check"] == "overclaim"
    assert row["claim_reason"].startswith("over-claim: leaders declare embedded")


def test_1a_names_team_b_below_the_standard_and_weak_understanding(reading_1a):
    row = reading_1a.of("DOC-1")
    assert row["triggers"].split("; ") == [
        "uneven_results_between_teams",
        "weak_staff_understanding",
    ]
    assert (
        "uneven results between teams: Team B below the standard (Team A at it)"
        in (row["trigger_reasons"])
    )
    assert "staff need 3 prompts per observation" in row["trigger_reasons"]
    assert "Team B below the standard" in row["stage_reasons"]
    assert list(row["teams_below_standard"]) == ["Team B"] or row["teams_below_standard"] == (
        "Team B"
    )


def test_1a_escalates_to_re_audit_supervision_and_extended_monitoring(reading_1a):
    row = reading_1a.of("DOC-1")
    assert "wider re-audit" in row["escalations"]
    assert "additional supervision" in row["escalations"]
    assert row["enhanced_monitoring"].startswith("recommended since 1 Sep 2026")


def test_1a_the_report_shows_words_and_the_team_table_not_codes(reading_1a):
    report = reading_1a.report
    assert "uneven results between teams: Team B below the standard" in report
    assert "uneven_results_between_teams" not in report
    assert "Team by team" in report
    teams = reading_1a.teams.set_index("team")
    assert teams.loc["Team B", "status"] == "below standard"
    assert teams.loc["Team A", "status"] == "at standard"
    assert teams.loc["Team A", "prompts_per_observation"] == 3


def slip_after_first_review(months_back: int) -> Story:
    """1b: every team at the standard in the first month after action, below it after the first
    review; then (`months_back` > 0) back at the standard for that many months."""
    story = Story().service().no_incidents_file_gap()
    story.improvement(
        "DOC-2", identified_on="2026-04-10", action_started_on="2026-05-01", standard=0.9
    )
    story.every_kind_of_check("DOC-2", TEAMS, ["2026-05-12"])
    story.review("DOC-2", "2026-06-01", "registered_manager", "emerging")
    story.checks("DOC-2", TEAMS, ["2026-06-12"], 15)  # 75%: below the standard
    story.checks("DOC-2", TEAMS, ["2026-06-12"], 15, source="care_records")
    if months_back:
        last = (pd.Period("2026-06") + months_back).strftime("%Y-%m")
        story.every_kind_of_check("DOC-2", TEAMS, month_days("2026-07", last))
        story.feedback(month_days("2026-07", last, 15), "documentation", 1)
    return story


def test_1b_slipping_while_below_with_the_slip_named_by_its_month(read):
    reading = read(slip_after_first_review(0), date(2026, 6, 30))
    row = reading.of("DOC-2")
    assert row["stage"] == "slipping"
    assert "slippage_after_early_improvement" in row["triggers"]
    assert (
        "slipped below the standard in June 2026 after early improvement"
        in (row["trigger_reasons"])
    )
    assert (
        "slipped below the standard in June 2026 after early improvement, not yet back at the "
        "standard" in row["fragile_reasons"]
    )
    assert "June 2026" in reading.report


def test_1b_prime_the_slip_is_remembered_until_two_senior_cycles_have_passed(read):
    row = read(slip_after_first_review(3), date(2026, 9, 30)).of("DOC-2")
    assert row["stage"] != "embedded"
    assert (
        "slipped below the standard in June 2026 after early improvement, back at the standard "
        "for 3 months since (6 needed: two senior review cycles)" in row["fragile_reasons"]
    )
    assert "slippage_after_early_improvement" not in row["triggers"]  # not below any more
    assert row["enhanced_monitoring"].startswith("recommended since the slip in June 2026")


def test_1b_prime_six_months_after_the_slip_it_may_be_embedded(read):
    row = read(slip_after_first_review(6), date(2026, 12, 31)).of("DOC-2")
    assert row["stage"] == "embedded"
    assert (
        "held at the standard for 6 months since it slipped in June 2026" in (row["stable_reasons"])
    )


def sustained_everywhere(declared: str | None = "embedded") -> Story:
    """1c: six months at the standard in all three teams; audits, records, observations and
    competency agree; few repeat gaps; families' feedback on the theme is positive."""
    story = Story().service().no_incidents_file_gap()
    claim = {"declared_status": declared, "declared_on": "2026-09-20"} if declared else {}
    story.improvement("DOC-3", identified_on="2026-02-10", action_started_on="2026-03-01", **claim)
    story.checks("DOC-3", TEAMS, ["2026-03-12"], 15)  # the action month, still below
    story.every_kind_of_check("DOC-3", TEAMS, month_days("2026-04", "2026-09"))
    return story.feedback(month_days("2026-04", "2026-09", 18), "documentation", 1)


@pytest.fixture(scope="module")
def reading_1c(read):
    return read(sustained_everywhere(), date(2026, 9, 30))


def test_1c_sustained_broad_and_confirmed_is_embedded_and_the_claim_consistent(reading_1c):
    row = reading_1c.of("DOC-3")
    assert row["stage"] == "embedded"
    assert row["claim_check"] == "consistent"
    assert row["fragile_reasons"] == "" or pd.isna(row["fragile_reasons"])


def test_1c_stable_reasons_name_the_months_the_teams_and_the_kinds_of_evidence(reading_1c):
    stable = reading_1c.of("DOC-3")["stable_reasons"]
    assert "6 months in a row at or above the standard" in stable
    assert "improvement seen in 3 of 3 teams (Team A, Team B, Team C)" in stable
    assert (
        "improvement seen in 5 of 6 kinds of evidence (people's experience, staff and leaders, "
        "observed practice, audits and records, outcomes)" in stable
    )


# --- 2. Staffing stability has improved: have experience and local delivery caught up? -------

ROTA = mondays("2025-06-02", "2026-09-28")


def staffing_gains(story: Story, lagging_team: bool = True) -> Story:
    """Agency shifts fall from 30% to 8% after action; key-worker continuity rises from 0.5 to
    0.9 in two teams; in the third (`lagging_team`) it stays low."""
    agency = falling(0.30, 0.08, "2025-10-01", "2026-03-01")
    rising = falling(0.5, 0.95, "2025-10-01", "2026-03-01")
    story.rota("Oak", ROTA, agency, rising).rota("Elm", ROTA, agency, rising)
    return story.rota("Ash", ROTA, agency, steady(0.5) if lagging_team else rising)


def staffing_improvement(feedback: str) -> Story:
    """2a/2b: a staffing improvement; families' feedback `complaints` (a complaint every two
    weeks), `turns_positive` (complaints stop, feedback turns positive) or `positive`."""
    story = Story().service().no_incidents_file_gap()
    story.improvement(
        "STAFF-1",
        theme="staffing",
        key_question="well_led",
        identified_on="2025-09-01",
        action_started_on="2025-10-01",
        standard=0.85,
        declared_status="embedded",
        declared_on="2026-09-15",
    )
    staffing_gains(story)
    story.checks("STAFF-1", ("Oak", "Elm", "Ash"), month_days("2025-10", "2026-09"), 18)
    story.checks(  # staff in new roles: competent enough, but rating themselves 2 of 5
        "STAFF-1",
        ("Oak", "Elm", "Ash"),
        month_days("2026-04", "2026-09", 20),
        9,
        10,
        "competency",
        self_rated_confidence=2,
    )
    fortnights = [
        d.strftime("%Y-%m-%d") for d in pd.date_range("2025-10-06", "2026-09-28", freq="14D")
    ]
    complaint = {"channel": "complaint", "respondent": "family"}
    if feedback == "complaints":
        story.feedback(fortnights, "staffing", -1, **complaint)
    elif feedback == "turns_positive":
        story.feedback([d for d in fortnights if d < "2026-05-01"], "staffing", -1, **complaint)
        story.feedback(month_days("2026-06", "2026-09", 8), "staffing", 1)
    else:
        story.feedback(month_days("2025-10", "2026-09", 8), "staffing", 1)
    return story


def falls_at_the_same_service(story: Story) -> Story:
    """2c: a falls improvement at the same service, its own evidence at the standard."""
    story.improvement(
        "FALLS-1",
        theme="falls",
        key_question="safe",
        identified_on="2026-01-10",
        action_started_on="2026-02-01",
        standard=0.85,
    )
    return story.every_kind_of_check(
        "FALLS-1", ("Oak", "Elm", "Ash"), month_days("2026-02", "2026-09")
    )


@pytest.fixture(scope="module")
def reading_2a(read):
    return read(falls_at_the_same_service(staffing_improvement("complaints")), date(2026, 9, 30))


def test_2a_workforce_gains_without_lived_experience_are_not_embedded(reading_2a):
    row = reading_2a.of("STAFF-1")
    assert row["stage"] != "embedded"
    assert row["claim_check"] == "overclaim"
    triggers = row["triggers"].split("; ")
    for code in (
        "workforce_improving_feedback_not",
        "continuing_complaints",
        "weak_staff_understanding",
        "uneven_results_between_teams",
    ):
        assert code in triggers, code


def test_2a_the_words_name_complaints_low_confidence_and_the_lagging_team(reading_2a):
    row = reading_2a.of("STAFF-1")
    words = row["trigger_reasons"]
    assert "workforce figures improving (agency and unfilled shifts down" in words
    assert "continuing complaints: " in words
    assert "staff still learning new roles without full confidence (self-rated 2 of 5)" in words
    assert "uneven local routines: key-worker continuity lags in Ash" in words
    assert "deeper team support" in row["escalations"]
    assert "extended induction" in row["escalations"]
    assert "local management review" in row["escalations"]
    assert "enhanced monitoring kept while people's experience is mixed" in row["escalations"]
    assert row["enhanced_monitoring"] != ""


def test_2a_low_self_rated_confidence_is_fragile_never_stable(reading_2a):
    row = reading_2a.of("STAFF-1")
    assert "staff still learning without full confidence" in row["fragile_reasons"]
    assert "confidence" not in str(row["stable_reasons"])


def test_2a_teams_table_reads_the_rota_team_by_team(reading_2a):
    teams = reading_2a.teams[reading_2a.teams["improvement_id"] == "STAFF-1"].set_index("team")
    assert teams.loc["Ash", "keyworker_continuity"] == pytest.approx(0.5)
    assert teams.loc["Oak", "keyworker_continuity"] == pytest.approx(0.95)
    assert teams.loc["Oak", "agency_shift_share"] == pytest.approx(0.08)


def test_2c_the_staffing_trigger_is_not_attached_to_a_falls_improvement(reading_2a):
    row = reading_2a.of("FALLS-1")
    assert "workforce_improving_feedback_not" not in row["triggers"]
    assert "continuing_complaints" not in row["triggers"]
    assert "key-worker continuity" not in row["trigger_reasons"]


@pytest.mark.parametrize("feedback", ["turns_positive", "positive"])
def test_2b_feedback_that_turned_or_was_positive_stops_the_workforce_trigger(read, feedback):
    row = read(staffing_improvement(feedback), date(2026, 9, 30)).of("STAFF-1")
    assert "workforce_improving_feedback_not" not in row["triggers"]
    assert "continuing_complaints" not in row["triggers"]


# --- 3. A serious concern was addressed well: is recovery sustained? -------------------------


def serious_medicines_concern(story: Story, months_on: int) -> Story:
    """3a (`months_on` 0) and 3b (12): four moderate-harm incidents; immediate controls done
    within a week; embedding actions open (3a) or done and shown in practice (3b)."""
    story.service().improvement(
        "MED-1",
        theme="medicines",
        key_question="safe",
        severity="serious",
        origin="incident",
        identified_on="2025-08-20",
        action_started_on="2025-09-01",
        standard=0.95,
        declared_status="embedded",
        declared_on="2025-12-15",
    )
    for day in ("2025-06-10", "2025-07-02", "2025-07-25", "2025-08-14"):
        story.incident(day, "medicines", "moderate")
    story.action("MED-1", "immediate_control", "2025-09-01", "2025-09-05", "2025-09-04")
    story.action("MED-1", "immediate_control", "2025-09-01", "2025-09-08", "2025-09-06")
    done = "2026-02-20" if months_on else None
    story.action("MED-1", "embedding", "2025-09-01", "2026-02-28", done)  # supervision
    story.action("MED-1", "embedding", "2025-09-01", "2026-02-28", done)  # competency re-checks
    last = "2025-12" if not months_on else "2026-08"
    story.checks("MED-1", ("Team A", "Team B"), month_days("2025-09", last), 20)
    story.checks(
        "MED-1", ("Team A", "Team B"), month_days("2025-09", last, 15), 10, 10, "staff_practice"
    )
    story.checks(
        "MED-1",
        ("Team A", "Team B"),
        month_days("2025-10", "2025-12", 20),
        8,
        10,
        "competency",
        self_rated_confidence=4.9,
    )
    if months_on:
        story.checks(
            "MED-1",
            ("Team A", "Team B"),
            month_days("2026-03", last, 20),
            24,
            25,
            "competency",
            self_rated_confidence=4.6,
        )
        story.feedback(month_days("2026-03", last, 22), "medicines", 1, respondent="person")
        busy = (pd.Timestamp("2026-01-01"), pd.Timestamp("2026-03-31"))
        agency = lambda week: 0.3 if busy[0] <= week <= busy[1] else 0.05  # noqa: E731
        weeks = mondays("2025-06-02", "2026-08-31")
        story.rota("Team A", weeks, agency, steady(0.9)).rota("Team B", weeks, agency, steady(0.9))
    return story


@pytest.fixture(scope="module")
def reading_3a(read):
    return read(serious_medicines_concern(Story(), 0), date(2025, 12, 31))


def test_3a_corrective_action_presented_as_proof_of_recovery(reading_3a):
    row = reading_3a.of("MED-1")
    assert row["stage"] != "embedded"
    assert row["claim_check"] == "overclaim"
    assert "corrective action presented as proof of recovery" in row["claim_reason"]
    assert (
        "immediate controls are done, the embedding actions are not yet shown in practice"
        in (row["claim_reason"])
    )
    assert (
        "immediate controls done (2 completed), but 2 embedding actions still open: not yet "
        "shown in practice" in row["fragile_reasons"]
    )


def test_3a_triggers_too_short_overconfident_and_thin_medium_term_evidence(reading_3a):
    row = reading_3a.of("MED-1")
    triggers = row["triggers"].split("; ")
    for code in (
        "incident_reduction_too_short",
        "weak_staff_understanding",
        "serious_concern_thin_evidence",
    ):
        assert code in triggers, code
    words = row["trigger_reasons"]
    assert "fewer incidents over too short a period to judge" in words
    assert "staff describe the process more confidently than they demonstrate it" in words
    assert "a serious concern with good immediate controls but thin medium-term evidence" in words
    assert (
        "extended assurance, more senior oversight and a wider thematic review"
        in (row["escalations"])
    )


def test_3a_the_timeline_shows_immediate_controls_apart_from_embedding_actions(reading_3a):
    report = reading_3a.report
    assert "immediate control completed" in report
    assert "embedding action due" in report


def test_3b_twelve_months_on_it_is_embedded_and_held_under_staffing_pressure(read):
    row = read(serious_medicines_concern(Story(), 12), date(2026, 8, 31)).of("MED-1")
    assert row["stage"] == "embedded"
    assert row["claim_check"] == "consistent"
    assert (
        "practice held at the standard through 3 months of staffing pressure (high agency or "
        "unfilled shifts)" in row["stable_reasons"]
    )


# --- across all examples -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("declared", "claim_check"),
    [(None, "no_claim"), ("emerging", "underclaim"), ("embedded", "consistent")],
)
def test_claims_never_move_the_probability(read, reading_1c, declared, claim_check):
    story = sustained_everywhere(declared)
    baseline = reading_1c.of("DOC-3")
    if declared is None:
        # A review's conclusion is tested like a declaration and never moves the probability;
        # that a review took place, and when, is evidence of governance (the model reads it),
        # so the baseline has the same review with another conclusion.
        story.review("DOC-3", "2026-09-25", "board", "not_assured")
        claim_check = "underclaim"
        other = sustained_everywhere(None).review("DOC-3", "2026-09-25", "board", "embedded")
        baseline = read(other, date(2026, 9, 30)).of("DOC-3")
        assert baseline["claim_check"] == "consistent"
    row = read(story, date(2026, 9, 30)).of("DOC-3")
    assert row["claim_check"] == claim_check
    for column in ("p_hold", "p_hold_low", "p_hold_high"):
        assert row[column] == baseline[column]


def test_under_claims_say_the_evidence_supports_more(read):
    row = read(sustained_everywhere("emerging"), date(2026, 9, 30)).of("DOC-3")
    assert row["claim_check"] == "underclaim"
    assert "the evidence supports more" in row["claim_reason"]


def test_activity_is_not_improvement(read):
    story = Story().service().no_incidents_file_gap()
    story.improvement("ACT-1", identified_on="2026-04-01", action_started_on="2026-06-01")
    story.checks("ACT-1", TEAMS, ["2026-05-12"], 12)  # before action only
    for day in ("2026-06-05", "2026-06-20", "2026-07-10", "2026-08-01", "2026-08-20"):
        story.action("ACT-1", "embedding", "2026-06-01", completed=day)
    row = read(story, date(2026, 9, 30)).of("ACT-1")
    assert row["stage"] == "not_started"
    assert row["stage_reasons"].startswith("actions completed, no evidence yet")


def test_steady_is_not_a_signal(read):
    story = Story().service().no_incidents_file_gap()
    story.improvement("STEADY-1", identified_on="2026-01-10", action_started_on="2026-02-01")
    story.every_kind_of_check("STEADY-1", TEAMS, month_days("2026-02", "2026-09"), share=0.95)
    story.feedback(month_days("2026-02", "2026-09", 18), "documentation", 1)
    row = read(story, date(2026, 9, 30)).of("STEADY-1")
    assert "no SPC special cause of concern in the latest 3 months" in row["stable_reasons"]
    assert row["stage"] == "embedded"


def closed_after_embedding(incident_after: bool) -> Story:
    story = sustained_everywhere(None)
    story.rows["improvements"][0].update(declared_status="closed", declared_on="2026-10-01")
    if incident_after:
        story.incident("2027-01-15", "documentation", "moderate")
    return story


def test_closed_means_monitoring_may_end(read):
    reading = read(closed_after_embedding(False), date(2027, 2, 28))
    row = reading.of("DOC-3")
    assert row["claim_check"] == "closed"
    assert not row["review_overdue"]
    assert pd.isna(row["next_rm_review_due"]) and pd.isna(row["next_senior_review_due"])
    assert row["monitoring_ended_on"] == pd.Timestamp("2026-10-01")
    assert row["stage"] == "embedded"  # its evidence when monitoring ended
    assert row["stage_reasons"].startswith(
        "closed by leaders on 1 Oct 2026, monitoring ended on 1 Oct 2026"
    )
    assert row["triggers"] == ""
    assert reading.services.set_index("location_id").loc[LOCATION, "priority_score"] == 0
    assert "monitoring ended 01 Oct 2026" in reading.report


def test_a_harmful_incident_after_closure_raises_recurrence_after_closure(read):
    reading = read(closed_after_embedding(True), date(2027, 2, 28))
    row = reading.of("DOC-3")
    assert row["claim_check"] == "closed"
    assert "recurrence_after_closure" in row["triggers"]
    assert (
        "recurrence after closure: 1 moderate-or-worse incident on this theme since it was "
        "closed on 1 Oct 2026" in row["trigger_reasons"]
    )
    assert reading.services.set_index("location_id").loc[LOCATION, "priority_score"] > 0


def test_feedback_and_incidents_are_read_per_team(read):
    story = one_good_audit_cycle()
    story.feedback(
        ["2026-10-12", "2026-10-26"], "documentation", -1, channel="complaint", team="Team B"
    )
    story.incident("2026-10-15", "documentation", "moderate", team="Team B")
    story.incident("2026-10-16", "documentation", "none", team="Team A")  # no harm: not counted
    teams = read(story, date(2026, 10, 31)).teams.set_index("team")
    assert teams.loc["Team B", "complaints_90d"] == 2
    assert teams.loc["Team B", "serious_incidents_90d"] == 1
    assert teams.loc["Team A", "complaints_90d"] == 0
    assert teams.loc["Team A", "serious_incidents_90d"] == 0
