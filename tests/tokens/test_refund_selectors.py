"""One reading of "is this creation refunded", shared by the card, the admin, the figures and
/metrics (tokens/selectors.py)."""

from django.contrib.admin.sites import site
from django.test import RequestFactory

from creations.admin import CreationAdmin
from creations.models import Creation
from creations.presenters import creation_as_json
from creations.selectors import card_for_owner, with_card_details
from ops import figures
from tokens import selectors


def test_the_readings_agree_on_refunded_and_not(alice, make_creation, admin_user):
    failed = make_creation(owner=alice, status="failed", code="storage_failed")
    canceled = make_creation(owner=alice, kind="video", status="canceled")
    draft = make_creation(owner=alice, status="draft")
    expected = {failed.pk: True, canceled.pk: True, draft.pk: False}

    annotated = dict(
        Creation.objects.annotate(refunded=selectors.refund_exists()).values_list("pk", "refunded")
    )
    card_query = dict(with_card_details(Creation.objects.all()).values_list("pk", "refunded"))
    request = RequestFactory().get("/")
    request.user = admin_user
    admin = CreationAdmin(Creation, site)
    in_admin = {c.pk: admin.refunded(c) for c in admin.get_queryset(request)}
    admin_fallback = {c.pk: admin.refunded(c) for c in Creation.objects.all()}
    one_by_one = {c.pk: selectors.creation_is_refunded(c) for c in Creation.objects.all()}
    cards = {pk: card_for_owner(owner=alice, creation_id=pk).refunded for pk in expected}
    as_json = {c.pk: creation_as_json(c)["refunded"] for c in Creation.objects.all()}
    rows = {r.status: r.refunded for r in figures.creation_rows()}

    for reading in (annotated, card_query, in_admin, admin_fallback, one_by_one, cards, as_json):
        assert reading == expected
    assert rows == {"failed": True, "canceled": True, "draft": False}


def test_each_reading_probes_the_ledger_per_creation_and_never_hashes_every_refund(
    alice, make_creation
):
    """EXISTS lets PostgreSQL choose one hash of every refund in the ledger for a page of
    ten cards (it did, from a row estimate: 13 ms at 30,000 refunds, and growing); a
    scalar subquery is always an index probe per creation."""
    make_creation(owner=alice, status="failed", code="storage_failed")
    page = str(with_card_details(Creation.objects.filter(owner=alice)).query)
    annotated = str(Creation.objects.annotate(refunded=selectors.refund_exists()).query)
    raw, _ = selectors.refunded_sql("creations_creation")

    for sql in (page, annotated, raw):
        assert "EXISTS" not in sql.upper()
        assert "LIMIT 1" in sql.upper()
