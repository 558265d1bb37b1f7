"""The comparison holds the cyclic garbage collector off, and always gives it back."""

from __future__ import annotations

import gc

import pytest
import sqlalchemy as sa

from whimbrel.autogenerate import api, compare_metadata
from whimbrel.autogenerate.options import AutogenerateOptions
from whimbrel.autogenerate.reflect import DbSchema


def _models() -> sa.MetaData:
    metadata = sa.MetaData()
    sa.Table("customer", metadata, sa.Column("id", sa.Integer, primary_key=True))
    return metadata


def test_collector_off_during_the_comparison_and_back_after(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: list[bool] = []
    real = api._reflect

    def reflect(connection: sa.Connection, options: AutogenerateOptions) -> DbSchema:
        seen.append(gc.isenabled())
        return real(connection, options)

    monkeypatch.setattr(api, "_reflect", reflect)
    engine = sa.create_engine("sqlite://")
    try:
        with engine.connect() as conn:
            diffs = compare_metadata(conn, _models())
    finally:
        engine.dispose()
    assert [d.kind for d in diffs] == ["add_table"]
    assert seen == [False]
    assert gc.isenabled()


def test_collector_given_back_after_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object, **kwargs: object) -> DbSchema:
        raise RuntimeError("reflection failed")

    monkeypatch.setattr(api, "_reflect", broken)
    engine = sa.create_engine("sqlite://")
    try:
        with engine.connect() as conn, pytest.raises(RuntimeError, match="reflection failed"):
            compare_metadata(conn, _models())
    finally:
        engine.dispose()
    assert gc.isenabled()


def test_collector_left_off_when_the_application_turned_it_off() -> None:
    engine = sa.create_engine("sqlite://")
    gc.disable()
    try:
        with engine.connect() as conn:
            compare_metadata(conn, _models())
        assert not gc.isenabled()
    finally:
        gc.enable()
        engine.dispose()
