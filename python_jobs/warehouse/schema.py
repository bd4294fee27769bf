"""DDL of the raw layer written by the Python jobs (Phase 1) and read by dbt as sources.

This file is the contract between Phase 1 (python_jobs) and Phase 2 (models/staging). Raw tables
are append-only: rows are never updated or deleted by the loaders. Every record row points back to
the payload it came from (``payload_id``) and the scrape run that fetched it (``scrape_run_id``).

All timestamps are ``timestamp with time zone`` in UTC. A game date is the US/Eastern date.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from python_jobs.warehouse.base import Warehouse

RAW_SCHEMA = "raw"

# name -> column DDL. Order matters only for readability.
RAW_TABLES: dict[str, str] = {
    # one row per scrape/import run
    "scrape_runs": """
        scrape_run_id varchar not null primary key,
        correlation_id varchar not null,
        command varchar not null,              -- e.g. 'ingest', 'land-day', 'import'
        transport varchar not null,            -- 'replay' | 'live' | 'file'
        started_at timestamptz not null,
        finished_at timestamptz,
        status varchar not null,               -- 'running' | 'ok' | 'partial' | 'failed'
        n_payloads integer,
        n_records_valid bigint,
        n_records_quarantined bigint,
        error_class varchar,
        error_message varchar
    """,
    # one row per fetched payload; body stored unchanged (null when identical content was
    # already landed for the same source/endpoint/params: see duplicate_of_payload_id)
    "landed_payloads": """
        payload_id varchar not null primary key,
        scrape_run_id varchar not null,
        correlation_id varchar not null,
        source varchar not null,               -- 'stats_nba' | 'nba_cdn' | 'odds_api'
        endpoint varchar not null,             -- e.g. 'leaguegamelog', 'scoreboardv2', 'event_odds'
        params_json varchar not null,          -- canonical JSON (sorted keys) of the request params
        scraped_at timestamptz not null,
        sha256 varchar not null,
        byte_size bigint not null,
        body blob,                             -- the payload bytes as received, compressed (body_encoding)
        body_encoding varchar,                 -- 'gzip' (python_jobs.landing.read_body decodes); null when body is null
        duplicate_of_payload_id varchar,
        origin varchar                         -- URL, replay file or imported file path
    """,
    # LeagueGameLog (PlayerOrTeam=P) records that passed validation
    "nba_player_game_logs": """
        payload_id varchar not null,
        scrape_run_id varchar not null,
        scraped_at timestamptz not null,
        record_index integer not null,
        season_id varchar not null,            -- e.g. '22024' (first digit: season type)
        player_id bigint not null,
        player_name varchar not null,
        team_id bigint not null,
        team_abbreviation varchar not null,
        team_name varchar,
        game_id varchar not null,              -- 10-char text with leading zeros
        game_date date not null,               -- US/Eastern date as published by stats.nba.com
        matchup varchar not null,              -- 'DAL vs. UTA' (home) / 'DAL @ UTA' (away)
        wl varchar,
        minutes double,
        points integer not null,
        fgm integer, fga integer, fg_pct double,
        fg3m integer, fg3a integer, fg3_pct double,
        ftm integer, fta integer, ft_pct double,
        oreb integer, dreb integer, reb integer,
        ast integer, stl integer, blk integer, tov integer, pf integer,
        plus_minus double,
        fantasy_pts double,
        video_available integer
    """,
    # scheduled games: ScoreboardV2 GameHeader rows and cdn scheduleLeagueV2 games
    "nba_schedule_games": """
        payload_id varchar not null,
        scrape_run_id varchar not null,
        scraped_at timestamptz not null,
        record_index integer not null,
        game_id varchar not null,
        season varchar,                        -- '2024-25'
        season_type varchar,                   -- 'Regular Season' | 'Preseason' | 'Playoffs' | 'PlayIn' | ...
        game_date date not null,               -- US/Eastern date
        tip_at timestamptz,                    -- UTC tip time when the source has it
        home_team_id bigint,
        away_team_id bigint,
        home_team_tricode varchar not null,
        away_team_tricode varchar not null,
        game_status integer,                   -- 1 scheduled, 2 live, 3 final
        arena_name varchar
    """,
    # CommonAllPlayers rows (player registry source)
    "nba_players": """
        payload_id varchar not null,
        scrape_run_id varchar not null,
        scraped_at timestamptz not null,
        record_index integer not null,
        player_id bigint not null,
        display_first_last varchar not null,
        display_last_comma_first varchar,
        roster_status integer,
        from_year integer,
        to_year integer,
        player_slug varchar,
        team_id bigint,
        team_abbreviation varchar
    """,
    # The Odds API v4 player prop outcomes, Over/Under paired into one row per line
    "odds_player_props": """
        payload_id varchar not null,
        scrape_run_id varchar not null,
        scraped_at timestamptz not null,
        record_index integer not null,
        event_id varchar not null,
        sport_key varchar not null,
        commence_time timestamptz,             -- null when the source does not know the tip time
        home_team varchar not null,            -- full team name as The Odds API writes it
        away_team varchar not null,
        bookmaker_key varchar not null,
        bookmaker_title varchar,
        market_key varchar not null,           -- 'player_points'
        market_last_update timestamptz,
        snapshot_at timestamptz,               -- historical endpoint 'timestamp' (null for live odds)
        captured_at timestamptz not null,      -- snapshot_at, else market_last_update, else scraped_at
        player_name varchar not null,          -- outcome 'description' as given
        line_points double not null,
        over_price integer,                    -- American odds; null when that side is not offered
        under_price integer
    """,
    # every record or payload that failed validation, with its reason
    "quarantine": """
        quarantine_id varchar not null primary key,
        payload_id varchar,                    -- null when the payload could not be landed at all
        scrape_run_id varchar not null,
        source varchar,
        endpoint varchar,
        record_kind varchar not null,          -- 'payload' or the target raw table name
        record_index integer,
        reason_code varchar not null,          -- machine-readable, e.g. 'null_odds', 'negative_points'
        reason varchar not null,               -- human-readable
        record_json varchar,
        quarantined_at timestamptz not null
    """,
}


def all_raw_tables() -> dict[str, str]:
    """Phase 1 tables plus the ones other areas declare in their own DDL modules."""
    from python_jobs.warehouse import ddl_corrections, ddl_ml, ddl_ops

    return {**RAW_TABLES, **ddl_ml.RAW_TABLES, **ddl_ops.RAW_TABLES, **ddl_corrections.RAW_TABLES}


def ensure_raw_schema(con: Warehouse) -> None:
    """Create the raw schema and tables if they do not exist (idempotent)."""
    con.execute(f"create schema if not exists {RAW_SCHEMA}")
    for name, columns in all_raw_tables().items():
        con.execute(f"create table if not exists {RAW_SCHEMA}.{name} ({columns})")
