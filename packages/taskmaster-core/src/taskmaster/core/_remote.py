"""Exceptions that cross a process boundary.

An exception travels as its own pickle inside the message, next to its type
name, message and traceback text.  The receiver gets the exception itself
when it unpickles, or a TaskmasterError holding the type name and message
when it does not; either way the sender's traceback is attached as the
``__cause__``.
"""

from __future__ import annotations

import pickle
import traceback
from typing import Any

from ._errors import RemoteTraceback, TaskmasterError

PackedError = tuple[bytes | None, str, str, str]


def pack_error(error: BaseException) -> PackedError:
    """Pickle ``error`` on its own, with its type name, message and traceback."""
    text = "".join(traceback.format_exception(type(error), error, error.__traceback__))
    blob: bytes | None
    try:
        # By reference where the C pickler can, so that the parent gets the
        # very class it knows; cloudpickle for classes it cannot import.
        blob = pickle.dumps(error, protocol=5)
    except Exception:
        import cloudpickle  # on first need: most errors pickle by reference

        try:
            blob = cloudpickle.dumps(error, protocol=5)
        except Exception:
            blob = None
    return blob, _type_name(type(error)), str(error), text


def unpack_error(packed: PackedError) -> Exception:
    """The exception described by :func:`pack_error`, with its traceback attached."""
    blob, type_name, message, text = packed
    error: Any = None
    if blob is not None:
        try:
            error = pickle.loads(blob)
        except Exception as failure:
            text += f"\n(the exception could not be unpickled here: {failure!r})"
    if not isinstance(error, Exception):
        error = TaskmasterError(f"{type_name}: {message}" if message else type_name)
    error.__cause__ = RemoteTraceback(text)
    return error  # type: ignore[no-any-return]


def _type_name(cls: type) -> str:
    module = cls.__module__
    return cls.__qualname__ if module == "builtins" else f"{module}.{cls.__qualname__}"
