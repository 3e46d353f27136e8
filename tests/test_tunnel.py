"""The ngrok tunnel through the real pyngrok code path, offline.

Unless marked live, these tests replace the ngrok agent binary (and, through it, ngrok's cloud)
with a local stand-in (tests/fakes/ngrok_agent.py): pyngrok starts it, reads its log lines and
asks its local API on 127.0.0.1 for tunnels. pyngrok's binary and config paths point into
tmp_path, so nothing is written under the user's home.
"""

import os
import subprocess
import sys
import time

import psutil
import pytest
from pyngrok import conf, installer, ngrok, process

from smskit import tunnel
from smskit.processes import free_port
from smskit.settings import Settings, load_settings
from smskit.tunnel import TunnelUnavailable, close_all, close_tunnel, open_tunnel, tunnels
from tests.fakes import ngrok_agent
from tests.fakes.stand_ins import NGROK_TOKEN, agents, created, one_sentence, starts
from tests.support import ROOT

SETTINGS = Settings(ngrok_authtoken=NGROK_TOKEN)
BOUND = tunnel.START_TIMEOUT + 1.5  # seconds any failure may take, at most


def test_one_tunnel_per_port_reused_on_reruns_and_closed_with_its_agent(agent):
    log = agent("ok")
    port = free_port()
    first = open_tunnel(port, SETTINGS)
    assert first.public_url.startswith("https://") and first.port == port
    for _ in range(5):  # re-running the cell
        assert open_tunnel(port, SETTINGS) == first
    assert len(starts(log)) == 1 and starts(log)[0]["authtoken"] is True
    assert [call["body"]["upstream"]["url"] for call in created(log)] == [
        f"http://127.0.0.1:{port}"
    ]
    assert tunnels() == {port: first}
    assert len(agents(log)) == 1

    close_tunnel(port)
    assert tunnels() == {}
    assert ngrok_agent.calls(log)[-1]["method"] == "DELETE"
    assert agents(log) == []


def test_two_ports_share_one_agent_until_the_last_tunnel_closes(agent):
    log = agent("ok")
    one, two = free_port(), free_port()
    urls = {open_tunnel(one, SETTINGS).public_url, open_tunnel(two, SETTINGS).public_url}
    assert len(urls) == 2 and len(starts(log)) == 1 and len(created(log)) == 2
    close_tunnel(one)
    assert len(agents(log)) == 1 and set(tunnels()) == {two}
    close_tunnel(two)
    assert agents(log) == []


def test_an_agent_that_died_is_started_again(agent):
    log = agent("ok")
    port = free_port()
    first = open_tunnel(port, SETTINGS)
    for proc in agents(log):
        proc.kill()
        proc.wait(5)
    assert tunnels() == {}
    second = open_tunnel(port, SETTINGS)
    assert second.public_url != first.public_url and len(starts(log)) == 2


def test_a_dead_agent_is_seen_dead_even_while_pyngrok_polls_it(agent):
    """pyngrok's log monitor polls the agent in a loop. While it holds Popen's wait lock,
    Popen.poll() answers "running", which made a dead agent look alive on a busy machine (the
    restart test above failed that way under load). Holding the lock here makes that moment."""
    log = agent("ok")
    open_tunnel(free_port(), SETTINGS)
    running = ngrok.get_ngrok_process(conf.get_default()).proc
    with running._waitpid_lock:  # as if pyngrok's monitor thread were polling right now
        running.kill()
        deadline = time.monotonic() + 10
        while psutil.Process(running.pid).status() != psutil.STATUS_ZOMBIE:
            assert time.monotonic() < deadline, "the killed agent did not exit"
            time.sleep(0.01)
        assert process.is_process_running(running.args[0])  # pyngrok's own check: "running"
        assert tunnels() == {}  # the kit's: gone
    again = open_tunnel(free_port(), SETTINGS)
    assert again.public_url.startswith("https://") and len(starts(log)) == 2


@pytest.mark.parametrize(
    "mode, expected",
    [
        ("exit", "ngrok refused the auth token (ERR_NGROK_105): paste the one from"),
        ("offline", "ngrok could not reach its servers: check the internet connection"),
        ("hang", "The ngrok agent gave no answer within 5 s and was stopped"),
    ],
)
def test_a_broken_agent_fails_in_bounded_time_with_one_sentence(agent, mode, expected):
    log = agent(mode)
    started = time.monotonic()
    with pytest.raises(TunnelUnavailable) as failed:
        open_tunnel(free_port(), SETTINGS)
    took = time.monotonic() - started
    message = str(failed.value)
    assert took < BOUND, f"{mode} took {took:.1f} s"
    assert message.startswith(expected) and one_sentence(message)
    assert len(starts(log)) == 1 and agents(log) == [] and tunnels() == {}


def test_no_token_fails_at_once_and_starts_nothing(agent):
    log = agent("ok")
    started = time.monotonic()
    with pytest.raises(TunnelUnavailable, match="^No NGROK_AUTHTOKEN: copy .env.example"):
        open_tunnel(free_port(), Settings())
    assert time.monotonic() - started < 0.5 and starts(log) == []


def test_no_binary_and_no_network_fails_fast_in_one_sentence(tmp_path, monkeypatch, capfd):
    """The download of the agent goes to a closed loopback port instead of ngrok's CDN."""
    missing = tmp_path / "bin" / "ngrok"
    monkeypatch.setattr(conf.get_default(), "ngrok_path", str(missing))
    monkeypatch.setattr(conf.get_default(), "config_path", str(tmp_path / "ngrok.yml"))
    platform = f"{installer.get_system()}_{installer.get_arch()}"
    monkeypatch.setitem(
        installer.PLATFORMS, platform, f"http://127.0.0.1:{free_port()}/ngrok-v3-stable.tgz"
    )
    started = time.monotonic()
    with pytest.raises(TunnelUnavailable) as failed:
        open_tunnel(free_port(), SETTINGS)
    assert time.monotonic() - started < BOUND
    assert str(failed.value).startswith("Could not download the ngrok agent (no internet?)")
    assert one_sentence(str(failed.value)) and not missing.exists()
    assert "Downloading" not in capfd.readouterr().out  # only the kit's sentence is shown


def test_the_token_is_never_logged_even_when_ngrok_echoes_it(agent, caplog, capsys):
    """The stand-in's refusal repeats the token, as ngrok's authentication error does."""
    agent("exit")
    caplog.set_level("DEBUG")
    with pytest.raises(TunnelUnavailable) as failed:
        open_tunnel(free_port(), SETTINGS)
    assert "Your authtoken: ••••" in caplog.text  # ngrok's line was logged, masked
    captured = capsys.readouterr()
    for text in (caplog.text, str(failed.value), captured.out, captured.err, repr(SETTINGS)):
        assert NGROK_TOKEN not in text


def test_the_agent_is_stopped_when_python_exits(agent):
    log = agent("ok")
    script = f"""
from pyngrok import conf
from smskit.settings import Settings
from smskit.tunnel import open_tunnel
conf.get_default().ngrok_path = {conf.get_default().ngrok_path!r}
conf.get_default().config_path = {conf.get_default().config_path!r}
print(open_tunnel({free_port()}, Settings(ngrok_authtoken={NGROK_TOKEN!r})).public_url)
"""
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert done.stdout.startswith("https://"), done.stderr
    assert NGROK_TOKEN not in done.stdout + done.stderr
    pids = {call["pid"] for call in starts(log)}
    assert len(pids) == 1 and not any(psutil.pid_exists(pid) for pid in pids)


LIVE = load_settings()


@pytest.mark.skipif(
    not LIVE.has_ngrok or not os.environ.get("SMSKIT_LIVE_TESTS"),
    reason="live ngrok test: needs NGROK_AUTHTOKEN in the environment or .env and "
    "SMSKIT_LIVE_TESTS=1",
)
def test_live_tunnel_round_trip():
    """Against the real ngrok agent and cloud: open, reuse and close one tunnel."""
    port = free_port()
    try:
        first = open_tunnel(port, LIVE)
        assert open_tunnel(port, LIVE) == first
    finally:
        close_all()
    assert tunnels() == {}


def settings_from_code(tmp_path, monkeypatch):
    return SETTINGS


def settings_from_dotenv(tmp_path, monkeypatch):
    env_file = tmp_path / ".env"
    env_file.write_text(f"NGROK_AUTHTOKEN={NGROK_TOKEN}\n")
    return load_settings({}, env_file)


def settings_from_exported_variable(tmp_path, monkeypatch):
    """ngrok's own documented way; pyngrok's PyngrokConfig falls back to it."""
    monkeypatch.setenv("NGROK_AUTHTOKEN", NGROK_TOKEN)
    monkeypatch.delenv("SMSKIT_OFFLINE", raising=False)  # the suite's guard against real .env
    return load_settings(env_file=tmp_path / "no.env")


@pytest.mark.parametrize(
    "given", [settings_from_code, settings_from_dotenv, settings_from_exported_variable]
)
def test_the_token_is_on_no_command_line_only_in_the_agents_environment(
    agent, tmp_path, monkeypatch, given
):
    log = agent("ok")
    port = free_port()
    settings = given(tmp_path, monkeypatch)
    before = os.environ.get("NGROK_AUTHTOKEN")
    open_tunnel(port, settings)
    arguments = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout
    assert NGROK_TOKEN not in arguments
    [start] = starts(log)  # the stand-in records the argv it was started with
    assert start["authtoken"] is True and start["on_command_line"] is False  # it got the token
    assert os.environ.get("NGROK_AUTHTOKEN") == before  # not left in the kernel's environment
    close_tunnel(port)
