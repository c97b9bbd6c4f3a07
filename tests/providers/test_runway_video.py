"""The Runway video provider against a local server that answers like Runway's API."""

import io
import json
import socket
import time

import httpx
import pytest
from PIL import Image
from werkzeug import Response

from creations.providers import (
    ProviderError,
    RemoteTask,
    SafetyFilterError,
    SubmissionUnconfirmed,
    TransientProviderError,
)
from creations.providers.runway_video import RunwayVideoProvider
from tests.providers.conftest import (
    FAKE_VIDEO_SECONDS,
    FAKE_VIDEO_SIZE,
    RUNWAY_KEY,
    wait_until_answered,
)

TASK_ID = "17f20503-6c24-4c16-946b-35dbbce2af2f"
SUBMIT = "/v1/text_to_video"
TASK = f"/v1/tasks/{TASK_ID}"
OUTPUT = "/outputs/clip.mp4"


def task(status: str, **fields) -> dict:
    return {"id": TASK_ID, "status": status, "createdAt": "2026-11-25T10:00:00.000Z", **fields}


def succeeded(server) -> dict:
    return task("SUCCEEDED", output=[server.url_for(OUTPUT)])


def expect_submit(server) -> None:
    server.expect_request(SUBMIT, method="POST").respond_with_json({"id": TASK_ID})


def expect_polls(server, *answers: dict) -> None:
    """One answer per poll, in order; the last one keeps being given."""
    for answer in answers[:-1]:
        server.expect_oneshot_request(TASK, method="GET").respond_with_json(answer)
    server.expect_request(TASK, method="GET").respond_with_json(answers[-1])


def expect_video(server, content: bytes) -> None:
    server.expect_request(OUTPUT, method="GET").respond_with_data(content, content_type="video/mp4")


def requests_to(server, path: str, method: str | None = None) -> list:
    return [
        request
        for request, _ in server.log
        if request.path == path and (method is None or request.method == method)
    ]


def generate(orientation: str = "landscape", progress: list | None = None):
    """What the pipeline does over several jobs, in one go: submit, check until the task
    ends (progress while it runs), fetch the output; a failed task's error is raised."""
    progress = progress if progress is not None else []
    provider = RunwayVideoProvider()
    task_id = provider.submit_video(prompt="waves at night", orientation=orientation, seed=1234)
    try:
        for _ in range(50):
            task = provider.check_task(task_id)
            if task.state == RemoteTask.RUNNING:
                progress.append(task.percent)
            elif task.state == RemoteTask.FAILED:
                raise task.error
            elif task.state == RemoteTask.SUCCEEDED:
                return provider.fetch_output(task)
            elif task.state == RemoteTask.GONE:
                raise AssertionError("the task is gone")
        raise AssertionError("the task never ended")
    finally:
        provider.close()


def test_it_submits_polls_with_progress_and_reads_the_video_back(runway_api, fake_mp4):
    expect_submit(runway_api)
    expect_polls(
        runway_api,
        task("PENDING"),
        task("THROTTLED"),
        task("RUNNING", progress=0.25),
        task("RUNNING", progress=0.75),
        succeeded(runway_api),
    )
    expect_video(runway_api, fake_mp4)
    progress = []

    media = generate(progress=progress)

    (submit,) = requests_to(runway_api, SUBMIT)
    assert submit.headers["Authorization"] == f"Bearer {RUNWAY_KEY}"
    assert submit.headers["X-Runway-Version"] == "2024-11-06"
    assert json.loads(submit.get_data()) == {
        "model": "gen4.5",
        "promptText": "waves at night",
        "ratio": "1280:720",
        "duration": 5,
        "seed": 1234,
    }
    assert len(requests_to(runway_api, TASK, "GET")) == 5
    (download,) = requests_to(runway_api, OUTPUT)
    assert "Authorization" not in download.headers  # the output URL never gets our key
    assert requests_to(runway_api, TASK, "DELETE") == []

    assert progress == [0, 0, 2 + 88 * 25 // 100, 2 + 88 * 75 // 100]
    assert (media.extension, media.content_type) == ("mp4", "video/mp4")
    assert media.content == fake_mp4
    assert (media.width, media.height) == FAKE_VIDEO_SIZE
    assert media.duration_seconds == pytest.approx(FAKE_VIDEO_SECONDS, abs=0.1)
    poster = Image.open(io.BytesIO(media.poster))
    assert (poster.format, poster.size) == ("JPEG", FAKE_VIDEO_SIZE)


def test_a_portrait_video_asks_for_the_portrait_ratio(runway_api, fake_mp4):
    expect_submit(runway_api)
    expect_polls(runway_api, succeeded(runway_api))
    expect_video(runway_api, fake_mp4)
    generate("portrait")
    (submit,) = requests_to(runway_api, SUBMIT)
    assert json.loads(submit.get_data())["ratio"] == "720:1280"


def test_a_model_without_seed_is_not_sent_one(runway_api, settings, fake_mp4):
    settings.PHOENIX_RUNWAY_MODEL = "veo3.1_fast"
    settings.PHOENIX_RUNWAY_VIDEO_SECONDS = 4
    expect_submit(runway_api)
    expect_polls(runway_api, succeeded(runway_api))
    expect_video(runway_api, fake_mp4)
    generate()
    (submit,) = requests_to(runway_api, SUBMIT)
    sent = json.loads(submit.get_data())
    assert (sent["model"], sent["duration"]) == ("veo3.1_fast", 4)
    assert "seed" not in sent


@pytest.mark.parametrize(
    "code", ["SAFETY.INPUT.TEXT", "SAFETY.OUTPUT.VIDEO", "INPUT_PREPROCESSING.SAFETY.TEXT"]
)
def test_a_moderation_failure_is_a_safety_error(runway_api, code):
    expect_submit(runway_api)
    expect_polls(runway_api, task("RUNNING", progress=0.1), task("FAILED", failureCode=code))
    with pytest.raises(SafetyFilterError):
        generate()
    assert requests_to(runway_api, TASK, "DELETE") == []  # it ended: nothing to cancel


@pytest.mark.parametrize("code", ["INTERNAL", "INPUT_PREPROCESSING.INTERNAL", None])
def test_an_internal_failure_is_transient(runway_api, code):
    expect_submit(runway_api)
    expect_polls(runway_api, task("FAILED", failureCode=code, failure="Something went wrong"))
    with pytest.raises(TransientProviderError):
        generate()


@pytest.mark.parametrize("code", ["INTERNAL.BAD_OUTPUT.CODE01", "ASSET.INVALID", "SOMETHING.NEW"])
def test_other_failures_are_generic(runway_api, code):
    expect_submit(runway_api)
    expect_polls(runway_api, task("FAILED", failureCode=code))
    with pytest.raises(ProviderError) as raised:
        generate()
    assert type(raised.value) is ProviderError


@pytest.mark.parametrize("status", [429, 500, 502, 503, 504])
def test_a_refused_submit_under_load_is_transient(runway_api, status):
    runway_api.expect_request(SUBMIT).respond_with_json({"error": "busy"}, status=status)
    with pytest.raises(TransientProviderError):
        generate()


@pytest.mark.parametrize("status", [400, 401, 404, 405])
def test_a_refused_submit_otherwise_is_generic_and_never_carries_the_key(runway_api, status):
    runway_api.expect_request(SUBMIT).respond_with_json(
        {"error": f"Invalid API key {RUNWAY_KEY}"}, status=status
    )
    with pytest.raises(ProviderError) as raised:
        generate()
    assert type(raised.value) is ProviderError
    assert RUNWAY_KEY not in str(raised.value)


def test_a_submit_whose_answer_is_lost_is_unconfirmed_not_transient(runway_api, settings):
    """A read timeout after the request left: Runway may have started (and bills) the
    task. Without an idempotency header it must not be sent again."""
    settings.PHOENIX_RUNWAY_REQUEST_TIMEOUT = 0.2

    def too_slow(request):
        time.sleep(0.6)
        return Response(json.dumps({"id": TASK_ID}), content_type="application/json")

    runway_api.expect_request(SUBMIT).respond_with_handler(too_slow)
    with pytest.raises(SubmissionUnconfirmed):
        generate()
    wait_until_answered(runway_api)


def test_a_lost_answer_with_an_idempotency_header_is_transient_and_maybe_sent(runway_api, settings):
    settings.PHOENIX_RUNWAY_REQUEST_TIMEOUT = 0.2
    settings.PHOENIX_RUNWAY_IDEMPOTENCY_HEADER = "Idempotency-Key"
    seen = []

    def too_slow(request):
        seen.append(request.headers.get("Idempotency-Key"))
        time.sleep(0.6)
        return Response(json.dumps({"id": TASK_ID}), content_type="application/json")

    runway_api.expect_request(SUBMIT).respond_with_handler(too_slow)
    with pytest.raises(TransientProviderError) as lost:
        RunwayVideoProvider().submit_video(
            prompt="waves", orientation="landscape", seed=1, idempotency_key="key-1"
        )
    assert lost.value.maybe_sent is True
    wait_until_answered(runway_api)
    assert seen == ["key-1"]


def test_a_submit_that_cannot_connect_is_transient_and_not_sent(settings):
    settings.RUNWAY_API_KEY = "key"
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    settings.RUNWAY_BASE_URL = f"http://127.0.0.1:{port}"
    with pytest.raises(TransientProviderError) as refused:
        RunwayVideoProvider().submit_video(prompt="waves", orientation="landscape", seed=1)
    assert refused.value.maybe_sent is False


def test_checks_that_fail_for_a_while_are_unknown_and_the_task_goes_on(runway_api, fake_mp4):
    expect_submit(runway_api)
    runway_api.expect_oneshot_request(TASK).respond_with_data("", status=503)
    runway_api.expect_oneshot_request(TASK).respond_with_data("", status=502)
    expect_polls(runway_api, succeeded(runway_api))
    expect_video(runway_api, fake_mp4)
    provider = RunwayVideoProvider()
    assert provider.check_task(TASK_ID).state == RemoteTask.UNKNOWN
    assert provider.check_task(TASK_ID).state == RemoteTask.UNKNOWN
    task = provider.check_task(TASK_ID)
    provider.close()
    assert task.state == RemoteTask.SUCCEEDED
    assert provider.fetch_output(task).content == fake_mp4
    assert requests_to(runway_api, TASK, "DELETE") == []


def test_a_task_runway_no_longer_knows_is_gone(runway_api):
    runway_api.expect_request(TASK).respond_with_json({"error": "Not found"}, status=404)
    provider = RunwayVideoProvider()
    assert provider.check_task(TASK_ID).state == RemoteTask.GONE
    provider.close()


def test_cancel_task_deletes_the_task(runway_api):
    runway_api.expect_request(TASK, method="DELETE").respond_with_data("", status=204)
    RunwayVideoProvider().cancel_task(TASK_ID)
    (delete,) = requests_to(runway_api, TASK, "DELETE")
    assert delete.headers["Authorization"] == f"Bearer {RUNWAY_KEY}"


@pytest.mark.parametrize(
    ("submit_body", "poll_body"),
    [
        ({"status": "ok"}, None),
        ({"id": ""}, None),
        ({"id": "../organization?x="}, None),
        ([TASK_ID], None),
        ({"id": TASK_ID}, task("SUCCEEDED")),
        ({"id": TASK_ID}, task("SUCCEEDED", output=[])),
        ({"id": TASK_ID}, task("SUCCEEDED", output=["not a url"])),
        ({"id": TASK_ID}, task("CANCELLED")),
    ],
    ids=[
        "no-id",
        "empty-id",
        "id-with-a-path",
        "not-an-object",
        "no-output",
        "empty-output",
        "bad-output-url",
        "cancelled",
    ],
)
def test_a_malformed_answer_is_a_generic_error(runway_api, submit_body, poll_body):
    runway_api.expect_request(SUBMIT).respond_with_json(submit_body)
    if poll_body is not None:
        expect_polls(runway_api, poll_body)
    runway_api.expect_request(TASK, method="DELETE").respond_with_data("", status=204)
    with pytest.raises(ProviderError) as raised:
        generate()
    assert type(raised.value) is ProviderError


@pytest.mark.parametrize(
    "answer",
    [
        Response('{"error": "Unauthorized"}', status=401, content_type="application/json"),
        Response('{"error": "Forbidden"}', status=403, content_type="application/json"),
        Response('{"error": "Invalid version"}', status=400, content_type="application/json"),
        Response("<html>maintenance</html>", status=200, content_type="text/html"),
        Response('["not", "a", "task"]', status=200, content_type="application/json"),
        Response(json.dumps({"id": TASK_ID, "status": "DANCING"}), content_type="application/json"),
    ],
    ids=["revoked-key", "forbidden", "bad-version", "html-page", "not-an-object", "new-status"],
)
def test_a_check_answer_that_is_our_sides_problem_is_unknown_not_a_failed_task(runway_api, answer):
    # Every task in flight would answer the same: failing them would refund them all
    # while Runway goes on making them. The next check asks again; the deadline decides.
    runway_api.expect_request(TASK).respond_with_response(answer)
    provider = RunwayVideoProvider()
    assert provider.check_task(TASK_ID).state == RemoteTask.UNKNOWN
    provider.close()
    assert requests_to(runway_api, TASK, "DELETE") == []


def fetch(url: str):
    return RunwayVideoProvider().fetch_output(RemoteTask(RemoteTask.SUCCEEDED, output_url=url))


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data/iam/security-credentials/",
        "http://example.com/clip.mp4",
        "file:///etc/passwd",
    ],
    ids=["metadata-service", "plain-http", "file"],
)
def test_an_output_url_other_than_https_or_the_api_host_is_refused(runway_api, url):
    expect_polls(runway_api, task("SUCCEEDED", output=[url]))
    task_seen = RunwayVideoProvider().check_task(TASK_ID)
    assert task_seen.state == RemoteTask.FAILED
    with pytest.raises(ProviderError) as raised:
        fetch(url)
    assert type(raised.value) is ProviderError


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1:9/clip.mp4",
        "https://localhost:9/clip.mp4",
        "https://10.1.2.3:9/clip.mp4",
        "https://192.168.0.1:9/clip.mp4",
        "https://[::1]:9/clip.mp4",
        # IPv6 addresses that carry 10.0.0.1: NAT64, 6to4, IPv4-compatible, Teredo.
        "https://[64:ff9b::a00:1]:9/clip.mp4",
        "https://[2002:a00:1::]:9/clip.mp4",
        "https://[::a00:1]:9/clip.mp4",
        "https://[2001:0:a00:1::]:9/clip.mp4",
        "https://[::ffff:10.0.0.1]:9/clip.mp4",
    ],
)
def test_an_https_output_on_a_non_public_address_is_never_fetched(runway_api, url):
    started = time.monotonic()
    with pytest.raises(ProviderError) as raised:
        fetch(url)
    assert type(raised.value) is ProviderError  # not retried as a passing error
    assert "non-public" in str(raised.value)
    assert time.monotonic() - started < 2


def test_a_redirect_to_a_non_public_address_is_not_followed(runway_api):
    runway_api.expect_request(OUTPUT).respond_with_response(
        Response("", status=302, headers={"Location": "https://127.0.0.1:9/secret"})
    )
    with pytest.raises(ProviderError) as raised:
        fetch(runway_api.url_for(OUTPUT))
    assert type(raised.value) is ProviderError
    assert len(requests_to(runway_api, OUTPUT)) == 1


def test_a_redirect_within_the_api_host_is_followed(runway_api, fake_mp4):
    runway_api.expect_request("/moved.mp4").respond_with_response(
        Response("", status=302, headers={"Location": OUTPUT})
    )
    expect_video(runway_api, fake_mp4)
    assert fetch(runway_api.url_for("/moved.mp4")).content == fake_mp4


def test_a_download_slower_than_its_overall_deadline_is_stopped(runway_api, settings):
    # Each read arrives well within the read timeout; the whole never would.
    settings.PHOENIX_REMOTE_FETCH_TIMEOUT = 2  # the tries together get half of it

    def trickle(request):
        def chunks():
            for _ in range(100):
                time.sleep(0.1)
                yield b"x" * (1024 * 1024)

        return Response(chunks(), content_type="video/mp4")

    runway_api.expect_request(OUTPUT).respond_with_handler(trickle)
    started = time.monotonic()
    with pytest.raises(TransientProviderError):
        fetch(runway_api.url_for(OUTPUT))
    assert time.monotonic() - started < 5


def test_an_output_that_is_not_a_video_is_a_generic_error(runway_api):
    expect_submit(runway_api)
    expect_polls(runway_api, succeeded(runway_api))
    expect_video(runway_api, b"<html>this is not an mp4</html>")
    with pytest.raises(ProviderError) as raised:
        generate()
    assert type(raised.value) is ProviderError


def test_a_download_that_fails_for_a_while_is_fetched_again(runway_api, fake_mp4):
    expect_submit(runway_api)
    expect_polls(runway_api, succeeded(runway_api))
    runway_api.expect_oneshot_request(OUTPUT).respond_with_data("", status=503)
    expect_video(runway_api, fake_mp4)
    media = generate()
    assert media.content == fake_mp4
    assert len(requests_to(runway_api, SUBMIT)) == 1


def test_without_an_api_key_it_fails_before_calling_out(runway_api, settings):
    settings.RUNWAY_API_KEY = ""
    with pytest.raises(ProviderError):
        generate()
    assert runway_api.log == []


def test_a_still_goes_to_image_to_video_as_the_prompt_image(runway_api):
    runway_api.expect_request("/v1/image_to_video", method="POST").respond_with_json(
        {"id": TASK_ID}
    )
    still = "https://bucket.example/inputs/abc.png?X-Amz-Expires=300&X-Amz-Signature=x"
    task_id = RunwayVideoProvider().submit_video(
        prompt="the sea moves", orientation="landscape", seed=77, image_url=still
    )
    assert task_id == TASK_ID
    (submit,) = requests_to(runway_api, "/v1/image_to_video")
    assert json.loads(submit.get_data()) == {
        "model": "gen4_turbo",
        "promptText": "the sea moves",
        "promptImage": still,
        "ratio": "1280:720",
        "duration": 5,
        "seed": 77,
    }
    assert requests_to(runway_api, SUBMIT) == []


def test_seeds_are_said_to_be_honoured_by_the_gen_models_only(settings):
    from creations.providers import honours_seed

    settings.PHOENIX_VIDEO_PROVIDER = "runway"
    assert honours_seed("video")
    settings.PHOENIX_RUNWAY_MODEL = "veo3.1_fast"
    assert not honours_seed("video")
    settings.PHOENIX_IMAGE_PROVIDER = "openai"
    assert not honours_seed("image")


def test_a_name_that_rebinds_after_the_check_is_still_reached_at_the_checked_address(
    monkeypatch,
):
    """DNS rebinding: the output host answers a public address to the check, then
    127.0.0.1. The download connects to the checked address, never looking the name up
    again (so it never reaches inside)."""
    real = socket.getaddrinfo
    asked = []

    def rebinding(host, port, *args, **kwargs):
        asked.append(host)
        if host == "cdn.rebinding.example":
            first = asked.count(host) == 1
            host = "93.184.216.34" if first else "127.0.0.1"
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    with pytest.raises(TransientProviderError):  # no way out of this machine
        RunwayVideoProvider.download(
            "https://cdn.rebinding.example:9/clip.mp4",
            "/dev/null",
            httpx.Timeout(1.0),
            deadline=time.monotonic() + 5,
        )

    assert asked.count("cdn.rebinding.example") == 1
    assert "93.184.216.34" in asked and "127.0.0.1" not in asked
