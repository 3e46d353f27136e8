"""Helpers the exercise checks call: one line when an answer is right, plain words when not.

>>> returns({"a": "1"}, parse_cookie_header, "a=1")   # silent when right, CheckFailed if not
>>> passed("parse_cookie_header reads a Cookie header.")
✓ parse_cookie_header reads a Cookie header.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


class CheckFailed(AssertionError):
    """A check that did not pass; a notebook shows its message alone, without a traceback."""

    def _render_traceback_(self) -> list[str]:
        return [f"✗ Not yet: {self}"]


def last_cell_error() -> BaseException | None:
    """The error the cell run just before this one stopped with (not a check's); None if none.

    A learner's answer cell that fails half-way leaves the names it should have set as they
    were, so a check run next would test a stale answer. IPython keeps the previous cell's
    result in last_execution_result until the running cell ends, which is how we know.
    """
    try:
        from IPython import get_ipython
    except ImportError:
        return None
    shell = get_ipython()
    result = getattr(shell, "last_execution_result", None)
    error = result and (result.error_before_exec or result.error_in_exec)
    return None if error is None or isinstance(error, CheckFailed) else error


def one_line(problem: BaseException) -> str:
    """An exception as one line: its type and the first line of its message."""
    first = str(problem).strip().splitlines()[:1]
    return f"{type(problem).__name__}: {first[0]}" if first else type(problem).__name__


def fresh() -> None:
    """Fail when the cell run before the check stopped with an error: its answer is stale."""
    error = last_cell_error()
    if error is not None:
        raise CheckFailed(
            f"the cell you ran before this check stopped with {one_line(error)}; "
            "fix that cell and run it again, then run this check."
        )


def expect(condition: object, message: str) -> None:
    """Fail with message (what is wrong, in plain words) unless condition holds."""
    fresh()
    if not condition:
        raise CheckFailed(message)


def answered(value: object, name: str) -> None:
    """Fail when a name still holds the learner edition's placeholder (`...`) or is stale."""
    expect(value is not Ellipsis, f"{name} is still the placeholder `...`: give it your answer.")


def shown_call(function: Callable, args: tuple, kwargs: dict) -> str:
    """How a call reads in Python, e.g. parse_cookie_header('a=1')."""
    name = getattr(function, "__name__", repr(function))
    words = [repr(a) for a in args] + [f"{k}={v!r}" for k, v in kwargs.items()]
    return f"{name}({', '.join(words)})"


def call(function: Callable, *args: Any, hint: str = "", **kwargs: Any) -> Any:
    """Call the learner's function; an exception it raises becomes a plain-words failure.

    The failure names the exception in one line and ends with hint, the exercise's advice.
    """
    expect(callable(function), f"{function!r} is not a function; define it with def.")
    try:
        return function(*args, **kwargs)
    except CheckFailed:
        raise
    except Exception as problem:
        raised = f"{shown_call(function, args, kwargs)} raised {one_line(problem)}"
        raise CheckFailed(f"{raised}. {hint}".strip()) from None


def same(actual: Any, predicted: Any) -> bool:
    """Whether actual is what a mistake predicts; numbers within 0.01 count (clocks tick on)."""
    numbers = all(
        isinstance(v, int | float) and not isinstance(v, bool) for v in (actual, predicted)
    )
    return abs(actual - predicted) < 0.01 if numbers else actual == predicted


def diagnosis(actual: Any, mistakes: dict[str, Any]) -> str:
    """The hint of the first plausible mistake that predicts actual; "" when none does.

    mistakes maps a hint ("Take the latest deadline, not the earliest.") to the answer that
    mistake would give, so a wrong answer is told what most likely went wrong.
    """
    return next((hint for hint, predicted in mistakes.items() if same(actual, predicted)), "")


def returns(
    expected: Any,
    function: Callable,
    *args: Any,
    hint: str = "",
    mistakes: dict[str, Any] | None = None,
    **kwargs: Any,
) -> None:
    """Fail unless function(*args, **kwargs) returns expected; the message shows the call.

    The message ends with the hint of the mistake that predicts the answer, else with hint.
    """
    actual = call(function, *args, hint=hint, **kwargs)
    if actual == expected:
        return
    shown = shown_call(function, args, kwargs)
    advice = diagnosis(actual, mistakes or {}) or hint
    raise CheckFailed(
        f"{shown} returned {actual!r}; it should return {expected!r}. {advice}".strip()
    )


def passed(what: str) -> None:
    """Say in one line that a check passed."""
    print(f"✓ {what}")
