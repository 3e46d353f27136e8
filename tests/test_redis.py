"""Conversations in Redis (REDIS_URL): an id in the cookie, atomic counts, once per delivery.

A real redis-server (Debian's package) is started on a free loopback port in a temporary folder
and stopped after; Twilio is the local stand-in, over real HTTP to real gunicorn hosts.
"""

import os
import re
import subprocess

import pytest
import redis

from quickstart.sms.sms_conversation import SettingsError, production_app
from smskit import LocalTwilio
from smskit.processes import free_port, gunicorn_command, redis_command, start_server, stop_server
from smskit.race import race
from tests.support import OUR_NUMBER, PYTHON, ROOT, TOKEN

KEY = "a production key of 32 characters or more"
GEORGE = "+14158675309"
MISSING = "redis-server is not installed (Debian: apt-get install redis-server)."


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory):
    port = free_port()
    command = redis_command(port, str(tmp_path_factory.mktemp("redis")))
    if command is None:
        if os.environ.get("CI"):
            pytest.fail(f"{MISSING} CI must have it: .ci/run installs it.")
        pytest.skip(MISSING)
    process = start_server(command, port)
    yield f"redis://127.0.0.1:{port}/0"
    stop_server(process)


@pytest.fixture
def store(redis_url):
    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    return client


@pytest.fixture
def app(redis_url, store):
    return production_app({"SECRET_KEY": KEY, "TWILIO_AUTH_TOKEN": TOKEN, "REDIS_URL": redis_url})


def test_the_cookie_holds_only_an_id_and_the_count_lives_in_redis(app, store):
    twilio = LocalTwilio(app, auth_token=TOKEN)
    replies = [twilio.text(GEORGE, OUR_NUMBER, "hi") for _ in range(3)]
    assert [d.reply for d in replies] == [
        f"Curious George has messaged {OUR_NUMBER} {n} times" for n in (1, 2, 3)
    ]
    [cookie] = replies[-1].set_cookies
    conversation = re.match(r"conversation=([0-9a-f]{32});", cookie).group(1)
    assert store.get(f"conversation:{conversation}") == b"3"
    assert "session=" not in cookie


def test_a_conversation_expires_after_four_idle_hours(app, store):
    twilio = LocalTwilio(app, auth_token=TOKEN)
    cookie = twilio.text(GEORGE, OUR_NUMBER, "hi").set_cookies[0]
    key = "conversation:" + cookie.split("=")[1].split(";")[0]
    store.expire(key, 60)  # as if almost four hours had passed
    twilio.text(GEORGE, OUR_NUMBER, "still there?")
    assert 4 * 3600 - 5 <= store.ttl(key) <= 4 * 3600  # the next message starts the clock again


def test_a_retried_delivery_counts_once(app):
    twilio = LocalTwilio(app, auth_token=TOKEN)
    client = app.test_client()

    def deliver(message_sid, token):
        params = twilio.params(GEORGE, OUR_NUMBER, "hi", message_sid)
        headers = {
            "X-Twilio-Signature": twilio.signature("http://localhost/sms", params),
            "I-Twilio-Idempotency-Token": token,
        }
        return client.post("/sms", data=params, headers=headers).text

    first = deliver("SM" + "1" * 32, "token-1")
    assert "1 times" in first
    assert deliver("SM" + "1" * 32, "token-1") == first  # Twilio's retry: same token, same SID
    assert deliver("SM" + "1" * 32, "token-2") == first  # same MessageSid
    assert "2 times" in deliver("SM" + "2" * 32, "token-3")  # a new message counts


@pytest.mark.slow
def test_two_hosts_racing_lose_no_count(redis_url, store, run_server):
    environment = os.environ | {"FLASK_SECRET_KEY": KEY, "TWILIO_AUTH_TOKEN": TOKEN,
                                "REDIS_URL": redis_url}  # fmt: skip
    urls = []
    for _ in range(2):
        port = free_port()
        command = gunicorn_command("quickstart.sms.sms_conversation:app", port, workers=2)
        run_server(command, port, env=environment, cwd=ROOT)
        urls.append(f"http://127.0.0.1:{port}/sms")
    sent, counted = race(urls, TOKEN, rounds=15)
    assert counted == sent


def test_redis_not_answering_at_start_is_one_sentence():
    with pytest.raises(SettingsError, match="Redis at REDIS_URL did not answer"):
        production_app({"SECRET_KEY": KEY, "REDIS_URL": f"redis://127.0.0.1:{free_port()}/0"})


def test_redis_stopping_mid_run_gives_503_in_one_line(tmp_path):
    port = free_port()
    command = redis_command(port, str(tmp_path))
    if command is None:
        pytest.skip(MISSING)
    process = start_server(command, port)
    app = production_app({"SECRET_KEY": KEY, "REDIS_URL": f"redis://127.0.0.1:{port}/0"})
    stop_server(process)
    answer = app.test_client().post("/sms", data={"From": GEORGE, "To": OUR_NUMBER})
    assert answer.status_code == 503 and answer.text.count("\n") == 1


def test_without_redis_url_redis_is_never_imported(quickstart_copy):
    environment = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    done = subprocess.run(
        [PYTHON, "-c", "import sys, sms_conversation; print('redis' in sys.modules)"],
        cwd=quickstart_copy.parent,
        env=environment | {"FLASK_SECRET_KEY": KEY},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.stdout.strip() == "False", done.stderr
