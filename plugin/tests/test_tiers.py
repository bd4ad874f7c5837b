"""A test's folder gives its tier marker; some tiers and fixtures make it `committed`; unit tests get no network."""

import pytest

PROJECT = {
    "tests/unit/test_parse.py": "def test_parse(): pass",
    "tests/integration/test_store.py": "def test_store(): pass\ndef test_events(event_bus): pass",
    "tests/e2e/test_journey.py": "def test_journey(): pass",
    "tests/test_loose.py": "def test_loose(): pass",
}


@pytest.fixture
def tiered(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makepyprojecttoml(
        "[tool.pytest.ini_options]\n"
        'addopts = ["--strict-markers"]\n'
        'committed_tiers = ["e2e"]\n'
        'committed_fixtures = ["event_bus"]\n'
    )
    pytester.makeconftest("import pytest\n@pytest.fixture\ndef event_bus(): pass")
    for path, source in PROJECT.items():
        (pytester.path / path).parent.mkdir(parents=True, exist_ok=True)
        (pytester.path / path).write_text(source + "\n")
    return pytester


@pytest.mark.parametrize(
    ("marker", "selected"),
    [
        ("unit", ["tests/unit/test_parse.py::test_parse"]),
        (
            "integration",
            ["tests/integration/test_store.py::test_store", "tests/integration/test_store.py::test_events"],
        ),
        ("e2e", ["tests/e2e/test_journey.py::test_journey"]),
        ("committed", ["tests/e2e/test_journey.py::test_journey", "tests/integration/test_store.py::test_events"]),
        ("not (unit or integration or e2e)", ["tests/test_loose.py::test_loose"]),
    ],
)  # fmt: skip
def test_markers_by_folder_and_committed(
    tiered: pytest.Pytester, marker: str, selected: list[str]
) -> None:
    result = tiered.runpytest("--collect-only", "-q", "-m", marker)
    assert result.ret == pytest.ExitCode.OK, result.outlines
    collected = [line for line in result.outlines if "::" in line]
    assert sorted(collected) == sorted(selected)


def test_unit_tests_may_not_open_inet_sockets_integration_tests_may(
    pytester: pytest.Pytester,
) -> None:
    connects = (
        "import socket\n"
        "def test_connects():\n"
        '    with socket.create_server(("127.0.0.1", 0)) as server:\n'
        "        socket.create_connection(server.getsockname()).close()\n"
    )
    pytester.makepyfile(
        **{
            "tests/unit/test_unit_network.py": connects
            + "def test_socketpair():\n    socket.socketpair()[0].close()\n",
            "tests/integration/test_integration_network.py": connects,
        }
    )
    result = pytester.runpytest("-rf")
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(
        [
            "E *SocketBlockedError: A test tried to use socket.socket.",
            "FAILED tests/unit/test_unit_network.py::test_connects*",
        ]
    )
