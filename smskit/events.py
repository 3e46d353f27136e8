"""One event per request a Flask app handles, published without the handler knowing."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from flask import Flask, request, request_finished, session

from .twiml import WebhookError, reply_texts

log = logging.getLogger(__name__)


def redefined(old: Callable, new: Callable) -> bool:
    """Whether new is old defined again in a notebook (its __main__) under the same name."""
    names = [(getattr(f, "__module__", None), getattr(f, "__qualname__", None)) for f in (old, new)]
    return names[0] == names[1] and names[0][0] == "__main__"


@dataclass(frozen=True)
class MessageEvent:
    """What one webhook request did: who texted whom, the session after it, the replies."""

    sender: str
    to: str
    body: str
    session: dict
    replies: tuple[str, ...]
    status: int
    path: str
    when: datetime = field(default_factory=lambda: datetime.now(UTC))
    form: dict = field(default_factory=dict)  # every request value, for columns that read one

    @property
    def refused(self) -> bool:
        """Whether the app turned the request away (4xx: unsigned, malformed, too large)."""
        return 400 <= self.status < 500


def event_from(response) -> MessageEvent:
    """Describe the request being finished (call inside its request context)."""
    try:
        replies = tuple(reply_texts(response.status_code, response.content_type, response.data))
    except (WebhookError, RuntimeError):  # not TwiML, or a streamed body
        replies = ()
    return MessageEvent(
        sender=request.values.get("From", ""),
        to=request.values.get("To", ""),
        body=request.values.get("Body", ""),
        session=dict(session),
        replies=replies,
        status=response.status_code,
        path=request.path,
        form=request.values.to_dict(),
    )


class EventFeed:
    """Subscribers receive each MessageEvent, on the thread that handled the request."""

    def __init__(self):
        self._subscribers: list[Callable[[MessageEvent], None]] = []
        self._lock = threading.Lock()

    def subscribe(self, callback: Callable[[MessageEvent], None]) -> Callable[[], None]:
        """Call callback(event) for every event from now on; returns the unsubscribe function.

        A function a notebook defines again under the same name replaces its older self, so a
        learner's earlier, wrong attempt stops listening when the new one subscribes.
        """
        with self._lock:
            kept = [s for s in self._subscribers if not redefined(s, callback)]
            self._subscribers = [*kept, callback]

        def unsubscribe():
            with self._lock:
                if callback in self._subscribers:
                    self._subscribers.remove(callback)

        return unsubscribe

    def __contains__(self, callback: object) -> bool:
        """Whether callback is subscribed (`on_message in server.events`)."""
        with self._lock:
            return callback in self._subscribers

    def publish(self, event: MessageEvent) -> None:
        """Hand event to every subscriber; one that fails is logged, not fatal."""
        with self._lock:
            subscribers = list(self._subscribers)
        for callback in subscribers:
            try:
                callback(event)
            except Exception:
                log.exception("An event subscriber failed on %s", event)

    def watch(self, app: Flask) -> Callable[[], None]:
        """Publish an event for every request app finishes; returns the function that stops it."""

        def finished(sender, response, **extra):
            if self._subscribers:  # no one listening: no work on the request's path
                self.publish(event_from(response))

        request_finished.connect(finished, app, weak=False)
        return lambda: request_finished.disconnect(finished, app)
