"""Reference lookups for validation and replay (teams from ``seeds/teams.csv``)."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path


@dataclass(frozen=True)
class Team:
    team_id: int
    tricode: str
    city: str
    nickname: str
    full_name: str
    odds_api_name: str
    espn_code: str


@dataclass(frozen=True)
class TeamIndex:
    teams: tuple[Team, ...]

    @property
    def by_id(self) -> dict[int, Team]:
        return {t.team_id: t for t in self.teams}

    @property
    def by_tricode(self) -> dict[str, Team]:
        return {t.tricode: t for t in self.teams}

    @property
    def by_espn(self) -> dict[str, Team]:
        return {t.espn_code: t for t in self.teams}

    @property
    def by_odds_name(self) -> dict[str, Team]:
        return {t.odds_api_name: t for t in self.teams}


@lru_cache(maxsize=4)
def load_teams(home: Path) -> TeamIndex:
    path = Path(home) / "seeds" / "teams.csv"
    with path.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    teams = tuple(
        Team(int(r["team_id"]), r["team_tricode"], r["team_city"], r["team_nickname"], r["team_full_name"],
             r["odds_api_team_name"], r["espn_code"])
        for r in rows
    )
    if len(teams) != 30:
        raise ValueError(f"{path}: expected 30 teams, found {len(teams)}")
    return TeamIndex(teams)
