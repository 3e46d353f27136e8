"""Room mode: one Twilio number, one projector, every conversation in the room live.

>>> room = open_room()        # in room/room.ipynb, which `python3 kit.py room` serves with Voilà
>>> room                      # the dashboard: the number and its QR code, a card per conversation

The room serves the quickstart's handler from this kernel and shows a Conversations model
(smskit.conversations) as cards, newest first: the count, a bar counting down the cookie's
four hours, how long ago the phone last texted, and whether it opted out. A projector is
public, so numbers are masked and message bodies hidden until the instructor shows them.
Live when the credentials are there (smskit.live), else a rehearsal (smskit.rehearsal) or
local only, saying in one line what is missing.
"""

from __future__ import annotations

import html
import json
import logging
import os
import secrets
import sys
import threading
from collections.abc import Collection, Mapping
from dataclasses import dataclass

import ipywidgets as widgets
import segno

from .conversations import Column, Conversations, Row, ago, counted
from .countdown import Expiry, LocalTwilioJars, WallClock
from .events import MessageEvent
from .live import go_live
from .numbers import display_number, mask_number
from .rehearsal import Rehearsal
from .server import InKernelServer
from .serving import serve
from .settings import SECRETS, Settings, load_settings, scrub
from .widget_host import WidgetHost

log = logging.getLogger(__name__)

INTERVAL = 0.25  # seconds: at most four renders a second, however busy the room
TICK = 5.0  # seconds between refreshes of bars and "ago" when nobody texts
REHEARSAL_NUMBER = "+15005550006"  # Twilio's test number: what the phones text in a rehearsal
COMPACT_FROM = 60  # cards: more than this and the cards shrink to fit a projector
STYLE = """<style>
.room { font-family: system-ui, sans-serif; }
.room .widget-html-content { line-height: 1.25; }
.room-join { display: flex; align-items: center; gap: 32px; }
.room-number { font-size: 64px; font-weight: 700; margin: 8px 0; }
.room-hint { font-size: 22px; color: #555; }
.room-status { font-size: 16px; color: #555; }
.room-totals { font-size: 22px; margin: 8px 0; }
.room-cards { display: grid; gap: 8px;
  grid-template-columns: repeat(auto-fill, minmax(170px, 1fr)); }
.room-card { border: 1px solid #ccc; border-radius: 8px; padding: 6px 10px; background: #fff; }
.room-card.room-out { background: #f4f4f4; color: #888; }
.room-who { font-size: 16px; white-space: nowrap; }
.room-count { font-size: 34px; font-weight: 700; line-height: 1.1; }
.room-bar { height: 6px; background: #eee; border-radius: 3px; overflow: hidden; }
.room-bar > div { height: 100%; background: #2a7ae2; }
.room-since, .room-optout { font-size: 13px; color: #666; }
.room-optout { color: #b00; font-weight: 600; }
.room-message { font-size: 14px; overflow-wrap: anywhere; }
.room-compact .room-cards { gap: 4px;
  grid-template-columns: repeat(auto-fill, minmax(120px, 1fr)); }
.room-compact .room-card { padding: 3px 6px; }
.room-compact .room-count { font-size: 22px; }
.room-compact .room-who { font-size: 13px; }
</style>"""


def qr_svg(number: str) -> str:
    """An inline SVG QR code of the sms: link (RFC 5724) that opens a message to number."""
    return segno.make(f"sms:{number}", error="m").svg_inline(scale=6, dark="#000", light="#fff")


def card_html(row: Row, columns: tuple[Column, ...], reveal: Collection[str] = ()) -> str:
    """One conversation's card: the columns marked for cards, masked but for what is revealed
    (smskit.conversations.MASKS); the countdown is a bar of the cookie's lifetime."""
    parts = []
    for column in (c for c in columns if c.card):
        text = column.text(row, reveal)
        if column.key == "expires":
            share, clock = row.countdown.share, html.escape(row.clock)
            parts.append(f"<div class='room-bar' title='{clock}'><div style='width:{share:.1%}'>")
            parts.append(f"</div></div><div class='room-since'>{ago(row.since)}</div>")
        elif column.key == "optout":
            parts.append("<div class='room-optout'>opted out (STOP)</div>" if row.opted_out else "")
        elif text:
            parts.append(f"<div class='room-{column.key}'>{html.escape(text)}</div>")
    out = " room-out" if row.opted_out else ""
    count = "-" if row.count is None else row.count
    return f"<div class='room-card{out}' data-count='{count}'>{''.join(parts)}</div>"


def join_html(number: str | None) -> str:
    """The number to text in large type and as a QR code; without one, what is missing."""
    if number is None:
        return (
            "<div class='room-join'><div><div class='room-number'>No number yet</div>"
            "<div class='room-hint'>The line below says what the room needs to go live.</div>"
            "</div></div>"
        )
    return (
        "<div class='room-join'><div><div class='room-hint'>Text anything to</div>"
        f"<div class='room-number'>{html.escape(display_number(number))}</div>"
        "<div class='room-hint'>and watch your conversation's cookie count.</div></div>"
        f"<div class='room-qr'>{qr_svg(number)}</div></div>"
    )


class Room:
    """The dashboard: a Conversations model of one server's events, rendered as cards."""

    def __init__(
        self,
        server: InKernelServer,
        *,
        number: str | None,
        expiry: Expiry,
        status: str,
        rehearsal: Rehearsal | None = None,
        secrets: tuple[str, ...] = (),
    ):
        self.server, self.number, self.rehearsal = server, number, rehearsal
        self._secrets = secrets
        self.model = Conversations(expiry)
        self.status = status
        self.show_numbers = widgets.ToggleButton(False, description="Show numbers", icon="eye")
        self.show_bodies = widgets.ToggleButton(False, description="Show messages", icon="comment")
        self.status_label = widgets.HTML()
        self.totals_label = widgets.HTML()
        self.cards = widgets.HTML()
        join = widgets.HTML(join_html(number))
        controls = widgets.HBox([self.show_numbers, self.show_bodies])
        self.root = widgets.VBox(
            [widgets.HTML(STYLE), join, self.status_label, controls, self.totals_label, self.cards]
        )
        self.root.add_class("room")
        self.host = WidgetHost(
            server.events, self.model, self.root, self._draw,
            interval=INTERVAL, tick=TICK, name="smskit-room",
        )  # fmt: skip
        for toggle in (self.show_numbers, self.show_bodies):
            toggle.observe(lambda _: self.render(), "value")

    @property
    def renders(self) -> int:
        return self.host.renders

    def render(self) -> None:
        """Cards newest first, the totals and the status line (any thread)."""
        self.host.render()

    def _draw(self) -> None:
        rows, totals = self.model.rows(), self.model.totals()
        reveal = {"numbers": self.show_numbers.value, "messages": self.show_bodies.value}
        shown = [what for what, on in reveal.items() if on]
        cards = "".join(card_html(row, self.model.columns, shown) for row in rows)
        compact = " room-compact" if len(rows) > COMPACT_FROM else ""
        self.cards.value = (
            f"<div class='room-cards-box{compact}'><div class='room-cards'>{cards}</div></div>"
        )
        self.totals_label.value = f"<div class='room-totals'>{html.escape(totals.text())}</div>"
        line = self.rehearsal.summary() if self.rehearsal else self.status
        safe = html.escape(scrub(line, *self._secrets))
        self.status_label.value = f"<div class='room-status'>{safe}</div>"

    def _repr_mimebundle_(self, **kwargs) -> dict:
        return self.host.bundle(repr(self), **kwargs)

    def __repr__(self) -> str:
        number = self.number or "no number yet"
        return f"<Room for {number}: {counted(len(self.model), 'conversation')}>"

    def close(self) -> None:
        """Stop listening and rehearsing, end the render loop, close the widgets."""
        self.host.close()
        if self.rehearsal is not None:
            self.rehearsal.stop()


@dataclass(frozen=True)
class RoomOptions:
    """What `python3 kit.py room` asked for, handed to the kernel in SMSKIT_ROOM_* variables."""

    simulate: int = 0  # simulated phones; 0: go live (or stay local, saying why)
    rate: float = 2.0  # messages per second, in all
    messages: int | None = None  # stop the rehearsal after this many
    seed: int = 0
    trace: str | None = None  # a file for one JSON line per handled message (the benchmark)
    sender: str = "long-code"  # the rehearsal's carrier pace (smskit.carrier.SENDERS)

    def environment(self) -> dict[str, str]:
        values = {"SIMULATE": self.simulate, "RATE": self.rate, "SEED": self.seed}
        values |= {"SENDER": self.sender}
        values |= {"MESSAGES": self.messages, "TRACE": self.trace}
        return {f"SMSKIT_ROOM_{k}": str(v) for k, v in values.items() if v is not None}

    @classmethod
    def from_environment(cls, environ: Mapping[str, str]) -> RoomOptions:
        value = {
            k[len("SMSKIT_ROOM_") :].lower(): v
            for k, v in environ.items()
            if k.startswith("SMSKIT_ROOM_")
        }
        return cls(
            simulate=int(value.get("simulate", 0)),
            rate=float(value.get("rate", cls.rate)),
            messages=int(value["messages"]) if "messages" in value else None,
            seed=int(value.get("seed", 0)),
            trace=value.get("trace"),
            sender=value.get("sender", cls.sender),
        )


def trace_to(path: str):
    """A subscriber writing each handled message as a JSON line: when, masked number, count."""
    out = open(path, "a", buffering=1, encoding="utf-8")  # noqa: SIM115 - lives with the kernel
    lock = threading.Lock()

    def write(event: MessageEvent) -> None:
        if event.refused or not event.sender:
            return
        line = {"when": event.when.timestamp(), "who": mask_number(event.sender)}
        line["count"] = event.session.get("counter")
        with lock:
            out.write(json.dumps(line) + "\n")

    return write


def open_room(
    options: RoomOptions | None = None, settings: Settings | None = None, http_client=None
) -> Room:
    """Serve the quickstart's handler and open the room on it (see the module's docstring)."""
    options = options if options is not None else RoomOptions.from_environment(os.environ)
    settings = settings if settings is not None else load_settings()
    from .export import ROOT  # the kit's folder, where quickstart/ is

    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    os.environ.setdefault("FLASK_SECRET_KEY", secrets.token_hex(32))  # one key per room
    from quickstart.sms.sms_conversation import production_app  # as deployed: limits, proxies

    hidden = tuple(v for name in SECRETS if (v := getattr(settings, name)))
    if options.simulate:
        token = secrets.token_hex(16)  # the rehearsal signs, so unsigned requests are refused
        app = production_app({"TWILIO_AUTH_TOKEN": token})
        server = serve(app, name="room")
        number = settings.twilio_phone_number or REHEARSAL_NUMBER
        rehearsal = Rehearsal(
            server.url + "/sms", number, phones=options.simulate, rate=options.rate,
            messages=options.messages, auth_token=token, seed=options.seed, sender=options.sender,
        )  # fmt: skip
        expiry, status = LocalTwilioJars(rehearsal.twilio), ""
        hidden += (token,)
    else:
        # Signatures are checked before the tunnel opens: only Twilio's requests make cards.
        server = serve(production_app({"TWILIO_AUTH_TOKEN": settings.twilio_auth_token}), "room")
        live = go_live(server, settings=settings, http_client=http_client)
        number = live.phone_number if live.number_points_here else None
        rehearsal, expiry, status = None, WallClock(), str(live)
        if not live.number_points_here:
            status += " (rehearse offline with: python3 kit.py room --simulate 30)"
    if options.trace:
        server.events.subscribe(trace_to(options.trace))
    room = Room(
        server, number=number, expiry=expiry, status=status, rehearsal=rehearsal, secrets=hidden
    )
    if rehearsal is not None:
        rehearsal.start()
    return room
