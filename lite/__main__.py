"""python -m lite: build the browser edition and serve it (what `python3 kit.py lite` runs)."""

from __future__ import annotations

import argparse
import logging
import sys

from .build import BuildError, build
from .serve import site_server, site_url


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python3 kit.py lite", description=__doc__)
    parser.add_argument("--build", action="store_true", help="only build the site, do not serve")
    parser.add_argument("--force", action="store_true", help="rebuild even if nothing changed")
    parser.add_argument("--host", default="127.0.0.1", help="0.0.0.0 serves the whole room")
    parser.add_argument("--port", type=int, default=8000)
    options = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    print("Building the browser edition (first time: about a minute) ...", flush=True)
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
    print(f"Open {site_url(server)}  (Ctrl+C stops)", flush=True)
    if options.host != "127.0.0.1":
        print("From the room: the same address with this machine's network address as the host.")
    with server:
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
