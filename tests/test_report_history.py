"""The report's governance-over-time sections, built from a history shaped as declared: trends,
the comparison and why probabilities moved, sign-offs, warnings about the input."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest
from report_fixtures import (
    HOSTILE_NOTE,
    HOSTILE_SIGNER,
    RUN_ID,
    WARNING,
    run_history,
    write_run_outputs,
)

from contracts.params import GovernanceParams
from report import build_report
from report.history import empty_history
from report.render import signed, signed_points
from report.tables import changes_between, service_moves
from report.trends import improvement_trends, stage_segments


@pytest.fixture(scope="module")
def governed(tmp_path_factory) -> tuple[Path, str, object]:
    out = write_run_outputs(tmp_path_factory.mktemp("out"), n_services=8, seed=5)
    history = run_history(out, seed=5)
    build_report(out, detailed_services=3, history=history)
    return out, (out / "report.html").read_text(encoding="utf-8"), history


class Collector(HTMLParser):
    """Elements by id, and the text under each."""

    def __init__(self):
        super().__init__()
        self.ids: set[str] = set()
        self.svgs = 0
        self.scripts = 0

    def handle_starttag(self, tag, attrs):
        found = dict(attrs)
        if "id" in found:
            self.ids.add(found["id"])
        self.svgs += tag == "svg"
        self.scripts += tag == "script"


def test_the_page_has_the_comparison_signoff_and_warning_sections(governed):
    _, page, history = governed
    parsed = Collector()
    parsed.feed(page)
    assert {"comparison", "signoff", "warnings"} <= parsed.ids
    assert parsed.scripts == 1
    assert "What changed since the last run before this quarter (Q4 2026) began, and why" in page
    assert history.comparison.run["run_id"] in page
    assert WARNING["message"] in page


def test_hostile_signoff_text_is_shown_as_text(governed):
    _, page, _ = governed
    assert "<b>Dr Who</b>" not in page and "&lt;b&gt;Dr Who&lt;/b&gt;" in page
    assert "<script>alert(4)" not in page
    assert HOSTILE_SIGNER not in page
    assert "alert(4)" in page  # escaped, as text


def test_every_improvement_has_a_trend_cards_and_compact_rows_alike(governed):
    out, page, history = governed
    improvements = len(pd.read_parquet(out / "scores.parquet"))
    cards = page.count('aria-label="Probability of holding of improvement')
    compact = page.count('class="trend-small"')
    services = len(pd.read_csv(out / "services.csv"))
    # Cards: the top 3 services; compact rows: the rest; the ranking table: every service.
    assert cards + compact - services == improvements
    assert cards > 0 and compact > services
    assert f"Over {len(history.runs) + 1} runs since 31 Mar 2026" in page


def test_why_it_moved_is_in_the_page_and_the_board_tables(governed):
    out, page, history = governed
    moves = history.comparison.moves
    assert len(moves) > 0
    assert page.count('<tr><td><a href="#imp-') >= len(moves)
    tables = Path(out / "tables")
    written = pd.read_csv(tables / "why_it_moved.csv", encoding="utf-8-sig")
    assert written["improvement_id"].tolist() == moves["improvement_id"].tolist()
    terms = pd.read_csv(tables / "why_it_moved_terms.csv", encoding="utf-8-sig")
    assert set(terms["improvement_id"]) <= set(moves["improvement_id"])
    for name in ("compared_changes.csv", "service_moves.csv"):
        assert (tables / name).is_file()


def test_the_signoff_of_this_run_is_in_the_header(governed):
    _, page, history = governed
    signed_now = history.signoffs[history.signoffs["run_id"] == RUN_ID]
    assert len(signed_now) == 1
    assert "01 Nov 2026 10:15 UTC" in page
    assert HOSTILE_NOTE.replace('"', "&#34;").replace("<", "&lt;").replace(">", "&gt;") in page


def test_without_history_the_page_says_so(tmp_path):
    out = write_run_outputs(tmp_path / "out", n_services=3, seed=1)
    page = build_report(out, history=empty_history("the history is switched off")).read_text()
    assert "No comparison: the history is switched off." in page
    assert "This run has not been signed off" in page
    assert 'class="trend-small"' not in page


def test_comparison_lists_claim_changes_and_cleared_triggers():
    now = pd.DataFrame(
        {
            "improvement_id": ["a", "b"],
            "location_id": ["L", "L"],
            "stage": ["emerging", "embedded"],
            "claim_check": ["overclaim", "consistent"],
            "triggers": [("x",), ()],
        }
    )
    then = now.assign(claim_check=["consistent", "consistent"], triggers=[("x",), ("y", "z")])
    changes = changes_between(now, then)
    assert changes[["improvement_id", "change", "before", "after"]].to_dict("records") == [
        {
            "improvement_id": "a",
            "change": "claim_changed",
            "before": "consistent",
            "after": "overclaim",
        },
        {"improvement_id": "b", "change": "trigger_cleared", "before": "y; z", "after": ""},
    ]


def test_service_moves_list_big_moves_and_arrivals():
    now = pd.DataFrame(
        {
            "location_id": ["A", "B", "C", "D"],
            "name": list("ABCD"),
            "rank": [1, 2, 3, 4],
            "priority_score": [4.0, 3.0, 2.0, 1.0],
        }
    )
    then = pd.DataFrame(
        {
            "location_id": ["A", "B", "C", "E"],
            "name": list("ABCE"),
            "rank": [4, 1, 2, 3],
            "priority_score": [1.0, 4.0, 3.0, 2.0],
        }
    )
    moved = service_moves(now, then, places=3)
    assert moved["location_id"].tolist() == ["D", "E", "A"]  # arrivals and departures first
    assert moved.set_index("location_id").loc["A", "places_up"] == 3


def test_trends_put_time_on_x_and_the_probability_on_y():
    found = pd.DataFrame(
        {
            "run_id": ["r1", "r2", "r3"],
            "as_of": pd.to_datetime(["2026-01-31", "2026-07-31", "2026-10-31"]),
            "improvement_id": "a",
            "p_hold": [1.0, 0.5, 0.0],
            "p_hold_low": [0.9, 0.4, 0.0],
            "p_hold_high": [1.0, 0.6, 0.1],
            "stage": ["embedded", "embedded", "slipping"],
        }
    )
    drawn = improvement_trends(found).loc["a"]
    points = [tuple(map(float, p.split(","))) for p in drawn["line"].split()]
    assert [p[0] for p in points] == sorted(p[0] for p in points)
    assert points[0][1] < points[1][1] < points[2][1]  # 100% at the top, 0% at the bottom
    assert drawn["runs"] == 3
    segments = stage_segments(found)
    assert segments["stage"].tolist() == ["embedded", "slipping"]
    assert segments["since"].tolist() == list(pd.to_datetime(["2026-01-31", "2026-10-31"]))


@pytest.mark.parametrize(
    ("value", "shown"), [(0.1234, "+12.3"), (-0.05, "\u22125.0"), (0.0, "0.0"), (None, "\u2014")]
)
def test_signed_points(value, shown):
    assert signed_points(value) == shown


def test_signed_log_odds():
    assert signed(0.5) == "+0.50" and signed(-0.25) == "\u22120.25"


def test_the_comparison_threshold_comes_from_the_settings(tmp_path):
    out = write_run_outputs(tmp_path / "out", n_services=4, seed=2)
    history = run_history(out, seed=2)
    page = build_report(
        out, history=history, governance_params=GovernanceParams(rank_move_places=50)
    ).read_text()
    assert "No service moved 50 places or more." in page
