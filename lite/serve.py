"""Serve the built site to this machine or to a room, as plain static files.

The standard library's file server is enough for a static folder; it only needs the types that
browsers insist on for Pyodide's files (a module worker refuses JavaScript served as text/plain).
`jupyter lite serve` would rebuild the site first, which is what `--build` is for.
"""

from __future__ import annotations

import functools
import logging
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

log = logging.getLogger(__name__)

TYPES = {".mjs": "text/javascript", ".wasm": "application/wasm", ".whl": "application/zip"}


class SiteHandler(SimpleHTTPRequestHandler):
    """Static files with the types Pyodide needs, logging to this module's logger."""

    extensions_map = {**SimpleHTTPRequestHandler.extensions_map, **TYPES}

    def log_message(self, format: str, *args) -> None:
        log.debug(format, *args)


def site_server(site: Path, host: str = "127.0.0.1", port: int = 0) -> ThreadingHTTPServer:
    """A server for the site folder on host:port (port 0: a free one), not yet serving."""
    handler = functools.partial(SiteHandler, directory=str(site))
    return ThreadingHTTPServer((host, port), handler)


def site_url(server: ThreadingHTTPServer) -> str:
    host, port = server.server_address[:2]
    return f"http://{host}:{port}/lab/index.html?path=notebooks/00_start_here.ipynb"
