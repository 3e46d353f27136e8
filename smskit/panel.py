"""A live JupyterLab panel (ipywidgets) of every SMS conversation a served app is having.

>>> panel = ConversationPanel(server, names=name_for)   # re-running replaces the old panel
>>> panel                                              # shows it; panel.text() is its text view

Events arrive on the server's request threads and only touch a dict; one background thread
turns the dict into widget values at most every INTERVAL seconds, showing the most recent
ROWS conversations and the totals, so ten thousand conversations cost no more than ten.
"""

from __future__ import annotations

import html
import json
import logging
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass

import ipywidgets as widgets

from .clock import SimulatedClock
from .cookies import FOUR_HOURS
from .events import MessageEvent
from .live import LiveStatus, live_status
from .server import InKernelServer, servers
from .settings import SECRETS, load_settings, scrub
from .simulator import LocalTwilio

log = logging.getLogger(__name__)

ROWS = 20  # conversations shown; the rest are counted in the totals
INTERVAL = 0.08  # seconds: at most one render per interval, however many messages arrive
TICK = 1.0  # seconds between refreshes of the countdowns
LOG_LINES = 200  # request log lines kept
SERVER_LOGGER = "smskit.server"
HANDLER_NAME = "smskit-panel"
APP_SECRETS = ("TWILIO_AUTH_TOKEN", "SECRET_KEY")  # Flask config keys never to show

COLUMNS = ("who", "To", "count", "last message", "reply", "cookie expires in", "session")
STYLE = """<style>
.smskit-panel .widget-html-content { line-height: 1.4; }
.smskit-panel table { border-collapse: collapse; }
.smskit-panel th { text-align: left; padding: 2px 8px 2px 0; white-space: nowrap; }
.smskit-panel td { padding: 2px 8px 2px 0; vertical-align: top; }
.smskit-conversations tbody tr { border-top: 1px solid var(--jp-border-color2, #ddd); }
.smskit-conversations code, .smskit-who { white-space: nowrap; }
.smskit-log { max-height: 12em; overflow: auto; margin: 0; font-size: 85%; }
</style>"""

_panels: dict[str, ConversationPanel] = {}
_panels_lock = threading.Lock()


@dataclass(frozen=True)
class Row:
    """One conversation as the panel shows it; expires_in is seconds left (None: no cookie)."""

    who: str
    sender: str
    to: str
    count: int | None
    message: str
    reply: str
    expires_in: float | None
    session: dict


@dataclass(frozen=True)
class Totals:
    """Everything the panel has seen, shown or not."""

    conversations: int
    messages: int

    def text(self) -> str:
        """Like "2 conversations, 3 messages"."""
        return f"{counted(self.conversations, 'conversation')}, {counted(self.messages, 'message')}"


def remaining(seconds: float | None) -> str:
    """A countdown as H:MM:SS, "expired", or "no cookie"."""
    if seconds is None:
        return "no cookie"
    if seconds <= 0:
        return "expired"
    whole = int(seconds)
    return f"{whole // 3600}:{whole // 60 % 60:02d}:{whole % 60:02d}"


def counted(number: int, noun: str) -> str:
    """ "1 message", "10,000 messages"."""
    return f"{number:,} {noun}{'' if number == 1 else 's'}"


def session_text(session: dict) -> str:
    """The decoded session as compact JSON."""
    return json.dumps(session, sort_keys=True, default=str, ensure_ascii=False)


class _LogToPanel(logging.Handler):
    """Hands the server's log lines to a panel (called on request threads; never prints)."""

    def __init__(self, panel: ConversationPanel):
        super().__init__(logging.INFO)
        self.name = HANDLER_NAME
        self.panel = panel

    def emit(self, record: logging.LogRecord) -> None:
        try:
            stamp = time.strftime("%H:%M:%S", time.localtime(record.created))
            level = f"{record.levelname}: " if record.levelno >= logging.WARNING else ""
            self.panel.add_log_line(f"{stamp} {level}{record.getMessage()}")
        except Exception:
            self.handleError(record)


class ConversationPanel:
    """Every conversation's counter, a phone to text from, a clock and the request log."""

    def __init__(
        self,
        server: InKernelServer,
        *,
        twilio: LocalTwilio | None = None,
        names: Callable[[str], str] | None = None,
        sender: str = "+14158675309",
        to: str = "+15005550006",
        path: str = "/sms",
        counter_key: str = "counter",
        rows: int = ROWS,
        interval: float = INTERVAL,
    ):
        self.server, self.names, self.path = server, names, path
        self.counter_key, self.max_rows, self.interval = counter_key, rows, interval
        self._own_twilio = twilio is None
        settings = load_settings()
        self._live_secrets = [value for name in SECRETS if (value := getattr(settings, name))]
        self.twilio = twilio or LocalTwilio(server.url + path, auth_token=self._auth_token())
        self._conversations: OrderedDict[tuple[str, str], MessageEvent] = OrderedDict()
        self._messages = 0
        self._log: deque[str] = deque(maxlen=LOG_LINES)
        self._state_lock = threading.Lock()
        self._render_lock = threading.Lock()
        self._wake = threading.Event()
        self._closed = threading.Event()
        self.renders = 0
        self.show_live(live_status(server, path=path))
        self._build_widgets(sender, to)
        self._unsubscribe = server.events.subscribe(self._on_event)
        self._handler = self._attach_log_handler()
        self.render()
        self._thread = threading.Thread(target=self._run, name="smskit-panel", daemon=True)
        self._thread.start()
        with _panels_lock:
            old, _panels[server.name] = _panels.get(server.name), self
        if old is not None:
            old.close()

    # ---- widgets -------------------------------------------------------------------------

    def _build_widgets(self, sender: str, to: str) -> None:
        """Lay out the header, phone, clock, totals, table and log."""
        self.header = widgets.HTML()
        self.sender_box = widgets.Text(value=sender, description="From")
        self.to_box = widgets.Text(value=to, description="To")
        self.body_box = widgets.Text(value="hello", description="Body")
        self.send_button = widgets.Button(description="Send", icon="paper-plane")
        self.send_button.button_style = "primary"
        self.outcome = widgets.HTML("<i>Nothing sent yet.</i>")
        self.clock_label = widgets.HTML()
        self.hour_button = widgets.Button(description="+1 h", icon="forward")
        self.four_hours_button = widgets.Button(description="+4 h", icon="fast-forward")
        self.totals_label = widgets.HTML()
        self.table = widgets.HTML()
        self.log_view = widgets.HTML()
        for name, box in (("from", self.sender_box), ("to", self.to_box), ("body", self.body_box)):
            box.add_class(f"smskit-{name}")
        self.send_button.add_class("smskit-send")
        self.hour_button.add_class("smskit-plus-1h")
        self.four_hours_button.add_class("smskit-plus-4h")
        self.send_button.on_click(lambda _: self.send())
        self.hour_button.on_click(lambda _: self.advance(1))
        self.four_hours_button.on_click(lambda _: self.advance(4))
        if not isinstance(self.twilio.clock, SimulatedClock):
            self.hour_button.disabled = self.four_hours_button.disabled = True
        phone = widgets.VBox(
            [widgets.HTML("<b>Phone</b> (the local Twilio)"), self.sender_box, self.to_box]
            + [self.body_box, self.send_button, self.outcome],
            layout=widgets.Layout(width="360px"),
        )
        clock = widgets.VBox(
            [
                widgets.HTML("<b>Clock</b> (Twilio's cookie jars)"),
                self.clock_label,
                widgets.HBox([self.hour_button, self.four_hours_button]),
            ],
            layout=widgets.Layout(margin="0 0 0 24px"),
        )
        self.root = widgets.VBox(
            [
                widgets.HTML(STYLE),
                self.header,
                widgets.HBox([phone, clock]),
                self.totals_label,
                self.table,
                widgets.HTML("<b>Requests</b> (newest first)"),
                self.log_view,
            ]
        )
        self.root.add_class("smskit-panel")

    def _repr_mimebundle_(self, **kwargs) -> dict:
        """Show the widgets; the text form stays the same run after run (nbval compares it)."""
        bundle = self.root._repr_mimebundle_(**kwargs) or {}
        return {**bundle, "text/plain": repr(self)}

    def __repr__(self) -> str:
        return f"<ConversationPanel for {self.server.name!r}; text view: panel.text()>"

    # ---- what arrives --------------------------------------------------------------------

    def _on_event(self, event: MessageEvent) -> None:
        """Keep the event (on a request thread): a dict update and a wake-up, nothing more."""
        if not event.sender:
            return
        key = (event.sender, event.to)
        with self._state_lock:
            self._conversations[key] = event  # the latest event of each From/To pair
            self._conversations.move_to_end(key)
            self._messages += 1
        self._wake.set()

    def add_log_line(self, line: str) -> None:
        """Append one request log line (any thread); secrets are masked."""
        self._log.append(scrub(line, *self._secrets()))
        self._wake.set()

    def _attach_log_handler(self) -> _LogToPanel:
        """Route the server's log to this panel, replacing any handler a former panel left."""
        logger = logging.getLogger(SERVER_LOGGER)
        for stale in [h for h in logger.handlers if h.name == HANDLER_NAME]:
            if stale.panel.server.name == self.server.name:  # also one from a reloaded module
                logger.removeHandler(stale)
        if logger.getEffectiveLevel() > logging.INFO:
            logger.setLevel(logging.INFO)
        handler = _LogToPanel(self)
        logger.addHandler(handler)
        return handler

    @property
    def current_server(self) -> InKernelServer:
        """The server serving under the panel's name now (re-serving replaces the object)."""
        return servers().get(self.server.name, self.server)

    def _auth_token(self) -> str | None:
        """The auth token the served app checks signatures with, if any."""
        config = getattr(self.current_server.app, "config", None)
        return config.get("TWILIO_AUTH_TOKEN") if config is not None else None

    def _secrets(self) -> list[str]:
        """Values never to show: the app's signing key and token, the live credentials."""
        config = getattr(self.current_server.app, "config", None) or {}
        return [str(config[name]) for name in APP_SECRETS if config.get(name)] + self._live_secrets

    # ---- what the learner does -----------------------------------------------------------

    def send(self, body: str | None = None):
        """Text the server from the phone's From/To (body, or the Body box); shows the reply."""
        if self._own_twilio:
            self.twilio.url = self.current_server.url + self.path
            self.twilio.auth_token = self._auth_token()
        sender, to = self.sender_box.value.strip(), self.to_box.value.strip()
        try:
            delivery = self.twilio.text(sender, to, self.body_box.value if body is None else body)
        except ValueError as problem:
            self.outcome.value = f"<span style='color:#b00'>{html.escape(str(problem))}</span>"
            return None
        if delivery.ok:
            answer = delivery.reply or "(no reply)"
            self.outcome.value = f"Reply: <span class='smskit-answer'>{html.escape(answer)}</span>"
        else:
            error = html.escape(scrub(str(delivery.error), *self._secrets()))
            self.outcome.value = f"<span style='color:#b00'>{error}</span>"
        self._wake.set()
        return delivery

    def advance(self, hours: float) -> None:
        """Fast-forward the local Twilio's clock, so its cookies age."""
        self.twilio.clock.advance(hours=hours)
        self.render()

    def show_live(self, status: LiveStatus) -> None:
        """Show what smskit.live reports (a LiveStatus) in the header: public URL and number."""
        self.public_url = status.webhook_url
        self.public_note = status.reason or ""
        if status.number_points_here:
            self.number_note = f"{status.phone_number} points here"
        else:
            self.number_note = f"no: {status.number_reason or 'not hooked up'}"
        self._wake.set()

    # ---- what is shown -------------------------------------------------------------------

    def totals(self) -> Totals:
        """How many conversations and messages the panel has seen."""
        with self._state_lock:
            return Totals(len(self._conversations), self._messages)

    def rows(self, limit: int | None = None) -> list[Row]:
        """The most recent conversations first (at most `limit`, default the panel's rows)."""
        limit = self.max_rows if limit is None else limit
        with self._state_lock:
            recent = []
            for key in reversed(self._conversations):
                if len(recent) >= limit:
                    break
                recent.append(self._conversations[key])
        return [self._row(event) for event in recent]

    def row(self, sender: str, to: str) -> Row | None:
        """One conversation's row, or None if the panel has not seen it."""
        with self._state_lock:
            event = self._conversations.get((sender, to))
        return None if event is None else self._row(event)

    def _row(self, event: MessageEvent) -> Row:
        count = event.session.get(self.counter_key)
        if event.replies:
            reply = " / ".join(event.replies)
        else:
            reply = f"HTTP {event.status}" if event.status >= 400 else "(no reply)"
        who = self.names(event.sender) if self.names else event.sender
        return Row(
            who=who,
            sender=event.sender,
            to=event.to,
            count=count if isinstance(count, int) else None,
            message=event.body,
            reply=reply,
            expires_in=self._expires_in(event),
            session=event.session,
        )

    def _expires_in(self, event: MessageEvent) -> float | None:
        """Seconds the conversation's cookie has left: from the panel's local Twilio when it
        texted this pair (its simulated clock), else Twilio's four hours on the wall clock."""
        jars = self.twilio.jars
        if (event.sender, event.to) in jars.conversations:
            expires = jars.expires_at(event.sender, event.to)
            return None if expires is None else expires - self.twilio.clock.now()
        if event.session:  # a real phone: Twilio keeps the reply's cookie four hours
            return event.when.timestamp() + FOUR_HOURS - time.time()
        return None

    def text(self) -> str:
        """The table as plain text (deterministic for a given history; for notebooks and tests)."""
        lines = [self.totals().text()]
        columns = ("who", "From", "To", "count", "expires in", "session", "last message", "reply")
        table = [columns] + [
            (
                r.who,
                r.sender,
                r.to,
                "-" if r.count is None else str(r.count),
                remaining(r.expires_in),
                session_text(r.session),
                r.message,
                r.reply,
            )
            for r in self.rows()
        ]
        widths = [max(len(line[i]) for line in table) for i in range(len(columns))]
        for line in table:
            lines.append(
                "  ".join(
                    cell.ljust(width) for cell, width in zip(line, widths, strict=True)
                ).rstrip()
            )
        return "\n".join(lines)

    def render(self) -> None:
        """Put the current state into the widgets (any thread; unchanged values send nothing)."""
        with self._render_lock:
            rows, totals = self.rows(), self.totals()
            self.header.value = self._header_html()
            self.clock_label.value = self._clock_html()
            hidden = totals.conversations - len(rows)
            self.totals_label.value = f"<b class='smskit-totals'>{totals.text()}</b>" + (
                f" (the {len(rows)} most recent shown)" if hidden else ""
            )
            self.table.value = self._table_html(rows)
            lines = "\n".join(
                html.escape(line, quote=False) for line in reversed(list(self._log)[-30:])
            )
            self.log_view.value = f"<pre class='smskit-log'>{lines or '(no requests yet)'}</pre>"
            self.renders += 1

    def _header_html(self) -> str:
        public = (
            f"<a href='{html.escape(self.public_url)}'>{html.escape(self.public_url)}</a>"
            if self.public_url
            else f"local only ({html.escape(self.public_note)})"
        )
        facts = [
            ("Local URL", html.escape(self.current_server.url + self.path)),
            ("Public URL", public),
            (
                "Signatures",
                "checked" if self._auth_token() else "not checked (no TWILIO_AUTH_TOKEN)",
            ),
            ("Twilio number", html.escape(self.number_note)),
        ]
        cells = "".join(f"<tr><th>{k}</th><td>{v}</td></tr>" for k, v in facts)
        return f"<table class='smskit-header'>{cells}</table>"

    def _clock_html(self) -> str:
        clock = self.twilio.clock
        if isinstance(clock, SimulatedClock):
            return f"Twilio's time: <code>{clock.datetime():%Y-%m-%d %H:%M:%S} UTC</code>"
        return "Twilio's time: the real clock"

    def _table_html(self, rows: list[Row]) -> str:
        head = "".join(f"<th>{name}</th>" for name in COLUMNS)
        body = []
        for r in rows:
            who = html.escape(r.who)
            if r.who != r.sender:
                who += f"<br><small>{html.escape(r.sender)}</small>"
            cells = [
                ("who", who),
                ("to", html.escape(r.to)),
                ("count", "-" if r.count is None else str(r.count)),
                ("message", html.escape(r.message)),
                ("reply", html.escape(r.reply)),
                ("expires", remaining(r.expires_in)),
                ("session", f"<code>{html.escape(session_text(r.session))}</code>"),
            ]
            tds = "".join(f"<td class='smskit-{name}'>{value}</td>" for name, value in cells)
            sender, to = html.escape(r.sender), html.escape(r.to)
            body.append(f"<tr data-from='{sender}' data-to='{to}'>{tds}</tr>")
        return (
            f"<table class='smskit-conversations'><thead><tr>{head}</tr></thead>"
            f"<tbody>{''.join(body)}</tbody></table>"
        )

    # ---- the render thread and the end ---------------------------------------------------

    def _run(self) -> None:
        """Render when woken, at most once per interval; refresh countdowns every TICK."""
        last = 0.0
        while not self._closed.is_set():
            woken = self._wake.wait(TICK)
            if self._closed.is_set():
                break
            pause = last + self.interval - time.monotonic()
            if woken and pause > 0:  # rendered a moment ago: let more messages gather first
                self._closed.wait(pause)
            self._wake.clear()
            try:
                self.render()
            except Exception:
                log.exception("The conversation panel could not render")
            if woken:  # a countdown refresh does not delay the next message's render
                last = time.monotonic()

    @property
    def closed(self) -> bool:
        return self._closed.is_set()

    def close(self) -> None:
        """Stop listening: unsubscribe, detach the log handler, end the thread, close widgets."""
        if self._closed.is_set():
            return
        self._closed.set()
        self._wake.set()
        self._unsubscribe()
        logging.getLogger(SERVER_LOGGER).removeHandler(self._handler)
        if self._thread is not threading.current_thread():
            self._thread.join(timeout=5)
        for widget in descendants(self.root):
            widget.close()
        with _panels_lock:
            if _panels.get(self.server.name) is self:
                del _panels[self.server.name]


def descendants(widget: widgets.Widget) -> list[widgets.Widget]:
    """widget and every widget inside it, their Layout and Style widgets included."""
    found = [widget]
    for part in ("layout", "style"):
        if isinstance(getattr(widget, part, None), widgets.Widget):
            found.append(getattr(widget, part))
    for child in getattr(widget, "children", ()):
        found += descendants(child)
    return found


def panels() -> dict[str, ConversationPanel]:
    """The open panels, by server name."""
    with _panels_lock:
        return dict(_panels)
