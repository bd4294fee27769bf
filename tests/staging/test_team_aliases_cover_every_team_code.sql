-- Every code a source uses for a team (nba.com tricode, ESPN-style code, The Odds API name)
-- resolves through team_aliases to that same team: staging joins on team_aliases only.
with

teams as (
    select * from {{ ref('teams') }}
),

team_aliases as (
    select * from {{ ref('team_aliases') }}
),

team_codes as (
    select
        team_id,
        lower(team_tricode) as code
    from teams
    union all
    select
        team_id,
        espn_code as code
    from teams
    union all
    select
        team_id,
        lower(odds_api_team_name) as code
    from teams
    union all
    select
        team_id,
        lower(team_full_name) as code
    from teams
),

final as (
    select
        team_codes.team_id,
        team_codes.code,
        team_aliases.team_id as alias_team_id
    from team_codes
    left join team_aliases
        on team_codes.code = team_aliases.alias
    where team_aliases.team_id is null or team_aliases.team_id != team_codes.team_id
)

select * from final
