"""Per-dialect DDL implementations built on SQLAlchemy's constructs and compilers."""
