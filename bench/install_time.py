"""8. Setup: a fresh clone's `python3 kit.py lab` until JupyterLab answers, with uv and with pip.

Each run clones the committed kit into a new folder and starts `kit.py lab` there with empty
package caches (uv's and pip's own, so every package comes from the index as on a new machine),
then polls JupyterLab's /api/status; the time is from the start of kit.py to the first answer.
The pip arm sets SMSKIT_NO_UV=1, which makes kit.py take its fallback: pip, the same lock. Runs
interleave the two arms, the order rotating. After each cold uv run, a second fresh clone set up
with the caches that run filled is the warm figure (a learner's second clone, or a workshop
machine prepared the day before).
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from smskit.processes import free_port

from .common import ROOT, Spread

log = logging.getLogger(__name__)

ARMS = {"uv": {}, "pip": {"SMSKIT_NO_UV": "1"}}
WARM = "uv, warm cache"


@dataclass
class SetupResult:
    seconds: dict[str, Spread]  # per arm: fresh clone to JupyterLab answering
    ratio: Spread  # pip / uv, per repeat
    target: float = 30.0


def answering(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/api/status", timeout=2) as answer:
            return answer.status == 200
    except OSError:
        return False


def time_to_lab(clone: Path, extra_env: dict[str, str], timeout: float = 600) -> float:
    """Seconds from starting clone's `kit.py lab` to its JupyterLab answering; then stop it."""
    caches = clone.parent / "caches"
    env = {
        **os.environ,
        **extra_env,
        "UV_CACHE_DIR": str(caches / "uv"),
        "PIP_CACHE_DIR": str(caches / "pip"),
    }
    for name in ("VIRTUAL_ENV", "PYTHONPATH"):  # the bench's own .venv must not leak in
        env.pop(name, None)
    port = free_port()
    command = [sys.executable, "kit.py", "lab", "--no-browser", f"--port={port}",
               "--ServerApp.ip=127.0.0.1", "--ServerApp.token="]  # fmt: skip
    log_file = clone.parent / "lab.log"
    started = time.perf_counter()
    with log_file.open("w") as output:
        kit = subprocess.Popen(
            command, cwd=clone, env=env, stdout=output, stderr=output, start_new_session=True
        )
    try:
        url = f"http://127.0.0.1:{port}"
        while not answering(url):
            if kit.poll() is not None or time.perf_counter() - started > timeout:
                raise RuntimeError(f"kit.py lab never answered:\n{log_file.read_text()[-2000:]}")
            time.sleep(0.2)
        return time.perf_counter() - started
    finally:
        kit.send_signal(signal.SIGTERM)  # kit.py passes it on to JupyterLab
        kit.wait(timeout=60)
        try:  # an older kit.py (measured for comparison) left JupyterLab running
            os.killpg(kit.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass


def fresh_clone(folder: Path, source: Path = ROOT, name: str = "kit") -> Path:
    clone = folder / name
    subprocess.run(["git", "clone", "--quiet", str(source), str(clone)], check=True)
    return clone


def run(repeats: int = 2, target: float = 30.0) -> SetupResult:
    samples: dict[str, list[float]] = {arm: [] for arm in [*ARMS, WARM]}
    for repeat in range(repeats):
        order = list(ARMS) if repeat % 2 == 0 else list(reversed(ARMS))
        for arm in order:
            with tempfile.TemporaryDirectory() as folder:
                seconds = time_to_lab(fresh_clone(Path(folder)), ARMS[arm])
                if arm == "uv":  # the same caches, now filled
                    warm = time_to_lab(fresh_clone(Path(folder), name="again"), ARMS[arm])
                    log.info("setup with %s: %.1f s", WARM, warm)
                    samples[WARM].append(warm)
            log.info("setup with %s: %.1f s", arm, seconds)
            samples[arm].append(seconds)
    ratios = [pip / uv for uv, pip in zip(samples["uv"], samples["pip"], strict=True)]
    return SetupResult({arm: Spread.of(s) for arm, s in samples.items()}, Spread.of(ratios), target)
