"""The big fills of `make bench`: rows written by one `generate_series` INSERT that copies a
template row (so new columns need no change here; the runner's figures part writes its
ledger so too). The library and community parts share the rest: a million creations with
prompts of words of every frequency, one measured creator holding one row in HEAVY_EVERY,
and how a page's query plan and its p95 are read back.

In the SQL pieces below, `n` is the row's number in the generate_series.
"""

import re

from bench.common import draft_row

# Words of the prompts: each row takes three, picked by hashes of its number, so each word
# is in about 8% of the rows; "zeppelin" only in one row in 10,007.
WORDS = [
    "lighthouse", "fox", "red", "harbour", "forest", "neon", "city", "portrait", "desert",
    "glacier", "sunset", "robot", "garden", "castle", "river", "mountain", "storm", "cat",
    "dragon", "ocean", "market", "train", "bridge", "winter", "summer", "violet", "golden",
    "misty", "ancient", "futuristic", "watercolor", "pixel", "cinematic", "macro", "aerial",
]  # fmt: skip
# The measured creator holds one creation in this many.
HEAVY_EVERY = 100
EXECUTION_TIME = re.compile(r"Execution Time: ([0-9.]+) ms")
INDEX_USED = re.compile(r"(?:Index Scan|Index Only Scan|Bitmap Index Scan) (?:using|on) (\w+)")


def make_users(prefix: str, count: int) -> list[int]:
    """`count` accounts named `prefix` and a number (no password, no token account); their
    ids in order."""
    from django.contrib.auth import get_user_model

    User = get_user_model()
    User.objects.bulk_create(
        [User(username=f"{prefix}{n:06d}", password="!") for n in range(count)], batch_size=5000
    )
    return list(
        User.objects.filter(username__startswith=prefix).order_by("pk").values_list("pk", flat=True)
    )


def template_creation(owner_id: int):
    """The row the fill copies (deleted after)."""
    from django.utils import timezone

    template = draft_row(owner_id=owner_id, prompt="template", now=timezone.now())
    template.save(force_insert=True)
    return template


def copy_rows_sql(model, count: int, overrides: dict[str, str | None]) -> str:
    """An INSERT of `count` rows copied from one template row (its key bound as the one
    parameter), with some columns computed from n (1..count) and those overridden with None
    left to their database default: every other column, whatever later migrations add, as
    the template has it."""
    from django.db import connection

    quote = connection.ops.quote_name
    columns = [
        field.column
        for field in model._meta.concrete_fields
        # A generated column (the creations' search vector) is PostgreSQL's to fill.
        if not getattr(field, "generated", False) and overrides.get(field.column, "") is not None
    ]
    values = [overrides.get(column, f"t.{quote(column)}") for column in columns]
    # Only constant SQL of this module and model metadata; the template's key is bound.
    return (
        f"INSERT INTO {quote(model._meta.db_table)} ({', '.join(map(quote, columns))}) "  # nosec B608
        f"SELECT {', '.join(values)} FROM {quote(model._meta.db_table)} AS t, "
        f"generate_series(1, {int(count)}) AS n WHERE t.{quote(model._meta.pk.column)} = %s"
    )


def word_sql(salt: str) -> str:
    """One of WORDS, spread by a hash of n, not by n: every creator's rows get every word."""
    words = "ARRAY[" + ", ".join(f"'{word}'" for word in WORDS) + "]"
    return f"({words})[1 + mod(abs(hashtext(n || '{salt}')), {len(WORDS)})]"


# "scene <n> <three words>", and " zeppelin" in one row in 10,007.
PROMPT_SQL = (
    f"'scene ' || n || ' ' || {word_sql('a')} || ' ' || {word_sql('b')} || ' ' || {word_sql('c')}"
    " || CASE WHEN mod(abs(hashtext(n || 'z')), 10007) = 0 THEN ' zeppelin' ELSE '' END"
)


def owner_sql(heavy: int, others: list[int]) -> str:
    """The measured creator for one row in HEAVY_EVERY, else each of `others` in turn."""
    return (
        f"CASE WHEN mod(n, {HEAVY_EVERY}) = 0 THEN {heavy} "
        f"ELSE (ARRAY{others}::integer[])[1 + mod(n, {len(others)})] END"
    )


def explain(sql: str, params) -> dict:
    """The query's plan, run (`EXPLAIN (ANALYZE, BUFFERS)`), the indexes it used and the time
    PostgreSQL took."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", params)
        plan = [row[0] for row in cursor.fetchall()]
    text = "\n".join(plan)
    executed = EXECUTION_TIME.search(text)
    return {
        "indexes": sorted(set(INDEX_USED.findall(text))),
        "sql_ms": float(executed.group(1)) if executed else None,
        "plan": plan,
    }


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]
