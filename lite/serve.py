"""Serve the built site to this machine or to a room: precompressed, cached, and a real backlog.

Why the standard library's ThreadingHTTPServer and not a library: the site is a static folder that
a rebuild swaps for a new one (lite.build publishes it through a symlink), and each request must
be answered from one whole build. WhiteNoise scans its folder once at start (its autorefresh is
for development only) and needs a WSGI server besides; `jupyter lite serve` rebuilds first and is
tornado's development server. The stdlib server needs four changes for a room, all here:
- a listen backlog of BACKLOG, where Python's default of 5 drops a room's connections;
- at most WORKERS threads answering (a pool), each connection answered once and closed, so a
  browser's idle keep-alive connection never holds a thread another learner needs;
- the .br/.gz variants the build wrote, when the browser's Accept-Encoding takes them, with
  `Vary: Accept-Encoding`; ETags from the build's manifest (its content hashes), 304s, a year's
  cache for content-hashed names and revalidation for the rest;
- the site folder resolved once per request, so a rebuild swapped in is served at once, whole.
"""

from __future__ import annotations

import email.utils
import json
import logging
import os
import re
import socket
from concurrent.futures import ThreadPoolExecutor
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

log = logging.getLogger(__name__)

TYPES = {
    ".mjs": "text/javascript",
    ".js": "text/javascript",
    ".wasm": "application/wasm",
    ".json": "application/json",
    ".whl": "application/zip",
    ".ipynb": "application/json",
}
MANIFEST = ".manifest.json"  # in each build: {path: content hash}, written by lite.build
ENCODINGS = (("br", ".br"), ("gzip", ".gz"))  # preferred first
HASHED = re.compile(r"\.[0-9a-f]{7,}\.(js|css)$")  # the bundler's content-hashed names
FOREVER, REVALIDATE = "public, max-age=31536000, immutable", "no-cache"
BACKLOG, WORKERS = 1024, 64
LEARNER_PAGE = "lab/index.html?path=learner/00_start_here.ipynb"


def accepted(header: str) -> set[str]:
    """The content codings an Accept-Encoding header accepts (q=0 refuses)."""
    codings = set()
    for part in header.split(","):
        name, _, params = part.strip().partition(";")
        if name and not re.fullmatch(r"\s*q\s*=\s*0(\.0*)?\s*", params):
            codings.add(name.strip().lower())
    return codings


def manifest(folder: str, cache: dict[str, dict[str, str]] = {}) -> dict[str, str]:  # noqa: B006
    """The build's content hashes for folder (read once per build folder)."""
    if folder not in cache:
        try:
            cache[folder] = json.loads(Path(folder, MANIFEST).read_text())
        except (OSError, ValueError):
            cache[folder] = {}
    return cache[folder]


class SiteHandler(SimpleHTTPRequestHandler):
    """The site's static files: the right types, precompressed variants, ETags and 304s."""

    extensions_map = {**SimpleHTTPRequestHandler.extensions_map, **TYPES}
    site = "."  # set by site_server: the path (often a symlink) of the current build

    def send_head(self):
        folder = os.path.realpath(self.site)  # one build for the whole answer
        relative = unquote(urlsplit(self.path).path).lstrip("/")
        path = os.path.join(folder, *[p for p in relative.split("/") if p not in ("", ".", "..")])
        if os.path.isdir(path):
            if not self.path.split("?")[0].endswith("/"):
                self.send_response(HTTPStatus.MOVED_PERMANENTLY)
                self.send_header("Location", self.path.split("?")[0] + "/")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return None
            path, relative = os.path.join(path, "index.html"), relative + "index.html"
        if not os.path.isfile(path):
            self.send_error(HTTPStatus.NOT_FOUND, "File not found")
            return None
        hashes, codings = manifest(folder), accepted(self.headers.get("Accept-Encoding", ""))
        coding, suffix = next(
            ((c, s) for c, s in ENCODINGS if c in codings and os.path.isfile(path + s)), ("", "")
        )
        has_variants = any(os.path.isfile(path + s) for _, s in ENCODINGS)
        try:
            source = open(path + suffix, "rb")  # noqa: SIM115 - closed by the caller
        except OSError:
            self.send_error(HTTPStatus.NOT_FOUND, "File not found")
            return None
        size = os.fstat(source.fileno()).st_size
        etag = (
            hashes.get(relative + suffix) or f"{size:x}-{os.fstat(source.fileno()).st_mtime_ns:x}"
        )
        etag = f'"{etag}"'
        built = os.stat(folder).st_mtime
        fresh = self.headers.get("If-None-Match")
        if fresh is not None:
            unchanged = etag in [tag.strip() for tag in fresh.split(",")] or fresh.strip() == "*"
        else:
            since = self.headers.get("If-Modified-Since")
            try:
                unchanged = since is not None and email.utils.parsedate_to_datetime(
                    since
                ).timestamp() >= int(built)
            except (TypeError, ValueError):
                unchanged = False
        self.send_response(HTTPStatus.NOT_MODIFIED if unchanged else HTTPStatus.OK)
        self.send_header("ETag", etag)
        self.send_header("Last-Modified", self.date_time_string(built))
        self.send_header("Cache-Control", FOREVER if HASHED.search(relative) else REVALIDATE)
        if has_variants:
            self.send_header("Vary", "Accept-Encoding")
        if unchanged:
            source.close()
            self.end_headers()
            return None
        self.send_header("Content-Type", self.guess_type(path))
        self.send_header("Content-Length", str(size))
        if coding:
            self.send_header("Content-Encoding", coding)
        self.end_headers()
        return source

    def copyfile(self, source, outputfile) -> None:
        try:
            self.connection.sendfile(source)  # straight from the file to the socket
        except (BrokenPipeError, ConnectionResetError):
            pass  # the browser went away (a reload, a closed tab)

    def log_message(self, format: str, *args) -> None:
        log.debug(format, *args)


class RoomServer(ThreadingHTTPServer):
    """ThreadingHTTPServer with a real backlog and a bounded pool of threads answering."""

    request_queue_size = BACKLOG

    def server_activate(self) -> None:
        super().server_activate()
        self.pool = ThreadPoolExecutor(WORKERS, thread_name_prefix="lite-site")

    def process_request(self, request, client_address) -> None:
        self.pool.submit(self.process_request_thread, request, client_address)

    def server_close(self) -> None:
        super().server_close()
        if hasattr(self, "pool"):
            self.pool.shutdown(wait=True)


def site_server(site: Path, host: str = "127.0.0.1", port: int = 0) -> RoomServer:
    """A server for the site folder on host:port (port 0: a free one), not yet serving."""
    handler = type("Handler", (SiteHandler,), {"site": str(site)})
    return RoomServer((host, port), handler)


def site_url(server: ThreadingHTTPServer, host: str | None = None) -> str:
    """The learner edition's lesson 00 on this server (at host, if given)."""
    address, port = server.server_address[:2]
    host = host or address
    return f"http://{host}:{port}/{LEARNER_PAGE}"


def room_addresses() -> list[str]:
    """Every address this machine can be reached at from a room (IPv4 first, loopback last)."""
    import psutil  # the lite group's: the interfaces' addresses, on every system

    found = []
    for addresses in psutil.net_if_addrs().values():
        for address in addresses:
            if address.family == socket.AF_INET:
                found.append(address.address)
    return sorted(set(found), key=lambda a: (a.startswith("127."), a))
