"""The playground's clock: real time plus an offset the visitor moves ahead with a button."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


class PlaygroundClock:
    """The desk's clock in the playground; :meth:`advance` jumps ahead, the desk follows.

    The bot's scheduler reads this clock on every tick (once a second), so timers that fall
    due after a jump fire within a second; the stand-in Telegram dates its messages by it too.
    """

    def __init__(self, offset: timedelta = timedelta(0)) -> None:
        self.offset = offset

    def now(self) -> datetime:
        """The shifted current time, aware UTC."""
        return datetime.now(UTC) + self.offset

    def timestamp(self) -> float:
        """The shifted current time as Unix seconds (Telegram's `date` fields)."""
        return self.now().timestamp()

    def advance(self, delta: timedelta) -> None:
        """Jump forward by `delta` (never back: the desk's timers only run forward)."""
        if delta > timedelta(0):
            self.offset += delta
