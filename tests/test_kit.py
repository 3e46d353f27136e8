"""kit.py: the lock agrees with pyproject.toml, .venv is reused, and stopping kit.py stops Lab."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
import venv

import psutil
import pytest
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

import kit
from smskit.processes import free_port
from tests.support import ROOT


def pinned() -> dict[str, str]:
    """The lock's packages and versions."""
    lines = [line for line in kit.LOCK.read_text().splitlines() if line[:1] not in ("", " ", "#")]
    pairs = [Requirement(line) for line in lines]
    return {canonicalize_name(r.name): str(r.specifier) for r in pairs}


def test_the_lock_was_written_from_pyproject_as_it_is():
    assert kit.lock_is_current(kit.LOCK, kit.PYPROJECT), f"run `{kit.LOCK_COMMAND}`"


def test_every_dependency_of_every_group_is_pinned_to_one_exact_version():
    project = __import__("tomllib").loads(kit.PYPROJECT.read_text())["project"]
    wanted = [*project["dependencies"], *sum(project["optional-dependencies"].values(), [])]
    versions = pinned()
    for requirement in map(Requirement, wanted):
        version = versions.get(canonicalize_name(requirement.name))
        assert version and version.startswith("=="), f"{requirement.name} is not pinned"
        assert requirement.specifier.contains(version[2:]), f"{requirement} vs {version}"


def test_conda_and_binder_install_the_same_lock():
    environment = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip_section = next(
        item["pip"] for item in environment["dependencies"] if isinstance(item, dict)
    )
    assert f"--constraint {kit.LOCK.name}" in pip_section and "--editable ." in pip_section
    assert all(
        isinstance(item, dict) or item in ("pip", "python=3.11")
        for item in environment["dependencies"]
    )


def test_a_changed_dependency_makes_the_lock_stale_and_kit_says_what_to_run(tmp_path, monkeypatch):
    changed = tmp_path / "pyproject.toml"
    changed.write_text(
        kit.PYPROJECT.read_text().replace('"flask>=3.1",', '"flask>=3.1", "qrcode",')
    )
    assert not kit.lock_is_current(kit.LOCK, changed)
    monkeypatch.setattr(kit, "PYPROJECT", changed)
    with pytest.raises(kit.Trouble, match=r"run `python3 kit\.py lock` and commit"):
        kit.check_lock(strict=True)
    kit.check_lock(strict=False)  # the lessons go on, with a warning


def test_a_venv_with_the_test_tools_serves_the_lessons_but_not_the_other_way(tmp_path, monkeypatch):
    monkeypatch.setattr(kit, "STAMP", tmp_path / "stamp.json")
    kit.STAMP.write_text(json.dumps(kit.wanted(("test",))))
    assert kit.up_to_date(()) and kit.up_to_date(("test",))
    kit.STAMP.write_text(json.dumps(kit.wanted(())))
    assert kit.up_to_date(()) and not kit.up_to_date(("test",))
    kit.STAMP.write_text(json.dumps(kit.wanted(()) | {"lock": "an older lock"}))
    assert not kit.up_to_date(())


def test_every_command_names_groups_that_pyproject_has():
    extras = __import__("tomllib").loads(kit.PYPROJECT.read_text())["project"]
    groups = set(extras["optional-dependencies"])
    for name, command in kit.COMMANDS.items():
        assert set(command.extras or ()) <= groups, name


def test_the_test_command_names_each_test_on_every_core_unless_told_otherwise(monkeypatch):
    ran = []
    monkeypatch.setattr(kit, "run", lambda *command: ran.append(command) or 0)
    told = ([], ["tests/test_kit.py"], ["-q"], ["--verbose", "-n", "3"], ["-vv", "-p", "no:xdist"])
    for args in [*told, ["--fast"], ["-q", "-p", "no:cacheprovider"]]:
        kit.test(list(args))
    every_core = "--numprocesses=auto"
    assert [command[3:] for command in ran] == [
        ("-v", every_core),
        ("-v", every_core, "tests/test_kit.py"),
        (every_core, "-q"),
        ("--verbose", "-n", "3"),
        ("-vv", "-p", "no:xdist"),
        ("-v", "-m", "unit"),  # the unit layer alone: faster in one process
        (every_core, "-q", "-p", "no:cacheprovider"),
    ]


def answer(url: str) -> bytes | None:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.read()
    except OSError:
        return None


@pytest.mark.slow
@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "Ctrl-C"])
def test_stopping_kit_py_lab_stops_jupyterlab_which_opened_the_learner_edition(stop):
    port = free_port()
    command = [sys.executable, "kit.py", "lab", "--no-browser", f"--port={port}",
               "--ServerApp.ip=127.0.0.1", "--ServerApp.token="]  # fmt: skip
    env = {**os.environ, "SMSKIT_NO_UV": "1"}  # .venv is already set up: no installer runs
    kit_process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while answer(f"{url}/api/status") is None:
            assert kit_process.poll() is None and time.monotonic() < deadline, "Lab never answered"
            time.sleep(0.25)
        lab = psutil.Process(kit_process.pid).children()  # jupyter lab, started by kit.py
        assert len(lab) == 1
        assert "--LabApp.default_url=/lab/tree/learner/00_start_here.ipynb" in lab[0].cmdline()
        assert (ROOT / "learner" / "00_start_here.ipynb").exists()
        settings = json.loads(
            answer(f"{url}/lab/api/settings/@jupyterlab/apputils-extension:notification") or "{}"
        )
        fetch_news = settings["schema"]["properties"]["fetchNews"]  # the kit's override
        assert fetch_news["default"] == "false"  # so no news pop-up covers the cells
        os.kill(kit_process.pid, stop)  # to kit.py alone, as `kill` or a closing terminal does
        kit_process.wait(timeout=60)  # JupyterLab stops cleanly, and kit.py with it
        assert not psutil.pid_exists(lab[0].pid) or lab[0].status() == psutil.STATUS_ZOMBIE
        assert answer(f"{url}/api/status") is None
    finally:
        try:
            os.killpg(kit_process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


@pytest.mark.integration  # starts a process
def test_the_learner_command_finds_the_kit_from_a_folder_inside_it(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "smskit.learner", "--out", str(tmp_path / "mine")],
        cwd=ROOT / "notebooks",  # where `!` runs in a notebook
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "mine" / "03_sms_conversations.ipynb").exists()


@pytest.mark.integration  # starts a process
def test_a_python_without_the_kits_packages_gets_one_sentence(tmp_path):
    bare = tmp_path / "bare"
    venv.create(bare, with_pip=False)
    python = bare / ("Scripts" if os.name == "nt" else "bin") / "python"
    done = subprocess.run(
        [str(python), "-m", "smskit.learner"],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0
    said = done.stderr.strip().splitlines()
    assert len(said) == 1 and "Traceback" not in done.stderr, done.stderr
    assert "the kit needs" in said[0] and "kit.py lab" in said[0]
