"""`kit.py room --check` with twilio-python's real client against the local stand-in of Twilio's
REST API (tests/fakes/twilio_api.py): trial, unregistered 10DLC, unverified toll-free, healthy."""

from __future__ import annotations

import pytest

from smskit import serve
from smskit.preflight import main, preflight, table
from smskit.processes import free_port
from smskit.settings import Settings
from tests.fakes.stand_ins import ACCOUNT, TWILIO_TOKEN
from tests.fakes.twilio_api import LoopbackHttpClient, create_api, number_record

LOCAL = "+14155550100"  # a US local (10DLC) number
TOLL_FREE = "+18445550100"


@pytest.fixture
def account():
    """Make a stand-in account around one number; yields (settings, http client) for it."""
    servers = []

    def make(phone=LOCAL, *, account_type="Full", campaigns=("VERIFIED",), tollfree=None, **f):
        record = number_record(ACCOUNT, phone, **f)
        services = [{"sid": "MG" + "1" * 32, "friendly_name": "Workshop",
                     "numbers": [record["sid"]], "campaigns": list(campaigns)}]  # fmt: skip
        verifications = [{"tollfree_phone_number_sid": record["sid"], "status": tollfree}]
        app = create_api(
            ACCOUNT, TWILIO_TOKEN, [record], account_type=account_type, services=services,
            verifications=verifications if tollfree else [],
        )  # fmt: skip
        servers.append(serve(app, name="fake-twilio-api"))
        settings = Settings(ACCOUNT, TWILIO_TOKEN, phone, "ngrok-token-0123456789")
        return settings, LoopbackHttpClient(servers[-1].url, timeout=5)

    yield make
    for server in servers:
        server.stop()


def rows(checks):
    return {check.name: check.go for check in checks}


@pytest.mark.integration  # starts a server
def test_a_healthy_account_is_go(account, capsys):
    checks = preflight(*account())
    assert rows(checks) == {"account": True, "number": True, "webhook": True, "A2P 10DLC": True}
    assert main(*account()) == 0 and "Go: a room of strangers" in capsys.readouterr().out


@pytest.mark.integration  # starts a server
def test_a_trial_account_is_no_go_with_the_fix(account):
    checks = preflight(*account(account_type="Trial"))
    assert rows(checks)["account"] is False
    assert "upgrade" in checks[0].fix and "verified numbers" in checks[0].found
    assert "No-go" in table(checks)


@pytest.mark.parametrize("campaigns", [(), ("IN_PROGRESS",), ("FAILED",)])
@pytest.mark.integration  # starts a server
def test_an_unregistered_10dlc_number_is_no_go(account, campaigns):
    check = preflight(*account(campaigns=campaigns))[-1]
    assert (check.name, check.go) == ("A2P 10DLC", False) and "30034" in check.fix


@pytest.mark.parametrize("status, go", [("PENDING_REVIEW", False), ("TWILIO_APPROVED", True)])
@pytest.mark.integration  # starts a server
def test_a_toll_free_number_needs_its_verification(account, status, go):
    check = preflight(*account(TOLL_FREE, tollfree=status))[-1]
    assert (check.name, check.go) == ("toll-free verification", go)
    assert not go or check.found == "approved"
    unsubmitted = preflight(*account(TOLL_FREE))[-1]
    assert not unsubmitted.go and "30032" in unsubmitted.fix


@pytest.mark.integration  # starts a server
def test_a_webhook_on_a_dead_tunnel_is_flagged(account):
    dead = f"http://127.0.0.1:{free_port()}/sms"  # an earlier run's tunnel: nothing answers
    checks = preflight(*account(sms_url=dead))
    webhook = next(c for c in checks if c.name == "webhook")
    assert not webhook.go and "no longer answers" in webhook.found
    with serve(create_api(ACCOUNT, TWILIO_TOKEN, []), name="alive") as alive:  # any answer: go
        checks = preflight(*account(sms_url=alive.url + "/sms"))
    assert next(c for c in checks if c.name == "webhook").go


def test_without_credentials_every_missing_value_is_named_at_once():
    (check,) = preflight(Settings(), LoopbackHttpClient(f"http://127.0.0.1:{free_port()}"))
    for name in (
        "TWILIO_ACCOUNT_SID",
        "TWILIO_AUTH_TOKEN",
        "TWILIO_PHONE_NUMBER",
        "NGROK_AUTHTOKEN",
    ):
        assert name in check.found
    assert not check.go


@pytest.mark.integration  # starts a server
def test_a_wrong_token_is_one_row_without_the_token(account):
    settings, client = account()
    settings = Settings(ACCOUNT, "wrong-token-0123456789abcdef0000", LOCAL, "ngrok-token")
    (check,) = preflight(settings, client)
    assert not check.go and "20003" in check.found and "wrong-token" not in check.found
