"""The browser edition: serve() in-process, pyngrok left unimported, and lessons 00-03 in Chromium.

The browser test builds the JupyterLite site (cached in build/lite/ by a hash of its inputs, so a
second run starts at once), serves it on loopback and opens each lesson in Debian's Chromium,
started so that no host but 127.0.0.1 resolves. It runs every cell and compares the lessons' key
outputs with the desktop edition's committed ones. Skips, saying why, without chromium or npm.
"""

from __future__ import annotations

import configparser
import json
import re
import shutil
import socket
import subprocess
import sys
import threading
import zipfile
from pathlib import Path

import pytest
import requests
from filelock import FileLock
from flask import Flask, make_response, request, session

from lite.build import (
    LOCK,
    OUT,
    STAMP,
    BuildError,
    browser_needs,
    cached_wheel,
    inputs_digest,
    lock_file,
    precompress,
    stamp_versions,
    stored,
)
from lite.serve import MANIFEST, site_server, site_url
from smskit import LocalTwilio, edition, lesson_update, serve, stop_all
from smskit.inprocess import InProcessServer, uninstall_adapter
from smskit.lessons import in_edition
from smskit.wire import exchange_lines

ROOT = Path(__file__).resolve().parent.parent
BROWSER = in_edition("browser")
LESSONS = [lesson.notebook for lesson in BROWSER]
# The outputs each lesson teaches with (the catalogue's browser_key_cells: the cookie headers in
# 01, the decoded session in 02, the counts in 03) must read the same as on the desktop.
KEY_CELLS = {lesson.notebook: lesson.browser_key_cells for lesson in BROWSER}


@pytest.fixture
def in_process(monkeypatch):
    """serve() as the browser edition has it, with requests' own adapter put back after."""
    monkeypatch.setattr(edition, "EDITION", "browser")
    yield serve
    stop_all()
    uninstall_adapter()


def visits_app() -> Flask:
    app = Flask(__name__)
    app.secret_key = "test key"

    @app.get("/visit")
    def visit():
        visits = int(request.cookies.get("visits", "0")) + 1
        response = make_response(f"Visit number {visits}.")
        response.set_cookie("visits", str(visits))
        return response

    @app.post("/sms")
    def sms():
        session["counter"] = session.get("counter", 0) + 1
        return f"<Response><Message>{session['counter']}</Message></Response>", {
            "Content-Type": "text/xml"
        }

    return app


def test_requests_reach_an_in_process_server_as_over_http(in_process):
    served = in_process(visits_app(), name="Cookies 1")
    assert served.url == "http://cookies-1.lite"
    browser = requests.Session()
    answers = [browser.get(served.url + "/visit").text for _ in range(3)]
    assert answers == ["Visit number 1.", "Visit number 2.", "Visit number 3."]
    response = requests.get(served.url + "/visit", headers={"Cookie": "visits=41"})
    assert response.raw.headers.getlist("Set-Cookie") == ["visits=42; Path=/"]
    assert response.headers["Date"].endswith(" GMT")  # as werkzeug's server adds it
    assert exchange_lines(response)[:4] == [
        "> GET /visit HTTP/1.1",
        "> Host: cookies-1.lite",
        "> Cookie: visits=41",
        "",
    ]
    assert "< HTTP/1.0 200 OK" in exchange_lines(response)


def test_a_replaced_server_keeps_its_events_and_a_stopped_one_says_what_to_do(in_process):
    first = in_process(visits_app(), name="sms")
    second = in_process(visits_app(), name="sms")
    assert second.events is first.events and not first.running
    second.stop()
    with pytest.raises(requests.ConnectionError, match="run the cell that calls serve"):
        requests.get(second.url + "/visit")
    with pytest.raises(requests.ConnectionError, match="Nothing is served"):
        requests.get("http://elsewhere.lite/")


def test_local_twilio_texts_an_in_process_url_and_keeps_its_cookies(in_process):
    served = in_process(visits_app(), name="sms")
    twilio = LocalTwilio(served.url + "/sms")
    assert [twilio.text("+14158675309", "+15005550006", "hi").reply for _ in range(3)] == [
        "1",
        "2",
        "3",
    ]
    served.stop()
    assert twilio.text("+14158675309", "+15005550006", "hi").error.code == 11200


def test_serve_hands_out_an_in_process_server_on_emscripten(in_process):
    served = in_process(visits_app(), name="sessions")
    assert isinstance(served, InProcessServer)
    assert requests.get(served.url + "/visit").text == "Visit number 1."


def test_a_cell_that_needs_a_thread_says_so_in_one_sentence(monkeypatch, capsys):
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    monkeypatch.setattr(edition, "IN_BROWSER", True)
    monkeypatch.setattr("IPython.get_ipython", lambda: shell)
    edition.explain_missing_threads()
    try:
        quiet = shell.run_cell('raise RuntimeError("can\'t start new thread")')
        assert edition.NO_THREADS in capsys.readouterr().out
        loud = shell.run_cell("raise RuntimeError('something else')")
        assert "something else" in capsys.readouterr().out  # a real error keeps its traceback
    finally:
        shell.set_custom_exc((), None)
    assert isinstance(quiet.error_in_exec, RuntimeError) and loud.error_in_exec is not None


@pytest.mark.integration  # starts a process
def test_the_lessons_imports_leave_pyngrok_unimported():
    lessons_imports = (
        "import smskit, smskit.checks, smskit.settings, smskit.simulator, smskit.twiml, "
        "smskit.wire, smskit.live, smskit.panel; import sys; print('pyngrok' in sys.modules)"
    )
    done = subprocess.run(
        [sys.executable, "-c", lessons_imports], capture_output=True, text=True, cwd=ROOT
    )
    assert done.stdout.strip() == "False", done.stderr


def wheel(folder: Path, name: str, version: str, *requires: str) -> Path:
    """A tiny pure wheel with these requirements."""
    path = folder / f"{name}-{version}-py3-none-any.whl"
    needs = "".join(f"Requires-Dist: {requirement}\n" for requirement in requires)
    metadata = f"Name: {name}\nVersion: {version}\n{needs}"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(f"{name}/__init__.py", "")
        archive.writestr(f"{name}-{version}.dist-info/METADATA", metadata)
    return path


def test_the_sites_lock_holds_its_wheels_with_the_needs_that_apply_in_a_browser(tmp_path):
    core = {"info": {"python": "3.14.2"}, "packages": {"numpy": {}}}
    shipped = [
        wheel(tmp_path, "kit", "1.0", "dep>=1", "pexpect; sys_platform != 'emscripten'"),
        wheel(tmp_path, "dep", "2.0", "pytest; extra == 'test'", "pyngrok"),
    ]
    lock = lock_file(core, shipped)
    assert sorted(lock["packages"]) == ["dep", "kit"]  # Pyodide's own packages are not shipped
    assert lock["packages"]["kit"]["depends"] == ["dep"]
    assert lock["packages"]["dep"]["depends"] == []  # pyngrok: desktop only
    assert lock["packages"]["kit"]["imports"] == ["kit"]
    with pytest.raises(BuildError, match=r"needs \['missing'\]"):
        lock_file(core, [wheel(tmp_path, "other", "1.0", "missing")])
    assert browser_needs(["jedi>=0.18", "psutil; sys_platform != 'emscripten'"]) == ["jedi"]


def test_cached_wheels_are_found_by_pinned_name_and_version(tmp_path):
    found = wheel(tmp_path, "prompt_toolkit", "3.0.53")
    assert cached_wheel(tmp_path, "prompt-toolkit==3.0.53") == found
    assert cached_wheel(tmp_path, "prompt-toolkit==3.0.52") is None
    assert inputs_digest() == inputs_digest()


def test_the_lessons_copied_elsewhere_give_the_same_digest_and_an_edited_one_another(
    tmp_path, monkeypatch
):
    import lite.build

    ours = inputs_digest()
    lessons = tmp_path / "notebooks"
    shutil.copytree(ROOT / "notebooks", lessons)
    monkeypatch.setattr(lite.build, "LESSONS", lessons)
    assert inputs_digest() == ours  # the same site: a build of the copy finds build/lite current
    with (lessons / "01_http_cookies.ipynb").open("a") as lesson:
        lesson.write("\n")
    assert inputs_digest() != ours


def test_a_build_waits_for_another_build_of_its_folder_then_finds_it_up_to_date(
    tmp_path, monkeypatch
):
    import lite.build

    def build_again(folder):
        raise AssertionError("built again")

    monkeypatch.setattr(lite.build, "fetch_wheels", build_again)  # the first step of a build
    site, outcome = tmp_path / "site", {}

    def second_build():  # another terminal's, or another test worker's
        try:
            outcome["site"] = lite.build.build(out=tmp_path)
        except Exception as problem:
            outcome["error"] = problem

    first = FileLock(tmp_path / LOCK)
    first.acquire()
    waiting = threading.Thread(target=second_build)
    waiting.start()
    waiting.join(timeout=0.5)
    assert waiting.is_alive()  # it waits for the lock (or it would have built, and failed) ...
    site.mkdir()
    (site / STAMP).write_text(inputs_digest())  # ... while the first build finishes the site
    first.release()
    waiting.join()
    assert outcome == {"site": site}
    monkeypatch.setattr(lite.build, "LOCK_TIMEOUT", 0.2)
    with FileLock(tmp_path / LOCK), pytest.raises(BuildError) as stuck:
        lite.build.build(out=tmp_path)  # up to date, but a build holds the lock: it must wait
    assert str(stuck.value) == (
        f"Another build of {site} has held {tmp_path / LOCK} for 0.2 s: "
        "let it finish (or stop it), then build again."
    )


@pytest.mark.integration  # starts a server
def test_the_site_server_gives_pyodides_files_the_types_browsers_insist_on(tmp_path, monkeypatch):
    # Python reads file types from the system, and some systems (Windows' registry) say
    # text/plain for JavaScript; a module worker then refuses to start.
    monkeypatch.setattr("mimetypes.guess_type", lambda *args, **kwargs: ("text/plain", None))
    for name in ("pyodide.mjs", "pyodide.asm.wasm", "index.html"):
        (tmp_path / name).write_bytes(b"x")
    served = site_server(tmp_path)
    threading.Thread(target=served.serve_forever, daemon=True).start()
    try:
        origin = site_url(served).split("/lab/")[0]
        types = {
            name: requests.get(f"{origin}/{name}", timeout=5).headers["Content-Type"]
            for name in ("pyodide.mjs", "pyodide.asm.wasm")
        }
    finally:
        served.shutdown()
        served.server_close()
    assert types == {"pyodide.mjs": "text/javascript", "pyodide.asm.wasm": "application/wasm"}


# --- the lessons in a real browser --------------------------------------------------------------


def sanitized(text: str) -> str:
    """text with notebooks/sanitize.cfg's replacements applied, as nbval compares it."""
    rules = configparser.ConfigParser(interpolation=None)
    rules.read(ROOT / "notebooks" / "sanitize.cfg")
    for section in rules.sections():
        text = re.sub(rules[section]["regex"], rules[section]["replace"], text)
    return text


def output_text(cell: dict) -> str:
    """A code cell's outputs as text; an exchange without its Host line (a .lite host by design)."""
    parts = []
    for output in cell.get("outputs", []):
        text = output.get("text") or output.get("data", {}).get("text/plain", "")
        parts.append("".join(text) if isinstance(text, list) else text)
    lines = "".join(parts).splitlines()
    return sanitized("\n".join(line for line in lines if not line.startswith("> Host: ")))


def problems(notebook: dict) -> list[str]:
    """Every error or stderr output, as text."""
    found = []
    for cell in notebook["cells"]:
        for output in cell.get("outputs", []):
            if output["output_type"] == "error" or output.get("name") == "stderr":
                found.append(f"{cell['id']}: {output.get('evalue') or output.get('text')}")
    return found


@pytest.fixture(scope="module")
def site():
    """The built site (built only when its inputs changed since the last run)."""
    if shutil.which("npm") is None:
        pytest.skip("npm is missing (apt-get install npm): the site's Pyodide comes from npm")
    from lite.build import build

    return build()


@pytest.mark.browser
@pytest.mark.slow
def test_lessons_00_to_03_run_in_chromium_like_on_the_desktop(site):
    assert (site / "files" / "learner" / "03_sms_conversations.ipynb").exists()  # both editions
    drive = pytest.importorskip("tests.drive", reason="the playwright package is missing")
    if drive.CHROMIUM is None:
        pytest.skip("no chromium on PATH (apt-get install chromium)")
    runs = {}
    with drive.site_in_chromium(site) as (origin, browser):
        for lesson in LESSONS:
            runs[lesson] = drive.run_lesson(origin, browser, f"notebooks/{lesson}.ipynb")
        learner = drive.run_lesson(origin, browser, "learner/00_start_here.ipynb")
    for lesson, run in runs.items():
        print(f"\n{lesson}: kernel ready {run.kernel_ready:.1f} s, Run All {run.run_all:.1f} s")
        assert problems(run.notebook) == [], lesson
        assert run.outside == [], f"{lesson} made requests outside {origin}"
    setup = {cell["id"]: output_text(cell) for cell in runs["00_start_here"].notebook["cells"]}
    assert setup["c004"].startswith("✓ browser edition")
    for lesson, cell_ids in KEY_CELLS.items():
        desktop = json_cells(ROOT / "notebooks" / f"{lesson}.ipynb")
        browser_cells = {cell["id"]: cell for cell in runs[lesson].notebook["cells"]}
        for cell_id in cell_ids:
            assert output_text(browser_cells[cell_id]) == output_text(desktop[cell_id]), cell_id
    race = {cell["id"]: output_text(cell) for cell in runs["02_sessions"].notebook["cells"]}
    assert race["c040"] == race["c042"] == edition.NO_THREADS
    # The learner edition runs too, up to its first exercise, whose check says what is missing.
    assert problems(learner.notebook) == [
        "c015: first_sms is still the placeholder `...`: give it your answer."
    ]


def json_cells(path: Path) -> dict[str, dict]:
    """A committed notebook's cells, by id."""
    return {cell["id"]: cell for cell in json.loads(path.read_text())["cells"]}


# --- serving a room ------------------------------------------------------------------------------


@pytest.fixture
def serving():
    """Serve a folder on a free loopback port; yields its origin's maker, stops every server."""
    servers = []

    def start(folder: Path) -> str:
        served = site_server(folder)
        servers.append(served)
        threading.Thread(target=served.serve_forever, daemon=True).start()
        return site_url(served).split("/lab/")[0]

    yield start
    for served in servers:
        served.shutdown()
        served.server_close()


@pytest.mark.integration  # starts a server
def test_the_server_sends_precompressed_files_to_browsers_that_take_them(tmp_path, serving):
    script = b"console.log('the same line, again and again');\n" * 200
    (tmp_path / "build").mkdir()
    (tmp_path / "build" / "jlab_core.a86436d.js").write_bytes(script)
    (tmp_path / "pyodide.asm.wasm").write_bytes(b"\0asm" + bytes(4000))
    (tmp_path / "tiny.json").write_bytes(b"{}")
    precompress(tmp_path)
    origin = serving(tmp_path)
    chrome = {"Accept-Encoding": "gzip, deflate, br, zstd"}
    hashed = requests.get(f"{origin}/build/jlab_core.a86436d.js", headers=chrome, timeout=5)
    assert hashed.headers["Content-Encoding"] == "br" and hashed.content == script  # decoded
    assert hashed.headers["Vary"] == "Accept-Encoding"
    assert hashed.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    old = requests.get(f"{origin}/pyodide.asm.wasm", headers={"Accept-Encoding": "gzip"}, timeout=5)
    assert old.headers["Content-Encoding"] == "gzip"
    assert old.headers["Content-Type"] == "application/wasm"
    assert old.headers["Cache-Control"] == "no-cache"  # not content-hashed: revalidated
    plain = requests.get(f"{origin}/pyodide.asm.wasm", headers={"Accept-Encoding": "br;q=0"})
    assert "Content-Encoding" not in plain.headers and len(plain.content) == 4004
    again = requests.get(
        f"{origin}/pyodide.asm.wasm",
        headers={"Accept-Encoding": "gzip", "If-None-Match": old.headers["ETag"]},
        timeout=5,
    )
    assert again.status_code == 304 and again.content == b""
    other = requests.get(
        f"{origin}/pyodide.asm.wasm",
        headers={"Accept-Encoding": "identity", "If-None-Match": old.headers["ETag"]},
        timeout=5,
    )
    assert other.status_code == 200  # another coding is another representation
    tiny = requests.get(f"{origin}/tiny.json", headers=chrome, timeout=5)
    assert "Content-Encoding" not in tiny.headers and "Vary" not in tiny.headers
    assert requests.get(f"{origin}/../../etc/passwd", timeout=5).status_code == 404


def test_a_rebuild_compresses_only_the_files_that_changed(tmp_path, monkeypatch):
    import lite.build

    def built(name: str, lesson: str) -> Path:
        folder = tmp_path / name
        (folder / "static").mkdir(parents=True)
        (folder / "static" / "pyodide.asm.js").write_text("the same line, again and again;\n" * 99)
        (folder / "lesson.ipynb").write_text(json.dumps({"source": [lesson] * 300}))
        return folder

    first, second, fresh = built("first", "old"), built("second", "new"), built("fresh", "new")
    precompress(first)
    precompress(second, previous=first)
    precompress(fresh)
    for name in ("static/pyodide.asm.js.br", "static/pyodide.asm.js.gz"):
        assert (second / name).samefile(first / name)  # unchanged: the build before's variant
    for name in ("lesson.ipynb.br", "lesson.ipynb.gz"):
        assert (second / name).read_bytes() == (fresh / name).read_bytes()  # changed: made anew
        assert not (second / name).samefile(first / name)
    manifest = (second / MANIFEST).read_text()
    assert manifest == (fresh / MANIFEST).read_text()  # the same build as one made from nothing
    assert len(json.loads(manifest)) == 6
    monkeypatch.setattr(lite.build, "BROTLI_QUALITY", 5)
    precompress(third := built("third", "old"), previous=first)  # made otherwise: none reused
    assert not (third / "static/pyodide.asm.js.br").samefile(first / "static/pyodide.asm.js.br")


@pytest.mark.integration  # starts a server
def test_a_room_sized_burst_of_connections_is_answered(tmp_path, serving):
    (tmp_path / "index.html").write_text("hello")
    origin = serving(tmp_path)
    host, port = origin.removeprefix("http://").split(":")
    # Open far more connections than Python's default backlog of 5 before sending anything.
    sockets = [socket.create_connection((host, int(port)), timeout=30) for _ in range(300)]
    for sock in sockets:
        sock.sendall(b"GET /index.html HTTP/1.0\r\n\r\n")
    answers = [sock.makefile("rb").read() for sock in sockets]
    for sock in sockets:
        sock.close()
    assert all(
        answer.startswith(b"HTTP/1.0 200") and answer.endswith(b"hello") for answer in answers
    )


@pytest.mark.integration  # starts a server
def test_the_room_is_given_real_addresses_and_a_qr_code_to_the_learner_edition(capsys, serving):
    from lite.__main__ import announce_to_room

    served = site_server(ROOT, host="0.0.0.0")
    try:
        announce_to_room(served)
    finally:
        served.server_close()
    printed = capsys.readouterr().out
    links = re.findall(r"http://\S+", printed)
    assert links and "0.0.0.0" not in printed
    assert all(link.endswith("/lab/index.html?path=learner/00_start_here.ipynb") for link in links)
    assert "▀" in printed or "█" in printed  # the QR code, drawn in the terminal


def test_a_stored_copy_of_a_wheel_holds_the_same_files_uncompressed(tmp_path):
    original = wheel(tmp_path, "kit", "1.0", "dep>=1")
    with zipfile.ZipFile(original, "a", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("kit/big.py", "x = 1\n" * 5000)
    copy = tmp_path / "copy" / original.name
    copy.parent.mkdir()
    stored(original, copy)
    with zipfile.ZipFile(original) as before, zipfile.ZipFile(copy) as after:
        assert after.testzip() is None
        assert [(m.filename, before.read(m)) for m in before.infolist()] == [
            (m.filename, after.read(m)) for m in after.infolist()
        ]
        assert {m.compress_type for m in after.infolist()} == {zipfile.ZIP_STORED}


# --- a lesson rebuilt while a learner has their own copy -----------------------------------------


def test_a_lessons_version_changes_with_its_cells_not_its_outputs(tmp_path):
    lesson = json.loads((ROOT / "notebooks" / "01_http_cookies.ipynb").read_text())
    path = tmp_path / "learner" / "01_http_cookies.ipynb"
    path.parent.mkdir()

    def stamped(notebook: dict) -> str:
        path.write_text(json.dumps(notebook))
        stamp_versions(tmp_path)
        return json.loads(path.read_text())["metadata"]["smskit"]["version"]

    first = stamped(lesson)
    for cell in lesson["cells"]:
        if cell["cell_type"] == "code":
            cell["outputs"], cell["execution_count"] = [], None
    assert stamped(lesson) == first  # re-executed or cleared, the same lesson
    lesson["cells"][1]["source"] = "".join(lesson["cells"][1]["source"]) + " A fix."
    assert stamped(lesson) != first


def test_the_desktop_edition_is_offered_nothing(capsys):
    assert not lesson_update.IN_BROWSER
    lesson_update.offer_newer_version("01_http_cookies.ipynb")
    assert capsys.readouterr() == ("", "")


LESSON_01 = "learner/01_http_cookies.ipynb"
MINE = "learner/01_http_cookies (mine).ipynb"
FIX = "A fix the instructor published mid-workshop."
LEARNERS_EDIT = 'my_note = "my own work"'
EDIT_AND_SAVE = """async (source) => {
    const panel = window.jupyterapp.shell.currentWidget;
    panel.content.model.sharedModel.insertCell(panel.content.model.cells.length,
        {cell_type: "code", source});
    await panel.context.save();
}"""
# Run the lesson's first code cell (the one that checks for a newer version), as a learner does.
RUN_FIRST_CODE_CELL = """async () => {
    const panel = window.jupyterapp.shell.currentWidget;
    panel.content.activeCellIndex = panel.content.widgets.findIndex(
        cell => cell.model.type === "code");
    await window.jupyterapp.commands.execute("notebook:run-cell");
}"""
CHECKED = "() => document.querySelector('[data-smskit-newer]')?.dataset.smskitNewer"
TOOK_IT = """(fix) => {
    const context = window.jupyterapp.shell.currentWidget.context;
    return !context.model.dirty && JSON.stringify(context.model.toJSON()).includes(fix);
}"""
SAVED = """async (path) => (await window.jupyterapp.serviceManager.contents.get(
    path, {content: true})).content"""


def sources(notebook: dict) -> str:
    return "\n".join("".join(cell["source"]) for cell in notebook["cells"])


# Fetched the whole time the instructor's rebuild runs: a page, Pyodide's largest file, a lesson.
FETCHED_MEANWHILE = [
    "/lab/index.html",
    "/static/pyodide/pyodide.asm.wasm",
    "/files/learner/01_http_cookies.ipynb",
]


@pytest.mark.browser
@pytest.mark.slow
def test_a_rebuild_answers_no_404_and_a_learner_who_edited_01_takes_the_new_and_keeps_theirs(
    site, tmp_path, monkeypatch
):
    """A learner edits lesson 01; the instructor fixes it and rebuilds while the site is served.

    A client fetching the site the whole time the rebuild runs is answered 200 every time. The
    learner's reload then opens their copy, the lesson offers the new version, and taking it
    keeps theirs beside it. The site before the fix has the inputs of build/lite's (the site
    fixture's): that build is laid out in tmp_path as build() publishes one (hard links: a
    published build is never changed), and build() finds it up to date, so the only build here
    is the instructor's rebuild."""
    import lite.build

    drive = pytest.importorskip("tests.drive", reason="the playwright package is missing")
    if drive.CHROMIUM is None:
        pytest.skip("no chromium on PATH (apt-get install chromium)")
    lessons = tmp_path / "notebooks"
    shutil.copytree(ROOT / "notebooks", lessons)
    monkeypatch.setattr(lite.build, "LESSONS", lessons)
    out = tmp_path / "lite"
    out.mkdir()
    (out / "cache").symlink_to(OUT / "cache", target_is_directory=True)  # the site's downloads
    before = out / "builds" / site.resolve().name
    shutil.copytree(site.resolve(), before, symlinks=True, copy_function=lite.build.linked)
    (out / "site").symlink_to(before.relative_to(out), target_is_directory=True)
    served = lite.build.build(out=out)
    assert served.resolve() == before  # up to date: not built again
    with drive.site_in_chromium(served) as (origin, browser):
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        said = drive.record(context)  # what the page said, for a message if the kernel never starts
        page = context.new_page()
        page.set_default_timeout(drive.PATIENCE_MS)
        page.goto(f"{origin}/lab/index.html?path={LESSON_01}")
        drive.wait_for_kernel_idle(page, said)
        page.evaluate(RUN_FIRST_CODE_CELL)
        assert page.wait_for_function(CHECKED, polling=250).json_value() == "false"
        page.evaluate(EDIT_AND_SAVE, LEARNERS_EDIT)

        # The instructor fixes lesson 01 and rebuilds while the server keeps serving.
        notebook = json.loads((lessons / "01_http_cookies.ipynb").read_text())
        fix = {"cell_type": "markdown", "id": "fix1", "metadata": {}, "source": [FIX]}
        notebook["cells"].insert(1, fix)
        (lessons / "01_http_cookies.ipynb").write_text(json.dumps(notebook, indent=1))
        statuses: list[int | str] = []
        done = threading.Event()

        def fetch_in_a_loop():
            with requests.Session() as client:
                while not done.is_set():
                    for path in FETCHED_MEANWHILE:
                        try:
                            statuses.append(client.head(origin + path, timeout=30).status_code)
                        except requests.RequestException as problem:
                            statuses.append(f"{path}: {problem}")

        fetcher = threading.Thread(target=fetch_in_a_loop)
        fetcher.start()
        try:
            lite.build.build(out=out)
        finally:
            done.set()
            fetcher.join()
        assert served.resolve() != before  # a new build was swapped in while the client fetched
        assert len(statuses) > 30 and set(statuses) == {200}

        page.reload()
        drive.wait_for_kernel_idle(page, said)
        # JupyterLite opens the learner's saved copy, not the site's new one.
        assert LEARNERS_EDIT in sources(page.evaluate(drive.NOTEBOOK))
        page.evaluate(RUN_FIRST_CODE_CELL)
        assert page.wait_for_function(CHECKED, polling=250).json_value() == "true"
        offer = page.locator(".smskit-take-update")
        line = offer.locator("xpath=..").inner_text()
        assert line.startswith("The site has a newer version of 01_http_cookies.ipynb.")
        offer.click()
        page.wait_for_function(TOOK_IT, arg=FIX, polling=250)
        now, kept = page.evaluate(drive.NOTEBOOK), page.evaluate(SAVED, MINE)
        on_disk = page.evaluate(SAVED, LESSON_01)
    assert FIX in sources(now) and LEARNERS_EDIT not in sources(now)
    assert sources(on_disk) == sources(now)  # saved: a reload opens the new version too
    assert LEARNERS_EDIT in sources(kept) and FIX not in sources(kept)
