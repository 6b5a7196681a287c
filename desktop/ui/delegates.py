# SPDX-License-Identifier: MIT
"""Painting for the calls table: status badges, two-tone contact cells, the row's action button.

Threading contract: GUI thread only.

Every visible cell is painted here, in Python, on each repaint (a keystroke in the search box
repaints the list): flags, roles, colours, pens and fonts are made once, not per cell, and a cell
asks the model for what it shows in as few ``data()`` calls as it can.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from PySide6.QtCore import QEvent, QModelIndex, QPersistentModelIndex, QRect, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontMetrics, QIcon, QMouseEvent, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem

from desktop.ui.call_table_model import CallItem, CallTableModel, LogStatus, RowAction, primary_action
from desktop.ui.overrides import override
from desktop.ui.palette import BADGES, COLORS

ModelIndex = QModelIndex | QPersistentModelIndex

_CALL_ROLE = int(CallTableModel.CallRole)
_DISPLAY = int(Qt.ItemDataRole.DisplayRole)
_DECORATION = int(Qt.ItemDataRole.DecorationRole)
_FOREGROUND = int(Qt.ItemDataRole.ForegroundRole)
_ALIGNMENT = int(Qt.ItemDataRole.TextAlignmentRole)
_SELECTED_STATE = QStyle.StateFlag.State_Selected.value
_HOVER_STATE = QStyle.StateFlag.State_MouseOver.value
_LEFT = (Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter).value
_RIGHT = (Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter).value
_CENTER = Qt.AlignmentFlag.AlignCenter.value
_ELIDE = Qt.TextElideMode.ElideRight
_ANTIALIAS = QPainter.RenderHint.Antialiasing

_SELECTED = QColor(COLORS["selection"])
_HOVER = QColor("#f7f9fc")
_SEPARATOR = QColor("#eef1f4")
_TEXT_PEN = QPen(QColor(COLORS["text"]))
_MUTED_PEN = QPen(QColor(COLORS["muted"]))


@lru_cache(maxsize=64)
def _pen(colour: str) -> QPen:
    return QPen(QColor(colour))


@lru_cache(maxsize=64)
def _colour(colour: str) -> QColor:
    return QColor(colour)


def _item(index: ModelIndex) -> CallItem | None:
    value = index.data(_CALL_ROLE)
    return value if isinstance(value, CallItem) else None


def _paint_background(painter: QPainter, option: QStyleOptionViewItem) -> None:
    """Row background (selected / hovered) and the separator line under the row.

    Painted here rather than through the style: the style sheet's per-cell rule matching costs
    more than the rest of a repaint with 100,000 rows behind the view.
    """
    rect: QRect = option.rect
    state = option.state.value
    if state & _SELECTED_STATE:
        painter.fillRect(rect, _SELECTED)
    elif state & _HOVER_STATE:
        painter.fillRect(rect, _HOVER)
    painter.fillRect(rect.left(), rect.bottom(), rect.width(), 1, _SEPARATOR)


def paint_pill(painter: QPainter, rect: QRectF, text: str, fg: str, bg: str, font: QFont) -> None:
    radius = rect.height() / 2
    path = QPainterPath()
    path.addRoundedRect(rect, radius, radius)
    painter.fillPath(path, _colour(bg))
    painter.setPen(_pen(fg))
    painter.setFont(font)
    painter.drawText(rect, _CENTER, text)


class _Fonts:
    """The cell font and the fonts and metrics derived from it, made again only when it changes."""

    def __init__(self) -> None:
        self._base: QFont | None = None

    def of(self, option: QStyleOptionViewItem) -> _Fonts:
        font = option.font  # a view into the option, which Qt frees after the paint: copied below
        if self._base is None or font != self._base:
            font = QFont(font)
            self._base = font
            self.base, self.metrics = font, QFontMetrics(font)
            self.pill = _pill_font(font)
            self.pill_metrics = QFontMetrics(self.pill)
            self.small = _small_font(font)
            self.small_metrics = QFontMetrics(self.small)
            self.strong = QFont(font)
            self.strong.setWeight(QFont.Weight.DemiBold)
            self.strong_metrics = QFontMetrics(self.strong)
        return self


def _pill_font(base: QFont) -> QFont:
    font = QFont(base)
    font.setPointSizeF(max(7.5, base.pointSizeF() * 0.85))
    font.setWeight(QFont.Weight.DemiBold)
    return font


def _small_font(base: QFont) -> QFont:
    font = QFont(base)
    font.setPointSizeF(max(7.5, base.pointSizeF() * 0.9))
    return font


class TextDelegate(QStyledItemDelegate):
    """Plain cells (time, duration, result) and the direction icon, aligned with the painted ones."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._fonts = _Fonts()

    @override
    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: ModelIndex) -> None:
        _paint_background(painter, option)
        rect: QRect = option.rect.adjusted(8, 0, -8, 0)
        decoration = index.data(_DECORATION)
        if isinstance(decoration, QIcon):
            size = 16
            target = QRect(rect.left() + (rect.width() - size) // 2, rect.top() + (rect.height() - size) // 2,
                           size, size)
            decoration.paint(painter, target)
            return
        text = index.data(_DISPLAY)
        if not text:
            return
        fonts = self._fonts.of(option)
        brush = index.data(_FOREGROUND)
        align = index.data(_ALIGNMENT)
        painter.save()
        painter.setFont(fonts.base)
        painter.setPen(_pen(brush.color().name()) if brush is not None else _TEXT_PEN)
        shown = fonts.metrics.elidedText(str(text), _ELIDE, rect.width())
        painter.drawText(rect, align if align is not None else _LEFT, shown)
        painter.restore()


class StatusDelegate(QStyledItemDelegate):
    """The log status as a coloured pill, followed by one small pill per pending artifact."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._fonts = _Fonts()

    @override
    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: ModelIndex) -> None:
        item = _item(index)
        _paint_background(painter, option)
        if item is None:
            return
        fonts = self._fonts.of(option)
        painter.save()
        painter.setRenderHint(_ANTIALIAS)
        metrics = fonts.pill_metrics
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
            paint_pill(painter, QRectF(x, y, width, height), text, style.foreground, style.background, fonts.pill)
            x += width + 6
        if item.detail and not item.pending and x < rect.right() - 40:
            # Why it is not logged ("2 contacts match …") or what the CRM said, in a muted line.
            painter.setFont(fonts.small)
            painter.setPen(_pen(COLORS["danger"] if item.status.value == "Failed" else COLORS["muted"]))
            room = QRect(int(x) + 2, rect.top(), rect.right() - int(x) - 6, rect.height())
            shown = fonts.small_metrics.elidedText(item.detail, _ELIDE, room.width())
            painter.drawText(room, _LEFT, shown)
        painter.restore()

    @override
    def sizeHint(self, option: QStyleOptionViewItem, index: ModelIndex) -> QSize:
        item = _item(index)
        metrics = self._fonts.of(option).pill_metrics
        parts = [item.status.value, *(f"⋯ {p}" for p in item.pending)] if item else ["Unlogged"]
        width = sum(metrics.horizontalAdvance(p) + 22 for p in parts) + 12
        return QSize(width, metrics.height() + 16)


class ContactDelegate(QStyledItemDelegate):
    """The contact's name, then the number in a muted colour (or only the number)."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._fonts = _Fonts()

    @override
    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: ModelIndex) -> None:
        item = _item(index)
        _paint_background(painter, option)
        if item is None:
            return
        fonts = self._fonts.of(option)
        painter.save()
        rect: QRect = option.rect.adjusted(8, 0, -8, 0)
        name = item.contact_name
        painter.setPen(_TEXT_PEN)
        if name:
            strong = item.has_crm_contact
            font, metrics = (fonts.strong, fonts.strong_metrics) if strong else (fonts.base, fonts.metrics)
            painter.setFont(font)
            shown = metrics.elidedText(name, _ELIDE, rect.width())
            painter.drawText(rect, _LEFT, shown)
            used = metrics.horizontalAdvance(shown) + 10
            if item.phone and used < rect.width() - 40:
                painter.setFont(fonts.base)
                painter.setPen(_MUTED_PEN)
                rest = rect.adjusted(used, 0, 0, 0)
                painter.drawText(rest, _LEFT, fonts.metrics.elidedText(item.phone, _ELIDE, rest.width()))
        else:
            painter.setFont(fonts.base)
            painter.drawText(rect, _LEFT, item.who)
        painter.restore()


class ActionDelegate(QStyledItemDelegate):
    """One button per row: "+ Log" on calls to log, "Edit" on logged calls.

    Signals:
        action_requested(str, str): the call id and the :class:`RowAction` value clicked.
    """

    action_requested = Signal(str, str)

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._fonts = _Fonts()

    def _button_rect(self, option: QStyleOptionViewItem, item: CallItem) -> QRectF:
        metrics = self._fonts.of(option).pill_metrics
        width = metrics.horizontalAdvance(self._label(item)) + 22
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
        _paint_background(painter, option)
        if item is None or item.status is LogStatus.SAVING:
            return
        painter.save()
        painter.setRenderHint(_ANTIALIAS)
        rect = self._button_rect(option, item)
        if primary_action(item) is RowAction.LOG:
            fg, bg, border = "#ffffff", COLORS["accent"], COLORS["accent"]
        else:
            fg, bg, border = COLORS["text"], COLORS["surface"], COLORS["border_strong"]
        painter.setPen(_pen(border))
        painter.setBrush(_colour(bg))
        painter.drawRoundedRect(rect, 6, 6)
        painter.setPen(_pen(fg))
        painter.setFont(self._fonts.of(option).pill)
        painter.drawText(rect, _CENTER, self._label(item))
        painter.restore()

    @override
    def sizeHint(self, option: QStyleOptionViewItem, index: ModelIndex) -> QSize:
        metrics = self._fonts.of(option).pill_metrics
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
