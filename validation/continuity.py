"""Is tonight's export a fresh, complete continuation of the recent ones?

Validation judges an export on its own. Two problems only show against earlier runs of the same
output folder (from the run history): an export identical to the last one, file for file (the
extract did not refresh, and tonight's answers repeat last night's as if nothing happened), and
a file whose row count dropped sharply (a partial extract looks like a quiet month). Neither
blocks the run; both are warnings in the manifest and at the top of the report.
"""

from __future__ import annotations

import pandas as pd

from contracts.params import GovernanceParams

WARNING_COLUMNS = ("kind", "file", "message")
IDENTICAL_EXPORT = "identical_export"
ROW_DROP = "row_drop"


def continuity_warnings(
    files: pd.DataFrame,
    earlier_files: pd.DataFrame,
    earlier_runs: pd.DataFrame,
    params: GovernanceParams | None = None,
) -> pd.DataFrame:
    """Warnings (kind, file, message) about tonight's input against earlier runs.

    `files`: tonight's export, one row per file read (file, sha256, rows). `earlier_files`: the
    same for earlier runs, with run_id. `earlier_runs`: those runs' records (run_id, as_of),
    oldest first. The last run is the last row of `earlier_runs`; row counts are compared with
    the median over the last `recent_runs` of them (a file a run did not have counts 0 there).
    """
    params = params or GovernanceParams()
    if earlier_runs.empty:
        return _frame([])
    recent = earlier_runs.tail(params.recent_runs)
    found = _identical(files, earlier_files, recent.iloc[-1]) + _row_drops(
        files, earlier_files, recent, params.row_drop_warning_share
    )
    return _frame(found)


def _identical(files: pd.DataFrame, earlier_files: pd.DataFrame, last: pd.Series) -> list[dict]:
    before = earlier_files[earlier_files["run_id"] == last["run_id"]]
    same = not files.empty and set(zip(files["file"], files["sha256"], strict=True)) == set(
        zip(before["file"], before["sha256"], strict=True)
    )
    if not same:
        return []
    return [
        {
            "kind": IDENTICAL_EXPORT,
            "file": "",
            "message": (
                f"This export is identical, file for file, to the one the run of "
                f"{_day(last['as_of'])} read ({last['run_id']}): the evidence has not been "
                "refreshed since, so whatever moved since then moved with the passing of time "
                "(or a new model), not with new evidence."
            ),
        }
    ]


def _row_drops(
    files: pd.DataFrame, earlier_files: pd.DataFrame, recent: pd.DataFrame, share: float
) -> list[dict]:
    counts = (
        earlier_files[earlier_files["run_id"].isin(recent["run_id"])]
        .pivot_table(index="run_id", columns="file", values="rows", aggfunc="sum")
        .reindex(recent["run_id"])
        .fillna(0)
    )
    if counts.empty:
        return []
    typical = counts.median()
    now = files.set_index("file")["rows"].reindex(typical.index).fillna(0)
    dropped = typical[(typical > 0) & (now < (1 - share) * typical)]
    return [
        {
            "kind": ROW_DROP,
            "file": name,
            "message": (
                f"{name} has {int(now[name]):,} rows, {1 - now[name] / median:.0%} fewer than "
                f"the median of the last {len(counts)} runs ({int(median):,}): a partial "
                "export would make a quiet period look like a good one."
            ),
        }
        for name, median in dropped.items()
    ]


def _frame(rows: list[dict]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=list(WARNING_COLUMNS)).astype("str")


def _day(value) -> str:
    stamp = pd.Timestamp(value)
    return "an unknown date" if pd.isna(stamp) else f"{stamp:%d %b %Y}"
