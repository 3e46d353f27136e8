"""2. HTTP throughput on loopback: gunicorn with 2 workers per app, driven by wrk.

Each app gets the same Twilio-shaped form POST. wrk sends one fixed Cookie per app (a valid
session captured from that app's first answer), so every request decodes and re-signs a session
as a conversation's second message does; wrk keeps no per-connection cookie jar. The quickstart
runs as deployed without TWILIO_AUTH_TOKEN, with FLASK_SECRET_KEY set in its environment (so
nothing is written into the repository). Without wrk, a bounded Python load generator is used.
"""

from __future__ import annotations

import os
import pstats
import re
import shutil
import subprocess
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import psutil

from smskit import LocalTwilio
from smskit.processes import free_port, gunicorn_command, start_server, stop_server

from .common import (
    ROOT,
    Spread,
    interleaved,
    percentile,
    ratios,
    summarize,
)

SENDER, OURS = "+14158675309", "+15005550006"
KEY = "bench key, 32 characters or more as the quickstart requires"
APPS = {
    "floor": "bench.apps:floor",
    "quickstart": "quickstart.sms.sms_conversation:app",
    "docs-style": "bench.apps:docs",
}
CONNECTIONS = 8
UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3}


@dataclass(frozen=True)
class Load:
    """One load run: requests per second and latency percentiles in milliseconds."""

    per_second: float
    p50: float
    p99: float


@dataclass(frozen=True)
class Server:
    """A running gunicorn: its webhook URL and its master process."""

    url: str
    master: psutil.Process

    def cpu_seconds(self) -> float:
        """CPU used so far by the master and its workers."""
        total = 0.0
        for process in [self.master, *self.master.children()]:
            times = process.cpu_times()
            total += times.user + times.system
        return total


@dataclass
class ThroughputResult:
    generator: str
    per_second: dict[str, Spread]
    p50: dict[str, Spread]
    p99: dict[str, Spread]
    ratio: dict[str, Spread]  # req/s against the floor
    server_cpu: dict[str, Spread]  # µs of gunicorn CPU (master and workers) per request
    target: float
    profile: str | None = None


@contextmanager
def gunicorn(app_path: str, config: Path | None = None) -> Iterator[Server]:
    """Serve app_path with 2 gunicorn workers on a free loopback port."""
    port = free_port()
    environment = {k: v for k, v in os.environ.items() if k != "TWILIO_AUTH_TOKEN"}
    environment["FLASK_SECRET_KEY"] = KEY
    command = gunicorn_command(app_path, port)
    if config:
        command[-1:-1] = ["--config", str(config)]
    process = start_server(command, port, env=environment, cwd=ROOT)
    try:
        yield Server(f"http://127.0.0.1:{port}/sms", psutil.Process(process.pid))
    finally:
        stop_server(process)


def session_cookie(name: str, url: str) -> str:
    """The Cookie a conversation's second message carries (checked: the app then counts 2)."""
    twilio = LocalTwilio(url)
    first = twilio.text(SENDER, OURS, "hello")
    if not first.ok:
        raise RuntimeError(f"throughput benchmark: {name} failed: {first.error}")
    if name == "floor":
        return ""
    second = twilio.text(SENDER, OURS, "hello")
    if second.cookie_sent is None or " 2 times" not in (second.reply or ""):
        raise RuntimeError(f"throughput benchmark: {name} did not count: {second!r}")
    return second.cookie_sent


def form_body(url: str) -> bytes:
    return urlencode(LocalTwilio(url).params(SENDER, OURS, "hello", "SM" + "0" * 32)).encode()


def wrk_script(folder: Path, name: str, body: bytes, cookie: str) -> Path:
    """A wrk Lua script that POSTs the webhook form with a fixed cookie."""
    lines = [
        'wrk.method = "POST"',
        f'wrk.body = "{body.decode()}"',
        'wrk.headers["Content-Type"] = "application/x-www-form-urlencoded; charset=utf-8"',
    ]
    if cookie:
        lines.append(f'wrk.headers["Cookie"] = "{cookie}"')
    script = folder / f"{name.replace(' ', '_')}.lua"
    script.write_text("\n".join(lines) + "\n")
    return script


def milliseconds(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()
    return float(number) * UNITS[unit]


def run_wrk(wrk: str, url: str, script: Path, seconds: float) -> Load:
    """One wrk run; raises if any request failed or got a non-2xx answer."""
    command = [wrk, "-t1", f"-c{CONNECTIONS}", f"-d{seconds:g}s", "--latency", "-s", str(script)]
    output = subprocess.run(
        [*command, url], capture_output=True, text=True, check=True, timeout=seconds + 30
    ).stdout
    if "Non-2xx" in output or "Socket errors" in output:
        raise RuntimeError(f"throughput benchmark: wrk saw failures:\n{output}")
    latency = dict(re.findall(r"^\s+(50|99)%\s+(\S+)$", output, re.MULTILINE))
    per_second = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    return Load(per_second, milliseconds(latency["50"]), milliseconds(latency["99"]))


def run_python(url: str, body: bytes, cookie: str, seconds: float) -> Load:
    """The fallback load generator: CONNECTIONS threads posting for a bounded time."""
    headers = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}
    if cookie:
        headers["Cookie"] = cookie
    latencies: list[float] = []
    deadline = time.monotonic() + seconds

    def worker():
        while time.monotonic() < deadline:
            started = time.perf_counter()
            with urllib.request.urlopen(urllib.request.Request(url, body, headers)) as answer:
                answer.read()
            latencies.append((time.perf_counter() - started) * 1e3)

    started = time.monotonic()
    threads = [threading.Thread(target=worker) for _ in range(CONNECTIONS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    return Load(len(latencies) / elapsed, percentile(latencies, 50), percentile(latencies, 99))


PROFILER_HOOKS = """
import cProfile

def pre_request(worker, request):
    if not hasattr(worker, "profiler"):  # from the first request on: not the app's import
        worker.profiler = cProfile.Profile()
        worker.profiler.enable()

def worker_exit(server, worker):
    if hasattr(worker, "profiler"):
        worker.profiler.disable()
        worker.profiler.dump_stats(f"{folder}/worker.{{worker.pid}}.prof")
"""


def load_generator(folder: Path, name: str, url: str, seconds: float) -> Callable[[], Load]:
    """A function that loads url for `seconds` with the webhook POST, checked first."""
    body, cookie = form_body(url), session_cookie(name, url)
    wrk = shutil.which("wrk")
    if wrk:
        script = wrk_script(folder, name, body, cookie)
        return lambda: run_wrk(wrk, url, script, seconds)
    return lambda: run_python(url, body, cookie, seconds)


def profile_workers(app_path: str, seconds: float) -> str:
    """Where a gunicorn worker's time goes under load (cProfile in each worker, merged)."""
    with tempfile.TemporaryDirectory() as folder:
        config = Path(folder) / "profile_workers.py"
        config.write_text(PROFILER_HOOKS.format(folder=folder))
        with gunicorn(app_path, config) as server:
            load_generator(Path(folder), "profiled", server.url, seconds)()
        profiles = [str(path) for path in Path(folder).glob("worker.*.prof")]
        if not profiles:
            return "(the workers wrote no profile)"
        return summarize(pstats.Stats(*profiles))


def run(repeats: int = 5, seconds: float = 3.0, target: float = 0.6) -> ThroughputResult:
    loads: dict[str, list[Load]] = {name: [] for name in APPS}
    cpu: dict[str, list[float]] = {name: [] for name in APPS}
    with ExitStack() as stack, tempfile.TemporaryDirectory() as folder:
        servers = {name: stack.enter_context(gunicorn(path)) for name, path in APPS.items()}
        generators = {
            name: load_generator(Path(folder), name, server.url, seconds)
            for name, server in servers.items()
        }
        for generate in generators.values():
            generate()  # warm up the workers

        def timed(name: str) -> Callable[[], float]:
            def once() -> float:
                used = servers[name].cpu_seconds()
                load = generators[name]()
                used = servers[name].cpu_seconds() - used
                loads[name].append(load)
                cpu[name].append(used * 1e6 / (load.per_second * seconds))
                return load.per_second

            return once

        per_second = interleaved({name: timed(name) for name in APPS}, repeats)
    ratio = {name: Spread.of(ratios(per_second, name, "floor")) for name in APPS if name != "floor"}
    profile = None
    if ratio["quickstart"].median < target:
        profile = profile_workers(APPS["quickstart"], seconds)
    return ThroughputResult(
        generator=(
            f"wrk -t1 -c{CONNECTIONS} ({seconds:g} s per run)"
            if shutil.which("wrk")
            else f"Python, {CONNECTIONS} threads ({seconds:g} s per run)"
        ),
        per_second={name: Spread.of(values) for name, values in per_second.items()},
        p50={name: Spread.of([load.p50 for load in loads[name]]) for name in APPS},
        p99={name: Spread.of([load.p99 for load in loads[name]]) for name in APPS},
        ratio=ratio,
        server_cpu={name: Spread.of(values) for name, values in cpu.items()},
        target=target,
        profile=profile,
    )
