"""One path from a failure to what the user reads: one or two plain lines and an exit code.

Every command of the CLI runs through `exit_code` (pipelines.cli registers them with
`command`, and a test checks that none escapes), so an unwritable folder, an unreadable file, a missing model,
a server that does not answer and a broken configuration all end the same way: a line in
takehold's words on stderr and a non-zero exit. The traceback is for `--verbose` only.

Exit codes: 0 success; 1 the input, the state or a server cannot be used (named in the
message); 2 a usage error: the command line or the configuration file (Typer's own, and
`ConfigError`); 130 interrupted.
"""

from __future__ import annotations

import sys
import traceback
from collections.abc import Callable
from pathlib import Path

import typer
from typer.exceptions import TyperException

from pipelines.config import ConfigError

USAGE = 2
UNUSABLE = 1
INTERRUPTED = 130


def explained(problem: BaseException) -> tuple[int, list[str]]:
    """The exit code and the plain lines for a failure."""
    if isinstance(problem, ConfigError):
        return USAGE, [f"takehold stopped: {problem}"]
    if isinstance(problem, KeyboardInterrupt):
        return INTERRUPTED, ["takehold stopped: interrupted; the previous outputs are unchanged."]
    if isinstance(problem, OSError) and problem.filename:
        reason = problem.strerror or type(problem).__name__
        return UNUSABLE, [f"takehold stopped: cannot use {problem.filename}: {reason}."]
    if _declared_by_us(problem) or (
        _raised_by_us(problem) and isinstance(problem, ValueError | LookupError)
    ):
        return UNUSABLE, [f"takehold stopped: {problem}"]
    return UNUSABLE, [
        f"takehold stopped by an unexpected error: {type(problem).__name__}: {problem}",
        "Nothing was published; run the command again with --verbose to see where it happened.",
    ]


def _declared_by_us(problem: BaseException) -> bool:
    """An exception class of takehold's own (e.g. a blocked export), written for the user."""
    return type(problem).__module__.split(".")[0] in OURS


def _raised_by_us(problem: BaseException) -> bool:
    """Raised by takehold's own code (whose messages are written for the user), not a library."""
    frames = traceback.extract_tb(problem.__traceback__)
    if not frames:
        return True
    raised_in = Path(frames[-1].filename).resolve()
    return any(raised_in.is_relative_to(ROOT / package) for package in OURS)


# takehold's packages sit side by side (a checkout, or site-packages when installed).
ROOT = Path(__file__).resolve().parents[1]
OURS = ("contracts", "features", "models", "validation", "report", "pipelines", "simulator")


def exit_code(body: Callable[[], int | None], verbose: bool) -> int:
    """Run a command's body; its exit code, or for any failure the failure's, after printing
    its plain lines on stderr (and, with `verbose` only, the traceback first)."""
    try:
        return body() or 0
    except (TyperException, typer.Exit, typer.Abort, SystemExit):
        raise  # the command line's own usage errors, which Typer reports
    except BaseException as problem:  # noqa: BLE001 - the one place every failure ends
        code, lines = explained(problem)
        if verbose:
            traceback.print_exception(problem, file=sys.stderr)
        for line in lines:
            typer.echo(line, err=True)
        return code
