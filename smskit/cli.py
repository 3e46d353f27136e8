"""The instructor's command line: text a webhook the way Twilio would.

python -m smskit text http://127.0.0.1:5000/sms --from +14158675309 --to +15005550006 "hi"
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from .clock import SystemClock
from .cookies import CookieJars, ExpiryRule
from .settings import load_settings
from .simulator import LocalTwilio
from .transport import RESPONSE_TIMEOUT


def default_jar_path() -> Path:
    """Where the command line keeps conversations' cookies between runs (the user data folder)."""
    if os.name == "nt":
        base = Path(os.environ.get("LOCALAPPDATA", Path.home() / "AppData" / "Local"))
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Application Support"
    else:
        base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return base / "smskit" / "cookies.json"


def load_jars(path: Path, rule: ExpiryRule) -> CookieJars:
    """The saved jars, or empty ones when the file is missing or unreadable."""
    try:
        jars = CookieJars.from_dict(json.loads(path.read_text()), SystemClock())
    except (OSError, ValueError, KeyError, TypeError):
        return CookieJars(SystemClock(), rule)
    jars.rule = rule
    return jars


def save_jars(jars: CookieJars, path: Path) -> None:
    """Write the jars atomically, readable only by their owner."""
    path.parent.mkdir(parents=True, exist_ok=True)
    draft = path.with_suffix(".tmp")
    draft.write_text(json.dumps(jars.to_dict(), indent=1))
    draft.chmod(0o600)
    draft.replace(path)


def parser() -> argparse.ArgumentParser:
    cli = argparse.ArgumentParser(prog="python -m smskit", description=__doc__.split("\n")[0])
    commands = cli.add_subparsers(dest="command", required=True)
    text = commands.add_parser(
        "text",
        help="send one incoming SMS to a webhook, as Twilio would",
        description="Send one incoming SMS to a webhook as Twilio would, print the reply "
        "texts, and keep the conversation's cookies for the next run. Signs the request "
        "with TWILIO_AUTH_TOKEN when it is set (in the environment or a .env file).",
    )
    text.add_argument("url", help="the webhook URL, e.g. http://127.0.0.1:5000/sms")
    text.add_argument("body", help="the message text (at most 1600 characters)")
    text.add_argument(
        "--from", dest="sender", metavar="NUMBER", required=True, help="the texting phone's number"
    )
    text.add_argument(
        "--to", metavar="NUMBER", required=True, help="your Twilio number, which receives the text"
    )
    text.add_argument(
        "--jar",
        type=Path,
        default=None,
        help=f"the file that keeps cookies between runs (default: {default_jar_path()})",
    )
    text.add_argument(
        "--method", choices=["POST", "GET"], default="POST", help="how to call the webhook"
    )
    text.add_argument(
        "--rule",
        choices=[rule.value for rule in ExpiryRule],
        default=ExpiryRule.FROM_SET.value,
        help="which reading of Twilio's four-hour cookie rule to apply (default: from-set)",
    )
    text.add_argument(
        "--timeout",
        type=float,
        default=RESPONSE_TIMEOUT,
        help="seconds to wait for the answer before error 11205 (Twilio waits 15)",
    )
    return cli


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    jar_path = args.jar or default_jar_path()
    jars = load_jars(jar_path, ExpiryRule(args.rule))
    twilio = LocalTwilio(
        args.url,
        method=args.method,
        auth_token=load_settings().twilio_auth_token,
        clock=jars.clock,
        jars=jars,
        timeout=args.timeout,
    )
    try:
        delivery = twilio.text(args.sender, args.to, args.body)
    except ValueError as problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    save_jars(jars, jar_path)
    for reply in delivery.replies:
        print(reply)
    if delivery.error:
        print(delivery.error, file=sys.stderr)
        return 1
    if not delivery.replies:
        print("(the webhook answered without a reply)", file=sys.stderr)
    return 0
