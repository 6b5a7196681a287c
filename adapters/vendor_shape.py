# SPDX-License-Identifier: MIT
"""Turns a vendor answer of an unexpected shape into :class:`~adapters.base.MalformedResponse`.

Adapters read vendor JSON defensively, but a value of the wrong type deep inside a record (a
number where a name belongs) still ends in a ``pydantic.ValidationError``, ``KeyError`` or
``TypeError`` when the adapter builds its models. :func:`vendor_shape` wraps a public adapter
method so such a failure reaches the engine as the contract promises: an
:class:`~adapters.base.AdapterError`, retryable, with what went wrong kept for the details view.

:func:`text_of` and :func:`id_of` read one value of a vendor record for adapters that read JSON
as dicts: a value of the wrong type is :class:`~adapters.base.MalformedResponse`, never coerced
(``str(194)`` would put a number where the CRM holds a subject or a note).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any, ParamSpec, TypeVar

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


def text_of(raw: Mapping[str, Any], key: str, *, crm: str) -> str | None:
    """The text value ``raw[key]``: ``None`` when it is absent or null.

    A value that is not text (a number where a subject or a note belongs) is never turned into
    text: that would put a number where the CRM holds words, and write it back later.

    Raises:
        MalformedResponse: the value is there and is not text.
    """
    value = raw.get(key)
    if value is None or isinstance(value, str):
        return value
    raise MalformedResponse(
        f"{crm} sent an answer in an unexpected shape.",
        vendor_message=f"{key} is {type(value).__name__}, not text",
    )


def id_of(raw: Mapping[str, Any], key: str = "id", *, crm: str, numeric: bool = False) -> str:
    """A record id as text. The API sends it as text (``numeric``: as a whole number or its digits).

    Raises:
        MalformedResponse: the id is missing, empty or of another type.
    """
    value = raw.get(key)
    if isinstance(value, str) and value and (not numeric or value.isdigit()):
        return value
    if numeric and isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    raise MalformedResponse(
        f"{crm} sent a record without a usable id.", vendor_message=f"{key} is {value!r}"[:200]
    )
