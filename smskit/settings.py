"""The live credentials (Twilio, ngrok), read from the environment or a `.env`, shown masked.

>>> settings = load_settings()
>>> settings.has_ngrok
False
>>> settings.ngrok_problem
'No NGROK_AUTHTOKEN: copy .env.example to .env and fill it in, with your token from the ngrok…'
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path

from dotenv import dotenv_values, find_dotenv

log = logging.getLogger(__name__)

NAMES = ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_PHONE_NUMBER", "NGROK_AUTHTOKEN")
SECRETS = ("twilio_account_sid", "twilio_auth_token", "ngrok_authtoken")

SID = re.compile(r"[A-Z]{2}[0-9a-fA-F]{32}")
ACCOUNT_SID = re.compile(r"AC[0-9a-fA-F]{32}")
E164 = re.compile(r"\+[1-9]\d{6,14}")

COPY_ENV = "copy .env.example to .env and"
LOCAL_ONLY = "the kit carries on local-only"
SECRET_PARAMETER = re.compile(r"(?i)\b((?:auth_?)?token|password|secret|key|signature)=[^&\s\"']+")


def mask(secret: str | None) -> str:
    """A secret made safe to show: 'AC…1234' for a Twilio SID, else '••••' (or '(not set)')."""
    if not secret:
        return "(not set)"
    if SID.fullmatch(secret):
        return f"{secret[:2]}…{secret[-4:]}"
    return "••••"


def scrub(text: str, *secrets: str | None) -> str:
    """text with every given secret replaced by its mask, and any token=/key=-style value hidden."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, mask(secret))
    return SECRET_PARAMETER.sub(lambda found: f"{found.group(1)}=***", text)


def find_env_file() -> Path | None:
    """The nearest `.env` in the current directory or one of its parents, if there is one."""
    found = find_dotenv(usecwd=True)
    return Path(found) if found else None


@dataclass(frozen=True, repr=False)
class Settings:
    """The credentials the live steps need; each may be missing (the kit then stays local)."""

    twilio_account_sid: str | None = None
    twilio_auth_token: str | None = None
    twilio_phone_number: str | None = None
    ngrok_authtoken: str | None = None
    env_file: Path | None = None

    def fill_in(self, them: str) -> str:
        """How to supply missing values: in the .env already found, else in a new one."""
        return f"add {them} to {self.env_file}" if self.env_file else f"{COPY_ENV} fill {them} in"

    @property
    def has_ngrok(self) -> bool:
        return self.ngrok_problem is None

    @property
    def has_twilio(self) -> bool:
        return self.twilio_problem is None

    @property
    def ngrok_problem(self) -> str | None:
        """One sentence saying what is missing for a tunnel and how to fix it, or None."""
        if not self.ngrok_authtoken:
            return (
                f"No NGROK_AUTHTOKEN: {self.fill_in('it')}, with your token from the ngrok "
                "dashboard (https://dashboard.ngrok.com/get-started/your-authtoken)."
            )
        return None

    @property
    def twilio_problem(self) -> str | None:
        """One sentence saying what is missing to hook up the Twilio number and how, or None."""
        missing = [
            name for name, value in zip(NAMES[:3], self.values()[:3], strict=True) if not value
        ]
        if missing:
            return (
                f"No {', '.join(missing)}: {self.fill_in('it' if len(missing) == 1 else 'them')} "
                "from the Twilio console (Account info, and Phone Numbers > Active numbers)."
            )
        if not ACCOUNT_SID.fullmatch(self.twilio_account_sid or ""):
            return (
                "TWILIO_ACCOUNT_SID should be AC followed by 32 hex digits: "
                "copy it from the Twilio console's Account info."
            )
        if not E164.fullmatch(self.twilio_phone_number or ""):
            return (
                f"TWILIO_PHONE_NUMBER {self.twilio_phone_number!r} is not in E.164 form: "
                "write it as + country code and number, like +15551234567."
            )
        return None

    def values(self) -> tuple[str | None, ...]:
        """The four values in NAMES order."""
        return (
            self.twilio_account_sid,
            self.twilio_auth_token,
            self.twilio_phone_number,
            self.ngrok_authtoken,
        )

    def __repr__(self) -> str:
        shown = []
        for field in fields(self):
            value = getattr(self, field.name)
            text = mask(value) if field.name in SECRETS else repr(value)
            shown.append(f"{field.name}={text}")
        return f"Settings({', '.join(shown)})"

    __str__ = __repr__


def load_settings(
    environ: Mapping[str, str] | None = None, env_file: Path | None = None
) -> Settings:
    """Read NAMES from environ (default os.environ), then fill the gaps from the nearest `.env`.

    A real environment variable always wins over the file; an empty one counts as unset.
    With SMSKIT_OFFLINE=1 (the test suite sets it) no credential is read at all, so a
    developer's own `.env` cannot take the lessons live while their outputs are compared.
    """
    environ = os.environ if environ is None else environ
    if environ.get("SMSKIT_OFFLINE") == "1":
        return Settings()
    env_file = env_file if env_file is not None else find_env_file()
    from_file = dotenv_values(env_file) if env_file is not None else {}
    values = {}
    for name in NAMES:
        value = (environ.get(name) or from_file.get(name) or "").strip()
        values[name.lower()] = value or None
    settings = Settings(**values, env_file=env_file)
    log.info("Settings: %r", settings)
    return settings
