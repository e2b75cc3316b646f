"""Render the report page from its content with Jinja2, escaping every value.

Autoescaping is on for the whole template, so every value that came from a run's outputs
(service names, themes, reasons, timeline details, model card) is HTML-escaped. The only
markup inserted unescaped is chart SVG that `report.svg.inline_svg` has cleaned
and checked. A Content-Security-Policy forbids every network request and every script but
the one-line print helper, whose hash it names: even a value that escaped escaping could
neither run nor load anything.
"""

from __future__ import annotations

import base64
import hashlib
import math
from datetime import date, datetime

import jinja2
import pandas as pd

# Printing should show every section, including the collapsed ones; without JavaScript
# (email clients) the page still reads, sections simply stay as the reader left them.
PRINT_SCRIPT = (
    "addEventListener('beforeprint',function(){"
    "document.querySelectorAll('details').forEach(function(d){d.open=true})});"
)
MISSING = "—"


def content_security_policy(script: str = PRINT_SCRIPT) -> str:
    """A policy that allows inline styles, data: images and only `script` (by its hash)."""
    digest = base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode("ascii")
    return (
        f"default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
        f"script-src 'sha256-{digest}'; base-uri 'none'; form-action 'none'"
    )


def render_report(content: dict) -> str:
    """The report page as one HTML string."""
    template = report_environment().get_template("report.html.j2")
    return template.render(**content, print_script=PRINT_SCRIPT, csp=content_security_policy())


def report_environment() -> jinja2.Environment:
    """The Jinja2 environment: package templates, autoescape on, undefined values are errors."""
    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("report", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters.update(
        percent=percent,
        day=day,
        words=words,
        number=number,
        text=text,
        moment=moment,
        points=points,
        signed=signed,
        signed_points=signed_points,
    )
    return environment


def is_missing(value) -> bool:
    """True for None, NaN, NaT, pd.NA and empty text."""
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    if isinstance(value, float):
        return math.isnan(value)
    return isinstance(value, str) and not value.strip()


def percent(value, digits: int = 0) -> str:
    """0.623 -> '62%'; missing -> an em dash."""
    return MISSING if is_missing(value) else f"{float(value):.{digits}%}"


def number(value, digits: int = 2) -> str:
    """A number with `digits` decimals (integers as they are); missing -> an em dash."""
    if is_missing(value):
        return MISSING
    if isinstance(value, int) or (isinstance(value, float) and value.is_integer() and digits == 0):
        return f"{int(value):,}"
    return f"{float(value):,.{digits}f}"


def day(value) -> str:
    """A date as '31 Oct 2026'; missing -> an em dash."""
    if is_missing(value):
        return MISSING
    if isinstance(value, str):
        value = pd.to_datetime(value, errors="coerce")
        if value is pd.NaT:
            return MISSING
    if isinstance(value, datetime | date | pd.Timestamp):
        return f"{value:%d %b %Y}"
    return str(value)


def moment(value) -> str:
    """A UTC time as '31 Oct 2026 09:12 UTC'; missing -> an em dash."""
    if is_missing(value):
        return MISSING
    stamp = pd.to_datetime(value, errors="coerce")
    return MISSING if stamp is pd.NaT else f"{stamp:%d %b %Y %H:%M} UTC"


def points(value) -> str:
    """A probability change as percentage points: 0.1 -> '10'; missing -> an em dash."""
    return MISSING if is_missing(value) else f"{float(value) * 100:.0f}"


def signed_points(value) -> str:
    """A probability change as signed points: -0.123 -> '−12.3'; missing -> an em dash."""
    return MISSING if is_missing(value) else _signed(float(value) * 100, 1)


def signed(value, digits: int = 2) -> str:
    """A signed number: 0.5 -> '+0.50', -0.5 -> '−0.50'; missing -> an em dash."""
    return MISSING if is_missing(value) else _signed(float(value), digits)


def _signed(value: float, digits: int) -> str:
    text = f"{abs(value):.{digits}f}"
    if float(text) == 0:
        return text
    return ("+" if value > 0 else "\u2212") + text


def words(value) -> str:
    """A code such as 'not_started' as words ('not started'); missing -> an em dash."""
    return MISSING if is_missing(value) else str(value).replace("_", " ")


def text(value) -> str:
    """Any value as text; multi-item cells joined with '; '; missing -> an em dash."""
    if isinstance(value, tuple | list):
        return "; ".join(str(v) for v in value) or MISSING
    return MISSING if is_missing(value) else str(value)
