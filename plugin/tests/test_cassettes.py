"""Cassette hygiene: secret-looking values are found, and cassettes of tests that are gone too."""

from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from service_harness.cassettes import (
    scrub_response,
    scrubbing_vcr_config,
    secrets_in,
    unused_cassettes,
)


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("Authorization: Bearer abcdefghijklmnop1234", ["line 1: bearer token"]),
        ("Authorization: Bearer REDACTED", []),
        (
            "uri: https://api.example.com/?api_key=0123456789abcdef",
            ["line 1: credential parameter"],
        ),
        ("uri: https://api.example.com/?api_key=REDACTED", []),
        ("body: ok\nkey: sk_live_0123456789abcdefgh", ["line 2: Stripe-style secret key"]),
        ("id: AKIAABCDEFGHIJKLMNOP", ["line 1: AWS access key"]),
        ("-----BEGIN RSA PRIVATE KEY-----", ["line 1: private key"]),
        ("status: 200 OK\nbody: {}", []),
    ],
)
def test_secrets_in(text: str, found: list[str]) -> None:
    assert secrets_in(text) == found


def test_scrubbing_config_redacts_cookies_and_drops_noise() -> None:
    config = scrubbing_vcr_config(headers=("x-tenant",), parameters=("signature",))
    assert ("x-tenant", "REDACTED") in config["filter_headers"]
    assert ("authorization", "REDACTED") in config["filter_headers"]
    assert ("signature", "REDACTED") in config["filter_query_parameters"]
    response = {"headers": {"Set-Cookie": ["session=abc"], "Date": ["today"], "X-Id": ["1"]}}
    assert scrub_response(response)["headers"] == {"Set-Cookie": ["REDACTED"], "X-Id": ["1"]}


@dataclass
class Request:
    """The parts of a VCR.py Request that recording under another address changes."""

    uri: str
    headers: dict[str, str] = field(default_factory=dict)


@pytest.mark.parametrize(
    ("sent", "recorded", "host"),
    [
        (
            "http://127.0.0.1:43159/v1/charges?x=1",
            "https://payments.invalid/v1/charges?x=1",
            "payments.invalid",
        ),
        ("http://localhost:8000/v1", "https://payments.invalid/v1", "payments.invalid"),
        ("https://api.example.com/v1", "https://api.example.com/v1", "api.example.com"),
    ],
)
def test_loopback_requests_are_recorded_under_the_given_address(
    sent: str, recorded: str, host: str
) -> None:
    before_record = scrubbing_vcr_config(loopback_as="https://payments.invalid/")[
        "before_record_request"
    ]
    request = before_record(Request(uri=sent, headers={"host": urlsplit(sent).netloc}))
    assert (request.uri, request.headers["host"]) == (recorded, host)
    assert "before_record_request" not in scrubbing_vcr_config()


def test_unused_cassettes(tmp_path: Path) -> None:
    tests = tmp_path / "tests"
    (tests / "integration").mkdir(parents=True)
    (tests / "integration" / "test_api.py").write_text(
        "def test_here(): pass\nasync def test_awaited(): pass\n"
        "class TestClient:\n    def test_get(self): pass\n    async def test_post(self): pass\n"
    )
    cassettes = tests / "integration" / "cassettes"
    names = {
        "test_api/test_here.yaml": False,
        "test_api/TestClient.test_get[first].yaml": False,
        "test_api/test_awaited.yaml": False,
        "test_api/TestClient.test_post.yaml": False,
        "test_api/test_gone.yaml": True,
        "test_api/TestClient.test_gone.yaml": True,
        "test_removed_module/test_here.yaml": True,
    }
    for name in names:
        (cassettes / name).parent.mkdir(parents=True, exist_ok=True)
        (cassettes / name).write_text("interactions: []\n")
    expected = sorted(cassettes / name for name, unused in names.items() if unused)
    assert unused_cassettes(tests) == expected
