"""The lesson catalogue: notebooks/lessons.toml read into Lesson records, in order.

>>> [lesson.notebook for lesson in catalogue() if lesson.in_browser]

Every list of lessons in the kit comes from here (the export's sources, the tests', the
benchmarks'), and 00's route table and the README's are checked against it, so a new lesson
is its notebook and one entry in the file. (A TOML file rather than notebook metadata: one
place to read and review, and tomllib is in the standard library.)
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

CATALOGUE = Path(__file__).resolve().parent.parent / "notebooks" / "lessons.toml"
EDITIONS = ("desktop", "browser")


@dataclass(frozen=True)
class Lesson:
    """One catalogue entry (notebooks/lessons.toml explains each field)."""

    notebook: str
    title: str
    learn: str
    minutes: int
    editions: tuple[str, ...]
    go_live: int = 0
    needs: str = ""
    exports: bool = False
    browser_key_cells: tuple[str, ...] = ()

    @property
    def file(self) -> str:
        return f"{self.notebook}.ipynb"

    @property
    def number(self) -> str:
        """ "03" for 03_sms_conversations."""
        return self.notebook[:2]

    @property
    def in_browser(self) -> bool:
        return "browser" in self.editions


def catalogue(path: Path | None = None) -> list[Lesson]:
    """The lessons in the file's order; a wrong entry is named in one sentence."""
    path = CATALOGUE if path is None else path  # read when called, so a test can point it away
    entries = tomllib.loads(path.read_text(encoding="utf-8")).get("lesson", [])
    lessons = []
    for entry in entries:
        try:
            lesson = Lesson(**{k: tuple(v) if isinstance(v, list) else v for k, v in entry.items()})
        except TypeError as problem:
            name = entry.get("notebook")
            raise ValueError(f"{path.name}: fix the entry {name!r} ({problem}).") from None
        if not set(lesson.editions) <= set(EDITIONS):
            raise ValueError(f"{path.name}: {lesson.notebook}'s editions must be among {EDITIONS}.")
        lessons.append(lesson)
    return lessons


def in_edition(edition: str, path: Path | None = None) -> list[Lesson]:
    """The lessons an edition ("desktop" or "browser") carries."""
    return [lesson for lesson in catalogue(path) if edition in lesson.editions]


def exported(path: Path | None = None) -> list[str]:
    """The notebooks whose "export" cells make the quickstart, in order (smskit.export)."""
    return [lesson.file for lesson in catalogue(path) if lesson.exports]


def route_table(path: Path | None = None) -> str:
    """00's "Your route" table: each lesson linked (00 itself in bold), its minutes, its needs."""
    lines = ["| Notebook | What you learn | Minutes | Needs |", "|---|---|---|---|"]
    for n, lesson in enumerate(catalogue(path)):
        name = f"{lesson.number} {lesson.title}"
        name = f"[{name}]({lesson.file})" if n else f"**{name}**"
        minutes = f"{lesson.minutes}, and {lesson.go_live} to go live" if lesson.go_live else ""
        lines.append(
            f"| {name} | {lesson.learn} | {minutes or lesson.minutes} | {lesson.needs or '—'} |"
        )
    return "\n".join(lines)


def readme_table(path: Path | None = None) -> str:
    """The README's lesson table: notebook, what you learn, minutes, editions."""
    lines = ["| notebook | what you learn | minutes | editions |", "|---|---|---|---|"]
    for lesson in catalogue(path):
        minutes = lesson.minutes + lesson.go_live
        editions = ", ".join(lesson.editions)
        lines.append(f"| `{lesson.notebook}` | {lesson.learn} | {minutes} | {editions} |")
    return "\n".join(lines)
