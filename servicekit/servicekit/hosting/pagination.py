"""Opaque cursors for `?limit=&cursor=` lists: the sort key of the last item, base64-encoded."""

from __future__ import annotations

import base64
import json
from typing import Any

from servicekit.hosting.http import Problem

DEFAULT_LIMIT = 50
MAX_LIMIT = 200


def encode_cursor(*values: Any) -> str:
    raw = json.dumps([str(v) for v in values], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, parts: int) -> list[str]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
        if not isinstance(values, list) or len(values) != parts:
            raise ValueError(cursor)
        return [str(v) for v in values]
    except ValueError as error:
        raise Problem(
            422,
            "Invalid request",
            "The cursor is not one this list gave out",
            slug="validation-error",
            errors=[{"loc": ["query", "cursor"], "msg": "unknown cursor"}],
        ) from error
