"""Room mode: one Twilio number, one projector, every conversation in the room live.

>>> room = open_room()        # in room/room.ipynb, which `python3 kit.py room` serves with Voilà
>>> room                      # the dashboard: the number and its QR code, a card per conversation

The room serves the quickstart's handler from this kernel and shows a Conversations model
(smskit.conversations) as cards in the order the phones first texted (a card keeps its place):
the count, a bar counting down the cookie's four hours, how long ago the phone last texted,
whether its reply still waits in the carrier's queue, and whether it opted out. Up to 60 cards
fill a 1920x1080 projector in type readable from the back; beyond that the first 20 stay and an
index lists every phone by its count, saying how many are not cards. A projector is public,
so numbers are masked to their last four digits and message bodies hidden until the
instructor shows them.
Live when the credentials are there (smskit.live), else a rehearsal (smskit.rehearsal) or
local only, saying in one line what is missing.
"""

from __future__ import annotations

import html
import json
import logging
import math
import os
import secrets
import sys
import threading
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass

import ipywidgets as widgets
import segno

from .conversations import Column, Conversations, Row, ago, counted
from .countdown import Expiry, LocalTwilioJars, WallClock
from .events import MessageEvent
from .live import go_live
from .numbers import display_number, mask_number
from .preflight import preflight, verdict
from .rehearsal import Rehearsal
from .server import InKernelServer
from .serving import serve
from .settings import SECRETS, Settings, load_settings, scrub
from .twilio_number import NumberInUse, claim_number, release_number
from .watching import page_watch
from .widget_host import WidgetHost

log = logging.getLogger(__name__)

INTERVAL = 0.25  # seconds: at most four renders a second, however busy the room
TICK = 5.0  # seconds between refreshes of bars and "ago" when nobody texts
REHEARSAL_NUMBER = "+15005550006"  # Twilio's test number: what the phones text in a rehearsal
# A 1920x1080 projector: the header takes HEAD px, the cards the rest (less the page's margins).
WIDTH, HEIGHT, HEAD = 1920 - 48, 1080, 230  # px
CARD_SHAPE = 1.4  # a card's width over its height
PHONE_EM = 4.5 * 1.3  # em² an index entry ("••• 0001" and its gap) takes; half the index is gaps
CARDS_MAX = 60  # cards that fit at full size (masked number >= 24 px, count >= 48 px)
CARDS_BEYOND = 20  # cards kept, beside the index, when more phones than CARDS_MAX text
BEYOND_SHARE = 0.38  # of the cards' height, for those cards (the index gets the rest)
STYLE = """<style>
.room { font-family: system-ui, sans-serif; color: #111; }
.room .widget-html-content { line-height: 1.2; }
.room-head { align-items: center; gap: 32px; height: 200px; overflow: hidden; }
.room-join { display: flex; align-items: center; gap: 24px; }
.room-number { font-size: 56px; font-weight: 700; margin: 4px 0; }
.room-hint { font-size: 22px; color: #333; }
.room-status { font-size: 18px; color: #333; }
.room-totals { font-size: 24px; margin: 4px 0; }
.room-cards { display: grid; gap: 8px; height: var(--area);
  grid-template-columns: repeat(var(--cols), minmax(0, 1fr));
  grid-template-rows: repeat(var(--rows), minmax(0, 1fr));
  --cell-h: calc((var(--area) - (var(--rows) - 1) * 8px) / var(--rows));
  --cell-w: calc((100vw - 48px - (var(--cols) - 1) * 8px) / var(--cols)); }
.room-card { border: 2px solid #555; border-radius: 8px; padding: 4px 8px; background: #fff;
  display: flex; flex-wrap: wrap; align-content: space-between; column-gap: 0.6em;
  overflow: hidden; font-size: min(calc(var(--cell-h) * .13), calc(var(--cell-w) * .09)); }
.room-card.room-out { border-style: dashed; background: #f2f2f2; }
.room-who { flex-basis: 100%; white-space: nowrap; font-weight: 600;
  font-size: min(calc(var(--cell-h) * .2), calc(var(--cell-w) * .14)); }
.room-count { flex-basis: 100%; font-weight: 700; line-height: 1;
  font-size: min(calc(var(--cell-h) * .4), calc(var(--cell-w) * .3)); }
.room-bar { flex-basis: 100%; height: 0.6em; border: 1px solid #333; border-radius: 3px;
  background: #fff; overflow: hidden; }
.room-bar > div { height: 100%; background: #1f5fbf; }
.room-since, .room-queued, .room-optout { white-space: nowrap; }
.room-queued::before, .room-optout::before { content: "· "; }
.room-optout { font-weight: 700; }
.room-message { flex-basis: 100%; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.room-beyond { font-size: 22px; font-weight: 600; margin: 8px 0 4px; }
.room-index-row { margin: 2px 0; }
.room-index-label { font-weight: 700; margin-right: 0.6em; }
.room-phone { display: inline-block; margin-right: 0.8em; white-space: nowrap; }
.room-index-out .room-phone { text-decoration: line-through; }
</style>"""


def qr_svg(number: str) -> str:
    """An inline SVG QR code of the sms: link (RFC 5724) that opens a message to number."""
    return segno.make(f"sms:{number}", error="m").svg_inline(scale=5, dark="#000", light="#fff")


def card_html(row: Row, columns: tuple[Column, ...], reveal: Collection[str] = ()) -> str:
    """One conversation's card: the columns marked for cards, masked but for what is revealed
    (smskit.conversations.MASKS); the countdown is an outlined bar of the cookie's lifetime
    (its length, not its colour, says what is left), an opt-out is said in words."""
    parts = []
    for column in (c for c in columns if c.card):
        text = column.text(row, reveal)
        if column.key == "expires":
            share, label = row.countdown.share, html.escape(f"cookie: {text} ({row.clock})")
            parts.append(
                f"<div class='room-bar' role='progressbar' aria-valuemin='0' aria-valuemax='100' "
                f"aria-valuenow='{share * 100:.0f}' title='{label}' aria-label='{label}'>"
            )
            parts.append(f"<div style='width:{share:.1%}'></div></div>")
            parts.append(f"<div class='room-since'>{ago(row.since)}</div>")
        elif column.key == "optout":
            parts.append("<div class='room-optout'>opted out</div>" if row.opted_out else "")
        elif text:
            parts.append(f"<div class='room-{column.key}'>{html.escape(text)}</div>")
    out = " room-out" if row.opted_out else ""
    count = "-" if row.count is None else row.count
    return f"<div class='room-card{out}' data-count='{count}'>{''.join(parts)}</div>"


def grid(cards: int, ratio: float) -> tuple[int, int]:
    """Columns and rows for cards in an area `ratio` times wider than tall, each card about
    CARD_SHAPE times wider than tall, so that together they fill it."""
    columns = max(1, min(cards, math.ceil(math.sqrt(cards * ratio / CARD_SHAPE))))
    return columns, max(1, math.ceil(cards / columns))


def cards_html(rows: list[Row], columns: tuple[Column, ...], reveal: Collection[str]) -> str:
    """Every card, sized to fill the screen below the header; beyond CARDS_MAX, the first
    CARDS_BEYOND cards, a line saying how many are not cards, and an index of every phone."""
    many = len(rows) > CARDS_MAX
    shown = rows[:CARDS_BEYOND] if many else rows
    share = BEYOND_SHARE if many else 1.0
    cols, lines = grid(len(shown), WIDTH / ((HEIGHT - HEAD) * share))
    area = f"calc((100vh - {HEAD}px) * {share})"
    cards = "".join(card_html(row, columns, reveal) for row in shown)
    style = f"--cols:{cols};--rows:{lines};--area:{area}"
    out = f"<div class='room-cards' style='{style}'>{cards}</div>"
    if many:
        out += index_html(rows, columns, reveal, len(rows) - len(shown))
    return out


def index_html(
    rows: list[Row], columns: tuple[Column, ...], reveal: Collection[str], hidden: int
) -> str:
    """The whole room as a histogram of counts: one line per count, made of the phones (masked
    as on the cards) that have it, so everyone finds their own; opted-out phones on their own
    line, struck through and named."""
    who = next(c for c in columns if c.key == "who")
    by_count: dict[tuple[bool, int], list[tuple[str, str]]] = {}
    for row in rows:
        count = -1 if row.count is None else row.count
        key = (row.opted_out, -1 if row.opted_out else count)
        by_count.setdefault(key, []).append((who.text(row, reveal), "-" if count < 0 else count))
    area = WIDTH * (HEIGHT - HEAD) * (1 - BEYOND_SHARE) / 2  # px², row breaks leave gaps
    size = max(12, min(28, int(math.sqrt(area / (len(rows) * PHONE_EM)))))
    lines = []
    for out, count in sorted(by_count):
        phones = sorted(by_count[out, count])
        label = "opted out" if out else "no count" if count < 0 else f"count {count}"
        tokens = "".join(
            f"<span class='room-phone' data-count='{n}'><span class='room-who'>"
            f"{html.escape(p)}</span></span>"
            for p, n in phones
        )
        label += f", {counted(len(phones), 'phone')}:"
        lines.append(
            f"<div class='room-index-row{' room-index-out' if out else ''}'>"
            f"<span class='room-index-label'>{label}</span>{tokens}</div>"
        )
    said = (
        f"{hidden:,} more phones than fit as cards: the cards are the first "
        f"{CARDS_BEYOND} to text; every phone is below, by its count."
    )
    return (
        f"<div class='room-beyond'>{said}</div>"
        f"<div class='room-index' style='font-size:{size}px'>{''.join(lines)}</div>"
    )


def join_html(number: str | None) -> str:
    """The number to text in large type and as a QR code; without one, what is missing."""
    if number is None:
        return (
            "<div class='room-join'><div><div class='room-number'>No number yet</div>"
            "<div class='room-hint'>The line beside says what the room needs to go live.</div>"
            "</div></div>"
        )
    return (
        "<div class='room-join'><div><div class='room-hint'>Text anything to</div>"
        f"<div class='room-number'>{html.escape(display_number(number))}</div>"
        "<div class='room-hint'>and find your number's last four digits below.</div></div>"
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
        watched: Callable[[], bool] | None = None,
    ):
        """watched: whether a page shows the room now (smskit.watching; None: always render)."""
        self.server, self.number, self.rehearsal = server, number, rehearsal
        self._secrets = secrets
        self.model = Conversations(expiry)
        self.status = status
        self.show_numbers = widgets.ToggleButton(False, description="Show numbers", icon="eye")
        self.show_bodies = widgets.ToggleButton(False, description="Show messages", icon="comment")
        self.status_label = widgets.HTML()
        self.totals_label = widgets.HTML()
        self.cards = widgets.HTML()
        self.join = widgets.HTML(join_html(number))
        controls = widgets.HBox([self.show_numbers, self.show_bodies])
        side = widgets.VBox([self.status_label, controls, self.totals_label])
        head = widgets.HBox([self.join, side])
        head.add_class("room-head")
        self.root = widgets.VBox([widgets.HTML(STYLE), head, self.cards])
        self.root.add_class("room")
        self.host = WidgetHost(
            server.events, self.model, self.root, self._draw,
            interval=INTERVAL, tick=TICK, name="smskit-room", watched=watched,
        )  # fmt: skip
        for toggle in (self.show_numbers, self.show_bodies):
            toggle.observe(lambda _: self.render(), "value")

    @property
    def renders(self) -> int:
        return self.host.renders

    def render(self) -> None:
        """Cards in the order their phones first texted, the totals and the status line (any
        thread)."""
        self.host.render()

    def _draw(self) -> None:
        rows, totals = self.model.rows(), self.model.totals()
        reveal = {"numbers": self.show_numbers.value, "messages": self.show_bodies.value}
        shown = [what for what, on in reveal.items() if on]
        rows.sort(key=lambda row: row.arrived)  # a card keeps its place as messages come
        self.cards.value = cards_html(rows, self.model.columns, shown)
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


def go_live_once(server: InKernelServer, settings: Settings, http_client=None):
    """Claim the number before any tunnel opens (a second kernel is told the room is open
    elsewhere and starts no ngrok agent), go live, and run the preflight once live: the number
    it points, or None, and the status line."""
    phone = settings.twilio_phone_number
    if settings.has_twilio:
        try:
            claim_number(phone)
        except NumberInUse as elsewhere:
            return None, str(elsewhere)
    live = go_live(server, settings=settings, http_client=http_client)
    if not live.number_points_here:
        if settings.has_twilio:
            release_number(phone)  # not live: another kernel may take the number
        return None, f"{live} (rehearse offline with: python3 kit.py room --simulate 30)"
    checks = preflight(settings, http_client, ours=live.webhook_url)
    return live.phone_number, f"{live} {verdict(checks)}."


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
        number, status = go_live_once(server, settings, http_client)
        rehearsal, expiry = None, WallClock()
    if options.trace:
        server.events.subscribe(trace_to(options.trace))
    room = Room(
        server, number=number, expiry=expiry, status=status, rehearsal=rehearsal, secrets=hidden,
        watched=page_watch(os.environ),
    )  # fmt: skip
    if rehearsal is not None:
        rehearsal.start()
    return room
