# SPDX-License-Identifier: MIT
"""The values a new log starts with, computed once for the log page and auto-log alike."""

from __future__ import annotations

import pytest

from adapters.base import PageField, PageFieldKind, default_value, page_field_defaults
from adapters.models import Contact, Option

OUTCOME = PageField(
    id="outcome",
    label="Outcome",
    kind=PageFieldKind.SELECTION,
    options=[Option(id="connected", label="Connected"), Option(id="voicemail", label="Voicemail")],
    defaults={"Inbound": "connected", "Outbound": None, "*": "voicemail"},
)
DEAL = PageField(id="deal", label="Deal", kind=PageFieldKind.SELECTION, contact_dependent=True, defaults={"*": "d2"})
FOLLOW_UP = PageField(id="follow_up", label="Follow up", kind=PageFieldKind.CHECKBOX, defaults={"Outbound": True})
TICKET = PageField(id="ticket", label="Ticket", kind=PageFieldKind.TEXT, defaults={"*": "  "})
NOTICE = PageField(id="notice", label="Logs show on the timeline.", kind=PageFieldKind.NOTICE, defaults={"*": "x"})


def _contact(*deal_ids: str) -> Contact:
    return Contact(id="7", name="Ada", options={"deal": [Option(id=d, label=d) for d in deal_ids]})


@pytest.mark.parametrize(("direction", "expected"), [("Inbound", "connected"), ("Outbound", None)])
def test_a_selection_takes_its_default_for_the_direction(direction: str, expected: str | None) -> None:
    assert default_value(OUTCOME, direction) == expected


def test_a_selection_without_a_default_for_the_direction_takes_the_one_for_both() -> None:
    field = OUTCOME.model_copy(update={"defaults": {"*": "voicemail"}})
    assert default_value(field, "Outbound") == "voicemail"


@pytest.mark.parametrize(
    ("deals", "expected"), [(("d1", "d2"), "d2"), (("d9",), "d9"), (("d1", "d3"), None), ((), None)]
)
def test_a_contact_dependent_selection_takes_its_default_if_offered_else_the_only_option(
    deals: tuple[str, ...], expected: str | None
) -> None:
    assert default_value(DEAL, "Inbound", _contact(*deals)) == expected


def test_a_contact_dependent_selection_without_a_contact_is_empty() -> None:
    assert default_value(DEAL, "Inbound") is None


def test_checkboxes_text_and_notices() -> None:
    assert default_value(FOLLOW_UP, "Outbound") is True
    assert default_value(FOLLOW_UP, "Inbound") is False
    assert default_value(TICKET, "Inbound") is None
    assert default_value(TICKET.model_copy(update={"defaults": {"*": "SUP-1"}}), "Inbound") == "SUP-1"
    assert default_value(NOTICE, "Inbound") is None


def test_page_field_defaults_keys_every_value_field_and_leaves_notices_out() -> None:
    values = page_field_defaults([OUTCOME, DEAL, FOLLOW_UP, TICKET, NOTICE], "Inbound", _contact("d2"))
    assert values == {"outcome": "connected", "deal": "d2", "follow_up": False, "ticket": None}
