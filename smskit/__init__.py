"""The plumbing behind the SMS Conversations Kit: a local Twilio, an in-kernel server, events."""

import sys

try:
    from .clock import SimulatedClock, SystemClock
    from .cookies import CookieJars, ExpiryRule
    from .events import EventFeed, MessageEvent
    from .server import InKernelServer, serve, servers, stop, stop_all
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
