"""The library and community parts of `make bench` at a tiny size: their fills write the
rows they say, and the pages they time answer (the full sizes run only in `make bench`)."""

import pytest

from creations.models import Creation

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_library_part_fills_a_library_and_times_its_searches(monkeypatch):
    from bench import library

    monkeypatch.setattr(library, "LIBRARY_CREATIONS", 400)
    monkeypatch.setattr(library, "LIBRARY_OWNERS", 4)
    monkeypatch.setattr(library, "SAMPLES", 1)

    results = library.measure()

    assert Creation.objects.filter(prompt__startswith="scene ").count() == 400
    # The heavy creator holds one row in 100 (4 of them): all on the board, all starred
    # (one row in 20 is).
    assert results["queries"]["board"]["results"] == 4
    assert results["queries"]["starred only"]["results"] == 4
    assert results["queries"]["found nowhere"]["results"] == 0
    assert all(figure["plan"] for figure in results["queries"].values())
    assert len(library.rows(results)) == 1 + len(library.QUERIES)


def test_the_community_part_fills_posts_and_likes_and_times_its_pages(monkeypatch):
    from bench import community
    from community.models import PostLike

    monkeypatch.setattr(community, "CREATIONS", 400)
    monkeypatch.setattr(community, "CREATORS", 4)
    monkeypatch.setattr(community, "LIKES", 300)
    monkeypatch.setattr(community, "LIKERS", 30)
    monkeypatch.setattr(community, "SAMPLES", 1)

    results = community.measure()

    assert Creation.objects.filter(prompt__startswith="scene ").count() == 400
    assert Creation.objects.filter(status="published").count() == 120
    assert results["likes"] == PostLike.objects.count() > 0
    assert set(results["pages"]) >= {"explore page 2", "creator's page"}
    assert all(page["plan"] for page in results["pages"].values())
    assert len(community.rows(results)) == 3 + len(results["pages"])
