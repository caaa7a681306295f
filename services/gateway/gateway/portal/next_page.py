"""Where sign-in returns to: the page the person asked for (`next`), when it is one of the
portal's own pages.

Only a relative path on this site under `/portal` is taken; an absolute URL, a
protocol-relative `//host`, a backslash (browsers read `/\\host` as `//host`), an encoded
slash or dot segment, a control character or anything overlong falls back to the home page:
an open redirect would let a link that looks like ours send someone, signed in, anywhere."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from gateway.portal.settings import PORTAL

MAX_NEXT_CHARS = 1_000
# Letters, digits and the URL characters a portal path or query uses; no `\`, no `%2f`/`%5c`.
SAFE_CHARS = re.compile(r"[A-Za-z0-9/_.~:@!$&'()*+,;=?%-]*")
SIGN_IN = f"{PORTAL}/sign-in"


def safe_next(value: str | None) -> str | None:
    """`value` if it is a page of the portal to return to, else None."""
    if not value or len(value) > MAX_NEXT_CHARS or not SAFE_CHARS.fullmatch(value):
        return None
    lowered = value.lower()
    if "%2f" in lowered or "%5c" in lowered or "%2e" in lowered or "%0" in lowered:
        return None
    parts = urlsplit(value)
    path = parts.path
    if parts.scheme or parts.netloc or value.startswith("//"):
        return None
    if path != PORTAL and not path.startswith(f"{PORTAL}/"):
        return None
    if "//" in path or any(segment in (".", "..") for segment in path.split("/")):
        return None
    if path.startswith(SIGN_IN) or path.startswith(f"{PORTAL}/sign-out"):
        return None
    return value
