"""The kit's caller dependency: checked against the internal token the app recorded."""

from fastapi import FastAPI
from fastapi.testclient import TestClient

from servicekit.hosting.http import Caller, CallerDep, install_problem_handlers

ALICE = {"X-Principal-Id": "usr_alice", "X-Principal-Role": "buyer"}


def app_with(internal_token: str | None) -> FastAPI:
    app = FastAPI()
    install_problem_handlers(app)
    if internal_token is not None:
        app.state.internal_token = internal_token

    @app.get("/me")
    async def me(who: CallerDep) -> dict[str, str | None]:
        assert isinstance(who, Caller)
        return {"id": who.id, "role": who.role, "carrier": who.carrier}

    return app


def test_the_gateways_token_lets_the_forwarded_caller_through() -> None:
    client = TestClient(app_with("secret"))
    answer = client.get("/me", headers={**ALICE, "X-Internal-Token": "secret"})
    assert answer.json() == {"id": "usr_alice", "role": "buyer", "carrier": None}


def test_a_request_without_the_token_is_refused() -> None:
    client = TestClient(app_with("secret"))
    for token in ({}, {"X-Internal-Token": "guess"}):
        answer = client.get("/me", headers={**ALICE, **token})
        assert answer.status_code == 401
        assert answer.json()["detail"] == "Requests must come through the gateway"


def test_an_empty_token_means_no_check_but_a_caller_is_still_required() -> None:
    client = TestClient(app_with(""))
    assert client.get("/me", headers=ALICE).status_code == 200
    assert client.get("/me", headers={"X-Principal-Role": "buyer"}).status_code == 401
    assert client.get("/me", headers={**ALICE, "X-Principal-Role": "admin"}).status_code == 401


def test_only_carriers_speak_for_a_carrier() -> None:
    client = TestClient(app_with(""))
    carrier = {"X-Principal-Id": "usr_dhl", "X-Principal-Role": "carrier"}
    as_carrier = client.get("/me", headers={**carrier, "X-Principal-Carrier": "DHL"})
    as_buyer = client.get("/me", headers={**ALICE, "X-Principal-Carrier": "DHL"})
    assert as_carrier.json()["carrier"] == "DHL"
    assert as_buyer.json()["carrier"] is None


def test_an_app_that_recorded_no_token_lets_no_one_through() -> None:
    client = TestClient(app_with(None), raise_server_exceptions=False)
    answer = client.get("/me", headers={**ALICE, "X-Internal-Token": "anything"})
    assert answer.status_code == 500
