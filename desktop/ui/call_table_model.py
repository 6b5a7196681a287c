# SPDX-License-Identifier: MIT
"""The recent-calls table: one row per call, and the filter/sort proxy in front of it.

Threading contract: GUI thread only. Rows are plain :class:`CallItem` values built from the
engine's rows (:func:`CallItem.from_row`); the model never does I/O.

Why a hand-written proxy instead of ``QSortFilterProxyModel``: that class calls a Python
``filterAcceptsRow`` once per source row, which costs seconds for 100,000 calls. Here the filter
runs as one list comprehension over pre-lowered search keys and sorting uses ``list.sort`` with a
key, so a keystroke in the search box costs a few milliseconds.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from enum import StrEnum
from functools import lru_cache
from typing import Any

from PySide6.QtCore import (
    QAbstractProxyModel,
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    Signal,
)
from PySide6.QtGui import QBrush, QColor
from typing_extensions import override

ModelIndex = QModelIndex | QPersistentModelIndex
_ROOT = QModelIndex()


class LogStatus(StrEnum):
    """What the agent needs to know about a call's CRM log."""

    UNLOGGED = "Unlogged"
    SAVING = "Saving…"
    WAITING = "Preparing…"  # all-at-once logging: waiting for the final call data
    LOGGED = "Logged"
    FAILED = "Failed"


class CallFilter(StrEnum):
    ALL = "All"
    UNLOGGED = "Unlogged"
    LOGGED = "Logged"
    PENDING = "Pending"
    MISSED = "Missed"


MISSED_RESULTS = frozenset({"Missed", "Voicemail", "Hang Up", "Abandoned", "No Answer", "Rejected", "Busy"})


@dataclass(slots=True)
class CallItem:
    """One row of the table, in display terms.

    Attributes:
        call_id: the engine's id for the call (what every action passes back).
        pending: short labels of what is still on its way ("recording", "AI note", …).
        detail: a status message for the row (a failure, "answered by someone else").
        crm_log_id: the CRM record's id once logged ("Open in CRM" builds its link from it).
    """

    call_id: str
    direction: str
    start_time: datetime
    phone: str = ""
    contact_name: str = ""
    duration_seconds: int | None = None
    result: str = ""
    status: LogStatus = LogStatus.UNLOGGED
    pending: tuple[str, ...] = ()
    detail: str = ""
    crm_log_id: str | None = None
    log_url: str | None = None
    contact_id: str | None = None
    #: Whether ``contact_name`` is a CRM contact (vs. RingCentral's caller-id name).
    has_crm_contact: bool = False
    #: Lower-cased name + number digits: what the search box matches against.
    search_key: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        if not self.search_key:
            self.search_key = f"{self.contact_name.lower()}\x00{_digits(self.phone)}\x00{self.phone.lower()}"

    @property
    def is_missed(self) -> bool:
        return self.direction == "Inbound" and self.result in MISSED_RESULTS

    @property
    def is_pending(self) -> bool:
        return self.status in (LogStatus.SAVING, LogStatus.WAITING) or bool(self.pending)

    @property
    def who(self) -> str:
        return self.contact_name or self.phone or "Unknown caller"

    @classmethod
    def from_row(cls, row: Any) -> CallItem:
        """Builds an item from an engine ``CallRow`` (duck-typed: the table does not import the engine)."""
        status = _status_of(row)
        pending = tuple(_PENDING_LABELS.get(str(getattr(k, "value", k)), str(k)) for k in (row.pending or ()))
        detail = row.last_error or row.unlogged_reason or ""
        return cls(
            call_id=str(row.call_id),
            direction=str(getattr(row.direction, "value", row.direction)),
            start_time=row.start_time,
            phone=display_number(row.remote_number),
            contact_name=row.contact_name or row.remote_name or "",
            duration_seconds=row.duration,
            result=row.result or "",
            status=status,
            pending=pending if status is LogStatus.LOGGED else (),
            detail=detail,
            crm_log_id=row.crm_log_id,
            log_url=getattr(row, "log_url", None),
            contact_id=row.contact_id,
            has_crm_contact=bool(row.contact_name),
        )


_PENDING_LABELS = {"duration": "duration", "recording": "recording", "ai_note": "AI note", "transcript": "transcript"}


def _status_of(row: Any) -> LogStatus:
    value = str(getattr(row.status, "value", row.status)).lower()
    if value in ("logged", "complete", "pending"):
        return LogStatus.LOGGED
    if value in ("logging", "creating"):
        return LogStatus.SAVING
    if value == "waiting":
        return LogStatus.WAITING
    if value == "failed":
        return LogStatus.FAILED
    return LogStatus.UNLOGGED


@lru_cache(maxsize=4096)
def display_number(raw: str | None) -> str:
    """``+14045550158`` → ``+1 404-555-0158``; extensions and unparsable text as they are."""
    if not raw:
        return ""
    text = raw.strip()
    if len(_digits(text)) <= 6:
        return f"ext {text}" if text.isdigit() else text
    try:
        import phonenumbers

        parsed = phonenumbers.parse(text, None if text.startswith("+") else "US")
        if not phonenumbers.is_possible_number(parsed):
            return text
        return str(phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL))
    except Exception:
        return text


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)


def format_duration(seconds: int | None) -> str:
    if seconds is None:
        return "—"
    hours, rest = divmod(max(0, int(seconds)), 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def format_time(when: datetime, now: datetime) -> str:
    """``14:05`` today, ``Yesterday 09:12``, ``Mon 12 Nov 14:05`` this year, else with the year."""
    today = now.astimezone().date() if now.tzinfo else now.date()
    return _format_time(when, today)


@lru_cache(maxsize=8192)
def _format_time(when: datetime, today: date) -> str:
    local = when.astimezone() if when.tzinfo else when
    day = local.date()
    clock = f"{local:%H:%M}"
    if day == today:
        return clock
    if day == today - timedelta(days=1):
        return f"Yesterday {clock}"
    if day.year == today.year:
        return f"{local:%a} {local.day} {local:%b} {clock}"
    return f"{local.day} {local:%b %Y} {clock}"


class CallTableModel(QAbstractTableModel):
    """Recent calls, newest first as delivered; sorting and filtering happen in the proxy.

    Roles: ``SortRole`` gives native values (datetime, int, str); ``CallRole`` gives the
    :class:`CallItem`, so controllers read rows through the proxy, never by index arithmetic.
    """

    COL_DIRECTION, COL_TIME, COL_CONTACT, COL_DURATION, COL_RESULT, COL_STATUS, COL_ACTION = range(7)
    _HEADERS = ("", "Time", "Contact", "Duration", "Result", "Log status", "")

    SortRole = Qt.ItemDataRole.UserRole
    CallRole = Qt.ItemDataRole.UserRole + 1

    #: Emitted after a batch of ``dataChanged`` signals from :meth:`upsert`.
    batch_changed = Signal()

    def __init__(self, clock: Callable[[], datetime] = datetime.now, parent: Any = None) -> None:
        super().__init__(parent)
        self._rows: list[CallItem] = []
        self._row_of: dict[str, int] = {}
        #: Per row, parallel to ``_rows``: the search key and the filter bits (see ``filter_bits``).
        self._keys: list[str] = []
        self._flags = bytearray()
        self._unlogged: int | None = None
        #: True while :meth:`upsert` emits a batch of ``dataChanged`` signals.
        self.in_batch = False
        self._clock = clock
        self._icons: dict[str, Any] = {}
        self._missed_brush = QBrush(QColor("#b91c1c"))

    # --- Qt overrides ---------------------------------------------------------------------------

    @override
    def rowCount(self, parent: ModelIndex = _ROOT) -> int:
        return 0 if parent.isValid() else len(self._rows)

    @override
    def columnCount(self, parent: ModelIndex = _ROOT) -> int:
        return 0 if parent.isValid() else len(self._HEADERS)

    @override
    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and 0 <= section < len(self._HEADERS):
            if role == Qt.ItemDataRole.DisplayRole:
                return self._HEADERS[section]
            if role == Qt.ItemDataRole.ToolTipRole and section == self.COL_DIRECTION:
                return "Direction"
        return None

    @override
    def data(self, index: ModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        return self.cell(index.row(), index.column(), role)

    def cell(self, row: int, col: int, role: int) -> Any:
        """``data()`` by row and column (the proxy calls this directly)."""
        if not (0 <= row < len(self._rows)) or not (0 <= col < len(self._HEADERS)):
            return None
        item = self._rows[row]
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display_data(item, col)
        if role == self.SortRole:
            return self._sort_data(item, col)
        if role == self.CallRole:
            return item
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(item, col)
        if role == Qt.ItemDataRole.DecorationRole and col == self.COL_DIRECTION:
            return self._icons.get("missed" if item.is_missed else item.direction.lower())
        if role == Qt.ItemDataRole.ForegroundRole and col == self.COL_RESULT and item.is_missed:
            return self._missed_brush
        if role == Qt.ItemDataRole.TextAlignmentRole and col == self.COL_DURATION:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.AccessibleTextRole:
            return self._tooltip(item, col) if col == self.COL_DIRECTION else self._display_data(item, col)
        return None

    @override
    def flags(self, index: ModelIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable

    # --- data by role ---------------------------------------------------------------------------

    def _display_data(self, item: CallItem, col: int) -> str:
        if col == self.COL_DIRECTION:
            return ""  # an icon; the tooltip and accessible text say it in words
        if col == self.COL_TIME:
            return format_time(item.start_time, self._clock())
        if col == self.COL_CONTACT:
            return item.who
        if col == self.COL_DURATION:
            return format_duration(item.duration_seconds)
        if col == self.COL_RESULT:
            return item.result
        if col == self.COL_STATUS:
            return status_text(item)
        if col == self.COL_ACTION:
            return primary_action(item).value
        return ""

    def _sort_data(self, item: CallItem, col: int) -> Any:
        return sort_key(col)(item)

    def _tooltip(self, item: CallItem, col: int) -> str | None:
        if col == self.COL_DIRECTION:
            return "Missed call" if item.is_missed else f"{item.direction} call"
        if col == self.COL_CONTACT and item.contact_name and item.phone:
            return f"{item.contact_name}\n{item.phone}"
        if col == self.COL_TIME:
            local = item.start_time.astimezone() if item.start_time.tzinfo else item.start_time
            return f"{local:%A %d %B %Y, %H:%M:%S}"
        if col == self.COL_STATUS and item.detail:
            return item.detail
        return None

    # --- updates --------------------------------------------------------------------------------

    def set_icons(self, icons: dict[str, Any]) -> None:
        """Direction icons keyed ``inbound``/``outbound``/``missed`` (QIcon values)."""
        self._icons = icons

    def set_rows(self, items: Sequence[CallItem]) -> None:
        """Replaces every row (the first load)."""
        self.beginResetModel()
        self._rows = list(items)
        self._row_of = {item.call_id: i for i, item in enumerate(self._rows)}
        self._keys = [item.search_key for item in self._rows]
        self._flags = bytearray(filter_bits(item) for item in self._rows)
        self._unlogged = None
        self.endResetModel()

    def upsert(self, items: Iterable[CallItem]) -> tuple[int, int]:
        """Updates known calls in place and adds new ones, keeping selection and scroll.

        New calls newer than the newest row go to the top; others to the bottom (older pages).

        Returns:
            How many rows changed and how many were added.
        """
        changed_rows: list[int] = []
        new_top: list[CallItem] = []
        new_bottom: list[CallItem] = []
        newest = self._rows[0].start_time if self._rows else None
        last = self.columnCount() - 1
        for item in items:
            row = self._row_of.get(item.call_id)
            if row is not None:
                if self._rows[row] != item:
                    self._rows[row] = item
                    self._keys[row] = item.search_key
                    self._flags[row] = filter_bits(item)
                    self._unlogged = None
                    changed_rows.append(row)
            elif newest is not None and _aware(item.start_time) > _aware(newest):
                new_top.append(item)
            else:
                new_bottom.append(item)
        if changed_rows:
            # One signal per row for views, and one "batch finished" so the proxy re-sorts once.
            self.in_batch = True
            try:
                roles = [Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.DecorationRole, Qt.ItemDataRole.ToolTipRole]
                for row in changed_rows:
                    self.dataChanged.emit(self.index(row, 0), self.index(row, last), roles)
            finally:
                self.in_batch = False
            self.batch_changed.emit()
        changed = len(changed_rows)
        if new_top:
            new_top.sort(key=lambda i: _aware(i.start_time), reverse=True)
            self.beginInsertRows(QModelIndex(), 0, len(new_top) - 1)
            self._rows[:0] = new_top
            self._keys[:0] = [item.search_key for item in new_top]
            self._flags[:0] = bytearray(filter_bits(item) for item in new_top)
            self._unlogged = None
            self._row_of = {item.call_id: i for i, item in enumerate(self._rows)}
            self.endInsertRows()
        if new_bottom:
            first = len(self._rows)
            self.beginInsertRows(QModelIndex(), first, first + len(new_bottom) - 1)
            self._rows.extend(new_bottom)
            self._keys.extend(item.search_key for item in new_bottom)
            self._flags.extend(filter_bits(item) for item in new_bottom)
            self._unlogged = None
            for offset, item in enumerate(new_bottom):
                self._row_of[item.call_id] = first + offset
            self.endInsertRows()
        return changed, len(new_top) + len(new_bottom)

    def update_call(self, call_id: str, **changes: Any) -> None:
        """Changes one row's fields (e.g. ``status=LogStatus.SAVING`` right after Save)."""
        row = self._row_of.get(call_id)
        if row is None:
            return
        self.upsert([replace(self._rows[row], **changes)])

    def item(self, call_id: str) -> CallItem | None:
        row = self._row_of.get(call_id)
        return None if row is None else self._rows[row]

    def items(self) -> list[CallItem]:
        """The rows (do not mutate)."""
        return self._rows

    def unlogged_count(self) -> int:
        """Calls still to log (unlogged or failed); cached until the rows change."""
        if self._unlogged is None:
            self._unlogged = sum(1 for f in self._flags if f & BIT_UNLOGGED)
        return self._unlogged

    def oldest(self) -> datetime | None:
        if not self._rows:
            return None
        return min((i.start_time for i in self._rows), key=_aware)


def _aware(when: datetime) -> datetime:
    return when if when.tzinfo else when.astimezone()


class RowAction(StrEnum):
    LOG = "Log"
    EDIT = "Edit"
    OPEN = "Open in CRM"
    COPY = "Copy number"
    RETRY = "Retry"


def primary_action(item: CallItem) -> RowAction:
    """The one button a row shows: log it, or edit its log."""
    if item.status is LogStatus.LOGGED:
        return RowAction.EDIT
    if item.status is LogStatus.FAILED and item.crm_log_id:
        return RowAction.EDIT
    return RowAction.LOG


def status_text(item: CallItem) -> str:
    text = item.status.value
    if item.status is LogStatus.LOGGED and item.pending:
        text += " · pending " + ", ".join(item.pending)
    return text


def sort_key(col: int) -> Callable[[CallItem], Any]:
    if col == CallTableModel.COL_DIRECTION:
        return lambda i: (i.direction, i.is_missed)
    if col == CallTableModel.COL_TIME:
        return lambda i: _aware(i.start_time)
    if col == CallTableModel.COL_CONTACT:
        return lambda i: i.who.lower()
    if col == CallTableModel.COL_DURATION:
        return lambda i: -1 if i.duration_seconds is None else i.duration_seconds
    if col == CallTableModel.COL_RESULT:
        return lambda i: i.result
    if col == CallTableModel.COL_STATUS:
        order = {s: n for n, s in enumerate(LogStatus)}
        return lambda i: (order[i.status], len(i.pending))
    return lambda i: 0


BIT_UNLOGGED, BIT_LOGGED, BIT_PENDING, BIT_MISSED = 1, 2, 4, 8
FILTER_MASK = {
    CallFilter.UNLOGGED: BIT_UNLOGGED,
    CallFilter.LOGGED: BIT_LOGGED,
    CallFilter.PENDING: BIT_PENDING,
    CallFilter.MISSED: BIT_MISSED,
}


def filter_bits(item: CallItem) -> int:
    """Which filters ``item`` belongs to, as bits (so filtering 100,000 rows is one pass)."""
    bits = 0
    for which, bit in FILTER_MASK.items():
        if matches_filter(item, which):
            bits |= bit
    return bits


def matches_filter(item: CallItem, which: CallFilter) -> bool:
    if which is CallFilter.UNLOGGED:
        return item.status in (LogStatus.UNLOGGED, LogStatus.FAILED)
    if which is CallFilter.LOGGED:
        return item.status is LogStatus.LOGGED
    if which is CallFilter.PENDING:
        return item.is_pending
    if which is CallFilter.MISSED:
        return item.is_missed
    return True


class CallFilterProxy(QAbstractProxyModel):
    """Filters (All/Unlogged/Logged/Pending/Missed + search) and sorts the calls table.

    The visible rows are a list of source rows; changes in the source are forwarded in place
    (``dataChanged``) or as a layout change that keeps persistent indexes, so the view keeps its
    selection and scroll position when the poller updates rows.
    """

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._visible: list[int] = []
        self._proxy_row: dict[int, int] | None = None  # built lazily
        self._filter = CallFilter.ALL
        self._needle = ""
        self._sort_column = CallTableModel.COL_TIME
        self._sort_order = Qt.SortOrder.DescendingOrder
        self._order: list[int] | None = None  # source rows in sort order, cached
        self._batched: list[int] = []

    # --- wiring ---------------------------------------------------------------------------------

    @override
    def setSourceModel(self, source: QAbstractTableModel) -> None:  # type: ignore[override]
        old = self.sourceModel()
        if old is not None:
            for sig, slot in self._connections(old):
                sig.disconnect(slot)
        self.beginResetModel()
        super().setSourceModel(source)
        for sig, slot in self._connections(source):
            sig.connect(slot)
        self._recompute_all()
        self.endResetModel()

    def _connections(self, source: Any) -> list[tuple[Any, Any]]:
        return [
            (source.modelAboutToBeReset, self._on_source_about_to_reset),
            (source.modelReset, self._on_source_reset),
            (source.dataChanged, self._on_source_data_changed),
            (source.batch_changed, self._on_source_batch_changed),
            (source.rowsInserted, self._on_source_rows_inserted),
        ]

    def _src(self) -> CallTableModel:
        model = self.sourceModel()
        assert isinstance(model, CallTableModel)
        return model

    # --- public API -----------------------------------------------------------------------------

    def set_filter(self, which: CallFilter) -> None:
        if which is self._filter:
            return
        self._filter = which
        self._refilter(narrowing=False)

    def filter(self) -> CallFilter:
        return self._filter

    def set_search(self, text: str) -> None:
        needle = text.strip().lower()
        digits = _digits(needle)
        if digits and len(digits) >= max(1, len(re.sub(r"[\s()+\-.]", "", needle))):
            needle = digits  # a number typed with spaces or dashes matches the stored digits
        if needle == self._needle:
            return
        narrowing = bool(self._needle) and self._needle in needle
        self._needle = needle
        self._refilter(narrowing=narrowing)

    def item_at(self, proxy_row: int) -> CallItem | None:
        if 0 <= proxy_row < len(self._visible):
            return self._src().items()[self._visible[proxy_row]]
        return None

    def proxy_row_of(self, call_id: str) -> int | None:
        source_row = self._src()._row_of.get(call_id)
        if source_row is None:
            return None
        if self._proxy_row is not None:
            return self._proxy_row.get(source_row)
        try:
            return self._visible.index(source_row)  # one C-level scan; cheaper than building the map
        except ValueError:
            return None

    def visible_items(self) -> list[CallItem]:
        items = self._src().items()
        return [items[r] for r in self._visible]

    # --- Qt overrides ---------------------------------------------------------------------------

    @override
    def rowCount(self, parent: ModelIndex = _ROOT) -> int:
        return 0 if parent.isValid() else len(self._visible)

    @override
    def columnCount(self, parent: ModelIndex = _ROOT) -> int:
        source = self.sourceModel()
        return 0 if parent.isValid() or source is None else source.columnCount()

    @override
    def index(self, row: int, column: int, parent: ModelIndex = _ROOT) -> QModelIndex:
        if parent.isValid() or not (0 <= row < len(self._visible)) or not (0 <= column < self.columnCount()):
            return QModelIndex()
        return self.createIndex(row, column)

    @override
    def parent(self, index: ModelIndex = _ROOT) -> QModelIndex:  # type: ignore[override]
        return QModelIndex()

    @override
    def hasChildren(self, parent: ModelIndex = _ROOT) -> bool:
        return not parent.isValid() and bool(self._visible)

    @override
    def sibling(self, row: int, column: int, idx: ModelIndex) -> QModelIndex:
        return self.index(row, column)

    @override
    def mapToSource(self, proxy_index: ModelIndex) -> QModelIndex:
        if not proxy_index.isValid() or proxy_index.row() >= len(self._visible):
            return QModelIndex()
        return self._src().index(self._visible[proxy_index.row()], proxy_index.column())

    @override
    def mapFromSource(self, source_index: ModelIndex) -> QModelIndex:
        if not source_index.isValid():
            return QModelIndex()
        row = self._proxy_rows().get(source_index.row())
        return QModelIndex() if row is None else self.createIndex(row, source_index.column())

    @override
    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal:
            return self._src().headerData(section, orientation, role)
        return None

    @override
    def data(self, index: ModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        # Straight to the row, without building a source index per cell (painting calls this a lot).
        if not index.isValid() or index.row() >= len(self._visible):
            return None
        return self._src().cell(self._visible[index.row()], index.column(), role)

    @override
    def flags(self, index: ModelIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable

    @override
    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        if not (0 <= column < self.columnCount()):
            return
        self._sort_column, self._sort_order = column, order
        self._order = None
        self._relayout()

    # --- filtering ------------------------------------------------------------------------------

    def _sorted_rows(self) -> list[int]:
        if self._order is None:
            items = self._src().items()
            key = sort_key(self._sort_column)
            reverse = self._sort_order == Qt.SortOrder.DescendingOrder
            self._order = sorted(range(len(items)), key=lambda r: key(items[r]), reverse=reverse)
        return self._order

    def _accepted(self, candidates: Iterable[int]) -> list[int]:
        source = self._src()
        keys, flags = source._keys, source._flags
        which, needle = self._filter, self._needle
        if which is CallFilter.ALL and not needle:
            return list(candidates)
        if which is CallFilter.ALL:
            return [r for r in candidates if needle in keys[r]]
        mask = FILTER_MASK[which]
        if not needle:
            return [r for r in candidates if flags[r] & mask]
        return [r for r in candidates if flags[r] & mask and needle in keys[r]]

    def _proxy_rows(self) -> dict[int, int]:
        if self._proxy_row is None:
            self._proxy_row = {source: proxy for proxy, source in enumerate(self._visible)}
        return self._proxy_row

    def _recompute_all(self) -> None:
        self._order = None
        self._visible = self._accepted(self._sorted_rows()) if self.sourceModel() is not None else []
        self._proxy_row = None

    def _refilter(self, *, narrowing: bool) -> None:
        """A filter or search change: a reset (cheap here); the view restores selection by id."""
        self.beginResetModel()
        self._visible = self._accepted(self._visible if narrowing else self._sorted_rows())
        self._proxy_row = None
        self.endResetModel()

    def _relayout(self) -> None:
        """Recomputes the visible rows keeping persistent indexes (selection, current row)."""
        self.layoutAboutToBeChanged.emit()
        old_visible = self._visible
        persistent = self.persistentIndexList()
        remembered = [(p, old_visible[p.row()] if p.row() < len(old_visible) else None) for p in persistent]
        self._visible = self._accepted(self._sorted_rows())
        self._proxy_row = None
        self._finish_relayout(persistent, remembered)

    def _finish_relayout(self, persistent: list[QModelIndex], remembered: list[tuple[QModelIndex, int | None]]) -> None:
        """Moves each persistent index to its source row's new place (or drops it), then ends the
        layout change that the caller began."""
        rows = self._proxy_rows()
        new_indexes = []
        for p, source_row in remembered:
            target = rows.get(source_row) if source_row is not None else None
            new_indexes.append(QModelIndex() if target is None else self.createIndex(target, p.column()))
        self.changePersistentIndexList(persistent, new_indexes)
        self.layoutChanged.emit()

    # --- source signals -------------------------------------------------------------------------

    def _on_source_about_to_reset(self) -> None:
        self.beginResetModel()

    def _on_source_reset(self) -> None:
        self._recompute_all()
        self.endResetModel()

    def _on_source_data_changed(self, top_left: QModelIndex, bottom_right: QModelIndex, roles: list[int]) -> None:
        changed = list(range(top_left.row(), bottom_right.row() + 1))
        if self._src().in_batch:
            self._batched.extend(changed)  # handled once, in _on_source_batch_changed
            return
        self._apply_changes(changed, roles)

    def _on_source_batch_changed(self) -> None:
        changed, self._batched = self._batched, []
        if changed:
            self._apply_changes(changed, [])

    def _apply_changes(self, changed: list[int], roles: list[int]) -> None:
        """Rows changed in place: repaint them, or re-filter/re-sort once if they move."""
        rows = self._proxy_rows()
        membership_changed = any((r in rows) != bool(self._accepted([r])) for r in changed)
        if self._sort_column != CallTableModel.COL_TIME:
            self._order = None  # a status or duration change can move a row; start times never change
        if membership_changed or self._sort_column != CallTableModel.COL_TIME:
            self._relayout()
            return
        last = self.columnCount() - 1
        for source_row in changed:
            proxy_row = rows.get(source_row)
            if proxy_row is not None:
                self.dataChanged.emit(self.index(proxy_row, 0), self.index(proxy_row, last), roles)

    def _on_source_rows_inserted(self, parent: QModelIndex, first: int, last: int) -> None:
        # Source rows after ``first`` shifted: remap every persistent index through the layout.
        shift = last - first + 1
        self.layoutAboutToBeChanged.emit()
        persistent = self.persistentIndexList()
        remembered = []
        for p in persistent:
            source_row = self._visible[p.row()] if p.row() < len(self._visible) else None
            if source_row is not None and source_row >= first:
                source_row += shift
            remembered.append((p, source_row))
        self._order = None
        self._visible = self._accepted(self._sorted_rows())
        self._proxy_row = None
        self._finish_relayout(persistent, remembered)
