"""A fake Runway: a WSGI handler that speaks the task API the provider uses (submit, task
status with progress, cancel, output download of a real MP4), for tests and `make bench`.

Serve it with pytest-httpserver (`runway` fixture in conftest) or any WSGI server, and
point the provider at it with RUNWAY_BASE_URL. Tasks run for `duration` seconds of wall
time (PENDING, then RUNNING with progress, then SUCCEEDED), or end FAILED with
`failure_code`; with `forget` set the server answers 404 for every task. A submit, a look
or a download can be made slow (`submit_delay`, `task_delay`, `output_delay`); a submit
can start its task and then be slow to answer (`answer_delay`: the client's read timeout
loses the id of a task that runs and bills). With `idempotency_header` set, a submit
carrying a key already seen answers the task that key started (Runway documents no such
header: this is how a provider that has one behaves). The first `cancel_failures` cancels
answer 503.
"""

import json
import os
import tempfile
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field

import imageio_ffmpeg
from PIL import Image
from werkzeug import Request, Response


def make_mp4(width: int, height: int, seconds: int, fps: int = 24) -> bytes:
    """A small real H.264 MP4 made with the ffmpeg that imageio-ffmpeg ships."""
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "clip.mp4")
        writer = imageio_ffmpeg.write_frames(
            path,
            (width, height),
            fps=fps,
            codec="libx264",
            pix_fmt_out="yuv420p",
            macro_block_size=16,
            output_params=["-preset", "ultrafast"],
            ffmpeg_log_level="error",
        )
        writer.send(None)
        for index in range(seconds * fps):
            shade = 255 * index // (seconds * fps)
            writer.send(Image.new("RGB", (width, height), (shade, 80, 160)).tobytes())
        writer.close()
        with open(path, "rb") as handle:
            return handle.read()


@dataclass
class FakeTask:
    id: str
    submitted: float
    body: dict
    cancelled: bool = False


@dataclass
class FakeRunway:
    video: bytes
    base_url: str = ""
    duration: float = 0.0
    failure_code: str | None = None
    forget: bool = False
    # Seconds each task look / output download takes to answer (a worker can be killed
    # in the middle of one).
    task_delay: float = 0.0
    output_delay: float = 0.0
    submit_delay: float = 0.0
    answer_delay: float = 0.0
    slow_answers: int | None = None  # how many submits answer_delay holds (None: all)
    idempotency_header: str = ""
    cancel_failures: int = 0
    tasks: dict[str, FakeTask] = field(default_factory=dict)
    keys: dict[str, str] = field(default_factory=dict)
    calls: Counter = field(default_factory=Counter)  # ("submit"|"task"|"cancel"|"output", id)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def handle(self, request: Request) -> Response:
        path = request.path
        if path == "/v1/text_to_video":
            with self._lock:
                self.calls["submit_asked", None] += 1
            time.sleep(self.submit_delay)
        if path.startswith("/v1/tasks/") and request.method == "GET":
            with self._lock:
                self.calls["task_asked", None] += 1
            time.sleep(self.task_delay)
        if path.startswith("/outputs/"):
            with self._lock:
                self.calls["output_asked", None] += 1
            time.sleep(self.output_delay)
        if path == "/v1/text_to_video" and request.method == "POST":
            with self._lock:
                response = self.submit(request)
                slow = self.slow_answers is None or self.slow_answers > 0
                if self.slow_answers:
                    self.slow_answers -= 1
            if slow:
                time.sleep(self.answer_delay)
            return response
        with self._lock:
            if path.startswith("/v1/tasks/"):
                task_id = path.removeprefix("/v1/tasks/")
                if request.method == "DELETE":
                    return self.cancel(task_id)
                return self.status(task_id)
            if path.startswith("/outputs/"):
                task_id = path.removeprefix("/outputs/").removesuffix(".mp4")
                self.calls["output", task_id] += 1
                return Response(self.video, content_type="video/mp4")
        return Response("not found", status=404)

    def submit(self, request: Request) -> Response:
        key = request.headers.get(self.idempotency_header) if self.idempotency_header else None
        if key and key in self.keys:
            self.calls["submit_replayed", self.keys[key]] += 1
            return self.json({"id": self.keys[key]})
        task = FakeTask(str(uuid.uuid4()), time.monotonic(), json.loads(request.get_data()))
        if key:
            self.keys[key] = task.id
        self.tasks[task.id] = task
        self.calls["submit", task.id] += 1
        return self.json({"id": task.id})

    def status(self, task_id: str) -> Response:
        self.calls["task", task_id] += 1
        task = self.tasks.get(task_id)
        if task is None or self.forget:
            return self.json({"error": "Task not found"}, status=404)
        body = {"id": task.id, "createdAt": "2026-11-29T10:00:00.000Z"}
        elapsed = time.monotonic() - task.submitted
        if task.cancelled:
            body["status"] = "CANCELLED"
        elif elapsed < self.duration:
            body.update(status="RUNNING", progress=round(elapsed / self.duration, 2))
        elif self.failure_code:
            body.update(status="FAILED", failure="It went wrong", failureCode=self.failure_code)
        else:
            body.update(status="SUCCEEDED", output=[f"{self.base_url}/outputs/{task.id}.mp4"])
        return self.json(body)

    def cancel(self, task_id: str) -> Response:
        self.calls["cancel", task_id] += 1
        if self.cancel_failures > 0:
            self.cancel_failures -= 1
            return self.json({"error": "Service unavailable"}, status=503)
        task = self.tasks.get(task_id)
        if task is None:
            return self.json({"error": "Task not found"}, status=404)
        task.cancelled = True
        return Response("", status=204)

    @staticmethod
    def json(body: dict, status: int = 200) -> Response:
        return Response(json.dumps(body), status=status, content_type="application/json")

    @property
    def billed(self) -> int:
        """Tasks started at the fake Runway (each one billed)."""
        return len(self.tasks)

    def count(self, kind: str, task_id: str | None = None) -> int:
        return sum(n for (k, t), n in self.calls.items() if k == kind and task_id in (None, t))
