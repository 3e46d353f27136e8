"""One ngrok tunnel per local port (pyngrok), reused on re-runs, closed on stop and at exit.

Every failure (no token, no binary and no network, an agent that exits or hangs) ends within a
few seconds in TunnelUnavailable, whose message is one sentence saying what to do.

>>> tunnel = open_tunnel(server.port)        # again on a re-run: the same tunnel
>>> tunnel.public_url
'https://abc123.ngrok-free.app'
>>> close_tunnel(server.port)                # the agent stops with its last tunnel
"""

from __future__ import annotations

import atexit
import contextlib
import io
import logging
import os
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .settings import LOCAL_ONLY, Settings, load_settings, scrub

# pyngrok is imported where a tunnel is opened, never on import: it cannot even be imported in
# a browser (the browser edition), which has no tunnels.
if TYPE_CHECKING:
    from pyngrok import ngrok
    from pyngrok.conf import PyngrokConfig
    from pyngrok.process import NgrokProcess

log = logging.getLogger(__name__)

START_TIMEOUT = 5.0  # seconds for the agent to start and open a tunnel
INSTALL_TIMEOUT = 60.0  # seconds to download the agent on first use (fails at once offline)
REQUEST_TIMEOUT = 3.0  # seconds for each call to the agent's local API

_open: dict[int, ngrok.NgrokTunnel] = {}
_agent: NgrokProcess | None = None  # the agent pyngrok started for us, as pyngrok returned it
_lock = threading.Lock()
_environment_lock = threading.Lock()

# ngrok's own log lines go to pyngrok's loggers: keep them off a cell's stderr.
logging.getLogger("pyngrok").addHandler(logging.NullHandler())


class TunnelUnavailable(RuntimeError):
    """No tunnel could be opened; the message says what to do, in one sentence."""


@dataclass(frozen=True)
class Tunnel:
    """A public https URL that forwards to 127.0.0.1:port."""

    public_url: str
    port: int


class _Redact(logging.Filter):
    """Masks the auth token in ngrok's log lines (some ngrok errors echo it)."""

    def __init__(self):
        super().__init__()
        self.secrets: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = scrub(message, *self.secrets)
        if cleaned != message:
            record.msg, record.args = cleaned, ()
        return True


_redact = _Redact()
logging.getLogger("pyngrok.process.ngrok").addFilter(_redact)


def agent_config(settings: Settings) -> PyngrokConfig:
    """pyngrok's settings for our agent: its default paths and time limits, and no token.

    Given a token, pyngrok passes it as `--authtoken` on the agent's command line, where `ps`
    shows it to every user; the agent reads it from its environment instead (see _agent_token).
    PyngrokConfig falls back to an exported NGROK_AUTHTOKEN (and NGROK_API_KEY) when given
    None, so both are cleared after it is made.
    """
    from pyngrok import conf

    default = conf.get_default()
    config = conf.PyngrokConfig(
        ngrok_path=default.ngrok_path,
        config_path=default.config_path,
        startup_timeout=int(START_TIMEOUT) - 1,  # pyngrok gives up first, with ngrok's words
        request_timeout=REQUEST_TIMEOUT,
    )
    config.auth_token = config.api_key = None
    return config


@contextmanager
def _agent_token(token: str) -> Iterator[None]:
    """NGROK_AUTHTOKEN in this process's environment while pyngrok starts the agent, then put back.

    The agent inherits it and reads it as its authtoken (ngrok's own Docker image is run with
    `-e NGROK_AUTHTOKEN=...`: https://ngrok.com/download/docker); a process's environment is
    readable only by its user (/proc/PID/environ is 0400), unlike its arguments.
    """
    with _environment_lock:
        before = os.environ.get("NGROK_AUTHTOKEN")
        os.environ["NGROK_AUTHTOKEN"] = token
        try:
            yield
        finally:
            if before is None:
                os.environ.pop("NGROK_AUTHTOKEN", None)
            else:
                os.environ["NGROK_AUTHTOKEN"] = before


def name_for(port: int) -> str:
    """The name our tunnel to this port has in the agent."""
    return f"smskit-{port}"


def open_tunnel(port: int, settings: Settings | None = None) -> Tunnel:
    """A tunnel to 127.0.0.1:port: the open one if there is one, else a new one."""
    settings = settings if settings is not None else load_settings()
    if not settings.has_ngrok:
        raise TunnelUnavailable(settings.ngrok_problem)
    _redact.secrets.add(settings.ngrok_authtoken)
    config = agent_config(settings)
    with _lock:
        if not _agent_running():
            _forget_dead_agent(config)
        found = _running_tunnel(port, config)
        if found is None:
            _install(config)
            found = _connect(port, config, settings)
            log.info("Tunnel %s -> 127.0.0.1:%s opened", found.public_url, port)
        else:
            log.info("Tunnel %s -> 127.0.0.1:%s reused", found.public_url, port)
        _open[port] = found
        _remember_agent(config)
        return Tunnel(found.public_url, port)


def close_tunnel(port: int) -> None:
    """Close the tunnel to port, and stop the agent when no tunnel is left; harmless if none."""
    from pyngrok import ngrok
    from pyngrok.exception import PyngrokError

    with _lock:
        found = _open.pop(port, None)
        if found is None:
            return
        try:
            ngrok.disconnect(found.public_url, found.pyngrok_config)
        except PyngrokError as problem:
            log.info("Closing %s: %s", found.public_url, problem)
        log.info("Tunnel %s closed", found.public_url)
        if not _open:
            _stop_agent(found.pyngrok_config)


@atexit.register
def close_all() -> None:
    """Close every tunnel and stop the agent (also run when the interpreter exits)."""
    if "pyngrok.ngrok" not in sys.modules:  # no tunnel was ever opened
        return
    from pyngrok import conf

    with _lock:
        _open.clear()
        _stop_agent(conf.get_default())


def tunnels() -> dict[int, Tunnel]:
    """The tunnels open now, by local port (no network)."""
    if not _open:  # also keeps pyngrok unimported until a tunnel is opened
        return {}
    with _lock:
        if not _agent_running():
            _open.clear()
        return {port: Tunnel(found.public_url, port) for port, found in _open.items()}


def _remember_agent(config: PyngrokConfig) -> None:
    """Keep pyngrok's record of the running agent (it has just answered, so this starts none)."""
    from pyngrok import ngrok

    global _agent
    _agent = ngrok.get_ngrok_process(config)


def _agent_running() -> bool:
    """Whether the agent pyngrok started for us is alive.

    pyngrok's is_process_running asks Popen.poll(), which answers "running" whenever another
    thread (pyngrok's own log monitor polls in a loop) is polling the same process at that
    moment; on a busy machine a dead agent then looked alive. waitid with WNOWAIT asks the
    kernel without taking Popen's lock and without reaping the agent.
    """
    if _agent is None or _agent.proc.returncode is not None:
        return False
    if not hasattr(os, "waitid"):  # Windows (no such lock there) and macOS before Python 3.13
        return _agent.proc.poll() is None
    try:
        exited = os.waitid(os.P_PID, _agent.proc.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
    except ChildProcessError:  # already reaped: gone
        return False
    return exited is None


def _forget_dead_agent(config: PyngrokConfig) -> None:
    """Forget an agent that is gone: its tunnels, and pyngrok's record of it.

    pyngrok decides whether to start an agent with Popen.poll(), which calls a dead agent
    running while pyngrok's log monitor holds Popen's lock; it would then reuse the dead one
    ("local API did not answer"). ngrok.kill reaps it and drops the record, so a new one starts.
    """
    global _agent
    _open.clear()
    if _agent is not None:
        _agent.stop_monitor_thread()
        _stop_agent(config)


def _running_tunnel(port: int, config: PyngrokConfig) -> ngrok.NgrokTunnel | None:
    """Our tunnel to port if the agent is running and still lists it."""
    from pyngrok import ngrok
    from pyngrok.exception import PyngrokError

    if not _agent_running():
        return None
    try:
        listed = ngrok.get_tunnels(config)
    except PyngrokError as problem:  # the agent stopped answering: start afresh
        log.info("The ngrok agent did not list its tunnels (%s); restarting it", problem)
        _stop_agent(config)
        return None
    return next((found for found in listed if found.name == name_for(port)), None)


def _within(seconds: float, work, name: str) -> dict:
    """Run work() in a thread; its {"value": ...} or {"error": ...}, or {} if still running."""
    outcome: dict = {}

    def run():
        try:
            outcome["value"] = work()
        except Exception as problem:  # reported to the caller's thread
            outcome["error"] = problem

    worker = threading.Thread(target=run, name=name, daemon=True)
    worker.start()
    worker.join(seconds)
    return outcome


def _install(config: PyngrokConfig) -> None:
    """Download the agent and write its config if they are missing, within INSTALL_TIMEOUT."""
    from pyngrok import conf, ngrok
    from pyngrok.exception import PyngrokNgrokInstallError

    config_path = conf.get_config_path(config)
    if os.path.exists(config.ngrok_path) and os.path.exists(config_path):
        return
    # pyngrok prints "Downloading ngrok ..." on stdout, which offline would come before the kit's
    # one sentence, and has no public switch for it: its progress goes to a buffer instead, for
    # as long as this cell waits (a download still running after that prints on).
    with contextlib.redirect_stdout(io.StringIO()):
        outcome = _within(INSTALL_TIMEOUT, lambda: ngrok.install_ngrok(config), "ngrok-install")
    problem = outcome.get("error")
    if not outcome:
        raise TunnelUnavailable(
            f"Downloading the ngrok agent took over {INSTALL_TIMEOUT:g} s: "
            f"try again on a faster connection; {LOCAL_ONLY}."
        )
    if isinstance(problem, PyngrokNgrokInstallError):
        log.info("Installing ngrok failed: %s", problem)
        raise TunnelUnavailable(
            "Could not download the ngrok agent (no internet?): connect once so pyngrok can "
            f"fetch it, then run this cell again; {LOCAL_ONLY}."
        )
    if problem is not None:
        log.info("Installing ngrok failed: %r", problem)
        raise TunnelUnavailable(
            f"Could not install the ngrok agent ({type(problem).__name__}): "
            f"see the pyngrok log for details; {LOCAL_ONLY}."
        )


def _connect(port: int, config: PyngrokConfig, settings: Settings) -> ngrok.NgrokTunnel:
    """Start the agent if needed and open the tunnel, within START_TIMEOUT, or kill the agent."""
    from pyngrok import ngrok

    def connect() -> ngrok.NgrokTunnel:
        with _agent_token(settings.ngrok_authtoken):
            return ngrok.connect(
                f"http://127.0.0.1:{port}", name=name_for(port), pyngrok_config=config
            )

    outcome = _within(START_TIMEOUT, connect, f"ngrok-connect-{port}")
    if not outcome:
        _kill_starting_agent(config)
        raise TunnelUnavailable(
            f"The ngrok agent gave no answer within {START_TIMEOUT:g} s and was stopped: "
            f"check the internet connection and run this cell again; {LOCAL_ONLY}."
        )
    problem = outcome.get("error")
    if problem is not None:
        if not _open:  # leave no agent behind, unless it serves other tunnels
            _stop_agent(config)
        raise TunnelUnavailable(_explain(problem, settings)) from None
    return outcome["value"]


def _kill_starting_agent(config: PyngrokConfig) -> None:
    """Kill an agent that hangs while starting; pyngrok's start loop then ends on its own.

    pyngrok waits for the agent's first line holding the lock its own kill needs, and returns the
    process only once it has started; so the hung agent is found among this process's children
    by its command line (psutil: the portable way to list them), and killed from here.
    """
    import psutil

    for child in psutil.Process().children():
        with contextlib.suppress(psutil.Error):
            arguments = child.cmdline()
            if "start" in arguments and "--none" in arguments and config.config_path in arguments:
                child.kill()
    _stop_agent(config)


def _stop_agent(config: PyngrokConfig) -> None:
    """Stop the agent and close the pipe pyngrok reads its log from (pyngrok leaves it open)."""
    from pyngrok import ngrok

    global _agent
    agent, _agent = _agent, None
    ngrok.kill(config)
    if agent is not None and agent.proc.stdout is not None:
        agent.proc.stdout.close()


def _explain(problem: Exception, settings: Settings) -> str:
    """One sentence for what went wrong in pyngrok, saying what to do."""
    from pyngrok.exception import PyngrokNgrokError, PyngrokNgrokHTTPError, PyngrokNgrokURLError

    detail = scrub(getattr(problem, "ngrok_error", None) or str(problem), settings.ngrok_authtoken)
    log.info("ngrok failed: %s", detail)
    code = getattr(problem, "ngrok_error_code", None)
    tag = f" ({code})" if code else ""
    lowered = detail.lower()
    if code in ("ERR_NGROK_105", "ERR_NGROK_107") or "auth" in lowered:
        return (
            f"ngrok refused the auth token{tag}: paste the one from "
            "https://dashboard.ngrok.com/get-started/your-authtoken into .env as NGROK_AUTHTOKEN."
        )
    if code == "ERR_NGROK_108":
        return (
            f"Your ngrok account already has an agent online{tag}: stop it "
            "(https://dashboard.ngrok.com/agents) and run this cell again."
        )
    if isinstance(problem, PyngrokNgrokURLError):
        return f"The ngrok agent's local API did not answer: run this cell again; {LOCAL_ONLY}."
    if isinstance(problem, PyngrokNgrokHTTPError):
        return (
            f"The ngrok agent refused to open the tunnel (HTTP {problem.status_code}){tag}: "
            f"see the smskit.tunnel log for ngrok's words; {LOCAL_ONLY}."
        )
    if any(word in lowered for word in ("dial", "lookup", "network", "connection refused")):
        return f"ngrok could not reach its servers: check the internet connection; {LOCAL_ONLY}."
    if isinstance(problem, PyngrokNgrokError):
        return (
            f"The ngrok agent stopped while starting{tag}: "
            f"see the smskit.tunnel log for ngrok's words; {LOCAL_ONLY}."
        )
    return (
        f"pyngrok failed ({type(problem).__name__}){tag}: see the smskit.tunnel log; {LOCAL_ONLY}."
    )
