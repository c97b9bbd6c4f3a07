"""Two hosts sharing nothing but PostgreSQL, Redis and an S3 bucket (moto): host A runs the
web, a worker and rqcron; host B a worker in its own working directory, MEDIA_ROOT and
temporary folder. B's media are served by A's web; then every process of B is killed in
the middle of a job, and A finishes or refunds everything."""

import time
import uuid

import httpx
import pytest
from django.core.management import call_command
from django.test import Client

from creations.models import Creation
from tests.reliability.providers import SCRIPTED, TINY_PNG
from tests.storage.conftest import ACCESS_KEY, SECRET_KEY, LocalS3

from .conftest import balance, refunds, status_of, submit
from .engines import start_rqcron, start_rqworker, start_web, wait_for

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.slow,
    # Heavy: never two drills at once on a small machine (`make test` runs --dist loadgroup).
    pytest.mark.xdist_group("deploy-drills"),
]
JOB_TIMEOUT = 8

CRON_CONFIG = """
from rq import cron

from creations.jobs.entrypoints import recover_creations

cron.register(recover_creations, queue_name="default", interval=2, job_timeout=60)
"""


@pytest.fixture
def s3_bucket():
    s3 = LocalS3()
    s3.thread.start()
    bucket = f"phoenix-hosts-{uuid.uuid4().hex[:12]}"
    s3.client().create_bucket(Bucket=bucket)
    try:
        yield s3, bucket
    finally:
        s3.server.shutdown()
        s3.thread.join(timeout=10)


def host(folder, name: str) -> dict[str, str]:
    """A host of its own: working directory, MEDIA_ROOT and temporary folder."""
    root = folder / name
    for sub in ("media", "tmp"):
        (root / sub).mkdir(parents=True)
    return {"MEDIA_ROOT": str(root / "media"), "TMPDIR": str(root / "tmp")}


def files_under(folder) -> list:
    return [p for p in folder.rglob("*") if p.is_file()]


def test_a_second_host_makes_media_the_first_serves_and_its_death_loses_nothing(
    creator, settings, s3_bucket, tmp_path, figure
):
    s3, bucket = s3_bucket
    # A job claimed on B and cut off with it is failed by recovery 9 s after its claim;
    # the others (2 s each) stay well inside that timeout even on a loaded machine.
    settings.PHOENIX_JOB_TIMEOUT = {**settings.PHOENIX_JOB_TIMEOUT, "image": JOB_TIMEOUT}
    shared = {
        "PHOENIX_S3_BUCKET": bucket,
        "PHOENIX_S3_ENDPOINT_URL": s3.endpoint_url,
        "PHOENIX_S3_ACCESS_KEY_ID": ACCESS_KEY,
        "PHOENIX_S3_SECRET_ACCESS_KEY": SECRET_KEY,
        "PHOENIX_S3_REGION": "us-east-1",
        "PHOENIX_IMAGE_PROVIDER": SCRIPTED,
        "PHOENIX_IMAGE_JOB_TIMEOUT": str(JOB_TIMEOUT),
        "PHOENIX_DEADLINE_GRACE": "1",
        "PHOENIX_REENQUEUE_AFTER": "2",
    }
    a, b = host(tmp_path, "host-a"), host(tmp_path, "host-b")
    cron_config = tmp_path / "host-a" / "drill_cron.py"
    cron_config.write_text(CRON_CONFIG)
    start_balance = balance(creator)
    b_worker = start_rqworker(
        tmp_path, "images", name="b-worker", cwd=tmp_path / "host-b", **shared, **b
    )
    a_processes = []
    try:
        web, base = start_web(tmp_path, name="a-web", **shared, **a)
        a_processes.append(web)
        # B generates; A's web serves what B stored.
        made_on_b = [submit(creator, prompt=f"quick {n}") for n in range(2)]
        for creation in made_on_b:
            wait_for(lambda c=creation: status_of(c) == "draft", what="host B to make a draft")
        browser = Client()
        browser.force_login(creator)
        with httpx.Client(
            base_url=base, cookies={"sessionid": browser.cookies["sessionid"].value}, timeout=10
        ) as http:
            served = []
            for creation in made_on_b:
                answer = http.get(f"/media/creations/{creation.id}/media")
                assert answer.status_code == 302, answer.text
                served.append(httpx.get(answer.headers["Location"], timeout=10).content)
        assert served == [TINY_PNG, TINY_PNG]

        # B dies whole in the middle of a job, with more jobs waiting behind it.
        cut_off = [submit(creator, prompt=f"sleep 2 ({n})") for n in range(4)]
        wait_for(
            lambda: any(status_of(c) == "processing" for c in cut_off),
            what="host B to start a job",
        )
        time.sleep(0.5)
        b_worker.kill()
        killed_at = time.monotonic()
        a_processes += [
            start_rqworker(tmp_path, "images", "videos", "default", name="a-worker", **shared, **a),
            start_rqcron(tmp_path, cron_config, **shared, **a),
        ]
        everything = made_on_b + cut_off
        wait_for(
            lambda: (
                not Creation.objects.filter(
                    pk__in=[c.pk for c in everything], status__in=Creation.IN_FLIGHT
                ).exists()
            ),
            timeout=60,
            what="host A to finish or refund everything",
        )
        settled_in = time.monotonic() - killed_at
    finally:
        for process in a_processes:
            process.kill()
        b_worker.kill()

    ended = {c.pk: Creation.objects.get(pk=c.pk) for c in cut_off}
    drafts = [c for c in ended.values() if c.status == "draft"]
    failed = [c for c in ended.values() if c.status == "failed"]
    assert len(drafts) + len(failed) == len(cut_off)
    assert all(refunds(c) == 1 for c in failed) and all(refunds(c) == 0 for c in drafts)
    assert len(failed) <= 1  # only the job B held can be lost
    # Nothing on either host's disk: every file is in the bucket.
    assert files_under(tmp_path / "host-a" / "media") == []
    assert files_under(tmp_path / "host-b" / "media") == []
    stored = s3.keys(bucket)
    for creation in [*made_on_b, *drafts]:
        creation.refresh_from_db()
        assert creation.media.name in stored
    made = len(made_on_b) + len(drafts)
    assert balance(creator) == start_balance - made
    call_command("reconcile_tokens")
    figure(
        f"two hosts on S3: host B's {len(made_on_b)} drafts served by host A's web; B killed "
        f"mid-job with {len(cut_off)} jobs: {len(drafts)} finished on A, {len(failed)} cut off "
        f"and refunded by A's recovery, all settled {settled_in:.1f}s after the kill; "
        "0 files on either host's disk, 0 tokens lost"
    )
