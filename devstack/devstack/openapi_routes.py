"""Which operations of an OpenAPI document a client reaches through the gateway: the
gateway's route table applied to path templates."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from gateway.api import PROXIED_METHODS
from gateway.domain import has_dot_segments, route_for

INTERNAL_PREFIXES = ("/internal/", "/health", "/ready", "/metrics")
METHODS = tuple(m.lower() for m in ("GET", "PUT", "POST", "DELETE", "OPTIONS", "HEAD", "PATCH"))


def is_internal(path: str) -> bool:
    return path.startswith(INTERNAL_PREFIXES)


def sample_path(template: str) -> str:
    """A concrete path for an OpenAPI path template: the route table matches paths."""
    return re.sub(r"\{([^}/]+)\}", r"\1", template)


def template_pattern(template: str) -> re.Pattern[str]:
    """Which concrete paths an OpenAPI path template stands for (a parameter is one segment)."""
    return re.compile("^" + re.sub(r"\\\{[^}/]+\\\}", "[^/]+", re.escape(template)) + "$")


def forwarded_to(template: str, method: str, own: dict[str, Any]) -> str | None:
    """The service the gateway forwards `method template` to, None if it does not: the
    gateway's own routes (`own`, its paths object) come first, then its proxy, which takes
    only some methods and refuses paths the route table does not know."""
    path = sample_path(template)
    if any(
        method.lower() in operations and template_pattern(own_path).match(path)
        for own_path, operations in own.items()
    ):
        return None
    if method.upper() not in PROXIED_METHODS or has_dot_segments(path):
        return None
    route = route_for(path)
    return route.service if route else None


def operations(paths: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in paths.items():
        for method in METHODS:
            if method in item:
                yield path, method, item[method]
