"""The create form without JavaScript: a key already used for other words (a lost answer,
then Back and an edited prompt) is refused in words a creator understands, and the form
it shows again carries a new key."""

import re

from creations.models import Creation


def test_other_words_with_a_used_key_say_what_to_do_and_the_next_press_creates(alice_client, alice):
    form = {"type": "image", "prompt": "A lighthouse at dusk", "idempotency_key": "k" * 32}
    assert alice_client.post("/create", form).status_code == 302

    refused = alice_client.post("/create", {**form, "prompt": "A lighthouse at dawn"})

    assert refused.status_code == 422
    page = refused.content.decode()
    assert "This was already sent with different words; press Generate again to create it." in page
    assert "idempotency key" not in page
    new_key = re.search(r'name="idempotency_key" value="([0-9a-f]{32})"', page)[1]
    again = {**form, "prompt": "A lighthouse at dawn", "idempotency_key": new_key}
    assert alice_client.post("/create", again).status_code == 302
    assert Creation.objects.filter(owner=alice).count() == 2
