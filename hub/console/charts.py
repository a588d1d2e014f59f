"""The dashboard's small charts as bar geometry for inline SVG (no script, no image files):
one bar per hour, delivered stacked under not delivered, scaled to the busiest hour."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from hub.console.dashboard import HourTally

WIDTH = 384  # 24 bars of 16 px
HEIGHT = 40
BAR = WIDTH // 24


@dataclass(frozen=True)
class Bar:
    x: int
    delivered_y: float
    delivered_height: float
    failed_y: float
    failed_height: float
    title: str  # what a pointer over the bar shows


def bars(hourly: Sequence[HourTally]) -> list[Bar]:
    busiest = max((t.delivered + t.not_delivered for t in hourly), default=0) or 1
    scale = HEIGHT / busiest
    drawn = []
    for slot, tally in enumerate(hourly):
        delivered = tally.delivered * scale
        failed = tally.not_delivered * scale
        ago = len(hourly) - 1 - slot
        when = "this hour" if ago == 0 else f"{ago} h ago"
        drawn.append(
            Bar(
                x=slot * BAR,
                delivered_y=HEIGHT - delivered,
                delivered_height=delivered,
                failed_y=HEIGHT - delivered - failed,
                failed_height=failed,
                title=f"{when}: {tally.delivered} delivered, {tally.not_delivered} not delivered",
            )
        )
    return drawn
