"""scikit-learn's estimator checks on HoldModel and on the registered BandedHoldModel
(numeric arrays; small, fast settings).

Every check applies and passes: no expected failures are declared.
"""

from __future__ import annotations

from sklearn.utils.estimator_checks import parametrize_with_checks

from models.ga2m import HoldModel
from models.uncertainty import BandedHoldModel


@parametrize_with_checks(
    [
        HoldModel(n_seeds=2, max_iter=20, n_threads=1),
        BandedHoldModel(HoldModel(n_seeds=2, max_iter=20, n_threads=1), n_refits=2),
    ]
)
def test_scikit_learn_estimator_checks(estimator, check):
    check(estimator)
