"""Writing an export in the contract's form (CSV or Parquet), as a provider group's systems would.

The simulator writes its provider groups with this; the tests write their small exports with
it too. Reading is `pipelines.io`'s job.
"""

from __future__ import annotations

import fsspec
import pandas as pd

from contracts.export import FILES_BY_NAME, ExportFile


def write_export(frames: dict[str, pd.DataFrame], folder: str, fmt: str = "csv") -> list[str]:
    """Write contract frames to `folder` as CSV or Parquet; returns the written paths."""
    fs, root = fsspec.core.url_to_fs(str(folder))
    fs.makedirs(root, exist_ok=True)
    written = []
    for name, frame in frames.items():
        path = f"{root.rstrip('/')}/{name}.{'parquet' if fmt == 'parquet' else 'csv'}"
        out = _for_writing(frame, FILES_BY_NAME[name])
        with fs.open(path, "wb") as handle:
            if fmt == "parquet":
                out.to_parquet(handle, index=False)
            else:
                out.to_csv(handle, index=False, lineterminator="\n", date_format="%Y-%m-%d")
        written.append(path)
    return written


def _for_writing(frame: pd.DataFrame, spec: ExportFile) -> pd.DataFrame:
    columns = [c for c in spec.column_names if c in frame.columns]
    out = frame[columns].copy()
    for name in spec.date_columns:
        if name in out.columns:
            out[name] = pd.to_datetime(out[name]).dt.strftime("%Y-%m-%d")
    return out.reset_index(drop=True)
