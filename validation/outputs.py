"""Writing what validation found: quarantine CSVs, validation.json and GX Data Docs.

Quarantine files are CSV for people to open in a spreadsheet, so every text cell that a
spreadsheet would run as a formula (starting with = + - @, a tab or a carriage return) gets
the usual `'` prefix. Data Docs are rendered by GX's own site builder from the scrubbed
results, so they show every rule, its outcome and its counts but never a value of the data.
"""

from __future__ import annotations

import json
import logging
import shutil
import tempfile
from pathlib import Path

from contracts.spreadsheet import spreadsheet_safe
from validation.result import ValidationResult

log = logging.getLogger(__name__)

QUARANTINE_DIR = "quarantine"
DATA_DOCS_DIR = "data_docs"
SUMMARY_FILE = "validation.json"


def write_validation_outputs(
    result: ValidationResult, out_dir: Path, *, data_docs: bool = True
) -> None:
    """Write quarantine/<file>.csv (files with quarantined rows), validation.json, data_docs/."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    write_quarantine(result, out_dir / QUARANTINE_DIR)
    docs = data_docs_or_note(result, out_dir / DATA_DOCS_DIR) if data_docs else {}
    summary = json.dumps({**result.to_dict(), **docs}, indent=2, ensure_ascii=False)
    (out_dir / SUMMARY_FILE).write_text(summary + "\n", encoding="utf-8")
    log.info("validation outputs written to %s", out_dir)


class _Collected(logging.Handler):
    """Keeps the messages of GX's loggers during a build instead of printing them."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.errors = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.errors += record.levelno >= logging.ERROR


def data_docs_or_note(result: ValidationResult, folder: Path) -> dict:
    """Data Docs in `folder`, or a plain note for validation.json where GX cannot render them.

    GX's renderer logs its own failures with a Python traceback; those are kept out of the
    output a person reads (the findings are in validation.json and the summary either way).
    """
    gx_logger = logging.getLogger("great_expectations")
    collected, propagate = _Collected(), gx_logger.propagate
    gx_logger.addHandler(collected)
    gx_logger.propagate = False
    try:
        write_data_docs(result, folder)
        failure = "" if not collected.errors else "GX's renderer failed on some pages"
    except Exception as exc:  # the verdict stands without the pages; say so plainly
        failure = f"GX could not render Data Docs ({type(exc).__name__})"
    finally:
        gx_logger.removeHandler(collected)
        gx_logger.propagate = propagate
    if not failure:
        return {"data_docs": {"written": True, "note": ""}}
    log.warning("Data Docs: %s; the findings are in %s", failure, SUMMARY_FILE)
    note = f"{failure}; the findings above are complete without them"
    return {"data_docs": {"written": False, "note": note}}


def write_quarantine(result: ValidationResult, folder: Path) -> list[Path]:
    """One CSV per file with quarantined rows; formulas neutralised, no free text."""
    written = []
    for name, rows in result.quarantine.items():
        if rows.empty:
            continue
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{name}.csv"
        spreadsheet_safe(rows).to_csv(
            path, index=False, lineterminator="\n", date_format="%Y-%m-%d"
        )
        written.append(path)
    return written


def write_data_docs(result: ValidationResult, folder: Path) -> Path:
    """Render GX Data Docs for the run's suites and scrubbed results into `folder`."""
    import great_expectations as gx
    from great_expectations.data_context.types.resource_identifiers import (
        ExpectationSuiteIdentifier,
        ValidationResultIdentifier,
    )

    with tempfile.TemporaryDirectory(prefix="takehold-gx-") as project:
        context = gx.get_context(mode="file", project_root_dir=project)
        for suite in result.suites.values():
            context.suites.add(unbound_copy(suite))
        for name, gx_result in result.gx_results.items():
            key = ValidationResultIdentifier(
                expectation_suite_identifier=ExpectationSuiteIdentifier(name=name),
                run_id=gx_result.meta["run_id"],
                batch_identifier=name,
            )
            context.validation_results_store.set(key, gx_result)
        built = context.build_data_docs()
        site = Path(next(iter(built.values())).removeprefix("file://")).parent
        if folder.exists():
            shutil.rmtree(folder)
        shutil.copytree(site, folder)
    return folder / "index.html"


def unbound_copy(suite):
    """The same suite, free of the context it was built in (a suite belongs to one context)."""
    import great_expectations as gx

    config = suite.to_json_dict()
    for expectation in config["expectations"]:
        expectation.pop("id", None)
    config.pop("id", None)
    return gx.ExpectationSuite(**config)
