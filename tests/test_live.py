"""go_live / go_local: the tunnel and the number hookup together, as notebook 04 calls them.

The ngrok agent (and ngrok's cloud) is replaced by the stand-in agent binary
(tests/fakes/ngrok_agent.py) and Twilio's REST API by its local stand-in
(tests/fakes/twilio_api.py); both are driven by the real pyngrok and twilio-python.
"""

import time
from dataclasses import replace

import pytest

from smskit import serve
from smskit.live import NO_PUBLIC_URL, go_live, go_local, live_status
from smskit.settings import Settings
from tests.fakes.stand_ins import (
    LIVE_SETTINGS,
    NGROK_TOKEN,
    TWILIO_TOKEN,
    agents,
    created,
    one_sentence,
    starts,
)


@pytest.fixture
def server(app):
    with serve(app, name="go-live") as served:
        yield served


def test_without_credentials_it_stays_local_at_once(server, agent):
    log = agent("ok")
    started = time.monotonic()
    status = go_live(server, settings=Settings())
    assert time.monotonic() - started < 0.5 and starts(log) == []
    assert not status.live and status.local_url == server.url
    assert str(status).startswith("local only: No NGROK_AUTHTOKEN: copy .env.example")
    assert one_sentence(status.reason) and status.number_reason == NO_PUBLIC_URL
    assert live_status(server, settings=Settings()) == status


def test_live_then_rerun_then_local(server, agent, twilio_api):
    log = agent("ok")
    original = twilio_api.record["sms_url"]
    client = twilio_api.client()
    status = go_live(server, settings=LIVE_SETTINGS, http_client=client)
    assert status.live and status.number_points_here
    assert status.webhook_url == status.public_url + "/sms" == twilio_api.record["sms_url"]
    assert str(status) == (
        f"live at {status.webhook_url}; +15005550006 points here: text it from your phone."
    )
    assert go_live(server, settings=LIVE_SETTINGS, http_client=client) == status  # re-run
    assert len(created(log)) == 1 and len(twilio_api.updates()) == 1
    assert live_status(server, settings=LIVE_SETTINGS) == status

    after = go_local(server)
    assert not after.live and not after.number_points_here
    assert twilio_api.record["sms_url"] == original
    assert agents(log) == []


def test_a_tunnel_without_twilio_credentials_says_what_is_missing(server, agent):
    agent("ok")
    settings = replace(LIVE_SETTINGS, twilio_auth_token=None)
    status = go_live(server, settings=settings)
    assert status.live and not status.number_points_here
    assert status.number_reason == settings.twilio_problem
    assert "the number is not hooked up: No TWILIO_AUTH_TOKEN" in str(status)


def test_a_hanging_agent_leaves_the_kit_local_in_bounded_time(server, agent, twilio_api):
    log = agent("hang")
    started = time.monotonic()
    status = go_live(server, settings=LIVE_SETTINGS, http_client=twilio_api.client())
    assert time.monotonic() - started < 6.5
    assert not status.live and one_sentence(status.reason)
    assert twilio_api.calls == [] and agents(log) == []
    for text in (str(status), repr(status)):
        assert NGROK_TOKEN not in text and TWILIO_TOKEN not in text
