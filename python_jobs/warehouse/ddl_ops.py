"""Raw tables written by orchestration/observability (execution log, locks, alerts). Owned by ops.

All of them are written by Python (``python_jobs/ops``) except ``pipeline_execution_log``, which
dbt's ``on-run-end`` hook (``macros/ops/log_run_results.sql``) appends to as well. Every table is
append-only except ``pipeline_locks`` (one row per lock key, updated in short transactions under
the warehouse file lock: see ``python_jobs/ops/locks.py``).
"""

from __future__ import annotations

RAW_TABLES: dict[str, str] = {
    # one row per processor / phase / dbt node per run
    "pipeline_execution_log": """
        log_id varchar not null primary key,
        run_id varchar not null,               -- pipeline run (or dbt invocation) id
        correlation_id varchar not null,
        flow varchar not null,                 -- 'daily' | 'backfill' | 'reconcile' | 'dbt'
        game_date date,
        phase varchar not null,                -- 'phase1' .. 'phase6', 'gate', 'train', 'monitoring', ...
        node varchar not null,                 -- step name or dbt unique_id
        node_type varchar not null,            -- 'step' | 'model' | 'test' | 'seed' | 'snapshot' | ...
        started_at timestamptz,
        finished_at timestamptz,
        rows_in bigint,
        rows_out bigint,
        status varchar not null,               -- 'success' | 'error' | 'fail' | 'skipped' | 'warn' | 'pass'
        error_class varchar,
        error_message varchar,
        logged_at timestamptz not null
    """,
    # one row per pipeline run; idempotency_key = sha256(flow, game_date, inputs_hash)
    "pipeline_runs": """
        run_id varchar not null primary key,
        idempotency_key varchar not null,
        flow varchar not null,
        game_date date,
        inputs_hash varchar not null,
        correlation_id varchar not null,
        holder_id varchar not null,
        started_at timestamptz not null,
        finished_at timestamptz,
        status varchar not null,               -- 'running' | 'succeeded' | 'slo_failed' | 'failed'
        error_class varchar,
        error_message varchar
    """,
    # one row per lock key (e.g. 'daily:2025-03-19'); the only raw table that is updated in place
    "pipeline_locks": """
        lock_key varchar not null primary key,
        holder_id varchar not null,
        acquired_at timestamptz not null,
        expires_at timestamptz not null,
        released_at timestamptz,
        taken_over_from varchar
    """,
    # phase completion records per game date (append-only; the latest record per date+phase wins)
    "phase_completions": """
        completion_id varchar not null primary key,
        game_date date not null,
        phase varchar not null,
        run_id varchar not null,
        correlation_id varchar not null,
        status varchar not null,               -- 'complete' | 'incomplete' (written by reconcile)
        row_count bigint,
        recorded_by varchar not null,          -- 'run_day' | 'reconcile'
        note varchar,
        recorded_at timestamptz not null
    """,
    # Phase 1 source waits: one row per source per run (when it was expected, when it arrived)
    "source_waits": """
        run_id varchar not null,
        correlation_id varchar not null,
        game_date date not null,
        source_name varchar not null,
        expected_at timestamptz not null,
        first_checked_at timestamptz not null,
        arrived_at timestamptz,                -- null: missing when the wait ended
        status varchar not null,               -- 'arrived' | 'missing'
        tier varchar not null,                 -- tier under which the run proceeded / gave up
        recorded_at timestamptz not null
    """,
    # alerts raised by the pipeline and the monitoring models (printed and kept here)
    "alerts": """
        alert_id varchar not null primary key,  -- md5(alert_type|subject|game_date): raised once
        run_id varchar not null,               -- the run that first raised it
        correlation_id varchar not null,
        game_date date,
        alert_type varchar not null,           -- 'late_data' | 'missing_source' | 'coverage_slo' | ...
        severity varchar not null,             -- 'warning' | 'error'
        subject varchar not null,
        message varchar not null,
        raised_at timestamptz not null,
        acknowledged_at timestamptz
    """,
}
