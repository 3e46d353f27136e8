"""serve(): a WSGI app served by this edition's server, in the one registry.

Each edition's server is a part following smskit.registry's Server protocol: the desktop's
(smskit.server) and the browser's (smskit.inprocess). This is the one place that picks.

>>> server = serve(app, name="sms")   # again with the same name replaces it cleanly
"""

from __future__ import annotations

from . import edition, registry
from .inprocess import InProcessServer
from .server import InKernelServer

SERVERS = {"desktop": InKernelServer, "browser": InProcessServer}  # each edition's Server


def serve(app, name: str = "webhook", port: int | None = None) -> registry.Server:
    """Serve app with this edition's server, replacing any server of that name.

    A replacement keeps the old one's event feed (so subscribers keep receiving) and, on the
    desktop, its port when it can (so a tunnel pointing at it stays valid).
    """
    server = SERVERS[edition.EDITION]  # read when called, so a test can pick the browser's
    return registry.replace(name, lambda old: server.start(app, name, old, port))
