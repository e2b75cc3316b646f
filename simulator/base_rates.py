"""The simulated group's base rates, in the terms of the published figures they follow.

- CQC, "The state of adult social care services 2014 to 2017" (the first full round of
  inspections): of services rated Requires Improvement and re-inspected, 38% were still Requires
  Improvement and 5% had fallen to Inadequate (so 57% improved); 26% of services rated Good were
  rated lower at re-inspection.
- NHS Institute for Innovation and Improvement, "Sustainability Model and Guide" (2010): "up to
  70%" of organisational change is not sustained.

Re-inspection of a service that Requires Improvement came about a year after the rating, and of
a Good service one to two years after; so the matching rates here are read from the latent
state (the ground truth's month-end rows) 12 and 24 months after an improvement was identified.
"""

from __future__ import annotations

import pandas as pd

PUBLISHED = {
    "improved_by_12_months": (0.57, "CQC 2014-2017: Requires Improvement re-inspected, improved"),
    "worse_than_before_at_12_months": (0.05, "CQC 2014-2017: fell to Inadequate"),
    "lost_by_24_months": (0.26, "CQC 2014-2017: Good rated lower at re-inspection"),
    "not_sustained_by_24_months": (0.70, 'NHS Sustainability Model: "up to 70%" not sustained'),
}


def base_rates(truth: pd.DataFrame) -> dict[str, float]:
    """Rates over improvements identified at least 24 months before the truth's last date and
    acted on within 12 months (truth at every month-end: `simulate_group` with the default
    `truth_as_of`).

    improved_by_12_months: latent compliance at or above the standard 12 months on;
    worse_than_before_at_12_months: 12 months on, below where it was when identified;
    lost_by_24_months: of those improved by 12 months, below the standard again at 24;
    not_sustained_by_24_months: of those that reached the standard in some month of the first
    12, below it at 24 months.
    """
    rows = truth[["improvement_id", "as_of", "latent_compliance", "standard", "action_started"]]
    first = rows.groupby("improvement_id")["as_of"].transform("min")
    months = (rows["as_of"].dt.to_period("M") - first.dt.to_period("M")).map(lambda d: d.n)
    wide = (
        rows.assign(months=months.to_numpy())
        .pivot_table(index="improvement_id", columns="months", values="latent_compliance")
        .reindex(columns=range(0, 25))
    )
    standard = rows.groupby("improvement_id")["standard"].first()
    acted = rows[months.to_numpy() == 12].set_index("improvement_id")["action_started"]
    followed = wide[24].notna() & acted.reindex(wide.index, fill_value=False)
    wide, standard = wide[followed], standard.reindex(wide.index)[followed]
    at = wide.ge(standard, axis=0)
    improved = at[12]
    reached = at.loc[:, 1:12].any(axis=1)
    return {
        "improvements": int(len(wide)),
        "improved_by_12_months": float(improved.mean()),
        "worse_than_before_at_12_months": float((wide[12] < wide[0]).mean()),
        "lost_by_24_months": float((~at[24])[improved].mean()),
        "not_sustained_by_24_months": float((~at[24])[reached].mean()),
    }
