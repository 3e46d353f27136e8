"""Build the browser edition: JupyterLite with the Pyodide kernel, every file served by the site.

Nothing comes from a CDN, at build time or in the browser: Pyodide's core comes from the npm
package `pyodide`, every Python package is a pinned wheel from PyPI (lite/wheels.txt), and the
kernel finds them all in the site's own Pyodide lock file. The finished site is a static folder.

>>> site = build()          # build/lite/site; again with the same inputs: at once
"""

from __future__ import annotations

import gzip
import hashlib
import json
import logging
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from email.parser import Parser
from importlib.metadata import version
from pathlib import Path

import brotli
from filelock import FileLock, Timeout
from jupyterlite_pyodide_kernel.constants import PYODIDE_VERSION
from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from .serve import MANIFEST

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parent.parent
HERE = ROOT / "lite"
OUT = ROOT / "build" / "lite"  # build/ is ignored by git: the site in site/, downloads in cache/
STAMP = ".inputs-sha256"  # in the site: the inputs_digest() it was built from
LOCK = ".build.lock"  # in out: held while one process checks the stamp and builds
LOCK_TIMEOUT = 1800.0  # seconds to wait for another build of the same folder (a cold one: minutes)
LESSONS = ROOT / "notebooks"

# The Pyodide distribution's Python and platform, for the packages' environment markers.
BROWSER_MARKERS = {
    **default_environment(),
    "python_version": "3.14",
    "python_full_version": "3.14.2",
    "sys_platform": "emscripten",
    "platform_system": "Emscripten",
    "platform_machine": "wasm32",
    "os_name": "posix",
    "implementation_name": "cpython",
    "platform_python_implementation": "CPython",
}
# Dependencies the site does not ship: desktop only, or brought by the Pyodide kernel itself.
NOT_SHIPPED = {
    *("pyngrok", "psutil", "jupyterlab", "voila", "segno", "filelock"),  # needs a desktop
    *("redis", "gunicorn"),  # lesson 05 only, a desktop lesson
    *("ipykernel", "widgetsnbextension", "jupyterlab-widgets"),  # the kernel's own
}
# Files already compressed (a variant would save little); any other of at least SMALLEST bytes
# gets .gz and .br variants when they are at most SMALLER of it (the zips are stored uncompressed
# for this: see stored). Brotli 9: within 5 % of 11 at a twentieth of its time (1.4 s on
# Pyodide's wasm).
NOT_COMPRESSED = {".png", ".woff", ".woff2", ".gz", ".br"}
GZIP_LEVEL, BROTLI_QUALITY, SMALLER, SMALLEST = 9, 9, 0.9, 1024
RECIPE = ".precompressed"  # in each build: how its variants were made (see precompress)
# Lessons 00-03 never import these: twilio requires them for its async client alone; left out,
# the kernel starts without loading 9 wheels (0.5 MB) and their imports.
NEVER_IMPORTED = {
    *("aiohttp", "aiohttp-retry", "aiohappyeyeballs", "aiosignal", "attrs"),
    *("frozenlist", "multidict", "propcache", "yarl"),
}
# The parts of the npm package a browser needs (no source maps, type stubs or demo pages).
PYODIDE_FILES = ["pyodide.mjs", "pyodide.asm.mjs", "pyodide.asm.wasm", "python_stdlib.zip"]


# Beside the two folders in the file browser, the first thing a learner sees there.
WHICH_FOLDER = """# Your lessons are in `learner/`

Open `learner/00_start_here.ipynb` and work there: those lessons leave the exercises for you.

`notebooks/` is the instructor's finished edition, with every answer filled in: open it only to
compare once you have tried.
"""


class BuildError(RuntimeError):
    """The site could not be built; the message says what to do."""


def inputs_digest() -> str:
    """A hash of everything the site is built from: rebuild when, and only when, it changes."""
    digest = hashlib.sha256()
    versions = f"{PYODIDE_VERSION} {version('jupyterlite-core')} {sys.version_info[:2]}"
    digest.update(versions.encode())
    sources = [*HERE.glob("*.txt"), *HERE.glob("*.json"), *HERE.glob("*.py")]
    sources += [ROOT / "pyproject.toml", *(ROOT / "smskit").rglob("*.py")]
    named = {path.relative_to(ROOT).as_posix(): path for path in sources}
    # The lessons by their place in the site, wherever they are read from: a copy of them (a
    # test's, in LESSONS elsewhere) gives the same site, so the same digest.
    named |= {f"notebooks/{path.name}": path for path in LESSONS.glob("*.ipynb")}
    for name in sorted(named):
        digest.update(name.encode())
        digest.update(named[name].read_bytes())
    return digest.hexdigest()


def run(step: str, *command: str | Path, **kwargs) -> None:
    """Run a build step; raise BuildError with its output when it fails."""
    try:
        done = subprocess.run(list(map(str, command)), capture_output=True, text=True, **kwargs)
    except FileNotFoundError:
        raise BuildError(f"{step}: {command[0]} is missing; install it and build again.") from None
    if done.returncode != 0:
        raise BuildError(f"{step} failed:\n{done.stderr.strip() or done.stdout.strip()}")


def pip(step: str, *args: str | Path, env: dict | None = None) -> None:
    """Run this Python's pip quietly."""
    quiet = ["--quiet", "--disable-pip-version-check"]
    run(step, sys.executable, "-m", "pip", *args, *quiet, env=env)


def pinned(name: str) -> list[str]:
    """The requirements listed in lite/<name>, without comments."""
    lines = (HERE / name).read_text().splitlines()
    return [line.split("#")[0].strip() for line in lines if line.split("#")[0].strip()]


def cached_wheel(folder: Path, requirement: str) -> Path | None:
    """The wheel of a pinned requirement ("name==version") if folder has it."""
    parsed = Requirement(requirement)
    exact = next(iter(parsed.specifier)).version
    prefix = f"{canonicalize_name(parsed.name).replace('-', '_')}-{exact}-"
    found = (path for path in folder.glob("*.whl") if path.name.lower().startswith(prefix))
    return next(found, None)


def fetch_wheels(folder: Path) -> list[Path]:
    """The pinned pure wheels, downloaded or built from sdists when not cached in folder yet."""
    folder.mkdir(parents=True, exist_ok=True)
    wheels, sdists = pinned("wheels.txt"), pinned("sdists.txt")
    missing = [wanted for wanted in wheels if cached_wheel(folder, wanted) is None]
    if missing:
        pure = ["--only-binary=:all:", "--platform=any", "--python-version=3.14", "--abi=none"]
        pip("Downloading wheels", "download", "--no-deps", *pure, "--implementation=py",
            "-d", folder, *missing)  # fmt: skip
    for wanted in sdists:
        if cached_wheel(folder, wanted) is None:
            # A compiler that always fails: the sdist's setup.py then builds its pure fallback.
            no_speedups = {**os.environ, "CC": "false", "CXX": "false"}
            pip(f"Building {wanted}", "wheel", "--no-deps", "--no-binary=:all:", "-w", folder,
                wanted, env=no_speedups)  # fmt: skip
    shipped = [cached_wheel(folder, wanted) for wanted in wheels + sdists]
    binary = [path.name for path in shipped if path is None or not path.name.endswith("any.whl")]
    if binary:
        raise BuildError(f"Pyodide cannot load these wheels (not pure Python): {binary}.")
    return shipped


def build_smskit_wheel(folder: Path) -> Path:
    """smskit itself, as a wheel built from this checkout into folder, a new one of this build's
    (not the cache of downloads, which a test's build shares with build/lite's)."""
    pip("Building smskit's wheel", "wheel", "--no-deps", "-w", folder, ROOT)
    return next(folder.glob("smskit-*.whl"))


def fetch_pyodide(folder: Path) -> Path:
    """Pyodide's core from the npm package of the version the kernel expects (cached)."""
    unpacked = folder / f"pyodide-{PYODIDE_VERSION}"
    if not (unpacked / "package" / "pyodide-lock.json").exists():
        folder.mkdir(parents=True, exist_ok=True)
        step = "Fetching Pyodide from npm"
        run(step, "npm", "pack", "--silent", f"pyodide@{PYODIDE_VERSION}", cwd=folder)
        with tarfile.open(folder / f"pyodide-{PYODIDE_VERSION}.tgz") as archive:
            archive.extractall(unpacked, filter="data")
    return unpacked / "package"


def wheel_metadata(wheel: Path) -> tuple[str, str, list[str], list[str]]:
    """A wheel's name, version, requirements and top-level import names."""
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        info = next(name for name in names if name.endswith(".dist-info/METADATA"))
        metadata = Parser().parsestr(archive.read(info).decode())
    tops = {name.split("/")[0] for name in names if not name.split("/")[0].endswith(".data")}
    imports = sorted(
        top.removesuffix(".py")
        for top in tops
        if not top.endswith(".dist-info") and (top.endswith(".py") or "." not in top)
    )
    return metadata["Name"], metadata["Version"], metadata.get_all("Requires-Dist") or [], imports


def browser_needs(requirements: list[str]) -> list[str]:
    """The requirements that apply in the browser (no extras), as canonical names."""
    environment = {**BROWSER_MARKERS, "extra": ""}
    needs = []
    for line in requirements:
        requirement = Requirement(line)
        if requirement.marker is None or requirement.marker.evaluate(environment):
            needs.append(canonicalize_name(requirement.name))
    return needs


def lock_file(core_lock: dict, wheels: list[Path]) -> dict:
    """Pyodide's lock with exactly the site's wheels (it would fetch the others from nowhere)."""
    packages = {}
    for wheel in wheels:
        name, version, requirements, imports = wheel_metadata(wheel)
        packages[canonicalize_name(name)] = {
            "name": canonicalize_name(name),
            "version": version,
            "file_name": wheel.name,
            "install_dir": "site",
            "sha256": hashlib.sha256(wheel.read_bytes()).hexdigest(),
            "package_type": "package",
            "imports": imports,
            "depends": browser_needs(requirements),
            "unvendored_tests": False,
        }
    for package in packages.values():
        missing = set(package["depends"]) - packages.keys() - NOT_SHIPPED - NEVER_IMPORTED
        if missing:
            raise BuildError(f"{package['name']} needs {sorted(missing)}: pin them in wheels.txt.")
        package["depends"] = [name for name in package["depends"] if name in packages]
    return {"info": core_lock["info"], "packages": packages}


def stored(archive: Path, copy: Path) -> None:
    """Copy a zip archive (a wheel, the stdlib) with its members stored rather than deflated.

    Brotli then compresses across members, as deflate per member cannot: twilio's wheel is
    2.5 MB deflated and 0.7 MB stored then brotli'd on the wire (22.7 MB on disk)."""
    with zipfile.ZipFile(archive) as source, zipfile.ZipFile(copy, "w", zipfile.ZIP_STORED) as out:
        for member in source.infolist():
            data = source.read(member)
            member.compress_type = zipfile.ZIP_STORED
            out.writestr(member, data)


def stage(folder: Path, pyodide: Path, shipped: list[Path]) -> None:
    """The lite directory: config, Pyodide with the site's lock and wheels, the notebooks."""
    shutil.rmtree(folder, ignore_errors=True)
    static = folder / "static" / "pyodide"
    static.mkdir(parents=True)
    for name in PYODIDE_FILES:
        copy = stored if name.endswith(".zip") else shutil.copy2
        copy(pyodide / name, static / name)
    for wheel in shipped:
        stored(wheel, static / wheel.name)
    core_lock = json.loads((pyodide / "pyodide-lock.json").read_text())
    lock = lock_file(core_lock, [static / wheel.name for wheel in shipped])
    (static / "pyodide-lock.json").write_text(json.dumps(lock))
    for name in ("jupyter-lite.json", "overrides.json"):
        shutil.copy2(HERE / name, folder / name)
    notebooks = folder / "files" / "notebooks"
    notebooks.mkdir(parents=True)
    for lesson in sorted(LESSONS.glob("*.ipynb")):
        shutil.copy2(lesson, notebooks / lesson.name)
    (folder / "files" / "README.md").write_text(WHICH_FOLDER)
    learner = folder / "files" / "learner"
    learner_edition = ["-m", "smskit.learner", "--source", LESSONS, "--out", learner]
    run("Building the learner edition", sys.executable, *learner_edition, cwd=ROOT)
    stamp_versions(folder / "files")


def stamp_versions(folder: Path) -> None:
    """Stamp each notebook under folder with a hash of its cells, in metadata.smskit.version.

    A lesson's first cell compares it with the open notebook's (smskit.lesson_update): a learner
    whose saved copy is older is offered the new version. Outputs are left out of the hash, so
    re-executing a lesson unchanged offers nothing."""
    for path in sorted(folder.rglob("*.ipynb")):
        notebook = json.loads(path.read_text())
        cells = [(cell["cell_type"], "".join(cell["source"])) for cell in notebook["cells"]]
        version = hashlib.sha256(json.dumps(cells).encode()).hexdigest()[:16]
        notebook["metadata"].setdefault("smskit", {})["version"] = version
        path.write_text(json.dumps(notebook, indent=1, ensure_ascii=False) + "\n")


def precompress(site: Path, previous: Path | None = None) -> None:
    """Write .gz and .br beside each file they shrink, and the manifest of every file's hash.

    A file with the same hash in previous (the build before, precompressed with these settings)
    takes its variants there as hard links, since a build is never changed once published: a
    rebuild compresses only what changed (brotli is most of a build's time)."""
    settings = [GZIP_LEVEL, BROTLI_QUALITY, brotli.__version__, SMALLER, SMALLEST]
    recipe = json.dumps([*settings, sorted(NOT_COMPRESSED)])
    before = {}
    if previous is not None and (previous / RECIPE).exists():
        if (previous / RECIPE).read_text() == recipe:
            before = json.loads((previous / MANIFEST).read_text())
    hashes = {}
    for path in sorted(p for p in site.rglob("*") if p.is_file()):
        data = path.read_bytes()
        relative = path.relative_to(site).as_posix()
        hashes[relative] = hashlib.sha256(data).hexdigest()[:20]
        if path.suffix in NOT_COMPRESSED or len(data) < SMALLEST:
            continue
        if before.get(relative) == hashes[relative]:
            for suffix in (".gz", ".br"):
                if relative + suffix in before:
                    linked(previous / (relative + suffix), path.with_name(path.name + suffix))
                    hashes[relative + suffix] = before[relative + suffix]
            continue
        variants = {
            ".gz": gzip.compress(data, GZIP_LEVEL, mtime=0),
            ".br": brotli.compress(data, quality=BROTLI_QUALITY),
        }
        for suffix, packed in variants.items():
            if len(packed) <= SMALLER * len(data):
                path.with_name(path.name + suffix).write_bytes(packed)
                hashes[relative + suffix] = hashlib.sha256(packed).hexdigest()[:20]
    (site / MANIFEST).write_text(json.dumps(hashes))
    (site / RECIPE).write_text(recipe)


def linked(source: Path, copy: Path) -> None:
    """copy as a hard link to source, or a copy where the file system has no hard links."""
    try:
        os.link(source, copy)
    except OSError:
        shutil.copy2(source, copy)


def publish(new: Path, site: Path) -> None:
    """Make site (a symlink) point at new in one step; keep the build before it, drop older ones.

    A server resolving site per request serves the old build until this instant, the new after."""
    builds = new.parent
    if site.is_dir() and not site.is_symlink():  # a site built before builds were swapped in
        site.rename(builds / f"{time.time_ns()}-unlinked")
    previous = site.resolve() if site.is_symlink() else None
    link = site.with_name(f".site-{os.getpid()}")
    link.unlink(missing_ok=True)
    link.symlink_to(new.relative_to(site.parent), target_is_directory=True)
    os.replace(link, site)
    for old in builds.iterdir():
        if old not in (new, previous):
            shutil.rmtree(old, ignore_errors=True)


def build(force: bool = False, out: Path = OUT) -> Path:
    """Build the site into a new folder of out/builds, then point out/site at it in one step.

    Downloads are cached in out/cache; nothing is done when the inputs have not changed. One
    process at a time checks and builds a given out: it holds out/.build.lock (filelock's, a
    cross-process lock) throughout, so a second one (another terminal, another test worker) waits,
    then finds the site up to date, or raises BuildError after LOCK_TIMEOUT seconds."""
    with one_build_at_a_time(out, out / "site"):
        return build_unlocked(force, out)


@contextmanager
def one_build_at_a_time(out: Path, site: Path) -> Iterator[None]:
    """Hold out's build lock (the site's and the course website's builds use it alike)."""
    out.mkdir(parents=True, exist_ok=True)
    lock = FileLock(out / LOCK)
    try:
        lock.acquire(timeout=0)
    except Timeout:
        log.info("Another build of %s is running: waiting for it to finish ...", site)
        try:
            lock.acquire(timeout=LOCK_TIMEOUT)
        except Timeout:
            raise BuildError(
                f"Another build of {site} has held {out / LOCK} for {LOCK_TIMEOUT:g} s: "
                "let it finish (or stop it), then build again."
            ) from None
    try:
        yield
    finally:
        lock.release()


def build_unlocked(force: bool, out: Path) -> Path:
    """build(), by a caller that holds out's lock."""
    site, digest = out / "site", inputs_digest()
    stamp = site / STAMP
    if not force and stamp.exists() and stamp.read_text() == digest:
        log.info("The site in %s is up to date", site)
        return site
    pinned_wheels = fetch_wheels(out / "cache" / "wheels")
    pyodide = fetch_pyodide(out / "cache")
    with tempfile.TemporaryDirectory(dir=out) as scratch:
        shipped = [*pinned_wheels, build_smskit_wheel(Path(scratch) / "smskit")]
        lite_dir = Path(scratch) / "lite"
        stage(lite_dir, pyodide, shipped)
        new = out / "builds" / f"{time.time_ns()}"
        new.parent.mkdir(parents=True, exist_ok=True)
        jupyter = Path(sys.executable).with_name("jupyter")
        run(
            "jupyter lite build", jupyter, "lite", "build",
            "--lite-dir", lite_dir, "--output-dir", new, "--contents", lite_dir / "files",
            "--apps", "lab", "--apps", "notebook",
            "--no-sourcemaps", "--no-unused-shared-packages", cwd=lite_dir,
        )  # fmt: skip
    (new / STAMP).write_text(digest)
    precompress(new, previous=site.resolve() if site.is_dir() else None)
    publish(new, site)
    return site
