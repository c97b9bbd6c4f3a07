"""Querysets compiled by the ORM once per process, then run again with other values.

Django compiles a queryset to SQL each time it is evaluated, and works out again how to
turn its rows into model instances. For a wide model read with annotations, that costs
more CPU than the database takes to answer: the drafts tab's rows (50 columns, two
annotations) took ~1 ms of compiling on each page against ~0.3 ms in PostgreSQL (make bench,
issue 19). A PreparedQuery builds its queryset once, with stand-in values for what varies,
keeps the SQL the ORM made of it and the compiler's layout of its columns, and runs that
SQL with the real values: the same statement, the same model instances (Django's own
`from_db` and column converters), the annotations as attributes.

Each stand-in must come out of the compiler as exactly one bound parameter (a filter's
value, not a slice or an `__in` list), and be a value no other parameter of the query can
equal; the first run checks both and refuses the query otherwise. Querysets that
select_related, prefetch or return values() are refused too: only plain model rows.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db import connections
from django.db.models import Model, QuerySet
from django.db.models.query import ModelIterable

# A stand-in for an integer id: no row has it (ids count up from 1), and no constant of a
# query is likely to be it.
STAND_IN_ID = -7_340_033


@dataclass(frozen=True)
class _Compiled:
    model: type[Model]
    using: str
    sql: str
    params: tuple
    slots: dict[str, int]
    # The compiler's layout of a row: the model's columns, the annotations, the converters.
    init_list: list[str]
    fields: slice
    annotations: list[tuple[str, int]]
    converters: dict


class PreparedQuery:
    def __init__(self, build: Callable[..., QuerySet], **stand_ins: Any) -> None:
        """`build(**stand_ins)` returns the queryset; `rows(**values)` runs it with `values`
        (the same names) in place of the stand-ins."""
        self._build = build
        self._stand_ins = stand_ins
        self._compiled: _Compiled | None = None

    def _compile(self) -> _Compiled:
        queryset = self._build(**self._stand_ins)
        if queryset._iterable_class is not ModelIterable or queryset._prefetch_related_lookups:
            raise ImproperlyConfigured(f"{self._build.__qualname__}: plain model rows only")
        using = queryset.db
        compiler = queryset.query.get_compiler(using=using)
        # Also sets the compiler's layout of the row (select, klass_info, annotations).
        sql, params = compiler.as_sql()
        klass_info = compiler.klass_info
        if klass_info.get("related_klass_infos"):
            raise ImproperlyConfigured(f"{self._build.__qualname__}: no select_related")
        slots = {}
        for name, stand_in in self._stand_ins.items():
            found = [index for index, param in enumerate(params) if param == stand_in]
            if len(found) != 1:
                raise ImproperlyConfigured(
                    f"{self._build.__qualname__}: the stand-in for {name!r} is "
                    f"{len(found)} parameters of the SQL, not one"
                )
            slots[name] = found[0]
        select = compiler.select
        first, last = klass_info["select_fields"][0], klass_info["select_fields"][-1] + 1
        return _Compiled(
            model=klass_info["model"],
            using=using,
            sql=sql,
            params=tuple(params),
            slots=slots,
            init_list=[column[0].target.attname for column in select[first:last]],
            fields=slice(first, last),
            annotations=list(compiler.annotation_col_map.items()),
            converters=compiler.get_converters([column[0] for column in select]),
        )

    def rows(self, **values: Any) -> list:
        if self._compiled is None:
            # Two threads may both compile the first time: the same result, kept once.
            self._compiled = self._compile()
        compiled = self._compiled
        if values.keys() != compiled.slots.keys():
            raise TypeError(f"values for {sorted(compiled.slots)} expected, got {sorted(values)}")
        params = list(compiled.params)
        for name, value in values.items():
            params[compiled.slots[name]] = value
        connection = connections[compiled.using]
        with connection.cursor() as cursor:
            cursor.execute(compiled.sql, params)
            rows = cursor.fetchall()
        # As Django's ModelIterable makes them (its compiler's apply_converters, with this
        # thread's connection).
        instances = []
        for row in rows:
            if compiled.converters:
                row = list(row)
                for position, (converters, expression) in compiled.converters.items():
                    value = row[position]
                    for converter in converters:
                        value = converter(value, expression, connection)
                    row[position] = value
            instance = compiled.model.from_db(
                compiled.using, compiled.init_list, row[compiled.fields]
            )
            for name, position in compiled.annotations:
                setattr(instance, name, row[position])
            instances.append(instance)
        return instances
