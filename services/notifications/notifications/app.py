"""Notifications' composition root: `create_app()` builds the service from its settings.

uvicorn notifications.app:create_app --factory
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from fastapi import FastAPI

from notifications.api import install_api
from notifications.db import NotificationsUnit
from notifications.handlers import (
    NotificationsContext,
    event_router,
    send_due_reminders,
)
from notifications.mail import Mailer
from notifications.mail_worker import send_emails
from notifications.settings import NotificationsSettings
from notifications.templates import Catalogue
from servicekit.domain.clock import Clock
from servicekit.hosting.runtime import ServiceRuntime
from servicekit.messaging.exclusive import ExclusiveLock
from servicekit.messaging.worker import BackgroundWorker

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def create_app(
    settings: NotificationsSettings | None = None, *, clock: Clock | None = None
) -> FastAPI:
    settings = settings or NotificationsSettings()
    runtime = ServiceRuntime(
        settings, migrations_dir=MIGRATIONS, clock=clock, unit=NotificationsUnit
    )
    ctx = NotificationsContext(
        db=runtime.db,
        clock=runtime.clock,
        catalogue=Catalogue(),
        mailer=Mailer(settings.smtp_host, settings.smtp_port, settings.mail_from),
        portal_url=settings.portal_url,
        accept_lead=timedelta(hours=settings.accept_reminder_hours),
        ship_lead=timedelta(hours=settings.ship_reminder_hours),
        give_up_after=timedelta(hours=settings.email_give_up_hours),
        lock=ExclusiveLock(runtime.db.engine, "notifications-mail"),
    )
    mail_worker = BackgroundWorker("mail", lambda: send_emails(ctx), poll_seconds=1.0)
    ctx.wake_mailer = mail_worker.wake
    runtime.add_worker(mail_worker)
    assert ctx.lock is not None
    runtime.on_stop(ctx.lock.release)
    runtime.consume(event_router(ctx))
    runtime.timers.add("reminders", lambda now: send_due_reminders(ctx, now))
    app = runtime.fastapi_app(title="notifications")
    install_api(app, ctx)
    return app
