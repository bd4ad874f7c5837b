"""The complete schema of a database, as the database itself reports it.

Comparing this, not Alembic's autogenerate diff, between a database built by
the migrations and one built from the models catches what autogenerate does
not look at: CHECK constraints, server defaults, partial-index conditions.
"""

from typing import Any

from sqlalchemy import Connection, Engine, inspect

IGNORED_TABLES = {"alembic_version"}


def _text(value: object) -> str | None:
    return None if value is None else " ".join(str(value).split())


def schema_of(bind: Engine | Connection) -> dict[str, dict[str, Any]]:
    """Each table's columns, keys, constraints and indexes; order-free, so comparable.

    With asyncio, pass the sync facade: `await connection.run_sync(schema_of)`.
    """
    inspector = inspect(bind)
    tables: dict[str, dict[str, Any]] = {}
    for table in sorted(set(inspector.get_table_names()) - IGNORED_TABLES):
        columns = inspector.get_columns(table)
        tables[table] = {
            "columns": sorted(
                (c["name"], str(c["type"]), c["nullable"], _text(c.get("default"))) for c in columns
            ),
            "primary key": inspector.get_pk_constraint(table),
            "unique": sorted(
                (u["name"], tuple(u["column_names"]))
                for u in inspector.get_unique_constraints(table)
            ),
            "foreign keys": sorted(
                (
                    fk["name"],
                    tuple(fk["constrained_columns"]),
                    fk["referred_table"],
                    tuple(fk["referred_columns"]),
                    tuple(sorted(fk.get("options", {}).items())),
                )
                for fk in inspector.get_foreign_keys(table)
            ),
            "checks": sorted(
                (check["name"], _text(check["sqltext"]))
                for check in inspector.get_check_constraints(table)
            ),
            "indexes": sorted(
                (
                    index["name"],
                    tuple(index["column_names"]),
                    index["unique"],
                    tuple(
                        sorted((k, _text(v)) for k, v in index.get("dialect_options", {}).items())
                    ),
                )
                for index in inspector.get_indexes(table)
            ),
        }
    return tables
