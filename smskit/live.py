"""Go live in one line: a tunnel to the in-kernel server, and the Twilio number pointed at it.

>>> status = go_live(server)     # never raises for missing credentials or a broken network
>>> print(status)
local only: No NGROK_AUTHTOKEN: copy .env.example to .env and paste your token ...
>>> go_local(server)             # the number's previous webhook back, the tunnel closed
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace

from .server import InKernelServer
from .settings import Settings, load_settings
from .tunnel import TunnelUnavailable, close_tunnel, open_tunnel, tunnels
from .twilio_number import NumberHookupError, hookups, point_number, restore_number

log = logging.getLogger(__name__)

NO_TUNNEL = "No tunnel is open: call go_live(server) to open one."
NOT_POINTED = "The number is not pointed here yet: call go_live(server)."
NO_PUBLIC_URL = "The number keeps its webhook, since there is no public URL to point it at."


@dataclass(frozen=True)
class LiveStatus:
    """Where the webhook can be reached from, and whether the Twilio number points there."""

    local_url: str
    public_url: str | None = None
    webhook_url: str | None = None
    reason: str | None = None
    phone_number: str | None = None
    number_points_here: bool = False
    number_reason: str | None = None

    @property
    def live(self) -> bool:
        return self.public_url is not None

    def __str__(self) -> str:
        if not self.live:
            return f"local only: {self.reason}"
        if self.number_points_here:
            return (
                f"live at {self.webhook_url}; {self.phone_number} points here: "
                "text it from your phone."
            )
        return f"live at {self.webhook_url}; the number is not hooked up: {self.number_reason}"


def go_live(
    server: InKernelServer,
    *,
    path: str = "/sms",
    settings: Settings | None = None,
    http_client=None,
) -> LiveStatus:
    """Open (or reuse) the tunnel to server and point the Twilio number at its path."""
    settings = settings if settings is not None else load_settings()
    status = LiveStatus(server.url, phone_number=settings.twilio_phone_number)
    try:
        tunnel = open_tunnel(server.port, settings)
    except TunnelUnavailable as problem:
        log.info("Local only: %s", problem)
        return replace(status, reason=str(problem), number_reason=NO_PUBLIC_URL)
    webhook_url = tunnel.public_url + path
    status = replace(status, public_url=tunnel.public_url, webhook_url=webhook_url)
    try:
        point_number(webhook_url, settings, http_client)
    except NumberHookupError as problem:
        log.info("Number not hooked up: %s", problem)
        return replace(status, number_reason=str(problem))
    return replace(status, number_points_here=True)


def go_local(server: InKernelServer) -> LiveStatus:
    """Give the number its previous webhook back and close server's tunnel."""
    problems = []
    tunnel = tunnels().get(server.port)
    if tunnel is not None:
        for phone_number, hookup in hookups().items():
            if hookup.sms_url.startswith(tunnel.public_url + "/"):
                try:
                    restore_number(phone_number)
                except NumberHookupError as problem:
                    problems.append(str(problem))
        close_tunnel(server.port)
    status = live_status(server)
    return replace(status, number_reason=problems[0]) if problems else status


def live_status(
    server: InKernelServer, *, path: str = "/sms", settings: Settings | None = None
) -> LiveStatus:
    """What is live for server right now (no network, no side effects)."""
    settings = settings if settings is not None else load_settings()
    status = LiveStatus(server.url, phone_number=settings.twilio_phone_number)
    tunnel = tunnels().get(server.port)
    if tunnel is None:
        return replace(
            status, reason=settings.ngrok_problem or NO_TUNNEL, number_reason=NO_PUBLIC_URL
        )
    status = replace(status, public_url=tunnel.public_url)
    hooked = hookups().get(settings.twilio_phone_number or "")
    if hooked is not None and hooked.sms_url.startswith(tunnel.public_url + "/"):
        return replace(status, webhook_url=hooked.sms_url, number_points_here=True)
    return replace(
        status,
        webhook_url=tunnel.public_url + path,
        number_reason=settings.twilio_problem or NOT_POINTED,
    )
