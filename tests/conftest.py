"""Fixtures shared by the whole test suite."""

import pytest
from servers import servers  # noqa: F401  (session fixture: PostgreSQL, MLflow and Prefect servers)


@pytest.fixture(scope="session")
def harness():
    """One Prefect test server for the whole session (STACK_NOTES: one harness per session)."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=180):
        yield
