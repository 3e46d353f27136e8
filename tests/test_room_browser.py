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


def test_the_rehearsed_room_shows_each_phones_count_hides_who_and_what_and_passes_axe(room_page):
    """The projector's page once its rehearsal is done; axe-core finds no serious or critical
    WCAG 2.1 A/AA violation in it (cards, opt-outs, replies queued on the long code)."""
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
    assert page.locator(".room-card .room-queued").count() > 0  # axe reads those lines too
    found = grave_violations(page)
    assert found == [], json.dumps(found, indent=1)

    page.get_by_role("button", name="Show messages").click()  # the instructor's toggle
    expect(page.locator(".room-message").first).to_be_visible()
    assert any(body in page.inner_text("body") for body in BODIES)


# What a browser computed for the room at 1920x1080: every card's box and the font sizes of
# its masked number and count, the index's phones, and the screen the cards cover.
MEASURE = """() => {
  const box = e => { const r = e.getBoundingClientRect();
    return {top: r.top, left: r.left, bottom: r.bottom, right: r.right}; };
  const size = e => parseFloat(getComputedStyle(e).fontSize);
  const cards = [...document.querySelectorAll('.room-card')].map(card => ({
    box: box(card), who: card.querySelector('.room-who').textContent,
    count: card.dataset.count, out: card.classList.contains('room-out'),
    text: card.innerText, whoBox: box(card.querySelector('.room-who')),
    countBox: box(card.querySelector('.room-count')),
    whoPx: size(card.querySelector('.room-who')), countPx: size(card.querySelector('.room-count')),
    barBorder: parseFloat(getComputedStyle(card.querySelector('.room-bar')).borderTopWidth),
  }));
  const phones = [...document.querySelectorAll('.room-phone')].map(p => ({
    who: p.textContent, count: p.dataset.count, box: box(p), px: size(p),
    out: !!p.closest('.room-index-out'),
  }));
  const beyond = document.querySelector('.room-beyond');
  return {cards, phones, beyond: beyond ? beyond.innerText : null,
          width: innerWidth, height: innerHeight};
}"""


def inside(inner: dict, outer: dict) -> bool:
    return all(
        (inner["top"] >= outer["top"] - 0.5, inner["left"] >= outer["left"] - 0.5,
         inner["bottom"] <= outer["bottom"] + 0.5, inner["right"] <= outer["right"] + 0.5)
    )  # fmt: skip


@pytest.mark.parametrize("phones", [30, 300])
def test_at_1920x1080_every_phone_is_findable_in_type_read_from_the_back(tmp_path, phones):
    """Up to 60 phones: a card each, number >= 24 px and count >= 48 px, filling the screen,
    in a place that never changes; beyond: the first cards, how many are not cards, and
    every phone in the index by its count. Opt-outs and the bar do not rely on colour."""
    messages = phones * 2
    rate = max(40, messages // 5)  # all sent within about 5 s, if the machine keeps up
    process, port, log = start_room(
        tmp_path, f"--simulate={phones}", f"--rate={rate}", f"--messages={messages}",
        "--seed=5", "--sender=short-code",
    )  # fmt: skip
    expect = playwright.expect
    expect.set_options(timeout=LONG)
    try:
        with chromium_page(1920, 1080) as page:
            page.goto(f"http://127.0.0.1:{port}/")
            totals = page.locator(".room-totals")
            expect(totals).to_contain_text(f"{phones} conversations")  # each phone texted once
            first = page.evaluate(MEASURE)
            expect(page.locator(".room-status")).to_contain_text(f"finished, {messages} delivered")
            page.wait_for_timeout(600)  # the last render (a render is at most 0.25 s away)
            seen = page.evaluate(MEASURE)
            page.screenshot(path=ARTIFACTS / f"room-{phones}.png")
    finally:
        stop_room(process)
        print(log.read_text()[-2000:])

    counts, opted_out = planned(phones, messages, 5)
    screen = {"top": 0, "left": 0, "bottom": seen["height"], "right": seen["width"]}
    cards = seen["cards"]
    # A card's place does not jump: the order when every phone had texted once is kept.
    assert [c["who"] for c in cards] == [c["who"] for c in first["cards"]]
    for card in cards:
        assert inside(card["box"], screen), card  # nothing cut off the screen
        assert inside(card["whoBox"], card["box"]) and inside(card["countBox"], card["box"])
        assert card["whoPx"] >= 24 and card["countPx"] >= 48, card
        assert card["barBorder"] >= 1  # the bar's outline: its length reads without colour
        assert card["out"] == ("opted out" in card["text"])  # said in words, not only grey
    if phones <= 60:
        assert len(cards) == phones and seen["beyond"] is None
        found = {c["who"]: int(c["count"]) for c in cards}
        top = min(c["box"]["top"] for c in cards)
        bottom = max(c["box"]["bottom"] for c in cards)
        right = max(c["box"]["right"] for c in cards)
        assert bottom >= seen["height"] * 0.9 and right >= seen["width"] * 0.9  # the screen
        assert (bottom - top) * right >= 0.7 * seen["width"] * seen["height"]  # used
    else:
        assert 0 < len(cards) < phones
        assert f"{phones - len(cards):,} more phones than fit as cards" in seen["beyond"]
        index = seen["phones"]
        assert len(index) == phones
        for phone in index:
            assert inside(phone["box"], screen) and phone["px"] >= 12, phone
        found = {p["who"]: int(p["count"]) for p in index}
        assert {p["who"] for p in index if p["out"]} == {mask_number(n) for n in opted_out}
    assert found == {mask_number(number): count for number, count in counts.items()}
