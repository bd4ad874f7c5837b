"""Store API tokens only as their SHA-256 hash.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""

import hashlib
import secrets
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("api_token_hash", sa.String(length=64), nullable=True))
    users = sa.table("users", sa.column("id"), sa.column("api_token"), sa.column("api_token_hash"))
    connection = op.get_bind()
    for user_id, token in connection.execute(sa.select(users.c.id, users.c.api_token)).all():
        digest = hashlib.sha256(token.encode()).hexdigest()
        connection.execute(
            users.update().where(users.c.id == user_id).values(api_token_hash=digest)
        )
    with op.batch_alter_table("users") as batch:
        batch.alter_column("api_token_hash", existing_type=sa.String(length=64), nullable=False)
        batch.create_unique_constraint(op.f("uq_users_api_token_hash"), ["api_token_hash"])
        batch.drop_constraint(op.f("uq_users_api_token"), type_="unique")
        batch.drop_column("api_token")


def downgrade() -> None:
    # A hash cannot be turned back into its token: every user gets a new token,
    # which nobody knows, so every user must be given a new one.
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("api_token", sa.String(length=64), nullable=True))
    users = sa.table("users", sa.column("id"), sa.column("api_token"))
    connection = op.get_bind()
    for (user_id,) in connection.execute(sa.select(users.c.id)).all():
        connection.execute(
            users.update().where(users.c.id == user_id).values(api_token=secrets.token_urlsafe(32))
        )
    with op.batch_alter_table("users") as batch:
        batch.alter_column("api_token", existing_type=sa.String(length=64), nullable=False)
        batch.create_unique_constraint(op.f("uq_users_api_token"), ["api_token"])
        batch.drop_constraint(op.f("uq_users_api_token_hash"), type_="unique")
        batch.drop_column("api_token_hash")
