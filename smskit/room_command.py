"""python3 kit.py room: serve the room's dashboard (room/room.ipynb) with Voilà.

    python3 kit.py room                         live with your Twilio number (.env), for the day
    python3 kit.py room --simulate 30 --rate 2  a rehearsal: 30 simulated phones, offline

The options reach the notebook's kernel as SMSKIT_ROOM_* environment variables (Voilà
starts kernels with its own environment); no secret is ever on the command line.
"""

from __future__ import annotations

import argparse
import os
import secrets
import subprocess
import sys

from .export import ROOT
from .room import RoomOptions

NOTEBOOK = ROOT / "room" / "room.ipynb"


def arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python3 kit.py room", description="Serve the room's dashboard with Voilà."
    )
    parser.add_argument("--simulate", type=int, default=0, metavar="N",
                        help="rehearse offline: N simulated phones text at random")  # fmt: skip
    parser.add_argument("--rate", type=float, default=RoomOptions.rate, metavar="PER_SECOND",
                        help="messages per second in all (default %(default)s)")  # fmt: skip
    parser.add_argument("--messages", type=int, metavar="M",
                        help="stop the rehearsal after M messages (default: never)")  # fmt: skip
    parser.add_argument("--seed", type=int, default=0, help="the rehearsal's random seed")
    parser.add_argument("--port", type=int, default=8866, help="Voilà's port (default %(default)s)")
    parser.add_argument("--no-browser", action="store_true", help="do not open a browser")
    parser.add_argument("--trace", metavar="FILE", help=argparse.SUPPRESS)  # the benchmark's
    options = parser.parse_args(argv)
    if options.simulate < 0 or options.rate <= 0:
        parser.error("--simulate takes a number of phones (0 or more), --rate a rate above 0.")
    return options


def voila_command(port: int, open_browser: bool) -> list[str]:
    """Voilà serving the room's notebook on loopback (a tunnel reaches the handler, not this)."""
    command = [
        sys.executable, "-m", "voila", str(NOTEBOOK), f"--port={port}", "--Voila.ip=127.0.0.1",
        "--strip_sources=True", "--show_tracebacks=False", f"--Voila.open_browser={open_browser}",
    ]  # fmt: skip
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--ServerApp.allow_root=True")
    return command


def main(argv: list[str] | None = None) -> int:
    options = arguments(argv)
    room = RoomOptions(
        options.simulate, options.rate, options.messages, options.seed, options.trace
    )
    environment = {**os.environ, **room.environment()}
    # One session key for every kernel of this run: a reloaded page keeps everyone's count.
    environment.setdefault("FLASK_SECRET_KEY", secrets.token_hex(32))
    print(f"The room: http://127.0.0.1:{options.port}/ (Ctrl+C to stop)", flush=True)
    voila = subprocess.Popen(voila_command(options.port, not options.no_browser), env=environment)
    while True:
        try:
            return voila.wait()
        except KeyboardInterrupt:
            # Ctrl+C reached Voilà too: let it shut its kernel down, which gives the number its
            # old webhook back (subprocess.call would kill Voilà and orphan the kernel).
            continue


if __name__ == "__main__":
    sys.exit(main())
