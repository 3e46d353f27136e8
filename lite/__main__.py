"""python -m lite: build the browser edition and serve it (what `python3 kit.py lite` runs)."""

from __future__ import annotations

import argparse
import logging
import sys

from .build import BuildError, build
from .serve import room_addresses, site_server, site_url


def announce_to_room(server) -> None:
    """Print every address the room can reach this machine at, and the first one's QR code."""
    import segno

    links = [site_url(server, address) for address in room_addresses()]
    outside = [link for link in links if "//127." not in link] or links
    print("The room opens the learner edition's lesson 00 at (the first for most rooms):")
    for link in outside:
        print(f"  {link}")
    segno.make(outside[0], error="m").terminal(compact=True)
    print("Each learner's work stays in their browser: keep this address and port all day.")


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
    if options.host in ("0.0.0.0", ""):
        announce_to_room(server)
    else:
        print(f"Open {site_url(server)}", flush=True)
    print("Ctrl+C stops the server.", flush=True)
    with server:
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
