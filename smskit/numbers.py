"""Phone numbers made safe for a projector: "+14158675309" is shown as "••• 5309"."""

from __future__ import annotations

from functools import lru_cache

import phonenumbers

HIDDEN = "•••"


def display_number(number: str) -> str:
    """The number as people read it aloud: "+1 415-867-5309" (unchanged if it is not one)."""
    try:
        parsed = phonenumbers.parse(number, None)
    except phonenumbers.NumberParseException:
        return number
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


@lru_cache(maxsize=4096)  # a room re-renders the same few hundred numbers
def mask_number(number: str) -> str:
    """The number's last four digits and nothing else: "••• 5309".

    A projector is public, and four digits are enough for a person to find their own card
    (the rehearsal's phones each end in their own four). Anything that is not a phone number
    (a short code, a name) keeps only its last two characters. The one masking place: cards,
    tables, the room's index and the benchmark's trace all call this.
    """
    try:
        parsed = phonenumbers.parse(number, None)
    except phonenumbers.NumberParseException:
        parsed = None
    if parsed is None or not phonenumbers.is_possible_number(parsed):
        return HIDDEN + number[-2:] if len(number) > 4 else HIDDEN
    return f"{HIDDEN} {phonenumbers.national_significant_number(parsed)[-4:]}"
