"""The capacity part of `make bench`: how many creators one web process serves, and how
generation throughput grows with worker processes. The sizing rule in docs/deploy.md
comes from these two figures.

Web: gunicorn exactly as the Procfile runs it (`gunicorn -c gunicorn.conf.py`, its
defaults: 2 processes × 4 threads, max_requests with jitter, the access log) with no
worker running. N simulated creators each keep 3 pending cards polling every 2 s and
create once every 20 s, as their browsers would; N doubles until a step misses (poll p95
of 100 ms or more, or any error), then the gap is halved twice. Each creator is one
keep-alive connection with its requests in line on it, and a latency runs from the
moment a request was due, so a server falling behind shows as latency instead of
quietly slowing the load down. The client is a bare asyncio HTTP/1.1 client: its own CPU
is measured and reported, since it shares the machine with the server.

Workers: K image creations on a provider that answers after a fixed latency with a
ready-made PNG (a remote provider's shape: the worker waits, our CPU does not draw),
run by 1, 2 and 4 `rqworker` processes started as the Procfile starts them.
"""

import asyncio
import json
import os
import random
import resource
import signal
import subprocess
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

from bench.providers import InstantProvider

ROOT = Path(__file__).resolve().parent.parent
STEP_SECONDS = float(os.getenv("BENCH_CAPACITY_SECONDS", "10"))
# Connections open and every card's first poll falls in this first part of a step: not counted.
RAMP_SECONDS = 2.0
FIRST_STEP = int(os.getenv("BENCH_CAPACITY_FIRST", "10"))
# Issue 19's goal is 0.25 × the bare view's req/s (1,000 creators at 4,000 req/s): room for
# a box twice as fast.
MAX_CREATORS = int(os.getenv("BENCH_CAPACITY_MAX", "2560"))
# After the first miss, the gap to the last pass is halved this many times.
REFINE = int(os.getenv("BENCH_CAPACITY_REFINE", "2"))
CARDS = 3
POLL_EVERY = 2.0
CREATE_EVERY = 20.0
POLL_P95_GOAL_MS = 100.0
# A card rendered, or "nothing new" (the poll fast path: htmx leaves the card alone).
POLL_ANSWERS = (200, 204, 304)
REQUEST_TIMEOUT = 10.0
CREATE_PROMPT = "a capacity lighthouse"
PROVIDER_LATENCY = float(os.getenv("BENCH_PROVIDER_LATENCY", "0.5"))
WORKER_COUNTS = (1, 2, 4)
JOBS_PER_WORKER = int(os.getenv("BENCH_CAPACITY_JOBS_PER_WORKER", "20"))
FIXED_LATENCY_PROVIDER = "bench.capacity:FixedLatencyProvider"


class FixedLatencyProvider(InstantProvider):
    """A provider that takes BENCH_PROVIDER_LATENCY seconds and no CPU of ours."""

    def generate_image(self, *, prompt: str, aspect_ratio: str, seed: int):
        time.sleep(float(os.environ["BENCH_PROVIDER_LATENCY"]))
        return super().generate_image(prompt=prompt, aspect_ratio=aspect_ratio, seed=seed)


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


# ---------------------------------------------------------------- creators


def make_creators(first: int, count: int) -> list[dict]:
    """Creators with a session, a CSRF secret and CARDS pending image cards each. The cards
    have jobs that nothing runs, each waiting in line as a card of a busy hour does. Each
    card polls the URL its drafts page gives it (its hx-get), as a browser would."""
    from datetime import timedelta

    from django.utils import timezone

    from bench.common import make_creator, new_session
    from creations.models import Creation

    creators, cards = [], []
    # One card after another, so that each has its own place in line.
    now = timezone.now()
    for number in range(first, first + count):
        user = make_creator(f"capacity{number:04d}", balance=10**6)
        session, csrf = new_session(user)
        mine = [
            Creation(
                owner=user,
                kind="image",
                prompt=f"pending card {index} of creator {number}",
                aspect_ratio="1:1",
                cost=1,
                created_at=now + timedelta(milliseconds=len(cards) + index),
            )
            for index in range(CARDS)
        ]
        cards += mine
        creators.append({"user": user, "session": session, "csrf": csrf, "cards": mine})
    Creation.objects.bulk_create(cards, batch_size=500)
    queue_cards(creators)
    read_poll_urls(creators)
    return creators


def queue_cards(creators: list[dict]) -> None:
    """The cards' jobs in the fair queue (again after a flush), as a busy hour's cards
    wait: each card's place in line is part of what its poll vouches for."""
    from creations.jobs import sending

    for creator in creators:
        for card in creator["cards"]:
            sending.send_generation(card)


def read_poll_urls(creators: list[dict]) -> None:
    """Each card's poll URL, from its creator's drafts page (rendered in-process), as the
    browser holds it once the card has rendered (held_poll_urls: the page's own URL is
    trusted for a few seconds only)."""
    from bench.common import drafts_page_html, held_poll_urls
    from bench.pages import card_poll_urls

    for creator in creators:
        creator["poll_urls"] = held_poll_urls(creator, card_poll_urls(drafts_page_html(creator)))
        missing = [card.pk for card in creator["cards"] if str(card.pk) not in creator["poll_urls"]]
        if missing:
            raise RuntimeError(f"no polling card on the drafts page for {missing}")


def poll_urls_still_current(creators: list[dict]) -> None:
    """After Redis was flushed: if the first creator's page now gives other poll URLs (a
    version kept in Redis started again), every creator's are read again, so that the
    polls stay those of unchanged cards."""
    from bench.common import drafts_page_html
    from bench.pages import card_poll_urls

    first = creators[0]
    if card_poll_urls(drafts_page_html(first)) != first["poll_urls"]:
        log("capacity: the cards' poll URLs changed with the flush; reading them again")
        read_poll_urls(creators)


def forget_created_rows() -> None:
    """The creates of a step would lengthen every later step's line; their jobs never run."""
    from bench.common import redis_connection
    from creations.models import Creation

    Creation.objects.filter(prompt=CREATE_PROMPT).delete()
    redis_connection().flushdb()


# ---------------------------------------------------------------- web process


@contextmanager
def production_web(error_log: Path):
    """`gunicorn -c gunicorn.conf.py` on a free port, with nothing else changed."""
    from bench.common import PYTHON, free_port, http_get

    port = free_port()
    with error_log.open("w") as errors:
        process = subprocess.Popen(
            [PYTHON, "-m", "gunicorn", "-c", "gunicorn.conf.py"],
            cwd=ROOT,
            env={**os.environ, "GUNICORN_BIND": f"127.0.0.1:{port}"},
            # The access log: written, as in production, and kept only when asked for.
            stdout=open(os.environ["BENCH_ACCESS_LOG"], "w")  # noqa: SIM115
            if os.getenv("BENCH_ACCESS_LOG")
            else subprocess.DEVNULL,
            stderr=errors,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if http_get(f"http://127.0.0.1:{port}/healthz")[0] == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError(f"gunicorn did not start: {error_log.read_text()[-2000:]}")
            time.sleep(0.2)
        yield port
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


# ---------------------------------------------------------------- load


class Tally:
    def __init__(self) -> None:
        self.latencies = {"poll": [], "create": []}
        self.errors: dict[str, int] = {}
        self.reconnects = 0
        # How the polls were answered (204: nothing new; 200: a render).
        self.poll_statuses: dict[str, int] = {}

    def error(self, what: str) -> None:
        self.errors[what] = self.errors.get(what, 0) + 1


class Connection:
    """One keep-alive connection, reopened when the server has closed it."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.reader = self.writer = None

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None

    async def send(self, raw: bytes, tally: Tally) -> int:
        # Like a browser, a request on a reused connection that the server closed before
        # answering (a gunicorn worker retiring after max_requests) is sent again once.
        for attempt in range(2):
            fresh = self.writer is None
            if fresh:
                self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
            answered = False
            try:
                self.writer.write(raw)
                head = await self.reader.readuntil(b"\r\n\r\n")
                answered = True
                return await self._finish(head)
            except (ConnectionError, asyncio.IncompleteReadError):
                self.close()
                if fresh or answered or attempt:
                    raise
                tally.reconnects += 1
        raise AssertionError("unreachable")

    async def _finish(self, head: bytes) -> int:
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        headers = {}
        for line in lines[1:]:
            if ":" in line:
                name, value = line.split(":", 1)
                headers[name.strip().lower()] = value.strip()
        if "content-length" in headers:
            await self.reader.readexactly(int(headers["content-length"]))
        elif headers.get("transfer-encoding") == "chunked":
            while True:
                size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
                await self.reader.readexactly(size + 2)
                if size == 0:
                    break
        if headers.get("connection", "").lower() == "close":
            self.close()
        return status


def request_bytes(port: int, creator: dict) -> tuple[list[bytes], bytes]:
    host = f"127.0.0.1:{port}"
    common = (
        f"Host: {host}\r\nX-Forwarded-Proto: https\r\n"
        f"Cookie: sessionid={creator['session']}; csrftoken={creator['csrf']}\r\n"
    )
    polls = [
        (
            f"GET {creator['poll_urls'][str(card.pk)]} HTTP/1.1\r\n{common}HX-Request: true\r\n\r\n"
        ).encode()
        for card in creator["cards"]
    ]
    body = json.dumps({"type": "image", "prompt": CREATE_PROMPT, "aspect_ratio": "1:1"})
    create = (
        f"POST /api/generate/creation HTTP/1.1\r\n{common}"
        f"X-CSRFToken: {creator['csrf']}\r\nOrigin: https://{host}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n{body}"
    ).encode()
    return polls, create


async def one_creator(port: int, creator: dict, start: float, tally: Tally) -> None:
    """A browser with CARDS polling cards and a create every CREATE_EVERY seconds, all
    phases random; its requests wait in line on its one connection."""
    loop = asyncio.get_running_loop()
    polls, create = request_bytes(port, creator)
    measured_from, end = start + RAMP_SECONDS, start + STEP_SECONDS
    phase = random.uniform(0, POLL_EVERY)
    events = [
        (start + phase + index * POLL_EVERY / CARDS + k * POLL_EVERY, "poll", raw, POLL_ANSWERS)
        for index, raw in enumerate(polls)
        for k in range(int(STEP_SECONDS / POLL_EVERY) + 1)
    ]
    create_at = start + random.uniform(0, CREATE_EVERY)
    while create_at < end:
        events.append((create_at, "create", create, (202,)))
        create_at += CREATE_EVERY
    connection = Connection(port)
    try:
        for due, what, raw, expected in sorted(events, key=lambda event: event[0]):
            if due >= end:
                break
            if due > loop.time():
                await asyncio.sleep(due - loop.time())
            counted = due >= measured_from
            try:
                status = await asyncio.wait_for(connection.send(raw, tally), REQUEST_TIMEOUT)
            except TimeoutError:
                connection.close()
                if counted:
                    tally.error(f"{what} timeout")
                continue
            except OSError as problem:
                connection.close()
                if counted:
                    tally.error(f"{what} {type(problem).__name__}")
                continue
            if not counted:
                continue
            if what == "poll":
                tally.poll_statuses[str(status)] = tally.poll_statuses.get(str(status), 0) + 1
            if status not in expected:
                tally.error(f"{what} HTTP {status}")
            else:
                tally.latencies[what].append(loop.time() - due)
    finally:
        connection.close()


async def run_step(port: int, creators: list[dict]) -> Tally:
    tally = Tally()
    start = asyncio.get_running_loop().time() + 0.2
    await asyncio.gather(*(one_creator(port, c, start, tally) for c in creators))
    return tally


def cpu_busy() -> tuple[int, int]:
    """The whole machine's busy and total jiffies, from /proc/stat."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]
    return sum(fields) - idle, sum(fields)


def percentile_ms(values: list[float], share: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    return round(ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))] * 1000, 1)


def measure_step(port: int, creators: list[dict], error_log: Path) -> dict:
    restarts_before = error_log.read_text().count("Autorestarting worker")
    busy_before, total_before = cpu_busy()
    client_before, wall_before = time.process_time(), time.monotonic()
    tally = asyncio.run(run_step(port, creators))
    client_cpu = time.process_time() - client_before
    wall = time.monotonic() - wall_before
    busy_after, total_after = cpu_busy()
    measured = STEP_SECONDS - RAMP_SECONDS
    polls, creates = tally.latencies["poll"], tally.latencies["create"]
    return {
        "creators": len(creators),
        "polls_s": round(len(polls) / measured, 1),
        "creates_s": round(len(creates) / measured, 2),
        "poll_p50_ms": percentile_ms(polls, 0.5),
        "poll_p95_ms": percentile_ms(polls, 0.95),
        "poll_p99_ms": percentile_ms(polls, 0.99),
        "create_p50_ms": percentile_ms(creates, 0.5),
        "create_p95_ms": percentile_ms(creates, 0.95),
        "poll_statuses": tally.poll_statuses,
        "errors": sum(tally.errors.values()),
        "error_kinds": tally.errors,
        "reconnects": tally.reconnects,
        "web_restarts": error_log.read_text().count("Autorestarting worker") - restarts_before,
        "client_cpu_pct": round(100 * client_cpu / wall, 1),
        "machine_busy_pct": round(
            100 * (busy_after - busy_before) / max(1, total_after - total_before), 1
        ),
    }


def passes(step: dict) -> bool:
    return step["errors"] == 0 and step["poll_p95_ms"] < POLL_P95_GOAL_MS


def measure_web_capacity() -> dict:
    """Double N until a step misses, then halve the gap to the last pass REFINE times. A
    near miss is measured again (the machine is shared: a miss must be the load's)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 65536)), hard))
    pool: list[dict] = []

    def creators(count: int) -> list[dict]:
        if len(pool) < count:
            pool.extend(make_creators(len(pool), count - len(pool)))
        return pool[:count]

    steps: list[dict] = []

    def step(port: int, count: int, error_log: Path) -> bool:
        chosen = creators(count)
        for attempt in (1, 2):
            forget_created_rows()
            queue_cards(chosen)
            poll_urls_still_current(chosen)
            figures = measure_step(port, chosen, error_log)
            figures["attempt"] = attempt
            steps.append(figures)
            log(
                f"capacity: {count} creators: {figures['polls_s']:.0f} polls/s, "
                f"{figures['creates_s']:.1f} creates/s, poll p50 {figures['poll_p50_ms']} ms, "
                f"p95 {figures['poll_p95_ms']} ms, {figures['errors']} errors "
                f"{figures['error_kinds'] or ''}, polls answered {figures['poll_statuses']}, "
                f"client CPU {figures['client_cpu_pct']}%, "
                f"machine {figures['machine_busy_pct']}% busy"
            )
            if passes(figures):
                return True
            if figures["poll_p95_ms"] > 3 * POLL_P95_GOAL_MS:
                return False  # far over: not the machine's noise
        return False

    with tempfile.TemporaryDirectory(prefix="phoenix-capacity-") as scratch:
        error_log = Path(scratch) / "gunicorn.log"
        with production_web(error_log) as port:
            creators(FIRST_STEP)
            best, missed = 0, None
            count = FIRST_STEP
            while count <= MAX_CREATORS:
                if not step(port, count, error_log):
                    missed = count
                    break
                best = count
                count *= 2
            for _ in range(REFINE if missed and best else 0):
                middle = (best + missed) // 2
                if step(port, middle, error_log):
                    best = middle
                else:
                    missed = middle
            forget_created_rows()
    return {
        "steps": steps,
        "max_creators": best,
        "first_missed": missed,
        "step_seconds": STEP_SECONDS,
        "ramp_seconds": RAMP_SECONDS,
        "web": {
            "workers": int(os.getenv("WEB_CONCURRENCY", "2")),
            "threads": int(os.getenv("GUNICORN_THREADS", "4")),
            "max_requests": os.getenv("GUNICORN_MAX_REQUESTS", "default"),
        },
    }


# ---------------------------------------------------------------- workers


def creations_per_second(job_ids: list[str]) -> float:
    from bench.common import jobs_per_second

    return jobs_per_second(job_ids, digits=2)


def measure_worker_throughput() -> dict:
    """K = JOBS_PER_WORKER × k creations by k worker processes, for k in WORKER_COUNTS,
    from 8 creators (the queues take creators in turn)."""
    from rq import Worker

    from bench.common import PRODUCTION_WORKER, PYTHON, make_creator, redis_connection
    from creations import queues, services
    from creations.models import Creation
    from creations.validation import CreationRequest

    env = {
        **os.environ,
        "PHOENIX_IMAGE_PROVIDER": FIXED_LATENCY_PROVIDER,
        "BENCH_PROVIDER_LATENCY": str(PROVIDER_LATENCY),
    }
    request = CreationRequest("image", "a lighthouse, slowly", "1:1")
    creators = [make_creator(f"throughput{n}", balance=10**6) for n in range(8)]
    runs = {}
    for count in WORKER_COUNTS:
        redis_connection().flushdb()
        queues.reset()
        images = queues.get_queue("images")
        workers = [
            subprocess.Popen(
                # The Procfile's worker line.
                [
                    PYTHON,
                    "manage.py",
                    "rqworker",
                    "images",
                    "videos",
                    "--with-scheduler",
                    "--worker-class",
                    PRODUCTION_WORKER,
                ],
                cwd=ROOT,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
            )
            for _ in range(count)
        ]
        try:
            deadline = time.monotonic() + 60
            while Worker.count(queue=images) < count:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"only {Worker.count(queue=images)} of {count} workers up")
                time.sleep(0.1)
            jobs = JOBS_PER_WORKER * count
            log(f"capacity: {jobs} creations, {PROVIDER_LATENCY:g} s each, {count} worker(s)")
            submitted = [
                services.creation_submit(user=creators[i % len(creators)], request=request)[0].pk
                for i in range(jobs)
            ]
            deadline = time.monotonic() + 30 + 3 * jobs * PROVIDER_LATENCY / count
            while Creation.objects.filter(pk__in=submitted, status__in=Creation.IN_FLIGHT).exists():
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{count} worker(s): creations still in flight")
                time.sleep(0.1)
            drafts = Creation.objects.filter(pk__in=submitted, status="draft").count()
            if drafts != jobs:
                raise RuntimeError(f"{count} worker(s): only {drafts} of {jobs} became drafts")
            rate = creations_per_second([queues.job_id_for(pk) for pk in submitted])
        finally:
            for worker in workers:
                os.killpg(worker.pid, signal.SIGTERM)
            for worker in workers:
                try:
                    worker.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    os.killpg(worker.pid, signal.SIGKILL)
                    worker.wait()
        runs[str(count)] = {"jobs": jobs, "creations_s": rate}
    one = runs["1"]["creations_s"]
    for count, figures in runs.items():
        figures["efficiency"] = round(figures["creations_s"] / (int(count) * one), 2)
    redis_connection().flushdb()
    return {
        "provider_latency_s": PROVIDER_LATENCY,
        "runs": runs,
        # What a job costs a worker beyond waiting on the provider.
        "overhead_ms_per_job": round((1 / one - PROVIDER_LATENCY) * 1000),
    }


def measure() -> dict:
    return {"web": measure_web_capacity(), "workers": measure_worker_throughput()}


def rows(results: dict) -> list[tuple[str, str, str, str]]:
    web, workers = results["web"], results["workers"]
    table = []
    for figures in web["steps"]:
        table.append(
            (
                f"capacity: {figures['creators']} creators"
                + (" (again)" if figures["attempt"] > 1 else ""),
                f"{figures['polls_s']:.0f} polls/s, {figures['creates_s']:.1f} creates/s, "
                f"poll p50 {figures['poll_p50_ms']:.0f} ms, p95 {figures['poll_p95_ms']:.0f} ms",
                f"{figures['errors']} errors; client CPU {figures['client_cpu_pct']:.0f}%, "
                f"machine {figures['machine_busy_pct']:.0f}% busy, "
                f"{figures['web_restarts']} max_requests restarts",
                f"p95 < {POLL_P95_GOAL_MS:g} ms, 0 errors: "
                + ("met" if passes(figures) else "missed"),
            )
        )
    table.append(
        (
            "capacity: creators served (poll p95 < 100 ms, 0 errors)",
            str(web["max_creators"]),
            f"gunicorn -c gunicorn.conf.py: {web['web']['workers']} processes × "
            f"{web['web']['threads']} threads, max_requests {web['web']['max_requests']}",
            f"first missed at {web['first_missed']}",
        )
    )
    one = workers["runs"]["1"]["creations_s"]
    for count, figures in workers["runs"].items():
        table.append(
            (
                f"generation, {count} worker(s), {workers['provider_latency_s']:g} s provider",
                f"{figures['creations_s']:.2f} creations/s",
                f"efficiency {figures['efficiency']:.2f} (vs {count} × {one:.2f})",
                f"overhead {workers['overhead_ms_per_job']} ms/job" if count == "1" else "",
            )
        )
    return table
