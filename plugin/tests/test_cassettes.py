"""Cassette hygiene: secret-looking values are found, and cassettes of tests that are gone too."""

from pathlib import Path

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
