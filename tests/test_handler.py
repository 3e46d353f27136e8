"""The counter webhook: the seed's behaviour, kept, and its bad-input answers."""

import time
import xml.etree.ElementTree as ElementTree

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from quickstart.sms.sms_conversation import create_app, e164, name_for
from tests.support import OUR_NUMBER, session_cookie

SEED_PEOPLE = {"4158675309": "Curious George", "4158675310": "Boots", "4158675311": "Virgil"}


def message_text(response) -> str:
    """The one <Message> of a TwiML answer."""
    root = ElementTree.fromstring(response.data)
    (message,) = root.findall("Message")
    return message.text


def send(client, sender="+14158675309", to=OUR_NUMBER, body="hi", **extra):
    return client.post("/sms", data={"From": sender, "To": to, "Body": body, **extra})


@pytest.mark.parametrize("seed_key,name", SEED_PEOPLE.items())
@pytest.mark.parametrize("form", ["{}", "+1{}"])
def test_known_people_are_greeted_by_name_in_either_number_form(client, seed_key, name, form):
    response = send(client, sender=form.format(seed_key))
    assert message_text(response) == f"{name} has messaged {OUR_NUMBER} 1 times"


def test_anyone_else_is_a_monkey(client):
    assert message_text(send(client, sender="+442071838750")) == (
        f"Monkey has messaged {OUR_NUMBER} 1 times"
    )


def test_reply_is_the_seeds_text_in_modern_twiml(client):
    response = send(client)
    assert response.status_code == 200
    assert response.mimetype == "text/xml"
    root = ElementTree.fromstring(response.data)
    assert root.tag == "Response"
    assert [child.tag for child in root] == ["Message"]  # <Message>, not the deprecated <Sms>


def test_the_count_grows_with_each_message_of_a_conversation(client):
    texts = [message_text(send(client)) for _ in range(3)]
    assert texts == [f"Curious George has messaged {OUR_NUMBER} {n} times" for n in (1, 2, 3)]


def test_get_works_as_twilio_allows(client):
    response = client.get("/sms", query_string={"From": "+14158675310", "To": OUR_NUMBER})
    assert message_text(response) == f"Boots has messaged {OUR_NUMBER} 1 times"


@pytest.mark.parametrize("missing", ["From", "To"])
def test_a_missing_field_gets_400_with_the_reason(client, missing):
    data = {"From": "+14158675309", "To": OUR_NUMBER, "Body": "hi"}
    del data[missing]
    response = client.post("/sms", data=data)
    assert response.status_code == 400
    assert response.mimetype == "text/plain"
    assert "From and To are required" in response.get_data(as_text=True)


def bad_cookies(app) -> dict[str, str]:
    """Cookies that must start a fresh conversation, by kind."""
    genuine = session_cookie(app, {"counter": 41})
    foreign_app = create_app({"SECRET_KEY": "another key"})
    flipped = "A" if genuine[5] != "A" else "B"
    return {
        "garbage": "not-a-session-%%%",
        "empty": "",
        "truncated": genuine[: len(genuine) // 2],
        "tampered": genuine[:5] + flipped + genuine[6:],
        "signed with another key": session_cookie(foreign_app, {"counter": 41}),
        "oversized": "x" * 3000,
        "non-ascii": "ç☃" * 10,
    }


BAD_COOKIE_KINDS = list(bad_cookies(create_app({"SECRET_KEY": "k"})))


def test_the_genuine_cookie_continues_the_conversation(app, client):
    client.set_cookie("session", session_cookie(app, {"counter": 41}))
    assert message_text(send(client)).endswith(" 42 times")


@pytest.mark.parametrize("kind", BAD_COOKIE_KINDS)
def test_a_bad_cookie_starts_a_fresh_conversation(app, client, kind):
    client.set_cookie("session", bad_cookies(app)[kind])
    response = send(client)
    assert response.status_code == 200
    assert message_text(response).endswith(" 1 times")


def aged_session_cookie(app, session: dict, age_seconds: int) -> str:
    """A session cookie the app signed age_seconds ago (itsdangerous keeps the time in it)."""
    serializer = app.session_interface.get_signing_serializer(app)
    signed_at = int(time.time()) - age_seconds

    class SignedEarlier(serializer.signer):
        def get_timestamp(self) -> int:
            return signed_at

    serializer.signer = SignedEarlier
    return serializer.dumps(session)


@pytest.mark.parametrize("age,count", [((3 * 60 + 59) * 60, 42), ((4 * 60 + 1) * 60, 1)])
def test_a_cookie_older_than_four_hours_is_refused_by_the_server_too(app, client, age, count):
    """Even if a client kept it longer than Twilio does, the server starts a fresh conversation."""
    client.set_cookie("session", aged_session_cookie(app, {"counter": 41}, age))
    response = send(client)
    assert response.status_code == 200
    assert message_text(response).endswith(f" {count} times")


# No per-example deadline: this checks the XML, and a busy two-core machine is slow, not wrong.
@settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(to=st.text(max_size=60), body=st.text(max_size=300))
def test_any_text_gives_well_formed_twiml(client, to, body):
    response = client.post("/sms", data={"From": "+14158675309", "To": to, "Body": body})
    assert response.status_code in (200, 400)
    if response.status_code == 200:
        ElementTree.fromstring(response.data)  # raises on malformed XML


def test_e164_and_name_for():
    assert e164("(415) 867-5309") == "+14158675309"
    assert e164("+44 20 7183 8750") == "+442071838750"
    assert name_for("415-867-5311") == "Virgil"
    assert name_for("+15551234567") == "Monkey"
