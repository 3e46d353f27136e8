"""The course website: built offline from the notebooks, and every page checked in Chromium.

The site is built by site/build.py (cached in build/site/ by a hash of its inputs, the browser
edition's included), served on loopback and opened in Debian's Chromium, started so that no host
but 127.0.0.1 resolves (tests/drive.py). On every page axe-core (from npm, installed into the
ignored build/axe, never from a CDN) must find no serious or critical WCAG 2.1 A/AA
violation, and no request may leave the origin. Internal links and anchors must resolve; external
ones are listed, not fetched. Lesson 03's run button must reach the kernel and its first output.
Skips, saying why, without chromium or npm.
"""

from __future__ import annotations

import importlib.util
import itertools
import json
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urldefrag, urlsplit

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent


def load_site_build():
    """site/build.py as a module (a folder named site cannot be a package: Python has one)."""
    spec = importlib.util.spec_from_file_location("course_site", ROOT / "site" / "build.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


course_site = load_site_build()


# --- what the pages are made of -----------------------------------------------------------------


def test_each_lessons_header_is_read_from_its_notebook():
    for path in course_site.LESSONS:
        header = course_site.lesson_header(path)
        first = nbformat.read(path, as_version=4).cells[0].source
        assert first.startswith(f"# {header['number']} · {header['title']}\n")
        text = " ".join(c.source for c in nbformat.read(path, as_version=4).cells)
        assert (
            f"**Time to learn:** about {header['minutes']} minutes" in text
            or header["number"] == "04"
        )
        assert len(header["goals"]) >= 3 and all(
            goal in " ".join(first.split()) for goal in header["goals"]
        )


def test_the_instructor_notes_name_every_wrong_answer_the_checks_catch():
    from tests.mistakes import MISTAKES

    named = course_site.named_mistakes()
    for lesson, exercises in MISTAKES.items():
        expected = [(m.what, m.said) for mistakes in exercises.values() for m in mistakes]
        assert named[lesson] == expected
        header = course_site.lesson_header(ROOT / "notebooks" / f"{lesson}.ipynb")
        page = course_site.instructor_page(header, named[lesson])
        assert all(what in page for what, _said in expected)


def test_browser_lessons_get_a_run_button_and_the_others_send_to_setup():
    for path in course_site.LESSONS:
        box = course_site.run_box(course_site.lesson_header(path))
        if path.stem[:2] in {"00", "01", "02", "03"}:
            assert f"../lite/lab/index.html?path=learner/{path.stem}.ipynb" in box
        else:
            assert "desktop edition" in box and "../setup.md" in box


def test_the_workshop_guide_is_the_readmes_own_sections():
    for title in course_site.WORKSHOP_SECTIONS:
        section = course_site.readme_section(title)
        assert section.startswith(f"## {title}\n") and section in (ROOT / "README.md").read_text()


# --- the built site -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def html() -> Path:
    """The built site (rebuilt only when its inputs changed), with axe-core installed beside it."""
    if shutil.which("npm") is None:
        pytest.skip("npm is missing (apt-get install npm): Pyodide and Mermaid come from npm")
    return course_site.build()


def pages(html: Path) -> list[Path]:
    """Every page of the course (the browser edition's own app pages are JupyterLab's)."""
    theirs = {"lite", "_static"}  # JupyterLab's app pages; the theme's template fragments
    return sorted(p for p in html.rglob("*.html") if p.relative_to(html).parts[0] not in theirs)


def with_chromium(module: str):
    """A module that drives Chromium, or a skip saying what is missing."""
    found = pytest.importorskip(module, reason="the playwright package is missing")
    if found.CHROMIUM is None:
        pytest.skip("no chromium on PATH (apt-get install chromium)")
    return found


class Links(HTMLParser):
    """A page's ids, links and the resources it loads."""

    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()
        self.links: list[str] = []
        self.loads: list[str] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        attributes = dict(attrs)
        if attributes.get("id"):
            self.ids.add(attributes["id"])
        if tag == "a" and attributes.get("href"):
            self.links.append(attributes["href"])
        for name in ("src", "href") if tag != "a" else ():
            if attributes.get(name):
                self.loads.append(attributes[name])


def parsed(page: Path) -> Links:
    links = Links()
    links.feed(page.read_text())
    return links


@pytest.mark.integration  # builds the site (Sphinx, npm)
def test_the_site_builds_every_page_and_loads_nothing_from_elsewhere(html):
    names = {page.relative_to(html).as_posix() for page in pages(html)}
    lessons = {f"lessons/{path.stem}.html" for path in course_site.LESSONS}
    notes = {f"instructors/{path.stem}.html" for path in course_site.LESSONS}
    assert {"index.html", "setup.html", "workshop.html", "fidelity.html"} | lessons | notes <= names
    for page in pages(html):
        remote = [url for url in parsed(page).loads if urlsplit(url).netloc]
        assert remote == [], f"{page.name} loads {remote}"
    home = (html / "index.html").read_text()
    for path in course_site.LESSONS:
        assert course_site.lesson_header(path)["title"] in home
    assert (html / "lite" / "lab" / "index.html").exists()


@pytest.mark.integration  # builds the site (Sphinx, npm)
def test_no_internal_link_or_anchor_is_broken(html):
    broken, external = [], set()
    for page in pages(html):
        for link in parsed(page).links:
            if urlsplit(link).scheme in ("http", "https", "mailto"):
                external.add(link)
                continue
            target, anchor = urldefrag(link)
            path = urlsplit(target).path
            resolved = (page.parent / unquote(path)).resolve() if path else page
            if resolved.is_dir():
                resolved = resolved / "index.html"
            if not resolved.exists():
                broken.append(f"{page.relative_to(html)}: {link}")
            elif anchor and resolved.suffix == ".html" and anchor not in parsed(resolved).ids:
                broken.append(f"{page.relative_to(html)}: {link} (no such anchor)")
    print("\nExternal links (listed, not fetched):", *sorted(external), sep="\n  ")
    assert broken == []


MERMAID_DRAWN = """() => [...document.querySelectorAll('pre.mermaid')]
    .every(diagram => diagram.querySelector('svg'))"""


@pytest.mark.slow
def test_every_page_passes_axe_in_chromium_without_leaving_the_origin(html):
    drive = with_chromium("tests.drive")
    grave, outside = {}, []
    with drive.site_in_chromium(html) as (origin, browser):
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.on("request", lambda r: None if r.url.startswith(origin) else outside.append(r.url))
        for path in pages(html):
            name = path.relative_to(html).as_posix()
            page.goto(f"{origin}/{name}", wait_until="networkidle")
            page.wait_for_function(MERMAID_DRAWN, timeout=30_000)
            found = drive.grave_violations(page)
            if found:
                grave[name] = found
        page.close()
    assert outside == []
    assert grave == {}, json.dumps(grave, indent=1)


# From the top, run cells until the first one that shows a learner an output; return its outputs.
FIRST_OUTPUT = """async () => {
    // the lesson-update check's script shows nothing unless the site has a newer version
    const readable = o => o.output_type !== 'display_data' || Object.entries(o.data)
        .some(([type, value]) => type !== 'application/javascript' && String(value).trim());
    const app = window.jupyterapp, panel = app.shell.currentWidget;
    await app.commands.execute('notebook:clear-all-cell-outputs');
    panel.content.activeCellIndex = 0;
    for (const cell of panel.content.widgets) {
        await app.commands.execute('notebook:run-cell-and-select-next');
        const ran = cell.model.toJSON();
        if (ran.cell_type === 'code' && ran.outputs.some(readable)) return ran.outputs;
    }
    return null;
}"""


@pytest.mark.slow
def test_lesson_03s_run_button_opens_it_in_the_browser_edition_and_runs_a_cell(html):
    drive = with_chromium("tests.drive")
    with drive.site_in_chromium(html) as (origin, browser):
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.set_default_timeout(drive.PATIENCE_MS)
        outside = []
        page.on("request", lambda r: None if r.url.startswith(origin) else outside.append(r.url))
        page.route("**/jupyter-lite.json", drive.expose_app)
        page.goto(f"{origin}/lessons/03_sms_conversations.html")
        page.get_by_role("link", name="Run 03 in the browser edition").click()
        page.wait_for_url(f"{origin}/lite/lab/index.html?path=learner/03_sms_conversations.ipynb")
        page.wait_for_function(drive.KERNEL_IDLE, polling=250)
        outputs = page.evaluate(FIRST_OUTPUT)
        page.close()
    assert outputs and [o for o in outputs if o["output_type"] == "error"] == []
    assert "Delivery +14158675309 -> +15005550006" in json.dumps(outputs)  # as on the desktop
    assert outside == []


def test_every_mermaid_diagram_and_heading_in_the_notebooks_is_accessible():
    """Each diagram has a text alternative (accTitle, accDescr); headings never skip a level."""
    for path in course_site.LESSONS:
        markdown = [
            c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "markdown"
        ]
        for diagram in re.findall(r"```mermaid\n(.*?)```", "\n".join(markdown), re.S):
            assert "accTitle:" in diagram and "accDescr:" in diagram, (path.name, diagram[:80])
        levels = [
            len(h)
            for s in markdown
            for h in re.findall(r"^(#+) ", re.sub(r"```.*?```", "", s, flags=re.S), re.M)
        ]
        assert levels[0] == 1 and all(b <= a + 1 for a, b in itertools.pairwise(levels)), path.name
