"""Raw tables of the history-protection area (issue #11): payload retractions (append-only)."""

from __future__ import annotations

RAW_TABLES: dict[str, str] = {
    # a landed payload an operator retracted (`nba-props retract`): staging leaves its records out;
    # append-only, nothing is deleted from raw
    "payload_retractions": """
        retraction_id varchar not null primary key,
        payload_id varchar not null,
        reason varchar not null,
        retracted_by varchar not null,         -- the command / operator that retracted it
        retracted_at timestamptz not null
    """,
}
