"""The command line's cookie-jar file: checked before anything is sent, written atomically.

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


def read_jars(path: Path, clock, rule: ExpiryRule) -> CookieJars:
    """The jars kept in path (empty ones when there is no file yet); JarFileError if unusable."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return CookieJars(clock, rule)
    except (OSError, UnicodeDecodeError) as problem:
        raise JarFileError(f"Cannot read the jar file {path} ({problem}).") from None
    try:
        jars = CookieJars.from_dict(json.loads(text), clock)
    except ValueError as problem:  # json.JSONDecodeError is a ValueError too
        raise JarFileError(
            f"The jar file {path} is not a cookie jar this kit wrote ({problem}): move it "
            "away or pass another --jar."
        ) from None
    jars.rule = rule
    return jars


def save_conversation(jars: CookieJars, sender: str, to: str, path: Path) -> None:
    """Write this pair's conversation into the file, keeping every other run's conversations."""
    with FileLock(path.with_name(path.name + ".lock"), timeout=LOCK_TIMEOUT):
        current = read_jars(path, jars.clock, jars.rule)
        mine = jars.conversations.get((sender, to))
        if mine is not None:
            current.conversations[(sender, to)] = mine
        _replace(path, json.dumps(current.to_dict(), indent=1))


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
