"""The command `kit.py lite` and `kit.py site` share: build a static site, then serve it."""

from __future__ import annotations

import argparse
import logging
import sys

from .build import BuildError
from .serve import site_server


def build_and_serve(argv, *, prog: str, what: str, build, port: int, announce) -> int:
    """The command `kit.py lite` and `kit.py site` share: build (unless up to date), then serve.

    build(force) returns the site's folder or raises lite.build.BuildError; announce(server,
    host) prints where to open it.
    """
    parser = argparse.ArgumentParser(prog=prog, description=f"Build {what} and serve it.")
    parser.add_argument("--build", action="store_true", help="only build the site, do not serve")
    parser.add_argument("--force", action="store_true", help="rebuild even if nothing changed")
    parser.add_argument("--host", default="127.0.0.1", help="0.0.0.0 serves the whole room")
    parser.add_argument("--port", type=int, default=port)
    options = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    print(f"Building {what} (the first time takes a minute or two) ...", flush=True)
    try:
        site = build(force=options.force)
    except BuildError as problem:
        print(problem, file=sys.stderr)
        return 1
    print(f"The site is in {site}: publish this folder on any static host.")
    if options.build:
        return 0
    try:
        server = site_server(site, options.host, options.port)
    except OSError:
        print(f"Port {options.port} is taken: run again with --port and another number.")
        return 1
    announce(server, options.host)
    print("Ctrl+C stops the server.", flush=True)
    with server:
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
    return 0
