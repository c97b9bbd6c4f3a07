"""Migration 0002: the words kept by older notifications are blanked; a failed creation's
refund is kept (read from its text) as `amount`."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("notifications", "0001_initial")]
AFTER = [("notifications", "0002_content_built_when_read")]


@pytest.fixture
def back_to_the_latest():
    """Leave the database migrated to the latest again: the tests after this one (in the
    same process) expect every migration applied, later ones than 0002 too."""
    yield
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())


@pytest.mark.django_db(transaction=True)
def test_old_texts_are_blanked_and_refunds_kept(alice, make_creation, back_to_the_latest):
    creation = make_creation(owner=alice, status="draft", prompt="a secret prompt")
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps.get_model("notifications", "Notification")
    failed = old.objects.create(
        recipient_id=alice.pk,
        kind="creation_failed",
        creation_id=creation.pk,
        object_key="failed",
        text="Your video failed, 10 tokens refunded: “a secret prompt”",
    )
    shared = old.objects.create(
        recipient_id=alice.pk,
        kind="draft_shared",
        creation_id=creation.pk,
        object_key="shared",
        text="bob shared a draft image with you: “a secret prompt”",
    )

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(AFTER)

    new = executor.loader.project_state(AFTER).apps.get_model("notifications", "Notification")
    assert set(new.objects.values_list("text", flat=True)) == {""}
    assert new.objects.get(pk=failed.pk).amount == 10
    assert new.objects.get(pk=shared.pk).amount is None
