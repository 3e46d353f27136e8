"""Run the benchmarks, write bench/RESULTS.md, and print a one-line summary last.

    .venv/bin/python -m bench.run            # everything, about half an hour on 2 cores
    .venv/bin/python -m bench.run --only 1 3 # some parts; prints, writes only with --output

1 handler cost in-process, 2 HTTP throughput (gunicorn + wrk), 3 the local Twilio through the
in-kernel server, 4 the live panel with 10,000 conversations, 5 the lessons under nbval,
6 the panel's memory for 100,000 refused requests, 7 the room with 500 phones in Chromium,
8 a fresh clone's `kit.py lab` until JupyterLab answers, with uv and with pip,
9 attacks on loopback (the quickstart and the in-kernel server, before issue 10 and now),
10 the browser edition (site size, build, kernel start and Run All in Chromium),
11 the browser edition served to 100 learners at once (the previous server and the new),
12 the full test run (`kit.py test`, once; minutes).
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
import time
import traceback
from datetime import UTC, datetime
from pathlib import Path

if __package__ in (None, ""):  # run as a file: python bench/run.py
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import ROOT, machine  # noqa: E402

log = logging.getLogger("bench.run")

PARTS = {
    1: ("handler", "bench.handler_cost"),
    2: ("throughput", "bench.throughput"),
    3: ("local_twilio", "bench.local_twilio"),
    4: ("panel", "bench.panel_latency"),
    5: ("lessons", "bench.lessons"),
    6: ("refusals", "bench.refusals"),
    7: ("room", "bench.room_latency"),
    8: ("setup", "bench.install_time"),
    9: ("attacks", "bench.attacks_round_two"),  # both rounds
    10: ("lite", "bench.lite"),
    11: ("lite_room", "bench.lite_room"),
    12: ("test_run", "bench.test_run"),
}
RESULTS = ROOT / "bench" / "RESULTS.md"


def arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n")[0])
    parser.add_argument("--only", type=int, nargs="+", choices=sorted(PARTS), help="parts to run")
    parser.add_argument("--output", type=Path, help=f"results file (default {RESULTS} when all)")
    return parser.parse_args(argv)


def run_part(number: int, learner_environment: dict[str, str]):
    """Run one benchmark; returns its result object."""
    module = importlib.import_module(PARTS[number][1])
    if number == 5:  # the notebooks run in the environment the learner has, not the bench's
        return module.run(environment=learner_environment)
    return module.run()


def main(argv: list[str] | None = None) -> int:
    options = arguments(argv)
    parts = options.only or sorted(PARTS)
    output = options.output or (RESULTS if not options.only else None)
    learner_environment = dict(os.environ)
    # Importing the quickstart without a key would keep a generated one in instance/.
    os.environ.setdefault("FLASK_SECRET_KEY", "bench key, 32 characters or more as required")
    from bench.report import SECTIONS, Verdict

    started, when = time.monotonic(), datetime.now(UTC)
    facts = machine()
    sections: list[str] = []
    verdicts: list[Verdict] = []
    failures: list[str] = []
    for number in parts:
        name = PARTS[number][0]
        print(f"[{time.monotonic() - started:5.0f} s] part {number}: {name} ...", flush=True)
        try:
            lines, verdict = SECTIONS[name](run_part(number, learner_environment))
        except Exception as problem:
            failures.append(f"part {number} ({name}): {problem}")
            lines = [f"## {number}. {name}", "", "Failed to run:", "", "```"]
            lines += [traceback.format_exc().rstrip(), "```"]
            verdict = Verdict(name, "failed to run", "", False)
        sections += [*lines, ""]
        verdicts.append(verdict)
    elapsed = time.monotonic() - started
    document = results_document(facts, when, elapsed, verdicts, sections)
    if output:
        output.write_text(document)
        print(f"wrote {output.relative_to(ROOT) if output.is_relative_to(ROOT) else output}")
    else:
        print(document)
    for failure in failures:
        print(f"FAILED {failure}")
    where = f" -> {output.name}" if output else ""
    summary = " | ".join(verdict.short() for verdict in verdicts)
    print(f"bench in {elapsed:.0f} s: {summary}{where}")
    return 1 if failures else 0


def results_document(facts, when, elapsed, verdicts, sections) -> str:
    summary_rows = [f"| {v.part} | {v.figure} | {v.target} | {v.cell()} |" for v in verdicts]
    machine_rows = [f"| {key} | {value} |" for key, value in facts.items()]
    return "\n".join(
        [
            "# Benchmark results",
            "",
            f"Written by `python -m bench.run` on {when:%Y-%m-%d %H:%M} UTC in {elapsed:.0f} s. "
            "The machine was shared with other work while it ran, so every comparison was "
            "measured side by side in this one run: repeats interleaved (the order rotating), "
            "each figure the median with the min–max of its repeats, ratios taken per repeat.",
            "",
            "| machine | |",
            "|---|---|",
            *machine_rows,
            "",
            "## Summary",
            "",
            "| part | measured (median) | target | |",
            "|---|---|---|---|",
            *summary_rows,
            "",
            *sections,
        ]
    )


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING)
    sys.exit(main())
