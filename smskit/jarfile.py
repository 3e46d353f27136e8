"""The command line's jar file (cookies and opt-outs): checked before sending, written atomically.

Several runs at once on one jar lose nothing: a run reads the file, sends, then takes the
file's lock, re-reads it, puts in its own conversation, and replaces the file with a unique
temporary file (os.replace is atomic, so a reader never sees half a file). The lock is
`filelock`'s, a well-kept cross-platform file lock.
"""

from __future__ import annotations

import json
import logging
import os
import stat
import tempfile
from pathlib import Path

from filelock import FileLock

from .cookies import CookieJars, ExpiryRule
from .optout import OptOuts

logger = logging.getLogger(__name__)

LOCK_TIMEOUT = 60.0  # seconds to wait for other runs to finish writing


class JarFileError(ValueError):
    """The jar file cannot be used; the message is one sentence naming it."""


def check_jar_path(path: Path, make_folder: bool) -> None:
    """Raise JarFileError unless path is a regular file or can become one."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        if not path.parent.is_dir():
            if not make_folder:
                raise JarFileError(
                    f"The folder of the jar file {path} does not exist: create it or pass "
                    "another --jar."
                ) from None
            path.parent.mkdir(parents=True, exist_ok=True)
        return
    except OSError as problem:
        raise JarFileError(f"Cannot read the jar file {path} ({problem.strerror}).") from None
    if not stat.S_ISREG(mode):
        kind = "a directory" if stat.S_ISDIR(mode) else "not a regular file"
        raise JarFileError(f"The jar file {path} is {kind}: pass --jar a file's path.")


def read_jars(path: Path, clock, rule: ExpiryRule) -> tuple[CookieJars, OptOuts]:
    """The jars and opt-outs kept in path (none yet without a file); JarFileError if unusable."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return CookieJars(clock, rule), OptOuts()
    except (OSError, UnicodeDecodeError) as problem:
        raise JarFileError(f"Cannot read the jar file {path} ({problem}).") from None
    try:
        data = json.loads(text)
        jars = CookieJars.from_dict(data, clock)
        opted_out = data.get("opted_out", [])
        if not all(isinstance(p, list) and len(p) == 2 for p in opted_out):
            raise ValueError("opted_out is not a list of [phone, number] pairs")
    except ValueError as problem:  # json.JSONDecodeError is a ValueError too
        raise JarFileError(
            f"The jar file {path} is not a cookie jar this kit wrote ({problem}): move it "
            "away or pass another --jar."
        ) from None
    jars.rule = rule
    return jars, OptOuts(opted_out)


def save_conversation(jars: CookieJars, opt_outs: OptOuts, sender: str, to: str, path: Path):
    """Write this pair's conversation and opt-out into the file, keeping every other run's."""
    pair = (sender, to)
    with FileLock(path.with_name(path.name + ".lock"), timeout=LOCK_TIMEOUT):
        current, opted_out = read_jars(path, jars.clock, jars.rule)
        mine = jars.conversations.get(pair)
        if mine is not None:
            current.conversations[pair] = mine
        pairs = set(opted_out.pairs()) - {pair} | ({pair} & set(opt_outs.pairs()))
        data = current.to_dict() | {"opted_out": [list(p) for p in sorted(pairs)]}
        _replace(path, json.dumps(data, indent=1))


def _replace(path: Path, text: str) -> None:
    """Write text to a unique temporary file beside path (mkstemp: owner-only), then swap it in."""
    handle, draft = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            file.write(text)
        os.replace(draft, path)
    except BaseException:
        Path(draft).unlink(missing_ok=True)
        raise
    logger.debug("saved %s", path)
