"""The drafts tab as a library: search box, chips, boards sidebar, stars, Add to board."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from creations.models import Creation
from library import services
from library.models import Board, BoardItem

HTMX = {"HX-Request": "true"}
RESULTS = {**HTMX, "HX-Target": "library-results"}


def tab_queries(client, params: dict, **headers) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/soho/alice", {"tab": "drafts", **params}, headers=headers)
    assert response.status_code == 200
    return len(queries)


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"q": "lighthouse"},
        {"q": "ghth"},
        {"starred": "1"},
        {"type": "image", "status": "draft"},
    ],
    ids=["plain", "word", "fragment", "starred", "chips"],
)
@pytest.mark.parametrize("headers", [{}, RESULTS], ids=["page", "results"])
def test_the_library_page_costs_the_same_queries_for_10_and_1000_items(
    alice_client, alice, bulk_creations, params, headers
):
    board = services.board_create(owner=alice, name="Lighthouses")
    made = bulk_creations(alice, 10)
    services.board_add(board=board, creation_ids=[c.pk for c in made])
    Creation.objects.filter(owner=alice).update(starred_at=made[0].created_at)
    tab_queries(alice_client, params, **headers)  # the typical runs, read once in 30 s
    few = tab_queries(alice_client, params, **headers)
    with_board = tab_queries(alice_client, {**params, "board": str(board.pk)}, **headers)

    more = bulk_creations(alice, 990)
    Creation.objects.filter(owner=alice).update(starred_at=made[0].created_at)
    for start in range(0, len(more), 100):
        services.board_add(board=board, creation_ids=[c.pk for c in more[start : start + 100]])
    many = tab_queries(alice_client, params, **headers)

    assert few == many
    # The board's own lookup is one query more.
    assert tab_queries(alice_client, {**params, "board": str(board.pk)}, **headers) == with_board
    assert with_board == few + 1


def test_the_search_box_gets_the_results_only_and_the_chips_follow_the_url(
    alice_client, alice, make_creation
):
    make_creation(owner=alice, prompt="a lighthouse at dusk")
    make_creation(owner=alice, prompt="a red fox", kind="video")

    results = alice_client.get(
        "/soho/alice", {"tab": "drafts", "q": "lighthouse"}, headers=RESULTS
    ).content.decode()
    assert 'id="library-results"' in results
    assert 'id="library-search"' not in results  # the box is not swapped: it keeps its focus
    assert "lighthouse at dusk" in results and "red fox" not in results

    page = alice_client.get("/soho/alice", {"tab": "drafts", "type": "video", "starred": "1"})
    html = page.content.decode()
    assert 'name="type" value="video" checked' in html
    assert 'name="starred" value="1" checked' in html
    assert 'hx-history="false"' in html  # Back asks the server for the page of its URL


def test_a_filtered_tab_does_not_watch_for_new_drafts(alice_client, alice, make_creation):
    make_creation(owner=alice)
    plain = alice_client.get("/soho/alice", {"tab": "drafts"}).content.decode()
    searched = alice_client.get("/soho/alice", {"tab": "drafts", "q": "fox"}).content.decode()
    assert "drafts-poll" in plain or "drafts_poll" in plain or "/creations/drafts/poll" in plain
    assert "/creations/drafts/poll" not in searched


def test_load_more_keeps_the_filters(alice_client, alice, bulk_creations):
    bulk_creations(alice, 30)
    html = alice_client.get("/soho/alice", {"tab": "drafts", "q": "lighthouse"}).content.decode()
    assert "?tab=drafts&amp;q=lighthouse&amp;cursor=" in html


def test_every_card_and_post_of_the_owner_has_its_star(alice_client, alice, make_creation):
    starred = make_creation(owner=alice, prompt="starred one")
    make_creation(owner=alice, prompt="plain one")
    post = make_creation(owner=alice, status="published")
    services.creation_star(owner=alice, creation_id=starred.pk)
    services.creation_star(owner=alice, creation_id=post.pk)

    drafts = alice_client.get("/soho/alice", {"tab": "drafts"}).content.decode()
    assert drafts.count('class="star-form"') == 2
    assert f'id="star-{starred.id}"\n    aria-pressed="true"' in drafts
    posts = alice_client.get("/soho/alice").content.decode()
    assert f'id="star-{post.id}"\n    aria-pressed="true"' in posts


def test_visitors_see_no_star(client, alice, make_creation):
    make_creation(owner=alice, status="published")
    assert "star-form" not in client.get("/soho/alice").content.decode()


def test_the_star_button_toggles_in_place(alice_client, alice, make_creation):
    creation = make_creation(owner=alice)
    url = f"/creations/{creation.id}/star"

    on = alice_client.post(url, {"starred": "1"}, headers=HTMX)
    assert 'aria-pressed="true"' in on.content.decode()
    assert Creation.objects.get(pk=creation.pk).starred_at is not None
    off = alice_client.post(url, {"starred": "0"}, headers=HTMX)
    assert 'aria-pressed="false"' in off.content.decode()
    assert Creation.objects.get(pk=creation.pk).starred_at is None


def test_without_javascript_the_star_goes_back_to_the_tab(alice_client, alice, make_creation):
    creation = make_creation(owner=alice)
    response = alice_client.post(f"/creations/{creation.id}/star", {"starred": "1"})
    assert response.status_code == 302
    assert response["Location"] == "/soho/alice?tab=drafts"


def test_someone_elses_star_is_404_and_changes_nothing(alice_client, bob, make_creation):
    bobs = make_creation(owner=bob)
    assert alice_client.post(f"/creations/{bobs.id}/star", {"starred": "1"}).status_code == 404
    assert Creation.objects.get(pk=bobs.pk).starred_at is None


def test_the_sidebar_makes_boards_and_says_why_not(alice_client, alice):
    made = alice_client.post("/library/boards", {"name": "Coast"}, headers=HTMX)
    assert "Coast" in made.content.decode()
    again = alice_client.post("/library/boards", {"name": "coast"}, headers=HTMX)
    assert "You already have a board called" in again.content.decode()
    assert Board.objects.filter(owner=alice).count() == 1


def test_add_to_board_puts_the_ticked_cards_on_it_and_says_so(
    alice_client, alice, bob, make_creation
):
    board = services.board_create(owner=alice, name="Coast")
    mine = [make_creation(owner=alice) for _ in range(2)]
    bobs = make_creation(owner=bob)
    ids = [str(c.id) for c in mine] + [str(bobs.id)]

    answer = alice_client.post(
        "/library/boards/add", {"target_board": str(board.pk), "ids": ids}, headers=HTMX
    )

    assert "2 added to “Coast”, 1 skipped: not found." in answer.content.decode()
    assert set(BoardItem.objects.values_list("creation_id", flat=True)) == {c.pk for c in mine}
    no_board = alice_client.post("/library/boards/add", {"ids": ids}, headers=HTMX)
    assert no_board.status_code == 422
    assert "Choose a board first." in no_board.content.decode()


def test_a_board_is_renamed_emptied_and_deleted_from_its_page(alice_client, alice, make_creation):
    board = services.board_create(owner=alice, name="Coast")
    creation = make_creation(owner=alice, prompt="on the board")
    services.board_add(board=board, creation_ids=[creation.pk])
    page = alice_client.get("/soho/alice", {"tab": "drafts", "board": str(board.pk)})
    assert "Board: Coast" in page.content.decode() and "on the board" in page.content.decode()

    alice_client.post(f"/library/boards/{board.pk}/rename", {"name": "Shore"})
    assert Board.objects.get(pk=board.pk).name == "Shore"
    alice_client.post(f"/library/boards/{board.pk}/remove", {"ids": [str(creation.pk)]})
    assert not BoardItem.objects.exists()
    deleted = alice_client.post(f"/library/boards/{board.pk}/delete", headers=HTMX)
    assert deleted["HX-Redirect"] == "/soho/alice?tab=drafts"
    assert not Board.objects.exists()
    assert Creation.objects.filter(pk=creation.pk).exists()


def test_someone_elses_board_pages_are_404(alice_client, bob):
    bobs = Board.objects.create(owner=bob, name="Bob's")
    for action in ("rename", "remove", "delete"):
        assert (
            alice_client.post(f"/library/boards/{bobs.pk}/{action}", {"name": "x"}).status_code
            == 404
        )
    assert Board.objects.get(pk=bobs.pk).name == "Bob's"


def test_a_bulk_action_answers_with_the_tab_as_it_was_searched(alice_client, alice, make_creation):
    fox = make_creation(owner=alice, prompt="a red fox")
    make_creation(owner=alice, prompt="a lighthouse")
    answer = alice_client.post(
        "/creations/bulk",
        {"tab": "drafts", "action": "trash", "ids": [str(fox.id)], "q": "lighthouse"},
        headers=HTMX,
    ).content.decode()

    assert "moved to the trash" in answer
    assert 'value="lighthouse"' in answer  # the search box still says what was searched
    assert "a lighthouse" in answer
