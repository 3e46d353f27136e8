"""python3 kit.py room: serve the room's dashboard (room/room.ipynb) with Voilà.

    python3 kit.py room                         live with your Twilio number (.env), for the day
    python3 kit.py room --simulate 30 --rate 2  a rehearsal: 30 simulated phones, offline
    python3 kit.py room --host 0.0.0.0          also served to the LAN (an assistant's screen)
    python3 kit.py room --check                 preflight: a go/no-go table for your account
    python3 kit.py room --cull-after 300        a page may be away 5 minutes and keep its kernel

The options reach the notebook's kernel as SMSKIT_ROOM_* environment variables (Voilà
starts kernels with its own environment); no secret is ever on the command line.
SIGINT (Ctrl+C) or SIGTERM stops Voilà, which shuts its kernels down (each gives the number
its previous webhook back); a webhook a killed room left behind is given back at the start
and again at the end. jupyter_server's culling shuts down kernels idle with no page attached:
a room renders only while a page is attached (smskit.watching), so a kernel whose page closed,
or that no page ever reached (a `curl`, a load that timed out), falls idle and is culled
within a minute (--cull-after: how long such a kernel lives; more for pages on a poor network,
whose websocket may drop for a while, less for a room served to a LAN where many pages come
and go).
"""

from __future__ import annotations

import argparse
import ipaddress
import os
import secrets
import signal
import subprocess
import sys

from . import preflight, watching
from .carrier import SENDERS, estimate
from .export import ROOT
from .room import RoomOptions
from .twilio_number import NumberHookupError, give_back_left_webhook

NOTEBOOK = ROOT / "room" / "room.ipynb"
STOP_WAIT = 30.0  # seconds Voilà has to shut its kernels down before it is killed
# jupyter_server's culling: a kernel idle this long with no page connected is shut down,
# checked this often (a room sends nothing while no page is attached: smskit.watching).
CULL_IDLE, CULL_INTERVAL = 40, 10


def cull_interval(idle: int) -> int:
    """How often to look for kernels idle longer than idle seconds: CULL_INTERVAL, or a quarter
    of a shorter idle time (at least a second)."""
    return max(1, min(CULL_INTERVAL, idle // 4))


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
    parser.add_argument("--sender", choices=SENDERS, default="long-code",
                        help="the replies' pace (default %(default)s)")  # fmt: skip
    parser.add_argument("--port", type=int, default=8866, help="Voilà's port (default %(default)s)")
    parser.add_argument("--host", default="127.0.0.1",
                        help="0.0.0.0 serves the LAN (default %(default)s)")  # fmt: skip
    parser.add_argument("--no-browser", action="store_true", help="do not open a browser")
    parser.add_argument("--cull-after", type=int, default=CULL_IDLE, metavar="SECONDS",
                        help="shut down a kernel no page has been attached to for SECONDS "
                        "(default %(default)s; more if pages are on a poor network)")  # fmt: skip
    parser.add_argument("--check", action="store_true",
                        help="preflight: will your number reply to a room? (go/no-go)")  # fmt: skip
    parser.add_argument("--trace", metavar="FILE", help=argparse.SUPPRESS)  # the benchmark's
    options = parser.parse_args(argv)
    if options.simulate < 0 or options.rate <= 0:
        parser.error("--simulate takes a number of phones (0 or more), --rate a rate above 0.")
    if options.cull_after < 1:
        parser.error("--cull-after takes a number of seconds (1 or more).")
    return options


def voila_command(
    port: int, open_browser: bool, host: str = "127.0.0.1", cull_after: int = CULL_IDLE
) -> list[str]:
    """Voilà serving the room's notebook on host (loopback unless --host; a tunnel reaches the
    handler, not this), culling kernels no page has been attached to for cull_after seconds."""
    command = [
        sys.executable, "-m", "voila", str(NOTEBOOK), f"--port={port}", f"--Voila.ip={host}",
        "--strip_sources=True", "--show_tracebacks=False", f"--Voila.open_browser={open_browser}",
        f"--MappingKernelManager.cull_idle_timeout={cull_after}",
        f"--MappingKernelManager.cull_interval={cull_interval(cull_after)}",
        "--MappingKernelManager.cull_connected=False",
    ]  # fmt: skip
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--ServerApp.allow_root=True")
    return command


def exposure(host: str, port: int) -> str | None:
    """What serving on host exposes, in one line; None on loopback."""
    try:
        if ipaddress.ip_address(host).is_loopback:
            return None
    except ValueError:  # a host name
        if host == "localhost":
            return None
    return (
        f"Also served at http://{host}:{port}/ to your network, without a password: anyone "
        "who reaches it sees the room (numbers masked, bodies hidden until you show them) and "
        "starts a kernel on this computer; a live room stays with its first page."
    )


def give_back(when: str) -> None:
    """Give back a webhook a killed room left on the number, and say so (offline: no-op)."""
    try:
        said = give_back_left_webhook()
    except NumberHookupError as problem:
        print(f"{when}: the number's old webhook could not be given back yet: {problem}")
        return
    if said:
        print(f"{when}: {said}", flush=True)


def serve_until_stopped(command: list[str], environment: dict[str, str]) -> int:
    """Run Voilà until it exits or SIGINT/SIGTERM arrives; then stop it cleanly (SIGTERM, which
    jupyter_server answers by shutting its kernels down without asking), killing it if it hangs.

    Voilà runs in its own session, so a terminal's Ctrl+C reaches only this process: the
    kernels are not interrupted mid-cell (no zmq tracebacks), they are shut down."""
    voila = subprocess.Popen(command, env=environment, start_new_session=True)
    stopping: list[int] = []

    def stop(signum: int, _frame: object) -> None:
        stopping.append(signum)
        if voila.poll() is None:
            voila.terminate()

    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, stop)
    code = voila.wait()
    if stopping:
        try:
            voila.wait(timeout=STOP_WAIT)
        except subprocess.TimeoutExpired:
            os.killpg(voila.pid, signal.SIGKILL)
            voila.wait()
        return 0
    return code


def main(argv: list[str] | None = None) -> int:
    options = arguments(argv)
    if options.check:
        return preflight.main()
    room = RoomOptions(
        options.simulate, options.rate, options.messages, options.seed, options.trace,
        options.sender,
    )  # fmt: skip
    environment = {**os.environ, **room.environment()}
    # Its kernels ask Voilà whether a page is attached, and stay quiet while none is.
    environment[watching.SERVER] = f"http://127.0.0.1:{options.port}"
    # One session key for every kernel of this run: a reloaded page keeps everyone's count.
    environment.setdefault("FLASK_SECRET_KEY", secrets.token_hex(32))
    if options.simulate:
        each = -(-options.messages // options.simulate) if options.messages else 1
        print(estimate(options.simulate, each, options.sender), flush=True)
    else:
        give_back("Before the room opens")
    print(f"The room: http://127.0.0.1:{options.port}/ (Ctrl+C to stop)", flush=True)
    if warning := exposure(options.host, options.port):
        print(warning, flush=True)
    command = voila_command(options.port, not options.no_browser, options.host, options.cull_after)
    code = serve_until_stopped(command, environment)
    if not options.simulate:
        give_back("After the room closed")
    print("The room is closed.", flush=True)
    return code


if __name__ == "__main__":
    sys.exit(main())
