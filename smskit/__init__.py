"""The plumbing behind the SMS Conversations Kit: a local Twilio, an in-kernel server, events."""

import sys

try:
    from .clock import SimulatedClock, SystemClock
    from .cookies import CookieJars, ExpiryRule
    from .edition import EDITION, explain_missing_threads
    from .events import EventFeed, MessageEvent
    from .registry import Server, servers, stop, stop_all
    from .server import InKernelServer
    from .serving import serve
    from .simulator import Delivery, LocalTwilio
    from .twiml import WebhookError
except ModuleNotFoundError as missing:  # a Python outside the kit's environment
    OUTSIDE = (
        f"This Python ({sys.executable}) lacks {missing.name}, which the kit needs: "
        "use the kit's environment (`python3 kit.py lab`, or `source .venv/bin/activate` first)."
    )
    if sys.argv[:1] == ["-m"]:  # python -m smskit...: one sentence, not a traceback
        raise SystemExit(OUTSIDE) from None
    raise ModuleNotFoundError(OUTSIDE, name=missing.name) from None

__all__ = [
    "EDITION",
    "CookieJars",
    "Delivery",
    "EventFeed",
    "ExpiryRule",
    "InKernelServer",
    "LocalTwilio",
    "MessageEvent",
    "Server",
    "SimulatedClock",
    "SystemClock",
    "WebhookError",
    "serve",
    "servers",
    "stop",
    "stop_all",
]

explain_missing_threads()  # the browser edition: a cell that needs threads says so
