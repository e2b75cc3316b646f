"""The governance report: one self-contained HTML file and board-paper tables from a run's
outputs (see docs/report.md)."""

from report.build import build_report

__all__ = ["build_report"]
