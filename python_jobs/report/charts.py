"""Plotly figures for the report, built as plain figure dicts (plotly.js renders them offline).

Figures are written as dicts and rendered with ``plotly.io.to_html(validate=False)``: the same
output as ``go.Figure`` without its per-trace validation cost (there is one figure per player
page). plotly.js itself is written once to ``assets/plotly.min.js`` by the generator.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import pandas as pd
import plotly.io as pio
from plotly.offline import get_plotlyjs

from python_jobs.report.stats import BREAK_EVEN_HIT_RATE

PALETTE = ["#1f6feb", "#d1242f", "#1a7f37", "#9a6700", "#8250df", "#bf3989", "#0a7ea4"]
CONFIG = {"displaylogo": False, "responsive": True, "modeBarButtonsToRemove": ["lasso2d", "select2d"]}
BASE_LAYOUT = {
    "margin": {"l": 55, "r": 20, "t": 40, "b": 45},
    "height": 360,
    "font": {"family": "system-ui, -apple-system, Segoe UI, sans-serif", "size": 12},
    "paper_bgcolor": "#ffffff",
    "plot_bgcolor": "#ffffff",
    "xaxis": {"gridcolor": "#eaeef2", "zeroline": False},
    "yaxis": {"gridcolor": "#eaeef2", "zeroline": False},
    "legend": {"orientation": "h", "y": -0.18},
}


def plotly_js() -> str:
    return get_plotlyjs()


def _clean(values: Sequence[object]) -> list[object]:
    out: list[object] = []
    for v in values:
        if v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NA or v is pd.NaT:
            out.append(None)
        elif hasattr(v, "isoformat"):
            out.append(v.isoformat())
        elif hasattr(v, "item"):
            out.append(v.item())
        else:
            out.append(v)
    return out


def date_axis(dates: Sequence[object]) -> dict:
    """A date x-axis labelled by day (one tick per day when the range is short)."""
    axis: dict = {"type": "date", "tickformat": "%b %d", "hoverformat": "%Y-%m-%d", "gridcolor": "#eaeef2"}
    days = sorted(pd.Timestamp(d) for d in dates if d is not None)
    if days and (days[-1] - days[0]).days <= 14:
        axis["dtick"] = 86400000
    return axis


def to_div(fig: dict, div_id: str) -> str:
    layout = dict(BASE_LAYOUT)
    for key, value in fig.get("layout", {}).items():
        layout[key] = {**layout[key], **value} if isinstance(value, dict) and isinstance(layout.get(key), dict) else value
    return pio.to_html({"data": fig["data"], "layout": layout}, include_plotlyjs=False, full_html=False,
                       div_id=div_id, config=CONFIG, validate=False)


def colour(i: int) -> str:
    return PALETTE[i % len(PALETTE)]


def hit_rate_over_time(cum: pd.DataFrame, title: str) -> dict:
    """Cumulative hit rate per system with its Wilson 95% band, against the break-even line."""
    data: list[dict] = []
    dates: list[object] = []
    for i, (system_id, g) in enumerate(cum.groupby("system_id", sort=True)):
        x = _clean(g["game_date"].tolist())
        dates.extend(x)
        c = colour(i)
        data.append({"type": "scatter", "mode": "lines", "x": x, "y": _clean(g["wilson_high"].tolist()),
                     "line": {"width": 0, "color": c}, "showlegend": False, "hoverinfo": "skip",
                     "legendgroup": system_id})
        data.append({"type": "scatter", "mode": "lines", "x": x, "y": _clean(g["wilson_low"].tolist()),
                     "fill": "tonexty", "fillcolor": _alpha(c, 0.15), "line": {"width": 0, "color": c},
                     "name": f"{system_id} 95% band", "legendgroup": system_id, "hoverinfo": "skip"})
        data.append({"type": "scatter", "mode": "lines+markers", "x": x, "y": _clean(g["hit_rate"].tolist()),
                     "name": system_id, "line": {"color": c, "width": 2}, "marker": {"size": 5},
                     "legendgroup": system_id,
                     "customdata": _clean(g["cum_decided"].tolist()),
                     "hovertemplate": "%{x}<br>hit rate %{y:.1%}<br>bets decided %{customdata}<extra>"
                                      + system_id + "</extra>"})
    if dates:
        d = sorted(x for x in dates if x is not None)
        data.append({"type": "scatter", "mode": "lines", "x": [d[0], d[-1]],
                     "y": [BREAK_EVEN_HIT_RATE, BREAK_EVEN_HIT_RATE], "name": "break-even 52.38% (−110)",
                     "line": {"color": "#57606a", "dash": "dash", "width": 1.5}})
    return {"data": data, "layout": {"title": {"text": title}, "xaxis": date_axis(dates),
                                     "yaxis": {"tickformat": ".0%", "range": [0, 1]}}}


def _alpha(hex_colour: str, a: float) -> str:
    h = hex_colour.lstrip("#")
    r, g, b = (int(h[i:i + 2], 16) for i in (0, 2, 4))
    return f"rgba({r},{g},{b},{a})"


def grouped_bars(frame: pd.DataFrame, x: str, series: Sequence[tuple[str, str]], title: str,
                 yformat: str = "") -> dict:
    """One bar trace per (column, label) over categories ``x``."""
    data = [{"type": "bar", "x": _clean(frame[x].tolist()), "y": _clean(frame[col].tolist()), "name": label,
             "marker": {"color": colour(i)}} for i, (col, label) in enumerate(series)]
    layout: dict = {"title": {"text": title}, "barmode": "group"}
    if yformat:
        layout["yaxis"] = {"tickformat": yformat, "gridcolor": "#eaeef2"}
    return {"data": data, "layout": layout}


def edge_bucket_chart(buckets: pd.DataFrame, title: str) -> dict:
    data: list[dict] = []
    for i, (system_id, g) in enumerate(buckets.groupby("system_id", sort=True)):
        y = g["hit_rate"].tolist()
        err_hi = [(h - r) if not (math.isnan(h) or math.isnan(r)) else None for h, r in zip(g["wilson_high"], y, strict=True)]
        err_lo = [(r - lo) if not (math.isnan(lo) or math.isnan(r)) else None for lo, r in zip(g["wilson_low"], y, strict=True)]
        data.append({"type": "bar", "name": system_id, "x": _clean(g["edge_bucket"].tolist()), "y": _clean(y),
                     "marker": {"color": colour(i)},
                     "error_y": {"type": "data", "symmetric": False, "array": err_hi, "arrayminus": err_lo},
                     "customdata": _clean(g["decided"].tolist()),
                     "hovertemplate": "|edge| %{x}<br>hit rate %{y:.1%}<br>decided %{customdata}<extra>"
                                      + system_id + "</extra>"})
    if data:
        cats = buckets["edge_bucket"].drop_duplicates().tolist()
        data.append({"type": "scatter", "mode": "lines", "x": [cats[0], cats[-1]],
                     "y": [BREAK_EVEN_HIT_RATE, BREAK_EVEN_HIT_RATE], "name": "break-even 52.38%",
                     "line": {"color": "#57606a", "dash": "dash", "width": 1.5}})
    return {"data": data, "layout": {"title": {"text": title}, "barmode": "group",
                                     "xaxis": {"title": {"text": "|edge| (points)"}},
                                     "yaxis": {"tickformat": ".0%", "range": [0, 1], "gridcolor": "#eaeef2"}}}


def calibration_chart(cal: pd.DataFrame, title: str, x: str = "mean_confidence", y: str = "observed") -> dict:
    data: list[dict] = [{"type": "scatter", "mode": "lines", "x": [0.4, 1.0], "y": [0.4, 1.0],
                         "name": "perfect calibration", "line": {"color": "#57606a", "dash": "dot"}}]
    for i, (system_id, g) in enumerate(cal.groupby("system_id", sort=True)):
        sizes = [max(6.0, min(22.0, 4 + math.sqrt(float(n)))) for n in g["n"]] if "n" in g else 8
        data.append({"type": "scatter", "mode": "lines+markers", "name": str(system_id),
                     "x": _clean(g[x].tolist()), "y": _clean(g[y].tolist()),
                     "marker": {"size": sizes, "color": colour(i)}, "line": {"color": colour(i)},
                     "customdata": _clean(g["n"].tolist()) if "n" in g else None,
                     "hovertemplate": "stated %{x:.1%}<br>observed %{y:.1%}<br>n %{customdata}<extra>"
                                      + str(system_id) + "</extra>"})
    return {"data": data, "layout": {"title": {"text": title},
                                     "xaxis": {"title": {"text": "stated probability (confidence / 100)"},
                                               "tickformat": ".0%", "gridcolor": "#eaeef2"},
                                     "yaxis": {"title": {"text": "observed win rate"}, "tickformat": ".0%",
                                               "gridcolor": "#eaeef2"}}}


def coverage_chart(cov: pd.DataFrame, date_col: str, value_col: str, slo: float) -> dict:
    x = _clean(cov[date_col].tolist())
    y = _clean(cov[value_col].tolist())
    colours = ["#d1242f" if (v is not None and v < slo) else "#1a7f37" for v in y]
    data = [{"type": "bar", "x": x, "y": y, "name": "coverage", "marker": {"color": colours},
             "hovertemplate": "%{x}<br>coverage %{y:.1%}<extra></extra>"}]
    if x:
        data.append({"type": "scatter", "mode": "lines", "x": [x[0], x[-1]], "y": [slo, slo],
                     "name": f"SLO {slo:.0%}", "line": {"color": "#57606a", "dash": "dash"}})
    return {"data": data, "layout": {"title": {"text": "Prediction coverage: players predicted / players with a line"},
                                     "xaxis": date_axis(x),
                                     "yaxis": {"tickformat": ".0%", "range": [0, 1.05], "gridcolor": "#eaeef2"}}}


def player_chart(games: pd.DataFrame, preds: pd.DataFrame, player_name: str) -> dict:
    """Actual points per game against the consensus line, and each system's prediction."""
    data: list[dict] = [
        {"type": "scatter", "mode": "lines+markers", "name": "actual points", "x": _clean(games["game_date"].tolist()),
         "y": _clean(games["points"].tolist()), "line": {"color": "#24292f", "width": 2}, "marker": {"size": 7}},
    ]
    lined = games[games["line_points"].notna()]
    data.append({"type": "scatter", "mode": "markers", "name": "consensus line",
                 "x": _clean(lined["game_date"].tolist()), "y": _clean(lined["line_points"].tolist()),
                 "marker": {"symbol": "line-ew-open", "size": 16, "color": "#9a6700", "line": {"width": 3}}})
    for i, (system_id, g) in enumerate(preds.groupby("system_id", sort=True)):
        data.append({"type": "scatter", "mode": "markers", "name": f"{system_id} predicted",
                     "x": _clean(g["game_date"].tolist()), "y": _clean(g["predicted_points"].tolist()),
                     "marker": {"symbol": "diamond", "size": 8, "color": colour(i + 1)}})
    return {"data": data, "layout": {"title": {"text": f"{player_name}: points vs line and predictions"},
                                     "xaxis": date_axis(_clean(games["game_date"].tolist())),
                                     "yaxis": {"title": {"text": "points"}, "rangemode": "tozero",
                                               "gridcolor": "#eaeef2"}}}
