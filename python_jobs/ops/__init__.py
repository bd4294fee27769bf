"""Orchestration and observability: locks, execution log, tiered source waits, idempotency keys,
alerts, trace, status and reconcile. The daily pipeline itself is ``python_jobs.pipeline``."""
