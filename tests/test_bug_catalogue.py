"""What integration tests catch: realistic bugs injected into the fullest project, sync and
async, one at a time, and which tier's tests fail because of each. The integration tier
must catch all.

By default each bug runs the one integration test file that catches it (CAUGHT_BY): a
file that stops catching its bug fails here by name. `CATALOGUE_TIERS=unit,integration,e2e
uv run pytest tests/test_bug_catalogue.py -s -n 0` runs whole tiers instead and prints the
table the README shows.
"""

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.checks import run_suite
from tests.render import render_variant
from tests.variants import ROOT, fullest_variant

PACKAGE = "src/my_service"

USERS = f"{PACKAGE}/api/users.py"
ORDERS = f"{PACKAGE}/api/orders.py"
INVENTORY = f"{PACKAGE}/inventory.py"
PAYMENTS = f"{PACKAGE}/payments.py"
MIGRATION = f"{PACKAGE}/migrations/versions/0003_outbox.py"

# family: {name: [(file, text, replacement), ...]}; each family has a pattern in the suite.
FAMILIES = {
    "basics": {
        "SQL error (unknown column)": [
            (USERS, "order_by(User.id)", 'order_by(text("no_such_column"))'),
            (
                USERS,
                "from sqlalchemy import func, select",
                "from sqlalchemy import func, select, text",
            ),
        ],
        "serialization mismatch": [(USERS, '"total": total,', '"count": total,')],
        "pagination off by one": [
            (
                f"{PACKAGE}/api/pagination.py",
                "(self.page - 1) * self.per_page",
                "self.page * self.per_page",
            ),
        ],
        "payment status mapped wrongly": [(PAYMENTS, 'status="failed",', 'status="declined",')],
    },
    "concurrency": {
        "lost update: stock read, then written back": [
            (
                INVENTORY,
                "            .where(Inventory.sku == sku, Inventory.stock >= quantity)\n"
                "            .values(stock=Inventory.stock - quantity)\n",
                "            .where(Inventory.sku == sku, Inventory.stock >= quantity)\n"
                "            .values(stock=session.get(Inventory, sku).stock - quantity)\n",
            ),
        ],
        "uniqueness checked by a SELECT instead of the database": [
            (f"{PACKAGE}/models.py", "String(320), unique=True)", "String(320))"),
            (
                f"{PACKAGE}/migrations/versions/0001_initial.py",
                '        sa.UniqueConstraint("email", name=op.f("uq_users_email")),\n',
                "",
            ),
            (
                USERS,
                "    token = new_api_token()\n",
                "    if session.scalars(select(User).where(User.email == payload.email)).first():\n"
                "        raise HTTPException(status_code=409, detail='already exists')\n"
                "    token = new_api_token()\n",
            ),
        ],
        "stock may go below zero": [
            (
                INVENTORY,
                ".where(Inventory.sku == sku, Inventory.stock >= quantity)",
                ".where(Inventory.sku == sku)",
            ),
        ],
    },
    "more than one process": {
        "a consumer group per process": [
            (f"{PACKAGE}/app.py", "group=GROUP,", 'group=f"{GROUP}-{uuid.uuid4().hex}",'),
            (f"{PACKAGE}/app.py", "import json\n", "import json\nimport uuid\n"),
        ],
        "a crashed consumer's events are never reclaimed": [
            (f"{PACKAGE}/events.py", "self._claim_idle_ms, start_id", "10**12, start_id"),
        ],
    },
    "transactional messaging": {
        "event published before the commit, not through the outbox": [
            (
                ORDERS,
                "    place_order(session, order)\n",
                "    session.add(order)\n    session.flush()\n"
                "    data = {'order_id': order.id, 'items': order.items}\n"
                "    request.app.state.events.publish(ORDER_CREATED, envelope(ORDER_CREATED, data))\n",
            ),
            (
                ORDERS,
                "from my_service.events import ORDER_CREATED",
                "from my_service.events import ORDER_CREATED, envelope",
            ),
        ],
        "the relay publishes what it published before": [
            (
                f"{PACKAGE}/outbox.py",
                "            .where(OutboxEvent.published_at.is_(None))\n",
                "",
            ),
        ],
        "the consumer is not idempotent": [
            (
                INVENTORY,
                '                session.add(ProcessedEvent(consumer=self.group, event_id=event["id"]))\n',
                "",
            ),
        ],
        "event not published": [
            (
                ORDERS,
                "    add_event(session, ORDER_CREATED,",
                "    (lambda *event: None)(session, ORDER_CREATED,",
            )
        ],
    },
    "API contract": {
        "NUL bytes reach the database": [
            (
                f"{PACKAGE}/api/validation.py",
                '    if "\\x00" in value:',
                '    if "\\x00" in value and False:',
            ),
        ],
        "an id outside the database's integers": [
            (f"{PACKAGE}/api/errors.py", "Path(ge=1, le=2**31 - 1)", "Path(ge=1)"),
        ],
        "an undocumented answer": [
            (
                USERS,
                '        raise HTTPException(status_code=status.HTTP_404_NOT_FOUND, detail="User not found")',
                '        raise HTTPException(status_code=status.HTTP_410_GONE, detail="User not found")',
            ),
        ],
    },
    "dependency faults": {
        "no timeout on the payment provider": [
            (
                PAYMENTS,
                "httpx.Client(base_url=base_url, timeout=self.timeout)",
                "httpx.Client(base_url=base_url, timeout=None)",
            ),
        ],
        "a provider failure becomes a 500": [
            (
                ORDERS,
                "    except PaymentUnavailable as exc:\n",
                "    except ZeroDivisionError as exc:\n",
            ),
        ],
        "retries charge twice (no idempotency key)": [
            (
                PAYMENTS,
                '            headers["Idempotency-Key"] = idempotency_key\n',
                "            pass\n",
            ),
        ],
    },
    "full-schema drift": {
        "a CHECK constraint only in the model": [
            (
                MIGRATION,
                '        batch.create_check_constraint(op.f("ck_inventory_price_not_negative"), "price >= 0")\n',
                "",
            ),
            (
                MIGRATION,
                '        batch.drop_constraint(op.f("ck_inventory_price_not_negative"), type_="check")\n',
                "",
            ),
        ],
        "a server default only in the model": [
            (
                MIGRATION,
                'sa.Column("price", sa.Integer(), server_default=sa.text("0"), nullable=False)',
                'sa.Column("price", sa.Integer(), server_default=sa.text("1"), nullable=False)',
            ),
        ],
        "a partial index that is whole in the migration": [
            (
                MIGRATION,
                '        postgresql_where=sa.text("published_at IS NULL"),\n        sqlite_where=sa.text("published_at IS NULL"),\n',
                "",
            ),
        ],
    },
    "access control": {
        "auth dependency removed": [
            (
                USERS,
                "def read_me(user: CurrentUser) -> User:\n    return user",
                "def read_me(session: SessionDep) -> User:\n    return session.scalars(select(User)).first()",
            ),
        ],
        "another user's order is shown": [
            (ORDERS, "    if order is None or order.user_id != user.id:", "    if order is None:"),
        ],
        "a bad token is taken as no token": [
            (
                f"{PACKAGE}/auth.py",
                '    if "authorization" not in request.headers:',
                "    if credentials is None:",
            ),
        ],
        "API tokens stored as they are": [
            (
                f"{PACKAGE}/models.py",
                "return hashlib.sha256(token.encode()).hexdigest()",
                "return token",
            ),
        ],
    },
}
BUGS = {name: edits for bugs in FAMILIES.values() for name, edits in bugs.items()}

# The same bugs in the async project, where its code reads differently.
ASYNC_BUGS = {
    **BUGS,
    "lost update: stock read, then written back": [
        (
            INVENTORY,
            "            .where(Inventory.sku == sku, Inventory.stock >= quantity)\n"
            "            .values(stock=Inventory.stock - quantity)\n",
            "            .where(Inventory.sku == sku, Inventory.stock >= quantity)\n"
            "            .values(stock=(await session.get(Inventory, sku)).stock - quantity)\n",
        ),
    ],
    "uniqueness checked by a SELECT instead of the database": [
        *BUGS["uniqueness checked by a SELECT instead of the database"][:2],
        (
            USERS,
            "    token = new_api_token()\n",
            "    if (await session.scalars(select(User).where(User.email == payload.email))).first():\n"
            "        raise HTTPException(status_code=409, detail='already exists')\n"
            "    token = new_api_token()\n",
        ),
    ],
    "event published before the commit, not through the outbox": [
        (
            ORDERS,
            "    await place_order(session, order)\n",
            "    session.add(order)\n    await session.flush()\n"
            "    data = {'order_id': order.id, 'items': order.items}\n"
            "    await request.app.state.events.publish(ORDER_CREATED, envelope(ORDER_CREATED, data))\n",
        ),
        BUGS["event published before the commit, not through the outbox"][1],
    ],
    "no timeout on the payment provider": [
        (
            PAYMENTS,
            "httpx.AsyncClient(base_url=base_url, timeout=self.timeout)",
            "httpx.AsyncClient(base_url=base_url, timeout=None)",
        ),
    ],
    "auth dependency removed": [
        (
            USERS,
            "def read_me(user: CurrentUser) -> User:\n    return user",
            "def read_me(session: SessionDep) -> User:\n"
            "    return (await session.scalars(select(User))).first()",
        ),
    ],
}
EDITS = {"sync": BUGS, "async": ASYNC_BUGS}
# The integration test file that catches each bug: its pattern family's file, but for the
# bad token, which the contract test's check of ignored authentication catches on
# POST /api/orders (a route where a token is optional).
CAUGHT_BY = {
    "SQL error (unknown column)": "api/test_users.py",
    "serialization mismatch": "api/test_users.py",
    "pagination off by one": "api/test_users.py",
    "payment status mapped wrongly": "test_payments.py",
    "lost update: stock read, then written back": "test_concurrency.py",
    "uniqueness checked by a SELECT instead of the database": "test_concurrency.py",
    "stock may go below zero": "test_concurrency.py",
    "a consumer group per process": "test_instances.py",
    "a crashed consumer's events are never reclaimed": "test_events.py",
    "event published before the commit, not through the outbox": "test_outbox.py",
    "the relay publishes what it published before": "test_outbox.py",
    "the consumer is not idempotent": "test_outbox.py",
    "event not published": "test_outbox.py",
    "NUL bytes reach the database": "api/test_contract.py",
    "an id outside the database's integers": "api/test_contract.py",
    "an undocumented answer": "api/test_contract.py",
    "no timeout on the payment provider": "test_payment_faults.py",
    "a provider failure becomes a 500": "test_payment_faults.py",
    "retries charge twice (no idempotency key)": "test_payment_faults.py",
    "a CHECK constraint only in the model": "test_migrations.py",
    "a server default only in the model": "test_migrations.py",
    "a partial index that is whole in the migration": "test_migrations.py",
    "auth dependency removed": "api/test_access.py",
    "another user's order is shown": "api/test_access.py",
    "a bad token is taken as no token": "api/test_contract.py",
    "API tokens stored as they are": "api/test_access.py",
}
# Whole tiers instead, for the README's table (see the docstring); unset: CAUGHT_BY.
TIERS = os.environ["CATALOGUE_TIERS"].split(",") if "CATALOGUE_TIERS" in os.environ else None


@pytest.fixture(scope="module")
def fullest_projects(template_repo: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The fullest render of each style, made once for the bugs that run on one worker (module)."""
    made: dict[str, Path] = {}

    def fullest(style: str) -> Path:
        if style not in made:
            destination = tmp_path_factory.mktemp(f"catalogue-{style}")
            made[style] = render_variant(template_repo, destination, fullest_variant(style).data)
        return made[style]

    return fullest


@pytest.fixture
def project(request: pytest.FixtureRequest, fullest_projects) -> Iterator[Path]:
    """The fullest render; whatever a test changes in its sources is put back (function)."""
    fullest = fullest_projects(request.node.callspec.params["style"])
    originals = {path: path.read_bytes() for path in (fullest / "src").rglob("*.py")}
    yield fullest
    for path, content in originals.items():
        path.write_bytes(content)


@pytest.mark.slow
@pytest.mark.parametrize("bug", BUGS)
@pytest.mark.parametrize("style", EDITS)
def test_integration_tier_catches(style: str, bug: str, project: Path, service_urls) -> None:
    for relative, text, replacement in EDITS[style][bug]:
        path = project / relative
        source = path.read_text()
        assert text in source, f"{relative} no longer contains {text!r}: update the catalogue"
        path.write_text(source.replace(text, replacement))
    if TIERS is None:
        catcher = f"tests/integration/{CAUGHT_BY[bug]}"
        assert (project / catcher).is_file(), f"{catcher} is gone: update CAUGHT_BY"
        runs = {"integration": catcher}
    else:
        runs = {tier: f"tests/{tier}" for tier in TIERS}
    caught = {}
    for tier, tests in runs.items():
        # Whether a tier catches a bug is decided by its first failure: no retries.
        result = run_suite(
            project,
            env=service_urls,
            junit=project / f"catalogue-{tier}.xml",
            # --tb=line: Python 3.11.7 cannot always print a long traceback of a Hypothesis
            # failure ("AST constructor recursion depth mismatch"), which would hide the bug.
            args=(tests, "-q", "-x", "--retries=0", "--tb=line"),
        )
        assert result.returncode in (0, 1), f"{tests} could not run:\n{result.output[-3000:]}"
        caught[tier] = result.returncode == 1
    columns = (
        [runs["integration"]] if TIERS is None else ["caught" if caught[t] else "-" for t in TIERS]
    )
    print(f"\n| {style} | {bug} | " + " | ".join(columns) + " |")
    assert caught["integration"], f"{runs['integration']} missed: {bug}"


def test_every_bug_names_the_file_that_catches_it() -> None:
    assert CAUGHT_BY.keys() == BUGS.keys() == ASYNC_BUGS.keys()
    # The README's table says the same, row by row.
    rows = [
        f"| {family} | {bug} | `{CAUGHT_BY[bug]}` |"
        for family, bugs in FAMILIES.items()
        for bug in bugs
    ]
    readme = (ROOT / "README.md").read_text()
    assert "\n".join(rows) in readme, "README.md's bug table differs from CAUGHT_BY"
