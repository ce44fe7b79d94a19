"""Alembic environment: every table, on the records' Base."""

from __future__ import annotations

import warnings

from alembic import context
from sqlalchemy import create_engine
from sqlalchemy.exc import SAWarning

from visitplan.records.tables import Base

target_metadata = Base.metadata

# Batch migrations on SQLite reflect the tables around the one they rebuild; the MRN
# index (an expression) cannot be reflected, which SQLAlchemy says on stderr. It is
# not touched (only the rebuilt table's own indexes are made again): not a user's
# concern.
warnings.filterwarnings(
    "ignore", message="Skipped unsupported reflection of expression-based index", category=SAWarning
)


def run() -> None:
    connection = context.config.attributes.get("connection")
    if connection is None:
        # Run by hand: `alembic -x url=... upgrade heads`.
        url = context.get_x_argument(as_dictionary=True).get(
            "url"
        ) or context.config.get_main_option("sqlalchemy.url")
        with create_engine(url or "sqlite://").begin() as own:
            context.configure(connection=own, target_metadata=target_metadata)
            context.run_migrations()
        return
    context.configure(connection=connection, target_metadata=target_metadata)
    with context.begin_transaction():
        context.run_migrations()


run()
