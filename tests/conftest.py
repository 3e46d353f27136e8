"""Every fixture of the suite: the app and a test client in the style of Flask's tutorial, the
local Twilio, server processes, and the stand-ins for ngrok's agent and Twilio's REST API."""

import os
import socket
import sys

import pytest

# Offline by default: a developer's own .env must not take the lessons live while nbval
# compares their outputs (the notebooks' kernels inherit this). Live tests opt back in.
if os.environ.get("SMSKIT_LIVE_TESTS") != "1":
    os.environ["SMSKIT_OFFLINE"] = "1"
# Importing the quickstart builds its module-level app: give it a key so that the import
# writes no key file into the repository (tests that need no key remove it themselves).
os.environ.setdefault("FLASK_SECRET_KEY", "test suite key, 32 characters or more")

from collections import defaultdict  # noqa: E402

import nbformat  # noqa: E402
from nbval.plugin import IPyNbCell  # noqa: E402

from smskit.learner import CHECK_TAG, SOLUTION_TAG  # noqa: E402
from tests.mistakes import MISTAKES  # noqa: E402
from tests.support import KEY, QUICKSTART, TOKEN  # noqa: E402

# A test in none of these is in the unit layer: in-process, no servers, no subprocesses.
# Heaviest first: a file's heaviest layer sets when the workers start it.
LAYERS = ("browser", "slow", "notebook", "integration")
# Fixtures that start processes or servers: a test using one is an integration test.
STARTS_PROCESSES = {"run_server", "agent", "twilio_api"}


def pytest_collection_modifyitems(items):
    """Give each test its layer: nbval's lesson cells (and the wrong answers tried in their
    kernels) are notebook tests, tests using a process-starting fixture integration tests, the
    rest unmarked unit."""
    items[:] = [tried for item in items for tried in with_wrong_answers(item)]
    for item in items:
        if item.path.suffix == ".ipynb":
            item.add_marker(pytest.mark.notebook)
        elif STARTS_PROCESSES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.integration)
        if not any(item.get_closest_marker(layer) for layer in LAYERS):
            item.add_marker(pytest.mark.unit)
    heaviest_files_first(items)


def heaviest_files_first(items) -> None:
    """Order files by their heaviest layer (LAYERS' order), keeping the order within a file, so
    that `kit.py test`'s workers take the long files first and finish close together."""
    weight = {}
    for item in items:
        layers = [i for i, name in enumerate(LAYERS) if item.get_closest_marker(name)]
        weight[item.path] = min([*layers, weight.get(item.path, len(LAYERS))])
    items.sort(key=lambda item: weight[item.path])  # stable


IN_A_UNIT_TEST = []  # not empty while a unit test runs
NOT_IN_A_UNIT_TEST = "A unit test starts no process and no server: mark this one integration."


def refuse_processes(event, args):
    """An audit hook (the one way to see every process start, os.system's too)."""
    if IN_A_UNIT_TEST and event in ("subprocess.Popen", "os.system", "os.posix_spawn", "os.fork"):
        raise AssertionError(NOT_IN_A_UNIT_TEST)


sys.addaudithook(refuse_processes)


@pytest.fixture(autouse=True)
def unit_tests_stay_in_process(request, monkeypatch):
    """A unit test that starts a process or a server fails, saying which marker it needs."""
    if request.node.get_closest_marker("unit") is None:
        yield
        return

    def refuse(*args, **kwargs):
        raise AssertionError(NOT_IN_A_UNIT_TEST)

    monkeypatch.setattr(socket.socket, "listen", refuse)
    IN_A_UNIT_TEST.append(request.node)
    yield
    IN_A_UNIT_TEST.clear()


class WrongAnswer(IPyNbCell):
    """A wrong answer, then a copy of its exercise's check, run in the lesson's own nbval kernel
    just before the solution cell: the check must fail with CheckFailed naming the mistake. The
    lesson then goes on under nbval's strict comparison, which proves the wrong tries left
    nothing behind; so each lesson runs once for both (nbval has no hook for extra cells)."""

    def __init__(self, *, mistake, check, **kwargs):
        super().__init__(**kwargs)
        self.mistake, self.check = mistake, check

    def runtest(self):
        for source in (self.mistake.code, self.check.source):
            self.cell = nbformat.v4.new_code_cell(source)  # unrun: nbval compares no output
            super().runtest()
        errors = [o for o in self.test_outputs if o.output_type == "error"]
        assert errors, f"{self.mistake.what}: the check passed"
        ename, evalue = errors[0].ename, errors[0].evalue
        assert ename == "CheckFailed" and self.mistake.said in evalue, f"{ename}: {evalue}"


def with_wrong_answers(item) -> list:
    """The item, preceded by its wrong answers if it is a solution cell with some, and followed
    by its check run once more (compared as strictly) if it is a check cell."""
    if type(item) is not IPyNbCell:
        return [item]
    tags = item.cell.metadata.get("tags", [])
    if CHECK_TAG in tags:
        again = IPyNbCell.from_parent(
            item.parent, name=f"{item.name} again", cell_num=item.cell_num, cell=item.cell,
            options=item.options,
        )  # fmt: skip
        return [item, again]
    mistakes = MISTAKES.get(item.path.stem, {}).get(item.cell.get("id"), [])
    if SOLUTION_TAG not in tags or not mistakes:
        return [item]
    cells = item.parent.nb.cells
    check = cells[cells.index(item.cell) + 1]
    options = defaultdict(bool, check=False, check_exception=True)
    tries = [
        WrongAnswer.from_parent(
            item.parent,
            name=f"{item.name} wrong: {mistake.what}",
            cell_num=item.cell_num,
            cell=item.cell,
            options=options,
            mistake=mistake,
            check=check,
        )  # fmt: skip
        for mistake in mistakes
    ]
    return [*tries, item]


@pytest.fixture
def app():
    """The quickstart as deployed (production_app), without a token."""
    from quickstart.sms.sms_conversation import production_app

    return production_app({"SECRET_KEY": KEY, "TWILIO_AUTH_TOKEN": None, "TESTING": True})


@pytest.fixture
def signed_app():
    from quickstart.sms.sms_conversation import production_app

    return production_app({"SECRET_KEY": KEY, "TWILIO_AUTH_TOKEN": TOKEN, "TESTING": True})


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def clock():
    from smskit import SimulatedClock

    return SimulatedClock(start=1_700_000_000)


@pytest.fixture
def twilio(app, clock):
    """The local Twilio calling the app in-process."""
    from smskit import LocalTwilio

    return LocalTwilio(app, clock=clock)


@pytest.fixture
def run_server():
    """Start server processes (a command list and its port); stop them after the test."""
    from smskit.processes import start_server, stop_server

    processes = []

    def start(command, port, **options):
        processes.append(start_server(command, port, **options))
        return processes[-1]

    yield start
    for process in processes:
        stop_server(process)


@pytest.fixture
def quickstart_copy(tmp_path):
    """The quickstart file alone in a temporary folder (its instance folder lands there too)."""
    copy = tmp_path / "sms_conversation.py"
    copy.write_text(QUICKSTART.read_text())
    return copy


@pytest.fixture
def agent(tmp_path, monkeypatch):
    """Install a stand-in agent (mode ok, exit, offline or hang) as pyngrok's ngrok binary."""
    from pyngrok import conf

    from smskit.tunnel import close_all
    from tests.fakes import ngrok_agent
    from tests.fakes.stand_ins import agents

    monkeypatch.setattr(conf.get_default(), "config_path", str(tmp_path / "ngrok.yml"))
    logs = []

    def install(mode="ok"):
        binary, log = ngrok_agent.install(tmp_path, mode)
        monkeypatch.setattr(conf.get_default(), "ngrok_path", str(binary))
        logs.append(log)
        return log

    yield install
    close_all()
    for log in logs:
        assert agents(log) == [], "an ngrok agent was left running"


@pytest.fixture
def twilio_api():
    """A stand-in for api.twilio.com; any number still pointed somewhere is restored after."""
    from smskit.twilio_number import hookups, restore_number
    from tests.fakes.stand_ins import TwilioApi

    stand_in = TwilioApi(sms_method="GET")
    yield stand_in
    for phone_number in hookups():
        restore_number(phone_number)
    stand_in.server.stop()
