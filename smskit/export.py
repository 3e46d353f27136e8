"""Generate the quickstart from the notebooks' cells tagged "export", as nbdev does.

python -m smskit.export           write quickstart/sms/sms_conversation.py
python -m smskit.export --check   fail if the file and the notebooks have drifted apart
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
TARGET = ROOT / "quickstart" / "sms" / "sms_conversation.py"
TAG = "export"
FOOTER = "app = create_app()\n"
COMMAND = "python -m smskit.export"


def exported_cells(notebooks: Path) -> list[tuple[str, str]]:
    """(notebook name, source) of every code cell tagged "export", in notebook order."""
    cells = []
    for path in sorted(notebooks.glob("[0-9]*.ipynb")):
        for cell in nbformat.read(path, as_version=4).cells:
            if cell.cell_type == "code" and TAG in cell.metadata.get("tags", []):
                cells.append((path.name, cell.source.strip()))
    return cells


def render(cells: list[tuple[str, str]]) -> str:
    """The generated module: a do-not-edit header, the cells in order, then the app."""
    sources = sorted({name for name, _ in cells})
    header = (
        f"# Generated from {', '.join('notebooks/' + s for s in sources)} by `{COMMAND}`.\n"
        f'# Do not edit: change the cells tagged "{TAG}" there and run the command again.\n'
    )
    return header + "\n\n\n".join([*(source for _, source in cells), FOOTER.strip()]) + "\n"


def main(argv: list[str] | None = None) -> int:
    cli = argparse.ArgumentParser(prog=COMMAND, description=__doc__.splitlines()[0])
    cli.add_argument("--check", action="store_true", help="only check; exit 1 if out of date")
    cli.add_argument("--notebooks", type=Path, default=NOTEBOOKS, help="the notebooks' folder")
    cli.add_argument("--out", type=Path, default=TARGET, help="the file to write")
    args = cli.parse_args(argv)
    cells = exported_cells(args.notebooks)
    if not cells:
        print(f'No cells tagged "{TAG}" in {args.notebooks}; nothing to export.', file=sys.stderr)
        return 1
    text = render(cells)
    current = args.out.read_text() if args.out.exists() else None
    if text == current:
        print(f"{args.out.name} is up to date with the notebooks.")
        return 0
    if args.check:
        print(
            f"{args.out} differs from the notebooks' export cells: run `{COMMAND}` "
            "(after editing the notebook, never the file).",
            file=sys.stderr,
        )
        return 1
    args.out.write_text(text)
    print(f"Wrote {args.out.name} from {len(cells)} cells.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
