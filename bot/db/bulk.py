"""Many rows of one table in one driver-level `executemany`, for the ingest hot path.

SQLAlchemy's bulk insert and update spend most of their time per row and per parameter (building parameter
dicts, running each column's bind processor through several layers); for a request of 100 alerts that was
most of the ingest time. `BulkRows` compiles one statement per table and dialect once and hands the driver
plain tuples. Each value is converted as the column's own type would bind it: the SQLAlchemy bind processor,
except for the two kinds every alert row has several of on SQLite, UTC datetimes and JSON, which are converted
here to exactly the same text (tests/integration/test_bulk.py compares them), so rows written here read back
like ORM-written ones.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Table
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.tables import UTCDateTime

Converter = Callable[[Any], Any] | None


class BulkRows:
    """INSERT or UPDATE-by-key of `columns` of `table`, many rows per statement."""

    def __init__(self, table: Table, columns: Sequence[str], key: str = "id") -> None:
        self.table = table
        self.columns = tuple(columns)
        self.key = key
        self._compiled: dict[str, _Compiled] = {}

    def _for(self, dialect: Dialect) -> _Compiled:
        found = self._compiled.get(dialect.name)
        if found is None:
            mark = "?" if dialect.paramstyle == "qmark" else "%s"
            # table and column names come from our own metadata, never from input; values are all parameters
            names, marks = ", ".join(self.columns), ", ".join(mark for _ in self.columns)
            assignments = ", ".join(f"{column} = {mark}" for column in self.columns)
            converters = [(index, convert) for index, column in enumerate(self.columns)
                          if (convert := converter(self.table, column, dialect)) is not None]
            found = _Compiled(insert=f"INSERT INTO {self.table.name} ({names}) VALUES ({marks})",  # noqa: S608
                              update=f"UPDATE {self.table.name} SET {assignments} WHERE {self.key} = {mark}",  # noqa: S608
                              converters=tuple(converters), key=converter(self.table, self.key, dialect))
            self._compiled[dialect.name] = found
        return found

    async def insert(self, session: AsyncSession, rows: Sequence[Sequence[Any]]) -> None:
        """Insert `rows`, each a sequence of values in `columns` order."""
        if not rows:
            return
        connection = await session.connection()
        compiled = self._for(connection.dialect)
        await connection.exec_driver_sql(compiled.insert, compiled.bound(rows))

    async def update(self, session: AsyncSession, rows: Sequence[tuple[Any, Sequence[Any]]]) -> None:
        """Set `columns` of each row named by its key: `rows` holds (key value, values in `columns` order)."""
        if not rows:
            return
        connection = await session.connection()
        compiled = self._for(connection.dialect)
        keys = [key if compiled.key is None else compiled.key(key) for key, _ in rows]
        bound = compiled.bound([values for _, values in rows])
        await connection.exec_driver_sql(compiled.update, [(*values, key) for values, key in zip(bound, keys,
                                                                                                   strict=True)])


@dataclass(frozen=True)
class _Compiled:
    insert: str
    update: str
    converters: tuple[tuple[int, Callable[[Any], Any]], ...]  # (column position, converter), the others as they are
    key: Converter

    def bound(self, rows: Sequence[Sequence[Any]]) -> list[tuple[Any, ...]]:
        """Every value through its column's converter, None too, as in SQLAlchemy (JSON stores None as 'null').
        Equal datetimes (a request's rows share their arrival time) are converted once."""
        converted: dict[Any, Any] = {}
        out = []
        for row in rows:
            values = list(row)
            for index, convert in self.converters:
                value = values[index]
                if isinstance(value, datetime):
                    found = converted.get(value)
                    if found is None:
                        found = converted[value] = convert(value)
                    values[index] = found
                else:
                    values[index] = convert(value)
            out.append(tuple(values))
        return out


def converter(table: Table, column: str, dialect: Dialect) -> Converter:
    """How a value of `column` is handed to the driver of `dialect` (None: as it is)."""
    kind = table.c[column].type
    if dialect.name == "sqlite" and isinstance(kind, UTCDateTime):
        return _sqlite_datetime
    if dialect.name == "sqlite" and isinstance(kind, JSON) and not kind.none_as_null:
        return _sqlite_json
    # the type as this dialect implements it (generic JSON becomes PostgreSQL's JSON with psycopg's adapter)
    return kind.dialect_impl(dialect).bind_processor(dialect)


def _sqlite_datetime(value: datetime | None) -> str | None:
    """SQLAlchemy's SQLite storage of a UTCDateTime: UTC, 'YYYY-MM-DD HH:MM:SS.ffffff', no offset."""
    if value is None:
        return None
    if value.tzinfo is None:
        raise ValueError("naive datetimes are not stored")
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")


def _sqlite_json(value: Any) -> str:
    return "null" if value is None else json.dumps(value)


_PENDING: dict[str, BulkRows] = {}


async def insert_pending(session: AsyncSession, *models: type[Any]) -> int:
    """Write the session's new instances of `models` with one `executemany` per table and take them out of the
    session, instead of letting the flush insert them: on SQLite the ORM inserts each row on its own (RETURNING
    its id), which made a storm's escalation timers fire a few milliseconds apart each. Only for rows that
    nothing in the transaction reads back by id. Column defaults that are plain values apply as in the ORM.
    Returns how many rows were written."""
    written = 0
    for model in models:
        new = [instance for instance in session.new if type(instance) is model]
        if not new:
            continue
        table = model.__table__
        rows = _PENDING.get(table.name)
        if rows is None:
            columns = [column.key for column in table.columns if not (column.primary_key and column.autoincrement)]
            rows = _PENDING[table.name] = BulkRows(table, columns)
        defaults = {column.key: column.default.arg for column in table.columns
                    if column.default is not None and column.default.is_scalar}
        values = []
        for instance in new:
            row = []
            for key in rows.columns:
                value = getattr(instance, key)
                row.append(defaults.get(key) if value is None else value)
            values.append(row)
            session.expunge(instance)
        await rows.insert(session, values)
        written += len(values)
    return written


class RowsIn:
    """SELECT `columns` FROM `table` WHERE `equal` = ? AND `column` IN (…), at driver level: the query text is made
    per dialect and number of values (SQLAlchemy compiles an expanding IN anew for each call), and each value read
    goes through its column's result processor, so rows come back as SQLAlchemy would give them."""

    def __init__(self, table: Table, columns: Sequence[str], equal: str, column: str) -> None:
        self.table, self.columns, self.equal, self.column = table, tuple(columns), equal, column
        self._texts: dict[tuple[str, int], str] = {}
        self._processors: dict[str, tuple[tuple[int, Callable[[Any], Any]], ...]] = {}

    async def fetch(self, session: AsyncSession, equal: Any, values: Sequence[Any]) -> list[tuple[Any, ...]]:
        if not values:
            return []
        connection = await session.connection()
        dialect = connection.dialect
        key = (dialect.name, len(values))
        if key not in self._texts:
            mark = "?" if dialect.paramstyle == "qmark" else "%s"
            # names come from our own metadata; every value is a parameter
            self._texts[key] = (f"SELECT {', '.join(self.columns)} FROM {self.table.name} "  # noqa: S608
                                f"WHERE {self.equal} = {mark} AND {self.column} IN ({', '.join([mark] * len(values))})")
        if dialect.name not in self._processors:
            found = []
            for index, column in enumerate(self.columns):
                kind = self.table.c[column].type
                processor = kind.dialect_impl(dialect).result_processor(dialect, None)
                if processor is not None:
                    found.append((index, processor))
            self._processors[dialect.name] = tuple(found)
        processors = self._processors[dialect.name]
        result = await connection.exec_driver_sql(self._texts[key], (equal, *values))
        rows = []
        for raw in result.all():
            row = list(raw)
            for index, process in processors:
                row[index] = process(row[index])
            rows.append(tuple(row))
        return rows
