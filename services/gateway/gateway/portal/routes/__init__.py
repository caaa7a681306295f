"""The portal's pages and forms, one module per area, all under `/portal`."""

from fastapi import APIRouter

from gateway.portal.routes import (
    account,
    missing,
    operations,
    operator,
    orders,
    payouts,
    standards,
    tickets,
)

router = APIRouter()
for area in (
    account,
    orders,
    payouts,
    standards,
    tickets,
    operator,
    operations,
    missing,
):  # missing last
    router.include_router(area.router)
