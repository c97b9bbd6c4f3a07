"""The local HTTP server that stands in for receivers and providers is shared by every test
of a test process: a request one test gave up on must not show up in the next one's log
(issue 23: the 410 test saw a second post, the timeout test's late one)."""

import time

import httpx
import pytest
from werkzeug import Response

# Both on one test process, in this order.
pytestmark = pytest.mark.xdist_group("httpserver-isolation")


def test_a_client_gives_up_on_a_slow_answer(httpserver):
    def slow(request):
        time.sleep(1)
        return Response("late")

    httpserver.expect_request("/slow").respond_with_handler(slow)
    with pytest.raises(httpx.TimeoutException):
        httpx.get(httpserver.url_for("/slow"), timeout=0.2)


def test_the_next_test_starts_with_an_empty_log(httpserver):
    httpserver.expect_request("/mine").respond_with_data("ok")
    assert httpx.get(httpserver.url_for("/mine"), timeout=5).text == "ok"
    assert [request.path for request, _ in httpserver.log] == ["/mine"]
