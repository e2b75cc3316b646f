"""Claim check and review cadence (models.rules.claim_check, models.rules.review_cadence)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from test_rules_rows import frame

from contracts.params import EvidenceThreshold
from models.rules import claim_check, claim_reasons, classify_stages, review_cadence

NAN = np.nan
EMERGING = {"consecutive_months_at_standard_count": 1.0}
CONSOLIDATING = {"consecutive_months_at_standard_count": 2.0}
SLIPPING = {
    "slips_since_action_count": 1.0,
    "compliance_margin_latest": -0.1,
    "consecutive_months_at_standard_count": 0.0,
}
NOT_STARTED = {"days_since_action_started": NAN}
EMBEDDED: dict = {}

CLAIM_CASES = [
    # (stage overrides, declared_status, latest_review_classification, expected)
    (EMERGING, "embedded", "none", "overclaim"),
    (SLIPPING, "closed", "none", "closed"),  # monitoring may end: not judged as embedding
    (NOT_STARTED, "embedded", "none", "overclaim"),
    (EMERGING, "none", "embedded", "overclaim"),
    (EMERGING, "emerging", "embedded", "overclaim"),  # the stronger claim is checked
    # any claim of embedded short of embedded evidence is an over-claim
    (CONSOLIDATING, "embedded", "none", "overclaim"),
    (EMBEDDED, "embedded", "embedded", "consistent"),
    (EMBEDDED, "closed", "none", "closed"),
    (EMERGING, "closed", "embedded", "closed"),  # the closure is the leaders' latest word
    (EMBEDDED, "emerging", "none", "underclaim"),
    (EMBEDDED, "none", "not_assured", "underclaim"),
    (EMBEDDED, "none", "emerging", "underclaim"),
    (EMERGING, "emerging", "none", "consistent"),
    (SLIPPING, "none", "not_assured", "consistent"),
    (CONSOLIDATING, "emerging", "none", "consistent"),
    (EMBEDDED, "none", "none", "no_claim"),
    (SLIPPING, NAN, NAN, "no_claim"),
]


@pytest.fixture(scope="module")
def claims():
    features = frame(
        *[
            {**stage, "declared_status": declared, "latest_review_classification": reviewed}
            for stage, declared, reviewed, _ in CLAIM_CASES
        ]
    )
    return claim_check(classify_stages(features, with_reasons=False), features)


@pytest.mark.parametrize(
    ("case", "stage", "declared", "reviewed", "expected"),
    [(i, *case) for i, case in enumerate(CLAIM_CASES)],
)
def test_claim_against_the_evidence(claims, case, stage, declared, reviewed, expected):
    assert claims.iloc[case] == expected


def test_every_claim_outcome_is_reached():
    assert {expected for *_, expected in CLAIM_CASES} == {
        "overclaim",
        "underclaim",
        "consistent",
        "no_claim",
        "closed",
    }


def test_claims_align_to_the_stages_whatever_the_order_of_the_features():
    features = frame(
        {**EMERGING, "declared_status": "embedded"}, {"declared_status": "emerging"}, {}
    ).astype({"declared_status": "category"})
    stages = classify_stages(features, with_reasons=False).set_axis([10, 20, 30], axis=0)
    result = claim_check(stages, features.iloc[::-1])
    assert result.index.tolist() == [10, 20, 30]
    assert result.tolist() == ["overclaim", "underclaim", "no_claim"]
    assert result.name == "claim_check"


def test_overclaim_stages_and_claims_come_from_the_configuration():
    features = frame(
        {**CONSOLIDATING, "declared_status": "embedded"}, {**EMERGING, "declared_status": "closed"}
    )
    stages = classify_stages(features, with_reasons=False)
    lenient = EvidenceThreshold(
        overclaim_stages=("not_started", "emerging", "slipping"),
        embedded_claims=("embedded", "closed"),
    )
    assert claim_check(stages, features).tolist() == ["overclaim", "closed"]
    assert claim_check(stages, features, lenient).tolist() == ["consistent", "overclaim"]


CORRECTIVE = {
    "severity": "serious",
    "consecutive_months_at_standard_count": 4.0,
    "competency_pass_share_180d": 0.8,
    "immediate_controls_completed_count": 2.0,
    "embedding_actions_open_count": 2.0,
    "declared_status": "embedded",
}
REASON_CASES = [
    (
        CORRECTIVE,
        "over-claim: leaders declare embedded, but the evidence shows consolidating: corrective "
        "action presented as proof of recovery (the immediate controls are done, the embedding "
        "actions are not yet shown in practice)",
    ),
    (
        {**EMERGING, "declared_status": "embedded"},
        "over-claim: leaders declare embedded, but the evidence shows emerging",
    ),
    (
        {"declared_status": "emerging"},
        "under-claim: leaders declare emerging, but the evidence supports more: it meets every "
        "criterion of the evidence threshold (embedded)",
    ),
    (
        {"declared_status": "closed", "days_since_claim": 123.0},
        "closed by leaders on 28 Nov 2025: monitoring may end",
    ),
    (
        {
            "declared_status": "closed",
            "days_since_claim": 123.0,
            "serious_theme_incidents_since_claim_count": 1.0,
        },
        "closed by leaders on 28 Nov 2025: monitoring may end, but a moderate-or-worse incident "
        "on its theme has happened since",
    ),
    (
        {"declared_status": "embedded"},
        "consistent: leaders declare embedded, and the evidence shows embedded",
    ),
    ({}, "no declaration or governance review yet"),
]


@pytest.mark.parametrize(("overrides", "sentence"), REASON_CASES)
def test_the_claim_check_in_a_sentence(overrides, sentence):
    features = frame(overrides)
    stages = classify_stages(features, with_reasons=False)
    reason = claim_reasons(stages, features, claim_check(stages, features))
    assert reason.iloc[0] == sentence


# --- review cadence ---------------------------------------------------------------------------

AS_OF = pd.Timestamp("2026-03-31")


def improvements(*rows: tuple[str, str, str | None]) -> pd.DataFrame:
    """improvement_id, identified_on, action_started_on, typed as the loader types them."""
    return pd.DataFrame(
        {
            "improvement_id": pd.Series([r[0] for r in rows], dtype="str"),
            "identified_on": pd.to_datetime([r[1] for r in rows]),
            "action_started_on": pd.to_datetime([r[2] for r in rows]),
            "declared_status": pd.Categorical(
                [None] * len(rows), categories=["emerging", "embedded", "closed"]
            ),
        }
    )


def reviews(*rows: tuple[str, str, str]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "review_id": [f"R{i}" for i in range(len(rows))],
            "improvement_id": pd.Series([r[0] for r in rows], dtype="str"),
            "reviewed_on": pd.to_datetime([r[1] for r in rows]),
            "level": pd.Categorical(
                [r[2] for r in rows],
                categories=["registered_manager", "senior_leadership", "board"],
            ),
            "classification": pd.Categorical(["emerging"] * len(rows)),
        }
    )


IMPROVEMENTS = improvements(
    ("A", "2026-01-02", "2026-01-10"),  # reviewed on time at both levels
    ("B", "2025-09-01", "2025-10-15"),  # both reviews overdue
    ("C", "2026-03-01", None),  # no action yet: counted from identification
    ("D", "2026-01-05", "2026-01-20"),  # only reviews dated after as_of
    ("E", "2026-04-02", None),  # identified after as_of: not listed
)
REVIEWS = reviews(
    ("A", "2026-03-05", "registered_manager"),
    ("A", "2026-01-20", "senior_leadership"),
    ("B", "2026-02-20", "registered_manager"),
    ("B", "2026-01-15", "registered_manager"),
    ("B", "2025-12-01", "board"),
    ("D", "2026-04-03", "registered_manager"),
    ("D", "2026-03-30", "senior_leadership"),  # a senior review is not the manager's review
)

CADENCE_CASES = [
    # (improvement, last RM, next RM due, RM overdue, last senior, next senior due, overdue)
    ("A", "2026-03-05", "2026-04-05", False, "2026-01-20", "2026-04-20", False),
    ("B", "2026-02-20", "2026-03-20", True, "2025-12-01", "2026-03-01", True),
    ("C", None, "2026-04-01", False, None, "2026-06-01", False),
    ("D", None, "2026-02-20", True, "2026-03-30", "2026-06-30", False),
]


@pytest.fixture(scope="module")
def cadence():
    return review_cadence(IMPROVEMENTS, REVIEWS, AS_OF).set_index("improvement_id")


@pytest.mark.parametrize(
    (
        "improvement",
        "last_rm",
        "rm_due",
        "rm_overdue",
        "last_senior",
        "senior_due",
        "senior_overdue",
    ),
    CADENCE_CASES,
)
def test_review_dates_and_overdue(
    cadence, improvement, last_rm, rm_due, rm_overdue, last_senior, senior_due, senior_overdue
):
    row = cadence.loc[improvement]
    assert row["last_rm_review_on"] == pd.Timestamp(last_rm) or (
        last_rm is None and pd.isna(row["last_rm_review_on"])
    )
    assert row["next_rm_review_due"] == pd.Timestamp(rm_due)
    assert row["rm_review_overdue"] == rm_overdue
    assert row["last_senior_review_on"] == pd.Timestamp(last_senior) or (
        last_senior is None and pd.isna(row["last_senior_review_on"])
    )
    assert row["next_senior_review_due"] == pd.Timestamp(senior_due)
    assert row["senior_review_overdue"] == senior_overdue
    assert row["review_overdue"] == (rm_overdue or senior_overdue)


def test_cadence_lists_only_improvements_known_at_as_of(cadence):
    assert sorted(cadence.index) == ["A", "B", "C", "D"]
    assert list(review_cadence(IMPROVEMENTS, REVIEWS, AS_OF).columns) == [
        "improvement_id",
        "last_rm_review_on",
        "next_rm_review_due",
        "rm_review_overdue",
        "last_senior_review_on",
        "next_senior_review_due",
        "senior_review_overdue",
        "review_overdue",
    ]


@pytest.mark.parametrize(
    ("as_of", "grace_days", "overdue"),
    [
        ("2026-03-27", 0, False),  # the day before it is due
        ("2026-03-28", 0, False),  # the day it is due
        ("2026-03-29", 0, True),  # the day after
        ("2026-03-31", 3, False),  # within the grace days
        ("2026-04-01", 3, True),
    ],
)
def test_a_review_is_overdue_only_after_its_due_date(as_of, grace_days, overdue):
    one = improvements(("F", "2025-12-01", "2025-12-15"))
    # 28 February plus one month is 28 March
    row = review_cadence(
        one,
        reviews(("F", "2026-02-28", "registered_manager")),
        pd.Timestamp(as_of),
        EvidenceThreshold(review_grace_days=grace_days),
    ).iloc[0]
    assert row["next_rm_review_due"] == pd.Timestamp("2026-03-28")
    assert bool(row["rm_review_overdue"]) is overdue


def test_without_a_reviews_file_every_due_date_counts_from_action():
    result = review_cadence(IMPROVEMENTS, None, AS_OF).set_index("improvement_id")
    assert result["last_rm_review_on"].isna().all()
    assert result.loc["A", "next_rm_review_due"] == pd.Timestamp("2026-02-10")
    assert result.loc["B", "next_senior_review_due"] == pd.Timestamp("2026-01-15")
    assert result["rm_review_overdue"].tolist() == [True, True, False, True]


def test_intervals_come_from_the_configuration():
    two_monthly = EvidenceThreshold(rm_review_interval_months=2, senior_review_interval_months=6)
    row = (
        review_cadence(IMPROVEMENTS, REVIEWS, AS_OF, two_monthly)
        .set_index("improvement_id")
        .loc["B"]
    )
    assert row["next_rm_review_due"] == pd.Timestamp("2026-04-20")
    assert row["next_senior_review_due"] == pd.Timestamp("2026-06-01")
    assert not row["review_overdue"]


def test_inputs_are_not_mutated():
    before_improvements, before_reviews = IMPROVEMENTS.copy(), REVIEWS.copy()
    review_cadence(IMPROVEMENTS, REVIEWS, AS_OF)
    pd.testing.assert_frame_equal(IMPROVEMENTS, before_improvements)
    pd.testing.assert_frame_equal(REVIEWS, before_reviews)


def test_a_closed_improvement_has_no_review_due_and_is_never_overdue():
    both = review_cadence(IMPROVEMENTS, REVIEWS, AS_OF, closed_ids=["B"]).set_index(
        "improvement_id"
    )
    assert (
        both.loc["B", ["rm_review_overdue", "senior_review_overdue", "review_overdue"]]
        .eq(False)
        .all()
    )
    assert pd.isna(both.loc["B", "next_rm_review_due"])
    assert pd.isna(both.loc["B", "next_senior_review_due"])
    assert both.loc["B", "last_rm_review_on"] == pd.Timestamp("2026-02-20")  # history kept
    assert bool(both.loc["D", "rm_review_overdue"])  # the others are as before
