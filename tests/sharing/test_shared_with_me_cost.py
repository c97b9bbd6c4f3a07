"""The "Shared with me" tab starts from what was shared with the reader: its cost follows
their shares, not how many drafts the whole site holds."""

import uuid

from django.db import connection
from django.test.utils import CaptureQueriesContext

from creations.models import Creation
from sharing import selectors, services
from sharing.models import LinkOpening


def many_drafts(owner, make_creation, count: int) -> list[Creation]:
    """`count` drafts of `owner`, written in bulk (copies of one made the usual way)."""
    model = make_creation(owner=owner, status="draft", prompt="someone else's draft")
    copies = []
    for _ in range(count):
        copy = Creation.objects.get(pk=model.pk)
        copy.pk = uuid.uuid4()
        copy.idempotency_key = None if copy.idempotency_key is None else str(uuid.uuid4())
        copies.append(copy)
    return Creation.objects.bulk_create(copies, batch_size=1000)


def page_queries(user) -> tuple[selectors.Page, list[str]]:
    with CaptureQueriesContext(connection) as queries:
        page = selectors.shared_with_page(user=user)
    return page, [query["sql"] for query in queries.captured_queries]


def test_the_list_is_right_and_one_query_however_many_shares(alice, bob, carol, make_creation):
    drafts = many_drafts(alice, make_creation, 30)
    by_name = drafts[:3]
    for draft in by_name:
        services.share_with_person(creation=draft, owner=alice, username="bob")
    link = services.share_link_create(creation=drafts[5])
    LinkOpening.objects.create(share=link.share, user=bob)
    services.share_with_person(creation=drafts[6], owner=alice, username="carol")  # not bob's
    revoked = services.share_with_person(creation=drafts[7], owner=alice, username="bob")
    services.share_revoke(share=revoked)

    page, sql = page_queries(bob)
    assert [c.pk for c in page.items] == [drafts[5].pk, *[d.pk for d in reversed(by_name)]]
    assert len(sql) == 1

    for draft in drafts[10:20]:
        services.share_with_person(creation=draft, owner=alice, username="bob")
    page, sql = page_queries(bob)
    assert len(page.items) == selectors.SHARED_PAGE_SIZE
    assert len(sql) == 1
    assert selectors.shared_with_page(user=alice).items == []  # her own drafts are not listed


def test_the_query_never_scans_every_draft(alice, bob, make_creation):
    drafts = many_drafts(alice, make_creation, 3000)
    for draft in drafts[:4]:
        services.share_with_person(creation=draft, owner=alice, username="bob")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    _, [sql] = page_queries(bob)
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN {sql}")
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "Seq Scan on creations_creation" not in plan, plan
    assert "Index Scan using creations_creation_pkey" in plan, plan
