"""A URL under /api/ that no route matches answers JSON, like the API's own 404s (found by
the schemathesis run: a creation id that is not a UUID got the site's HTML page)."""

import pytest


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url", ["/api/creations/not-a-uuid", "/api/creations/12345/cancel", "/api/nothing-here"]
)
def test_an_unmatched_api_url_answers_a_json_not_found(alice_client, url):
    for method in ("get", "post"):
        response = getattr(alice_client, method)(url)
        assert response.status_code == 404
        assert response["Content-Type"] == "application/json"
        assert response.json()["error"] == "not_found"
        assert response.json()["message"]


@pytest.mark.django_db
def test_other_unmatched_urls_keep_the_html_page(client):
    response = client.get("/creations/not-a-uuid/card")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
