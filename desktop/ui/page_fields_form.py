# SPDX-License-Identifier: MIT
"""The log page's CRM-specific fields, generated from the adapter manifest's ``page_fields``.

Selections get a "None" option; checkboxes; text with whole-value pattern validation; notices;
contact-dependent selections whose options come from the chosen contact and reload when it
changes; defaults per call direction, computed by :func:`adapters.base.default_value` (the
values auto-log writes too). Validation is inline: each field shows its own message.

Threading contract: GUI thread only.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QCheckBox, QComboBox, QFormLayout, QFrame, QHBoxLayout, QLabel, QLineEdit, QWidget

from adapters.base import PageField, PageFieldKind, default_value
from adapters.models import Contact, FieldValue, Option

NONE_LABEL = "None"
LABEL_WIDTH = 104


def form_label(text: str) -> QLabel:
    """A form label with the width every form in a dialog shares, so fields line up."""
    label = QLabel(text)
    label.setMinimumWidth(LABEL_WIDTH)
    return label


class PageFieldsForm(QWidget):
    """A form for ``fields``, pre-filled with the defaults for ``direction`` (a new log) or empty
    (``use_defaults=False``: the editor fills in what the CRM holds).

    Signals:
        changed(): any value changed (the dialog saves its draft).
    """

    changed = Signal()

    def __init__(
        self, fields: Sequence[PageField], direction: str, parent: QWidget | None = None, *, use_defaults: bool = True
    ) -> None:
        super().__init__(parent)
        self._use_defaults = use_defaults
        self._fields = [f for f in fields]
        self._direction = direction
        self._inputs: dict[str, QWidget] = {}
        self._errors: dict[str, QLabel] = {}
        self._loading = False
        layout = QFormLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setLabelAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        layout.setHorizontalSpacing(14)
        layout.setVerticalSpacing(8)
        layout.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self._layout = layout
        self._loading = True
        for field in self._fields:
            self._add(field)
        self._loading = False

    # --- building -------------------------------------------------------------------------------

    def _add(self, field: PageField) -> None:
        if field.kind is PageFieldKind.NOTICE:
            notice = QFrame()
            notice.setProperty("banner", "info")
            row = QHBoxLayout(notice)
            row.setContentsMargins(10, 6, 10, 6)
            text = QLabel(field.label + (f" {field.help}" if field.help else ""))
            text.setWordWrap(True)
            row.addWidget(text)
            self._layout.addRow(notice)
            return
        label = field.label + (" *" if field.required else "")
        # The same start values auto-log writes (adapters.base.default_value); contact-dependent
        # selections get theirs when the contact is known (set_contact).
        default = default_value(field, self._direction) if self._use_defaults else None
        widget: QWidget
        if field.kind is PageFieldKind.SELECTION:
            combo = QComboBox()
            combo.setObjectName(f"field_{field.id}")
            self._fill_options(combo, [] if field.contact_dependent else field.options)
            self._select(combo, default)
            combo.currentIndexChanged.connect(lambda _=0, f=field: self._on_changed(f))
            widget = combo
        elif field.kind is PageFieldKind.CHECKBOX:
            box = QCheckBox(field.label)
            box.setObjectName(f"field_{field.id}")
            box.setChecked(bool(default))
            box.toggled.connect(lambda _=False, f=field: self._on_changed(f))
            widget = box
            label = ""
        else:
            edit = QLineEdit()
            edit.setObjectName(f"field_{field.id}")
            edit.setText(default if isinstance(default, str) else "")
            if field.help:
                edit.setPlaceholderText(field.help)
            edit.textChanged.connect(lambda _="", f=field: self._on_changed(f))
            widget = edit
        if field.help and field.kind is not PageFieldKind.TEXT:
            widget.setToolTip(field.help)
        error = QLabel("")
        error.setProperty("role", "error")
        error.setObjectName(f"error_{field.id}")
        error.hide()
        holder = QWidget()
        column = QFormLayout(holder)
        column.setContentsMargins(0, 0, 0, 0)
        column.setVerticalSpacing(2)
        column.addRow(widget)
        column.addRow(error)
        self._inputs[field.id] = widget
        self._errors[field.id] = error
        self._layout.addRow(form_label(label), holder)

    @staticmethod
    def _fill_options(combo: QComboBox, options: Sequence[Option]) -> None:
        combo.blockSignals(True)
        combo.clear()
        combo.addItem(NONE_LABEL, None)
        for option in options:
            combo.addItem(option.label, option.id)
        combo.blockSignals(False)

    @staticmethod
    def _select(combo: QComboBox, value: FieldValue) -> None:
        if value is None or value is False:
            combo.setCurrentIndex(0)
            return
        index = combo.findData(value)
        if index < 0 and isinstance(value, str):
            # A saved value missing from today's options still shows (and is kept).
            combo.addItem(value, value)
            index = combo.count() - 1
        combo.setCurrentIndex(index)

    def _on_changed(self, field: PageField) -> None:
        if self._loading:
            return
        if not self._errors[field.id].isHidden():
            self._validate_field(field)
        self.changed.emit()

    # --- values ---------------------------------------------------------------------------------

    def fields(self) -> list[PageField]:
        return list(self._fields)

    def input(self, field_id: str) -> QWidget:
        return self._inputs[field_id]

    def values(self) -> dict[str, FieldValue]:
        """Every field's value; "None" selections and empty text are ``None``."""
        out: dict[str, FieldValue] = {}
        for field in self._fields:
            widget = self._inputs.get(field.id)
            if isinstance(widget, QComboBox):
                out[field.id] = widget.currentData()
            elif isinstance(widget, QCheckBox):
                out[field.id] = widget.isChecked()
            elif isinstance(widget, QLineEdit):
                out[field.id] = widget.text().strip() or None
        return out

    def set_values(self, values: Mapping[str, FieldValue]) -> None:
        self._loading = True
        try:
            for key, value in values.items():
                widget = self._inputs.get(key)
                if isinstance(widget, QComboBox):
                    self._select(widget, value)
                elif isinstance(widget, QCheckBox):
                    widget.setChecked(bool(value))
                elif isinstance(widget, QLineEdit):
                    widget.setText(value if isinstance(value, str) else "")
        finally:
            self._loading = False

    def set_contact(self, contact: Contact | None) -> None:
        """Reloads contact-dependent options; keeps a choice that is still offered."""
        self._loading = True
        try:
            for field in self._fields:
                if not field.contact_dependent:
                    continue
                combo = self._inputs.get(field.id)
                if not isinstance(combo, QComboBox):
                    continue
                previous = combo.currentData()
                options = contact.options.get(field.id, []) if contact is not None else []
                self._fill_options(combo, options)
                if previous is not None and combo.findData(previous) >= 0:
                    combo.setCurrentIndex(combo.findData(previous))
                elif self._use_defaults:
                    self._select(combo, default_value(field, self._direction, contact))
                elif len(options) == 1:
                    combo.setCurrentIndex(1)
                combo.setEnabled(bool(options))
                combo.setToolTip("" if options else "Nothing to associate for this contact")
        finally:
            self._loading = False
        self.changed.emit()

    # --- validation -----------------------------------------------------------------------------

    def _validate_field(self, field: PageField) -> str | None:
        value = self.values().get(field.id)
        message: str | None = None
        if field.required and (value is None or value == ""):
            message = f"{field.label} is required."
        elif (
            field.kind is PageFieldKind.TEXT
            and isinstance(value, str)
            and field.pattern
            and re.fullmatch(field.pattern, value) is None
        ):
            message = f"Wrong format: {field.help or field.label}"
        label = self._errors[field.id]
        widget = self._inputs[field.id]
        label.setText(message or "")
        label.setVisible(message is not None)
        widget.setProperty("invalid", message is not None)
        widget.style().unpolish(widget)
        widget.style().polish(widget)
        return message

    def validate(self) -> list[str]:
        """Checks every field, shows messages next to the wrong ones, and returns the messages."""
        problems = []
        for field in self._fields:
            if field.id in self._inputs:
                message = self._validate_field(field)
                if message:
                    problems.append(message)
        return problems

    def show_error(self, field_id: str, message: str) -> bool:
        """Shows the CRM's complaint about one field; False if the form has no such field."""
        label = self._errors.get(field_id)
        if label is None:
            return False
        label.setText(message)
        label.show()
        return True
