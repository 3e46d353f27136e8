"""A stand-in for the part of Twilio's REST API the number hookup calls, served on 127.0.0.1.

It speaks the 2010-04-01 wire format: HTTP basic auth with the account SID and auth token (401 and
error 20003 otherwise), the IncomingPhoneNumbers list filtered by PhoneNumber (a page whose records
key is `incoming_phone_numbers`), and the update of one number (form fields SmsUrl, SmsMethod).
LoopbackHttpClient is twilio-python's own HTTP client, sending to this server instead of
https://api.twilio.com, so requests and responses take the real code path.
"""

from __future__ import annotations

import secrets
from copy import deepcopy

from flask import Flask, jsonify, request
from twilio.http.http_client import TwilioHttpClient

API = "https://api.twilio.com"
BASE = "/2010-04-01/Accounts/<account_sid>/IncomingPhoneNumbers"


class LoopbackHttpClient(TwilioHttpClient):
    """twilio-python's HTTP client, with https://api.twilio.com replaced by a local address."""

    def __init__(self, local_url: str, **options):
        super().__init__(**options)
        self.local_url = local_url.rstrip("/")

    def request(self, method, url, *args, **kwargs):
        return super().request(method, url.replace(API, self.local_url, 1), *args, **kwargs)


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


def create_api(account_sid: str, auth_token: str, numbers: list[dict]) -> Flask:
    """The stand-in API for one account; app.config["CALLS"] lists (method, path, form)."""
    app = Flask(__name__)
    by_sid = {record["sid"]: record for record in numbers}
    calls = app.config["CALLS"] = []
    app.config["NUMBERS"] = by_sid

    @app.before_request
    def authenticate():
        calls.append((request.method, request.full_path.rstrip("?"), dict(request.form)))
        auth = request.authorization
        if auth is None or (auth.username, auth.password) != (account_sid, auth_token):
            return twilio_error(401, 20003, "Authenticate")
        if request.view_args and request.view_args.get("account_sid") != account_sid:
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
