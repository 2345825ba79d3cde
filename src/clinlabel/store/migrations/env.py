"""Alembic environment: migrations always run on a connection handed in by `store.migrate`."""

from __future__ import annotations

from alembic import context

from clinlabel.store.schema import metadata

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    transaction_per_migration=True,
)
with context.begin_transaction():
    context.run_migrations()
