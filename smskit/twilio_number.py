"""Point a Twilio number's SMS webhook at the tunnel, and put the previous one back afterwards.

>>> hookup = point_number("https://abc123.ngrok-free.app/sms")   # TWILIO_* from env or .env
>>> hookup.previous_url
'https://demo.twilio.com/welcome/sms/reply'
>>> restore_number(hookup.phone_number)                        # also done at exit

One process at a time holds a number (a lock file the system releases when the process dies, so
a second kernel or tab is told the room is open elsewhere), and the previous webhook is written
to a file before the number changes: a room that died without restoring it (a crash, `kill -9`)
has it given back at the next start (`give_back_left_webhook`), which says so.
"""

from __future__ import annotations

import atexit
import json
import logging
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import requests
from filelock import FileLock, Timeout
from twilio.base.exceptions import (
    TwilioException,
    TwilioRestException,
    TwilioServiceException,
)
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from .export import ROOT
from .settings import LOCAL_ONLY, Settings, load_settings, mask

log = logging.getLogger(__name__)

TIMEOUT = 10.0  # seconds for each call to Twilio's REST API

T = TypeVar("T")


class NumberHookupError(RuntimeError):
    """The number could not be pointed here (or back); the message says what to do."""


class NumberInUse(NumberHookupError):
    """Another process (a second tab's kernel, another room) holds the number."""


@dataclass(frozen=True)
class Hookup:
    """A Twilio number whose SMS webhook we changed, and what it was before."""

    phone_number: str
    sid: str
    sms_url: str
    previous_url: str
    previous_method: str
    given_back: str | None = None  # what a room that died had left, given back first


_hookups: dict[str, tuple[Hookup, Client]] = {}
_claims: dict[str, FileLock] = {}
_lock = threading.Lock()


def hookup_files(phone_number: str) -> tuple[Path, Path]:
    """The number's lock file and the file of its previous webhook (SMSKIT_HOOKUP_DIR, else
    the kit's instance/ folder)."""
    folder = Path(os.environ.get("SMSKIT_HOOKUP_DIR") or ROOT / "instance")
    folder.mkdir(parents=True, exist_ok=True)
    name = "number-" + phone_number.lstrip("+")
    return folder / f"{name}.lock", folder / f"{name}.json"


def claim_number(phone_number: str) -> None:
    """Hold the number for this process until restore_number (the system lets go if it dies)."""
    if phone_number in _claims:
        return
    lock = FileLock(hookup_files(phone_number)[0], timeout=0, thread_local=False)
    try:
        lock.acquire()
    except Timeout:
        raise NumberInUse(
            f"The room for {phone_number} is open elsewhere (another tab, kernel or room has "
            "the number): use that page, or stop it first."
        ) from None
    _claims[phone_number] = lock


def release_number(phone_number: str) -> None:
    lock = _claims.pop(phone_number, None)
    if lock is not None:
        lock.release()


def _write_previous(hookup: Hookup) -> None:
    """The previous webhook, on disk before the number changes (replaced atomically)."""
    path = hookup_files(hookup.phone_number)[1]
    record = {
        "phone_number": hookup.phone_number, "sid": hookup.sid, "sms_url": hookup.sms_url,
        "previous_url": hookup.previous_url, "previous_method": hookup.previous_method,
    }  # fmt: skip
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(record), encoding="utf-8")
    os.replace(temporary, path)


def _give_back_left(phone_number: str, client: Client) -> str | None:
    """Restore what a dead room left in the file (the caller holds the claim); say what."""
    path = hookup_files(phone_number)[1]
    if phone_number in _hookups or not path.exists():
        return None
    left = json.loads(path.read_text(encoding="utf-8"))
    twilio_call(
        lambda: client.incoming_phone_numbers(left["sid"]).update(
            sms_url=left["previous_url"], sms_method=left["previous_method"]
        )
    )
    path.unlink()
    said = (
        f"A room that stopped without giving {phone_number} back (a crash or kill -9) had left "
        f"it on {left['sms_url']}: its webhook is {left['previous_url'] or 'empty'} again."
    )
    log.warning("%s", said)
    return said


def give_back_left_webhook(settings: Settings | None = None, http_client=None) -> str | None:
    """At a room's start: restore the webhook a dead room left on the number, and say so.

    None when there was nothing to give back (no network then), or the number is held by a
    room that is still running (it gives the number back itself)."""
    settings = settings if settings is not None else load_settings()
    phone = settings.twilio_phone_number
    if not settings.has_twilio or not hookup_files(phone)[1].exists():
        return None
    with _lock:
        held = phone in _claims
        try:
            claim_number(phone)
        except NumberInUse:
            return None
        try:
            return _give_back_left(phone, client_for(settings, http_client))
        finally:
            if not held:
                release_number(phone)


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
        claim_number(phone)
        try:
            hookup = _point(client, settings, sms_url, earlier)
        except NumberHookupError:
            if earlier is None:  # a file left behind is kept: the update may have been applied
                release_number(phone)
            raise
        _hookups[phone] = (hookup, client)
    log.info("%s now sends its messages to %s (was %r)", phone, sms_url, hookup.previous_url)
    return hookup


def _point(client: Client, settings: Settings, sms_url: str, earlier: tuple | None) -> Hookup:
    """point_number's requests, under its lock and claim."""
    phone = settings.twilio_phone_number
    given_back = _give_back_left(phone, client)
    found = twilio_call(lambda: client.incoming_phone_numbers.list(phone_number=phone, limit=1))
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
    hookup = Hookup(phone, number.sid, sms_url, previous_url, previous_method, given_back)
    _write_previous(hookup)
    if number.sms_url != sms_url or number.sms_method != "POST":
        twilio_call(lambda: number.update(sms_url=sms_url, sms_method="POST"))
    return hookup


def restore_number(phone_number: str) -> None:
    """Put the number's previous SMS webhook back; harmless if we never changed it."""
    with _lock:
        entry = _hookups.get(phone_number)
        if entry is None:
            return
        hookup, client = entry
        twilio_call(
            lambda: client.incoming_phone_numbers(hookup.sid).update(
                sms_url=hookup.previous_url, sms_method=hookup.previous_method
            )
        )
        del _hookups[phone_number]
        hookup_files(phone_number)[1].unlink(missing_ok=True)
        release_number(phone_number)
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


def twilio_call(request: Callable[[], T]) -> T:
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
