"""A domain's `Refusal`, whatever the service, is answered one way: as problem details whose
status follows its kind, with its slug, title, detail and extra members, and `Retry-After`
when it says when to ask again."""

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from servicekit.domain.refusals import Kind, Refusal
from servicekit.hosting.http import PROBLEM_JSON, install_problem_handlers


class NotYet(Refusal):
    kind = Kind.CONFLICT
    slug = "not-yet"
    title = "Not yet"
    retry_after = 5


REFUSALS = {
    "not-found": Refusal("No order with that id", kind=Kind.NOT_FOUND, slug="not-found"),
    "forbidden": Refusal("Sellers cannot buy", kind=Kind.FORBIDDEN, slug="own", title="Own"),
    "conflict": Refusal(
        "Shipped already", kind=Kind.CONFLICT, slug="late", extra={"allowed_actions": ["message"]}
    ),
    "invalid": Refusal("A reason is needed"),
    "retry": NotYet("Ask again soon", extra={"retry_after_seconds": 5}),
    "retry-given": Refusal("Busy", kind=Kind.CONFLICT, slug="busy", retry_after=30),
}


@pytest.fixture(scope="module")
def client() -> TestClient:
    app = FastAPI()
    install_problem_handlers(app)

    @app.get("/refuse/{which}")
    async def refuse(which: str) -> None:
        raise REFUSALS[which]

    return TestClient(app)


@pytest.mark.parametrize(
    ("which", "status", "body", "retry_after"),
    [
        ("not-found", 404, ("not-found", "Not possible", "No order with that id", {}), None),
        ("forbidden", 403, ("own", "Own", "Sellers cannot buy", {}), None),
        (
            "conflict",
            409,
            ("late", "Not possible", "Shipped already", {"allowed_actions": ["message"]}),
            None,
        ),
        ("invalid", 422, ("refused", "Not possible", "A reason is needed", {}), None),
        ("retry", 409, ("not-yet", "Not yet", "Ask again soon", {"retry_after_seconds": 5}), "5"),
        ("retry-given", 409, ("busy", "Not possible", "Busy", {}), "30"),
    ],
)
def test_a_refusal_is_answered_as_problem_details(client, which, status, body, retry_after):
    slug, title, detail, extra = body

    answer = client.get(f"/refuse/{which}")

    assert answer.status_code == status
    assert answer.headers["content-type"] == PROBLEM_JSON
    assert answer.json() == {
        "type": f"/problems/{slug}",
        "title": title,
        "status": status,
        "detail": detail,
        **extra,
    }
    assert list(answer.json())[:4] == ["type", "title", "status", "detail"]
    assert answer.headers.get("retry-after") == retry_after


def test_a_refusal_is_plain_data_for_the_domain() -> None:
    refusal = NotYet("Ask again soon")
    assert (refusal.kind, refusal.slug, refusal.title, refusal.retry_after) == (
        Kind.CONFLICT,
        "not-yet",
        "Not yet",
        5,
    )
    assert str(refusal) == refusal.detail == "Ask again soon"
    assert refusal.extra == {}
    assert NotYet("Busy", retry_after=7).retry_after == 7
    assert NotYet.retry_after == 5  # an argument overrides the class's value, for that refusal
