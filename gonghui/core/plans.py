"""Plans made for the parameters at hand, for the reads whose best plan depends on them.

A statement a connection has run `DB_PREPARE_THRESHOLD` times is prepared on the server
(config/settings.py), and after five executions PostgreSQL may switch a prepared statement
to a generic plan, made without knowing the parameters. For a list with a search or a
filter that plan is a trap: `name LIKE $1` cannot use the prefix index when the pattern is
unknown, and a sub-tree condition `path LIKE $1` is planned as if `$1` could be the whole
province or one union. On 1,000,000 members a province admin's name search took 20 ms for
the first ten requests on a connection and 2,500 ms from the eleventh on.

`custom_plans()` makes the statements of its block planned for their actual parameters
every time (`plan_cache_mode = force_custom_plan`, for this transaction only). It wraps the
list pages (core.pagination), the filtered exports and the dashboard figures. The hot write
paths keep generic plans: their statements look rows up by key, where the plan does not
depend on the value, and planning them again costs CPU on every claim and redemption
(figures in docs/operations.md)."""

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection, transaction


@contextmanager
def custom_plans() -> Iterator[None]:
    """Run the block in a transaction whose statements get a custom plan on every execution.
    Inside a caller's transaction the setting lasts until that transaction ends."""
    if connection.vendor != "postgresql":
        yield
        return
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL plan_cache_mode = force_custom_plan")
        yield
