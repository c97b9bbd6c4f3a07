"""The drafts tab (annotations on its page query) and the card poll (one written-out
statement) share the SQL for a card's extras; whatever the states, they say the same."""

from creations import selectors
from creations.models import Creation


def test_the_drafts_tab_and_the_card_poll_agree_on_refund_and_place_in_line(
    alice, bob, make_creation
):
    make_creation(owner=bob, status="pending", queued=True)  # first in line, not in her tab
    made = [
        make_creation(owner=alice, status=status, kind=kind, queued=True)
        for status, kind in [
            ("pending", "image"),
            ("pending", "video"),
            ("failed", "image"),
            ("processing", "image"),
            ("pending", "image"),
            ("draft", "video"),
        ]
    ]

    page = {c.pk: c for c in selectors.drafts_page(owner=alice).items}
    polled = {c.pk: selectors.card_for_owner(owner=alice, creation_id=c.pk) for c in made}

    def extras(cards):
        return {pk: (c.status, c.refunded, c.place_in_line) for pk, c in cards.items()}

    assert extras(page) == extras(polled)
    assert sorted(extras(page).values(), key=str) == sorted(
        [
            # One fair order over both types: bob's image and alice's first image in the
            # first round, then one job of hers per round.
            (Creation.Status.PENDING, False, 2),
            (Creation.Status.PENDING, False, 3),
            (Creation.Status.FAILED, True, None),
            (Creation.Status.PROCESSING, False, None),
            (Creation.Status.PENDING, False, 4),
            (Creation.Status.DRAFT, False, None),
        ],
        key=str,
    )
