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
# Leaders have closed the improvement: monitoring may end, and the claim is not judged as one
# of embedding (a later moderate-or-worse incident of its theme raises "recurrence after
# closure" instead).
CLOSED = "closed"
CLAIM_CHECKS = (OVERCLAIM, UNDERCLAIM, CONSISTENT, NO_CLAIM, CLOSED)

# The cross-check of the rules' stage against the model's probability.
AGREE = "agree"
MODEL_MORE_CAUTIOUS = "model_more_cautious"
RULES_MORE_CAUTIOUS = "rules_more_cautious"
CROSS_CHECKS = (AGREE, MODEL_MORE_CAUTIOUS, RULES_MORE_CAUTIOUS)
