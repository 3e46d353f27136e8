"""The render loop: on the desktop a thread renders when poked; in the browser, the poke renders."""

import threading

import pytest

from smskit import throttle
from smskit.throttle import RenderLoop


@pytest.fixture
def renders():
    calls = []
    return calls, lambda: calls.append(threading.current_thread())


def test_in_the_browser_a_poke_renders_at_once_on_the_callers_thread(monkeypatch, renders):
    monkeypatch.setattr(throttle, "IN_BROWSER", True)
    calls, render = renders
    before = threading.active_count()
    loop = RenderLoop(render, interval=60, tick=60, name="browser-loop")
    assert threading.active_count() == before  # no thread: Pyodide would refuse to start one
    loop.poke()
    loop.poke()
    assert calls == [threading.current_thread()] * 2 and loop.alive
    loop.close()
    loop.poke()
    assert len(calls) == 2 and not loop.alive


def test_on_the_desktop_pokes_are_rendered_by_the_loops_own_thread(renders):
    calls, render = renders
    loop = RenderLoop(render, interval=0.01, tick=60, name="desktop-loop")
    rendered = threading.Event()
    loop.render = lambda: (render(), rendered.set())
    loop.poke()
    assert rendered.wait(10)
    assert calls and all(thread.name == "desktop-loop" for thread in calls)
    loop.close()
    assert not loop.alive
