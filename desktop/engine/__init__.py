# SPDX-License-Identifier: MIT
"""The call lifecycle engine (Qt-free): durable store, outbox, poller and auto-log.

The UI and the CLI use :class:`Engine` (``desktop.engine.service``) and the plain models in
``desktop.engine.models``; see the service module's docstring for the wiring and the threading
contract. Import submodules directly (``from desktop.engine.service import Engine``); this
package module stays import-light.
"""
