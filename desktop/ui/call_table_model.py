# SPDX-License-Identifier: MIT
"""The calls table: one row per stored call, and the filter/sort proxy in front of it.

Threading contract: GUI thread only. Rows are plain :class:`CallItem` values built from the
engine's rows (:func:`CallItem.from_row`).

Every stored call has a row, but a row's :class:`CallItem` is read only when it is shown. The
model keeps, per row, the call id and start time (what the list's order needs, from
:meth:`CallListing.order <desktop.engine.listing.CallListing.order>`), then the search key, the
filter bits and the sort values of every call (from the listing's :meth:`index
<desktop.engine.listing.CallListing.index>`, which arrives a moment later); the proxy asks for the
rows around the ones being painted, a page at a time, through the reader the controller sets
(:meth:`CallTableModel.set_reader`: a read-only SQLite query). Rows the poller delivers come as
items and replace what was read.

Why a hand-written proxy instead of ``QSortFilterProxyModel``: that class calls a Python
``filterAcceptsRow`` once per source row, which costs seconds for 100,000 calls. Here the filter
runs as one list comprehension over pre-lowered search keys and sorting uses ``list.sort`` with a
key, so a keystroke in the search box costs a few milliseconds.
"""

from __future__ import annotations

import itertools
import logging
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

from desktop.engine import listing
from desktop.engine.listing import MISSED_RESULTS, CallIndex, ts
from desktop.ui.overrides import override

log = logging.getLogger(__name__)

ModelIndex = QModelIndex | QPersistentModelIndex
_ROOT = QModelIndex()

# Roles and flags as plain values, made once: data() and flags() run for every cell painted.
_DISPLAY = int(Qt.ItemDataRole.DisplayRole)
_DECORATION = int(Qt.ItemDataRole.DecorationRole)
_TOOLTIP = int(Qt.ItemDataRole.ToolTipRole)
_ALIGNMENT = int(Qt.ItemDataRole.TextAlignmentRole)
_FOREGROUND = int(Qt.ItemDataRole.ForegroundRole)
_ACCESSIBLE = int(Qt.ItemDataRole.AccessibleTextRole)
_SORT = int(Qt.ItemDataRole.UserRole)
_CALL = _SORT + 1
_RIGHT_ALIGNED = (Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter).value
_ROW_FLAGS = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
_NO_FLAGS = Qt.ItemFlag.NoItemFlags


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
            self.search_key = listing.search_key(self.contact_name, self.phone)

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
    nanp = _NANP.fullmatch(text)
    if nanp:
        # What phonenumbers writes for every North American number, without importing it (the
        # first screenful is formatted before the window's first paint); tests compare the two.
        return f"+1 {nanp[1]}-{nanp[2]}-{nanp[3]}"
    try:
        import phonenumbers

        parsed = phonenumbers.parse(text, None if text.startswith("+") else "US")
        if not phonenumbers.is_possible_number(parsed):
            return text
        return str(phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL))
    except Exception:
        return text


_NANP = re.compile(r"\+1([2-9]\d\d)(\d{3})(\d{4})")
_NOT_DIGITS = re.compile(r"\D")


def _digits(text: str) -> str:
    return _NOT_DIGITS.sub("", text)


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
    """Every stored call, in no particular order (the proxy sorts); see the module docstring.

    Roles: ``SortRole`` gives native values (datetime, int, str); ``CallRole`` gives the
    :class:`CallItem`, so controllers read rows through the proxy, never by index arithmetic.
    """

    COL_DIRECTION, COL_TIME, COL_CONTACT, COL_DURATION, COL_RESULT, COL_STATUS, COL_ACTION = range(7)
    _HEADERS = ("", "Time", "Contact", "Duration", "Result", "Log status", "")

    SortRole = _SORT
    CallRole = _CALL

    #: Emitted after a batch of ``dataChanged`` signals from :meth:`upsert`.
    batch_changed = Signal()
    #: Emitted when search keys, filter bits and sort values came for rows not read yet
    #: (:meth:`set_index`): the proxy filters and sorts again.
    index_changed = Signal()

    def __init__(self, clock: Callable[[], datetime] = datetime.now, parent: Any = None) -> None:
        super().__init__(parent)
        # Parallel per-row columns. ``_items[r]`` is None until row r is read; ``_meta[r]`` holds
        # the listing's (name, number, duration, result, state) for sorting rows not read yet.
        self._ids: list[str] = []
        self._starts: list[str] = []
        self._keys: list[str] = []
        self._flags = bytearray()
        self._items: list[CallItem | None] = []
        self._meta: list[tuple[str, str, int, str, int] | None] = []
        self._row_of: dict[str, int] | None = None  # built when first needed
        self._unlogged: int | None = None
        self._reader: Callable[[list[str]], list[CallItem]] | None = None
        #: True while :meth:`upsert` emits a batch of ``dataChanged`` signals.
        self.in_batch = False
        self._clock = clock
        self._icons: dict[str, Any] = {}
        self._missed_brush = QBrush(QColor("#b91c1c"))

    # --- Qt overrides ---------------------------------------------------------------------------

    @override
    def rowCount(self, parent: ModelIndex = _ROOT) -> int:
        return 0 if parent.isValid() else len(self._ids)

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
        row = index.row()
        if 0 <= row < len(self._items) and self._items[row] is None:
            self.read_rows(range(row, min(row + READ_PAGE, len(self._items))))
        return self.cell(row, index.column(), role)

    def cell(self, row: int, col: int, role: int) -> Any:
        """``data()`` by row and column (the proxy calls this directly, after :meth:`read_rows`)."""
        if not (0 <= row < len(self._items)) or not (0 <= col < len(self._HEADERS)):
            return None
        item = self._items[row] or self._read_one(row)
        if role == _DISPLAY:
            return self._display_data(item, col)
        if role == _CALL:
            return item
        if role == _SORT:
            return self._sort_data(item, col)
        if role == _TOOLTIP:
            return self._tooltip(item, col)
        if role == _DECORATION:
            return self._icons.get("missed" if item.is_missed else item.direction.lower()) if col == 0 else None
        if role == _FOREGROUND:
            return self._missed_brush if col == self.COL_RESULT and item.is_missed else None
        if role == _ALIGNMENT:
            return _RIGHT_ALIGNED if col == self.COL_DURATION else None
        if role == _ACCESSIBLE:
            return self._tooltip(item, col) if col == self.COL_DIRECTION else self._display_data(item, col)
        return None

    @override
    def flags(self, index: ModelIndex) -> Qt.ItemFlag:
        return _ROW_FLAGS if index.isValid() else _NO_FLAGS

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

    # --- reading rows ---------------------------------------------------------------------------

    def set_reader(self, reader: Callable[[list[str]], list[CallItem]] | None) -> None:
        """How rows not read yet are read: call ids in, items out (calls that no longer exist are
        left out). The controller passes a query on its own read-only connection."""
        self._reader = reader

    def read_rows(self, rows: Iterable[int]) -> None:
        """Reads the items of those of ``rows`` not read yet, in one go."""
        missing = [r for r in rows if self._items[r] is None]
        if not missing:
            return
        try:
            found = {i.call_id: i for i in self._reader([self._ids[r] for r in missing])} if self._reader else {}
        except Exception:
            log.exception("reading %d calls for the table failed", len(missing))
            return  # shown from what the listing said, and read again when next painted
        for r in missing:
            self._set_item(r, found.get(self._ids[r]) or self._stand_in(r))

    def _read_one(self, row: int) -> CallItem:
        self.read_rows([row])
        return self._items[row] or self._stand_in(row)

    def _stand_in(self, row: int) -> CallItem:
        """A row as far as the listing knows it (a call gone from the store, or a failed read)."""
        meta = self._meta[row]
        name, number, duration, result, state = meta if meta is not None else ("", "", -1, "", 0)
        return CallItem(
            call_id=self._ids[row],
            direction="Outbound" if state & listing.OUTBOUND else "Inbound",
            start_time=datetime.fromisoformat(self._starts[row]),
            phone=display_number(number),
            contact_name=name,
            duration_seconds=None if duration < 0 else duration,
            result=result,
            status=_STATUS_OF_STATE[state & listing.STATE_MASK],
        )

    def _set_item(self, row: int, item: CallItem) -> None:
        self._items[row] = item
        self._meta[row] = None  # the item says it all now
        start = ts(item.start_time)
        if start != self._starts[row]:
            self._starts[row] = start  # a live call's start moves to its record's
        if item.search_key == self._keys[row]:
            item.search_key = self._keys[row]  # one string for both (100,000 rows: 8 MB)
        self._keys[row] = item.search_key
        bits = filter_bits(item)
        if bits != self._flags[row]:
            self._flags[row] = bits
            self._unlogged = None

    # --- updates --------------------------------------------------------------------------------

    def set_icons(self, icons: dict[str, Any]) -> None:
        """Direction icons keyed ``inbound``/``outbound``/``missed`` (QIcon values)."""
        self._icons = icons

    def set_rows(self, items: Sequence[CallItem]) -> None:
        """Replaces every row with these items (the first screenful; tests)."""
        self.beginResetModel()
        self._ids = [item.call_id for item in items]
        self._starts = [ts(item.start_time) for item in items]
        self._keys = [item.search_key for item in items]
        self._flags = bytearray(filter_bits(item) for item in items)
        self._items = list(items)
        self._meta = [None] * len(items)
        self._forget_caches()
        self.endResetModel()

    def set_calls(self, ids: Sequence[str], starts: Sequence[str], *, keep_read: bool = True) -> None:
        """Replaces every row with the listed calls (ids and :func:`~desktop.engine.listing.ts`
        start times), not read yet; with ``keep_read``, rows already read (or delivered) for the
        same calls keep their items."""
        kept = {i.call_id: i for i in self._items if i is not None} if keep_read else {}
        self.beginResetModel()
        self._ids = list(ids)
        self._starts = list(starts)
        self._keys = [""] * len(self._ids)
        self._flags = bytearray(len(self._ids))
        self._items = [None] * len(self._ids)
        self._meta = [None] * len(self._ids)
        self._forget_caches()
        if kept:
            row_of = self._rows_by_id()
            for call_id, item in kept.items():
                row = row_of.get(call_id)
                if row is not None:
                    self._set_item(row, item)
        self.endResetModel()

    def set_index(self, index: CallIndex) -> None:
        """Search keys, filter bits and sort values for every listed call; rows already read keep
        what their items say (they are as new or newer)."""
        row_of = self._rows_by_id()
        items, keys, flags, meta = self._items, self._keys, self._flags, self._meta
        bits = index.states.translate(_STATE_BITS)
        columns = zip(index.ids, index.keys, bits, index.names, index.numbers, index.durations, index.results,
                      index.states, strict=True)
        for call_id, key, bit, name, number, duration, result, state in columns:
            row = row_of.get(call_id)
            if row is None:
                continue  # stored since the list was read: the poller brings it
            if items[row] is None:
                meta[row] = (name, number, duration, result, state)
                keys[row] = key
                flags[row] = bit
        self._unlogged = None
        self.index_changed.emit()

    def _forget_caches(self) -> None:
        self._row_of = None
        self._unlogged = None

    def _rows_by_id(self) -> dict[str, int]:
        if self._row_of is None:
            self._row_of = dict(zip(self._ids, range(len(self._ids)), strict=True))
        return self._row_of

    def row_of(self, call_id: str) -> int | None:
        return self._rows_by_id().get(call_id)

    def upsert(self, items: Iterable[CallItem]) -> tuple[int, int]:
        """Updates known calls in place and appends new ones, keeping selection and scroll.

        Returns:
            How many rows changed and how many were added.
        """
        row_of = self._rows_by_id()
        changed_rows: list[int] = []
        new: list[CallItem] = []
        last = self.columnCount() - 1
        for item in items:
            row = row_of.get(item.call_id)
            if row is None:
                new.append(item)
            elif self._items[row] != item:
                self._set_item(row, item)
                changed_rows.append(row)
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
        if new:
            new = list({item.call_id: item for item in new}.values())
            first = len(self._ids)
            starts = [ts(item.start_time) for item in new]
            self.beginInsertRows(QModelIndex(), first, first + len(new) - 1)
            self._ids.extend(item.call_id for item in new)
            self._starts.extend(starts)
            self._keys.extend(item.search_key for item in new)
            self._flags.extend(filter_bits(item) for item in new)
            self._items.extend(new)
            self._meta.extend([None] * len(new))
            for offset, item in enumerate(new):
                row_of[item.call_id] = first + offset
            self._unlogged = None
            self.endInsertRows()
        return len(changed_rows), len(new)

    def update_call(self, call_id: str, **changes: Any) -> None:
        """Changes one row's fields (e.g. ``status=LogStatus.SAVING`` right after Save)."""
        current = self.item(call_id)
        if current is not None:
            self.upsert([replace(current, **changes)])

    def item(self, call_id: str) -> CallItem | None:
        row = self.row_of(call_id)
        return None if row is None else self.item_at(row)

    def item_at(self, row: int) -> CallItem:
        """Row ``row``'s item (read now if it was not)."""
        return self._items[row] or self._read_one(row)

    def is_known(self, call_id: str) -> bool:
        return self.row_of(call_id) is not None

    def items(self) -> list[CallItem]:
        """Every row's item, reading those not read yet a page at a time (all of them: tests, short
        lists; the views read only what they show)."""
        for start in range(0, len(self._items), READ_PAGE * 10):
            self.read_rows(range(start, min(start + READ_PAGE * 10, len(self._items))))
        return [i or self._stand_in(r) for r, i in enumerate(self._items)]

    def unlogged_count(self) -> int:
        """Calls still to log (unlogged or failed); cached until the rows change."""
        if self._unlogged is None:
            self._unlogged = self._flags.translate(_UNLOGGED_ONLY).count(1)
        return self._unlogged

    def sort_values(self, col: int) -> Sequence[Any]:
        """One sort value per row for column ``col`` (start times as sortable text for the time)."""
        if col == self.COL_TIME:
            return self._starts
        if col == self.COL_CONTACT:
            return [_contact_order(k) for k in self._keys]  # the search key has what it needs
        key = sort_key(col)
        from_meta = _META_SORT.get(col, _unsorted)
        fallback = _SORT_FALLBACK.get(col, 0)
        return [
            key(item) if item is not None else fallback if meta is None else from_meta(meta)
            for item, meta in zip(self._items, self._meta, strict=True)
        ]


#: Rows read per query when a row not read yet is shown (a few screenfuls).
READ_PAGE = 60


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
        return lambda i: _contact_order(i.search_key)
    if col == CallTableModel.COL_DURATION:
        return lambda i: -1 if i.duration_seconds is None else i.duration_seconds
    if col == CallTableModel.COL_RESULT:
        return lambda i: i.result
    if col == CallTableModel.COL_STATUS:
        return lambda i: (_STATUS_ORDER[i.status], len(i.pending))
    return lambda i: 0


_STATUS_ORDER = {s: n for n, s in enumerate(LogStatus)}


def _contact_order(search_key: str) -> str:
    """The Contact column's sort value: the name, else the number's digits (the same order as the
    number shown, and known from the search key for rows not read yet)."""
    name, _, digits = search_key.partition("\x00")
    return name or digits or "unknown caller"

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


# The listing's state byte (desktop.engine.listing) in the table's terms.
_STATUS_OF_STATE = (
    LogStatus.UNLOGGED, LogStatus.WAITING, LogStatus.SAVING, LogStatus.LOGGED, LogStatus.FAILED,
    LogStatus.UNLOGGED, LogStatus.UNLOGGED, LogStatus.UNLOGGED,
)


def _pending_count(state: int) -> int:
    """Pending artifacts, counted for logged calls only (as :meth:`CallItem.from_row` keeps them)."""
    if state & listing.STATE_MASK != listing.STATE_LOGGED:
        return 0
    return (state & listing.PENDING_MASK) >> listing.PENDING_SHIFT


def _bits_of_state(state: int) -> int:
    """:func:`filter_bits` of a call the listing describes with ``state``."""
    status = _STATUS_OF_STATE[state & listing.STATE_MASK]
    bits = BIT_UNLOGGED if status in (LogStatus.UNLOGGED, LogStatus.FAILED) else 0
    if status is LogStatus.LOGGED:
        bits |= BIT_LOGGED
    if status in (LogStatus.SAVING, LogStatus.WAITING) or _pending_count(state):
        bits |= BIT_PENDING
    if state & listing.MISSED:
        bits |= BIT_MISSED
    return bits


_STATE_BITS = bytes(_bits_of_state(state) for state in range(256))
_UNLOGGED_ONLY = bytes(1 if bits & BIT_UNLOGGED else 0 for bits in range(256))

# Sort values of rows not read yet, from the listing's (name, number, duration, result, state);
# each gives what sort_key() gives for the row's item.
_Meta = tuple[str, str, int, str, int]
_META_SORT: dict[int, Callable[[_Meta], Any]] = {
    CallTableModel.COL_DIRECTION: lambda m: (
        "Outbound" if m[4] & listing.OUTBOUND else "Inbound", bool(m[4] & listing.MISSED)
    ),
    CallTableModel.COL_DURATION: lambda m: m[2],
    CallTableModel.COL_RESULT: lambda m: m[3],
    CallTableModel.COL_STATUS: lambda m: (
        _STATUS_ORDER[_STATUS_OF_STATE[m[4] & listing.STATE_MASK]], _pending_count(m[4])
    ),
}
def _unsorted(meta: _Meta) -> int:
    return 0


#: The sort value of a row known only by id and start time (until the listing's index arrives).
_SORT_FALLBACK: dict[int, Any] = {
    CallTableModel.COL_DIRECTION: ("", False),
    CallTableModel.COL_DURATION: -1,
    CallTableModel.COL_RESULT: "",
    CallTableModel.COL_STATUS: (0, 0),
}


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
        self._source: CallTableModel | None = None

    # --- wiring ---------------------------------------------------------------------------------

    @override
    def setSourceModel(self, source: QAbstractTableModel) -> None:  # type: ignore[override]
        old = self.sourceModel()
        if old is not None:
            for sig, slot in self._connections(old):
                sig.disconnect(slot)
        self.beginResetModel()
        super().setSourceModel(source)
        self._source = source if isinstance(source, CallTableModel) else None
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
            (source.index_changed, self._on_source_index_changed),
        ]

    def _src(self) -> CallTableModel:
        assert self._source is not None
        return self._source

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
            self._read_around(proxy_row)
            return self._src().item_at(self._visible[proxy_row])
        return None

    def next_row_with(self, mask: int, after: int | None) -> int | None:
        """The first visible row below ``after`` (wrapping around) whose filter bits meet ``mask``."""
        flags = self._src()._flags
        start = 0 if after is None else after + 1
        visible = self._visible
        for proxy_row in itertools.chain(range(start, len(visible)), range(min(start, len(visible)))):
            if flags[visible[proxy_row]] & mask:
                return proxy_row
        return None

    def proxy_row_of(self, call_id: str) -> int | None:
        source_row = self._src().row_of(call_id)
        if source_row is None:
            return None
        if self._proxy_row is not None:
            return self._proxy_row.get(source_row)
        try:
            return self._visible.index(source_row)  # one C-level scan; cheaper than building the map
        except ValueError:
            return None

    def visible_items(self) -> list[CallItem]:
        """Every visible row's item, reading those not read yet (for short lists: tests)."""
        source = self._src()
        source.read_rows(self._visible)
        return [source.item_at(r) for r in self._visible]

    def _read_around(self, proxy_row: int) -> None:
        """Reads the rows near ``proxy_row`` in the order shown (a page, in one query)."""
        source = self._src()
        if source._items[self._visible[proxy_row]] is None:
            source.read_rows(self._visible[max(0, proxy_row - READ_PAGE // 4) : proxy_row + READ_PAGE])

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
        source = self._src()
        row = self._visible[index.row()]
        if source._items[row] is None:
            self._read_around(index.row())
        return source.cell(row, index.column(), role)

    @override
    def flags(self, index: ModelIndex) -> Qt.ItemFlag:
        return _ROW_FLAGS if index.isValid() else _NO_FLAGS

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
            values = self._src().sort_values(self._sort_column)
            reverse = self._sort_order == Qt.SortOrder.DescendingOrder
            self._order = sorted(range(len(values)), key=values.__getitem__, reverse=reverse)
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

    def _on_source_index_changed(self) -> None:
        """Search keys, filter bits and sort values came for rows not read yet."""
        if self._filter is not CallFilter.ALL or self._needle or self._sort_column != CallTableModel.COL_TIME:
            self._order = None
            self._relayout()

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
