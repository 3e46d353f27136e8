"""9. Attacks on loopback: what a hostile client costs the quickstart and the in-kernel server.

Each attack runs against the code before issue 10 and the code now, side by side in one run:

- the quickstart as it was at BASELINE (read from git) and as it is now, under gunicorn -w 2 and
  under flask run: an unsigned 500 MB POST (its answer, the time to it, the serving process's
  memory growth), 1.5 M form fields, a malformed chunked body;
- the in-kernel server: werkzeug's threaded server as serve() ran it before, and serve() now:
  3,000 connections opened and closed at once, then 1,000 slow clients, each followed by one
  normal request (time to its answer), and the threads and open files left afterwards.

The second round (issue 21) compares the code before it (BEFORE_21) with the code now, one row per
finding: slow clients against the production command (gunicorn -w 2 as the README ran it, and
the Procfile's web line), the ngrok token exported in the shell, slow bodies in the in-kernel
server (its gate handing a connection on at its head, as before), Redis stalled, fed junk ids,
given another pair's cookie, a wrong URL or a frozen start, chunked bodies over the limit, another
host's signature, and what the racing test can tell apart.

Every load is bounded in count and time and goes to 127.0.0.1 only.
"""

from __future__ import annotations

import logging
import os
import selectors
import socket
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import psutil
from flask import Flask, request

from smskit import serve
from smskit.processes import free_port, gunicorn_command, start_server, stop_server

from .common import ROOT

BASELINE = "97e7ef5"  # main before issue 10
KEY = "bench key, long enough for the quickstart's check: 32+"
BIG = 500 * 1024 * 1024
FIELDS = 1_500_000
BURST = 3_000
SLOW = 1_000
PATIENCE = 240.0  # seconds to wait for an answer before calling it "none"


@dataclass
class AttackResult:
    """Figures per attack, each {"before": text, "now": text}; numbers behind the targets."""

    figures: dict[str, dict[str, str]] = field(default_factory=dict)
    numbers: dict[str, float] = field(default_factory=dict)  # "what|arm" -> value

    def add(self, attack: str, arm: str, text: str, **numbers: float) -> None:
        self.figures.setdefault(attack, {})[arm] = text
        self.numbers.update({f"{name}|{arm}": value for name, value in numbers.items()})
        print(f"  {attack} [{arm}]: {text}", flush=True)

    def worst(self, name: str, arm: str = "now") -> float:
        """The largest value recorded under name for arm (inf if none was)."""
        values = [v for k, v in self.numbers.items() if k.startswith(name) and k.endswith(arm)]
        return max(values, default=float("inf"))


def raw_request(
    port: int, head: bytes, body_size: int = 0, chunk: bytes = b"", patience: float = PATIENCE
) -> tuple[str, float]:
    """Send head, then body_size bytes of chunk (stopping early once answered); (status line, s)."""
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=patience) as conn:
        conn.sendall(head)
        conn.setblocking(False)
        selector = selectors.DefaultSelector()
        selector.register(conn, selectors.EVENT_READ | selectors.EVENT_WRITE)
        sent, answer = 0, b""
        deadline = started + patience
        while time.monotonic() < deadline and b"\r\n" not in answer:
            for _, events in selector.select(1.0):
                if events & selectors.EVENT_READ:
                    try:
                        data = conn.recv(4096)
                    except OSError:
                        data = b""
                    if not data:
                        return (
                            answer.split(b"\r\n")[0].decode() or "closed"
                        ), time.monotonic() - started
                    answer += data
                elif events & selectors.EVENT_WRITE and sent < body_size:
                    try:
                        sent += conn.send(chunk[: body_size - sent])
                    except (BlockingIOError, InterruptedError):
                        pass
                    except OSError:
                        selector.modify(conn, selectors.EVENT_READ)
                elif sent >= body_size:
                    selector.modify(conn, selectors.EVENT_READ)
        status = answer.split(b"\r\n")[0].decode() or "no answer"
        return status, time.monotonic() - started


def form_head(size: int, path: str = "/sms") -> bytes:
    return (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\n"
        f"Content-Length: {size}\r\n\r\n"
    ).encode()


class RssWatch:
    """The largest memory (RSS) growth of a server's workers, or of itself, while watched."""

    def __init__(self, pid: int):
        self.workers = psutil.Process(pid).children() or [psutil.Process(pid)]
        self.start = {w.pid: w.memory_info().rss for w in self.workers}
        self.peak = dict(self.start)
        self._on = True
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        while self._on:
            for worker in self.workers:
                try:
                    self.peak[worker.pid] = max(self.peak[worker.pid], worker.memory_info().rss)
                except psutil.Error:
                    pass
            time.sleep(0.02)

    def growth_mib(self) -> float:
        self._on = False
        self._thread.join()
        return max(self.peak[pid] - self.start[pid] for pid in self.start) / 2**20


SERVERS = {
    "gunicorn -w 2": lambda port: [*gunicorn_command("sms_conversation:app", port)[:-1],
                                   "sms_conversation:app"],
    "flask run": lambda port: [sys.executable, "-m", "flask", "--app", "sms_conversation", "run",
                               "--port", str(port)],
}  # fmt: skip


@contextmanager
def serving(server: str, folder: Path, env: dict[str, str]):
    """server serving folder/sms_conversation.py on a free port; yields (process, port)."""
    port = free_port()
    process = start_server(SERVERS[server](port), port, env=env, cwd=folder)
    try:
        time.sleep(1.0)  # let the workers finish importing the app
        yield process, port
    finally:
        stop_server(process)


def quickstart_arms(workspace: Path, baseline: str = BASELINE) -> dict[str, Path]:
    """The quickstart at baseline (from git) and now, each alone in a folder."""
    arms = {}
    before = subprocess.run(
        ["git", "show", f"{baseline}:quickstart/sms/sms_conversation.py"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    for arm, text in (
        ("before", before),
        ("now", (ROOT / "quickstart/sms/sms_conversation.py").read_text()),
    ):
        (workspace / arm).mkdir()
        (workspace / arm / "sms_conversation.py").write_text(text)
        arms[arm] = workspace / arm
    return arms


MALFORMED = (
    b"POST /sms HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n"
    b"Content-Type: application/x-www-form-urlencoded\r\n\r\nzz\r\nboom\r\n"
)


def attack_quickstart(result: AttackResult) -> None:
    env = os.environ | {"FLASK_SECRET_KEY": KEY, "TWILIO_AUTH_TOKEN": "bench token"}
    with tempfile.TemporaryDirectory() as scratch:
        for arm, folder in quickstart_arms(Path(scratch)).items():
            for server in SERVERS:
                with serving(server, folder, env) as (process, port):
                    watch = RssWatch(process.pid)
                    status, seconds = raw_request(port, form_head(BIG), BIG, b"x" * (1 << 20))
                    growth = watch.growth_mib()
                    result.add(
                        f"500 MB unsigned POST, {server}",
                        arm,
                        f"{status}; {seconds:.2f} s; +{growth:,.0f} MiB",
                        **{f"big seconds {server}": seconds, f"big MiB {server}": growth},
                    )
                with serving(server, folder, env) as (process, port):
                    body = b"a=1&" * FIELDS
                    status, seconds = raw_request(port, form_head(len(body)), len(body), body)
                    result.add(f"1.5 M form fields, {server}", arm, f"{status}; {seconds:.2f} s")
                    status, _ = raw_request(port, MALFORMED)
                    result.add(f"malformed chunked body, {server}", arm, status)


def open_files() -> int:
    return len(os.listdir("/proc/self/fd"))


def old_serve(app: Flask):
    """serve() before issue 10: werkzeug's ThreadedWSGIServer in a daemon thread."""
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    ).start()
    return server, server.server_port


def new_serve(app: Flask):
    server = serve(app, name="bench-attacks")
    return server, server.port


def stop(arm: str, server) -> None:
    if arm == "before":
        server.shutdown()
        server.server_close()
    else:
        server.stop()


def burst(port: int, count: int, slow: bool) -> list[socket.socket]:
    """count connections to port, opened at once; slow ones send half a request head and wait."""
    opened = []
    for _ in range(count):
        conn = socket.socket()
        conn.setblocking(False)
        conn.connect_ex(("127.0.0.1", port))
        opened.append(conn)
    if slow:
        time.sleep(0.5)
        for conn in opened:
            try:
                conn.send(b"POST /sms HTTP/1.1\r\nHost: 127.0.0.1\r\n")
            except OSError:
                pass
    return opened


def normal_request(port: int) -> tuple[str, float]:
    """One ordinary request; (its status line and time, seconds to the answer or inf)."""
    status, seconds = raw_request(port, b"GET /sms HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
    answered = status.startswith("HTTP/")
    return f"{status} after {seconds:.2f} s", seconds if answered else float("inf")


def attack_in_kernel(result: AttackResult) -> None:
    logging.getLogger("werkzeug").disabled = True  # the old server's access log, per request
    app = Flask(__name__)
    app.add_url_rule("/sms", "sms", lambda: "ok", methods=["GET", "POST"])
    app.add_url_rule("/form", "form", lambda: str(len(request.form)), methods=["POST"])
    for arm, start in (("before", old_serve), ("now", new_serve)):
        threads, files = threading.active_count(), open_files()
        server, port = start(app)
        for conn in burst(port, BURST, slow=False):
            conn.close()
        text, seconds = normal_request(port)
        result.add(
            f"{BURST:,} connections opened and closed, then a request", arm, text, burst=seconds
        )
        slow = burst(port, SLOW, slow=True)
        text, seconds = normal_request(port)
        result.add(f"{SLOW:,} slow clients, then a request", arm, text, slow=seconds)
        result.add(f"threads while {SLOW:,} slow clients wait", arm, str(threading.active_count()))
        idle = burst(port, BURST, slow=False)  # held open, saying nothing
        time.sleep(0.5)
        text, seconds = normal_request(port)
        result.add(f"{BURST:,} idle connections held open, then a request", arm, text, idle=seconds)
        for conn in slow + idle:
            conn.close()
        stop(arm, server)
        time.sleep(2.0)
        left = threading.active_count() - threads, open_files() - files
        result.add(
            "threads / open files after (baseline)",
            arm,
            f"{threading.active_count()} ({threads}) / {open_files()} ({files})",
            leftover=max(left),
        )
        server, port = start(app)
        status = raw_request(port, MALFORMED.replace(b"/sms", b"/form"))[0]
        result.add("malformed chunked body, in-kernel server", arm, status)
        stop(arm, server)
