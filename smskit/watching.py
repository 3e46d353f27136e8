"""Is a page attached to this kernel? Asked of the Jupyter server (Voilà) that started it.

>>> watch = page_watch(os.environ)     # None outside `kit.py room` (a notebook, a test)
>>> watch()                            # True while a page's websocket is connected

A room renders a few times a second; each render is a message on the kernel's IOPub channel,
which jupyter_server counts as activity, so a kernel no page is attached to (a closed tab, a
`curl`, a load that timed out) would never count as idle and never be culled. With a watch the
room renders only while a page is attached, and sends nothing otherwise: the kernel falls
idle and Voilà's culling (smskit.room_command) shuts it down within a minute. The server's
REST API says how many websockets a kernel has (GET /api/kernels/<id>: "connections"); the
kernel's id is in its connection file's name. Written by hand: neither ipykernel nor
jupyter_server tells a kernel whether anyone listens.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path

import requests

log = logging.getLogger(__name__)

SERVER = "SMSKIT_ROOM_SERVER"  # the Jupyter server's URL, set by `kit.py room` for its kernels
EVERY = 1.0  # seconds a answer is trusted before the server is asked again
TIMEOUT = 2.0  # seconds for the server to answer


class PageWatch:
    """Calls to it say whether a page is attached to kernel_id on server_url (asked at most
    once per `every` seconds). If the server cannot say, it answers True: a room never goes
    quiet by mistake."""

    def __init__(self, server_url: str, kernel_id: str, every: float = EVERY):
        self.url = f"{server_url.rstrip('/')}/api/kernels/{kernel_id}"
        self.every = every
        self._asked, self._attached = -every, True
        self._lock = threading.Lock()

    def __call__(self) -> bool:
        with self._lock:
            if time.monotonic() - self._asked >= self.every:
                self._attached = self._ask()
                self._asked = time.monotonic()
            return self._attached

    def _ask(self) -> bool:
        try:
            answer = requests.get(self.url, timeout=TIMEOUT)
            answer.raise_for_status()
            return answer.json().get("connections", 1) > 0
        except (requests.RequestException, ValueError, AttributeError) as problem:
            log.info("Could not ask %s whether a page is attached: %s", self.url, problem)
            return True


def kernel_id() -> str | None:
    """This kernel's id, from its connection file's name (kernel-<id>.json); None outside one."""
    try:
        from ipykernel.connect import get_connection_file

        name = Path(get_connection_file()).name
    except Exception:  # not in a kernel (a script, a test)
        return None
    found = re.fullmatch(r"kernel-([\w-]+)\.json", name)
    return found.group(1) if found else None


def page_watch(environ: Mapping[str, str]) -> Callable[[], bool] | None:
    """A PageWatch for this kernel when `kit.py room` started it, else None (always render)."""
    server, kernel = environ.get(SERVER), kernel_id()
    return PageWatch(server, kernel) if server and kernel else None
