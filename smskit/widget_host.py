"""The life cycle every live widget shares: subscribe, take events in, render, show, close.

>>> host = WidgetHost(server.events, model, root, draw, interval=0.08, tick=1.0, name="panel")

The panel (smskit.panel) and the room (smskit.room) compose one: events from the server's
request threads go to the model and poke a render loop (smskit.throttle); `draw` writes the
widget values under one lock, so renders from the loop and from the learner never interleave;
close ends the loop and closes every widget the root holds. With a `watched` callable
(smskit.watching) it renders only while a page is attached, so a page-less kernel falls idle;
after a render it skipped it asks again every second, so a page that attaches to a quiet room
(a rehearsal that ended while the page loaded) shows it at once, not at the next tick.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import ipywidgets as widgets

from .events import EventFeed, MessageEvent
from .throttle import RenderLoop
from .watching import EVERY


class WidgetHost:
    """Feeds one model from one event feed and renders `draw` into `root`'s widgets."""

    def __init__(
        self,
        events: EventFeed,
        model,
        root: widgets.Widget,
        draw: Callable[[], None],
        *,
        interval: float,
        tick: float,
        name: str,
        watched: Callable[[], bool] | None = None,
    ):
        """watched: whether a page shows the widgets now (smskit.watching); while it says no,
        renders are skipped, so nothing is sent (None: always render)."""
        self.model, self.root, self._draw = model, root, draw
        self._watched = watched
        self._lock = threading.Lock()
        self.renders = 0
        self.render(always=True)  # the widgets' first values, shown with them
        self.loop = RenderLoop(self.render, interval=interval, tick=tick, name=name)
        self._unsubscribe = events.subscribe(self.on_event)

    def on_event(self, event: MessageEvent) -> None:
        """Hand the event to the model (on a request thread) and ask for a render."""
        self.model.add(event)
        self.loop.poke()

    def poke(self) -> None:
        """Ask for a render soon (coalesced with others per interval)."""
        self.loop.poke()

    def render(self, always: bool = False) -> None:
        """Draw now, if a page is watching or always (any thread; unchanged widget values
        send nothing)."""
        if not always and self._watched is not None and not self._watched():
            self.loop.soon(EVERY)  # what changed is drawn once a page attaches
            return
        with self._lock:
            self._draw()
            self.renders += 1

    def bundle(self, text: str, **kwargs) -> dict:
        """The root's widget view, with a text form that stays the same run after run."""
        return {**(self.root._repr_mimebundle_(**kwargs) or {}), "text/plain": text}

    @property
    def closed(self) -> bool:
        return not self.loop.alive

    def close(self) -> None:
        """Stop listening, end the render loop and close every widget under the root."""
        self._unsubscribe()
        self.loop.close()
        for widget in descendants(self.root):
            widget.close()


def descendants(widget: widgets.Widget) -> list[widgets.Widget]:
    """widget and every widget inside it, their Layout and Style widgets included."""
    found = [widget]
    for part in ("layout", "style"):
        if isinstance(getattr(widget, part, None), widgets.Widget):
            found.append(getattr(widget, part))
    for child in getattr(widget, "children", ()):
        found += descendants(child)
    return found
