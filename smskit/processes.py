"""Servers in separate processes (gunicorn, flask run): a free port, start and wait, stop.

>>> port = free_port()
>>> server = start_server(gunicorn_command("quickstart.sms.sms_conversation:app", port), port)
>>> stop_server(server)          # also done when this interpreter exits
"""

from __future__ import annotations

import atexit
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from typing import IO

_logs: dict[int, IO[str]] = {}  # each started process's output, by pid


def free_port() -> int:
    """A port of 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def gunicorn_command(app_path: str, port: int, workers: int = 2) -> list[str]:
    """The command that serves app_path ("module:variable") with gunicorn on 127.0.0.1:port."""
    return [sys.executable, "-m", "gunicorn", "--workers", str(workers),
            "--bind", f"127.0.0.1:{port}", "--log-level", "warning", app_path]  # fmt: skip


def start_server(command: list[str], port: int, *, env=None, cwd=None, seconds=30.0):
    """Start command; return its process once it listens on 127.0.0.1:port.

    The process is stopped when this interpreter exits, so a failed cell or test cannot
    leave it running. Raises with the server's own output if it dies or never listens.
    """
    log = tempfile.TemporaryFile("w+")
    process = subprocess.Popen(command, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT)
    _logs[process.pid] = log
    atexit.register(stop_server, process)
    deadline = time.monotonic() + seconds
    while process.poll() is None and time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return process
        except OSError:
            time.sleep(0.05)
    died, output = process.poll() is not None, output_of(process)
    stop_server(process)
    if died:
        raise RuntimeError(f"The server exited ({process.returncode}); it said:\n{output}")
    raise TimeoutError(f"Nothing listened on 127.0.0.1:{port} within {seconds:g} s:\n{output}")


def output_of(process: subprocess.Popen) -> str:
    """What a started server has printed so far (its last 3,000 characters)."""
    log = _logs.get(process.pid)
    if log is None:
        return ""
    log.flush()
    log.seek(0)
    return log.read()[-3000:]


def stop_server(process: subprocess.Popen, seconds: float = 10) -> None:
    """Terminate the process, wait, kill it if it takes longer than seconds; harmless twice."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=seconds)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    log = _logs.pop(process.pid, None)
    if log is not None:
        log.close()


def redis_command(port: int, folder: str) -> list[str] | None:
    """Debian's redis-server on 127.0.0.1:port, its files in folder, nothing saved to disk.

    None when redis-server is not installed (Debian: apt-get install redis-server).
    """
    binary = shutil.which("redis-server")
    if binary is None:
        return None
    return [binary, "--port", str(port), "--bind", "127.0.0.1", "--dir", folder,
            "--save", "", "--appendonly", "no"]  # fmt: skip
