"""Secrets stay out of git, out of notebook outputs, off the panel and out of the logs.

The scanner looks for what real credentials look like: a Twilio auth token (32 hex digits) near
TWILIO_AUTH_TOKEN or auth_token, an account SID (AC + 32 hex) next to a 32-hex token, and an
ngrok authtoken (a digit, 20+ characters, "_", 20+ characters) or a long NGROK_AUTHTOKEN= value.
Obvious placeholders (0123456789abcdef, long runs of one digit) are not credentials. Its own test
plants realistic values made at run time, so nothing real-looking is ever committed.
"""

import ast
import builtins
import io
import json
import logging
import re
import secrets
import subprocess
from contextlib import redirect_stdout
from pathlib import Path

import nbformat
import pytest

from quickstart.sms.sms_conversation import create_app
from smskit import LocalTwilio, serve
from smskit.live import go_live
from smskit.panel import ConversationPanel
from smskit.settings import NAMES
from smskit.widget_host import descendants
from tests.fakes.stand_ins import LIVE_SETTINGS
from tests.figures import record
from tests.support import OUR_NUMBER, ROOT

HEX32 = r"[0-9a-fA-F]{32}"
PATTERNS = {
    "Twilio auth token": re.compile(rf"(?i)auth_?token[^\n]{{0,40}}?\b({HEX32})\b"),
    "account SID with a token": re.compile(
        rf"\bAC{HEX32}\b[\s\S]{{0,300}}?\b({HEX32})\b|\b({HEX32})\b[\s\S]{{0,300}}?\bAC{HEX32}\b"
    ),
    "ngrok authtoken": re.compile(r"\b([0-9][A-Za-z0-9]{20,}_[A-Za-z0-9]{20,})\b"),
    "NGROK_AUTHTOKEN value": re.compile(r"NGROK_AUTHTOKEN\s*[=:]\s*[\"']?([\w-]{20,})"),
}
PLACEHOLDER = re.compile(r"0123456789abcdef|(.)\1{5}|your|here", re.IGNORECASE)
CREDENTIAL_NAME = re.compile(r"(?i)token|secret|password|(?<![a-z])sid\b|_key\b|api_?key")
CREDENTIAL_ATTRIBUTES = {"twilio_auth_token", "ngrok_authtoken", "twilio_account_sid"}


def findings(text: str) -> list[tuple[str, str]]:
    """(kind, value) for everything in text that looks like a real credential."""
    found = []
    for kind, pattern in PATTERNS.items():
        for match in pattern.finditer(text):
            value = next(group for group in match.groups() if group)
            if not PLACEHOLDER.search(value):
                found.append((kind, value[:6] + "…"))  # never print a whole secret
    return found


def tracked_files() -> list[Path]:
    listed = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True
    ).stdout
    return [ROOT / name for name in listed.decode().split("\0") if name]


def text_of(path: Path) -> str | None:
    """A file's text, or None for binary files (and files deleted but not yet committed)."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    return None if b"\0" in data else data.decode("utf-8", errors="replace")


def notebook_outputs(path: Path) -> str:
    """Every output of every cell, and the saved widget state, as plain decoded text."""
    notebook = json.loads(path.read_text())
    parts = [json.dumps(notebook.get("metadata", {}).get("widgets", {}))]
    for cell in notebook["cells"]:
        for output in cell.get("outputs", []):
            parts.append("".join(output.get("text", "")))
            for value in output.get("data", {}).values():
                parts.append(value if isinstance(value, str) else json.dumps(value))
            parts.append("\n".join(output.get("traceback", [])))
    return "\n".join(parts)


def test_the_scanner_finds_realistic_credentials_and_passes_placeholders():
    token, sid = secrets.token_hex(16), "AC" + secrets.token_hex(16)
    ngrok = "2" + secrets.token_hex(13) + "_" + secrets.token_hex(12)
    planted = {
        f"TWILIO_AUTH_TOKEN={token}": "Twilio auth token",
        f'client = Client("{sid}", "{token}")': "account SID with a token",
        f"tok = '{ngrok}'": "ngrok authtoken",
        f"NGROK_AUTHTOKEN={secrets.token_urlsafe(30)}": "NGROK_AUTHTOKEN value",
    }
    for text, kind in planted.items():
        assert kind in {k for k, _ in findings(text)}, f"missed the {kind}"
    # Not credentials; joined at run time so that no line of this file looks like one.
    for fake in (
        "TWILIO_AUTH_TOKEN=",
        "auth_token = '" + "0123456789abcdef" * 2 + "'",
        f"AccountSid=AC{'0' * 32} MessageSid=SM{secrets.token_hex(16)}",
        "NGROK_AUTHTOKEN = " + '"2fakeNgrokToken_0123456789abcdefXYZ"',
        "NGROK_AUTHTOKEN=" + "your_ngrok_authtoken_goes_here",
        'f"NGROK_AUTHTOKEN={secrets.token_urlsafe(30)}"',
    ):
        assert findings(fake) == [], fake


@pytest.mark.integration  # starts a process
def test_no_tracked_file_holds_a_credential():
    files = tracked_files()
    found = {}
    for path in files:
        text = text_of(path)
        if text is not None and (hits := findings(text)):
            found[str(path.relative_to(ROOT))] = hits
    notebooks = [path for path in files if path.suffix == ".ipynb" and path.exists()]
    for path in notebooks:
        if hits := findings(notebook_outputs(path)):
            found[f"{path.relative_to(ROOT)} (outputs)"] = hits
    record("secrets scan tracked files", files=len(files), notebooks=len(notebooks))
    assert not found, f"credentials committed: {found}"


@pytest.mark.integration  # starts a process
def test_no_credential_was_ever_committed():
    """The whole history, since a secret removed later is still in git."""
    history = subprocess.run(
        ["git", "log", "--all", "-p", "--text", "--no-color", "--no-ext-diff"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode("utf-8", errors="replace")
    added = "\n".join(line for line in history.splitlines() if line.startswith("+"))
    commits = history.count("\ncommit ") + history.startswith("commit ")
    record("secrets scan history", commits=commits, added_lines=added.count("\n") + 1)
    assert findings(added) == []


@pytest.mark.parametrize(
    "path", [".env", "notebooks/.env", "quickstart/.env", "instance/secret_key"]
)
@pytest.mark.integration  # starts a process
def test_local_secret_files_are_ignored_by_git(path):
    ignored = subprocess.run(["git", "check-ignore", "-q", path], cwd=ROOT)
    assert ignored.returncode == 0, f"{path} is not ignored by git"
    assert path not in {str(p.relative_to(ROOT)) for p in tracked_files()}


def code_cells() -> list[tuple[str, int, ast.Module]]:
    """(notebook, index, parsed source) of every code cell, IPython magics left out."""
    cells = []
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        notebook = nbformat.read(path, as_version=4)
        for index, cell in enumerate(notebook.cells):
            if cell.cell_type == "code":
                lines = [line for line in cell.source.splitlines() if line.lstrip()[:1] not in "%!"]
                cells.append((path.name, index, ast.parse("\n".join(lines))))
    return cells


def reads_a_credential(node: ast.AST) -> bool:
    """Whether node is os.environ[...], os.environ.get(...), os.getenv(...) of a credential
    name, or a settings attribute holding one."""
    if isinstance(node, ast.Attribute) and node.attr in CREDENTIAL_ATTRIBUTES:
        return True
    key = None
    if isinstance(node, ast.Subscript) and ast.unparse(node.value).endswith("environ"):
        key = node.slice
    if isinstance(node, ast.Call) and ast.unparse(node.func).endswith(("environ.get", "getenv")):
        key = node.args[0] if node.args else None
    return isinstance(key, ast.Constant) and bool(CREDENTIAL_NAME.search(str(key.value)))


def shown(tree: ast.Module) -> list[ast.AST]:
    """What a cell shows: arguments of print/display, f-string parts, and its last expression."""
    parts = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and ast.unparse(node.func) in ("print", "display"):
            parts += node.args
        if isinstance(node, ast.FormattedValue):
            parts.append(node.value)
    if tree.body and isinstance(tree.body[-1], ast.Expr):
        parts.append(tree.body[-1].value)
    return parts


@pytest.mark.parametrize(
    "source,echoes",
    [
        ('print(os.environ["TWILIO_AUTH_TOKEN"])', True),
        ("f\"token: {os.getenv('NGROK_AUTHTOKEN')}\"", True),
        ("settings = load_settings()\nsettings.twilio_auth_token", True),
        ('display(os.environ.get("FLASK_SECRET_KEY"))', True),
        ('token = os.environ.get("TWILIO_AUTH_TOKEN")\nprint("set" if token else "unset")', False),
        ('print(os.environ["HOME"])', False),
    ],
)
def test_the_cell_rule_sees_a_credential_being_shown(source, echoes):
    tree = ast.parse(source)
    found = any(reads_a_credential(node) for part in shown(tree) for node in ast.walk(part))
    assert found == echoes


def test_no_notebook_cell_shows_a_credential():
    cells = code_cells()
    echoes = [
        f"{name} cell {index}: {ast.unparse(part)}"
        for name, index, tree in cells
        for part in shown(tree)
        if any(reads_a_credential(node) for node in ast.walk(part))
    ]
    record("secrets notebook code cells", cells=len(cells))
    assert cells and not echoes, echoes


def standalone(tree: ast.Module) -> bool:
    """Whether a cell needs no name from an earlier cell (so it can run on its own)."""
    defined = set(dir(builtins))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            defined |= {(alias.asname or alias.name).split(".")[0] for alias in node.names}
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            defined.add(node.id)
        elif isinstance(node, ast.FunctionDef | ast.ClassDef):
            defined.add(node.name)
        elif isinstance(node, ast.arg):
            defined.add(node.arg)
    used = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
    return used <= defined


def test_the_setup_check_cells_print_no_credential(monkeypatch, tmp_path):
    """Run every cell that reads the settings on its own, with credentials in the environment."""
    fake = dict(zip(NAMES, LIVE_SETTINGS.values(), strict=True))
    for name, value in fake.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("SMSKIT_OFFLINE")  # read them, as a learner's kernel would
    monkeypatch.chdir(tmp_path)  # no .env of the developer's is read
    ran = []
    for name, index, tree in code_cells():
        if "load_settings" in ast.unparse(tree) and standalone(tree):
            printed = io.StringIO()
            with redirect_stdout(printed):
                exec(compile(tree, f"{name} cell {index}", "exec"), {})
            for secret in (fake["TWILIO_AUTH_TOKEN"], fake["NGROK_AUTHTOKEN"]):
                assert secret not in printed.getvalue(), f"{name} cell {index} printed it"
            assert fake["TWILIO_ACCOUNT_SID"] not in printed.getvalue()
            ran.append(f"{name} cell {index}")
    record("secrets setup-check cells", ran=ran)
    assert ran, "no notebook cell reads the settings on its own (the setup check moved?)"


def test_the_panel_and_every_log_mask_the_credentials(
    monkeypatch, tmp_path, agent, twilio_api, caplog, capfd
):
    """Live credentials in the environment, signatures checked, the tunnel up (stand-ins):
    no widget of the panel, no log line of any logger, nothing printed shows a secret."""
    fake = dict(zip(NAMES, LIVE_SETTINGS.values(), strict=True))
    for name, value in fake.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("SMSKIT_OFFLINE")  # read them, as a learner's kernel would
    monkeypatch.chdir(tmp_path)
    caplog.set_level(logging.DEBUG)
    agent("ok")
    token, key = fake["TWILIO_AUTH_TOKEN"], "flask-key-" + secrets.token_hex(8)
    app = create_app({"SECRET_KEY": key, "TWILIO_AUTH_TOKEN": token})
    with serve(app, name="secrets") as server:
        panel = ConversationPanel(server, auth_token=token, secrets=[key])  # given, not looked up
        try:
            status = go_live(server, settings=LIVE_SETTINGS, http_client=twilio_api.client())
            assert status.live and status.number_points_here, status
            panel.show_live(status)
            assert panel.send("hello").ok
            LocalTwilio(server.url + "/sms", auth_token="forged").text("+1555", OUR_NUMBER, "x")
            panel.add_log_line(f"echo {token} {key}")  # as if a handler had logged them
            panel.render()
            states = [json.dumps(w.get_state(), default=str) for w in descendants(panel.root)]
            shown_text = "\n".join([*states, panel.text(), repr(panel), str(status)])
        finally:
            panel.close()
    captured = capfd.readouterr()
    tokens = [token, fake["NGROK_AUTHTOKEN"], key]
    # The account SID is an identifier in every REST URL (twilio-python logs those); only the
    # places a learner looks at must mask it too.
    for where, text, hidden in [
        ("the panel", shown_text, [*tokens, fake["TWILIO_ACCOUNT_SID"]]),
        ("stdout", captured.out, [*tokens, fake["TWILIO_ACCOUNT_SID"]]),
        ("stderr", captured.err, [*tokens, fake["TWILIO_ACCOUNT_SID"]]),
        ("the logs", caplog.text, tokens),
    ]:
        leaked = [secret[:4] + "…" for secret in hidden if secret in text]
        assert not leaked, f"{where} showed {leaked}"
    record("secrets masked", log_records=len(caplog.records), widgets=len(states))
    assert "echo •••• ••••" in panel.log_view.value  # the check is not vacuous
