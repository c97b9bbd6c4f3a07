"""Search and filters over one's own creations (library.selectors over creations.search)."""

import pytest
from django.db import connection

from creations import search, services
from creations.models import Creation
from library import selectors
from library import services as library
from library.errors import LibraryRefused
from library.selectors import Filters


def found(owner, **filters) -> list[str]:
    page = selectors.library_page(owner=owner, filters=Filters(**filters))
    return [creation.prompt for creation in page.items]


def test_a_whole_word_is_found_by_full_text_in_another_form_than_typed(alice, make_creation):
    make_creation(owner=alice, prompt="horses running on a beach")
    make_creation(owner=alice, prompt="a quiet library")

    # "runs" is no part of "running": only the full-text search (both stem to "run") finds it.
    assert found(alice, q="runs") == ["horses running on a beach"]


def test_a_part_of_a_word_is_found_by_its_trigrams(alice, make_creation):
    make_creation(owner=alice, prompt="a lighthouse at dusk")
    make_creation(owner=alice, prompt="a red fox")

    assert found(alice, q="ghthou") == ["a lighthouse at dusk"]
    assert found(alice, q="LIGHT") == ["a lighthouse at dusk"]


def test_the_caption_is_searched_too(alice, make_creation):
    make_creation(owner=alice, status="published", prompt="a red fox", caption="Winter walk")

    assert found(alice, q="winter") == ["a red fox"]
    assert found(alice, q="walk") == ["a red fox"]


def test_websearch_syntax_excludes_and_quotes(alice, make_creation):
    make_creation(owner=alice, prompt="a red fox in the snow")
    make_creation(owner=alice, prompt="a red fox in the grass")

    assert found(alice, q="fox -snow") == ["a red fox in the grass"]
    assert found(alice, q='"fox in the grass"') == ["a red fox in the grass"]


def test_like_wildcards_in_a_query_are_taken_literally(alice, make_creation):
    make_creation(owner=alice, prompt="a 500 km road")
    make_creation(owner=alice, prompt="50% off_the wall")

    assert found(alice, q="50%") == ["50% off_the wall"]
    assert found(alice, q="5_0") == []


def test_a_query_of_nul_or_spaces_is_no_query(alice, make_creation):
    make_creation(owner=alice, prompt="a red fox")

    assert search.clean_query("  red\x00  fox  ") == "red fox"
    assert found(alice, q="\x00 ") == ["a red fox"]


@pytest.fixture
def two_libraries(alice, bob, make_creation):
    """The same words in alice's and bob's creations, in every state a filter can pick."""
    for owner in (alice, bob):
        make_creation(owner=owner, prompt=f"{owner.username} fox draft")
        make_creation(owner=owner, kind="video", prompt=f"{owner.username} fox video")
        make_creation(owner=owner, status="published", prompt=f"{owner.username} fox post")
        make_creation(owner=owner, status="failed", prompt=f"{owner.username} fox failed")
        starred = make_creation(owner=owner, prompt=f"{owner.username} fox starred")
        library.creation_star(owner=owner, creation_id=starred.pk)
        board = library.board_create(owner=owner, name="Foxes")
        library.board_add(board=board, creation_ids=[starred.pk])
    return {"alice": alice.boards.get(), "bob": bob.boards.get()}


FILTERS = [
    {},
    {"q": "fox"},
    {"q": "fo"},
    {"q": "bob"},
    {"kind": "video"},
    {"status": "published"},
    {"status": "failed"},
    {"starred": True},
    {"q": "fox", "kind": "image", "status": "draft", "starred": True},
]


@pytest.mark.parametrize("filters", FILTERS, ids=str)
def test_another_creators_creations_never_appear(alice, two_libraries, filters):
    for with_board in (False, True):
        board = two_libraries["alice"] if with_board else None
        items = selectors.library_page(owner=alice, filters=Filters(board=board, **filters)).items
        assert all(item.owner_id == alice.pk for item in items)
        assert not any("bob" in item.prompt for item in items)
    if not filters.get("q") == "bob":
        assert selectors.library_page(owner=alice, filters=Filters(**filters)).items


def test_someone_elses_board_filters_nothing_in_and_is_refused_by_the_api(alice, two_libraries):
    bobs = two_libraries["bob"]
    with pytest.raises(LibraryRefused):
        selectors.parse_filters({"board": str(bobs.pk)}, owner=alice)
    lenient = selectors.parse_filters({"board": str(bobs.pk)}, owner=alice, strict=False)
    assert lenient.board is None


def test_purged_and_trashed_creations_vanish_from_every_search_and_filter(alice, make_creation):
    purged = make_creation(owner=alice, prompt="a purged fox")
    trashed = make_creation(owner=alice, prompt="a trashed fox")
    for creation in (purged, trashed):
        library.creation_star(owner=alice, creation_id=creation.pk)
    board = library.board_create(owner=alice, name="Gone")
    library.board_add(board=board, creation_ids=[purged.pk, trashed.pk])
    services.creation_trash(creation=trashed)
    services.creation_trash(creation=purged)
    services.creation_purge(creation=Creation.objects.get(pk=purged.pk))

    for filters in ({}, {"q": "fox"}, {"q": "purged"}, {"starred": True}, {"board": board}):
        assert found(alice, **filters) == [], filters


def test_starring_a_purged_creation_is_refused(alice, make_creation):
    creation = make_creation(owner=alice)
    services.creation_trash(creation=creation)
    services.creation_purge(creation=Creation.objects.get(pk=creation.pk))

    with pytest.raises(LibraryRefused):
        library.creation_star(owner=alice, creation_id=creation.pk)


def plan(queryset) -> str:
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        # A few rows in a test table: a sequential scan is cheaper, so ask for the index the
        # planner would take on a large table.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_indexscan = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        return "\n".join(row[0] for row in cursor.fetchall())


def test_the_indexes_can_serve_whole_words_and_fragments(alice, make_creation):
    make_creation(owner=alice, prompt="a lighthouse at dusk")
    # The condition alone (an owner's own rows are the planner's choice by their number:
    # the bench records that plan at a million creations).
    words = search.matching(Creation.objects.all(), "lighthouse")

    explained = plan(words)

    assert "creation_search" in explained
    assert "creation_words_trgm" in explained
