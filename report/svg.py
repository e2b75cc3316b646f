"""Turn matplotlib's SVG output into a small, inert fragment fit to inline in the report.

matplotlib escapes every text it writes into SVG (`&`, `<`, `>` and quotes), so a service
name or theme can only ever appear as text. This module removes what an inline fragment does
not need (XML header, DOCTYPE with its external DTD address, RDF metadata, matplotlib's own
group ids that would repeat across hundreds of charts), and refuses a fragment that could
run code or fetch anything.
"""

from __future__ import annotations

import html
import re

_BEFORE_SVG = re.compile(r"\A.*?(?=<svg\b)", re.DOTALL)
_METADATA = re.compile(r"<metadata>.*?</metadata>\s*", re.DOTALL)
# matplotlib's one style rule (round line joins) would leak to the whole page from an inline
# SVG; the report's stylesheet carries it once instead.
_STYLE_BLOCK = re.compile(r"<defs>\s*<style[^>]*>.*?</style>\s*</defs>\s*", re.DOTALL)
_COMMENT = re.compile(r"<!--.*?-->\s*", re.DOTALL)
# matplotlib names groups "figure_1", "line2d_3", "xtick_2", ...: never referenced, and they
# would repeat in every chart. Marker and clip-path ids (hashed, no underscore) are kept.
_GROUP_ID = re.compile(r' id="[A-Za-z0-9.]+_\d+"')
_SIZE = re.compile(r'<svg([^>]*?) width="([\d.]+)pt" height="([\d.]+)pt"')
_NO_ROTATION = re.compile(r' transform="rotate\(-?0 [\d.]+ [\d.]+\)"')
_LINE_BREAK = re.compile(r"\s*\n\s*")
_LONG_DECIMAL = re.compile(r"(?<=[\d])(\.\d\d)\d+")
# Text and attribute values arrive escaped, so every "<" opens a real tag and every attribute
# value is one quoted string: checking tag names and attribute names/values is exhaustive.
_TAG = re.compile(r"<([A-Za-z][\w:.-]*)((?:\s+[\w:.-]+=\"[^\"]*\")*)\s*/?>")
_ATTRIBUTE = re.compile(r'([\w:.-]+)="([^"]*)"')
_UNSAFE_TAGS = {"script", "foreignobject", "iframe", "object", "embed", "image", "a", "style"}


class UnsafeSvgError(ValueError):
    """A chart's SVG contains something that could run code or load a resource."""


def inline_svg(svg: str, label: str) -> str:
    """The SVG as an inline, accessible fragment labelled with `label` (escaped here)."""
    fragment = _BEFORE_SVG.sub("", svg, count=1)
    fragment = _METADATA.sub("", fragment)
    fragment = _COMMENT.sub("", fragment)
    fragment = _STYLE_BLOCK.sub("", fragment)
    fragment = _GROUP_ID.sub("", fragment)
    fragment = _LONG_DECIMAL.sub(r"\1", fragment)
    fragment = _NO_ROTATION.sub("", fragment)
    fragment = _LINE_BREAK.sub(" ", fragment).replace("> <", "><")
    fragment = _SIZE.sub(
        lambda m: (
            f'<svg{m.group(1)} width="{m.group(2)}pt" height="{m.group(3)}pt" '
            f'role="img" aria-label="{html.escape(label, quote=True)}"'
        ),
        fragment,
        count=1,
    )
    _refuse_active_content(fragment)
    return fragment.strip()


def _refuse_active_content(fragment: str) -> None:
    for tag in _TAG.finditer(fragment):
        if tag.group(1).lower() in _UNSAFE_TAGS:
            raise UnsafeSvgError(f"a chart's SVG holds a <{tag.group(1)}> element")
        for name, value in _ATTRIBUTE.findall(tag.group(2)):
            if name.lower().startswith("on"):
                raise UnsafeSvgError("a chart's SVG holds an event handler")
            if name.lower().endswith("href") and not value.startswith("#"):
                raise UnsafeSvgError("a chart's SVG refers to an outside resource")
            if "url(" in value and "url(#" not in value:
                raise UnsafeSvgError("a chart's SVG refers to an outside resource")
