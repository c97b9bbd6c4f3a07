"""Videos from Runway's text-to-video API: submit a task, check it with progress, download.

The documented shapes this speaks (docs.dev.runwayml.com, API version header
`X-Runway-Version: 2024-11-06`, `Authorization: Bearer <key>`, base
`https://api.dev.runwayml.com`):
- `POST /v1/text_to_video` with `{"model", "promptText", "ratio", "duration"}` (`seed` for
  the gen models; `ratio` "1280:720" or "720:1280") answers `{"id": "<task id>"}`.
- `GET /v1/tasks/{id}` answers `{"id", "status", "createdAt", "progress", "output",
  "failure", "failureCode"}`; `status` is PENDING, THROTTLED, RUNNING (with `progress`
  from 0 to 1), SUCCEEDED (with `output`: URLs that expire in 24–48 h), FAILED (with
  `failureCode`) or CANCELLED. Runway asks not to expect updates more often than every
  five seconds.
- `DELETE /v1/tasks/{id}` cancels a task that is still running (deletes a finished one).
- Runway documents no idempotency header and no way to list tasks: a submit whose answer
  was lost (a read timeout, a dropped connection) may have started a task we cannot find.
  It is never sent again (SubmissionUnconfirmed); the job fails and refunds the creation
  and records the attempt as possibly submitted (creations.services.submissions). Only a
  request that never left (no connection) is tried again. PHOENIX_RUNWAY_IDEMPOTENCY_HEADER
  names a header for a provider that has one: a lost answer is then transient, sent again
  under the same key.
- HTTP errors (api-details/errors): 400, 401, 404, 405 are not to be retried; 429, 502,
  503, 504 may be.
- Task failure codes (api-details/task-failures): `SAFETY.INPUT.*`, `SAFETY.OUTPUT.*` and
  `INPUT_PREPROCESSING.SAFETY.*` are content moderation, never retried;
  `INPUT_PREPROCESSING.INTERNAL` is a moderation system hiccup and `INTERNAL` a server
  error, both worth retrying; `INTERNAL.BAD_OUTPUT.*` "may be retried but is not likely
  to succeed", so it is not; `ASSET.INVALID` is a bad input. Runway has no failure code
  that tells a policy violation from a safety block, so every moderation code is a
  SafetyFilterError here.

No call here waits for the task: submit_video answers the task id, check_task one look at
the task (a transient error is "unknown": the task goes on at Runway and the next check
asks again; so is an answer that is our side's problem — a refused key, a bad version, a
page that is not the API — as failing every video in flight for it would refund them all
while Runway goes on making them; a 404 is "gone"), fetch_output downloads a succeeded
task's video (https from a public address only, or from the API's own host). A failure to
submit goes up as TransientProviderError, for the job to retry with back-off. Width,
height and duration are read back from the file, and the JPEG poster is its first frame.
Exception messages go to the log only.
"""

import io
import logging
import os
import re
import tempfile
import threading
import time

import httpx
import imageio_ffmpeg
from django.conf import settings
from PIL import Image

from phoenix import outbound

from . import (
    GeneratedMedia,
    ProviderError,
    RemoteTask,
    SafetyFilterError,
    SubmissionUnconfirmed,
    TransientProviderError,
)

log = logging.getLogger(__name__)

TASK_ID = re.compile(r"[A-Za-z0-9_-]{1,128}")
RATIOS = {"landscape": "1280:720", "portrait": "720:1280"}
SAFETY_PREFIXES = ("SAFETY.", "INPUT_PREPROCESSING.SAFETY")
TRANSIENT_FAILURE_CODES = frozenset(
    {"INTERNAL", "INPUT_PREPROCESSING.INTERNAL", "THIRD_PARTY.UNAVAILABLE"}
)
WAITING_STATUSES = frozenset({"PENDING", "THROTTLED", "RUNNING"})
# Downloads in a row that may fail transiently before the fetch gives up (the periodic
# check sends the fetch again later).
DOWNLOAD_FAILURES_ALLOWED = 3
# A 10 s 1280x720 clip is ~10-20 MB; the file is read into memory once, per fetch thread.
MAX_VIDEO_BYTES = 128 * 1024 * 1024
DOWNLOAD_CHUNK = 1024 * 1024
# Redirects followed by a download, each one checked like the first URL.
MAX_REDIRECTS = 3
# Transport errors that mean the request never left: a submit may be sent again. Any
# other (a read timeout, a dropped connection) may have started a task at Runway.
NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.UnsupportedProtocol)


def failure_error(code: str | None) -> ProviderError:
    detail = f"Runway task failed with failureCode={code!r}"
    if code and code.startswith(SAFETY_PREFIXES):
        return SafetyFilterError(detail)
    if not code or code in TRANSIENT_FAILURE_CODES:
        return TransientProviderError(detail)
    return ProviderError(detail)


def check_status(response: httpx.Response, what: str) -> None:
    status = response.status_code
    if status == 429 or status >= 500:
        raise TransientProviderError(f"Runway {what} answered {status}")
    if status >= 400:
        raise ProviderError(f"Runway {what} answered {status}")


def read_json_object(response: httpx.Response, what: str) -> dict:
    try:
        body = response.json()
    except ValueError as error:
        raise ProviderError(f"Runway {what} answered with malformed JSON") from error
    if not isinstance(body, dict):
        raise ProviderError(f"Runway {what} answered with a {type(body).__name__}, not an object")
    return body


def media_from_mp4(path: str) -> GeneratedMedia:
    """Size, duration and first frame read back from the file itself."""
    try:
        frames = imageio_ffmpeg.read_frames(path, pix_fmt="rgb24")
        try:
            metadata = next(frames)
            width, height = metadata["size"]
            first_frame = next(frames)
        finally:
            frames.close()
        # The container's own duration, read with the first frame; counting the frames
        # instead decodes the whole file in a second ffmpeg (the fetch's largest cost).
        duration = metadata.get("duration")
        if not isinstance(duration, int | float) or duration <= 0:
            _, duration = imageio_ffmpeg.count_frames_and_secs(path)
    except (OSError, RuntimeError, StopIteration, KeyError, ValueError) as error:
        raise ProviderError("The downloaded video cannot be decoded") from error
    buffer = io.BytesIO()
    Image.frombytes("RGB", (width, height), first_frame).save(buffer, format="JPEG", quality=85)
    with open(path, "rb") as handle:
        content = handle.read()
    return GeneratedMedia(
        content, "mp4", "video/mp4", width, height, buffer.getvalue(), round(duration, 2)
    )


class RunwayVideoProvider:
    # Its work is a task at Runway with an id: a job submits it and records the id on the
    # creation, a periodic job checks it (check_task), a short job fetches the output
    # (fetch_output); a cancel reaches it through cancel_task. No worker waits meanwhile.
    runs_remote_tasks = True

    def __init__(self):
        self._api: httpx.Client | None = None
        # The batch check calls api() from several threads at once.
        self._api_lock = threading.Lock()

    @staticmethod
    def client(timeout: httpx.Timeout) -> httpx.Client:
        return httpx.Client(
            base_url=settings.RUNWAY_BASE_URL,
            headers={
                "Authorization": f"Bearer {settings.RUNWAY_API_KEY}",
                "X-Runway-Version": settings.RUNWAY_API_VERSION,
            },
            timeout=timeout,
        )

    @staticmethod
    def timeout() -> httpx.Timeout:
        return httpx.Timeout(settings.PHOENIX_RUNWAY_REQUEST_TIMEOUT)

    def api(self) -> httpx.Client:
        # One client (and its kept-alive connections) for every check of a batch; httpx's
        # client is safe to share between threads. Checks get a short timeout of their own:
        # one slow answer must not hold the whole batch.
        with self._api_lock:
            if self._api is None:
                self._api = self.client(httpx.Timeout(settings.PHOENIX_REMOTE_CHECK_HTTP_TIMEOUT))
            return self._api

    def close(self) -> None:
        with self._api_lock:
            if self._api is not None:
                self._api.close()
                self._api = None

    @property
    def honours_seed(self) -> bool:
        return settings.PHOENIX_RUNWAY_MODEL.startswith("gen")

    def submit_video(
        self,
        *,
        prompt: str,
        orientation: str,
        seed: int,
        image_url: str | None = None,
        idempotency_key: str | None = None,
    ) -> str:
        if not settings.RUNWAY_API_KEY:
            raise ProviderError("RUNWAY_API_KEY is not set")
        with self.client(self.timeout()) as api:
            return self.submit(
                api,
                prompt=prompt,
                orientation=orientation,
                seed=seed,
                image_url=image_url,
                idempotency_key=idempotency_key,
            )

    def submit(
        self,
        api: httpx.Client,
        *,
        prompt: str,
        orientation: str,
        seed: int,
        image_url: str | None = None,
        idempotency_key: str | None = None,
    ) -> str:
        # A still to start from goes to image_to_video as the prompt image (a presigned
        # URL that expires in minutes, or a data URI).
        model = settings.PHOENIX_RUNWAY_IMAGE_MODEL if image_url else settings.PHOENIX_RUNWAY_MODEL
        body = {
            "model": model,
            "promptText": prompt,
            "ratio": RATIOS[orientation],
            "duration": settings.PHOENIX_RUNWAY_VIDEO_SECONDS,
        }
        if image_url:
            body["promptImage"] = image_url
        if model.startswith("gen"):
            body["seed"] = seed
        path = "/v1/image_to_video" if image_url else "/v1/text_to_video"
        header = settings.PHOENIX_RUNWAY_IDEMPOTENCY_HEADER
        headers = {header: idempotency_key} if header and idempotency_key else {}
        try:
            response = api.post(path, json=body, headers=headers)
        except NOT_SENT as error:
            raise TransientProviderError(f"Runway submit failed: {type(error).__name__}") from error
        except httpx.TransportError as error:
            # Sent, and no answer read: Runway may have started the task.
            what = f"Runway submit unanswered: {type(error).__name__}"
            if headers:
                lost = TransientProviderError(what)
                lost.maybe_sent = True
                raise lost from error
            raise SubmissionUnconfirmed(what) from error
        check_status(response, "submit")
        task_id = read_json_object(response, "submit").get("id")
        # It goes into the polling path: only the characters a task id is made of.
        if not isinstance(task_id, str) or not TASK_ID.fullmatch(task_id):
            raise ProviderError("Runway submit answered without a usable task id")
        return task_id

    def check_task(self, task_id: str) -> RemoteTask:
        """One look at the task. A 404 is GONE; Runway's own FAILED and CANCELLED (and a
        success without a usable output) are FAILED. Anything else that is not an answer
        about the task — a transient error, a refused key or version (4xx), a body that is
        not the task, a status we do not know — is UNKNOWN: the task goes on at Runway, the
        next check asks again, and the overall deadline decides."""
        if not TASK_ID.fullmatch(task_id):
            return RemoteTask(RemoteTask.FAILED, error=ProviderError("Not a Runway task id"))
        try:
            response = self.api().get(f"/v1/tasks/{task_id}")
        except httpx.TransportError:
            log.warning("Checking Runway task %s failed; the next check asks again", task_id)
            return RemoteTask(RemoteTask.UNKNOWN)
        if response.status_code == 404:
            return RemoteTask(RemoteTask.GONE)
        try:
            check_status(response, "task")
            task = read_json_object(response, "task")
        except TransientProviderError:
            log.warning("Checking Runway task %s failed; the next check asks again", task_id)
            return RemoteTask(RemoteTask.UNKNOWN)
        except ProviderError as error:
            # Our key, our version, our base URL: every task in flight would answer the same.
            log.error("Checking Runway task %s: %s; the next check asks again", task_id, error)
            return RemoteTask(RemoteTask.UNKNOWN)
        status = task.get("status")
        if status in WAITING_STATUSES:
            return RemoteTask(RemoteTask.RUNNING, percent=self.percent(task))
        if status == "SUCCEEDED":
            try:
                return RemoteTask(RemoteTask.SUCCEEDED, output_url=self.output_url(task))
            except ProviderError as error:
                return RemoteTask(RemoteTask.FAILED, error=error)
        if status == "FAILED":
            return RemoteTask(RemoteTask.FAILED, error=failure_error(task.get("failureCode")))
        if status == "CANCELLED":
            return RemoteTask(
                RemoteTask.FAILED, error=ProviderError("The Runway task was cancelled")
            )
        log.error("Runway task %s has an unknown status %r", task_id, status)
        return RemoteTask(RemoteTask.UNKNOWN)

    @staticmethod
    def percent(task: dict) -> int:
        progress = task.get("progress")
        if task.get("status") != "RUNNING" or not isinstance(progress, int | float):
            return 0
        return 2 + int(88 * min(1.0, max(0.0, float(progress))))

    @staticmethod
    def output_url(task: dict) -> str:
        output = task.get("output")
        if not isinstance(output, list) or not output or not isinstance(output[0], str):
            raise ProviderError("Runway task succeeded without an output URL")
        url = output[0]
        try:
            parsed = httpx.URL(url)
        except httpx.InvalidURL as error:
            raise ProviderError("The Runway output URL is not usable") from error
        if not output_url_allowed(parsed):
            raise ProviderError("The Runway output URL is not usable")
        return url

    def fetch_output(self, task: RemoteTask) -> GeneratedMedia:
        """Download a succeeded task's video and read it back (size, duration, poster)."""
        with tempfile.TemporaryDirectory(prefix="phoenix-runway-") as folder:
            path = os.path.join(folder, "video.mp4")
            self.download_with_retries(task.output_url, path, self.timeout())
            return media_from_mp4(path)

    def cancel_task(self, task_id: str) -> None:
        """Cancel a task that is no longer wanted (canceled creation, or past its deadline).
        Returns when Runway acknowledged it (2xx) or no longer knows the task (404); raises
        TransientProviderError (no answer, 429, 5xx) or ProviderError (another refusal),
        for the caller to try again later."""
        if not TASK_ID.fullmatch(task_id):
            return
        if not settings.RUNWAY_API_KEY:
            raise ProviderError("RUNWAY_API_KEY is not set")
        with self.client(self.timeout()) as api:
            self.cancel(api, task_id)

    @staticmethod
    def cancel(api: httpx.Client, task_id: str) -> None:
        try:
            response = api.delete(f"/v1/tasks/{task_id}")
        except httpx.TransportError as error:
            raise TransientProviderError(f"Runway cancel failed: {type(error).__name__}") from error
        if response.status_code == 404:
            return
        check_status(response, "cancel")

    def download_with_retries(self, url: str, path: str, timeout: httpx.Timeout) -> None:
        # The output stays at Runway for a day: fetch it again rather than pay for a new task.
        # All tries together stay well inside the fetch job's timeout.
        deadline = time.monotonic() + settings.PHOENIX_REMOTE_FETCH_TIMEOUT / 2
        for attempt in range(DOWNLOAD_FAILURES_ALLOWED + 1):
            try:
                return self.download(url, path, timeout, deadline=deadline)
            except TransientProviderError:
                if attempt == DOWNLOAD_FAILURES_ALLOWED:
                    raise
                log.warning("Downloading the Runway output failed, trying again")
                time.sleep(min(settings.PHOENIX_RUNWAY_POLL_INTERVAL, 2))

    @staticmethod
    def download(url: str, path: str, timeout: httpx.Timeout, *, deadline: float) -> None:
        # A client of its own: the output URL is signed and must not get our API key.
        # Redirects are followed by hand, each hop checked like the first URL.
        try:
            with httpx.Client(timeout=timeout, follow_redirects=False) as client:
                for _ in range(MAX_REDIRECTS + 1):
                    target, headers, extensions = outbound.pinned(url, check_download_url(url))
                    with client.stream(
                        "GET", target, headers=headers, extensions=extensions
                    ) as response:
                        if response.is_redirect and "location" in response.headers:
                            url = str(httpx.URL(url).join(response.headers["location"]))
                            continue
                        check_status(response, "download")
                        save_stream(response, path, deadline)
                        return
                raise ProviderError("The Runway output redirects too often")
        except httpx.TransportError as error:
            raise TransientProviderError(
                f"Runway download failed: {type(error).__name__}"
            ) from error


def save_stream(response: httpx.Response, path: str, deadline: float) -> None:
    size = 0
    with open(path, "wb") as handle:
        for chunk in response.iter_bytes(DOWNLOAD_CHUNK):
            size += len(chunk)
            if size > MAX_VIDEO_BYTES:
                raise ProviderError("The Runway output is too large")
            if time.monotonic() > deadline:
                # The timeout is per read: a server trickling bytes would never trip it.
                raise TransientProviderError("The Runway download took too long")
            handle.write(chunk)


def from_api_host(url: httpx.URL) -> bool:
    """The configured API's own scheme, host and port (the fake server in tests and the
    bench serves outputs itself; the real API never does)."""
    api = httpx.URL(settings.RUNWAY_BASE_URL)
    return (url.scheme, url.host, url.port) == (api.scheme, api.host, api.port)


def output_url_allowed(url: httpx.URL) -> bool:
    """https (or the API's own host), before any address is looked up."""
    return bool(url.host) and (url.scheme == "https" or from_api_host(url))


def check_download_url(raw: str) -> str | None:
    """Refuse what an output URL must never reach: anything but https, and any address
    that is not public (phoenix.outbound's policy). Returns the checked address to connect
    to (None: the API's own host, trusted as configured): connecting to it and not looking
    the name up again is what keeps a name that rebinds between check and connect from
    reaching inside."""
    try:
        url = httpx.URL(raw)
    except httpx.InvalidURL as error:
        raise ProviderError("The Runway output URL is not usable") from error
    if not output_url_allowed(url):
        raise ProviderError("The Runway output URL is not usable")
    if from_api_host(url):
        return None
    try:
        return outbound.checked_address(url.host, url.port or 443)
    except outbound.HostUnresolvable as error:
        raise TransientProviderError("The Runway output host does not resolve") from error
    except outbound.AddressRefused as error:
        raise ProviderError("The Runway output URL points to a non-public address") from error
