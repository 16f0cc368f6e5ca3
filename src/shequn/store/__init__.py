"""The store: SQLAlchemy tables, Alembic migrations, and the functions that write them."""
