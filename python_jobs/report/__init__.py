"""The daily report: a self-contained static site of picks, performance, players and data health."""

from python_jobs.report.generator import ReportResult, generate_report

__all__ = ["ReportResult", "generate_report"]
