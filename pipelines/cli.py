"""The takehold command line: a thin layer that parses options and calls the pipelines."""

from __future__ import annotations

import logging
import sys

import typer

app = typer.Typer(
    help="takehold: has a care service's improvement taken hold, or only started?",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def setup_logging(verbose: bool) -> None:
    """Logs go to stderr; library code never prints."""
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )


def main() -> None:  # pragma: no cover - console entry
    app()
