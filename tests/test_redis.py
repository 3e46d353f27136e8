"""Conversations in Redis (REDIS_URL): an id in the cookie, atomic counts, once per delivery.

A real redis-server (Debian's package) is started on a free loopback port in a temporary folder
and stopped after; Twilio is the local stand-in, over real HTTP to real gunicorn hosts.
"""

import os
import re
import signal
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor

import psutil
import pytest
import redis

from quickstart.sms.sms_conversation import SettingsError, production_app
from smskit import LocalTwilio
from smskit.processes import (
    free_port,
    gunicorn_command,
    output_of,
    redis_command,
    start_server,
    stop_server,
)
from smskit.race import race_outcome
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


def conversation_key(store, cookie):
    """The one Redis key of the conversation whose id this Set-Cookie carries."""
    conversation = re.match(r"conversation=([0-9a-f]{32});", cookie).group(1)
    [key] = store.keys(f"conversation:{conversation}:*")
    return key


@pytest.fixture
def app(redis_url, store):
    return production_app({"SECRET_KEY": KEY, "TWILIO_AUTH_TOKEN": TOKEN, "REDIS_URL": redis_url})


@pytest.mark.integration  # starts a process
def test_the_cookie_holds_only_an_id_and_the_count_lives_in_redis(app, store):
    twilio = LocalTwilio(app, auth_token=TOKEN)
    replies = [twilio.text(GEORGE, OUR_NUMBER, "hi") for _ in range(3)]
    assert [d.reply for d in replies] == [
        f"Curious George has messaged {OUR_NUMBER} {n} times" for n in (1, 2, 3)
    ]
    [cookie] = replies[-1].set_cookies
    assert store.get(conversation_key(store, cookie)) == b"3"
    assert "session=" not in cookie


def test_a_conversation_expires_after_four_idle_hours(app, store):
    twilio = LocalTwilio(app, auth_token=TOKEN)
    cookie = twilio.text(GEORGE, OUR_NUMBER, "hi").set_cookies[0]
    key = conversation_key(store, cookie)
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
    outcome = race_outcome(urls, TOKEN, rounds=15)
    refused = outcome.sent - outcome.delivered  # a refused delivery is not a lost count
    assert outcome.lost == 0, f"{outcome}: {outcome.lost} counts lost ({refused} refused apart)"


@pytest.fixture
def own_redis(tmp_path):
    """A Redis of this test's own (it is frozen or stopped), and its port."""
    port = free_port()
    command = redis_command(port, str(tmp_path))
    if command is None:
        pytest.skip(MISSING)
    process = start_server(command, port)
    yield process, port
    if process.poll() is None:
        os.kill(process.pid, signal.SIGCONT)
    stop_server(process)


def post(app, sender=GEORGE, cookie=None, **headers):
    client = app.test_client()
    if cookie:
        client.set_cookie("conversation", cookie)
    return client.post("/sms", data={"From": sender, "To": OUR_NUMBER}, headers=headers)


@pytest.mark.integration  # starts a process
def test_a_stalled_redis_never_counts_the_messages_it_refused(own_redis):
    """Redis frozen (SIGSTOP): each message is refused with 503; the scripts Redis then runs
    late, when it resumes, see by Redis's own clock that the app gave up, and count nothing."""
    process, port = own_redis
    app = production_app({"SECRET_KEY": KEY, "REDIS_URL": f"redis://127.0.0.1:{port}/0"})
    first = post(app)
    cookie = re.search(r"conversation=(\w+)", first.headers["Set-Cookie"]).group(1)
    os.kill(process.pid, signal.SIGSTOP)
    with ThreadPoolExecutor(3) as pool:
        refused = list(pool.map(lambda _: post(app, cookie=cookie).status_code, range(3)))
    os.kill(process.pid, signal.SIGCONT)
    assert refused == [503, 503, 503]
    assert "messaged +15005550006 2 times" in post(app, cookie=cookie).text


@pytest.mark.integration  # starts a process
def test_a_worker_starting_while_redis_is_frozen_starts_and_answers_503_until_it_returns(
    own_redis, caplog
):
    process, port = own_redis
    os.kill(process.pid, signal.SIGSTOP)
    url = f"redis://:hunter2-secret@127.0.0.1:{port}/0"
    app = production_app({"SECRET_KEY": KEY, "REDIS_URL": url})  # no SettingsError: a blip
    answer = post(app)
    assert answer.status_code == 503 and answer.text.count("\n") == 1
    assert f"Redis at redis://127.0.0.1:{port}/0: no answer" in caplog.text
    assert "hunter2" not in caplog.text
    os.kill(process.pid, signal.SIGCONT)
    assert "messaged +15005550006 1 times" in post(app).text  # back, and nothing counted


@pytest.mark.parametrize(
    "url, says",
    [
        ("http://127.0.0.1:6379/0", "REDIS_URL is not a Redis URL (Redis URL must specify one"),
        ("redis://127.0.0.1:99999/0", "REDIS_URL is not a Redis URL (Port out of range"),
        ("redis://{server}/99", "Redis at redis://{server}/99 refused: it answered DB index"),
    ],
)
def test_a_wrong_redis_url_refuses_to_start_saying_what_redis_answered(redis_url, url, says):
    server = redis_url.split("//")[1].rsplit("/", 1)[0]
    with pytest.raises(SettingsError) as refused:
        production_app({"SECRET_KEY": KEY, "REDIS_URL": url.format(server=server)})
    message = str(refused.value)
    assert message.startswith(says.format(server=server)) and message.count(". ") == 0


@pytest.mark.integration  # starts a process
def test_a_wrong_password_is_named_as_such(tmp_path):
    port = free_port()
    command = redis_command(port, str(tmp_path))
    if command is None:
        pytest.skip(MISSING)
    process = start_server([*command, "--requirepass", "right-password"], port)
    try:
        with pytest.raises(SettingsError, match="refused: it refused the password") as refused:
            production_app({"SECRET_KEY": KEY, "REDIS_URL": f"redis://:wrong@127.0.0.1:{port}/0"})
        assert ":wrong@" not in str(refused.value)
    finally:
        stop_server(process)


@pytest.mark.parametrize(
    "field, value",
    [
        ("MessageSid", "SM" + "a" * 60_000),
        ("MessageSid", "not-a-sid"),
        ("I-Twilio-Idempotency-Token", "t" * 65),
        ("I-Twilio-Idempotency-Token", "spaces are not a token"),
    ],
)
def test_delivery_ids_outside_twilios_formats_never_reach_redis(app, store, field, value):
    before = store.dbsize()
    if field == "MessageSid":
        client = app.test_client()
        params = {"From": GEORGE, "To": OUR_NUMBER, "MessageSid": value}
        answer = client.post("/sms", data=params)
    else:
        answer = post(app, **{field: value})
    assert answer.status_code in (400, 403) and store.dbsize() == before


def test_a_conversation_id_counts_only_for_its_own_pair(redis_url, store):
    app = production_app({"SECRET_KEY": KEY, "REDIS_URL": redis_url})  # unsigned: anyone
    georges = post(app)
    cookie = re.search(r"conversation=(\w+)", georges.headers["Set-Cookie"]).group(1)
    assert "2 times" in post(app, cookie=cookie).text
    boots = post(app, sender="+14158675310", cookie=cookie)  # George's id, another sender
    assert "Boots has messaged +15005550006 1 times" in boots.text
    assert "3 times" in post(app, cookie=cookie).text  # George's conversation is untouched


@pytest.mark.integration  # starts a process
def test_redis_stopping_mid_run_gives_503_in_one_line(own_redis):
    process, port = own_redis
    app = production_app({"SECRET_KEY": KEY, "REDIS_URL": f"redis://127.0.0.1:{port}/0"})
    stop_server(process)
    answer = app.test_client().post("/sms", data={"From": GEORGE, "To": OUR_NUMBER})
    assert answer.status_code == 503 and answer.text.count("\n") == 1


@pytest.mark.integration  # starts a process
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


@pytest.mark.slow
def test_a_worker_restarting_while_redis_is_frozen_leaves_gunicorn_listening(own_redis, run_server):
    """gunicorn restarts a worker (after a timeout, a crash, max_requests) while Redis is away:
    before, the new worker failed to boot and gunicorn's master shut down for good."""
    process, port = own_redis
    web = free_port()
    environment = os.environ | {"FLASK_SECRET_KEY": KEY, "REDIS_URL": f"redis://127.0.0.1:{port}/0"}
    command = gunicorn_command("quickstart.sms.sms_conversation:app", web, workers=2)
    gunicorn = run_server(command, web, env=environment, cwd=ROOT)
    os.kill(process.pid, signal.SIGSTOP)
    workers = psutil.Process(gunicorn.pid).children()
    for worker in workers:
        worker.kill()  # as gunicorn's timeout does; the master boots new ones, Redis frozen
    psutil.wait_procs(workers, timeout=10)
    booting = time.monotonic()  # each new worker waits 5 s for Redis, then says so
    while gunicorn.poll() is None and time.monotonic() - booting < 60:
        if output_of(gunicorn).count("answering 503 until it answers") >= 2:
            break
        time.sleep(0.1)
    os.kill(process.pid, signal.SIGCONT)
    twilio = LocalTwilio(f"http://127.0.0.1:{web}/sms")
    assert gunicorn.poll() is None, "gunicorn's master shut down"
    assert twilio.text(GEORGE, OUR_NUMBER, "back?").reply.endswith("1 times")
