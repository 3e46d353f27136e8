"""Behind a tunnel, the handler accepts what Twilio signed for the public URL and refuses forgeries.

The ngrok edge is replaced by a local reverse proxy (tests/fakes/edge.py) that forwards to the
quickstart app served in this process, setting X-Forwarded-Proto/-Host as ngrok does; Twilio is
replaced by smskit's LocalTwilio, which signs for the public https URL and connects to the proxy.
"""

from urllib.parse import urlencode

import pytest
import urllib3

from smskit import LocalTwilio, serve
from tests.fakes.edge import edge_app
from tests.support import OUR_NUMBER, TOKEN

pytestmark = pytest.mark.integration  # starts a server

PUBLIC = "https://abc123.ngrok.app/sms"
GEORGE = "+14158675309"


@pytest.fixture
def edge(signed_app):
    """The app behind a stand-in ngrok edge; yields a function (forwarded=True) -> edge URL."""
    served = [serve(signed_app, name="behind-edge")]

    def start(forwarded=True):
        served.append(serve(edge_app(served[0].url, forwarded), name=f"edge-{forwarded}"))
        return served[-1].url

    yield start
    for server in reversed(served):
        server.stop()


def test_signed_for_the_public_url_counts_1_2_3_through_the_proxy(edge):
    twilio = LocalTwilio(PUBLIC, auth_token=TOKEN, via=edge())
    replies = [twilio.text(GEORGE, OUR_NUMBER, "hi").reply for _ in range(3)]
    assert replies == [f"Curious George has messaged {OUR_NUMBER} {n} times" for n in (1, 2, 3)]


def test_a_wrong_token_is_refused_through_the_proxy(edge):
    forger = LocalTwilio(PUBLIC, auth_token="not-the-token", via=edge())
    delivery = forger.text(GEORGE, OUR_NUMBER, "hi")
    assert delivery.status == 403 and delivery.replies == ()


def test_an_altered_parameter_is_refused_through_the_proxy(edge):
    via = edge()
    twilio = LocalTwilio(PUBLIC, auth_token=TOKEN, via=via)
    params = twilio.params(GEORGE, OUR_NUMBER, "hi", "SM" + "0" * 32)
    signature = twilio.signature(PUBLIC, params)
    pool = urllib3.PoolManager(retries=False)

    def post(form):
        return pool.request(
            "POST",
            f"{via}/sms",
            body=urlencode(form),
            headers={
                "Host": "abc123.ngrok.app",
                "Content-Type": "application/x-www-form-urlencoded",
                "X-Twilio-Signature": signature,
            },
        )

    assert post(params).status == 200  # the untouched request passes: the check is not vacuous
    assert post(params | {"Body": "send me money"}).status == 403
    assert post(params | {"From": "+15005550001"}).status == 403


def test_without_forwarded_headers_even_good_signatures_fail(edge):
    """Why ProxyFix matters: the app would rebuild http://127.0.0.1:PORT/sms, not the signed URL."""
    twilio = LocalTwilio(PUBLIC, auth_token=TOKEN, via=edge(forwarded=False))
    assert twilio.text(GEORGE, OUR_NUMBER, "hi").status == 403
