"""Querysets compiled by the ORM once per process, then run again with other values.

Django compiles a queryset to SQL each time it is evaluated. For a wide model read with
annotations, that costs more CPU than the database takes to answer: the drafts tab's rows
(50 columns, two annotations) took ~1 ms of compiling on each page against ~0.3 ms in
PostgreSQL (make bench, issue 19). A PreparedQuery builds its queryset once, with stand-in
values for what varies, keeps the SQL the ORM made of it, and runs that SQL through
`Model.objects.raw()` with the real values: the same statement, the same model instances,
the annotations as attributes.

Each stand-in must come out of the compiler as exactly one bound parameter (a filter's
value, not a slice or an `__in` list), and be a value no other parameter of the query can
equal; the first run checks both and refuses the query otherwise.
"""

from collections.abc import Callable
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db.models import Model, QuerySet

# A stand-in for an integer id: no row has it (ids count up from 1), and no constant of a
# query is likely to be it.
STAND_IN_ID = -7_340_033


class PreparedQuery:
    def __init__(self, build: Callable[..., QuerySet], **stand_ins: Any) -> None:
        """`build(**stand_ins)` returns the queryset; `rows(**values)` runs it with `values`
        (the same names) in place of the stand-ins."""
        self._build = build
        self._stand_ins = stand_ins
        self._compiled: tuple[type[Model], str, tuple, dict[str, int]] | None = None

    def _compile(self) -> tuple[type[Model], str, tuple, dict[str, int]]:
        queryset = self._build(**self._stand_ins)
        sql, params = queryset.query.sql_with_params()
        slots = {}
        for name, stand_in in self._stand_ins.items():
            found = [index for index, param in enumerate(params) if param == stand_in]
            if len(found) != 1:
                raise ImproperlyConfigured(
                    f"{self._build.__qualname__}: the stand-in for {name!r} is "
                    f"{len(found)} parameters of the SQL, not one"
                )
            slots[name] = found[0]
        return queryset.model, sql, tuple(params), slots

    def rows(self, **values: Any) -> list:
        if self._compiled is None:
            # Two threads may both compile the first time: the same result, kept once.
            self._compiled = self._compile()
        model, sql, stand_in_params, slots = self._compiled
        if values.keys() != slots.keys():
            raise TypeError(f"values for {sorted(slots)} expected, got {sorted(values)}")
        params = list(stand_in_params)
        for name, value in values.items():
            params[slots[name]] = value
        return list(model._default_manager.raw(sql, params))
