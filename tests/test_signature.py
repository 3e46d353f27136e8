"""X-Twilio-Signature: Twilio's known answer, forged requests turned away, proxies handled."""

import pytest
from twilio.request_validator import RequestValidator

from smskit import LocalTwilio
from tests.support import OUR_NUMBER, TOKEN

PUBLIC_URL = "https://abc123.ngrok.app/sms"


def test_known_answer_from_twilios_documentation():
    params = {
        "CallSid": "CA1234567890ABCDE",
        "Caller": "+14158675309",
        "Digits": "1234",
        "From": "+14158675309",
        "To": "+18005551212",
    }
    url = "https://mycompany.com/myapp.php?foo=1&bar=2"
    assert RequestValidator("12345").compute_signature(url, params) == (
        "RSOYDt4T1cUTdK1PDd93/VVr8B8="
    )


def signed_request(url=PUBLIC_URL, token=TOKEN):
    """The form and headers of a genuine message Twilio signed for url."""
    twilio = LocalTwilio(url, auth_token=token, account_sid="AC" + "0" * 32)
    form = twilio.params("+14158675309", OUR_NUMBER, "hi", "SM" + "1" * 32)
    return form, {"X-Twilio-Signature": twilio.signature(url, form)}


def post(client, form, headers, url=PUBLIC_URL, proxy=True):
    """POST to /sms the way a tunnel delivers a request for url."""
    scheme, _, host = url.partition("://")
    host = host.split("/")[0]
    if proxy:
        headers = {**headers, "X-Forwarded-Proto": scheme, "X-Forwarded-Host": host}
    return client.post("/sms", data=form, headers=headers)


def test_a_request_signed_for_the_public_url_is_accepted_behind_a_proxy(signed_app):
    form, headers = signed_request()
    response = post(signed_app.test_client(), form, headers)
    assert response.status_code == 200, response.data


def test_without_trusting_the_proxy_headers_the_same_request_would_fail(signed_app):
    form, headers = signed_request()
    assert post(signed_app.test_client(), form, headers, proxy=False).status_code == 403


def signed_for(url, form):
    return {"X-Twilio-Signature": RequestValidator(TOKEN).compute_signature(url, form)}


# Each forgery takes a genuine (form, headers, url) and returns what the forger sends.
FORGERIES = {
    "wrong token": lambda f, h, u: (*signed_request(token="54321"), u),
    "added parameter": lambda f, h, u: ({**f, "Extra": "1"}, h, u),
    "removed parameter": lambda f, h, u: ({k: v for k, v in f.items() if k != "NumMedia"}, h, u),
    "replayed to another host": lambda f, h, u: (f, h, "https://evil.example.com/sms"),
    "replayed over http": lambda f, h, u: (f, h, "http://abc123.ngrok.app/sms"),
    "signed for another path": lambda f, h, u: (f, signed_for(u + "/other", f), u),
    "signed for another port": lambda f, h, u: (
        f,
        signed_for(u.replace(".app/", ".app:8443/"), f),
        u,
    ),
    "missing header": lambda f, h, u: (f, {}, u),
    "garbled header": lambda f, h, u: (f, {"X-Twilio-Signature": "not base64!!"}, u),
}


@pytest.mark.parametrize("forgery", FORGERIES)
def test_forged_requests_get_403(signed_app, forgery):
    form, headers, url = FORGERIES[forgery](*signed_request(), PUBLIC_URL)
    response = post(signed_app.test_client(), form, headers, url=url)
    assert response.status_code == 403
    assert response.get_data(as_text=True).startswith("Forbidden: X-Twilio-Signature")


def test_the_cookie_is_not_covered_by_the_signature(signed_app):
    """Twilio signs the URL and parameters only: a changed Cookie header still passes."""
    form, headers = signed_request()
    client = signed_app.test_client()
    client.set_cookie("session", "anything at all", domain="abc123.ngrok.app")
    assert post(client, form, headers).status_code == 200


def test_the_local_twilio_signs_get_requests_too(signed_app):
    twilio = LocalTwilio(signed_app, url="http://localhost/sms", method="GET", auth_token=TOKEN)
    assert twilio.text("+14158675309", OUR_NUMBER, "hi").ok


def test_without_a_token_nothing_is_checked(app):
    assert app.test_client().post("/sms", data={"From": "+1", "To": "+2"}).status_code == 200


@pytest.mark.parametrize("name", list(signed_request()[0]))
def test_altering_any_one_of_twilios_parameters_gets_403(signed_app, name):
    form, headers = signed_request()
    client = signed_app.test_client()
    assert post(client, form, headers).status_code == 200  # untouched, it passes
    assert post(client, {**form, name: form[name] + "0"}, headers).status_code == 403


@pytest.mark.parametrize("body", ["Hi: there", "café", "ok (really)!"])
def test_a_signed_get_with_reserved_characters_is_accepted(signed_app, body):
    twilio = LocalTwilio(signed_app, url="http://localhost/sms", method="GET", auth_token=TOKEN)
    assert twilio.text("+14158675309", OUR_NUMBER, body).ok
