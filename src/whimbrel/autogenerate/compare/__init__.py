"""The comparison of the models with the reflected database, one module per kind.

``schema`` orders the whole; ``table`` compares one table through ``columns``,
``types``, ``indexes``, ``foreign_keys`` and ``checks``; ``enums`` compares
PostgreSQL enum types.
"""
