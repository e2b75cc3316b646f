"""Team names as each file spells them (imperfect links knob).

Real exports come from several systems: the rota system, the audit tool, the incident system and
the feedback log each spell a team their own way ("Rose Wing", "ROSE WING", "rose wing"), people
typing a row by hand vary it again, and now and then a file uses a short form nobody could join
("Rose"). Obvious variants differ only in letter case, spaces or hyphens: the loader joins them
(`pipelines.io.join_team_variants`); short forms stay apart and are reported.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from simulator.group import Group
from simulator.parameters import Parameters

SPELLED_FILES = ("checks", "feedback", "incidents", "workforce")
HAND_ENTERED = ("checks", "feedback", "incidents")  # rows typed by people, one at a time


def obvious_variants(name: str) -> list[str]:
    """Spellings of `name` that differ only in letter case, spaces or hyphens."""
    return [name.lower(), name.upper(), name.replace(" ", "  "), name.replace(" ", "-")]


def short_form(name: str) -> str:
    """A spelling nobody could join with certainty: the first word only."""
    return name.split()[0] if name else name


class TeamSpellings:
    """Per file, how each team is spelled: the file's own spelling, and obvious variants that
    hand-entered rows use now and then."""

    def __init__(self, group: Group, p: Parameters, rng: np.random.Generator):
        self.group, self.rng, self.row_share = group, rng, p.team_spelling_row_share
        canonical = group.team_name.ravel().astype(str)
        variants = [obvious_variants(n) for n in canonical]
        self.width = 1 + len(variants[0])
        self.tables: dict[str, pa.Array] = {}
        for name in SPELLED_FILES:
            u = rng.random(len(canonical))
            pick = rng.integers(0, self.width - 1, len(canonical))
            own = [
                short_form(n)
                if p.team_spelling_file_share
                <= u[i]
                < p.team_spelling_file_share + p.team_spelling_unjoinable_share
                else (variants[i][pick[i]] if u[i] < p.team_spelling_file_share else n)
                for i, n in enumerate(canonical)
            ]
            rows = [[o, *v] for o, v in zip(own, variants, strict=True)]
            self.tables[name] = pa.array([s for row in rows for s in row])

    def names(self, file: str, loc: np.ndarray, team: np.ndarray) -> pa.Array:
        """The team column of `file` for rows at (service, team slot); -1: no team."""
        index = loc.astype(np.int64) * self.group.max_teams + np.maximum(team, 0)
        variant = np.zeros(len(index), dtype=np.int64)
        if file in HAND_ENTERED and self.row_share > 0:
            typed = self.rng.random(len(index)) < self.row_share
            variant = np.where(typed, self.rng.integers(1, self.width, len(index)), 0)
        taken = self.tables[file].take(pa.array(index * self.width + variant))
        return pc.if_else(pa.array(team >= 0), taken, pa.scalar(None, pa.string()))
