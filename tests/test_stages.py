"""Plain stage functions of the nightly run that the flows wire together."""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipelines.stages import contribution_table


def test_contribution_table_shows_values_as_analysts_read_them():
    features = pd.DataFrame({"improvement_id": ["IMP-1", "IMP-2"]})
    X = pd.DataFrame(
        {
            "agency_shift_share_90d": [0.1780821917808219, np.nan],
            "slips_since_action_count": [2.0, 0.0],
        }
    )
    pair = "agency_shift_share_90d & slips_since_action_count"
    contributions = pd.DataFrame(
        {
            "agency_shift_share_90d": [0.3, -0.1],
            "slips_since_action_count": [-0.2, 0.0],
            pair: [0.05, 0.01],
        }
    )
    table = contribution_table(features, X, contributions).set_index(["improvement_id", "term"])
    assert table.loc[("IMP-1", "agency_shift_share_90d"), "value"] == "18%"
    assert table.loc[("IMP-2", "agency_shift_share_90d"), "value"] == "missing"
    assert table.loc[("IMP-1", pair), "value"] == "18%, 2"
    assert table.loc[("IMP-2", pair), "value"] == "missing, 0"
    assert table.loc[("IMP-1", pair), "contribution"] == 0.05
    assert len(table) == 6
