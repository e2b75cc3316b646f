"""Retention of run folders: which of OUT/runs/<run_id>/ a successful run keeps.

Kept (`RetentionParams`): the folder published as OUT/current (always); the latest
`keep_last_runs` finished runs; each calendar quarter's last finished run (the run a quarterly
governance meeting compares with, whose explanation "why it moved" reads); and any folder
newer than the current one (a failure since the last good night, left for a look). Everything
else under OUT/runs/ is removed. The run history keeps every run's record, scores and rankings
whatever happens to its folder.

A finished run is one whose manifest records `finished_at` (written as the run publishes).
A folder written before that field existed counts as finished when it holds its scores.
"""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

import pandas as pd

from contracts.params import RetentionParams
from pipelines.outputs import RUNS, previous_run_id

log = logging.getLogger(__name__)


def run_folders(out: Path) -> pd.DataFrame:
    """Every folder under OUT/runs/: run_id, as_of (NaT when unknown), finished, sorted by run
    id (run ids sort by as-of date, then by the time the run started)."""
    rows = []
    for folder in sorted((Path(out) / RUNS).iterdir()) if (Path(out) / RUNS).is_dir() else []:
        if folder.is_dir() and not folder.is_symlink():
            rows.append({"run_id": folder.name, **_state(folder)})
    return pd.DataFrame(rows, columns=["run_id", "as_of", "finished"]).astype(
        {"as_of": "datetime64[ns]", "finished": bool}
    )


def _state(folder: Path) -> dict:
    manifest = folder / "manifest.json"
    try:
        record = json.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {"as_of": pd.NaT, "finished": False}
    finished = (
        bool(record["finished_at"])
        if "finished_at" in record
        else (folder / "scores.parquet").is_file()
    )
    return {"as_of": pd.to_datetime(record.get("as_of"), errors="coerce"), "finished": finished}


def runs_to_keep(folders: pd.DataFrame, current: str | None, params: RetentionParams) -> set[str]:
    """The run ids whose folders are kept (see the module docstring)."""
    if not params.enabled:
        return set(folders["run_id"])
    kept = {current} if current else set()
    finished = folders[folders["finished"]].sort_values(["as_of", "run_id"], kind="mergesort")
    kept |= set(finished["run_id"].tail(params.keep_last_runs))
    if params.keep_quarter_ends:
        dated = finished[finished["as_of"].notna()]
        quarters = dated["as_of"].dt.to_period("Q")
        kept |= set(dated.loc[~quarters.duplicated(keep="last"), "run_id"])
    if current:
        kept |= set(folders.loc[folders["run_id"] > current, "run_id"])
    return kept & set(folders["run_id"])


def apply_retention(out: Path, params: RetentionParams) -> list[str]:
    """Remove the run folders retention does not keep; returns the run ids removed."""
    out = Path(out)
    folders = run_folders(out)
    keep = runs_to_keep(folders, previous_run_id(out), params)
    removed = [r for r in folders["run_id"] if r not in keep]
    for run_id in removed:
        shutil.rmtree(out / RUNS / run_id, ignore_errors=True)
    if removed:
        log.info("retention removed %d run folder(s) under %s", len(removed), out / RUNS)
    return removed
