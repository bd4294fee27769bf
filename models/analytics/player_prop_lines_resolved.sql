{{ config(materialized='table') }}

{#- Every staged prop line with the nba.com player_id its free-text name resolves to (null when
    unresolved: the line is kept, and its name is counted in unresolved_prop_player_names).
    Set-based, in priority order, per (name, game date, game teams):
      1 alias_seed                     the normalised name is in seeds/player_aliases.csv
      2 name_and_team_context          exactly one player with that normalised name was on one of
                                       the game's two teams around the date (player_team_stints)
      3 name_unique_in_season          exactly one player with that name played within a year
                                       before the date or is on the current registry
      4 team_context_first_name_prefix one player of the two teams has the same last name and a
                                       first name that starts the other (Cam / Cameron) -#}

with

prop_lines as (
    select * from {{ ref('stg_odds__player_prop_lines') }}
),

stints as (
    select * from {{ ref('player_team_stints') }}
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

known_names as (
    select distinct
        player_id,
        {{ normalize_player_name('player_name') }} as name_normalized
    from stints

    union

    select distinct
        player_id,
        {{ normalize_player_name('player_name') }} as name_normalized
    from registry
),

known_names_split as (
    select
        player_id,
        name_normalized,
        {{ dbt.split_part('name_normalized', "' '", 1) }} as first_name,
        {{ regexp_replace_all('name_normalized', "'^.* '", "''") }} as last_name
    from known_names
),

-- every stint that covers the game date for one of the game's two teams
context_rosters as (
    select
        line_contexts.player_name_raw,
        line_contexts.game_date,
        line_contexts.home_team_id,
        line_contexts.away_team_id,
        stints.player_id,
        stints.team_id
    from line_contexts
    inner join stints
        on
            (stints.team_id = line_contexts.home_team_id or stints.team_id = line_contexts.away_team_id)
            and line_contexts.game_date between stints.stint_start_date and stints.stint_end_date
),

alias_matches as (
    select
        line_contexts.player_name_raw,
        line_contexts.game_date,
        line_contexts.home_team_id,
        line_contexts.away_team_id,
        aliases.player_id,
        1 as method_priority,
        'alias_seed' as resolution_method
    from line_contexts
    inner join aliases
        on line_contexts.player_name_normalized = aliases.alias_name_normalized
),

team_context_matches as (
    select
        line_contexts.player_name_raw,
        line_contexts.game_date,
        line_contexts.home_team_id,
        line_contexts.away_team_id,
        min(context_rosters.player_id) as player_id,
        2 as method_priority,
        'name_and_team_context' as resolution_method
    from line_contexts
    inner join context_rosters
        on
            line_contexts.player_name_raw = context_rosters.player_name_raw
            and line_contexts.game_date = context_rosters.game_date
            and line_contexts.home_team_id = context_rosters.home_team_id
            and line_contexts.away_team_id = context_rosters.away_team_id
    inner join known_names
        on
            context_rosters.player_id = known_names.player_id
            and line_contexts.player_name_normalized = known_names.name_normalized
    group by 1, 2, 3, 4
    having count(distinct context_rosters.player_id) = 1
),

recently_active as (
    select distinct
        line_contexts.player_name_raw,
        line_contexts.game_date,
        line_contexts.home_team_id,
        line_contexts.away_team_id,
        known_names.player_id
    from line_contexts
    inner join known_names
        on line_contexts.player_name_normalized = known_names.name_normalized
    left join stints
        on
            known_names.player_id = stints.player_id
            and stints.stint_last_game_date >= cast({{ dbt.dateadd('day', -365, 'line_contexts.game_date') }} as date)
            and stints.stint_start_date <= line_contexts.game_date
    left join registry
        on
            known_names.player_id = registry.player_id
            and registry.roster_status = 1
    where stints.player_id is not null or registry.player_id is not null
),

season_unique_matches as (
    select
        player_name_raw,
        game_date,
        home_team_id,
        away_team_id,
        min(player_id) as player_id,
        3 as method_priority,
        'name_unique_in_season' as resolution_method
    from recently_active
    group by 1, 2, 3, 4
    having count(distinct player_id) = 1
),

prefix_matches as (
    select
        line_contexts.player_name_raw,
        line_contexts.game_date,
        line_contexts.home_team_id,
        line_contexts.away_team_id,
        min(context_rosters.player_id) as player_id,
        4 as method_priority,
        'team_context_first_name_prefix' as resolution_method
    from line_contexts
    inner join context_rosters
        on
            line_contexts.player_name_raw = context_rosters.player_name_raw
            and line_contexts.game_date = context_rosters.game_date
            and line_contexts.home_team_id = context_rosters.home_team_id
            and line_contexts.away_team_id = context_rosters.away_team_id
    inner join known_names_split
        on context_rosters.player_id = known_names_split.player_id
    where
        {{ regexp_replace_all('line_contexts.player_name_normalized', "'^.* '", "''") }} = known_names_split.last_name
        and (
            {{ dbt.position(dbt.split_part('line_contexts.player_name_normalized', "' '", 1), 'known_names_split.first_name') }} = 1
            or {{ dbt.position('known_names_split.first_name', dbt.split_part('line_contexts.player_name_normalized', "' '", 1)) }} = 1
        )
    group by 1, 2, 3, 4
    having count(distinct context_rosters.player_id) = 1
),

all_matches as (
    select * from alias_matches
    union all
    select * from team_context_matches
    union all
    select * from season_unique_matches
    union all
    select * from prefix_matches
),

best_matches as (
    select *
    from all_matches
    qualify row_number() over (
        partition by player_name_raw, game_date, home_team_id, away_team_id
        order by method_priority
    ) = 1
),

-- the resolved player's team in this game, when he was on one of the two teams around the date
resolved_teams as (
    select
        best_matches.player_name_raw,
        best_matches.game_date,
        best_matches.home_team_id,
        best_matches.away_team_id,
        min(context_rosters.team_id) as resolved_team_id
    from best_matches
    inner join context_rosters
        on
            best_matches.player_name_raw = context_rosters.player_name_raw
            and best_matches.game_date = context_rosters.game_date
            and best_matches.home_team_id = context_rosters.home_team_id
            and best_matches.away_team_id = context_rosters.away_team_id
            and best_matches.player_id = context_rosters.player_id
    group by 1, 2, 3, 4
),

final as (
    select
        -- ids
        prop_lines.prop_line_id,
        prop_lines.event_id,
        best_matches.player_id,
        resolved_teams.resolved_team_id,
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
    left join resolved_teams
        on
            prop_lines.player_name_raw = resolved_teams.player_name_raw
            and prop_lines.game_date = resolved_teams.game_date
            and prop_lines.home_team_id = resolved_teams.home_team_id
            and prop_lines.away_team_id = resolved_teams.away_team_id
)

select * from final
