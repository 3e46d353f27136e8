"""Many conversations at once keep exact counts; two messages of ONE conversation racing do not.

Real HTTP on loopback: the local Twilio (one instance, its per-pair jars shared by every thread)
texts the in-kernel server, and the quickstart under gunicorn with two worker processes.
"""

import io
import os
import secrets
import sqlite3
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing

import pytest
from flask import Flask, request

from quickstart.sms.sms_conversation import CONVERSATION_LIFETIME, reply
from smskit import LocalTwilio, serve
from smskit.processes import free_port, gunicorn_command
from tests.figures import record
from tests.support import OUR_NUMBER

pytestmark = pytest.mark.integration  # starts a server

CONVERSATIONS, MESSAGES = 200, 20
GEORGE = "+14158675309"


def count(delivery) -> int:
    """The n of '... has messaged <To> n times' (or the error, so a failure says what it was)."""
    assert delivery.ok, delivery.error
    return int(delivery.reply.split()[-2])


def converse_in_parallel(twilio: LocalTwilio) -> dict[str, list[int]]:
    """CONVERSATIONS senders each text MESSAGES times, all at once; the counts each was sent."""
    senders = [f"+1415555{n:04d}" for n in range(CONVERSATIONS)]

    def conversation(sender):
        return [count(twilio.text(sender, OUR_NUMBER, f"message {n}")) for n in range(MESSAGES)]

    with ThreadPoolExecutor(max_workers=CONVERSATIONS) as pool:
        return dict(zip(senders, pool.map(conversation, senders), strict=True))


def check_exact(counts: dict[str, list[int]], where: str, seconds: float) -> None:
    expected = list(range(1, MESSAGES + 1))
    wrong = {sender: got for sender, got in counts.items() if got != expected}
    assert not wrong, f"{len(wrong)} conversations miscounted, e.g. {next(iter(wrong.items()))}"
    assert len(counts) == CONVERSATIONS
    requests = CONVERSATIONS * MESSAGES
    record(
        f"concurrency {where}",
        conversations=CONVERSATIONS,
        messages_each=MESSAGES,
        requests=requests,
        counts_checked=sum(map(len, counts.values())),
        seconds=round(seconds, 2),
        requests_per_second=round(requests / seconds),
    )


def test_200_conversations_at_once_against_the_in_kernel_server(app):
    events = []
    with serve(app, name="concurrency") as server:
        server.events.subscribe(events.append)
        started = time.monotonic()
        counts = converse_in_parallel(LocalTwilio(server.url + "/sms"))
        seconds = time.monotonic() - started
    check_exact(counts, "in-kernel server", seconds)
    assert len(events) == CONVERSATIONS * MESSAGES
    assert all(event.status == 200 for event in events)


@pytest.mark.slow
def test_200_conversations_at_once_against_gunicorn_with_two_workers(run_server, quickstart_copy):
    """No FLASK_SECRET_KEY: both workers must share the key kept in the instance folder."""
    port = free_port()
    environment = {k: v for k, v in os.environ.items() if k != "FLASK_SECRET_KEY"}
    command = gunicorn_command("sms_conversation:app", port) + ["--backlog", "512"]
    run_server(command, port, env=environment, cwd=quickstart_copy.parent)
    started = time.monotonic()
    counts = converse_in_parallel(LocalTwilio(f"http://127.0.0.1:{port}/sms"))
    check_exact(counts, "gunicorn 2 workers", time.monotonic() - started)


# Two messages of one conversation, racing. A middleware holds each "race" message until the
# other has arrived too, so both were sent with the cookie the jar held before either was
# answered: exactly what happens when two texts of one conversation arrive at the same moment.


def in_pairs(app, barrier: threading.Barrier):
    """WSGI middleware: a request whose Body is 'race' waits for its partner before going on."""

    def middleware(environ, start_response):
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        environ["wsgi.input"] = io.BytesIO(body)
        if b"Body=race" in body:
            barrier.wait(timeout=10)
        return app(environ, start_response)

    return middleware


def store_app(path) -> Flask:
    """The counter kept server-side, as PHP's session_start does: the cookie holds only an id."""
    app = Flask(__name__)
    with closing(sqlite3.connect(path)) as db:
        db.execute("CREATE TABLE counters (id TEXT PRIMARY KEY, n INTEGER NOT NULL)")
        db.commit()

    @app.post("/sms")
    def sms():
        session_id = request.cookies.get("sid") or secrets.token_hex(16)
        with closing(sqlite3.connect(path, timeout=10)) as db, db:
            (counter,) = db.execute(
                "INSERT INTO counters VALUES (?, 1) ON CONFLICT(id) DO UPDATE SET n = n + 1 "
                "RETURNING n",  # one atomic statement: no read-then-write gap
                (session_id,),
            ).fetchone()
        response = reply(request.form["From"], request.form["To"], counter)
        response.set_cookie("sid", session_id, max_age=int(CONVERSATION_LIFETIME.total_seconds()))
        return response

    return app


def race(app) -> tuple[list[int], int]:
    """One message, then two racing, then one more: the racing pair's counts and the last one."""
    barrier = threading.Barrier(2)
    with serve(in_pairs(app, barrier), name="race") as server:
        twilio = LocalTwilio(server.url + "/sms")
        assert count(twilio.text(GEORGE, OUR_NUMBER, "first")) == 1
        with ThreadPoolExecutor(2) as pool:
            racing = list(pool.map(lambda _: twilio.text(GEORGE, OUR_NUMBER, "race"), range(2)))
        assert racing[0].cookie_sent == racing[1].cookie_sent  # both carried the same cookie
        return sorted(map(count, racing)), count(twilio.text(GEORGE, OUR_NUMBER, "last"))


def test_two_racing_messages_of_one_conversation_lose_a_count_with_the_cookie_session(app):
    """Both read counter 1 from the same cookie and answer 2; the jar keeps the last Set-Cookie."""
    racing, last = race(app)
    assert racing == [2, 2]
    assert last == 3  # the fourth message: one count was lost
    record("race cookie session", messages=4, racing_counts=racing, last_count=last)


def test_with_a_server_side_store_no_count_is_lost(tmp_path):
    """Both carry the same id; the store serialises the two increments, so none is lost."""
    racing, last = race(store_app(tmp_path / "sessions.sqlite3"))
    assert racing == [2, 3]
    assert last == 4
    record("race server-side store", messages=4, racing_counts=racing, last_count=last)
