"""The quickstart is generated from the notebooks, and stays runnable on its own."""

import ast
import shutil
import subprocess
import sys
import textwrap

import nbformat
import pytest

from smskit import export
from tests.support import PYTHON, QUICKSTART, ROOT


@pytest.mark.integration  # starts a process
def test_the_quickstart_is_in_sync_with_the_notebooks():
    result = subprocess.run(
        [PYTHON, "-m", "smskit.export", "--check"], capture_output=True, text=True, cwd=ROOT
    )
    assert result.returncode == 0, result.stderr


def test_a_hand_edit_of_the_file_is_caught(tmp_path, capsys):
    edited = tmp_path / "sms_conversation.py"
    edited.write_text(QUICKSTART.read_text().replace('"Monkey"', '"Gorilla"'))
    assert export.main(["--check", "--out", str(edited)]) == 1
    assert "run `python -m smskit.export`" in capsys.readouterr().err
    assert '"Gorilla"' in edited.read_text()  # --check never writes


def test_editing_the_notebook_and_exporting_changes_the_quickstart(tmp_path):
    notebooks = tmp_path / "notebooks"
    shutil.copytree(ROOT / "notebooks", notebooks)
    changed = 0
    for path in notebooks.glob("*.ipynb"):
        notebook = nbformat.read(path, as_version=4)
        for cell in notebook.cells:
            if "export" in cell.metadata.get("tags", []) and '"Monkey"' in cell.source:
                cell.source = cell.source.replace('"Monkey"', '"Stranger"')
                changed += 1
        nbformat.write(notebook, path)
    assert changed == 1
    out = tmp_path / "sms_conversation.py"
    assert export.main(["--notebooks", str(notebooks), "--out", str(out)]) == 0
    assert QUICKSTART.read_text().replace('"Monkey"', '"Stranger"') == out.read_text()


def imported_modules(path, module_level_only=False) -> set[str]:
    """The top-level names a file imports (anywhere, or at module level only)."""
    names = set()
    tree = ast.parse(path.read_text())
    for node in tree.body if module_level_only else ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            names.add(node.module.split(".")[0])
    return names


def test_the_quickstart_imports_only_flask_twilio_and_the_standard_library():
    stdlib = set(sys.stdlib_module_names)
    third_party = imported_modules(QUICKSTART, module_level_only=True) - stdlib
    assert third_party <= {"flask", "twilio", "werkzeug"}  # werkzeug comes with flask
    # redis only inside RedisConversations, which runs only when REDIS_URL is set
    assert imported_modules(QUICKSTART) - stdlib - third_party == {"redis"}


# Runs the quickstart with every module blocked except the standard library and the
# distributions flask and twilio need, so an import of smskit (or anything else) fails.
ONLY_FLASK_AND_TWILIO = textwrap.dedent(
    """
    import importlib.machinery, importlib.metadata, re, sys

    def closure(names):
        seen, todo = set(), list(names)
        while todo:
            name = re.split(r"[ ;<>=!~\\[(]", todo.pop())[0].lower().replace("_", "-")
            if name in seen:
                continue
            seen.add(name)
            try:
                todo += [r for r in importlib.metadata.requires(name) or [] if "extra ==" not in r]
            except importlib.metadata.PackageNotFoundError:
                pass
        return seen

    allowed_dists = closure(["flask", "twilio"])
    allowed = set(sys.stdlib_module_names) | {
        module for module, dists in importlib.metadata.packages_distributions().items()
        if all(d.lower().replace("_", "-") in allowed_dists for d in dists)
    }

    class OnlyAllowed:
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] not in allowed and name != "sms_conversation":
                raise ModuleNotFoundError(f"{name} is not installed here")
            return None

    sys.meta_path.insert(0, OnlyAllowed())
    try:
        import smskit
        raise SystemExit("smskit should not be importable")
    except ModuleNotFoundError:
        pass
    from sms_conversation import production_app
    client = production_app({"SECRET_KEY": "k" * 32}).test_client()
    for _ in range(3):
        reply = client.post("/sms", data={"From": "+14158675311", "To": "+15005550006"})
    print(reply.get_data(as_text=True))
    """
)


@pytest.mark.integration  # starts a process
def test_the_quickstart_runs_with_only_flask_and_twilio(quickstart_copy):
    result = subprocess.run(
        [PYTHON, "-c", ONLY_FLASK_AND_TWILIO],
        capture_output=True,
        text=True,
        cwd=quickstart_copy.parent,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "Virgil has messaged +15005550006 3 times" in result.stdout


def test_the_command_explains_itself(capsys):
    with pytest.raises(SystemExit):
        export.main(["--help"])
    assert "--check" in capsys.readouterr().out
