"""What a request to support's API carries."""

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from contracts import Money
from contracts.support import ResolutionAction
from contracts.text import Line, Paragraphs


class NewTicket(BaseModel):
    model_config = ConfigDict(extra="forbid")
    order_id: Line = Field(min_length=1, max_length=40)
    subject: Line = Field(min_length=1, max_length=300)
    body: Paragraphs = Field(min_length=1, max_length=10_000)


class NewMessage(BaseModel):
    model_config = ConfigDict(extra="forbid")
    body: Paragraphs = Field(min_length=1, max_length=10_000)
    internal: bool = False
    to: Literal["buyer", "seller"] | None = Field(
        None,
        description="Agents: address a public reply to one party, who alone sees it and is "
        "told; left out, both parties do",
    )


class ResolutionRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    action: ResolutionAction
    amount: Money | None = None
    note: Paragraphs = Field("", max_length=2_000)
    listing_id: str | None = Field(
        None,
        max_length=40,
        pattern=r"^[A-Za-z0-9_-]+$",
        description="For rebook: one of the ticket's alternatives (#20)",
    )
