{{
    config(
        materialized='incremental',
        incremental_strategy='merge',
        incremental_predicates=incremental_window_predicates('game_date'),
        unique_key='prop_line_id',
        on_schema_change='append_new_columns',
    )
}}

{#- Every staged prop line with the nba.com player_id its free-text name resolves to (null when
    unresolved: the line is kept, and its name is counted in unresolved_prop_player_names).
    Set-based, as known before the game: a candidate player's team is the team of his last box
    score strictly before the line's date (within a year), or his registry team when he has none.
    Per (name, game date, game teams), the first rule that gives exactly one player wins:
      1 alias_seed                      the normalised name is in seeds/player_aliases.csv
      2 name_and_team_context           one player with that normalised name is on one of the
                                        game's two teams
      3 name_unique_recently_active     one player with that name played within 365 days before
                                        the date or is on the current registry
      4 team_context_first_name_prefix  one player of the two teams has the same last name and a
                                        first name that starts the other ('cam' / 'cameron')
    Known names: every name a player played under (player_season_summary) and the registry's.
    Incremental: lines staged after this table's newest scraped_at are resolved and merged; the box
    scores are read from 365 days before their earliest date. -#}

with

prop_lines as (
    select * from {{ ref('stg_odds__player_prop_lines') }}
    {% if is_incremental() %}
        where scraped_at > (select max(already_resolved.scraped_at) from {{ this }} as already_resolved)
    {% endif %}
),

line_bounds as (
    -- a constant for the scan of the box scores: the candidates' last games are within 365 days
    -- before the earliest line date (an expression of a subquery is not pushed down to it)
    select cast({{ dbt.dateadd('day', -365, 'min(prop_lines.game_date)') }} as date) as games_from_date
    from prop_lines
),

recent_games as (
    select * from {{ ref('player_game_summary') }}
    where game_date >= (select line_bounds.games_from_date from line_bounds)
),

registry as (
    select * from {{ ref('stg_nba__players') }}
),

aliases as (
    select * from {{ ref('player_aliases') }}
),

line_contexts as (
    select distinct
        player_name_raw,
        {{ normalize_player_name('player_name_raw') }} as player_name_normalized,
        game_date,
        home_team_id,
        away_team_id
    from prop_lines
),

line_contexts_split as (
    select
        line_contexts.*,
        {{ dbt.split_part('player_name_normalized', "' '", 1) }} as first_name,
        {{ regexp_replace_all('player_name_normalized', "'^.* '", "''") }} as last_name
    from line_contexts
),

distinct_names as (
    -- every name a player played under (one row per player, season and name: not the box scores)
    select distinct
        player_id,
        player_name
    from {{ ref('player_season_summary') }}

    union distinct

    select distinct
        player_id,
        player_name
    from registry
),

known_names as (
    select distinct
        player_id,
        {{ normalize_player_name('player_name') }} as name_normalized
    from distinct_names
),

known_names_split as (
    select
        player_id,
        name_normalized,
        {{ dbt.split_part('name_normalized', "' '", 1) }} as first_name,
        {{ regexp_replace_all('name_normalized', "'^.* '", "''") }} as last_name
    from known_names
),

-- every player a line's name could mean, with how the name matched
name_candidates as (
    select
        line_contexts_split.player_name_raw,
        line_contexts_split.game_date,
        line_contexts_split.home_team_id,
        line_contexts_split.away_team_id,
        aliases.player_id,
        'alias' as match_kind
    from line_contexts_split
    inner join aliases
        on line_contexts_split.player_name_normalized = aliases.alias_name_normalized

    union distinct

    select
        line_contexts_split.player_name_raw,
        line_contexts_split.game_date,
        line_contexts_split.home_team_id,
        line_contexts_split.away_team_id,
        known_names_split.player_id,
        case
            when line_contexts_split.player_name_normalized = known_names_split.name_normalized then 'exact'
            else 'prefix'
        end as match_kind
    from line_contexts_split
    inner join known_names_split
        on
            line_contexts_split.last_name = known_names_split.last_name
            and (
                line_contexts_split.player_name_normalized = known_names_split.name_normalized
                or {{ dbt.position('line_contexts_split.first_name', 'known_names_split.first_name') }} = 1
                or {{ dbt.position('known_names_split.first_name', 'line_contexts_split.first_name') }} = 1
            )
),

-- the candidate's last box score strictly before the line's date (within 365 days)
candidate_last_games as (
    select
        name_candidates.player_name_raw,
        name_candidates.game_date,
        name_candidates.home_team_id,
        name_candidates.away_team_id,
        name_candidates.player_id,
        recent_games.team_id as last_team_id
    from name_candidates
    inner join recent_games
        on
            name_candidates.player_id = recent_games.player_id
            and name_candidates.game_date > recent_games.game_date
            and recent_games.game_date >= cast({{ dbt.dateadd('day', -365, 'name_candidates.game_date') }} as date)
    qualify row_number() over (
        partition by
            name_candidates.player_name_raw,
            name_candidates.game_date,
            name_candidates.home_team_id,
            name_candidates.away_team_id,
            name_candidates.player_id
        order by recent_games.game_date desc, recent_games.game_id desc
    ) = 1
),

candidates as (
    select
        name_candidates.*,
        coalesce(candidate_last_games.last_team_id, registry.team_id) as candidate_team_id,
        candidate_last_games.player_id is not null
        or coalesce(registry.roster_status = 1, false) as is_recently_active
    from name_candidates
    left join candidate_last_games
        on
            name_candidates.player_name_raw = candidate_last_games.player_name_raw
            and name_candidates.game_date = candidate_last_games.game_date
            and name_candidates.home_team_id = candidate_last_games.home_team_id
            and name_candidates.away_team_id = candidate_last_games.away_team_id
            and name_candidates.player_id = candidate_last_games.player_id
    left join registry
        on name_candidates.player_id = registry.player_id
),

scored_candidates as (
    select
        candidates.*,
        coalesce(
            candidates.candidate_team_id in (candidates.home_team_id, candidates.away_team_id), false
        ) as is_in_team_context,
        case
            when candidates.match_kind = 'alias' then 1
            when
                candidates.match_kind = 'exact'
                and candidates.candidate_team_id in (candidates.home_team_id, candidates.away_team_id)
                then 2
            when candidates.match_kind = 'exact' and candidates.is_recently_active then 3
            when
                candidates.match_kind = 'prefix'
                and candidates.candidate_team_id in (candidates.home_team_id, candidates.away_team_id)
                then 4
        end as method_priority
    from candidates
),

-- per line context, the best rule that matched, kept only when it names exactly one player
best_rules as (
    select
        player_name_raw,
        game_date,
        home_team_id,
        away_team_id,
        method_priority,
        min(player_id) as player_id,
        count(distinct player_id) as n_players
    from scored_candidates
    where method_priority is not null
    group by 1, 2, 3, 4, 5
    qualify row_number() over (
        partition by player_name_raw, game_date, home_team_id, away_team_id
        order by method_priority
    ) = 1
),

best_matches as (
    select
        best_rules.player_name_raw,
        best_rules.game_date,
        best_rules.home_team_id,
        best_rules.away_team_id,
        best_rules.player_id,
        case best_rules.method_priority
            when 1 then 'alias_seed'
            when 2 then 'name_and_team_context'
            when 3 then 'name_unique_recently_active'
            when 4 then 'team_context_first_name_prefix'
        end as resolution_method,
        case
            when scored_candidates.is_in_team_context then scored_candidates.candidate_team_id
        end as resolved_team_id
    from best_rules
    left join scored_candidates
        on
            best_rules.player_name_raw = scored_candidates.player_name_raw
            and best_rules.game_date = scored_candidates.game_date
            and best_rules.home_team_id = scored_candidates.home_team_id
            and best_rules.away_team_id = scored_candidates.away_team_id
            and best_rules.player_id = scored_candidates.player_id
            and best_rules.method_priority = scored_candidates.method_priority
    where best_rules.n_players = 1
),

final as (
    select
        -- ids
        prop_lines.prop_line_id,
        prop_lines.event_id,
        best_matches.player_id,
        best_matches.resolved_team_id,
        prop_lines.home_team_id,
        prop_lines.away_team_id,
        prop_lines.source_payload_id,

        -- strings
        prop_lines.player_name_raw,
        line_contexts.player_name_normalized,
        coalesce(best_matches.resolution_method, 'unresolved') as resolution_method,
        prop_lines.home_team_tricode,
        prop_lines.away_team_tricode,
        prop_lines.bookmaker_key,
        prop_lines.market_key,

        -- booleans
        best_matches.player_id is not null as is_resolved,
        prop_lines.is_two_sided,
        prop_lines.is_main_line,

        -- dates
        prop_lines.game_date,

        -- numerics
        prop_lines.line_points,
        prop_lines.over_price,
        prop_lines.under_price,
        prop_lines.over_implied_probability,
        prop_lines.under_implied_probability,

        -- timestamps
        prop_lines.captured_at,
        prop_lines.scraped_at
    from prop_lines
    inner join line_contexts
        on
            prop_lines.player_name_raw = line_contexts.player_name_raw
            and prop_lines.game_date = line_contexts.game_date
            and prop_lines.home_team_id is not distinct from line_contexts.home_team_id
            and prop_lines.away_team_id is not distinct from line_contexts.away_team_id
    left join best_matches
        on
            prop_lines.player_name_raw = best_matches.player_name_raw
            and prop_lines.game_date = best_matches.game_date
            and prop_lines.home_team_id = best_matches.home_team_id
            and prop_lines.away_team_id = best_matches.away_team_id
)

select * from final
