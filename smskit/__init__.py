"""The plumbing behind the SMS Conversations Kit: a local Twilio, an in-kernel server, events."""

from .clock import SimulatedClock, SystemClock
from .cookies import CookieJars, ExpiryRule
from .edition import EDITION, explain_missing_threads
from .events import EventFeed, MessageEvent
from .server import InKernelServer, serve, servers, stop, stop_all
from .simulator import Delivery, LocalTwilio
from .twiml import WebhookError

__all__ = [
    "EDITION",
    "CookieJars",
    "Delivery",
    "EventFeed",
    "ExpiryRule",
    "InKernelServer",
    "LocalTwilio",
    "MessageEvent",
    "SimulatedClock",
    "SystemClock",
    "WebhookError",
    "serve",
    "servers",
    "stop",
    "stop_all",
]

explain_missing_threads()  # the browser edition: a cell that needs threads says so
