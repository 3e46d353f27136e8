"""Clocks: the real one, and one a lesson can fast-forward."""

import time
from datetime import UTC, datetime, timedelta


class SystemClock:
    """The wall clock, in seconds since the epoch."""

    def now(self) -> float:
        return time.time()


class SimulatedClock:
    """A clock that stands still until told to move: `clock.advance(hours=4)`."""

    def __init__(self, start: float | datetime | None = None):
        if isinstance(start, datetime):
            start = start.timestamp()
        self._now = time.time() if start is None else float(start)

    def now(self) -> float:
        return self._now

    def advance(self, delta: timedelta | None = None, **units: float) -> datetime:
        """Move forward by a timedelta or by keywords (`hours=4`); returns the new time."""
        step = delta if delta is not None else timedelta(**units)
        if step < timedelta(0):
            raise ValueError("A clock only moves forward; pass a positive amount of time.")
        self._now += step.total_seconds()
        return self.datetime()

    def datetime(self) -> datetime:
        """The current simulated time as an aware UTC datetime."""
        return datetime.fromtimestamp(self._now, UTC)

    def __repr__(self) -> str:
        return f"SimulatedClock({self.datetime():%Y-%m-%d %H:%M:%S} UTC)"
