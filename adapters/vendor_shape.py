# SPDX-License-Identifier: MIT
"""Turns a vendor answer of an unexpected shape into :class:`~adapters.base.MalformedResponse`.

Adapters read vendor JSON defensively, but a value of the wrong type deep inside a record (a
number where a name belongs) still ends in a ``pydantic.ValidationError``, ``KeyError`` or
``TypeError`` when the adapter builds its models. :func:`vendor_shape` wraps a public adapter
method so such a failure reaches the engine as the contract promises: an
:class:`~adapters.base.AdapterError`, retryable, with what went wrong kept for the details view.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar

import pydantic

from adapters.base import AdapterError, MalformedResponse

P = ParamSpec("P")
R = TypeVar("R")

_SHAPE_ERRORS = (pydantic.ValidationError, KeyError, TypeError, AttributeError, IndexError, ValueError)


def vendor_shape(crm: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Decorator: shape errors while reading ``crm``'s answers become :class:`MalformedResponse`."""

    def wrap(method: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(method)
        def guarded(*args: P.args, **kwargs: P.kwargs) -> R:
            try:
                return method(*args, **kwargs)
            except AdapterError:
                raise
            except _SHAPE_ERRORS as exc:
                raise MalformedResponse(
                    f"{crm} sent an answer in an unexpected shape.", vendor_message=f"{type(exc).__name__}: {exc}"[:300]
                ) from exc

        return guarded

    return wrap
