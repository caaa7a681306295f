"""Events published by the gateway on `principals.events`, keyed by principal id: who can be
told things, and how to reach them."""

from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime, Field

from contracts.envelope import Event
from contracts.topics import PRINCIPALS_EVENTS


class PrincipalRegistered(
    Event, type="marketplace.principal.registered.v1", topic=PRINCIPALS_EVENTS
):
    """A buyer, seller, agent, operator or carrier account was created."""

    principal_id: str
    role: Literal["buyer", "seller", "agent", "operator", "carrier"]
    name: str
    email: str
    locale: str = Field("en", description="The language messages are written in")
    registered_at: AwareDatetime

    def subject(self) -> str:
        return self.principal_id
