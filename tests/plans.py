"""The plan the database chooses for a query the code ran: how a test asserts that a
lookup which must stay fast at a large trial goes through its index."""

from django.db import connection


def query_plan(sql: str) -> str:
    """The plan of ``sql`` (as captured, parameters in place). On PostgreSQL with scans
    made dear, as they are at a large trial: a test database's few rows are cheapest to
    scan, whatever the indexes."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET enable_seqscan = off")
            try:
                cursor.execute(f"EXPLAIN {sql}")
                rows = cursor.fetchall()
            finally:
                cursor.execute("RESET enable_seqscan")
        else:
            cursor.execute(f"EXPLAIN QUERY PLAN {sql}")
            rows = cursor.fetchall()
    return "\n".join(str(row[-1]) for row in rows)
