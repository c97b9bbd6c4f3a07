"""Redis Sentinel under Phoenix: a primary, a replica and three sentinels on loopback, the
web (gunicorn), a worker with its scheduler and rqcron reaching the primary only through
the sentinels, a steady stream of creates — and the primary killed."""

import json
import os
import secrets
import subprocess
import sys
import threading
import time
from datetime import timedelta

import httpx
import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone
from rq import Worker
from rq.job import Job
from rq.registry import FinishedJobRegistry

from creations import fair_queue, queues, services
from creations.models import Creation
from profiles.services import creator_signup
from tests.conftest import ROOT, staff_adjust
from tests.reliability.conftest import submit

from .conftest import balance, refunds
from .engines import RedisWithSentinels, start_rqcron, start_rqworker, start_web, wait_for

CREATE_EVERY = 0.2  # seconds between creates (of all browsers together)
BEFORE_KILL = 2.0  # seconds of creates before the primary is killed
AFTER_KILL = 5.0  # and after


@pytest.fixture
def redis_ha(tmp_path, settings):
    ha = RedisWithSentinels(tmp_path)
    try:
        ha.start()
        # This process reaches the primary through the sentinels too (scheduling a post,
        # reading the queues afterwards).
        settings.RQ_QUEUES = ha.queue_settings()
        queues.reset()
        yield ha
    finally:
        queues.reset()
        ha.stop()


def test_settings_send_every_queue_through_the_sentinels_named_in_the_environment():
    env = {
        **RedisWithSentinels.environment_for([26379, 26380]),
        "REDIS_URL": "redis://:s3cret@ignored.invalid:6379/3",
        "REDIS_SENTINEL_PASSWORD": "watch-word",
    }
    script = (
        "from django.conf import settings; import json; "
        "print(json.dumps(settings.RQ_QUEUES, default=repr))"
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", script],
        cwd=ROOT,
        env={**subprocess_environment(), **env},
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    rq_queues = json.loads(result.stdout.strip().splitlines()[-1])  # after shell's banner

    assert set(rq_queues) == {"default", "images", "videos", "light", "housekeeping", "webhooks"}
    for config in rq_queues.values():
        assert "URL" not in config  # django-rq would take a URL over the sentinels
        assert config["SENTINELS"] == [["127.0.0.1", 26379], ["127.0.0.1", 26380]]
        assert config["MASTER_NAME"] == "phoenix"
        assert (config["DB"], config["PASSWORD"]) == (3, "s3cret")
        assert config["SENTINEL_KWARGS"]["password"] == "watch-word"
        # A command is retried through a failover instead of ending the worker (this
        # process is not a web process: it waits the longer default).
        assert config["CONNECTION_KWARGS"]["retry"] == "RetryFor(30)"
        assert config["CONNECTION_KWARGS"]["ssl"] is False


def subprocess_environment() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("REDIS_")}


class CreateStream:
    """Browsers in threads of their own, each POSTing an image create every CREATE_EVERY
    seconds over HTTP (a slow answer holds up only its own browser); records every answer."""

    def __init__(self, base_url: str, session_id: str, browsers: int = 3) -> None:
        csrf = secrets.token_hex(16)  # 32 characters, as Django's CSRF secret
        self.http = httpx.Client(
            base_url=base_url,
            cookies={"sessionid": session_id, "csrftoken": csrf},
            headers={"X-CSRFToken": csrf},
            timeout=30,
        )
        self.answers: list[tuple[float, int, dict]] = []  # (sent at, status, body)
        self.slowest = 0.0
        self.stopping = threading.Event()
        self.threads = [threading.Thread(target=self.run, args=(n,)) for n in range(browsers)]

    def run(self, browser: int) -> None:
        number = 0
        while not self.stopping.is_set():
            number += 1
            body = {"type": "image", "prompt": f"a fox in the snow, {browser}.{number}"}
            sent = time.monotonic()
            try:
                response = self.http.post("/api/generate/creation", json=body)
                answer = (sent, response.status_code, response.json())
            except (httpx.HTTPError, ValueError) as error:
                answer = (sent, 0, {"error": repr(error)})
            self.answers.append(answer)
            self.slowest = max(self.slowest, time.monotonic() - sent)
            self.stopping.wait(CREATE_EVERY * len(self.threads))

    def __enter__(self):
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stopping.set()
        for thread in self.threads:
            thread.join(timeout=60)
        self.http.close()


CRON_CONFIG = """
from rq import cron

from creations.jobs.entrypoints import recover_creations

cron.register(recover_creations, queue_name="default", interval=2, job_timeout=60)
"""


@pytest.mark.slow
# Heavy: never two drills at once on a small machine (`make test` runs --dist loadgroup).
@pytest.mark.xdist_group("deploy-drills")
# The web either waits the failover out (the default REDIS_FAILOVER_WAIT), or gives up
# sooner than the sentinels promote a replica: then a create is answered 503 and refunded.
@pytest.mark.parametrize("web_wait", ["10", "1"], ids=["web-waits-10s", "web-waits-1s"])
def test_killing_the_redis_primary_under_steady_creates_loses_no_creation_and_no_token(
    redis_ha, creator, settings, tmp_path, figure, web_wait
):
    settings.PHOENIX_REENQUEUE_AFTER = 2
    staff_adjust(user=creator, amount=400, reason="failover drill")
    start_balance = balance(creator)
    env = {
        **redis_ha.environment(),
        # A job lost with the primary (written, not yet replicated) is sent again soon.
        "PHOENIX_REENQUEUE_AFTER": "2",
        "PHOENIX_MAX_IN_FLIGHT": "0",
        # A job whose worker lost it in the failover (claimed, then its job gone with the
        # old primary) is failed and refunded by recovery at its deadline: short here, so
        # the drill sees that end too (production waits the job timeout and a grace).
        "PHOENIX_IMAGE_JOB_TIMEOUT": "15",
        "PHOENIX_DEADLINE_GRACE": "5",
    }
    cron_config = tmp_path / "drill_cron.py"
    cron_config.write_text(CRON_CONFIG)
    processes = []
    try:
        worker = start_rqworker(tmp_path, "images", "videos", "default", **env)
        processes.append(worker)
        cron = start_rqcron(tmp_path, cron_config, **env)
        processes.append(cron)
        web, base = start_web(
            tmp_path, GUNICORN_THREADS="4", **{**env, "REDIS_FAILOVER_WAIT": web_wait}
        )
        processes.append(web)
        connection = queues.get_queue("default").connection
        wait_for(lambda: Worker.count(connection=connection) == 1, what="the worker to start")
        browser = Client()
        browser.force_login(creator)

        with CreateStream(base, browser.cookies["sessionid"].value) as stream:
            wait_for(
                lambda: Creation.objects.filter(owner=creator, status="draft").exists(),
                what="a first draft",
            )
            # A post scheduled for after the failover: only RQ's scheduler, reaching the
            # new primary, can move its job.
            draft = Creation.objects.filter(owner=creator, status="draft").first()
            services.creation_publish(
                creation=draft, publish_at=timezone.now() + timedelta(seconds=6)
            )
            publish_job_id = f"publish-{draft.id}-{int(draft.publish_at.timestamp())}"
            replica = redis_ha.replica.client()
            wait_for(
                lambda: replica.zscore("rq:scheduled:default", publish_job_id) is not None,
                what="the schedule to reach the replica",
            )
            time.sleep(max(0.0, BEFORE_KILL - len(stream.answers) * CREATE_EVERY))

            old_primary = redis_ha.primary.port
            redis_ha.primary.kill()
            killed_at, killed_wall = time.monotonic(), timezone.now()
            wait_for(
                lambda: redis_ha.primary_port() not in (None, old_primary),
                timeout=30,
                what="the sentinels to promote the replica",
            )
            without_primary = time.monotonic() - killed_at
            time.sleep(max(0.0, AFTER_KILL - without_primary))

        answers = stream.answers
        accepted = [a for a in answers if a[1] == 202]
        refused = [a for a in answers if a[1] == 503]
        assert [a for a in answers if a[1] not in (202, 503)] == [], "only 202 or 503"
        if float(web_wait) < without_primary:
            assert refused, "a create sent at the kill waits 1s, less than the failover"
        assert {a[2]["error"] for a in refused} <= {"queue_unavailable"}
        promoted_at = killed_at + without_primary
        during = [a for a in answers if killed_at < a[0] < promoted_at]
        after = [a for a in accepted if a[0] > promoted_at]
        assert during and after, "creates were sent during the failover and accepted after it"

        mine = Creation.objects.filter(owner=creator)
        try:
            wait_for(
                lambda: not mine.filter(status__in=Creation.IN_FLIGHT).exists(),
                timeout=90,
                what="every accepted creation to end",
            )
        except AssertionError as error:
            still = list(
                mine.filter(status__in=Creation.IN_FLIGHT).values_list(
                    "id", "status", "created_at", "processing_at", "requeued_at"
                )
            )
            raise AssertionError(
                f"{error}: {still}; " + "; ".join(f"{p.name}: {p.log_tail()}" for p in processes)
            ) from None
        wait_for(
            lambda: Creation.objects.get(pk=draft.pk).status == "published",
            timeout=30,
            what="the scheduled post to be published",
        )
        # The publish job itself ran: RQ's scheduler moved it on the new primary.
        finished = FinishedJobRegistry(queue=queues.get_queue("default"))
        wait_for(
            lambda: publish_job_id in finished.get_job_ids(),
            timeout=30,
            what="the scheduled publish job to run after the failover",
        )
        # rqcron enqueued the recovery pass on the new primary too.
        recoveries = [
            job
            for job in Job.fetch_many(finished.get_job_ids(), connection=connection)
            if job and job.func_name.endswith("recover_creations")
        ]
        assert any(job.enqueued_at > killed_wall for job in recoveries), cron.log_tail()
        assert all(p.alive() for p in processes), [(p.name, p.log_tail()) for p in processes]
    finally:
        for process in processes:
            process.kill()

    for _, _, body in refused:
        creation = Creation.objects.get(pk=body["creation_id"])
        assert (creation.status, refunds(creation)) == ("failed", 1)
    made = mine.exclude(status__in=Creation.ENDED_WITHOUT_MEDIA).count()
    # Jobs written to the old primary but not yet to the replica are gone with it: the
    # recovery pass sends them again.
    resent = mine.filter(requeued_at__isnull=False).count()
    failed_accepted = mine.filter(status="failed").exclude(error_code="queue_unavailable").count()
    lost_by_worker = mine.filter(error_code="worker_lost").count()
    assert balance(creator) == start_balance - made  # images cost 1; the rest refunded
    call_command("reconcile_tokens")
    figure(
        f"Sentinel failover, web waiting up to {web_wait}s, under {len(answers)} creates: "
        f"{without_primary:.1f}s without a "
        f"primary ({len(during)} creates sent meanwhile waited, the slowest "
        f"{stream.slowest:.1f}s); "
        f"{len(accepted)} accepted (all ended: {made} "
        f"with media, {failed_accepted} failed and refunded ({lost_by_worker} lost by the "
        f"worker in the failover); {resent} lost jobs sent again by "
        f"recovery), {len(refused)} refused with 503 and refunded; scheduled post "
        "published by RQ's scheduler after the failover; rqcron and the worker carried on; "
        "0 tokens lost"
    )


@pytest.mark.slow
@pytest.mark.xdist_group("deploy-drills")
def test_the_fair_order_loses_no_job_and_runs_none_twice_across_a_failover(
    redis_ha, creator, settings, tmp_path, figure
):
    """The fair queue's own structure (sorted sets, the claimed set, the rounds) through a
    failover: three creators' bursts queued, the primary killed while the worker pops."""
    settings.PHOENIX_REENQUEUE_AFTER = 2
    env = {
        **redis_ha.environment(),
        "PHOENIX_REENQUEUE_AFTER": "2",
        "PHOENIX_MAX_IN_FLIGHT": "0",
        "PHOENIX_IMAGE_JOB_TIMEOUT": "15",
        "PHOENIX_DEADLINE_GRACE": "5",
    }
    creators = [creator] + [
        creator_signup(username=name, password=f"{name}-password-123")
        for name in ("fair-b", "fair-c")
    ]
    for user in creators:
        staff_adjust(user=user, amount=100, reason="failover drill")
    paid = {user.pk: balance(user) for user in creators}
    settings.PHOENIX_MAX_IN_FLIGHT = 0
    for _ in range(8):
        for user in creators:
            submit(user)
    cron_config = tmp_path / "drill_cron.py"
    cron_config.write_text(CRON_CONFIG)
    processes = []
    mine = Creation.objects.filter(owner__in=creators)
    try:
        processes.append(start_rqworker(tmp_path, "images", "videos", "default", **env))
        processes.append(start_rqcron(tmp_path, cron_config, **env))
        wait_for(lambda: mine.filter(status="draft").count() >= 3, what="the first drafts")
        old_primary = redis_ha.primary.port
        redis_ha.primary.kill()
        wait_for(
            lambda: redis_ha.primary_port() not in (None, old_primary),
            timeout=30,
            what="the sentinels to promote the replica",
        )
        restarts = []

        def all_ended() -> bool:
            # As the process manager does in production: a worker that RQ ended on a Redis
            # error it could not ride through is started again (the fair order in Redis,
            # not the process, is what this drill is about).
            if not processes[0].alive():
                restarts.append(processes[0].log_tail())
                processes[0] = start_rqworker(tmp_path, "images", "videos", "default", **env)
            return not mine.filter(status__in=Creation.IN_FLIGHT).exists()

        try:
            wait_for(all_ended, timeout=90, what="every queued creation to end")
        except AssertionError as error:
            still = list(mine.filter(status__in=Creation.IN_FLIGHT).values_list("id", "status"))
            raise AssertionError(
                f"{error}: {still}; " + "; ".join(f"{p.name}: {p.log_tail()}" for p in processes)
            ) from None
    finally:
        for process in processes:
            process.kill()

    # None ran twice: one claim each at most (a second delivery finds it claimed).
    assert not mine.filter(attempts__gt=1).exists()
    for creation in mine.filter(status="failed"):
        assert refunds(creation) == 1
    drafts = mine.filter(status="draft").count()
    for user in creators:
        made = mine.filter(owner=user, status="draft").count()
        assert balance(user) == paid[user.pk] - made
    # Nothing is stranded in the new primary's fair order: no job waits, and a claim left
    # over from the failover is of a job that ran (never put back).
    connection = queues.get_queue("images").connection
    assert connection.zcard(fair_queue.order_key("images")) == 0
    later = time.time() + fair_queue.CLAIM_GRACE_SECONDS + 1
    assert fair_queue.requeue_abandoned(connection, now=later) == 0
    assert connection.zcard(fair_queue.CLAIMED_KEY) == 0
    call_command("reconcile_tokens")
    figure(
        f"fair queue through a Sentinel failover: {mine.count()} queued by 3 creators, "
        f"{drafts} drafts, {mine.count() - drafts} failed and refunded once, none run twice, "
        f"{mine.filter(requeued_at__isnull=False).count()} lost jobs sent again, 0 stranded; "
        f"worker restarted {len(restarts)} time(s)"
    )
