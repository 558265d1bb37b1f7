"""Each lint rule: minimal bad migrations, and their safe rewrites.

The line a bad migration should be reported on carries ``# <-`` (``missing-downgrade``
reports the ``def downgrade`` line). Every body runs after a setup revision that
creates ``accounts``, ``orders`` and ``people`` (see :data:`SETUP`), and every good
body also runs for real in ``test_lint_live.py``.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lintsupport import Revision, write_project

from whimbrel.config import Config

SETUP = """
op.create_table(
    "accounts",
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("email", sa.String(50)),
    sa.Column("note", sa.String(20)),
    sa.Column("amount", sa.Numeric(10, 2)),
    sa.Column("age", sa.Integer),
)
op.create_table(
    "orders",
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("account_id", sa.Integer),
    sa.Column("status", sa.String(20)),
)
op.create_table(
    "people",
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("mood", sa.Enum("sad", "happy", name="mood")),
)
op.execute("INSERT INTO accounts (id, email, note, age) VALUES (1, 'a@example.com', 'n', 30)")
op.execute("INSERT INTO people (id, mood) VALUES (1, 'sad')")
"""

MODELS = '''
"""The application's models, as the lint cases' target_metadata."""
import sqlalchemy as sa

metadata = sa.MetaData()
sa.Table(
    "accounts",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("email", sa.String(50)),
    sa.Column("remark", sa.String(20)),
    sa.Column("amount", sa.Numeric(10, 2)),
    sa.Column("age", sa.Integer),
)
sa.Table(
    "orders",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("account_id", sa.Integer),
    sa.Column("status", sa.String(20)),
)
'''

ALL = ("postgresql", "mariadb", "sqlite")
PG = ("postgresql",)


@dataclass(frozen=True)
class Variant:
    """One migration body, with what it needs around it."""

    body: str
    downgrade: str = "op.execute('SELECT 1')"
    header: str = ""
    async_upgrade: bool = False
    lock_timeout: float | None = 2.0
    server_version: tuple[int, ...] | None = None
    only: tuple[str, ...] | None = None  # the dialects it is bad on, if not all the rule's


@dataclass(frozen=True)
class Case:
    rule: str
    dialects: tuple[str, ...]
    bad: tuple[Variant, ...]
    good: tuple[Variant, ...]


CASES: tuple[Case, ...] = (
    Case(
        "blocking-index",
        PG,
        bad=(
            Variant('op.create_index("ix_accounts_email", "accounts", ["email"])  # <-'),
            Variant('op.execute("CREATE INDEX ix_accounts_age ON accounts (age)")  # <-'),
            Variant(
                """
                with op.autocommit_block():
                    op.create_index(
                        "ix_orders_status", "orders", ["status"], postgresql_concurrently=True
                    )
                op.drop_index("ix_orders_status", table_name="orders")  # <-
                """
            ),
        ),
        good=(
            Variant(
                """
                with op.autocommit_block():
                    op.create_index(
                        "ix_accounts_email", "accounts", ["email"], postgresql_concurrently=True
                    )
                """
            ),
            Variant(
                """
                op.create_table("tags", sa.Column("id", sa.Integer, primary_key=True))
                op.create_index("ix_tags_id", "tags", ["id"])
                """
            ),
        ),
    ),
    Case(
        "concurrently-in-transaction",
        PG,
        bad=(
            Variant(
                'op.create_index("ix_a", "accounts", ["age"], postgresql_concurrently=True)  # <-'
            ),
        ),
        good=(
            Variant(
                'op.create_index("ix_a", "accounts", ["age"], postgresql_concurrently=True)',
                header="transactional = False",
            ),
            Variant(
                """
                with op.autocommit_block():
                    op.create_index("ix_a", "accounts", ["age"], postgresql_concurrently=True)
                """
            ),
        ),
    ),
    Case(
        "constraint-without-not-valid",
        PG,
        bad=(
            Variant(
                'op.create_foreign_key("fk_o_a", "orders", "accounts", ["account_id"], ["id"])'
                "  # <-"
            ),
            Variant('op.create_check_constraint("ck_age", "accounts", "age >= 0")  # <-'),
            Variant(
                """
                op.create_check_constraint(
                    "ck_age", "accounts", "age >= 0", postgresql_not_valid=True
                )
                op.execute("ALTER TABLE accounts VALIDATE CONSTRAINT ck_age")  # <-
                """
            ),
        ),
        good=(
            Variant(
                """
                op.create_foreign_key(
                    "fk_o_a", "orders", "accounts", ["account_id"], ["id"],
                    postgresql_not_valid=True,
                )
                with op.autocommit_block():
                    op.execute("ALTER TABLE orders VALIDATE CONSTRAINT fk_o_a")
                """
            ),
            Variant(
                'op.create_check_constraint("ck_age", "accounts", "age >= 0", '
                "postgresql_not_valid=True)"
            ),
        ),
    ),
    Case(
        "constraint-builds-index",
        PG,
        bad=(Variant('op.create_unique_constraint("uq_email", "accounts", ["email"])  # <-'),),
        good=(
            Variant(
                """
                with op.autocommit_block():
                    op.create_index(
                        "ix_email", "accounts", ["email"], unique=True,
                        postgresql_concurrently=True,
                    )
                op.execute(
                    "ALTER TABLE accounts ADD CONSTRAINT uq_email UNIQUE USING INDEX ix_email"
                )
                """
            ),
        ),
    ),
    Case(
        "not-null-without-default",
        ALL,
        bad=(
            Variant(
                'op.add_column("accounts", sa.Column("plan", sa.String(10), nullable=False))  # <-'
            ),
            Variant(
                'op.execute("ALTER TABLE accounts ADD COLUMN plan VARCHAR(10) NOT NULL")  # <-'
            ),
        ),
        good=(
            Variant(
                'op.add_column("accounts", sa.Column("plan", sa.String(10), nullable=False, '
                'server_default="free"))'
            ),
            Variant('op.add_column("accounts", sa.Column("plan", sa.String(10)))'),
        ),
    ),
    Case(
        "set-not-null",
        PG,
        bad=(
            Variant(
                'op.alter_column("accounts", "email", nullable=False, '
                "existing_type=sa.String(50))  # <-"
            ),
            Variant('op.execute("ALTER TABLE accounts ALTER COLUMN email SET NOT NULL")  # <-'),
        ),
        good=(
            Variant(
                """
                op.create_check_constraint(
                    "ck_email_nn", "accounts", "email IS NOT NULL", postgresql_not_valid=True
                )
                with op.autocommit_block():
                    op.execute("ALTER TABLE accounts VALIDATE CONSTRAINT ck_email_nn")
                op.alter_column(
                    "accounts", "email", nullable=False, existing_type=sa.String(50)
                )
                op.drop_constraint("ck_email_nn", "accounts", type_="check")
                """
            ),
        ),
    ),
    Case(
        "volatile-default",
        PG,
        bad=(
            Variant(
                'op.add_column("accounts", sa.Column("token", sa.Uuid, '
                'server_default=sa.text("gen_random_uuid()")))  # <-'
            ),
            Variant(
                'op.execute("ALTER TABLE accounts ADD COLUMN r float DEFAULT random()")  # <-'
            ),
            Variant(
                'op.add_column("accounts", sa.Column("seen", sa.DateTime, '
                "server_default=sa.func.now()))  # <-",
                server_version=(10,),
            ),
        ),
        good=(
            Variant(
                'op.add_column("accounts", sa.Column("seen", sa.DateTime(timezone=True), '
                "server_default=sa.func.now()))"
            ),
            Variant(
                """
                op.add_column("accounts", sa.Column("token", sa.Uuid))
                op.alter_column(
                    "accounts", "token", server_default=sa.text("gen_random_uuid()")
                )
                """
            ),
        ),
    ),
    Case(
        "column-type-rewrite",
        ("postgresql", "mariadb"),
        bad=(
            Variant(
                'op.alter_column("accounts", "age", type_=sa.BigInteger, '
                "existing_type=sa.Integer)  # <-"
            ),
            Variant(
                'op.alter_column("accounts", "note", type_=sa.String(300), '
                "existing_type=sa.String(20))  # <-",
                only=("mariadb",),
            ),
            Variant(
                'op.alter_column("accounts", "note", type_=sa.String(20), '
                'existing_type=sa.String(20), postgresql_using="upper(note)")  # <-',
                only=("postgresql",),
            ),
        ),
        good=(
            Variant(
                'op.alter_column("accounts", "note", type_=sa.String(40), '
                "existing_type=sa.String(20))"
            ),
        ),
    ),
    Case(
        "incompatible-rename",
        ALL,
        bad=(
            Variant(
                'op.alter_column("accounts", "email", new_column_name="mail", '
                "existing_type=sa.String(50))  # <-"
            ),
            Variant('op.rename_table("orders", "purchases")  # <-'),
        ),
        good=(Variant('op.add_column("accounts", sa.Column("remark", sa.String(20)))'),),
    ),
    Case(
        "incompatible-drop",
        ALL,
        bad=(
            Variant('op.drop_column("accounts", "email")  # <-'),
            Variant('op.execute("DROP TABLE orders")  # <-'),
        ),
        good=(Variant('op.drop_column("accounts", "note")'), Variant('op.drop_table("people")')),
    ),
    Case(
        "enum-value-in-transaction",
        PG,
        bad=(
            Variant(
                """
                op.add_enum_value("mood", "ecstatic")  # <-
                op.execute("UPDATE people SET mood = 'ecstatic' WHERE id = 1")
                """
            ),
            Variant('op.add_enum_value("mood", "ecstatic")  # <-', server_version=(11, 9)),
        ),
        good=(
            Variant(
                """
                with op.autocommit_block():
                    op.add_enum_value("mood", "ecstatic")
                op.execute("UPDATE people SET mood = 'ecstatic' WHERE id = 1")
                """
            ),
            Variant('op.add_enum_value("mood", "ecstatic")'),
        ),
    ),
    Case(
        "unbatched-update",
        ALL,
        bad=(
            Variant("op.execute(\"UPDATE accounts SET note = 'x'\")  # <-"),
            Variant(
                """
                accounts = sa.table("accounts", sa.column("note", sa.String))
                op.execute(accounts.delete())  # <-
                """
            ),
        ),
        good=(
            Variant(
                """
                accounts = sa.Table(
                    "accounts",
                    sa.MetaData(),
                    sa.Column("id", sa.Integer, primary_key=True),
                    sa.Column("note", sa.String(20)),
                )
                await op.update_in_batches(accounts, {"note": "x"}, batch_size=100)
                """,
                async_upgrade=True,
            ),
            Variant("op.execute(\"UPDATE accounts SET note = 'x' WHERE id BETWEEN 1 AND 1000\")"),
        ),
    ),
    Case(
        "no-lock-timeout",
        PG,
        bad=(
            Variant(
                'op.add_column("accounts", sa.Column("plan", sa.String(10)))  # <-',
                lock_timeout=None,
            ),
            Variant(
                """
                with op.autocommit_block():
                    op.create_index(  # <-
                        "ix_a", "accounts", ["age"], postgresql_concurrently=True
                    )
                """
            ),
        ),
        good=(
            Variant('op.add_column("accounts", sa.Column("plan", sa.String(10)))'),
            Variant(
                """
                op.execute("SET LOCAL lock_timeout = '2s'")
                op.add_column("accounts", sa.Column("plan", sa.String(10)))
                """,
                lock_timeout=None,
            ),
            Variant(
                """
                with op.autocommit_block():
                    op.execute("SET lock_timeout = '2s'")
                    op.create_index(
                        "ix_a", "accounts", ["age"], postgresql_concurrently=True
                    )
                    op.execute("RESET lock_timeout")
                """
            ),
        ),
    ),
    Case(
        "missing-downgrade",
        ALL,
        bad=(
            Variant('op.add_column("accounts", sa.Column("plan", sa.String(10)))', downgrade=""),
            Variant(
                'op.add_column("accounts", sa.Column("plan", sa.String(10)))',
                downgrade='"""Nothing to undo."""\n...',
            ),
        ),
        good=(
            Variant(
                'op.add_column("accounts", sa.Column("plan", sa.String(10)))',
                downgrade='op.drop_column("accounts", "plan")',
            ),
        ),
    ),
    Case(
        "incomplete-analysis",
        ALL,
        bad=(Variant('op.get_bind().execute(sa.text("SELECT 1"))  # <-'),),
        good=(Variant('op.execute("SELECT 1")'),),
    ),
)


def variant_ids(kind: str) -> list[tuple[Case, int, Variant]]:
    """Every (case, number, variant) of the ``bad`` or ``good`` variants."""
    return [
        (case, n, variant) for case in CASES for n, variant in enumerate(getattr(case, kind), 1)
    ]


def write_case(root: Path, variant: Variant, url: str | None = None, **config: Any) -> Config:
    """A project: the setup revision ``r1``, then ``r2`` with the variant's body."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "lint_case_models.py").write_text(MODELS, encoding="utf-8")
    revisions = [
        Revision("r1", None, SETUP),
        Revision(
            "r2",
            "r1",
            textwrap.dedent(variant.body),
            downgrade=variant.downgrade,
            header=variant.header,
            async_upgrade=variant.async_upgrade,
        ),
    ]
    return write_project(
        root,
        revisions,
        url=url,
        lock_timeout=variant.lock_timeout,
        target_metadata="lint_case_models:metadata",
        prepend_sys_path=(root,),
        **config,
    )
