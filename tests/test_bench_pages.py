"""The bench polls each card at the URL its page renders (bench.pages): read from a real
drafts tab, and asked again with a stale version to make the card render."""

from bench.pages import bell_poll_url, card_poll_urls, stale_poll_url


def test_the_drafts_tab_gives_the_url_of_each_polling_card_and_only_those(
    alice_client, alice, make_creation
):
    pending = make_creation(owner=alice, status="pending")
    processing = make_creation(owner=alice, status="processing", kind="video")
    draft = make_creation(owner=alice, status="draft")

    page = alice_client.get("/soho/alice?tab=drafts").content.decode()
    urls = card_poll_urls(page)

    assert set(urls) == {str(pending.pk), str(processing.pk)}
    assert str(draft.pk) not in urls
    for pk, url in urls.items():
        assert "&amp;" not in url
        response = alice_client.get(url, headers={"HX-Request": "true"})
        assert response.status_code in (200, 204, 304)
        if response.status_code == 200:
            assert f'id="creation-{pk}"' in response.content.decode()


def test_a_stale_poll_url_changes_only_the_version():
    assert stale_poll_url("/creations/a/card?shown=pending&v=17&t=x:y-z") == (
        "/creations/a/card?shown=pending&v=0&t=x:y-z"
    )
    assert stale_poll_url("/creations/a/card?v=3") == "/creations/a/card?v=0"
    assert stale_poll_url("/creations/a/card?shown=pending&vv=3") == (
        "/creations/a/card?shown=pending&vv=3"
    )


def test_a_page_gives_the_url_its_bell_polls_and_the_url_answers_the_bell(alice_client):
    page = alice_client.get("/soho/alice?tab=drafts").content.decode()

    url = bell_poll_url(page)

    assert url is not None and url.startswith("/notifications/bell")
    assert "&amp;" not in url
    response = alice_client.get(url, headers={"HX-Request": "true"})
    assert response.status_code in (200, 204)
    assert bell_poll_url("<p>no bell here</p>") is None
