"""The report in a real browser: headless Chromium (Debian's chromium package).

Chromium is driven over the Chrome DevTools Protocol (websocket from the `websockets`
package): the test records every console message, uncaught exception, log entry and network
request while the page loads from a file:// URL, then saves a screenshot. Only file: and data:
URLs may be requested; any console or log error fails the test (a Content-Security-Policy
violation is one).

`TAKEHOLD_REPORT_SCREENSHOTS=<folder>` also saves the screenshots there (docs/report-*.png).
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest
from report_fixtures import SCRIPT_NAME, write_run_outputs
from websockets.sync.client import connect

from report import build_report

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        CHROMIUM is None, reason="needs Debian's chromium package (make system-deps)"
    ),
]
LOAD_TIMEOUT_SECONDS = 120
# The page's width, the window's, and how many boxes are wider than their column.
FITS = (
    "page: document.documentElement.scrollWidth, window: innerWidth,"
    " over: [...document.querySelectorAll('.scroll, table, figure')]"
    "   .filter(e => e.scrollWidth > e.clientWidth + 1).length"
)


class DevTools:
    """A minimal Chrome DevTools Protocol client on one page (flattened target session)."""

    def __init__(self, websocket_url: str) -> None:
        self.socket = connect(websocket_url, max_size=None, open_timeout=30)
        self.next_id = 0
        self.events: list[dict] = []
        target = self.call("Target.createTarget", url="about:blank")["targetId"]
        self.session = self.call("Target.attachToTarget", targetId=target, flatten=True)[
            "sessionId"
        ]

    def call(self, method: str, session: bool = False, **params) -> dict:
        self.next_id += 1
        message = {"id": self.next_id, "method": method, "params": params}
        if session:
            message["sessionId"] = self.session
        self.socket.send(json.dumps(message))
        while True:
            reply = json.loads(self.socket.recv(timeout=LOAD_TIMEOUT_SECONDS))
            if reply.get("id") == self.next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def page(self, method: str, **params) -> dict:
        return self.call(method, session=True, **params)

    def wait_for(self, method: str) -> None:
        if any(e.get("method") == method for e in self.events):
            return
        deadline = time.monotonic() + LOAD_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            event = json.loads(self.socket.recv(timeout=LOAD_TIMEOUT_SECONDS))
            self.events.append(event)
            if event.get("method") == method:
                return
        raise TimeoutError(method)

    def close(self) -> None:
        self.socket.close()


@pytest.fixture(scope="module")
def chromium(tmp_path_factory):
    """A headless Chromium with remote debugging on a free port; yields its websocket URL."""
    profile = tmp_path_factory.mktemp("chromium-profile")
    process = subprocess.Popen(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-extensions",
            "--no-first-run",
            "--no-default-browser-check",
            f"--user-data-dir={profile}",
            "--remote-debugging-port=0",
            "about:blank",
        ],
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
    )
    try:
        yield _devtools_url(process)
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


def _devtools_url(process: subprocess.Popen) -> str:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = process.stderr.readline()
        found = re.search(r"DevTools listening on (ws://\S+)", line)
        if found:
            return found.group(1)
        if not line and process.poll() is not None:
            break
    raise RuntimeError("chromium did not start its DevTools endpoint")


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> Path:
    out = write_run_outputs(tmp_path_factory.mktemp("out"), n_services=8, seed=11)
    return build_report(out)


def _open(chromium: str, path: Path) -> DevTools:
    tools = DevTools(chromium)
    for domain in ("Network", "Runtime", "Log", "Page"):
        tools.page(f"{domain}.enable")
    tools.page(
        "Emulation.setDeviceMetricsOverride",
        width=1280,
        height=1600,
        deviceScaleFactor=1,
        mobile=False,
    )
    tools.page("Page.navigate", url=path.resolve().as_uri())
    tools.wait_for("Page.loadEventFired")
    tools.page("Runtime.evaluate", expression="1", awaitPromise=False)  # drain pending events
    return tools


def _screenshot(tools: DevTools, path: Path, anchor: str | None = None) -> None:
    if anchor:
        tools.page(
            "Runtime.evaluate", expression=f"document.getElementById('{anchor}').scrollIntoView()"
        )
    shot = tools.page("Page.captureScreenshot", format="png")
    path.write_bytes(base64.b64decode(shot["data"]))


def test_report_renders_offline_without_errors(chromium, report, tmp_path):
    tools = _open(chromium, report)
    try:
        _screenshot(tools, tmp_path / "report-summary.png")
        _screenshot(tools, tmp_path / "report-service.png", anchor="imp-1")
        title = tools.page("Runtime.evaluate", expression="document.title")["result"]["value"]
        names = tools.page(
            "Runtime.evaluate",
            returnByValue=True,
            expression=(
                "[...document.querySelectorAll('details.service .name')].map(e => e.textContent)"
            ),
        )["result"]["value"]
        scripts = tools.page("Runtime.evaluate", expression=("document.scripts.length"))["result"][
            "value"
        ]
        charts = tools.page(
            "Runtime.evaluate", expression=("document.querySelectorAll('figure.chart svg').length")
        )["result"]["value"]
    finally:
        tools.close()
    requested = _requested(tools.events)
    errors = _errors(tools.events)
    assert requested and all(url.startswith(("file:", "data:")) for url in requested), requested
    assert errors == []
    assert "governance report" in title
    assert SCRIPT_NAME in names  # shown as text, and it did not run
    assert scripts == 1 and charts > 10
    for shot in ("report-summary.png", "report-service.png"):
        assert (tmp_path / shot).read_bytes().startswith(b"\x89PNG")
    _keep_screenshots(tmp_path)


def _requested(events: list[dict]) -> list[str]:
    """Every URL the page asked for."""
    return [
        e["params"]["request"]["url"]
        for e in events
        if e.get("method") == "Network.requestWillBeSent"
    ]


def _errors(events: list[dict]) -> list[str]:
    found = []
    for event in events:
        method, params = event.get("method"), event.get("params", {})
        if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            found.append(str(params.get("args")))
        elif method == "Runtime.exceptionThrown":
            found.append(str(params.get("exceptionDetails")))
        elif method == "Log.entryAdded" and params["entry"].get("level") == "error":
            found.append(params["entry"].get("text", ""))
    return found


def _keep_screenshots(folder: Path) -> None:
    target = os.environ.get("TAKEHOLD_REPORT_SCREENSHOTS")
    if target:
        Path(target).mkdir(parents=True, exist_ok=True)
        for shot in folder.glob("report-*.png"):
            shutil.copy(shot, Path(target) / shot.name)


def test_nothing_runs_past_the_right_edge_at_laptop_width(chromium, tmp_path):
    """At 1,280 px every table fits its column, full cards and compact rows alike."""
    out = write_run_outputs(tmp_path / "out", n_services=8, seed=11)
    page = build_report(out, detailed_services=3)
    tools = _open(chromium, page)
    try:
        tools.page(
            "Runtime.evaluate",
            expression="document.querySelectorAll('details').forEach(d => d.open = true)",
        )
        widths = tools.page(
            "Runtime.evaluate",
            returnByValue=True,
            expression=(
                f"({{{FITS}, compact: document.querySelectorAll('table.improvements').length}})"
            ),
        )["result"]["value"]
    finally:
        tools.close()
    assert widths["compact"] == 5
    assert widths["page"] <= widths["window"]
    assert widths["over"] == 0


def test_governance_sections_render_offline_and_fit_a_laptop(chromium, tmp_path):
    """Trends, the comparison with why probabilities moved, sign-offs and the input warning:
    no console error, no network request, nothing wider than its column at 1,280 px."""
    from report_fixtures import run_history

    out = write_run_outputs(tmp_path / "out", n_services=8, seed=11)
    page = build_report(out, detailed_services=3, history=run_history(out, seed=11))
    tools = _open(chromium, page)
    try:
        tools.page(
            "Runtime.evaluate",
            expression="document.querySelectorAll('details').forEach(d => d.open = true)",
        )
        for anchor, shot in (
            ("comparison", "report-comparison.png"),
            ("signoff", "report-signoff.png"),
            ("imp-1", "report-trends.png"),
            ("svc-4", "report-compact-trends.png"),
        ):
            _screenshot(tools, tmp_path / shot, anchor=anchor)
        found = tools.page(
            "Runtime.evaluate",
            returnByValue=True,
            expression=(
                f"({{{FITS},"
                " trends: document.querySelectorAll('.trend svg').length,"
                " small: document.querySelectorAll('svg.trend-small').length,"
                " moves: document.querySelectorAll('table.moves tbody tr').length})"
            ),
        )["result"]["value"]
    finally:
        tools.close()
    requested = _requested(tools.events)
    assert all(url.startswith(("file:", "data:")) for url in requested), requested
    assert _errors(tools.events) == []
    assert found["page"] <= found["window"] and found["over"] == 0
    assert found["trends"] > 0 and found["small"] > 0 and found["moves"] > 0
    _keep_screenshots(tmp_path)


def showcase(story_module):
    """One service, three improvements from the worked examples, as of 31 Dec 2026: teams
    named (1a), a slip remembered with its month (1b'), an improvement closed after embedding
    whose checks stopped."""
    story = story_module.Story().service().no_incidents_file_gap()
    teams = ("Team A", "Team B", "Team C")
    days = story_module.month_days
    story.improvement(
        "DOC-1",
        identified_on="2026-10-15",
        action_started_on="2026-11-01",
        declared_status="embedded",
        declared_on="2026-12-20",
    )
    story.checks("DOC-1", ("Team A",), ["2026-12-05"], 10, 10, "staff_practice", prompts_needed=3)
    story.checks("DOC-1", ("Team B",), ["2026-12-05"], 9, 10, "staff_practice", prompts_needed=3)
    story.checks("DOC-1", ("Team A",), ["2026-12-18"], 20)
    story.checks("DOC-1", ("Team B",), ["2026-12-18"], 16)
    story.improvement("DOC-2", identified_on="2026-05-10", action_started_on="2026-06-01")
    story.every_kind_of_check("DOC-2", teams, ["2026-06-12"])
    story.checks("DOC-2", teams, ["2026-07-12"], 15)
    story.every_kind_of_check("DOC-2", teams, days("2026-08", "2026-12"))
    story.feedback(days("2026-08", "2026-12", 15), "documentation", 1)
    story.improvement(
        "DOC-3",
        theme="medicines",
        identified_on="2025-12-10",
        action_started_on="2026-01-05",
        declared_status="closed",
        declared_on="2026-08-01",
    )
    story.checks("DOC-3", teams, ["2026-01-12"], 15)
    story.every_kind_of_check("DOC-3", teams, days("2026-02", "2026-07"))
    return story.feedback(days("2026-02", "2026-07", 18), "medicines", 1)


def test_worked_examples_report_names_teams_remembers_slips_and_shows_closed(chromium, tmp_path):
    from datetime import date

    import worked_examples

    reading = worked_examples.read_story(
        showcase(worked_examples), tmp_path, date(2026, 12, 31), worked_examples.fitted_model()
    )
    page = tmp_path / "out" / "report.html"
    tools = _open(chromium, page)
    try:
        box = tools.page(
            "Runtime.evaluate",
            returnByValue=True,
            expression=(
                "(() => { const s = document.getElementById('svc-1'); s.open = true;"
                " const r = s.getBoundingClientRect();"
                " return {x: r.x + scrollX, y: r.y + scrollY, w: r.width, h: r.height}; })()"
            ),
        )["result"]["value"]
        text = tools.page(
            "Runtime.evaluate", returnByValue=True, expression="document.body.innerText"
        )["result"]["value"]
        shot = tools.page(
            "Page.captureScreenshot",
            format="png",
            captureBeyondViewport=True,
            clip={"x": box["x"], "y": box["y"], "width": box["w"], "height": box["h"], "scale": 1},
        )
    finally:
        tools.close()
    (tmp_path / "report-worked-examples.png").write_bytes(base64.b64decode(shot["data"]))
    assert _errors(tools.events) == []
    assert "Team B below the standard" in text
    assert "slipped below the standard in July 2026 after early improvement" in text
    assert "monitoring ended 01 Aug 2026" in text
    assert "uneven_results_between_teams" not in text
    assert reading.of("DOC-3")["claim_check"] == "closed"
    _keep_screenshots(tmp_path)
