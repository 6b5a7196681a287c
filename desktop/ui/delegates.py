# SPDX-License-Identifier: MIT
"""Painting for the calls table: status badges, two-tone contact cells, the row's action button.

Threading contract: GUI thread only.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QEvent, QModelIndex, QPersistentModelIndex, QRect, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontMetrics, QMouseEvent, QPainter, QPen
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem, QWidget
from typing_extensions import override

from desktop.ui.call_table_model import CallItem, CallTableModel, LogStatus, RowAction, primary_action
from desktop.ui.palette import BADGES, COLORS

ModelIndex = QModelIndex | QPersistentModelIndex


def _item(index: ModelIndex) -> CallItem | None:
    value = index.data(CallTableModel.CallRole)
    return value if isinstance(value, CallItem) else None


_SELECTED = QColor(COLORS["selection"])
_HOVER = QColor("#f7f9fc")
_SEPARATOR = QColor("#eef1f4")


def _paint_background(painter: QPainter, option: QStyleOptionViewItem, widget: QWidget | None) -> None:
    """Row background (selected / hovered) and the separator line under the row.

    Painted here rather than through the style: the style sheet's per-cell rule matching costs
    more than the rest of a repaint with 100,000 rows behind the view.
    """
    rect: QRect = option.rect
    state = option.state
    if state & QStyle.StateFlag.State_Selected:
        painter.fillRect(rect, _SELECTED)
    elif state & QStyle.StateFlag.State_MouseOver:
        painter.fillRect(rect, _HOVER)
    painter.fillRect(QRect(rect.left(), rect.bottom(), rect.width(), 1), _SEPARATOR)


def paint_pill(painter: QPainter, rect: QRectF, text: str, fg: str, bg: str, font: QFont) -> None:
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QColor(bg))
    radius = rect.height() / 2
    painter.drawRoundedRect(rect, radius, radius)
    painter.setPen(QPen(QColor(fg)))
    painter.setFont(font)
    painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, text)


def _pill_font(base: QFont) -> QFont:
    font = QFont(base)
    font.setPointSizeF(max(7.5, base.pointSizeF() * 0.85))
    font.setWeight(QFont.Weight.DemiBold)
    return font


class TextDelegate(QStyledItemDelegate):
    """Plain cells (time, duration, result) and the direction icon, aligned with the painted ones."""

    @override
    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: ModelIndex) -> None:
        _paint_background(painter, option, option.widget)
        rect: QRect = option.rect.adjusted(8, 0, -8, 0)
        decoration = index.data(Qt.ItemDataRole.DecorationRole)
        if decoration is not None and hasattr(decoration, "paint"):
            size = 16
            target = QRect(rect.left() + (rect.width() - size) // 2, rect.top() + (rect.height() - size) // 2,
                           size, size)
            decoration.paint(painter, target)
            return
        text = index.data(Qt.ItemDataRole.DisplayRole)
        if not text:
            return
        painter.save()
        painter.setFont(option.font)
        brush = index.data(Qt.ItemDataRole.ForegroundRole)
        painter.setPen(QPen(brush.color()) if brush is not None else QPen(QColor(COLORS["text"])))
        align = index.data(Qt.ItemDataRole.TextAlignmentRole)
        flags = (
            Qt.AlignmentFlag(align) if align is not None else Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
        )
        metrics = QFontMetrics(option.font)
        shown = metrics.elidedText(str(text), Qt.TextElideMode.ElideRight, rect.width())
        painter.drawText(rect, flags, shown)
        painter.restore()


class StatusDelegate(QStyledItemDelegate):
    """The log status as a coloured pill, followed by one small pill per pending artifact."""

    @override
    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: ModelIndex) -> None:
        item = _item(index)
        _paint_background(painter, option, option.widget)
        if item is None:
            return
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        font = _pill_font(option.font)
        metrics = QFontMetrics(font)
        rect = option.rect
        height = metrics.height() + 6
        x = rect.left() + 8
        y = rect.top() + (rect.height() - height) / 2
        labels = [(item.status.value, BADGES.get(item.status.value, BADGES["Logged"]))]
        labels += [(f"⋯ {p}", BADGES["pending"]) for p in item.pending]
        for text, style in labels:
            width = metrics.horizontalAdvance(text) + 16
            if x + width > rect.right() - 4:
                break
            paint_pill(painter, QRectF(x, y, width, height), text, style.foreground, style.background, font)
            x += width + 6
        if item.detail and not item.pending and x < rect.right() - 40:
            # Why it is not logged ("2 contacts match …") or what the CRM said, in a muted line.
            small = QFont(option.font)
            small.setPointSizeF(max(7.5, small.pointSizeF() * 0.9))
            painter.setFont(small)
            painter.setPen(QColor(COLORS["danger"] if item.status.value == "Failed" else COLORS["muted"]))
            room = QRect(int(x) + 2, rect.top(), rect.right() - int(x) - 6, rect.height())
            shown = QFontMetrics(small).elidedText(item.detail, Qt.TextElideMode.ElideRight, room.width())
            painter.drawText(room, Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft, shown)
        painter.restore()

    @override
    def sizeHint(self, option: QStyleOptionViewItem, index: ModelIndex) -> QSize:
        item = _item(index)
        metrics = QFontMetrics(_pill_font(option.font))
        parts = [item.status.value, *(f"⋯ {p}" for p in item.pending)] if item else ["Unlogged"]
        width = sum(metrics.horizontalAdvance(p) + 22 for p in parts) + 12
        return QSize(width, metrics.height() + 16)


class ContactDelegate(QStyledItemDelegate):
    """The contact's name, then the number in a muted colour (or only the number)."""

    @override
    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: ModelIndex) -> None:
        item = _item(index)
        _paint_background(painter, option, option.widget)
        if item is None:
            return
        painter.save()
        rect: QRect = option.rect.adjusted(8, 0, -8, 0)
        font = QFont(option.font)
        name = item.contact_name
        if name:
            if item.has_crm_contact:
                font.setWeight(QFont.Weight.DemiBold)
            painter.setFont(font)
            painter.setPen(QColor(COLORS["text"]))
            metrics = QFontMetrics(font)
            shown = metrics.elidedText(name, Qt.TextElideMode.ElideRight, rect.width())
            painter.drawText(rect, Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft, shown)
            used = metrics.horizontalAdvance(shown) + 10
            if item.phone and used < rect.width() - 40:
                small = QFont(option.font)
                painter.setFont(small)
                painter.setPen(QColor(COLORS["muted"]))
                rest = rect.adjusted(used, 0, 0, 0)
                number = QFontMetrics(small).elidedText(item.phone, Qt.TextElideMode.ElideRight, rest.width())
                painter.drawText(rest, Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft, number)
        else:
            painter.setFont(font)
            painter.setPen(QColor(COLORS["text"]))
            painter.drawText(rect, Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft, item.who)
        painter.restore()


class ActionDelegate(QStyledItemDelegate):
    """One button per row: "+ Log" on calls to log, "Edit" on logged calls.

    Signals:
        action_requested(str, str): the call id and the :class:`RowAction` value clicked.
    """

    action_requested = Signal(str, str)

    def _button_rect(self, option: QStyleOptionViewItem, item: CallItem) -> QRectF:
        metrics = QFontMetrics(_pill_font(option.font))
        text = self._label(item)
        width = metrics.horizontalAdvance(text) + 22
        height = metrics.height() + 8
        rect = option.rect
        return QRectF(rect.right() - width - 10, rect.top() + (rect.height() - height) / 2, width, height)

    @staticmethod
    def _label(item: CallItem) -> str:
        action = primary_action(item)
        return "+ Log" if action is RowAction.LOG else action.value

    @override
    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: ModelIndex) -> None:
        item = _item(index)
        _paint_background(painter, option, option.widget)
        if item is None or item.status is LogStatus.SAVING:
            return
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        rect = self._button_rect(option, item)
        font = _pill_font(option.font)
        if primary_action(item) is RowAction.LOG:
            fg, bg, border = "#ffffff", COLORS["accent"], COLORS["accent"]
        else:
            fg, bg, border = COLORS["text"], COLORS["surface"], COLORS["border_strong"]
        painter.setPen(QPen(QColor(border)))
        painter.setBrush(QColor(bg))
        painter.drawRoundedRect(rect, 6, 6)
        painter.setPen(QPen(QColor(fg)))
        painter.setFont(font)
        painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, self._label(item))
        painter.restore()

    @override
    def sizeHint(self, option: QStyleOptionViewItem, index: ModelIndex) -> QSize:
        metrics = QFontMetrics(_pill_font(option.font))
        return QSize(metrics.horizontalAdvance("+ Log") + 60, metrics.height() + 16)

    @override
    def editorEvent(self, event: QEvent, model: Any, option: QStyleOptionViewItem, index: ModelIndex) -> bool:
        if event.type() != QEvent.Type.MouseButtonRelease or not isinstance(event, QMouseEvent):
            return False
        item = _item(index)
        if item is None or item.status is LogStatus.SAVING:
            return False
        if self._button_rect(option, item).contains(event.position()):
            self.action_requested.emit(item.call_id, primary_action(item).value)
            return True
        return False
