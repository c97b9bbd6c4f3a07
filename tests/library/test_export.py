from accounts.services import export_data
from library import services


def test_the_data_export_holds_the_stars_and_the_boards(alice, bob, make_creation):
    creation = make_creation(owner=alice)
    services.creation_star(owner=alice, creation_id=creation.pk)
    board = services.board_create(owner=alice, name="Coast")
    services.board_add(board=board, creation_ids=[creation.pk])
    services.board_create(owner=bob, name="Bob's own")

    data = export_data(alice)

    assert data["creations"][0]["starred_at"] is not None
    assert [(b["name"], b["creation_ids"]) for b in data["boards"]] == [("Coast", [creation.pk])]
