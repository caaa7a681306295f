"""`/v1/principals` and `/v1/me`: operators register principals (with their tokens); anyone
signed in reads their own principal or revokes their own token."""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from pydantic import (
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    EmailStr,
    Field,
    StringConstraints,
    model_validator,
)

from contracts.text import control_character_fault
from gateway.api.dependencies import Caller, GatewayDep, require_operator
from gateway.api.idempotency import IDEMPOTENCY_KEY_PARAMETER
from gateway.domain import expiry_fault
from servicekit.hosting.http import Problem

router = APIRouter()


def _one_line(value: Any) -> Any:
    """Checked before surrounding blanks are stripped: "Bob\\r\\n" is refused, not trimmed."""
    if isinstance(value, str) and (fault := control_character_fault(value, multiline=False)):
        raise ValueError(fault)
    return value


# Names end up in e-mail headers and pages: one line of plain text.
OneLine = BeforeValidator(_one_line)


class NewPrincipal(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: Literal["buyer", "seller", "agent", "operator", "carrier"]
    name: Annotated[
        str, OneLine, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)
    ]
    email: Annotated[EmailStr, OneLine]
    carrier: (
        Annotated[
            str, OneLine, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)
        ]
        | None
    ) = Field(None, description="The carrier a `carrier` principal speaks for, such as DHL")
    expires_at: AwareDatetime | None = Field(
        None, description="When the token stops authenticating; never when absent"
    )

    @model_validator(mode="after")
    def _carrier_for_carriers_only(self) -> NewPrincipal:
        if self.role == "carrier" and self.carrier is None:
            raise ValueError("a carrier principal names its carrier (`carrier`, such as DHL)")
        if self.role != "carrier" and self.carrier is not None:
            raise ValueError("only a carrier principal names a carrier")
        return self


def without_token(body: bytes) -> bytes:
    """A new principal's answer as it is remembered for repeats: the token is shown once."""
    principal = json.loads(body)
    principal["token"] = None
    return json.dumps(principal).encode()


@router.post(
    "/v1/principals",
    status_code=201,
    openapi_extra={"parameters": [IDEMPOTENCY_KEY_PARAMETER]},
)
async def create_principal(
    new: NewPrincipal, request: Request, caller: Caller, gateway: GatewayDep
) -> Response:
    require_operator(caller, "create principals")
    if new.expires_at is not None and (fault := expiry_fault(new.expires_at, gateway.clock.now())):
        raise Problem(
            422,
            "Invalid request",
            f"expires_at {fault}",
            slug="validation-error",
            errors=[{"loc": ["body", "expires_at"], "msg": fault}],
        )
    body = await request.body()

    async def create() -> Response:
        principal, token = await gateway.identity.register(
            new.role,
            new.name,
            str(new.email),
            carrier=new.carrier,
            token_expires_at=new.expires_at,
        )
        return JSONResponse(principal.public() | {"token": token}, status_code=201)

    return await gateway.idempotency_keys.answer_once(
        request, caller, body, create, remember=without_token
    )


@router.get("/v1/me")
async def me(caller: Caller) -> dict[str, Any]:
    return caller.public()


@router.delete("/v1/me/token", status_code=204)
async def revoke_token(caller: Caller, gateway: GatewayDep) -> Response:
    """Sign out for good: the caller's token stops authenticating at once."""
    await gateway.identity.revoke_token(caller)
    return Response(status_code=204)
