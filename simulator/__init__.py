"""The demo provider-group simulator: realistic evidence exports with known ground truth.

`simulate_group` draws a fictional provider group and its evidence month by month from a
latent story of adoption, embedding and slipping (docs/simulator.md); `write_simulation`
writes the export and, beside it and never inside it, the ground truth.
"""

from simulator.core import Simulation, simulate_group, write_simulation

__all__ = ["Simulation", "simulate_group", "write_simulation"]
