"""A person's inbox and preferences, and for operators the e-mails that were set aside."""

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict

from contracts.text import control_character_fault
from notifications.api.dependencies import Context
from notifications.api.views import (
    bad_cursor,
    cursor_moment,
    failed_email_view,
    notification_view,
)
from notifications.domain import Preferences
from servicekit.hosting.http import CallerDep, not_found, require_role
from servicekit.hosting.pagination import DEFAULT_LIMIT, MAX_LIMIT, decode_cursor, encode_cursor

router = APIRouter(prefix="/v1")


class PreferencesBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    email: bool
    in_app: bool


@router.get("/me/notifications")
async def inbox(
    who: CallerDep,
    ctx: Context,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: str | None = None,
) -> dict[str, Any]:
    after = None
    if cursor:
        created, notification_id = decode_cursor(cursor, 2)
        if control_character_fault(notification_id, multiline=False):
            raise bad_cursor()
        after = (cursor_moment(created), notification_id)
    async with ctx.db.unit_of_work() as uow:
        rows = await uow.inbox.page(who.id, after, limit + 1)
        unread = await uow.inbox.unread(who.id)
    more, rows = len(rows) > limit, rows[:limit]
    return {
        "items": [notification_view(row) for row in rows],
        "unread": unread,
        "next_cursor": encode_cursor(rows[-1]["created_at"].isoformat(), rows[-1]["id"])
        if more
        else None,
    }


@router.post("/me/notifications/{notification_id}/read")
async def mark_read(notification_id: str, who: CallerDep, ctx: Context) -> dict[str, Any]:
    async with ctx.db.unit_of_work() as uow:
        if not await uow.inbox.mark_read(notification_id, who.id, ctx.clock.now()):
            raise not_found("notification")
        await uow.commit()
    return {"id": notification_id, "read": True}


@router.get("/me/notification-preferences")
async def get_preferences(who: CallerDep, ctx: Context) -> dict[str, bool]:
    async with ctx.db.unit_of_work() as uow:
        chosen = await uow.directory.preferences(who.id)
    return {"email": chosen.email, "in_app": chosen.in_app}


@router.put("/me/notification-preferences")
async def set_preferences(body: PreferencesBody, who: CallerDep, ctx: Context) -> dict[str, Any]:
    """Messages a person must get (a failed payment, a refund, a suspension) go out on
    every channel whatever is chosen here."""
    async with ctx.db.unit_of_work() as uow:
        await uow.directory.set_preferences(who.id, Preferences(body.email, body.in_app))
        await uow.commit()
    return {"email": body.email, "in_app": body.in_app, "always_sent": "messages you must get"}


@router.get("/ops/failed-emails")
async def failed_emails(
    who: CallerDep,
    ctx: Context,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: str | None = None,
) -> dict[str, Any]:
    """E-mails set aside for good (an unusable address or header, a permanent refusal,
    or retried past the deadline), most recent first, each with its reason."""
    require_role(who, "operator")
    after = None
    if cursor:
        failed, delivery_id = decode_cursor(cursor, 2)
        if not delivery_id.isdigit() or len(delivery_id) > 18:
            raise bad_cursor()
        after = (cursor_moment(failed), int(delivery_id))
    async with ctx.db.unit_of_work() as uow:
        rows = await uow.inbox.failed_emails(after, limit + 1)
    more, rows = len(rows) > limit, rows[:limit]
    return {
        "items": [failed_email_view(row) for row in rows],
        "next_cursor": encode_cursor(rows[-1]["failed_at"].isoformat(), rows[-1]["id"])
        if more
        else None,
    }
