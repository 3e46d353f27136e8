"""`python3 kit.py room --check`: will a room of strangers get replies from this account and number?

Reads, with twilio-python's client, the account (trial or full, status), the number (SMS
capability, its Messaging Service, the A2P 10DLC campaign or toll-free verification where they
apply) and its current SMS webhook (a tunnel URL that no longer answers is flagged), and prints a
go/no-go table with the fix for each "no". Without credentials it names every missing value.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import requests

from .settings import Settings, load_settings
from .twilio_number import NumberHookupError, client_for, twilio_call

TOLL_FREE = re.compile(r"^\+18(00|33|44|55|66|77|88)\d{7}$")  # US/Canada toll-free prefixes
TWILIO_HOSTED = re.compile(r"^https://([a-z0-9-]+\.)*twilio\.com(/|$)")  # e.g. the demo reply


@dataclass(frozen=True)
class Check:
    """One row of the table: what was checked, go or no, what was found, and the fix."""

    name: str
    go: bool
    found: str
    fix: str = ""


def table(checks: list[Check]) -> str:
    """The go/no-go table as plain text, then one line with the verdict."""
    width = max(len(check.name) for check in checks)
    lines = []
    for check in checks:
        lines.append(f"{'go ' if check.go else 'NO '} {check.name:<{width}}  {check.found}")
        if not check.go and check.fix:
            lines.append(f"    {'':<{width}}  fix: {check.fix}")
    verdict = all(check.go for check in checks)
    lines.append(
        "Go: a room of strangers will get replies." if verdict else "No-go: fix the NO rows."
    )
    return "\n".join(lines)


def preflight(
    settings: Settings | None = None, http_client=None, ours: str | None = None
) -> list[Check]:
    """Every check, in order; the network only once the credentials are all there. ours: the
    webhook a live room just set (it answers: it is this room), not probed."""
    settings = settings if settings is not None else load_settings()
    problems = [p for p in (settings.twilio_problem, settings.ngrok_problem) if p]
    if problems:
        return [Check("credentials", False, " ".join(problems), "see .env.example")]
    client = client_for(settings, http_client)
    try:
        return number_checks(client, settings, ours)
    except NumberHookupError as problem:  # the credentials refused, or no network
        return [Check("Twilio's API", False, str(problem))]


def number_checks(client, settings: Settings, ours: str | None = None) -> list[Check]:
    """The account's and the number's rows (each request may raise NumberHookupError)."""
    phone = settings.twilio_phone_number
    checks = [account_check(client, settings)]
    found = twilio_call(lambda: client.incoming_phone_numbers.list(phone_number=phone, limit=1))
    if not found:
        fix = "set TWILIO_PHONE_NUMBER to one under Phone Numbers > Active numbers"
        return [*checks, Check("number", False, f"{phone} is not on this account", fix)]
    number = found[0]
    sms = bool((number.capabilities or {}).get("sms"))
    checks.append(Check("number", sms, f"{phone}, SMS {'capable' if sms else 'not capable'}",
                        "buy an SMS-capable number"))  # fmt: skip
    url = number.sms_url or ""
    checks.append(
        Check("webhook", True, f"{url}: this room") if url == ours else webhook_check(url)
    )
    service = service_of(client, number.sid)
    if TOLL_FREE.match(phone):
        checks.append(tollfree_check(client, number.sid))
    elif phone.startswith("+1"):
        checks.append(campaign_check(client, service))
    return checks


def account_check(client, settings: Settings) -> Check:
    account = twilio_call(lambda: client.api.v2010.accounts(settings.twilio_account_sid).fetch())
    if account.status != "active":
        return Check("account", False, f"status {account.status}",
                     "reactivate the account in the Twilio console")  # fmt: skip
    if account.type == "Trial":
        return Check("account", False, "a trial account: it replies only to verified numbers",
                     "upgrade the account (Console > Billing) before the day")  # fmt: skip
    return Check("account", True, f"{account.type}, {account.status}")


def webhook_check(url: str) -> Check:
    """The number's current SMS webhook; one (a tunnel's, say) that no longer answers is flagged.

    Any HTTP answer counts (a webhook may refuse a GET); Twilio's own URLs are not probed."""
    if not url or TWILIO_HOSTED.match(url):
        return Check("webhook", True, url or "none (the room sets it when it goes live)")
    try:
        requests.get(url, timeout=5)
    except requests.exceptions.RequestException:
        return Check("webhook", False, f"{url} no longer answers (a tunnel from an earlier run)",
                     "start the room (it points the number at its own tunnel) or set the webhook "
                     "back in the console")  # fmt: skip
    return Check("webhook", True, f"{url} answers")


def service_of(client, number_sid: str):
    """The Messaging Service the number is in, or None."""
    for service in twilio_call(lambda: client.messaging.v1.services.list()):
        numbers = twilio_call(
            lambda s=service: client.messaging.v1.services(s.sid).phone_numbers.list()
        )
        if any(n.sid == number_sid for n in numbers):
            return service
    return None


def campaign_check(client, service) -> Check:
    """A US local number: its Messaging Service needs a verified A2P 10DLC campaign (30034)."""
    fix = "register an A2P 10DLC brand and campaign for its Messaging Service (else error 30034)"
    if service is None:
        return Check("A2P 10DLC", False, "the number is in no Messaging Service", fix)
    campaigns = twilio_call(
        lambda: client.messaging.v1.services(service.sid).us_app_to_person.list()
    )
    statuses = [c.campaign_status for c in campaigns]
    if "VERIFIED" in statuses:
        return Check("A2P 10DLC", True, f"campaign verified ({service.friendly_name})")
    found = ", ".join(statuses) or "no campaign"
    return Check("A2P 10DLC", False, f"{service.friendly_name}: {found}", fix)


def tollfree_check(client, number_sid: str) -> Check:
    """A toll-free number needs an approved verification (else error 30032)."""
    found = twilio_call(
        lambda: client.messaging.v1.tollfree_verifications.list(
            tollfree_phone_number_sid=number_sid
        )
    )
    statuses = [v.status for v in found]
    if "TWILIO_APPROVED" in statuses:
        return Check("toll-free verification", True, "approved")
    return Check("toll-free verification", False, ", ".join(statuses) or "not submitted",
                 "submit the toll-free verification in the console (else error 30032)")  # fmt: skip


def verdict(checks: list[Check]) -> str:
    """The table in one line, for the room's status line."""
    noes = [
        f"NO {c.name}: {c.found}" + (f" (fix: {c.fix})" if c.fix else "")
        for c in checks
        if not c.go
    ]
    if not noes:
        return "preflight: go, a room of strangers will get replies"
    return "preflight: " + "; ".join(noes) + "; the table: python3 kit.py room --check"


def main(settings: Settings | None = None, http_client=None) -> int:
    """Print the table; exit 0 on go, 1 on no-go."""
    checks = preflight(settings, http_client)
    print(table(checks), flush=True)
    return 0 if all(check.go for check in checks) else 1
