"""A render loop: a daemon thread that renders when poked, at most once per interval.

Events arrive on request threads, far more often than a screen needs; they only poke the
loop. The loop renders then, or once the interval since the last render has passed, so a
burst of ten thousand messages costs a few renders. It also renders every `tick` seconds
unpoked, so countdowns move, or sooner when asked to (soon: a host waiting for a page to
attach looks again every second). (threading.Timer would start a thread per poke; no widget
library offers a throttle that runs outside the front end.)

In the browser edition Python has no threads: there the loop renders at once on every poke,
on the caller's thread (events arrive in-process, one at a time), and countdowns move on the
next message instead of every tick.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from .edition import IN_BROWSER

log = logging.getLogger(__name__)


class RenderLoop:
    """Calls render() on its own thread: when poked (coalesced per interval) and every tick."""

    def __init__(self, render: Callable[[], None], *, interval: float, tick: float, name: str):
        self.render, self.interval, self.tick = render, interval, tick
        self._wake = threading.Event()
        self._closed = threading.Event()
        self._soon: float | None = None  # a render unpoked by then (monotonic), if asked for
        self.name = name
        self._thread = None
        if not IN_BROWSER:
            self._thread = threading.Thread(target=self._run, name=name, daemon=True)
            self._thread.start()

    def poke(self) -> None:
        """Ask for a render soon (any thread; costs an Event.set), or now where threads are not."""
        if self._thread is None:
            if not self._closed.is_set():
                self._render()
            return
        self._wake.set()

    def soon(self, seconds: float) -> None:
        """Render again within seconds even if nobody pokes (any thread; where threads are not,
        nothing: the next poke renders)."""
        self._soon = time.monotonic() + seconds
        if self._thread is not None and threading.current_thread() is not self._thread:
            self._wake.set()  # the loop is waiting a whole tick: it renders, then waits less

    def _wait(self) -> float:
        if self._soon is None:
            return self.tick
        return max(0.0, min(self.tick, self._soon - time.monotonic()))

    def _render(self) -> None:
        try:
            self.render()
        except Exception:
            log.exception("%s could not render", self.name)

    def _run(self) -> None:
        last = 0.0
        while not self._closed.is_set():
            woken = self._wake.wait(self._wait())
            if self._closed.is_set():
                break
            pause = last + self.interval - time.monotonic()
            if woken and pause > 0:  # rendered a moment ago: let more messages gather first
                self._closed.wait(pause)
            self._wake.clear()
            self._soon = None  # this render answers it (and may ask again)
            self._render()
            if woken:  # a tick does not delay the next message's render
                last = time.monotonic()

    @property
    def alive(self) -> bool:
        """Whether the loop still renders (its thread runs, or, threadless, it is not closed)."""
        if self._thread is None:
            return not self._closed.is_set()
        return self._thread.is_alive()

    def close(self) -> None:
        """End the thread (waits for a render in progress, unless called from the loop)."""
        self._closed.set()
        self._wake.set()
        if self._thread not in (None, threading.current_thread()):
            self._thread.join(timeout=5)
