"""Point a Twilio number's SMS webhook at the tunnel, and put the previous one back afterwards.

>>> hookup = point_number("https://abc123.ngrok-free.app/sms")   # TWILIO_* from env or .env
>>> hookup.previous_url
'https://demo.twilio.com/welcome/sms/reply'
>>> restore_number(hookup.phone_number)                        # also done at exit
"""

from __future__ import annotations

import atexit
import json
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import requests
from twilio.base.exceptions import (
    TwilioException,
    TwilioRestException,
    TwilioServiceException,
)
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from .settings import LOCAL_ONLY, Settings, load_settings, mask

log = logging.getLogger(__name__)

TIMEOUT = 10.0  # seconds for each call to Twilio's REST API

T = TypeVar("T")


class NumberHookupError(RuntimeError):
    """The number could not be pointed here (or back); the message says what to do."""


@dataclass(frozen=True)
class Hookup:
    """A Twilio number whose SMS webhook we changed, and what it was before."""

    phone_number: str
    sid: str
    sms_url: str
    previous_url: str
    previous_method: str


_hookups: dict[str, tuple[Hookup, Client]] = {}
_lock = threading.Lock()


def client_for(settings: Settings, http_client=None) -> Client:
    """twilio-python's client for the account, with a time limit on every request."""
    return Client(
        settings.twilio_account_sid,
        settings.twilio_auth_token,
        http_client=http_client if http_client is not None else TwilioHttpClient(timeout=TIMEOUT),
    )


def point_number(sms_url: str, settings: Settings | None = None, http_client=None) -> Hookup:
    """Set TWILIO_PHONE_NUMBER's SMS webhook to sms_url (POST), remembering the previous one."""
    settings = settings if settings is not None else load_settings()
    if not settings.has_twilio:
        raise NumberHookupError(settings.twilio_problem)
    phone = settings.twilio_phone_number
    with _lock:
        earlier = _hookups.get(phone)
        client = client_for(settings, http_client)
        found = _call(lambda: client.incoming_phone_numbers.list(phone_number=phone, limit=1))
        if not found:
            raise NumberHookupError(
                f"{phone} is not a number of Twilio account {mask(settings.twilio_account_sid)}: "
                "set TWILIO_PHONE_NUMBER to one under Phone Numbers > Active numbers."
            )
        number = found[0]
        if number.sms_application_sid:
            raise NumberHookupError(
                f"{phone} hands its messages to TwiML app {number.sms_application_sid}, which "
                "overrides any webhook URL: set it to Webhook in the Twilio console first."
            )
        if earlier:  # a re-run: what to restore is still what was there before the first run
            previous_url, previous_method = earlier[0].previous_url, earlier[0].previous_method
        else:
            previous_url, previous_method = number.sms_url or "", number.sms_method or "POST"
        if number.sms_url != sms_url or number.sms_method != "POST":
            _call(lambda: number.update(sms_url=sms_url, sms_method="POST"))
        hookup = Hookup(phone, number.sid, sms_url, previous_url, previous_method)
        _hookups[phone] = (hookup, client)
    log.info("%s now sends its messages to %s (was %r)", phone, sms_url, previous_url)
    return hookup


def restore_number(phone_number: str) -> None:
    """Put the number's previous SMS webhook back; harmless if we never changed it."""
    with _lock:
        entry = _hookups.get(phone_number)
        if entry is None:
            return
        hookup, client = entry
        _call(
            lambda: client.incoming_phone_numbers(hookup.sid).update(
                sms_url=hookup.previous_url, sms_method=hookup.previous_method
            )
        )
        del _hookups[phone_number]
    log.info("%s sends its messages to %r again", phone_number, hookup.previous_url)


@atexit.register
def restore_all() -> None:
    """Restore every number we pointed here (also run when the interpreter exits)."""
    for phone_number in hookups():
        try:
            restore_number(phone_number)
        except NumberHookupError as problem:
            log.info("Could not restore %s: %s", phone_number, problem)


def hookups() -> dict[str, Hookup]:
    """The numbers pointed here now, by phone number (no network)."""
    with _lock:
        return {phone: entry[0] for phone, entry in _hookups.items()}


def _call(request: Callable[[], T]) -> T:
    """request(), with Twilio's and the network's failures turned into one sentence."""
    try:
        return request()
    except TwilioException as problem:
        status, code = _status_and_code(problem)
        log.info("Twilio answered %s (error %s): %s", status, code, problem)
        if status == 401 or code == 20003:
            raise NumberHookupError(
                "Twilio refused the credentials (error 20003): check TWILIO_ACCOUNT_SID and "
                "TWILIO_AUTH_TOKEN in .env against the Twilio console's Account info."
            ) from None
        raise NumberHookupError(
            f"Twilio answered {status} (error {code}): "
            f"see https://www.twilio.com/docs/errors/{code}; {LOCAL_ONLY}."
        ) from None
    except requests.exceptions.RequestException as problem:
        log.info("Twilio's API unreachable: %s", type(problem).__name__)
        raise NumberHookupError(
            "Could not reach api.twilio.com: check the internet connection and run this cell "
            f"again; {LOCAL_ONLY}."
        ) from None


def _status_and_code(problem: TwilioException) -> tuple[int | None, int | None]:
    """The HTTP status and Twilio error code of a failed request.

    A failed list arrives as TwilioException("Unable to fetch page", response), not as a
    TwilioRestException, so the code is read from the response body then.
    """
    if isinstance(problem, TwilioRestException | TwilioServiceException):
        return problem.status, problem.code
    response = problem.args[1] if len(problem.args) > 1 else None
    status = getattr(response, "status_code", None)
    try:
        code = json.loads(response.text).get("code", status)
    except (AttributeError, TypeError, ValueError):
        code = status
    return status, code
