"""What the API answers: inbox and set-aside e-mail rows, and where a page starts."""

from datetime import datetime
from typing import Any

from servicekit.hosting.http import Problem


def notification_view(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "kind": row["message"],
        "title": row["title"],
        "body": row["text"],
        "order_id": row["order_id"],
        "link": row["link"],
        "must": row["must"],
        "created_at": row["created_at"].isoformat(),
        "read_at": row["read_at"].isoformat() if row["read_at"] else None,
        "channels": row["channels"],
    }


def failed_email_view(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "notification_id": row["notification_id"],
        "recipient_id": row["recipient_id"],
        "kind": row["message"],
        "order_id": row["order_id"],
        "attempts": row["attempts"],
        "reason": row["last_error"],
        "created_at": row["created_at"].isoformat(),
        "failed_at": row["failed_at"].isoformat(),
    }


def bad_cursor() -> Problem:
    return Problem(
        422,
        "Invalid request",
        "The cursor is not one this list gave out",
        slug="validation-error",
        errors=[{"loc": ["query", "cursor"], "msg": "unknown cursor"}],
    )


def cursor_moment(text: str) -> datetime:
    """A cursor's date: one this service wrote (aware), or the cursor was not ours."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as error:
        raise bad_cursor() from error
    if moment.tzinfo is None:
        raise bad_cursor()
    return moment
