"""Which edition the kernel runs in: desktop (`kit.py lab`) or browser (JupyterLite, Pyodide).

In the browser, Python has no threads: a cell that needs them prints one sentence saying so
(instead of a traceback), and Run All carries on with the next cell.
"""

from __future__ import annotations

import sys

IN_BROWSER = sys.platform == "emscripten"
EDITION = "browser" if IN_BROWSER else "desktop"
NO_THREADS = (
    "This cell needs real threads, which a browser does not give Python: "
    "run it in the desktop edition (python3 kit.py lab) to see it."
)


def is_missing_thread(error: BaseException) -> bool:
    """Whether error is Pyodide's answer to starting a thread."""
    return isinstance(error, RuntimeError) and "can't start new thread" in str(error)


def _explain(shell, etype, value, tb, tb_offset=None):
    """IPython's custom-exception hook: one sentence for a missing thread, else the traceback."""
    if is_missing_thread(value):
        print(NO_THREADS)
        return None
    shell.showtraceback((etype, value, tb), tb_offset=tb_offset)
    return None


def explain_missing_threads() -> None:
    """In a browser's kernel, print NO_THREADS where a cell fails for want of a thread."""
    if not IN_BROWSER:
        return
    from IPython import get_ipython  # the Pyodide kernel is IPython

    shell = get_ipython()
    if shell is not None:
        shell.set_custom_exc((RuntimeError,), _explain)
