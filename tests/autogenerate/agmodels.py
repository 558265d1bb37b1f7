"""Two versions of one application's models: every kind of change autogenerate detects.

``base(dialect)`` is the schema before, ``target(dialect)`` after; the comments on
``target`` say what changed. Features a database lacks are left out for it (MariaDB
has no expression indexes, only PostgreSQL has identity columns and named enums).
"""

from __future__ import annotations

import sqlalchemy as sa
from agsupport import convention

RENAMES = ("users.fullname:users.full_name", "tags:labels")


def _computed(dialect: str, sql: str) -> sa.Computed:
    return sa.Computed(sql, persisted=True if dialect != "sqlite" else None)


def base(dialect: str) -> sa.MetaData:
    """The models before."""
    md = sa.MetaData(naming_convention=convention())
    users = sa.Table(
        "users",
        md,
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(50), nullable=False, server_default="anon", comment="shown"),
        sa.Column("fullname", sa.String(100)),
        sa.Column("email", sa.String(200)),
        sa.Column("bio", sa.String(200)),
        sa.Column("age", sa.Integer(), server_default=sa.text("0")),
        sa.Column("nickname", sa.String(30), server_default="x"),
        sa.Column("score", sa.Numeric(10, 2)),
        sa.Column("mood", sa.Enum("happy", "sad", name="mood")),
        sa.Column("legacy", sa.String(20)),
        sa.Column("status", sa.String(10)),
        sa.Column("created", sa.DateTime(), server_default=sa.func.now()),
        sa.CheckConstraint("age >= 0", name="age_positive"),
        sa.UniqueConstraint("nickname"),
        comment="people",
    )
    sa.Index("ix_users_name", users.c.name)
    sa.Index("ix_users_email", users.c.email)
    sa.Table(
        "posts",
        md,
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("title", sa.String(100), nullable=False),
        sa.Column("body", sa.Text()),
        sa.Column("title_len", sa.Integer(), _computed(dialect, "length(title)")),
        sa.Index("ix_posts_user_id", "user_id"),
    )
    sa.Table(
        "old_stuff",
        md,
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id")),
        sa.Column("note", sa.String(50), server_default="none"),
    )
    sa.Table(
        "tags",
        md,
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("label", sa.String(40), nullable=False),
    )
    return md


def target(dialect: str) -> sa.MetaData:
    """The models after: one change of each kind."""
    md = sa.MetaData(naming_convention=convention())
    users = sa.Table(
        "users",
        md,
        sa.Column("id", sa.Integer(), primary_key=True),
        # comment changed
        sa.Column("name", sa.String(50), nullable=False, server_default="anon", comment="name"),
        # renamed from fullname (given as a rename)
        sa.Column("full_name", sa.String(100)),
        # no longer nullable
        sa.Column("email", sa.String(200), nullable=False),
        # narrowed
        sa.Column("bio", sa.String(100)),
        # default changed
        sa.Column("age", sa.Integer(), server_default=sa.text("18")),
        # default removed
        sa.Column("nickname", sa.String(30)),
        # default added, widened
        sa.Column("score", sa.Numeric(12, 2), server_default="0"),
        # a value added
        sa.Column("mood", sa.Enum("happy", "sad", "angry", name="mood")),
        sa.Column("status", sa.String(10)),
        sa.Column("created", sa.DateTime(), server_default=sa.func.now()),
        # new columns: nullable, NOT NULL with a default, a new enum type
        sa.Column("rank", sa.Integer()),
        sa.Column("country", sa.String(2), nullable=False, server_default="FR"),
        sa.Column("color", sa.Enum("red", "green", name="color")),
        # check constraint dropped (age_positive) and added
        sa.CheckConstraint("status IN ('a', 'b')", name="status_valid"),
        # unique constraint dropped (nickname) and added
        sa.UniqueConstraint("email"),
        # table comment changed
        comment="people of the app",
    )
    sa.Index("ix_users_name", users.c.name)
    # index dropped (ix_users_email); expression and partial indexes added
    if dialect != "mariadb":
        sa.Index("ix_users_lower_name", sa.func.lower(users.c.name))
        sa.Index(
            "ix_users_score_positive",
            users.c.score,
            postgresql_where=users.c.score > 0,
            sqlite_where=users.c.score > 0,
        )
    else:
        sa.Index("ix_users_score", users.c.score)
    sa.Table(
        "posts",
        md,
        sa.Column("id", sa.Integer(), primary_key=True),
        # foreign key option changed
        sa.Column(
            "user_id",
            sa.Integer(),
            sa.ForeignKey("users.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("title", sa.String(100), nullable=False),
        sa.Column("body", sa.Text()),
        # computed expression changed
        sa.Column("title_len", sa.Integer(), _computed(dialect, "length(title) + 1")),
        # new column with a new foreign key
        sa.Column("reviewer_id", sa.Integer(), sa.ForeignKey("users.id")),
        sa.Index("ix_posts_user_id", "user_id"),
    )
    # old_stuff dropped; tags renamed to labels, with a new column
    sa.Table(
        "labels",
        md,
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("label", sa.String(40), nullable=False),
        sa.Column("weight", sa.Integer()),
    )
    # a new table: identity key (PostgreSQL), foreign key, index, check, comment
    identity = (sa.Identity(start=10),) if dialect == "postgresql" else ()
    sa.Table(
        "comments",
        md,
        sa.Column("id", sa.Integer(), *identity, primary_key=True),
        sa.Column(
            "post_id",
            sa.Integer(),
            sa.ForeignKey("posts.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column("body", sa.String(500), nullable=False),
        sa.Column("created_at", sa.DateTime(), server_default=sa.func.now()),
        sa.CheckConstraint("length(body) > 0", name="body_not_empty"),
        comment="comments on posts",
    )
    return md


def realistic(dialect: str) -> sa.MetaData:
    """A shop's schema: defaults, enums, indexes, foreign keys, comments, checks."""
    md = sa.MetaData(naming_convention=convention())
    status = sa.Enum("pending", "paid", "shipped", name="order_status")
    customers = sa.Table(
        "customers",
        md,
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column("email", sa.String(255), nullable=False, unique=True),
        sa.Column("name", sa.Unicode(200), nullable=False, comment="full name"),
        sa.Column("active", sa.Boolean(), nullable=False, server_default=sa.true()),
        sa.Column("balance", sa.Numeric(12, 2), nullable=False, server_default="0"),
        sa.Column("ratio", sa.Float()),
        sa.Column("born", sa.Date()),
        sa.Column("wake_up", sa.Time()),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now()),
        sa.Column("updated_at", sa.DateTime(), server_default=sa.text("CURRENT_TIMESTAMP")),
        sa.Column("notes", sa.Text()),
        sa.Column("prefs", sa.JSON()),
        sa.Column("token", sa.Uuid()),
        sa.Column("avatar", sa.LargeBinary()),
        sa.Column("tier", sa.SmallInteger(), nullable=False, server_default=sa.text("1")),
        comment="who buys",
    )
    sa.Index("ix_customers_name_created", customers.c.name, customers.c.created_at)
    orders = sa.Table(
        "orders",
        md,
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "customer_id",
            sa.BigInteger(),
            sa.ForeignKey("customers.id", ondelete="CASCADE", onupdate="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column("status", status, nullable=False, server_default="pending"),
        sa.Column("total", sa.Numeric(10, 2), nullable=False),
        sa.Column("currency", sa.CHAR(3), nullable=False, server_default="EUR"),
        sa.Column("placed_at", sa.DateTime(), nullable=False, server_default=sa.func.now()),
        sa.CheckConstraint("total >= 0", name="total_positive"),
    )
    if dialect != "mariadb":
        sa.Index("ix_orders_lower_currency", sa.func.lower(orders.c.currency))
        sa.Index(
            "ix_orders_open",
            orders.c.placed_at,
            postgresql_where=orders.c.status == "pending",
            sqlite_where=orders.c.status == "pending",
        )
    sa.Table(
        "order_lines",
        md,
        sa.Column("order_id", sa.Integer(), sa.ForeignKey("orders.id"), primary_key=True),
        sa.Column("line", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("sku", sa.String(32), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False, server_default=sa.text("1")),
        sa.UniqueConstraint("order_id", "sku"),
    )
    sa.Table(
        "categories",
        md,
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("parent_id", sa.Integer(), sa.ForeignKey("categories.id")),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column(
            "slug",
            sa.String(120),
            _computed(dialect, "lower(name)"),
        ),
    )
    return md
