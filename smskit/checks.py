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


def expect(condition: object, message: str) -> None:
    """Fail with message (what is wrong, in plain words) unless condition holds."""
    if not condition:
        raise CheckFailed(message)


def answered(value: object, name: str) -> None:
    """Fail when a name still holds the learner edition's placeholder (`...`)."""
    expect(value is not Ellipsis, f"{name} is still the placeholder `...`: give it your answer.")


def shown_call(function: Callable, args: tuple, kwargs: dict) -> str:
    """How a call reads in Python, e.g. parse_cookie_header('a=1')."""
    name = getattr(function, "__name__", repr(function))
    words = [repr(a) for a in args] + [f"{k}={v!r}" for k, v in kwargs.items()]
    return f"{name}({', '.join(words)})"


def call(function: Callable, *args: Any, **kwargs: Any) -> Any:
    """Call the learner's function; an exception it raises becomes a plain-words failure."""
    expect(callable(function), f"{function!r} is not a function; define it with def.")
    try:
        return function(*args, **kwargs)
    except CheckFailed:
        raise
    except Exception as problem:
        raise CheckFailed(
            f"{shown_call(function, args, kwargs)} raised {type(problem).__name__}: {problem}"
        ) from None


def returns(expected: Any, function: Callable, *args: Any, hint: str = "", **kwargs: Any) -> None:
    """Fail unless function(*args, **kwargs) returns expected; the message shows the call."""
    actual = call(function, *args, **kwargs)
    shown = shown_call(function, args, kwargs)
    message = f"{shown} returned {actual!r}; it should return {expected!r}."
    expect(actual == expected, f"{message} {hint}".strip())


def passed(what: str) -> None:
    """Say in one line that a check passed."""
    print(f"✓ {what}")
