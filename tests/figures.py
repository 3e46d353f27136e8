"""Figures the reliability tests measure (examples, requests, counts, resources), for the notes.

Each test calls record(); the figures land in tests/artifacts/reliability-figures.json (ignored by
git) and are printed, so `pytest -s` shows them too.
"""

import json
import threading
from pathlib import Path

FIGURES = Path(__file__).resolve().parent / "artifacts" / "reliability-figures.json"
_lock = threading.Lock()


def record(name: str, **figures) -> None:
    """Keep figures under name (replacing an earlier run's) and print them."""
    with _lock:
        FIGURES.parent.mkdir(parents=True, exist_ok=True)
        kept = json.loads(FIGURES.read_text()) if FIGURES.exists() else {}
        kept[name] = figures
        FIGURES.write_text(json.dumps(kept, indent=2, sort_keys=True) + "\n")
    print(f"[figures] {name}: {json.dumps(figures, sort_keys=True)}")
