"""Build the course website from the notebooks, offline, and serve it (python3 kit.py site).

Sphinx with myst-nb renders each lesson with its committed outputs (nothing is executed), the
book theme gives the pages, Mermaid comes from its npm package and the browser edition from
lite's own build, copied into the site's lite/ folder so its run buttons stay on the same origin.
Generated here, from one source each: the home page's lesson table and every lesson's header
(from the notebooks), the workshop guide (from the README), the fidelity table (docs/) and each
lesson's instructor notes (its minutes, and the wrong answers its checks name, read from
tests/mistakes.py). The build is skipped when none of its inputs changed.
"""

from __future__ import annotations

import ast
import hashlib
import logging
import re
import shutil
import sys
import tarfile
from importlib.metadata import version
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script: lite and smskit come from this checkout

import nbformat  # noqa: E402

from lite.build import build as build_lite  # noqa: E402
from lite.build import one_build_at_a_time, run  # noqa: E402
from lite.command import build_and_serve  # noqa: E402
from smskit.lessons import CATALOGUE, catalogue  # noqa: E402

log = logging.getLogger(__name__)

HERE = ROOT / "site"
OUT = ROOT / "build" / "site"  # ignored by git: the pages in html/, Sphinx's sources in src/
STAMP = ".inputs-sha256"
MERMAID = "11.12.1"  # the version sphinxcontrib-mermaid is written for
README = ROOT / "README.md"
MISTAKES = ROOT / "tests" / "mistakes.py"
FIDELITY = ROOT / "docs" / "fidelity.md"
FIGURES = sorted((ROOT / "docs").glob("*.png"))
QUICKSTART = ROOT / "quickstart"  # its README, and the files it and lesson 05 link to
LESSONS = [ROOT / "notebooks" / lesson.file for lesson in catalogue()]  # the lesson catalogue's
IN_THE_BROWSER = {lesson.number for lesson in catalogue() if lesson.in_browser}
# The README's sections the workshop guide is made of, in order.
WORKSHOP_SECTIONS = ["Running a workshop", "The browser edition (nothing to install)"]
TIME = re.compile(r"\*\*Time to learn:\*\* about (\d+) minutes(?:, and (\d+) more)?")


def lesson_header(path: Path) -> dict:
    """A lesson's number, title, objectives (its first cell) and minutes, read from the notebook."""
    notebook = nbformat.read(path, as_version=4)
    first = notebook.cells[0].source
    title = re.search(r"^# (\d\d) · (.+)$", first, re.M)
    said = (cell.source for cell in notebook.cells if cell.cell_type == "markdown")
    minutes = next(filter(None, map(TIME.search, said)), None)
    goals = re.findall(r"^\d+\. (.+(?:\n   .+)*)", first, re.M)
    return {
        "number": title[1],
        "title": title[2],
        "stem": path.stem,
        "minutes": int(minutes[1]) + int(minutes[2] or 0) if minutes else None,
        "goals": [" ".join(goal.split()) for goal in goals],
    }


def named_mistakes() -> dict[str, list[tuple[str, str]]]:
    """Per lesson, (mistake, words the check says) from the checks' test, read without running it.

    The test's data (MISTAKES) is built with helper calls, so it is read from the syntax tree:
    each Mistake's first and third arguments are plain strings.
    """
    tree = ast.parse(MISTAKES.read_text())
    table = next(
        node.value
        for node in tree.body
        if isinstance(node, ast.Assign | ast.AnnAssign)
        and getattr(node.targets[0] if isinstance(node, ast.Assign) else node.target, "id", "")
        == "MISTAKES"
    )
    found = {}
    for lesson, cells in zip(table.keys, table.values, strict=True):
        found[lesson.value] = [
            (call.args[0].value, call.args[2].value)
            for exercise in cells.values
            for call in exercise.elts
        ]
    return found


def readme_section(title: str) -> str:
    """One '## title' section of the README, as it is (a section of a page)."""
    text = README.read_text()
    start = text.index(f"## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end > 0 else None].strip() + "\n"


def inputs_digest(lite_stamp: str) -> str:
    """A hash of everything the site is built from, the browser edition's stamp included."""
    digest = hashlib.sha256(lite_stamp.encode())
    for package in ("sphinx", "myst-nb", "sphinx-book-theme", "sphinxcontrib-mermaid"):
        digest.update(f"{package} {version(package)}".encode())
    shipped = [path for path in QUICKSTART.rglob("*") if path.is_file()]
    sources = [
        *HERE.rglob("*.*"),
        *LESSONS,
        CATALOGUE,
        README,
        MISTAKES,
        FIDELITY,
        *FIGURES,
        *shipped,
    ]
    for path in sorted(set(sources)):
        if not {"__pycache__", "instance"} & set(path.parts):
            digest.update(path.relative_to(ROOT).as_posix().encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def fetch_mermaid(cache: Path) -> Path:
    """Mermaid's ES module build from the npm package (cached): the file and its chunks."""
    unpacked = cache / f"mermaid-{MERMAID}"
    if not (unpacked / "package" / "dist" / "mermaid.esm.min.mjs").exists():
        cache.mkdir(parents=True, exist_ok=True)
        run("Fetching Mermaid from npm", "npm", "pack", "--silent", f"mermaid@{MERMAID}", cwd=cache)
        with tarfile.open(cache / f"mermaid-{MERMAID}.tgz") as archive:
            archive.extractall(unpacked, filter="data")
    return unpacked / "package" / "dist"


def run_box(header: dict) -> str:
    """The box under a lesson's title: run it in the browser, or why it needs the desktop."""
    if header["number"] in IN_THE_BROWSER:
        target = f"../lite/lab/index.html?path=learner/{header['stem']}.ipynb"
        return (
            ":::{admonition} Run this lesson in your browser\n:class: tip\n\n"
            f'<a class="run-button" href="{target}">Run {header["number"]} in the browser '
            "edition</a>: the same lesson, with the exercises for you to fill in, running "
            "in this page's browser. Nothing to install; the first start takes about a "
            "minute.\n:::\n"
        )
    return (
        ":::{admonition} This lesson needs the desktop edition\n:class: note\n\n"
        "It starts servers and processes a browser cannot run: follow the "
        "[setup page](../setup.md) to run it on your computer.\n:::\n"
    )


def escaped(text: str) -> str:
    """Text for a Markdown table's cell: its bars escaped."""
    return text.replace("|", "\\|")


def instructor_page(header: dict, mistakes: list[tuple[str, str]]) -> str:
    """An instructor's notes for one lesson: its timing and where learners get stuck."""
    lines = [
        f"# Instructor notes: {header['number']} · {header['title']}\n",
        f"Lesson page: [{header['number']} · {header['title']}]"
        f"(../lessons/{header['stem']}.ipynb)\n",
        "## Timing\n",
        f"About **{header['minutes']} minutes**, by the rule lesson 00 states (reading at about "
        "100 words a minute, half a minute per code cell, 8 minutes per exercise).\n",
        "What learners will have done by the end:\n",
        *[f"- {goal}" for goal in header["goals"]],
        "",
        "## Where learners get stuck\n",
    ]
    if mistakes:
        lines += [
            "The wrong answers learners most often write, and the words the check answers with "
            "(the kit's tests make sure each check catches them):\n",
            "| the mistake | what the check says |",
            "|---|---|",
            *[f"| {what} | {escaped(said)} |" for what, said in mistakes],
        ]
    else:
        lines.append("This lesson has no graded exercise: walk the room during the setup cells.")
    return "\n".join(lines) + "\n"


def home_page(headers: list[dict]) -> str:
    """The home page: the site's introduction, then every lesson with its minutes."""
    rows = [
        f"| [{h['number']} · {h['title']}](lessons/{h['stem']}.ipynb) | {h['minutes']} | "
        f"{'browser or desktop' if h['number'] in IN_THE_BROWSER else 'desktop'} | "
        f"[notes](instructors/{h['stem']}.md) |"
        for h in headers
    ]
    total = sum(h["minutes"] or 0 for h in headers)
    table = "\n".join(
        ["| lesson | minutes | runs on | for instructors |", "|---|---|---|---|", *rows]
    )
    intro = (HERE / "pages" / "index.md").read_text()
    return intro.replace("{{ lessons }}", f"{table}\n\nIn all, about {total} minutes.")


def stage(src: Path, mermaid: Path) -> None:
    """Sphinx's source folder: settings, pages, lessons, instructor notes, static files."""
    shutil.rmtree(src, ignore_errors=True)
    (src / "lessons").mkdir(parents=True)
    (src / "instructors").mkdir()
    shutil.copytree(HERE / "static", src / "_static")
    served = src / "_static" / "mermaid"
    shutil.copytree(mermaid / "chunks" / "mermaid.esm.min", served / "chunks" / "mermaid.esm.min")
    shutil.copy2(mermaid / "mermaid.esm.min.mjs", served / "mermaid.esm.min.mjs")
    shutil.copy2(HERE / "conf.py", src / "conf.py")
    for page in ("setup.md",):
        shutil.copy2(HERE / "pages" / page, src / page)
    shutil.copy2(FIDELITY, src / "fidelity.md")
    for figure in FIGURES:  # the README's screenshots, which the workshop guide shows
        (src / figure.relative_to(ROOT)).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(figure, src / figure.relative_to(ROOT))
    ignore = shutil.ignore_patterns("instance", "__pycache__")  # what running it leaves behind
    shutil.copytree(QUICKSTART, src / "quickstart", ignore=ignore)  # lesson 05 links into it
    guide = (HERE / "pages" / "workshop.md").read_text()
    sections = "\n".join(readme_section(title) for title in WORKSHOP_SECTIONS)
    (src / "workshop.md").write_text(guide.replace("{{ readme }}", sections))
    headers, mistakes = [lesson_header(path) for path in LESSONS], named_mistakes()
    for path, header in zip(LESSONS, headers, strict=True):
        notebook = nbformat.read(path, as_version=4)
        box = nbformat.v4.new_markdown_cell(run_box(header), id="site-run")
        notebook.cells.insert(1, box)
        nbformat.write(notebook, src / "lessons" / path.name)
        notes = instructor_page(header, mistakes.get(path.stem, []))
        (src / "instructors" / f"{path.stem}.md").write_text(notes)
    (src / "index.md").write_text(home_page(headers))


def build(force: bool = False, out: Path = OUT) -> Path:
    """Build the site into out/html (the browser edition in out/html/lite); skipped when current.

    One build at a time into out: a second one (another terminal, another test worker) waits,
    then finds the site current."""
    lite = build_lite()
    with one_build_at_a_time(out, out / "html"):
        return build_unlocked(lite, force, out)


def build_unlocked(lite: Path, force: bool, out: Path) -> Path:
    html, digest = out / "html", inputs_digest((lite / ".inputs-sha256").read_text())
    if not force and (html / STAMP).exists() and (html / STAMP).read_text() == digest:
        log.info("The site in %s is up to date", html)
        return html
    src, mermaid = out / "src", fetch_mermaid(out / "cache")
    stage(src, mermaid)
    shutil.rmtree(html, ignore_errors=True)
    run("sphinx-build", sys.executable, "-m", "sphinx", "-b", "html", "-q", "-W", "--keep-going",
        "-d", out / "doctrees", src, html)  # fmt: skip
    shutil.copytree(lite, html / "lite")
    (html / ".nojekyll").write_text("")  # GitHub Pages: serve _static/ as it is
    (html / STAMP).write_text(digest)
    return html


def announce(server, _host: str) -> None:
    host, port = server.server_address[:2]
    print(f"Open http://{host}:{port}/index.html", flush=True)


def main(argv: list[str] | None = None) -> int:
    return build_and_serve(
        argv, prog="python3 kit.py site", what="the course website", build=build, port=8001,
        announce=announce,
    )  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
