# SPDX-License-Identifier: MIT
"""``logdesk --check-start``: start as usual, check the window, quit. For CI and the benchmarks
(the bundle is checked this way, offscreen: ``QT_QPA_PLATFORM=offscreen logdesk --sandbox
--check-start``).

Prints, on standard output:

- ``painted <cpu s> <json>`` once the calls table has been painted for the first time (and
  flushed): the rows in the table then (the newest stored screenful), the call on top;
- ``started <cpu s> <json>`` once the rest of start-up has run and the table shows calls (stored
  ones, or the first sync's): the rows, the window title, the distinct colours in a grab of the
  window, whether the app's icon loaded, the banners shown;

then closes the window for good. Exit 0; 1 with the reason on standard error when start-up
failed, the window looks blank, the icon is missing, or no calls showed within ``timeout``.
"""

from __future__ import annotations

import json
import sys
import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from desktop.ui.main_controller import MainController

#: Distinct colours a grab of the window must have (a blank or unstyled window has a handful).
MIN_COLOURS = 8
POLL_MS = 50


def run(*, sandbox: bool, timeout: float = 90.0) -> int:
    from desktop.app import run_app

    outcome: dict[str, Any] = {"problems": []}

    def painted() -> None:
        from PySide6.QtCore import QTimer

        # On a zero timer, as the start-up benchmark times it: once the frame is painted and flushed.
        QTimer.singleShot(0, report_paint)
        QTimer.singleShot(int(timeout * 1000), give_up)

    def report_paint() -> None:
        cpu = time.process_time()
        from PySide6.QtWidgets import QApplication

        from desktop.ui.main_window import MainWindow

        window = next(w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow))
        top = window.proxy.item_at(0)
        shown = {"rows": window.model.rowCount(), "top": top.call_id if top is not None else None}
        print("painted", cpu, json.dumps(shown), flush=True)

    def give_up() -> None:
        if "details" not in outcome:
            outcome["problems"].append(f"start-up did not finish within {timeout:g} s")
            _finish(outcome, None)

    def started(controller: MainController | None) -> None:
        from PySide6.QtCore import QTimer

        if controller is None:
            outcome["problems"].append("start-up failed")
            _finish(outcome, None)
            return
        deadline = time.monotonic() + timeout
        timer = QTimer(controller)

        def check() -> None:
            if controller.model.rowCount() > 0:
                timer.stop()
                _finish(outcome, controller)
            elif time.monotonic() > deadline:
                timer.stop()
                outcome["problems"].append(f"no calls in the table after {timeout:g} s")
                _finish(outcome, controller)

        timer.timeout.connect(check)
        timer.start(POLL_MS)

    code = run_app(sandbox=sandbox, on_first_paint=painted, on_started=started)
    if "details" not in outcome and not outcome["problems"]:
        outcome["problems"].append("the app quit before start-up finished")
    for problem in outcome["problems"]:
        print(f"logdesk --check-start: {problem}", file=sys.stderr)
    return code or (1 if outcome["problems"] else 0)


def _finish(outcome: dict[str, Any], controller: MainController | None) -> None:
    """Looks at the window, prints what it saw, and closes it for good (whatever happens)."""
    from PySide6.QtWidgets import QApplication

    from desktop.ui.main_window import MainWindow

    window = controller.window if controller is not None else next(
        (w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow)), None
    )
    if window is None:
        QApplication.quit()
        return
    try:
        _look(outcome, window)
    except Exception as exc:
        outcome["problems"].append(f"could not look at the window: {exc!r}")
    finally:
        window.quit()


def _look(outcome: dict[str, Any], window: Any) -> None:
    from PySide6.QtWidgets import QApplication

    from desktop.ui.widgets import Banner
    banners = [(b.property("banner"), b.label.text()) for b in window.findChildren(Banner) if _shown(b)]
    image = window.grab().toImage()
    step = max(1, min(image.width(), image.height()) // 60)
    colours = {image.pixel(x, y) for x in range(0, image.width(), step) for y in range(0, image.height(), step)}
    app = QApplication.instance()
    icon_loaded = isinstance(app, QApplication) and not app.windowIcon().isNull()
    details = {
        "rows": window.model.rowCount() if window.calls_installed else 0,
        "title": window.windowTitle(),
        "colours": len(colours),
        "icon": icon_loaded,
        "banners": banners,
    }
    outcome["details"] = details
    print("started", time.process_time(), json.dumps(details), flush=True)
    if len(colours) < MIN_COLOURS:
        outcome["problems"].append(f"the window looks blank ({len(colours)} colours)")
    if not icon_loaded:
        outcome["problems"].append("the app's icon did not load (resources missing?)")
    for kind, text in banners:
        if kind == "error":
            outcome["problems"].append(f"the window shows an error: {text}")


def _shown(widget: Any) -> bool:
    """Shown, or about to be (a widget added to a shown layout is shown on the next event loop
    pass); not hidden on purpose (the offline banner until needed, a banner the agent dismissed)."""
    from PySide6.QtCore import Qt

    explicit = widget.testAttribute(Qt.WidgetAttribute.WA_WState_ExplicitShowHide)
    return not (explicit and widget.testAttribute(Qt.WidgetAttribute.WA_WState_Hidden))
