# SPDX-License-Identifier: MIT
"""The manifest-driven log fields: None option, defaults per direction, patterns, contact-dependent options."""

from __future__ import annotations

from PySide6.QtWidgets import QCheckBox, QComboBox, QLineEdit

from adapters.base import PageField, PageFieldKind, page_field_defaults
from adapters.models import Contact, Option
from desktop.ui.page_fields_form import PageFieldsForm

FIELDS = [
    PageField(id="deal", label="Deal", kind=PageFieldKind.SELECTION, contact_dependent=True),
    PageField(id="billable", label="Billable", kind=PageFieldKind.SELECTION, required=True,
              options=[Option(id="yes", label="Billable"), Option(id="no", label="Not billable")],
              defaults={"Inbound": "yes", "Outbound": "no"}),
    PageField(id="copy", label="Copy to contact comments", kind=PageFieldKind.CHECKBOX, defaults={"*": True}),
    PageField(id="ticket", label="Ticket", kind=PageFieldKind.TEXT, pattern=r"T-\d+", help="e.g. T-42"),
    PageField(id="lead_note", label="Leads are logged on the person.", kind=PageFieldKind.NOTICE),
]

JANE = Contact(
    id="1", name="Jane", options={"deal": [Option(id="d1", label="Renewal"), Option(id="d2", label="Upsell")]}
)
JOE = Contact(id="2", name="Joe", options={"deal": [Option(id="d9", label="Pilot")]})


def test_defaults_follow_the_call_direction(qtbot) -> None:
    inbound = PageFieldsForm(FIELDS, "Inbound")
    outbound = PageFieldsForm(FIELDS, "Outbound")
    qtbot.addWidget(inbound)
    qtbot.addWidget(outbound)
    assert inbound.values()["billable"] == "yes" and outbound.values()["billable"] == "no"
    assert inbound.values()["copy"] is True


def test_the_form_starts_from_the_shared_defaults_auto_log_writes(qtbot) -> None:
    fields = [f.model_copy(update={"defaults": {"*": "d2"}}) if f.id == "deal" else f for f in FIELDS]
    for direction in ("Inbound", "Outbound"):
        form = PageFieldsForm(fields, direction)
        qtbot.addWidget(form)
        assert form.values() == page_field_defaults(fields, direction)
        form.set_contact(JANE)
        assert form.values() == page_field_defaults(fields, direction, JANE)
        assert form.values()["deal"] == "d2"


def test_contact_dependent_options_reload_when_the_contact_changes(qtbot) -> None:
    form = PageFieldsForm(FIELDS, "Inbound")
    qtbot.addWidget(form)
    deal = form.input("deal")
    assert isinstance(deal, QComboBox)
    # Before a contact is chosen: only "None", and disabled
    assert [deal.itemText(i) for i in range(deal.count())] == ["None"]
    # Jane has two deals: both offered after "None", nothing picked for the agent
    form.set_contact(JANE)
    assert [deal.itemText(i) for i in range(deal.count())] == ["None", "Renewal", "Upsell"]
    assert form.values()["deal"] is None
    deal.setCurrentIndex(2)
    # Joe has one deal: it is chosen, and Jane's choice does not leak over
    form.set_contact(JOE)
    assert form.values()["deal"] == "d9"


def test_text_pattern_and_required_fields_are_checked_inline(qtbot) -> None:
    form = PageFieldsForm(FIELDS, "Inbound", use_defaults=False)
    qtbot.addWidget(form)
    ticket = form.input("ticket")
    assert isinstance(ticket, QLineEdit)
    ticket.setText("42")
    problems = form.validate()
    assert "Billable is required." in problems and "Wrong format: e.g. T-42" in problems
    ticket.setText("T-42")
    billable = form.input("billable")
    assert isinstance(billable, QComboBox)
    billable.setCurrentIndex(1)
    assert form.validate() == []
    assert isinstance(form.input("copy"), QCheckBox) and form.values()["copy"] is False


def test_a_saved_value_missing_from_the_options_still_shows(qtbot) -> None:
    form = PageFieldsForm(FIELDS, "Inbound", use_defaults=False)
    qtbot.addWidget(form)
    form.set_values({"billable": "archived-code"})
    assert form.values()["billable"] == "archived-code"
