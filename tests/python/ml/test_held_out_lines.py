"""Evaluating on lines the project does not bundle (README "Why there is no fifth method"): land
real Odds API event-odds payloads with ``nba-props import`` next to their season's box scores,
build through Phase 4 and run the backtest over their dates.

The payloads are the two real recorded events of 2024-02-22 in data/api_samples/odds_api (ORL at
CLE, BKN at TOR; 10-12 books each, ladders included), a season whose lines are not in the bundled
2025 window. The oracle reads the same JSON files and the 2023-24 box-score CSV in plain pandas:
a repeated outcome (same book, player, line and side: williamhill_us repeats 14 lines) is not
used, the first one is; each book's main line by the documented rule (the two-sided line with the closest
over/under implied probabilities, then the line nearest the book's median line, then the lower);
the median across books; the player's points that night. Names are matched to the box scores by
hand (NAMES: how the books spell the 11 players whose name differs from nba.com's)."""

from __future__ import annotations

import gzip
import json
from datetime import date

import numpy as np
import pandas as pd
import pytest

from python_jobs.config import PROJECT_ROOT, Settings
from tests.python.conftest import make_settings

GAME_DATE = date(2024, 2, 22)  # US/Eastern: both games tipped at 2024-02-23 00:00 UTC
PAYLOADS = sorted((PROJECT_ROOT / "data/api_samples/odds_api").glob("event_odds_player_points_*.json.gz"))


# the books' spelling -> nba.com's, read off the two files and the box scores by hand
NAMES = {"Bruce Brown Jr": "Bruce Brown", "Cam Johnson": "Cameron Johnson", "Cameron Thomas": "Cam Thomas",
         "Dennis Schroder": "Dennis Schröder", "Dorian Finney Smith": "Dorian Finney-Smith",
         "Gary Trent": "Gary Trent Jr.", "J. Isaac": "Jonathan Isaac", "Lonnie Walker": "Lonnie Walker IV",
         "Nicolas Claxton": "Nic Claxton", "RJ Barrett Jr.": "RJ Barrett", "Wendell Carter": "Wendell Carter Jr."}


def outcomes() -> pd.DataFrame:
    """Every player_points outcome of the two files, in file order."""
    rows = []
    for path in PAYLOADS:
        event = json.loads(gzip.decompress(path.read_bytes()))
        for book in event["bookmakers"]:
            for market in book["markets"]:
                if market["key"] != "player_points":
                    continue
                for o in market["outcomes"]:
                    rows.append({"book": book["key"], "name": o["description"], "side": o["name"],
                                 "line": float(o["point"]), "price": float(o["price"])})
    return pd.DataFrame(rows)


def implied(price: float) -> float:
    return -price / (-price + 100.0) if price < 0 else 100.0 / (price + 100.0)


def oracle_lines() -> pd.DataFrame:
    """player (nba.com name) -> consensus line, by hand from the payload files."""
    df = outcomes().drop_duplicates(["book", "name", "line", "side"], keep="first")
    df["player"] = df["name"].replace(NAMES)
    sides = df.pivot_table(index=["book", "player", "line"], columns="side", values="price", aggfunc="first")
    sides = sides.dropna().reset_index()  # two-sided lines only
    sides["gap"] = (sides["Over"].map(implied) - sides["Under"].map(implied)).abs()
    book_median = df.groupby(["book", "player"])["line"].median().rename("book_median")
    sides = sides.join(book_median, on=["book", "player"])
    sides["to_median"] = (sides["line"] - sides["book_median"]).abs()
    main = sides.sort_values(["gap", "to_median", "line"]).groupby(["book", "player"], as_index=False).first()
    return main.groupby("player", as_index=False)["line"].median().rename(columns={"line": "consensus"})


@pytest.fixture(scope="module")
def held_out(tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, object, dict]:
    from python_jobs.dbt_runner import run_dbt
    from python_jobs.importer import import_paths
    from python_jobs.ingest import ingest_history
    from python_jobs.ml.backtest import backtest

    settings = make_settings(tmp_path_factory.mktemp("held_out_lines"))
    ingest_history(settings, seasons=["2023-24"], until=GAME_DATE)  # box scores through the date, no lines
    report = import_paths(settings, PAYLOADS)
    run_dbt(["build", "--selector", "through_phase4"], settings)
    result = backtest(settings, GAME_DATE, GAME_DATE, include_predictions=True)
    return settings, report, result


@pytest.mark.timeout(600)
def test_imported_lines_of_another_season_are_backtested_against_a_hand_oracle(held_out):
    _, report, result = held_out
    assert len(PAYLOADS) == 2
    assert report.status == "ok" and [f.status for f in report.files] == ["landed", "landed"]
    repeated = outcomes().loc[lambda d: d.duplicated(["book", "name", "line", "side"])]
    assert len(repeated) == 28 and set(repeated["book"]) == {"williamhill_us"}
    # one record is one line (its Over and Under): the 14 repeated pairs are quarantined, nothing else
    assert sum(f.quarantined for f in report.files) == len(repeated) // 2
    assert all(f.valid > 0 for f in report.files)

    lines = oracle_lines()
    box = pd.read_csv(PROJECT_ROOT / "data/boxscores/player_logs_2023-24.csv.gz",
                      usecols=["PLAYER_ID", "PLAYER_NAME", "GAME_DATE", "PTS"])
    box = box.loc[box["GAME_DATE"] == GAME_DATE.isoformat()]
    box["player"] = box["PLAYER_NAME"]
    expected = lines.merge(box, on="player", how="inner", validate="one_to_one")
    assert len(expected) == len(lines)  # every lined player played that night

    rows = pd.DataFrame(result["predictions"])
    market = rows.loc[rows["system_id"] == "market_residual_v1"].merge(
        expected, left_on="player_id", right_on="PLAYER_ID", how="outer", validate="one_to_one", indicator=True)
    assert (market["_merge"] == "both").all(), market.loc[market["_merge"] != "both", ["player_id", "player"]]
    assert (market["grade_status"] == "graded").all()
    assert np.allclose(market["line_points"], market["consensus"])
    assert np.array_equal(market["actual_points"].astype(float), market["PTS"].astype(float))
    # no lined history before the date: the market system's forecast is the line itself
    assert np.allclose(market["predicted_points"], market["consensus"])

    line_mae = float((expected["PTS"] - expected["consensus"]).abs().mean())
    for system_id, figures in result["systems"].items():
        graded = rows.loc[(rows["system_id"] == system_id) & (rows["grade_status"] == "graded")]
        assert figures["overall"]["mae_line"] == pytest.approx(line_mae, abs=5e-4), system_id
        model_mae = float((graded["actual_points"] - graded["predicted_points"]).abs().mean())
        assert figures["overall"]["mae_model"] == pytest.approx(model_mae, abs=5e-4), system_id
    assert result["systems"]["market_residual_v1"]["overall"]["mae_model"] == pytest.approx(line_mae, abs=5e-4)
