"""Chart geometry for the analytics page, computed here so the templates only draw it (no JS needed).

A bar chart is one bar per analytics row (its length relative to the largest value); a time series is
one polyline per series over evenly spaced buckets, with "nice" y ticks. Every bar and every point
carries its row's dashboard link.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

PALETTE_SIZE = 8  # series colours are CSS classes series-0 .. series-7


@dataclass(frozen=True)
class Bar:
    label: str
    value: float | None
    text: str  # the value as shown
    fraction: float  # 0..1 of the longest bar
    href: str
    delta: float | None = None  # percentage change against the previous window (comparison)
    sessions: Any = None  # the row's session_count: what its link opens, whatever the chart measures


def bar_chart(
    rows: Sequence[dict[str, Any]],
    label_of: Callable[[dict[str, Any]], str],
    metric: str,
    fmt: Callable[[str, Any], str],
    href_of: Callable[[dict[str, Any]], str],
) -> list[Bar]:
    values = [r.get(metric) for r in rows]
    top = max((v for v in values if isinstance(v, int | float) and v > 0), default=0)
    bars = []
    for row, value in zip(rows, values, strict=True):
        fraction = (value / top) if top and isinstance(value, int | float) and value > 0 else 0.0
        bars.append(
            Bar(
                label=label_of(row),
                value=value,
                text=fmt(metric, value),
                fraction=round(fraction, 4),
                href=href_of(row),
                delta=row.get(f"{metric}_pct_change"),
                sessions=row.get("session_count"),
            )
        )
    return bars


def nice_ticks(top: float, count: int = 4) -> list[float]:
    """0 and evenly spaced round numbers reaching at least `top` (1, 2, 2.5 or 5 times a power of ten)."""
    if top <= 0:
        return [0.0, 1.0]
    raw = top / count
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    n = math.ceil(top / step - 1e-9)
    return [round(i * step, 10) for i in range(n + 1)]


@dataclass(frozen=True)
class Point:
    x: float
    y: float
    label: str  # the bucket
    text: str  # the value as shown
    href: str


@dataclass(frozen=True)
class Series:
    name: str
    colour: int
    points: list[Point]

    @property
    def path(self) -> str:
        """The SVG path through the points that have a value (gaps where a value is missing)."""
        out, pen = [], "M"
        for p in self.points:
            if math.isnan(p.y):
                pen = "M"
                continue
            out.append(f"{pen}{p.x:.1f},{p.y:.1f}")
            pen = "L"
        return " ".join(out)

    @property
    def drawn(self) -> list[Point]:
        return [p for p in self.points if not math.isnan(p.y)]


@dataclass(frozen=True)
class LineChart:
    width: int
    height: int
    left: int
    top: int
    right: int
    bottom: int
    series: list[Series]
    x_labels: list[tuple[float, str, str]] = field(default_factory=list)  # (x, text, text-anchor)
    y_ticks: list[tuple[float, str]] = field(default_factory=list)


TICK_CHAR_WIDTH = 6.5  # px per character of an 11px tick label (app.css), a generous average


def _anchor(x: float, text: str, width: int) -> str:
    """A label centred under its point, unless that would cut it at the drawing's edge (the last week's
    "Dec 26 - Jan 01" under the right end): then it ends (or starts) there."""
    half = len(text) * TICK_CHAR_WIDTH / 2
    if x + half > width:
        return "end"
    return "start" if x - half < 0 else "middle"


def line_chart(
    buckets: Sequence[str],
    series: Sequence[tuple[str, Sequence[tuple[Any, str]]]],
    fmt: Callable[[Any], str],
    *,
    width: int = 760,
    height: int = 260,
    max_x_labels: int | None = None,
) -> LineChart:
    """`series`: (name, [(value, href) per bucket]) -> the drawing. Missing values leave gaps."""
    left, right, top, bottom = 56, width - 16, 16, height - 32
    values = [v for _, pts in series for v, _ in pts if isinstance(v, int | float)]
    ticks = nice_ticks(max(values, default=0))
    y_max = ticks[-1] or 1.0

    def x_at(i: int) -> float:
        if len(buckets) == 1:
            return (left + right) / 2
        return left + (right - left) * i / (len(buckets) - 1)

    def y_at(v: float) -> float:
        return bottom - (bottom - top) * v / y_max

    drawn = []
    for k, (name, pts) in enumerate(series):
        points = [
            Point(
                x_at(i),
                y_at(v) if isinstance(v, int | float) else math.nan,
                buckets[i],
                fmt(v),
                href,
            )
            for i, (v, href) in enumerate(pts)
        ]
        drawn.append(Series(name, k % PALETTE_SIZE, points))
    if max_x_labels is None:  # long labels ("Dec 26 - Jan 01") need more room each
        max_x_labels = 5 if max((len(b) for b in buckets), default=0) > 10 else 8
    every = max(1, math.ceil(len(buckets) / max_x_labels))
    x_labels = [(x_at(i), b, _anchor(x_at(i), b, width)) for i, b in enumerate(buckets) if i % every == 0]
    y_ticks = [(y_at(t), fmt(t)) for t in ticks]
    return LineChart(width, height, left, top, right, bottom, drawn, x_labels, y_ticks)
