"""How a rule says no: one exception every service's domain raises (or subclasses), carrying
all an API needs to answer it, with no web framework. Pure. The kit's HTTP layer answers every
`Refusal` the same way (`servicekit.hosting.http`: RFC 9457 problem details)."""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum
from typing import Any


class Kind(Enum):
    """What sort of no. The value is the HTTP status it is answered with, as plain data."""

    NOT_FOUND = 404  # nothing the caller may see
    FORBIDDEN = 403  # never this caller's to do, whatever the state
    CONFLICT = 409  # not now: the state does not allow it
    INVALID = 422  # not so: the request itself does not hold


class Refusal(Exception):
    """A rule refused. `slug` names the problem (its type is `/problems/<slug>`), `title` says
    it in a few words, `detail` says it for this case, `extra` holds what is possible instead
    (more members of the answer), and `retry_after` (seconds), when set, says that asking again
    later may be answered differently.

    A subclass may fix `kind`, `slug`, `title` and `retry_after` as class attributes; the
    arguments, when given, override them."""

    kind: Kind = Kind.INVALID
    slug: str = "refused"
    title: str = "Not possible"
    retry_after: int | None = None

    def __init__(
        self,
        detail: str,
        *,
        kind: Kind | None = None,
        slug: str | None = None,
        title: str | None = None,
        extra: Mapping[str, Any] | None = None,
        retry_after: int | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        if kind is not None:
            self.kind = kind
        if slug is not None:
            self.slug = slug
        if title is not None:
            self.title = title
        if retry_after is not None:
            self.retry_after = retry_after
        self.extra: dict[str, Any] = dict(extra or {})
