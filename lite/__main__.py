"""python -m lite: build the browser edition and serve it (what `python3 kit.py lite` runs)."""

from __future__ import annotations

import sys

from .build import build
from .command import build_and_serve
from .serve import room_addresses, site_url


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


def announce(server, host: str) -> None:
    """The whole room's addresses for 0.0.0.0, else the learner edition's link."""
    if host in ("0.0.0.0", ""):
        announce_to_room(server)
    else:
        print(f"Open {site_url(server)}", flush=True)


def main(argv: list[str] | None = None) -> int:
    return build_and_serve(
        argv, prog="python3 kit.py lite", what="the browser edition", build=build, port=8000,
        announce=announce,
    )  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
