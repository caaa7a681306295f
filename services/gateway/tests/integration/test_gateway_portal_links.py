"""Every button in every e-mail lands on a portal page: each message of notifications'
catalogue is rendered as it would be sent (its link made by notifications' own
`portal_path`), and every link in it is followed on the in-process portal, signed in as the
message's reader. A link to a page the portal does not serve (the old `/orders/<id>`) is a 404
and fails. The services behind the gateway answer every read with a plausible thing."""

import re
import typing
from types import UnionType
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from contracts import Money, event_type_registry
from gateway import api
from gateway.portal import SecurityHeaders, install
from notifications import domain
from notifications.domain import CATALOGUE, Intent, OrderParties
from notifications.templates import Catalogue
from servicekit.hosting.http import install_problem_handlers

from gateway_test_helpers import NOW, OPERATOR_TOKEN, bearer

PORTAL_URL = "https://marketplace.example.com"
ORDER = OrderParties(
    "ord_1",
    "usr_buyer",
    "usr_seller",
    {
        "total": {"amount_minor": 12500, "currency": "EUR"},
        "title": "A camera",
        "accept_by": NOW.isoformat(),
        "ship_by": NOW.isoformat(),
    },
)


WORDS = Catalogue()


def sample(annotation: Any) -> Any:
    origin = typing.get_origin(annotation)
    if origin is typing.Literal:
        return typing.get_args(annotation)[0]
    if origin in (typing.Union, UnionType):
        return sample(next(a for a in typing.get_args(annotation) if a is not type(None)))
    if isinstance(annotation, type) and issubclass(annotation, Money):
        return {"amount_minor": 4200, "currency": "EUR"}
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return {name: sample(field.annotation) for name, field in annotation.model_fields.items()}
    if annotation is int:
        return 2
    if annotation is bool:
        return False
    if origin is list:
        return []
    if "datetime" in str(annotation).lower():
        return NOW.isoformat()
    return "sample"


def event_data(event_type: str) -> dict[str, Any]:
    model: type[BaseModel] = event_type_registry()[event_type]
    data = {name: sample(field.annotation) for name, field in model.model_fields.items()}
    return data | {
        "order_id": "ord_1",
        "ticket_id": "tkt_1",
        "to": None,
        "sender_role": "buyer",
        "seller_id": "usr_seller",
        "standing": "at_risk",
        "previous": "good",
    }


def every_message() -> dict[str, tuple[Intent, dict[str, Any]]]:
    """One intent (and its event's data) for every message the catalogue can send."""
    found: dict[str, tuple[Intent, dict[str, Any]]] = {}
    variants = (  # a message goes to the other party; a resale event's orders have words of
        # their own, and an event's cancellation too
        {"sender_role": "buyer", "event": None},
        {"sender_role": "seller", "event": None},
        {},
        {"reason": "event_cancelled"},
    )
    for event_type in sorted(CATALOGUE):
        for variant in variants:
            data = event_data(event_type) | variant
            for intent in domain.intents_for(event_type, data, ORDER):
                found.setdefault(intent.message, (intent, data))
    for event_type in sorted(domain.PAYOUT_MESSAGES):
        data = event_data(event_type)
        intent = domain.payout_intent(event_type, data)
        found[intent.message] = (intent, data)
    surge = event_data("marketplace.seller.order_surge.v1")
    found["order_surge.seller"] = (domain.surge_intent(surge), surge)
    for standing in ("good", "at_risk", "under_review", "suspended", "revoked"):
        data = {"seller_id": "usr_seller", "standing": standing, "previous": "x", "reason": "late"}
        intent = domain.standing_intent(data)
        assert intent is not None
        found[intent.message] = (intent, data)
    for reminder in (domain.ACCEPT_REMINDER, domain.SHIP_REMINDER):
        found[reminder] = (Intent("usr_seller", reminder, "ord_1"), {})
    return found


def links_of(intent: Intent, data: dict[str, Any]) -> set[str]:
    rendered = WORDS.render(
        intent.message,
        "en",
        {
            "name": "Bea",
            "data": data,
            "order": ORDER.facts | {"order_id": intent.order_id},
            "link": PORTAL_URL + domain.portal_path(intent, data),
        },
    )
    found = set(re.findall(r'href="([^"]+)"', rendered.html))
    found |= set(re.findall(r"https?://\S+", rendered.text))
    assert found, f"{intent.message} has no link"
    return found


def test_every_template_in_the_catalogue_is_walked():
    templates = set(Catalogue().messages())
    assert templates and templates <= set(every_message())


def answers_every_read() -> FastAPI:
    """The services behind the gateway, answering any read with one plausible thing."""
    app = FastAPI()

    @app.api_route("/v1/{path:path}", methods=["GET"])
    async def read(request: Request, path: str) -> JSONResponse:
        last = path.rsplit("/", 1)[-1]
        return JSONResponse(
            {
                "id": last,
                "items": [],
                "status": "open",
                "role": "seller",
                "order_id": None,
                "messages": [],
                "metrics": {},
                "allowed_actions": [],
                "possible_resolutions": [],
            }
        )

    return app


@pytest.fixture
async def portal_app(gateway, db, clock):
    behind = answers_every_read()
    for name, client in list(gateway.upstreams.clients.items()):
        await client.aclose()
        gateway.upstreams.clients[name] = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=behind), base_url=f"http://{name}"
        )
    app = FastAPI()
    install_problem_handlers(app)
    api.install(app, gateway)
    install(app, db, clock=clock)
    app.add_middleware(SecurityHeaders)
    return app


def browser(app: FastAPI) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url="http://gateway")


async def new_reader(client: httpx.AsyncClient, role: str) -> str:
    answer = await client.post(
        "/v1/principals",
        json={"role": role, "name": f"A {role}", "email": f"{role}@example.com"},
        headers=bearer(OPERATOR_TOKEN),
    )
    assert answer.status_code == 201, answer.text
    return str(answer.json()["token"])


async def sign_in_from(client: httpx.AsyncClient, token: str, path: str) -> None:
    """Open `path` signed out, sign in on the form it leads to: back on `path`."""
    asked = await client.get(path)
    assert asked.status_code == 303, (path, asked.status_code)
    form = await client.get(asked.headers["location"])
    fields = dict(re.findall(r'name="(csrf|next)" value="([^"]+)"', form.text))
    signed = await client.post("/portal/sign-in", data=fields | {"token": token})
    assert signed.status_code == 303
    assert signed.headers["location"] == path, "sign-in did not return to the page asked for"


@pytest.mark.parametrize("migrated_database", ["sqlite"], indirect=True)
async def test_every_link_in_every_email_lands_on_a_portal_page(portal_app):
    messages = sorted(every_message().items())
    async with browser(portal_app) as signed_out:
        readers = {}
        for role in ("buyer", "seller"):
            first = next(
                link
                for message, (intent, data) in messages
                if message.endswith(f".{role}")
                for link in links_of(intent, data)
            )
            readers[role] = browser(portal_app)
            token = await new_reader(signed_out, role)
            await sign_in_from(readers[role], token, first.removeprefix(PORTAL_URL))
        links = {
            (message.rsplit(".", 1)[-1], link)
            for message, (intent, data) in messages
            for link in links_of(intent, data)
        }
        assert {link.split("/portal/")[1].split("/")[0] for _, link in links} >= {"orders"}
        for role, link in sorted(links):  # each distinct page once
            assert link.startswith(f"{PORTAL_URL}/portal/"), link
            path = link.removeprefix(PORTAL_URL)
            asked = await signed_out.get(path)
            assert asked.status_code == 303 and "next=" in asked.headers["location"]
            landed = await readers[role].get(path)
            assert landed.status_code == 200, (role, link, landed.status_code)
            assert "Page not found" not in landed.text, (role, link)
        for reader in readers.values():
            await reader.aclose()
