"""Build the learner edition: every notebook with its solutions blanked and its checks kept.

    python -m smskit.learner                      # notebooks/ -> learner/, anywhere in the kit
    python -m smskit.learner --force              # start over: overwrite learner/'s notebooks
    python -m smskit.learner --source notebooks --out learner

A code cell tagged `solution` keeps its imports, the signatures (and docstrings) of the
functions it defines and the names it assigns; bodies and values become a placeholder.
The `check` cell after it stays as it is, so it fails in plain words until the learner
writes an answer. Outputs are cleared: they would give the solutions away. A notebook already
in the learner folder is kept (it may hold the learner's work) unless `force` is set.
"""

from __future__ import annotations

import argparse
import ast
import logging
import sys
from pathlib import Path

import nbformat

log = logging.getLogger(__name__)

SOLUTION_TAG = "solution"
CHECK_TAG = "check"
HEADER = (
    "# ✏️ Exercise: your code goes here (the task is in the text above).\n"
    "# Then run the check cell below: it says in plain words what is still missing.\n"
)
YOUR_CODE = "...  # ✏️ your code here"
YOUR_ANSWER = "...  # ✏️ your answer here"
YOUR_PROSE = "✏️ *Your answer here.*"


class NotBlankable(ValueError):
    """A solution cell the builder cannot turn into a placeholder."""


def blank_definition(node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) -> str:
    """A def or class with its docstring kept and its body replaced by a placeholder."""
    docstring = node.body[0] if ast.get_docstring(node, clean=False) is not None else None
    node.body = [docstring] if docstring else []
    node.body.append(ast.Expr(ast.Constant(...)))
    *head, last = ast.unparse(node).splitlines()
    return "\n".join([*head, last.replace("...", YOUR_CODE)])


def blank_code(source: str) -> str:
    """The placeholder for a solution code cell: imports, signatures and names kept."""
    try:
        tree = ast.parse(source)
    except SyntaxError as problem:
        raise NotBlankable(f"a solution cell must be plain Python ({problem.msg}).") from None
    kept: list[str] = []
    for node in tree.body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            imports = kept.pop() + "\n" if kept and kept[-1].startswith(("import", "from")) else ""
            kept.append(imports + ast.unparse(node))
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            kept.append(blank_definition(node))
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if not all(isinstance(t, ast.Name) for t in targets):
                raise NotBlankable(
                    "a solution cell may assign plain names only (x = ..., not a[0])."
                )
            kept += [f"{t.id} = {YOUR_ANSWER}" for t in targets]
    return HEADER + "\n\n".join(kept)


def learner_edition(notebook: nbformat.NotebookNode) -> int:
    """Blank the solutions of a notebook in place and clear its outputs; returns how many."""
    blanked = 0
    for number, cell in enumerate(notebook.cells, 1):
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
            cell.metadata.pop("execution", None)
        if SOLUTION_TAG not in cell.metadata.get("tags", []):
            continue
        try:
            cell.source = blank_code(cell.source) if cell.cell_type == "code" else YOUR_PROSE
        except NotBlankable as problem:
            raise NotBlankable(f"Cell {number}: {problem}") from None
        blanked += 1
    return blanked


def build(source: Path, out: Path, force: bool = False) -> dict[Path, int | None]:
    """Write the learner edition of every notebook in source to out; returns blanks per file.

    A notebook already in out is left alone (None in the result) unless force is set.
    """
    notebooks = sorted(Path(source).glob("*.ipynb"))
    if not notebooks:
        raise FileNotFoundError(
            f"No notebooks in {source}; run this inside the kit's folder or pass --source."
        )
    out = Path(out)
    if out.resolve() == Path(source).resolve():
        raise ValueError(
            "The learner edition needs its own folder: --out must differ from --source."
        )
    out.mkdir(parents=True, exist_ok=True)
    written = {}
    for path in notebooks:
        target = out / path.name
        if target.exists() and not force:
            written[target] = None
            continue
        notebook = nbformat.read(path, as_version=4)
        try:
            blanks = learner_edition(notebook)
        except NotBlankable as problem:
            raise NotBlankable(f"{path.name}: {problem}") from None
        nbformat.write(notebook, target)
        log.info("Wrote %s with %d exercises blanked", target, blanks)
        written[target] = blanks
    return written


def kit_root(start: Path | None = None) -> Path:
    """The kit's folder: the nearest folder at or above start (default: here) with kit.py.

    Falls back to the folder this package was installed from, so `!python -m smskit.learner`
    in a notebook (which runs in notebooks/) and a shell anywhere inside the kit both find it.
    """
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "kit.py").is_file() and (folder / "notebooks").is_dir():
            return folder
    return Path(__file__).resolve().parent.parent


def main(argv: list[str] | None = None) -> int:
    """The command line: build the learner edition and say what was written."""
    parser = argparse.ArgumentParser(
        prog="python -m smskit.learner", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--source", type=Path, help="default: the kit's notebooks/")
    parser.add_argument("--out", type=Path, help="default: the kit's learner/")
    parser.add_argument(
        "--force", action="store_true", help="overwrite notebooks already in the learner folder"
    )
    parser.add_argument("--quiet", action="store_true", help="say only what went wrong")
    args = parser.parse_args(argv)
    root = kit_root()
    args.source = args.source or root / "notebooks"
    args.out = args.out or root / "learner"
    try:
        written = build(args.source, args.out, args.force)
    except (FileNotFoundError, ValueError) as problem:  # NotBlankable is a ValueError
        print(problem, file=sys.stderr)
        return 2
    if args.quiet:
        return 0
    for target, blanks in written.items():
        if blanks is None:
            print(f"{target}: kept, it is already there (--force overwrites it)")
        else:
            print(f"{target}: {blanks} exercise{'s' if blanks != 1 else ''} to do")
    first = next(iter(written))
    print(f"Open {first} to begin; the notebooks in {args.source}/ keep the solutions.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
