"""Callback health over the last 24 hours, and the geometry of its server-rendered SVG charts.

Pure functions over (started_at, latency_ms, ok) tuples: the page needs no JavaScript to draw a chart, and the
numbers are testable without a browser.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

HOURS = 24
CHART_W = 480
CHART_H = 160
PAD_L = 44
PAD_R = 8
PAD_T = 10
PAD_B = 22


def percentile(values: Sequence[int], p: float) -> int | None:
    """Nearest-rank percentile (the value at or below which ``p`` percent of ``values`` fall)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


@dataclass(slots=True)
class Bucket:
    start: dt.datetime
    total: int = 0
    ok: int = 0
    latencies: list[int] = field(default_factory=list)

    @property
    def failed(self) -> int:
        return self.total - self.ok

    @property
    def p50(self) -> int | None:
        return percentile(self.latencies, 50)

    @property
    def p99(self) -> int | None:
        return percentile(self.latencies, 99)


@dataclass(slots=True)
class Bar:
    x: float
    width: float
    ok_y: float
    ok_h: float
    fail_y: float
    fail_h: float
    label: str


@dataclass(slots=True)
class Tick:
    y: float
    label: str


@dataclass(slots=True)
class Mark:
    x: float
    y50: float
    y99: float
    label: str


@dataclass(slots=True)
class Health:
    total: int
    ok: int
    p50: int | None
    p99: int | None
    buckets: list[Bucket]

    @property
    def success_rate(self) -> float | None:
        return self.ok / self.total if self.total else None

    # -- chart geometry (viewBox units) ----------------------------------------------------------------

    @property
    def width(self) -> int:
        return CHART_W

    @property
    def height(self) -> int:
        return CHART_H

    @property
    def plot_bottom(self) -> int:
        return CHART_H - PAD_B

    @property
    def plot_left(self) -> int:
        return PAD_L

    @property
    def plot_right(self) -> int:
        return CHART_W - PAD_R

    def _slot(self) -> float:
        return (CHART_W - PAD_L - PAD_R) / HOURS

    def _y(self, value: float, top: float) -> float:
        plot_h = CHART_H - PAD_T - PAD_B
        return round(CHART_H - PAD_B - (value / top) * plot_h, 1) if top else CHART_H - PAD_B

    def _top(self, values: Sequence[int]) -> int:
        return nice_ceiling(max(values, default=0))

    def bars(self) -> list[Bar]:
        top = self._top([b.total for b in self.buckets])
        slot = self._slot()
        out = []
        for i, b in enumerate(self.buckets):
            ok_y = self._y(b.ok, top)
            fail_y = self._y(b.total, top)
            rate = f", {b.ok / b.total:.0%} delivered" if b.total else ""
            out.append(
                Bar(
                    x=round(PAD_L + i * slot + slot * 0.15, 1),
                    width=round(slot * 0.7, 1),
                    ok_y=ok_y,
                    ok_h=round(self.plot_bottom - ok_y, 1),
                    fail_y=fail_y,
                    fail_h=round(ok_y - fail_y, 1),
                    label=f"{b.start:%H:00} UTC: {b.total} attempts, {b.failed} failed{rate}",
                )
            )
        return out

    def _ticks(self, top: int, unit: str) -> list[Tick]:
        values = [0, top // 2, top] if top % 2 == 0 else [0, top]
        return [Tick(self._y(v, top), f"{v}{unit}") for v in values] if top else [Tick(self.plot_bottom, "0")]

    def count_ticks(self) -> list[Tick]:
        return self._ticks(self._top([b.total for b in self.buckets]), "")

    def latency_ticks(self) -> list[Tick]:
        return self._ticks(self._top([b.p99 or 0 for b in self.buckets]), " ms")

    def _latency_line(self, values: list[int | None]) -> str:
        """Both latency lines share one scale, topped by the highest hourly p99."""
        top = self._top([b.p99 or 0 for b in self.buckets])
        slot = self._slot()
        return " ".join(
            f"{round(PAD_L + i * slot + slot / 2, 1)},{self._y(v, top)}" for i, v in enumerate(values) if v is not None
        )

    def latency_marks(self) -> list[Mark]:
        """A dot per hour that had attempts, so a single busy hour still shows (a line needs two points)."""
        top = self._top([b.p99 or 0 for b in self.buckets])
        slot = self._slot()
        return [
            Mark(
                x=round(PAD_L + i * slot + slot / 2, 1),
                y50=self._y(b.p50 or 0, top),
                y99=self._y(b.p99 or 0, top),
                label=f"{b.start:%H:00} UTC: p50 {b.p50} ms, p99 {b.p99} ms ({b.total} attempts)",
            )
            for i, b in enumerate(self.buckets)
            if b.total
        ]

    def p50_points(self) -> str:
        return self._latency_line([b.p50 for b in self.buckets])

    def p99_points(self) -> str:
        return self._latency_line([b.p99 for b in self.buckets])

    def hour_labels(self) -> list[tuple[float, str]]:
        slot = self._slot()
        return [
            (round(PAD_L + i * slot + slot / 2, 1), f"{b.start:%H}h")
            for i, b in enumerate(self.buckets)
            if i % 6 == 0 or i == HOURS - 1
        ]


def nice_ceiling(value: int) -> int:
    """The smallest 1, 2 or 5 times a power of ten at or above ``value`` (0 stays 0): round axis tops."""
    if value <= 0:
        return 0
    magnitude = int(10 ** (len(str(value)) - 1))
    for step in (1, 2, 5, 10):
        if step * magnitude >= value:
            return step * magnitude
    return 10 * magnitude


def window_start(now: dt.datetime) -> dt.datetime:
    """The start of the first hourly bucket: 23 whole hours before the current one."""
    return now.replace(minute=0, second=0, microsecond=0) - dt.timedelta(hours=HOURS - 1)


def health(attempts: Sequence[tuple[dt.datetime, int, bool]], now: dt.datetime) -> Health:
    """Hourly buckets over the 24 hours ending with the current hour."""
    first = window_start(now)
    buckets = [Bucket(first + dt.timedelta(hours=i)) for i in range(HOURS)]
    all_latencies: list[int] = []
    ok = 0
    total = 0
    for started, latency, success in attempts:
        index = int((started - first).total_seconds() // 3600)
        if not 0 <= index < HOURS:
            continue
        b = buckets[index]
        b.total += 1
        b.latencies.append(latency)
        all_latencies.append(latency)
        total += 1
        if success:
            b.ok += 1
            ok += 1
    return Health(total, ok, percentile(all_latencies, 50), percentile(all_latencies, 99), buckets)
