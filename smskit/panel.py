"""A live JupyterLab panel of every SMS conversation a served app is having.

>>> panel = ConversationPanel(server, names=name_for)   # re-running replaces the old panel
>>> panel                                              # shows it; panel.text() is its text view

Three parts, put together here: the model (smskit.conversations: fed by the server's events,
no widgets), its view (smskit.panel_view: the table) and a phone (smskit.phone: a local
Twilio to text from, and its clock). Events arrive on the server's request threads and only
touch the model; a render loop (smskit.throttle) turns it into widget values at most every
INTERVAL seconds, showing the ROWS most recent conversations, so ten thousand cost no more
than ten. Secrets to hide and the token to sign with are passed in; the panel never reads
them from the served app.
"""

from __future__ import annotations

import html
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable

import ipywidgets as widgets

from .conversations import Conversations, Row, Totals
from .countdown import LocalTwilioJars
from .live import LiveStatus, live_status
from .panel_view import ROWS, ConversationView
from .phone import Phone
from .registry import servers
from .server import InKernelServer
from .settings import SECRETS, Settings, load_settings, scrub
from .simulator import Delivery, LocalTwilio
from .widget_host import WidgetHost

log = logging.getLogger(__name__)

INTERVAL = 0.08  # seconds: at most one render per interval, however many messages arrive
TICK = 1.0  # seconds between refreshes of the countdowns
LOG_LINES = 200  # request log lines kept
SERVER_LOGGER = "smskit.server"
HANDLER_NAME = "smskit-panel"

STYLE = """<style>
.smskit-panel .widget-html-content { line-height: 1.4; }
.smskit-panel table { border-collapse: collapse; }
.smskit-panel th { text-align: left; padding: 2px 8px 2px 0; white-space: nowrap; }
.smskit-panel td { padding: 2px 8px 2px 0; vertical-align: top; }
.smskit-conversations tbody tr { border-top: 1px solid var(--jp-border-color2, #ddd); }
.smskit-who, .smskit-from, .smskit-to, .smskit-expires { white-space: nowrap; }
.smskit-session { font-family: var(--jp-code-font-family, monospace); }
.smskit-log { max-height: 12em; overflow: auto; margin: 0; font-size: 85%; }
</style>"""
# The log scrolls, so it takes keyboard focus (WCAG 2.1.1) and says what it is to a screen reader.
LOG_OPEN = "<pre class='smskit-log' tabindex='0' role='log' aria-label='Requests handled'>"

_panels: dict[str, ConversationPanel] = {}
_panels_lock = threading.Lock()


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
        auth_token: str | None = None,
        secrets: Iterable[str | None] = (),
        settings: Settings | None = None,
        sender: str = "+14158675309",
        to: str = "+15005550006",
        path: str = "/sms",
        counter_key: str = "counter",
        rows: int = ROWS,
        interval: float = INTERVAL,
    ):
        """auth_token: what the phone signs with (the app's TWILIO_AUTH_TOKEN, if it checks);
        secrets: values never to show (the app's secret key ...), besides the live credentials
        of settings (default: load_settings())."""
        self.server, self.path, self.interval = server, path, interval
        settings = settings if settings is not None else load_settings()
        live = [getattr(settings, name) for name in SECRETS]
        self._hidden = [str(s) for s in (*secrets, *live) if s]
        self.phone = Phone(
            lambda: self.current_server.url + path, auth_token=auth_token, twilio=twilio
        )
        self.model = Conversations(
            LocalTwilioJars(self.phone.twilio), names=names, counter_key=counter_key
        )
        self.view = ConversationView(self.model, rows)
        self._log: deque[str] = deque(maxlen=LOG_LINES)
        self._build_widgets(sender, to)
        self._set_live(live_status(server, path=path, settings=settings))
        self.host = WidgetHost(
            server.events, self.model, self.root, self._draw,
            interval=interval, tick=TICK, name="smskit-panel",
        )  # fmt: skip
        self._handler = self._attach_log_handler()
        with _panels_lock:
            old, _panels[server.name] = _panels.get(server.name), self
        if old is not None:
            old.close()

    # ---- widgets -------------------------------------------------------------------------

    def _build_widgets(self, sender: str, to: str) -> None:
        """Lay out the header, phone, clock, conversation view and log."""
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
        self.log_view = widgets.HTML()
        for name, box in (("from", self.sender_box), ("to", self.to_box), ("body", self.body_box)):
            box.add_class(f"smskit-{name}")
        self.send_button.add_class("smskit-send")
        self.hour_button.add_class("smskit-plus-1h")
        self.four_hours_button.add_class("smskit-plus-4h")
        self.send_button.on_click(lambda _: self.send())
        self.hour_button.on_click(lambda _: self.advance(1))
        self.four_hours_button.on_click(lambda _: self.advance(4))
        if not self.phone.can_travel:
            self.hour_button.disabled = self.four_hours_button.disabled = True
        phone = widgets.VBox(
            [widgets.HTML("<b>Phone</b> (the local Twilio)"), self.sender_box, self.to_box]
            + [self.body_box, self.send_button, self.outcome],
            layout=widgets.Layout(width="360px"),
        )
        clock = widgets.VBox(
            [
                widgets.HTML("<b>Clock</b> (the local Twilio's cookie jars)"),
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
                self.view.widget,
                widgets.HTML("<b>Requests</b> (newest first)"),
                self.log_view,
            ]
        )
        self.root.add_class("smskit-panel")

    @property
    def table(self) -> widgets.HTML:
        return self.view.table

    @property
    def totals_label(self) -> widgets.HTML:
        return self.view.totals_label

    @property
    def twilio(self) -> LocalTwilio:
        return self.phone.twilio

    @property
    def max_rows(self) -> int:
        return self.view.max_rows

    @property
    def renders(self) -> int:
        return self.host.renders

    def _repr_mimebundle_(self, **kwargs) -> dict:
        """Show the widgets; the text form stays the same run after run (nbval compares it)."""
        return self.host.bundle(repr(self), **kwargs)

    def __repr__(self) -> str:
        return f"<ConversationPanel for {self.server.name!r}; text view: panel.text()>"

    # ---- what arrives --------------------------------------------------------------------

    def add_log_line(self, line: str) -> None:
        """Append one request log line (any thread); secrets are masked."""
        self._log.append(scrub(line, *self._secrets))
        self.host.poke()

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
    def _secrets(self) -> list[str]:
        """Values never to show: those given, the live credentials, the phone's token."""
        return [*self._hidden, self.phone.auth_token] if self.phone.auth_token else self._hidden

    @property
    def current_server(self) -> InKernelServer:
        """The server serving under the panel's name now (re-serving replaces the object)."""
        return servers().get(self.server.name, self.server)

    # ---- what the learner does -----------------------------------------------------------

    def send(self, body: str | None = None) -> Delivery | None:
        """Text the server from the phone's From/To (body, or the Body box); shows the reply."""
        sender, to = self.sender_box.value.strip(), self.to_box.value.strip()
        try:
            delivery = self.phone.text(sender, to, self.body_box.value if body is None else body)
        except ValueError as problem:
            self.outcome.value = f"<span style='color:#b00'>{html.escape(str(problem))}</span>"
            return None
        if delivery.ok:
            answer = delivery.reply or "(no reply)"
            self.outcome.value = f"Reply: <span class='smskit-answer'>{html.escape(answer)}</span>"
        else:
            error = html.escape(scrub(str(delivery.error), *self._secrets))
            self.outcome.value = f"<span style='color:#b00'>{error}</span>"
        self.host.poke()
        return delivery

    def advance(self, hours: float) -> None:
        """Fast-forward the local Twilio's clock: every conversation it carried ages."""
        self.phone.advance(hours)
        self.render()

    def show_live(self, status: LiveStatus) -> None:
        """Show what smskit.live reports (a LiveStatus) in the header: public URL and number."""
        self._set_live(status)
        self.host.poke()

    def _set_live(self, status: LiveStatus) -> None:
        self.public_url = status.webhook_url
        self.public_note = status.reason or ""
        if status.number_points_here:
            self.number_note = f"{status.phone_number} points here"
        else:
            self.number_note = f"no: {status.number_reason or 'not hooked up'}"

    # ---- what is shown -------------------------------------------------------------------

    def totals(self) -> Totals:
        """How many conversations and messages the panel has seen (and refused, opted out)."""
        return self.model.totals()

    def rows(self, limit: int | None = None) -> list[Row]:
        """The most recent conversations first (at most `limit`, default the panel's rows)."""
        return self.model.rows(self.max_rows if limit is None else limit)

    def row(self, sender: str, to: str) -> Row | None:
        """One conversation's row, or None if the panel has not seen it."""
        return self.model.row(sender, to)

    def text(self) -> str:
        """The table as plain text (deterministic for a given history; for notebooks and tests)."""
        return self.model.text(self.max_rows)

    def render(self) -> None:
        """Put the current state into the widgets (any thread; unchanged values send nothing)."""
        self.host.render()

    def _draw(self) -> None:
        self.header.value = self._header_html()
        self.clock_label.value = self._clock_html()
        self.view.render()
        lines = "\n".join(
            html.escape(line, quote=False) for line in reversed(list(self._log)[-30:])
        )
        self.log_view.value = f"{LOG_OPEN}{lines or '(no requests yet)'}</pre>"

    def _header_html(self) -> str:
        public = (
            f"<a href='{html.escape(self.public_url)}'>{html.escape(self.public_url)}</a>"
            if self.public_url
            else f"local only ({html.escape(self.public_note)})"
        )
        signing = "signs" if self.phone.auth_token else "does not sign (no auth token given)"
        facts = [
            ("Local URL", html.escape(self.current_server.url + self.path)),
            ("Public URL", public),
            ("The phone", signing),
            ("Twilio number", html.escape(self.number_note)),
        ]
        cells = "".join(f"<tr><th>{k}</th><td>{v}</td></tr>" for k, v in facts)
        return f"<table class='smskit-header'>{cells}</table>"

    def _clock_html(self) -> str:
        if not self.phone.can_travel:
            return "Twilio's time: the real clock"
        now = self.phone.clock.datetime()
        return (
            f"Twilio's time: <code>{now:%Y-%m-%d %H:%M:%S} UTC</code><br><small>Rows on the "
            "local Twilio's clock age with it; the others follow the wall clock.</small>"
        )

    # ---- the end -------------------------------------------------------------------------

    @property
    def closed(self) -> bool:
        return self.host.closed

    def close(self) -> None:
        """Stop listening: unsubscribe, detach the log handler, end the loop, close widgets."""
        if self.closed:
            return
        logging.getLogger(SERVER_LOGGER).removeHandler(self._handler)
        self.host.close()
        with _panels_lock:
            if _panels.get(self.server.name) is self:
                del _panels[self.server.name]


def panels() -> dict[str, ConversationPanel]:
    """The open panels, by server name."""
    with _panels_lock:
        return dict(_panels)
