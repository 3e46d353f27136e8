"""Every exercise has plausible wrong answers (tests/mistakes.py), and a learner's listener
defined again replaces its older self.

The wrong answers themselves are tried in each lesson's nbval kernel, just before the solution
cell (tests/conftest.py): a copy of the exercise's check must fail with CheckFailed and its
message contain the words that point at the mistake; the lesson's own solution and check then run
under nbval's strict comparison, and the check once more on its own, so wrong tries leave nothing
behind. A wrong answer may also raise, or stop its cell with an error (the names it sets keep the
previous try): the check must still name the mistake.
"""

import nbformat

from smskit.events import EventFeed, MessageEvent
from smskit.learner import SOLUTION_TAG
from tests.mistakes import MISTAKES
from tests.support import ROOT

NOTEBOOKS = ROOT / "notebooks"


def tags(cell) -> list[str]:
    return cell.metadata.get("tags", [])


def test_every_exercise_has_at_least_three_wrong_answers():
    for path in sorted(NOTEBOOKS.glob("*.ipynb")):
        cells = nbformat.read(path, as_version=4).cells
        for cell in cells:
            if SOLUTION_TAG in tags(cell):
                assert len(MISTAKES.get(path.stem, {}).get(cell.id, [])) >= 3, (path.name, cell.id)


def test_a_listener_defined_again_in_a_notebook_replaces_its_older_self():
    """A learner's wrong on_message, subscribed before, must not go on hearing messages."""
    feed, heard, space = EventFeed(), [], {"__name__": "__main__"}
    source = "def on_message(event):\n    heard.append(({n}, event.body))"
    space["heard"] = heard
    exec(source.format(n=1), space)
    feed.subscribe(space["on_message"])
    first = space["on_message"]
    exec(source.format(n=2), space)
    feed.subscribe(space["on_message"])
    feed.subscribe(heard.append)  # not a notebook's function: added beside, never replaced
    feed.publish(MessageEvent("+14158675309", "+15005550006", "hi", {}, (), 200, "/sms"))
    assert heard[0] == (2, "hi") and len(heard) == 2
    assert first not in feed and space["on_message"] in feed
