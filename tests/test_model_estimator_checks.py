"""scikit-learn's estimator checks on HoldModel (numeric arrays; small, fast settings).

Every check applies and passes: no expected failures are declared.
"""

from __future__ import annotations

from sklearn.utils.estimator_checks import parametrize_with_checks

from models.ga2m import HoldModel


@parametrize_with_checks([HoldModel(n_seeds=2, max_iter=20, n_threads=1)])
def test_scikit_learn_estimator_checks(estimator, check):
    check(estimator)
