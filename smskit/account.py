"""One AccountSid per installation, as a real Twilio account has one.

TWILIO_ACCOUNT_SID when it is set (environment or .env); otherwise an AccountSid made once and
kept in a file beside the command line's cookie jars, so a handler that checks AccountSid sees
the same account on every run.
"""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path

from .settings import ACCOUNT_SID

logger = logging.getLogger(__name__)

FILE_NAME = "account_sid"


def installation_account_sid(folder: Path, configured: str | None = None) -> str:
    """`configured` (TWILIO_ACCOUNT_SID), else the AccountSid kept in `folder`, made on first use.

    Raises ValueError (one sentence naming the file) when the kept file is not an AccountSid.
    """
    if configured and ACCOUNT_SID.fullmatch(configured):
        return configured
    path = folder / FILE_NAME
    if not path.exists():
        _create(path, "AC" + os.urandom(16).hex())
    kept = path.read_text().strip()
    if not ACCOUNT_SID.fullmatch(kept):
        raise ValueError(f"{path} does not hold an AccountSid (AC + 32 hex digits); delete it.")
    return kept


def _create(path: Path, sid: str) -> None:
    """Write the file complete or not at all; when two runs race, the first one's stays."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", dir=path.parent, delete=False) as draft:
        draft.write(sid + "\n")
    try:
        os.link(draft.name, path)  # fails if another run made it first: theirs is kept
        logger.info("made this installation's AccountSid in %s", path)
    except FileExistsError:
        pass
    finally:
        os.unlink(draft.name)
