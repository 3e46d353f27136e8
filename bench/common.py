"""What every benchmark shares: interleaved repeats, medians with their range, the machine."""

from __future__ import annotations

import cProfile
import importlib.metadata
import logging
import os
import platform
import pstats
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = (
    "flask",
    "werkzeug",
    "itsdangerous",
    "twilio",
    "gunicorn",
    "ipywidgets",
    "ipykernel",
    "jupyter_client",
    "nbval",
    "pytest",
)


@dataclass(frozen=True)
class Spread:
    """A median with the lowest and highest of the values it came from."""

    median: float
    low: float
    high: float
    n: int

    @classmethod
    def of(cls, values: list[float]) -> Spread:
        ordered = sorted(values)
        return cls(percentile(ordered, 50), ordered[0], ordered[-1], len(ordered))

    def scaled(self, factor: float) -> Spread:
        return Spread(self.median * factor, self.low * factor, self.high * factor, self.n)

    def text(self, unit: str = "", digits: int = 1) -> str:
        """'12.3 µs (11.9–13.0)'"""
        f = f"{{:,.{digits}f}}"
        return f"{f.format(self.median)}{unit} ({f.format(self.low)}–{f.format(self.high)})"


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0-100) of values, interpolating between the two nearest ranks."""
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    below = int(position)
    above = min(below + 1, len(ordered) - 1)
    return ordered[below] + (ordered[above] - ordered[below]) * (position - below)


def interleaved(arms: dict[str, Callable[[], float]], repeats: int) -> dict[str, list[float]]:
    """Run each arm once per repeat, rotating the order, so drift on the machine hits all alike."""
    names = list(arms)
    results: dict[str, list[float]] = {name: [] for name in names}
    for repeat in range(repeats):
        turn = repeat % len(names)
        for name in names[turn:] + names[:turn]:
            results[name].append(arms[name]())
    return results


def ratios(values: dict[str, list[float]], numerator: str, denominator: str) -> list[float]:
    """Per-repeat ratios of two interleaved arms (each pair measured back to back)."""
    return [a / b for a, b in zip(values[numerator], values[denominator], strict=True)]


def where_time_goes(work: Callable[[], object], top: int = 10) -> str:
    """A profile summary of work() (see summarize)."""
    profiler = cProfile.Profile()
    profiler.enable()
    work()
    profiler.disable()
    return summarize(pstats.Stats(profiler), top)


def summarize(stats: pstats.Stats, top: int = 10) -> str:
    """Own time by package, then the costliest functions below the outer frames (>90%).

    Time spent waiting in select() (an idle server) is left out.
    """
    entries = {key: entry for key, entry in stats.stats.items() if "select" not in key[2]}
    total = sum(entry[2] for entry in entries.values()) or 1.0
    by_package: dict[str, float] = {}
    for (filename, _line, _name), entry in entries.items():
        package = package_of(filename)
        by_package[package] = by_package.get(package, 0.0) + entry[2]
    shares = sorted(by_package.items(), key=lambda item: -item[1])[:top]
    lines = ["own time by package: " + ", ".join(f"{n} {100 * t / total:.0f}%" for n, t in shares)]
    lines.append("cumulative time of the costliest steps (outer frames above 90% left out):")
    shown = 0
    for (filename, line, name), entry in sorted(entries.items(), key=lambda item: -item[1][3]):
        outer = entry[3] > 0.9 * total
        if outer or name.startswith("<") or package_of(filename) in ("bench", "cProfile"):
            continue
        lines.append(f"  {100 * entry[3] / total:5.1f}%  {name}  ({short_path(filename)}:{line})")
        shown += 1
        if shown == top:
            break
    return "\n".join(lines)


def package_of(filename: str) -> str:
    """The top-level package a source file belongs to ('flask', 'werkzeug', 'stdlib', ...)."""
    if filename.startswith("~") or filename.startswith("<"):
        return "builtins"
    path = Path(filename)
    for marker in ("site-packages", "dist-packages"):
        if marker in path.parts:
            return path.parts[path.parts.index(marker) + 1].removesuffix(".py")
    try:
        return path.resolve().relative_to(ROOT).parts[0].removesuffix(".py")
    except ValueError:
        return "stdlib"


def short_path(filename: str) -> str:
    """A source path from its package on, for a compact profile listing."""
    parts = Path(filename).parts
    for marker in ("site-packages", "dist-packages", "lib"):
        if marker in parts:
            return "/".join(parts[parts.index(marker) + 1 :])
    try:
        return str(Path(filename).resolve().relative_to(ROOT))
    except ValueError:
        return filename


def machine() -> dict[str, str]:
    """The CPU, core count, load, Python and package versions this run had."""
    model = platform.processor() or "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    versions = []
    for package in PACKAGES:
        try:
            versions.append(f"{package} {importlib.metadata.version(package)}")
        except importlib.metadata.PackageNotFoundError:
            versions.append(f"{package} (not installed)")
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    wrk = shutil.which("wrk")
    if wrk:
        probe = subprocess.run([wrk, "--version"], capture_output=True, text=True)
        versions.append((probe.stdout or probe.stderr).split(" Copyright")[0].strip())
    return {
        "CPU": f"{model}, {os.cpu_count()} cores",
        "OS": f"{platform.system()} {platform.release()}",
        "Python": sys.version.split()[0],
        "Packages": ", ".join(versions),
        "Load average at start (1/5/15 min)": load,
    }
