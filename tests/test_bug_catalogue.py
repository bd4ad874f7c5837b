"""What integration tests catch: realistic bugs injected into the fullest project, one at a
time, and which tier's tests fail because of each. The integration tier must catch all.

`uv run pytest tests/test_bug_catalogue.py -s` prints the table the README shows.
"""

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.checks import run_suite
from tests.render import render_variant
from tests.variants import default_variant

PACKAGE = "src/my_service"

# name: [(file, text, replacement), ...]
BUGS = {
    "SQL error (unknown column)": [
        (f"{PACKAGE}/api/users.py", "order_by(User.id)", 'order_by(text("no_such_column"))'),
        (
            f"{PACKAGE}/api/users.py",
            "from sqlalchemy import func, select",
            "from sqlalchemy import func, select, text",
        ),
    ],
    "unique constraint dropped": [
        (f"{PACKAGE}/models.py", "String(320), unique=True)", "String(320))"),
        (
            f"{PACKAGE}/migrations/versions/0001_initial.py",
            '        sa.UniqueConstraint("email", name=op.f("uq_users_email")),\n',
            "",
        ),
    ],
    "serialization mismatch": [
        (f"{PACKAGE}/api/users.py", '"total": total,', '"count": total,'),
    ],
    "auth dependency removed": [
        (
            f"{PACKAGE}/api/users.py",
            "def read_me(user: Annotated[User, Depends(current_user)]) -> User:\n    return user",
            "def read_me(session: SessionDep) -> User:\n"
            "    return session.scalars(select(User)).first()",
        ),
    ],
    "pagination off by one": [
        (
            f"{PACKAGE}/api/pagination.py",
            "(self.page - 1) * self.per_page",
            "self.page * self.per_page",
        ),
    ],
    "event not published": [
        (f"{PACKAGE}/api/orders.py", "request.app.state.events.publish(", "(lambda *event: None)("),
    ],
    "wrong stock change": [
        (
            f"{PACKAGE}/inventory.py",
            ".values(stock=Inventory.stock - quantity)",
            ".values(stock=Inventory.stock - 1)",
        ),
    ],
    "payment status mapped wrongly": [
        (f"{PACKAGE}/payments.py", 'status="failed",', 'status="declined",'),
    ],
}
TIERS = default_variant()["tiers"]


@pytest.fixture(scope="module")
def fullest_project(template_repo: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The fullest render, shared by the bugs that run on one worker (module)."""
    return render_variant(
        template_repo, tmp_path_factory.mktemp("catalogue"), default_variant().data
    )


@pytest.fixture
def project(fullest_project: Path) -> Iterator[Path]:
    """The fullest render; whatever a test changes in its sources is put back (function)."""
    originals = {path: path.read_bytes() for path in (fullest_project / "src").rglob("*.py")}
    yield fullest_project
    for path, content in originals.items():
        path.write_bytes(content)


@pytest.mark.slow
@pytest.mark.parametrize("bug", BUGS)
def test_integration_tier_catches(bug: str, project: Path, service_urls) -> None:
    for relative, text, replacement in BUGS[bug]:
        path = project / relative
        source = path.read_text()
        assert text in source, f"{relative} no longer contains {text!r}: update the catalogue"
        path.write_text(source.replace(text, replacement))
    caught = {}
    for tier in TIERS:
        # Whether a tier catches a bug is decided by its first failure: no retries.
        result = run_suite(
            project,
            env=service_urls,
            junit=project / f"catalogue-{tier}.xml",
            args=(f"tests/{tier}", "-q", "-x", "--retries=0"),
        )
        assert result.returncode in (0, 1), f"{tier} could not run:\n{result.output[-3000:]}"
        caught[tier] = result.returncode == 1
    print(f"\n| {bug} | " + " | ".join("caught" if caught[t] else "-" for t in TIERS) + " |")
    assert caught["integration"], f"the integration tier missed: {bug}"
