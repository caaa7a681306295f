"""Portal sessions, kept on the server: the browser holds only a random session id.

The table keeps the id's hash (never the id), whose principal it is, when it was made and last
used, and the principal's API token sealed under a key derived from the session id: the table
alone does not give the token, nor does the cookie alone. A session ends when it has been idle
too long, when it is too old (whatever its use), when its principal signs out, or as soon as
the principal's token stops working (revoked or expired), since every page asks `/v1/me` with it.

The CSRF token of a session is derived from its id, so it changes with every sign-in.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import Column, LargeBinary, String, Table, delete, insert, select, update

from gateway.db import GatewayUnit, metadata
from gateway.portal.settings import PortalSettings
from servicekit.domain.clock import Clock
from servicekit.messaging.db import UtcDateTime
from servicekit.messaging.uow import Database

SESSION_ID_BYTES = 32
NONCE_BYTES = 12
# How often a session's "last used" is written: often enough for the idle timeout, not per page.
TOUCH_EVERY = timedelta(minutes=1)

portal_sessions = Table(
    "portal_sessions",
    metadata,
    Column("id_hash", String(64), primary_key=True),
    Column("principal_id", String(40), nullable=False, index=True),
    Column("sealed_token", LargeBinary, nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("last_used_at", UtcDateTime(), nullable=False),
    Column("expires_at", UtcDateTime(), nullable=False, index=True),
)


def new_session_id() -> str:
    return secrets.token_urlsafe(SESSION_ID_BYTES)


def hash_session_id(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


def _derive(session_id: str, purpose: bytes) -> bytes:
    return hmac.new(session_id.encode(), purpose, hashlib.sha256).digest()


def _sealing_key(session_id: str) -> AESGCM:
    return AESGCM(_derive(session_id, b"seal"))


def seal(session_id: str, token: str) -> bytes:
    """The token encrypted and authenticated (AES-GCM) under a key derived from the session
    id, with a random nonce in front."""
    nonce = os.urandom(NONCE_BYTES)
    return nonce + _sealing_key(session_id).encrypt(nonce, token.encode(), None)


def unseal(session_id: str, sealed: bytes) -> str | None:
    nonce, cipher = sealed[:NONCE_BYTES], sealed[NONCE_BYTES:]
    try:
        return _sealing_key(session_id).decrypt(nonce, cipher, None).decode()
    except (InvalidTag, ValueError):
        return None


def csrf_token(session_id: str) -> str:
    """The CSRF token of a session: only the session id's holder can make it."""
    return _derive(session_id, b"csrf").hex()


def flash_signature(session_key: str, kind: str, text: str) -> str:
    """A page shows a flash message only with this signature: links cannot put words in it."""
    return hmac.new(session_key.encode(), f"{kind}\n{text}".encode(), hashlib.sha256).hexdigest()[
        :32
    ]


@dataclass(frozen=True)
class StoredSession:
    principal_id: str
    sealed_token: bytes
    created_at: datetime
    last_used_at: datetime
    expires_at: datetime


def still_valid(session: StoredSession, now: datetime, settings: PortalSettings) -> bool:
    """Neither idle too long nor past its absolute expiry."""
    return now < session.expires_at and now - session.last_used_at < settings.idle


@dataclass(frozen=True)
class OpenSession:
    session_id: str
    token: str
    principal_id: str


class PortalSessions:
    def __init__(self, db: Database[GatewayUnit], clock: Clock, settings: PortalSettings) -> None:
        self.db = db
        self.clock = clock
        self.settings = settings

    async def start(self, principal_id: str, token: str) -> str:
        """A new session (a new id each sign-in); the old session of this browser is ended by
        the caller. Expired sessions are swept out while we are here."""
        now = self.clock.now()
        session_id = new_session_id()
        async with self.db.unit_of_work() as uow:
            await uow.session.execute(
                delete(portal_sessions).where(
                    (portal_sessions.c.expires_at <= now)
                    | (portal_sessions.c.last_used_at <= now - self.settings.idle)
                )
            )
            await uow.session.execute(
                insert(portal_sessions).values(
                    id_hash=hash_session_id(session_id),
                    principal_id=principal_id,
                    sealed_token=seal(session_id, token),
                    created_at=now,
                    last_used_at=now,
                    expires_at=now + self.settings.absolute,
                )
            )
            await uow.commit()
        return session_id

    async def open(self, session_id: str) -> OpenSession | None:
        """The live session with this id, its use recorded; None if unknown or expired."""
        now = self.clock.now()
        id_hash = hash_session_id(session_id)
        async with self.db.unit_of_work() as uow:
            row = (
                await uow.session.execute(
                    select(portal_sessions).where(portal_sessions.c.id_hash == id_hash)
                )
            ).first()
            if row is None:
                return None
            stored = StoredSession(
                row.principal_id, row.sealed_token, row.created_at, row.last_used_at, row.expires_at
            )
            alive = still_valid(stored, now, self.settings)
            if not alive:
                await uow.session.execute(
                    delete(portal_sessions).where(portal_sessions.c.id_hash == id_hash)
                )
            elif now - stored.last_used_at >= TOUCH_EVERY:
                await uow.session.execute(
                    update(portal_sessions)
                    .where(portal_sessions.c.id_hash == id_hash)
                    .values(last_used_at=now)
                )
            await uow.commit()
        if not alive:
            return None
        token = unseal(session_id, stored.sealed_token)
        if token is None:
            return None
        return OpenSession(session_id, token, stored.principal_id)

    async def end(self, session_id: str) -> None:
        async with self.db.unit_of_work() as uow:
            await uow.session.execute(
                delete(portal_sessions).where(
                    portal_sessions.c.id_hash == hash_session_id(session_id)
                )
            )
            await uow.commit()
