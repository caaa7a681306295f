"""What every route is given besides the caller (the kit's `CallerDep`): the service's context."""

from typing import Annotated

from fastapi import Depends, Request

from notifications.handlers import NotificationsContext


def notifications_context(request: Request) -> NotificationsContext:
    context: NotificationsContext = request.app.state.notifications
    return context


Context = Annotated[NotificationsContext, Depends(notifications_context)]
