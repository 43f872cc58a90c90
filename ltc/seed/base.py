"""The bulk loader and the shared state of one generator run (random source, clock, ids, money).

Rows are tuples of column values in the order of a table's `columns` (model attnames, `id` first), with
ids assigned here so related rows can point at them without reading anything back. On PostgreSQL a
buffered table is written with one `COPY ... FROM STDIN` per flush; elsewhere with `bulk_create`.
Foreign keys are DEFERRABLE INITIALLY DEFERRED on both backends, so a child may be flushed before its
parent inside the one transaction the run uses.
"""

from __future__ import annotations

import datetime as dt
import io
import random
import time
import zoneinfo
from bisect import bisect_right
from collections.abc import Callable, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import accumulate

from django.conf import settings
from django.core.management.color import no_style
from django.db import connections, models
from django.db.models import Max

FLUSH_ROWS = 20_000
_COPY_SPECIALS = ("\\", "\t", "\n", "\r")


def _copy_text(value: object) -> str:
    """One value in PostgreSQL's COPY text format."""
    if value is None:
        return "\\N"
    text = value if value.__class__ is str else str(value)
    if any(ch in text for ch in _COPY_SPECIALS):
        text = text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    return text


@dataclass
class TableStat:
    label: str
    rows: int = 0
    seconds: float = 0.0


class Table:
    """A buffer of rows for one model. `add` is the list's own append, for speed."""

    def __init__(self, loader: Loader, model: type[models.Model], columns: Sequence[str]):
        concrete = {f.attname: f for f in model._meta.concrete_fields}
        unknown = [c for c in columns if c not in concrete]
        if unknown:
            raise ValueError(f"{model._meta.label} has no columns {unknown}")
        self.loader = loader
        self.model = model
        self.columns = tuple(columns)
        self.rows: list[tuple] = []
        self.add = self.rows.append
        self.stat = loader.stat_for(model)
        # Columns the generator does not set get their model default (fields added later keep working).
        now = loader.clock.anchor_utc
        self._rest: list[tuple[models.Field, object]] = []
        for f in model._meta.concrete_fields:
            if f.attname in self.columns:
                continue
            if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
                self._rest.append((f, now))
            else:
                self._rest.append((f, f.get_default()))

    def flush(self) -> None:
        if not self.rows:
            return
        started = time.perf_counter()
        rows, self.rows = self.rows, []
        self.add = self.rows.append
        if self.loader.use_copy:
            self._copy(rows)
        else:
            self._bulk(rows)
        self.stat.rows += len(rows)
        self.stat.seconds += time.perf_counter() - started

    def _copy(self, rows: list[tuple]) -> None:
        conn = self.loader.connection
        qn = conn.ops.quote_name
        fields = {f.attname: f for f in self.model._meta.concrete_fields}
        cols = [fields[c].column for c in self.columns] + [f.column for f, _ in self._rest]
        tail = "".join(
            "\t" + _copy_text(f.get_db_prep_save(value, connection=conn)) for f, value in self._rest
        )
        text = "".join(["\t".join([_copy_text(v) for v in row]) + tail + "\n" for row in rows])
        sql = f"COPY {qn(self.model._meta.db_table)} ({', '.join(qn(c) for c in cols)}) FROM STDIN"
        with conn.cursor() as cursor:
            cursor.cursor.copy_expert(sql, io.StringIO(text), size=1 << 18)

    def _bulk(self, rows: list[tuple]) -> None:
        model, columns = self.model, self.columns
        rest = {f.attname: value for f, value in self._rest}
        objs = [model(**rest, **dict(zip(columns, row, strict=True))) for row in rows]
        model.objects.bulk_create(objs, batch_size=self.loader.batch_size)


class Loader:
    def __init__(
        self, *, clock: Clock, using: str = "default", use_copy: bool | None = None, batch_size: int = 5000
    ):
        self.connection = connections[using]
        self.clock = clock
        self.use_copy = self.connection.vendor == "postgresql" if use_copy is None else use_copy
        self.batch_size = batch_size
        self.tables: dict[type[models.Model], Table] = {}
        self.stats: dict[str, TableStat] = {}
        self._next_ids: dict[type[models.Model], int] = {}
        self._restore: list[str] = []

    def stat_for(self, model: type[models.Model]) -> TableStat:
        label = model._meta.label
        if label not in self.stats:
            self.stats[label] = TableStat(label)
        return self.stats[label]

    def table(self, model: type[models.Model], columns: Sequence[str]) -> Table:
        existing = self.tables.get(model)
        if existing is not None:
            if existing.columns != tuple(columns):
                raise ValueError(f"{model._meta.label} is already open with other columns")
            return existing
        if self.use_copy:
            self._set_aside_constraints(model)
        table = Table(self, model, columns)
        self.tables[model] = table
        return table

    def _set_aside_constraints(self, model: type[models.Model]) -> None:
        """Drop a table's foreign keys, unique constraints and secondary indexes before loading it.

        Checking 20M rows one by one (deferred FK triggers fire per row at commit) costs far more than
        re-creating each constraint once at the end, which validates every row in one pass: a bad row
        still fails the run. The primary key and CHECK constraints stay in place throughout.
        """
        table = model._meta.db_table
        with self.connection.cursor() as cursor:
            cursor.execute(
                "SELECT conname, pg_get_constraintdef(oid), contype FROM pg_constraint "
                "WHERE conrelid = %s::regclass AND contype IN ('f', 'u') ORDER BY contype DESC, conname",
                [table],
            )
            constraints = cursor.fetchall()
            cursor.execute(
                "SELECT c.relname, pg_get_indexdef(i.indexrelid) FROM pg_index i "
                "JOIN pg_class c ON c.oid = i.indexrelid WHERE i.indrelid = %s::regclass "
                "AND NOT i.indisprimary AND NOT EXISTS "
                "(SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid) ORDER BY c.relname",
                [table],
            )
            indexes = cursor.fetchall()
            qn = self.connection.ops.quote_name
            for name, definition, _kind in constraints:
                cursor.execute(f"ALTER TABLE {qn(table)} DROP CONSTRAINT {qn(name)}")
                self._restore.append(f"ALTER TABLE {qn(table)} ADD CONSTRAINT {qn(name)} {definition}")
            for name, definition in indexes:
                cursor.execute(f"DROP INDEX {qn(name)}")
                self._restore.insert(0, definition)  # indexes first, then unique, then foreign keys

    def restore_constraints(self) -> None:
        """Re-create what `_set_aside_constraints` dropped (validating every row), then ANALYZE."""
        if not self.use_copy:
            return
        with self.connection.cursor() as cursor:
            cursor.execute("SET LOCAL maintenance_work_mem TO '256MB'")
            statements = [s for s in self._restore if s.startswith("CREATE")]
            statements += [s for s in self._restore if " UNIQUE " in s and not s.startswith("CREATE")]
            statements += [s for s in self._restore if " FOREIGN KEY " in s]
            for sql in statements:
                cursor.execute(sql)
            self._restore = []
            for table in self.tables.values():
                cursor.execute(f"ANALYZE {self.connection.ops.quote_name(table.model._meta.db_table)}")

    def first_id(self, model: type[models.Model], count: int) -> int:
        """Reserve `count` ids for `model`; returns the first. Ids follow whatever the table holds."""
        if model not in self._next_ids:
            self._next_ids[model] = (model.objects.aggregate(m=Max("pk"))["m"] or 0) + 1
        first = self._next_ids[model]
        self._next_ids[model] = first + count
        return first

    def flush_full(self) -> None:
        for table in self.tables.values():
            if len(table.rows) >= FLUSH_ROWS:
                table.flush()

    def flush_all(self) -> None:
        for table in self.tables.values():
            table.flush()

    def reset_sequences(self) -> None:
        """Point the id sequences past the ids assigned here (PostgreSQL; SQLite follows max(rowid))."""
        touched = [t.model for t in self.tables.values()]
        statements = self.connection.ops.sequence_reset_sql(no_style(), touched)
        if statements:
            with self.connection.cursor() as cursor:
                for sql in statements:
                    cursor.execute(sql)

    @contextmanager
    def given_timestamps(self):
        """bulk_create would overwrite created_at/updated_at with now(); keep the generated ones instead."""
        patched: list[tuple[models.Field, bool, bool]] = []
        if not self.use_copy:
            for model in _all_models():
                for f in model._meta.concrete_fields:
                    if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
                        patched.append((f, f.auto_now, f.auto_now_add))
                        f.auto_now = f.auto_now_add = False
        try:
            yield
        finally:
            for f, auto_now, auto_now_add in patched:
                f.auto_now, f.auto_now_add = auto_now, auto_now_add


def _all_models() -> list[type[models.Model]]:
    from django.apps import apps

    return list(apps.get_models(include_auto_created=True))


class Clock:
    """Times are "seconds ago" before the anchor, the start of `today` in the project's time zone."""

    DAY = 86_400

    def __init__(self, today: dt.date):
        self.today = today
        tz = zoneinfo.ZoneInfo(settings.TIME_ZONE)
        self.anchor_utc = dt.datetime.combine(today, dt.time(0, 0), tzinfo=tz).astimezone(dt.UTC)
        self._dates = {}

    def at(self, ago_s: int) -> dt.datetime:
        return self.anchor_utc - dt.timedelta(seconds=ago_s)

    def date(self, ago_s: int) -> dt.date:
        """The local date of a moment `ago_s` seconds before the anchor (positive: the past)."""
        days = (ago_s + self.DAY - 1) // self.DAY
        cached = self._dates.get(days)
        if cached is None:
            cached = self._dates[days] = self.today - dt.timedelta(days=days)
        return cached

    def days_ago(self, days: int) -> dt.date:
        cached = self._dates.get(days)
        if cached is None:
            cached = self._dates[days] = self.today - dt.timedelta(days=days)
        return cached

    def ago_of_date(self, day: dt.date, hour: int = 10) -> int:
        """Seconds before the anchor of `hour` o'clock (local) on `day`."""
        return (self.today - day).days * self.DAY - hour * 3600


def money(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


@dataclass
class Rand:
    """Fast helpers over one `random.Random`: the only source of randomness, so a seed replays a run."""

    seed: int
    rng: random.Random = field(init=False)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)
        self.random = self.rng.random

    def between(self, low: int, high: int) -> int:
        """An int in [low, high]."""
        return low + int(self.random() * (high - low + 1))

    def pick(self, seq: Sequence):
        return seq[int(self.random() * len(seq))]

    def chance(self, p: float) -> bool:
        return self.random() < p

    def log_uniform(self, low: float, high: float) -> float:
        return low * (high / low) ** self.random()

    def sample(self, seq: Sequence, k: int) -> list:
        return self.rng.sample(seq, k)


class Weighted:
    """Draw keys by weight with one random number and a bisect."""

    def __init__(self, rand: Rand, pairs: Sequence[tuple[object, float]]):
        self.keys = [k for k, _ in pairs]
        self.cum = list(accumulate(w for _, w in pairs))
        self.total = self.cum[-1]
        self.random = rand.random

    def __call__(self):
        return self.keys[bisect_right(self.cum, self.random() * self.total)]


def monday(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


Progress = Callable[[str], None]
