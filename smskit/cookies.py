"""Twilio's cookie jars: one per conversation (a From/To pair), forgotten after four hours.

Twilio documents the four-hour rule two ways, and both are here:

* ``ExpiryRule.FROM_SET`` (the default): a cookie lives four hours from the moment it was
  set; a shorter Expires/Max-Age is honoured and a longer one is capped. This is what
  Twilio's support article says, and it is the stricter reading: a handler that works
  under it also works under the other.
* ``ExpiryRule.INACTIVITY``: the conversation's cookies go after four hours without a
  message, as the quickstart tutorials put it. A shorter Expires/Max-Age still wins.

A jar keeps several cookies: Twilio's older support article said "only one cookie is stored",
its current one (https://help.twilio.com/articles/223136287-How-do-Twilio-cookies-work) sets
no limit. How many Twilio keeps, their order and size are not documented (docs/fidelity.md).
"""

from __future__ import annotations

import re
import threading
from dataclasses import asdict, dataclass, field
from email.utils import parsedate_to_datetime
from enum import StrEnum

COOKIE_LIFETIME = 4 * 60 * 60.0  # Twilio's four-hour rule, in seconds: the only place it is written

# Twilio's 11206 page names tab, CR, LF, VT and FF as invalid cookie characters, and an empty
# name (https://www.twilio.com/docs/api/errors/11206); the other control characters are
# refused too, as RFC 6265 forbids them.
CONTROL_CHARACTERS = re.compile("[\x00-\x1f\x7f]")


class ExpiryRule(StrEnum):
    """Which reading of Twilio's four-hour rule a jar applies."""

    FROM_SET = "from-set"
    INACTIVITY = "inactivity"


@dataclass
class Cookie:
    """One stored cookie and the facts its expiry depends on (times in epoch seconds)."""

    name: str
    value: str
    path: str
    set_at: float
    expires: float | None = None  # from Expires or Max-Age; None for a session cookie


@dataclass
class Conversation:
    """The jar of one From/To pair."""

    cookies: dict[str, Cookie] = field(default_factory=dict)
    last_message_at: float | None = None


class InvalidSetCookie(ValueError):
    """A Set-Cookie header Twilio refuses (error 11206)."""


def default_path(request_path: str) -> str:
    """RFC 6265's default cookie path: the request path up to its last slash."""
    if not request_path.startswith("/") or request_path.count("/") == 1:
        return "/"
    return request_path[: request_path.rindex("/")]


def path_matches(request_path: str, cookie_path: str) -> bool:
    """RFC 6265 path-match: is a cookie with cookie_path sent to request_path?"""
    if request_path == cookie_path:
        return True
    return request_path.startswith(cookie_path) and (
        cookie_path.endswith("/") or request_path[len(cookie_path)] == "/"
    )


def parse_set_cookie(header: str, now: float, request_path: str, date: str | None = None) -> Cookie:
    """Read one Set-Cookie header, as received at `now` for a request to `request_path`.

    Expires is read against the response's Date header when there is one, so a clock
    that was fast-forwarded still sees the lifetime the server meant.
    """
    if CONTROL_CHARACTERS.search(header):
        raise InvalidSetCookie(f"Set-Cookie contains a control character: {header!r}")
    pair, *attributes = header.split(";")
    name, has_value, value = pair.partition("=")
    if not has_value or not name.strip():
        raise InvalidSetCookie(f"Set-Cookie has an empty cookie name: {header!r}")
    cookie = Cookie(name.strip(), value.strip(), default_path(request_path), now)
    max_age = expires = None
    for attribute in attributes:
        key, _, raw = attribute.partition("=")
        key, raw = key.strip().lower(), raw.strip()
        if key == "max-age" and re.fullmatch(r"-?\d+", raw):
            max_age = int(raw)
        elif key == "expires":
            expires = _http_date(raw)
        elif key == "path" and raw.startswith("/"):
            cookie.path = raw
    if max_age is not None:
        cookie.expires = now + max_age
    elif expires is not None:
        sent_at = _http_date(date) if date else None
        cookie.expires = now + (expires - sent_at) if sent_at is not None else expires
    return cookie


def cookie_deadline(start: float, lifetime: float, expires: float | None = None) -> float:
    """When Twilio stops sending a cookie whose lifetime runs from start (capped by expires)."""
    return start + lifetime if expires is None else min(start + lifetime, expires)


def _http_date(text: str) -> float | None:
    """An HTTP date as epoch seconds, or None when it cannot be read."""
    try:
        return parsedate_to_datetime(text).timestamp()
    except (TypeError, ValueError, IndexError):
        return None


class CookieJars:
    """Every conversation's cookie jar, with Twilio's four-hour rule on a given clock.

    Safe to share between threads: each method holds the jars' lock.
    """

    def __init__(self, clock, rule: ExpiryRule = ExpiryRule.FROM_SET, lifetime=None):
        """lifetime: seconds (default: COOKIE_LIFETIME, Twilio's)."""
        self.clock = clock
        self.rule = ExpiryRule(rule)
        self.lifetime = COOKIE_LIFETIME if lifetime is None else lifetime
        self.conversations: dict[tuple[str, str], Conversation] = {}
        self._lock = threading.RLock()

    def deadline(self, cookie: Cookie, conversation: Conversation) -> float:
        """When Twilio stops sending this cookie."""
        start = cookie.set_at
        if self.rule is ExpiryRule.INACTIVITY and conversation.last_message_at is not None:
            start = max(start, conversation.last_message_at)
        return cookie_deadline(start, self.lifetime, cookie.expires)

    def live_cookies(self, sender: str, to: str) -> list[tuple[Cookie, float]]:
        """The pair's unexpired cookies with their deadlines; expired ones are dropped."""
        with self._lock:
            conversation = self.conversations.get((sender, to))
            if conversation is None:
                return []
            now = self.clock.now()
            live = []
            for key, cookie in list(conversation.cookies.items()):
                deadline = self.deadline(cookie, conversation)
                if deadline <= now:
                    del conversation.cookies[key]
                else:
                    live.append((cookie, deadline))
            return live

    def expires_at(self, sender: str, to: str) -> float | None:
        """When the pair's last cookie goes (epoch seconds, maybe already past); None if none."""
        with self._lock:
            conversation = self.conversations.get((sender, to))
            cookies = conversation.cookies.values() if conversation else ()
            return max((self.deadline(c, conversation) for c in cookies), default=None)

    def cookie_header(self, sender: str, to: str, request_path: str) -> str | None:
        """The Cookie header for the pair's next message, which also counts as activity."""
        live = [c for c, _ in self.live_cookies(sender, to) if path_matches(request_path, c.path)]
        live.sort(key=lambda c: len(c.path), reverse=True)  # RFC 6265: longest path first
        self.conversations.setdefault(
            (sender, to), Conversation()
        ).last_message_at = self.clock.now()
        return "; ".join(f"{c.name}={c.value}" for c in live) or None

    def receive(
        self, sender: str, to: str, set_cookies: list[str], request_path: str, date=None
    ) -> list[str]:
        """Store a reply's Set-Cookie headers; returns the problems with any Twilio refuses."""
        problems = []
        with self._lock:
            conversation = self.conversations.setdefault((sender, to), Conversation())
            for header in set_cookies:
                try:
                    cookie = parse_set_cookie(header, self.clock.now(), request_path, date)
                except InvalidSetCookie as problem:
                    problems.append(str(problem))
                    continue
                conversation.cookies[f"{cookie.name};{cookie.path}"] = cookie
            self.live_cookies(sender, to)  # a cookie set already expired is a deletion
        return problems

    def forget(self, sender: str | None = None, to: str | None = None) -> None:
        """Drop one conversation's jar, or every jar when no pair is given."""
        with self._lock:
            if sender is None and to is None:
                self.conversations.clear()
            else:
                self.conversations.pop((sender, to), None)

    def to_dict(self) -> dict:
        """A JSON-ready copy of every jar (for the command line's jar file)."""
        with self._lock:
            conversations = list(self.conversations.items())
        return {
            "rule": self.rule.value,
            "conversations": [
                {
                    "from": sender,
                    "to": to,
                    "last_message_at": conversation.last_message_at,
                    "cookies": [asdict(c) for c in conversation.cookies.values()],
                }
                for (sender, to), conversation in conversations
            ],
        }

    @classmethod
    def from_dict(cls, data: dict, clock) -> CookieJars:
        """Rebuild the jars that to_dict wrote; ValueError says what is wrong with other data."""
        if not isinstance(data, dict) or not isinstance(data.get("conversations", []), list):
            raise ValueError("expected an object with a list of conversations")
        jars = cls(clock, ExpiryRule(data.get("rule", ExpiryRule.FROM_SET)))
        try:
            for entry in data.get("conversations", []):
                cookies = [Cookie(**c) for c in entry["cookies"]]
                jars.conversations[(entry["from"], entry["to"])] = Conversation(
                    {f"{c.name};{c.path}": c for c in cookies}, entry["last_message_at"]
                )
        except (KeyError, TypeError) as problem:
            raise ValueError(f"a conversation is not as this kit writes it ({problem!r})") from None
        for (sender, to), conversation in jars.conversations.items():
            _check_types(sender, to, conversation)
        return jars


def _check_types(sender, to, conversation: Conversation) -> None:
    """ValueError unless a conversation read from a file has the types to_dict writes."""
    numbers = (int, float)
    fine = isinstance(sender, str) and isinstance(to, str)
    last = conversation.last_message_at
    fine &= last is None or isinstance(last, numbers)
    for cookie in conversation.cookies.values():
        fine &= all(isinstance(v, str) for v in (cookie.name, cookie.value, cookie.path))
        fine &= isinstance(cookie.set_at, numbers)
        fine &= cookie.expires is None or isinstance(cookie.expires, numbers)
    if not fine:
        raise ValueError(f"the conversation {sender!r} -> {to!r} has values of the wrong type")
