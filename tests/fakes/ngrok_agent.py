#!/usr/bin/env python3
"""A stand-in for the ngrok v3 agent binary, for pyngrok to start offline (stdlib only).

It answers the commands pyngrok runs (`--version`, `config add-authtoken`, `config check`,
`start --none --log stdout ...`), prints ngrok's logfmt start-up lines the way pyngrok parses them
("starting web service" with addr=, "client session established", "tunnel session started"), and
serves the agent's local API on 127.0.0.1 (/api/endpoints and /api/tunnels: list, create, get,
delete). Public URLs are made up (https://<hex>.ngrok-free.app); nothing leaves the machine.

Modes (--fake-mode): ok, exit (refuses the token and exits, echoing it as real ngrok does),
offline (keeps failing to reach ngrok's servers), hang (prints nothing, never answers).
Every start and API call is appended as a JSON line to --fake-log, for the tests to count.
"""

from __future__ import annotations

import json
import os
import secrets
import shlex
import sys
import time
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

MODES = ("ok", "exit", "offline", "hang")


def install(folder: Path, mode: str = "ok") -> tuple[Path, Path]:
    """Write an executable `ngrok` into folder that runs this agent in mode; (binary, log)."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}")
    binary, log = folder / "ngrok", folder / f"ngrok-{mode}.jsonl"
    command = [sys.executable, str(Path(__file__).resolve()), f"--fake-mode={mode}"]
    command.append(f"--fake-log={log}")
    binary.write_text(f'#!/bin/sh\nexec {shlex.join(command)} "$@"\n')
    binary.chmod(0o755)
    return binary, log


def calls(log: Path) -> list[dict]:
    """What the agent(s) recorded so far."""
    if not log.exists():
        return []
    return [json.loads(line) for line in log.read_text().splitlines() if line]


def say(level: str, msg: str, **fields: str) -> None:
    """Print one logfmt line the way ngrok does with --log stdout."""
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S%z")
    extra = "".join(
        f" {key}={json.dumps(value) if ' ' in value else value}" for key, value in fields.items()
    )
    print(f"t={now} lvl={level} msg={json.dumps(msg)}{extra}", flush=True)


class Agent:
    """The agent's state: its endpoints by name, and the log the tests read."""

    def __init__(self, log: Path | None):
        self.log = log
        self.endpoints: dict[str, dict] = {}

    def record(self, **event) -> None:
        if self.log is not None:
            with self.log.open("a") as out:
                out.write(json.dumps({"pid": os.getpid(), **event}) + "\n")

    def create(self, options: dict, legacy: bool) -> tuple[int, dict]:
        name = options.get("name") or f"endpoint-{secrets.token_hex(4)}"
        if name in self.endpoints:
            return 400, {
                "error_code": 102,
                "status_code": 400,
                "msg": "invalid tunnel configuration",
                "details": {"err": f"a tunnel named {name!r} already exists"},
            }
        upstream = options.get("upstream") or {"url": str(options.get("addr", "80"))}
        url = f"https://{secrets.token_hex(6)}.ngrok-free.app"
        self.endpoints[name] = {"name": name, "url": url, "upstream": upstream}
        say("info", "started tunnel", obj="tunnels", name=name, addr=upstream["url"], url=url)
        return 201, self.shape(name, legacy)

    def shape(self, name: str, legacy: bool) -> dict:
        """One endpoint as /api/endpoints shows it, or as a v2 tunnel for /api/tunnels."""
        endpoint = self.endpoints[name]
        if not legacy:
            return {**endpoint, "uri": f"/api/endpoints/{name}"}
        return {
            "name": name,
            "uri": f"/api/tunnels/{name}",
            "public_url": endpoint["url"],
            "proto": "https",
            "config": {"addr": endpoint["upstream"]["url"], "inspect": True},
            "metrics": {},
        }


def handler_for(agent: Agent) -> type[BaseHTTPRequestHandler]:
    """The agent API's request handler."""

    class Api(BaseHTTPRequestHandler):
        def log_message(self, format, *args):  # the API's access log stays quiet
            pass

        def answer(self, status: int, body: dict | None = None) -> None:
            data = json.dumps(body).encode() if body is not None else b""
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def route(self) -> tuple[str | None, str | None, bool]:
            """(collection, name, legacy) for /api/endpoints[/name] or /api/tunnels[/name]."""
            parts = self.path.split("?")[0].strip("/").split("/")
            if parts[:1] != ["api"]:
                return None, None, False
            if len(parts) == 1:
                return "root", None, False
            collection = parts[1] if parts[1] in ("endpoints", "tunnels") else None
            return collection, (parts[2] if len(parts) > 2 else None), parts[1] == "tunnels"

        def do_GET(self):
            collection, name, legacy = self.route()
            agent.record(method="GET", path=self.path)
            if collection == "root":
                return self.answer(200, {"uri": "/api"})
            if collection is None:
                return self.answer(404, {"msg": "not found"})
            if name is None:
                key = "tunnels" if legacy else "endpoints"
                listed = [agent.shape(each, legacy) for each in agent.endpoints]
                return self.answer(200, {key: listed, "uri": f"/api/{key}"})
            if name not in agent.endpoints:
                return self.answer(404, {"error_code": 100, "status_code": 404, "msg": "not found"})
            return self.answer(200, agent.shape(name, legacy))

        def do_POST(self):
            collection, name, legacy = self.route()
            length = int(self.headers.get("Content-Length") or 0)
            options = json.loads(self.rfile.read(length) or b"{}")
            agent.record(method="POST", path=self.path, name=options.get("name"), body=options)
            if collection not in ("endpoints", "tunnels") or name is not None:
                return self.answer(405, {"msg": "method not allowed"})
            self.answer(*agent.create(options, legacy))

        def do_DELETE(self):
            collection, name, _ = self.route()
            agent.record(method="DELETE", path=self.path)
            if collection not in ("endpoints", "tunnels") or name not in agent.endpoints:
                return self.answer(404, {"error_code": 100, "status_code": 404, "msg": "not found"})
            del agent.endpoints[name]
            say("info", "stopped tunnel", obj="tunnels", name=name)
            self.answer(204)

    return Api


def start(mode: str, args: list[str], agent: Agent) -> int:
    """`ngrok start --none --log stdout [--config P] [--authtoken T] ...`"""
    given = args[args.index("--authtoken") + 1] if "--authtoken" in args else None
    token = given or os.environ.get("NGROK_AUTHTOKEN")  # as ngrok reads it
    agent.record(event="start", mode=mode, authtoken=token is not None, on_command_line=bool(given))
    if mode == "hang":
        while True:
            time.sleep(3600)
    say("info", "no configuration paths supplied")
    if mode == "exit" or token is None:
        why = (
            "authentication failed: Usage of ngrok requires a verified account and authtoken."
            "\\n\\nERR_NGROK_4018"
            if token is None
            else "authentication failed: The authtoken you specified does not look like a proper "
            f"ngrok authtoken.\\nYour authtoken: {token}\\n\\nERR_NGROK_105"
        )
        say("eror", "failed to reconnect session", obj="tunnels.session", err=why)
        return 1
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler_for(agent))
    host, port = server.server_address[:2]
    say("info", "starting web service", obj="web", addr=f"{host}:{port}", allow_hosts="[]")
    if mode == "offline":
        while True:
            why = (
                "failed to dial ngrok server with address connect.ngrok-agent.com:443: no such host"
            )
            say("eror", "failed to reconnect session", obj="tunnels.session", err=why)
            time.sleep(0.2)
    say("info", "client session established", obj="tunnels.session")
    say("info", "tunnel session started", obj="tunnels.session")
    server.serve_forever()
    return 0


def main(argv: list[str]) -> int:
    mode, log, args = "ok", None, []
    for arg in argv:
        if arg.startswith("--fake-mode="):
            mode = arg.split("=", 1)[1]
        elif arg.startswith("--fake-log="):
            log = Path(arg.split("=", 1)[1])
        else:
            args.append(arg)
    agent = Agent(log)
    if args[:1] == ["--version"]:
        print("ngrok version 3.99.0-fake")
        return 0
    if args[:2] == ["config", "add-authtoken"]:
        print("Authtoken saved to configuration file: (fake)")
        return 0
    if args[:2] == ["config", "check"]:
        print("Valid configuration file (fake)")
        return 0
    if args[:1] == ["start"]:
        return start(mode, args, agent)
    print(f"ERROR:  unknown command {args[:1]} (fake ngrok)", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
