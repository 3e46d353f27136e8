"""Phone numbers made safe for a projector: "+14158675309" is shown as "+1 415 ••• 5309"."""

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
    """The number with its middle hidden: country code, first group, •••, last four digits.

    Google's libphonenumber (the phonenumbers package) knows each country's groups, so a
    London number keeps its area code the way a San Francisco one does. Anything that is not
    a phone number (a short code, a name) keeps only its last two characters.
    """
    try:
        parsed = phonenumbers.parse(number, None)
    except phonenumbers.NumberParseException:
        parsed = None
    if parsed is None or not phonenumbers.is_possible_number(parsed):
        return HIDDEN + number[-2:] if len(number) > 4 else HIDDEN
    national = phonenumbers.national_significant_number(parsed)
    groups = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    first = groups.replace("-", " ").split()[1]
    if len(first) + 4 >= len(national):  # too short to keep both ends
        first = national[:2]
    return f"+{parsed.country_code} {first} {HIDDEN} {national[-4:]}"
