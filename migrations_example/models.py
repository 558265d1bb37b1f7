"""The shop's tables as they are at the head revision.

``whimbrel.toml`` points ``target_metadata`` here, so autogenerate compares the
database with this ``MetaData``. Revision files never import it: they describe the
schema as it was at their own revision.
"""

import sqlalchemy as sa

# Constraint names are spelled out in every revision; the convention below gives new
# ones the same shape, so autogenerate writes names that match.
metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    }
)

NOW = sa.text("CURRENT_TIMESTAMP")

customers = sa.Table(
    "customers",
    metadata,
    sa.Column("id", sa.Integer(), primary_key=True),
    sa.Column("email", sa.String(255), nullable=False),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("created_at", sa.DateTime(), nullable=False, server_default=NOW),
    sa.Column("phone", sa.String(32), nullable=True),
    sa.Index("ix_customers_email", "email", unique=True),
)

categories = sa.Table(
    "categories",
    metadata,
    sa.Column("id", sa.Integer(), primary_key=True),
    sa.Column("name", sa.String(100), nullable=False),
    sa.UniqueConstraint("name", name="uq_categories_name"),
)

products = sa.Table(
    "products",
    metadata,
    sa.Column("id", sa.Integer(), primary_key=True),
    sa.Column("sku", sa.String(32), nullable=False),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column(
        "category_id",
        sa.Integer(),
        sa.ForeignKey("categories.id", name="fk_products_category_id_categories"),
        nullable=True,
    ),
    sa.Column("price_cents", sa.Integer(), nullable=False),
    sa.Column("active", sa.Boolean(), nullable=False, server_default=sa.true()),
    sa.UniqueConstraint("sku", name="uq_products_sku"),
)

warehouses = sa.Table(
    "warehouses",
    metadata,
    sa.Column("id", sa.Integer(), primary_key=True),
    sa.Column("code", sa.String(16), nullable=False),
    sa.Column("name", sa.String(100), nullable=False),
    sa.UniqueConstraint("code", name="uq_warehouses_code"),
)

orders = sa.Table(
    "orders",
    metadata,
    sa.Column("id", sa.Integer(), primary_key=True),
    sa.Column(
        "customer_id",
        sa.Integer(),
        sa.ForeignKey("customers.id", name="fk_orders_customer_id_customers"),
        nullable=False,
    ),
    sa.Column("status", sa.String(20), nullable=False, server_default="pending"),
    sa.Column("placed_at", sa.DateTime(), nullable=False, server_default=NOW),
    sa.Column("total_cents", sa.Integer(), nullable=False),
    sa.Column(
        "warehouse_id",
        sa.Integer(),
        sa.ForeignKey("warehouses.id", name="fk_orders_warehouse_id_warehouses"),
        nullable=True,
    ),
    sa.Index("ix_orders_customer_id", "customer_id"),
)

order_items = sa.Table(
    "order_items",
    metadata,
    sa.Column("id", sa.Integer(), primary_key=True),
    sa.Column(
        "order_id",
        sa.Integer(),
        sa.ForeignKey("orders.id", name="fk_order_items_order_id_orders", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column(
        "product_id",
        sa.Integer(),
        sa.ForeignKey("products.id", name="fk_order_items_product_id_products"),
        nullable=False,
    ),
    sa.Column("quantity", sa.Integer(), nullable=False),
    sa.Column("unit_price_cents", sa.Integer(), nullable=False),
    sa.UniqueConstraint("order_id", "product_id", name="uq_order_items_order_id_product_id"),
)

payments = sa.Table(
    "payments",
    metadata,
    sa.Column("id", sa.Integer(), primary_key=True),
    sa.Column(
        "order_id",
        sa.Integer(),
        sa.ForeignKey("orders.id", name="fk_payments_order_id_orders"),
        nullable=False,
    ),
    sa.Column("amount_cents", sa.Integer(), nullable=False),
    sa.Column("currency", sa.String(3), nullable=False, server_default="EUR"),
    sa.Column("provider", sa.String(50), nullable=False),
    sa.Column("provider_reference", sa.String(100), nullable=True),
    sa.Column("status", sa.String(20), nullable=False, server_default="pending"),
    sa.Column("created_at", sa.DateTime(), nullable=False, server_default=NOW),
    sa.Index("ix_payments_order_id", "order_id"),
)

refunds = sa.Table(
    "refunds",
    metadata,
    sa.Column("id", sa.Integer(), primary_key=True),
    sa.Column(
        "payment_id",
        sa.Integer(),
        sa.ForeignKey("payments.id", name="fk_refunds_payment_id_payments"),
        nullable=False,
    ),
    sa.Column("amount_cents", sa.Integer(), nullable=False),
    sa.Column("reason", sa.String(255), nullable=True),
    sa.Column("created_at", sa.DateTime(), nullable=False, server_default=NOW),
)

stock_levels = sa.Table(
    "stock_levels",
    metadata,
    sa.Column(
        "product_id",
        sa.Integer(),
        sa.ForeignKey("products.id", name="fk_stock_levels_product_id_products"),
        primary_key=True,
    ),
    sa.Column(
        "warehouse_id",
        sa.Integer(),
        sa.ForeignKey("warehouses.id", name="fk_stock_levels_warehouse_id_warehouses"),
        primary_key=True,
    ),
    sa.Column("quantity", sa.Integer(), nullable=False, server_default="0"),
)
