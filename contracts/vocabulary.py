"""The words takehold's outputs are made of: stages, claim checks, cross-check verdicts.

Declared once here; the rules, the ranking, the report and the tests read them.
"""

from __future__ import annotations

# The rules' stages, in the order of the framework (docs/rules.md).
NOT_STARTED = "not_started"
EMERGING = "emerging"
CONSOLIDATING = "consolidating"
EMBEDDED = "embedded"
SLIPPING = "slipping"
STAGES = (NOT_STARTED, EMERGING, CONSOLIDATING, EMBEDDED, SLIPPING)

# The claim check: what leaders claim against what the evidence shows.
OVERCLAIM = "overclaim"
UNDERCLAIM = "underclaim"
CONSISTENT = "consistent"
NO_CLAIM = "no_claim"
CLAIM_CHECKS = (OVERCLAIM, UNDERCLAIM, CONSISTENT, NO_CLAIM)

# The cross-check of the rules' stage against the model's probability.
AGREE = "agree"
MODEL_MORE_CAUTIOUS = "model_more_cautious"
RULES_MORE_CAUTIOUS = "rules_more_cautious"
CROSS_CHECKS = (AGREE, MODEL_MORE_CAUTIOUS, RULES_MORE_CAUTIOUS)
