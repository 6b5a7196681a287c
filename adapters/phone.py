# SPDX-License-Identifier: MIT
"""Phone numbers: E.164 normalisation, national digits, extensions and CRM search candidates.

RingCentral always reports E.164 (``+14155550123``); CRMs store whatever a person typed
(``(415) 555-0123``, ``415.555.0123``, ``+1 415-555-0123``). Adapters whose CRM normalises digits
search with :func:`national_digits`; adapters whose CRM matches stored text exactly query each of
:func:`search_candidates` in order and de-duplicate the results by record id.

Everything here is pure and thread-safe. ``region`` is a two-letter ISO country code (the app's
"default region" setting) used to read numbers written without a country code.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat

#: At most this many user patterns are tried (each one is another CRM query).
MAX_PATTERNS = 3

#: Extension numbers are short digit strings (RingCentral allows up to 8 digits; 7+ digit
#: strings could also be a local number, so only short ones are treated as extensions).
_MAX_EXTENSION_DIGITS = 6

_EXTENSION_SUFFIX = re.compile(
    r"""^(?P<number>.*?)\s*
        (?:\#|;ext=|,|\b(?:ext|extn|extension|x)\.?:?)\s*
        (?P<ext>\d{1,8})\s*$""",
    re.IGNORECASE | re.VERBOSE,
)
_NON_DIGIT = re.compile(r"\D")


@dataclass(frozen=True)
class ParsedNumber:
    """A phone number split into the parts adapters need.

    Attributes:
        e164: ``+14155550123``.
        country_code: ``1``.
        national: the national significant number, ``4155550123`` (no trunk prefix).
        extension: the extension dialled after the number (``+13334445555#134`` → ``134``).
        region: the ISO region the number belongs to, when known (``US``).
    """

    e164: str
    country_code: int
    national: str
    extension: str | None
    region: str | None


def digits_only(text: str) -> str:
    """Every ASCII digit in ``text``, in order: ``(415) 555-0123`` → ``4155550123``."""
    return _NON_DIGIT.sub("", text)


def split_extension(raw: str) -> tuple[str, str | None]:
    """Separates a trailing extension: ``+1 333 444 5555 x134`` → (``+1 333 444 5555``, ``134``).

    Recognises ``#134``, ``x134``, ``ext. 134``, ``extension 134``, ``;ext=134`` and ``,134``.
    """
    text = raw.strip()
    match = _EXTENSION_SUFFIX.match(text)
    if match and digits_only(match.group("number")):
        return match.group("number").strip(), match.group("ext")
    return text, None


def is_extension_number(raw: str) -> bool:
    """Whether ``raw`` looks like an internal extension (``101``), not a dialable number.

    A short run of digits with no ``+`` and no country code is an extension. RingCentral puts
    extensions in ``extensionNumber``; this decides for numbers typed by a person.
    """
    text = raw.strip()
    if not text or text.startswith("+"):
        return False
    if re.fullmatch(r"[\d\s\-().]+", text) is None:
        return False
    return 1 <= len(digits_only(text)) <= _MAX_EXTENSION_DIGITS


def parse(raw: str, region: str = "US") -> ParsedNumber | None:
    """Parses a number in any common notation; ``None`` if it is not a possible phone number.

    Accepts E.164, national notation for ``region`` (``(415) 555-0123``), international
    notation with ``00``/``011`` prefixes, ``tel:`` URIs, and trailing extensions.
    """
    text = raw.strip()
    if text.lower().startswith("tel:"):
        text = text[4:]
    if not text or is_extension_number(text):
        return None
    number_text, ext = split_extension(text)
    try:
        parsed = phonenumbers.parse(number_text, region.upper() if region else None)
    except NumberParseException:
        return None
    # A local-only length (555-0123 in the US) has no E.164 form: it needs an area code.
    if phonenumbers.is_possible_number_with_reason(parsed) != phonenumbers.ValidationResult.IS_POSSIBLE:
        return None
    national = str(parsed.national_number)
    if parsed.italian_leading_zero:
        national = "0" * (parsed.number_of_leading_zeros or 1) + national
    return ParsedNumber(
        e164=phonenumbers.format_number(parsed, PhoneNumberFormat.E164),
        country_code=int(parsed.country_code or 0),
        national=national,
        extension=ext or (parsed.extension or None),
        region=phonenumbers.region_code_for_number(parsed),
    )


def to_e164(raw: str, region: str = "US") -> str | None:
    """``+14155550123`` for any notation of that number, or ``None`` when it cannot be read."""
    parsed = parse(raw, region)
    return parsed.e164 if parsed else None


def national_digits(raw: str, region: str = "US") -> str | None:
    """The national significant number (E.164 minus the country code): ``4155550123``.

    This is what most CRMs' digit-normalised phone search expects.
    """
    parsed = parse(raw, region)
    return parsed.national if parsed else None


def same_number(a: str, b: str, region: str = "US") -> bool:
    """Whether two notations denote the same number (extensions are ignored)."""
    pa, pb = parse(a, region), parse(b, region)
    if pa is None or pb is None:
        da, db = digits_only(a), digits_only(b)
        return bool(da) and da == db
    return pa.e164 == pb.e164


def apply_pattern(pattern: str, parsed: ParsedNumber) -> str | None:
    """Fills a user pattern where ``#`` (or ``*``) stands for one digit, left to right.

    The pattern is filled with the national significant number when it has that many digit
    slots, or with country code + national number when it has that many. ``(###) ###-####`` with
    ``+14155550123`` → ``(415) 555-0123``; ``1##########`` → ``14155550123``. A pattern with any
    other number of slots does not fit the number and gives ``None``.
    """
    slots = sum(1 for ch in pattern if ch in "#*")
    if slots == len(parsed.national):
        digits = parsed.national
    elif slots == len(str(parsed.country_code)) + len(parsed.national):
        digits = f"{parsed.country_code}{parsed.national}"
    else:
        return None
    it = iter(digits)
    return "".join(next(it) if ch in "#*" else ch for ch in pattern)


def formatted_variants(parsed: ParsedNumber) -> list[str]:
    """Common ways people store this number: national and international formatting, separators."""
    number = phonenumbers.parse(parsed.e164, None)
    national_fmt = phonenumbers.format_number(number, PhoneNumberFormat.NATIONAL)
    intl_fmt = phonenumbers.format_number(number, PhoneNumberFormat.INTERNATIONAL)
    cc = str(parsed.country_code)
    variants = [national_fmt, intl_fmt]
    if parsed.country_code == 1 and len(parsed.national) == 10:
        a, b, c = parsed.national[:3], parsed.national[3:6], parsed.national[6:]
        variants += [
            f"{a}-{b}-{c}",
            f"{a}.{b}.{c}",
            f"{a} {b} {c}",
            f"({a}) {b}-{c}",
            f"({a}){b}-{c}",
            f"1-{a}-{b}-{c}",
            f"1 ({a}) {b}-{c}",
            f"+1 ({a}) {b}-{c}",
            f"+1-{a}-{b}-{c}",
            f"+1.{a}.{b}.{c}",
        ]
    else:
        national_dial = digits_only(national_fmt)
        if national_dial != parsed.national:
            variants.append(national_dial)  # with the trunk prefix, e.g. 02079460000
        variants.append(intl_fmt.replace(" ", "-"))
        variants.append(f"00{cc}{parsed.national}")
    return variants


def search_candidates(
    raw: str, *, region: str = "US", patterns: Iterable[str] = (), include_formatted: bool = True
) -> list[str]:
    """The strings to query, in order, when a CRM matches the stored phone text exactly.

    Order: E.164, national digits, country code + national digits, then the user's
    ``patterns`` (at most :data:`MAX_PATTERNS`, ``#`` = one digit), then common formatted
    variants. Duplicates are removed. A number that cannot be read yields just its trimmed text
    (and its digits), so a CRM storing an odd value can still match it verbatim.

    Args:
        raw: the number as RingCentral or the agent gave it.
        region: the default region for numbers written without a country code.
        patterns: user formats such as ``(###) ###-####``.
        include_formatted: add the common formatted variants (each costs a query).
    """
    parsed = parse(raw, region)
    out: list[str] = []

    def add(value: str | None) -> None:
        if value and value not in out:
            out.append(value)

    if parsed is None:
        add(raw.strip())
        add(digits_only(raw))
        return out
    add(parsed.e164)
    add(parsed.national)
    add(f"{parsed.country_code}{parsed.national}")
    for pattern in list(patterns)[:MAX_PATTERNS]:
        add(apply_pattern(pattern, parsed))
    if include_formatted:
        for variant in formatted_variants(parsed):
            add(variant)
    return out
