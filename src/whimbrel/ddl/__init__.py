"""Per-dialect DDL implementations built on SQLAlchemy's constructs and compilers."""

# The @compiles rules must be registered before any element is compiled.
from whimbrel.ddl import compiler as _compiler  # noqa: F401
