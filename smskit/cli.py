"""The instructor's command line: text a webhook the way Twilio would.

python -m smskit text http://127.0.0.1:5000/sms --from +14158675309 --to +15005550006 "hi"
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from pathlib import Path
from urllib.parse import urlsplit

import phonenumbers

from .account import installation_account_sid
from .clock import SystemClock
from .cookies import ExpiryRule
from .jarfile import check_jar_path, read_jars, save_conversation
from .settings import load_settings
from .simulator import Delivery, LocalTwilio

START_THE_SERVER = (
    "Nothing answers at {url}: start the server first, e.g. "
    "`flask --app quickstart/sms/sms_conversation.py run` (it listens on port 5000), "
    "or check the URL's port."
)

PLAIN_HTTP = "The server speaks plain HTTP, not HTTPS: use {url}"


def e164(number: str, option: str) -> str:
    """number if it is in E.164, as Twilio always sends; else ValueError suggesting that form.

    A number without + is read as a US one, like every number in the lessons.
    """
    if re.fullmatch(r"\+[1-9]\d{1,14}", number):
        return number
    try:
        parsed = phonenumbers.parse(number, "US")
    except phonenumbers.NumberParseException:
        parsed = None
    form = phonenumbers.PhoneNumberFormat.E164
    likely = parsed and phonenumbers.is_possible_number(parsed)
    suggestion = phonenumbers.format_number(parsed, form) if likely else "+14158675309"
    raise ValueError(
        f"{option} {number} is not in E.164, the form Twilio always sends: "
        f"write it as {suggestion} (+, the country code, the number, no spaces)."
    )


def default_jar_path() -> Path:
    """Where the command line keeps conversations' cookies between runs (the user data folder)."""
    if os.name == "nt":
        base = Path(os.environ.get("LOCALAPPDATA", Path.home() / "AppData" / "Local"))
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Application Support"
    else:
        base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return base / "smskit" / "cookies.json"


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
    text.add_argument(
        "url",
        help="the webhook URL, e.g. http://127.0.0.1:5000/sms; a fragment such as #tt=5000 "
        "overrides Twilio's deadlines and is not sent",
    )
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
        help=f"the file that keeps cookies and STOPs between runs (default: {default_jar_path()})",
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
        default=None,
        help="seconds to wait for the whole answer before error 11205 (at most Twilio's 15)",
    )
    text.add_argument(
        "--no-opt-out",
        dest="opt_out",
        action="store_false",
        help="pass STOP/START/HELP on like any message, without Twilio's own replies",
    )
    return cli


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return text(args)
    except ValueError as problem:  # bad URL, jar or override: nothing was sent
        print(f"error: {problem}", file=sys.stderr)
        return 2


def text(args: argparse.Namespace) -> int:
    """Check everything, send one message, keep its cookies, and print what came back."""
    parts = urlsplit(args.url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(
            f"{args.url} is not a webhook URL: start it with http:// or https:// "
            f"(e.g. http://{args.url.split('://')[-1]})."
        )
    sender, to = e164(args.sender, "--from"), e164(args.to, "--to")
    if args.timeout is not None and args.timeout <= 0:
        raise ValueError(f"--timeout {args.timeout:g} must be more than 0 seconds.")
    jar_path = args.jar or default_jar_path()
    check_jar_path(jar_path, make_folder=args.jar is None)
    jars, opt_outs = read_jars(jar_path, SystemClock(), ExpiryRule(args.rule))
    settings = load_settings()
    twilio = LocalTwilio(
        args.url,
        method=args.method,
        auth_token=settings.twilio_auth_token,
        account_sid=installation_account_sid(
            default_jar_path().parent, settings.twilio_account_sid
        ),
        clock=jars.clock,
        jars=jars,
        timeout=args.timeout,
        opt_out=args.opt_out,
        opt_outs=opt_outs,
    )
    delivery = twilio.text(sender, to, args.body)
    save_conversation(jars, opt_outs, sender, to, jar_path)
    return report(delivery, twilio.url)


def report(delivery: Delivery, url: str) -> int:
    """Print the replies (stdout) and what went wrong or was warned (stderr); the exit code."""
    for reply in delivery.replies:
        print(reply)
    for warning in delivery.warnings:
        print(warning, file=sys.stderr)
    for blocked in delivery.blocked:
        print(f"(not sent, the phone texted STOP: {blocked})", file=sys.stderr)
    if delivery.error:
        print(delivery.error, file=sys.stderr)
        if delivery.error.refused:
            print(START_THE_SERVER.format(url=url), file=sys.stderr)
        elif url.startswith("https://") and "WRONG_VERSION_NUMBER" in str(delivery.error):
            print(PLAIN_HTTP.format(url="http://" + url.removeprefix("https://")), file=sys.stderr)
        elif delivery.status == 403 and "X-Twilio-Signature" in str(delivery.error):
            print(  # the kit's own handler refused the signature: say whether there was one
                "The request was signed with TWILIO_AUTH_TOKEN."
                if delivery.signed
                else "The request was not signed: TWILIO_AUTH_TOKEN is not set.",
                file=sys.stderr,
            )
        return 1
    if not delivery.replies and not delivery.blocked:  # a blocked reply was said above
        print("(the webhook answered without a reply)", file=sys.stderr)
    return 0
