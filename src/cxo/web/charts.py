"""Plotly figures for pages, rendered by the browser from the plotly package's own bundled JS.

Pages embed a figure as JSON in a ``data-plotly`` attribute; ``static/cxo-charts.js`` draws every such
element. No inline script is needed, so the Content-Security-Policy can forbid inline scripts.
"""

from __future__ import annotations

from collections.abc import Sequence

import plotly.graph_objects as go

FONT = "system-ui, -apple-system, 'Segoe UI', 'PingFang SC', 'Noto Sans CJK SC', 'Microsoft YaHei', sans-serif"


def bar_chart(*, labels: Sequence[str], values: Sequence[float], title: str, y_title: str) -> str:
    """A titled bar chart with value labels, as Plotly JSON."""
    fig = go.Figure(
        go.Bar(
            x=list(labels),
            y=list(values),
            text=[f"{v:,.0f}" for v in values],
            textposition="outside",
            marker_color="#0b5cad",
            hovertemplate="%{x}: %{y:,}<extra></extra>",
        )
    )
    fig.update_layout(
        title={"text": title, "x": 0, "font": {"size": 16}} if title else None,
        yaxis={"title": {"text": y_title}, "rangemode": "tozero", "gridcolor": "#e6e9ef"},
        margin={"l": 60, "r": 20, "t": 50 if title else 20, "b": 40},
        height=320,
        paper_bgcolor="white",
        plot_bgcolor="white",
        font={"family": FONT, "size": 13, "color": "#1d2330"},
    )
    return str(fig.to_json())


def line_chart(
    *,
    x: Sequence[str],
    series: Sequence[tuple[str, Sequence[float]]],
    title: str,
    y_title: str,
) -> str:
    """A titled line chart of several series over the same x (e.g. days), as Plotly JSON."""
    colours = ("#0b5cad", "#7a5af8", "#f79009", "#067647", "#b42318")
    fig = go.Figure()
    for (name, values), colour in zip(series, colours, strict=False):
        fig.add_trace(
            go.Scatter(
                x=list(x),
                y=list(values),
                name=name,
                mode="lines+markers",
                line={"color": colour},
                hovertemplate=f"{name} %{{x}}: %{{y:,}}<extra></extra>",
            )
        )
    fig.update_layout(
        title={"text": title, "x": 0, "font": {"size": 16}} if title else None,
        yaxis={"title": {"text": y_title}, "rangemode": "tozero", "gridcolor": "#e6e9ef"},
        margin={"l": 60, "r": 20, "t": 50 if title else 20, "b": 40},
        height=320,
        legend={"orientation": "h", "y": -0.2},
        paper_bgcolor="white",
        plot_bgcolor="white",
        font={"family": FONT, "size": 13, "color": "#1d2330"},
    )
    return str(fig.to_json())
