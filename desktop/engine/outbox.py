# SPDX-License-Identifier: MIT
"""The outbox worker: executes recorded CRM writes, one at a time per CRM account.

Every CRM write is an ``outbox`` row before it is a request (see :mod:`desktop.engine.store`).
:meth:`Outbox.run` takes the due rows in order and hands each to the lifecycle:

- success → the row is done (in the same transaction as the state it produced);
- ``RateLimited`` → the row and the whole account wait ``retry_after`` (the CRM budget is
  blocked, so nothing else is sent in the penalty window);
- ``TransientError`` (timeouts, resets, 5xx) → retried with exponential backoff;
- ``AuthError`` → everything waits until the user reconnects (the status says so);
- any other ``AdapterError`` (validation, permission, not found) → the row stops with the CRM's
  words; the agent's input stays in the row and in the draft, nothing is lost;
- ``EditConflict`` → the edit stops; the agent chooses "reload" or "apply just my change".

Threading contract: :meth:`Outbox.run` may be called from any worker thread; a per-account lock
makes concurrent callers take turns, so at most one CRM request per account is in flight. Across
processes on one database, a :class:`~desktop.engine.claim.SendClaim` (an OS file lock) lets one
process send at a time: the other leaves the items alone, so no write is ever sent twice.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from adapters.base import AdapterError, AuthError, ConflictError, RateLimited, TransientError, ValidationError
from desktop.engine.claim import SendClaim
from desktop.engine.errors import EditConflict
from desktop.engine.lifecycle import Lifecycle, Postpone
from desktop.engine.models import OutboxOutcome
from desktop.engine.ports import Clock
from desktop.engine.scheduler import RateBudget, backoff
from desktop.engine.store import Intent, LinkState, OutboxItem, Store, ts

log = logging.getLogger(__name__)

#: After an AuthError, look again this much later (or as soon as the user reconnects).
AUTH_RETRY = timedelta(minutes=5)

#: While another process holds the send claim, look again this much later.
CLAIM_RETRY = timedelta(seconds=5)

#: CRM requests each intent needs at most (reserved from the budget before starting).
_COST = {Intent.CREATE: 2, Intent.COMPLETE: 2, Intent.EDIT: 2, "auto": 1}


@dataclass
class OutboxHealth:
    """What the last requests said about the CRM connection (read by ``Engine.status``)."""

    consecutive_transient: int = 0
    offline_since: datetime | None = None
    auth_failed: bool = False
    last_error: str | None = None


class Outbox:
    """Runs due outbox items for one CRM account.

    Args:
        store: the durable state.
        lifecycle: executes each intent.
        budget: the CRM's request budget.
        clock: the engine's clock.
        lock: the account's lock (shared with the engine's other CRM calls).
        offline_after: consecutive transient failures before the account counts as offline.
        claim: the cross-process send claim (None: this process is the only one).
    """

    def __init__(
        self,
        store: Store,
        lifecycle: Lifecycle,
        budget: RateBudget,
        clock: Clock,
        lock: threading.RLock,
        *,
        offline_after: int = 3,
        claim: SendClaim | None = None,
    ) -> None:
        self.claim = claim
        self.store = store
        self.lifecycle = lifecycle
        self.budget = budget
        self.clock = clock
        self.lock = lock
        self.offline_after = offline_after
        self.health = OutboxHealth()
        self._handlers: dict[str, Callable[[OutboxItem, datetime], Postpone | None]] = {
            Intent.CREATE: lifecycle.exec_create,
            Intent.COMPLETE: self._complete,
            Intent.EDIT: self._edit,
            "auto": self._auto,
        }

    @property
    def account(self) -> str:
        return self.lifecycle.config.account

    def _complete(self, item: OutboxItem, now: datetime) -> Postpone | None:
        return self.lifecycle.exec_complete(item, now)

    def _edit(self, item: OutboxItem, now: datetime) -> Postpone | None:
        return self.lifecycle.exec_edit(item, now)

    def _auto(self, item: OutboxItem, now: datetime) -> Postpone | None:
        self.lifecycle.exec_auto(item, now)
        return None

    def next_due(self) -> datetime | None:
        due = self.store.next_item_due(self.account)
        blocked = self.budget.blocked_until(self.clock.now())
        if due is not None and blocked is not None:
            return max(due, blocked)
        return due

    def run(self, max_items: int | None = None) -> OutboxOutcome:
        """Executes due items until none is due, the budget is spent, or ``max_items`` ran."""
        done = failed = retried = 0
        seen: set[int] = set()
        with self.lock:
            if self.claim is not None and not self.claim.acquire():
                # Another process on this database is sending: its items are not ours to touch.
                return OutboxOutcome(idle=False, next_due=self.clock.now() + CLAIM_RETRY)
            try:
                done, failed, retried = self._run_claimed(max_items, seen)
            finally:
                if self.claim is not None:
                    self.claim.release()
        nd = self.next_due()
        if nd is not None:
            # Items may be due while the budget is spent: they run when it has room again.
            nd = max(nd, self.budget.available_at(self.clock.now(), 2))
        return OutboxOutcome(done=done, failed=failed, retried=retried,
                             idle=nd is None or nd > self.clock.now(), next_due=nd)

    def _run_claimed(self, max_items: int | None, seen: set[int]) -> tuple[int, int, int]:
        done = failed = retried = 0
        ran = 0
        while max_items is None or ran < max_items:
            now = self.clock.now()
            items = [i for i in self.store.due_items(self.account, now, limit=20) if i.id not in seen]
            if not items:
                break
            stop = False
            for item in items:
                seen.add(item.id)
                if max_items is not None and ran >= max_items:
                    stop = True
                    break
                cost = _COST.get(item.intent, 2)
                if not self.budget.has_room(now, cost):
                    stop = True
                    break
                ran += 1
                try:
                    outcome = self.execute(item, now)
                except EditConflict:
                    outcome = "failed"  # the item and the call say why; the editor resolves it
                if outcome == "done":
                    done += 1
                elif outcome == "failed":
                    failed += 1
                elif outcome == "retry":
                    retried += 1
                elif outcome == "blocked":
                    retried += 1
                    stop = True
                    break
                now = self.clock.now()
            if stop:
                break
        return done, failed, retried

    def execute(self, item: OutboxItem, now: datetime) -> str:
        """Runs one item; returns "done", "postponed", "retry", "blocked" or "failed".

        ``EditConflict`` is re-raised after the item is marked failed, so a caller waiting on
        its own edit can offer the agent a choice.
        """
        if self.claim is not None and not self.claim.acquire():
            return "postponed"  # another process sends; it will take this item
        try:
            return self._execute_claimed(item, now)
        finally:
            if self.claim is not None:
                self.claim.release()

    def _execute_claimed(self, item: OutboxItem, now: datetime) -> str:
        handler = self._handlers.get(item.intent)
        if handler is None:
            self._fail(item, f"Unknown outbox intent {item.intent!r}", now)
            return "failed"
        try:
            result = handler(item, now)
        except RateLimited as exc:
            until = self.budget.block(now, exc.retry_after)
            log.info("outbox %s #%d: rate limited until %s", item.intent, item.id, until.isoformat())
            self.store.retry_item(item.id, until, str(exc), now, maybe_sent=item.maybe_sent)
            self.health.last_error = str(exc)
            return "blocked"
        except (TransientError, ConflictError) as exc:
            # A conflict that outlived the re-read loop is retried later like a transient error.
            fresh = self.store.item(item.id)
            self.store.retry_item(item.id, now + backoff(item.attempts + 1), str(exc), now,
                                  maybe_sent=fresh.maybe_sent if fresh else True)
            self.health.consecutive_transient += 1
            self.health.last_error = str(exc)
            log.info("outbox %s #%d: attempt %d failed, will retry: %s", item.intent, item.id, item.attempts + 1,
                     exc)
            if self.health.consecutive_transient >= self.offline_after and self.health.offline_since is None:
                self.health.offline_since = now
            return "retry"
        except AuthError as exc:
            # Not sent (the CRM refused the credentials), so a create cannot have happened.
            self.store.retry_item(item.id, now + AUTH_RETRY, str(exc), now, maybe_sent=item.maybe_sent)
            self.health.auth_failed = True
            self.health.last_error = str(exc)
            return "blocked"
        except EditConflict as exc:
            self._fail(item, exc.message, now)
            raise
        except AdapterError as exc:
            log.info("outbox %s #%d stopped: %s", item.intent, item.id, exc)
            self._fail(item, _agent_message(exc), now)
            self._healthy()
            return "failed"
        if isinstance(result, Postpone):
            self.store.postpone_item(item.id, result.until, now)
            if result.sent:
                self._healthy()
                self.health.last_error = None
            return "postponed"
        self._healthy()
        # The CRM answered: a wait, timeout or garbage reported earlier is over. Writes that failed
        # for good keep their message on their item and row.
        self.health.last_error = None
        return "done"

    def _healthy(self) -> None:
        self.health.consecutive_transient = 0
        self.health.offline_since = None
        self.health.auth_failed = False

    def _fail(self, item: OutboxItem, message: str, now: datetime) -> None:
        """Stops an item for good; the agent's input stays in the row (and the draft)."""
        with self.store.transaction() as conn:
            conn.execute(
                "UPDATE outbox SET state = 'failed', last_error = ?, updated_at = ? WHERE id = ?",
                (message, ts(now), item.id),
            )
            if item.intent == Intent.CREATE:
                conn.execute(
                    "UPDATE call_logs SET state = ?, last_error = ?, updated_at = ? WHERE session_id = ?"
                    " AND extension_id = ? AND state != ?",
                    (LinkState.FAILED, message, ts(now), item.session_id, item.extension_id, LinkState.LOGGED),
                )
            else:
                conn.execute(
                    "UPDATE call_logs SET last_error = ?, updated_at = ? WHERE session_id = ? AND extension_id = ?",
                    (message, ts(now), item.session_id, item.extension_id),
                )
        self.health.last_error = message


def _agent_message(exc: AdapterError) -> str:
    """What the agent reads when the CRM refused a write for good: our words plus the CRM's."""
    text = str(exc)
    if isinstance(exc, ValidationError) and exc.field and exc.field not in text:
        text = f"{text} Field: {exc.field}."
    return text
