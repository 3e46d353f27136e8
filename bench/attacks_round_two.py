"""9, second round: the findings of issue 21, each before (BEFORE_21) and now, in one run.

Part 9 runs from here (run() below): the first round from bench/attacks.py, then this one. The
"before" arms are the code as it was:
the quickstart read from git at BEFORE_21, `gunicorn -w 2` as its README ran it, the tunnel's old
agent settings (pyngrok's PyngrokConfig reading an exported NGROK_AUTHTOKEN), and the gate handing
a connection on once its head is in. Slow clients and the ngrok agent are the test suite's
stand-ins (tests/fakes); everything stays on 127.0.0.1.
"""

from __future__ import annotations

import importlib.util
import os
import signal
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import redis
from flask import Flask, request

from smskit import LocalTwilio, gate, serve, tunnel
from smskit.processes import free_port, redis_command, start_server, stop_server
from smskit.race import race_outcome
from smskit.settings import Settings
from tests.fakes import ngrok_agent
from tests.fakes.slow_clients import KINDS, SlowClients

from .attacks import (
    KEY,
    SERVERS,
    AttackResult,
    attack_in_kernel,
    attack_quickstart,
    quickstart_arms,
    raw_request,
    serving,
)
from .common import ROOT

BEFORE_21 = "92abaae"  # main before issue 21
TOKEN = "bench token"
GEORGE, BOOTS, OURS = "+14158675309", "+14158675310", "+15005550006"
TWILIO_DEADLINE = 15.0  # seconds Twilio waits for a webhook's answer
TOKEN_NGROK = "2bench" + "A" * 22 + "_" + "B" * 22  # shaped like an ngrok authtoken


def signed_text(url: str) -> tuple[str, float]:
    """A signed message from George through the local Twilio: its outcome and time."""
    started = time.monotonic()
    delivery = LocalTwilio(url, auth_token=TOKEN).text(GEORGE, OURS, "hello")
    took = time.monotonic() - started
    if delivery.ok:
        return f"{delivery.status} after {took:.2f} s", took
    return f"no answer within {TWILIO_DEADLINE:g} s ({delivery.error})"[:80], float("inf")


def slow_clients_rows(result: AttackResult) -> None:
    """50 and 500 slow clients of each kind, then a signed message, per production command."""
    env = os.environ | {"FLASK_SECRET_KEY": KEY, "TWILIO_AUTH_TOKEN": TOKEN}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"
    web = (ROOT / "quickstart/Procfile").read_text().split(":", 1)[1].strip()
    commands = {
        "before": (["sh", "-c", "exec gunicorn --workers 2 --bind 127.0.0.1:$PORT "
                    "quickstart.sms.sms_conversation:app"], ROOT),
        "now": (["sh", "-c", "exec " + web], ROOT / "quickstart"),
    }  # fmt: skip
    for arm, (command, cwd) in commands.items():
        port = free_port()
        process = start_server(command, port, env=env | {"PORT": str(port)}, cwd=cwd)
        time.sleep(1.0)  # the workers import the app
        try:
            for count in (50, 500):
                for kind in KINDS:
                    with SlowClients(port, count, kind):
                        time.sleep(1.0)
                        text, took = signed_text(f"http://127.0.0.1:{port}/sms")
                    result.add(f"{count} slow clients ({kind}), production command", arm, text,
                               **{f"r2 slow {count} {kind}": took})  # fmt: skip
                    time.sleep(1.0)  # sync workers finish with the closed clients
        finally:
            stop_server(process)


def old_agent_config(settings):
    """tunnel.agent_config before issue 21: auth_token=None, which pyngrok fills from the env."""
    from pyngrok import conf

    default = conf.get_default()
    return conf.PyngrokConfig(ngrok_path=default.ngrok_path, config_path=default.config_path,
                              auth_token=None, startup_timeout=4, request_timeout=3.0)  # fmt: skip


def token_rows(result: AttackResult) -> None:
    """NGROK_AUTHTOKEN exported in the shell: is it on the agent's command line?"""
    from pyngrok import conf

    default, saved = conf.get_default(), (conf.get_default().ngrok_path,
                                          conf.get_default().config_path)  # fmt: skip
    exported = os.environ.get("NGROK_AUTHTOKEN")
    with tempfile.TemporaryDirectory() as folder:
        binary, log = ngrok_agent.install(Path(folder), "ok")
        default.ngrok_path, default.config_path = str(binary), str(Path(folder) / "ngrok.yml")
        os.environ["NGROK_AUTHTOKEN"] = TOKEN_NGROK
        try:
            for arm, config in (("before", old_agent_config), ("now", tunnel.agent_config)):
                current, tunnel.agent_config = tunnel.agent_config, config
                port = free_port()
                try:
                    tunnel.open_tunnel(port, Settings(ngrok_authtoken=TOKEN_NGROK))
                    shown = subprocess.run(["ps", "-eo", "args"], capture_output=True,
                                           text=True).stdout.count(TOKEN_NGROK)  # fmt: skip
                    tunnel.close_tunnel(port)
                finally:
                    tunnel.agent_config = current
                text = f"{'on' if shown else 'not on'} a command line ({shown} in ps)"
                result.add("NGROK_AUTHTOKEN exported, tunnel opened", arm, text)
        finally:
            default.ngrok_path, default.config_path = saved
            os.environ.pop("NGROK_AUTHTOKEN")
            if exported is not None:
                os.environ["NGROK_AUTHTOKEN"] = exported


@contextmanager
def head_only_gate():
    """The gate before issue 21: it hands a connection on once its head is in."""
    complete, gate.request_is_complete = gate.request_is_complete, lambda received, limit: True
    try:
        yield
    finally:
        gate.request_is_complete = complete


def slow_bodies_rows(result: AttackResult) -> None:
    """40 connections trickling their bodies, then a request, in the in-kernel server."""
    app = Flask(__name__)
    app.add_url_rule("/sms", "sms", lambda: str(len(request.form)), methods=["POST"])
    head = b"POST /sms HTTP/1.0\r\nHost: 127.0.0.1\r\nContent-Length: 3\r\n\r\na=1"
    for arm in ("before", "now"):
        with head_only_gate() if arm == "before" else _nothing():
            with serve(app, name="bench-slow-bodies") as served:
                with SlowClients(served.port, 40, "body"):
                    time.sleep(1.0)
                    status, took = raw_request(served.port, head, patience=TWILIO_DEADLINE)
        answered = status.startswith("HTTP/")
        text = f"{status} after {took:.2f} s" if answered else f"none within {took:.0f} s"
        result.add("40 slow bodies, then a request, in-kernel server", arm, text,
                   **{"r2 bodies": took if answered else float("inf")})  # fmt: skip


@contextmanager
def _nothing():
    yield


def load(path: Path, name: str):
    """The quickstart file at path as a module of its own (FLASK_SECRET_KEY set for its import)."""
    os.environ.setdefault("FLASK_SECRET_KEY", KEY)
    spec = importlib.util.spec_from_file_location(name, path / "sms_conversation.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def post(app, sender=GEORGE, cookie=None, **data):
    client = app.test_client()
    if cookie:
        client.set_cookie("conversation", cookie)
    return client.post("/sms", data={"From": sender, "To": OURS, **data})


def cookie_of(answer) -> str:
    return answer.headers["Set-Cookie"].split("=", 1)[1].split(";")[0]


def count_in(answer) -> str:
    return answer.text.split(" times")[0].split()[-1] if answer.status_code == 200 else "–"


def redis_rows(result: AttackResult, modules: dict, url: str, process) -> None:
    store = redis.Redis.from_url(url)
    for arm, module in modules.items():
        app = module.production_app({"SECRET_KEY": KEY, "REDIS_URL": url})
        # a stall: 3 messages refused while Redis is frozen, then one more
        store.flushdb()
        cookie = cookie_of(post(app))
        process.send_signal(signal.SIGSTOP)
        with ThreadPoolExecutor(3) as pool:
            answers = pool.map(lambda given: post(*given), [(app, GEORGE, cookie)] * 3)
            refused = [answer.status_code for answer in answers]
        process.send_signal(signal.SIGCONT)
        after = count_in(post(app, cookie=cookie))
        result.add("Redis frozen: 3 refused, then a message (expected count 2)", arm,
                   f"{refused} then count {after}")  # fmt: skip
        # junk ids: 1,000 unsigned requests with a 60 KB MessageSid
        store.flushdb()
        before_bytes = store.info("memory")["used_memory"]
        statuses = {post(app, MessageSid="SM" + "a" * 60_000 + str(n)).status_code
                    for n in range(1000)}  # fmt: skip
        grown = max(0, store.info("memory")["used_memory"] - before_bytes) / 2**20
        result.add("1,000 unsigned requests, 60 KB MessageSid", arm,
                   f"{sorted(statuses)}; {store.dbsize()} keys, +{grown:.1f} MiB in Redis",
                   **{"r2 junk MiB": grown})  # fmt: skip
        # another pair's cookie
        store.flushdb()
        georges = cookie_of(post(app))
        post(app, cookie=georges)
        boots = count_in(post(app, sender=BOOTS, cookie=georges))
        result.add("George's conversation id sent by Boots (expected count 1)", arm,
                   f"count {boots}")  # fmt: skip
        # a worker starting while Redis is frozen
        process.send_signal(signal.SIGSTOP)
        try:
            booted = module.production_app({"SECRET_KEY": KEY, "REDIS_URL": url})
            frozen = post(booted).status_code
            process.send_signal(signal.SIGCONT)
            text = f"started; {frozen} while frozen, {post(booted).status_code} once back"
        except Exception as error:
            text = f"failed to start: {type(error).__name__}"
        finally:
            process.send_signal(signal.SIGCONT)
        result.add("a worker starting while Redis is frozen", arm, text)
        # wrong URLs
        port = url.rsplit(":", 1)[1].split("/")[0]
        for wrong in (f"redis://127.0.0.1:{port}/99", "http://127.0.0.1:6379/0",
                      "redis://127.0.0.1:99999/0"):  # fmt: skip
            try:
                module.production_app({"SECRET_KEY": KEY, "REDIS_URL": wrong})
                said = "started"
            except Exception as error:
                said = f"{type(error).__name__}: {error}"
            result.add(f"REDIS_URL {wrong.replace(port, 'PORT')}", arm, said[:110])


def race_rows(result: AttackResult, module, url: str) -> None:
    """Two in-kernel hosts of the quickstart on one Redis: what a race can report."""
    app = module.production_app({"SECRET_KEY": KEY, "TWILIO_AUTH_TOKEN": TOKEN, "REDIS_URL": url})
    hosts = [serve(app, name=f"bench-race-{n}") for n in range(2)]
    try:
        outcome = race_outcome([f"{host.url}/sms" for host in hosts], TOKEN, rounds=15)
    finally:
        for host in hosts:
            host.stop()
    result.add("racing hosts on Redis: what the test can tell", "before",
               f"sent {outcome.sent}, counted {outcome.counted}")  # fmt: skip
    result.add("racing hosts on Redis: what the test can tell", "now",
               f"sent {outcome.sent}, delivered {outcome.delivered}, counted {outcome.counted}, "
               f"lost {outcome.lost}")  # fmt: skip


def chunked_rows(result: AttackResult, arms: dict[str, Path]) -> None:
    form = f"From={GEORGE}&To={OURS}&Body=".encode() + b"x" * (70 * 1024)
    raw = (b"POST /sms HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n"
           b"Content-Type: application/x-www-form-urlencoded\r\nConnection: close\r\n\r\n"
           + f"{len(form):x}\r\n".encode() + form + b"\r\n0\r\n\r\n")  # fmt: skip
    env = os.environ | {"FLASK_SECRET_KEY": KEY}  # unsigned, so a 200 is a count
    for arm, folder in arms.items():
        for server in SERVERS:
            with serving(server, folder, env) as (_, port):
                status, _ = raw_request(port, raw, patience=TWILIO_DEADLINE)
            result.add(f"chunked body of 70 KiB, {server}", arm, status)


def host_rows(result: AttackResult, modules: dict) -> None:
    other = "https://other.ngrok.app/sms"
    signer = LocalTwilio(other, auth_token=TOKEN)
    params = signer.params(GEORGE, OURS, "hi", "SM" + "0" * 32)
    headers = {"X-Twilio-Signature": signer.signature(other, params), "X-Forwarded-Proto": "https",
               "X-Forwarded-Host": "other.ngrok.app"}  # fmt: skip
    os.environ["FLASK_TRUSTED_HOSTS"] = "abc123.ngrok.app"
    try:
        for arm, module in modules.items():
            app = module.production_app({"SECRET_KEY": KEY, "TWILIO_AUTH_TOKEN": TOKEN})
            status = app.test_client().post("/sms", data=params, headers=headers).status_code
            result.add("signed for another host of the account (via a trusted proxy)", arm,
                       str(status))  # fmt: skip
    finally:
        os.environ.pop("FLASK_TRUSTED_HOSTS")


def attack_round_two(result: AttackResult) -> None:
    slow_clients_rows(result)
    token_rows(result)
    slow_bodies_rows(result)
    with tempfile.TemporaryDirectory() as scratch:
        arms = quickstart_arms(Path(scratch), BEFORE_21)
        modules = {arm: load(folder, f"bench_quickstart_{arm}") for arm, folder in arms.items()}
        chunked_rows(result, arms)
        host_rows(result, modules)
        port = free_port()
        command = redis_command(port, scratch)
        if command is None:
            print("  (redis-server is not installed: the Redis rows are left out)")
            return
        process = start_server(command, port)
        try:
            url = f"redis://127.0.0.1:{port}/0"
            redis_rows(result, modules, url, process)
            race_rows(result, modules["now"], url)
        finally:
            stop_server(process)


PARTS = ("quickstart", "in-kernel", "round two")


def run(parts: tuple[str, ...] = PARTS) -> AttackResult:
    """Part 9: the first round (bench/attacks.py) and this one, in one result."""
    result = AttackResult()
    if "quickstart" in parts:
        attack_quickstart(result)
    if "in-kernel" in parts:
        attack_in_kernel(result)
    if "round two" in parts:
        attack_round_two(result)
    return result


if __name__ == "__main__":
    run(tuple(sys.argv[1:]) or PARTS)
