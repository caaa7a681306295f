"""What a request to seller standards' API carries."""

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from contracts.text import Line, Paragraphs
from seller_standards.domain.standing import Standing


class NewExemption(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    starts: AwareDatetime = Field(alias="from")
    ends: AwareDatetime = Field(alias="to")
    reason: Line = Field(min_length=1, max_length=500)


class StandingDecision(BaseModel):
    model_config = ConfigDict(extra="forbid")
    standing: Standing
    reason: Paragraphs = Field(min_length=1, max_length=2000)
