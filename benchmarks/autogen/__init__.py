"""The autogenerate suite: a no-difference ``check`` over large schemas, vs Alembic."""
