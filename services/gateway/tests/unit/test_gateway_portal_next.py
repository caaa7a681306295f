"""Sign-in returns to the page asked for (`next`) only when it is one of the portal's own
pages: anything that could leave the site (an open redirect) falls back to the home page."""

import pytest

from gateway.portal.next_page import safe_next


@pytest.mark.parametrize(
    "asked",
    [
        "/portal",
        "/portal/orders/ord_1",
        "/portal/tickets?view=mine",
        "/portal/orders/ord_1?notice=x&sig=abc",
        "/portal/tickets/tkt_%C3%A9",
    ],
)
def test_a_portal_page_is_returned_to(asked):
    assert safe_next(asked) == asked


@pytest.mark.parametrize(
    "asked",
    [
        None,
        "",
        "https://evil.example/portal/orders",
        "http://evil.example",
        "//evil.example/portal",
        "///evil.example/portal",
        "/\\evil.example/portal",
        "\\\\evil.example",
        "/portal\\..\\..\\evil",
        "/%2F%2Fevil.example",
        "/portal/%2e%2e/%2e%2e//evil.example",
        "/portal/../v1/me",
        "/portal//evil.example",
        "/portalx/orders",
        "/v1/me",
        "javascript:alert(1)",
        "/portal/orders\r\nLocation: https://evil.example",
        "/portal/orders/\x00",
        "/portal/sign-in?next=https://evil.example",
        "/portal/sign-out",
        "/portal/orders/" + "a" * 1_000,
        " /portal",
        "/portal/orders/ord_1#@evil.example",
    ],
)
def test_anything_else_falls_back_to_the_home_page(asked):
    assert safe_next(asked) is None
