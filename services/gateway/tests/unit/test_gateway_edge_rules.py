"""The gateway's rules for bad input at the edge: which bodies count as JSON, and what a JSON
body may not carry (the end-to-end answers are in tests/test_edge_bodies.py)."""

import json

import pytest

from gateway.domain import is_json_media_type, json_body_faults, request_fingerprint


@pytest.mark.parametrize(
    ("content_type", "accepted"),
    [
        ("application/json", True),
        ("application/json; charset=utf-8", True),
        ("Application/JSON", True),
        ("application/merge-patch+json", True),
        ("text/plain", False),
        ("application/x-www-form-urlencoded", False),
        ("multipart/form-data; boundary=x", False),
        ("text/json", False),
        ("", False),
        (None, False),
    ],
)
def test_json_media_types(content_type, accepted):
    assert is_json_media_type(content_type) is accepted


def test_well_formed_json_has_no_faults():
    body = json.dumps({"a": [1, {"b": "ü€𝄞 text"}], "c": None}).encode()
    assert json_body_faults(body, max_depth=3) == []


@pytest.mark.parametrize(
    ("body", "location", "message"),
    [
        (b'{"reason": "\xff"}', ["body", 12], "not valid UTF-8"),
        (b'{"reason": "x', ["body", 11], "JSON decode error"),
        (b"", ["body", 0], "JSON decode error"),
        (b'{"body": "a\\u0000b"}', ["body", "body"], "NUL"),
        (b'{"a\\u0000": 1}', ["body", "a\x00"], "NUL"),
        (b'{"items": ["ok", "\\ud800"]}', ["body", "items", 1], "surrogate"),
    ],
)
def test_each_fault_is_located(body, location, message):
    [(where, what)] = json_body_faults(body, max_depth=32)
    assert where == location
    assert message in what


@pytest.mark.parametrize("depth", [4, 100, 100_000])
def test_json_nested_deeper_than_the_limit_is_refused_whatever_the_depth(depth):
    arrays = b"[" * depth + b"]" * depth
    objects = b'{"a":' * depth + b"1" + b"}" * depth
    for body in (arrays, objects):
        assert json_body_faults(body, max_depth=3) == [
            (["body"], "JSON nested more than 3 levels deep")
        ]
    assert json_body_faults(b"[[[]]]", max_depth=3) == []


def test_a_fingerprint_of_a_body_nested_too_deep_for_the_parser_is_still_a_fingerprint():
    deep = b"[" * 100_000 + b"]" * 100_000
    assert request_fingerprint("POST", "/v1/orders", deep) == request_fingerprint(
        "POST", "/v1/orders", deep
    )
