"""Fixtures shared by the whole test suite."""

from servers import servers  # noqa: F401  (session fixture: PostgreSQL, MLflow and Prefect servers)
