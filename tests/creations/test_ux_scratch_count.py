from django.db import connection
from django.test.utils import CaptureQueriesContext


def test_count(alice_client, alice, bob, make_creation):
    make_creation(owner=bob, status="pending", kind="video")
    make_creation(owner=alice, status="draft")
    c = make_creation(owner=alice, status="pending")
    url = f"/creations/{c.id}/card?shown=pending"
    alice_client.get(url, headers={"HX-Request": "true"})
    with CaptureQueriesContext(connection) as q:
        alice_client.get(url, headers={"HX-Request": "true"})
    print("QUERIES", len(q), [x["sql"][:80] for x in q])
