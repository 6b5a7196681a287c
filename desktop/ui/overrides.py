# SPDX-License-Identifier: MIT
"""``@override`` for the type checker only.

``typing_extensions`` costs about 10 ms to import, and the calls table's modules load before the
window's first paint; at run time the decorator is the identity.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from typing_extensions import override as override
else:

    def override(fn: Any) -> Any:
        return fn


__all__ = ["override"]
