"""A stand-in for the parts of Twilio's REST API the hookup and the preflight call, on 127.0.0.1.

It speaks the 2010-04-01 wire format: HTTP basic auth with the account SID and auth token (401 and
error 20003 otherwise), the IncomingPhoneNumbers list filtered by PhoneNumber (a page whose records
key is `incoming_phone_numbers`), and the update of one number (form fields SmsUrl, SmsMethod).
For the preflight (smskit/preflight.py): the Account (type Trial/Full, status), and on
messaging.twilio.com/v1 the Messaging Services, their PhoneNumbers, their Compliance/Usa2p
(A2P 10DLC campaigns, campaign_status) and Tollfree/Verifications (status), as pages with a
`meta.key`, the shapes of Twilio's API reference.
LoopbackHttpClient is twilio-python's own HTTP client, sending to this server instead of
https://api.twilio.com (and https://messaging.twilio.com), so requests and responses take the
real code path.
"""

from __future__ import annotations

import re
import secrets
from copy import deepcopy

from flask import Flask, jsonify, request
from twilio.http.http_client import TwilioHttpClient

API = re.compile(r"^https://(api|messaging)\.twilio\.com")
BASE = "/2010-04-01/Accounts/<account_sid>/IncomingPhoneNumbers"


class LoopbackHttpClient(TwilioHttpClient):
    """twilio-python's HTTP client, with https://api.twilio.com replaced by a local address."""

    def __init__(self, local_url: str, **options):
        super().__init__(**options)
        self.local_url = local_url.rstrip("/")

    def request(self, method, url, *args, **kwargs):
        return super().request(method, API.sub(self.local_url, url, count=1), *args, **kwargs)


def number_record(account_sid: str, phone_number: str, **fields) -> dict:
    """An IncomingPhoneNumber as the API returns it (the fields the hookup reads, and more)."""
    sid = "PN" + secrets.token_hex(16)
    return {
        "account_sid": account_sid,
        "api_version": "2010-04-01",
        "friendly_name": phone_number,
        "phone_number": phone_number,
        "sid": sid,
        "sms_application_sid": "",
        "sms_fallback_method": "POST",
        "sms_fallback_url": "",
        "sms_method": "POST",
        "sms_url": "https://demo.twilio.com/welcome/sms/reply",
        "status_callback": "",
        "voice_method": "POST",
        "voice_url": "",
        "capabilities": {"voice": True, "sms": True, "mms": True, "fax": False},
        "status": "in-use",
        "uri": f"/2010-04-01/Accounts/{account_sid}/IncomingPhoneNumbers/{sid}.json",
        **fields,
    }


def twilio_error(status: int, code: int, message: str):
    """Twilio's JSON error body."""
    body = {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }
    return jsonify(body), status


def v1_page(key: str, records: list[dict]) -> dict:
    """A messaging.twilio.com/v1 list page: the records under `key`, and meta naming it."""
    url = f"https://messaging.twilio.com{request.path}?PageSize=50&Page=0"
    meta = {"page": 0, "page_size": 50, "first_page_url": url, "previous_page_url": None}
    meta |= {"url": url, "next_page_url": None, "key": key}
    return {key: deepcopy(records), "meta": meta}


def create_api(
    account_sid: str,
    auth_token: str,
    numbers: list[dict],
    *,
    account_type: str = "Full",
    services: list[dict] | None = None,
    verifications: list[dict] | None = None,
) -> Flask:
    """The stand-in API for one account; app.config["CALLS"] lists (method, path, form).

    `services`: Messaging Services, each {"sid", "friendly_name", "numbers": [PN sids],
    "campaigns": [campaign_status, ...]}; `verifications`: toll-free verifications, each
    {"tollfree_phone_number_sid", "status"}."""
    app = Flask(__name__)
    by_sid = {record["sid"]: record for record in numbers}
    calls = app.config["CALLS"] = []
    app.config["NUMBERS"] = by_sid
    services = services or []
    account = {"sid": account_sid, "friendly_name": "My first Twilio account"}
    account |= {"status": "active", "type": account_type, "owner_account_sid": account_sid}
    app.config["ACCOUNT"] = account

    @app.get("/2010-04-01/Accounts/<account_sid>.json")
    def fetch_account(account_sid):
        return jsonify(account)

    @app.get("/v1/Services")
    def list_services():
        records = [{"sid": s["sid"], "friendly_name": s["friendly_name"]} for s in services]
        return jsonify(v1_page("services", records))

    def service(sid: str) -> dict:
        return next((s for s in services if s["sid"] == sid), {"numbers": [], "campaigns": []})

    @app.get("/v1/Services/<sid>/PhoneNumbers")
    def service_numbers(sid):
        records = [
            {"sid": pn, "service_sid": sid, "phone_number": by_sid[pn]["phone_number"],
             "country_code": "US", "capabilities": ["SMS", "MMS"], "account_sid": account_sid}
            for pn in service(sid)["numbers"]
        ]  # fmt: skip
        return jsonify(v1_page("phone_numbers", records))

    @app.get("/v1/Services/<sid>/Compliance/Usa2p")
    def campaigns(sid):
        records = [
            {"sid": "QE" + secrets.token_hex(16), "messaging_service_sid": sid,
             "campaign_status": status, "us_app_to_person_usecase": "MIXED"}
            for status in service(sid)["campaigns"]
        ]  # fmt: skip
        return jsonify(v1_page("compliance", records))

    @app.get("/v1/Tollfree/Verifications")
    def tollfree_verifications():
        wanted = request.args.get("TollfreePhoneNumberSid")
        records = [
            {"sid": "HH" + secrets.token_hex(16), "account_sid": account_sid, **v}
            for v in verifications or []
            if wanted in (None, v["tollfree_phone_number_sid"])
        ]
        return jsonify(v1_page("verifications", records))

    @app.before_request
    def authenticate():
        calls.append((request.method, request.full_path.rstrip("?"), dict(request.form)))
        auth = request.authorization
        if auth is None or (auth.username, auth.password) != (account_sid, auth_token):
            return twilio_error(401, 20003, "Authenticate")
        if request.view_args and request.view_args.get("account_sid", account_sid) != account_sid:
            return twilio_error(404, 20404, f"The requested resource {request.path} was not found")
        return None

    @app.get(f"{BASE}.json")
    def list_numbers(account_sid):
        wanted = request.args.get("PhoneNumber")
        page_size = int(request.args.get("PageSize", 50))
        records = [r for r in by_sid.values() if wanted in (None, r["phone_number"])][:page_size]
        uri = f"/2010-04-01/Accounts/{account_sid}/IncomingPhoneNumbers.json"
        return jsonify(
            {
                "incoming_phone_numbers": deepcopy(records),
                "start": 0,
                "end": max(len(records) - 1, 0),
                "page": 0,
                "page_size": page_size,
                "first_page_uri": f"{uri}?PageSize={page_size}&Page=0",
                "next_page_uri": None,
                "previous_page_uri": None,
                "uri": f"{uri}?PageSize={page_size}&Page=0",
            }
        )

    @app.route(f"{BASE}/<sid>.json", methods=["GET", "POST"])
    def one_number(account_sid, sid):
        record = by_sid.get(sid)
        if record is None:
            return twilio_error(404, 20404, f"The requested resource {request.path} was not found")
        if request.method == "POST":
            for field, key in (("SmsUrl", "sms_url"), ("SmsMethod", "sms_method")):
                if field in request.form:
                    record[key] = request.form[field]
        return jsonify(deepcopy(record))

    return app
