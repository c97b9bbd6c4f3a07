"""Stopping and deploying: SIGTERM lets the web finish its requests and a worker finish
its job (warm shutdown); a deploy suspends the workers, replaces them and resumes."""

import secrets
import signal
import subprocess
import sys
import threading
import time

import httpx
import psycopg
import pytest
from django.db import connection
from django.test import Client
from rq import Worker

from creations import queues
from creations.models import Creation
from tests.conftest import ROOT, worker_environment

from .conftest import balance, refunds, scripted_worker, status_of, stop_worker, submit
from .engines import answers, start_web, wait_for, wait_until_gone

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.slow,
    # Heavy: never two drills at once on a small machine (`make test` runs --dist loadgroup).
    pytest.mark.xdist_group("deploy-drills"),
]

GRACE = 10  # seconds, as a process manager gives before SIGKILL


def lock_waiters() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND wait_event_type = 'Lock'",
            [connection.settings_dict["NAME"]],
        )
        return cursor.fetchone()[0]


def test_sigterm_lets_the_web_finish_the_request_it_is_serving(creator, tmp_path, figure):
    browser = Client()
    browser.force_login(creator)
    csrf = secrets.token_hex(16)
    db = connection.settings_dict
    responses = []
    web = holder = http = None
    try:
        web, base = start_web(tmp_path, GUNICORN_GRACEFUL_TIMEOUT=str(GRACE))
        http = httpx.Client(
            base_url=base,
            cookies={"sessionid": browser.cookies["sessionid"].value, "csrftoken": csrf},
            headers={"X-CSRFToken": csrf},
            timeout=30,
        )
        holder = psycopg.connect(
            host=db["HOST"], port=db["PORT"], user=db["USER"], dbname=db["NAME"], autocommit=False
        )
        # Hold the creator's account: the create request waits on it inside the web.
        holder.execute(
            "SELECT id FROM tokens_tokenaccount WHERE user_id = %s FOR UPDATE", [creator.pk]
        )
        body = {"type": "image", "prompt": "a fox caught mid-deploy"}
        request = threading.Thread(
            target=lambda: responses.append(http.post("/api/generate/creation", json=body))
        )
        request.start()
        wait_for(lambda: lock_waiters() == 1, what="the request to wait on the account")

        web.signal(signal.SIGTERM)
        signaled = time.monotonic()
        # Stopping: new requests are soon not served (refused or left unanswered: the load
        # balancer must have stopped sending first), while the one in hand still is.
        wait_for(
            lambda: not answers(lambda: httpx.get(f"{base}/healthz", timeout=1)),
            timeout=GRACE / 2,
            what="gunicorn to stop taking new requests",
        )
        assert web.alive() and not responses
        holder.commit()
        request.join(timeout=GRACE)
        wait_until_gone(web, timeout=GRACE)
        stopped_in = time.monotonic() - signaled
    finally:
        if holder is not None:
            holder.close()
        if http is not None:
            http.close()
        if web is not None and web.alive():
            web.kill()

    [answer] = responses
    assert answer.status_code == 202, answer.text
    assert web.process.returncode == 0, web.log_tail()
    creation = Creation.objects.get(pk=answer.json()["creation_id"])
    assert creation.status == "pending" and refunds(creation) == 0
    figure(
        f"web SIGTERM with a create in flight: served no new request, answered it 202, "
        f"exited 0 within {stopped_in:.1f}s (grace {GRACE}s)"
    )


def test_sigterm_lets_a_worker_finish_its_job_then_stop(creator, figure):
    start_balance = balance(creator)
    worker = scripted_worker()
    try:
        creation = submit(creator, prompt="sleep 3")
        wait_for(lambda: status_of(creation) == "processing", what="the job to start")

        worker.send_signal(signal.SIGTERM)  # to the worker only, as a process manager does
        started = time.monotonic()
        worker.wait(timeout=GRACE)
        stopped_in = time.monotonic() - started
    finally:
        stop_worker(worker)

    assert worker.returncode == 0
    creation.refresh_from_db()
    assert (creation.status, refunds(creation)) == ("draft", 0)
    assert balance(creator) == start_balance - creation.cost
    figure(
        f"worker SIGTERM 1s into a 3s job: finished it (draft, no refund), exited 0 after "
        f"{stopped_in:.1f}s (grace {GRACE}s)"
    )


def manage(*args: str) -> None:
    subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=worker_environment(),
        check=True,
        capture_output=True,
        timeout=60,
    )


def test_a_deploy_suspends_the_workers_replaces_them_and_resumes_without_losing_a_job(
    creator, figure
):
    """The deploy order of docs/deploy.md: rqsuspend, stop the old workers (warm), release,
    web, start the new workers, rqresume. (An idle worker already waiting for a job takes
    the next one even after rqsuspend: RQ checks the suspension before each wait. So the
    old workers are stopped, not merely suspended.)"""
    old = scripted_worker()
    new = None
    connection = queues.get_queue("default").connection
    try:
        # Started (its signal handlers set) before it is told to stop, as a deploy finds it.
        wait_for(lambda: Worker.count(connection=connection) == 1, what="the old worker to start")
        manage("rqsuspend")
        old.send_signal(signal.SIGTERM)
        old.wait(timeout=GRACE)
        waiting = submit(creator, prompt="sent during the deploy")
        new = scripted_worker()
        # The new worker is up and has seen the suspension (RQ records it as its state).
        wait_for(
            lambda: [w.get_state() for w in Worker.all(connection=connection)] == ["suspended"],
            timeout=30,
            what="the new worker to start suspended",
        )
        time.sleep(1)  # more than its suspension check's interval
        assert status_of(waiting) == "pending"  # the new worker waits for rqresume

        manage("rqresume")
        wait_for(lambda: status_of(waiting) == "draft", what="the job to run after rqresume")
    finally:
        manage("rqresume")
        stop_worker(old)
        if new is not None:
            stop_worker(new)
    assert old.returncode == 0
    assert refunds(waiting) == 0
    figure(
        "deploy with rqsuspend/rqresume: a create sent while the workers were replaced stayed "
        "pending under the suspended new worker, then became a draft after rqresume"
    )
