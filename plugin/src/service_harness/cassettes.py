"""Recorded HTTP that is safe to commit: secrets scrubbed on the way in, caught if they slip by.

`scrubbing_vcr_config()` is the part of VCR.py's settings (pytest-recording's
`vcr_config` fixture) that keeps credentials out of cassettes. `secrets_in()`
finds secret-looking values in a cassette's text, and `unused_cassettes()`
the cassettes that no test is named after any more.
"""

import ast
import functools
import re
from collections.abc import MutableMapping
from pathlib import Path
from typing import Any, Protocol, TypeVar
from urllib.parse import urlsplit

REDACTED = "REDACTED"
SECRET_HEADERS = ("authorization", "proxy-authorization", "cookie", "x-api-key")
SECRET_PARAMETERS = (
    "api_key", "apikey", "key", "token", "access_token", "refresh_token",
    "client_secret", "secret", "password",
)  # fmt: skip
# Headers that change on every recording and say nothing about the API.
NOISY_RESPONSE_HEADERS = ("date", "server")

SECRET_PATTERNS = {
    "Stripe-style secret key": re.compile(r"\b[sr]k_(?:live|test)_[0-9A-Za-z]{10,}"),
    "bearer token": re.compile(r"(?i)\bbearer\s+(?!REDACTED\b)[A-Za-z0-9._~+/=-]{12,}"),
    "AWS access key": re.compile(r"\bAKIA[0-9A-Z]{16}\b"),
    "GitHub token": re.compile(r"\bgh[pousr]_[A-Za-z0-9]{30,}"),
    "JSON web token": re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\."),
    "private key": re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"),
    "credential parameter": re.compile(
        r"(?i)\b(?:api_?key|client_secret|secret|password|access_token|token)"
        r"""\s*[=:]\s*["']?(?!REDACTED\b)[^\s&"',}]{8,}"""
    ),
}


def scrub_response(response: dict[str, Any]) -> dict[str, Any]:
    """Redact Set-Cookie and drop noisy headers before a response is written to a cassette."""
    headers = response["headers"]
    for name in list(headers):
        if name.lower() == "set-cookie":
            headers[name] = [REDACTED]
        elif name.lower() in NOISY_RESPONSE_HEADERS:
            del headers[name]
    return response


def scrubbing_vcr_config(
    *,
    headers: tuple[str, ...] = (),
    parameters: tuple[str, ...] = (),
    loopback_as: str | None = None,
) -> dict[str, Any]:
    """VCR.py settings that redact credentials (these and the `headers` and `parameters` given).

    `loopback_as`: a base URL (`https://payments.invalid`) to record requests to a
    loopback port under, so that a stand-in server's random port does not change
    the cassettes each time they are recorded again.
    """
    secret_parameters = (*SECRET_PARAMETERS, *parameters)
    config: dict[str, Any] = {
        "filter_headers": [(name, REDACTED) for name in (*SECRET_HEADERS, *headers)],
        "filter_query_parameters": [(name, REDACTED) for name in secret_parameters],
        "filter_post_data_parameters": [(name, REDACTED) for name in secret_parameters],
        "before_record_response": scrub_response,
        "decode_compressed_response": True,
    }
    if loopback_as:
        config["before_record_request"] = functools.partial(_record_under, loopback_as)
    return config


_LOOPBACK = re.compile(r"^http://(?:127\.0\.0\.1|localhost|\[::1\]):\d+")


class _Request(Protocol):
    """What `_record_under` uses of a VCR.py Request."""

    uri: str
    headers: MutableMapping[str, str]


_R = TypeVar("_R", bound=_Request)


def _record_under(base_url: str, request: _R) -> _R:
    """`request` as if sent to `base_url`, when it went to a loopback port."""
    if _LOOPBACK.match(request.uri):
        request.uri = _LOOPBACK.sub(base_url.rstrip("/"), request.uri)
        if "host" in request.headers:
            request.headers["host"] = urlsplit(base_url).netloc
    return request


def secrets_in(text: str) -> list[str]:
    """The kinds of secret-looking values in `text`, with the line they are on."""
    found = []
    for number, line in enumerate(text.splitlines(), 1):
        for kind, pattern in SECRET_PATTERNS.items():
            if pattern.search(line):
                found.append(f"line {number}: {kind}")
    return found


def cassettes(tests_dir: Path) -> list[Path]:
    """Every cassette under `tests_dir` (pytest-recording keeps them in cassettes/ folders)."""
    return sorted(tests_dir.glob("**/cassettes/**/*.yaml"))


def unused_cassettes(tests_dir: Path) -> list[Path]:
    """Cassettes named cassettes/<module>/<Class>.<test>.yaml after a test that does not exist."""
    unused = []
    for path in cassettes(tests_dir):
        module = path.parent.parent.parent / f"{path.parent.name}.py"
        test_name = path.stem.split("[")[0]
        if not module.exists() or test_name not in _test_names(module):
            unused.append(path)
    return unused


_FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)  # sync and async tests


def _test_names(module: Path) -> set[str]:
    names = set()
    for node in ast.parse(module.read_text()).body:
        if isinstance(node, _FUNCTIONS):
            names.add(node.name)
        elif isinstance(node, ast.ClassDef):
            names |= {f"{node.name}.{f.name}" for f in node.body if isinstance(f, _FUNCTIONS)}
    return names
