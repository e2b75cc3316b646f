"""The governance report: tables, escaping, spreadsheet safety, and the built page."""

from __future__ import annotations

import csv
import html
import io
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from matplotlib.figure import Figure
from report_fixtures import (
    FORMULA_NAME,
    HOSTILE_REASON,
    HOSTILE_THEME,
    PREVIOUS_RUN_ID,
    SCRIPT_NAME,
    write_run_outputs,
)

from report import build_report
from report.charts import FactorChartPainter, figure_svg, month_positions
from report.evidence import top_factors
from report.reading import RunOutputsError, read_run_outputs, text_items
from report.render import content_security_policy, day, percent
from report.spreadsheet import spreadsheet_frame
from report.svg import UnsafeSvgError, inline_svg
from report.tables import (
    change_summary,
    changes_since_previous,
    needs_attention,
    stage_counts,
)

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    """A realistic, hostile OUT folder with its report built (once for the module)."""
    out = write_run_outputs(tmp_path_factory.mktemp("out"), n_services=6, seed=3)
    build_report(out)
    return out


@pytest.fixture(scope="module")
def page(built) -> str:
    return (built / "report.html").read_text(encoding="utf-8")


# --- reading --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cell", "items"),
    [
        ("a; b", ("a", "b")),
        ("one", ("one",)),
        ("", ()),
        (None, ()),
        (float("nan"), ()),
        (pd.NA, ()),
        (["x", "y"], ("x", "y")),
        (np.array(["x", ""], dtype=object), ("x",)),
    ],
)
def test_text_items_splits_multi_item_cells(cell, items):
    assert text_items(cell) == items


def test_a_folder_without_scores_is_refused(tmp_path):
    with pytest.raises(RunOutputsError, match="scores.parquet"):
        read_run_outputs(tmp_path)


# --- tables ---------------------------------------------------------------------------------


def _scores(rows: list[tuple]) -> pd.DataFrame:
    frame = pd.DataFrame(
        rows,
        columns=["improvement_id", "location_id", "stage", "p_hold", "triggers", "claim_check"],
    )
    return frame.assign(triggers=frame["triggers"].map(text_items))


def test_stage_counts_follow_the_stage_order():
    scores = _scores(
        [
            ("a", "L", "embedded", 0.9, "", "consistent"),
            ("b", "L", "emerging", 0.5, "", "consistent"),
            ("c", "L", "embedded", 0.8, "", "consistent"),
            ("d", "L", "odd", 0.5, "", "consistent"),
        ]
    )
    counts = stage_counts(scores)
    assert counts["stage"].tolist() == ["emerging", "embedded", "odd"]
    assert counts["improvements"].tolist() == [1, 2, 1]


@pytest.mark.parametrize(
    ("stage", "triggers", "claim", "attention"),
    [
        ("embedded", "", "consistent", False),
        ("slipping", "", "consistent", True),
        ("embedded", "review overdue", "consistent", True),
        ("embedded", "", "overclaim", True),
        ("emerging", "", "underclaim", False),
    ],
)
def test_needs_attention(stage, triggers, claim, attention):
    scores = _scores([("a", "L", stage, 0.5, triggers, claim)])
    assert needs_attention(scores).tolist() == [attention]


PREVIOUS = [
    ("a", "L", "emerging", 0.50, "", "consistent"),
    ("b", "L", "embedded", 0.80, "x", "consistent"),
    ("c", "L", "emerging", 0.40, "", "consistent"),
    ("gone", "M", "embedded", 0.90, "", "consistent"),
]
CURRENT = [
    ("a", "L", "consistent_stage", 0.52, "", "consistent"),
    ("b", "L", "embedded", 0.79, "x; y", "consistent"),
    ("c", "L", "emerging", 0.55, "", "consistent"),
    ("new", "M", "emerging", 0.30, "z", "consistent"),
]


@pytest.mark.parametrize(
    ("improvement", "change", "before", "after"),
    [
        ("new", "new", "", "emerging"),
        ("gone", "no_longer_scored", "embedded", ""),
        ("a", "stage_changed", "emerging", "consistent_stage"),
        ("b", "new_trigger", "", "y"),
        ("c", "probability_moved", "40%", "55%"),
    ],
)
def test_changes_since_previous_run(improvement, change, before, after):
    changes = changes_since_previous(_scores(CURRENT), _scores(PREVIOUS))
    row = changes[(changes["improvement_id"] == improvement) & (changes["change"] == change)]
    assert row[["before", "after"]].to_numpy().tolist() == [[before, after]]


def test_changes_count_each_kind_once_and_nothing_else():
    changes = changes_since_previous(_scores(CURRENT), _scores(PREVIOUS))
    assert change_summary(changes)["improvements"].tolist() == [1, 1, 1, 1, 1]
    assert changes.loc[changes["improvement_id"] == "new", "location_id"].tolist() == ["M"]


def test_without_a_previous_run_nothing_changed():
    assert changes_since_previous(_scores(CURRENT), None).empty


@settings(max_examples=12, deadline=None)
@given(st.permutations(range(4)), st.permutations(range(4)))
def test_changes_do_not_depend_on_row_order_nor_mutate_inputs(order_now, order_before):
    current, previous = _scores(CURRENT), _scores(PREVIOUS)
    expected = changes_since_previous(current, previous)
    shuffled_now, shuffled_before = current.iloc[list(order_now)], previous.iloc[list(order_before)]
    kept_now, kept_before = shuffled_now.copy(), shuffled_before.copy()
    got = changes_since_previous(shuffled_now, shuffled_before)
    pd.testing.assert_frame_equal(got, expected)
    pd.testing.assert_frame_equal(shuffled_now, kept_now)
    pd.testing.assert_frame_equal(shuffled_before, kept_before)


def test_top_factors_take_the_largest_each_way():
    contributions = pd.DataFrame(
        {
            "improvement_id": ["a"] * 6,
            "term": ["up1", "up2", "up3", "down1", "down2", "nothing"],
            "value": ["1", "2", "3", "4", "5", "6"],
            "contribution": [0.1, 0.5, 0.3, -0.2, -0.6, 0.0],
        }
    )
    top = top_factors(contributions, each_way=2)
    assert top["term"].tolist() == ["up2", "up3", "down2", "down1"]
    assert top["direction"].tolist() == ["raises", "raises", "lowers", "lowers"]


# --- spreadsheet safety ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cell", "written"),
    [
        ('=HYPERLINK("http://x","y")', '\'=HYPERLINK("http://x","y")'),
        ("+1", "'+1"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("Oak House", "Oak House"),
        ("a=b", "a=b"),
    ],
)
def test_spreadsheet_cells_never_start_a_formula(cell, written):
    frame = pd.DataFrame({"name": pd.Series([cell], dtype="str"), "score": [-0.5]})
    out = spreadsheet_frame(frame)
    assert out["name"].tolist() == [written]
    assert out["score"].tolist() == [-0.5]  # a negative number stays a number


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(min_size=1, max_size=12), min_size=1, max_size=5))
def test_no_text_cell_can_start_a_formula(cells):
    frame = pd.DataFrame(
        {"text": pd.Series(cells, dtype="str"), "items": [tuple(cells)] * len(cells)}
    )
    out = spreadsheet_frame(frame)
    for column in ("text", "items"):
        assert not out[column].str.startswith(FORMULA_STARTS).any()


# --- charts and escaping --------------------------------------------------------------------


def _svg_with_title(title: str) -> str:
    figure = Figure(figsize=(2, 1))
    figure.add_subplot().set_title(title)
    return figure_svg(figure, label=title, salt="t")


@pytest.mark.parametrize(
    "hostile", [SCRIPT_NAME, HOSTILE_THEME, HOSTILE_REASON, FORMULA_NAME, '" onload="alert(1)']
)
def test_chart_text_from_exports_is_escaped(hostile):
    svg = _svg_with_title(hostile)
    assert "<script" not in svg and "<b>" not in svg and "<img" not in svg
    assert "&lt;" in svg or "&quot;" in svg or "=HYPERLINK" in svg


def test_factor_chart_labels_are_escaped_text():
    factors = pd.DataFrame(
        {
            "term": [SCRIPT_NAME, "team_count"],
            "value": ["<b>1</b>", "3"],
            "contribution": [0.4, -0.2],
        }
    )
    svg = FactorChartPainter().svg(factors, label="factors", salt="f")
    assert "&lt;script&gt;alert(1)&lt;/script&gt; = &lt;b&gt;1&lt;/b&gt;" in svg
    assert "team count = 3" in svg
    assert "<script" not in svg


def test_factor_chart_labels_are_never_cut():
    # A pair term's label with both values is long; cutting it hid the value it was about.
    term = "competency_pass_share_180d & confidence_gap_points"
    factors = pd.DataFrame(
        {"term": [term], "value": ["80% of competency checks, 0.7 points"], "contribution": [-0.5]}
    )
    svg = FactorChartPainter().svg(factors, label="factors", salt="f")
    label = f"{term.replace('_', ' ')} = 80% of competency checks, 0.7 points"
    shown = html.unescape(" ".join(re.findall(r">([^<>]+)</text>", svg)))
    assert "…" not in svg
    assert " ".join(label.split()) in " ".join(shown.split())


@pytest.mark.parametrize(
    "bad",
    [
        '<svg width="1pt" height="1pt"><script>alert(1)</script></svg>',
        '<svg width="1pt" height="1pt"><g onclick="alert(1)"></g></svg>',
        '<svg width="1pt" height="1pt"><use xlink:href="http://x/y.svg#a"/></svg>',
        '<svg width="1pt" height="1pt"><rect style="fill: url(http://x/p)"/></svg>',
        '<svg width="1pt" height="1pt"><foreignObject></foreignObject></svg>',
    ],
)
def test_unsafe_svg_is_refused(bad):
    with pytest.raises(UnsafeSvgError):
        inline_svg(bad, "label")


def test_inline_svg_drops_header_metadata_and_group_ids():
    svg = _svg_with_title("t")
    assert svg.startswith("<svg") and "<!DOCTYPE" not in svg and "<metadata" not in svg
    assert 'id="figure_1"' not in svg and 'role="img"' in svg


@pytest.mark.parametrize(("value", "shown"), [(0.623, "62%"), (None, "—"), (float("nan"), "—")])
def test_percent(value, shown):
    assert percent(value) == shown


@pytest.mark.parametrize(
    ("value", "shown"),
    [(pd.Timestamp("2026-10-31"), "31 Oct 2026"), ("2026-01-05", "05 Jan 2026"), (pd.NaT, "—")],
)
def test_day(value, shown):
    assert day(value) == shown


# --- the built report -----------------------------------------------------------------------


class _Elements(HTMLParser):
    """Every start tag of a page with its attributes, as the browser's parser sees them."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def _elements(page: str) -> list[tuple[str, dict]]:
    parser = _Elements()
    parser.feed(page)
    return parser.tags


@pytest.mark.parametrize(
    "hostile", [SCRIPT_NAME, HOSTILE_THEME, HOSTILE_REASON, "</details><script>alert(3)</script>"]
)
def test_hostile_export_values_render_as_text(page, hostile):
    assert hostile not in page
    escaped = hostile.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    assert escaped.replace('"', "&#34;") in page or escaped in page


def test_the_page_has_one_script_and_no_active_or_remote_content(page):
    tags = _elements(page)
    scripts = [t for t, _ in tags if t == "script"]
    assert scripts == ["script"]  # only the print helper named by the policy's hash
    assert not [
        t
        for t, _ in tags
        if t in {"img", "iframe", "object", "embed", "link", "image", "foreignobject"}
    ]
    for _, attributes in tags:
        assert not [name for name in attributes if name.startswith("on")]
        for name in ("href", "xlink:href", "src"):
            assert attributes.get(name, "#").startswith("#")
    assert "@import" not in page and "url(http" not in page


def test_the_policy_allows_exactly_the_print_helper(page):
    assert f'content="{content_security_policy()}"'.replace("'", "&#39;") in page
    assert "default-src &#39;none&#39;" in page


def test_every_section_is_present(page):
    for anchor in (
        "summary",
        "ranking",
        "stages",
        "overclaims",
        "triggers",
        "changes",
        "services",
        "model",
        "reading",
    ):
        assert f'id="{anchor}"' in page
    assert page.count('class="service"') == 6
    assert "IMP-CLOSED" in page  # no longer scored since the previous run
    assert "version 7" in page and "champion" in page


def test_attention_improvements_have_spc_and_factor_charts(built, page):
    scores = read_run_outputs(built).scores
    attention = int(needs_attention(scores).sum())
    assert page.count('aria-label="SPC chart of improvement') == attention
    assert page.count('aria-label="Top factors for improvement') == attention
    assert page.count('aria-label="Monthly compliance of improvement') == len(scores) - attention


def test_board_tables_are_formula_safe(built):
    services = (built / "tables" / "services.csv").read_bytes()
    assert services.startswith(b"\xef\xbb\xbf")  # Excel reads it as UTF-8
    for path in (built / "tables").glob("*.csv"):
        rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"))))
        for cell in (c for row in rows[1:] for c in row):
            if cell.startswith(FORMULA_STARTS):
                assert _is_number(cell), (path.name, cell)
    names = pd.read_csv(built / "tables" / "services.csv", encoding="utf-8-sig")["name"]
    assert "'" + FORMULA_NAME in names.tolist()


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def test_a_column_outside_the_contract_never_reaches_the_report(tmp_path):
    out = write_run_outputs(tmp_path / "out", n_services=2, seed=1)
    scores = pd.read_parquet(out / "scores.parquet")
    scores.assign(text="SENTINEL-free-text-naming-Mrs-Smith").to_parquet(
        out / "scores.parquet", index=False
    )
    build_report(out, detailed_chart_limit=0)
    written = [(out / "report.html").read_text()] + [
        p.read_text(encoding="utf-8-sig") for p in (out / "tables").glob("*.csv")
    ]
    assert not any("SENTINEL" in text for text in written)


def test_missing_model_folder_and_previous_run_are_reported_not_fatal(tmp_path):
    out = write_run_outputs(tmp_path / "out", n_services=2, seed=2, with_previous=False)
    shutil.rmtree(out / "model")
    page = build_report(out, detailed_chart_limit=0).read_text()
    assert "Not available for this run" in page and "backtest.csv" in page
    assert "There is no previous run to compare with." in page
    assert "No backtest in this run" in page


def test_detailed_chart_limit_bounds_the_full_charts(tmp_path):
    out = write_run_outputs(tmp_path / "out", n_services=3, seed=4)
    page = build_report(out, detailed_chart_limit=2).read_text()
    assert page.count('aria-label="SPC chart of improvement') == 2
    assert "the first 2 in oversight order" in page


def test_published_layout_writes_into_the_current_run(tmp_path):
    out = tmp_path / "out"
    run = write_run_outputs(out / "runs" / "r2", n_services=2, seed=5, with_previous=False)
    (out / "current").symlink_to(Path("runs") / "r2", target_is_directory=True)
    for name in ("scores.parquet", "services.csv", "manifest.json"):
        (out / name).symlink_to(Path("current") / name)
    written = build_report(out, detailed_chart_limit=0)
    assert written == run.resolve() / "report.html"
    assert (run / "tables" / "services.csv").is_file()


@pytest.mark.parametrize(
    ("when", "position"),
    [
        ("2025-09-01", 0.0),
        ("2025-09-16", 0.5),
        ("2026-02-28", 5 + 27 / 28),
        ("2025-08-10", -1 + 9 / 31),
    ],
)
def test_month_positions_are_fractional_months(when, position):
    got = month_positions(pd.Series(pd.to_datetime([when])), pd.Timestamp("2025-09-01"))
    assert got.tolist() == pytest.approx([position])


def test_previous_run_is_found_beside_an_unpublished_run_folder(tmp_path):
    out = tmp_path / "out"
    run = write_run_outputs(out / "runs" / "new", n_services=2, seed=6)
    (run / "runs").rename(tmp_path / "moved")  # the previous run lives beside, not inside
    (tmp_path / "moved" / PREVIOUS_RUN_ID).rename(out / "runs" / PREVIOUS_RUN_ID)
    assert read_run_outputs(run).previous_scores is not None


# --- page budget: compact rows, parallel drawing, shape panels --------------------------------


def test_services_below_the_detailed_ones_are_one_row_per_improvement(tmp_path):
    out = write_run_outputs(tmp_path / "out", n_services=6, seed=3)
    page = build_report(out, detailed_services=2).read_text(encoding="utf-8")
    outputs = read_run_outputs(out)
    ranked = outputs.services.sort_values("rank")["location_id"]
    in_full = outputs.scores["location_id"].isin(ranked.head(2))
    assert page.count('<article class="improvement') == int(in_full.sum())
    rows = [a for t, a in _elements(page) if t == "tr" and a.get("id", "").startswith("imp-")]
    assert len(rows) == int((~in_full).sum())
    # every improvement keeps its anchor, so the summary's links still land
    anchors = {a["id"] for _, a in _elements(page) if a.get("id", "").startswith("imp-")}
    assert len(anchors) == len(outputs.scores)
    assert "The first 2 services in the ranking show each improvement in full" in page


def test_compact_rows_escape_hostile_values(tmp_path):
    out = write_run_outputs(tmp_path / "out", n_services=4, seed=3)
    page = build_report(out, detailed_services=0).read_text(encoding="utf-8")
    assert "<article" not in page
    for hostile in (SCRIPT_NAME, HOSTILE_THEME, HOSTILE_REASON):
        assert hostile not in page
    assert "&lt;b&gt;falls&lt;/b&gt;" in page


def test_drawing_in_processes_gives_the_same_page(tmp_path, monkeypatch):
    import report.build as build

    monkeypatch.setattr(build, "CHART_CHUNK", 3)  # several chunks even for a small group
    pages = []
    for workers in (1, 2):
        out = write_run_outputs(tmp_path / f"out{workers}", n_services=6, seed=3)
        pages.append(build_report(out, workers=workers).read_bytes())
    assert pages[0] == pages[1]
    assert pages[0].count(b'aria-label="SPC chart of improvement') > 0


def test_shape_panels_are_drawn_by_kind():
    from report_fixtures import _shape_functions

    from report.charts import shape_function_chart, shape_panel_kind

    shapes = _shape_functions(np.random.default_rng(0))
    kinds = {term: shape_panel_kind(rows) for term, rows in shapes.groupby("term")}
    assert kinds["severity"] == "categorical"
    assert kinds["compliance_latest"] == "numeric"  # has a missing cell, still a line
    assert kinds["compliance_margin_latest & team_count"] == "pair_lines"
    assert kinds["competency_pass_share_180d & confidence_gap_points"] == "pair_heatmap"
    svg = shape_function_chart(shapes)
    assert svg.count("<path") < 2000  # no bar per cell: one artist or a few per panel
