"""4. The live panel with 10,000 conversations: handled message -> widget state, and its CPU.

Runs inside a real IPython kernel (started with jupyter_client), so every widget update is
serialized and sent as a comm message, as in JupyterLab; the benchmark's client drains them.
The panel first receives 10,000 conversations as events on the server's feed (the events the
server publishes, built directly, to save a minute); then real messages go over HTTP through
serve(quickstart). Latency runs from the event's publication (the request is handled) to the
panel's table widget holding it. "burst": messages back to back; "paced": one every PACE s,
each arm after SETTLE s of quiet.
CPU per message: the panel's render thread (its thread CPU clock) and the whole kernel process
(with the panel, against the same burst to a server without a panel, interleaved).
"""

from __future__ import annotations

import json
import logging
import re
import subprocess
import threading
import time
from dataclasses import dataclass

from .common import ROOT, Spread, interleaved, percentile, ratios

log = logging.getLogger(__name__)

OURS = "+15005550006"
KEY = "bench key, 32 characters or more as the quickstart requires"
PACE = 0.1  # seconds between paced messages
SETTLE = 0.25  # seconds of quiet before each arm (more than the panel's render interval)
RESULT_MARK = "BENCH-PANEL-RESULT "


@dataclass
class PanelResult:
    conversations: int
    p50: dict[str, Spread]  # ms, by pacing
    p99: dict[str, Spread]
    render_cpu: dict[str, Spread]  # ms of the render thread's CPU per message
    process_cpu: dict[str, Spread]  # ms of kernel CPU per message, with and without the panel
    overhead: Spread  # process CPU with the panel / without
    renders_per_message: Spread
    target: float


class Stopwatch:
    """Times each published event until the panel's table shows it."""

    def __init__(self, panel, preloaded: int):
        self.panel, self.preloaded = panel, preloaded
        self.lock = threading.Lock()
        self.published: list[float] = []
        self.shown: dict[int, float] = {}

    def on_event(self, event) -> None:
        with self.lock:
            self.published.append(time.perf_counter())

    def on_table(self, change) -> None:
        now = time.perf_counter()
        match = re.search(r"([\d,]+) messages", self.panel.totals_label.value)
        if not match:
            return
        seen = int(match.group(1).replace(",", "")) - self.preloaded
        with self.lock:
            for index in range(len(self.shown), min(seen, len(self.published))):
                self.shown[index] = now - self.published[index]

    def wait_all(self, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while len(self.shown) < len(self.published):
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"panel benchmark: {len(self.published) - len(self.shown)} messages "
                    f"never reached the table within {timeout:g} s"
                )
            time.sleep(0.002)

    def latencies_since(self, start: int) -> list[float]:
        return [self.shown[i] * 1e3 for i in range(start, len(self.published))]


def render_thread_cpu() -> float:
    """Seconds of CPU the panel's render thread has used."""
    for thread in threading.enumerate():
        if thread.name == "smskit-panel" and thread.is_alive():
            return time.clock_gettime(time.pthread_getcpuclockid(thread.ident))
    raise RuntimeError("panel benchmark: the panel's render thread is not running")


def preload(feed, conversations: int) -> None:
    """Publish one finished request per conversation on the server's event feed."""
    from smskit.events import MessageEvent

    for n in range(conversations):
        sender = f"+1628{n:07d}"
        reply = f"Monkey has messaged {OURS} 1 times"
        feed.publish(MessageEvent(sender, OURS, "hello", {"counter": 1}, (reply,), 200, "/sms"))


def measure(conversations: int = 10_000, rounds: int = 5, burst: int = 200, paced: int = 30):
    """Run the panel benchmark in this process (meant to be a kernel); returns plain data."""
    from quickstart.sms.sms_conversation import name_for, production_app
    from smskit import LocalTwilio, serve
    from smskit.panel import ConversationPanel

    app = production_app({"SECRET_KEY": KEY, "TWILIO_AUTH_TOKEN": None})
    bare_app = production_app({"SECRET_KEY": KEY, "TWILIO_AUTH_TOKEN": None})
    with serve(app, name="bench-panel") as server, serve(bare_app, name="bench-bare") as bare:
        stopwatch = Stopwatch(None, conversations)
        unsubscribe = server.events.subscribe(stopwatch.on_event)  # before the panel's own
        panel = ConversationPanel(server, names=name_for)
        stopwatch.panel = panel
        try:
            preload(server.events, conversations)
            stopwatch.published.clear()
            deadline = time.monotonic() + 30
            while f"{conversations:,} conversations" not in panel.totals_label.value:
                if time.monotonic() > deadline:
                    raise RuntimeError("panel benchmark: the preload never showed")
                time.sleep(0.01)
            panel.table.observe(stopwatch.on_table, names="value")
            phone = LocalTwilio(server.url + "/sms")
            bare_phone = LocalTwilio(bare.url + "/sms")
            senders = [f"+1628{n:07d}" for n in range(burst)]
            samples: dict[str, dict[str, list[float]]] = {
                "burst": {"p50": [], "p99": [], "render": [], "renders": []},
                "paced": {"p50": [], "p99": [], "render": [], "renders": []},
            }

            def with_panel(pacing: str, count: int, pause: float):
                def once() -> float:
                    time.sleep(SETTLE)  # let the previous arm's last render pass
                    start, renders = len(stopwatch.published), panel.renders
                    thread_cpu, cpu = render_thread_cpu(), time.process_time()
                    for sender in senders[:count]:
                        phone.text(sender, OURS, "hello")
                        if pause:
                            time.sleep(pause)
                    stopwatch.wait_all()
                    cpu = time.process_time() - cpu
                    found = stopwatch.latencies_since(start)
                    sample = samples[pacing]
                    sample["p50"].append(percentile(found, 50))
                    sample["p99"].append(percentile(found, 99))
                    sample["render"].append((render_thread_cpu() - thread_cpu) * 1e3 / count)
                    sample["renders"].append((panel.renders - renders) / count)
                    return cpu * 1e3 / count

                return once

            def without_panel() -> float:
                cpu = time.process_time()
                for sender in senders:
                    bare_phone.text(sender, OURS, "hello")
                return (time.process_time() - cpu) * 1e3 / burst

            cpu = interleaved(
                {
                    "burst": with_panel("burst", burst, 0.0),
                    "no panel": without_panel,
                    "paced": with_panel("paced", paced, PACE),
                },
                rounds,
            )
        finally:
            unsubscribe()
            panel.close()
    return {"samples": samples, "cpu": cpu, "conversations": conversations}


def in_kernel(code: str, timeout: float = 240) -> str:
    """Run code in a fresh python3 kernel started in the repository; returns what it printed."""
    from jupyter_client.manager import start_new_kernel

    manager, client = start_new_kernel(
        kernel_name="python3", cwd=str(ROOT), stderr=subprocess.DEVNULL
    )
    try:
        msg_id = client.execute(code)
        printed, deadline = [], time.monotonic() + timeout
        while time.monotonic() < deadline:
            message = client.get_iopub_msg(timeout=deadline - time.monotonic())
            if message["parent_header"].get("msg_id") != msg_id:
                continue
            kind, content = message["msg_type"], message["content"]
            if kind == "stream" and content["name"] == "stdout":
                printed.append(content["text"])
            elif kind == "error":
                raise RuntimeError("panel benchmark failed in the kernel:\n" + content["evalue"])
            elif kind == "status" and content["execution_state"] == "idle":
                return "".join(printed)
        raise RuntimeError(f"panel benchmark: the kernel did not finish within {timeout:g} s")
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)


def run(conversations: int = 10_000, rounds: int = 5, target: float = 100.0) -> PanelResult:
    code = (
        "import json\nfrom bench.panel_latency import measure, RESULT_MARK\n"
        f"print(RESULT_MARK + json.dumps(measure(conversations={conversations}, "
        f"rounds={rounds})))\n"
    )
    printed = in_kernel(code)
    data = json.loads(printed.split(RESULT_MARK, 1)[1])
    samples, cpu = data["samples"], data["cpu"]
    return PanelResult(
        conversations=data["conversations"],
        p50={k: Spread.of(v["p50"]) for k, v in samples.items()},
        p99={k: Spread.of(v["p99"]) for k, v in samples.items()},
        render_cpu={k: Spread.of(v["render"]) for k, v in samples.items()},
        process_cpu={k: Spread.of(v) for k, v in cpu.items() if k != "paced"},
        overhead=Spread.of(ratios(cpu, "burst", "no panel")),
        renders_per_message=Spread.of(samples["burst"]["renders"]),
        target=target,
    )
