"""A simulated phone: texts a served webhook through a local Twilio, whose clock it can move.

>>> phone = Phone(lambda: server.url + "/sms", auth_token=None)
>>> phone.text("+14158675309", "+15005550006", "hi").reply
'Curious George has messaged +15005550006 1 times'
>>> phone.advance(4)                  # four hours later on the local Twilio's clock

The URL is asked for at every message, so the phone follows a server that was served again.
The auth token it signs with is given, never read from the app.
"""

from __future__ import annotations

from collections.abc import Callable

from .clock import SimulatedClock
from .simulator import Delivery, LocalTwilio


class Phone:
    """One local Twilio and the URL it texts; knows nothing of widgets."""

    def __init__(
        self,
        url: Callable[[], str],
        *,
        auth_token: str | None = None,
        twilio: LocalTwilio | None = None,
    ):
        self.url = url
        self.twilio = twilio if twilio is not None else LocalTwilio(url(), auth_token=auth_token)
        self._follows_url = twilio is None  # a given local Twilio keeps its URL and token

    @property
    def auth_token(self) -> str | None:
        return self.twilio.auth_token

    @auth_token.setter
    def auth_token(self, token: str | None) -> None:
        """Sign with this token from now on (set it when the app starts checking signatures)."""
        self.twilio.auth_token = token

    @property
    def clock(self):
        return self.twilio.clock

    @property
    def can_travel(self) -> bool:
        """Whether advance() can move the clock (a simulated one, not the wall clock)."""
        return isinstance(self.twilio.clock, SimulatedClock)

    def text(self, sender: str, to: str, body: str) -> Delivery:
        """Deliver one message; raises ValueError for what Twilio would not send (too long)."""
        if self._follows_url:
            self.twilio.url = self.url()
        return self.twilio.text(sender, to, body)

    def advance(self, hours: float) -> None:
        """Fast-forward the local Twilio's clock, so its cookies age."""
        self.twilio.clock.advance(hours=hours)
