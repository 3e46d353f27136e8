"""Plausible wrong answers to every exercise, each with words its check's message must contain.

The lessons' nbval run tries each one in the lesson's own kernel, just before the solution cell
(see tests/conftest.py); a new lesson brings its wrong answers here.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Mistake:
    what: str  # the mistake, in a few words
    code: str  # a wrong answer a learner might write
    said: str  # words the check's message must contain


def sweep_with(compare: str = "<", now: str = "clock.now()", commit: bool = True) -> str:
    lines = [
        "import time",
        "def sweep(max_idle_seconds):",
        "    with closing(sqlite3.connect(STORE)) as db:",
        "        cursor = db.execute(",
        f'            "DELETE FROM sessions WHERE touched {compare} ?",',
        f"            ({now} - max_idle_seconds,)",
        "        )",
        *(["        db.commit()"] if commit else []),
        "    return cursor.rowcount",
    ]
    return "\n".join(lines)


def minutes_left_with(pick: str = "max", now: str = "twilio.clock.now()", per: int = 60) -> str:
    return "\n".join(
        [
            "import time",
            "def minutes_left(twilio, sender, to):",
            "    deadlines = [d for _c, d in twilio.jars.live_cookies(sender, to)]",
            "    if not deadlines:",
            "        return None",
            f"    return ({pick}(deadlines) - {now}) / {per}",
        ]
    )


def count_or_reset_with(condition: str, clear: bool = True) -> str:
    return "\n".join(
        [
            "def count_or_reset(body):",
            f"    if {condition}:",
            *(["        session.clear()"] if clear else []),
            "        return 0",
            "    return count_message()",
        ]
    )


def on_message_with(key: str, value: str, subscribe: bool = True) -> str:
    listen = "server.events.subscribe(on_message)" if subscribe else "lambda: None"
    return "\n".join(
        [
            "latest_counts = {}",
            "def on_message(event):",
            f"    latest_counts[{key}] = {value}",
            f"stop_listening = {listen}",
        ]
    )


def first_difference_with(
    start: int = 1,
    read: str = "path.read_text() if path.exists() else ''",
    pairs: str = "zip_longest",
) -> str:
    return "\n".join(
        [
            "from itertools import zip_longest",
            "def first_difference(path, notebooks):",
            "    expected = export.render(export.exported_cells(notebooks)).splitlines()",
            f"    actual = ({read}).splitlines()",
            f"    for line, (mine, theirs) in enumerate({pairs}(actual, expected), {start}):",
            "        if mine != theirs:",
            "            return line, mine, theirs",
            "    return None",
        ]
    )


def parse_with(body: str) -> str:
    return "def parse_cookie_header(header):\n    cookies = {}\n" + body + "    return cookies"


def remember_with(max_age: str = "30 * 24 * 60 * 60", samesite: str = "Lax", give_back=True):
    return (
        "def remember_language(response, language):\n"
        f'    response.set_cookie("lang", language, max_age={max_age}, secure=True,\n'
        f'                        httponly=True, samesite="{samesite}")\n'
        + ("    return response" if give_back else "    pass")
    )


MISTAKES: dict[str, dict[str, list[Mistake]]] = {
    "00_start_here": {
        "c014": [
            Mistake("two SMS long", 'first_sms = "Hello, webhook! " * 12', "SMS; one holds 160"),
            Mistake("a number", "first_sms = 160", "should be text in quotes"),
            Mistake("blank", 'first_sms = "   "', "first_sms is empty"),
            Mistake(  # the cell fails, so first_sms keeps the previous (wrong) try's value
                "a name for a string", "first_sms = Hello", "stopped with NameError"
            ),
        ]
    },
    "01_http_cookies": {
        "c024": [
            Mistake(
                "splits at every =",
                parse_with(
                    "    for pair in header.split(';'):\n        if pair.strip():\n"
                    "            name, value = pair.strip().split('=')[:2]\n"
                    "            cookies[name] = value\n"
                ),
                "Split each pair at its first =",
            ),
            Mistake(
                "keeps the space after ;",
                parse_with(
                    "    for pair in header.split(';'):\n"
                    "        name, _, value = pair.partition('=')\n"
                    "        if name:\n            cookies[name] = value\n"
                ),
                "strip each pair",
            ),
            Mistake(
                "an empty header gives an empty name",
                parse_with(
                    "    for pair in header.split(';'):\n"
                    "        name, _, value = pair.strip().partition('=')\n"
                    "        cookies[name] = value\n"
                ),
                "An empty header means no cookies",
            ),
            Mistake(  # raises on the empty header: the hint must still be said
                "dict of split pairs",
                "def parse_cookie_header(header):\n"
                "    return dict(p.split('=', 1) for p in header.split('; '))",
                "raised ValueError: dictionary update sequence element #0 has length 1; "
                "2 is required. An empty header means no cookies",
            ),
        ],
        "c033": [
            Mistake("days for seconds", remember_with(max_age="30"), "2592000 seconds"),
            Mistake("the wrong SameSite", remember_with(samesite="Strict"), "SameSite=Lax"),
            Mistake("no return", remember_with(give_back=False), "it should return the response"),
        ],
    },
    "02_sessions": {
        "c020": [
            Mistake(
                "no fallbacks",
                "def rotate_key(app, new_key):\n    app.config['SECRET_KEY'] = new_key",
                "signed with the old key should still count on",
            ),
            Mistake(
                "only the last key kept",
                "def rotate_key(app, new_key):\n"
                "    app.config['SECRET_KEY_FALLBACKS'] = [app.config['SECRET_KEY']]\n"
                "    app.config['SECRET_KEY'] = new_key",
                "both k1 and k2 should be fallbacks",
            ),
            Mistake(
                "None taken for a list",
                "def rotate_key(app, new_key):\n"
                "    app.config['SECRET_KEY_FALLBACKS'] += [app.config['SECRET_KEY']]\n"
                "    app.config['SECRET_KEY'] = new_key",
                "raised TypeError: unsupported operand type(s) for +=: 'NoneType' and 'list'. "
                "In a fresh app SECRET_KEY_FALLBACKS is None",
            ),
        ],
        "c037": [
            Mistake("a missing commit", sweep_with(commit=False), "commit the DELETE"),
            Mistake("the wall clock", sweep_with(now="time.time()"), "not time.time()"),
            Mistake("the comparison turned", sweep_with(compare=">"), "should stay"),
        ],
    },
    "03_sms_conversations": {
        "c054": [
            Mistake(
                "a substring for an equality",
                count_or_reset_with("'reset' in body.lower()"),
                "use ==, not `in`",
            ),
            Mistake(
                "case and spaces kept", count_or_reset_with("body == 'reset'"), "lower-case it"
            ),
            Mistake(
                "the session kept",
                count_or_reset_with("body.strip().lower() == 'reset'", clear=False),
                "session.clear()",
            ),
            Mistake(
                "the counter zeroed, the session kept",
                "def count_or_reset(body):\n"
                "    if body.strip().lower() == 'reset':\n"
                "        session['counter'] = 0\n"
                "        return 0\n"
                "    return count_message()",
                "still holds {'counter': 0}: empty it with session.clear()",
            ),
        ],
        "c068": [
            Mistake(
                "no parameters signed",
                "from twilio.request_validator import RequestValidator\n"
                "def sign(url, params, token):\n"
                "    return RequestValidator(token).compute_signature(url, {})",
                "every parameter",
            ),
            Mistake(
                "another URL signed",
                "from twilio.request_validator import RequestValidator\n"
                "def sign(url, params, token):\n"
                "    other = url.replace('http://', 'https://')\n"
                "    return RequestValidator(token).compute_signature(other, params)",
                "Sign the exact URL you post to",
            ),
            Mistake(
                "the validator's method called on the class",
                "from twilio.request_validator import RequestValidator\n"
                "def sign(url, params, token):\n"
                "    return RequestValidator.compute_signature(url, params)",
                "raised TypeError: RequestValidator.compute_signature() missing 1 required "
                "positional argument: 'params'. Make a validator with the token",
            ),
        ],
    },
    "04_go_live": {
        "go-live-countdown-solution": [
            Mistake("the earliest deadline", minutes_left_with(pick="min"), "(max, not min)"),
            Mistake("the wall clock", minutes_left_with(now="time.time()"), "not time.time()"),
            Mistake("seconds", minutes_left_with(per=1), "Minutes, not seconds"),
        ],
        "go-live-listen-solution": [
            Mistake(
                "keyed by the sender",
                on_message_with("event.sender", "event.session.get('counter')"),
                "keyed by the sender alone",
            ),
            Mistake(
                "counts events, not the session",
                on_message_with(
                    "(event.sender, event.to)", "latest_counts.get((event.sender, event.to), 0) + 1"
                ),
                "Store the session's counter",
            ),
            Mistake(
                "never subscribed",
                on_message_with(
                    "(event.sender, event.to)", "event.session.get('counter')", subscribe=False
                ),
                "server.events.subscribe(on_message)",
            ),
        ],
    },
    "05_export": {
        "export-25": [
            Mistake(
                "zip stops at the shorter",
                first_difference_with(pairs="zip"),
                "a line the file lacks",
            ),
            Mistake("lines from 0", first_difference_with(start=0), "Count lines from 1"),
            Mistake(
                "a missing file read",
                first_difference_with(read="path.read_text()"),
                "raised FileNotFoundError: [Errno 2] No such file or directory",
            ),
        ],
        "export-40": [
            Mistake(
                "one shared memory",
                "memory_replies = [1, 2, 3, 4]\ncookie_replies = [1, 2, 3, 4]",
                "each worker has its own dictionary",
            ),
            Mistake(
                "no memory between requests",
                "memory_replies = [1, 1, 1, 1]\ncookie_replies = [1, 2, 3, 4]",
                "each worker has its own dictionary",
            ),
            Mistake(
                "a cookie per worker",
                "memory_replies = [1, 1, 2, 2]\ncookie_replies = [1, 1, 2, 2]",
                "the count travels with the conversation",
            ),
        ],
    },
}
