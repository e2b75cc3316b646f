"""Alerts: a failed or blocked nightly run never passes in silence.

The nightly flow's failure hooks (`on_failure`, `on_crashed`) call `alert_on_failure`. It
writes the alert to the local alert log (`$TAKEHOLD_HOME/alerts.log`, one JSON object a line)
and, when a Prefect server is configured (PREFECT_API_URL) and a notification block is named
(TAKEHOLD_ALERT_BLOCK, e.g. "slack-webhook/quality-team" or "custom-webhook/takehold"),
notifies through that block: Slack, Teams, e-mail, a webhook, whatever the block is. The block
is created once on the server (it holds the webhook's secret there, never in takehold's
settings). At the command line the run also exits non-zero (`pipelines.runs`).

An alert says what failed and why in takehold's own words (the file, column, rule and row count
of a blocked export); it never holds a row of evidence.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass
from datetime import UTC, datetime

from pipelines.config import Settings, load_settings, redacted_url

log = logging.getLogger(__name__)

BLOCKED = "blocked"
FAILED = "failed"
CRASHED = "crashed"
MESSAGE_LIMIT = 4000  # characters of the failure kept in an alert


@dataclass(frozen=True)
class Alert:
    """One failed or blocked run."""

    at: str  # UTC, ISO 8601
    kind: str  # blocked, failed or crashed
    flow: str
    flow_run: str
    out: str | None
    as_of: str | None
    export: str | None
    message: str

    @property
    def subject(self) -> str:
        what = "was blocked by validation" if self.kind == BLOCKED else f"{self.kind}"
        return f"takehold: the {self.flow} run {self.flow_run} {what}"

    @property
    def body(self) -> str:
        return (
            f"{self.subject} at {self.at}.\nOutputs: {self.out or '-'} (the previous outputs are "
            f"unchanged). As of: {self.as_of or 'the run day'}. Export: {self.export or '-'}.\n\n"
            f"{self.message}"
        )


def alert_on_failure(flow, flow_run, state) -> None:
    """Prefect hook for a flow run that failed or crashed: log the alert locally, and notify
    through the configured block when there is a Prefect server. Never raises (a hook's error
    would hide the run's own)."""
    try:
        settings = load_settings()
        alert = alert_from_state(flow.name, flow_run, state)
        record_alert(settings, alert)
        notify(settings, alert)
    except Exception as problem:  # the run's own failure must stay what the user sees
        log.error("could not raise the alert for a failed run: %s", type(problem).__name__)


def alert_from_state(flow_name: str, flow_run, state) -> Alert:
    """The alert for a flow run in a failed or crashed state."""
    parameters = dict(getattr(flow_run, "parameters", {}) or {})
    kind = CRASHED if state.is_crashed() else _failure_kind(state)
    export = parameters.get("export")
    return Alert(
        at=datetime.now(UTC).replace(microsecond=0).isoformat(),
        kind=kind,
        flow=flow_name,
        flow_run=str(getattr(flow_run, "name", "") or getattr(flow_run, "id", "")),
        out=_text(parameters.get("out")),
        as_of=_text(parameters.get("as_of")),
        export=redacted_url(str(export)) if export else None,
        message=(state.message or "no message")[:MESSAGE_LIMIT],
    )


def record_alert(settings: Settings, alert: Alert) -> None:
    """Append the alert to the local alert log."""
    settings.home.mkdir(parents=True, exist_ok=True)
    with settings.alert_log.open("a", encoding="utf-8") as log_file:
        log_file.write(json.dumps(asdict(alert)) + "\n")
    log.error("%s; alert written to %s", alert.subject, settings.alert_log)


def notify(settings: Settings, alert: Alert) -> bool:
    """Send the alert through the configured Prefect notification block; False when there is
    no Prefect server or no block configured, or the block could not be used (said in the log)."""
    if settings.prefect_api_url is None:
        return False
    if not settings.alert_block:
        log.warning(
            "a Prefect server is configured but no notification block (TAKEHOLD_ALERT_BLOCK): "
            "the alert is only in %s",
            settings.alert_log,
        )
        return False
    from prefect.blocks.core import Block

    try:
        block = Block.load(settings.alert_block)
        block.notify(alert.body, alert.subject)
    except Exception as problem:  # a broken or missing block must not hide the alert itself
        log.error(
            "notification block %s could not send the alert (%s); it is in %s",
            settings.alert_block,
            type(problem).__name__,
            settings.alert_log,
        )
        return False
    log.info("alert sent through %s", settings.alert_block)
    return True


def _failure_kind(state) -> str:
    from pipelines.stages import BlockedExport

    try:
        raised = state.result(raise_on_failure=False)
    except Exception as problem:  # the result itself could not be read
        raised = problem
    return BLOCKED if isinstance(raised, BlockedExport) else FAILED


def _text(value) -> str | None:
    return None if value is None else str(value)
