"""Action features: what the improvement plan has done by as_of (contract v2 `actions`).

Actions are activity, not evidence: the rules use them to say "actions completed, no evidence
yet" or "immediate controls done, embedding not yet shown in practice", and the hold model
never reads them. An action counts at as_of only as far as its dates allow: planned on or
before as_of; completed when completed_on is on or before as_of (a later completion date is
information from the future). NaN without an actions file.
"""

from __future__ import annotations

import numpy as np

from features.evidence import AsOfView
from features.panels import group_max, group_sum

NAMES = (
    "immediate_controls_completed_count",
    "immediate_controls_open_count",
    "days_since_immediate_controls_completed",
    "embedding_actions_completed_count",
    "embedding_actions_open_count",
    "embedding_actions_overdue_count",
)


def action_features(view: AsOfView) -> dict[str, np.ndarray]:
    """Every action feature (features.columns), one value per improvement."""
    count = len(view.evidence.improvements)
    actions = view.evidence.actions
    if actions is None:
        return {name: np.full(count, np.nan) for name in NAMES}
    planned = actions[actions["planned"].to_numpy() <= view.day]
    improvement = planned["improvement"].to_numpy()
    immediate = planned["immediate"].to_numpy() == 1.0
    completed_day = planned["completed"].to_numpy()
    done = completed_day <= view.day  # NaN (not completed) compares False
    overdue = ~done & (planned["due"].to_numpy() < view.day)

    def counted(mask: np.ndarray) -> np.ndarray:
        return group_sum(improvement, mask, count)

    latest_control = group_max(
        improvement[immediate & done], completed_day[immediate & done], count
    )
    return {
        "immediate_controls_completed_count": counted(immediate & done),
        "immediate_controls_open_count": counted(immediate & ~done),
        "days_since_immediate_controls_completed": view.day - latest_control,
        "embedding_actions_completed_count": counted(~immediate & done),
        "embedding_actions_open_count": counted(~immediate & ~done),
        "embedding_actions_overdue_count": counted(~immediate & overdue),
    }
