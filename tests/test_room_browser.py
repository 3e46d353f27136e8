"""`python3 kit.py room --simulate 50` served by the real Voilà, read by real Chromium.

The rehearsal's plan is seeded, so the test knows how many messages each simulated phone
sent; the page must show one card per phone with exactly that count, no phone number in
full and no message body until the instructor shows them. Debian's chromium (on PATH) runs
through the Python playwright package; no browser is downloaded. Offline: no credentials.
"""

from __future__ import annotations

import json
import re

import pytest

from smskit.numbers import mask_number
from smskit.rehearsal import BODIES, phone_number, planned
from tests.support import ARTIFACTS, start_room, stop_room

playwright = pytest.importorskip("playwright.sync_api", reason="the playwright package is missing")

from tests.drive import CHROMIUM, LONG, chromium_page, grave_violations  # noqa: E402

PHONES, MESSAGES, SEED, RATE = 50, 150, 5, 25  # seed 5: four phones end opted out

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(CHROMIUM is None, reason="no chromium on PATH (apt-get install chromium)"),
]


@pytest.fixture
def room_page(tmp_path):
    """A Chromium page on `kit.py room --simulate 50`, once its rehearsal has finished."""
    process, port, log = start_room(
        tmp_path, f"--simulate={PHONES}", f"--rate={RATE}", f"--messages={MESSAGES}",
        f"--seed={SEED}",
    )  # fmt: skip
    try:
        with chromium_page(1600, 1000) as page:
            try:
                yield page, port
            except Exception:
                page.screenshot(path=ARTIFACTS / "room-failure.png", full_page=True)
                raise
    finally:
        stop_room(process)
        print(log.read_text()[-2000:])


def test_the_rehearsed_room_shows_each_phones_count_and_hides_who_and_what(room_page):
    page, port = room_page
    expect = playwright.expect
    expect.set_options(timeout=LONG)
    ARTIFACTS.mkdir(exist_ok=True)
    page.goto(f"http://127.0.0.1:{port}/")
    status = page.locator(".room-status")
    expect(status).to_contain_text(f"finished, {MESSAGES} delivered, 0 failed")
    counts, opted_out = planned(PHONES, MESSAGES, SEED)
    expect(page.locator(".room-totals")).to_have_text(
        f"{PHONES} conversations, {MESSAGES} messages, {len(opted_out)} opted out"
    )
    expect(page.locator(".room-card")).to_have_count(PHONES)
    shown = dict(
        zip(
            page.locator(".room-card .room-who").all_inner_texts(),
            map(int, page.locator(".room-card .room-count").all_inner_texts()),
            strict=True,
        )
    )
    assert shown == {mask_number(number): count for number, count in counts.items()}
    stopped = page.locator(".room-card:has(.room-optout) .room-who").all_inner_texts()
    assert sorted(stopped) == sorted(mask_number(number) for number in opted_out)

    text = page.inner_text("body")
    digits = re.sub(r"\D", "", text)
    numbers = [phone_number(i) for i in range(PHONES)]
    assert not [n for n in numbers if n[1:] in digits or n[2:] in digits], "a number in full"
    assert not [body for body in BODIES if body in text], "a message body by default"
    page.screenshot(path=ARTIFACTS / "room.png", full_page=True)

    page.get_by_role("button", name="Show messages").click()  # the instructor's toggle
    expect(page.locator(".room-message").first).to_be_visible()
    assert any(body in page.inner_text("body") for body in BODIES)


@pytest.mark.xfail(
    strict=True,
    reason="axe: an opted-out card's masked number (.room-out > .room-who) is below 4.5:1 "
    "contrast; room.py's CSS belongs to issue 18, which fixes it (then drop this mark)",
)
def test_the_room_at_30_simulated_phones_passes_axe(tmp_path):
    """The projector's page (kit.py room --simulate 30, Voilà) once its rehearsal is done."""
    process, port, _log = start_room(tmp_path, "--simulate=30", "--rate=20", "--messages=60")
    try:
        with chromium_page(1600, 1000) as page:
            page.goto(f"http://127.0.0.1:{port}/")
            playwright.expect(page.locator(".room-status")).to_contain_text(
                "finished", timeout=LONG
            )
            found = grave_violations(page)
    finally:
        stop_room(process)
    assert found == [], json.dumps(found, indent=1)
