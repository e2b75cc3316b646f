"""Regenerate the parts of the docs that are declared in code, so they never drift.

    python scripts/generate_docs.py          # rewrite them
    python scripts/generate_docs.py --check  # exit 1 if any is out of date (the tests run this)

Each generated part sits between `<!-- generated:NAME -->` and `<!-- end:NAME -->` in its file.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def output_tables() -> str:
    """Every table a run writes, from `contracts.tables`."""
    from contracts.tables import OUTPUT_TABLES

    parts = []
    for table in OUTPUT_TABLES:
        files = ", ".join(f"`{name}`" for name in table.files)
        rows = "\n".join(f"| `{c.name}` | {c.kind} | {c.meaning} |" for c in table.columns)
        parts.append(
            f"### {table.name} ({files})\n\n{table.meaning}\n\n"
            f"| column | kind | meaning |\n| --- | --- | --- |\n{rows}\n"
        )
    return "\n".join(parts)


def configuration_reference() -> str:
    """Every setting of a provider group's configuration file, from `contracts.params`."""
    from contracts import params

    parts = []
    for part in params.PARTS:
        rows = []
        for name, kind in params.setting_types(part).items():
            rule = "; ".join(c.words for c in params.setting_checks(part, name)) or "any"
            default = params.shown(params.setting_default(part, name)).replace("|", "\\|")
            rows.append(
                f"| `{name}` | {params.type_words(kind)} | {rule} | `{default}` | "
                f"{params.setting_meaning(part, name)} |"
            )
        across = "".join(
            f"\n- {', '.join(f'`{n}`' for n in rule.names)}: {rule.words}." for rule in part.ACROSS
        )
        parts.append(
            f"#### `[{part.SECTION}]` {part.TITLE}\n\n"
            "| setting | type | range or rule | default | meaning |\n| --- | --- | --- | --- | --- |\n"
            + "\n".join(rows)
            + (f"\n\nRules across these settings:{across}" if across else "")
            + "\n"
        )
    return "\n".join(parts)


# (file, part name, renderer)
PARTS: tuple[tuple[str, str, Callable[[], str]], ...] = (
    ("docs/interfaces.md", "output-tables", output_tables),
    ("README.md", "configuration-reference", configuration_reference),
)


def rendered(text: str, name: str, body: str) -> str:
    pattern = re.compile(
        rf"(<!-- generated:{re.escape(name)} -->\n).*?(<!-- end:{re.escape(name)} -->)", re.S
    )
    if not pattern.search(text):
        raise SystemExit(f"no '<!-- generated:{name} -->' ... '<!-- end:{name} -->' markers")
    return pattern.sub(lambda m: m.group(1) + body.rstrip() + "\n" + m.group(2), text)


def stale_parts(write: bool) -> list[str]:
    stale = []
    for file, name, render in PARTS:
        path = ROOT / file
        before = path.read_text(encoding="utf-8")
        after = rendered(before, name, render())
        if after != before:
            stale.append(f"{file} ({name})")
            if write:
                path.write_text(after, encoding="utf-8")
    return stale


def main() -> int:
    check = "--check" in sys.argv[1:]
    stale = stale_parts(write=not check)
    if check and stale:
        print("out of date: " + ", ".join(stale) + "; run python scripts/generate_docs.py")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
