"""Statements the create path sends on every request, planned once per database connection.

PostgreSQL plans a statement each time it arrives. For the create path's hand-written
statements, planning cost as much as running them (the debit's one statement: 0.4 ms of
planning, 0.5 ms of execution, EXPLAIN on the bench database). A prepared statement is
planned once per connection (a generic plan after a few runs), and the web processes keep
their connections (CONN_MAX_AGE, or the pool).

Django turns psycopg's preparing off (prepare_threshold=None, for connection poolers). The
settings set a threshold no query reaches instead, so that psycopg prepares only what asks
for it: a statement run through prepared_cursor(), with server-side binding. Behind
PgBouncer in transaction mode (DATABASE_PGBOUNCER) a statement prepared on one server
connection is unknown on the next: there the threshold stays off, and prepared_cursor() is
an ordinary cursor. psycopg forgets its prepared statements at a rollback (one DEALLOCATE
ALL) and prepares them again at their next use.
"""

from django.db import connection
from django.db.backends.postgresql.base import ServerBindingCursor
from django.db.backends.utils import CursorDebugWrapper, CursorWrapper


class _PreparingCursor(ServerBindingCursor):
    def execute(self, query, params=None, *, prepare=True, **kwargs):
        return super().execute(query, params, prepare=prepare, **kwargs)


class _LoggedAsWritten(CursorDebugWrapper):
    # psycopg keeps no text of a prepared statement's run for Django's log to read back
    # (last_executed_query): the log gets the statement as written.
    def execute(self, sql, params=None):
        with self.debug_sql(sql, params):
            return CursorWrapper.execute(self, sql, params)


def prepared_cursor() -> CursorWrapper:
    """A cursor (Django's wrapper: in the query log, errors as Django's) whose statements
    are prepared on their first run on this connection; an ordinary cursor where preparing
    is off."""
    connection.close_if_health_check_failed()
    connection.ensure_connection()
    if connection.connection.prepare_threshold is None:
        return connection.cursor()
    connection.validate_thread_sharing()
    cursor = _PreparingCursor(connection.connection)
    if connection.queries_logged:
        return _LoggedAsWritten(cursor, connection)
    return CursorWrapper(cursor, connection)
